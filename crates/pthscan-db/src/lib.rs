//! pthscan's malicious-package database: which PyPI releases are known to be malicious.
//!
//! Records come in the OSV format (`ossf/malicious-packages`, osv.dev exports, a fleet's own)
//! or as a name list (`DataDog/malicious-software-packages-dataset`'s `manifest.json`: a name
//! mapped to `null` for every version, or to a list of versions). An embedded snapshot is built
//! in from `signatures/malicious/`; users add their own with `pthscan db import` or `--db`.
//! pthscan never fetches a database itself.
//!
//! Names compare PEP 503-normalised, versions by PEP 440 ([`version`]).
#![deny(missing_docs)]

mod osv;
pub mod version;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use osv::Skip;
pub use version::{Event, Range};

/// At most this many records are read from one source: the whole `ossf/malicious-packages`
/// PyPI tree is about 15,000, and a name list of millions would hold gigabytes at every scan.
pub const MAX_RECORDS: usize = 200_000;

/// A single JSON file or zip member larger than this is refused: the biggest real record is a
/// few kilobytes, the DataDog manifest under a megabyte (and a parsed JSON value takes several
/// times its text).
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The records built in: every file under `signatures/malicious/`, as (path, text).
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// PEP 503 normalisation: lower case, every run of `-`, `_`, `.` one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// A known-malicious package, as one record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The record's id (`MAL-2026-2144`; `DATADOG-PYPI:<name>` for a name-list entry).
    pub id: String,
    /// Other ids of the same finding (`PYSEC-2026-2`, `GHSA-…`).
    pub aliases: Vec<String>,
    /// One line.
    pub summary: String,
    /// When the record last changed (RFC 3339), as it says.
    pub modified: String,
    /// When it was withdrawn, if it was: a withdrawn record matches nothing.
    pub withdrawn: Option<String>,
    /// The PyPI packages it names.
    pub affected: Vec<Affected>,
    /// Its references.
    pub references: Vec<String>,
    /// Who reported it (`malicious-packages-origins[].source`).
    pub reporters: Vec<String>,
    /// Where pthscan read it: `embedded:<path>`, a file, or `zip!member`.
    pub origin: String,
}

/// One PyPI package of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// PEP 503-normalised.
    pub name: String,
    /// Listed versions.
    pub versions: Vec<String>,
    /// `ECOSYSTEM` ranges.
    pub ranges: Vec<Range>,
    /// Neither versions nor ranges: every release of the name.
    pub every_version: bool,
}

impl Affected {
    /// Whether `version` (as installed or pinned) is affected.
    pub fn contains(&self, version: &str) -> bool {
        if self.every_version {
            return true;
        }
        let parsed = version::parse(version);
        version::listed(version, parsed.as_ref(), &self.versions)
            || parsed
                .as_ref()
                .is_some_and(|v| self.ranges.iter().any(|r| r.contains(v)))
    }
}

/// A record that names a release.
#[derive(Debug, Clone, Copy)]
pub struct Match<'a> {
    /// The record.
    pub record: &'a Record,
    /// The record names every version of the package, not this one in particular.
    pub every_version: bool,
}

/// Where a set of records came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `embedded`, or the path given.
    pub origin: String,
    /// Records used.
    pub records: usize,
    /// Records withdrawn by their publisher (kept, never matched).
    pub withdrawn: usize,
    /// Records skipped: vulnerability advisories, other ecosystems, unreadable files.
    pub skipped: usize,
    /// The newest `modified` among its records.
    pub newest: Option<String>,
    /// When it was imported (`pthscan db import`), RFC 3339.
    pub imported: Option<String>,
}

/// What `pthscan db import` keeps: the records read and where from, in pthscan's own form
/// (loaded without re-reading the sources).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format of this file; a newer pthscan may change it.
    pub format: u32,
    /// Where the records came from.
    pub sources: Vec<Source>,
    /// The records.
    pub records: Vec<Record>,
}

/// The [`Snapshot::format`] this build writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// What could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Which.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or JSON that is neither an OSV record, a list of them, nor a name list.
    #[error("{path}: {reason}")]
    Format {
        /// Which.
        path: String,
        /// Why.
        reason: String,
    },
    /// A zip archive could not be opened.
    #[error("{path}: not a readable zip archive: {source}")]
    Zip {
        /// Which.
        path: String,
        /// Why.
        #[source]
        source: zip::result::ZipError,
    },
}

