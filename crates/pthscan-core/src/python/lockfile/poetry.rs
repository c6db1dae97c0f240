//! `poetry.lock` and `pdm.lock`: `[[package]]` tables with `name`, `version` and
//! `files = [{file, hash}]`, the shape both tools share.
//!
//! Poetry names a non-PyPI origin in `[package.source]` (`type` = `legacy`/`git`/`url`/`file`/
//! `directory`, `url`, `reference`, `resolved_reference`: the commit of a git source). PDM puts
//! `git`/`revision`, `url` or `path` on the package itself. Older locks of both (Poetry before
//! 1.2, PDM before 2.0's per-package `files`) keep the hashes in `[metadata.files]`, keyed by
//! name (Poetry) or `"name version"` (PDM); they are read when a package has no `files`.

use std::collections::HashMap;

use toml::de::DeTable;

use super::tomlspan::{self, get, get_array, get_str, get_table, name_and_offset, tables};
use super::{IndexKind, LockPin, Out, Source, is_commit_id};

/// Which of the two tools wrote the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    Poetry,
    Pdm,
}

pub(super) fn parse(text: &str, out: &mut Out<'_>, flavour: Flavour) {
    let Some(doc) = tomlspan::parse(text, out) else {
        return;
    };
    let Some(packages) = get_array(&doc, "package") else {
        if get(&doc, "package").is_some() {
            out.problem(0, "`package` is not an array of tables");
        }
        return;
    };
    // the old `[metadata.files]` table, read once (not searched per package)
    let legacy: HashMap<&str, &toml::de::DeArray<'_>> = get_table(&doc, "metadata")
        .and_then(|m| get_table(m, "files"))
        .map(|files| {
            files
                .iter()
                .filter_map(|(k, v)| Some((k.get_ref().as_ref(), v.get_ref().as_array()?)))
                .collect()
        })
        .unwrap_or_default();
    for (pkg, at) in tables(packages) {
        let (name, at) = name_and_offset(pkg, at);
        let Some(name) = name else {
            out.problem(at, "`[[package]]` without a `name`");
            continue;
        };
        let version = get_str(pkg, "version");
        let source = match flavour {
            Flavour::Poetry => poetry_source(pkg, text, out),
            Flavour::Pdm => pdm_source(pkg),
        };
        let mut lock = LockPin::new(source);
        lock.editable = get(pkg, "editable").and_then(|v| v.get_ref().as_bool()) == Some(true)
            || get_table(pkg, "source")
                .and_then(|s| get(s, "develop"))
                .and_then(|v| v.get_ref().as_bool())
                == Some(true);
        let key = match flavour {
            Flavour::Poetry => name.to_owned(),
            Flavour::Pdm => format!("{name} {}", version.unwrap_or("")),
        };
        let files = get_array(pkg, "files").or_else(|| legacy.get(key.as_str()).copied());
        if let Some(files) = files {
            for (f, _) in tables(files) {
                if let Some(h) = get_str(f, "hash") {
                    lock.hash(h);
                }
            }
        }
        lock.marker = get_str(pkg, "marker")
            .or_else(|| get_str(pkg, "markers"))
            .map(str::to_owned);
        out.lock_pin(name, version, at, lock);
    }
}

/// Poetry's `[package.source]`; none means PyPI.
fn poetry_source(pkg: &DeTable<'_>, text: &str, out: &mut Out<'_>) -> Source {
    let Some(src) = get_table(pkg, "source") else {
        return Source::Index(None);
    };
    let url = get_str(src, "url").unwrap_or("").to_owned();
    match get_str(src, "type").unwrap_or("") {
        "git" => {
            // `resolved_reference` is the commit Poetry resolved `reference` (a branch, tag or
            // commit) to
            let commit = ["resolved_reference", "reference"]
                .into_iter()
                .filter_map(|k| get_str(src, k))
                .find(|c| is_commit_id(c))
                .map(str::to_owned);
            Source::Vcs { url, commit }
        }
        "url" => Source::Url(url),
        "file" | "directory" => Source::Path(url),
        // `legacy` (a PEP 503 index) and anything newer that names an index by URL
        _ => {
            if let Some(v) = get(src, "url") {
                let at = tomlspan::string_start(text, v.span().start);
                out.index(&url, IndexKind::Primary, at);
            }
            Source::Index(Some(url).filter(|u| !u.is_empty()))
        }
    }
}

/// PDM's `git`/`revision`, `url`, `path` package keys; none means an index.
fn pdm_source(pkg: &DeTable<'_>) -> Source {
    if let Some(url) = get_str(pkg, "git") {
        return Source::vcs(url, get_str(pkg, "revision"));
    }
    if let Some(url) = get_str(pkg, "url") {
        return Source::Url(url.to_owned());
    }
    if let Some(path) = get_str(pkg, "path") {
        return Source::Path(path.to_owned());
    }
    Source::Index(None)
}
