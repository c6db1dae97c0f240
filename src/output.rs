//! Where a run writes, checked before it scans: every file flag, the report's folder, the
//! format its name suggests; the report written atomically with the umask's mode; and a
//! marker beside it while the run works, so a run that dies leaves the marker, not a stale
//! report that looks current.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};

use crate::cli::{Args, Format, ScanArgs};
use crate::policy;

/// What was checked and loaded before the scan.
pub struct Checked {
    /// Things worth a warning (`-o report.json` with a text report, …).
    pub warnings: Vec<String>,
    /// The suppression file in use, if any, and its rules.
    pub config_file: Option<PathBuf>,
    /// Its rules, loaded.
    pub suppressions: Option<policy::Suppressions>,
    /// What was said choosing it.
    pub config_notes: Vec<pthscan_core::Diagnostic>,
    /// `--baseline`, loaded.
    pub baseline: Option<policy::Baseline>,
    /// `--exclude`, compiled.
    pub exclude: Option<Arc<pthscan_core::fs::Exclude>>,
}

impl Checked {
    /// Checks every flag that names a file or folder, and loads what they name, before any
    /// work: the run fails now, naming the flag, rather than after an hour's scan.
    pub fn before_scan(
        args: &Args,
        scan: &ScanArgs,
        baseline_out: Option<&PathBuf>,
    ) -> Result<Checked> {
        let mut warnings = Vec::new();
        if let Some(root) = &scan.root
            && !root.is_dir()
        {
            return Err(anyhow!("`--root {}` is not a directory", root.display()));
        }
        if let Some(dir) = &args.sarif_srcroot {
            if args.format != Some(Format::Sarif) {
                return Err(anyhow!(
                    "`--sarif-srcroot` applies to `--format sarif` only"
                ));
            }
            if !dir.is_dir() {
                return Err(anyhow!(
                    "`--sarif-srcroot {}` is not a directory",
                    dir.display()
                ));
            }
        }
        for rules in &scan.rules {
            if std::fs::metadata(rules).is_err() {
                return Err(anyhow!(
                    "cannot load --rules {}: no such file or directory",
                    rules.display()
                ));
            }
        }
        for db in &scan.db {
            if std::fs::metadata(db).is_err() {
                return Err(anyhow!(
                    "cannot read --db {}: no such file or directory",
                    db.display()
                ));
            }
        }
        // a PATH that is not there is said by the scan (exit 2); one that names a subcommand
        // was almost certainly meant as one
        for path in &scan.paths {
            let word = path.to_string_lossy();
            if ["baseline", "explain", "db", "completions", "man"].contains(&word.as_ref())
                && std::fs::symlink_metadata(path).is_err()
            {
                return Err(anyhow!(
                    "`{word}` is given as a PATH and no such file exists: put `{word}` first \
                     (`pthscan {word} …`), before the PATHs"
                ));
            }
        }
        if let Some(out) = &args.output {
            check_writable(out, "--output")?;
            if let Some(w) = format_mismatch(out, args.format) {
                warnings.push(w);
            }
        }
        if let Some(out) = baseline_out {
            check_writable(out, "baseline --output")?;
        }
        let choice = policy::config_file(
            scan.config.as_deref(),
            scan.root.is_some(),
            &scan.paths,
            &policy::operator_configs(
                std::env::var_os("XDG_CONFIG_HOME").as_deref(),
                std::env::var_os("HOME").as_deref(),
            ),
            policy::euid(),
        );
        let suppressions = match &choice.file {
            Some(file) => Some(
                policy::Suppressions::load(file)
                    .with_context(|| format!("--config {}", file.display()))?,
            ),
            None => None,
        };
        let baseline = match (&args.baseline, baseline_out) {
            (Some(file), None) => Some(policy::Baseline::load(file).context("--baseline")?),
            (Some(_), Some(_)) => {
                return Err(anyhow!(
                    "`--baseline` applies to a scan, not to `pthscan baseline`"
                ));
            }
            _ => None,
        };
        let cwd = std::env::current_dir().context("the current folder")?;
        let exclude = pthscan_core::fs::Exclude::new(&scan.exclude, &cwd, scan.root.as_deref())
            .map_err(|e| anyhow!(e))?
            .map(Arc::new);
        Ok(Checked {
            warnings,
            config_file: choice.file,
            suppressions,
            config_notes: choice.notes,
            baseline,
            exclude,
        })
    }
}

