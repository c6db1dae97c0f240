//! One scan: discover environments under the inputs, read their start-up files, run every
//! detector, collect findings and diagnostics. Environments are judged in parallel; output is
//! sorted, so it does not depend on scheduling.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pthscan_signatures::Signatures;
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
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Environments found.
    pub environments: usize,
    /// Start-up files judged (`.pth`, `.start`, customize modules).
    pub hook_files: usize,
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

/// Runs a scan.
pub fn scan(options: &ScanOptions, sigs: &Signatures) -> ScanReport {
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

    let judged: Vec<(Vec<Finding>, Vec<Diagnostic>, usize)> = work
        .par_iter()
        .map(|(reader, env)| judge_environment(sigs, reader, env))
        .collect();
    for (findings, diagnostics, hooks) in judged {
        report.findings.extend(findings);
        report.diagnostics.extend(diagnostics);
        report.stats.hook_files += hooks;
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

fn judge_environment(
    sigs: &Signatures,
    reader: &Reader,
    env: &Environment,
) -> (Vec<Finding>, Vec<Diagnostic>, usize) {
    let mut ctx = Ctx {
        sigs,
        reader,
        env,
        search_path: env.site_dirs.clone(),
        modules: RefCell::default(),
        diagnostics: RefCell::default(),
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
    (findings, ctx.diagnostics.into_inner(), hooks)
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
