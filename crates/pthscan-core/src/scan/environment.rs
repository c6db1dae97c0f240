//! One environment judged: its site directories' hooks, its start-up models, then every
//! detector in the order their findings depend on.

use crate::detectors::integrity::Hashing;
use crate::detectors::{self, Ctx, HookFile};
use crate::diagnostic::Diagnostic;
use crate::discovery::variables::Setting;
use crate::discovery::{self, Environment};
use crate::finding::Finding;
use crate::fs::{Kind, Tree};
use crate::python::pth::{PthAnalysis, classify};
use pthscan_signatures::{PayloadScanner, Role, Signatures};
use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::*;

/// Judges one environment, with paths as people see them, and the environment itself so shown.
pub(super) fn judge_work(
    sigs: &Signatures,
    w: &Work,
    options: &ScanOptions,
) -> (Judged, Option<Environment>) {
    let mut j = judge_environment(sigs, w, options);
    shown_as(&*w.tree, &mut j);
    let shown = |p: &PathBuf| w.tree.display(p);
    let mut inventory = std::mem::take(&mut j.inventory);
    for d in &mut inventory {
        d.metadata = shown(&d.metadata);
    }
    let env = Environment {
        root: shown(&w.env.root),
        site_dirs: w.env.site_dirs.iter().map(shown).collect(),
        code_dirs: w.env.code_dirs.iter().map(shown).collect(),
        distributions: inventory.len(),
        inventory,
        ..w.env.clone()
    };
    (j, Some(env))
}

pub(super) struct SiteHooks {
    pub(super) dir: PathBuf,
    pub(super) pth: Vec<(HookFile, PthAnalysis)>,
    pub(super) start: Vec<HookFile>,
}

/// What judging one environment produced.
#[derive(Default)]
pub(super) struct Judged {
    pub(super) findings: Vec<Finding>,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) hooks: usize,
    /// The installed distributions, each read once.
    pub(super) inventory: Vec<crate::python::dist::Distribution>,
    /// Start-up files under the payload rules.
    pub(super) startup_code: usize,
    /// The other files under the payload rules, judged as installed or as loose code.
    pub(super) other_code: usize,
    pub(super) loose: bool,
    /// Archives a RECORD lists, present at the size it gives (virtualenv's seed wheels, a
    /// package's test data): installed files like any other, opened only with `--deep`.
    pub(super) recorded_archives: Vec<PathBuf>,
    /// What the walk of site directories that discovery did not enter found in them.
    pub(super) inside: Option<discovery::Discovery>,
}

