//! Indicators of compromise (`signatures/ioc.toml`): file hashes, paths and network
//! indicators (known-bad releases are the malicious-package database's, `pthscan-db`). Network indicators become YARA-X rules, so they are found
//! in every decoded layer like any other rule match.

use std::collections::HashMap;

use base64::Engine as _;
use serde::Deserialize;

use crate::{Severity, SignatureError};

/// A known-bad file, by SHA-256.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIoc {
    /// Stable id.
    pub id: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// File names it is known under: in `--deep` scans, files with these names are hashed.
    #[serde(default)]
    pub names: Vec<String>,
    /// Severity of a match.
    pub severity: Severity,
    /// What it is.
    pub description: String,
    /// Where it is documented.
    pub reference: String,
    /// What to do about a match.
    pub fix: crate::action::Fix,
    /// The credential classes the payload behind it reads (to rotate).
    #[serde(default)]
    pub rotate: Vec<String>,
    /// Hashes (hex, or RECORD's `sha256=` form) that must match.
    pub positive: Vec<String>,
    /// Hashes that must not.
    pub negative: Vec<String>,
}

/// Files or services a known payload leaves behind, by path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathIoc {
    /// Stable id.
    pub id: String,
    /// Paths: absolute (`/tmp/pglog`) or in any user's home (`~/.config/sysmon/sysmon.py`,
    /// where `~` is `/root` or `/home/<user>`).
    pub paths: Vec<String>,
    /// Severity of a match.
    pub severity: Severity,
    /// What it is.
    pub description: String,
    /// Where it is documented.
    pub reference: String,
    /// What to do about a match.
    pub fix: crate::action::Fix,
    /// The credential classes the payload behind it reads (to rotate).
    #[serde(default)]
    pub rotate: Vec<String>,
    /// Absolute paths that must match.
    pub positive: Vec<String>,
    /// Absolute paths that must not.
    pub negative: Vec<String>,
}

impl PathIoc {
    /// Whether the live absolute `path` is one of this entry's.
    pub fn matches(&self, path: &str) -> bool {
        self.paths.iter().any(|p| match p.strip_prefix("~/") {
            Some(rest) => {
                let in_home = path.strip_prefix("/root/").or_else(|| {
                    path.strip_prefix("/home/")
                        .and_then(|r| r.split_once('/').map(|(_, tail)| tail))
                });
                in_home == Some(rest)
            }
            None => p == path,
        })
    }
}

/// A running process a known payload starts, by its command line, the script it runs or its
/// executable (`pthscan --processes`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessIoc {
    /// Stable id.
    pub id: String,
    /// Texts that must all appear in the command line (its arguments joined by spaces).
    #[serde(default)]
    pub command: Vec<String>,
    /// Paths of the script a Python process runs (an argument that is a path), absolute or in
    /// any user's home (`~/`).
    #[serde(default)]
    pub script: Vec<String>,
    /// Paths of the executable, absolute or in any user's home: any process, Python or not.
    #[serde(default)]
    pub exe: Vec<String>,
    /// Whether the process must be a Python interpreter (`command` and `script` entries); or,
    /// with `parent_python`, whether its parent must be.
    #[serde(default = "yes")]
    pub python: bool,
    /// Whether the matching process's parent must be a Python interpreter (a `systemctl` that
    /// Python started).
    #[serde(default)]
    pub parent_python: bool,
    /// Severity of a match.
    pub severity: Severity,
    /// What it is.
    pub description: String,
    /// Where it is documented.
    pub reference: String,
    /// What to do about a match.
    pub fix: crate::action::Fix,
    /// The credential classes the payload behind it reads (to rotate).
    #[serde(default)]
    pub rotate: Vec<String>,
    /// Processes that must match.
    pub positive: Vec<ProcessExample>,
    /// Processes that must not.
    pub negative: Vec<ProcessExample>,
}

fn yes() -> bool {
    true
}

