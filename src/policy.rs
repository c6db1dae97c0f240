//! Policy over a report: suppressions (`--config FILE`, or the operator's own `pthscan.toml`
//! outside the scanned tree) and baselines (`pthscan baseline`, `--baseline FILE`). Both act on
//! findings after the scan; neither hides a problem met while reading, and neither drops a
//! finding from the report: what they take out of the verdict is listed with what took it out.
//!
//! Nothing in the scanned tree configures the scan: a `pthscan.toml` found there is evidence
//! (`CFG001`, see [`crate::planted`]), never a suppression file.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use pthscan_core::{Diagnostic, Finding, ScanReport};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The suppression file, as users write it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    suppress: Vec<toml::Spanned<Suppression>>,
}

/// One suppression: every key given must match; at least one of `rule`, `path`, `sha256`,
/// `distribution` is required, and a `reason` always.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// A rule id (`PTH001`, `cred-ssh-keys`, …).
    pub rule: Option<String>,
    /// A glob over the finding's path: `*` within a path component, `**` across them.
    pub path: Option<String>,
    /// The file's SHA-256.
    pub sha256: Option<String>,
    /// The owning distribution's name (PEP 503-normalised when compared).
    pub distribution: Option<String>,
    /// Why this is accepted: shown when the suppression is listed.
    pub reason: String,
    /// `YYYY-MM-DD`: from that day on the suppression no longer applies, and says so.
    pub expires: Option<String>,
}

/// The suppressions of one file.
#[derive(Debug)]
pub struct Suppressions {
    file: PathBuf,
    /// Each entry with the 1-based line where it starts.
    entries: Vec<(Suppression, usize)>,
}

/// A finding taken out of the verdict, still listed (JSON, JSON Lines, SARIF) with what took it
/// out.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding, as it would have been reported.
    #[serde(flatten)]
    pub finding: Finding,
    /// What took it out.
    pub suppression: SuppressedBy,
}

/// What took a finding out of the verdict: one entry of a suppression file, or a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedBy {
    /// `config` (a `[[suppress]]` entry) or `baseline` (a `--baseline` file holds it).
    pub kind: &'static str,
    /// The suppression or baseline file.
    #[serde(serialize_with = "ser_path")]
    pub file: PathBuf,
    /// The 1-based line where the entry starts (a suppression entry only).
    pub line: Option<usize>,
    /// The entry's 1-based number in its file (a suppression entry only).
    pub entry: Option<usize>,
    /// The entry's `reason` (a suppression entry only).
    pub reason: Option<String>,
}

fn ser_path<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&pthscan_core::pathfmt::display_path(p))
}

impl Suppressions {
    /// Reads and checks a suppression file. Every refusal names the file and the line of the
    /// entry.
    pub fn load(file: &Path) -> Result<Suppressions> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read `{}`", file.display()))?;
        let parsed: ConfigFile = toml::from_str(&text)
            .with_context(|| format!("`{}` is not a valid pthscan config", file.display()))?;
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let mut entries = Vec::with_capacity(parsed.suppress.len());
        for (i, spanned) in parsed.suppress.into_iter().enumerate() {
            let line = line_of(spanned.span().start);
            let s = spanned.into_inner();
            s.check().map_err(|why| {
                anyhow!("`{}:{line}`: suppression {} {why}", file.display(), i + 1)
            })?;
            entries.push((s, line));
        }
        Ok(Suppressions {
            // listed with every finding it takes out: absolute, so a log line stands alone
            file: pthscan_core::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()),
            entries,
        })
    }

    /// Takes out of the verdict the findings an active suppression matches, and returns them
    /// with the entry that matched; notes expired suppressions and those that matched nothing.
    /// `today` is `YYYY-MM-DD`.
    pub fn apply(&self, report: &mut ScanReport, today: &str) -> Vec<Suppressed> {
        let mut used = vec![false; self.entries.len()];
        let mut taken = Vec::new();
        let findings = std::mem::take(&mut report.findings);
        for f in findings {
            let hit = self.entries.iter().enumerate().find(|(_, (s, _))| {
                let expired = s.expires.as_deref().is_some_and(|e| e <= today);
                !expired && s.matches(&f)
            });
            match hit {
                Some((i, (s, line))) => {
                    used[i] = true;
                    taken.push(Suppressed {
                        finding: f,
                        suppression: SuppressedBy {
                            kind: "config",
                            file: self.file.clone(),
                            line: Some(*line),
                            entry: Some(i + 1),
                            reason: Some(s.reason.trim().to_owned()),
                        },
                    });
                }
                None => report.findings.push(f),
            }
        }
        for (i, (s, line)) in self.entries.iter().enumerate() {
            let what = format!("suppression {} at line {line} ({})", i + 1, s.reason.trim());
            if let Some(e) = s.expires.as_deref().filter(|e| *e <= today) {
                report.diagnostics.push(Diagnostic::note(
                    &self.file,
                    format!("{what} expired on {e}: what it matched is reported again"),
                ));
            } else if !used[i] {
                report.diagnostics.push(Diagnostic::note(
                    &self.file,
                    format!("{what} matched nothing in this scan"),
                ));
            }
        }
        taken
    }
}

