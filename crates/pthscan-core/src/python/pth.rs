//! How each CPython generation reads a `.pth` file, line by line (THREATS.md §2.5).
//!
//! | generation | decoding | line separators | test |
//! |---|---|---|---|
//! | ≤ 3.12 | locale (UTF-8 here), BOM kept | universal newlines: `\n`, `\r`, `\r\n` | raw line starts with `import ` / `import\t` |
//! | 3.13–3.14 | `utf-8-sig`, locale fallback | `str.splitlines()` | raw line starts with `import ` / `import\t` |
//! | 3.15–3.17 | same | same | `line.strip()` starts with `import ` / `import\t` |
//!
//! A line is reported once with the union of the generations that execute it, so
//! `import os\x0cimport evil` yields the whole line on ≤ 3.12 (one statement, a syntax error
//! there) and `import evil` on 3.13+ only.

use super::{Runs, py_strip};

/// How a `.pth` file decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoding {
    /// Valid UTF-8 without a byte-order mark.
    Utf8,
    /// Valid UTF-8 after a byte-order mark (3.13+ strip it; ≤ 3.12 keep it on the first line).
    Utf8Bom,
    /// Not UTF-8: classified as a Latin-1 locale would read it (every byte one character), the
    /// reading that splits on the most separators.
    NotUtf8,
}

/// One line as an interpreter generation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PthLine {
    /// 1-based physical line (counted by `\n`, as an editor shows it).
    pub line: usize,
    /// The text that is executed or added to `sys.path`, stripped of surrounding whitespace.
    pub text: String,
    /// The generations that treat it so.
    pub runs: Runs,
    /// The locale encoding this reading needs, where only some locales read the file so (a
    /// file that is not UTF-8 is decoded with the locale's encoding): `None` for the Latin-1
    /// reading, which stands for every single-byte locale.
    pub locale: Option<&'static str>,
}

/// A `.pth` file classified under every generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PthAnalysis {
    /// Lines some generation executes, in file order.
    pub exec_lines: Vec<PthLine>,
    /// Lines some generation adds to `sys.path`, in file order.
    pub path_lines: Vec<PthLine>,
    /// How the bytes decoded.
    pub decoding: Decoding,
}

#[derive(Clone, Copy)]
enum Generation {
    Legacy,
    Py313,
    Py315,
}

const BOM: &str = "\u{feff}";

/// The locale encodings (glibc's supported charsets) whose reading of a file that is not
/// UTF-8 differs from Latin-1's where it matters: GB18030 has line separators (`81 36 A6 35`
/// is U+2028, where `str.splitlines()` splits on 3.13+), KOI8-R and KOI8-U a no-break space
/// (`9A`) and Big5 an ideographic space (`A1 40`), which 3.15's `strip()` removes before it
/// tests for `import`. Every other supported charset reads these bytes as Latin-1 does or as
/// characters that change nothing (checked byte pair by byte pair against Python's codecs).
const LOCALE_READINGS: [(&str, &encoding_rs::Encoding); 4] = [
    ("GB18030", encoding_rs::GB18030),
    ("KOI8-R", encoding_rs::KOI8_R),
    ("KOI8-U", encoding_rs::KOI8_U),
    ("BIG5", encoding_rs::BIG5),
];

/// Classifies every line of a `.pth` file under every CPython generation.
///
/// A file that is not UTF-8 is read as the locale's encoding reads it (≤ 3.12 always, 3.13+
/// as a fallback): as Latin-1, which splits at every byte any single-byte locale splits at,
/// and as each of [`LOCALE_READINGS`]. Lines only such a reading has carry its `locale`.
pub fn classify(bytes: &[u8]) -> PthAnalysis {
    let (text, decoding) = decode(bytes);
    let mut exec: Vec<PthLine> = Vec::new();
    let mut paths: Vec<PthLine> = Vec::new();
    classify_text(&text, None, &mut exec, &mut paths);
    if decoding == Decoding::NotUtf8 {
        for (name, encoding) in LOCALE_READINGS {
            // as Python's codec: no byte-order mark sniffed, a malformed sequence refuses
            // the file
            let (read, malformed) = encoding.decode_without_bom_handling(bytes);
            if malformed {
                continue;
            }
            let (mut more_exec, mut more_paths) = (Vec::new(), Vec::new());
            classify_text(&read, Some(name), &mut more_exec, &mut more_paths);
            for (mine, theirs) in [(&mut exec, more_exec), (&mut paths, more_paths)] {
                for l in theirs {
                    if !mine.iter().any(|m| m.line == l.line && m.text == l.text) {
                        mine.push(l);
                    }
                }
            }
        }
    }
    exec.sort_by_key(|l| l.line);
    paths.sort_by_key(|l| l.line);
    PthAnalysis {
        exec_lines: exec,
        path_lines: paths,
        decoding,
    }
}

