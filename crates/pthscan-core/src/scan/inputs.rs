//! What a scan is given, found: the roots walked, environments discovered, artifacts to
//! open, loose files and folders judged as code.

use crate::diagnostic::Diagnostic;
use crate::discovery::{self, Environment};
use crate::fs::{Disk, Kind, ReadStats, Root, Tree};
use crate::sources;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::*;

/// The filesystem a scan without `--root` is confined to and, with no PATH, sweeps: `/`; on
/// Windows the system drive (`%SystemDrive%`, where Python installs, user sites and the
/// start-up model's drive-less paths such as `\Python312` are).
fn host_root() -> PathBuf {
    #[cfg(windows)]
    {
        let drive = std::env::var("SystemDrive").unwrap_or_else(|_| "C:".into());
        PathBuf::from(format!("{}\\", drive.trim_end_matches(['\\', '/'])))
    }
    #[cfg(not(windows))]
    PathBuf::from("/")
}

/// Walks the inputs, finds the Python environments under them and lists the artifacts to open.
pub fn discover(options: &ScanOptions) -> Discovered {
    let started = Instant::now();
    let mut report = ScanReport::default();
    let stats = Arc::new(ReadStats::default());
    let in_root = options.root.is_some();
    let fs_root = options.root.clone().unwrap_or_else(host_root);
    // no PATH: this host (or --root), unless only image stores were asked for
    let host_mode = options.paths.is_empty() && (options.image_stores.is_empty() || in_root);
    // the filesystem every path of a mounted system (--root) resolves inside: PATHs, host
    // places, RECORD rows, links at any depth
    let system = match Root::open(&fs_root, in_root) {
        Ok(root) => Arc::new(root),
        Err(err) => {
            report.diagnostics.push(Diagnostic::incomplete(
                &fs_root,
                format!("cannot open the root: {}", crate::fs::io_reason(&err)),
            ));
            return Discovered {
                report,
                work: Vec::new(),
                artifacts: Vec::new(),
                lockfiles: Vec::new(),
                hosts: Vec::new(),
                stats,
                started,
            };
        }
    };
    // a filesystem root (the host, --root, or `/` given) is swept as a host
    let is_fs_top = |root: &Path| host_mode || root == system.path() || root == Path::new("/");
    let reader_for = |root: &Path| -> Result<Disk, std::io::Error> {
        let mut disk = if in_root || host_mode {
            Disk::with_root(
                Arc::clone(&system),
                options.max_file_size,
                Arc::clone(&stats),
            )
        } else {
            // a directory of the live host: nothing leads out of it
            Disk::open(root, false, options.max_file_size, Arc::clone(&stats))?
        };
        // a filesystem root (the host, --root, or `/` given) skips its pseudo directories;
        // every walk skips network and pseudo mounts unless --all-mounts
        let mut prune = discovery::pruned_dirs(root, options.all_mounts);
        if !is_fs_top(root) {
            prune.retain(|p| !discovery::PSEUDO_DIRS.iter().any(|d| *p == root.join(d)));
        } else {
            // an engine's layer directories are images' layers, not the host: read as images
            // (`--image-store`), never walked one layer at a time
            prune.extend(layer_dirs(&system, root));
        }
        disk.prune = Arc::new(prune);
        disk.exclude = options.exclude.clone();
        Ok(disk)
    };
    type Located = (PathBuf, Result<Kind, crate::fs::ReadError>);
    let inputs: Vec<(PathBuf, Located)> = if host_mode {
        vec![(
            system.path().to_path_buf(),
            (system.path().to_path_buf(), Ok(Kind::Dir)),
        )]
    } else {
        options
            .paths
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .map(|p| {
                let located = {
                // an environment's interpreter (`venv/bin/python`, a link to /usr/bin/python3)
                // names that environment, not the file its link leads to
                match interpreter_environment(&system, in_root, p) {
                    Some(env) => {
                        report.diagnostics.push(Diagnostic::note(
                            p,
                            format!(
                                "the interpreter of the environment `{}`: that environment is scanned",
                                env.display()
                            ),
                        ));
                        locate_input(&system, in_root, &env)
                    }
                    None => locate_input(&system, in_root, p),
                }
                };
                (p.clone(), located)
            })
            .collect()
    };
    // `-`: an image archive on standard input (`docker save app | pthscan -`), read once
    let stdin = options.paths.iter().any(|p| p.as_os_str() == "-");
    let mut roots = Vec::new();
    let mut artifacts: Vec<(Disk, PathBuf, Place)> = Vec::new();
    let mut lockfiles: Vec<(Disk, PathBuf)> = Vec::new();
    let mut given_files: Vec<PathBuf> = Vec::new();
    let mut layouts: Vec<(Disk, PathBuf)> = Vec::new();
    let mut stores: Vec<(PathBuf, Option<String>)> = Vec::new();
    for dir in &options.image_stores {
        match locate_input(&system, in_root, dir) {
            (real, Ok(Kind::Dir)) => stores.push((real, None)),
            (real, Ok(_)) => report.diagnostics.push(Diagnostic::incomplete(
                &real,
                "--image-store: not a directory",
            )),
            (real, Err(err)) => report.diagnostics.push(Diagnostic::incomplete(
                &real,
                format!("--image-store: {err}"),
            )),
        }
    }
    for (given, (input, kind)) in inputs {
        match kind {
            Ok(Kind::Dir) => {
                let has = |name: &str| system.stat(&input.join(name), false).is_ok();
                // an OCI image layout, or skopeo's `dir:` layout (`version`, `manifest.json`
                // and blobs named by bare hex)
                if has("oci-layout") && has("index.json") || has("version") && has("manifest.json")
                {
                    match reader_for(&input) {
                        Ok(disk) => layouts.push((disk, input)),
                        Err(err) => report
                            .diagnostics
                            .push(Diagnostic::incomplete(&input, crate::fs::io_reason(&err))),
                    }
                } else {
                    roots.push(input);
                }
            }
            Ok(Kind::File) => {
                let parent = input.parent().unwrap_or(Path::new("/")).to_path_buf();
                match reader_for(&parent) {
                    Ok(disk) => {
                        given_files.push(input.clone());
                        if is_lockfile(&input) {
                            lockfiles.push((disk, input));
                        } else {
                            artifacts.push((disk, input, Place::Given));
                        }
                    }
                    Err(err) => report
                        .diagnostics
                        .push(Diagnostic::incomplete(&input, crate::fs::io_reason(&err))),
                }
            }
            Ok(_) => report.diagnostics.push(Diagnostic::incomplete(
                &input,
                "not a directory or a regular file: not scanned",
            )),
            // no such path: an image of the local stores by name (`pthscan app:1.0`)
            Err(err) if err.is_missing() && image_reference(&given) => {
                let reference = given.to_string_lossy();
                match find_image(&system, &reference, options) {
                    Ok(found) => stores.extend(found.into_iter().map(|(s, id)| (s, Some(id)))),
                    Err(why) => report.diagnostics.push(Diagnostic::incomplete(&given, why)),
                }
            }
            Err(err) => report
                .diagnostics
                .push(Diagnostic::incomplete(&input, err.to_string())),
        }
    }
    let mut roots = discovery::prune_nested(roots);
    // a host walked without its stores given: say where the images are
    if roots.iter().any(|r| is_fs_top(r)) {
        for dir in layer_dirs(&system, system.path()) {
            let store = dir.parent().unwrap_or(&dir).to_path_buf();
            if stores.iter().any(|(s, _)| *s == store) {
                continue;
            }
            let shown = crate::pathfmt::display_path(&store);
            let shown = match in_root {
                true => format!(
                    "/{}",
                    store
                        .strip_prefix(system.path())
                        .unwrap_or(&store)
                        .display()
                ),
                false => shown,
            };
            report.diagnostics.push(Diagnostic::note(
                &dir,
                format!(
                    "container image layers, not walked as part of the host: give `--image-store {shown}` to judge each image in it as its layers apply"
                ),
            ));
        }
    }

    let mut work: Vec<Work> = Vec::new();
    let mut hosts = Vec::new();
    // a filesystem root is walked as its top-level directories, in parallel
    let mut parts: Vec<(usize, PathBuf)> = Vec::new();
    let mut readers: Vec<Disk> = Vec::new();
    roots.retain(|r| match reader_for(r) {
        Ok(disk) => {
            readers.push(disk);
            true
        }
        Err(err) => {
            let why = format!("cannot open: {}", crate::fs::io_reason(&err));
            report.diagnostics.push(Diagnostic::incomplete(r, why));
            false
        }
    });
    for (i, root) in roots.iter().enumerate() {
        let fs_top = is_fs_top(root);
        if !fs_top {
            parts.push((i, root.clone()));
            continue;
        }
        hosts.push(readers[i].clone());
        match readers[i].list(root) {
            Ok(entries) => parts.extend(
                entries
                    .into_iter()
                    .filter(|e| e.kind == Kind::Dir && !readers[i].prune.contains(&e.path))
                    .map(|e| (i, e.path)),
            ),
            Err(err) => report
                .diagnostics
                .push(Diagnostic::incomplete(root, format!("cannot list: {err}"))),
        }
    }
    let founds: Vec<(usize, discovery::Discovery)> = parts
        .par_iter()
        .map(|(i, part)| {
            (
                *i,
                discovery::discover(
                    &readers[*i],
                    std::slice::from_ref(part),
                    discovery::Depth::UpToSiteDirs,
                ),
            )
        })
        .collect();
    let trees: Vec<Arc<dyn Tree>> = readers
        .iter()
        .map(|r| Arc::new(r.clone()) as Arc<dyn Tree>)
        .collect();
    for (i, found) in founds {
        let reader = &readers[i];
        report.stats.entries_walked += found.entries_walked;
        report.diagnostics.extend(found.diagnostics);
        let env_dirs: Vec<&PathBuf> = found
            .environments
            .iter()
            .flat_map(|e| e.site_dirs.iter().chain(&e.code_dirs))
            .collect();
        artifacts.extend(
            found
                .artifacts
                .into_iter()
                .filter(|p| opens(options, p))
                .map(|p| {
                    let place = if env_dirs.iter().any(|d| p.starts_with(d)) {
                        Place::Bundled
                    } else {
                        Place::Walked
                    };
                    (reader.clone(), p, place)
                }),
        );
        // a project's lockfiles, not those shipped inside an environment (a package's test
        // data) nor, on a host sweep, those of the system's own software
        lockfiles.extend(
            found
                .lockfiles
                .into_iter()
                .filter(|p| !env_dirs.iter().any(|d| p.starts_with(d)))
                .filter(|p| {
                    !host_mode || !in_system_dir(p.strip_prefix(system.path()).unwrap_or(p))
                })
                .map(|p| (reader.clone(), p)),
        );
        let tree = &trees[i];
        for env in found.environments {
            // two scanned places can hold parts of one environment (/usr/lib/python3 and
            // /usr/lib/python3.11 are both /usr): judge it once, with all its directories
            match work.iter_mut().find(|w| w.env.root == env.root) {
                Some(existing) => {
                    let e = &mut existing.env;
                    e.site_dirs.extend(env.site_dirs);
                    e.site_dirs.sort();
                    e.site_dirs.dedup();
                    e.code_dirs.extend(env.code_dirs);
                    e.code_dirs.sort();
                    e.code_dirs.dedup();
                    e.python = e.python.take().or(env.python);
                }
                None => work.push(Work {
                    tree: Arc::clone(tree),
                    env,
                    install_hooks: Vec::new(),
                    every_file: false,
                    system_owned: Arc::default(),
                    reader: Some(reader.clone()),
                    variables: Arc::default(),
                }),
            }
        }
    }

    // a folder given that holds no environment and lies in none is judged as loose code
    for (i, root) in roots.iter().enumerate() {
        let in_env = |w: &Work| {
            (w.env.site_dirs.iter().chain(&w.env.code_dirs))
                .any(|d| d.starts_with(root) || root.starts_with(d))
        };
        if !is_fs_top(root) && !work.iter().any(in_env) {
            work.push(loose_folder(Arc::clone(&trees[i]), root));
        }
    }
    // the system package managers' records own a distribution's own site directories (Debian's
    // dist-packages): read from the root of each system such a directory belongs to — the
    // host, `--root`, or an extracted root filesystem given as a path
    let mut system_roots: Vec<PathBuf> = work
        .iter()
        .flat_map(|w| &w.env.site_dirs)
        .filter_map(|d| discovery::packages::system_root(d))
        .collect();
    system_roots.sort();
    system_roots.dedup();
    if !system_roots.is_empty() {
        let system = Disk::with_root(system, options.max_file_size, Arc::clone(&stats));
        let (owned, problems) = discovery::packages::owned(&system, &system_roots);
        report.diagnostics.extend(problems);
        let owned = Arc::new(owned);
        for w in &mut work {
            w.system_owned = Arc::clone(&owned);
        }
    }
    // a host's interpreters start with what its environment files, profiles and units set
    if let Some(host) = hosts.first() {
        let (settings, problems) = discovery::variables::host(host, host.root());
        report.diagnostics.extend(problems);
        let settings = Arc::new(settings);
        for w in &mut work {
            w.variables = Arc::clone(&settings);
        }
    }
    // what was asked for: the roots, the layouts and the artifact files given, not every
    // archive found inside them
    report.scanned = roots;
    report
        .scanned
        .extend(layouts.iter().map(|(_, dir)| dir.clone()));
    report.scanned.extend(given_files);
    let mut to_open: Vec<Artifact> = artifacts
        .into_iter()
        .map(|(reader, path, place)| Artifact::File(reader, path, place))
        .collect();
    if stdin {
        report.scanned.push(PathBuf::from(super::artifacts::STDIN));
        to_open.push(Artifact::Stdin);
    }
    to_open.extend(
        layouts
            .into_iter()
            .map(|(disk, dir)| Artifact::Layout(disk, dir)),
    );
    // a store once, and an image of it once however many names asked for it
    let whole: HashSet<PathBuf> = stores
        .iter()
        .filter(|(_, only)| only.is_none())
        .map(|(d, _)| d.clone())
        .collect();
    let mut seen = HashSet::new();
    for (dir, only) in stores {
        // an image asked for by name in a store judged whole is judged with it
        if only.is_some() && whole.contains(&dir) {
            continue;
        }
        if seen.insert((dir.clone(), only.clone())) {
            if only.is_none() {
                report.scanned.push(dir.clone());
            }
            to_open.push(Artifact::Store(dir, only));
        }
    }
    Discovered {
        report,
        work,
        artifacts: to_open,
        lockfiles,
        hosts,
        stats,
        started,
    }
}