pub(super) fn judge_environment(sigs: &Signatures, work: &Work, options: &ScanOptions) -> Judged {
    let tree = &*work.tree;
    let env = &work.env;
    let case_index = crate::fs::case::CaseIndex::default();
    let windows = discovery::windows_layout(tree, env);
    let mut ctx = Ctx {
        sigs,
        db: &options.db,
        tree,
        system_owned: &work.system_owned,
        env,
        search_path: env.site_dirs.clone(),
        startup: startup_models(tree, env, &work.variables, &case_index, windows),
        case_index: &case_index,
        windows,
        finders: Default::default(),
        modules: RefCell::default(),
        diagnostics: RefCell::default(),
        startup_files: RefCell::default(),
        startup_held: Default::default(),
    };
    // Phase 1: read every .pth and .start file, and learn what the path lines add to sys.path.
    let mut sites: Vec<SiteHooks> = env
        .site_dirs
        .iter()
        .map(|dir| read_site_dir(&ctx, dir))
        .collect();
    // hooks of hooks: a directory start-up code hands to `site.addsitedir` has its `.pth`
    // files processed too (read here as a site directory of its own, and said)
    let added_by = add_site_dirs(&ctx, &mut sites);
    for (dir, _) in &added_by {
        if !ctx.search_path.contains(dir) {
            ctx.search_path.push(dir.clone());
        }
    }
    for site in &sites {
        let live_site = ctx.live_path(&site.dir);
        for (_, analysis) in &site.pth {
            for line in &analysis.path_lines {
                let disk = ctx.disk_path(&detectors::pth_paths::target(
                    &live_site,
                    &line.text,
                    ctx.windows(),
                ));
                if disk.starts_with(tree.root())
                    && !ctx.search_path.contains(&disk)
                    && tree.kind_followed(&disk) == Some(Kind::Dir)
                {
                    ctx.search_path.push(disk);
                }
            }
        }
    }
    // the model's sys.path: site directories as `site` finds them (through symlinks), and what
    // path lines add as each version reads them (` vendor` is `site-packages/ vendor` up to
    // 3.14), in order; zips on it are searched by the finder
    let mut model_dirs: Vec<PathBuf> = Vec::new();
    for model in &ctx.startup {
        for entry in &model.sys_path {
            use crate::python::startup::Why;
            // another installation's site directories (a venv's base) are judged as their own
            // environment, not again under each venv that includes them
            let disk = ctx.disk_path(&entry.path);
            let on_site_side = match entry.why {
                Why::PthLine { ref file, .. } => ctx.disk_path(file).starts_with(&env.root),
                Why::PythonPath => true,
                Why::VenvSite | Why::UserSite | Why::SystemSite => disk.starts_with(&env.root),
                _ => false,
            };
            if on_site_side
                && disk.starts_with(tree.root())
                && !model_dirs.contains(&disk)
                && tree.kind_followed(&disk) == Some(Kind::Dir)
            {
                model_dirs.push(disk);
            }
        }
    }
    for dir in model_dirs {
        if !ctx.search_path.contains(&dir) {
            ctx.search_path.push(dir);
        }
    }
    // directories only an interpreter started with some variable set has on its path: what
    // runs from there runs under that condition, and its findings say so
    let unconditional: HashSet<PathBuf> = ctx
        .startup
        .iter()
        .filter(|m| m.condition.is_none())
        .flat_map(|m| m.sys_path.iter().map(|e| ctx.disk_path(&e.path)))
        .collect();
    let conditional: Vec<(PathBuf, String)> = ctx
        .startup
        .iter()
        .filter_map(|m| m.condition.as_ref().map(|c| (m, c)))
        .flat_map(|(m, c)| {
            m.sys_path
                .iter()
                .map(|e| ctx.disk_path(&e.path))
                .filter(|d| !unconditional.contains(d))
                .map(move |d| (d, c.clone()))
        })
        .collect();
    // Phase 2: judge.
    let mut findings = Vec::new();
    let mut hooks = 0;
    for site in &sites {
        for (file, analysis) in &site.pth {
            hooks += 1;
            let stem = file.name.trim_end_matches(".pth");
            let start_sibling = site
                .start
                .iter()
                .find(|s| {
                    s.name.strip_suffix(".start") == Some(stem)
                        && !s.name.starts_with('.')
                        && std::str::from_utf8(&s.data.bytes).is_ok()
                })
                .map(|s| s.name.as_str());
            findings.extend(detectors::pth::judge(&ctx, file, analysis, start_sibling));
            findings.extend(detectors::pth_paths::judge(&ctx, &site.dir, file, analysis));
        }
        for file in &site.start {
            hooks += 1;
            let stem = file.name.trim_end_matches(".start");
            let pth_imports = site
                .pth
                .iter()
                .find(|(p, _)| p.name.strip_suffix(".pth") == Some(stem))
                .map_or(0, |(_, a)| a.exec_lines.len());
            findings.extend(detectors::start::judge(&ctx, file, pth_imports));
        }
    }
    let mut customize_dirs: Vec<PathBuf> = env
        .site_dirs
        .iter()
        .chain(&env.code_dirs)
        .cloned()
        .collect();
    customize_dirs.extend(
        ctx.search_path
            .iter()
            .filter(|d| !customize_dirs.contains(d))
            .cloned()
            .collect::<Vec<_>>(),
    );
    for dir in &customize_dirs {
        let found = detectors::customize::judge_dir(&ctx, dir);
        hooks += found.len();
        findings.extend(found);
    }
    let found = detectors::customize::judge_model(&ctx);
    hooks += found.len();
    findings.extend(found);
    let found = detectors::shadow::judge(&ctx);
    hooks += found.len();
    findings.extend(found);
    // a `PYTHONWARNINGS` filter's dotted category is imported at start-up, before `site`
    for model in &ctx.startup {
        for module in model.interpreter.warning_imports() {
            let via = format!(
                "the `PYTHONWARNINGS` filter ({})",
                model.condition.as_deref().unwrap_or("set")
            );
            detectors::imported::judge_imports(
                &ctx,
                &format!("import {module}"),
                detectors::imported::FOLLOW_DEPTH,
                &via,
            );
        }
    }
    findings.extend(detectors::imported::findings(&ctx));

    // Phase 3: installed distributions against the IOC tables, installed files against the
    // records of what installed them.
    let mut metadata = crate::python::dist::metadata_files(tree, &env.site_dirs);
    if env.kind == discovery::EnvKind::Sdist {
        // an sdist's own core metadata: `PKG-INFO` at its top or in the one directory it
        // unpacks to
        metadata.extend(crate::python::dist::sdist_metadata(tree, &env.root));
    }
    let (mut inventory, found) = detectors::distributions::distributions(&ctx, &metadata);
    findings.extend(found);
    let startup_paths: HashSet<PathBuf> = ctx
        .startup_files
        .borrow()
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    // a wheel is checked against its RECORD member by member (REC rules) when it is opened
    let hashing = if options.deep {
        Hashing::Deferred
    } else {
        Hashing::Never
    };
    let mut finder = work.reader.as_ref().map(|_| discovery::Finder::default());
    let (found, listing) = if env.kind == crate::discovery::EnvKind::Wheel {
        Default::default()
    } else {
        detectors::integrity::check(&ctx, &metadata, &startup_paths, hashing, finder.as_mut())
    };
    let recorded_archives = listing.recorded_archives(&found);
    // what the RECORDs read by the check tell the inventory
    inventory.sort_by(|a, b| a.metadata.cmp(&b.metadata));
    for facts in &listing.records {
        if let Ok(i) = inventory.binary_search_by(|d| d.metadata.cmp(&facts.metadata)) {
            inventory[i].add_record(facts.sha256.clone(), &facts.top_level);
        }
    }
    inventory.sort();
    findings.extend(found);
    findings.extend(detectors::entry_points::judge(&ctx, &metadata));

    // Phase 4: payload rules and file IOCs over all start-up code read above, and over the
    // install-time code of an sdist.
    let mut diagnostics = Vec::new();
    let mut judged: Vec<(PathBuf, crate::fs::FileBytes, Role)> = ctx
        .startup_files
        .take()
        .into_iter()
        .map(|(p, d)| (p, d, Role::Startup))
        .collect();
    for path in &work.install_hooks {
        hooks += 1;
        // held whole while judged, as start-up code is
        if let Some(data) = ctx.read_whole(path) {
            judged.push((path.clone(), data, Role::Install));
        }
    }
    let mut scanner =
        PayloadScanner::new(&sigs.payload, options.scan_timeout).with_behaviours(&sigs.behaviours);
    for (path, data, role) in &judged {
        if let Some(ioc) = sigs.iocs.file(&data.sha256) {
            findings.push(detectors::ioc::file_finding(
                ioc,
                &env.root,
                path,
                &data.sha256,
            ));
        }
        let (found, problems) = detectors::payload::judge(
            &mut scanner,
            &env.root,
            path,
            &data.bytes,
            Some(&data.sha256),
            *role,
        );
        findings.extend(found);
        diagnostics.extend(problems);
    }
    let startup_code = judged.len();
    let mut other_code = 0;

    // Phase 5 (--deep, or a package archive): every file of every distribution.
    if options.deep || work.every_file {
        findings.extend(detectors::ioc::record_hashes(&ctx, &metadata));
        let skip: HashSet<PathBuf> = judged.into_iter().map(|(p, _, _)| p).collect();
        let dirs = if work.every_file {
            vec![env.root.clone()]
        } else {
            ctx.search_path.clone()
        };
        let deep = deep_scan(sigs, tree, env, &dirs, &skip, &listing, options);
        if env.kind == discovery::EnvKind::Loose {
            let n = deep.other_code + skip.len();
            let what = match loose_shape(tree, &env.root) {
                Some(shape) => format!("{shape}: judged as installed, "),
                None => String::new(),
            };
            diagnostics.push(Diagnostic::note(
                &env.root,
                format!("not a Python environment: {what}{n} files judged as loose code"),
            ));
        }
        findings.extend(deep.findings);
        diagnostics.extend(deep.diagnostics);
        other_code = deep.other_code;
    }
    diagnostics.extend(ctx.diagnostics.into_inner());
    listing.attribute(&mut findings);
    for f in &mut findings {
        for (dir, by) in &added_by {
            if f.location.path.starts_with(dir) {
                let note = format!("processed as a site directory because {by}");
                if !f.notes.contains(&note) {
                    f.notes.push(note);
                }
            }
        }
        for (dir, condition) in &conditional {
            let note =
                format!("on sys.path, and run, where the interpreter starts with {condition}");
            if f.location.path.starts_with(dir) && !f.notes.contains(&note) {
                f.notes.push(note);
            }
        }
    }
    Judged {
        findings,
        diagnostics,
        hooks,
        inventory,
        startup_code,
        other_code,
        loose: env.kind == discovery::EnvKind::Loose,
        recorded_archives,
        inside: finder.map(|f| f.finish(tree, Vec::new())),
    }
}

