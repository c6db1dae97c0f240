//! The ordered `sys.path` one interpreter has once `site` has run, and the `.pth` lines it
//! executed or added on the way.
//!
//! 1. `getpath`: `PYTHONPATH` entries, then `prefix/{platlibdir}/pythonXY.zip` (listed whether
//!    it exists or not), the standard library, `lib-dynload` (2.7 also `plat-linux2`,
//!    `lib-tk`, `lib-old`); a venv takes these from its base installation.
//! 2. `site.main()`: `removeduppaths()`; `venv()` (`pyvenv.cfg` in `prefix/bin` or `prefix`,
//!    `include-system-site-packages` true unless it says otherwise) adds the venv's site
//!    directories first; then the user site (when enabled and a directory), then
//!    `getsitepackages()` for each prefix (3.9+: `platlibdir` then `lib`; Debian: in a venv
//!    `lib/pythonX.Y/site-packages`, then `local/lib/pythonX.Y/dist-packages`,
//!    `lib/python3/dist-packages`, `{platlibdir,lib}/pythonX.Y/dist-packages`), each only if
//!    `os.path.isdir` (through symlinks).
//! 3. `addsitedir`: the directory is appended when new, then its `*.pth` files are read in
//!    sorted order (dot-named ones skipped where the version skips them); each line is a
//!    comment, blank, an `import` line (executed), or a path (`rstrip()`ed — 3.15: stripped —,
//!    joined to the site directory, normalised, appended when new and `os.path.exists`, which
//!    follows symlinks and counts a file such as a zip). A venv's own site directory is
//!    processed twice (by `venv()`, then by `addsitepackages()`): its import lines run twice.
//! 4. 3.15 (PEP 829, `site.StartupState`): `main()` reads every site directory's `.pth` and
//!    `.start` files into one batch first (each directory once, a `.start` file only when it
//!    is UTF-8), then appends the paths, then runs the import lines of each `.pth` that has no
//!    `.start` of the same name, then calls the entry points. A `.pth` that is not UTF-8 stops
//!    the interpreter before anything of the batch is applied.

use std::path::{Path, PathBuf};

use super::{
    InstallKind, Interpreter, Layout, Platform, PyVersion, View, makepath, normpath, pth_file,
};
use crate::python::pth::{splitlines, universal_newlines};
use crate::python::{py_isspace, py_strip};

/// Why an entry is on `sys.path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A `PYTHONPATH` entry.
    PythonPath,
    /// The standard library zip (`pythonXY.zip`), listed whether it exists or not.
    StdlibZip,
    /// The standard library directory.
    Stdlib,
    /// 2.7's `plat-linux2`, `lib-tk` and `lib-old`.
    StdlibExtra,
    /// `lib-dynload`.
    Dynload,
    /// A site directory of the venv.
    VenvSite,
    /// The user site directory.
    UserSite,
    /// A site directory of the installation.
    SystemSite,
    /// A path line of a `.pth` file.
    PthLine {
        /// The `.pth` file.
        file: PathBuf,
        /// Its 1-based line, as the version counts lines.
        line: usize,
    },
}

impl Why {
    /// In words, for findings.
    pub fn describe(&self) -> String {
        match self {
            Why::PythonPath => "a `PYTHONPATH` entry".into(),
            Why::StdlibZip => "the standard library zip".into(),
            Why::Stdlib => "the standard library".into(),
            Why::StdlibExtra => "a standard library directory".into(),
            Why::Dynload => "`lib-dynload`".into(),
            Why::VenvSite => "the venv's site directory".into(),
            Why::UserSite => "the user site directory".into(),
            Why::SystemSite => "a site directory".into(),
            Why::PthLine { file, line } => {
                format!("added by line {line} of `{}`", file.display())
            }
        }
    }
}

/// One entry of `sys.path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathEntry {
    /// The path, as a path of the scanned system.
    pub path: PathBuf,
    /// Why it is there.
    pub why: Why,
}

/// What `site` did with a `.pth` line (or a `.start` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PthAction {
    /// Executed (`import ` or `import\t` prefix).
    Exec,
    /// Added to `sys.path`.
    Path,
    /// A PEP 829 entry point of a `.start` file (3.15+), in the strict `pkg.mod:callable`
    /// form: its module is imported and the callable called.
    EntryPoint,
}

impl PthAction {
    /// The oracle's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            PthAction::Exec => "exec",
            PthAction::Path => "path",
            PthAction::EntryPoint => "entrypoint",
        }
    }
}

/// One `.pth` line that ran or added an entry, in the order `site` met it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PthRecord {
    /// The `.pth` file (in its site directory as `site` named it).
    pub file: PathBuf,
    /// Its 1-based line, as the version counts lines.
    pub line: usize,
    /// What was done.
    pub action: PthAction,
    /// The line executed (without its line end), or the directory appended to `sys.path`
    /// (absolute, as `makepath` made it).
    pub text: String,
}

