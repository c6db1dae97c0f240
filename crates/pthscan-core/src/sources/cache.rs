//! Package caches. pip keeps downloaded wheels and sdists in `http-v2/` (a `.body` file per
//! response) or, before pip 23.3, `http/` (the response serialised with its headers), and the
//! wheels it built in `wheels/`, all under hashed names; uv keeps every wheel it installs
//! unpacked under `archive-vN/<id>/` (found by discovery as a site directory). Entries are
//! recognised by content, not by name.

use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

/// Whether a file is in a pip or uv cache, whose entries are opened even in a host sweep and
/// whatever their names.
pub fn is_cache_path(path: &Path) -> bool {
    // cheap test first: a sweep asks this of every file on the host
    static PIP: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("/pip/"));
    static UV: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("/uv/"));
    let bytes = path.as_os_str().as_encoded_bytes();
    if PIP.find(bytes).is_none() && UV.find(bytes).is_none() {
        return false;
    }
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    parts.windows(2).any(|w| {
        (w[0] == "pip" && matches!(w[1], "http" | "http-v2" | "wheels"))
            || (w[0] == "uv" && (w[1].starts_with("wheels-v") || w[1].starts_with("sdists-v")))
    })
}

/// The archive inside a cached response: the file itself when it starts like one, or a zip
/// that starts further in (the body of pip's older serialised responses).
pub fn body(bytes: &[u8]) -> Option<&[u8]> {
    if super::artifact::sniff(bytes).is_some() {
        return Some(bytes);
    }
    let window = &bytes[..bytes.len().min(64 * 1024)];
    let at = memchr::memmem::find(window, b"PK\x03\x04")?;
    // a zip ends with its end-of-central-directory record
    memchr::memmem::rfind(&bytes[at..], b"PK\x05\x06")?;
    Some(&bytes[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_paths_and_bodies() {
        assert!(is_cache_path(Path::new(
            "/home/a/.cache/pip/http-v2/a/b/c/d/e/0123.body"
        )));
        assert!(is_cache_path(Path::new(
            "/root/.cache/pip/wheels/ab/cd/x.whl"
        )));
        assert!(!is_cache_path(Path::new("/home/a/src/pip/x.py")));
        let mut old = b"\x82\xa8response\x86\xa4body\xc6\x00\x00\x10\x00".to_vec();
        old.extend_from_slice(b"PK\x03\x04rest-of-zip...PK\x05\x06tail");
        assert!(body(&old).is_some_and(|b| b.starts_with(b"PK\x03\x04")));
        assert!(body(b"<html>simple index</html>").is_none());
    }
}
