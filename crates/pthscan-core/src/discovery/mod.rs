//! Finding Python environments under the scanned paths: site directories (`site-packages`,
//! `dist-packages`), the venv, conda env, user site or interpreter each belongs to, and the
//! other directories a `sitecustomize` can be imported from (the standard library,
//! `lib-dynload`, Debian's `/etc/pythonX.Y`).

pub mod packages;
pub mod variables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::fs::{Kind, Tree};
use crate::pathfmt::display_path;

/// What kind of environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    /// A virtual environment (`pyvenv.cfg`).
    Venv,
    /// A conda environment (`conda-meta/`).
    Conda,
    /// A user's site directory (`~/.local/lib/pythonX.Y/site-packages`).
    UserSite,
    /// An interpreter installation prefix (`/usr`, `/usr/local`, a pyenv version, …).
    Interpreter,
    /// A distribution's Python configuration directory (`/etc/pythonX.Y`).
    DistConfig,
    /// A site directory whose environment could not be told.
    Unknown,
    /// A wheel, judged as the site directory it installs into.
    Wheel,
    /// A source distribution: its `setup.py`, shipped `.pth` files and every file.
    Sdist,
    /// An archive of files that is neither a wheel nor an sdist.
    Archive,
    /// A package cache entry (an unpacked wheel in uv's cache).
    Cache,
    /// Files given to be judged that are no Python environment (a folder, a loose `.pth`, an
    /// unpacked wheel or sdist): each start-up file judged as the hook it would be in a site
    /// directory, every file as code.
    Loose,
}

/// One Python environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Its root: the venv or conda directory, the prefix, `~/.local`.
    pub root: PathBuf,
    /// What it is.
    pub kind: EnvKind,
    /// `X.Y` where known (from `pyvenv.cfg` or a `pythonX.Y` directory).
    pub python: Option<String>,
    /// Directories whose `.pth` and `.start` files `site` processes.
    pub site_dirs: Vec<PathBuf>,
    /// Further directories on `sys.path` at start-up, checked for customize modules only.
    pub code_dirs: Vec<PathBuf>,
    /// Installed distributions found in its site directories (set when judged).
    pub distributions: usize,
    /// Those distributions, by metadata file (set when judged).
    pub inventory: Vec<crate::python::dist::Distribution>,
}

impl Serialize for Environment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let paths = |v: &[PathBuf]| v.iter().map(|p| display_path(p)).collect::<Vec<_>>();
        let mut st = s.serialize_struct("Environment", 7)?;
        st.serialize_field("root", &display_path(&self.root))?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("python", &self.python)?;
        st.serialize_field("site_dirs", &paths(&self.site_dirs))?;
        st.serialize_field("code_dirs", &paths(&self.code_dirs))?;
        st.serialize_field("distributions", &self.distributions)?;
        st.serialize_field("inventory", &self.inventory)?;
        st.end()
    }
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Environments, sorted by root.
    pub environments: Vec<Environment>,
    /// What could not be walked.
    pub diagnostics: Vec<Diagnostic>,
    /// Directory entries walked.
    pub entries_walked: u64,
    /// Files that may be artifacts to open: archive-named files, and every file of a pip
    /// cache (which stores wheels under hashed names).
    pub artifacts: Vec<PathBuf>,
    /// Lockfiles and requirement files (`uv.lock`, `requirements*.txt`, `pyproject.toml`, …).
    pub lockfiles: Vec<PathBuf>,
}

/// Directories a host sweep never enters, relative to its root: kernel and device views, not
/// files.
pub const PSEUDO_DIRS: &[&str] = &["proc", "sys", "dev", "run"];

/// Filesystem types that hold no installed Python, or that a sweep must not walk unasked:
/// kernel views, and network or user-space mounts that may be slow, huge or another host's.
pub const SKIPPED_FS_TYPES: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "pstore",
    "bpf",
    "mqueue",
    "hugetlbfs",
    "configfs",
    "fusectl",
    "binfmt_misc",
    "autofs",
    "efivarfs",
    "rpc_pipefs",
    "nsfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "ceph",
    "glusterfs",
    "fuse.sshfs",
    "fuse.rclone",
    "fuse.s3fs",
    "afs",
];

