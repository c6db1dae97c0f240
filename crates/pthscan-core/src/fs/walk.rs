//! Walking a directory tree on disk with every thread: each directory is listed by one worker
//! and its subdirectories handed on to others, so a site directory of a hundred thousand files
//! is listed at the speed of the cores, not of one. Symlinks are never followed, and every
//! directory is opened inside the scan's [`Root`].

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::Kind;
use super::read::ReadError;
use super::root::Root;
use crate::diagnostic::Diagnostic;

/// What a walk calls for each entry: `true` to enter it when it is a directory. Calls never
/// overlap; all entries of one directory come in one run, after the directory itself.
pub type Visit<'a> = dyn FnMut(&Path, Kind) -> bool + Send + 'a;

/// What a sized walk does with a directory it visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enter {
    /// Not entered.
    No,
    /// Entered, with the size of each regular file in it.
    Sized,
    /// Entered, its files' sizes not wanted (`None`): no `stat` per file.
    Unsized,
}

/// As [`Visit`], with the size of each regular file (`None` for other kinds, in a directory
/// entered [`Enter::Unsized`], or for a file that vanished between listing and `stat`); says
/// how to enter each directory.
pub type SizedVisit<'a> = dyn FnMut(&Path, Kind, Option<u64>) -> Enter + Send + 'a;

/// What a walk passes over: directories it does not enter (pseudo and network mounts), and
/// entries `--exclude` names (neither visited nor entered).
#[derive(Debug, Clone, Copy, Default)]
pub struct Skip<'a> {
    /// Directories not entered.
    pub prune: &'a [PathBuf],
    /// Entries not visited.
    pub exclude: Option<&'a super::Exclude>,
}

/// Visits `start` (followed if a symlink inside `root`) and every entry under it, parents
/// before children, skipping what `skip` names, with the size of every regular file in
/// the directories entered [`Enter::Sized`], taken by a `stat` relative to the open directory
/// as it is listed (as `find -size` does): the kernel looks up one name, not every component of
/// a full path as a `stat` by path afterwards makes it do. Every directory is opened inside
/// `root` and never through a symlink. Returns what could not be listed.
pub fn walk_sized(
    root: &Root,
    start: &Path,
    skip: &Skip<'_>,
    visit: &mut SizedVisit<'_>,
) -> Vec<Diagnostic> {
    let (real, st) = match root
        .resolve(start, true)
        .and_then(|real| root.stat(&real, false).map(|st| (real, st)))
    {
        Ok(found) => found,
        Err(err) => return vec![cannot_walk(start, &err)],
    };
    let kind = st.kind;
    let size = st.is_file().then_some(st.size);
    let state = Mutex::new(State {
        visit,
        problems: Vec::new(),
    });
    let enter = (state.lock().unwrap_or_else(PoisonError::into_inner).visit)(start, kind, size);
    if kind == Kind::Dir && enter != Enter::No && !skip.prune.iter().any(|p| p == start) {
        let sizes = enter == Enter::Sized;
        let dir = Dir {
            shown: start.to_path_buf(),
            real,
        };
        rayon::scope(|s| list(s, root, dir, skip, sizes, &state));
    }
    state
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .problems
}

struct State<'v, 'a> {
    visit: &'v mut SizedVisit<'a>,
    problems: Vec<Diagnostic>,
}

/// A directory to list: the path visits are given (the start as the caller named it), and the
/// same directory with the start's symlinks resolved, which is opened.
struct Dir {
    shown: PathBuf,
    real: PathBuf,
}

/// Lists `dir` (`sizes`: with a `stat` of each regular file), visits its entries, and hands
/// the subdirectories to be entered to the pool.
fn list<'s>(
    scope: &rayon::Scope<'s>,
    root: &'s Root,
    dir: Dir,
    skip: &'s Skip<'s>,
    sizes: bool,
    state: &'s Mutex<State<'_, '_>>,
) {
    let mut names: Vec<(std::ffi::OsString, Kind)> = Vec::new();
    let mut problems = Vec::new();
    let mut entries: Vec<(std::ffi::OsString, Kind, Option<u64>)> = Vec::new();
    match root.list(&dir.real, false, &mut |name, kind| {
        names.push((name.to_os_string(), kind));
    }) {
        Ok(listed) => {
            for (name, kind) in names {
                // looked at relative to the open directory, not following links
                let size = if sizes && kind == Kind::File {
                    listed.file_size(&name)
                } else {
                    None
                };
                entries.push((name, kind, size));
            }
        }
        Err(err) => problems.push(cannot_walk(&dir.shown, &err)),
    }
    let mut subdirs = Vec::new();
    {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        state.problems.append(&mut problems);
        for (name, kind, size) in entries {
            let path = dir.shown.join(&name);
            if kind == Kind::Dir && skip.prune.contains(&path) {
                continue;
            }
            if skip.exclude.is_some_and(|e| e.excludes(&path)) {
                continue;
            }
            match (state.visit)(&path, kind, size) {
                Enter::Sized if kind == Kind::Dir => subdirs.push((path, name, true)),
                Enter::Unsized if kind == Kind::Dir => subdirs.push((path, name, false)),
                _ => {}
            }
        }
    }
    for (shown, name, sizes) in subdirs {
        let sub = Dir {
            shown,
            real: dir.real.join(name),
        };
        scope.spawn(move |s| list(s, root, sub, skip, sizes, state));
    }
}