/// Where a PATH is, and what it is: under `--root`, resolved inside the root (a link in it
/// means the mounted system's target, not the host's); on the live host, the operator's own
/// path, followed as given.
/// The environment whose interpreter `path` names, read from the path as given (a link is
/// not followed): `ENV/bin/python*` (`ENV/Scripts/python*.exe` on Windows layouts) where `ENV`
/// holds `pyvenv.cfg`, `conda-meta` or `lib/python*`.
fn interpreter_environment(system: &Root, in_root: bool, path: &Path) -> Option<PathBuf> {
    // lexically absolute: `venv/bin/python` from the current folder, no link followed
    let path = match in_root {
        true => path.to_path_buf(),
        false => std::path::absolute(path).ok()?,
    };
    let name = path.file_name()?.to_string_lossy();
    let bin = path.parent()?;
    let env = bin.parent()?;
    let is_bin = matches!(bin.file_name()?.to_str()?, "bin" | "Scripts");
    if !name.starts_with("python") || !is_bin || env.as_os_str().is_empty() {
        return None;
    }
    // under --root, every look goes through the root's confinement
    let placed = |rel: &str| {
        let p = env.join(rel);
        match in_root {
            true => system.path().join(p.strip_prefix("/").unwrap_or(&p)),
            false => p,
        }
    };
    let exists = |rel: &str| system.stat(&placed(rel), false).is_ok();
    let has_lib_python = || {
        let mut found = false;
        system
            .list(&placed("lib"), true, &mut |name, _| {
                found |= name.to_string_lossy().starts_with("python");
            })
            .is_ok()
            && found
    };
    (exists("pyvenv.cfg") || exists("conda-meta") || has_lib_python()).then(|| env.to_path_buf())
}