/// What a sweep of `root` does not enter: its pseudo directories and, unless `all_mounts`, the
/// mount points below it of [`SKIPPED_FS_TYPES`] (from `/proc/self/mountinfo`).
pub fn pruned_dirs(root: &Path, all_mounts: bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = PSEUDO_DIRS.iter().map(|d| root.join(d)).collect();
    if !all_mounts && let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
        out.extend(
            skipped_mounts(&info)
                .into_iter()
                .filter(|m| m.starts_with(root) && m != root),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// Mount points of skipped filesystem types in mountinfo text.
fn skipped_mounts(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (head, tail) = line.split_once(" - ")?;
            let mount_point = head.split(' ').nth(4)?;
            let fs_type = tail.split(' ').next()?;
            SKIPPED_FS_TYPES
                .contains(&fs_type)
                .then(|| PathBuf::from(unescape_mountinfo(mount_point)))
        })
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
fn unescape_mountinfo(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Drops paths inside other paths of the list, and duplicates.
pub fn prune_nested(mut paths: Vec<PathBuf>) -> Vec<PathBuf> {
    paths.sort();
    paths.dedup();
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        if !out.iter().any(|kept| p.starts_with(kept)) {
            out.push(p);
        }
    }
    out
}

/// The prefix of a Windows layout's `…\Lib\site-packages`: spelt in any case (NTFS keeps the
/// case a name was made with and opens it by any), except all lower case — `lib/site-packages`
/// is as likely a POSIX tree's, and no Windows installer writes it ([`windows_prefix_in`]
/// looks at the prefix to tell).
pub(crate) fn windows_prefix(site: &Path) -> Option<&Path> {
    let lib = site.parent()?;
    let (s, l) = (site.file_name()?.to_str()?, lib.file_name()?.to_str()?);
    let windows = s.eq_ignore_ascii_case("site-packages")
        && l.eq_ignore_ascii_case("lib")
        && (s, l) != ("site-packages", "lib");
    windows.then(|| lib.parent())?
}

/// [`windows_prefix`], and an all lower-case `lib\site-packages` too when its prefix is a
/// Windows one: it holds `python.exe`, the interpreter's DLL or zip (`python312.dll`), or a
/// venv's `Scripts\python.exe` — a Windows interpreter opens `Lib` by that name as well.
pub(crate) fn windows_prefix_in<'p>(tree: &dyn Tree, site: &'p Path) -> Option<&'p Path> {
    if let Some(prefix) = windows_prefix(site) {
        return Some(prefix);
    }
    let lib = site.parent()?;
    if site.file_name()? != "site-packages" || lib.file_name()? != "lib" {
        return None;
    }
    let prefix = lib.parent()?;
    let windows_exe = |dir: &Path| {
        tree.list(dir).ok().is_some_and(|entries| {
            entries.iter().any(|e| {
                let name = e.name.to_ascii_lowercase();
                name == "python.exe"
                    || name == "pythonw.exe"
                    || (name.strip_suffix(".dll").or(name.strip_suffix(".zip")))
                        .is_some_and(|stem| windows_version_of(stem).is_some())
            })
        })
    };
    let scripts = crate::fs::case::fold_dirs(tree, &prefix.join("Scripts"));
    (windows_exe(prefix) || (tree.is_dir(&scripts) && windows_exe(&scripts))).then_some(prefix)
}

/// Whether `env` is laid out as a Windows installation (`Lib\site-packages`, an embeddable
/// distribution's `pythonXY._pth`): judged with the Windows start-up model, its directories
/// matched regardless of case.
pub fn windows_layout(tree: &dyn Tree, env: &Environment) -> bool {
    (env.site_dirs.iter().chain(&env.code_dirs)).any(|d| windows_prefix_in(tree, d).is_some())
        || (env.kind == EnvKind::Interpreter
            && (holds_windows_interpreter(tree, &env.root)
                || windows_install(tree, &env.root).is_some()))
        || (env.kind == EnvKind::UserSite && env.site_dirs.iter().any(|d| windows_user_site(d)))
}

/// `%APPDATA%\Python\PythonXY\site-packages`, in any case (NTFS).
fn windows_user_site(site: &Path) -> bool {
    name_at(site, 0).eq_ignore_ascii_case("site-packages")
        && name_at(site, 2).eq_ignore_ascii_case("Python")
        && name_at(site, 3).eq_ignore_ascii_case("Roaming")
        && windows_version_of(&name_at(site, 1)).is_some()
}

