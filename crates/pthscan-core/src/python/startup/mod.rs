//! A model of one interpreter's start-up, computed without running Python (issue 18): for an
//! installation (prefix, version, platform, environment variables), the ordered `sys.path` that
//! `site` leaves, the `.pth` lines it executes or adds, and — for any module name — the one file
//! importlib's `PathFinder` would load, with why.
//!
//! - [`path`]: the ordered `sys.path` (`getpath` then `site.main()`), `.pth` processing.
//! - [`finder`]: `PathFinder`/`FileFinder`/`zipimport` resolution, `__pycache__` bytecode.
//! - [`pyc`]: bytecode headers (PEP 552) and when a cached `.pyc` runs instead of its source.
//! - [`pth_file`]: getpath's `._pth` file, read as each generation of CPython reads it.
//! - [`zip`]: the member names of a zip on `sys.path`, read from its central directory.
//!
//! Modelled on each generation's `Lib/site.py` and `Lib/importlib/_bootstrap_external.py`
//! (2.7 and 3.6–3.15 read from the interpreters' own sources; 3.14 and 3.15 are Debian's
//! builds, measured with Debian's `site` patch reverted — see `tests/oracle/debian_python.py`).
//! Linux only for now: a Windows or macOS layout is refused with a note rather than guessed.
//!
//! Every path the model handles is a path of the scanned system; [`View`] maps it into the
//! [`Tree`] (under `--root`), through which every read goes.

pub mod finder;
pub mod path;
pub mod pth_file;
pub mod pyc;
pub mod syntax;
pub mod zip;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::fs::{Kind, Tree};

pub use finder::{Finder, ModKind, Resolution};
pub use path::{PthAction, PthRecord, Startup, Why};

/// A CPython version: `X.Y`, with the patch release where it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PyVersion {
    /// 2 or 3.
    pub major: u8,
    /// The minor version.
    pub minor: u8,
    /// The patch release, where known (it decides whether dot-named `.pth` files are read).
    pub patch: Option<u16>,
}

impl PyVersion {
    /// The versions the model knows: 2.7 and 3.6 to 3.15.
    pub const KNOWN: [PyVersion; 11] = [
        PyVersion::new(2, 7),
        PyVersion::new(3, 6),
        PyVersion::new(3, 7),
        PyVersion::new(3, 8),
        PyVersion::new(3, 9),
        PyVersion::new(3, 10),
        PyVersion::new(3, 11),
        PyVersion::new(3, 12),
        PyVersion::new(3, 13),
        PyVersion::new(3, 14),
        PyVersion::new(3, 15),
    ];

    /// `X.Y` without a patch release.
    pub const fn new(major: u8, minor: u8) -> PyVersion {
        PyVersion {
            major,
            minor,
            patch: None,
        }
    }