pub(super) fn locate_input(
    system: &Root,
    in_root: bool,
    path: &Path,
) -> (PathBuf, Result<Kind, crate::fs::ReadError>) {
    if in_root {
        let inside = system.path().join(path.strip_prefix("/").unwrap_or(path));
        return match system.resolve(&inside, true) {
            Ok(real) => match system.stat(&real, false) {
                Ok(st) => (real, Ok(st.kind)),
                // named as given, and where its links lead inside the root
                Err(err) if real != inside => {
                    let shown = crate::pathfmt::display_path(&real);
                    let why = format!("leads to `{shown}` inside the root: {err}");
                    (inside, Err(crate::fs::ReadError::Unavailable(why)))
                }
                Err(err) => (inside, Err(err)),
            },
            Err(err) => (inside, Err(err)),
        };
    }
    match crate::fs::canonicalize(path) {
        Ok(real) => {
            let kind = std::fs::symlink_metadata(&real)
                .map(|m| {
                    if m.is_dir() {
                        Kind::Dir
                    } else if m.is_file() {
                        Kind::File
                    } else {
                        Kind::Other
                    }
                })
                .map_err(crate::fs::ReadError::from);
            (real, kind)
        }
        Err(err) => (path.to_path_buf(), Err(err.into())),
    }
}