/// A process in an example: its command line (split on spaces, the first word its executable)
/// and, where it matters, its parent's executable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessExample {
    /// `argv` joined by spaces; the first word is also the executable.
    pub command: String,
    /// The parent's executable.
    #[serde(default)]
    pub parent: Option<String>,
}

/// What a [`ProcessIoc`] is matched against.
#[derive(Debug, Clone, Copy)]
pub struct ProcessView<'a> {
    /// The executable (resolved, without ` (deleted)`), when it could be read.
    pub exe: Option<&'a str>,
    /// The arguments.
    pub argv: &'a [String],
    /// The script a Python process runs, as an absolute path, where known.
    pub script: Option<&'a str>,
    /// Whether the process is a Python interpreter.
    pub python: bool,
    /// Whether its parent is.
    pub parent_python: bool,
}

/// Whether a file name is a Python interpreter's (`python`, `python3.12`, `pypy3`): for the
/// examples of this table and the process sweep alike.
pub fn is_python_name(name: &str) -> bool {
    let rest = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"));
    rest.is_some_and(|r| {
        let r = r.strip_suffix(['t', 'd', 'm']).unwrap_or(r);
        r.chars().all(|c| c.is_ascii_digit() || c == '.')
    })
}

/// Whether `path` is `pattern`: absolute, or `~/…` in `/root` or any `/home/<user>`.
fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_prefix("~/") {
        Some(rest) => {
            let in_home = path.strip_prefix("/root/").or_else(|| {
                path.strip_prefix("/home/")
                    .and_then(|r| r.split_once('/').map(|(_, tail)| tail))
            });
            in_home == Some(rest)
        }
        None => pattern == path,
    }
}

impl ProcessIoc {
    /// Whether the process is one of this entry's.
    pub fn matches(&self, p: &ProcessView<'_>) -> bool {
        if !self.exe.is_empty() {
            return p
                .exe
                .is_some_and(|e| self.exe.iter().any(|x| path_matches(x, e)));
        }
        if self.parent_python && !p.parent_python {
            return false;
        }
        if self.python && !self.parent_python && !p.python {
            return false;
        }
        if !self.script.is_empty()
            && !p
                .script
                .is_some_and(|s| self.script.iter().any(|x| path_matches(x, s)))
        {
            return false;
        }
        if !self.command.is_empty() {
            let line = p.argv.join(" ");
            if !self.command.iter().all(|c| line.contains(c.as_str())) {
                return false;
            }
        }
        true
    }

    /// Whether an example matches: its words are `argv`, the first its executable, the first
    /// later absolute path its script.
    pub fn matches_example(&self, ex: &ProcessExample) -> bool {
        let argv: Vec<String> = ex.command.split(' ').map(str::to_owned).collect();
        let exe = argv.first().map(String::as_str);
        let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
        let python = exe.is_some_and(|e| is_python_name(&base(e)));
        let script = argv[1..]
            .iter()
            .find(|a| a.starts_with('/'))
            .map(String::as_str);
        self.matches(&ProcessView {
            exe,
            argv: &argv,
            script,
            python,
            parent_python: ex
                .parent
                .as_deref()
                .is_some_and(|p| is_python_name(&base(p))),
        })
    }
}

/// A network indicator (domain or IP address).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetIoc {
    /// Stable id.
    pub id: String,
    /// The domain or address, not defanged.
    pub indicator: String,
    /// Severity of a mention.
    pub severity: Severity,
    /// What it is.
    pub description: String,
    /// Where it is documented.
    pub reference: String,
    /// What to do about a match.
    pub fix: crate::action::Fix,
    /// The credential classes the payload behind it reads (to rotate).
    #[serde(default)]
    pub rotate: Vec<String>,
    /// Texts that must match.
    pub positive: Vec<String>,
    /// Texts that must not.
    pub negative: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIocs {
    #[serde(default)]
    file: Vec<FileIoc>,
    #[serde(default)]
    network: Vec<NetIoc>,
    #[serde(default)]
    path: Vec<PathIoc>,
    #[serde(default)]
    process: Vec<ProcessIoc>,
}