    /// Parses `3.12` or `3.12.1` (anything after a third number is ignored); `None` for a
    /// version the model does not know.
    pub fn parse(s: &str) -> Option<PyVersion> {
        let mut parts = s.trim().split('.');
        let major: u8 = parts.next()?.parse().ok()?;
        let minor: u8 = parts.next()?.parse().ok()?;
        let patch = parts.next().and_then(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        });
        let v = PyVersion {
            major,
            minor,
            patch,
        };
        Self::KNOWN.iter().any(|k| k.xy() == v.xy()).then_some(v)
    }

    /// The `.pth` generations a model of this version stands for: models differ only where
    /// the version is not known, and then a 3.14 model stands for every version up to 3.14
    /// (they read path lines alike).
    pub fn generations(self) -> crate::python::Runs {
        use crate::python::Runs;
        if self.at_least(3, 15) {
            Runs::PY315
        } else {
            Runs::LEGACY
                .union(Runs::LEGACY_UNPATCHED)
                .union(Runs::PY313)
        }
    }

    /// `(major, minor)`.
    pub fn xy(self) -> (u8, u8) {
        (self.major, self.minor)
    }

    /// Whether this is at least `major.minor`.
    pub fn at_least(self, major: u8, minor: u8) -> bool {
        self.xy() >= (major, minor)
    }

    /// `3.12`.
    pub fn dotted(self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// `312`, as in `python312.zip`.
    pub fn nodot(self) -> String {
        format!("{}{}", self.major, self.minor)
    }

    /// `sys.implementation.cache_tag`: `cpython-312` (`None` on 2.7, which has no
    /// `__pycache__`).
    pub fn cache_tag(self) -> Option<String> {
        (self.major == 3).then(|| format!("cpython-{}", self.nodot()))
    }

    /// Whether `site` skips `.pth` files whose name starts with a dot (gh-113659): 3.13 on,
    /// and the security releases 3.8.19, 3.9.19, 3.10.14, 3.11.8 and 3.12.2 on. An unknown
    /// patch release of 3.8–3.12 is taken as not patched: it reads dot-named files, the reading
    /// that runs the most (and that of the pyenv releases the oracle runs).
    pub fn skips_dot_pth(self) -> bool {
        let first_patched = match self.xy() {
            (3, 8) | (3, 9) => 19,
            (3, 10) => 14,
            (3, 11) => 8,
            (3, 12) => 2,
            (3, m) if m >= 13 => return true,
            _ => return false,
        };
        self.patch.is_some_and(|p| p >= first_patched)
    }

    /// The magic number of this version's bytecode (the first four bytes of a `.pyc`), as
    /// each version's `importlib.util.MAGIC_NUMBER` gives it (3.14.10 and 3.15.2 asked);
    /// `None` for a version the model does not know.
    pub fn pyc_magic(self) -> Option<[u8; 4]> {
        let n: u16 = match self.xy() {
            (2, 7) => 62211,
            (3, 6) => 3379,
            (3, 7) => 3394,
            (3, 8) => 3413,
            (3, 9) => 3425,
            (3, 10) => 3439,
            (3, 11) => 3495,
            (3, 12) => 3531,
            (3, 13) => 3571,
            (3, 14) => 3627,
            (3, 15) => 3666,
            _ => return None,
        };
        let [lo, hi] = n.to_le_bytes();
        Some([lo, hi, b'\r', b'\n'])
    }
}

impl fmt::Display for PyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{p}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// The operating system the interpreter runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Platform {
    /// Linux (glibc, x86-64 unless told otherwise).
    #[default]
    Linux,
    /// macOS: `darwin` extension modules; framework builds have their own user site.
    MacOs,
    /// Windows: `DLLs` and `Lib`, the prefix itself a site directory beside
    /// `Lib\site-packages`, `Scripts\`, `.pyd`, `pythonXY._pth`.
    Windows,
}

/// How the installation is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Upstream CPython: `prefix/{platlibdir,lib}/pythonX.Y/site-packages`.
    #[default]
    Upstream,
    /// Debian and Ubuntu's patched `site.py`: `prefix/local/lib/pythonX.Y/dist-packages`,
    /// `prefix/lib/python3/dist-packages`, `prefix/lib/pythonX.Y/dist-packages`.
    Debian,
}

/// Whether the prefix is an installation or a virtual environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstallKind {
    /// An interpreter's own prefix.
    #[default]
    System,
    /// A virtual environment (`pyvenv.cfg` in the prefix).
    Venv,
}

/// One interpreter to model.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// Its version.
    pub version: PyVersion,
    /// Its platform.
    pub platform: Platform,
    /// A macOS framework build (`Python.framework/Versions/X.Y`): its user site is
    /// `~/Library/Python/X.Y/lib/python/site-packages`.
    pub framework: bool,
    /// `sys.platlibdir` (3.9+): `lib`, or `lib64` on Fedora and SUSE.
    pub platlibdir: String,
    /// The platform triplet in extension module names (`x86_64-linux-gnu`).
    pub multiarch: String,
    /// Upstream or Debian site directories.
    pub layout: Layout,
    /// `sys.prefix`: the installation, or the venv.
    pub prefix: PathBuf,
    /// A venv or an installation.
    pub kind: InstallKind,
    /// The installation a venv was made from (`sys.base_prefix`); read from `pyvenv.cfg`'s
    /// `home` when not given.
    pub base_prefix: Option<PathBuf>,
    /// The user base (`~/.local`), when there is a user.
    pub user_base: Option<PathBuf>,
    /// Whether the user site is enabled (no `-s`, `-I`, `PYTHONNOUSERSITE`, setuid).
    pub enable_user_site: bool,
    /// A `._pth` file that sets the whole `sys.path` (3.11+ on POSIX: `<executable>._pth`
    /// beside the executable the interpreter is started as; Windows finds its own).
    pub pth_file: Option<PathBuf>,
    /// Environment variables the interpreter starts with, where known: `PYTHONPATH`,
    /// `PYTHONUSERBASE`, `PYTHONPYCACHEPREFIX`, `PYTHONNOUSERSITE`.
    pub env: Vec<(String, String)>,
}

