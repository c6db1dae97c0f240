//! The `pthscan` command line: flags, rendering, exit codes. The engine is `pthscan-core`.
#![deny(missing_docs)]

pub mod cli;
pub mod db;
pub mod diagnostics;
pub mod output;
pub mod planted;
pub mod policy;
pub mod progress;
pub mod render;

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use pthscan_core::{ScanOptions, Severity};
use pthscan_signatures::Signatures;

use crate::cli::{Args, Command, Format};

/// Exit code: nothing at or above `--fail-on`.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: the scan could not run, or some input could not be read.
pub const EXIT_ERROR: u8 = 2;

/// Runs the command line.
pub fn run(mut args: Args) -> Result<ExitCode> {
    // `-o -`: standard output, as for most tools
    if args.output.as_deref() == Some(Path::new("-")) {
        args.output = None;
    }
    if let Some(code) = run_other_command(&args)? {
        return Ok(code);
    }
    let (scan, common, baseline_out, accept_findings) = match &args.command {
        Some(Command::Baseline {
            output,
            accept_findings,
            common,
            scan,
        }) => (scan, common, Some(output), *accept_findings),
        _ => (&args.scan, &args.common, None, false),
    };
    // every flag, file and folder checked before the work: a scan that runs an hour must not
    // fail at the end on a typo
    let checked = output::Checked::before_scan(&args, scan, baseline_out)?;
    let mut stderr_early = std::io::stderr().lock();
    if !common.quiet {
        for w in &checked.warnings {
            writeln!(stderr_early, "warning: {w}")?;
        }
    }
    drop(stderr_early);
    if let Some(n) = common.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .context("cannot start the thread pool")?;
    }
    let context = render::ScanContext::now();
    let marker = match (&args.output, baseline_out) {
        (Some(path), None) => output::Marker::start(path, &context)?,
        _ => None,
    };
    let (paths, mut early_notes) = sweep_paths(&scan.paths, scan.root.as_deref());
    early_notes.extend(marker.as_ref().and_then(output::Marker::previous_note));
    let mut db_notes = Vec::new();
    let malicious_db = std::sync::Arc::new(db::load(&scan.db, &mut db_notes)?);
    let options = ScanOptions {
        paths: paths.clone(),
        root: scan.root.clone(),
        max_file_size: scan.max_file_size,
        max_memory: scan.max_memory,
        deep: scan.deep,
        scan_timeout: std::time::Duration::from_secs(scan.scan_timeout),
        max_archive_depth: scan.max_archive_depth as usize,
        all_mounts: scan.all_mounts,
        db: malicious_db,
        processes: scan.processes,
        exclude: checked.exclude.clone(),
        image_stores: scan.image_store.clone(),
    };
    let progress = progress::Progress::start(!common.quiet && std::io::stderr().is_terminal());
    // load the signatures while the walk runs: the embedded rules then compile on a thread of
    // their own while the scan judges (waited for where first needed); `--rules` compile here,
    // and are waited for only if something was found to judge or rules were given to check
    let rules = scan.rules.clone();
    let loading = std::thread::spawn(move || load_signatures(&rules));
    let join = |loading: std::thread::JoinHandle<Result<Loaded>>| {
        loading
            .join()
            .map_err(|_| anyhow!("compiling the signatures panicked"))?
    };
    // the user's rules compile before the walk: one that does not stops the run at once
    let (mut loading, mut early) = (Some(loading), None);
    if !scan.rules.is_empty()
        && let Some(l) = loading.take()
    {
        early = Some(join(l)?);
    }
    let discovered = pthscan_core::discover(&options);
    progress.judging(&discovered);
    let owned;
    let sigs: Option<&Signatures> =
        if discovered.is_empty() && scan.rules.is_empty() && !scan.processes {
            None
        } else {
            let loaded = match (early, loading) {
                (Some(loaded), _) => loaded,
                (None, Some(l)) => join(l)?,
                (None, None) => return Err(anyhow!("the signatures were not loaded")),
            };
            Some(match loaded {
                Loaded::Embedded(sigs) => sigs,
                Loaded::Owned(sigs) => {
                    owned = sigs;
                    &owned
                }
            })
        };
    let mut report = match sigs {
        Some(sigs) => {
            let report = pthscan_core::judge(discovered, sigs, &options);
            // the embedded rules compile while the scan runs: a set that did not would have
            // judged nothing, and a report made without it must not be shown
            if let Some(e) = sigs.payload.error() {
                return Err(anyhow!("{e}").context("the embedded rules do not compile"));
            }
            report
        }
        None => pthscan_core::report_only(discovered),
    };
    progress.finish();
    if let Some(exclude) = &checked.exclude {
        report.stats.excluded = exclude.count();
        if exclude.count() == 0 {
            report.diagnostics.push(pthscan_core::Diagnostic::note(
                "--exclude",
                format!("matched nothing: {}", scan.exclude.join(", ")),
            ));
        }
    }
    let today = &context.timestamp[..10];
    report.diagnostics.append(&mut early_notes);
    // a database the operator imported or named that could not be read in full: the scan
    // did not check against all of it
    report.diagnostics.extend(
        db_notes
            .into_iter()
            .map(|n| pthscan_core::Diagnostic::incomplete("malicious-package database", n)),
    );
    report
        .diagnostics
        .extend(checked.config_notes.iter().cloned());
    // a scanner config in what was scanned is evidence, never obeyed (the operator's own, in
    // use, excepted); found before suppressions apply, so the operator can accept one
    // read inside --root when given, else each place inside itself
    let system = scan
        .root
        .as_deref()
        .and_then(|r| pthscan_core::fs::Disk::open(r, true, 1, std::sync::Arc::default()).ok());
    let (planted, notes) = planted::find(
        system.as_ref(),
        &if paths.is_empty() && !scan.image_store.is_empty() && scan.root.is_none() {
            // only stores asked for: no filesystem of this host is scanned
            Vec::new()
        } else {
            config_tops(&paths, system.as_ref())
        },
        checked.config_file.as_deref(),
    );
    report.findings.extend(planted);
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.diagnostics.extend(notes);
    let mut suppressed = Vec::new();
    if let Some(rules) = &checked.suppressions {
        suppressed = rules.apply(&mut report, today);
        report.stats.suppressed = suppressed.len();
    }
    report.diagnostics.sort();
    report.count_skipped();
    let fail_on = common.fail_on.severity();
    if let Some(out) = baseline_out {
        return write_baseline(&report, &context, out, common, accept_findings);
    }
    if let Some(baseline) = &checked.baseline {
        let held = baseline.filter(&mut report);
        baseline.inventory_changes(&mut report);
        report.stats.baselined = held.len();
        suppressed.extend(held);
    }
    suppressed.sort_by(|a, b| a.finding.sort_key().cmp(&b.finding.sort_key()));
    if let Some(date) = args.since {
        report.keep_since(date);
    }
    let code = exit_code(&report, fail_on);

    if !common.quiet {
        diagnostics::print(&report.diagnostics, &mut std::io::stderr().lock())?;
    }
    let format = args.format.unwrap_or(Format::Text);
    let color = format == Format::Text
        && common
            .color
            .wanted(args.output.is_none() && std::io::stdout().is_terminal());
    let view = render::ReportView {
        report: &report,
        suppressed: &suppressed,
        fail_on,
        exit_code: code,
        context: &context,
        color,
        min_severity: args.min_severity.map_or(Severity::Info, |m| m.severity()),
    };
    match &args.output {
        Some(path) => {
            output::write(path, |w| write_report(&args, sigs, &view, w))?;
            // the marker goes with the run, written or failed
            drop(marker);
        }
        None => {
            let mut w = BufWriter::new(std::io::stdout().lock());
            write_report(&args, sigs, &view, &mut w)?;
            w.flush()?;
        }
    }
    Ok(ExitCode::from(code))
}

