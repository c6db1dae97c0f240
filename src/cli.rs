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
/// pip response. Directories given as PATH have their archives opened too. The images of a
/// container engine's local store are read with --image-store, or by name (`pthscan app:1.0`).
#[derive(Debug, Parser)]
#[command(
    name = "pthscan",
    version,
    long_version = long_version(),
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  pthscan                                        incident response: sweep this host\n  pthscan --root /mnt/evidence                   ... or a mounted disk image\n  pthscan --fail-on high /                       container build: last stage of the image\n  pthscan app.tar --format sarif -o app.sarif    CI: a saved image, for code scanning\n  pthscan --image-store /var/lib/docker          every image of the local Docker store\n  pthscan --root /host --format jsonl --baseline base.json --fail-on info\n                                                 fleet: only what is new since the baseline\n\nExit codes:\n  0  no finding at or above --fail-on, and everything asked for was judged\n  1  findings at or above --fail-on (even when some input could not be read)\n  2  none at the threshold, but the scan could not run or some input was not judged\n     (each `error:` line on standard error says what; `note:` lines never change the code)"
)]
pub struct Args {
    /// What to scan and how.
    #[command(flatten)]
    pub scan: ScanArgs,

    /// Output format (default text; `-o` with a known extension and no --format is warned).
    #[arg(long, value_enum, ignore_case = true)]
    pub format: Option<Format>,

    /// Write the report to FILE instead of standard output. A regular file is replaced
    /// atomically (a temporary file, then a rename); a device or FIFO is written in place.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// With --format sarif: write locations relative to DIR (the repository or image root the
    /// viewer knows) instead of absolute file:// URIs.
    #[arg(long, value_name = "DIR")]
    pub sarif_srcroot: Option<PathBuf>,

    /// How the run reports on standard error and exits: shared with `pthscan baseline`.
    #[command(flatten)]
    pub common: CommonArgs,

    /// Show only findings at or above this severity (`info` hidden on a host sweep:
    /// `--min-severity low`). The summary still counts every finding and says how many were
    /// hidden, and the exit code still follows --fail-on. JSON, JSON Lines and CycloneDX keep
    /// every finding; SARIF and text leave the hidden ones out.
    #[arg(long, value_enum, ignore_case = true, value_name = "SEVERITY")]
    pub min_severity: Option<MinSeverity>,

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

/// How a run reports on standard error and exits: shared by a scan and `pthscan baseline`.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Exit with 1 when a finding is at or above this severity; `never` for a run that
    /// reports and never fails on findings (exit 2 still says what was not judged).
    #[arg(long, value_enum, ignore_case = true, default_value_t = FailOn::High, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Print nothing on standard error but fatal errors: no progress, no `error:`/`note:`
    /// lines (they stay in the report).
    #[arg(long, short)]
    pub quiet: bool,

    /// Colour the text report: `auto` on a terminal unless NO_COLOR is set or TERM is
    /// `dumb`.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Judge with N threads (default: one per CPU the process may use). A fleet scan that
    /// must stay light: `-j 1` with `nice`.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// What to scan and how: shared by a scan and `pthscan baseline`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Directories to scan for Python environments (venvs, site-packages, prefixes, whole
    /// filesystems, wheelhouses) and artifacts (wheels, sdists, image tarballs, OCI
    /// layouts); `-` is an image archive on standard input (`docker save app | pthscan -`);
    /// a name that is no path (`app:1.0`, `registry.example/app@sha256:…`, an image id) is
    /// that image of the local Docker, containers/storage and containerd stores (under --root
    /// when given); none means this host, and so does the filesystem root (`/`, or with --root `/`
    /// or DIR itself).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Judge every image in the container image store DIR, read as files — no daemon, no
    /// socket, no network: Docker's (`/var/lib/docker`, overlay2), podman/CRI-O's
    /// `containers/storage` (`/var/lib/containers/storage`, overlay) or containerd's
    /// (`/var/lib/containerd`, every namespace), told apart by their layout. Each image is judged once however many names it has, as its layers apply
    /// (whiteouts, opaque directories), named by its references and id; its findings name the
    /// containers made from it. Taken inside --root when given; with --root and no PATH the
    /// root is swept too. A PATH that is no file but an image name (`app:1.0`,
    /// `app@sha256:…`, an id) is looked up in the default stores the same way. May be
    /// repeated.
    #[arg(long, value_name = "DIR")]
    pub image_store: Vec<PathBuf>,

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

    /// Read at most SIZE of any one file (`64MiB`, `1GiB`, `500MB`, or bytes); a larger file is judged by its head and
    /// reported. Files are judged in 4 MiB windows, so memory does not grow with this; start-up
    /// code (hooks and the modules they import) is held whole and read to at most 8 MiB. A
    /// RECORD hash is always over the whole file, whatever its size.
    #[arg(long, default_value = "64MiB", value_name = "SIZE", value_parser = parse_file_size)]
    pub max_file_size: u64,