/// The name of `path`'s ancestor `up` levels above it (`0`: its own), empty at the root.
fn name_at(path: &Path, up: usize) -> String {
    (path.ancestors().nth(up))
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An embeddable Windows distribution at `prefix` (a folder holding `python.exe` or an
/// interpreter's DLL `pythonXY.dll`), as getpath opens its `._pth` file.
pub(crate) struct Embedded {
    /// The `._pth` an interpreter started as `python.exe` reads (its DLL's, else
    /// `python._pth`), if any.
    pub pth: Option<PathBuf>,
    /// The `._pth` files other executables of the folder read instead (`pythonw._pth`, an
    /// application's `app._pth` beside its `app.exe`): each `(executable, ._pth)`.
    pub others: Vec<(String, PathBuf)>,
    /// Whether `site` runs under some executable of the folder.
    pub site: bool,
    /// The version the DLL's name (or the `._pth`'s) gives.
    pub version: Option<String>,
}

/// Whether `prefix` holds `python.exe` or an interpreter's DLL (`python312.dll`): what
/// [`embedded_pth`] asks first, without reading any `._pth`.
fn holds_windows_interpreter(tree: &dyn Tree, prefix: &Path) -> bool {
    tree.list(prefix).is_ok_and(|entries| {
        entries.iter().any(|e| {
            let name = e.name.to_ascii_lowercase();
            e.kind == Kind::File
                && (name == "python.exe"
                    || name
                        .strip_suffix(".dll")
                        .is_some_and(|stem| windows_version_of(stem).is_some()))
        })
    })
}

/// The embeddable distribution at `prefix`, if it is one. getpath opens `<library>._pth`
/// (the DLL's own stem: `python312._pth` beside `python312.dll`), then `<executable>._pth`
/// (`python._pth`, `pythonw._pth`, `app._pth` beside `app.exe`), each by any spelling of its
/// name; an executable with neither starts as an installation does, and `site` runs.
pub(crate) fn embedded_pth(tree: &dyn Tree, prefix: &Path) -> Option<Embedded> {
    let entries = tree.list(prefix).ok()?;
    let named = |want: &str| {
        (entries.iter()).find(|e| e.kind == Kind::File && e.name.eq_ignore_ascii_case(want))
    };
    let stems = |suffix: &str| -> Vec<String> {
        let mut out: Vec<String> = (entries.iter())
            .filter(|e| e.kind == Kind::File)
            .filter_map(|e| {
                let name = e.name.to_ascii_lowercase();
                name.strip_suffix(suffix).map(str::to_owned)
            })
            .collect();
        out.sort();
        out
    };
    let dlls: Vec<String> = (stems(".dll").into_iter())
        .filter(|s| windows_version_of(s).is_some())
        .collect();
    let exes = stems(".exe");
    if dlls.is_empty() && !exes.iter().any(|e| e == "python") {
        return None;
    }
    let dll_pth = dlls.iter().find_map(|d| named(&format!("{d}._pth")));
    // the executables that are interpreters: python, pythonw, and any with a `._pth` of its name
    let hosts: Vec<&String> = (exes.iter())
        .filter(|e| *e == "python" || *e == "pythonw" || named(&format!("{e}._pth")).is_some())
        .collect();
    let pth_of = |exe: &str| {
        dll_pth
            .or_else(|| named(&format!("{exe}._pth")))
            .map(|e| e.path.clone())
    };
    let pth = pth_of("python");
    let others: Vec<(String, PathBuf)> = (hosts.iter())
        .filter(|e| e.as_str() != "python")
        .filter_map(|e| Some((format!("{e}.exe"), pth_of(e)?)))
        .filter(|(_, p)| Some(p) != pth.as_ref())
        .collect();
    let version = (dlls.iter().find_map(|d| windows_version_of(d))).or_else(|| {
        let name = pth
            .as_ref()?
            .file_name()?
            .to_string_lossy()
            .to_ascii_lowercase();
        windows_version_of(name.strip_suffix("._pth")?)
    });
    // read as far as the start-up model reads it, as the version reads it (without one, as
    // either generation would); a 3.6–3.10 getpath reads every line, so an `import site` past
    // what was read is not ruled out
    use crate::python::startup::{PyVersion, path::MAX_PTH_BYTES, pth_file};
    let versions: Vec<PyVersion> = match version.as_deref().and_then(PyVersion::parse) {
        Some(v) => vec![v],
        None => vec![PyVersion::new(3, 10), PyVersion::new(3, 11)],
    };
    let runs_site = |file: Option<&PathBuf>| {
        let Some(file) = file else {
            return true; // no `._pth`: `site` runs
        };
        let Ok(data) = tree.read_capped(file, MAX_PTH_BYTES) else {
            return false;
        };
        versions.iter().any(|&v| {
            let read = pth_file::read(&data.bytes, data.size, v);
            read.site || read.empty || (data.truncated && !v.at_least(3, 11))
        })
    };
    let site = (hosts.is_empty() && runs_site(pth.as_ref()))
        || hosts.iter().any(|e| runs_site(pth_of(e).as_ref()));
    Some(Embedded {
        pth,
        others,
        site,
        version,
    })
}

/// The folder above a Windows installation at `root` whose `python.exe` is in `root` itself
/// (not in `Scripts`), when a `pyvenv.cfg` (any case) is in `root` or in that folder: where
/// `site.venv()` of 3.13 and before puts `sys.prefix`.
fn venv_parent(tree: &dyn Tree, root: &Path) -> Option<PathBuf> {
    let has = |dir: &Path, name: &str| {
        tree.list(dir).is_ok_and(|entries| {
            (entries.iter()).any(|e| e.kind == Kind::File && e.name.eq_ignore_ascii_case(name))
        })
    };
    let parent = root.parent().filter(|p| p.starts_with(tree.root()))?;
    let scripts = crate::fs::case::fold_dirs(tree, &root.join("Scripts"));
    (has(root, "python.exe")
        && !has(&scripts, "python.exe")
        && (has(root, "pyvenv.cfg") || has(parent, "pyvenv.cfg")))
    .then(|| parent.to_path_buf())
}

/// The version of the Windows installation at `prefix` as getpath finds one with no `._pth`:
/// the interpreter's DLL (`python312.dll`) beside the standard library's landmark
/// (`Lib\os.py`) or its zip (`python312.zip`, which makes that folder the prefix).
fn windows_install(tree: &dyn Tree, prefix: &Path) -> Option<String> {
    let entries = tree.list(prefix).ok()?;
    let version = entries.iter().find_map(|e| {
        let stem = e.name.get(..e.name.len().checked_sub(4)?)?;
        ends_with_ignore_case(&e.name, ".dll")
            .then(|| windows_version_of(stem))
            .flatten()
    })?;
    let zip = format!("python{}.zip", version.replace('.', ""));
    let landmark = entries.iter().any(|e| e.name.eq_ignore_ascii_case(&zip))
        || ["Lib/os.py", "Lib/os.pyc"].iter().any(|l| {
            let path = crate::fs::case::fold_dirs(tree, &prefix.join(l));
            // the landmark is opened by a stat: any spelling of its name
            (path.parent().and_then(|dir| tree.list(dir).ok())).is_some_and(|names| {
                let want = Path::new(l)
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy();
                (names.iter()).any(|n| n.name.eq_ignore_ascii_case(&want) && n.kind == Kind::File)
            })
        });
    landmark.then_some(version)
}

/// Whether `name` ends with the ASCII `suffix` in any case.
fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name.is_char_boundary(name.len() - suffix.len())
        && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// `PythonXY`, `pythonXY` or `PythonXY-32` (Windows installs, user sites and DLLs) → `X.Y`.
fn windows_version_of(name: &str) -> Option<String> {
    let head = name.get(..6).filter(|p| p.eq_ignore_ascii_case("python"))?;
    let rest = &name[head.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let tail = &rest[digits.len()..];
    // `python313t` (free-threaded), `python312_d` (a debug build), `Python313-32`
    if !(tail.is_empty() || tail.starts_with('-') || matches!(tail, "t" | "_d" | "t_d" | ".dll")) {
        return None;
    }
    let (major, minor) = digits.split_at_checked(1)?;
    (major == "2" || major == "3")
        .then_some(())
        .filter(|()| !minor.is_empty() && minor.len() <= 2)
        .map(|()| format!("{major}.{minor}"))
}

/// `pythonX.Y` or `pythonX.Yt` → `X.Y`.
pub fn python_version_of(name: &str) -> Option<String> {
    let rest = name.strip_prefix("python")?;
    let rest = rest.strip_suffix('t').unwrap_or(rest);
    let (major, minor) = rest.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor)).then(|| format!("{major}.{minor}"))
}

/// How far [`discover`] walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Everything under the roots (an in-memory tree, which costs nothing to walk twice).
    All,
    /// Not into site directories: the integrity check walks each of them once when its
    /// environment is judged, and shows what it lists to a [`Finder`] — a directory on disk
    /// is listed once, not twice.
    UpToSiteDirs,
}