/// Paths that every real finding's path resembles: a pattern that matches all of them accepts
/// any file, whatever it looks like.
const PROBE_PATHS: &[&str] = &[
    "/a",
    "/srv/venv/lib/python3.12/site-packages/evil.pth",
    "/usr/lib/python3/dist-packages/sitecustomize.py",
    "/home/ann/.config/systemd/user/x.service",
    "/dist/x-1.0-py3-none-any.whl › x-1.0.dist-info/RECORD",
    "relative/path.pth",
];

/// Whether a `path` pattern accepts every file: one made of nothing but `*`, `**` and `/`
/// (`**`, `**/*`, `/**`, `*/**`, `/*/**`…) names no file or directory and matches by depth
/// alone; any other pattern that matches every probe path does too.
pub fn matches_every_path(pattern: &str) -> bool {
    pattern.bytes().all(|b| b == b'*' || b == b'/')
        || PROBE_PATHS.iter().all(|probe| glob(pattern, probe))
}

impl Suppression {
    /// Why entry `n` is refused, if it is: it must say what it accepts (not everything, not
    /// every path), and why.
    fn check(&self) -> Result<(), String> {
        for (key, value) in [
            ("rule", &self.rule),
            ("path", &self.path),
            ("sha256", &self.sha256),
            ("distribution", &self.distribution),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(format!("has an empty `{key}`"));
            }
        }
        if let Some(p) = self.path.as_deref()
            && matches_every_path(p)
        {
            return Err(format!(
                "has path `{p}`, which matches every path: name the files it accepts \
                 (`**/site-packages/corp.pth`), or leave `path` out and give a rule, sha256 or \
                 distribution"
            ));
        }
        if let Some(h) = self.sha256.as_deref()
            && !(h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(format!("has sha256 `{h}`, not 64 hex digits"));
        }
        if self.rule.is_none()
            && self.path.is_none()
            && self.sha256.is_none()
            && self.distribution.is_none()
        {
            return Err("matches everything: give a rule, path, sha256 or distribution".into());
        }
        if self.reason.trim().is_empty() {
            return Err("has an empty reason".into());
        }
        if let Some(e) = &self.expires
            && !is_date(e)
        {
            return Err(format!("expires on `{e}`, not a YYYY-MM-DD date"));
        }
        Ok(())
    }

    fn matches(&self, f: &Finding) -> bool {
        let path = pthscan_core::pathfmt::display_path(&f.location.path);
        self.rule
            .as_deref()
            .is_none_or(|r| r.eq_ignore_ascii_case(&f.rule))
            && self.path.as_deref().is_none_or(|g| glob(g, &path))
            && self
                .sha256
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(&f.sha256))
            && self.distribution.as_deref().is_none_or(|d| {
                f.distribution_name()
                    .is_some_and(|owner| pthscan_db::normalize(d) == pthscan_db::normalize(owner))
            })
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `*` matches within one path component, `**` across any number of them.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p {
            [] => t.is_empty(),
            [b'*', b'*', rest @ ..] => {
                let rest = rest.strip_prefix(b"/").unwrap_or(rest);
                (0..=t.len()).any(|i| go(rest, &t[i..]))
            }
            [b'*', rest @ ..] => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != b'/')
                .any(|i| go(rest, &t[i..])),
            [c, rest @ ..] => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// The operator's system-wide suppression file.
pub const SYSTEM_CONFIG: &str = "/etc/pthscan/pthscan.toml";