fn cannot_walk(path: &Path, err: &ReadError) -> Diagnostic {
    Diagnostic::incomplete(path, format!("cannot walk directory: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_everything_once_parents_first_and_skips_what_it_is_told_to() {
        let d = tempfile::tempdir().unwrap();
        let r = &std::fs::canonicalize(d.path()).unwrap();
        let root = Root::open(r, false).unwrap();
        for dir in ["a/b/c", "a/skip/deep", "pruned/x", "e"] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
        }
        for f in [
            "a/1",
            "a/b/2",
            "a/b/c/3",
            "a/skip/4",
            "a/skip/deep/5",
            "pruned/x/6",
        ] {
            std::fs::write(r.join(f), "").unwrap();
        }
        std::os::unix::fs::symlink(r.join("a"), r.join("e/loop")).unwrap();
        let mut seen: Vec<(PathBuf, Kind)> = Vec::new();
        let problems = walk_sized(
            &root,
            r,
            &Skip {
                prune: &[r.join("pruned")],
                exclude: None,
            },
            &mut |p, k, _| {
                seen.push((p.strip_prefix(r).unwrap().to_path_buf(), k));
                if p.ends_with("skip") {
                    Enter::No
                } else {
                    Enter::Unsized
                }
            },
        );
        assert!(problems.is_empty(), "{problems:?}");
        let pos = |p: &str| seen.iter().position(|(s, _)| s == Path::new(p)).unwrap();
        assert!(
            pos("a") < pos("a/b") && pos("a/b") < pos("a/b/c") && pos("a/b/c") < pos("a/b/c/3")
        );
        let mut names: Vec<String> = seen
            .iter()
            .map(|(p, _)| p.to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "", "a", "a/1", "a/b", "a/b/2", "a/b/c", "a/b/c/3", "a/skip", "e", "e/loop"
            ]
        );
        assert_eq!(seen[pos("e/loop")].1, Kind::Symlink);
        assert_eq!(seen[pos("a/b/2")].1, Kind::File);
    }

    #[test]
    fn a_sized_walk_gives_each_regular_files_size_where_asked_and_none_for_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let r = &std::fs::canonicalize(d.path()).unwrap();
        let root = Root::open(r, false).unwrap();
        std::fs::create_dir_all(r.join("pkg/sub")).unwrap();
        std::fs::write(r.join("pkg/a.py"), "x = 1\n").unwrap();
        std::fs::write(r.join("pkg/sub/big.py"), "y = 2\n").unwrap();
        std::os::unix::fs::symlink(r.join("pkg/a.py"), r.join("pkg/link.py")).unwrap();
        let mut seen: Vec<(String, Kind, Option<u64>)> = Vec::new();
        let problems = walk_sized(&root, r, &Skip::default(), &mut |p, k, size| {
            let rel = p.strip_prefix(r).unwrap().to_string_lossy().into_owned();
            seen.push((rel, k, size));
            if p.ends_with("sub") {
                Enter::Unsized
            } else {
                Enter::Sized
            }
        });
        assert!(problems.is_empty(), "{problems:?}");
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            seen,
            [
                (String::new(), Kind::Dir, None),
                ("pkg".into(), Kind::Dir, None),
                ("pkg/a.py".into(), Kind::File, Some(6)),
                ("pkg/link.py".into(), Kind::Symlink, None),
                ("pkg/sub".into(), Kind::Dir, None),
                ("pkg/sub/big.py".into(), Kind::File, None),
            ]
        );
    }

    #[test]
    fn what_cannot_be_listed_is_reported_with_its_path() {
        let d = tempfile::tempdir().unwrap();
        let root = Root::open(d.path(), false).unwrap();
        let missing = root.path().join("missing");
        let problems = walk_sized(&root, &missing, &Skip::default(), &mut |_, _, _| {
            Enter::Unsized
        });
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, missing);
        assert!(
            problems[0].message.contains("cannot walk directory"),
            "{problems:?}"
        );
    }
}