/// The start-up models an environment is judged under: its own version where known, else a
/// 3.14 and a 3.15 reading (path lines `rstrip()`ed, then stripped). None for what has no
/// interpreter layout (a user site alone, an artifact, loose files).
pub(super) fn startup_models(
    tree: &dyn Tree,
    env: &Environment,
    variables: &[Setting],
    case_index: &crate::fs::case::CaseIndex,
    windows: bool,
) -> Vec<crate::python::startup::Startup> {
    use crate::python::startup::{
        self, InstallKind, Interpreter, Layout, Platform, PyVersion, View,
    };
    let kind = match env.kind {
        discovery::EnvKind::Venv => InstallKind::Venv,
        discovery::EnvKind::Interpreter | discovery::EnvKind::Conda => InstallKind::System,
        _ => return Vec::new(),
    };
    let prefix = detectors::live_path(tree, &env.root);
    // the `._pth` getpath opens beside an embeddable distribution's DLL or executable
    let embedded = (windows && kind == InstallKind::System)
        .then(|| discovery::embedded_pth(tree, &env.root))
        .flatten();
    let live = |pth: &PathBuf| pth.file_name().map(|n| prefix.join(n));
    // the executables of the folder that read a `._pth` of their own: a model each
    let other_pths: Vec<PathBuf> = (embedded.iter())
        .flat_map(|e| e.others.iter().filter_map(|(_, pth)| live(pth)))
        .collect();
    let embedded = embedded.and_then(|e| e.pth.as_ref().and_then(live));
    let versions: Vec<PyVersion> = match env.python.as_deref().and_then(PyVersion::parse) {
        Some(v) => vec![v],
        // 3.6–3.10 read a `._pth` file otherwise than 3.11+ (`startup::pth_file`)
        None if embedded.is_some() || !other_pths.is_empty() => vec![
            PyVersion::new(3, 10),
            PyVersion::new(3, 14),
            PyVersion::new(3, 15),
        ],
        None => vec![PyVersion::new(3, 14), PyVersion::new(3, 15)],
    };
    // a Windows layout (`Lib\site-packages`, an embeddable distribution) or a macOS framework
    // build, on a mounted disk: the model of that platform
    let view = if windows {
        View::windows(tree, case_index)
    } else {
        View::new(tree)
    };
    // the interpreter as it starts with nothing set, then once per setting of a variable that
    // moves what it imports (a value a shell would expand is not known to a scan: said)
    let mut conditions: Vec<Option<&Setting>> = vec![None];
    // one model per distinct assignment: the same `PYTHONPATH` in several profiles is one
    for s in variables
        .iter()
        .filter(|s| MODEL_VARIABLES.contains(&s.name.as_str()) && !s.expands())
    {
        if !conditions
            .iter()
            .flatten()
            .any(|c| c.name == s.name && c.value == s.value)
        {
            conditions.push(Some(s));
        }
    }
    let mut out = Vec::new();
    for v in versions {
        for condition in &conditions {
            let mut interp = Interpreter::new(v, &prefix);
            interp.kind = kind;
            let lib64 = format!("lib64/python{}", v.dotted());
            if view.is_dir(&prefix.join(&lib64)) {
                interp.platlibdir = "lib64".into();
            }
            if env.site_dirs.iter().any(|d| d.ends_with("dist-packages")) {
                interp.layout = Layout::Debian;
            }
            if windows {
                interp.platform = Platform::Windows;
                interp.pth_file.clone_from(&embedded);
            } else if env.root.to_string_lossy().contains(".framework/Versions/") {
                interp.platform = Platform::MacOs;
                interp.framework = true;
            }
            if let Some(s) = condition {
                interp.env = vec![(s.name.clone(), s.value.clone())];
            }
            let mut model = startup::path::compute(view, &interp);
            if let Some(s) = condition {
                model.condition = Some(s.describe());
            }
            let pth_files = if condition.is_some() {
                Vec::new()
            } else {
                let mut files = pth_files(view, &prefix, &interp);
                files.extend(other_pths.iter().cloned());
                files
            };
            out.push(model);
            for file in pth_files {
                let mut interp = interp.clone();
                interp.pth_file = Some(file.clone());
                let mut model = startup::path::compute(view, &interp);
                let exe = file.to_string_lossy();
                model.condition = Some(format!(
                    "`{}` as its executable (whose `._pth` file sets the whole `sys.path`)",
                    exe.strip_suffix("._pth").unwrap_or(&exe)
                ));
                out.push(model);
            }
        }
    }
    out
}