/// The IOC tables.
#[derive(Debug)]
pub struct Iocs {
    /// Bad files.
    pub files: Vec<FileIoc>,
    /// Network indicators.
    pub network: Vec<NetIoc>,
    /// Persistence left on disk, by path.
    pub paths: Vec<PathIoc>,
    /// Running processes, by command line, script or executable.
    pub processes: Vec<ProcessIoc>,
    by_sha: HashMap<String, usize>,
}

impl Iocs {
    /// Parses and checks `signatures/ioc.toml`.
    pub fn from_toml(text: &str) -> Result<Iocs, SignatureError> {
        let raw: RawIocs = toml::from_str(text).map_err(|source| SignatureError::Parse {
            file: "ioc.toml",
            source,
        })?;
        let invalid = |id: &str, reason: &str| SignatureError::Invalid {
            id: id.to_owned(),
            reason: reason.to_owned(),
        };
        let mut ids = std::collections::HashSet::new();
        let all_ids = raw
            .file
            .iter()
            .map(|f| (&f.id, f.positive.is_empty() || f.negative.is_empty()))
            .chain(
                raw.network
                    .iter()
                    .map(|n| (&n.id, n.positive.is_empty() || n.negative.is_empty())),
            )
            .chain(
                raw.path
                    .iter()
                    .map(|p| (&p.id, p.positive.is_empty() || p.negative.is_empty())),
            )
            .chain(
                raw.process
                    .iter()
                    .map(|p| (&p.id, p.positive.is_empty() || p.negative.is_empty())),
            );
        for (id, rotate) in raw
            .file
            .iter()
            .map(|f| (&f.id, &f.rotate))
            .chain(raw.network.iter().map(|n| (&n.id, &n.rotate)))
            .chain(raw.path.iter().map(|p| (&p.id, &p.rotate)))
            .chain(raw.process.iter().map(|p| (&p.id, &p.rotate)))
        {
            crate::action::check_rotate(id, rotate)?;
        }
        for (id, no_examples) in all_ids {
            if !ids.insert(id.clone()) {
                return Err(invalid(id, "duplicate id"));
            }
            if no_examples {
                return Err(invalid(id, "needs positive and negative examples"));
            }
        }
        let mut by_sha = HashMap::new();
        for (i, f) in raw.file.iter().enumerate() {
            if f.sha256.len() != 64
                || !f
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(invalid(&f.id, "sha256 must be 64 lowercase hex digits"));
            }
            by_sha.insert(f.sha256.clone(), i);
        }
        for n in &raw.network {
            if n.indicator.len() < 4
                || !n
                    .indicator
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            {
                return Err(invalid(&n.id, "indicator must be a domain or IPv4 address"));
            }
        }
        for p in &raw.process {
            let ways = [
                !p.command.is_empty(),
                !p.script.is_empty(),
                !p.exe.is_empty(),
            ];
            if !ways.contains(&true) {
                return Err(invalid(&p.id, "needs `command`, `script` or `exe`"));
            }
            if !p.exe.is_empty() && (ways[0] || ways[1]) {
                return Err(invalid(&p.id, "`exe` stands alone"));
            }
        }
        Ok(Iocs {
            files: raw.file,
            network: raw.network,
            paths: raw.path,
            processes: raw.process,
            by_sha,
        })
    }

    /// The bad file with this hash: lowercase hex, or RECORD's `sha256=<urlsafe base64>`.
    pub fn file(&self, hash: &str) -> Option<&FileIoc> {
        let hex = match hash.strip_prefix("sha256=") {
            Some(b64) => {
                let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b64.trim_end_matches('='))
                    .ok()?;
                raw.iter().map(|b| format!("{b:02x}")).collect()
            }
            None => hash.to_ascii_lowercase(),
        };
        self.by_sha.get(&hex).map(|&i| &self.files[i])
    }

    /// Whether a file with this name should be hashed to compare with the table.
    pub fn is_known_bad_name(&self, name: &str) -> bool {
        self.files.iter().any(|f| f.names.iter().any(|n| n == name))
    }

    /// The network indicators as YARA-X rule source.
    pub fn network_rules(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.network.iter().enumerate() {
            out.push_str(&format!(
                "rule ioc_net_{i} {{\n  meta:\n    id = {}\n    severity = \"{}\"\n    description = {}\n    reference = {}\n    fix = \"{}\"\n    rotate = {}\n  strings:\n    $a = \"{}\" nocase fullword\n  condition:\n    $a\n}}\n\n",
                quote(&n.id),
                n.severity,
                quote(&n.description),
                quote(&n.reference),
                n.fix,
                quote(&n.rotate.join(", ")),
                n.indicator,
            ));
        }
        out
    }
}

