//! SHD001: a standard library module every start imports before `site`, found instead in a
//! `PYTHONPATH` entry, or a `._pth` line listed before the standard library, which come
//! before it on `sys.path`.

use std::path::PathBuf;

use super::{Ctx, RuleDoc};
use crate::finding::{Finding, Location, Severity};
use crate::fs::Kind;
use crate::python::startup::{Finder, ModKind, PyVersion, Why};

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[&SHADOW, &BUILD_MARKER];

const BUILD_MARKER: RuleDoc = RuleDoc {
    id: "SHD002",
    fix: super::Fix::Remove,
    rotate: &[],
    title: "an installed interpreter is pointed at another standard library",
    what: "`pybuilddir.txt` beside an installation's executable, or the build landmark \
           `Modules/Setup.local` where getpath looks for one (beside the executable on POSIX, two \
           folders above it on Windows): getpath then takes the installation for a CPython \
           source build, and loads the standard library — `encodings`, `os`, `site` — or its \
           extension modules from the folders the marker names or implies, not from the \
           installation's own. On Windows, a `pyvenv.cfg` beside an installation's own \
           `python.exe` (not a venv's, whose `python.exe` is in `Scripts`) whose `home` names \
           another folder: 3.6–3.10 look for the standard library there, and up to 3.13 the \
           folder above the installation becomes `sys.prefix`. No installer writes any of \
           these. High, whatever they hold.",
    why: "The standard library is imported at every start, before any hook and under `-S`: \
          moving where it comes from is the earliest place code can hide, and the moved-to \
          folder is one no scanner of site-packages reads.",
    example: "/usr/bin/pybuilddir.txt beside /usr/bin/python3.12 → SHD002 high at \
              /usr/bin/pybuilddir.txt",
    references: &[
        "https://github.com/python/cpython/blob/3.12/Modules/getpath.py (CHECK FOR BUILD DIRECTORY; Modules/getpath.c before 3.11)",
    ],
};

const SHADOW: RuleDoc = RuleDoc {
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
};

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
/// frozen), as the interpreters answer `sys.modules` after a `-I -S` start; on Windows `os`
/// imports `ntpath` where POSIX has `posixpath`.
pub fn early_modules(version: PyVersion, windows: bool) -> Vec<&'static str> {
    let mut out = posix_early_modules(version);
    if windows {
        for name in &mut out {
            if *name == "posixpath" {
                *name = "ntpath";
            }
        }
    }
    out
}

fn posix_early_modules(version: PyVersion) -> Vec<&'static str> {
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
        // 3.6's `abc` is Python, and imports `_weakrefset`
        (3, 6) => [UNFROZEN, &["_bootlocale", "_weakrefset"]].concat(),
        (3, 7..=9) => [UNFROZEN, &["_bootlocale"]].concat(),
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

/// Whether directory `dir` holds module `name` as source (`name.py`, `name/__init__.py`).
fn holds(view: &crate::python::startup::View<'_>, dir: &std::path::Path, name: &str) -> bool {
    view.is_file(&dir.join(format!("{name}.py")))
        || view.is_file(&dir.join(name).join("__init__.py"))
}

/// SHD002: getpath's build-directory markers where an installation's interpreter would find
/// them (`Ctx::windows`: `python.exe` in the prefix, the landmark two folders above it; POSIX:
/// `bin/`, the landmark beside the executable).
fn build_markers(ctx: &Ctx<'_>) -> Vec<Finding> {
    if ctx.env.kind == crate::discovery::EnvKind::Venv && ctx.windows() {
        return windows_venv_cfg(ctx);
    }
    if ctx.env.kind != crate::discovery::EnvKind::Interpreter {
        return Vec::new();
    }
    let root = &ctx.env.root;
    let exe_dir = if ctx.windows() {
        root.clone()
    } else {
        root.join("bin")
    };
    let landmark = if ctx.windows() {
        (exe_dir.ancestors().nth(2)).map(|up| up.join("Modules").join("Setup.local"))
    } else {
        Some(exe_dir.join("Modules").join("Setup.local"))
    };
    let mut out = Vec::new();
    if ctx.windows() {
        out.extend(windows_venv_cfg(ctx));
    }
    for marker in std::iter::once(exe_dir.join("pybuilddir.txt")).chain(landmark) {
        let disk = if ctx.windows() {
            crate::fs::case::fold_dirs(ctx.tree, &marker)
        } else {
            marker
        };
        if !disk.starts_with(ctx.tree.root()) || ctx.tree.kind(&disk) != Some(Kind::File) {
            continue;
        }
        let data = ctx.read_code(&disk);
        out.push(Finding {
            rule: "SHD002".into(),
            severity: Severity::High,
            location: Location {
                path: disk,
                line: None,
                column: None,
            },
            environment: Some(root.clone()),
            message: "getpath takes this installation for a source build: its standard library is loaded from where this marker points, not from the installation".into(),
            sha256: data.map(|d| d.sha256).unwrap_or_default(),
            ..Default::default()
        });
    }
    out
}