/// What start-up leaves.
#[derive(Debug, Clone)]
pub struct Startup {
    /// The interpreter modelled.
    pub interpreter: Interpreter,
    /// `sys.path`, in order.
    pub sys_path: Vec<PathEntry>,
    /// The directories whose `.pth` files `site` read, in order.
    pub site_dirs: Vec<PathBuf>,
    /// The `.pth` lines executed or added, in order.
    pub pth: Vec<PthRecord>,
    /// `.pth` files present that this version does not read (dot-named).
    pub skipped_pth: Vec<PathBuf>,
    /// Whether `site` imports `usercustomize` (`ENABLE_USER_SITE`).
    pub usercustomize: bool,
    /// What the model could not know.
    pub notes: Vec<String>,
    /// What the model did not read whole (a `.pth` past its cap, too many files or lines).
    pub cut: Vec<String>,
    /// The exception that escapes `site` and stops the interpreter from starting ("Fatal
    /// Python error: init_import_site"): a `.pth` or `pyvenv.cfg` that is not UTF-8 under a
    /// UTF-8 locale. What was done before it is kept.
    pub fatal: Option<String>,
    /// What the interpreter must start with for this model to hold (`PYTHONPATH=/app (set in
    /// …)`); `None` for an interpreter started with nothing set.
    pub condition: Option<String>,
}

impl Startup {
    /// The `sys.path` entries alone.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.sys_path.iter().map(|e| e.path.clone()).collect()
    }

    /// The modules start-up imports by name: `encodings` (every start), `sitecustomize`,
    /// `usercustomize` (when enabled), then the top-level names the executed lines import.
    pub fn imported_names(&self) -> Vec<String> {
        let mut out: Vec<String> = vec!["encodings".into(), "sitecustomize".into()];
        if self.usercustomize {
            out.push("usercustomize".into());
        }
        for rec in &self.pth {
            let names = match rec.action {
                PthAction::Exec => crate::python::imports::imported_modules(&rec.text),
                // `importlib.import_module("pkg.mod")`: the name as written, not normalised
                PthAction::EntryPoint => rec
                    .text
                    .split(':')
                    .next()
                    .map(|m| vec![m.split('.').next().unwrap_or(m).to_owned()])
                    .unwrap_or_default(),
                PthAction::Path => continue,
            };
            for name in names {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }
}

/// The most `.pth` files read from one site directory, and lines kept from them all: a
/// site directory of a million files is cut, and says so.
const MAX_PTH_FILES: usize = 10_000;
const MAX_RECORDS: usize = 100_000;
/// The most of one `.pth` file the model reads: paths and import lines past it are not
/// modelled, and a note says so (the hook rules judge the file itself further).
pub const MAX_PTH_BYTES: u64 = 1 << 20;

struct Run<'a> {
    view: View<'a>,
    interp: &'a Interpreter,
    out: Startup,
    /// `sys.path` so far, as strings.
    known: Vec<String>,
    /// 3.15's `StartupState` of `main()`, while it is being filled.
    batch: Option<Batch>,
}

/// 3.15's `site.StartupState` (PEP 829): what the site directories' `.pth` and `.start` files
/// ask for, read first and applied together by [`Run::process`].
#[derive(Default)]
struct Batch {
    /// Site directories already read (`_processed_sitedirs`).
    processed: Vec<String>,
    /// Paths already in the ledger (`_known_paths`: `main()` starts it empty).
    known: Vec<String>,
    /// `_path_entries`: each directory to append, and why (a site directory or a path line).
    ledger: Vec<(String, Why)>,
    /// `_importexecs`: each `.pth` file's import lines, in the order the files were read.
    execs: Vec<(PathBuf, Vec<(usize, String)>)>,
    /// `_entrypoints`: each UTF-8 `.start` file read (even with no entry), and its lines.
    entry_points: Vec<(PathBuf, Vec<(usize, String)>)>,
}