/// A YARA string literal.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_distribution_and_file_example_behaves() {
        let iocs = Iocs::from_toml(crate::IOC_TOML).unwrap();
        assert!(iocs.files.len() >= 5 && iocs.network.len() >= 5);
        // known-bad releases are the malicious-package database's (`signatures/malicious/`)
        assert!(Iocs::from_toml("[[distribution]]\nid = \"x\"").is_err());
        for f in &iocs.files {
            for ex in &f.positive {
                assert_eq!(
                    iocs.file(ex).map(|x| x.id.as_str()),
                    Some(f.id.as_str()),
                    "{ex}"
                );
                // the same hash as RECORD writes it
                let raw: Vec<u8> = (0..32)
                    .map(|i| u8::from_str_radix(&ex[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                let record = format!(
                    "sha256={}",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
                );
                assert_eq!(
                    iocs.file(&record).map(|x| x.id.as_str()),
                    Some(f.id.as_str())
                );
            }
            for ex in &f.negative {
                assert!(iocs.file(ex).is_none(), "{}: {ex}", f.id);
            }
        }
    }

    #[test]
    fn every_path_example_behaves() {
        let iocs = Iocs::from_toml(crate::IOC_TOML).unwrap();
        assert!(iocs.paths.len() >= 4);
        for p in &iocs.paths {
            for ex in &p.positive {
                assert!(p.matches(ex), "{}: {ex}", p.id);
            }
            for ex in &p.negative {
                assert!(!p.matches(ex), "{}: {ex}", p.id);
            }
        }
    }

    #[test]
    fn every_process_example_behaves() {
        let iocs = Iocs::from_toml(crate::IOC_TOML).unwrap();
        assert!(iocs.processes.len() >= 4);
        for p in &iocs.processes {
            for ex in &p.positive {
                assert!(p.matches_example(ex), "{}: {ex:?}", p.id);
            }
            for ex in &p.negative {
                assert!(!p.matches_example(ex), "{}: {ex:?}", p.id);
            }
        }
        let bad = "[[process]]\nid = \"x\"\nseverity = \"high\"\ndescription = \"d\"\nreference = \"r\"\npositive = [{ command = \"a\" }]\nnegative = [{ command = \"b\" }]\n";
        assert!(
            Iocs::from_toml(bad).is_err(),
            "an entry that matches nothing"
        );
    }

    #[test]
    fn python_names() {
        for yes in [
            "python",
            "python3",
            "python3.12",
            "python3.13t",
            "pypy3",
            "pypy3.10",
            "python2.7",
        ] {
            assert!(is_python_name(yes), "{yes}");
        }
        for no in [
            "pythonista",
            "python-config",
            "python3.12-config",
            "ipython",
            "bpython",
            "py",
        ] {
            assert!(!is_python_name(no), "{no}");
        }
    }
}
