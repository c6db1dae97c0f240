//! Policy over a report: suppressions (`pthscan.toml` or `--config FILE`) and baselines
//! (`pthscan baseline`, `--baseline FILE`). Both act on findings after the scan; neither hides
//! a problem met while reading.

use std::collections::HashSet;
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
    suppress: Vec<Suppression>,
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
    entries: Vec<Suppression>,
}

impl Suppressions {
    /// Reads and checks a suppression file.
    pub fn load(file: &Path) -> Result<Suppressions> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read `{}`", file.display()))?;
        let parsed: ConfigFile = toml::from_str(&text)
            .with_context(|| format!("`{}` is not a valid pthscan config", file.display()))?;
        for (i, s) in parsed.suppress.iter().enumerate() {
            let n = i + 1;
            if s.rule.is_none()
                && s.path.is_none()
                && s.sha256.is_none()
                && s.distribution.is_none()
            {
                return Err(anyhow!(
                    "`{}`: suppression {n} matches everything: give a rule, path, sha256 or distribution",
                    file.display()
                ));
            }
            if s.reason.trim().is_empty() {
                return Err(anyhow!(
                    "`{}`: suppression {n} has an empty reason",
                    file.display()
                ));
            }
            if let Some(e) = &s.expires
                && !is_date(e)
            {
                return Err(anyhow!(
                    "`{}`: suppression {n} expires on `{e}`, not a YYYY-MM-DD date",
                    file.display()
                ));
            }
        }
        Ok(Suppressions {
            file: file.to_path_buf(),
            entries: parsed.suppress,
        })
    }

    /// Drops the findings an active suppression matches; notes expired suppressions and
    /// those that matched nothing. `today` is `YYYY-MM-DD`. Returns how many were dropped.
    pub fn apply(&self, report: &mut ScanReport, today: &str) -> usize {
        let mut used = vec![false; self.entries.len()];
        let before = report.findings.len();
        report.findings.retain(|f| {
            for (i, s) in self.entries.iter().enumerate() {
                let expired = s.expires.as_deref().is_some_and(|e| e <= today);
                if !expired && s.matches(f) {
                    used[i] = true;
                    return false;
                }
            }
            true
        });
        for (i, s) in self.entries.iter().enumerate() {
            let what = format!("suppression {} ({})", i + 1, s.reason.trim());
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
        before - report.findings.len()
    }
}

impl Suppression {
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
                f.distribution.as_deref().is_some_and(|owner| {
                    pthscan_signatures::known_good::normalize_dist(d)
                        == pthscan_signatures::known_good::normalize_dist(owner)
                })
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

/// The suppression file that applies: `--config FILE`, else `pthscan.toml` in the scanned
/// root (`--root`, or the first PATH that is a directory).
pub fn config_file(
    config: Option<&Path>,
    root: Option<&Path>,
    paths: &[PathBuf],
) -> Option<PathBuf> {
    if let Some(c) = config {
        return Some(c.to_path_buf());
    }
    let dir = root.or_else(|| paths.iter().find(|p| p.is_dir()).map(PathBuf::as_path))?;
    let file = dir.join("pthscan.toml");
    file.is_file().then_some(file)
}

/// A recorded scan: one fingerprint per finding.
#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    schema_version: u32,
    created: String,
    findings: Vec<Recorded>,
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
        }
    }

    /// Reads a baseline file.
    pub fn load(file: &Path) -> Result<Baseline> {
        let data =
            std::fs::read(file).with_context(|| format!("cannot read `{}`", file.display()))?;
        let b: Baseline = serde_json::from_slice(&data)
            .with_context(|| format!("`{}` is not a pthscan baseline", file.display()))?;
        if b.schema_version != 1 {
            return Err(anyhow!(
                "`{}` is a baseline of schema {}, this pthscan reads 1",
                file.display(),
                b.schema_version
            ));
        }
        Ok(b)
    }

    /// Drops the findings the baseline already holds; returns how many.
    pub fn filter(&self, report: &mut ScanReport) -> usize {
        let known: HashSet<&str> = self
            .findings
            .iter()
            .map(|r| r.fingerprint.as_str())
            .collect();
        let before = report.findings.len();
        report
            .findings
            .retain(|f| !known.contains(fingerprint(f).as_str()));
        before - report.findings.len()
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
}
