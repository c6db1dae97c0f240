//! EP: entry points that run code unasked — console scripts named like system commands (on
//! `PATH` before `/usr/bin` in a venv or `~/.local/bin`), pytest plugins (`pytest11`), loaded
//! by every pytest run, and `[sitecustomize]` entry points, which a `sitecustomize` that loads
//! entry points (sitecustomize-entrypoints, used by OpenTelemetry's and devtools' plugins)
//! imports at every interpreter start.

use std::path::PathBuf;

use super::{Ctx, EVIDENCE_CHARS, RuleDoc};
use crate::finding::{Finding, Location, Severity, excerpt};

/// The rules.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "EP001",
        fix: super::Fix::Review,
        rotate: &[],
        title: "console script shadows a system command",
        what: "A distribution declares a console script named like a system command (`ls`, \
               `sudo`, `ssh`, `python`, `pip`, `curl`, …) that is not that command's own \
               package. High.",
        why: "The script lands in the environment's `bin/` (or `~/.local/bin`), ahead of \
              `/usr/bin` on PATH: typing the command runs the package's code, with the \
              user's rights — and `sudo` captures a password.",
        example: "colorlib-1.0.dist-info/entry_points.txt: sudo = colorlib.cli:main → high",
        references: &[
            "docs/threats/startup-hooks.md#other-code-that-runs-automatically",
            "MITRE T1036.005",
            "packaging.python.org: entry points specification",
        ],
    },
    &RuleDoc {
        id: "EP002",
        fix: super::Fix::Review,
        rotate: &[],
        title: "pytest plugin entry point",
        what: "A distribution registers a `pytest11` entry point: its module is imported at \
               the start of every pytest run in the environment. Info.",
        why: "Start-up code outside `site`: a CI job that runs pytest runs it with the job's \
              secrets in the environment.",
        example: "pytest_cov-4.1.0.dist-info/entry_points.txt: pytest_cov = pytest_cov.plugin → info",
        references: &[
            "docs/threats/startup-hooks.md#other-code-that-runs-automatically",
            "pytest docs: writing plugins (pytest11)",
        ],
    },
    &RuleDoc {
        id: "EP003",
        fix: super::Fix::Review,
        rotate: &[],
        title: "start-up entry point (`[sitecustomize]`)",
        what: "A distribution registers a `sitecustomize` entry point. When the environment's \
               `sitecustomize` loads that group (sitecustomize-entrypoints), the module is \
               imported at every interpreter start: low, raised by what the module and what it \
               imports carry (they are judged as start-up code); info while nothing loads the \
               group.",
        why: "A hook of a hook: no `.pth` line and no `sitecustomize.py` of its own, one line \
              of metadata that runs code in every Python process.",
        example: "otel_x-1.0.dist-info/entry_points.txt: [sitecustomize] x = _otel_boot:init → low; \
                  _otel_boot.py posts ~/.aws/credentials → high",
        references: &[
            "PyPI: sitecustomize-entrypoints",
            "docs/threats/startup-hooks.md (hooks of hooks)",
        ],
    },
];

/// Commands a package has no business replacing, and the distributions that own the few that
/// are Python's own.
const COMMANDS: &[(&str, &[&str])] = &[
    ("ls", &[]),
    ("cp", &[]),
    ("mv", &[]),
    ("rm", &[]),
    ("cat", &[]),
    ("sh", &[]),
    ("bash", &[]),
    ("zsh", &[]),
    ("su", &[]),
    ("sudo", &[]),
    ("ssh", &[]),
    ("scp", &[]),
    ("ps", &[]),
    ("top", &[]),
    ("id", &[]),
    ("whoami", &[]),
    ("passwd", &[]),
    ("curl", &[]),
    ("wget", &[]),
    ("git", &[]),
    ("apt", &[]),
    ("apt-get", &[]),
    ("dnf", &[]),
    ("yum", &[]),
    ("systemctl", &[]),
    ("crontab", &[]),
    ("docker", &[]),
    ("kubectl", &[]),
    ("gpg", &[]),
    ("openssl", &[]),
    ("python", &[]),
    ("python3", &[]),
    ("pip", &["pip"]),
    ("pip3", &["pip"]),
    ("aws", &["awscli"]),
    ("az", &["azure-cli"]),
];

