//! Which file importlib loads for a module name, in importlib's order.
//!
//! `PathFinder` asks each `sys.path` entry in turn (a package's `__path__` for a submodule):
//!
//! - a directory goes to `FileFinder`: if `name` is in the directory's listing, a package
//!   `name/__init__<suffix>` for each loader suffix in order — this version's extension
//!   suffixes (`.cpython-3Y-<triplet>.so`, `.abi3.so`, `.so`), `.py`, `.pyc` —; else a module
//!   `name<suffix>` in the same order; else, if `name/` is a directory, a namespace portion,
//!   kept while later entries are asked, used only if no entry has a module or package;
//! - a file that is a zip goes to `zipimport`: `name/__init__.pyc`, `name/__init__.py`,
//!   `name.pyc`, `name.py`, then a `name/` directory member as a namespace portion;
//! - anything else finds nothing.
//!
//! On Windows `.pyw` is a source suffix too, a file's suffix matches in any case
//! (`sitecustomize.PY`: `_fill_cache` lower-cases what follows the first dot), and a package's
//! `__init__` is found by any spelling (`__INIT__.PY`: Python 3 stats it, NTFS ignores case);
//! the module's own name matches the directory listing exactly.
//!
//! 2.7 (`imp`) has no namespace packages: a directory needs `__init__.py` or `__init__.pyc`,
//! else the same entry's `name.so`, `namemodule.so`, `name.py`, `name.pyc` are tried.
//!
//! A source module's cached bytecode (`__pycache__/name.cpython-3Y.pyc`, 2.7 `name.pyc`) is
//! looked at too ([`pyc`](super::pyc)): it may be what runs. Builtin and frozen modules and
//! `sys.meta_path` finders a hook installs are not modelled, nor `__path__` changed by an
//! `__init__`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::pyc::{self, Cached};
use super::{Interpreter, Startup, View, zip};

/// What form the module file takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModKind {
    /// A `.py` module.
    Source,
    /// A sourceless `.pyc` module.
    Bytecode,
    /// An extension module (`.so`).
    Extension,
    /// A namespace package: directories, no file.
    Namespace,
    /// A module or package inside a zip on the path.
    Zip,
    /// A regular package (its `__init__` file).
    Package,
}

impl ModKind {
    /// The name in the `debug-startup` contract.
    pub fn as_str(self) -> &'static str {
        match self {
            ModKind::Source => "source",
            ModKind::Bytecode => "bytecode",
            ModKind::Extension => "extension",
            ModKind::Namespace => "namespace",
            ModKind::Zip => "zip",
            ModKind::Package => "package",
        }
    }
}

/// The one file importlib loads for a name, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The dotted name.
    pub name: String,
    /// The file that is loaded (for a namespace package, its first portion; for a zip member,
    /// `archive.zip/member`).
    pub file: PathBuf,
    /// Its form.
    pub kind: ModKind,
    /// The path entry it was found in.
    pub entry: PathBuf,
    /// That entry's index in `sys.path` (for a top-level module).
    pub entry_index: Option<usize>,
    /// The rule that chose it.
    pub rule: String,
    /// Cached bytecode that may run instead of a source file.
    pub cached: Option<Cached>,
    /// `__path__` for a package or namespace package.
    pub search: Vec<PathBuf>,
    /// What the finder could not see whole (a zip cut short).
    pub notes: Vec<String>,
}

impl Resolution {
    /// Why this file is the one that runs, in words.
    pub fn origin(&self) -> String {
        let at = match self.entry_index {
            Some(i) => format!("sys.path[{i}] `{}`", self.entry.display()),
            None => format!("`__path__` entry `{}`", self.entry.display()),
        };
        let mut out = format!("{at}: {}", self.rule);
        if let Some(c) = &self.cached {
            out.push_str(&format!(
                "; cached bytecode `{}`: {}",
                c.path.display(),
                c.runs.describe()
            ));
        }
        out
    }

    /// Whether a package (regular, namespace or zipped) whose submodules can be imported.
    pub fn is_package(&self) -> bool {
        !self.search.is_empty()
    }

    /// The files that may run when it is imported: the file itself (not for a namespace), and
    /// cached bytecode that may run instead.
    pub fn runs(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if self.kind != ModKind::Namespace {
            out.push(self.file.clone());
        }
        if let Some(c) = &self.cached
            && c.runs.may_run()
        {
            out.push(c.path.clone());
        }
        out
    }
}