/// What the entries of a walk make of: the directories environments are found by, and the
/// files that may be artifacts to open. Shown every entry of [`discover`]'s walk, and of the
/// integrity check's walk of the site directories discovery did not enter.
#[derive(Debug, Default)]
pub struct Finder {
    site_dirs: Vec<PathBuf>,
    stdlib_dirs: Vec<PathBuf>,
    etc_dirs: Vec<PathBuf>,
    artifacts: Vec<PathBuf>,
    lockfiles: Vec<PathBuf>,
    /// `pythonXY._pth` files: an embeddable Windows distribution, perhaps.
    embedded: Vec<PathBuf>,
    entries: u64,
}

impl Finder {
    /// Looks at one entry of a walk; returns whether it is a site directory.
    pub fn see(&mut self, tree: &dyn Tree, path: &Path, kind: Kind) -> bool {
        self.entries += 1;
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        if kind == Kind::Symlink
            && (name == "site-packages" || name == "dist-packages")
            && tree.kind_followed(path) == Some(Kind::Dir)
        {
            // CPython's `os.path.isdir` follows the link: a symlinked `site-packages` is a
            // site directory like any other
            self.site_dirs.push(path.to_path_buf());
            return true;
        }
        if kind != Kind::Dir {
            // links and special files named like archives too: opening them says what they are
            // (a FIFO, a link out of the root) instead of passing over them
            if crate::sources::artifact::has_archive_name(name)
                || (kind == Kind::File && crate::sources::cache::is_cache_path(path))
            {
                self.artifacts.push(path.to_path_buf());
            } else if kind == Kind::File
                && (ends_with_ignore_case(name, "._pth")
                    || (ends_with_ignore_case(name, ".dll")
                        && windows_version_of(&name[..name.len() - 4]).is_some()))
            {
                // a `._pth` file, or an interpreter's DLL (`python312.dll`): a Windows
                // installation or embeddable distribution may be here
                self.embedded.push(path.to_path_buf());
            } else if crate::python::lockfile::format_of(name).is_some()
                && (kind == Kind::File
                    || (kind == Kind::Symlink && tree.kind_followed(path) == Some(Kind::File)))
            {
                // a link named like a lockfile is read as one (through the link, inside the
                // root), as pip or uv would read it
                self.lockfiles.push(path.to_path_buf());
            }
            return false;
        }
        let parent_name = path
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str());
        if name == "site-packages"
            || name == "dist-packages"
            || windows_prefix(path).is_some()
            || (name.eq_ignore_ascii_case("site-packages")
                && parent_name.is_some_and(|p| windows_version_of(p).is_some()))
        {
            self.site_dirs.push(path.to_path_buf());
            return true;
        }
        if parent_name.is_some_and(|p| p.starts_with("archive-v"))
            && path.ancestors().nth(2).and_then(Path::file_name) == Some("uv".as_ref())
        {
            // uv's cache keeps every wheel it installs unpacked as archive-vN/<id>/
            self.site_dirs.push(path.to_path_buf());
            return true;
        }
        if python_version_of(name).is_some() || name == "python3" {
            match parent_name {
                Some("etc") => self.etc_dirs.push(path.to_path_buf()),
                Some("lib" | "lib64" | "lib32") if tree.kind(&path.join("os.py")).is_some() => {
                    self.stdlib_dirs.push(path.to_path_buf())
                }
                _ => {}
            }
        }
        false
    }

    /// Groups what was seen into environments; `diagnostics` are what the walk could not list.
    pub fn finish(mut self, tree: &dyn Tree, mut diagnostics: Vec<Diagnostic>) -> Discovery {
        // walks run on every thread: their order is not the same twice
        self.artifacts.sort();
        self.lockfiles.sort();
        self.site_dirs.sort();
        self.site_dirs.dedup();
        self.stdlib_dirs.sort();
        self.etc_dirs.sort();
        let mut envs: BTreeMap<PathBuf, Environment> = BTreeMap::new();
        // embeddable distributions: the prefix is a site directory when the `._pth` runs
        // `site` (`getsitepackages` on Windows: `[prefix, prefix\Lib\site-packages]`)
        let mut runs_site: BTreeMap<PathBuf, bool> = BTreeMap::new();
        self.embedded.sort();
        for pth in &self.embedded {
            // a venv's `Scripts\python._pth` is its executable's, modelled with the venv
            let Some(prefix) = pth.parent().filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case("Scripts"))
            }) else {
                continue;
            };
            if runs_site.contains_key(prefix) {
                continue; // another `._pth` of the same folder: the one getpath opens is read
            }
            let (site, python, installed) = match embedded_pth(tree, prefix) {
                Some(e) if e.pth.is_some() || !e.others.is_empty() => (e.site, e.version, false),
                // no `._pth` (an embeddable distribution whose `._pth` was deleted to let
                // `site` run, an installation without `Lib\site-packages`): getpath finds the
                // prefix by its landmark, and `site` runs (with a `Lib\site-packages`, the
                // installation is found by it, below)
                _ => {
                    let site_packages = prefix.join("Lib").join("site-packages");
                    let found_below =
                        tree.is_dir(&crate::fs::case::fold_dirs(tree, &site_packages));
                    match windows_install(tree, prefix).filter(|_| !found_below) {
                        Some(python) => (true, Some(python), true),
                        None => continue,
                    }
                }
            };
            let env = env_at(
                &mut envs,
                prefix.to_path_buf(),
                EnvKind::Interpreter,
                python,
            );
            if site {
                env.site_dirs.push(prefix.to_path_buf());
                // 3.11+ split a `._pth`'s folder at `;` into prefix and exec prefix: the part
                // before it is where `site` looks (`C:\Tools\a` for `C:\Tools\a;b\py`)
                let text = prefix.to_string_lossy();
                if !installed && let Some((head, _)) = text.split_once(';') {
                    let head = PathBuf::from(head);
                    if head.starts_with(tree.root()) && tree.is_dir(&head) {
                        let site_packages = crate::fs::case::fold_dirs(
                            tree,
                            &head.join("Lib").join("site-packages"),
                        );
                        env.site_dirs.push(head);
                        if tree.is_dir(&site_packages) {
                            env.site_dirs.push(site_packages);
                        }
                    }
                }
            } else {
                env.code_dirs.push(prefix.to_path_buf());
            }
            runs_site.insert(prefix.to_path_buf(), site);
            // getpath puts `DLLs` and `Lib` of an installation on the path (a `._pth` puts
            // what it lists)
            for dir in ["DLLs", "Lib"].iter().filter(|_| installed) {
                let dir = crate::fs::case::fold_dirs(tree, &prefix.join(dir));
                if tree.is_dir(&dir) {
                    env.code_dirs.push(dir);
                }
            }
        }
        for site in &self.site_dirs {
            let (root, kind, python) = classify_site_dir(tree, site, &mut diagnostics);
            let env = env_at(&mut envs, root, kind, python);
            env.site_dirs.push(site.clone());
            // on Windows the prefix itself is a site directory (`site.getsitepackages`:
            // `[prefix, prefix\Lib\site-packages]`): a `.pth` in a venv's or an
            // installation's top runs
            // (not an embeddable distribution's whose `._pth` does not run `site`)
            if windows_prefix_in(tree, site).is_some_and(|p| p == env.root)
                && runs_site.get(&env.root) != Some(&false)
            {
                env.site_dirs.push(env.root.clone());
                // and getpath puts `DLLs` and `Lib` of an installation before them
                for dir in ["DLLs", "Lib"] {
                    let dir = crate::fs::case::fold_dirs(tree, &env.root.join(dir));
                    // (conda's base and its environments are installations too)
                    if matches!(env.kind, EnvKind::Interpreter | EnvKind::Conda)
                        && tree.is_dir(&dir)
                    {
                        env.code_dirs.push(dir);
                    }
                }
            }
        }
        for stdlib in &self.stdlib_dirs {
            let root = stdlib
                .parent()
                .and_then(Path::parent)
                .unwrap_or(stdlib)
                .to_path_buf();
            let python = stdlib
                .file_name()
                .and_then(|n| python_version_of(&n.to_string_lossy()));
            let env = env_at(&mut envs, root, EnvKind::Interpreter, python);
            env.code_dirs.push(stdlib.clone());
            let dynload = stdlib.join("lib-dynload");
            if tree.is_dir(&dynload) {
                env.code_dirs.push(dynload);
            }
        }
        for etc in &self.etc_dirs {
            let python = etc
                .file_name()
                .and_then(|n| python_version_of(&n.to_string_lossy()));
            env_at(&mut envs, etc.clone(), EnvKind::DistConfig, python)
                .code_dirs
                .push(etc.clone());
        }
        // up to 3.13 `site.venv()` makes the parent of the executable's folder `sys.prefix`
        // when a `pyvenv.cfg` is beside the executable or in that parent: for a Windows
        // installation whose `python.exe` is in its own folder, the folder above it (`C:\`
        // for `C:\Python312`) becomes a site directory
        for env in envs.values_mut() {
            if matches!(env.kind, EnvKind::Interpreter | EnvKind::Venv)
                && runs_site.get(&env.root) != Some(&false)
                && let Some(parent) = venv_parent(tree, &env.root)
            {
                let site_packages =
                    crate::fs::case::fold_dirs(tree, &parent.join("Lib").join("site-packages"));
                env.site_dirs.push(parent);
                if tree.is_dir(&site_packages) {
                    env.site_dirs.push(site_packages);
                }
            }
        }
        let mut environments: Vec<Environment> = envs.into_values().collect();
        for env in &mut environments {
            env.site_dirs.sort();
            env.site_dirs.dedup();
            env.code_dirs.sort();
            env.code_dirs.dedup();
        }
        Discovery {
            environments,
            diagnostics,
            entries_walked: self.entries,
            artifacts: self.artifacts,
            lockfiles: self.lockfiles,
        }
    }
}

