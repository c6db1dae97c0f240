//! One scan: discover environments under the inputs, read their start-up files, run every
//! detector, collect findings and diagnostics. Environments are judged in parallel; output is
//! sorted, so it does not depend on scheduling.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use std::collections::{BTreeMap, HashSet};

use pthscan_signatures::{PayloadScanner, Role, Signatures};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::budget::{Budget, Caps};
use crate::detectors::integrity::{Hashing, Listed, Listing};
use crate::detectors::{self, Ctx, HookFile};
use crate::diagnostic::Diagnostic;
use crate::discovery::variables::Setting;
use crate::discovery::{self, Environment};
use crate::finding::Finding;
use crate::fs::{Disk, Kind, ReadStats, Root, Tree, disk};
use crate::python::pth::{PthAnalysis, classify};
use crate::sources::{self, OpenOptions, Opened};

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
    /// Directory entries walked.
    pub entries_walked: u64,
    /// Files read.
    pub files_read: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Wall-clock time.
    #[serde(skip)]
    pub elapsed: Duration,
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
}

impl ScanReport {
    /// Sets [`Stats::skipped`] from the diagnostics: call again after adding some.
    pub fn count_skipped(&mut self) {
        self.stats.skipped = self.diagnostics.iter().filter(|d| d.incomplete).count();
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
    /// Files the system package manager installed (live paths).
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
    /// Filesystem roots swept whole: where persistence is looked for.
    hosts: Vec<Disk>,
    stats: Arc<ReadStats>,
    started: Instant,
}

impl Discovered {
    /// Whether nothing was found to judge: no environment, artifact or filesystem root.
    pub fn is_empty(&self) -> bool {
        self.work.is_empty() && self.artifacts.is_empty() && self.hosts.is_empty()
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

/// Walks the inputs, finds the Python environments under them and lists the artifacts to open.
pub fn discover(options: &ScanOptions) -> Discovered {
    let started = Instant::now();
    let mut report = ScanReport::default();
    let stats = Arc::new(ReadStats::default());
    let in_root = options.root.is_some();
    let fs_root = options.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let host_mode = options.paths.is_empty();
    // the filesystem every path of a mounted system (--root) resolves inside: PATHs, host
    // places, RECORD rows, links at any depth
    let system = match Root::open(&fs_root, in_root) {
        Ok(root) => Arc::new(root),
        Err(err) => {
            report.diagnostics.push(Diagnostic::incomplete(
                &fs_root,
                format!("cannot open the root: {}", crate::fs::io_reason(&err)),
            ));
            return Discovered {
                report,
                work: Vec::new(),
                artifacts: Vec::new(),
                hosts: Vec::new(),
                stats,
                started,
            };
        }
    };
    // a filesystem root (the host, --root, or `/` given) is swept as a host
    let is_fs_top = |root: &Path| host_mode || root == system.path() || root == Path::new("/");
    let reader_for = |root: &Path| -> Result<Disk, std::io::Error> {
        let mut disk = if in_root || host_mode {
            Disk::with_root(
                Arc::clone(&system),
                options.max_file_size,
                Arc::clone(&stats),
            )
        } else {
            // a directory of the live host: nothing leads out of it
            Disk::open(root, false, options.max_file_size, Arc::clone(&stats))?
        };
        // a filesystem root (the host, --root, or `/` given) skips its pseudo directories;
        // every walk skips network and pseudo mounts unless --all-mounts
        let mut prune = discovery::pruned_dirs(root, options.all_mounts);
        if !is_fs_top(root) {
            prune.retain(|p| !discovery::PSEUDO_DIRS.iter().any(|d| *p == root.join(d)));
        }
        disk.prune = Arc::new(prune);
        Ok(disk)
    };
    let inputs: Vec<(PathBuf, Result<Kind, crate::fs::ReadError>)> = if host_mode {
        vec![(system.path().to_path_buf(), Ok(Kind::Dir))]
    } else {
        options
            .paths
            .iter()
            .map(|p| locate_input(&system, in_root, p))
            .collect()
    };
    let mut roots = Vec::new();
    let mut artifacts: Vec<(Disk, PathBuf, Place)> = Vec::new();
    let mut given_files: Vec<PathBuf> = Vec::new();
    let mut layouts: Vec<(Disk, PathBuf)> = Vec::new();
    for (input, kind) in inputs {
        match kind {
            Ok(Kind::Dir) => {
                if system.stat(&input.join("oci-layout"), false).is_ok()
                    && system.stat(&input.join("index.json"), false).is_ok()
                {
                    match reader_for(&input) {
                        Ok(disk) => layouts.push((disk, input)),
                        Err(err) => report
                            .diagnostics
                            .push(Diagnostic::incomplete(&input, crate::fs::io_reason(&err))),
                    }
                } else {
                    roots.push(input);
                }
            }
            Ok(Kind::File) => {
                let parent = input.parent().unwrap_or(Path::new("/")).to_path_buf();
                match reader_for(&parent) {
                    Ok(disk) => {
                        given_files.push(input.clone());
                        artifacts.push((disk, input, Place::Given));
                    }
                    Err(err) => report
                        .diagnostics
                        .push(Diagnostic::incomplete(&input, crate::fs::io_reason(&err))),
                }
            }
            Ok(_) => report.diagnostics.push(Diagnostic::incomplete(
                &input,
                "not a directory or a regular file: not scanned",
            )),
            Err(err) => report
                .diagnostics
                .push(Diagnostic::incomplete(&input, err.to_string())),
        }
    }
    let mut roots = discovery::prune_nested(roots);

    let mut work: Vec<Work> = Vec::new();
    let mut hosts = Vec::new();
    // a filesystem root is walked as its top-level directories, in parallel
    let mut parts: Vec<(usize, PathBuf)> = Vec::new();
    let mut readers: Vec<Disk> = Vec::new();
    roots.retain(|r| match reader_for(r) {
        Ok(disk) => {
            readers.push(disk);
            true
        }
        Err(err) => {
            let why = format!("cannot open: {}", crate::fs::io_reason(&err));
            report.diagnostics.push(Diagnostic::incomplete(r, why));
            false
        }
    });
    for (i, root) in roots.iter().enumerate() {
        let fs_top = is_fs_top(root);
        if !fs_top {
            parts.push((i, root.clone()));
            continue;
        }
        hosts.push(readers[i].clone());
        match readers[i].list(root) {
            Ok(entries) => parts.extend(
                entries
                    .into_iter()
                    .filter(|e| e.kind == Kind::Dir && !readers[i].prune.contains(&e.path))
                    .map(|e| (i, e.path)),
            ),
            Err(err) => report
                .diagnostics
                .push(Diagnostic::incomplete(root, format!("cannot list: {err}"))),
        }
    }
    let founds: Vec<(usize, discovery::Discovery)> = parts
        .par_iter()
        .map(|(i, part)| {
            (
                *i,
                discovery::discover(
                    &readers[*i],
                    std::slice::from_ref(part),
                    discovery::Depth::UpToSiteDirs,
                ),
            )
        })
        .collect();
    let trees: Vec<Arc<dyn Tree>> = readers
        .iter()
        .map(|r| Arc::new(r.clone()) as Arc<dyn Tree>)
        .collect();
    for (i, found) in founds {
        let reader = &readers[i];
        report.stats.entries_walked += found.entries_walked;
        report.diagnostics.extend(found.diagnostics);
        let env_dirs: Vec<&PathBuf> = found
            .environments
            .iter()
            .flat_map(|e| e.site_dirs.iter().chain(&e.code_dirs))
            .collect();
        artifacts.extend(
            found
                .artifacts
                .into_iter()
                .filter(|p| opens(options, p))
                .map(|p| {
                    let place = if env_dirs.iter().any(|d| p.starts_with(d)) {
                        Place::Bundled
                    } else {
                        Place::Walked
                    };
                    (reader.clone(), p, place)
                }),
        );
        let tree = &trees[i];
        for env in found.environments {
            // two scanned places can hold parts of one environment (/usr/lib/python3 and
            // /usr/lib/python3.11 are both /usr): judge it once, with all its directories
            match work.iter_mut().find(|w| w.env.root == env.root) {
                Some(existing) => {
                    let e = &mut existing.env;
                    e.site_dirs.extend(env.site_dirs);
                    e.site_dirs.sort();
                    e.site_dirs.dedup();
                    e.code_dirs.extend(env.code_dirs);
                    e.code_dirs.sort();
                    e.code_dirs.dedup();
                    e.python = e.python.take().or(env.python);
                }
                None => work.push(Work {
                    tree: Arc::clone(tree),
                    env,
                    install_hooks: Vec::new(),
                    every_file: false,
                    system_owned: Arc::default(),
                    reader: Some(reader.clone()),
                    variables: Arc::default(),
                }),
            }
        }
    }

    // a folder given that holds no environment and lies in none is judged as loose code
    for (i, root) in roots.iter().enumerate() {
        let in_env = |w: &Work| {
            (w.env.site_dirs.iter().chain(&w.env.code_dirs))
                .any(|d| d.starts_with(root) || root.starts_with(d))
        };
        if !is_fs_top(root) && !work.iter().any(in_env) {
            work.push(loose_folder(Arc::clone(&trees[i]), root));
        }
    }
    // the system package manager's records own Debian's dist-packages: read them only when
    // such a site directory was found (not on every run: they are hundreds of files)
    if work
        .iter()
        .any(|w| w.env.site_dirs.iter().any(|d| d.ends_with("dist-packages")))
    {
        let system = Disk::with_root(system, options.max_file_size, Arc::clone(&stats));
        let (owned, problems) = detectors::integrity::dpkg_owned(&system);
        report.diagnostics.extend(problems);
        let owned = Arc::new(owned);
        for w in &mut work {
            w.system_owned = Arc::clone(&owned);
        }
    }
    // a host's interpreters start with what its environment files, profiles and units set
    if let Some(host) = hosts.first() {
        let (settings, problems) = discovery::variables::host(host, host.root());
        report.diagnostics.extend(problems);
        let settings = Arc::new(settings);
        for w in &mut work {
            w.variables = Arc::clone(&settings);
        }
    }
    // what was asked for: the roots, the layouts and the artifact files given, not every
    // archive found inside them
    report.scanned = roots;
    report
        .scanned
        .extend(layouts.iter().map(|(_, dir)| dir.clone()));
    report.scanned.extend(given_files);
    let mut to_open: Vec<Artifact> = artifacts
        .into_iter()
        .map(|(reader, path, place)| Artifact::File(reader, path, place))
        .collect();
    to_open.extend(
        layouts
            .into_iter()
            .map(|(disk, dir)| Artifact::Layout(disk, dir)),
    );
    Discovered {
        report,
        work,
        artifacts: to_open,
        hosts,
        stats,
        started,
    }
}

/// Where a PATH is, and what it is: under `--root`, resolved inside the root (a link in it
/// means the mounted system's target, not the host's); on the live host, the operator's own
/// path, followed as given.
fn locate_input(
    system: &Root,
    in_root: bool,
    path: &Path,
) -> (PathBuf, Result<Kind, crate::fs::ReadError>) {
    if in_root {
        let inside = system.path().join(path.strip_prefix("/").unwrap_or(path));
        return match system.resolve(&inside, true) {
            Ok(real) => match system.stat(&real, false) {
                Ok(st) => (real, Ok(disk::kind_of_mode(st.st_mode))),
                // named as given, and where its links lead inside the root
                Err(err) if real != inside => {
                    let shown = crate::pathfmt::display_path(&real);
                    let why = format!("leads to `{shown}` inside the root: {err}");
                    (inside, Err(crate::fs::ReadError::Unavailable(why)))
                }
                Err(err) => (inside, Err(err)),
            },
            Err(err) => (inside, Err(err)),
        };
    }
    match std::fs::canonicalize(path) {
        Ok(real) => {
            let kind = std::fs::symlink_metadata(&real)
                .map(|m| {
                    if m.is_dir() {
                        Kind::Dir
                    } else if m.is_file() {
                        Kind::File
                    } else {
                        Kind::Other
                    }
                })
                .map_err(crate::fs::ReadError::from);
            (real, kind)
        }
        Err(err) => (path.to_path_buf(), Err(err.into())),
    }
}

/// A folder that is no Python environment, judged as loose code: every file with the payload
/// rules, the folder as the site directory its `.pth`, `.start` and customize files would be
/// hooks in — so an unpacked wheel's `*.dist-info` is checked against its RECORD as installed,
/// and an unpacked sdist's `setup.py` is judged as the install-time code it is.
fn loose_folder(tree: Arc<dyn Tree>, dir: &Path) -> Work {
    // what `pip install DIR` runs
    let setup = dir.join("setup.py");
    let install_hooks = if tree.is_file(&setup) {
        vec![setup]
    } else {
        Vec::new()
    };
    Work {
        tree,
        env: Environment {
            root: dir.to_path_buf(),
            kind: discovery::EnvKind::Loose,
            python: None,
            site_dirs: vec![dir.to_path_buf()],
            code_dirs: Vec::new(),
            distributions: 0,
        },
        install_hooks,
        every_file: true,
        system_owned: Arc::default(),
        reader: None,
        variables: Arc::default(),
    }
}

/// What a loose folder is, when it is a package unpacked: a `*.dist-info` with files beside it
/// (a wheel: its RECORD is checked as an installed one's), or `PKG-INFO` with `setup.py` or
/// `pyproject.toml` (an sdist: `setup.py` is judged as install-time code).
fn loose_shape(tree: &dyn Tree, dir: &Path) -> Option<&'static str> {
    let names: Vec<String> = tree.list(dir).ok()?.into_iter().map(|e| e.name).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if names.iter().any(|n| n.ends_with(".dist-info")) && names.len() > 1 {
        Some("an unpacked wheel, its RECORD checked")
    } else if has("PKG-INFO") && (has("setup.py") || has("pyproject.toml")) {
        Some("an unpacked sdist, its setup.py as install-time code")
    } else {
        None
    }
}

/// Whether a file a walk found that may be an artifact is opened: a host sweep opens the
/// package caches (what the next install runs); given paths open every archive in them.
fn opens(options: &ScanOptions, path: &Path) -> bool {
    !options.paths.is_empty() || sources::cache::is_cache_path(path)
}

/// Where an artifact file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Given as a PATH: what is no archive is judged as loose code.
    Given,
    /// Found by a walk, lying in a wheelhouse, a cache, a home directory.
    Walked,
    /// Found inside an installed environment (a test fixture of the standard library, data of
    /// a package): what cannot be read there is noted, not a reason for exit 2, since nothing
    /// installs from it.
    Bundled,
}

/// An artifact to open when judging: a file, or an OCI layout directory.
enum Artifact {
    /// A file, and where it came from.
    File(Disk, PathBuf, Place),
    Layout(Disk, PathBuf),
}

impl Artifact {
    /// Its size on disk (a layout directory counts as large: its layers are).
    fn disk_size(&self) -> u64 {
        match self {
            Artifact::File(disk, path, _) => disk.file_size(path).unwrap_or(0),
            Artifact::Layout(..) => u64::MAX,
        }
    }