/// A report path is writable: not a directory, in a folder that exists and takes a new file
/// (a device or FIFO, written in place, is taken as it is).
fn check_writable(path: &Path, flag: &str) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(anyhow!("`{flag} {}` is a directory", path.display()));
        }
        Ok(meta) if !meta.is_file() => return Ok(()),
        _ => {}
    }
    let target = pthscan_core::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = parent_dir(&target);
    if !dir.is_dir() {
        return Err(anyhow!(
            "`{flag} {}`: the folder `{}` does not exist",
            path.display(),
            dir.display()
        ));
    }
    // the report is written as a new file beside the old one, then renamed over it
    tempfile::Builder::new()
        .prefix(".pthscan-check")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            anyhow!(
                "`{flag} {}`: cannot create a file in `{}`: {e}",
                path.display(),
                dir.display()
            )
        })
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A warning when the report's file name says one format and the report is another
/// (`-o report.json` with the default text format).
pub fn format_mismatch(path: &Path, format: Option<Format>) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let fits: &[Format] = if name.ends_with(".sarif") || name.ends_with(".sarif.json") {
        &[Format::Sarif]
    } else if name.ends_with(".cdx.json") || name.ends_with(".bom.json") {
        &[Format::Cyclonedx]
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        &[Format::Jsonl]
    } else if name.ends_with(".json") {
        &[Format::Json, Format::Sarif, Format::Cyclonedx]
    } else if name.ends_with(".txt") || name.ends_with(".log") {
        &[Format::Text, Format::Timeline]
    } else {
        return None;
    };
    let given = format.unwrap_or(Format::Text);
    if fits.contains(&given) {
        return None;
    }
    let wanted = format!("{:?}", fits[0]).to_ascii_lowercase();
    Some(match format {
        None => format!(
            "writing a text report to `{}`; give `--format {wanted}` for what its name says",
            path.display()
        ),
        Some(f) => format!(
            "writing a {} report to `{}`, whose name says {wanted}",
            format!("{f:?}").to_ascii_lowercase(),
            path.display()
        ),
    })
}