fn classify_text(
    text: &str,
    locale: Option<&'static str>,
    exec: &mut Vec<PthLine>,
    paths: &mut Vec<PthLine>,
) {
    let newline_offsets: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let line_of = |offset: usize| newline_offsets.partition_point(|&nl| nl < offset) + 1;

    for generation in [Generation::Legacy, Generation::Py313, Generation::Py315] {
        let runs = match generation {
            Generation::Legacy => Runs::LEGACY.union(Runs::LEGACY_UNPATCHED),
            Generation::Py313 => Runs::PY313,
            Generation::Py315 => Runs::PY315,
        };
        // ≤ 3.12 keep the BOM as a character of the first line; 3.13+ decode with utf-8-sig.
        let body = match generation {
            Generation::Legacy => text,
            _ => text.strip_prefix(BOM).unwrap_or(text),
        };
        let base = text.len() - body.len();
        let split: fn(&str) -> Vec<(usize, &str)> = match generation {
            Generation::Legacy => universal_newlines,
            _ => splitlines,
        };
        for (offset, raw) in split(body) {
            let line = line_of(base + offset);
            // ≤ 3.14 test the raw line; 3.15 strips it first (PEP 829).
            let tested = match generation {
                Generation::Py315 => py_strip(raw),
                _ => raw,
            };
            if tested.starts_with('#') || py_strip(tested).is_empty() {
                continue;
            }
            let is_exec = tested.starts_with("import ") || tested.starts_with("import\t");
            let target = if is_exec { &mut *exec } else { &mut *paths };
            merge(target, line, py_strip(raw), runs, locale);
        }
    }
}

fn merge(
    lines: &mut Vec<PthLine>,
    line: usize,
    text: &str,
    runs: Runs,
    locale: Option<&'static str>,
) {
    match lines.iter_mut().find(|l| l.line == line && l.text == text) {
        Some(existing) => existing.runs = existing.runs.union(runs),
        None => lines.push(PthLine {
            line,
            text: text.to_owned(),
            runs,
            locale,
        }),
    }
}

fn decode(bytes: &[u8]) -> (String, Decoding) {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.starts_with(BOM) => (s.to_owned(), Decoding::Utf8Bom),
        Ok(s) => (s.to_owned(), Decoding::Utf8),
        Err(_) => (
            bytes.iter().map(|&b| char::from(b)).collect(),
            Decoding::NotUtf8,
        ),
    }
}

/// Universal newlines (`\n`, `\r`, `\r\n`), as `io.TextIOWrapper` reads text: (offset, line).
pub fn universal_newlines(s: &str) -> Vec<(usize, &str)> {
    split_with(s, |c| matches!(c, '\n' | '\r'))
}

/// `str.splitlines()`: also `\x0b \x0c \x1c \x1d \x1e \x85 \u2028 \u2029`.
pub fn splitlines(s: &str) -> Vec<(usize, &str)> {
    split_with(s, |c| {
        matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
    })
}