    /// Opens the artifact and what is nested in it, handing each opened tree to `visit` in
    /// turn.
    fn open(
        &self,
        options: &ScanOptions,
        stats: &Arc<ReadStats>,
        budget: &Arc<Budget>,
        visit: &mut dyn FnMut(Opened),
    ) {
        let open = OpenOptions {
            deep: options.deep,
            ..OpenOptions::new(
                options.max_file_size,
                options.max_memory,
                Arc::clone(budget),
                Arc::clone(stats),
                options.max_archive_depth,
            )
        };
        // what reading found is judged as each tree comes
        let visit = &mut |mut o: Opened| {
            judge_reading(&mut o);
            visit(o);
        };
        match self {
            Artifact::File(reader, path, place) => {
                let given = *place == Place::Given;
                sources::artifact::open_file(path, reader, given, &open, &mut |mut o| {
                    if *place == Place::Bundled {
                        for d in &mut o.diagnostics {
                            d.incomplete = false;
                        }
                    }
                    visit(o);
                });
            }
            Artifact::Layout(disk, dir) => {
                let limits = open.limits();
                let label = crate::pathfmt::display_path(dir);
                let opened = match sources::image::read_layout_dir(disk, dir, &limits) {
                    Ok(blobs) => sources::image::assemble(&label, blobs, &open),
                    Err(why) => {
                        let mut failed = Opened::with_label(&label, &open);
                        failed.diagnostics.push(Diagnostic::incomplete(
                            dir,
                            format!("not a readable OCI layout: {why}"),
                        ));
                        vec![failed]
                    }
                };
                sources::artifact::visit_nested(opened, &open, visit);
            }
        }
    }
}

/// Turns what the archive readers met in an opened artifact (hostile shapes, cut members) and
/// a wheel's RECORD into findings and diagnostics.
fn judge_reading(o: &mut Opened) {
    for (label, problems) in std::mem::take(&mut o.problems) {
        let (findings, diagnostics) = detectors::archive::judge(&label, &problems);
        o.findings.extend(findings);
        o.diagnostics.extend(diagnostics);
    }
    if let Some(listing) = o.wheel.take() {
        o.findings
            .extend(detectors::record::check_wheel(&o.tree, &listing));
    }
}

/// Judges an opened artifact: what reading it found, then each environment in it.
fn judge_opened(
    sigs: &Signatures,
    o: Opened,
    options: &ScanOptions,
) -> Vec<(Judged, Option<Environment>)> {
    let tree: Arc<dyn Tree> = Arc::new(o.tree);
    let variables = Arc::new(o.variables);
    // findings about the artifact itself already carry display paths
    let own = Judged {
        findings: o.findings,
        diagnostics: o.diagnostics,
        ..Judged::default()
    };
    let mut out = vec![(own, None)];
    for env in o.envs {
        let w = Work {
            tree: Arc::clone(&tree),
            env,
            install_hooks: o.install_hooks.clone(),
            every_file: o.judge_every_file,
            system_owned: Arc::default(),
            reader: None,
            variables: Arc::clone(&variables),
        };
        out.push(judge_work(sigs, &w, options));
    }
    out
}

/// Judges every environment found, then opens and judges the artifacts so that no more than
/// one large artifact is held in memory at once.
pub fn judge(discovered: Discovered, sigs: &Signatures, options: &ScanOptions) -> ScanReport {
    let Discovered {
        mut report,
        work,
        artifacts,
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
    let judge_artifact = |a: &Artifact| -> Vec<Vec<(Judged, Option<Environment>)>> {
        let mut out = Vec::new();
        a.open(options, &stats, &budget, &mut |o| {
            out.push(judge_opened(sigs, o, options))
        });
        out
    };
    let mut opened: Vec<Vec<(Judged, Option<Environment>)>> =
        large.into_iter().flat_map(judge_artifact).collect();
    // side by side, as many at once as the budget holds at a small artifact's worst (four
    // times its size on disk), so that no thread starves another of it and which member went
    // without never depends on timing
    let at_once = (budget.limit() / (4 * large_artifact.max(1))).max(1) as usize;
    for batch in small.chunks(at_once) {
        opened.par_extend(batch.par_iter().flat_map_iter(|a| judge_artifact(a)));
    }
    report.stats.artifacts = opened.len();
    judged.extend(opened.into_iter().flatten());
    for host in &hosts {
        let mut scanner = PayloadScanner::new(&sigs.payload, options.scan_timeout);
        let found = detectors::persistence::judge(sigs, host, &mut scanner);
        judged.push((
            Judged {
                findings: found.findings,
                diagnostics: found.diagnostics,
                ..Judged::default()
            },
            None,
        ));
    }
    finish(report, judged, &stats, started)
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

fn finish(
    mut report: ScanReport,
    judged: Vec<(Judged, Option<Environment>)>,
    stats: &ReadStats,
    started: Instant,
) -> ScanReport {
    for (j, env) in judged {
        report.findings.extend(j.findings);
        report.diagnostics.extend(j.diagnostics);
        report.stats.hook_files += j.hooks;
        report.stats.distributions += j.distributions;
        report.stats.payload_files += j.startup_code + j.other_code;
        if j.loose {
            report.stats.loose_code += j.startup_code + j.other_code;
        } else {
            report.stats.startup_code += j.startup_code;
            report.stats.installed_code += j.other_code;
        }
        report.environments.extend(env);
    }
    report.environments.sort_by(|a, b| a.root.cmp(&b.root));
    // a site directory nested in another environment's can belong to that environment (a user
    // site's `…/site-packages/pkg/site-packages`): judged apart, reported as one
    report.environments.dedup_by(|later, kept| {
        if later.root != kept.root {
            return false;
        }
        kept.site_dirs.append(&mut later.site_dirs);
        kept.site_dirs.sort();
        kept.code_dirs.append(&mut later.code_dirs);
        kept.code_dirs.sort();
        kept.distributions += later.distributions;
        true
    });
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.diagnostics.sort();
    report.diagnostics.dedup();
    report.count_skipped();
    report.stats.environments = report.environments.len();
    report.stats.files_read = stats.files.load(Ordering::Relaxed);
    report.stats.bytes_read = stats.bytes.load(Ordering::Relaxed);
    report.stats.elapsed = started.elapsed();
    report
}

/// Judges one environment, with paths as people see them, and the environment itself so shown.
fn judge_work(sigs: &Signatures, w: &Work, options: &ScanOptions) -> (Judged, Option<Environment>) {
    let mut j = judge_environment(sigs, w, options);
    shown_as(&*w.tree, &mut j);
    let shown = |p: &PathBuf| w.tree.display(p);
    let env = Environment {
        root: shown(&w.env.root),
        site_dirs: w.env.site_dirs.iter().map(shown).collect(),
        code_dirs: w.env.code_dirs.iter().map(shown).collect(),
        distributions: j.distributions,
        ..w.env.clone()
    };
    (j, Some(env))
}

/// Rewrites the paths of what was judged in `tree` the way people see them (`image › layer ›
/// path` for an artifact), and notes where a file came from.
fn shown_as(tree: &dyn Tree, judged: &mut Judged) {
    for f in &mut judged.findings {
        if let Some(note) = tree.provenance(&f.location.path) {
            f.notes.push(note);
        }
        f.location.path = tree.display(&f.location.path);
        f.environment = f.environment.as_deref().map(|e| tree.display(e));
    }
    for d in &mut judged.diagnostics {
        d.path = tree.display(&d.path);
    }
}

struct SiteHooks {
    dir: PathBuf,
    pth: Vec<(HookFile, PthAnalysis)>,
    start: Vec<HookFile>,
}

/// What judging one environment produced.
#[derive(Default)]
struct Judged {
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    hooks: usize,
    distributions: usize,
    /// Start-up files under the payload rules.
    startup_code: usize,
    /// The other files under the payload rules, judged as installed or as loose code.
    other_code: usize,
    loose: bool,
    /// Archives a RECORD lists, present at the size it gives (virtualenv's seed wheels, a
    /// package's test data): installed files like any other, opened only with `--deep`.
    recorded_archives: Vec<PathBuf>,
    /// What the walk of site directories that discovery did not enter found in them.
    inside: Option<discovery::Discovery>,
}

fn judge_environment(sigs: &Signatures, work: &Work, options: &ScanOptions) -> Judged {
    let tree = &*work.tree;
    let env = &work.env;
    let mut ctx = Ctx {
        sigs,
        tree,
        system_owned: &work.system_owned,
        env,
        search_path: env.site_dirs.clone(),
        startup: startup_models(tree, env, &work.variables),
        finders: Default::default(),
        modules: RefCell::default(),
        diagnostics: RefCell::default(),
        startup_files: RefCell::default(),
        startup_held: Default::default(),
    };
    // Phase 1: read every .pth and .start file, and learn what the path lines add to sys.path.
    let mut sites: Vec<SiteHooks> = env
        .site_dirs
        .iter()
        .map(|dir| read_site_dir(&ctx, dir))
        .collect();
    // hooks of hooks: a directory start-up code hands to `site.addsitedir` has its `.pth`
    // files processed too (read here as a site directory of its own, and said)
    let added_by = add_site_dirs(&ctx, &mut sites);
    for (dir, _) in &added_by {
        if !ctx.search_path.contains(dir) {
            ctx.search_path.push(dir.clone());
        }
    }
    for site in &sites {
        let live_site = ctx.live_path(&site.dir);
        for (_, analysis) in &site.pth {
            for line in &analysis.path_lines {
                let disk = ctx.disk_path(&detectors::pth_paths::target(&live_site, &line.text));
                if disk.starts_with(tree.root())
                    && !ctx.search_path.contains(&disk)
                    && tree.kind_followed(&disk) == Some(Kind::Dir)
                {
                    ctx.search_path.push(disk);
                }
            }
        }
    }
    // the model's sys.path: site directories as `site` finds them (through symlinks), and what
    // path lines add as each version reads them (` vendor` is `site-packages/ vendor` up to
    // 3.14), in order; zips on it are searched by the finder
    let mut model_dirs: Vec<PathBuf> = Vec::new();
    for model in &ctx.startup {
        for entry in &model.sys_path {
            use crate::python::startup::Why;
            // another installation's site directories (a venv's base) are judged as their own
            // environment, not again under each venv that includes them
            let disk = ctx.disk_path(&entry.path);
            let on_site_side = match entry.why {
                Why::PthLine { ref file, .. } => ctx.disk_path(file).starts_with(&env.root),
                Why::PythonPath => true,
                Why::VenvSite | Why::UserSite | Why::SystemSite => disk.starts_with(&env.root),
                _ => false,
            };
            if on_site_side
                && disk.starts_with(tree.root())
                && !model_dirs.contains(&disk)
                && tree.kind_followed(&disk) == Some(Kind::Dir)
            {
                model_dirs.push(disk);
            }
        }
    }
    for dir in model_dirs {
        if !ctx.search_path.contains(&dir) {
            ctx.search_path.push(dir);
        }
    }
    // directories only an interpreter started with some variable set has on its path: what
    // runs from there runs under that condition, and its findings say so
    let unconditional: HashSet<PathBuf> = ctx
        .startup
        .iter()
        .filter(|m| m.condition.is_none())
        .flat_map(|m| m.sys_path.iter().map(|e| ctx.disk_path(&e.path)))
        .collect();
    let conditional: Vec<(PathBuf, String)> = ctx
        .startup
        .iter()
        .filter_map(|m| m.condition.as_ref().map(|c| (m, c)))
        .flat_map(|(m, c)| {
            m.sys_path
                .iter()
                .map(|e| ctx.disk_path(&e.path))
                .filter(|d| !unconditional.contains(d))
                .map(move |d| (d, c.clone()))
        })
        .collect();
    // Phase 2: judge.
    let mut findings = Vec::new();
    let mut hooks = 0;
    for site in &sites {
        for (file, analysis) in &site.pth {
            hooks += 1;
            let stem = file.name.trim_end_matches(".pth");
            let start_sibling = site
                .start
                .iter()
                .find(|s| {
                    s.name.strip_suffix(".start") == Some(stem)
                        && !s.name.starts_with('.')
                        && std::str::from_utf8(&s.data.bytes).is_ok()
                })
                .map(|s| s.name.as_str());
            findings.extend(detectors::pth::judge(&ctx, file, analysis, start_sibling));
            findings.extend(detectors::pth_paths::judge(&ctx, &site.dir, file, analysis));
        }
        for file in &site.start {
            hooks += 1;
            let stem = file.name.trim_end_matches(".start");
            let pth_imports = site
                .pth
                .iter()
                .find(|(p, _)| p.name.strip_suffix(".pth") == Some(stem))
                .map_or(0, |(_, a)| a.exec_lines.len());
            findings.extend(detectors::start::judge(&ctx, file, pth_imports));
        }
    }
    let mut customize_dirs: Vec<PathBuf> = env
        .site_dirs
        .iter()
        .chain(&env.code_dirs)
        .cloned()
        .collect();
    customize_dirs.extend(
        ctx.search_path
            .iter()
            .filter(|d| !customize_dirs.contains(d))
            .cloned()
            .collect::<Vec<_>>(),
    );
    for dir in &customize_dirs {
        let found = detectors::customize::judge_dir(&ctx, dir);
        hooks += found.len();
        findings.extend(found);
    }
    let found = detectors::customize::judge_model(&ctx);
    hooks += found.len();
    findings.extend(found);
    findings.extend(detectors::imported::findings(&ctx));

    // Phase 3: installed distributions against the IOC tables, installed files against the
    // records of what installed them.
    let metadata = detectors::ioc::metadata_files(tree, &env.site_dirs);
    let (distributions, found) = detectors::ioc::distributions(&ctx, &metadata);
    findings.extend(found);
    let startup_paths: HashSet<PathBuf> = ctx
        .startup_files
        .borrow()
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    // a wheel is checked against its RECORD member by member (REC rules) when it is opened
    let hashing = if options.deep {
        Hashing::Deferred
    } else {
        Hashing::Never
    };
    let mut finder = work.reader.as_ref().map(|_| discovery::Finder::default());
    let (found, listing) = if env.kind == crate::discovery::EnvKind::Wheel {
        Default::default()
    } else {
        detectors::integrity::check(&ctx, &metadata, &startup_paths, hashing, finder.as_mut())
    };
    let recorded_archives = listing.recorded_archives(&found);
    findings.extend(found);
    findings.extend(detectors::entry_points::judge(&ctx, &metadata));

    // Phase 4: payload rules and file IOCs over all start-up code read above, and over the
    // install-time code of an sdist.
    let mut diagnostics = Vec::new();
    let mut judged: Vec<(PathBuf, crate::fs::FileBytes, Role)> = ctx
        .startup_files
        .take()
        .into_iter()
        .map(|(p, d)| (p, d, Role::Startup))
        .collect();
    for path in &work.install_hooks {
        hooks += 1;
        // held whole while judged, as start-up code is
        if let Some(data) = ctx.read_whole(path) {
            judged.push((path.clone(), data, Role::Install));
        }
    }
    let mut scanner = PayloadScanner::new(&sigs.payload, options.scan_timeout);
    for (path, data, role) in &judged {
        if let Some(ioc) = sigs.iocs.file(&data.sha256) {
            findings.push(detectors::ioc::file_finding(
                ioc,
                &env.root,
                path,
                &data.sha256,
            ));
        }
        let (found, problems) = detectors::payload::judge(
            &mut scanner,
            &env.root,
            path,
            &data.bytes,
            Some(&data.sha256),
            *role,
        );
        findings.extend(found);
        diagnostics.extend(problems);
    }
    let startup_code = judged.len();
    let mut other_code = 0;

    // Phase 5 (--deep, or a package archive): every file of every distribution.
    if options.deep || work.every_file {
        findings.extend(detectors::ioc::record_hashes(&ctx, &metadata));
        let skip: HashSet<PathBuf> = judged.into_iter().map(|(p, _, _)| p).collect();
        let dirs = if work.every_file {
            vec![env.root.clone()]
        } else {
            ctx.search_path.clone()
        };
        let deep = deep_scan(sigs, tree, env, &dirs, &skip, &listing, options);
        if env.kind == discovery::EnvKind::Loose {
            let n = deep.other_code + skip.len();
            let what = match loose_shape(tree, &env.root) {
                Some(shape) => format!("{shape}: judged as installed, "),
                None => String::new(),
            };
            diagnostics.push(Diagnostic::note(
                &env.root,
                format!("not a Python environment: {what}{n} files judged as loose code"),
            ));
        }
        findings.extend(deep.findings);
        diagnostics.extend(deep.diagnostics);
        other_code = deep.other_code;
    }
    diagnostics.extend(ctx.diagnostics.into_inner());
    listing.attribute(&mut findings);
    for f in &mut findings {
        for (dir, by) in &added_by {
            if f.location.path.starts_with(dir) {
                let note = format!("processed as a site directory because {by}");
                if !f.notes.contains(&note) {
                    f.notes.push(note);
                }
            }
        }
        for (dir, condition) in &conditional {
            let note =
                format!("on sys.path, and run, where the interpreter starts with {condition}");
            if f.location.path.starts_with(dir) && !f.notes.contains(&note) {
                f.notes.push(note);
            }
        }
    }
    Judged {
        findings,
        diagnostics,
        hooks,
        distributions,
        startup_code,
        other_code,
        loose: env.kind == discovery::EnvKind::Loose,
        recorded_archives,
        inside: finder.map(|f| f.finish(tree, Vec::new())),
    }
}

/// The payload rules over every regular file under the environment's import directories, in
/// parallel: one rule set, one scanner per worker.
fn deep_scan(
    sigs: &Signatures,
    tree: &dyn Tree,
    env: &Environment,
    dirs: &[PathBuf],
    skip: &HashSet<PathBuf>,
    listing: &Listing,
    options: &ScanOptions,
) -> Judged {
    let mut out = Judged::default();
    // RECORD hashes --deep checks in the same read as the payload rules
    let to_hash = listing.by_path();
    // a directory inside another one listed is walked with its parent
    let mut roots: Vec<&PathBuf> = dirs.iter().collect();
    roots.sort();
    roots.dedup();
    let roots: Vec<&PathBuf> = roots
        .iter()
        .filter(|d| !dirs.iter().any(|o| o != **d && d.starts_with(o)))
        .copied()
        .collect();
    let mut files = Vec::new();
    for root in roots {
        out.diagnostics.extend(tree.walk(root, &mut |path, kind| {
            // a FIFO, socket or device is listed too, to be named (never opened)
            // loose files: an archive among them is opened as what it is, not read as code
            let opened_apart = env.kind == discovery::EnvKind::Loose
                && sources::artifact::has_archive_name(path.as_os_str().as_encoded_bytes());
            if matches!(kind, Kind::File | Kind::Symlink | Kind::Other)
                && !skip.contains(path)
                && !opened_apart
            {
                files.push(path.to_path_buf());
            }
            true
        }));
    }
    // files read again from a stream (members of an archive too large to hold) are read in
    // the stream's order, each stream by one worker: one pass over it
    let mut streams: BTreeMap<usize, Vec<(u64, &PathBuf)>> = BTreeMap::new();
    let mut direct = Vec::new();
    for path in &files {
        match tree.read_order(path) {
            Some((stream, at)) => streams.entry(stream).or_default().push((at, path)),
            None => direct.push(path),
        }
    }
    let new_scanner = || PayloadScanner::new(&sigs.payload, options.scan_timeout);
    let judge_one = |scanner: &mut PayloadScanner<'_>, path: &PathBuf| {
        let listed = to_hash.get(path.as_os_str()).copied();
        deep_file(sigs, tree, env, scanner, path, listed)
    };
    let mut results: Vec<(Vec<Finding>, Vec<Diagnostic>)> = direct
        .par_iter()
        .map_init(new_scanner, |s, p| judge_one(s, p))
        .collect();
    let streams: Vec<Vec<(u64, &PathBuf)>> = streams
        .into_values()
        .map(|mut members| {
            members.sort();
            members
        })
        .collect();
    results.par_extend(streams.par_iter().flat_map_iter(|members| {
        let mut scanner = new_scanner();
        let judged: Vec<_> = members
            .iter()
            .map(|(_, p)| judge_one(&mut scanner, p))
            .collect();
        // the pass over this stream is done: its decompressor is given back
        if let Some((_, last)) = members.last() {
            tree.release_stream(last);
        }
        judged
    }));
    out.other_code = files.len();
    // listed files outside the directories walked: hashed on their own
    let read: HashSet<&std::ffi::OsStr> = files.iter().map(|p| p.as_os_str()).collect();
    out.findings
        .extend(listing.hash_rest(tree, &env.root, &read));
    for (findings, diagnostics) in results {
        out.findings.extend(findings);
        out.diagnostics.extend(diagnostics);
    }
    out.diagnostics = grouped(std::mem::take(&mut out.diagnostics), &env.root);
    out
}

/// More files than this with one reason are said once, on the environment, with their count.
const GROUP_OVER: usize = 20;

/// `diagnostics` with every reason that more than [`GROUP_OVER`] files share (an image layer
/// too large for the memory budget: thousands of files not kept) said once on `root`, with the
/// count and one example: a report a person can read, nothing left unsaid.
fn grouped(diagnostics: Vec<Diagnostic>, root: &Path) -> Vec<Diagnostic> {
    let mut by_reason: std::collections::HashMap<(&str, bool), usize> = Default::default();
    for d in &diagnostics {
        *by_reason
            .entry((d.message.as_str(), d.incomplete))
            .or_default() += 1;
    }
    let crowded: Vec<((String, bool), usize)> = by_reason
        .into_iter()
        .filter(|(_, n)| *n > GROUP_OVER)
        .map(|((m, i), n)| ((m.to_owned(), i), n))
        .collect();
    if crowded.is_empty() {
        return diagnostics;
    }
    let mut out = Vec::new();
    let mut example: std::collections::HashMap<(String, bool), PathBuf> = Default::default();
    for d in diagnostics {
        let key = (d.message.clone(), d.incomplete);
        if crowded.iter().any(|(k, _)| *k == key) {
            example.entry(key).or_insert(d.path);
        } else {
            out.push(d);
        }
    }
    for ((message, incomplete), n) in crowded {
        let first = example
            .get(&(message.clone(), incomplete))
            .map(|p| crate::pathfmt::display_path(p))
            .unwrap_or_default();
        let text = format!("{n} files: {message} (the first: `{first}`)");
        out.push(if incomplete {
            Diagnostic::incomplete(root, text)
        } else {
            Diagnostic::note(root, text)
        });
    }
    out
}

/// Files are judged in windows of this size, each overlapping the one before by
/// [`DEEP_OVERLAP`] (a match across a window boundary shorter than that is found): memory stays
/// bounded whatever the file's size.
const DEEP_WINDOW: usize = 4 << 20;
const DEEP_OVERLAP: usize = 256 << 10;

fn deep_file(
    sigs: &Signatures,
    tree: &dyn Tree,
    env: &Environment,
    scanner: &mut PayloadScanner<'_>,
    path: &Path,
    listed: Option<&Listed>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut record_hasher = listed.and_then(Listed::hasher);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let known_bad_name = sigs.iocs.is_known_bad_name(&name);
    let mut findings: Vec<Finding> = Vec::new();
    let mut diagnostics = Vec::new();
    let mut hasher = Sha256::new();
    let mut lines_before = 0usize; // newlines before the current window
    let mut hashed_to = 0u64; // the file's bytes hashed so far
    let read = tree.read_windows(path, DEEP_WINDOW, DEEP_OVERLAP, &mut |offset, bytes| {
        let fresh = &bytes[(hashed_to - offset) as usize..];
        if known_bad_name {
            hasher.update(fresh);
        }
        if let Some(h) = &mut record_hasher {
            h.update(fresh);
        }
        hashed_to = offset + bytes.len() as u64;
        let (found, problems) =
            detectors::payload::judge(scanner, &env.root, path, bytes, Some(""), Role::Other);
        for mut f in found {
            f.location.line = f.location.line.map(|l| l + lines_before);
            // a match inside the overlap was already found in the window before
            if !findings
                .iter()
                .any(|g| g.rule == f.rule && g.location.line == f.location.line)
            {
                findings.push(f);
            }
        }
        diagnostics.extend(problems);
        // the next window starts `DEEP_OVERLAP` bytes before this one's end
        let step = bytes.len().saturating_sub(DEEP_OVERLAP);
        lines_before += memchr::memchr_iter(b'\n', &bytes[..step]).count();
    });
    let (size, truncated) = match read {
        Ok(r) => r,
        // a symlink to a directory, or out of the root: the walk covers what is inside
        Err(crate::fs::ReadError::NotRegular { kind: "directory" }) => {
            return (Vec::new(), Vec::new());
        }
        // nothing Python could import, nothing to read: named, not a gap in the scan
        Err(err @ crate::fs::ReadError::NotRegular { .. }) => {
            return (Vec::new(), vec![Diagnostic::note(path, err.to_string())]);
        }
        // a dangling link (inside a mounted system, where its target would be): as above
        Err(err) if err.is_missing() && tree.kind(path) == Some(Kind::Symlink) => {
            let why = format!("symlink to nothing inside the root: {err}");
            return (Vec::new(), vec![Diagnostic::note(path, why)]);
        }
        Err(err) => {
            return (
                Vec::new(),
                vec![Diagnostic::incomplete(path, err.to_string())],
            );
        }
    };
    if truncated {
        diagnostics.push(Diagnostic::note(
            path,
            format!(
                "file is {size} bytes: the payload rules judged its first {} (raise --max-file-size)",
                tree.max_file_size()
            ),
        ));
    }
    if let (Some(l), Some(h), false) = (listed, record_hasher, truncated) {
        findings.extend(l.verdict(&env.root, h, size));
    }
    if known_bad_name {
        let hash = format!("{:x}", hasher.finalize());
        if let Some(ioc) = sigs.iocs.file(&hash) {
            findings.push(detectors::ioc::file_finding(ioc, &env.root, path, &hash));
        }
    }
    if !findings.is_empty() {
        // the whole file's hash, read again only when something was found
        let hash = file_sha256(tree, path).unwrap_or_default();
        for f in &mut findings {
            f.sha256.clone_from(&hash);
        }
    }
    (findings, diagnostics)
}

/// The SHA-256 of a file as far as the read cap, read in windows.
fn file_sha256(tree: &dyn Tree, path: &Path) -> Option<String> {
    let mut hasher = Sha256::new();
    tree.read_windows(path, 1 << 20, 0, &mut |_, bytes| hasher.update(bytes))
        .ok()?;
    Some(format!("{:x}", hasher.finalize()))
}

/// The start-up models an environment is judged under: its own version where known, else a
/// 3.14 and a 3.15 reading (path lines `rstrip()`ed, then stripped). None for what has no
/// interpreter layout (a user site alone, an artifact, loose files).
fn startup_models(
    tree: &dyn Tree,
    env: &Environment,
    variables: &[Setting],
) -> Vec<crate::python::startup::Startup> {
    use crate::python::startup::{self, InstallKind, Interpreter, Layout, PyVersion, View};
    let kind = match env.kind {
        discovery::EnvKind::Venv => InstallKind::Venv,
        discovery::EnvKind::Interpreter | discovery::EnvKind::Conda => InstallKind::System,
        _ => return Vec::new(),
    };
    let versions: Vec<PyVersion> = match env.python.as_deref().and_then(PyVersion::parse) {
        Some(v) => vec![v],
        None => vec![PyVersion::new(3, 14), PyVersion::new(3, 15)],
    };
    let view = View::new(tree);
    let prefix = detectors::live_path(tree, &env.root);
    // the interpreter as it starts with nothing set, then once per setting of a variable that
    // moves what it imports (a value a shell would expand is not known to a scan: said)
    let mut conditions: Vec<Option<&Setting>> = vec![None];
    conditions.extend(
        variables
            .iter()
            .filter(|s| MODEL_VARIABLES.contains(&s.name.as_str()) && !s.expands())
            .map(Some),
    );
    let mut out = Vec::new();
    for v in versions {
        for condition in &conditions {
            let mut interp = Interpreter::new(v, &prefix);
            interp.kind = kind;
            let lib64 = format!("lib64/python{}", v.dotted());
            if view.is_dir(&prefix.join(&lib64)) {
                interp.platlibdir = "lib64".into();
            }
            if env.site_dirs.iter().any(|d| d.ends_with("dist-packages")) {
                interp.layout = Layout::Debian;
            }
            if let Some(s) = condition {
                interp.env = vec![(s.name.clone(), s.value.clone())];
            }
            let mut model = startup::path::compute(view, &interp);
            if let Some(s) = condition {
                model.condition = Some(s.describe());
            }
            out.push(model);
        }
    }
    out
}

/// At most this many directories are added by `site.addsitedir` calls in start-up code.
const MAX_ADDED_SITE_DIRS: usize = 16;

/// Follows `site.addsitedir("/dir")` in start-up code — executed `.pth` lines, and the
/// customize modules — reading each directory named by a string literal as a site directory
/// (its `.pth` files run, and may add more). Returns each directory added and why.
fn add_site_dirs(ctx: &Ctx<'_>, sites: &mut Vec<SiteHooks>) -> Vec<(PathBuf, String)> {
    let mut added: Vec<(PathBuf, String)> = Vec::new();
    let mut customize_read = false;
    let mut from = 0;
    loop {
        let mut code: Vec<(String, String)> = Vec::new();
        for site in &sites[from..] {
            for (file, analysis) in &site.pth {
                for line in &analysis.exec_lines {
                    let shown = crate::pathfmt::display_path(&ctx.tree.display(&file.path));
                    code.push((format!("{shown}:{}", line.line), line.text.clone()));
                }
            }
        }
        if !customize_read {
            customize_read = true;
            for name in ["sitecustomize", "usercustomize"] {
                for path in detectors::imported::resolve(ctx, name) {
                    if let Some(data) = ctx.read(&path) {
                        let shown = crate::pathfmt::display_path(&ctx.tree.display(&path));
                        code.push((shown, String::from_utf8_lossy(&data.bytes).into_owned()));
                    }
                }
            }
        }
        from = sites.len();
        for (who, text) in code {
            for dir in addsitedir_literals(&text) {
                let disk = ctx.disk_path(Path::new(&dir));
                if sites.iter().any(|s| s.dir == disk)
                    || !disk.starts_with(ctx.tree.root())
                    || ctx.tree.kind_followed(&disk) != Some(Kind::Dir)
                {
                    continue;
                }
                if added.len() >= MAX_ADDED_SITE_DIRS {
                    ctx.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                        &ctx.env.root,
                        format!(
                            "start-up code adds more than {MAX_ADDED_SITE_DIRS} site directories with site.addsitedir: the rest were not read"
                        ),
                    ));
                    return added;
                }
                added.push((
                    disk.clone(),
                    format!("`{who}` calls site.addsitedir({dir:?})"),
                ));
                sites.push(read_site_dir(ctx, &disk));
            }
        }
        if from == sites.len() {
            return added;
        }
    }
}