/// The environment rooted at `root`, made of `kind` if it is new; given `python` where it has
/// no version yet.
fn env_at(
    envs: &mut BTreeMap<PathBuf, Environment>,
    root: PathBuf,
    kind: EnvKind,
    python: Option<String>,
) -> &mut Environment {
    let env = envs.entry(root.clone()).or_insert_with(|| Environment {
        root,
        kind,
        python: None,
        site_dirs: Vec::new(),
        code_dirs: Vec::new(),
        distributions: 0,
        inventory: Vec::new(),
    });
    if env.python.is_none() {
        env.python = python;
    }
    env
}

/// Walks `roots` of `tree` (never following symlinks) as deep as `depth` says and groups what
/// it finds into environments.
pub fn discover(tree: &dyn Tree, roots: &[PathBuf], depth: Depth) -> Discovery {
    let mut finder = Finder::default();
    let mut diagnostics = Vec::new();
    for root in roots {
        diagnostics.extend(tree.walk(root, &mut |path, kind| {
            let site = finder.see(tree, path, kind);
            !(site && depth == Depth::UpToSiteDirs)
        }));
        // a root that is itself a site directory (`pthscan …/site-packages`)
        if root
            .file_name()
            .is_some_and(|n| n == "site-packages" || n == "dist-packages")
            && !finder.site_dirs.iter().any(|s| s == root)
        {
            finder.site_dirs.push(root.to_path_buf());
        }
    }
    finder.finish(tree, diagnostics)
}

