//! One scan: discover environments under the inputs, read their start-up files, run every
//! detector, collect findings and diagnostics. Environments are judged in parallel; output is
//! sorted, so it does not depend on scheduling.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use std::collections::HashSet;

use pthscan_signatures::{PayloadScanner, Signatures};
use rayon::prelude::*;

use crate::detectors::{self, Ctx, HookFile};
use crate::diagnostic::Diagnostic;
use crate::discovery::{self, Environment};
use crate::finding::Finding;
use crate::fsread::{ReadStats, Reader};
use crate::python::pth::{PthAnalysis, classify};

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Directories to scan; empty means this host's usual Python places.
    pub paths: Vec<PathBuf>,
    /// The root of a mounted host or image filesystem: paths, host places and absolute
    /// symlinks are taken inside it.
    pub root: Option<PathBuf>,
    /// At most this many bytes are read from one file.
    pub max_file_size: u64,
    /// Also run the payload rules over every file of every distribution, not just start-up
    /// code.
    pub deep: bool,
    /// How long one rule scan of one file (or decoded layer) may take.
    pub scan_timeout: Duration,
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
    /// Files the payload rules scanned (start-up code, and with `--deep` every file).
    pub payload_files: usize,
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
    /// Whether some input could not be read or judged (exit code 2).
    pub fn incomplete(&self) -> bool {
        self.diagnostics.iter().any(|d| d.incomplete)
    }
}

/// Runs a scan: [`discover`], then [`judge`].
pub fn scan(options: &ScanOptions, sigs: &Signatures) -> ScanReport {
    judge(discover(options), sigs, options)
}

/// What the walk found, before anything is judged: the environments, each with the reader of
/// the root it was found under. Needs no signatures, so the caller can compile them meanwhile.
pub struct Discovered {
    report: ScanReport,
    work: Vec<(Reader, Environment)>,
    stats: Arc<ReadStats>,
    started: Instant,
}

/// Walks the inputs and finds the Python environments under them.
pub fn discover(options: &ScanOptions) -> Discovered {
    let started = Instant::now();
    let mut report = ScanReport::default();
    let stats = Arc::new(ReadStats::default());
    let fs_root = options.root.clone().unwrap_or_else(|| PathBuf::from("/"));

    let inputs: Vec<PathBuf> = if options.paths.is_empty() {
        discovery::host_places(&fs_root)
    } else {
        options
            .paths
            .iter()
            .map(|p| match &options.root {
                Some(root) => root.join(p.strip_prefix("/").unwrap_or(p)),
                None => p.clone(),
            })
            .collect()
    };
    let mut roots = Vec::new();
    for input in inputs {
        match std::fs::metadata(&input) {
            Ok(meta) if meta.is_dir() => {
                roots.push(std::fs::canonicalize(&input).unwrap_or(input));
            }
            Ok(_) => report.diagnostics.push(Diagnostic::incomplete(
                &input,
                "not a directory: give the directory that holds Python environments",
            )),
            Err(err) => report.diagnostics.push(Diagnostic::incomplete(
                &input,
                crate::fsread::io_reason(&err),
            )),
        }
    }
    let roots = discovery::prune_nested(roots);

    // each environment is judged with the reader of the root it was found under
    let mut work: Vec<(Reader, Environment)> = Vec::new();
    for root in &roots {
        let found = discovery::discover(std::slice::from_ref(root));
        report.stats.entries_walked += found.entries_walked;
        report.diagnostics.extend(found.diagnostics);
        let reader = Reader {
            root: match &options.root {
                Some(r) => std::fs::canonicalize(r).unwrap_or_else(|_| r.clone()),
                None if options.paths.is_empty() => PathBuf::from("/"),
                None => root.clone(),
            },
            rooted: options.root.is_some(),
            max_file_size: options.max_file_size,
            stats: Arc::clone(&stats),
        };
        for env in found.environments {
            // two scanned places can hold parts of one environment (/usr/lib/python3 and
            // /usr/lib/python3.11 are both /usr): judge it once, with all its directories
            match work.iter_mut().find(|(_, e)| e.root == env.root) {
                Some((_, existing)) => {
                    existing.site_dirs.extend(env.site_dirs);
                    existing.site_dirs.sort();
                    existing.site_dirs.dedup();
                    existing.code_dirs.extend(env.code_dirs);
                    existing.code_dirs.sort();
                    existing.code_dirs.dedup();
                    existing.python = existing.python.take().or(env.python);
                }
                None => work.push((reader.clone(), env)),
            }
        }
    }
    report.scanned = roots;
    Discovered {
        report,
        work,
        stats,
        started,
    }
}

/// Judges every environment found.
pub fn judge(discovered: Discovered, sigs: &Signatures, options: &ScanOptions) -> ScanReport {
    let Discovered {
        mut report,
        work,
        stats,
        started,
    } = discovered;
    let judged: Vec<Judged> = work
        .par_iter()
        .map(|(reader, env)| judge_environment(sigs, reader, env, options))
        .collect();
    for j in judged {
        report.findings.extend(j.findings);
        report.diagnostics.extend(j.diagnostics);
        report.stats.hook_files += j.hooks;
        report.stats.distributions += j.distributions;
        report.stats.payload_files += j.payload_files;
    }
    report.environments = work.into_iter().map(|(_, env)| env).collect();
    report.environments.sort_by(|a, b| a.root.cmp(&b.root));
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.diagnostics.sort();
    report.diagnostics.dedup();
    report.stats.environments = report.environments.len();
    report.stats.files_read = stats.files.load(Ordering::Relaxed);
    report.stats.bytes_read = stats.bytes.load(Ordering::Relaxed);
    report.stats.elapsed = started.elapsed();
    report
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
    payload_files: usize,
}