/// SHD002 for a Windows folder with its own `python.exe` (no `Scripts\python.exe`) beside a
/// `pyvenv.cfg` whose `home` names another folder.
fn windows_venv_cfg(ctx: &Ctx<'_>) -> Vec<Finding> {
    let root = &ctx.env.root;
    let Ok(entries) = ctx.tree.list(root) else {
        return Vec::new();
    };
    let named = |want: &str| {
        (entries.iter()).find(|e| e.kind == Kind::File && e.name.eq_ignore_ascii_case(want))
    };
    let scripts = crate::fs::case::fold_dirs(ctx.tree, &root.join("Scripts"));
    let (Some(_), Some(cfg)) = (named("python.exe"), named("pyvenv.cfg")) else {
        return Vec::new();
    };
    if ctx.tree.kind(&scripts.join("python.exe")) == Some(Kind::File) {
        return Vec::new();
    }
    let Some(data) = ctx.read_code(&cfg.path) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&data.bytes);
    let home = text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("home")).then(|| value.trim().to_owned())
    });
    let Some(home) = home else {
        return Vec::new();
    };
    let live = ctx.live_path(root);
    let target = crate::python::startup::path::windows_path(&home);
    let live = live.to_string_lossy();
    if target
        .trim_end_matches('/')
        .eq_ignore_ascii_case(live.trim_end_matches('/'))
    {
        return Vec::new(); // `home` is the installation itself
    }
    vec![Finding {
        rule: "SHD002".into(),
        severity: Severity::High,
        location: Location {
            path: cfg.path.clone(),
            line: None,
            column: None,
        },
        environment: Some(root.clone()),
        message: format!(
            "a pyvenv.cfg beside this installation's own python.exe sends getpath to `home = {home}`: 3.6–3.10 load the standard library from there, and up to 3.13 the folder above becomes sys.prefix"
        ),
        sha256: data.sha256,
        ..Default::default()
    }]
}

/// SHD001 findings over every start-up model of the environment, one per file, and SHD002.
pub fn judge(ctx: &Ctx<'_>) -> Vec<Finding> {
    let view = ctx.view();
    let mut out: Vec<Finding> = build_markers(ctx);
    let mut done: Vec<PathBuf> = Vec::new();
    for model in &ctx.startup {
        let finder = Finder::new(view, model);
        // where the standard library is: its directory and zip, or what a `._pth` file names
        // as them (`python312.zip`, `Lib`)
        let is_stdlib = |e: &crate::python::startup::path::PathEntry| match e.why {
            Why::Stdlib | Why::StdlibZip => true,
            Why::PthLine { .. } => names_the_stdlib(&e.path, model),
            _ => false,
        };
        let windows = model.interpreter.platform == crate::python::startup::Platform::Windows;
        for name in early_modules(model.interpreter.version, windows) {
            let Some(r) = finder.find(name) else {
                continue;
            };
            let Some(at) = model.sys_path.iter().position(|e| e.path == r.entry) else {
                continue;
            };
            let later = &model.sys_path[at + 1..];
            // found before the standard library, in what is not it (a `PYTHONPATH` entry, a
            // `._pth` line, the prefix 3.11+ put first when `DLLs` is missing); or in a zip
            // beside an installation's standard library directory that holds it too, which
            // no installer ships
            let shadow = if is_stdlib(&model.sys_path[at]) {
                model.sys_path[at].why == Why::StdlibZip
                    && later
                        .iter()
                        .any(|e| e.why == Why::Stdlib && holds(&view, &e.path, name))
            } else {
                later.iter().any(is_stdlib)
            };
            if !shadow || r.kind == ModKind::Namespace {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_modules_follow_the_version_and_the_platform() {
        // as `python3.6 -I -S` answers `sys.modules`: its `abc` is Python and needs
        // `_weakrefset`; 3.7's is C
        assert!(early_modules(PyVersion::new(3, 6), false).contains(&"_weakrefset"));
        assert!(!early_modules(PyVersion::new(3, 7), false).contains(&"_weakrefset"));
        // Windows' `os` imports `ntpath`
        let windows = early_modules(PyVersion::new(3, 10), true);
        assert!(windows.contains(&"ntpath") && !windows.contains(&"posixpath"));
        assert_eq!(
            early_modules(PyVersion::new(3, 13), true),
            ["encodings", "linecache"]
        );
    }
}