/// The environment a site directory belongs to: (root, kind, Python version).
fn classify_site_dir(
    tree: &dyn Tree,
    site: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> (PathBuf, EnvKind, Option<String>) {
    if site
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n.to_string_lossy().starts_with("archive-v"))
    {
        return (site.to_path_buf(), EnvKind::Cache, None);
    }
    let version = site
        .components()
        .rev()
        .find_map(|c| python_version_of(&c.as_os_str().to_string_lossy()));
    // lib/pythonX.Y/site-packages (POSIX) or Lib/site-packages (Windows layout)
    for up in [3, 2] {
        let Some(root) = site.ancestors().nth(up) else {
            continue;
        };
        let mut cfg = root.join("pyvenv.cfg");
        if up == 2 && tree.kind(&cfg).is_none() && windows_prefix_in(tree, site) == Some(root) {
            // Windows opens `PYVENV.CFG` as `pyvenv.cfg`
            let listed = tree.list(root).unwrap_or_default();
            if let Some(e) = (listed.iter())
                .find(|e| e.kind == Kind::File && e.name.eq_ignore_ascii_case("pyvenv.cfg"))
            {
                cfg = e.path.clone();
            }
        }
        match tree.read_capped(&cfg, 64 * 1024) {
            Ok(cfg) => {
                let from_cfg = pyvenv_version(&String::from_utf8_lossy(&cfg.bytes));
                return (root.to_path_buf(), EnvKind::Venv, from_cfg.or(version));
            }
            Err(err) if err.is_missing() => {}
            // there but unreadable: still a venv, its version unknown
            Err(err) => {
                diagnostics.push(Diagnostic::incomplete(
                    &cfg,
                    format!("{err}: the venv's Python version is not known"),
                ));
                return (root.to_path_buf(), EnvKind::Venv, version);
            }
        }
        if tree.is_dir(&root.join("conda-meta")) {
            return (root.to_path_buf(), EnvKind::Conda, version);
        }
    }
    let comps: Vec<_> = site.components().collect();
    if let Some(i) = comps
        .windows(2)
        .position(|w| w[0].as_os_str() == ".local" && w[1].as_os_str() == "lib")
    {
        let root: PathBuf = comps[..=i].iter().collect();
        return (root, EnvKind::UserSite, version);
    }
    let name_at = |up: usize| name_at(site, up);
    if windows_user_site(site) {
        let root = site.parent().unwrap_or(site).to_path_buf();
        return (root, EnvKind::UserSite, windows_version_of(&name_at(1)));
    }
    // macOS user site: ~/Library/Python/X.Y/lib/python/site-packages
    if name_at(1) == "python"
        && name_at(2) == "lib"
        && name_at(4) == "Python"
        && name_at(5) == "Library"
    {
        let root = site.ancestors().nth(3).unwrap_or(site).to_path_buf();
        let v = python_version_of(&format!("python{}", name_at(3)));
        return (root, EnvKind::UserSite, v);
    }
    // a Windows installation: PREFIX\Lib\site-packages, its version in the prefix's name
    // (`Python312`) or its DLL or zip (`python312.dll`, `python312.zip`)
    if let Some(prefix) = windows_prefix_in(tree, site) {
        let named = prefix
            .file_name()
            .and_then(|n| windows_version_of(&n.to_string_lossy()));
        let from_files = || {
            tree.list(prefix).ok()?.into_iter().find_map(|e| {
                let stem = e
                    .name
                    .strip_suffix(".dll")
                    .or(e.name.strip_suffix(".zip"))?;
                windows_version_of(stem)
            })
        };
        return (
            prefix.to_path_buf(),
            EnvKind::Interpreter,
            version.or(named).or_else(from_files),
        );
    }
    // prefix/lib/pythonX.Y/site-packages, prefix/lib/python3/dist-packages
    let lib = site.ancestors().nth(2);
    match lib {
        Some(lib)
            if lib
                .file_name()
                .is_some_and(|n| n == "lib" || n == "lib64" || n == "lib32") =>
        {
            let prefix = lib.parent().unwrap_or(lib).to_path_buf();
            (prefix, EnvKind::Interpreter, version)
        }
        _ => (site.to_path_buf(), EnvKind::Unknown, version),
    }
}