/// Where the operator keeps a suppression file, in the order they are tried: the user's
/// (`$XDG_CONFIG_HOME/pthscan/pthscan.toml`, else `~/.config/pthscan/pthscan.toml`; a relative
/// `XDG_CONFIG_HOME` is ignored, as the XDG spec says), then [`SYSTEM_CONFIG`].
pub fn operator_configs(xdg_config_home: Option<&OsStr>, home: Option<&OsStr>) -> Vec<PathBuf> {
    let user = xdg_config_home
        .map(Path::new)
        .filter(|p| p.is_absolute())
        .map(Path::to_path_buf)
        .or_else(|| {
            home.map(Path::new)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".config"))
        });
    user.map(|dir| dir.join("pthscan/pthscan.toml"))
        .into_iter()
        .chain([PathBuf::from(SYSTEM_CONFIG)])
        .collect()
}

/// The suppression file a run uses, and what was said choosing it.
#[derive(Debug, Default)]
pub struct ConfigChoice {
    /// The file, if any.
    pub file: Option<PathBuf>,
    /// Notes about operator files that were not used, and why.
    pub notes: Vec<Diagnostic>,
}

/// The suppression file that applies. Never one found in the scanned tree:
///
/// - `--config FILE`, when given;
/// - else, without `--root`, the first of `candidates` ([`operator_configs`]) that exists,
///   lies outside what is scanned (`scanned`, the PATHs; none is the whole host), and that the
///   operator owns: owned by root or by `euid`, and neither it nor its directory writable by
///   group or others. One inside what is scanned is never obeyed, whoever owns it: a container
///   build that sweeps `/` as root ran every package's `setup.py` as root first, and any of
///   them could have written `/root/.config/pthscan/pthscan.toml`. A file that exists and
///   fails this is skipped with a note;
/// - with `--root` (evidence, another machine's disk), none: the examiner says `--config`, so
///   that nothing read implicitly shapes the verdict; an operator file that exists is noted as
///   not applied.
pub fn config_file(
    config: Option<&Path>,
    rooted: bool,
    scanned: &[PathBuf],
    candidates: &[PathBuf],
    euid: u32,
) -> ConfigChoice {
    let mut choice = ConfigChoice::default();
    if let Some(c) = config {
        choice.file = Some(c.to_path_buf());
        return choice;
    }
    for file in candidates {
        // a file that is not there is the usual case, and says nothing
        if std::fs::symlink_metadata(file).is_err() {
            continue;
        }
        if rooted {
            choice.notes.push(Diagnostic::note(
                file,
                "not applied: with `--root`, suppressions come only from `--config`",
            ));
            continue;
        }
        let real = pthscan_core::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
        let inside = scanned.is_empty()
            || scanned.iter().any(|p| {
                real.starts_with(pthscan_core::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            });
        if inside {
            choice.notes.push(Diagnostic::note(
                file,
                "not applied: it lies inside what is scanned, which never configures the scan (name it with `--config` to use it)",
            ));
            continue;
        }
        match operator_owned(file, euid) {
            Ok(()) => {
                choice.file = Some(file.clone());
                return choice;
            }
            Err(why) => choice.notes.push(Diagnostic::note(
                file,
                format!("not applied as the suppression file: {why}"),
            )),
        }
    }
    choice
}

/// Whether `file` is the operator's: a regular file (through links) owned by root or `euid`,
/// and neither it nor the directory holding it writable by group or others.
fn operator_owned(file: &Path, euid: u32) -> Result<(), String> {
    let meta = std::fs::metadata(file).map_err(|e| pthscan_core::fs::io_reason(&e))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    #[cfg(unix)]
    let check = |what: &str, m: &std::fs::Metadata| {
        use std::os::unix::fs::MetadataExt;
        if m.uid() != 0 && m.uid() != euid {
            return Err(format!(
                "{what} is owned by uid {}, neither root nor the user running pthscan (uid {euid})",
                m.uid()
            ));
        }
        if m.mode() & 0o022 != 0 {
            return Err(format!(
                "{what} is writable by group or others (mode {:o})",
                m.mode() & 0o7777
            ));
        }
        Ok(())
    };
    // Windows keeps ownership in ACLs, which are not read: a regular file is taken as given
    #[cfg(not(unix))]
    let check = |_: &str, _: &std::fs::Metadata| -> Result<(), String> {
        let _ = euid;
        Ok(())
    };
    check("it", &meta)?;
    let real = pthscan_core::fs::canonicalize(file).map_err(|e| pthscan_core::fs::io_reason(&e))?;
    if let Some(dir) = real.parent() {
        let dmeta = std::fs::metadata(dir).map_err(|e| pthscan_core::fs::io_reason(&e))?;
        check(&format!("its directory `{}`", dir.display()), &dmeta)?;
    }
    Ok(())
}

/// The effective user id of this process.
#[cfg(unix)]
#[expect(unsafe_code, reason = "geteuid has no safe wrapper in std")]
pub fn euid() -> u32 {
    // SAFETY: geteuid takes no argument, cannot fail and touches no memory of ours
    unsafe { libc::geteuid() }
}

/// Windows has no user ids: a value no Unix user has, so that nothing is taken for root's.
#[cfg(not(unix))]
pub fn euid() -> u32 {
    u32::MAX
}

/// A recorded scan: one fingerprint per finding.
#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    /// Where it was read from (none for one being written).
    #[serde(skip)]
    file: PathBuf,
    schema_version: u32,
    created: String,
    findings: Vec<Recorded>,
    /// Every environment's distributions (absent from baselines written before pthscan
    /// recorded them: those compare no inventory).
    #[serde(default)]
    environments: Vec<RecordedEnvironment>,
}