/// Computes start-up for `interp`, reading the environment through `view`.
pub fn compute(view: View<'_>, interp: &Interpreter) -> Startup {
    let mut run = Run {
        view,
        interp,
        out: Startup {
            interpreter: interp.clone(),
            sys_path: Vec::new(),
            site_dirs: Vec::new(),
            pth: Vec::new(),
            skipped_pth: Vec::new(),
            usercustomize: false,
            notes: Vec::new(),
            cut: Vec::new(),
            fatal: None,
            condition: None,
        },
        known: Vec::new(),
        batch: None,
    };
    let win = interp.platform == Platform::Windows;
    if win {
        run.out.notes.push(
            "Windows, modelled from `site.py` and `getpath.py` (no Windows interpreter to ask): the registry's `PythonPath` keys and hidden-file attributes are not read, and names are matched by case as the tree stores them"
                .into(),
        );
    } else if interp.platform == Platform::MacOs {
        run.out.notes.push(
            "macOS, modelled from `site.py` and `getpath.py` (no macOS interpreter to ask)".into(),
        );
    }
    let v = interp.version;
    let prefix = path_str(&interp.prefix);
    // venv(): a pyvenv.cfg beside the executable or in its folder's parent, which (up to 3.13)
    // becomes `sys.prefix`: a venv's root above `bin`/`Scripts` — or, for a Windows
    // installation whose `python.exe` is in the prefix itself, the folder above it
    let bin = if win { "Scripts" } else { "bin" };
    let (exe_dir, site_prefix) = exe_dirs(&run, &prefix, bin);
    let cfg = (interp.kind == InstallKind::Venv || win)
        .then(|| read_pyvenv_cfg(&run, &exe_dir, &site_prefix))
        .flatten();
    if interp.kind == InstallKind::Venv && cfg.is_none() {
        run.out.notes.push(format!(
            "no `pyvenv.cfg` in `{exe_dir}` or `{site_prefix}`: `site` does not treat it as a venv"
        ));
    }
    let base = match (&cfg, &interp.base_prefix) {
        (_, Some(b)) => path_str(b),
        // an installation with a `pyvenv.cfg` beside it is still found by its own landmark
        (Some(cfg), None) if interp.kind == InstallKind::Venv => {
            cfg.home_prefix.clone().unwrap_or_else(|| prefix.clone())
        }
        _ => prefix.clone(),
    };

    // 1. getpath
    // a `._pth` file (3.11+ on POSIX, beside the executable it names; an embedded Windows
    // distribution's `pythonXY._pth`): the whole `sys.path`, `site` only on `import site`
    let pth_file = interp.pth_file.as_deref().map(path_str).or_else(|| {
        (win && interp.kind == InstallKind::System)
            .then(|| {
                [format!("python{}._pth", v.nodot()), "python._pth".into()]
                    .into_iter()
                    .find_map(|name| run.view.open_file(&Path::new(&prefix).join(name)))
                    .map(|file| path_str(&file))
            })
            .flatten()
    });
    let (mut prefix, mut base, mut use_environment) = (prefix, base, true);
    if let Some(file) = pth_file {
        if run.pth_file(&file, &prefix) {
            return run.out;
        }
        // 3.11+: a `._pth` of no lines makes its folder `home` and turns the environment off;
        // the interpreter then starts as without one, and `site` runs
        let dir = parent_str(&file, &prefix);
        run.out.notes.push(format!(
            "`{file}` holds no line: from 3.11 getpath takes its folder as the home and ignores `PYTHON*` variables, and `site` runs as without a `._pth`"
        ));
        (prefix, base, use_environment) = (dir.clone(), dir, false);
    }
    if let Some(pp) = interp.var("PYTHONPATH").filter(|_| use_environment) {
        for entry in pp.split(if win { ';' } else { ':' }) {
            let entry = if win {
                windows_path(entry)
            } else {
                entry.to_owned()
            };
            let entry = entry.as_str();
            if entry.is_empty() {
                run.out.notes.push(
                    "an empty `PYTHONPATH` entry is the working directory, not known to a scan"
                        .into(),
                );
            } else if !entry.starts_with('/') {
                run.out.notes.push(format!(
                    "`PYTHONPATH` entry `{entry}` is relative to the working directory, not known to a scan"
                ));
            } else {
                run.initial(&normpath(entry), Why::PythonPath);
            }
        }
    }
    if win {
        // PC/getpath: the zip, `DLLs` and `Lib` of the installation, then its directory
        run.initial(&format!("{base}/python{}.zip", v.nodot()), Why::StdlibZip);
        // 3.11.1+ (gh-98790): without a `DLLs` folder the prefix itself takes its place, before
        // `Lib`
        let dlls = format!("{base}/DLLs");
        let moved = v.at_least(3, 11)
            && !(v.xy() == (3, 11) && v.patch == Some(0))
            && !run.view.is_dir(Path::new(&dlls));
        run.initial(if moved { &base } else { &dlls }, Why::Dynload);
        run.initial(&format!("{base}/Lib"), Why::Stdlib);
        run.initial(&base, Why::StdlibExtra);
    } else {
        run.posix_stdlib(&base);
    }
    // 3.14's getpath makes the directory holding `pyvenv.cfg` the venv's `sys.prefix` (beside
    // the executable first): one in `bin/` makes `bin/lib/pythonX.Y/site-packages` the
    // venv's site directory; up to 3.13 `site.venv()` sets the prefix above `bin/`
    let venv_prefix = match &cfg {
        Some(cfg) if v.at_least(3, 14) && !win => cfg.dir.clone(),
        Some(_) if !v.at_least(3, 14) => site_prefix,
        _ => prefix.clone(),
    };
    run.site_main(&venv_prefix, &base, cfg.as_ref(), interp.enable_user_site);
    run.out
}

/// The folder of `file`, or `otherwise`.
fn parent_str(file: &str, otherwise: &str) -> String {
    Path::new(file).parent().map_or_else(
        || otherwise.to_owned(),
        |d| d.to_string_lossy().into_owned(),
    )
}