fn judge_environment(
    sigs: &Signatures,
    reader: &Reader,
    env: &Environment,
    options: &ScanOptions,
) -> Judged {
    let mut ctx = Ctx {
        sigs,
        reader,
        env,
        search_path: env.site_dirs.clone(),
        modules: RefCell::default(),
        diagnostics: RefCell::default(),
        startup_files: RefCell::default(),
    };
    // Phase 1: read every .pth and .start file, and learn what the path lines add to sys.path.
    let sites: Vec<SiteHooks> = env
        .site_dirs
        .iter()
        .map(|dir| read_site_dir(&ctx, dir))
        .collect();
    for site in &sites {
        let live_site = ctx.live_path(&site.dir);
        for (_, analysis) in &site.pth {
            for line in &analysis.path_lines {
                let disk = ctx.disk_path(&detectors::pth_paths::target(&live_site, &line.text));
                if disk.starts_with(&reader.root)
                    && !ctx.search_path.contains(&disk)
                    && std::fs::symlink_metadata(&disk).is_ok_and(|m| m.is_dir())
                {
                    ctx.search_path.push(disk);
                }
            }
        }
    }
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
    findings.extend(detectors::imported::findings(&ctx));

    // Phase 3: installed distributions against the IOC tables.
    let metadata = detectors::ioc::metadata_files(&env.site_dirs);
    let (distributions, found) = detectors::ioc::distributions(&ctx, &metadata);
    findings.extend(found);

    // Phase 4: payload rules and file IOCs over all start-up code read above.
    let startup = ctx.startup_files.take();
    let mut diagnostics = Vec::new();
    let mut scanner = PayloadScanner::new(&sigs.payload, options.scan_timeout);
    for (path, data) in &startup {
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
            true,
        );
        findings.extend(found);
        diagnostics.extend(problems);
    }
    let mut payload_files = startup.len();

    // Phase 5 (--deep): every file of every distribution.
    if options.deep {
        findings.extend(detectors::ioc::record_hashes(&ctx, &metadata));
        let skip: HashSet<PathBuf> = startup.into_iter().map(|(p, _)| p).collect();
        let deep = deep_scan(sigs, reader, env, &ctx.search_path, &skip, options);
        findings.extend(deep.findings);
        diagnostics.extend(deep.diagnostics);
        payload_files += deep.payload_files;
    }
    diagnostics.extend(ctx.diagnostics.into_inner());
    Judged {
        findings,
        diagnostics,
        hooks,
        distributions,
        payload_files,
    }
}

/// The payload rules over every regular file under the environment's import directories, in
/// parallel: one rule set, one scanner per worker.
fn deep_scan(
    sigs: &Signatures,
    reader: &Reader,
    env: &Environment,
    dirs: &[PathBuf],
    skip: &HashSet<PathBuf>,
    options: &ScanOptions,
) -> Judged {
    let mut out = Judged::default();
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
        for entry in walkdir::WalkDir::new(root).follow_links(false) {
            match entry {
                Ok(e) if e.file_type().is_file() || e.file_type().is_symlink() => {
                    if !skip.contains(e.path()) {
                        files.push(e.into_path());
                    }
                }
                Ok(_) => {}
                Err(err) => out.diagnostics.push(Diagnostic::incomplete(
                    err.path().unwrap_or(root),
                    format!(
                        "cannot walk: {}",
                        err.io_error()
                            .map_or_else(|| err.to_string(), crate::fsread::io_reason)
                    ),
                )),
            }
        }
    }
    let results: Vec<(Vec<Finding>, Vec<Diagnostic>)> = files
        .par_iter()
        .map_init(
            || PayloadScanner::new(&sigs.payload, options.scan_timeout),
            |scanner, path| deep_file(sigs, reader, env, scanner, path),
        )
        .collect();
    out.payload_files = files.len();
    for (findings, diagnostics) in results {
        out.findings.extend(findings);
        out.diagnostics.extend(diagnostics);
    }
    out
}

fn deep_file(
    sigs: &Signatures,
    reader: &Reader,
    env: &Environment,
    scanner: &mut PayloadScanner<'_>,
    path: &Path,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let data = match reader.read_unhashed(path) {
        Ok(data) => data,
        // a symlink to a directory, or out of the root: the walk covers what is inside
        Err(crate::fsread::ReadError::NotRegular { kind: "directory" }) => {
            return (Vec::new(), Vec::new());
        }
        Err(err) => {
            return (
                Vec::new(),
                vec![Diagnostic::incomplete(path, err.to_string())],
            );
        }
    };
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    if data.truncated {
        diagnostics.push(Diagnostic::note(
            path,
            format!(
                "file is {} bytes: the payload rules judged its first {} (raise --max-file-size)",
                data.size, reader.max_file_size
            ),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut sha256 = None;
    if sigs.iocs.is_known_bad_name(&name) {
        let hash = crate::fsread::sha256_hex(&data.bytes);
        if let Some(ioc) = sigs.iocs.file(&hash) {
            findings.push(detectors::ioc::file_finding(ioc, &env.root, path, &hash));
        }
        sha256 = Some(hash);
    }
    let (found, problems) = detectors::payload::judge(
        scanner,
        &env.root,
        path,
        &data.bytes,
        sha256.as_deref(),
        false,
    );
    findings.extend(found);
    diagnostics.extend(problems);
    (findings, diagnostics)
}

fn read_site_dir(ctx: &Ctx<'_>, dir: &Path) -> SiteHooks {
    let mut site = SiteHooks {
        dir: dir.to_path_buf(),
        pth: Vec::new(),
        start: Vec::new(),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            ctx.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                dir,
                format!(
                    "cannot list site directory: {}",
                    crate::fsread::io_reason(&err)
                ),
            ));
            return site;
        }
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
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
