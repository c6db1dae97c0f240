//! PEP 829 `<name>.start` files (CPython 3.15+): one `pkg.mod:callable` entry point per line,
//! called with no arguments at start-up.
//!
//! Read as `utf-8-sig` with no locale fallback: a `.start` file that is not UTF-8 is skipped
//! whole, and then does *not* disable the import lines of its `.pth` sibling.

use super::{pth::splitlines, py_strip};

/// One entry point line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartEntry {
    /// 1-based line, as `site` counts them (`str.splitlines()`, which also ends a line at
    /// `\r`, `\x0b`, `\x0c`, `\x1c`–`\x1e`, `\x85`, U+2028 and U+2029).
    pub line: usize,
    /// The stripped line.
    pub text: String,
    /// The module part (`pkg.mod`) when the line has the strict `pkg.mod:callable` form that
    /// `pkgutil.resolve_name(strict=True)` accepts; `None` for a line CPython rejects.
    pub module: Option<String>,
}

/// A parsed `.start` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartAnalysis {
    /// `false` when the bytes are not UTF-8: CPython ignores the whole file.
    pub readable: bool,
    /// The entry point lines, in file order.
    pub entries: Vec<StartEntry>,
}

/// Parses a `.start` file as CPython 3.15 does.
pub fn parse(bytes: &[u8]) -> StartAnalysis {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return StartAnalysis {
            readable: false,
            entries: Vec::new(),
        };
    };
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    for (n, (_, raw)) in splitlines(body).into_iter().enumerate() {
        let line = py_strip(raw);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        entries.push(StartEntry {
            line: n + 1,
            text: line.to_owned(),
            module: strict_entry_module(line).map(str::to_owned),
        });
    }
    StartAnalysis {
        readable: true,
        entries,
    }
}

/// The `pkg.mod` of a strict `pkg.mod:callable` entry, or `None`: `pkgutil.resolve_name`'s
/// pattern `^W(\.W)*:W(\.W)*$`, where `W` is `(?!\d)\w+` as Python's `re` reads it on `str`.
pub fn strict_entry_module(entry: &str) -> Option<&str> {
    let (module, callable) = entry.split_once(':')?;
    (is_dotted_words(module) && is_dotted_words(callable)).then_some(module)
}

/// `W(.W)*` with `W` = `(?!\d)\w+`.
pub fn is_dotted_words(s: &str) -> bool {
    s.split('.').all(|part| {
        let mut chars = part.chars();
        matches!(chars.next(), Some(c) if is_word(c) && !is_decimal(c)) && chars.all(is_word)
    })
}

/// `identifier(.identifier)*` with Python's rules for identifiers (approximated by Unicode
/// alphanumerics and `_`, not starting with a digit).
pub fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// Python's `\w` on `str`: `_` or a character `str.isalnum()` accepts (a letter or a number).
/// A character the crate's Unicode (16) has not assigned may be a letter in the newer Unicode
/// of the interpreter (3.15 has 17: U+10940 is a Sidetic letter): taken as one, so that such an
/// entry point is reported as running rather than missed.
fn is_word(c: char) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    c == '_'
        || matches!(
            get_general_category(c),
            G::UppercaseLetter
                | G::LowercaseLetter
                | G::TitlecaseLetter
                | G::ModifierLetter
                | G::OtherLetter
                | G::DecimalNumber
                | G::LetterNumber
                | G::OtherNumber
                | G::Unassigned
        )
}

/// Python's `\d` on `str`: a decimal digit of any script.
fn is_decimal(c: char) -> bool {
    use unicode_general_category::{GeneralCategory, get_general_category};
    get_general_category(c) == GeneralCategory::DecimalNumber
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_comments_blank_and_bom() {
        let a = parse(b"\xef\xbb\xbf# comment\n\n  evil.mod:run  \nbad entry\npkg:main\n");
        assert!(a.readable);
        let got: Vec<_> = a
            .entries
            .iter()
            .map(|e| (e.line, e.text.as_str(), e.module.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "evil.mod:run", Some("evil.mod")),
                (4, "bad entry", None),
                (5, "pkg:main", Some("pkg")),
            ]
        );
    }

    #[test]
    fn not_utf8_is_ignored_whole() {
        let a = parse(b"evil:run\n\xff\n");
        assert!(!a.readable);
        assert!(a.entries.is_empty());
    }

    #[test]
    fn strict_form() {
        assert_eq!(strict_entry_module("a.b:c.d"), Some("a.b"));
        for bad in [
            "a.b",
            "a:b:c",
            ":c",
            "a:",
            "1a:b",
            "a..b:c",
            "a b:c",
            "\u{0663}a:b",
        ] {
            assert_eq!(strict_entry_module(bad), None, "{bad}");
        }
        // as Python's `re` reads `\w`: a letter or number of any script, not a combining mark
        assert_eq!(
            strict_entry_module("\u{ff41}\u{ff43}\u{ff4d}\u{ff45}:run"),
            Some("\u{ff41}\u{ff43}\u{ff4d}\u{ff45}")
        );
        assert_eq!(strict_entry_module("\u{b2}x:run"), Some("\u{b2}x"));
        assert_eq!(strict_entry_module("a\u{0903}:run"), None);
        // Unicode 17's Sidetic letter, a word character for CPython 3.15
        assert_eq!(strict_entry_module("ev\u{10940}:run"), Some("ev\u{10940}"));
    }
}
