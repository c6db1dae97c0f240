//! Detectors: one file each, each with the doc `pthscan explain` prints. A detector reads the
//! shared [`Ctx`] and returns findings; it never prints.

pub mod archive;
pub mod customize;
pub mod distributions;
pub mod entry_points;
pub mod imported;
pub mod integrity;
pub mod inventory;
pub mod ioc;
pub mod lockfile;
pub mod malicious;
pub mod payload;
pub mod persistence;
pub mod processes;
pub mod pth;
pub mod pth_paths;
pub mod record;
pub mod shadow;
pub mod start;
pub mod typosquat;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

pub use pthscan_signatures::Fix;

/// What a stealer that ran may have taken, for rules that know code ran but not what it read
/// (a known-malicious release, a file its package did not ship): every class to rotate.
pub const EVERY_CREDENTIAL: &[&str] = &[
    "ssh",
    "cloud",
    "kubernetes",
    "docker",
    "git",
    "tokens",
    "ci",
];
use pthscan_signatures::{SignalHit, Signatures};

use crate::diagnostic::Diagnostic;
use crate::discovery::Environment;
use crate::finding::Severity;
use crate::fs::FileBytes;
use crate::fs::Tree;

/// What `pthscan explain RULE` prints: the doc shape every detector follows.
#[derive(Debug)]
pub struct RuleDoc {
    /// Stable id.
    pub id: &'static str,
    /// One line.
    pub title: &'static str,
    /// What it finds.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// An example of what it reports.
    pub example: &'static str,
    /// Where the knowledge comes from: a `docs/` page and anchor, or an https URL.
    pub references: &'static [&'static str],
    /// What to do about a finding (a known-good hook's `info` finding: nothing).
    pub fix: Fix,
    /// The credential classes the code it finds can read (to rotate).
    pub rotate: &'static [&'static str],
}

/// Every rule, in id order.
pub fn rules() -> Vec<&'static RuleDoc> {
    let mut all: Vec<&'static RuleDoc> = [
        archive::RULES,
        pth::RULES,
        pth_paths::RULES,
        record::RULES,
        shadow::RULES,
        start::RULES,
        customize::RULES,
        imported::RULES,
        entry_points::RULES,
        integrity::RULES,
        inventory::RULES,
        persistence::RULES,
        processes::RULES,
        malicious::RULES,
        lockfile::RULES,
        typosquat::RULES,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect();
    all.sort_by_key(|r| r.id);
    all
}

/// A start-up file read from a site directory.
#[derive(Debug, Clone)]
pub struct HookFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its file name (lossy UTF-8).
    pub name: String,
    /// What it holds.
    pub data: FileBytes,
}

/// What every detector of one environment shares.
pub struct Ctx<'a> {
    /// The compiled signatures.
    pub sigs: &'a Signatures,
    /// The malicious-package database.
    pub db: &'a pthscan_db::Database,
    /// Where files are read from.
    pub tree: &'a dyn Tree,
    /// Files the system package managers installed (paths of the tree), for ownership checks.
    pub system_owned: &'a std::collections::HashSet<std::ffi::OsString>,
    /// The environment being judged.
    pub env: &'a Environment,
    /// `sys.path` as start-up leaves it, as far as it lies inside the scanned root: the site
    /// directories, then the directories `.pth` path lines add.
    pub search_path: Vec<PathBuf>,
    /// The start-up model of each interpreter version this environment is judged for (none
    /// for an artifact or a place whose interpreter is not known): what importlib resolves.
    pub startup: Vec<crate::python::startup::Startup>,
    /// One finder per start-up model, over its `sys.path` and then [`Ctx::search_path`]:
    /// built when first asked (after the search path is complete), so that directory
    /// listings are read once per environment, not once per module.
    pub finders: std::cell::OnceCell<Vec<crate::python::startup::Finder<'a>>>,
    /// Module judgments made so far, by file.
    pub modules: RefCell<imported::ModuleCache>,
    /// Problems met.
    pub diagnostics: RefCell<Vec<Diagnostic>>,
    /// Every file read as start-up code (hooks, customize modules, modules hooks import), in
    /// reading order, for the payload rules.
    pub startup_files: RefCell<Vec<(PathBuf, FileBytes)>>,
    /// Bytes of start-up code held in `startup_files`, against [`STARTUP_HELD`].
    pub startup_held: std::cell::Cell<u64>,
    /// The directory listings a Windows layout's names are matched in, regardless of case.
    pub case_index: &'a crate::fs::case::CaseIndex,
    /// Whether the environment is laid out as Windows lays Python out
    /// ([`crate::discovery::windows_layout`]).
    pub windows: bool,
}