    /// Keep the scan's peak memory near SIZE (`256MiB`, `1GiB`, or bytes), whatever the input: what artifacts hold in
    /// memory (members, names, manifests) is reserved from half of it, one member keeps at
    /// most an eighth, and artifacts larger than a thirty-second are judged one at a time.
    /// What does not fit is not kept and is reported; an input built to exhaust memory is a
    /// finding.
    #[arg(long, default_value = "256MiB", value_name = "SIZE", value_parser = parse_memory)]
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

    /// Do not walk into paths matching GLOB: a glob without `/` is matched against each
    /// file and directory name (`node_modules`, `*.iso`), one with `/` against the whole path
    /// as shown (`/srv/backups/**`, `**/testdata/*.whl`; `*` stops at `/`, `**` does not).
    /// What is excluded is counted in the summary. May be repeated.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

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
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once a run; `baseline` carries every scan flag"
)]
pub enum Command {
    /// Print what a rule finds, why it matters, an example and references.
    Explain {
        /// A rule id (PTH001, cred-ssh-keys, MAL001, …) or a malicious-package record id
        /// (MAL-2026-2144); `all` lists every rule.
        rule: String,
    },
    /// Record today's hooks and findings in FILE, for later scans with --baseline FILE. A
    /// baseline is what is trusted: one holding findings at or above --fail-on is refused
    /// unless --accept-findings says they are known and accepted.
    Baseline {
        /// Where to write the baseline.
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
        /// Write the baseline even when it holds findings at or above --fail-on (they are
        /// listed on standard error): later scans will not report them again.
        #[arg(long)]
        accept_findings: bool,
        /// How the run reports on standard error and exits.
        #[command(flatten)]
        common: CommonArgs,
        /// What to scan and how, as for a scan.
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Print a shell completion script for SHELL on standard output
    /// (`pthscan completions bash > /etc/bash_completion.d/pthscan`).
    Completions {
        /// The shell.
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on standard output (`pthscan man > pthscan.1; man -l
    /// pthscan.1`).
    Man,
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
    /// No finding fails the run (exit 1 never; exit 2 still says what was not judged).
    Never,
}

impl FailOn {
    /// The severity, or `None` for `never`.
    pub fn severity(self) -> Option<pthscan_core::Severity> {
        use pthscan_core::Severity;
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

/// The `--min-severity` levels: the lowest severity text and SARIF list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinSeverity {
    /// Every finding (the default).
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

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (non-empty) or TERM is `dumb`.
    Auto,
    /// Always, even into a file or pipe.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a terminal (`terminal`) in this environment.
    pub fn wanted(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// A size: bytes, or a number with a unit — `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024) or
/// `KB`/`K`, `MB`/`M`, `GB`/`G`, `TB`/`T` (powers of 1000), case-insensitive (`64MiB`, `1.5 GiB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    parse_size::Config::new()
        .parse_size(text.trim())
        .map_err(|e| format!("{e}: a size is bytes or a number with a unit (64MiB, 1GiB, 500MB)"))
}

/// `--max-file-size`: a size of one byte at least (none would judge nothing).
fn parse_file_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("0 would read nothing of any file: give a size of one byte at least".into()),
        n => Ok(n),
    }
}

/// `--max-memory`: a size not below the least budget a scan can work in.
fn parse_memory(text: &str) -> Result<u64, String> {
    let size = parse_size(text)?;
    let min = pthscan_core::budget::MIN_MAX_MEMORY;
    if size < min {
        return Err(format!(
            "below the least budget a scan can work in ({} MiB)",
            min >> 20
        ));
    }
    Ok(size)
}

/// `--version` in full: the version, the signatures and the malicious-package database built
/// in (what `db import` added is said by `pthscan db status`).
fn long_version() -> &'static str {
    // the definition is built twice a run (argument order, then parsing): worked out once
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(version_text)
}

fn version_text() -> String {
    use sha2::Digest;
    let sources = pthscan_signatures::embedded_sources();
    let mut digest = sha2::Sha256::new();
    for (name, text) in &sources {
        // each file framed by its name and length: no two sets digest alike
        digest.update(format!("{name}\0{}\0", text.len()));
        digest.update(text);
    }
    let rules: String = digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let db = pthscan_db::Database::embedded();
    let (records, newest) = db
        .sources
        .first()
        .map_or((0, None), |s| (s.records, s.newest.clone()));
    format!(
        "{}\nsignatures: {} ({} files)\nmalicious-package database: {} embedded record(s), newest {}",
        env!("CARGO_PKG_VERSION"),
        rules,
        sources.len(),
        records,
        newest
            .as_deref()
            .map_or("unknown", |n| n.get(..10).unwrap_or(n)),
    )
}

/// `--since`: checked before anything is scanned.
fn parse_since(text: &str) -> Result<pthscan_core::Timestamp, String> {
    pthscan_core::Timestamp::parse_since(text, pthscan_core::Timestamp::now())
}

/// The command line with a subcommand moved before the options that precede it:
/// `pthscan -q baseline -o base.json DIR` is `pthscan baseline -q -o base.json DIR`. clap
/// takes the first word after an option for a PATH (a scan takes PATHs, and options end the
/// subcommands), so without this a baseline run written that way scanned a directory called
/// `baseline` and wrote a text report where the baseline should go. Options the subcommand
/// does not take are then refused by name.
pub fn subcommand_first(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let mut cmd = Args::command();
    // settles each argument's number of values, for introspection
    cmd.build();
    let takes_value = |arg: &clap::Arg| arg.get_num_args().is_some_and(|n| n.takes_values());
    let long_valued: Vec<String> = cmd
        .get_arguments()
        .filter(|a| takes_value(a))
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect();
    let short_valued: Vec<char> = cmd
        .get_arguments()
        .filter(|a| takes_value(a))
        .filter_map(clap::Arg::get_short)
        .collect();
    let names: Vec<&str> = cmd.get_subcommands().map(clap::Command::get_name).collect();
    let mut i = 1;
    while i < argv.len() {
        let Some(word) = argv[i].to_str() else {
            return argv;
        };
        if word == "--" || word == "-" || !word.starts_with('-') {
            // a folder of that name in the current one is a PATH (`pthscan --deep man`)
            if i > 1 && names.contains(&word) && std::fs::symlink_metadata(word).is_err() {
                let mut out = argv.clone();
                let sub = out.remove(i);
                out.insert(1, sub);
                return out;
            }
            return argv;
        }
        if let Some(long) = word.strip_prefix("--") {
            if !long.contains('=') && long_valued.iter().any(|l| l == long) {
                i += 1;
            }
        } else {
            // a cluster of short flags: the first that takes a value takes the rest, or the
            // next word when nothing follows it
            let shorts: Vec<char> = word[1..].chars().collect();
            if let Some(at) = shorts.iter().position(|c| short_valued.contains(c))
                && at + 1 == shorts.len()
            {
                i += 1;
            }
        }
        i += 1;
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(words: &[&str]) -> Result<Args, clap::Error> {
        let argv = std::iter::once("pthscan")
            .chain(words.iter().copied())
            .map(std::ffi::OsString::from)
            .collect();
        Args::try_parse_from(subcommand_first(argv))
    }

    #[test]
    fn options_before_a_subcommand_are_the_subcommand_s() {
        let args = parse(&[
            "-q",
            "--fail-on",
            "medium",
            "baseline",
            "-o",
            "b.json",
            "dir",
        ])
        .unwrap();
        let Some(Command::Baseline {
            output,
            common,
            scan,
            ..
        }) = args.command
        else {
            panic!("not a baseline: {args:?}")
        };
        assert_eq!(output, PathBuf::from("b.json"));
        assert!(common.quiet);
        assert_eq!(common.fail_on, FailOn::Medium);
        assert_eq!(scan.paths, [PathBuf::from("dir")]);
        // a value that names a subcommand is a value, not the subcommand
        let args = parse(&["-o", "baseline", "dir"]).unwrap();
        assert!(args.command.is_none());
        assert_eq!(args.output, Some(PathBuf::from("baseline")));
        // an option the subcommand does not take is refused by name
        let err = parse(&["--format", "json", "baseline", "-o", "b.json"]).unwrap_err();
        assert!(err.to_string().contains("--format"), "{err}");
        // a PATH first: a scan of that PATH and of a directory called `baseline`
        let args = parse(&["dir", "baseline"]).unwrap();
        assert_eq!(args.scan.paths.len(), 2);
        // an option's value, then the subcommand
        let args = parse(&[
            "--fail-on",
            "critical",
            "--max-memory=1GiB",
            "baseline",
            "-o",
            "b",
        ])
        .unwrap();
        assert!(matches!(args.command, Some(Command::Baseline { .. })));
    }

    #[test]
    fn enums_ignore_case_and_sizes_take_units() {
        let args = parse(&[
            "--fail-on",
            "HIGH",
            "--format",
            "JSON",
            "--max-file-size",
            "64MiB",
            "--max-memory",
            "1GiB",
            "--color",
            "Never",
        ])
        .unwrap();
        assert_eq!(args.common.fail_on, FailOn::High);
        assert_eq!(args.format, Some(Format::Json));
        assert_eq!(args.scan.max_file_size, 64 << 20);
        assert_eq!(args.scan.max_memory, 1 << 30);
        assert_eq!(args.common.color, ColorChoice::Never);
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("64 potatoes").is_err());
        assert!(parse(&["--max-memory", "1MiB"]).is_err());
        assert_eq!(
            parse(&["--fail-on", "never"])
                .unwrap()
                .common
                .fail_on
                .severity(),
            None
        );
    }
}
