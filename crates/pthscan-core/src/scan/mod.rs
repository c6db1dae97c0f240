//! One scan: discover environments under the inputs, read their start-up files, run every
//! detector, collect findings and diagnostics. Environments are judged in parallel; output is
//! sorted, so it does not depend on scheduling.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::HashSet;

use pthscan_signatures::{PayloadScanner, Signatures};
use rayon::prelude::*;

use crate::budget::{Budget, Caps};
use crate::detectors;
use crate::diagnostic::Diagnostic;
use crate::discovery::Environment;
use crate::discovery::variables::Setting;
use crate::finding::Finding;
use crate::fs::{Disk, ReadStats, Tree};

mod artifacts;
mod deep;
mod environment;
mod inputs;
mod merge;
#[cfg(test)]
mod tests;

use artifacts::*;
use deep::*;
use environment::*;
pub use inputs::discover;
use inputs::*;
use merge::*;

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Directories and artifacts (wheels, sdists, image tarballs, OCI layouts) to scan; empty
    /// means this host's usual Python places and package caches.
    pub paths: Vec<PathBuf>,
    /// The root of a mounted host or image filesystem: paths, host places and absolute
    /// symlinks are taken inside it.
    pub root: Option<PathBuf>,
    /// At most this many bytes are read from one file.
    pub max_file_size: u64,
    /// The peak memory the scan aims to stay under (`--max-memory`): what artifacts hold is
    /// reserved from a budget derived from it, and so are the per-member and per-artifact caps.
    pub max_memory: u64,
    /// Also run the payload rules over every file of every distribution, not just start-up
    /// code.
    pub deep: bool,
    /// How long one rule scan of one file (or decoded layer) may take.
    pub scan_timeout: Duration,
    /// Archives inside artifacts are opened to this depth (1 = the artifact only).
    pub max_archive_depth: usize,
    /// Also walk network and pseudo filesystems mounted below the scanned paths.
    pub all_mounts: bool,
    /// The malicious-package database distributions and pins are checked against.
    pub db: Arc<pthscan_db::Database>,
    /// Also read this machine's running processes from `/proc` (`--processes`).
    pub processes: bool,
    /// What walks and listings pass over (`--exclude`).
    pub exclude: Option<Arc<crate::fs::Exclude>>,
    /// Container engines' image stores to judge every image of (`--image-store`), inside
    /// `root` when given.
    pub image_stores: Vec<PathBuf>,
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Environments found.
    pub environments: usize,
    /// Start-up files judged (`.pth`, `.start`, customize modules).
    pub hook_files: usize,
    /// Installed distributions whose metadata was checked.
    pub distributions: usize,
    /// Artifacts opened (wheels, sdists, images, archives inside them).
    pub artifacts: usize,
    /// Lockfiles and requirement files judged (those they include aside).
    pub lockfiles: usize,
    /// Findings dropped by suppressions.
    pub suppressed: usize,
    /// Findings dropped because the baseline holds them.
    pub baselined: usize,
    /// Files the payload rules scanned (start-up code, and with `--deep` every file): the sum
    /// of the three counts below.
    pub payload_files: usize,
    /// Files judged as start-up code: hooks and the modules they import.
    pub startup_code: usize,
    /// Files judged as installed code (`--deep`, or every file of a package archive).
    pub installed_code: usize,
    /// Files judged as loose code: a PATH that is no Python environment, or a file given alone.
    pub loose_code: usize,
    /// Inputs that could not be read or judged: each is an incomplete diagnostic saying why.
    pub skipped: usize,
    /// Python processes found running (`--processes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<usize>,
    /// Directory entries walked.
    pub entries_walked: u64,
    /// Entries `--exclude` passed over (neither walked nor judged).
    pub excluded: u64,
    /// Files read.
    pub files_read: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Wall-clock time.
    #[serde(skip)]
    pub elapsed: Duration,
    /// What `--since` kept and left out, when it was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<SinceCounts>,
}

