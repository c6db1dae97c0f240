//! PER: what a payload leaves behind to start again, and the rest of the start-up surface
//! outside `site`: known payload files and services (the `[[path]]` IOCs), systemd units and
//! cron entries that start Python from temporary or hidden places, `PYTHONSTARTUP` and
//! `PYTHONPATH` in shell profiles and environment files, IPython startup files, Jupyter kernels.
//! Checked once per filesystem root (a host sweep, `--root`, or `/`); every file found here also
//! goes through the payload rules.

use std::path::{Path, PathBuf};

use pthscan_signatures::{PayloadScanner, Role, Signatures};

use super::{EVIDENCE_CHARS, RuleDoc};
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::fs::{Kind, Tree};
use crate::python::Runs;

/// The rules.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "PER001",
        fix: super::Fix::Disable,
        rotate: &[],
        title: "service or cron job starts Python from a temporary or hidden place",
        what: "A systemd unit (`ExecStart=`) or cron entry that runs a Python interpreter on a \
               script in `/tmp`, `/var/tmp`, `/dev/shm` or under a hidden directory, an \
               interpreter kept in such a place, or inline code (`python -c`). High; medium for \
               inline code.",
        why: "The TeamPCP payloads restart themselves this way (`~/.config/sysmon/sysmon.py` \
              from a user unit); honest services run code from installed locations.",
        example: "~/.config/systemd/user/sysmon.service: ExecStart=/usr/bin/python3 ~/.config/sysmon/sysmon.py → high",
        references: &[
            "docs/threats/litellm.md#persistence",
            "MITRE T1543.002, T1053.003",
        ],
    },
    &RuleDoc {
        id: "PER002",
        fix: super::Fix::Disable,
        rotate: &[],
        title: "PYTHONSTARTUP or PYTHONPATH set in a shell profile or environment file",
        what: "`PYTHONSTARTUP=` in a profile, rc file, `/etc/environment` or `/etc/profile.d` \
               (medium; high pointing into a temporary or hidden place), or `PYTHONPATH=` \
               pointing into one (high).",
        why: "PYTHONSTARTUP runs a file in every interactive interpreter; PYTHONPATH puts a \
              directory before site-packages for every Python process.",
        example: "/etc/profile.d/py.sh: export PYTHONSTARTUP=/tmp/.x.py → high",
        references: &[
            "README.md#integrity-and-persistence",
            "Python docs: PYTHONSTARTUP, PYTHONPATH",
            "MITRE T1546.004",
        ],
    },
    &RuleDoc {
        id: "PER003",
        fix: super::Fix::Review,
        rotate: &[],
        title: "IPython startup file",
        what: "A file in `~/.ipython/profile_*/startup/`, run by every IPython and Jupyter \
               session of that user. Low; raised by the payload rules.",
        why: "Start-up code outside site-packages that pip never touches and few people read.",
        example: "/home/ann/.ipython/profile_default/startup/00-init.py → low",
        references: &[
            "README.md#integrity-and-persistence",
            "IPython docs: startup files",
        ],
    },
    &RuleDoc {
        id: "PER004",
        fix: super::Fix::Disable,
        rotate: &[],
        title: "Jupyter kernel started from a temporary directory",
        what: "A `kernel.json` whose interpreter lives in a temporary directory (high), or \
               that sets PYTHONSTARTUP or PYTHONPATH for the kernel (medium).",
        why: "Every notebook on that kernel runs the chosen interpreter and start-up code.",
        example: "~/.local/share/jupyter/kernels/py3/kernel.json: argv[0] /tmp/.p/python → high",
        references: &[
            "README.md#integrity-and-persistence",
            "Jupyter docs: kernel specs",
        ],
    },
];

const PROFILES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".pam_environment",
];
const SYSTEM_PROFILES: &[&str] = &[
    "etc/environment",
    "etc/profile",
    "etc/bash.bashrc",
    "etc/zsh/zshenv",
    "etc/zsh/zshrc",
];

