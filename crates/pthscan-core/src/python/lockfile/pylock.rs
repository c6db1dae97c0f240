//! `pylock.toml` (PEP 751): `[[packages]]` with `name`, `version`, `marker`, `index`, and one
//! origin: `vcs = {type, url, commit-id, requested-revision}`, `directory = {path, editable}`,
//! `archive = {url | path, hashes}`, or an `sdist` and `wheels` (each `hashes = {sha256 = …}`)
//! from the `index`. A vcs `commit-id` is required by the PEP; it counts only when it is a full
//! commit id.

use toml::de::DeTable;

use super::tomlspan::{self, get, get_array, get_str, get_table, name_and_offset, tables};
use super::{IndexKind, LockPin, Out, Source};

pub(super) fn parse(text: &str, out: &mut Out<'_>) {
    let Some(doc) = tomlspan::parse(text, out) else {
        return;
    };
    let Some(packages) = get_array(&doc, "packages") else {
        if get(&doc, "packages").is_some() {
            out.problem(0, "`packages` is not an array of tables");
        }
        return;
    };
    for (pkg, at) in tables(packages) {
        let (name, at) = name_and_offset(pkg, at);
        let Some(name) = name else {
            out.problem(at, "`[[packages]]` without a `name`");
            continue;
        };
        let mut lock = LockPin::new(source(pkg, text, out));
        lock.editable = get_table(pkg, "directory")
            .and_then(|d| get(d, "editable"))
            .and_then(|v| v.get_ref().as_bool())
            == Some(true);
        for key in ["archive", "sdist"] {
            if let Some(t) = get_table(pkg, key) {
                hashes(t, &mut lock);
            }
        }
        if let Some(wheels) = get_array(pkg, "wheels") {
            for (w, _) in tables(wheels) {
                hashes(w, &mut lock);
            }
        }
        lock.marker = get_str(pkg, "marker").map(str::to_owned);
        let version = get_str(pkg, "version").or_else(|| file_version(pkg, name));
        out.lock_pin(name, version, at, lock);
    }
}

/// The version a package's files name when the package does not say it (PEP 751 makes
/// `version` optional): the first wheel, sdist or archive whose file name is this project's.
fn file_version<'a>(pkg: &'a DeTable<'_>, name: &str) -> Option<&'a str> {
    let file_name = |t: &'a DeTable<'_>| {
        get_str(t, "name").or_else(|| {
            get_str(t, "url")
                .or_else(|| get_str(t, "path"))
                .and_then(|u| u.rsplit('/').next())
        })
    };
    let mut files: Vec<&DeTable<'_>> = get_array(pkg, "wheels")
        .map(|w| tables(w).map(|(t, _)| t).collect())
        .unwrap_or_default();
    files.extend(
        ["sdist", "archive"]
            .iter()
            .filter_map(|k| get_table(pkg, k)),
    );
    files.into_iter().filter_map(file_name).find_map(|file| {
        let (project, version) = super::requirements::archive_name_version(file)?;
        (super::normalize(project) == super::normalize(name)).then_some(version)
    })
}

/// `hashes = {algo = "hex", …}` of a file table.
fn hashes(file: &DeTable<'_>, lock: &mut LockPin) {
    if let Some(h) = get_table(file, "hashes") {
        for (algo, digest) in h.iter() {
            if let Some(d) = digest.get_ref().as_str() {
                lock.hash(&format!("{}:{d}", algo.get_ref()));
            }
        }
    }
}

fn source(pkg: &DeTable<'_>, text: &str, out: &mut Out<'_>) -> Source {
    if let Some(vcs) = get_table(pkg, "vcs") {
        let url = get_str(vcs, "url").or_else(|| get_str(vcs, "path"));
        return Source::vcs(url.unwrap_or(""), get_str(vcs, "commit-id"));
    }
    if let Some(dir) = get_table(pkg, "directory") {
        return Source::Path(get_str(dir, "path").unwrap_or("").to_owned());
    }
    if let Some(archive) = get_table(pkg, "archive") {
        if let Some(url) = get_str(archive, "url") {
            return Source::Url(url.to_owned());
        }
        return Source::Path(get_str(archive, "path").unwrap_or("").to_owned());
    }
    if let Some(v) = get(pkg, "index")
        && let Some(url) = v.get_ref().as_str()
    {
        let at = tomlspan::string_start(text, v.span().start);
        out.index(url, IndexKind::Primary, at);
        return Source::Index(Some(url.to_owned()));
    }
    Source::Index(None)
}