/// What a `--since` filter did ([`ScanReport::keep_since`]).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SinceCounts {
    /// The time findings were kept from.
    pub date: crate::times::Timestamp,
    /// Findings left out: every time their file has is earlier.
    pub older: usize,
    /// Findings kept because their file has no known time (an artifact member without one,
    /// a finding about no file): never dropped unseen.
    pub untimed: usize,
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// The directories walked.
    pub scanned: Vec<PathBuf>,
    /// Findings, most severe first, then by location and rule.
    pub findings: Vec<Finding>,
    /// Environments found, by root.
    pub environments: Vec<Environment>,
    /// Problems met, by path.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub stats: Stats,
    /// The Python processes running, by pid (`--processes`).
    pub processes: Vec<crate::procs::Process>,
    /// The times of each artifact file with a finding inside (a cached wheel, an image
    /// tarball), by path: its members' findings carry only what the archive stored.
    pub artifact_times: Vec<(PathBuf, crate::times::FileTimes)>,
}

impl ScanReport {
    /// Sets [`Stats::skipped`] from the diagnostics: call again after adding some.
    pub fn count_skipped(&mut self) {
        self.stats.skipped = self.diagnostics.iter().filter(|d| d.incomplete).count();
    }

    /// Keeps the findings whose file was born, modified or changed (or whose image layer was
    /// created) at or after `date`, and those whose file has no known time, counting both
    /// kinds left out and kept untimed in [`Stats::since`].
    pub fn keep_since(&mut self, date: crate::times::Timestamp) {
        let mut counts = SinceCounts {
            date,
            older: 0,
            untimed: 0,
        };
        self.findings.retain(|f| {
            if f.times.is_empty() {
                counts.untimed += 1;
                true
            } else if f.times.all().any(|t| t >= date) {
                true
            } else {
                counts.older += 1;
                false
            }
        });
        self.stats.since = Some(counts);
    }

    /// Whether some input could not be read or judged (exit code 2 unless a finding at the
    /// threshold makes it 1).
    pub fn incomplete(&self) -> bool {
        self.diagnostics.iter().any(|d| d.incomplete)
    }
}

/// Runs a scan: [`discover`], then [`judge`].
pub fn scan(options: &ScanOptions, sigs: &Signatures) -> ScanReport {
    judge(discover(options), sigs, options)
}

/// One environment to judge, with the tree it lives in.
struct Work {
    tree: Arc<dyn Tree>,
    env: Environment,
    /// Files that run at install time (an sdist's `setup.py`).
    install_hooks: Vec<PathBuf>,
    /// Every file gets the payload rules, `--deep` or not (a package archive).
    every_file: bool,
    /// Files the system package managers installed (paths of the tree).
    system_owned: Arc<HashSet<std::ffi::OsString>>,
    /// For an environment discovery found on disk, its reader: discovery did not enter the
    /// site directories ([`discovery::Depth::UpToSiteDirs`]), so judging them finds what is
    /// nested in them — an environment to judge next, an archive to open with this reader.
    /// `None` in a tree already walked whole (an artifact's, or below a site directory).
    reader: Option<Disk>,
    /// Variables its interpreters may start with (`PYTHONPATH` in `/etc/environment`, a
    /// unit, an image's `Env`): each gives a start-up model of its own.
    variables: Arc<Vec<Setting>>,
}

/// What the walk found, before anything is judged: the environments, each with the tree it
/// was found in, and the artifacts opened. Needs no signatures, so the caller can compile them
/// meanwhile.
pub struct Discovered {
    report: ScanReport,
    work: Vec<Work>,
    artifacts: Vec<Artifact>,
    /// Lockfiles and requirement files found or given, with the tree each is read from.
    lockfiles: Vec<(Disk, PathBuf)>,
    /// Filesystem roots swept whole: where persistence is looked for.
    hosts: Vec<Disk>,
    stats: Arc<ReadStats>,
    started: Instant,
}

impl Discovered {
    /// Whether nothing was found to judge: no environment, artifact or filesystem root.
    pub fn is_empty(&self) -> bool {
        self.work.is_empty()
            && self.artifacts.is_empty()
            && self.hosts.is_empty()
            && self.lockfiles.is_empty()
    }

    /// The read counters the judging phase advances (files, bytes), for a progress display.
    pub fn read_stats(&self) -> Arc<ReadStats> {
        Arc::clone(&self.stats)
    }