/// What the persistence checks found.
#[derive(Default)]
pub struct Found {
    /// Findings (no environment).
    pub findings: Vec<Finding>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks the filesystem rooted at `tree.root()` (paths are of the scanned system).
pub fn judge(sigs: &Signatures, tree: &dyn Tree, scanner: &mut PayloadScanner<'_>) -> Found {
    let mut found = Found::default();
    let at = |live: &str| tree.root().join(live.trim_start_matches('/'));
    let mut homes: Vec<String> = vec!["/root".into()];
    if let Ok(entries) = tree.list(&at("/home")) {
        homes.extend(
            entries
                .into_iter()
                .filter(|e| e.kind == Kind::Dir)
                .map(|e| format!("/home/{}", e.name)),
        );
    }

    // known payload files and services
    for ioc in &sigs.iocs.paths {
        for pattern in &ioc.paths {
            let lives: Vec<String> = match pattern.strip_prefix("~/") {
                Some(rest) => homes.iter().map(|h| format!("{h}/{rest}")).collect(),
                None => vec![pattern.clone()],
            };
            for live in lives {
                let path = at(&live);
                if tree.kind(&path).is_none() {
                    continue;
                }
                let size = tree.file_size(&path);
                found.findings.push(Finding {
                    rule: ioc.id.clone().into(),
                    severity: ioc.severity,
                    location: Location {
                        path,
                        line: None,
                        column: None,
                    },
                    message: ioc.description.clone(),
                    evidence: match size {
                        Some(0) => format!("{live} (empty: the write may have been interrupted)"),
                        _ => live.clone(),
                    },
                    reference: Some(ioc.reference.clone()),
                    ..Default::default()
                });
            }
        }
    }

    // services and cron
    let mut unit_dirs: Vec<String> = [
        "/etc/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system",
        "/etc/systemd/user",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    unit_dirs.extend(homes.iter().map(|h| format!("{h}/.config/systemd/user")));
    for dir in unit_dirs {
        for file in files_in(tree, &at(&dir), 2) {
            if file
                .extension()
                .is_some_and(|e| e == "service" || e == "timer")
            {
                scan_lines(tree, scanner, &file, &mut found, |line| {
                    line.split_once('=')
                        .filter(|(k, _)| k.trim().starts_with("ExecStart"))
                        .and_then(|(_, cmd)| python_launch(cmd))
                });
            }
        }
    }
    let mut cron: Vec<PathBuf> = vec![at("/etc/crontab")];
    for dir in [
        "/etc/cron.d",
        "/var/spool/cron",
        "/var/spool/cron/crontabs",
        "/etc/cron.hourly",
        "/etc/cron.daily",
    ] {
        cron.extend(files_in(tree, &at(dir), 1));
    }
    for file in cron {
        scan_lines(tree, scanner, &file, &mut found, python_launch);
    }

    // environment variables that make every Python run something
    let mut profiles: Vec<PathBuf> = SYSTEM_PROFILES.iter().map(|p| at(p)).collect();
    profiles.extend(files_in(tree, &at("/etc/profile.d"), 1));
    for h in &homes {
        profiles.extend(PROFILES.iter().map(|p| at(&format!("{h}/{p}"))));
    }
    for file in profiles {
        scan_lines(tree, scanner, &file, &mut found, python_env);
    }

    // IPython startup files and Jupyter kernels
    for h in &homes {
        if let Ok(profiles) = tree.list(&at(&format!("{h}/.ipython"))) {
            for p in profiles.iter().filter(|p| p.name.starts_with("profile_")) {
                for file in files_in(tree, &p.path.join("startup"), 1) {
                    let data = match tree.read(&file) {
                        Ok(data) => data,
                        Err(err) => {
                            let why = err.to_string();
                            found.diagnostics.push(Diagnostic::incomplete(&file, why));
                            continue;
                        }
                    };
                    found.findings.push(Finding {
                        rule: "PER003".into(),
                        severity: Severity::Low,
                        location: Location {
                            path: file.clone(),
                            line: None,
                            column: None,
                        },
                        message:
                            "runs at the start of every IPython and Jupyter session of this user"
                                .into(),
                        evidence: excerpt(
                            String::from_utf8_lossy(&data.bytes)
                                .lines()
                                .next()
                                .unwrap_or(""),
                            EVIDENCE_CHARS,
                        ),
                        sha256: data.sha256.clone(),
                        ..Default::default()
                    });
                    payload(scanner, &file, &data.bytes, Role::Startup, &mut found);
                }
            }
        }
    }
    let mut kernel_dirs: Vec<PathBuf> = vec![
        at("/usr/share/jupyter/kernels"),
        at("/usr/local/share/jupyter/kernels"),
    ];
    kernel_dirs.extend(
        homes
            .iter()
            .map(|h| at(&format!("{h}/.local/share/jupyter/kernels"))),
    );
    for dir in kernel_dirs {
        for spec in files_in(tree, &dir, 2) {
            if spec.file_name().is_some_and(|n| n == "kernel.json") {
                kernel(tree, &spec, &mut found);
            }
        }
    }
    found
}

/// Regular files directly in `dir`, and in its subdirectories down to `depth` levels.
fn files_in(tree: &dyn Tree, dir: &Path, depth: usize) -> Vec<PathBuf> {
    let Ok(entries) = tree.list(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries {
        match e.kind {
            Kind::File | Kind::Symlink if tree.is_file(&e.path) => out.push(e.path),
            Kind::Dir if depth > 1 => out.extend(files_in(tree, &e.path, depth - 1)),
            _ => {}
        }
    }
    out
}

/// Reads `file` and reports each line `check` finds fault with; the file also goes through the
/// payload rules.
fn scan_lines(
    tree: &dyn Tree,
    scanner: &mut PayloadScanner<'_>,
    file: &Path,
    found: &mut Found,
    check: impl Fn(&str) -> Option<(&'static str, Severity, String)>,
) {
    let data = match tree.read(file) {
        Ok(d) => d,
        Err(err) if err.is_missing() => return,
        Err(err) => {
            found
                .diagnostics
                .push(Diagnostic::incomplete(file, err.to_string()));
            return;
        }
    };
    let text = String::from_utf8_lossy(&data.bytes);
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some((rule, severity, message)) = check(trimmed) {
            found.findings.push(Finding {
                rule: rule.into(),
                severity,
                location: Location {
                    path: file.to_path_buf(),
                    line: Some(n + 1),
                    column: None,
                },
                message,
                evidence: excerpt(trimmed, EVIDENCE_CHARS),
                sha256: data.sha256.clone(),
                ..Default::default()
            });
        }
    }
    payload(scanner, file, &data.bytes, Role::Other, found);
}

fn payload(
    scanner: &mut PayloadScanner<'_>,
    file: &Path,
    bytes: &[u8],
    role: Role,
    found: &mut Found,
) {
    let (findings, diagnostics) =
        super::payload::judge_code(scanner, Path::new("/"), file, bytes, role);
    found.findings.extend(findings.into_iter().map(|mut f| {
        f.environment = None;
        if role != Role::Startup {
            f.runs_on = Runs::default();
        }
        f
    }));
    found.diagnostics.extend(diagnostics);
}

/// Whether a path is in a temporary place: where an interpreter has no business being (a
/// venv in `~/.venv` is ordinary, one in `/tmp` is not).
fn temporary_place(path: &str) -> Option<&'static str> {
    let p = path.trim_matches(|c| c == '"' || c == '\'');
    ["/tmp/", "/var/tmp/", "/dev/shm/"]
        .iter()
        .any(|t| p.starts_with(t))
        .then_some("a temporary directory")
}

/// Whether a script path is in a temporary place or under a hidden directory.
fn suspicious_place(path: &str) -> Option<&'static str> {
    if let Some(place) = temporary_place(path) {
        return Some(place);
    }
    let p = path.trim_matches(|c| c == '"' || c == '\'');
    let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
    dir.split('/')
        .any(|c| c.starts_with('.') && c != "." && c != "..")
        .then_some("a hidden directory")
}

/// A command line that starts Python badly: the finding's rule, severity and message.
fn python_launch(cmd: &str) -> Option<(&'static str, Severity, String)> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let i = words.iter().position(|w| {
        let base = w
            .trim_start_matches(['-', '@', '+', '!'])
            .rsplit('/')
            .next()
            .unwrap_or(w);
        base.starts_with("python") && base[6..].chars().all(|c| c.is_ascii_digit() || c == '.')
    })?;
    let interp = words[i].trim_start_matches(['-', '@', '+', '!']);
    if let Some(place) = temporary_place(interp) {
        return Some((
            "PER001",
            Severity::High,
            format!("starts a Python interpreter kept in {place}"),
        ));
    }
    let mut rest = words[i + 1..].iter();
    while let Some(w) = rest.next() {
        if *w == "-c" {
            return Some((
                "PER001",
                Severity::Medium,
                "starts Python on inline code (python -c)".into(),
            ));
        }
        if *w == "-m" || *w == "-W" || *w == "-X" {
            rest.next();
            continue;
        }
        if w.starts_with('-') {
            continue;
        }
        return suspicious_place(w).map(|place| {
            (
                "PER001",
                Severity::High,
                format!(
                    "starts Python on a script in {place}: how payloads make themselves restart"
                ),
            )
        });
    }
    None
}

