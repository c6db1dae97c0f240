//! CUS001–CUS003: `sitecustomize` and `usercustomize` in every importable form.

use std::path::{Path, PathBuf};

use pthscan_signatures::Context;

use super::describe_hits;
use super::imported::judge_imports;
use super::{Ctx, EVIDENCE_CHARS, RuleDoc, line_at, line_text, raise};
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::fs::Kind;
use crate::pathfmt::display_path;
use crate::python::Runs;

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "CUS001",
        fix: super::Fix::Review,
        rotate: &[],
        title: "sitecustomize or usercustomize source",
        what: "A `sitecustomize.py`, `usercustomize.py` or such a package (`sitecustomize/__init__.py`; \
               on Windows `.pyw` too, and `__init__` by any spelling) in a site directory, the standard library, `lib-dynload`, `/etc/pythonX.Y` or a \
               directory a `.pth` path line adds. `site` imports it after the `.pth` files at every \
               start. Known-good content (Ubuntu's apport hook, …) is info; anything else medium, \
               raised by its signals and by the modules it imports.",
        why: "A customize module is a whole Python file that runs at every start: the roomiest \
              start-up hook there is.",
        example: "sitecustomize.py:2: exec(zlib.decompress(base64.b64decode(\"…\"))) → critical",
        references: &[
            "docs/threats/startup-hooks.md#sitecustomize-and-usercustomize",
            "https://docs.python.org/3/library/site.html",
        ],
    },
    &RuleDoc {
        id: "CUS002",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "sourceless sitecustomize or usercustomize bytecode",
        what: "A `sitecustomize.pyc` or `usercustomize.pyc` in the directory itself (not \
               `__pycache__`), or a customize package whose `__init__` is only bytecode. The \
               import system runs such a file when no source is beside it. High.",
        why: "No legitimate distribution ships its start-up hook as bare bytecode; it is how a \
              payload hides from a reviewer who reads `.py` files.",
        example: "sitecustomize.pyc → high",
        references: &[
            "docs/threats/startup-hooks.md#sitecustomize-and-usercustomize (forms that count)",
        ],
    },
    &RuleDoc {
        id: "CUS003",
        fix: super::Fix::Review,
        rotate: &[],
        title: "compiled sitecustomize or usercustomize extension module",
        what: "A `sitecustomize` or `usercustomize` extension module (`.so`, `.abi3.so`, \
               `.cpython-3XY-….so`, `.pyd`), which the import system prefers over a `.py` beside it. \
               High.",
        why: "Native code at every start, which no source review sees.",
        example: "sitecustomize.cpython-312-x86_64-linux-gnu.so → high",
        references: &[
            "docs/threats/startup-hooks.md#sitecustomize-and-usercustomize (forms that count)",
        ],
    },
];

const NAMES: [&str; 2] = ["sitecustomize", "usercustomize"];

/// Judges the customize modules in one directory on `sys.path`.
pub fn judge_dir(ctx: &Ctx<'_>, dir: &Path) -> Vec<Finding> {
    let entries = match ctx.tree.list(dir) {
        Ok(entries) => entries,
        Err(err) => {
            ctx.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                dir,
                format!("cannot list directory: {err}"),
            ));
            return Vec::new();
        }
    };
    // Windows' importlib adds `.pyw` to the source suffixes, and finds a package's `__init__`
    // by a stat NTFS answers for any spelling
    let windows = ctx.windows();
    let mut candidates: Vec<(PathBuf, &'static str, Form)> = Vec::new();
    for e in entries {
        let name = &e.name;
        for base in NAMES {
            let Some(rest) = name.strip_prefix(base) else {
                continue;
            };
            // importlib on Windows compares suffixes lower-cased (`sitecustomize.PY`)
            let rest = if windows {
                rest.to_lowercase()
            } else {
                rest.to_owned()
            };
            let form = match rest.as_str() {
                "" if e.kind == Kind::Dir => Form::Package,
                ".py" => Form::Source,
                ".pyw" if windows => Form::Source,
                ".pyc" => Form::Bytecode,
                r if r.starts_with('.') && (r.ends_with(".so") || r.ends_with(".pyd")) => {
                    Form::Extension
                }
                _ => continue,
            };
            candidates.push((e.path.clone(), base, form));
        }
    }
    candidates.sort();
    let mut out = Vec::new();
    for (path, base, form) in candidates {
        let file = match form {
            Form::Package => match package_init(ctx, &path, windows) {
                Some(init) => init,
                None => continue, // a bare directory is an empty namespace package: nothing runs
            },
            _ => path,
        };
        out.extend(judge_file(ctx, &file, base, form).map(|mut f| {
            f.runs_on = super::runs_on_path(ctx, dir);
            f
        }));
    }
    out
}