impl Run<'_> {
    /// `getpath`'s standard library entries on POSIX.
    fn posix_stdlib(&mut self, base: &str) {
        let v = self.interp.version;
        let libdir = if v.at_least(3, 9) {
            self.interp.platlibdir.clone()
        } else {
            "lib".into()
        };
        let stdlib = format!("{base}/{libdir}/python{}", v.dotted());
        self.initial(
            &format!("{base}/{libdir}/python{}.zip", v.nodot()),
            Why::StdlibZip,
        );
        self.initial(&stdlib, Why::Stdlib);
        if v.major == 2 {
            for extra in ["plat-linux2", "lib-tk", "lib-old"] {
                self.initial(&format!("{stdlib}/{extra}"), Why::StdlibExtra);
            }
        }
        self.initial(&format!("{stdlib}/lib-dynload"), Why::Dynload);
    }

    /// A `._pth` file (an embeddable Windows distribution's `pythonXY._pth`, an executable's
    /// `<exe>._pth`): its lines are the whole `sys.path` (relative to its folder), which is
    /// `sys.prefix`; `import site` runs `site.main()` there. `false` when the file sets
    /// nothing (3.11+, no line: [`pth_file::PthFile::empty`]).
    fn pth_file(&mut self, file: &str, prefix: &str) -> bool {
        let (data, size, truncated) = self
            .view
            .tree
            .read_capped(&self.view.disk(Path::new(file)), MAX_PTH_BYTES)
            .map_or((Vec::new(), 0, false), |d| (d.bytes, d.size, d.truncated));
        let v = self.interp.version;
        let read = pth_file::read(&data, size, v);
        if let Some(fatal) = read.fatal {
            self.out.notes.push(if fatal == "MemoryError" {
                // getpath's `readlines`: "cannot read file larger than 32KB during
                // initialization", a MemoryError getpath.py does not catch
                format!("`{file}` is {size} bytes: from 3.11 getpath reads at most 32 KiB of it and the interpreter does not start")
            } else {
                format!("`{file}` has an `import` line other than `import site`: this interpreter does not start")
            });
            self.out.fatal = Some(fatal);
            return true;
        }
        if read.empty {
            return false;
        }
        if truncated {
            self.out.cut.push(format!(
                "`{file}`: only the first {MAX_PTH_BYTES} bytes of its {size} were read"
            ));
        }
        let dir = parent_str(file, prefix);
        let win = self.interp.platform == Platform::Windows;
        for (line, path) in read.paths {
            let path = if win { windows_path(&path) } else { path };
            let entry = makepath(&dir, &path);
            self.initial(
                &entry,
                Why::PthLine {
                    file: PathBuf::from(file),
                    line,
                },
            );
        }
        self.out
            .notes
            .extend(read.notes.iter().map(|n| format!("`{file}`: {n}")));
        // the file sets `isolated` after the flags that decide the user site were read: up to
        // 3.14 the user site stays on (gh-120037, fixed in 3.15)
        let user = self.interp.enable_user_site && !v.at_least(3, 15);
        self.out.notes.push(format!(
            "`{file}` sets the whole `sys.path`{}",
            match (read.site, user) {
                (true, true) => "; its `import site` runs `site` with its folder as the prefix, and the user site",
                (true, false) => "; its `import site` runs `site` with its folder as the prefix",
                (false, _) => ", and `site` does not run",
            }
        ));
        if read.site {
            // `site.main()` runs `venv()` too: a `pyvenv.cfg` beside the executable or above
            // its folder makes that folder's parent `sys.prefix` (up to 3.13)
            let (exe_dir, site_prefix) = exe_dirs(self, &dir, "Scripts");
            let cfg = win
                .then(|| read_pyvenv_cfg(self, &exe_dir, &site_prefix))
                .flatten();
            // 3.11+ take the folder for `home`, which they split at the path-list separator
            // (`;`, POSIX `:`) into the prefix and the exec prefix: `C:\Tools\a;b\py` is the
            // prefix `C:\Tools\a`
            let delim = if win { ';' } else { ':' };
            let prefix = match dir.split_once(delim) {
                Some((prefix, exec)) if v.at_least(3, 11) => {
                    self.out.notes.push(format!(
                        "`{dir}` holds `{delim}`: its `._pth` makes `{prefix}` the prefix, and `{exec}` (relative to the working directory, not known to a scan) the exec prefix"
                    ));
                    prefix.to_owned()
                }
                _ => dir.clone(),
            };
            let venv_prefix = match &cfg {
                Some(_) if !v.at_least(3, 14) => site_prefix,
                _ => prefix.clone(),
            };
            self.site_main(&venv_prefix, &prefix, cfg.as_ref(), user);
        } else {
            self.out.usercustomize = false;
        }
        true
    }

    /// `site.main()`: `venv()`, the user site, then `getsitepackages()`.
    fn site_main(
        &mut self,
        prefix: &str,
        base: &str,
        cfg: Option<&VenvCfg>,
        mut enable_user: bool,
    ) {
        let v = self.interp.version;
        let interp = self.interp;
        if v.at_least(3, 15) {
            self.batch = Some(Batch::default());
        }
        // sys.prefix before venv() runs: getpath leaves it at the base installation
        let mut prefixes = vec![base.to_owned()];
        if cfg.is_some_and(|c| c.fatal) {
            self.out.fatal = Some("UnicodeDecodeError".into());
            return;
        }
        if let Some(cfg) = cfg {
            self.add_site_packages(&[prefix.to_owned()], Some(prefix));
            if cfg.system_site == "true" {
                prefixes = vec![prefix.to_owned(), base.to_owned()];
            } else {
                prefixes = vec![prefix.to_owned()];
                enable_user = false;
            }
        }
        if enable_user {
            let user_base = interp
                .var("PYTHONUSERBASE")
                .map(str::to_owned)
                .or_else(|| interp.user_base.as_deref().map(path_str));
            match user_base {
                Some(ub) => {
                    let user_site = match interp.platform {
                        Platform::Windows => format!("{ub}/Python{}/site-packages", v.nodot()),
                        Platform::MacOs if interp.framework => {
                            format!("{ub}/lib/python/site-packages")
                        }
                        _ => format!("{ub}/lib/python{}/site-packages", v.dotted()),
                    };
                    if self.view.is_dir(Path::new(&user_site)) {
                        self.add_site_dir(&user_site, Why::UserSite);
                    }
                }
                None => self
                    .out
                    .notes
                    .push("the user base is not known: no user site modelled".into()),
            }
        }
        self.out.usercustomize = enable_user;
        let venv = cfg.is_some().then_some(prefix);
        self.add_site_packages(&prefixes, venv);
        self.process();
    }
}

/// A Windows path as the scanned tree holds it: `C:\Python312\Lib` → `/Python312/Lib` (the
/// drive is the root the scan was given).
pub(crate) fn windows_path(p: &str) -> String {
    let p = p.replace('\\', "/");
    // a device path to a drive (`\\?\C:\x`, `\\.\C:\x`) is that drive's path; only `\\?\`
    // is taken as written, the rest is normalised as Win32 opens a path
    let verbatim = p.starts_with("//?/");
    let p = match p.strip_prefix("//?/").or_else(|| p.strip_prefix("//./")) {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => rest.to_owned(),
        _ => p,
    };
    let bytes = p.as_bytes();
    let p = if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        p[2..].to_owned()
    } else {
        p
    };
    if verbatim { p } else { win32_trimmed(&p) }
}