/// A profile line that sets PYTHONSTARTUP, or PYTHONPATH into a bad place.
fn python_env(line: &str) -> Option<(&'static str, Severity, String)> {
    let line = line.strip_prefix("export ").unwrap_or(line).trim();
    let (key, value) = line.split_once('=')?;
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    match key.trim() {
        "PYTHONSTARTUP" => Some(match suspicious_place(value) {
            Some(place) => (
                "PER002",
                Severity::High,
                format!("PYTHONSTARTUP points into {place}: every interactive Python runs it"),
            ),
            None => (
                "PER002",
                Severity::Medium,
                "PYTHONSTARTUP is set: every interactive Python runs that file first".into(),
            ),
        }),
        "PYTHONPATH" => value.split(':').find_map(suspicious_place).map(|place| {
            (
                "PER002",
                Severity::High,
                format!("PYTHONPATH puts {place} before site-packages for every Python process"),
            )
        }),
        _ => None,
    }
}

fn kernel(tree: &dyn Tree, spec: &Path, found: &mut Found) {
    let data = match tree.read(spec) {
        Ok(data) => data,
        Err(err) if err.is_missing() => return,
        Err(err) => {
            let why = err.to_string();
            found.diagnostics.push(Diagnostic::incomplete(spec, why));
            return;
        }
    };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&data.bytes) else {
        return;
    };
    let argv0 = doc["argv"][0].as_str().unwrap_or_default();
    let env = &doc["env"];
    let (severity, message) = if let Some(place) = temporary_place(argv0) {
        (
            Severity::High,
            format!("the kernel's interpreter is kept in {place}"),
        )
    } else if env.get("PYTHONSTARTUP").is_some() || env.get("PYTHONPATH").is_some() {
        (
            Severity::Medium,
            "the kernel sets PYTHONSTARTUP or PYTHONPATH for every notebook".into(),
        )
    } else {
        return;
    };
    found.findings.push(Finding {
        rule: "PER004".into(),
        severity,
        location: Location {
            path: spec.to_path_buf(),
            line: None,
            column: None,
        },
        message,
        evidence: excerpt(&doc.to_string(), EVIDENCE_CHARS),
        sha256: data.sha256,
        ..Default::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launches_from_bad_places_and_not_from_installed_ones() {
        for (cmd, want) in [
            (
                "/usr/bin/python3 /home/a/.config/sysmon/sysmon.py",
                Some(Severity::High),
            ),
            ("python3 -u /tmp/x.py", Some(Severity::High)),
            ("/dev/shm/.p/python3.12 run.py", Some(Severity::High)),
            ("/usr/bin/python3 -c 'import os'", Some(Severity::Medium)),
            ("/usr/bin/python3 /usr/lib/app/main.py", None),
            ("/home/a/.venv/bin/python -m app.server", None),
            ("/usr/bin/env python3 /opt/tool/run.py --flag", None),
            ("/bin/sh -c 'echo hi'", None),
        ] {
            assert_eq!(python_launch(cmd).map(|x| x.1), want, "{cmd}");
        }
        assert_eq!(
            python_env("export PYTHONSTARTUP=/tmp/.s.py").map(|x| x.1),
            Some(Severity::High)
        );
        assert_eq!(
            python_env("PYTHONSTARTUP=\"$HOME/pystartup.py\"").map(|x| x.1),
            Some(Severity::Medium)
        );
        assert_eq!(
            python_env("export PYTHONPATH=/dev/shm/.lib:$PYTHONPATH").map(|x| x.1),
            Some(Severity::High)
        );
        assert_eq!(python_env("export PYTHONPATH=/opt/app/src"), None);
    }
}