/// A folder that is no Python environment, judged as loose code: every file with the payload
/// rules, the folder as the site directory its `.pth`, `.start` and customize files would be
/// hooks in — so an unpacked wheel's `*.dist-info` is checked against its RECORD as installed,
/// and an unpacked sdist's `setup.py` is judged as the install-time code it is.
pub(super) fn loose_folder(tree: Arc<dyn Tree>, dir: &Path) -> Work {
    // what `pip install DIR` runs
    let setup = dir.join("setup.py");
    let install_hooks = if tree.is_file(&setup) {
        vec![setup]
    } else {
        Vec::new()
    };
    Work {
        tree,
        env: Environment {
            root: dir.to_path_buf(),
            kind: discovery::EnvKind::Loose,
            python: None,
            site_dirs: vec![dir.to_path_buf()],
            code_dirs: Vec::new(),
            distributions: 0,
            inventory: Vec::new(),
        },
        install_hooks,
        every_file: true,
        system_owned: Arc::default(),
        reader: None,
        variables: Arc::default(),
    }
}

/// What a loose folder is, when it is a package unpacked: a `*.dist-info` with files beside it
/// (a wheel: its RECORD is checked as an installed one's), or `PKG-INFO` with `setup.py` or
/// `pyproject.toml` (an sdist: `setup.py` is judged as install-time code).
pub(super) fn loose_shape(tree: &dyn Tree, dir: &Path) -> Option<&'static str> {
    let names: Vec<String> = tree.list(dir).ok()?.into_iter().map(|e| e.name).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if names.iter().any(|n| n.ends_with(".dist-info")) && names.len() > 1 {
        Some("an unpacked wheel, its RECORD checked")
    } else if has("PKG-INFO") && (has("setup.py") || has("pyproject.toml")) {
        Some("an unpacked sdist, its setup.py as install-time code")
    } else {
        None
    }
}