impl Interpreter {
    /// An upstream Linux installation of `version` at `prefix`.
    pub fn new(version: PyVersion, prefix: impl Into<PathBuf>) -> Interpreter {
        Interpreter {
            version,
            platform: Platform::Linux,
            framework: false,
            platlibdir: "lib".into(),
            multiarch: "x86_64-linux-gnu".into(),
            layout: Layout::Upstream,
            prefix: prefix.into(),
            kind: InstallKind::System,
            base_prefix: None,
            user_base: None,
            enable_user_site: false,
            pth_file: None,
            env: Vec::new(),
        }
    }

    /// The value of an environment variable, if set and not empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `sys.flags.optimize` from `PYTHONOPTIMIZE`: an integer is the level, any other
    /// non-empty value is 1.
    pub fn optimize(&self) -> u32 {
        self.var("PYTHONOPTIMIZE")
            .map_or(0, |v| v.trim().parse().unwrap_or(1))
    }

    /// The modules a `PYTHONWARNINGS` filter imports at start-up, before `site`: the module
    /// of each dotted category (`ignore::pkg.mod.Warning` imports `pkg.mod`), as
    /// `warnings._getcategory` does; a filter of more than five fields is ignored.
    pub fn warning_imports(&self) -> Vec<String> {
        let Some(value) = self.var("PYTHONWARNINGS") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for filter in value.split(',') {
            let parts: Vec<&str> = filter.split(':').collect();
            if parts.len() > 5 {
                continue;
            }
            let Some(category) = parts.get(2).map(|c| crate::python::py_strip(c)) else {
                continue;
            };
            if let Some((module, _)) = category.rsplit_once('.')
                && !module.is_empty()
                && !out.iter().any(|m| m == module)
            {
                out.push(module.to_owned());
            }
        }
        out
    }

    /// `importlib.machinery.EXTENSION_SUFFIXES` (2.7: `imp.get_suffixes()`'s `.so` and
    /// `module.so`).
    pub fn extension_suffixes(&self) -> Vec<String> {
        let v = self.version;
        if self.platform == Platform::Windows {
            return vec![format!(".cp{}-win_amd64.pyd", v.nodot()), ".pyd".into()];
        }
        if v.major == 2 {
            return vec![".so".into(), "module.so".into()];
        }
        if self.platform == Platform::MacOs {
            let abiflags = if v.xy() <= (3, 7) { "m" } else { "" };
            return vec![
                format!(".cpython-{}{abiflags}-darwin.so", v.nodot()),
                ".abi3.so".into(),
                ".so".into(),
            ];
        }
        let abiflags = if v.xy() <= (3, 7) { "m" } else { "" };
        let tagged = format!(".cpython-{}{abiflags}-{}.so", v.nodot(), self.multiarch);
        let abi3_tagged = format!(".abi3-{}.so", self.multiarch);
        // as the interpreters answer `_imp.extension_suffixes()`: 3.14 also loads the stable
        // ABI with the platform tag, 3.15 puts it first and adds the free-threaded stable ABI
        match v.xy() {
            (3, ..=13) => vec![tagged, ".abi3.so".into(), ".so".into()],
            (3, 14) => vec![tagged, ".abi3.so".into(), abi3_tagged, ".so".into()],
            _ => vec![
                tagged,
                abi3_tagged,
                ".abi3.so".into(),
                format!(".abi3t-{}.so", self.multiarch),
                ".abi3t.so".into(),
                ".so".into(),
            ],
        }
    }
}

