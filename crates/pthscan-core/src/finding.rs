//! The one type detectors hand to renderers: a [`Finding`].

use std::borrow::Cow;
use std::path::PathBuf;

use serde::Serialize;

use crate::pathfmt::display_path;
use crate::python::Runs;
use crate::times::FileTimes;

pub use pthscan_signatures::{Severity, SignalHit};

/// Where a finding is: a file, and a line where one applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file as found on disk (not resolved through symlinks).
    pub path: PathBuf,
    /// 1-based line number, where the finding is about one line.
    pub line: Option<usize>,
    /// 1-based column of that line, where the finding is about one place in it (a lockfile
    /// pin), in characters.
    pub column: Option<usize>,
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Location", 3)?;
        st.serialize_field("path", &display_path(&self.path))?;
        st.serialize_field("line", &self.line)?;
        if let Some(column) = self.column {
            st.serialize_field("column", &column)?;
        } else {
            st.skip_field("column")?;
        }
        st.end()
    }
}

/// One thing the scanner wants a person to know about.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Finding {
    /// Stable rule id: a detector (`PTH001`, `CUS002`, …), a payload rule (`cred-ssh-keys`) or
    /// an IOC entry (`ioc-file-litellm-init-pth`); see `pthscan explain`.
    pub rule: Cow<'static, str>,
    /// The verdict.
    pub severity: Severity,
    /// The file and line.
    pub location: Location,
    /// The environment the hook belongs to (its root directory), where known.
    #[serde(serialize_with = "ser_opt_path")]
    pub environment: Option<PathBuf>,
    /// The installed distribution that owns the file, where a RECORD says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// One line a responder can act on.
    pub message: String,
    /// The offending text (the line, the entry point, the path), cut to a readable length.
    pub evidence: String,
    /// The signals that raised the severity, if any.
    pub signals: Vec<SignalHit>,
    /// The known-good hook it matched, for `info` findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_good: Option<String>,
    /// The CPython versions on which this code runs.
    pub runs_on: Runs,
    /// Lowercase hex SHA-256 of the whole file.
    pub sha256: String,
    /// Further notes: what the hook imports, what disables it, …
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// For a payload match inside encoded data: the decoding steps from the file to the layer
    /// that matched, outermost first (`["base64", "zlib"]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<&'static str>,
    /// What to do, worded for this finding: its file, the distribution and version that own
    /// it, its environment (none for a known-good hook).
    pub fix: Option<String>,
    /// The credential classes to rotate: every class of the rules and signals that fired on
    /// this file (`ssh`, `cloud`, `kubernetes`, …; see `pthscan explain`).
    pub rotate: Vec<String>,
    /// Whether the finding is a behaviour rule's (a flow from where data comes in to where it
    /// ends): the text report says what the code does by it.
    #[serde(skip)]
    pub behaviour: bool,
    /// For payload rules and IOCs: where the knowledge comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When the file was born, modified and changed, as far as its source keeps times
    /// (taken once the finding is made, without opening the file for reading).
    #[serde(skip_serializing_if = "FileTimes::is_empty")]
    pub times: FileTimes,
}

impl Finding {
    /// The owning distribution's name, without the version `distribution` names with it.
    pub fn distribution_name(&self) -> Option<&str> {
        self.distribution
            .as_deref()
            .map(|d| d.split_once(' ').map_or(d, |(name, _)| name))
    }

    /// The sort key that makes output deterministic: most severe first, then location, rule.
    pub fn sort_key(&self) -> (std::cmp::Reverse<Severity>, &Location, &str) {
        (std::cmp::Reverse(self.severity), &self.location, &self.rule)
    }
}

fn ser_opt_path<S: serde::Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(&display_path(p)),
        None => s.serialize_none(),
    }
}

/// Cuts `text` to at most `max` characters, marking the cut, and escapes control characters so
/// that evidence never spoofs a terminal or splits a line.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    let total = text.chars().count();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push_str(&format!("… ({total} characters)"));
            break;
        }
        match c {
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&c.escape_unicode().to_string())
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_and_escapes() {
        assert_eq!(excerpt("abc", 10), "abc");
        assert_eq!(excerpt("abcdef", 3), "abc… (6 characters)");
        assert_eq!(excerpt("a\x0cb\tc", 10), "a\\u{c}b\\tc");
        assert_eq!(excerpt("\u{feff}import x", 20), "\\u{feff}import x");
    }
}
