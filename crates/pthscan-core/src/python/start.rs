//! PEP 829 `<name>.start` files (CPython 3.15+): one `pkg.mod:callable` entry point per line,
//! called with no arguments at start-up.
//!
//! Read as `utf-8-sig` with no locale fallback: a `.start` file that is not UTF-8 is skipped
//! whole, and then does *not* disable the import lines of its `.pth` sibling.

use super::{pth::splitlines, py_strip};

/// One entry point line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartEntry {
    /// 1-based physical line.
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
    let base = text.len() - body.len();
    let mut entries = Vec::new();
    for (offset, raw) in splitlines(body) {
        let line = py_strip(raw);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let physical = text[..base + offset].matches('\n').count() + 1;
        entries.push(StartEntry {
            line: physical,
            text: line.to_owned(),
            module: strict_entry_module(line).map(str::to_owned),
        });
    }
    StartAnalysis {
        readable: true,
        entries,
    }
}

/// The `pkg.mod` of a strict `pkg.mod:callable` entry, or `None`.
pub fn strict_entry_module(entry: &str) -> Option<&str> {
    let (module, callable) = entry.split_once(':')?;
    (is_dotted_identifier(module) && is_dotted_identifier(callable)).then_some(module)
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
        for bad in ["a.b", "a:b:c", ":c", "a:", "1a:b", "a..b:c", "a b:c"] {
            assert_eq!(strict_entry_module(bad), None, "{bad}");
        }
    }
}