/// The absolute directories `addsitedir("…")` calls in `code` name by a string literal.
fn addsitedir_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("addsitedir") {
        let rest = code[at + "addsitedir".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('(') else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = rest.strip_prefix(['r', 'R']).unwrap_or(rest);
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = rest[1..].find(quote) {
            let dir = &rest[1..1 + end];
            if dir.starts_with('/') {
                out.push(dir.to_owned());
            }
        }
    }
    out
}

/// The variables the start-up model takes: each setting of one is a model of its own.
const MODEL_VARIABLES: &[&str] = &["PYTHONPATH", "PYTHONUSERBASE", "PYTHONPYCACHEPREFIX"];

fn read_site_dir(ctx: &Ctx<'_>, dir: &Path) -> SiteHooks {
    let mut site = SiteHooks {
        dir: dir.to_path_buf(),
        pth: Vec::new(),
        start: Vec::new(),
    };
    let entries = match ctx.tree.list(dir) {
        Ok(entries) => entries,
        Err(err) => {
            ctx.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                dir,
                format!("cannot list site directory: {err}"),
            ));
            return site;
        }
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .into_iter()
        .map(|e| (e.name, e.path))
        .filter(|(n, _)| n.ends_with(".pth") || n.ends_with(".start"))
        .collect();
    // CPython processes them in code-point order of the name
    names.sort();
    for (name, path) in names {
        let Some(data) = ctx.read(&path) else {
            continue;
        };
        let file = HookFile { path, name, data };
        if file.name.ends_with(".pth") {
            let analysis = classify(&file.data.bytes);
            site.pth.push((file, analysis));
        } else {
            site.start.push(file);
        }
    }
    site
}