/// The layer directories of the engines' stores on the filesystem at `root` that exist.
fn layer_dirs(system: &Root, root: &Path) -> Vec<PathBuf> {
    sources::store::LAYER_DIRS
        .iter()
        .map(|rel| root.join(rel))
        .filter(|p| system.stat(p, false).is_ok_and(|st| st.kind == Kind::Dir))
        .collect()
}

/// Whether a PATH that does not exist reads as an image reference (`app`, `app:1.0`,
/// `registry.example/team/app@sha256:…`).
fn image_reference(path: &Path) -> bool {
    let Some(text) = path.to_str() else {
        return false;
    };
    !text.is_empty()
        && !text.starts_with(['/', '.', '-'])
        && !text.contains("//")
        && text.len() <= 512
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b))
}

/// The images of the default stores (under `--root` when given) that `reference` names: each
/// store's directory and the image id; or why there is none.
fn find_image(
    system: &Root,
    reference: &str,
    options: &ScanOptions,
) -> Result<Vec<(PathBuf, String)>, String> {
    let limits = sources::archive::Limits::new(options.max_file_size);
    let mut found = Vec::new();
    let mut searched = Vec::new();
    let mut unread = Vec::new();
    // the store directories read so far: `/var/lib/docker` is Docker's containerd store when
    // it holds only that, which is then not read twice
    let mut read: Vec<PathBuf> = Vec::new();
    for rel in sources::store::DEFAULT_STORES {
        let Ok(dir) = system.resolve(&system.path().join(rel), true) else {
            continue;
        };
        if system.stat(&dir, false).is_err() || read.contains(&dir) {
            continue;
        }
        let store = sources::store::Store::open(&dir);
        if let Ok(store) = &store {
            if read.iter().any(|r| r == store.dir()) {
                continue;
            }
            read.push(store.dir().to_path_buf());
        }
        searched.push(format!("`/{rel}`"));
        let images = store.and_then(|s| s.images(&limits));
        match images {
            Ok((images, _)) => found.extend(
                images
                    .into_iter()
                    .filter(|i| i.answers_to(reference))
                    .map(|i| (dir.clone(), i.id)),
            ),
            Err(why) => unread.push(format!("`/{rel}` ({why})")),
        }
    }
    if !found.is_empty() {
        return Ok(found);
    }
    let mut why = match searched.len() {
        0 => format!(
            "no such file or directory, and no local image store to find an image `{reference}` in (/{} under the root)",
            sources::store::DEFAULT_STORES.join(", /")
        ),
        _ => format!(
            "no such file or directory, and no image `{reference}` in the local stores ({})",
            searched.join(", ")
        ),
    };
    if !unread.is_empty() {
        why.push_str(&format!("; not searched: {}", unread.join("; ")));
    }
    Err(why)
}

