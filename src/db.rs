//! `pthscan db import|status` and the database a scan uses: the embedded snapshot, what
//! `db import` kept, and every `--db` of this run. pthscan never fetches a database: fleets
//! distribute the file (an osv.dev or `ossf/malicious-packages` zip, a directory of OSV
//! records, a name list) and import it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use pthscan_db::{Database, SNAPSHOT_FORMAT, Snapshot};

/// Where `db import` keeps its snapshot: `$PTHSCAN_DB_DIR`, else `/var/lib/pthscan/db` for
/// root, else `$XDG_DATA_HOME/pthscan/db` (`~/.local/share/pthscan/db`).
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PTHSCAN_DB_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if crate::policy::euid() == 0 {
        return Some(PathBuf::from("/var/lib/pthscan/db"));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("pthscan/db"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/pthscan/db"))
}

const SNAPSHOT_FILE: &str = "imported.json";

/// The database for a scan: embedded, imported, then each of `extra` (`--db`). A `--db` that
/// cannot be read stops the run (the user asked for it); an imported snapshot that cannot be
/// read is a warning in `notes`, and the scan goes on with the rest.
pub fn load(extra: &[PathBuf], notes: &mut Vec<String>) -> Result<Database> {
    let mut added = Database::default();
    if let Some(dir) = cache_dir() {
        match read_snapshot(&dir.join(SNAPSHOT_FILE)) {
            Ok(Some(s)) => added.extend(Database::from_snapshot(s)),
            Ok(None) => {}
            Err(e) => notes.push(format!("{e:#}; using the embedded database only")),
        }
    }
    for path in extra {
        let mut db = Database::default();
        db.load_path(path)
            .with_context(|| format!("cannot read --db {}", path.display()))?;
        if db
            .sources
            .iter()
            .map(|s| s.records + s.withdrawn)
            .sum::<usize>()
            == 0
        {
            return Err(anyhow!(
                "--db {} holds no usable record (OSV records of PyPI packages, or a name list)",
                path.display()
            ));
        }
        for p in &db.problems {
            notes.push(format!("--db: {p}"));
        }
        added.extend(db);
    }
    Ok(Database::with_embedded(added))
}

/// A kept snapshot larger than this is refused: [`pthscan_db::MAX_RECORDS`] records take less.
const MAX_SNAPSHOT: u64 = 512 << 20;

fn read_snapshot(path: &Path) -> Result<Option<Snapshot>> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > MAX_SNAPSHOT
    {
        return Err(anyhow!(
            "{} is larger than {} MiB: not read",
            path.display(),
            MAX_SNAPSHOT >> 20
        ));
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let snap: Snapshot = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a pthscan database snapshot", path.display()))?;
    if snap.format != SNAPSHOT_FORMAT {
        return Err(anyhow!(
            "{} has snapshot format {}, this pthscan reads {SNAPSHOT_FORMAT}: run `pthscan db import` again",
            path.display(),
            snap.format
        ));
    }
    Ok(Some(snap))
}

/// `pthscan db import PATH…`: reads every PATH and replaces the kept snapshot with them.
pub fn import(paths: &[PathBuf], out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let dir = cache_dir().ok_or_else(|| {
        anyhow!("no place for the database: set PTHSCAN_DB_DIR, XDG_DATA_HOME or HOME")
    })?;
    let mut db = Database::default();
    for path in paths {
        db.load_path(path)
            .with_context(|| format!("cannot import {}", path.display()))?;
    }
    for p in &db.problems {
        writeln!(err, "pthscan: {p}")?;
    }
    let now = crate::render::ScanContext::now().timestamp;
    for s in &mut db.sources {
        s.imported = Some(now.clone());
    }
    let used: usize = db.sources.iter().map(|s| s.records).sum();
    if used == 0 {
        return Err(anyhow!(
            "no usable record in {}: nothing imported, the kept database is unchanged",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let snapshot = db.into_snapshot();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // written beside and renamed over: a reader never sees half a snapshot
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), &snapshot)?;
    tmp.as_file().sync_all()?;
    let dest = dir.join(SNAPSHOT_FILE);
    tmp.persist(&dest)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    for s in &snapshot.sources {
        writeln!(
            out,
            "imported {} records from {} ({} withdrawn, {} skipped)",
            s.records, s.origin, s.withdrawn, s.skipped
        )?;
    }
    writeln!(out, "kept in {}", dest.display())?;
    Ok(())
}

/// `pthscan db status`: how many records, from where, how old.
pub fn status(extra: &[PathBuf], out: &mut dyn Write) -> Result<()> {
    let mut notes = Vec::new();
    let db = load(extra, &mut notes)?;
    let names: std::collections::HashSet<&str> = db
        .records()
        .iter()
        .filter(|r| r.withdrawn.is_none())
        .flat_map(|r| r.affected.iter().map(|a| a.name.as_str()))
        .collect();
    writeln!(
        out,
        "{} records naming {} PyPI packages",
        db.records()
            .iter()
            .filter(|r| r.withdrawn.is_none())
            .count(),
        names.len()
    )?;
    for s in &db.sources {
        write!(
            out,
            "  {}: {} records, {} withdrawn, {} skipped",
            s.origin, s.records, s.withdrawn, s.skipped
        )?;
        if let Some(n) = &s.newest {
            write!(out, ", newest modified {n}")?;
        }
        if let Some(i) = &s.imported {
            write!(out, ", imported {i}")?;
        }
        writeln!(out)?;
    }
    match cache_dir() {
        Some(d) if d.join(SNAPSHOT_FILE).is_file() => writeln!(
            out,
            "imported snapshot: {}",
            d.join(SNAPSHOT_FILE).display()
        )?,
        Some(d) => writeln!(
            out,
            "no imported snapshot (would be {}); `pthscan db import PATH` adds one",
            d.join(SNAPSHOT_FILE).display()
        )?,
        None => writeln!(out, "no place for an imported snapshot (no HOME)")?,
    }
    for n in notes {
        writeln!(out, "warning: {n}")?;
    }
    Ok(())
}