/// `version = 3.11.7` / `version_info = 3.12.1.final.0` → `3.11`.
fn pyvenv_version(cfg: &str) -> Option<String> {
    cfg.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if !matches!(key.trim(), "version" | "version_info") {
            return None;
        }
        let mut parts = value.trim().split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        python_version_of(&format!("python{major}.{minor}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_macos_layouts_are_told_apart() {
        for (name, want) in [
            ("Python312", Some("3.12")),
            ("python39", Some("3.9")),
            ("Python313-32", Some("3.13")),
            ("python313t", Some("3.13")),
            ("python27", Some("2.7")),
            ("Python", None),
            ("pythonista", None),
        ] {
            assert_eq!(windows_version_of(name).as_deref(), want, "{name}");
        }
        assert_eq!(
            windows_prefix(Path::new("/w/Python312/Lib/site-packages")),
            Some(Path::new("/w/Python312"))
        );
        assert_eq!(
            windows_prefix(Path::new("/usr/lib/python3.12/site-packages")),
            None
        );
    }

    fn reader() -> crate::fs::Disk {
        crate::fs::Disk::open(Path::new("/"), false, 1 << 20, Default::default()).unwrap()
    }

    fn discover(roots: &[PathBuf]) -> Discovery {
        super::discover(&reader(), roots, Depth::All)
    }

    #[test]
    fn up_to_site_dirs_finds_a_site_directory_without_entering_it_and_a_finder_sees_inside() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        let site = r.join("venv/lib/python3.12/site-packages");
        mkdirs(r, &["venv/lib/python3.12/site-packages/pkg/__pycache__"]);
        std::fs::write(r.join("venv/pyvenv.cfg"), "version = 3.12.4\n").unwrap();
        let wheel = site.join("pkg/__pycache__/x-1.0-py3-none-any.whl");
        std::fs::write(&wheel, "").unwrap();
        let reader = reader();
        let all = super::discover(&reader, &[r.to_path_buf()], Depth::All);
        let top = super::discover(&reader, &[r.to_path_buf()], Depth::UpToSiteDirs);
        assert_eq!(all.environments, top.environments);
        assert_eq!(top.environments[0].site_dirs, std::slice::from_ref(&site));
        assert_eq!(all.artifacts, std::slice::from_ref(&wheel));
        assert!(top.artifacts.is_empty());
        // pkg, __pycache__ and the wheel
        assert_eq!(all.entries_walked - top.entries_walked, 3);
        let mut finder = Finder::default();
        reader.walk(&site, &mut |path, kind| {
            if path != site {
                finder.see(&reader, path, kind);
            }
            true
        });
        let inside = finder.finish(&reader, Vec::new());
        assert_eq!(inside.artifacts, [wheel]);
        assert_eq!(inside.entries_walked, 3);
        assert!(inside.environments.is_empty());
    }

    fn mkdirs(root: &Path, dirs: &[&str]) {
        for d in dirs {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
    }

    #[test]
    fn venv_user_site_interpreter_and_etc_are_told_apart() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        mkdirs(
            r,
            &[
                "proj/.venv/lib/python3.12/site-packages",
                "home/ann/.local/lib/python3.11/site-packages",
                "usr/lib/python3/dist-packages",
                "usr/lib/python3.11",
                "usr/lib/python3.11/lib-dynload",
                "etc/python3.11",
                "miniconda3/conda-meta",
                "miniconda3/lib/python3.10/site-packages",
            ],
        );
        std::fs::write(
            r.join("proj/.venv/pyvenv.cfg"),
            "home = /usr/bin\nversion_info = 3.12.1.final.0\n",
        )
        .unwrap();
        std::fs::write(r.join("usr/lib/python3.11/os.py"), "").unwrap();
        let found = discover(&[r.to_path_buf()]);
        let got: Vec<_> = found
            .environments
            .iter()
            .map(|e| {
                (
                    e.root.strip_prefix(r).unwrap().display().to_string(),
                    e.kind,
                    e.python.clone(),
                    e.site_dirs.len(),
                    e.code_dirs.len(),
                )
            })
            .collect();
        let v = |s: &str| Some(s.to_owned());
        assert_eq!(
            got,
            [
                (
                    "etc/python3.11".into(),
                    EnvKind::DistConfig,
                    v("3.11"),
                    0,
                    1
                ),
                ("home/ann/.local".into(), EnvKind::UserSite, v("3.11"), 1, 0),
                ("miniconda3".into(), EnvKind::Conda, v("3.10"), 1, 0),
                ("proj/.venv".into(), EnvKind::Venv, v("3.12"), 1, 0),
                ("usr".into(), EnvKind::Interpreter, v("3.11"), 1, 2),
            ]
        );
        assert!(found.diagnostics.is_empty());
    }

    #[test]
    fn a_site_dir_given_directly_is_scanned() {
        let d = tempfile::tempdir().unwrap();
        let site = d.path().join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        let found = discover(std::slice::from_ref(&site));
        assert_eq!(found.environments.len(), 1);
        assert_eq!(found.environments[0].site_dirs, [site]);
    }

    #[test]
    fn pseudo_and_network_mounts_are_pruned() {
        let info = "22 1 0:21 / /proc rw - proc proc rw\n\
                    30 1 8:1 / / rw - ext4 /dev/sda1 rw\n\
                    40 30 0:50 / /mnt/nas\\040share rw - nfs4 nas:/x rw\n\
                    41 30 8:2 / /home rw - ext4 /dev/sda2 rw\n\
                    42 30 0:51 / /mnt/evidence/net rw - cifs //h/s rw\n";
        assert_eq!(
            skipped_mounts(info),
            [
                PathBuf::from("/proc"),
                PathBuf::from("/mnt/nas share"),
                PathBuf::from("/mnt/evidence/net")
            ]
        );
        let pruned = pruned_dirs(Path::new("/mnt/evidence"), true);
        assert!(pruned.contains(&PathBuf::from("/mnt/evidence/proc")));
        assert!(!pruned.iter().any(|p| p.ends_with("net")));
    }

    #[test]
    fn versions() {
        assert_eq!(python_version_of("python3.13t").as_deref(), Some("3.13"));
        assert_eq!(python_version_of("python3"), None);
        assert_eq!(
            pyvenv_version("version = 3.11.7\n").as_deref(),
            Some("3.11")
        );
    }
}