/// The process's umask (Linux: `/proc/self/status`), else the common 022.
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Writes a report to `path`. A regular file (or a new one) is replaced atomically: a reader
/// sees the old file or the whole new one, never half; an existing file keeps its permissions,
/// a new one gets what the umask allows (as `>` in a shell would: a log shipper reading
/// `last.jsonl` under umask 022 can), and a symlink is followed (the file it points to is
/// replaced, the link stays). Anything else — a device such as `/dev/null`, a FIFO,
/// `/dev/stdout` — is written in place: renaming over it would replace the device node itself.
pub fn write(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let cannot = || format!("cannot write `{}`", path.display());
    let existing = std::fs::metadata(path).ok();
    if let Some(meta) = existing.as_ref().filter(|m| !m.is_file()) {
        if meta.is_dir() {
            return Err(anyhow!("`{}` is a directory", path.display()));
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(cannot)?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        return w.flush().with_context(cannot);
    }
    // a link to an existing file: replace the file it names
    let target = match existing {
        Some(_) => pthscan_core::fs::canonicalize(path).with_context(cannot)?,
        None => path.to_path_buf(),
    };
    let dir = parent_dir(&target);
    let tmp = tempfile::Builder::new()
        .prefix(".pthscan-report")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in `{}`", dir.display()))?;
    #[cfg(unix)]
    let mode = match &existing {
        Some(meta) => Some(meta.permissions()),
        None => Some(std::os::unix::fs::PermissionsExt::from_mode(
            0o666 & !umask(),
        )),
    };
    // Windows: a new file takes its folder's ACL, as any new file there would
    #[cfg(not(unix))]
    let mode = existing.as_ref().map(std::fs::Metadata::permissions);
    if let Some(mode) = mode {
        tmp.as_file().set_permissions(mode).with_context(cannot)?;
    }
    let mut w = BufWriter::new(tmp);
    write(&mut w)?;
    let tmp = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(cannot)?;
    tmp.as_file().sync_all().with_context(cannot)?;
    tmp.persist(&target)
        .map_err(|e| e.error)
        .with_context(cannot)?;
    Ok(())
}

/// `FILE.running` beside a report while a run works on it, removed when the run ends — with
/// its report written or with an error it said. A run that dies (killed, out of memory, out of
/// time) leaves it beside the previous report, which a monitor then knows for stale, and the
/// next run says so. The marker is pthscan's own: never read or written through a link or as
/// anything but a regular file (it may lie in a folder others can write), and removed only
/// while it still names this run (two runs on one report each keep their own word).
pub struct Marker {
    path: PathBuf,
    scan_id: String,
    /// What the marker of a run that did not finish said.
    unfinished: Option<String>,
}

/// A marker larger than this is not one of ours: not read.
const MARKER_MAX: u64 = 4096;

impl Marker {
    /// Starts a run writing to `report`: `None` for a device or FIFO (written in place, no
    /// marker).
    pub fn start(report: &Path, context: &crate::render::ScanContext) -> Result<Option<Marker>> {
        use std::io::Read;
        if std::fs::metadata(report).is_ok_and(|m| !m.is_file()) {
            return Ok(None);
        }
        let mut name = report.file_name().unwrap_or_default().to_os_string();
        name.push(".running");
        let path = report.with_file_name(name);
        let cannot = || format!("cannot write the marker `{}`", path.display());
        let mut unfinished = None;
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.is_file() || meta.len() > MARKER_MAX => {
                return Err(anyhow!(
                    "`{}` is in the way of the run marker: not a marker pthscan wrote (a link, a \
                     folder or a large file); remove it",
                    path.display()
                ));
            }
            Ok(_) => {
                let mut old = String::new();
                no_follow(std::fs::OpenOptions::new().read(true))
                    .open(&path)
                    .and_then(|f| f.take(MARKER_MAX).read_to_string(&mut old))
                    .with_context(cannot)?;
                if !marker_run_alive(&old) {
                    unfinished = Some(old.lines().skip(1).collect::<Vec<_>>().join(", "));
                }
            }
            Err(_) => {}
        }
        let text = format!(
            "a pthscan run is writing this report, or died before it was written\npid: {}\nstarted: {}\nscan_id: {}\n",
            std::process::id(),
            context.timestamp,
            context.scan_id
        );
        // a new file in place of an old marker, through no link
        let _ = std::fs::remove_file(&path);
        let mut file = no_follow(std::fs::OpenOptions::new().write(true).create_new(true))
            .open(&path)
            .with_context(cannot)?;
        file.write_all(text.as_bytes()).with_context(cannot)?;
        Ok(Some(Marker {
            path,
            scan_id: context.scan_id.clone(),
            unfinished,
        }))
    }

    /// A note when the previous run on this report did not finish.
    pub fn previous_note(&self) -> Option<pthscan_core::Diagnostic> {
        self.unfinished.as_ref().map(|old| {
            pthscan_core::Diagnostic::note(
                &self.path,
                format!(
                    "the previous run did not finish (killed, out of memory or out of time): {old}"
                ),
            )
        })
    }
}

impl Drop for Marker {
    /// The run ends (report written, or an error said): the marker goes, if it is still ours.
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path)
            .is_ok_and(|t| t.lines().any(|l| l == format!("scan_id: {}", self.scan_id)));
        if ours && std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether the run a marker names is still at work: its pid is a pthscan process other than
/// this one (a container's pthscan is pid 1 every run; a pid is reused by other programs).
/// Opens a last symlink as itself (refused by the caller's checks), never what it names; on
/// Unix without blocking on a FIFO, and a new file is `rw-r--r--`.
fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .mode(0o644)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // FILE_FLAG_OPEN_REPARSE_POINT
        options.custom_flags(0x0020_0000)
    }
}

fn marker_run_alive(marker: &str) -> bool {
    let pid = marker
        .lines()
        .find_map(|l| l.strip_prefix("pid: "))
        .and_then(|p| p.trim().parse::<u32>().ok());
    pid.is_some_and(|p| {
        p != std::process::id()
            && std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("pthscan"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_name_that_says_another_format_is_warned() {
        let p = Path::new;
        assert!(
            format_mismatch(p("r.json"), None)
                .unwrap()
                .contains("--format json")
        );
        assert!(format_mismatch(p("r.json"), Some(Format::Sarif)).is_none());
        assert!(
            format_mismatch(p("r.sarif"), Some(Format::Json))
                .unwrap()
                .contains("sarif")
        );
        assert!(format_mismatch(p("bom.cdx.json"), Some(Format::Cyclonedx)).is_none());
        assert!(format_mismatch(p("last.jsonl"), Some(Format::Jsonl)).is_none());
        assert!(format_mismatch(p("report"), None).is_none());
        assert!(format_mismatch(p("r.txt"), None).is_none());
    }
}
