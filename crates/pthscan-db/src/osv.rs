//! OSV records (<https://ossf.github.io/osv-schema/>) as the malicious-package databases write
//! them: `ossf/malicious-packages` (`osv/malicious/pypi/<name>/MAL-*.json`) and osv.dev's
//! ecosystem exports. Only what matching and reporting need is kept; unknown fields are
//! ignored, as the schema asks of readers.

use serde::Deserialize;

use crate::version::{Event, Range};
use crate::{Affected, Record, normalize};

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    modified: String,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    affected: Vec<RawAffected>,
    #[serde(default)]
    references: Vec<RawReference>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    ranges: Vec<RawRange>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(default)]
    url: String,
}

/// Whether a JSON value has the shape of an OSV record (an `id` and `affected` or `modified`).
pub(crate) fn looks_like_record(v: &serde_json::Value) -> bool {
    v.get("id").is_some_and(|id| id.is_string())
        && (v.get("affected").is_some() || v.get("modified").is_some())
}

/// Why a record is not taken as malware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A vulnerability advisory (`PYSEC-…`, `GHSA-…`, `CVE-…` with no `MAL-` alias and no
    /// mention of malice): a vulnerable release is not a malicious one.
    NotMalware,
    /// It names no PyPI package.
    OtherEcosystem,
}

/// Reads one OSV record; `Err` says why it is not one pthscan uses. What of a used record
/// cannot be evaluated (a range event that is no PEP 440 version, or no event at all) goes to
/// `unevaluable`, to be said: such a range never matches.
pub(crate) fn record(
    value: serde_json::Value,
    origin: &str,
    unevaluable: &mut Vec<String>,
) -> Result<Result<Record, Skip>, serde_json::Error> {
    let mut raw: RawRecord = serde_json::from_value(value)?;
    if raw.id.is_empty() {
        // `ossf/malicious-packages` keeps per-source reports (`MAL-0000-<source>-<hash>.json`)
        // with an empty id beside the merged record: the file name is their only name
        let stem = origin.rsplit(['/', '!']).next().unwrap_or(origin);
        raw.id = stem.strip_suffix(".json").unwrap_or(stem).to_owned();
    }
    let mal = raw.id.starts_with("MAL-")
        || raw.aliases.iter().any(|a| a.starts_with("MAL-"))
        || raw
            .database_specific
            .as_ref()
            .is_some_and(|d| d.get("malicious-packages-origins").is_some())
        || mentions_malice(&raw.summary)
        || mentions_malice(&raw.details);
    if !mal {
        return Ok(Err(Skip::NotMalware));
    }
    let affected: Vec<Affected> = raw
        .affected
        .into_iter()
        .filter_map(|a| {
            let pkg = a.package?;
            if pkg.ecosystem != "PyPI" || pkg.name.is_empty() {
                return None;
            }
            let raw_ranges = a.ranges.len();
            let ranges: Vec<Range> = a
                .ranges
                .into_iter()
                // GIT ranges name commits, SEMVER is not PEP 440: neither orders PyPI releases
                .filter(|r| r.kind == "ECOSYSTEM")
                .map(|r| {
                    let events: Vec<Event> = r.events.iter().filter_map(event).collect();
                    let unordered = r.events.iter().find(|e| {
                        event(e).is_none_or(|ev| {
                            let text = ev.version();
                            text != "0" && crate::version::parse(text).is_none()
                        })
                    });
                    if let Some(e) = unordered {
                        unevaluable.push(format!(
                            "{}: a range of `{}` has the event `{}`, which is no PEP 440 version: that range never matches",
                            raw.id,
                            pkg.name,
                            serde_json::Value::Object(e.clone())
                        ));
                    }
                    // a range that cannot be evaluated whole matches nothing, not what its
                    // readable events alone would say
                    Range {
                        events: if unordered.is_some() { Vec::new() } else { events },
                    }
                })
                .collect();
            if a.versions.is_empty() && ranges.is_empty() && raw_ranges > 0 {
                // only SEMVER or GIT ranges: nothing pthscan can order PyPI releases by, so no
                // release is named — never read as "every version"
                return None;
            }
            Some(Affected {
                name: normalize(&pkg.name),
                every_version: (a.versions.is_empty() && ranges.is_empty())
                    || ranges.iter().any(Range::is_everything),
                versions: a.versions,
                ranges,
            })
        })
        .collect();
    if affected.is_empty() {
        return Ok(Err(Skip::OtherEcosystem));
    }
    let sources = raw
        .database_specific
        .as_ref()
        .and_then(|d| d.get("malicious-packages-origins"))
        .and_then(|o| o.as_array())
        .map(|o| {
            o.iter()
                .filter_map(|s| s.get("source").and_then(|s| s.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Ok(Record {
        id: raw.id,
        aliases: raw.aliases,
        summary: raw.summary,
        modified: raw.modified,
        withdrawn: raw.withdrawn,
        affected,
        references: raw.references.into_iter().map(|r| r.url).collect(),
        reporters: sources,
        origin: origin.to_owned(),
    }))
}

fn mentions_malice(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("malicious") || lower.contains("malware")
}

/// One `events[]` entry: an object with one of the four keys.
fn event(obj: &serde_json::Map<String, serde_json::Value>) -> Option<Event> {
    let (key, value) = obj.iter().next()?;
    let v = value.as_str()?.to_owned();
    Some(match key.as_str() {
        "introduced" => Event::Introduced(v),
        "fixed" => Event::Fixed(v),
        "last_affected" => Event::LastAffected(v),
        "limit" => Event::Limit(v),
        _ => return None,
    })
}