/// What Win32 opens for `p` (`/`-separated), as `GetFullPathNameW` trims it: a segment ending
/// in a single period loses it (`Evil.` is `Evil`; `.`, `..` and `...` stay), and the path's
/// end loses its trailing periods and spaces unless a separator follows them.
fn win32_trimmed(p: &str) -> String {
    let mut segments: Vec<&str> = p
        .split('/')
        .map(|seg| match seg.strip_suffix('.') {
            Some(head) if !head.is_empty() && !head.ends_with('.') => head,
            _ => seg,
        })
        .collect();
    if let Some(last) = segments.last_mut()
        && !matches!(*last, "" | "." | "..")
    {
        let trimmed = last.trim_end_matches(['.', ' ']);
        if !trimmed.is_empty() {
            *last = trimmed;
        }
    }
    segments.join("/")
}

struct VenvCfg {
    /// Not UTF-8: `venv()` raises UnicodeDecodeError.
    fatal: bool,
    /// The directory that holds it (`prefix/bin` or `prefix`).
    dir: String,
    system_site: String,
    home_prefix: Option<String>,
}

/// `site.venv()`'s `exe_dir` (the executable's folder) and `site_prefix` (its parent) for an
/// interpreter at `prefix`: `prefix/bin` (`Scripts`) and `prefix`, unless on Windows the folder
/// holds no `Scripts\python.exe` but a `python.exe` of its own (an installation, an embeddable
/// distribution): then the prefix and the folder above it.
fn exe_dirs(run: &Run<'_>, prefix: &str, bin: &str) -> (String, String) {
    let beside = |dir: &str| run.view.open_file(&Path::new(dir).join("python.exe"));
    let scripts = format!("{prefix}/{bin}");
    if run.interp.platform == Platform::Windows
        && beside(&scripts).is_none()
        && beside(prefix).is_some()
    {
        (prefix.to_owned(), parent_str(prefix, prefix))
    } else {
        (scripts, prefix.to_owned())
    }
}

fn read_pyvenv_cfg(run: &Run<'_>, exe_dir: &str, site_prefix: &str) -> Option<VenvCfg> {
    let windows = run.interp.platform == Platform::Windows;
    let prefix = site_prefix;
    let cfg = [
        format!("{exe_dir}/pyvenv.cfg"),
        format!("{site_prefix}/pyvenv.cfg"),
    ]
    .into_iter()
    .find_map(|c| run.view.open_file(Path::new(&c)))
    .map(|c| path_str(&c))?;
    let data = run
        .view
        .tree
        .read_capped(&run.view.disk(Path::new(&cfg)), 1 << 20)
        .ok()?;
    let text = String::from_utf8_lossy(&data.bytes);
    let mut out = VenvCfg {
        system_site: "true".into(),
        home_prefix: None,
        fatal: std::str::from_utf8(&data.bytes).is_err(),
        dir: Path::new(&cfg)
            .parent()
            .map_or_else(|| prefix.to_owned(), path_str),
    };
    for (_, line) in universal_newlines(&text) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (py_strip(key).to_lowercase(), py_strip(value));
        if key == "include-system-site-packages" {
            out.system_site = value.to_lowercase();
        } else if key == "home" && windows {
            // Windows: `home` is the installation itself (`C:\Python312`, where python.exe is)
            out.home_prefix = Some(normpath(&windows_path(value)));
        } else if key == "home" {
            // `home` names the base interpreter's directory (`/usr/bin`)
            let home = normpath(value);
            out.home_prefix = Path::new(&home)
                .parent()
                .map(|p| p.to_string_lossy().into_owned());
        }
    }
    Some(out)
}

fn path_str(p: &Path) -> String {
    normpath(&p.to_string_lossy())
}