    /// Environments and artifacts found so far, for a progress display.
    pub fn found(&self) -> (usize, usize) {
        (self.work.len(), self.artifacts.len())
    }
}

/// Judges every environment found, then opens and judges the artifacts so that no more than
/// one large artifact is held in memory at once.
pub fn judge(discovered: Discovered, sigs: &Signatures, options: &ScanOptions) -> ScanReport {
    let Discovered {
        mut report,
        work,
        artifacts,
        lockfiles,
        hosts,
        stats,
        started,
    } = discovered;
    // environments side by side, except with --deep: each then holds its RECORD rows and file
    // list while its files are read, and its deep scan uses every thread on its own
    let judge_all = |work: &[Work]| -> Vec<(Judged, Option<Environment>)> {
        if options.deep {
            work.iter().map(|w| judge_work(sigs, w, options)).collect()
        } else {
            work.par_iter()
                .map(|w| judge_work(sigs, w, options))
                .collect()
        }
    };
    let mut judged = judge_all(&work);
    // what the walks of site directories found nested in them: archives to open, and
    // environments (one inside a package) judged next — without a finder, since the walk that
    // found them saw everything below them too
    let mut artifacts = artifacts;
    let mut nested = Vec::new();
    let judged_roots: HashSet<PathBuf> = work.iter().map(|w| w.env.root.clone()).collect();
    for ((j, _), w) in judged.iter_mut().zip(&work) {
        let (Some(inside), Some(reader)) = (j.inside.take(), &w.reader) else {
            continue;
        };
        report.stats.entries_walked += inside.entries_walked;
        artifacts.extend(
            inside
                .artifacts
                .into_iter()
                .filter(|p| opens(options, p))
                .map(|p| Artifact::File(reader.clone(), p, Place::Bundled)),
        );
        // an environment already judged is not judged again (a Windows prefix is a site
        // directory whose walk sees its own `Lib\site-packages`)
        nested.extend(
            inside
                .environments
                .into_iter()
                .filter(|env| !judged_roots.contains(&env.root))
                .map(|env| Work {
                    tree: Arc::clone(&w.tree),
                    env,
                    install_hooks: Vec::new(),
                    every_file: false,
                    system_owned: Arc::clone(&w.system_owned),
                    reader: None,
                    variables: Arc::clone(&w.variables),
                }),
        );
    }
    judged.extend(judge_all(&nested));
    // an archive an installed distribution ships, as its RECORD lists it, is checked like the
    // distribution's other files (opened with --deep); one that nothing installed is opened
    let recorded: HashSet<&Path> = judged
        .iter()
        .flat_map(|(j, _)| j.recorded_archives.iter().map(PathBuf::as_path))
        .collect();
    let artifacts: Vec<&Artifact> = artifacts
        .iter()
        .filter(|a| {
            options.deep
                || !matches!(a, Artifact::File(_, p, Place::Bundled) if recorded.contains(p.as_path()))
        })
        .collect();
    // An artifact is held in memory while it is judged: large ones (a 17 MB wheel is 60 MB
    // unpacked) one at a time, each judged with every thread; small ones side by side.
    // What they hold is reserved from one budget, and "large" is a share of it.
    let budget = Budget::for_process(options.max_memory);
    let large_artifact = Caps::new(options.max_memory).large_artifact;
    let (large, small): (Vec<&Artifact>, Vec<&Artifact>) = artifacts
        .into_iter()
        .partition(|a| a.disk_size() > large_artifact);
    type Artifacts = Vec<Vec<(Judged, Option<Environment>)>>;
    let judge_artifact = |a: &Artifact| -> (Artifacts, Option<(PathBuf, crate::times::FileTimes)>) {
        let mut out = Vec::new();
        let mut containers = artifacts::Containers::default();
        a.open(options, &stats, &budget, &mut |o| {
            let (image_of, container_of) = (o.image_of.clone(), o.container_of.clone());
            let mut judged = judge_opened(sigs, o, options);
            containers.sift(image_of.as_deref(), container_of.as_deref(), &mut judged);
            out.push(judged)
        });
        // the artifact file's own times, for the findings in it: one lookup, where any is
        let found = out.iter().flatten().any(|(j, _)| !j.findings.is_empty());
        let times = match a {
            Artifact::File(reader, path, _) if found => {
                reader.times(path, true).map(|(_, t)| (path.clone(), t))
            }
            _ => None,
        };
        (out, times)
    };
    let mut artifact_times = Vec::new();
    let mut opened: Artifacts = Vec::new();
    for (out, times) in large.into_iter().map(judge_artifact) {
        opened.extend(out);
        artifact_times.extend(times);
    }
    // side by side, as many at once as the budget holds at a small artifact's worst (four
    // times its size on disk), so that no thread starves another of it and which member went
    // without never depends on timing
    let at_once = (budget.limit() / (4 * large_artifact.max(1))).max(1) as usize;
    for batch in small.chunks(at_once) {
        let done: Vec<_> = batch.par_iter().map(|a| judge_artifact(a)).collect();
        for (out, times) in done {
            opened.extend(out);
            artifact_times.extend(times);
        }
    }
    artifact_times.sort_by(|a, b| a.0.cmp(&b.0));
    report.artifact_times = artifact_times;
    report.stats.artifacts = opened.len();
    judged.extend(opened.into_iter().flatten());
    // lockfiles: small, read once each (a file included by another is judged once)
    let mut reported = HashSet::new();
    for (disk, path) in &lockfiles {
        let Some(format) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(crate::python::lockfile::format_of)
        else {
            continue;
        };
        let (mut findings, diagnostics) =
            detectors::lockfile::judge(disk, &options.db, path, format, &mut reported);
        stamp(disk, &mut findings);
        report.stats.lockfiles += 1;
        judged.push((
            Judged {
                findings,
                diagnostics,
                ..Judged::default()
            },
            None,
        ));
    }
    for host in &hosts {
        let mut scanner = PayloadScanner::new(&sigs.payload, options.scan_timeout)
            .with_behaviours(&sigs.behaviours);
        let mut found = detectors::persistence::judge(sigs, host, &mut scanner);
        stamp(host, &mut found.findings);
        judged.push((
            Judged {
                findings: found.findings,
                diagnostics: found.diagnostics,
                ..Judged::default()
            },
            None,
        ));
    }
    let mut report = finish(report, judged, &stats, started);
    if options.processes {
        running_processes(&mut report, sigs, options);
    }
    crate::action::annotate(&mut report.findings, sigs, &report.environments);
    report
}