/// `path` in `tree` as a path on the scanned system (`/…` under `--root`).
pub fn live_path(tree: &dyn Tree, path: &Path) -> PathBuf {
    if tree.rooted()
        && let Ok(rel) = path.strip_prefix(tree.root())
    {
        return Path::new("/").join(rel);
    }
    path.to_path_buf()
}

impl<'a> Ctx<'a> {
    /// Reads a file of start-up code, recording a diagnostic and returning `None` when it
    /// cannot be read; the payload rules judge it later.
    pub fn read(&self, path: &std::path::Path) -> Option<FileBytes> {
        let data = self.read_whole(path)?;
        self.hold(path, data)
    }

    /// Reads start-up code at `path`, a file or a member of a zip on `sys.path`
    /// (`<archive>/<member>`), and keeps it for the payload rules.
    pub fn read_code(&self, path: &std::path::Path) -> Option<FileBytes> {
        if self.tree.kind_followed(path).is_some() {
            self.read(path)
        } else {
            self.hold(path, read_zip_member(self, path)?)
        }
    }

    /// Keeps `data` (read from `path`, or out of an archive at that path) for the payload
    /// rules, within the environment's budget for start-up code; `None` past it (said).
    pub fn hold(&self, path: &std::path::Path, data: FileBytes) -> Option<FileBytes> {
        let held = self.startup_held.get();
        let size = data.bytes.len() as u64;
        if held + size > STARTUP_HELD {
            // a hundred sparse 8 MiB hooks: what is judged is held whole, several times over
            self.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                path,
                format!(
                    "not judged: this environment's start-up code already holds {held} bytes, and {size} more would pass the {STARTUP_HELD}-byte budget for it"
                ),
            ));
            return None;
        }
        let mut seen = self.startup_files.borrow_mut();
        if !seen.iter().any(|(p, _)| p == path) {
            self.startup_held.set(held + size);
            seen.push((path.to_path_buf(), data.clone()));
        }
        Some(data)
    }

    /// Reads a file to be held whole while judged (start-up or install-time code), up to
    /// [`STARTUP_CAP`], hashed; a diagnostic when it cannot be read or is longer.
    pub fn read_whole(&self, path: &std::path::Path) -> Option<FileBytes> {
        let cap = self.tree.max_file_size().min(STARTUP_CAP);
        let read = self.tree.read_capped(path, cap).map(|mut d| {
            d.sha256 = crate::fs::sha256_hex(&d.bytes);
            d
        });
        match read {
            Ok(data) => {
                if data.truncated {
                    self.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                        path,
                        format!(
                            "file is {} bytes, larger than the {cap}-byte cap for start-up code: only its head was judged",
                            data.size,
                        ),
                    ));
                }
                Some(data)
            }
            Err(err) => {
                self.diagnostics
                    .borrow_mut()
                    .push(Diagnostic::incomplete(path, err.to_string()));
                None
            }
        }
    }
}

/// The start-up code one environment holds at once, all files together: judging costs a few
/// times its size, and environments are judged side by side. Real environments hold well under
/// a megabyte (the LiteLLM hook was 34 KB).
pub const STARTUP_HELD: u64 = 24 << 20;

/// Start-up code (hooks and what they import) is held whole while it is judged, and costs
/// several times its size in memory: it is read up to this much (or `--max-file-size`, if
/// lower). The LiteLLM hook was 34 KB.
pub const STARTUP_CAP: u64 = 8 << 20;

impl<'a> Ctx<'a> {
    /// The finders of the start-up models (see [`Ctx::finders`]).
    pub fn finders(&self) -> &[crate::python::startup::Finder<'a>] {
        use crate::python::startup::{Finder, Interpreter, PyVersion};
        self.finders.get_or_init(|| {
            let view = self.view();
            let search: Vec<PathBuf> = self.search_path.iter().map(|d| self.live_path(d)).collect();
            if self.startup.is_empty() {
                // no interpreter layout (a user site alone, an artifact): importlib's rules
                // over the search path, for the environment's version or every version
                let versions: Vec<PyVersion> =
                    match self.env.python.as_deref().and_then(PyVersion::parse) {
                        Some(v) => vec![v],
                        None => PyVersion::KNOWN[1..].to_vec(),
                    };
                return versions
                    .into_iter()
                    .map(|v| Finder::over(view, &Interpreter::new(v, "/"), search.clone()))
                    .collect();
            }
            self.startup
                .iter()
                .map(|model| {
                    let mut path = model.paths();
                    for live in &search {
                        if !path.contains(live) {
                            path.push(live.clone());
                        }
                    }
                    Finder::over(view, &model.interpreter, path)
                })
                .collect()
        })
    }
}

