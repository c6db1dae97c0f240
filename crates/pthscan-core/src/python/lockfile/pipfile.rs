//! `Pipfile.lock` (JSON): `_meta.sources[]` (`name`, `url`) and every other top-level map —
//! `default`, `develop` and the categories `pipenv install --categories` adds — of name → `{version: "==x", hashes: [...], index, markers, git, ref, file, path,
//! editable}`. Pipenv writes the resolved commit into `ref` of a git entry.
//!
//! `serde_json` reads the values; since it keeps no positions, [`super::json::keys`] finds each
//! package's key at depth two under `default`/`develop` (the nesting, not a text search, so a
//! name that also appears in a marker or a URL is not mistaken for it) and each source's `url`
//! key. A duplicated key is read as `serde_json` does: the last one wins, position included.

use std::collections::HashMap;

use serde_json::Value;

use super::json::{self, Seg};
use super::{IndexKind, LockPin, Out, Pin, Source, normalize};

pub(super) fn parse(text: &str, out: &mut Out<'_>) {
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let at = offset_of(out, e.line(), e.column());
            out.problem(at, format!("invalid JSON: {e}"));
            return;
        }
    };
    let mut names: HashMap<(String, String), usize> = HashMap::new();
    let mut source_urls: HashMap<usize, usize> = HashMap::new();
    json::keys(
        text,
        |depth| depth == 1 || depth == 3,
        |path, key, at| match path {
            [Seg::Key(section)] if section != "_meta" => {
                names.insert((section.clone(), key.to_owned()), at);
            }
            [Seg::Key(meta), Seg::Key(sources), Seg::Index(i)]
                if meta == "_meta" && sources == "sources" && key == "url" =>
            {
                source_urls.insert(*i, at);
            }
            _ => {}
        },
    );

    // `index` names a source; its URL is what the policy needs
    let mut index_urls: HashMap<String, String> = HashMap::new();
    if let Some(sources) = doc.pointer("/_meta/sources").and_then(Value::as_array) {
        for (i, s) in sources.iter().enumerate() {
            let Some(url) = s.get("url").and_then(Value::as_str) else {
                continue;
            };
            let at = source_urls.get(&i).copied().unwrap_or(0);
            out.index(url, IndexKind::Primary, at);
            if let Some(name) = s.get("name").and_then(Value::as_str) {
                index_urls.insert(name.to_owned(), url.to_owned());
            }
        }
    }

    let Some(sections) = doc.as_object() else {
        out.problem(0, "not a JSON object".to_owned());
        return;
    };
    for (section, map) in sections {
        let Some(map) = map.as_object().filter(|_| section != "_meta") else {
            continue;
        };
        for (name, entry) in map {
            let at = names
                .get(&(section.clone(), name.clone()))
                .map_or(0, |at| at + 1);
            let Some(entry) = entry.as_object() else {
                out.problem(at, format!("`{section}.{name}` is not an object"));
                continue;
            };
            let s = |k: &str| entry.get(k).and_then(Value::as_str);
            let source = if let Some(url) = s("git").or_else(|| s("hg")) {
                Source::vcs(url, s("ref"))
            } else if let Some(url) = s("file") {
                Source::Url(url.to_owned())
            } else if let Some(path) = s("path") {
                Source::Path(path.to_owned())
            } else {
                Source::Index(s("index").and_then(|i| index_urls.get(i).cloned()))
            };
            let mut lock = LockPin::new(source);
            if let Some(hashes) = entry.get("hashes").and_then(Value::as_array) {
                for h in hashes.iter().filter_map(Value::as_str) {
                    lock.hash(h);
                }
            }
            lock.editable = entry.get("editable").and_then(Value::as_bool) == Some(true);
            lock.marker = s("markers").map(str::to_owned);
            let requirement = s("version").unwrap_or("");
            let pos = out.pos(at);
            out.lock.pins.push(Pin {
                name: name.clone(),
                normalized: normalize(name),
                version: exact_version(requirement),
                requirement: requirement.to_owned(),
                pos,
                hashes: lock.hashes,
                source: lock.source,
                marker: lock.marker,
                editable: lock.editable,
            });
        }
    }
    out.lock.pins.sort_by_key(|p| p.pos);
}

/// `==1.2.3` or `===1.2.3` → the version; a wildcard or any other operator is not exact.
pub(super) fn exact_version(spec: &str) -> Option<String> {
    let spec = spec.trim();
    let v = spec
        .strip_prefix("===")
        .or_else(|| spec.strip_prefix("=="))?
        .trim();
    (!v.is_empty() && !v.contains(['*', ',', ' '])).then(|| v.to_owned())
}

/// A 1-based line and byte column from `serde_json` as an offset.
fn offset_of(out: &Out<'_>, line: usize, column: usize) -> usize {
    let starts = &out.lines.starts;
    let Some(&(start, _)) = starts.get(line.saturating_sub(1)) else {
        return out.lines.text.len();
    };
    start + column.saturating_sub(1)
}