/// At most this many directories are added by `site.addsitedir` calls in start-up code.
pub(super) const MAX_ADDED_SITE_DIRS: usize = 16;

/// Follows `site.addsitedir("/dir")` in start-up code — executed `.pth` lines, and the
/// customize modules — reading each directory named by a string literal as a site directory
/// (its `.pth` files run, and may add more). Returns each directory added and why.
pub(super) fn add_site_dirs(ctx: &Ctx<'_>, sites: &mut Vec<SiteHooks>) -> Vec<(PathBuf, String)> {
    let mut added: Vec<(PathBuf, String)> = Vec::new();
    let mut customize_read = false;
    let mut from = 0;
    loop {
        let mut code: Vec<(String, String)> = Vec::new();
        for site in &sites[from..] {
            for (file, analysis) in &site.pth {
                for line in &analysis.exec_lines {
                    let shown = crate::pathfmt::display_path(&ctx.tree.display(&file.path));
                    code.push((format!("{shown}:{}", line.line), line.text.clone()));
                }
            }
        }
        if !customize_read {
            customize_read = true;
            for name in ["sitecustomize", "usercustomize"] {
                for path in detectors::imported::resolve(ctx, name) {
                    if let Some(data) = ctx.read(&path) {
                        let shown = crate::pathfmt::display_path(&ctx.tree.display(&path));
                        code.push((shown, String::from_utf8_lossy(&data.bytes).into_owned()));
                    }
                }
            }
        }
        from = sites.len();
        for (who, text) in code {
            for dir in addsitedir_literals(&text) {
                let disk = ctx.disk_path(Path::new(&dir));
                if sites.iter().any(|s| s.dir == disk)
                    || !disk.starts_with(ctx.tree.root())
                    || ctx.tree.kind_followed(&disk) != Some(Kind::Dir)
                {
                    continue;
                }
                if added.len() >= MAX_ADDED_SITE_DIRS {
                    ctx.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                        &ctx.env.root,
                        format!(
                            "start-up code adds more than {MAX_ADDED_SITE_DIRS} site directories with site.addsitedir: the rest were not read"
                        ),
                    ));
                    return added;
                }
                added.push((
                    disk.clone(),
                    format!("`{who}` calls site.addsitedir({dir:?})"),
                ));
                sites.push(read_site_dir(ctx, &disk));
            }
        }
        if from == sites.len() {
            return added;
        }
    }
}