impl Run<'_> {
    /// `makepath`'s second half: the case-normalised key `site` dedupes `sys.path` by
    /// (`ntpath.normcase` lowercases on Windows).
    fn key(&self, path: &str) -> String {
        if self.interp.platform == Platform::Windows {
            path.to_lowercase()
        } else {
            path.to_owned()
        }
    }

    fn is_known(&self, path: &str) -> bool {
        let key = self.key(path);
        self.known.contains(&key)
    }

    fn remember(&mut self, path: &str) {
        let key = self.key(path);
        self.known.push(key);
    }

    /// `dir` among the directories whose `.pth` files `site` reads, once.
    fn note_site_dir(&mut self, dir: &str) {
        if !self.out.site_dirs.iter().any(|d| d.as_os_str() == dir) {
            self.out.site_dirs.push(PathBuf::from(dir));
        }
    }

    /// An entry of the path `getpath` computes, kept once (`removeduppaths`).
    fn initial(&mut self, path: &str, why: Why) {
        let path = normpath(path);
        if !self.is_known(&path) {
            self.remember(&path);
            self.out.sys_path.push(PathEntry {
                path: PathBuf::from(path),
                why,
            });
        }
    }

    /// `getsitepackages([prefix])`. `in_venv`: whether `site` runs in a venv (Debian's patched
    /// `site.py` then adds `lib/pythonX.Y/site-packages` before its `dist-packages`, for every
    /// prefix).
    fn site_packages(&self, prefix: &str, in_venv: bool) -> Vec<String> {
        let v = self.interp.version;
        let xy = v.dotted();
        if self.interp.platform == Platform::Windows {
            // `os.sep != '/'`: the prefix itself, then `Lib\site-packages`
            return vec![prefix.to_owned(), format!("{prefix}/Lib/site-packages")];
        }
        if v.major == 2 {
            return vec![
                format!("{prefix}/lib/python{xy}/site-packages"),
                format!("{prefix}/lib/site-python"),
            ];
        }
        let mut libdirs = vec!["lib"];
        if v.at_least(3, 9) && self.interp.platlibdir != "lib" {
            libdirs.insert(0, self.interp.platlibdir.as_str());
        }
        if self.interp.layout == Layout::Debian {
            let mut out = Vec::new();
            if in_venv {
                out.push(format!("{prefix}/lib/python{xy}/site-packages"));
            }
            out.push(format!("{prefix}/local/lib/python{xy}/dist-packages"));
            out.push(format!("{prefix}/lib/python3/dist-packages"));
            out.extend(
                libdirs
                    .into_iter()
                    .map(|l| format!("{prefix}/{l}/python{xy}/dist-packages")),
            );
            return out;
        }
        libdirs
            .into_iter()
            .map(|l| format!("{prefix}/{l}/python{xy}/site-packages"))
            .collect()
    }

    /// `addsitepackages(known_paths, prefixes)`: each prefix once, each of its site
    /// directories that is a directory. `venv`: the venv's prefix, when `site` runs in one.
    fn add_site_packages(&mut self, prefixes: &[String], venv: Option<&str>) {
        let mut seen: Vec<&String> = Vec::new();
        for prefix in prefixes {
            if prefix.is_empty() || seen.contains(&prefix) {
                continue;
            }
            seen.push(prefix);
            let is_venv = venv == Some(prefix.as_str());
            for dir in self.site_packages(prefix, venv.is_some()) {
                if self.view.is_dir(Path::new(&dir)) {
                    let why = if is_venv {
                        Why::VenvSite
                    } else {
                        Why::SystemSite
                    };
                    self.add_site_dir(&dir, why);
                }
            }
        }
    }

    /// `addsitedir(sitedir, known_paths)`.
    fn add_site_dir(&mut self, dir: &str, why: Why) {
        if self.out.fatal.is_some() {
            return;
        }
        let dir = normpath(dir);
        if self.batch.is_some() {
            return self.read_site_dir(dir, why);
        }
        if !self.is_known(&dir) {
            // 2.7's addsitedir appends the directory without remembering it: a later path line
            // naming it (a blank line, `.`) appends it again
            if self.interp.version.major == 3 {
                self.remember(&dir);
            }
            self.out.sys_path.push(PathEntry {
                path: PathBuf::from(&dir),
                why,
            });
        }
        self.note_site_dir(&dir);
        let skips_dot = self.interp.version.skips_dot_pth();
        let entries = self.list(&dir);
        for (name, disk) in self.config_files(&dir, &entries, ".pth", skips_dot) {
            self.add_package(&dir, &name, &disk);
            if self.out.fatal.is_some() {
                // the exception escapes `site`: no later file is read
                return;
            }
        }
    }

    /// `os.listdir(dir)`, as the tree lists it (nothing when it cannot be listed).
    fn list(&self, dir: &str) -> Vec<crate::fs::DirEntry> {
        self.view
            .tree
            .list(&self.view.disk(Path::new(dir)))
            .unwrap_or_default()
    }

    /// The files among `entries` (the listing of `dir`) whose names end in `suffix` — (name,
    /// path in the tree) — in the order `sorted(os.listdir(dir))` gives (a name that is not
    /// UTF-8 is read through its bytes, sorted as its surrogate escapes), without dot-named
    /// ones where `skip_dot` (a skipped `.pth` is listed), at most [`MAX_PTH_FILES`] (the cut
    /// said).
    fn config_files(
        &mut self,
        dir: &str,
        entries: &[crate::fs::DirEntry],
        suffix: &str,
        skip_dot: bool,
    ) -> Vec<(String, PathBuf)> {
        let py2 = self.interp.version.major == 2;
        let mut names: Vec<(Vec<u32>, String, PathBuf)> = Vec::new();
        for entry in entries {
            let name = entry.name.clone();
            if !name.ends_with(suffix) {
                continue;
            }
            if skip_dot && name.starts_with('.') {
                let skipped = Path::new(dir).join(&name);
                if suffix == ".pth" && !self.out.skipped_pth.contains(&skipped) {
                    self.out.skipped_pth.push(skipped);
                }
                continue;
            }
            let raw = entry
                .path
                .file_name()
                .map(|n| n.as_encoded_bytes().to_vec())
                .unwrap_or_default();
            names.push((listdir_key(&raw, py2), name, entry.path.clone()));
        }
        names.sort();
        if names.len() > MAX_PTH_FILES {
            self.out.cut.push(format!(
                "`{dir}` holds {} `{suffix}` files: only the first {MAX_PTH_FILES} were read",
                names.len()
            ));
            names.truncate(MAX_PTH_FILES);
        }
        names.into_iter().map(|(_, n, p)| (n, p)).collect()
    }

    /// 3.15's `StartupState.addsitedir`: the directory into the ledger when new, then its
    /// `.pth` files, then its `.start` files, read into the batch.
    fn read_site_dir(&mut self, dir: String, why: Why) {
        let batch = self.batch.as_mut().expect("batched");
        if batch.processed.contains(&dir) {
            return;
        }
        batch.processed.push(dir.clone());
        if !batch.known.contains(&dir) {
            batch.known.push(dir.clone());
            batch.ledger.push((dir.clone(), why));
        }
        self.note_site_dir(&dir);
        // one listing for both kinds of file
        let entries = self.list(&dir);
        for (name, disk) in self.config_files(&dir, &entries, ".pth", true) {
            self.read_pth(&dir, &name, &disk);
            if self.out.fatal.is_some() {
                return;
            }
        }
        for (name, disk) in self.config_files(&dir, &entries, ".start", true) {
            self.read_start(&dir, &name, &disk);
        }
    }

    /// The text of a `.pth` or `.start` file as `_read_pthstart_file` decodes it (`utf-8-sig`),
    /// or `Err(true)` when it is not UTF-8, `Err(false)` when it cannot be read.
    fn read_config(&mut self, full: &Path, disk: &Path) -> Result<String, bool> {
        let cap = self.view.tree.max_file_size().min(MAX_PTH_BYTES);
        let data = self.view.tree.read_capped(disk, cap).map_err(|_| false)?;
        if data.truncated {
            self.out.cut.push(format!(
                "`{}` is {} bytes: the start-up model read only its first {cap}",
                full.display(),
                data.size
            ));
        }
        let text = String::from_utf8(data.bytes).map_err(|_| true)?;
        Ok(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        })
    }

    /// 3.15's `StartupState._read_pth_file`: each stripped line is skipped (blank, comment),
    /// kept to run later (`import`), or a path into the ledger when new to the batch.
    fn read_pth(&mut self, dir: &str, name: &str, disk: &Path) {
        let full = PathBuf::from(format!("{dir}/{name}"));
        let text = match self.read_config(&full, disk) {
            Ok(text) => text,
            // the locale's encoding (UTF-8 here too) fails as well: UnicodeDecodeError escapes
            // `site` while the batch is still being read
            Err(true) => {
                self.out.fatal = Some("UnicodeDecodeError".into());
                return;
            }
            Err(false) => return,
        };
        let batch = self.batch.as_mut().expect("batched");
        let mut imports = Vec::new();
        for (i, (_, line)) in splitlines(&text).into_iter().enumerate() {
            let line = py_strip(line);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if batch.ledger.len() + batch.execs.len() + imports.len() >= MAX_RECORDS {
                self.out.cut.push(format!(
                    "more than {MAX_RECORDS} `.pth` lines: the rest are not modelled"
                ));
                break;
            }
            if line.starts_with("import ") || line.starts_with("import\t") {
                imports.push((i + 1, line.to_owned()));
                continue;
            }
            let target = makepath(dir, line);
            if !batch.known.contains(&target) {
                batch.known.push(target.clone());
                batch.ledger.push((
                    target,
                    Why::PthLine {
                        file: full.clone(),
                        line: i + 1,
                    },
                ));
            }
        }
        if !imports.is_empty() {
            batch.execs.push((full, imports));
        }
    }

    /// 3.15's `StartupState._read_start_file`: a UTF-8 `.start` file is registered (and so
    /// silences its `.pth` sibling's import lines) with its stripped, non-comment lines.
    fn read_start(&mut self, dir: &str, name: &str, disk: &Path) {
        let full = PathBuf::from(format!("{dir}/{name}"));
        let Ok(text) = self.read_config(&full, disk) else {
            return;
        };
        let lines = splitlines(&text)
            .into_iter()
            .enumerate()
            .map(|(i, (_, l))| (i + 1, py_strip(l)))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .map(|(n, l)| (n, l.to_owned()))
            .collect();
        let batch = self.batch.as_mut().expect("batched");
        batch.entry_points.push((full, lines));
    }

    /// 3.15's `StartupState.process()`: the ledger's paths (a path line's only when it exists,
    /// none already on `sys.path`), then the import lines of each `.pth` without a `.start`
    /// sibling in the batch, then the entry points CPython's strict pattern accepts.
    fn process(&mut self) {
        let Some(batch) = self.batch.take() else {
            return;
        };
        if self.out.fatal.is_some() {
            return;
        }
        for (dir, why) in batch.ledger {
            if self.is_known(&dir) {
                continue;
            }
            let from_line = match &why {
                Why::PthLine { file, line } => Some((file.clone(), *line)),
                _ => None,
            };
            if from_line.is_some() && (dir.contains('\0') || !self.view.exists(Path::new(&dir))) {
                continue;
            }
            self.remember(&dir);
            self.out.sys_path.push(PathEntry {
                path: PathBuf::from(&dir),
                why,
            });
            if let Some((file, line)) = from_line {
                self.out.pth.push(PthRecord {
                    file,
                    line,
                    action: PthAction::Path,
                    text: dir,
                });
            }
        }
        let has_start = |pth: &Path| {
            let start = pth.with_extension("start");
            batch.entry_points.iter().any(|(f, _)| *f == start)
        };
        for (file, lines) in &batch.execs {
            if has_start(file) {
                continue;
            }
            for (n, line) in lines {
                // exec raises SyntaxError: reported, and the next line runs
                if super::syntax::syntax_error(line, false).is_none() {
                    self.out.pth.push(PthRecord {
                        file: file.clone(),
                        line: *n,
                        action: PthAction::Exec,
                        text: line.clone(),
                    });
                }
            }
        }
        for (file, lines) in &batch.entry_points {
            for (n, line) in lines {
                if crate::python::start::strict_entry_module(line).is_some() {
                    self.out.pth.push(PthRecord {
                        file: file.clone(),
                        line: *n,
                        action: PthAction::EntryPoint,
                        text: line.clone(),
                    });
                }
            }
        }
    }

    /// `addpackage(sitedir, name, known_paths)`.
    fn add_package(&mut self, dir: &str, name: &str, disk: &Path) {
        let full = PathBuf::from(format!("{dir}/{name}"));
        let cap = self.view.tree.max_file_size().min(MAX_PTH_BYTES);
        let Ok(data) = self.view.tree.read_capped(disk, cap) else {
            return;
        };
        if data.truncated {
            self.out.cut.push(format!(
                "`{}` is {} bytes: the start-up model read only its first {cap}",
                full.display(),
                data.size
            ));
        }
        let v = self.interp.version;
        let bad_utf8 = v.major == 3 && std::str::from_utf8(&data.bytes).is_err();
        if bad_utf8 && v.at_least(3, 13) {
            // utf-8-sig, then the locale's encoding (UTF-8 too): UnicodeDecodeError
            self.out.fatal = Some("UnicodeDecodeError".into());
            return;
        }
        // up to 3.12 the text wrapper decodes 8192-byte chunks as it reads: the lines before
        // the chunk with the bad byte are processed, then UnicodeDecodeError escapes `site`
        // (an invalid byte fails its chunk at once; a sequence cut short by the end of the
        // file fails only at the end, once every line before it has run)
        let body: &[u8] = match std::str::from_utf8(&data.bytes) {
            Err(e) if v.major == 3 => {
                let end = match e.error_len() {
                    Some(_) => e.valid_up_to() / 8192 * 8192,
                    None => e.valid_up_to(),
                };
                // the lines ended before it (`\n` or `\r`; a `\r` that ends the decoded text
                // waits for the next chunk to know whether `\n` follows, and never completes)
                let decoded = &data.bytes[..end];
                let decoded = decoded.strip_suffix(b"\r").unwrap_or(decoded);
                let upto = decoded
                    .iter()
                    .rposition(|&b| b == b'\n' || b == b'\r')
                    .map_or(0, |i| i + 1);
                &data.bytes[..upto]
            }
            _ => &data.bytes,
        };
        for (n, line) in lines(v, body) {
            if self.out.pth.len() >= MAX_RECORDS {
                self.out.cut.push(format!(
                    "more than {MAX_RECORDS} `.pth` lines: the rest are not modelled"
                ));
                return;
            }
            let tested: &str = &line;
            // 2.7 does not skip blank lines: one names the site directory itself, which its
            // addsitedir did not remember, and appends it again
            if tested.starts_with('#') || (v.major == 3 && strip(v, tested).is_empty()) {
                continue;
            }
            if tested.starts_with("import ") || tested.starts_with("import\t") {
                if super::syntax::syntax_error(tested, !v.at_least(3, 8)).is_some() {
                    // exec raises SyntaxError: the rest of the file is ignored
                    return;
                }
                self.out.pth.push(PthRecord {
                    file: full.clone(),
                    line: n,
                    action: PthAction::Exec,
                    text: tested.to_owned(),
                });
                continue;
            }
            let text = rstrip(v, &line);
            if text.contains('\0') {
                if v.at_least(3, 8) {
                    continue; // os.path.exists is False
                }
                // ValueError from os.stat: "Remainder of file ignored"
                return;
            }
            // `ntpath.join` on Windows: `win32\lib`, `..\Vendor`, `C:\tools`
            let target = if self.interp.platform == Platform::Windows {
                makepath(dir, &windows_path(text))
            } else {
                makepath(dir, text)
            };
            if !self.is_known(&target) && self.view.exists(Path::new(&target)) {
                self.remember(&target);
                self.out.sys_path.push(PathEntry {
                    path: PathBuf::from(&target),
                    why: Why::PthLine {
                        file: full.clone(),
                        line: n,
                    },
                });
                self.out.pth.push(PthRecord {
                    file: full.clone(),
                    line: n,
                    action: PthAction::Path,
                    text: target.clone(),
                });
            }
        }
        if bad_utf8 {
            self.out.fatal = Some("UnicodeDecodeError".into());
        }
    }
}

