//! `uv.lock`: `[[package]]` tables with `name`, `version`, `source` (one of `registry`, `git`,
//! `url`, `path`, `directory`, `editable`, `virtual`), an `sdist` and `wheels`, each with a
//! `hash = "sha256:…"`.
//!
//! A git source is `git = "URL?rev=…#<commit>"`: uv always resolves the commit into the
//! fragment. Workspace members (`editable`/`virtual` = `"."`) and other local sources are
//! [`Source::Path`], which the policy checks skip.

use super::tomlspan::{self, get, get_array, get_str, get_table, name_and_offset, tables};
use super::{IndexKind, LockPin, Out, Source};

/// Read a package at a time: a lock of many small packages is tens of times its size as one
/// tree.
pub(super) fn parse(text: &str, out: &mut Out<'_>) {
    tomlspan::parse_by_table(text, "package", out, packages);
}

fn packages(doc: &toml::de::DeTable<'_>, out: &mut Out<'_>) {
    let Some(packages) = get_array(doc, "package") else {
        if get(doc, "package").is_some() {
            out.problem(0, "`package` is not an array of tables");
        }
        return;
    };
    for (pkg, at) in tables(packages) {
        let (name, at) = name_and_offset(pkg, at);
        let Some(name) = name else {
            out.problem(at, "`[[package]]` without a `name`");
            continue;
        };
        let source = match get_table(pkg, "source") {
            Some(s) => source(s, at, out),
            None => Source::Index(None),
        };
        let mut lock = LockPin::new(source);
        lock.editable = get_table(pkg, "source").is_some_and(|s| get(s, "editable").is_some());
        if let Some(sdist) = get_table(pkg, "sdist")
            && let Some(h) = get_str(sdist, "hash")
        {
            lock.hash(h);
        }
        if let Some(wheels) = get_array(pkg, "wheels") {
            for (w, _) in tables(wheels) {
                if let Some(h) = get_str(w, "hash") {
                    lock.hash(h);
                }
            }
        }
        out.lock_pin(name, get_str(pkg, "version"), at, lock);
    }
}

/// The `source = { … }` inline table.
fn source(s: &toml::de::DeTable<'_>, at: usize, out: &mut Out<'_>) -> Source {
    if let Some(v) = get(s, "registry")
        && let Some(url) = v.get_ref().as_str()
    {
        if url.contains("://") {
            out.index(
                url,
                IndexKind::Primary,
                tomlspan::string_start(out.text(), v.span().start),
            );
            return Source::Index(Some(url.to_owned()));
        }
        // a flat index on disk (`--find-links ./wheels`)
        return Source::Path(url.to_owned());
    }
    if let Some(url) = get_str(s, "git") {
        // `https://host/repo?rev=main#<commit>`: the fragment is what uv resolved
        return Source::vcs(url, url.rsplit_once('#').map(|(_, c)| c));
    }
    if let Some(url) = get_str(s, "url") {
        return Source::Url(url.to_owned());
    }
    for key in ["path", "directory", "editable", "virtual"] {
        if let Some(p) = get_str(s, key) {
            return Source::Path(p.to_owned());
        }
    }
    out.problem(at, "`source` of an unknown kind");
    Source::Index(None)
}
