//! IMP001: the modules a start-up hook imports, resolved inside the environment and judged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use pthscan_signatures::{Context, SignalHit};

use super::{Ctx, EVIDENCE_CHARS, RuleDoc, describe_hits, line_at, line_text, raise};
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::python::{Runs, imports::imported_modules, stdlib};

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[&RuleDoc {
    id: "IMP001",
    fix: super::Fix::Remove,
    rotate: &[],
    title: "module run by a start-up hook carries suspicious code",
    what: "A module that an executable `.pth` line, a `.start` entry point or a \
           sitecustomize imports, resolved in the same environment (site directories and the \
           directories `.pth` path lines add) by importlib's own rules for the interpreter's \
           version, cached bytecode that runs instead of a source included, with the signals it \
           carries. What it imports is followed to the end within the environment, up to a bound \
           on the modules one hook pulls in, which is reported when reached.",
    why: "A harmless-looking `import _shim` line is all an attacker needs in the `.pth` file: \
          the payload sits in `_shim.py`, where a scanner that reads only hook files never looks.",
    example: "sysmon_telemetry.pth: `import _sysmon_init`; _sysmon_init.py reads ~/.aws/credentials \
              and posts it with urllib → IMP001 high at _sysmon_init.py",
    references: &[
        "docs/threats/startup-hooks.md#start-files-pep-829, docs/threats/signals.md#shapes-of-malicious-start-up-code (beyond the .pth file)",
    ],
}];

/// One module file judged.
#[derive(Debug)]
pub struct ModuleVerdict {
    /// The dotted name it was imported as.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
    /// Signals in module context.
    pub hits: Vec<SignalHit>,
    /// The highest signal severity (info when none).
    pub severity: Severity,
    /// Line and text of the first signal.
    pub line: Option<(usize, String)>,
    /// Whether it is compiled (a sourceless `.pyc` or an extension module).
    pub compiled: bool,
    /// What its source imports (empty when compiled).
    pub imports: Vec<String>,
}

/// Module judgments of one environment, by file, and the hooks that led to each.
#[derive(Debug, Default)]
pub struct ModuleCache {
    by_path: HashMap<PathBuf, Rc<ModuleVerdict>>,
    /// The generations whose import system loads the file, where the models differ.
    runs: HashMap<PathBuf, Runs>,
    via: HashMap<PathBuf, Vec<String>>,
    order: Vec<PathBuf>,
}

/// How many modules one hook may pull in (a guard against pathological import graphs); a
/// hook that reaches it is reported as not followed to the end.
pub const MAX_MODULES_PER_HOOK: usize = 256;

/// How deep a hook's imports are followed: far enough to reach the end of any real chain
/// within the environment, the module bound being what stops a pathological one.
pub const FOLLOW_DEPTH: usize = 32;

/// Resolves and judges the modules `code` imports, following each module's own imports
/// `depth - 1` more levels. `via` names the hook, for the report.
pub fn judge_imports(ctx: &Ctx<'_>, code: &str, depth: usize, via: &str) -> Vec<Rc<ModuleVerdict>> {
    let mut out: Vec<Rc<ModuleVerdict>> = Vec::new();
    let mut queue: Vec<(String, usize)> = imported_modules(code)
        .into_iter()
        .map(|m| (m, depth))
        .collect();
    let mut seen: Vec<String> = Vec::new();
    let mut cut = false;
    while let Some((name, depth)) = queue.pop() {
        if depth == 0 || seen.contains(&name) {
            continue;
        }
        if out.len() >= MAX_MODULES_PER_HOOK {
            cut = true;
            break;
        }
        seen.push(name.clone());
        let top = name.split('.').next().unwrap_or(&name);
        if is_stdlib(ctx, top) {
            continue;
        }
        for file in resolve(ctx, &name) {
            if out.iter().any(|m| m.path == file) {
                continue;
            }
            let Some(verdict) = judge_file(ctx, &name, &file) else {
                continue;
            };
            ctx.modules
                .borrow_mut()
                .via
                .entry(file.clone())
                .or_default()
                .push(via.to_owned());
            queue.extend(verdict.imports.iter().map(|m| (m.clone(), depth - 1)));
            out.push(verdict);
        }
    }
    if cut {
        ctx.diagnostics.borrow_mut().push(crate::diagnostic::Diagnostic::incomplete(
            &ctx.env.root,
            format!(
                "{via} imports more than {MAX_MODULES_PER_HOOK} modules: the rest of what it imports was not followed"
            ),
        ));
    }
    out
}

