//! Paths as people and parsers read them: exact for UTF-8 names, `\xNN` escapes for the bytes
//! of a non-UTF-8 name, so two different files never print alike.

use std::path::Path;

/// A lossless, printable form of `path`.
pub fn display_path(path: &Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(char::is_control) => s.to_owned(),
        _ => {
            let mut out = String::new();
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    if c.is_control() {
                        out.extend(c.escape_default());
                    } else {
                        out.push(c);
                    }
                }
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn utf8_is_kept_and_other_bytes_are_escaped() {
        assert_eq!(display_path(Path::new("/a/é.pth")), "/a/é.pth");
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"/a/\xff\xfe.pth");
        assert_eq!(display_path(Path::new(raw)), "/a/\\xff\\xfe.pth");
        assert_eq!(display_path(Path::new("/a/b\nc.pth")), "/a/b\\nc.pth");
    }
}
