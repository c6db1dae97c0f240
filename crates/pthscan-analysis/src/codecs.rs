//! Python's text codecs beyond UTF-8 and Latin-1, as constant folding needs them: a blob's
//! `.decode(codec)` (or `codecs.decode(blob, codec)`) gives the text Python would, so that
//! `getattr(builtins, b'\x85\xa5\x81\x93'.decode('cp1026'))` is `eval`. Texts hold bytes one
//! character per byte (Latin-1), as the rest of the folding does.
//!
//! - every single-byte (charmap) codec of CPython's `encodings` package (EBCDIC, DOS, Windows,
//!   ISO 8859, KOI8, Mac code pages), by every name `codecs.lookup` accepts — the tables in
//!   [`crate::charmaps`], generated from CPython;
//! - `unicode_escape` and `raw_unicode_escape`;
//! - UTF-16 and UTF-32, either byte order, with or without a byte-order mark.

use crate::charmaps::CHARMAPS;

/// A byte a charmap leaves undefined: decoding it is an error in Python.
const UNDEFINED: char = '\u{fffe}';

/// A codec name as `encodings.search_function` looks it up: lower case, each run of
/// characters other than letters, digits and `.` one `_`, none at the ends.
pub(crate) fn normalize(codec: &str) -> String {
    let mut out = String::new();
    let mut punct = false;
    for c in codec.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '.' {
            if punct && !out.is_empty() {
                out.push('_');
            }
            if c.is_ascii() {
                out.push(c);
            }
            punct = false;
        } else {
            punct = true;
        }
    }
    out
}

/// The decoding table of the charmap codec `codec` is (normalized), by its name or an alias.
fn charmap(codec: &str) -> Option<&'static str> {
    let dotless = codec.replace('.', "_");
    CHARMAPS
        .iter()
        .find(|(name, aliases, _)| {
            [codec, dotless.as_str()]
                .iter()
                .any(|c| *name == *c || aliases.contains(c))
        })
        .map(|(_, _, table)| *table)
}

/// `bytes.decode(codec)` of the bytes `text` holds, where `codec` is one of this module's;
/// `None` for another codec or bytes Python would refuse.
pub(crate) fn decode(text: &str, codec: &str) -> Option<String> {
    let codec = normalize(codec);
    let bytes = bytes_of(text)?;
    if let Some(table) = charmap(&codec) {
        let table: Vec<char> = table.chars().collect();
        return bytes
            .iter()
            .map(|&b| {
                table
                    .get(usize::from(b))
                    .copied()
                    .filter(|&c| c != UNDEFINED)
            })
            .collect();
    }
    let unicode = match codec.as_str() {
        "unicode_escape" | "unicode_internal" => unicode_escape(&bytes, false)?,
        "raw_unicode_escape" => unicode_escape(&bytes, true)?,
        "utf_16" | "utf16" | "u16" => utf16(&bytes, None)?,
        "utf_16_le" | "utf_16le" | "utf16le" => utf16(&bytes, Some(true))?,
        "utf_16_be" | "utf_16be" | "utf16be" => utf16(&bytes, Some(false))?,
        "utf_32" | "utf32" | "u32" => utf32(&bytes, None)?,
        "utf_32_le" | "utf_32le" | "utf32le" => utf32(&bytes, Some(true))?,
        "utf_32_be" | "utf_32be" | "utf32be" => utf32(&bytes, Some(false))?,
        _ => return None,
    };
    Some(unicode)
}

/// `str.encode(codec)` for a charmap codec: the bytes (one character each), `None` for
/// another codec or a character the code page lacks.
pub(crate) fn encode(text: &str, codec: &str) -> Option<String> {
    let table = charmap(&normalize(codec))?;
    // character → byte, once per call: a text may be megabytes long
    let bytes: std::collections::HashMap<char, u8> = table
        .chars()
        .zip(0..=u8::MAX)
        .filter(|&(c, _)| c != UNDEFINED)
        .collect();
    text.chars()
        .map(|c| bytes.get(&c).copied().map(char::from))
        .collect()
}

