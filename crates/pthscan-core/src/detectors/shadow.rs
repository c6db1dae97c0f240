//! SHD001: a standard library module every start imports before `site`, found instead in a
//! `PYTHONPATH` entry, or a `._pth` line listed before the standard library, which come
//! before it on `sys.path`.

use std::path::PathBuf;

use super::{Ctx, RuleDoc};
use crate::finding::{Finding, Location, Severity};
use crate::python::startup::{Finder, ModKind, PyVersion, Why};

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[&RuleDoc {
    id: "SHD001",
    fix: super::Fix::Remove,
    rotate: &[],
    title: "a standard library module imported at every start is shadowed",
    what: "A module the interpreter imports from `sys.path` at every start, before `site` — \
           `encodings` always, `linecache` from 3.13, and up to 3.10 `site`, `os`, `codecs`, \
           `io`, `abc` and the other modules not frozen into it — found by importlib's rules in \
           a `PYTHONPATH` entry (set on the system or in an image), which comes before the \
           standard library, or in a folder a `._pth` file lists before the standard library's \
           zip or `Lib`, so that it runs instead of the standard library's. High, whatever it \
           holds.",
    why: "It runs before any hook and even under `-S`: the earliest place code can hide, and no \
          honest installation puts one there.",
    example: "PYTHONPATH=/opt/app (set in /etc/environment) and /opt/app/encodings/__init__.py → \
              SHD001 high at /opt/app/encodings/__init__.py",
    references: &[
        "docs/threats/startup-hooks.md#finding-pth-files-in-a-site-directory (sys.path order)",
        "CPython: Python/pylifecycle.c (init_import_site), Modules/getpath.py",
    ],
}];

/// What 3.6–3.10 import from `sys.path` before `site` runs, and `site` itself.
const UNFROZEN: &[&str] = &[
    "encodings",
    "codecs",
    "io",
    "abc",
    "site",
    "os",
    "stat",
    "_collections_abc",
    "posixpath",
    "genericpath",
    "_sitebuiltins",
];

/// The modules `version` imports from `sys.path` before `site` runs (the rest are built in or
/// frozen), as the interpreters answer `sys.modules` after a `-I -S` start.
pub fn early_modules(version: PyVersion) -> Vec<&'static str> {
    match version.xy() {
        (2, _) => vec![
            "encodings",
            "codecs",
            "site",
            "os",
            "posixpath",
            "stat",
            "genericpath",
            "warnings",
            "linecache",
            "types",
            "UserDict",
            "_abcoll",
            "abc",
            "_weakrefset",
            "copy_reg",
            "traceback",
            "sysconfig",
            "_sysconfigdata",
            "re",
            "sre_compile",
            "sre_parse",
            "sre_constants",
        ],
        (3, 6..=9) => [UNFROZEN, &["_bootlocale"]].concat(),
        (3, 10) => UNFROZEN.to_vec(),
        (3, 11 | 12) => vec!["encodings"],
        _ => vec!["encodings", "linecache"],
    }
}

/// Whether a `._pth` line's `path` is where the standard library is: a `python312.zip`, `Lib`
/// (any case: Windows) or `lib/python3.12`.
fn names_the_stdlib(path: &std::path::Path, model: &crate::python::startup::Startup) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let v = model.interpreter.version;
    (name.starts_with("python") && name.ends_with(".zip"))
        || name == "lib"
        || name == format!("python{}", v.dotted())
}

/// SHD001 findings over every start-up model of the environment, one per file.
pub fn judge(ctx: &Ctx<'_>) -> Vec<Finding> {
    let view = ctx.view();
    let mut out: Vec<Finding> = Vec::new();
    let mut done: Vec<PathBuf> = Vec::new();
    for model in &ctx.startup {
        let finder = Finder::new(view, model);
        let stdlib_at = match (model.sys_path.iter())
            .position(|e| matches!(e.why, Why::StdlibZip | Why::Stdlib))
        {
            Some(at) => at,
            // a `._pth` file lists the standard library itself (an embeddable distribution's
            // `python312.zip`, an installation's `Lib`): what it lists before that comes first
            None => (model.sys_path.iter())
                .position(|e| {
                    matches!(e.why, Why::PthLine { .. }) && names_the_stdlib(&e.path, model)
                })
                .unwrap_or(0),
        };
        for name in early_modules(model.interpreter.version) {
            let Some(r) = finder.find(name) else {
                continue;
            };
            let Some(at) = model.sys_path.iter().position(|e| e.path == r.entry) else {
                continue;
            };
            // a `PYTHONPATH` entry, or a `._pth` line, before the standard library
            if at >= stdlib_at
                || r.kind == ModKind::Namespace
                || !matches!(
                    model.sys_path[at].why,
                    Why::PythonPath | Why::PthLine { .. }
                )
            {
                continue;
            }
            let disk = ctx.disk_path(&r.file);
            if done.contains(&disk) {
                continue;
            }
            done.push(disk.clone());
            // judged by the payload rules as start-up code, too
            let data = ctx.read_code(&disk);
            let mut notes = vec![format!(
                "`{name}` is imported at every start before `site`; here it is found in {} ({})",
                model.sys_path[at].path.display(),
                model.sys_path[at].why.describe()
            )];
            if let Some(c) = &model.condition {
                notes.push(format!("where the interpreter starts with {c}"));
            }
            out.push(Finding {
                rule: "SHD001".into(),
                severity: Severity::High,
                location: Location {
                    path: disk,
                    line: None,
                    column: None,
                },
                environment: Some(ctx.env.root.clone()),
                message: format!(
                    "standard library module `{name}` is shadowed: this file runs instead, at every start of Python {}",
                    model.interpreter.version
                ),
                sha256: data.map(|d| d.sha256).unwrap_or_default(),
                notes,
                ..Default::default()
            });
        }
    }
    out
}