/// An environment's inventory in a baseline.
#[derive(Debug, Serialize, Deserialize)]
struct RecordedEnvironment {
    root: String,
    distributions: Vec<RecordedDistribution>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RecordedDistribution {
    name: String,
    version: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Recorded {
    fingerprint: String,
    rule: String,
    severity: String,
    path: String,
}

/// What identifies a finding across scans: the rule, the file, the evidence and the file's
/// content hash — so a hook that changes is new again, while a line number that moves is not.
fn fingerprint(f: &Finding) -> String {
    digest(&[
        f.rule.as_ref(),
        &pthscan_core::pathfmt::display_path(&f.location.path),
        &f.evidence,
        &f.sha256,
    ])
}

/// Hex SHA-256 of `parts`, each ended by a NUL so that no two splits of one text collide: the
/// fingerprints of baselines and of SARIF results.
pub fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("{:x}", h.finalize())
}

impl Baseline {
    /// The baseline of a report.
    pub fn of(report: &ScanReport, created: &str) -> Baseline {
        Baseline {
            file: PathBuf::new(),
            schema_version: 1,
            created: created.to_owned(),
            findings: report
                .findings
                .iter()
                .map(|f| Recorded {
                    fingerprint: fingerprint(f),
                    rule: f.rule.to_string(),
                    severity: f.severity.as_str().to_owned(),
                    path: pthscan_core::pathfmt::display_path(&f.location.path),
                })
                .collect(),
            environments: report
                .environments
                .iter()
                .map(|e| RecordedEnvironment {
                    root: pthscan_core::pathfmt::display_path(&e.root),
                    distributions: e
                        .inventory
                        .iter()
                        .map(|d| RecordedDistribution {
                            name: d.name.clone(),
                            version: d.version.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// How many environments' inventories it holds.
    pub fn environments(&self) -> usize {
        self.environments.len()
    }

    /// Adds to the report, for each environment the baseline recorded, a finding for every
    /// distribution installed, changed in version or removed since (INV001–INV003).
    pub fn inventory_changes(&self, report: &mut ScanReport) {
        use pthscan_core::detectors::inventory;
        let known: HashMap<&str, inventory::Recorded> = self
            .environments
            .iter()
            .map(|e| {
                let mut recorded = inventory::Recorded::new();
                for d in &e.distributions {
                    let norm = pthscan_db::normalize(&d.name);
                    recorded
                        .entry(norm)
                        .or_insert_with(|| (d.name.clone(), Default::default()))
                        .1
                        .insert(d.version.clone());
                }
                (e.root.as_str(), recorded)
            })
            .collect();
        for env in &report.environments {
            if let Some(recorded) =
                known.get(pthscan_core::pathfmt::display_path(&env.root).as_str())
            {
                report.findings.extend(inventory::changes(env, recorded));
            }
        }
        report
            .findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }

    /// Reads a baseline file.
    pub fn load(file: &Path) -> Result<Baseline> {
        let data =
            std::fs::read(file).with_context(|| format!("cannot read `{}`", file.display()))?;
        let mut b: Baseline = serde_json::from_slice(&data)
            .with_context(|| format!("`{}` is not a pthscan baseline", file.display()))?;
        if b.schema_version != 1 {
            return Err(anyhow!(
                "`{}` is a baseline of schema {}, this pthscan reads 1",
                file.display(),
                b.schema_version
            ));
        }
        b.file = pthscan_core::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        Ok(b)
    }

    /// Takes out of the verdict the findings the baseline already holds, and returns them.
    pub fn filter(&self, report: &mut ScanReport) -> Vec<Suppressed> {
        let known: HashSet<&str> = self
            .findings
            .iter()
            .map(|r| r.fingerprint.as_str())
            .collect();
        let (held, new): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut report.findings)
            .into_iter()
            .partition(|f| known.contains(fingerprint(f).as_str()));
        report.findings = new;
        held.into_iter()
            .map(|finding| Suppressed {
                finding,
                suppression: SuppressedBy {
                    kind: "baseline",
                    file: self.file.clone(),
                    line: None,
                    entry: None,
                    reason: None,
                },
            })
            .collect()
    }

    /// How many findings it holds.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(
            "**/site-packages/*.pth",
            "/srv/venv/lib/python3.12/site-packages/a.pth"
        ));
        assert!(!glob(
            "**/site-packages/*.pth",
            "/srv/venv/site-packages/x/a.pth"
        ));
        assert!(glob("/opt/*/lib/**", "/opt/app/lib/python3.12/x.py"));
        assert!(!glob("/opt/*/lib/**", "/opt/a/b/lib/x.py"));
        assert!(is_date("2027-01-31") && !is_date("31/01/2027"));
    }

    #[test]
    fn a_path_that_accepts_every_file_is_told_from_one_that_names_something() {
        for p in [
            "**", "**/*", "/**", "*/**", "/*/**", "**/**", "/**/*", "*", "/*", "//**", "***",
        ] {
            assert!(matches_every_path(p), "{p}");
        }
        for p in [
            "**/site-packages/*.pth",
            "/opt/**",
            "**/zz.pth",
            "**/*.pth",
            "/srv/venv/**",
        ] {
            assert!(!matches_every_path(p), "{p}");
        }
        // the probes are real paths: every wildcard-only pattern that spans components does
        // match them all, so the probe test alone catches the classic forms
        for p in ["**", "**/*", "**/**"] {
            assert!(PROBE_PATHS.iter().all(|t| glob(p, t)), "{p}");
        }
    }

    #[test]
    fn operator_configs_follow_xdg_then_home_then_etc() {
        let xdg = operator_configs(Some(OsStr::new("/x/cfg")), Some(OsStr::new("/home/a")));
        assert_eq!(
            xdg,
            [
                PathBuf::from("/x/cfg/pthscan/pthscan.toml"),
                PathBuf::from(SYSTEM_CONFIG)
            ]
        );
        // a relative XDG_CONFIG_HOME is ignored, as the spec says
        let home = operator_configs(Some(OsStr::new("cfg")), Some(OsStr::new("/home/a")));
        assert_eq!(
            home[0],
            PathBuf::from("/home/a/.config/pthscan/pthscan.toml")
        );
        assert_eq!(operator_configs(None, None), [PathBuf::from(SYSTEM_CONFIG)]);
    }

    #[test]
    fn config_choice() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("mine.toml");
        std::fs::write(&mine, "").unwrap();
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o644)).unwrap();
        let absent = dir.path().join("absent.toml");
        let me = euid();
        let both = [absent.clone(), mine.clone()];
        // a scan of somewhere else
        let outside = [PathBuf::from("/nonexistent/scanned")];
        // inside what is scanned (a sweep of the whole host, or the folder holding it): never
        for scanned in [&[][..], &[dir.path().to_path_buf()][..]] {
            let c = config_file(None, false, scanned, &both, me);
            assert_eq!(c.file, None);
            assert!(
                c.notes[0].message.contains("inside what is scanned"),
                "{:?}",
                c.notes
            );
        }
        // --config wins, whatever exists
        let c = config_file(Some(&absent), false, &[], &both, me);
        assert_eq!(c.file.as_deref(), Some(absent.as_path()));
        // the first that exists and is the operator's
        let c = config_file(None, false, &outside, &both, me);
        assert_eq!(c.file.as_deref(), Some(mine.as_path()));
        assert!(c.notes.is_empty());
        // with --root: never, and said
        let c = config_file(None, true, &outside, &both, me);
        assert_eq!(c.file, None);
        assert_eq!(c.notes.len(), 1);
        assert!(c.notes[0].message.contains("`--root`"));
        // owned by someone else: as root, give the file away; otherwise ask as another user
        let asking = if me == 0 {
            std::os::unix::fs::chown(&mine, Some(54321), None).unwrap();
            0
        } else {
            me + 1
        };
        let c = config_file(None, false, &outside, &both, asking);
        assert_eq!(c.file, None);
        assert!(
            c.notes[0]
                .message
                .contains("neither root nor the user running pthscan"),
            "{:?}",
            c.notes
        );
    }
}
