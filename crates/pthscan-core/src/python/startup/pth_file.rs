//! getpath's `._pth` file (an embeddable Windows distribution's `python312._pth`, an
//! executable's `<exe>._pth`): the whole `sys.path`, and whether `site` runs. Two generations of
//! CPython read it differently, and a line one of them takes for a comment the other may take
//! for `import site`, so each is read as its own code reads it:
//!
//! - 3.6–3.10 (`PC/getpathp.c` `read_pth_file`, Windows only): `fgets` into a buffer of
//!   `MAXPATHLEN + 1` (261) bytes from a file opened in text mode — Ctrl-Z ends the file, CR LF
//!   reads as LF, and a line longer than 260 bytes is read in pieces, each judged as a line of
//!   its own. A piece starting with NUL, CR, LF or `#` is skipped; the rest is cut at its first
//!   CR, LF or NUL (a C string). Nothing is stripped, nothing after a path is a comment, a BOM
//!   is part of the line. `import site` must be the whole line; any other line starting with
//!   `import ` stops the interpreter ("only 'import site' is supported in ._pth file").
//! - 3.11 and later (`Modules/getpath.c` `readlines`, then `getpath.py`): a file of 32 KiB or
//!   more raises MemoryError and the interpreter does not start; the text ends at its first
//!   NUL (`wcschr` finds no line feed past it); lines end at LF only, CRs before it dropped;
//!   each line is `line.partition('#')[0].strip()`; `import site` runs `site`, any other
//!   `import ` line is warned about and ignored; a BOM is kept (not whitespace to `strip`).

use super::PyVersion;
use crate::python::py_strip;

/// A `._pth` file of this size or more stops a 3.11+ interpreter at start (getpath's
/// `readlines` buffer).
pub const LIMIT: u64 = 32 * 1024;

/// The most bytes one `fgets` call of 3.6–3.10 reads (`MAXPATHLEN` on Windows).
const PIECE: usize = 260;

/// What an interpreter makes of a `._pth` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PthFile {
    /// The path lines, with the 1-based line each starts on: relative to the file's folder, or
    /// absolute.
    pub paths: Vec<(usize, String)>,
    /// Whether an `import site` line runs `site`.
    pub site: bool,
    /// Why the interpreter does not start, when the file stops it.
    pub fatal: Option<String>,
    /// 3.11+: `readlines` gave no line (an empty file, or one whose first byte is NUL), and
    /// `getpath.py`'s `if pth:` is false — the file sets nothing but `home` (its folder) and
    /// `use_environment = 0`: the interpreter starts as without one, and `site` runs.
    pub empty: bool,
    /// What the file names that a scan cannot place (a path relative to the working
    /// directory).
    pub notes: Vec<String>,
}

/// Reads a `._pth` file of `size` bytes whose first bytes are `data`, as CPython `version`
/// reads it.
pub fn read(data: &[u8], size: u64, version: PyVersion) -> PthFile {
    if version.at_least(3, 11) {
        if size >= LIMIT {
            return PthFile {
                fatal: Some("MemoryError".into()),
                ..PthFile::default()
            };
        }
        read_getpath_py(data)
    } else {
        read_getpathp_c(data)
    }
}

/// 3.11+: `readlines`, then `getpath.py`'s loop.
fn read_getpath_py(data: &[u8]) -> PthFile {
    let data = &data[..data.iter().position(|&b| b == 0).unwrap_or(data.len())];
    let mut out = PthFile {
        empty: data.is_empty(),
        ..PthFile::default()
    };
    for (n, raw) in data.split(|&b| b == b'\n').enumerate() {
        let end = raw.iter().rposition(|&b| b != b'\r').map_or(0, |i| i + 1);
        let text = String::from_utf8_lossy(&raw[..end]);
        let line = py_strip(text.split('#').next().unwrap_or(""));
        if line.is_empty() {
            continue;
        }
        if line == "import site" {
            out.site = true;
        } else if !line.starts_with("import ") {
            out.paths.push((n + 1, line.to_owned()));
        }
    }
    out
}