fn split_with(s: &str, is_sep: impl Fn(char) -> bool) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_sep(c) {
            out.push((start, &s[start..i]));
            let mut end = i + c.len_utf8();
            if c == '\r' && chars.peek().map(|&(_, n)| n) == Some('\n') {
                chars.next();
                end += 1;
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push((start, &s[start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(bytes: &[u8]) -> Vec<(usize, String, String)> {
        classify(bytes)
            .exec_lines
            .into_iter()
            .map(|l| (l.line, l.text, l.runs.to_string()))
            .collect()
    }

    fn t(line: usize, text: &str, runs: &str) -> (usize, String, String) {
        (line, text.to_owned(), runs.to_owned())
    }

    #[test]
    fn plain_import_line_runs_everywhere() {
        assert_eq!(
            exec(b"import os\n"),
            vec![t(1, "import os", "<=3.12, 3.13-3.14, 3.15-3.17")]
        );
        assert_eq!(
            exec(b"import\tos"),
            vec![t(1, "import\tos", "<=3.12, 3.13-3.14, 3.15-3.17")]
        );
    }

    #[test]
    fn comments_paths_and_near_misses_do_not_run() {
        let a = classify(
            b"# import os\nfoo\nimportlib\nimport(os)\nfrom x import y\nIMPORT os\n\n   \n",
        );
        assert!(a.exec_lines.is_empty());
        let paths: Vec<_> = a.path_lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            paths,
            [
                "foo",
                "importlib",
                "import(os)",
                "from x import y",
                "IMPORT os"
            ]
        );
    }

    #[test]
    fn indented_import_runs_only_on_3_15() {
        assert_eq!(
            exec(b"  import evil\n"),
            vec![t(1, "import evil", "3.15-3.17")]
        );
        // ≤ 3.14 see a path entry
        let a = classify(b"  import evil\n");
        assert_eq!(a.path_lines[0].runs.to_string(), "<=3.12, 3.13-3.14");
    }

    #[test]
    fn comment_after_indent_is_a_path_before_3_15() {
        let a = classify(b" #import x\n");
        assert!(a.exec_lines.is_empty());
        assert_eq!(a.path_lines[0].runs.to_string(), "<=3.12, 3.13-3.14");
    }

    #[test]
    fn form_feed_splits_only_from_3_13() {
        assert_eq!(
            exec(b"import os\x0cimport evil\n"),
            vec![
                t(1, "import os\x0cimport evil", "<=3.12"),
                t(1, "import os", "3.13-3.14, 3.15-3.17"),
                t(1, "import evil", "3.13-3.14, 3.15-3.17"),
            ]
        );
    }

    #[test]
    fn path_line_can_hide_an_import_after_a_splitlines_separator() {
        // ≤ 3.12: one harmless path line; 3.13+: a path and an executed import.
        assert_eq!(
            exec("mydir\u{2028}import evil\n".as_bytes()),
            vec![t(1, "import evil", "3.13-3.14, 3.15-3.17")]
        );
        for sep in [b'\x0b', b'\x1c', b'\x1d', b'\x1e'] {
            let mut data = b"mydir".to_vec();
            data.push(sep);
            data.extend_from_slice(b"import evil");
            assert_eq!(
                exec(&data),
                vec![t(1, "import evil", "3.13-3.14, 3.15-3.17")]
            );
        }
    }

    #[test]
    fn carriage_returns_split_everywhere() {
        assert_eq!(
            exec(b"mydir\rimport evil\r\n"),
            vec![t(1, "import evil", "<=3.12, 3.13-3.14, 3.15-3.17")]
        );
    }

    #[test]
    fn bom_line_runs_only_from_3_13() {
        assert_eq!(
            exec(b"\xef\xbb\xbfimport evil\n"),
            vec![t(1, "import evil", "3.13-3.14, 3.15-3.17")]
        );
        assert_eq!(
            classify(b"\xef\xbb\xbfimport x").decoding,
            Decoding::Utf8Bom
        );
    }

    #[test]
    fn gb18030_locale_splits_where_latin1_does_not() {
        // `81 36 A6 35` is U+2028 in GB18030 (Python: b"\x81\x36\xa6\x35".decode("gb18030")):
        // under a GB18030 locale 3.13+ split the path line there and run the rest
        let a = classify(b"vendor\x81\x36\xa6\x35import evil\n");
        assert_eq!(a.decoding, Decoding::NotUtf8);
        let got: Vec<_> = a
            .exec_lines
            .iter()
            .map(|l| (l.line, l.text.as_str(), l.runs.to_string(), l.locale))
            .collect();
        assert_eq!(
            got,
            [(
                1,
                "import evil",
                "3.13-3.14, 3.15-3.17".to_string(),
                Some("GB18030")
            )]
        );
        // found by the red team: 3.15 strips a KOI8-R no-break space and a Big5 ideographic
        // space before it tests for `import` (real 3.15.2 under those locales)
        for (bytes, locale) in [
            (&b"\x9aimport evil\n"[..], "KOI8-R"),
            (&b"\xa1\x40import evil\n"[..], "BIG5"),
        ] {
            let a = classify(bytes);
            assert!(
                a.exec_lines
                    .iter()
                    .any(|l| l.text == "import evil" && l.locale == Some(locale)),
                "{a:?}"
            );
        }
        // bytes GB18030 cannot decode: that locale refuses the file, only Latin-1 reads it
        let a = classify(b"vendor\x81\x36\xa6import evil\n");
        assert!(a.exec_lines.is_empty());
    }

    #[test]
    fn latin1_fallback_splits_on_nel_byte() {
        let a = classify(b"mydir\x85import evil\n");
        assert_eq!(a.decoding, Decoding::NotUtf8);
        assert_eq!(
            a.exec_lines
                .iter()
                .map(|l| l.runs.to_string())
                .collect::<Vec<_>>(),
            ["3.13-3.14, 3.15-3.17"]
        );
    }

    #[test]
    fn line_numbers_count_newlines_only() {
        let got = exec(b"a\nb\n\nimport x\nc\x0cimport y\n");
        assert_eq!(got[0].0, 4);
        assert_eq!(got[1], t(5, "import y", "3.13-3.14, 3.15-3.17"));
    }

    #[test]
    fn trailing_whitespace_does_not_duplicate_a_line() {
        assert_eq!(
            exec(b"import os   \n"),
            vec![t(1, "import os", "<=3.12, 3.13-3.14, 3.15-3.17")]
        );
    }

    #[test]
    fn empty_and_binary_input_do_not_panic() {
        assert!(classify(b"").exec_lines.is_empty());
        let junk: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let _ = classify(&junk);
    }
}