/// The key `sorted(os.listdir(…))` orders a name by: Python 3's `str` (code points, a byte
/// that is not UTF-8 as its surrogate escape U+DC80–U+DCFF), 2.7's bytes.
fn listdir_key(raw: &[u8], py2: bool) -> Vec<u32> {
    if py2 {
        return raw.iter().map(|&b| u32::from(b)).collect();
    }
    let mut out = Vec::new();
    for chunk in raw.utf8_chunks() {
        out.extend(chunk.valid().chars().map(u32::from));
        out.extend(chunk.invalid().iter().map(|&b| 0xdc00 + u32::from(b)));
    }
    out
}

/// The lines of a `.pth` file as `version` iterates them: (1-based number, line without its
/// terminator).
pub fn lines(version: PyVersion, bytes: &[u8]) -> Vec<(usize, String)> {
    let text: String = if version.major == 2 {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    if version.at_least(3, 13) {
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        splitlines(body)
            .into_iter()
            .enumerate()
            .map(|(i, (_, l))| (i + 1, l.to_owned()))
            .collect()
    } else {
        universal_newlines(&text)
            .into_iter()
            .enumerate()
            .map(|(i, (_, l))| (i + 1, l.to_owned()))
            .collect()
    }
}

/// `str.rstrip()`: Python 2's `str` strips ASCII whitespace only.
fn rstrip(version: PyVersion, s: &str) -> &str {
    if version.major == 2 {
        s.trim_end_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
    } else {
        s.trim_end_matches(py_isspace)
    }
}

fn strip(version: PyVersion, s: &str) -> &str {
    if version.major == 2 {
        s.trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
    } else {
        py_strip(s)
    }
}