/// The bytes a folded text holds: each character one byte (none past U+00FF).
fn bytes_of(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// Python's `unicode_escape` decoding (`raw`: `raw_unicode_escape`, which knows only `\uXXXX`
/// and `\UXXXXXXXX`); other bytes stand for themselves (Latin-1). `\N{name}` is not folded.
fn unicode_escape(bytes: &[u8], raw: bool) -> Option<String> {
    let mut out = String::new();
    let mut i = 0;
    let hex = |from: usize, n: usize| -> Option<char> {
        let digits = std::str::from_utf8(bytes.get(from..from + n)?).ok()?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        char::from_u32(u32::from_str_radix(digits, 16).ok()?)
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' || i + 1 == bytes.len() {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let next = bytes[i + 1];
        if raw {
            // a backslash before `u`/`U` only, and only after an even number of them
            match next {
                b'u' => {
                    out.push(hex(i + 2, 4)?);
                    i += 6;
                }
                b'U' => {
                    out.push(hex(i + 2, 8)?);
                    i += 10;
                }
                _ => {
                    out.push('\\');
                    i += 1;
                }
            }
            continue;
        }
        i += 2;
        match next {
            b'\n' => {}
            b'\\' => out.push('\\'),
            b'\'' => out.push('\''),
            b'"' => out.push('"'),
            b'a' => out.push('\x07'),
            b'b' => out.push('\x08'),
            b'f' => out.push('\x0c'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'v' => out.push('\x0b'),
            b'x' => {
                out.push(hex(i, 2)?);
                i += 2;
            }
            b'u' => {
                out.push(hex(i, 4)?);
                i += 4;
            }
            b'U' => {
                out.push(hex(i, 8)?);
                i += 8;
            }
            b'0'..=b'7' => {
                let mut value = u32::from(next - b'0');
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(value)?);
            }
            b'N' => return None,
            // an unknown escape stays as it is (with a DeprecationWarning)
            other => {
                out.push('\\');
                out.push(char::from(other));
            }
        }
    }
    Some(out)
}

/// UTF-16 (`little`: the byte order, `None`: from a byte-order mark, else little-endian as
/// CPython on x86 reads it).
fn utf16(bytes: &[u8], little: Option<bool>) -> Option<String> {
    let (little, body) = match (little, bytes) {
        (None, [0xff, 0xfe, rest @ ..]) => (true, rest),
        (None, [0xfe, 0xff, rest @ ..]) => (false, rest),
        (None, rest) => (true, rest),
        (Some(l), rest) => (l, rest),
    };
    if body.len() % 2 != 0 {
        return None;
    }
    let units = body.chunks_exact(2).map(|c| {
        let pair = [c[0], c[1]];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// UTF-32, as [`utf16`].
fn utf32(bytes: &[u8], little: Option<bool>) -> Option<String> {
    let (little, body) = match (little, bytes) {
        (None, [0xff, 0xfe, 0, 0, rest @ ..]) => (true, rest),
        (None, [0, 0, 0xfe, 0xff, rest @ ..]) => (false, rest),
        (None, rest) => (true, rest),
        (Some(l), rest) => (l, rest),
    };
    if body.len() % 4 != 0 {
        return None;
    }
    body.chunks_exact(4)
        .map(|c| {
            let quad = [c[0], c[1], c[2], c[3]];
            char::from_u32(if little {
                u32::from_le_bytes(quad)
            } else {
                u32::from_be_bytes(quad)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latin1(bytes: &[u8]) -> String {
        bytes.iter().map(|&b| char::from(b)).collect()
    }

    #[test]
    fn an_ebcdic_eval_is_eval() {
        assert_eq!(
            decode(&latin1(b"\x85\xa5\x81\x93"), "cp1026").as_deref(),
            Some("eval")
        );
        // the names Python accepts for it, and not those it refuses (`LookupError`)
        let ebcdic = latin1(b"\x85\xa7\x85\x83");
        for name in [
            "CP1026",
            "ibm1026",
            "csIBM1026",
            "1026",
            " cp1026",
            "cp1026 ",
        ] {
            assert_eq!(decode(&ebcdic, name).as_deref(), Some("exec"), "{name}");
        }
        for name in ["IBM-1026", "ibm.1026", "cp-1026"] {
            assert_eq!(decode(&ebcdic, name), None, "{name}");
        }
        assert_eq!(
            encode("exec", "cp500").map(|t| bytes_of(&t).unwrap()),
            Some(b"\x85\xa7\x85\x83".to_vec())
        );
        // a byte the code page leaves undefined is an error in Python: nothing folded
        assert_eq!(decode(&latin1(b"\x81"), "cp1252"), None);
        assert_eq!(decode("x", "no-such-codec"), None);
    }

    #[test]
    fn escapes_and_wide_encodings_fold() {
        assert_eq!(
            decode(r"\x65\x78\u0065\143\n", "unicode_escape").as_deref(),
            Some("exec\n")
        );
        assert_eq!(
            decode(r"\u0065x\n", "raw-unicode-escape").as_deref(),
            Some("ex\\n")
        );
        assert_eq!(
            decode(&latin1(b"\xff\xfee\x00x\x00"), "utf-16").as_deref(),
            Some("ex")
        );
        assert_eq!(
            decode(&latin1(b"\x00e\x00x"), "UTF_16_BE").as_deref(),
            Some("ex")
        );
        assert_eq!(
            decode(&latin1(b"e\x00\x00\x00"), "utf-32").as_deref(),
            Some("e")
        );
        assert_eq!(decode(&latin1(b"e\x00\x00"), "utf-16-le"), None);
    }

    /// The tables against the interpreter on this machine: every byte of every codec decodes
    /// as CPython decodes it (or fails where it fails).
    #[test]
    fn charmaps_are_cpythons() {
        let script = r#"
import sys
for name in sys.argv[1:]:
    out = []
    for b in range(256):
        try:
            out.append("%x" % ord(bytes([b]).decode(name)))
        except UnicodeDecodeError:
            out.append("-")
    print(name, " ".join(out))
"#;
        let python = ["python3.13", "python3.12", "python3.11", "python3"]
            .into_iter()
            .find(|p| {
                std::process::Command::new(p)
                    .arg("-V")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .expect("a CPython 3 on PATH: the oracle of the codec tables");
        let out = std::process::Command::new(python)
            .args(["-I", "-S", "-c", script])
            .args(CHARMAPS.iter().map(|(name, _, _)| *name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), CHARMAPS.len());
        for line in text.lines() {
            let (name, codes) = line.split_once(' ').unwrap();
            let ours = decode(&(0u8..=255).map(char::from).collect::<String>(), name);
            for (b, code) in codes.split(' ').enumerate() {
                let want = (code != "-")
                    .then(|| char::from_u32(u32::from_str_radix(code, 16).unwrap()).unwrap());
                let one = decode(&char::from(b as u8).to_string(), name);
                assert_eq!(
                    one.map(|s| s.chars().next().unwrap()),
                    want,
                    "{name} byte {b:#x}"
                );
            }
            if !codes.contains('-') {
                assert_eq!(ours.map(|s| s.chars().count()), Some(256), "{name}");
            }
        }
    }
}