enum Hit {
    Found(Resolution),
    Portion(PathBuf),
}

/// A directory's names as importlib matches them, each to its name on the disk.
type Listing = HashMap<String, String>;

/// Resolves module names over one start-up's `sys.path`.
pub struct Finder<'a> {
    view: View<'a>,
    interp: Interpreter,
    path: Vec<PathBuf>,
    listings: RefCell<HashMap<PathBuf, Option<Rc<Listing>>>>,
    zips: RefCell<HashMap<PathBuf, Option<Rc<zip::ZipNames>>>>,
    found: RefCell<HashMap<String, Option<Resolution>>>,
    cut: RefCell<Vec<String>>,
}

impl<'a> Finder<'a> {
    /// A finder over what `startup` left on `sys.path`.
    pub fn new(view: View<'a>, startup: &Startup) -> Finder<'a> {
        Finder::over(view, &startup.interpreter, startup.paths())
    }

    /// A finder over `path`, for `interp`.
    pub fn over(view: View<'a>, interp: &Interpreter, path: Vec<PathBuf>) -> Finder<'a> {
        Finder {
            view,
            interp: interp.clone(),
            path,
            listings: RefCell::default(),
            zips: RefCell::default(),
            found: RefCell::default(),
            cut: RefCell::default(),
        }
    }

    /// The file importlib loads for the dotted `name`, or `None` when the import fails (a
    /// parent that is no package, nothing on the path).
    pub fn find(&self, name: &str) -> Option<Resolution> {
        if let Some(done) = self.found.borrow().get(name) {
            return done.clone();
        }
        let found = match name.rsplit_once('.') {
            None => self.search(name, name, &self.path, true),
            Some((parent, tail)) => {
                let parent = self.find(parent)?;
                if parent.is_package() {
                    self.search(name, tail, &parent.search, false)
                } else {
                    None
                }
            }
        };
        self.found
            .borrow_mut()
            .insert(name.to_owned(), found.clone());
        found
    }

    /// The interpreter it resolves for.
    pub fn interpreter(&self) -> &Interpreter {
        &self.interp
    }

    /// What the finder could not see whole so far (zips on the path past their caps).
    pub fn cut(&self) -> Vec<String> {
        self.cut.borrow().clone()
    }

    /// The resolutions of `name` and each of its parent packages, outermost first: every file
    /// that runs when `name` is imported.
    pub fn find_chain(&self, name: &str) -> Vec<Resolution> {
        let mut out = Vec::new();
        let mut prefix = String::new();
        for part in name.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            match self.find(&prefix) {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }

    fn search(&self, name: &str, tail: &str, path: &[PathBuf], top: bool) -> Option<Resolution> {
        let mut portions: Vec<PathBuf> = Vec::new();
        let mut first_portion: Option<(usize, PathBuf)> = None;
        for (i, entry) in path.iter().enumerate() {
            let hit = match self.view.stat(entry) {
                Some(crate::fs::Kind::Dir) => self.in_dir(name, tail, entry),
                Some(crate::fs::Kind::File) => self.in_zip(name, tail, entry, entry, ""),
                _ => self.in_zip_prefix(name, tail, entry),
            };
            match hit {
                Some(Hit::Found(mut r)) => {
                    r.entry_index = top.then_some(i);
                    return Some(r);
                }
                Some(Hit::Portion(p)) => {
                    if first_portion.is_none() {
                        first_portion = Some((i, entry.clone()));
                    }
                    portions.push(p);
                }
                None => {}
            }
        }
        let (i, entry) = first_portion?;
        Some(Resolution {
            name: name.to_owned(),
            file: portions[0].clone(),
            kind: ModKind::Namespace,
            entry,
            entry_index: top.then_some(i),
            rule: format!(
                "namespace package: no module or package named `{tail}` on the path, {} portion(s)",
                portions.len()
            ),
            cached: None,
            search: portions,
            notes: Vec::new(),
        })
    }

    /// `FileFinder._fill_cache`: the names of `dir`, each by the name importlib compares
    /// with — on Windows the part after the first dot lower-cased ("Windows users can import
    /// modules with case-insensitive file suffixes": `sitecustomize.PY` is `sitecustomize.py`,
    /// opened by a stat NTFS answers in any case) — to the name it has on the disk.
    fn listing(&self, dir: &Path) -> Option<Rc<Listing>> {
        if let Some(l) = self.listings.borrow().get(dir) {
            return l.clone();
        }
        // (2.7's `imp` checks the whole name's case on Windows: `case_ok`)
        let windows =
            self.interp.platform == super::Platform::Windows && self.interp.version.major >= 3;
        let l = self.view.listdir(dir).map(|mut names| {
            names.sort();
            let mut listing = Listing::new();
            for name in names {
                let key = match name.split_once('.') {
                    Some((stem, suffix)) if windows => {
                        format!("{stem}.{}", suffix.to_lowercase())
                    }
                    _ => name.clone(),
                };
                // two spellings of one name (a copy off NTFS): the one importlib's own
                // spelling matches, else the first in name order
                let exact = key == name;
                match listing.get(&key) {
                    Some(kept) if *kept == key || !exact => {}
                    _ => {
                        listing.insert(key, name);
                    }
                }
            }
            Rc::new(listing)
        });
        self.listings
            .borrow_mut()
            .insert(dir.to_path_buf(), l.clone());
        l
    }

    fn suffixes(&self) -> Vec<(String, ModKind)> {
        let mut out: Vec<(String, ModKind)> = self
            .interp
            .extension_suffixes()
            .into_iter()
            .map(|s| (s, ModKind::Extension))
            .collect();
        out.push((".py".into(), ModKind::Source));
        if self.interp.platform == super::Platform::Windows {
            // `_bootstrap_external`: `SOURCE_SUFFIXES.append('.pyw')` on Windows
            out.push((".pyw".into(), ModKind::Source));
        }
        out.push((".pyc".into(), ModKind::Bytecode));
        out
    }

    fn resolution(
        &self,
        name: &str,
        file: PathBuf,
        kind: ModKind,
        entry: &Path,
        rule: String,
    ) -> Resolution {
        let cached = if kind == ModKind::Source
            || (kind == ModKind::Package && file.extension().is_some_and(|e| e == "py"))
        {
            pyc::cached(
                self.view,
                self.interp.version,
                &file,
                self.interp.var("PYTHONPYCACHEPREFIX"),
                self.interp.optimize(),
            )
        } else {
            None
        };
        Resolution {
            name: name.to_owned(),
            file,
            kind,
            entry: entry.to_path_buf(),
            entry_index: None,
            rule,
            cached,
            search: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn in_dir(&self, name: &str, tail: &str, dir: &Path) -> Option<Hit> {
        let listing = self.listing(dir)?;
        let suffixes = self.suffixes();
        let py2 = self.interp.version.major == 2;
        let base = dir.join(tail);
        let mut namespace = false;
        if listing.contains_key(tail) {
            let inits: Vec<(String, ModKind)> = if py2 {
                vec![
                    (".py".into(), ModKind::Source),
                    (".pyc".into(), ModKind::Bytecode),
                ]
            } else {
                suffixes.clone()
            };
            // Python 3 opens `__init__<suffix>` with a stat, which NTFS answers for any
            // spelling (`__INIT__.PY`); 2.7's `imp` checks the case (`case_ok`)
            let any_case = !py2 && self.interp.platform == super::Platform::Windows;
            let spelled = any_case.then(|| self.listing(&base)).flatten();
            for (suffix, _) in &inits {
                let want = format!("__init__{suffix}");
                let init = match &spelled {
                    Some(names) if !names.values().any(|n| *n == want) => {
                        let mut found: Vec<&String> = names
                            .values()
                            .filter(|n| n.eq_ignore_ascii_case(&want))
                            .collect();
                        found.sort();
                        found
                            .first()
                            .map_or_else(|| base.join(&want), |n| base.join(n))
                    }
                    _ => base.join(&want),
                };
                if self.view.is_file(&init) {
                    let spelt = init.file_name().unwrap_or_default().to_string_lossy();
                    let rule = format!("package `{tail}/{spelt}`");
                    let mut r = self.resolution(name, init, ModKind::Package, dir, rule);
                    r.search = vec![base.clone()];
                    return Some(Hit::Found(r));
                }
            }
            namespace = !py2 && self.view.is_dir(&base);
        }
        for (suffix, kind) in &suffixes {
            let file_name = format!("{tail}{suffix}");
            if let Some(on_disk) = listing.get(&file_name) {
                let file = dir.join(on_disk);
                if self.view.is_file(&file) {
                    let file_name = on_disk;
                    let rule = match kind {
                        ModKind::Extension => {
                            format!("extension module `{file_name}` (suffix `{suffix}`)")
                        }
                        ModKind::Bytecode => {
                            format!("sourceless bytecode `{file_name}`: no source beside it")
                        }
                        _ => format!("module `{file_name}`"),
                    };
                    return Some(Hit::Found(self.resolution(name, file, *kind, dir, rule)));
                }
            }
        }
        namespace.then_some(Hit::Portion(base))
    }

    /// An entry that is not a file or directory but may lie inside a zip (`a.zip/sub`).
    fn in_zip_prefix(&self, name: &str, tail: &str, entry: &Path) -> Option<Hit> {
        let mut archive = entry.parent()?;
        let mut inner = vec![entry.file_name()?.to_string_lossy().into_owned()];
        loop {
            match self.view.stat(archive) {
                Some(crate::fs::Kind::File) => {
                    inner.reverse();
                    let prefix = format!("{}/", inner.join("/"));
                    return self.in_zip(name, tail, entry, archive, &prefix);
                }
                Some(_) => return None,
                None => {
                    inner.push(archive.file_name()?.to_string_lossy().into_owned());
                    archive = archive.parent()?;
                }
            }
        }
    }

    fn zip_names(&self, archive: &Path) -> Option<Rc<zip::ZipNames>> {
        if let Some(z) = self.zips.borrow().get(archive) {
            return z.clone();
        }
        let z = zip::read(self.view, archive, self.interp.version).map(Rc::new);
        if let Some(cut) = z.as_ref().and_then(|z| z.cut.as_ref()) {
            self.cut
                .borrow_mut()
                .push(format!("zip `{}` on sys.path: {cut}", archive.display()));
        }
        self.zips
            .borrow_mut()
            .insert(archive.to_path_buf(), z.clone());
        z
    }

    fn in_zip(
        &self,
        name: &str,
        tail: &str,
        entry: &Path,
        archive: &Path,
        prefix: &str,
    ) -> Option<Hit> {
        let names = self.zip_names(archive)?;
        let has = |n: &str| names.names.iter().any(|m| m == n);
        let py2 = self.interp.version.major == 2;
        let order: &[(&str, bool)] = if py2 {
            &[
                ("/__init__.pyc", true),
                ("/__init__.pyo", true),
                ("/__init__.py", true),
                (".pyc", false),
                (".pyo", false),
                (".py", false),
            ]
        } else {
            &[
                ("/__init__.pyc", true),
                ("/__init__.py", true),
                (".pyc", false),
                (".py", false),
            ]
        };
        let archive_str = archive.to_string_lossy();
        for (suffix, is_pkg) in order {
            let member = format!("{prefix}{tail}{suffix}");
            if has(&member) {
                let file = PathBuf::from(format!("{archive_str}/{member}"));
                let mut notes = Vec::new();
                if let Some(cut) = &names.cut {
                    notes.push(format!("`{archive_str}`: {cut}"));
                }
                let search = if *is_pkg {
                    vec![PathBuf::from(format!("{archive_str}/{prefix}{tail}"))]
                } else {
                    Vec::new()
                };
                return Some(Hit::Found(Resolution {
                    name: name.to_owned(),
                    file,
                    kind: ModKind::Zip,
                    entry: entry.to_path_buf(),
                    entry_index: None,
                    rule: format!("zipimport: member `{member}` of `{archive_str}`"),
                    cached: None,
                    search,
                    notes,
                }));
            }
        }
        let dir_member = format!("{prefix}{tail}/");
        // 3.14's zipimport also counts the directories its members' names imply
        let implied = self.interp.version.at_least(3, 14)
            && names.names.iter().any(|m| m.starts_with(&dir_member));
        (!py2 && (has(&dir_member) || implied))
            .then(|| Hit::Portion(PathBuf::from(format!("{archive_str}/{prefix}{tail}"))))
    }
}
