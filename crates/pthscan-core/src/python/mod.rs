//! CPython's start-up semantics, reproduced without running Python: which interpreter
//! generations execute what, how `.pth` and `.start` files are read, what code imports.

pub mod dist;
pub mod imports;
pub mod lockfile;
pub mod pth;
pub mod record;
pub mod start;
pub mod startup;
pub mod stdlib;

use std::fmt;

use serde::Serialize;

/// The set of CPython generations on which a piece of start-up code runs.
///
/// `site.py` changed how it reads `.pth` files three times (THREATS.md §2.5), and once more which
/// files it reads at all (dot-named files, gh-113659), so "does this line run?" has one answer per
/// generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Runs(u8);

impl Runs {
    /// Never runs.
    pub const NEVER: Runs = Runs(0);
    /// CPython 3.12 and older, with the gh-113659 fix (dot-named `.pth` files skipped).
    pub const LEGACY: Runs = Runs(1);
    /// CPython 3.12 and older releases from before gh-113659, which still read dot-named files.
    pub const LEGACY_UNPATCHED: Runs = Runs(2);
    /// CPython 3.13 and 3.14: UTF-8 first, `str.splitlines()` separators.
    pub const PY313: Runs = Runs(4);
    /// CPython 3.15 to 3.17 (PEP 829): lines stripped, `.start` files, deferred imports.
    pub const PY315: Runs = Runs(8);
    /// Every generation that reads ordinary (not dot-named) start-up files.
    pub const ALL: Runs = Runs(1 | 2 | 4 | 8);

    const LABELS: [(Runs, &'static str); 4] = [
        (Runs::LEGACY_UNPATCHED, "<=3.12-unpatched"),
        (Runs::LEGACY, "<=3.12"),
        (Runs::PY313, "3.13-3.14"),
        (Runs::PY315, "3.15-3.17"),
    ];

    /// Whether every generation in `other` is in `self`.
    pub fn contains(self, other: Runs) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Whether this runs nowhere.
    pub fn is_never(self) -> bool {
        self.0 == 0
    }

    /// The generations in `self` but not in `other`.
    pub fn without(self, other: Runs) -> Runs {
        Runs(self.0 & !other.0)
    }

    /// The generations in either.
    pub fn union(self, other: Runs) -> Runs {
        Runs(self.0 | other.0)
    }

    /// What a dot-named file's lines become: only unpatched ≤ 3.12 reads such files.
    pub fn for_dot_named_file(self) -> Runs {
        if self.0 & (Runs::LEGACY.0 | Runs::LEGACY_UNPATCHED.0) != 0 {
            Runs::LEGACY_UNPATCHED
        } else {
            Runs::NEVER
        }
    }

    /// Whether this runs on some generations but not on all of the ones that read the file:
    /// code that hides from older or newer interpreters.
    pub fn is_partial(self) -> bool {
        !self.is_never() && self != Runs::ALL && self != Runs::LEGACY_UNPATCHED
    }

    /// The labels of the generations, oldest first (`<=3.12`, `3.13-3.14`, …).
    pub fn labels(self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        if self.contains(Runs::LEGACY) && self.contains(Runs::LEGACY_UNPATCHED) {
            out.push("<=3.12");
        } else {
            for (bit, label) in Runs::LABELS[..2].iter() {
                if self.contains(*bit) {
                    out.push(label);
                }
            }
        }
        for (bit, label) in Runs::LABELS[2..].iter() {
            if self.contains(*bit) {
                out.push(label);
            }
        }
        out
    }
}

impl fmt::Display for Runs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return f.write_str("never");
        }
        f.write_str(&self.labels().join(", "))
    }
}

impl Serialize for Runs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.labels().serialize(s)
    }
}

/// Python's `str.isspace()`: Rust's `White_Space` plus the four C0 separators `\x1c`–`\x1f`,
/// which Python counts as whitespace and `str.strip()` removes.
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_labels_and_set_operations() {
        assert_eq!(Runs::ALL.to_string(), "<=3.12, 3.13-3.14, 3.15-3.17");
        assert_eq!(
            Runs::PY313.union(Runs::PY315).to_string(),
            "3.13-3.14, 3.15-3.17"
        );
        assert_eq!(
            Runs::ALL.without(Runs::PY315).to_string(),
            "<=3.12, 3.13-3.14"
        );
        assert_eq!(Runs::NEVER.to_string(), "never");
        assert_eq!(
            Runs::ALL.for_dot_named_file().to_string(),
            "<=3.12-unpatched"
        );
        assert_eq!(Runs::PY313.for_dot_named_file(), Runs::NEVER);
        assert!(Runs::PY315.is_partial());
        assert!(!Runs::ALL.is_partial());
        assert!(!Runs::LEGACY_UNPATCHED.is_partial());
    }

    #[test]
    fn python_whitespace_includes_c0_separators() {
        for c in [
            '\x1c', '\x1d', '\x1e', '\x1f', '\u{85}', '\u{3000}', '\x0b', '\x0c',
        ] {
            assert!(py_isspace(c), "{c:?}");
        }
        assert!(!py_isspace('\u{feff}'));
        assert_eq!(py_strip("\x1f import x \u{3000}"), "import x");
    }
}
