//! PEP 440 versions and OSV `ECOSYSTEM` ranges over them.
//!
//! PyPI orders releases by PEP 440, not by text: `1.82.8` is `1.82.8.0` and `v1.82.8`, below
//! `1.82.8.post0`, above `1.82.8rc1`. A version that is not PEP 440 (legacy releases exist)
//! matches only a listed version of the same text, case aside, and never a range.

use std::str::FromStr;

use pep440_rs::Version;

/// One OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Affected from this version on (`"0"`: from the first release).
    Introduced(String),
    /// Not affected from this version on.
    Fixed(String),
    /// Affected up to and including this version.
    LastAffected(String),
    /// The range ends below this version, whatever its other events say.
    Limit(String),
}

impl Event {
    /// The version it names, as the record writes it.
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// An OSV range of `type: ECOSYSTEM`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Range {
    /// Its events, as the record lists them.
    pub events: Vec<Event>,
}

/// `text` as a PEP 440 version, if it is one.
pub fn parse(text: &str) -> Option<Version> {
    Version::from_str(text.trim()).ok()
}

/// Whether `version` is one of `listed` (PEP 440 equality, or the same text for versions that
/// are not PEP 440).
pub fn listed(version: &str, parsed: Option<&Version>, listed: &[String]) -> bool {
    listed.iter().any(|l| match (parsed, parse(l)) {
        (Some(v), Some(l)) => *v == l,
        _ => l.trim().eq_ignore_ascii_case(version.trim()),
    })
}

impl Range {
    /// `introduced: "0"` and nothing else: every release.
    pub fn is_everything(&self) -> bool {
        matches!(self.events.as_slice(), [Event::Introduced(v)] if v == "0")
    }

    /// Whether `version` falls in this range, by the OSV evaluation: events sorted by version,
    /// the last one at or below `version` decides, `limit` bounds the whole range.
    pub fn contains(&self, version: &Version) -> bool {
        let at = |e: &Event| -> Option<Version> {
            let text = e.version();
            if text == "0" {
                return Some(Version::new([0]));
            }
            parse(text)
        };
        let mut events: Vec<(Version, &Event)> = Vec::with_capacity(self.events.len());
        for e in &self.events {
            // an event that is not PEP 440 cannot be ordered: the range cannot be evaluated,
            // and a range that cannot be evaluated does not match
            let Some(v) = at(e) else {
                return false;
            };
            events.push((v, e));
        }
        events.sort_by(|a, b| a.0.cmp(&b.0));
        let mut affected = false;
        for (v, e) in &events {
            match e {
                Event::Introduced(_) if v <= version => affected = true,
                Event::Fixed(_) if v <= version => affected = false,
                Event::LastAffected(_) if v < version => affected = false,
                Event::Limit(_) if v <= version => return false,
                _ => {}
            }
        }
        affected
    }
}