/// Whether a file given as a PATH is a lockfile or requirement file.
fn is_lockfile(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| crate::python::lockfile::format_of(n).is_some())
}

/// Whether a path (relative to a swept filesystem's root) is where the system's own software
/// lives: its requirement files are data of installed programs, not a project's.
fn in_system_dir(rel: &Path) -> bool {
    let rel = rel.strip_prefix("/").unwrap_or(rel);
    let mut parts = rel.components().map(|c| c.as_os_str());
    match parts.next().and_then(|c| c.to_str()) {
        Some(
            "usr" | "lib" | "lib64" | "lib32" | "bin" | "sbin" | "boot" | "etc" | "snap" | "nix",
        ) => true,
        Some("var") => parts.next().is_some_and(|c| c == "lib" || c == "cache"),
        _ => false,
    }
}

/// Whether a file a walk found that may be an artifact is opened: a host sweep opens the
/// package caches (what the next install runs); given paths open every archive in them.
pub(super) fn opens(options: &ScanOptions, path: &Path) -> bool {
    !options.paths.is_empty() || sources::cache::is_cache_path(path)
}

/// Where an artifact file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Given as a PATH: what is no archive is judged as loose code.
    Given,
    /// Found by a walk, lying in a wheelhouse, a cache, a home directory.
    Walked,
    /// Found inside an installed environment (a test fixture of the standard library, data of
    /// a package): what cannot be read there is noted, not a reason for exit 2, since nothing
    /// installs from it.
    Bundled,
}