impl<'a> Ctx<'a> {
    /// `path` as the scanned system sees it: inside an image mounted at `--root`, without the
    /// mount point.
    pub fn live_path(&self, path: &Path) -> PathBuf {
        live_path(self.tree, path)
    }

    /// `live` (a path on the scanned system) as a path here.
    pub fn disk_path(&self, live: &Path) -> PathBuf {
        self.view().disk(live)
    }

    /// The scanned system as the start-up models see it: on a Windows layout, directories by
    /// any spelling of their names, as NTFS opens them.
    pub fn view(&self) -> crate::python::startup::View<'a> {
        use crate::python::startup::View;
        if self.windows() {
            View::windows(self.tree, self.case_index)
        } else {
            View::new(self.tree)
        }
    }

    /// Whether the environment is modelled as a Windows installation (its path lines and
    /// names read as Windows reads them).
    pub fn windows(&self) -> bool {
        self.windows
    }
}

/// The generations on whose `sys.path` the directory `dir` is, by the start-up models of
/// this environment: all of them unless the models disagree (a path line ` vendor` is
/// `site-packages/ vendor` up to 3.14 and `vendor` on 3.15).
pub fn runs_on_path(ctx: &Ctx<'_>, dir: &Path) -> crate::python::Runs {
    use crate::python::Runs;
    let live = ctx.live_path(dir);
    let mut on = Runs::NEVER;
    let mut all = Runs::NEVER;
    for model in &ctx.startup {
        let bits = model.interpreter.version.generations();
        all = all.union(bits);
        if model.sys_path.iter().any(|e| e.path == live) {
            on = on.union(bits);
        }
    }
    if on.is_never() || on == all {
        Runs::ALL
    } else {
        on
    }
}

/// "shows X, Y, Z" from signal ids, for messages.
pub fn describe_hits(hits: &[SignalHit]) -> String {
    if hits.is_empty() {
        return "with no suspicious signal".into();
    }
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    format!("shows {}", ids.join(", "))
}

/// How much a module's verdict lifts the hook that imports it: fully for an unknown hook; for a
/// known-good one only from medium up, so a library's habits do not recolour a known hook.
pub fn lift(module: Severity, hook_is_known: bool) -> Severity {
    if hook_is_known && module < Severity::Medium {
        Severity::Info
    } else {
        module
    }
}

/// The highest severity among `base` and the hits.
pub fn raise(base: Severity, hits: &[SignalHit]) -> Severity {
    hits.iter().map(|h| h.severity).fold(base, Severity::max)
}

/// The 1-based line of a byte offset.
pub fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The text of a 1-based line (lossy UTF-8).
pub fn line_text(bytes: &[u8], line: usize) -> String {
    bytes
        .split(|&b| b == b'\n')
        .nth(line.saturating_sub(1))
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .unwrap_or_default()
}

/// Evidence cut to this many characters.
pub const EVIDENCE_CHARS: usize = 200;

/// The bytes of a module inside a zip on `sys.path`: `disk` is `<archive>/<member>` as a path
/// of the tree (the archive the nearest ancestor that is a file), found and read as
/// `zipimport` does (the start-up model's reading of the central directory, the member's
/// local header, stored or deflated data), up to the cap for start-up code.
pub(crate) fn read_zip_member(ctx: &Ctx<'_>, disk: &Path) -> Option<crate::fs::FileBytes> {
    use crate::python::startup::{PyVersion, zip};
    let archive = disk
        .ancestors()
        .skip(1)
        .find(|a| ctx.tree.kind_followed(a) == Some(crate::fs::Kind::File))?;
    let member = disk.strip_prefix(archive).ok()?.to_str()?;
    let cap = ctx.tree.max_file_size().min(zip::MAX_ZIP_BYTES);
    let bytes = ctx.tree.read_capped(archive, cap).ok()?.bytes;
    // 3.12's reading: every entry, whatever the end record counts
    let names = zip::parse(&bytes, PyVersion::new(3, 12))?;
    let at = names.names.iter().rposition(|n| n == member)?;
    let data = zip::member_data(&bytes, names.entries[at], STARTUP_CAP)?;
    Some(crate::fs::FileBytes {
        sha256: crate::fs::sha256_hex(&data),
        size: data.len() as u64,
        truncated: data.len() as u64 >= STARTUP_CAP,
        bytes: data,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn rule_ids_are_unique_and_documented() {
        let rules = super::rules();
        for w in rules.windows(2) {
            assert_ne!(w[0].id, w[1].id);
        }
        for r in rules {
            assert!(!r.what.is_empty() && !r.why.is_empty() && !r.example.is_empty());
            assert!(!r.references.is_empty(), "{}", r.id);
        }
    }
}