/// Findings for the entry points of every distribution in the environment.
pub fn judge(ctx: &Ctx<'_>, metadata: &[(PathBuf, PathBuf)]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, meta) in metadata {
        let Some((info, _, dist)) = crate::python::dist::info_dir(meta) else {
            continue;
        };
        let path = info.join("entry_points.txt");
        let data = match ctx.tree.read(&path) {
            Ok(data) => data,
            Err(err) if err.is_missing() => continue,
            Err(err) => {
                let why = format!("{err}: its entry points were not judged");
                ctx.diagnostics
                    .borrow_mut()
                    .push(crate::diagnostic::Diagnostic::incomplete(&path, why));
                continue;
            }
        };
        let mut section = String::new();
        for (n, line) in String::from_utf8_lossy(&data.bytes).lines().enumerate() {
            let line = line.trim();
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = s.trim().to_owned();
                continue;
            }
            let Some((name, target)) = line.split_once('=') else {
                continue;
            };
            let name = name.trim();
            let finding = |rule: &'static str, severity, message: String| Finding {
                rule: rule.into(),
                severity,
                location: Location {
                    path: path.clone(),
                    line: Some(n + 1),
                    column: None,
                },
                environment: Some(ctx.env.root.clone()),
                message,
                evidence: excerpt(line, EVIDENCE_CHARS),
                sha256: data.sha256.clone(),
                ..Default::default()
            };
            match section.as_str() {
                "console_scripts" | "gui_scripts" => {
                    let shadowed = COMMANDS.iter().find(|(c, owners)| {
                        (*c == name || name.strip_prefix(c).is_some_and(is_version))
                            && !owners.contains(&dist.as_str())
                    });
                    if let Some((command, _)) = shadowed {
                        out.push(finding(
                            "EP001",
                            Severity::High,
                            format!(
                                "{dist} installs a `{name}` command that runs {}: typing `{command}` in this environment runs the package's code",
                                target.trim()
                            ),
                        ));
                    }
                }
                "pytest11" => out.push(finding(
                    "EP002",
                    Severity::Info,
                    format!(
                        "{dist} registers a pytest plugin: {} is imported at the start of every pytest run",
                        target.trim()
                    ),
                )),
                "sitecustomize" => {
                    let module = target.split(':').next().unwrap_or("").trim();
                    let loaded = loads_entry_points(ctx);
                    let mut f = finding(
                        "EP003",
                        if loaded { Severity::Low } else { Severity::Info },
                        match loaded {
                            true => format!(
                                "{dist} registers a start-up entry point: the environment's sitecustomize loads the group, so `{module}` is imported at every interpreter start"
                            ),
                            false => format!(
                                "{dist} registers a start-up entry point (`{module}`): dormant while no sitecustomize loads the `sitecustomize` group"
                            ),
                        },
                    );
                    // what it runs is judged as start-up code, and raises the finding
                    let via = format!("{} [sitecustomize] {name}", path.display());
                    let code = format!("import {module}\n");
                    for m in super::imported::judge_imports(ctx, &code, 2, &via) {
                        if loaded && m.severity > f.severity {
                            f.severity = m.severity;
                            f.message.push_str(&format!(
                                "; {} carries {} signals",
                                m.path.display(),
                                m.severity.as_str()
                            ));
                        }
                    }
                    out.push(f);
                }
                _ => {}
            }
        }
    }
    out
}

/// Whether the environment's `sitecustomize` loads entry points (sitecustomize-entrypoints
/// and the like): its source names `entry_points` and the `sitecustomize` group.
fn loads_entry_points(ctx: &Ctx<'_>) -> bool {
    super::imported::resolve(ctx, "sitecustomize")
        .iter()
        .filter_map(|p| ctx.tree.read(p).ok())
        .any(|d| {
            let text = String::from_utf8_lossy(&d.bytes);
            text.contains("entry_points") && text.contains("sitecustomize")
        })
}

/// `3`, `3.12`: the version suffix of `pip3.12`.
fn is_version(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.')
}