/// Whether `import top` runs the standard library's module under every model of this
/// environment: importlib finds it in a standard library entry of `sys.path` (before any
/// site directory), or finds nothing in the tree and the name is the standard library's on
/// that version (an installation not under the scanned root). A standard library name found
/// elsewhere first — a `PYTHONPATH` entry, a site directory of a distribution that leaves the
/// module out (Debian's `tkinter`) — is judged like any module.
fn is_stdlib(ctx: &Ctx<'_>, top: &str) -> bool {
    use crate::python::startup::Why;
    if ctx.startup.is_empty() {
        return stdlib::is_stdlib(top);
    }
    ctx.startup
        .iter()
        .zip(ctx.finders())
        .all(|(model, finder)| match finder.find(top) {
            Some(r) => model.sys_path.iter().any(|e| {
                e.path == r.entry
                    && matches!(
                        e.why,
                        Why::Stdlib | Why::StdlibZip | Why::Dynload | Why::StdlibExtra
                    )
            }),
            None => stdlib::is_stdlib_for(top, model.interpreter.version),
        })
}

fn judge_file(ctx: &Ctx<'_>, name: &str, path: &Path) -> Option<Rc<ModuleVerdict>> {
    if let Some(v) = ctx.modules.borrow().by_path.get(path) {
        return Some(Rc::clone(v));
    }
    // a module in a zip on the path is read out of the archive
    let data = ctx.read_code(path)?;
    let compiled = path.extension().is_none_or(|e| e != "py");
    let hits = ctx.sigs.signals.scan(&data.bytes, Context::Module);
    let line = hits.first().map(|h| {
        let n = line_at(&data.bytes, h.offset);
        (n, line_text(&data.bytes, n))
    });
    let imports = if compiled {
        Vec::new()
    } else {
        imported_modules(&String::from_utf8_lossy(&data.bytes))
    };
    let verdict = Rc::new(ModuleVerdict {
        name: name.to_owned(),
        path: path.to_path_buf(),
        sha256: data.sha256,
        severity: raise(Severity::Info, &hits),
        hits,
        line,
        compiled,
        imports,
    });
    let mut cache = ctx.modules.borrow_mut();
    cache.order.push(path.to_path_buf());
    cache
        .by_path
        .insert(path.to_path_buf(), Rc::clone(&verdict));
    Some(verdict)
}

/// The files that run when `name` (dotted) is imported: each package's `__init__` and the
/// module itself, found by importlib's rules ([`Finder`](crate::python::startup::Finder)) over
/// each modelled version's `sys.path` and then the directories this scan adds (package
/// directory with every loader suffix, module file, namespace portions across the path, zips),
/// and cached bytecode that may run instead of a source; a module in a zip is read out of
/// the archive (its source member too where the bytecode member may be refused).
pub fn resolve(ctx: &Ctx<'_>, name: &str) -> Vec<PathBuf> {
    resolve_with_model(ctx, name)
}

fn resolve_with_model(ctx: &Ctx<'_>, name: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut runs: HashMap<PathBuf, Runs> = HashMap::new();
    let mut all = Runs::NEVER;
    for finder in ctx.finders() {
        let bits = finder.interpreter().version.generations();
        all = all.union(bits);
        for r in finder.find_chain(name) {
            let mut candidates = r.runs();
            if r.kind == crate::python::startup::ModKind::Zip
                && r.file.extension().is_some_and(|e| e == "pyc")
            {
                // zipimport falls back to the source member when the bytecode's header is
                // another version's or stale: both may run
                candidates.push(r.file.with_extension("py"));
            }
            for file in candidates {
                let disk = ctx.disk_path(&file);
                if ctx.tree.is_file(&disk) || r.kind == crate::python::startup::ModKind::Zip {
                    let entry = runs.entry(disk.clone()).or_default();
                    *entry = entry.union(bits);
                    if !files.contains(&disk) {
                        files.push(disk);
                    }
                }
            }
        }
    }
    let mut cache = ctx.modules.borrow_mut();
    for (file, on) in runs {
        if on != all {
            cache.runs.insert(file, on);
        }
    }
    files
}

/// IMP001 findings: every judged module with a signal at `low` or above.
pub fn findings(ctx: &Ctx<'_>) -> Vec<Finding> {
    let cache = ctx.modules.borrow();
    cache
        .order
        .iter()
        .filter_map(|path| {
            let v = cache.by_path.get(path)?;
            if v.severity < Severity::Low {
                return None;
            }
            let via = cache.via.get(path).cloned().unwrap_or_default();
            let (line, text) = v
                .line
                .clone()
                .map_or((None, String::new()), |(n, t)| (Some(n), t));
            Some(Finding {
                rule: "IMP001".into(),
                severity: v.severity,
                location: Location {
                    path: v.path.clone(),
                    line,
                    column: None,
                },
                environment: Some(ctx.env.root.clone()),
                message: format!(
                    "module `{}`, run at start-up by {}, {}",
                    v.name,
                    via.first().map_or("a hook", String::as_str),
                    describe_hits(&v.hits)
                ),
                evidence: excerpt(text.trim(), EVIDENCE_CHARS),
                signals: v.hits.clone(),
                known_good: None,
                runs_on: cache.runs.get(path).copied().unwrap_or(Runs::ALL),
                sha256: v.sha256.clone(),
                notes: via
                    .iter()
                    .skip(1)
                    .map(|h| format!("also run by {h}"))
                    .collect(),
                ..Default::default()
            })
        })
        .collect()
}