/// The absolute directories `addsitedir("…")` calls in `code` name by a string literal.
pub(super) fn addsitedir_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("addsitedir") {
        let rest = code[at + "addsitedir".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('(') else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = rest.strip_prefix(['r', 'R']).unwrap_or(rest);
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = rest[1..].find(quote) {
            let dir = &rest[1..1 + end];
            if dir.starts_with('/') {
                out.push(dir.to_owned());
            }
        }
    }
    out
}

/// The `._pth` files that set the whole `sys.path` of an interpreter of this prefix started by
/// one name: `bin/<name>._pth` (3.11+), a Windows venv's `Scripts\<name>._pth`.
fn pth_files(
    view: crate::python::startup::View<'_>,
    prefix: &Path,
    interp: &crate::python::startup::Interpreter,
) -> Vec<PathBuf> {
    let windows = interp.platform == crate::python::startup::Platform::Windows;
    if !interp.version.at_least(3, 11) && !windows {
        return Vec::new();
    }
    let mut out = Vec::new();
    for bin in ["bin", "Scripts"] {
        let dir = prefix.join(bin);
        for name in view.listdir(&dir).unwrap_or_default() {
            if name.ends_with("._pth") {
                out.push(dir.join(name));
            }
        }
    }
    out
}

/// The variables the start-up model takes: each setting of one is a model of its own.
pub(super) const MODEL_VARIABLES: &[&str] = &[
    "PYTHONPATH",
    "PYTHONUSERBASE",
    "PYTHONPYCACHEPREFIX",
    "PYTHONOPTIMIZE",
    "PYTHONWARNINGS",
];

pub(super) fn read_site_dir(ctx: &Ctx<'_>, dir: &Path) -> SiteHooks {
    let mut site = SiteHooks {
        dir: dir.to_path_buf(),
        pth: Vec::new(),
        start: Vec::new(),
    };
    let entries = match ctx.tree.list(dir) {
        Ok(entries) => entries,
        Err(err) => {
            ctx.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                dir,
                format!("cannot list site directory: {err}"),
            ));
            return site;
        }
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .into_iter()
        .map(|e| (e.name, e.path))
        .filter(|(n, _)| n.ends_with(".pth") || n.ends_with(".start"))
        .collect();
    // CPython processes them in code-point order of the name
    names.sort();
    for (name, path) in names {
        let Some(data) = ctx.read(&path) else {
            continue;
        };
        let file = HookFile { path, name, data };
        if file.name.ends_with(".pth") {
            let analysis = classify(&file.data.bytes);
            site.pth.push((file, analysis));
        } else {
            site.start.push(file);
        }
    }
    site
}