/// The records, indexed by package name.
#[derive(Debug, Default)]
pub struct Database {
    records: Vec<Record>,
    by_name: HashMap<String, Vec<usize>>,
    /// Where the records came from, in loading order.
    pub sources: Vec<Source>,
    /// Files that were skipped, with why: said, never silent.
    pub problems: Vec<DbError>,
}

impl Database {
    /// The snapshot built into this binary.
    pub fn embedded() -> &'static Database {
        static DB: OnceLock<Database> = OnceLock::new();
        DB.get_or_init(|| {
            let mut db = Database::default();
            let mut source = Source {
                origin: "embedded".into(),
                ..Source::default()
            };
            for (path, text) in EMBEDDED {
                if let Err(e) =
                    db.add_json(&format!("embedded:{path}"), text.as_bytes(), &mut source)
                {
                    db.problems.push(e);
                }
            }
            db.sources.push(source);
            db
        })
    }

    /// A database holding the embedded records and then `other`'s. A record of `other` with
    /// the id of an embedded one replaces it: an imported withdrawal or correction wins.
    pub fn with_embedded(other: Database) -> Database {
        let mut db = Database::default();
        let embedded = Database::embedded();
        let replaced: std::collections::HashSet<&str> =
            other.records.iter().map(|r| r.id.as_str()).collect();
        for r in embedded
            .records
            .iter()
            .filter(|r| !replaced.contains(r.id.as_str()))
        {
            db.push(r.clone());
        }
        db.sources.extend(embedded.sources.iter().cloned());
        db.extend(other);
        db
    }

    /// Adds `other`'s records, sources and problems after this one's.
    pub fn extend(&mut self, other: Database) {
        for r in other.records {
            self.push(r);
        }
        self.sources.extend(other.sources);
        self.problems.extend(other.problems);
    }

    /// The records and sources, for `pthscan db import` to keep.
    pub fn into_snapshot(self) -> Snapshot {
        Snapshot {
            format: SNAPSHOT_FORMAT,
            sources: self.sources,
            records: self.records,
        }
    }

    /// A database of a kept snapshot.
    pub fn from_snapshot(snapshot: Snapshot) -> Database {
        let mut db = Database {
            sources: snapshot.sources,
            ..Database::default()
        };
        for r in snapshot.records {
            db.push(r);
        }
        db
    }

    /// Every record, withdrawn ones included.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records that name `name` at `version`, withdrawn ones aside.
    pub fn lookup(&self, name: &str, version: &str) -> Vec<Match<'_>> {
        let name = normalize(name);
        let Some(ids) = self.by_name.get(&name) else {
            return Vec::new();
        };
        let mut out: Vec<Match<'_>> = Vec::new();
        for &i in ids {
            let record = &self.records[i];
            if record.withdrawn.is_some() || out.iter().any(|m| m.record.id == record.id) {
                continue;
            }
            for a in record.affected.iter().filter(|a| a.name == name) {
                if a.contains(version) {
                    out.push(Match {
                        record,
                        every_version: a.every_version,
                    });
                    break;
                }
            }
        }
        out
    }

    /// The listed releases of `name` that the PEP 440 specifier `spec` (`>=1.80`, `~=1.82.0`,
    /// `==1.82.*`) allows, with the record that lists each; withdrawn records aside. A
    /// specifier that is not PEP 440 allows nothing here.
    pub fn admitted(&self, name: &str, spec: &str) -> Vec<(Match<'_>, String)> {
        let Ok(spec) = pep440_rs::VersionSpecifiers::from_str(spec.trim()) else {
            return Vec::new();
        };
        let name = normalize(name);
        let mut out: Vec<(Match<'_>, String)> = Vec::new();
        for &i in self.by_name.get(&name).into_iter().flatten() {
            let record = &self.records[i];
            if record.withdrawn.is_some() {
                continue;
            }
            for a in record.affected.iter().filter(|a| a.name == name) {
                for v in &a.versions {
                    if version::parse(v).is_some_and(|p| spec.contains(&p))
                        && !out.iter().any(|(m, w)| m.record.id == record.id && w == v)
                    {
                        out.push((
                            Match {
                                record,
                                every_version: false,
                            },
                            v.clone(),
                        ));
                    }
                }
            }
        }
        out
    }

    /// Whether any record, withdrawn ones aside, names every release of `name`: the name
    /// itself is malicious (a pin with no version still matches).
    pub fn lookup_name(&self, name: &str) -> Vec<Match<'_>> {
        let name = normalize(name);
        self.by_name
            .get(&name)
            .into_iter()
            .flatten()
            .map(|&i| &self.records[i])
            .filter(|r| r.withdrawn.is_none())
            .filter(|r| r.affected.iter().any(|a| a.name == name && a.every_version))
            .map(|record| Match {
                record,
                every_version: true,
            })
            .collect()
    }

    fn push(&mut self, record: Record) {
        let i = self.records.len();
        let mut names: Vec<&str> = record.affected.iter().map(|a| a.name.as_str()).collect();
        names.dedup();
        for n in names {
            self.by_name.entry(n.to_owned()).or_default().push(i);
        }
        self.records.push(record);
    }

    /// Reads `path`: a directory (every `*.json` below it), a zip archive (every `*.json`
    /// member), or one JSON file. What cannot be read is in [`Database::problems`].
    pub fn load_path(&mut self, path: &Path) -> Result<(), DbError> {
        let shown = path.display().to_string();
        let mut source = Source {
            origin: shown.clone(),
            ..Source::default()
        };
        let meta = std::fs::metadata(path).map_err(|source| DbError::Read {
            path: shown.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            json_files(path, &mut files, 0);
            files.sort();
            for f in files {
                match read_capped(&f) {
                    Ok(bytes) => {
                        if let Err(e) = self.add_json(&f.display().to_string(), &bytes, &mut source)
                        {
                            source.skipped += 1;
                            self.problems.push(e);
                        }
                    }
                    Err(e) => {
                        source.skipped += 1;
                        self.problems.push(e);
                    }
                }
            }
        } else {
            let bytes = read_capped(path)?;
            if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
                self.load_zip(&shown, bytes, &mut source)?;
            } else {
                self.add_json(&shown, &bytes, &mut source)?;
            }
        }
        self.sources.push(source);
        Ok(())
    }

    fn load_zip(
        &mut self,
        shown: &str,
        bytes: Vec<u8>,
        source: &mut Source,
    ) -> Result<(), DbError> {
        let mut zip =
            zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| DbError::Zip {
                path: shown.to_owned(),
                source: e,
            })?;
        for i in 0..zip.len() {
            let mut member = match zip.by_index(i) {
                Ok(m) => m,
                Err(e) => {
                    source.skipped += 1;
                    self.problems.push(DbError::Zip {
                        path: format!("{shown} member {i}"),
                        source: e,
                    });
                    continue;
                }
            };
            let member_name = String::from_utf8_lossy(member.name_raw()).into_owned();
            if !member.is_file() || !member_name.ends_with(".json") {
                continue;
            }
            let name = format!("{shown}!{member_name}");
            let mut data = Vec::new();
            // the declared size may lie: read one byte past the cap to know
            let read = (&mut member).take(MAX_FILE + 1).read_to_end(&mut data);
            match read {
                Ok(n) if n as u64 > MAX_FILE => {
                    source.skipped += 1;
                    self.problems.push(DbError::Format {
                        path: name,
                        reason: format!("larger than {MAX_FILE} bytes, skipped"),
                    });
                }
                Ok(_) => {
                    if let Err(e) = self.add_json(&name, &data, source) {
                        source.skipped += 1;
                        self.problems.push(e);
                    }
                }
                Err(e) => {
                    source.skipped += 1;
                    self.problems.push(DbError::Read {
                        path: name,
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }

    /// Adds the records in one JSON text: an OSV record, a list of them, or a name list.
    pub fn add_json(
        &mut self,
        origin: &str,
        bytes: &[u8],
        source: &mut Source,
    ) -> Result<(), DbError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| DbError::Format {
                path: origin.to_owned(),
                reason: format!("not JSON: {e}"),
            })?;
        match value {
            serde_json::Value::Array(items) => {
                for item in items {
                    self.add_record(item, origin, source)?;
                }
                Ok(())
            }
            v if osv::looks_like_record(&v) => self.add_record(v, origin, source),
            serde_json::Value::Object(map) => self.add_name_list(map, origin, source),
            _ => Err(DbError::Format {
                path: origin.to_owned(),
                reason: "neither an OSV record, a list of records, nor a name list".into(),
            }),
        }
    }

    fn full(&self, origin: &str, adding: usize) -> Result<(), DbError> {
        if self.records.len().saturating_add(adding) > MAX_RECORDS {
            return Err(DbError::Format {
                path: origin.to_owned(),
                reason: format!("more than {MAX_RECORDS} records: not read"),
            });
        }
        Ok(())
    }

    fn add_record(
        &mut self,
        v: serde_json::Value,
        origin: &str,
        source: &mut Source,
    ) -> Result<(), DbError> {
        self.full(origin, 1)?;
        if !osv::looks_like_record(&v) {
            return Err(DbError::Format {
                path: origin.to_owned(),
                reason: "a list item is not an OSV record (no `id`)".into(),
            });
        }
        let mut unevaluable = Vec::new();
        let read = osv::record(v, origin, &mut unevaluable);
        self.problems
            .extend(unevaluable.into_iter().map(|reason| DbError::Format {
                path: origin.to_owned(),
                reason,
            }));
        match read {
            Ok(Ok(record)) => {
                if record.withdrawn.is_some() {
                    source.withdrawn += 1;
                } else {
                    source.records += 1;
                }
                if source
                    .newest
                    .as_deref()
                    .is_none_or(|n| *n < *record.modified)
                {
                    source.newest = Some(record.modified.clone());
                }
                self.push(record);
                Ok(())
            }
            Ok(Err(_skip)) => {
                source.skipped += 1;
                Ok(())
            }
            Err(e) => Err(DbError::Format {
                path: origin.to_owned(),
                reason: format!("not an OSV record: {e}"),
            }),
        }
    }

    /// A name list: `{"name": null | ["1.0", …], …}`.
    fn add_name_list(
        &mut self,
        map: serde_json::Map<String, serde_json::Value>,
        origin: &str,
        source: &mut Source,
    ) -> Result<(), DbError> {
        let bad = |reason: &str| DbError::Format {
            path: origin.to_owned(),
            reason: reason.to_owned(),
        };
        // names that normalise alike (`roblox.com`, `roblox-com`) are one entry
        let mut by_name: std::collections::BTreeMap<String, (String, Option<Vec<String>>)> =
            std::collections::BTreeMap::new();
        for (name, versions) in map {
            let versions: Option<Vec<String>> = match versions {
                serde_json::Value::Null => None,
                serde_json::Value::Array(v) => Some(
                    v.into_iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<_>>()
                        .ok_or_else(|| bad("a name list maps a name to something other than null or a list of versions"))?,
                ),
                _ => return Err(bad("neither an OSV record, a list of records, nor a name list (a name mapped to null or to a list of versions)")),
            };
            let norm = normalize(&name);
            if norm.is_empty() {
                continue;
            }
            let entry = by_name
                .entry(norm)
                .or_insert_with(|| (name, Some(Vec::new())));
            entry.1 = match (entry.1.take(), versions) {
                (Some(mut a), Some(b)) => {
                    a.extend(b);
                    Some(a)
                }
                _ => None,
            };
        }
        self.full(origin, by_name.len())?;
        let mut records = Vec::with_capacity(by_name.len());
        for (norm, (name, versions)) in by_name {
            // an empty list names no version: read as every version, as `null`
            let versions = versions.unwrap_or_default();
            records.push(Record {
                id: format!("DATADOG-PYPI:{norm}"),
                aliases: Vec::new(),
                summary: format!("{name} is listed as malicious in a name list"),
                modified: String::new(),
                withdrawn: None,
                affected: vec![Affected {
                    name: norm,
                    every_version: versions.is_empty(),
                    versions,
                    ranges: Vec::new(),
                }],
                references: Vec::new(),
                reporters: Vec::new(),
                origin: origin.to_owned(),
            });
        }
        source.records += records.len();
        for r in records {
            self.push(r);
        }
        Ok(())
    }
}

fn read_capped(path: &Path) -> Result<Vec<u8>, DbError> {
    let shown = || path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| DbError::Read {
        path: shown(),
        source,
    })?;
    let mut data = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|source| DbError::Read {
            path: shown(),
            source,
        })?;
    if data.len() as u64 > MAX_FILE {
        return Err(DbError::Format {
            path: shown(),
            reason: format!("larger than {MAX_FILE} bytes, skipped"),
        });
    }
    Ok(data)
}

/// Every `*.json` regular file below `dir` (symbolic links are not followed), to a depth of 8.
fn json_files(dir: &Path, out: &mut Vec<std::path::PathBuf>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        let path = e.path();
        if kind.is_dir() {
            json_files(&path, out, depth + 1);
        } else if kind.is_file() && path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests;