/// The scanned system as the model sees it: paths of that system, read through the tree.
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// Every read goes through it.
    pub tree: &'a dyn Tree,
    /// Directory names are matched regardless of case, as on NTFS (a Windows layout read from
    /// a case-sensitive file system), through the listings kept here.
    fold_case: Option<&'a crate::fs::case::CaseIndex>,
}

impl<'a> View<'a> {
    /// A view of `tree`.
    pub fn new(tree: &'a dyn Tree) -> View<'a> {
        View {
            tree,
            fold_case: None,
        }
    }

    /// A view of `tree` as Windows opens it: directories by any spelling of their names, each
    /// directory listed once into `index`.
    pub fn windows(tree: &'a dyn Tree, index: &'a crate::fs::case::CaseIndex) -> View<'a> {
        View {
            tree,
            fold_case: Some(index),
        }
    }

    /// `live` (a path of the scanned system) as a path of the tree.
    pub fn disk(&self, live: &Path) -> PathBuf {
        let disk = if self.tree.rooted() {
            self.tree
                .root()
                .join(live.strip_prefix("/").unwrap_or(live))
        } else {
            live.to_path_buf()
        };
        match self.fold_case {
            Some(index) => crate::fs::case::fold_dirs_with(self.tree, &disk, index),
            None => disk,
        }
    }

    /// A path of the tree as a path of the scanned system.
    pub fn live(&self, disk: &Path) -> PathBuf {
        if self.tree.rooted()
            && let Ok(rel) = disk.strip_prefix(self.tree.root())
        {
            return Path::new("/").join(rel);
        }
        disk.to_path_buf()
    }

    /// `os.stat(path)`'s kind (through symlinks inside the tree).
    pub fn stat(&self, live: &Path) -> Option<Kind> {
        if live.as_os_str().as_encoded_bytes().contains(&0) {
            return None;
        }
        self.tree.kind_followed(&self.disk(live))
    }

    /// `os.path.isdir`.
    pub fn is_dir(&self, live: &Path) -> bool {
        self.stat(live) == Some(Kind::Dir)
    }

    /// `os.path.isfile`.
    pub fn is_file(&self, live: &Path) -> bool {
        self.stat(live) == Some(Kind::File)
    }

    /// The file `live` as the interpreter opens it by name (getpath's `pyvenv.cfg`, `._pth`):
    /// on Windows by any spelling of its name, as NTFS answers; elsewhere exactly.
    pub fn open_file(&self, live: &Path) -> Option<PathBuf> {
        if self.is_file(live) {
            return Some(live.to_path_buf());
        }
        self.fold_case?;
        let name = live.file_name()?.to_str()?;
        let entries = self.tree.list(&self.disk(live.parent()?)).ok()?;
        (entries.iter())
            .filter(|e| e.name.eq_ignore_ascii_case(name))
            .find(|e| self.tree.kind_followed(&e.path) == Some(Kind::File))
            .map(|e| self.live(&e.path))
    }

    /// `os.path.exists`.
    pub fn exists(&self, live: &Path) -> bool {
        self.stat(live).is_some()
    }

    /// `os.listdir` (through symlinks), names only; `None` when it cannot be listed.
    pub fn listdir(&self, live: &Path) -> Option<Vec<String>> {
        self.tree
            .list(&self.disk(live))
            .ok()
            .map(|v| v.into_iter().map(|e| e.name).collect())
    }
}

/// `posixpath.normpath`: `.` and `..` resolved lexically, repeated slashes collapsed, except
/// that exactly two leading slashes are kept (POSIX leaves `//` implementation-defined).
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial == 0 && parts.is_empty()) || parts.last() == Some(&"..") {
            parts.push(comp);
        } else if !parts.is_empty() {
            parts.pop();
        }
    }
    let joined = parts.join("/");
    let out = format!("{}{joined}", "/".repeat(initial));
    if out.is_empty() { ".".into() } else { out }
}