/// The subcommands that do not scan: `explain`, `db`, `completions`, `man`, `debug-startup`.
fn run_other_command(args: &Args) -> Result<Option<ExitCode>> {
    let mut out = std::io::stdout().lock();
    match &args.command {
        Some(Command::Explain { rule }) => {
            let sigs = Signatures::embedded()
                .map_err(|e| anyhow!("{e}"))
                .context("the embedded signatures do not load")?;
            if let Some(e) = sigs.payload.error() {
                return Err(anyhow!("{e}").context("the embedded rules do not compile"));
            }
            let mut notes = Vec::new();
            let db = db::load(&[], &mut notes)?;
            if !render::explain::explain(rule, sigs, &db, &mut out)? {
                return Err(anyhow!(
                    "unknown rule `{rule}`; `pthscan explain all` lists them"
                ));
            }
        }
        Some(Command::Db { action }) => match action {
            cli::DbAction::Import { paths } => {
                db::import(paths, &mut out, &mut std::io::stderr().lock())?
            }
            cli::DbAction::Status { db } => db::status(db, &mut out)?,
        },
        Some(Command::DebugStartup { spec }) => {
            let text = std::fs::read_to_string(spec)
                .with_context(|| format!("cannot read `{}`", spec.display()))?;
            render::startup::debug_startup(&text, &mut out, &mut std::io::stderr().lock())?;
        }
        Some(Command::Completions { shell }) => {
            let mut cmd = <Args as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "pthscan", &mut out);
        }
        Some(Command::Man) => {
            clap_mangen::Man::new(<Args as clap::CommandFactory>::command()).render(&mut out)?;
        }
        Some(Command::Baseline { .. }) | None => return Ok(None),
    }
    out.flush()?;
    Ok(Some(ExitCode::from(EXIT_CLEAN)))
}