/// The process sweep: this machine's running processes judged, each Python one mapped to the
/// scanned environment it runs, and every finding about such an environment told which
/// processes use it now.
fn running_processes(report: &mut ScanReport, sigs: &Signatures, options: &ScanOptions) {
    let started = Instant::now();
    let mut sweep = crate::procs::sweep(Path::new("/proc"));
    let users = crate::procs::map_environments(
        &mut sweep.processes,
        &report.environments,
        options.root.as_deref(),
    );
    if options.root.is_some() {
        sweep.diagnostics.push(Diagnostic::note(
            "/proc",
            "the processes are this machine's, not those of the filesystem at --root: they are matched to its environments by path",
        ));
    }
    let mut scanner =
        PayloadScanner::new(&sigs.payload, options.scan_timeout).with_behaviours(&sigs.behaviours);
    let (findings, diagnostics) = detectors::processes::judge(sigs, &sweep, &mut scanner);
    for f in &mut report.findings {
        if let Some(pids) = f.environment.as_ref().and_then(|e| users.get(e)) {
            f.notes.push(detectors::processes::used_by(&sweep, pids));
        }
    }
    report.findings.extend(findings);
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.diagnostics.extend(sweep.diagnostics);
    report.diagnostics.extend(diagnostics);
    report.diagnostics.sort();
    report.diagnostics.dedup();
    report.count_skipped();
    report.processes = sweep
        .processes
        .into_iter()
        .filter(|p| p.python.is_some())
        .collect();
    report.stats.processes = Some(report.processes.len());
    report.stats.elapsed += started.elapsed();
}

/// The report of a discovery that found nothing to judge ([`Discovered::is_empty`]): it needs
/// no signatures, so a caller need not wait for them to compile.
pub fn report_only(discovered: Discovered) -> ScanReport {
    let Discovered {
        report,
        stats,
        started,
        ..
    } = discovered;
    finish(report, Vec::new(), &stats, started)
}