/// `os.path.join(base, rest)` on POSIX, then [`normpath`]: `site.makepath`.
pub fn makepath(base: &str, rest: &str) -> String {
    if rest.starts_with('/') {
        normpath(rest)
    } else if base.ends_with('/') || base.is_empty() {
        normpath(&format!("{base}{rest}"))
    } else {
        normpath(&format!("{base}/{rest}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_know_their_rules() {
        let v = PyVersion::parse("3.12.1").unwrap();
        assert_eq!(v.patch, Some(1));
        assert!(!v.skips_dot_pth());
        assert!(PyVersion::parse("3.12.2").unwrap().skips_dot_pth());
        assert!(!PyVersion::parse("3.12").unwrap().skips_dot_pth());
        assert!(PyVersion::parse("3.13.0").unwrap().skips_dot_pth());
        assert!(!PyVersion::parse("3.7").unwrap().skips_dot_pth());
        assert!(!PyVersion::parse("2.7.18").unwrap().skips_dot_pth());
        assert!(PyVersion::parse("3.5").is_none());
        assert!(PyVersion::parse("x").is_none());
        assert_eq!(
            PyVersion::new(3, 12).pyc_magic(),
            Some([0xcb, 0x0d, b'\r', b'\n'])
        );
        assert_eq!(
            PyVersion::new(3, 6).pyc_magic(),
            Some([b'3', 0x0d, b'\r', b'\n'])
        );
    }

    #[test]
    fn warning_filters_and_optimize_from_the_environment() {
        let mut i = Interpreter::new(PyVersion::new(3, 12), "/usr");
        i.env = vec![(
            "PYTHONWARNINGS".into(),
            "ignore::a.b.W,default::DeprecationWarning,error: : c.W ,x:y:d.W:m:1:extra".into(),
        )];
        assert_eq!(i.warning_imports(), ["a.b", "c"]);
        assert_eq!(i.optimize(), 0);
        i.env.push(("PYTHONOPTIMIZE".into(), "2".into()));
        assert_eq!(i.optimize(), 2);
        i.env.push(("PYTHONOPTIMIZE".into(), "yes".into()));
        assert_eq!(i.optimize(), 1);
    }

    #[test]
    fn extension_suffixes_per_version() {
        let i = Interpreter::new(PyVersion::new(3, 7), "/usr");
        assert_eq!(
            i.extension_suffixes(),
            [".cpython-37m-x86_64-linux-gnu.so", ".abi3.so", ".so"]
        );
        let i = Interpreter::new(PyVersion::new(3, 12), "/usr");
        assert_eq!(
            i.extension_suffixes()[0],
            ".cpython-312-x86_64-linux-gnu.so"
        );
        // CPython 3.14.10 and 3.15.2 (Debian's builds), asked
        let i = Interpreter::new(PyVersion::new(3, 14), "/usr");
        assert_eq!(
            i.extension_suffixes(),
            [
                ".cpython-314-x86_64-linux-gnu.so",
                ".abi3.so",
                ".abi3-x86_64-linux-gnu.so",
                ".so"
            ]
        );
        let i = Interpreter::new(PyVersion::new(3, 15), "/usr");
        assert_eq!(
            i.extension_suffixes(),
            [
                ".cpython-315-x86_64-linux-gnu.so",
                ".abi3-x86_64-linux-gnu.so",
                ".abi3.so",
                ".abi3t-x86_64-linux-gnu.so",
                ".abi3t.so",
                ".so"
            ]
        );
    }

    #[test]
    fn normpath_as_posixpath() {
        for (a, b) in [
            ("/a/b/../c", "/a/c"),
            ("/a/./b//c/", "/a/b/c"),
            ("//a/b", "//a/b"),
            ("///a/b", "/a/b"),
            ("/..", "/"),
            ("/a/ vendor", "/a/ vendor"),
            ("", "."),
        ] {
            assert_eq!(normpath(a), b, "{a}");
        }
        assert_eq!(makepath("/s", "../x"), "/x");
        assert_eq!(makepath("/s", "/abs/"), "/abs");
        assert_eq!(makepath("/s", " /abs"), "/s/ /abs");
        assert_eq!(makepath("/s", ""), "/s");
    }
}

#[cfg(test)]
mod model_tests;