/// `pthscan baseline`: what is trusted from now on. A baseline that holds findings at or above
/// --fail-on would hide them from every later scan: refused, unless --accept-findings says
/// they are known, and then each is listed.
fn write_baseline(
    report: &pthscan_core::ScanReport,
    context: &render::ScanContext,
    out: &Path,
    common: &cli::CommonArgs,
    accept_findings: bool,
) -> Result<ExitCode> {
    let mut stderr = std::io::stderr().lock();
    // with --fail-on never, what the default gate fails on is still not trusted unasked
    let level = common.fail_on.severity().unwrap_or(Severity::High);
    let failing: Vec<&pthscan_core::Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity >= level)
        .collect();
    if !failing.is_empty() {
        let listed: Vec<String> = failing
            .iter()
            .take(20)
            .map(|f| {
                format!(
                    "  {} {} {}",
                    f.severity.as_str().to_uppercase(),
                    f.rule,
                    pthscan_core::pathfmt::display_path(&f.location.path)
                )
            })
            .collect();
        let more = failing.len().saturating_sub(listed.len());
        let list = listed.join("\n")
            + &(if more > 0 {
                format!("\n  … and {more} more")
            } else {
                String::new()
            });
        if !accept_findings {
            return Err(anyhow!(
                "not writing a baseline that holds {} finding(s) at or above `{}`: later scans \
                 would not report them. Investigate them first (pthscan without `baseline`), or \
                 give --accept-findings to trust them:\n{list}",
                failing.len(),
                level.as_str()
            ));
        }
        if !common.quiet {
            writeln!(
                stderr,
                "warning: the baseline accepts {} finding(s) at or above `{}` (--accept-findings); later scans will not report them:\n{list}",
                failing.len(),
                level.as_str()
            )?;
        }
    }
    let baseline = policy::Baseline::of(report, &context.timestamp);
    output::write(out, |w| Ok(serde_json::to_writer_pretty(w, &baseline)?))?;
    if !common.quiet {
        diagnostics::print(&report.diagnostics, &mut stderr)?;
        writeln!(
            stderr,
            "note: baseline of {} finding(s) and {} environment(s) written to {}",
            baseline.len(),
            baseline.environments(),
            out.display()
        )?;
    }
    Ok(ExitCode::from(if report.incomplete() {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }))
}

/// The PATHs a scan walks. A PATH that names the filesystem root — `/` (or what resolves to it)
/// without `--root`; `/`, `.`, `..` or `R` itself with `--root R` — makes the run the host
/// sweep it is with no PATH: the sweep's rules apply (only package caches' archives are opened,
/// not every archive on the disk as in a wheelhouse). The other PATHs lie inside that root;
/// each is noted as swept with the host's rules.
pub fn sweep_paths(
    paths: &[PathBuf],
    root: Option<&Path>,
) -> (Vec<PathBuf>, Vec<pthscan_core::Diagnostic>) {
    // under --root a PATH is never resolved on the host: it names the root's own path only
    // lexically, as given or as the root resolves
    let roots: Vec<PathBuf> = root
        .into_iter()
        .flat_map(|r| {
            [
                planted::lexical(r),
                pthscan_core::fs::canonicalize(r).unwrap_or_default(),
            ]
        })
        .collect();
    let is_top = |p: &Path| match root {
        Some(_) => {
            planted::names_the_root(p) || (p.is_absolute() && roots.contains(&planted::lexical(p)))
        }
        None => pthscan_core::fs::canonicalize(p).is_ok_and(|c| c == Path::new("/")),
    };
    if !paths.iter().any(|p| is_top(p)) {
        return (paths.to_vec(), Vec::new());
    }
    let notes = paths
        .iter()
        .filter(|p| !is_top(p))
        .map(|p| {
            pthscan_core::Diagnostic::note(
                p,
                "inside the filesystem root also given: swept with the host's rules (archives opened only in package caches); give it alone to open every archive in it",
            )
        })
        .collect();
    (Vec::new(), notes)
}

