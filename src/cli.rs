//! Command-line flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Finds the Python code that runs unasked when Python starts — executable `.pth` lines,
/// `.start` entry points, `sitecustomize`/`usercustomize` and the modules they import — and
/// judges it, without ever running Python.
///
/// With no PATH, sweeps this host (or the filesystem at --root): every Python environment
/// anywhere on it — system interpreters, /usr/local, /opt, every user's site, venvs, conda,
/// pyenv, pipx and uv environments — and the pip and uv caches.
///
/// A PATH can also be an artifact, read in memory and never extracted: a wheel, an sdist
/// (.tar.gz, .zip), a `docker save` tarball, an OCI image layout (directory or tar), a cached
/// pip response. Directories given as PATH have their archives opened too.
#[derive(Debug, Parser)]
#[command(
    name = "pthscan",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  pthscan                                        incident response: sweep this host\n  pthscan --root /mnt/evidence                   ... or a mounted disk image\n  pthscan --fail-on high /                       container build: last stage of the image\n  pthscan app.tar --format sarif -o app.sarif    CI: a saved image, for code scanning\n  pthscan --root /host --format jsonl --baseline base.json --fail-on info\n                                                 fleet: only what is new since the baseline\n\nExit codes:\n  0  no finding at or above --fail-on\n  1  findings at or above --fail-on (even when some input could not be read)\n  2  none at the threshold, but the scan could not run or some input could not be read"
)]
pub struct Args {
    /// What to scan and how.
    #[command(flatten)]
    pub scan: ScanArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of standard output. A regular file is replaced
    /// atomically (a temporary file, then a rename); a device or FIFO is written in place.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// With --format sarif: write locations relative to DIR (the repository or image root the
    /// viewer knows) instead of absolute file:// URIs.
    #[arg(long, value_name = "DIR")]
    pub sarif_srcroot: Option<PathBuf>,

    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::High, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Show only findings at or above this severity (the summary still counts every finding,
    /// says how many were hidden, and the exit code still follows --fail-on). JSON and JSON
    /// Lines keep every finding; SARIF and text leave the hidden ones out.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub min_severity: Option<MinSeverity>,

    /// Print nothing on standard error but fatal errors: no progress, no problem lines (they
    /// stay in the report).
    #[arg(long, short)]
    pub quiet: bool,

    /// Keep only findings whose file was born, modified or changed at or after DATE (or, in
    /// an image, whose layer was created then): `2026-03-24`, an RFC 3339 time
    /// (`2026-03-24T10:52:00Z`, `…+02:00`) or a span back from now (`90m`, `36h`, `7d`,
    /// `2w`). Findings whose file has no known time are kept and counted in the summary. The
    /// exit code follows the findings kept.
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<pthscan_core::Timestamp>,

    /// Report only what is new or changed since the baseline FILE (written by `pthscan
    /// baseline`); with --fail-on info, any new hook fails the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Subcommands.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to scan and how: shared by a scan and `pthscan baseline`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Directories to scan for Python environments (venvs, site-packages, prefixes, whole
    /// filesystems, wheelhouses) and artifacts (wheels, sdists, image tarballs, OCI
    /// layouts); `-` is an image archive on standard input (`docker save app | pthscan -`);
    /// none means this host, and so does the filesystem root (`/`, or with --root `/` or DIR
    /// itself).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Treat DIR as the root of a mounted host or image filesystem: PATHs, the host's Python
    /// places and absolute symlinks are taken inside it.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Suppressions from FILE. Without it: the operator's own `pthscan.toml`
    /// ($XDG_CONFIG_HOME/pthscan, ~/.config/pthscan, then /etc/pthscan) when owned by root or
    /// the user running pthscan and writable by no one else, and none with --root. A
    /// `pthscan.toml` in the scanned tree is reported (CFG001), never obeyed.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read at most this many bytes of any one file; a larger file is judged by its head and
    /// reported. Files are judged in 4 MiB windows, so memory does not grow with this; start-up
    /// code (hooks and the modules they import) is held whole and read to at most 8 MiB. A
    /// RECORD hash is always over the whole file, whatever its size.
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    pub max_file_size: u64,

    /// Keep the scan's peak memory near BYTES, whatever the input: what artifacts hold in
    /// memory (members, names, manifests) is reserved from half of it, one member keeps at
    /// most an eighth, and artifacts larger than a thirty-second are judged one at a time.
    /// What does not fit is not kept and is reported; an input built to exhaust memory is a
    /// finding.
    #[arg(long, default_value_t = pthscan_core::budget::DEFAULT_MAX_MEMORY, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(pthscan_core::budget::MIN_MAX_MEMORY..))]
    pub max_memory: u64,

    /// Also run the payload rules over every file of every installed distribution — every
    /// file under the import directories and every file a RECORD lists (`bin/` scripts too) —
    /// and of every wheel (and every layer decoded from them), not just the code that runs at
    /// start-up, hash every file RECORD lists, and open the archives a RECORD lists
    /// (virtualenv's seed wheels). Catches payloads that run on import, like litellm 1.82.7's
    /// proxy_server.py.
    #[arg(long)]
    pub deep: bool,

    /// Add the YARA-X rules in DIR (every *.yar and *.yara file, recursively) or in one FILE.
    /// Metadata `id`, `severity`, `description` and `reference` are used where present
    /// (severity defaults to high). A rule that does not compile stops the run with exit 2.
    /// May be repeated.
    #[arg(long, value_name = "DIR|FILE")]
    pub rules: Vec<PathBuf>,

    /// Give up on one file's rule scan after this many seconds (reported, exit 2).
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub scan_timeout: u64,

    /// Open archives inside artifacts (a wheel inside an image, a zip of wheels) down to this
    /// many levels; 1 opens only the artifacts themselves.
    #[arg(long, default_value_t = 3, value_name = "LEVELS", value_parser = clap::value_parser!(u64).range(1..=16))]
    pub max_archive_depth: u64,

    /// Also walk network and user-space filesystems (NFS, CIFS, sshfs, …) mounted below the
    /// scanned paths; /proc, /sys, /dev and /run of a filesystem root are never walked.
    #[arg(long)]
    pub all_mounts: bool,

    /// Also judge this machine's running processes (Linux /proc, read-only; not implied by a
    /// host sweep): every Python process — told by its executable or the libpython it maps —
    /// with its interpreter, environment, command line and parent; findings for decoded
    /// `-c` code, code piped in, interpreters or scripts in temporary or hidden places,
    /// deleted executables, start-up variables (PYTHONSTARTUP, PYTHONPATH…) and known
    /// payload processes; and every finding about an environment says which processes use it
    /// now. Other users' processes are seen whole only by root.
    #[arg(long)]
    pub processes: bool,

    /// Also check distributions, artifacts and lockfiles against the malicious-package records
    /// in PATH: a directory of OSV records (`ossf/malicious-packages`), a zip of them (osv.dev's
    /// `PyPI/all.zip`), one OSV JSON file or a name list (`{"name": null | ["1.0"]}`). Added to
    /// the embedded snapshot and to what `pthscan db import` kept. May be repeated.
    #[arg(long, value_name = "PATH")]
    pub db: Vec<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print what a rule finds, why it matters, an example and references.
    Explain {
        /// A rule id (PTH001, cred-ssh-keys, MAL001, …) or a malicious-package record id
        /// (MAL-2026-2144); `all` lists every rule.
        rule: String,
    },
    /// Record today's hooks and findings in FILE, for later scans with --baseline FILE.
    Baseline {
        /// Where to write the baseline.
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
        /// What to scan and how, as for a scan.
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Manage the malicious-package database: `import` files a fleet distributes, `status`.
    Db {
        /// What to do.
        #[command(subcommand)]
        action: DbAction,
    },
    /// Print the start-up model of one interpreter as JSON: `sys.path`, the `.pth` lines run
    /// or added, the file each module resolves to. For the differential test against CPython.
    #[command(hide = true)]
    DebugStartup {
        /// The interpreter and environment to model, as JSON (`version`, `prefix`, `kind`, …).
        #[arg(long, value_name = "FILE")]
        spec: PathBuf,
    },
}

/// `pthscan db` actions.
#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Read OSV records (a directory, a zip, a JSON file) or a name list and keep them for
    /// every later scan, replacing what an earlier import kept ($PTHSCAN_DB_DIR, else
    /// /var/lib/pthscan/db for root, else ~/.local/share/pthscan/db). Never fetches anything.
    Import {
        /// Directories, zips or JSON files to read.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
    },
    /// Say how many records the database holds, from where, and how old they are.
    Status {
        /// Also count the records in PATH, as `--db PATH` would for a scan.
        #[arg(long, value_name = "PATH")]
        db: Vec<PathBuf>,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: grouped by environment, most severe first, with a summary.
    Text,
    /// One JSON document: schema version, summary, environments, findings, diagnostics.
    Json,
    /// JSON Lines for log pipelines: a record per environment, finding and diagnostic, then a
    /// summary; each with host, scan id, timestamp and tool version.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// For incident response: one line per event, oldest first — distributions installed,
    /// flagged files born, modified and changed (hooks, persistence, cache entries), image
    /// layers created — each with its findings' worst severity and rules.
    Timeline,
    /// CycloneDX 1.6 JSON: every environment a component, its installed distributions nested
    /// in it (PyPI purl, RECORD hash), hooks and findings as `pthscan:` properties.
    Cyclonedx,
}

/// Severity threshold for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

/// The `--min-severity` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinSeverity {
    /// Everything (the default).
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl MinSeverity {
    /// The severity.
    pub fn severity(self) -> pthscan_core::Severity {
        use pthscan_core::Severity;
        match self {
            MinSeverity::Info => Severity::Info,
            MinSeverity::Low => Severity::Low,
            MinSeverity::Medium => Severity::Medium,
            MinSeverity::High => Severity::High,
            MinSeverity::Critical => Severity::Critical,
        }
    }
}

impl FailOn {
    /// The severity.
    pub fn severity(self) -> pthscan_core::Severity {
        use pthscan_core::Severity;
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// `--since`: checked before anything is scanned.
fn parse_since(text: &str) -> Result<pthscan_core::Timestamp, String> {
    pthscan_core::Timestamp::parse_since(text, pthscan_core::Timestamp::now())
}