/// 3.6–3.10: `read_pth_file`'s `fgets` loop.
fn read_getpathp_c(data: &[u8]) -> PthFile {
    // text mode: Ctrl-Z is the end of the file, CR LF is read as LF
    let data = &data[..data.iter().position(|&b| b == 0x1a).unwrap_or(data.len())];
    let mut text = Vec::with_capacity(data.len());
    let mut bytes = data.iter().peekable();
    while let Some(&b) = bytes.next() {
        if b == b'\r' && bytes.peek() == Some(&&b'\n') {
            continue;
        }
        text.push(b);
    }
    let mut out = PthFile::default();
    let (mut at, mut line) = (0, 1);
    while at < text.len() {
        // one `fgets`: through the next LF, at most 260 bytes
        let most = (text.len() - at).min(PIECE);
        let len = text[at..at + most]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(most, |i| i + 1);
        let piece = &text[at..at + len];
        let starts_on = line;
        at += len;
        line += usize::from(piece.last() == Some(&b'\n'));
        if matches!(piece.first(), Some(0 | b'\r' | b'\n' | b'#')) {
            continue;
        }
        let end = piece
            .iter()
            .position(|&b| matches!(b, 0 | b'\r' | b'\n'))
            .unwrap_or(piece.len());
        let piece = &piece[..end];
        if piece == b"import site" {
            out.site = true;
        } else if piece.starts_with(b"import ") {
            out.fatal = Some("only 'import site' is supported in ._pth file".into());
            return out;
        } else {
            // each line is joined to the folder and appended to one `;`-separated string that
            // is split again later: what follows a `;` is an entry of its own, not joined
            let text = String::from_utf8_lossy(piece);
            let mut parts = text.split(';');
            out.paths
                .push((starts_on, parts.next().unwrap_or("").to_owned()));
            for part in parts.filter(|p| !p.is_empty()) {
                let absolute =
                    part.starts_with(['/', '\\']) || part.as_bytes().get(1) == Some(&b':');
                if absolute {
                    out.paths.push((starts_on, part.to_owned()));
                } else {
                    out.notes.push(format!(
                        "line {starts_on}'s `{part}` after a `;` is relative to the working directory, not known to a scan"
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(minor: u8) -> PyVersion {
        PyVersion::new(3, minor)
    }

    fn paths(f: &PthFile) -> Vec<&str> {
        f.paths.iter().map(|(_, p)| p.as_str()).collect()
    }

    #[test]
    fn the_plain_file_reads_alike() {
        let text = b"python312.zip\r\n.\r\n\r\n# Uncomment to run site.main() automatically\r\nimport site\r\n";
        for minor in [8, 10, 11, 13] {
            let f = read(text, text.len() as u64, v(minor));
            assert_eq!(paths(&f), ["python312.zip", "."], "3.{minor}");
            assert!(f.site && f.fatal.is_none(), "3.{minor}");
            assert_eq!(f.paths[1].0, 2);
        }
    }

    #[test]
    fn a_long_comment_hides_import_site_from_3_11_only() {
        // 3.10's `fgets` reads the 260 bytes of comment, then `import site` as a line of its own
        let text = format!("Lib\n#{}import site\n", "x".repeat(259));
        let old = read(text.as_bytes(), text.len() as u64, v(10));
        assert!(old.site, "{old:?}");
        assert_eq!(paths(&old), ["Lib"]);
        let new = read(text.as_bytes(), text.len() as u64, v(11));
        assert!(!new.site);
        // and the piece after a long path is a path of its own, on the same line
        let text = format!("{}vendor\n", "a".repeat(260));
        let old = read(text.as_bytes(), text.len() as u64, v(9));
        assert_eq!(old.paths, [(1, "a".repeat(260)), (1, "vendor".into())]);
        assert_eq!(
            paths(&read(text.as_bytes(), text.len() as u64, v(12))).len(),
            1
        );
    }

    #[test]
    fn only_an_exact_import_site_line_counts_before_3_11() {
        for (text, old_site, old_fatal, new_site) in [
            ("import site\n", true, false, true),
            ("  import site\n", false, false, true), // 3.10: a path `  import site`
            ("import site  \n", false, true, true),  // 3.10: `import ` and not exact: fatal
            ("import site # yes\n", false, true, true),
            ("import os\n", false, true, false), // 3.11+: warned about
            ("\u{feff}import site\n", false, false, false), // the BOM is part of the line
            ("Lib # vendored\n", false, false, false),
        ] {
            let old = read(text.as_bytes(), 1, v(10));
            let new = read(text.as_bytes(), 1, v(13));
            assert_eq!(
                (old.site, old.fatal.is_some(), new.site),
                (old_site, old_fatal, new_site),
                "{text:?}"
            );
        }
        assert_eq!(
            paths(&read(b"Lib # vendored\n", 1, v(10))),
            ["Lib # vendored"]
        );
        assert_eq!(paths(&read(b"Lib # vendored\n", 1, v(11))), ["Lib"]);
    }

    #[test]
    fn line_ends_nul_and_ctrl_z_as_each_reader_sees_them() {
        // a lone CR ends 3.10's line (the rest of it is dropped); 3.11+ splits at LF only
        let f = read(b"Lib\rimport site\n", 1, v(10));
        assert_eq!((paths(&f), f.site), (vec!["Lib"], false));
        let f = read(b"Lib\rimport site\n", 1, v(11));
        assert_eq!((paths(&f), f.site), (vec!["Lib\rimport site"], false));
        // a NUL ends 3.11+'s text; 3.10 cuts the one line at it
        let text = b"Lib\0x\nimport site\n";
        let f = read(text, 1, v(12));
        assert_eq!((paths(&f), f.site), (vec!["Lib"], false));
        let f = read(text, 1, v(10));
        assert_eq!((paths(&f), f.site), (vec!["Lib"], true));
        // Ctrl-Z ends a file opened in text mode (3.10), not one read as bytes (3.11+)
        let text = b"Lib\n\x1a\nimport site\n";
        assert!(!read(text, 1, v(10)).site);
        let f = read(text, 1, v(11));
        assert_eq!((paths(&f), f.site), (vec!["Lib", "\x1a"], true));
    }

    #[test]
    fn a_semicolon_splits_a_line_before_3_11_and_an_empty_file_is_none_from_3_11() {
        let f = read(b"x;C:\\Evil;rel\nimport site\n", 1, v(10));
        assert_eq!(paths(&f), ["x", "C:\\Evil"]);
        assert_eq!(f.notes.len(), 1);
        assert_eq!(paths(&read(b"x;C:\\Evil\n", 1, v(11))), ["x;C:\\Evil"]);
        for text in [&b""[..], b"\0python312.zip\r\n.\r\n"] {
            assert!(read(text, 1, v(12)).empty, "{text:?}");
            assert!(!read(text, 1, v(10)).empty, "{text:?}");
        }
        // a blank line is a line: `readlines` gives `['']`, and `if pth:` holds
        assert!(!read(b"\n", 1, v(12)).empty);
    }

    #[test]
    fn a_file_of_32_kib_stops_3_11_and_later() {
        let f = read(b"import site\n", LIMIT, v(11));
        assert_eq!(f.fatal.as_deref(), Some("MemoryError"));
        assert!(!f.site);
        assert!(read(b"import site\n", LIMIT, v(10)).site);
    }

    /// CPython X.Y for X.Y ≥ 3.11 on this machine, as `tests/oracle/compare.py` finds them:
    /// `PTHSCAN_PYTHON_3_12`, pyenv's, uv's.
    fn interpreters() -> Vec<(PyVersion, std::path::PathBuf)> {
        let home = std::env::var("HOME").unwrap_or_default();
        let pyenv = std::env::var("PYENV_ROOT").unwrap_or(format!("{home}/.pyenv"));
        let uv = std::env::var("UV_PYTHON_INSTALL_DIR")
            .unwrap_or(format!("{home}/.local/share/uv/python"));
        let mut out = Vec::new();
        for minor in 11..=13u8 {
            let xy = format!("3.{minor}");
            let listed = |dir: &str, prefix: &str| -> Option<std::path::PathBuf> {
                let mut names: Vec<String> = std::fs::read_dir(dir)
                    .ok()?
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(prefix))
                    .collect();
                names.sort();
                let exe = format!("{dir}/{}/bin/python{xy}", names.pop()?);
                std::path::Path::new(&exe).is_file().then(|| exe.into())
            };
            let exe = std::env::var(format!("PTHSCAN_PYTHON_3_{minor}"))
                .ok()
                .map(Into::into)
                .or_else(|| listed(&format!("{pyenv}/versions"), &format!("{xy}.")))
                .or_else(|| listed(&uv, &format!("cpython-{xy}.")));
            if let Some(exe) = exe {
                out.push((PyVersion::new(3, minor), exe));
            }
        }
        out
    }

    /// Asks CPython what it makes of a `._pth` file: an interpreter copied into a directory of
    /// the test's, beside `python3.X._pth` (its standard library's lines, then `text`), run with
    /// an empty environment to print whether `site` runs and its `sys.path`. The file holds
    /// only paths and `import site`; what `site` then reads is the test's empty directory.
    fn ask(exe: &std::path::Path, v: PyVersion, text: &[u8]) -> (bool, Vec<String>) {
        use std::path::Path;
        use std::process::Command;
        let std_path = Command::new(exe)
            .args([
                "-I",
                "-S",
                "-c",
                "import sys, json; print(json.dumps(sys.path))",
            ])
            .env_clear()
            .output()
            .expect("the interpreter runs");
        let std_path: Vec<String> = serde_json::from_slice(&std_path.stdout).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let copy = bin.join(format!("python{}", v.dotted()));
        std::fs::copy(exe, &copy).unwrap();
        let mut file = std_path.join("\n").into_bytes();
        file.push(b'\n');
        file.extend_from_slice(text);
        std::fs::write(bin.join(format!("python{}._pth", v.dotted())), &file).unwrap();
        // a build that finds its `libpython` beside it (`$ORIGIN/../lib`) finds it there still
        let lib = exe.parent().and_then(Path::parent).map(|p| p.join("lib"));
        let out = Command::new(&copy)
            .args([
                "-c",
                "import sys, json; print(json.dumps([sys.flags.no_site, sys.path]))",
            ])
            .env_clear()
            .envs(lib.map(|l| ("LD_LIBRARY_PATH", l)))
            .output()
            .expect("the copied interpreter runs");
        let (no_site, path): (u8, Vec<String>) = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        let dir = bin.to_string_lossy().into_owned();
        let ours = read(&file, file.len() as u64, v);
        let ours: Vec<String> = ours.paths[std_path.len()..]
            .iter()
            .map(|(_, p)| format!("{dir}/{p}"))
            .collect();
        let theirs: Vec<String> = path[std_path.len()..].to_vec();
        assert_eq!(
            ours,
            theirs,
            "3.{}: {:?}",
            v.minor,
            String::from_utf8_lossy(text)
        );
        (no_site == 0, theirs)
    }

    #[test]
    fn cpython_3_11_and_later_read_a_pth_file_as_the_model_does() {
        let found = interpreters();
        assert!(
            found.len() >= 2,
            "fewer than two CPython 3.11+ interpreters found: {found:?}"
        );
        let long_comment = format!("#{}import site\n", "x".repeat(300));
        let cases: [&[u8]; 10] = [
            b"\xef\xbb\xbfimport site\n",
            b"extra\rimport site\n",
            b"extra\0\nimport site\n",
            b"\x1a\nimport site\n",
            b"import site\r\r\n",
            b"import os\nvendor\n",
            b"  import site  # c\n",
            long_comment.as_bytes(),
            b"a # b\n  c \n#d\n",
            b"\n\nd\r\n#import site\n",
        ];
        for (v, exe) in &found {
            for text in cases {
                let (site, _) = ask(exe, *v, text);
                let mut file = b"/std\n".to_vec();
                file.extend_from_slice(text);
                assert_eq!(
                    read(&file, file.len() as u64, *v).site,
                    site,
                    "3.{}: {:?}",
                    v.minor,
                    String::from_utf8_lossy(text)
                );
            }
        }
    }
}