/// The directories where a `pthscan.toml` in the scanned tree is looked for: the top of the
/// swept filesystem root (`/`, or `--root`) or of every PATH that is a directory (inside
/// `--root` when given, through no link); and, sweeping `--root`, the scanned system's own
/// operator locations.
fn config_tops(
    paths: &[PathBuf],
    root: Option<&pthscan_core::fs::Disk>,
) -> Vec<(PathBuf, planted::Place)> {
    use planted::Place;
    use pthscan_core::fs::Tree;
    if paths.is_empty() {
        return match root {
            Some(r) => std::iter::once((r.root().to_path_buf(), Place::Top))
                .chain(
                    planted::scanned_system_dirs(r)
                        .into_iter()
                        .map(|d| (d, Place::ScannedSystem)),
                )
                .collect(),
            None => vec![(PathBuf::from("/"), Place::Top)],
        };
    }
    paths
        .iter()
        .filter_map(|p| match root {
            Some(r) => planted::inside_root(r, p),
            None => p.is_dir().then(|| p.clone()),
        })
        .map(|d| (d, Place::Top))
        .collect()
}

enum Loaded {
    Embedded(&'static Signatures),
    Owned(Box<Signatures>),
}

/// The embedded signatures, plus the user's rules when `--rules` is given.
fn load_signatures(rules: &[std::path::PathBuf]) -> Result<Loaded> {
    if rules.is_empty() {
        Ok(Loaded::Embedded(
            Signatures::embedded()
                .map_err(|e| anyhow!("{e}"))
                .context("the embedded signatures do not load")?,
        ))
    } else {
        Ok(Loaded::Owned(Box::new(
            Signatures::load(rules).context("cannot load --rules")?,
        )))
    }
}

fn write_report(
    args: &Args,
    sigs: Option<&Signatures>,
    view: &render::ReportView<'_>,
    w: &mut dyn Write,
) -> Result<()> {
    match args.format.unwrap_or(Format::Text) {
        Format::Text => render::text::render(view, w)?,
        Format::Json => render::json::render(view, w)?,
        Format::Jsonl => render::jsonl::render(view, w)?,
        Format::Timeline => render::timeline::render(view, w)?,
        Format::Cyclonedx => render::cyclonedx::render(view, w)?,
        Format::Sarif => {
            let root = args
                .sarif_srcroot
                .as_ref()
                .map(|r| pthscan_core::fs::canonicalize(r).unwrap_or_else(|_| r.clone()));
            render::sarif::render(view, sigs, root.as_deref(), w)?
        }
    }
    Ok(())
}

/// The exit code contract: 1 when a finding is at or above `fail_on` — even when something else
/// could not be read, so a gate that checks for 1 never misses a finding; else 2 when some input
/// could not be read or judged (the diagnostics say what); else 0. `fail_on` `None`
/// (`--fail-on never`): findings never give 1.
pub fn exit_code(report: &pthscan_core::ScanReport, fail_on: Option<Severity>) -> u8 {
    if fail_on.is_some_and(|level| report.findings.iter().any(|f| f.severity >= level)) {
        EXIT_FINDINGS
    } else if report.incomplete() {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }
}

/// Prints a fatal error as `error: …` and its causes as `Caused by: …` lines.
pub fn report_fatal(err: &anyhow::Error) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "Caused by: {cause}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_naming_the_host_root_is_the_host_sweep() {
        // none of these is walked here: only what they name is decided
        for p in ["/", "//", "/.", "/..", "/usr/.."] {
            let (paths, notes) = sweep_paths(&[PathBuf::from(p)], None);
            assert!(paths.is_empty(), "{p}");
            assert!(notes.is_empty(), "{p}");
        }
        let dir = tempfile::tempdir().unwrap();
        let given = vec![dir.path().to_path_buf()];
        assert_eq!(sweep_paths(&given, None).0, given);
        let (paths, notes) = sweep_paths(&[PathBuf::from("/"), dir.path().to_path_buf()], None);
        assert!(paths.is_empty());
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].path, dir.path());
        // inside --root, `/` is that root, and so is the root's own path
        let r = Some(dir.path());
        assert!(sweep_paths(&[PathBuf::from("/")], r).0.is_empty());
        assert!(sweep_paths(&[dir.path().to_path_buf()], r).0.is_empty());
        assert_eq!(
            sweep_paths(&[PathBuf::from("/srv")], r).0,
            [PathBuf::from("/srv")]
        );
    }
}
