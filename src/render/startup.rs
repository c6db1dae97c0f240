//! `pthscan debug-startup --spec FILE`: the start-up model as JSON, in the shape the CPython
//! oracle prints (`tests/oracle/`), so that the two can be compared line by line.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use pthscan_core::fs::Disk;
use pthscan_core::python::startup::{
    self, Finder, InstallKind, Interpreter, Layout, ModKind, PthAction, PyVersion, View,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The interpreter and environment to model.
#[derive(Debug, Deserialize)]
struct Spec {
    version: String,
    prefix: PathBuf,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    venv_base_prefix: Option<PathBuf>,
    #[serde(default)]
    user_base: Option<PathBuf>,
    #[serde(default)]
    enable_user_site: bool,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    modules: Vec<String>,
    #[serde(default)]
    platlibdir: Option<String>,
    #[serde(default)]
    layout: Option<String>,
}

/// Models the interpreter `spec_text` describes and writes the JSON contract to `out`.
/// Notes on what the model could not know go to `err`.
pub fn debug_startup(spec_text: &str, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let spec: Spec = serde_json::from_str(spec_text).context("the spec is not valid JSON")?;
    let version = PyVersion::parse(&spec.version)
        .ok_or_else(|| anyhow!("unknown Python version `{}`", spec.version))?;
    let mut interp = Interpreter::new(version, &spec.prefix);
    interp.kind = match spec.kind.as_deref() {
        None | Some("system") => InstallKind::System,
        Some("venv") => InstallKind::Venv,
        Some(other) => return Err(anyhow!("unknown kind `{other}`: `system` or `venv`")),
    };
    interp.base_prefix = spec.venv_base_prefix.clone();
    interp.user_base = spec.user_base.clone();
    interp.enable_user_site = spec.enable_user_site;
    interp.env = spec.env.clone().into_iter().collect();
    if let Some(p) = &spec.platlibdir {
        interp.platlibdir = p.clone();
    }
    if spec.layout.as_deref() == Some("debian") {
        interp.layout = Layout::Debian;
    }
    let tree = Disk::open(Path::new("/"), false, 64 << 20, Default::default())
        .context("cannot open the filesystem root")?;
    let view = View::new(&tree);
    let model = startup::path::compute(view, &interp);
    let finder = Finder::new(view, &model);
    let mut names: Vec<String> = Vec::new();
    for name in &spec.modules {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    for rec in &model.pth {
        let found = match rec.action {
            // import statements only, as the parser reads them (not `__import__('x')` calls)
            PthAction::Exec => pthscan_core::python::imports::imported_modules(
                &rec.text
                    .replace("__import__(", "__imp0rt__(")
                    .replace("import_module(", "imp0rt_module("),
            ),
            // the module an entry point imports, as written
            PthAction::EntryPoint => vec![rec.text.split(':').next().unwrap_or("").to_owned()],
            PthAction::Path => continue,
        };
        for name in found {
            let top = name.split('.').next().unwrap_or(&name).to_owned();
            if !names.contains(&top) {
                names.push(top);
            }
        }
    }
    let mut modules = Map::new();
    for name in names {
        let value = match finder.find(&name) {
            Some(r) if r.kind == ModKind::Namespace => json!({
                "file": null,
                "kind": "namespace",
                "origin": r.origin(),
                "portions": r.search.iter().map(|p| p.to_string_lossy().into_owned()).collect::<Vec<_>>(),
            }),
            Some(r) => {
                let mut v = json!({
                    "file": r.file.to_string_lossy(),
                    "kind": r.kind.as_str(),
                    "origin": r.origin(),
                });
                if let Some(c) = r.cached.as_ref().filter(|c| c.runs.runs_for_certain()) {
                    v["cached"] = json!(c.path.to_string_lossy());
                }
                v
            }
            None => Value::Null,
        };
        modules.insert(name, value);
    }
    let mut doc = json!({
        "version": spec.version,
        "sys_path": model.sys_path.iter().map(|e| e.path.to_string_lossy().into_owned()).collect::<Vec<_>>(),
        "pth": model.pth.iter().map(|r| json!({
            "file": r.file.to_string_lossy(),
            "line": r.line,
            "action": r.action.as_str(),
            "text": r.text,
        })).collect::<Vec<_>>(),
        "modules": modules,
    });
    if let Some(fatal) = &model.fatal {
        doc["fatal"] = json!(fatal);
    }
    for note in model.notes.iter().chain(&model.cut).chain(&finder.cut()) {
        writeln!(err, "pthscan: note: {note}")?;
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}