/// The `__init__` of the package directory `dir` that runs: its source, else its bytecode —
/// on Windows by any spelling of the name, as NTFS opens it.
fn package_init(ctx: &Ctx<'_>, dir: &Path, windows: bool) -> Option<PathBuf> {
    let inits: &[&str] = if windows {
        &["__init__.py", "__init__.pyw", "__init__.pyc"]
    } else {
        &["__init__.py", "__init__.pyc"]
    };
    let names: Vec<String> = if windows {
        let mut names: Vec<String> = (ctx.tree.list(dir).ok()?.into_iter())
            .map(|e| e.name)
            .collect();
        names.sort();
        names
    } else {
        Vec::new()
    };
    inits.iter().find_map(|want| {
        let exact = dir.join(want);
        if ctx.tree.kind(&exact).is_some() {
            return Some(exact);
        }
        let name = names.iter().find(|n| n.eq_ignore_ascii_case(want))?;
        Some(dir.join(name))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Form {
    Package,
    Source,
    Bytecode,
    Extension,
}

/// The customize modules importlib finds only by its own rules, under each modelled version:
/// one in a zip on `sys.path` (the standard library zip, a path line naming an archive), and
/// cached bytecode in `__pycache__` that runs instead of a `sitecustomize.py` (an
/// unchecked-hash `.pyc` runs whatever the source says).
pub fn judge_model(ctx: &Ctx<'_>) -> Vec<Finding> {
    use crate::python::startup::{Finder, ModKind};
    let view = ctx.view();
    let mut out: Vec<Finding> = Vec::new();
    let mut done: Vec<PathBuf> = Vec::new();
    for model in &ctx.startup {
        for cut in &model.cut {
            ctx.diagnostics
                .borrow_mut()
                .push(Diagnostic::incomplete(&ctx.env.root, cut.clone()));
        }
        let finder = Finder::new(view, model);
        for base in NAMES {
            if base == "usercustomize" && !model.usercustomize {
                continue;
            }
            let Some(r) = finder.find(base) else {
                continue;
            };
            let version = model.interpreter.version;
            if r.kind == ModKind::Zip {
                // the member found, and for bytecode its source member, which zipimport runs
                // when the bytecode's header is another version's or stale
                let mut members = vec![r.file.clone()];
                if r.file.extension().is_some_and(|e| e == "pyc") {
                    members.push(r.file.with_extension("py"));
                }
                for member in members {
                    let disk = ctx.disk_path(&member);
                    if done.contains(&disk) {
                        continue;
                    }
                    done.push(disk.clone());
                    if let Some(data) = super::read_zip_member(ctx, &disk) {
                        let form = if member.extension().is_some_and(|e| e == "py") {
                            Form::Source
                        } else {
                            Form::Bytecode
                        };
                        let mut f = judge_data(ctx, &disk, base, form, data, true);
                        f.severity = f.severity.max(Severity::High);
                        f.message = format!("{} (in a zip on sys.path)", f.message);
                        f.notes.push(format!("runs on {version}: {}", r.origin()));
                        out.push(f);
                    }
                }
                continue;
            }
            if let Some(cached) = r.cached.as_ref().filter(|c| c.runs.may_run()) {
                let disk = ctx.disk_path(&cached.path);
                if done.contains(&disk) {
                    continue;
                }
                done.push(disk.clone());
                let source = ctx.disk_path(&r.file);
                // bytecode compiled from the source beside it is that source, judged above;
                // bytecode naming what the source does not was compiled from other code
                let absent = compiled_from(ctx, &disk, &source);
                if absent.as_ref().is_some_and(Vec::is_empty) {
                    continue;
                }
                if let Some(mut f) = judge_file(ctx, &disk, base, Form::Bytecode) {
                    f.message = match &absent {
                        Some(words) => format!(
                            "cached {base} bytecode compiled from other code than `{}` runs instead of it: it names {} that the source does not",
                            display_path(&source),
                            words
                                .iter()
                                .take(4)
                                .map(|w| format!("`{}`", crate::finding::excerpt(w, 40)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        None => format!(
                            "cached {base} bytecode may run instead of `{}`",
                            display_path(&source)
                        ),
                    };
                    f.notes
                        .push(format!("runs on {version}: {}", cached.runs.describe()));
                    out.push(f);
                }
            }
        }
        for cut in finder.cut() {
            ctx.diagnostics
                .borrow_mut()
                .push(Diagnostic::incomplete(&ctx.env.root, cut));
        }
    }
    out
}

/// What the cached bytecode `pyc` names that `source` does not spell
/// ([`pthscan_analysis::bytecode::absent_from_source`]); `None` when either cannot be read or
/// the bytecode not parsed.
fn compiled_from(ctx: &Ctx<'_>, pyc: &Path, source: &Path) -> Option<Vec<String>> {
    let code = ctx.read_whole(pyc)?;
    let text = ctx.read_whole(source)?;
    let codes = pthscan_analysis::bytecode::pyc_code_objects(&code.bytes)?;
    Some(pthscan_analysis::bytecode::absent_from_source(
        &codes,
        &String::from_utf8_lossy(&text.bytes),
    ))
}

fn judge_file(ctx: &Ctx<'_>, file: &Path, base: &str, form: Form) -> Option<Finding> {
    let data = ctx.read(file)?;
    Some(judge_data(ctx, file, base, form, data, false))
}

fn judge_data(
    ctx: &Ctx<'_>,
    file: &Path,
    base: &str,
    form: Form,
    data: crate::fs::FileBytes,
    held: bool,
) -> Finding {
    if held {
        ctx.startup_files
            .borrow_mut()
            .push((file.to_path_buf(), data.clone()));
    }
    // a package's `__init__` is source by its suffix, in the spelling found (`__INIT__.PY`)
    let is_source = form == Form::Source
        || file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("py") || e.eq_ignore_ascii_case("pyw"));
    let (rule, floor) = match (form, is_source) {
        (Form::Extension, _) => ("CUS003", Severity::High),
        (_, false) => ("CUS002", Severity::High),
        _ => ("CUS001", Severity::Medium),
    };
    let text = String::from_utf8_lossy(&data.bytes);
    let known = is_source
        .then(|| ctx.sigs.known_good.judge_customize(&text))
        .flatten();
    let hits = if known.is_some() {
        Vec::new()
    } else {
        ctx.sigs.signals.scan(&data.bytes, Context::Startup)
    };
    let mut severity = if known.is_some() {
        Severity::Info
    } else {
        raise(floor, &hits)
    };
    let mut notes = Vec::new();
    if base == "usercustomize" {
        notes.push("usercustomize runs only where the user site is enabled (not under -s or -I, nor in a venv)".into());
    }
    if is_source {
        let via = format!("`{}`", display_path(file));
        for m in judge_imports(
            ctx,
            &text,
            if known.is_some() {
                1
            } else {
                super::imported::FOLLOW_DEPTH
            },
            &via,
        ) {
            severity = severity.max(super::lift(m.severity, known.is_some()));
            if m.severity >= Severity::Low {
                notes.push(format!(
                    "imports `{}` from `{}` ({}, see IMP001)",
                    m.name,
                    display_path(&m.path),
                    m.severity
                ));
            }
        }
    }
    let line = hits
        .first()
        .filter(|_| is_source)
        .map(|h| line_at(&data.bytes, h.offset));
    let evidence = match line {
        Some(n) => line_text(&data.bytes, n).trim().to_owned(),
        None if is_source => text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .unwrap_or("")
            .trim()
            .to_owned(),
        None => format!(
            "{} bytes of {}",
            data.size,
            if form == Form::Extension {
                "native code"
            } else {
                "bytecode"
            }
        ),
    };
    let what = match rule {
        "CUS003" => format!("compiled {base} extension module runs native code at every start"),
        "CUS002" => format!("sourceless {base} bytecode runs at every start"),
        _ => format!("{base} runs at every start"),
    };
    let message = match known {
        Some(entry) => format!("known-good {base} `{}`: {}", entry.id, entry.description),
        None if hits.is_empty() => what,
        None => format!("{what} and {}", describe_hits(&hits)),
    };
    Finding {
        rule: rule.into(),
        severity,
        location: Location {
            path: file.to_path_buf(),
            line,
            column: None,
        },
        environment: Some(ctx.env.root.clone()),
        message,
        evidence: excerpt(&evidence, EVIDENCE_CHARS),
        signals: hits,
        known_good: known.map(|e| e.id.clone()),
        runs_on: Runs::ALL,
        sha256: data.sha256,
        notes,
        ..Default::default()
    }
}
