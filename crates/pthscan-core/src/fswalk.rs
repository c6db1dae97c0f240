//! Walking a directory tree on disk with every thread: each directory is listed by one worker
//! and its subdirectories handed on to others, so a site directory of a hundred thousand files
//! is listed at the speed of the cores, not of one. Symlinks are never followed.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::diagnostic::Diagnostic;
use crate::fsread::io_reason;
use crate::sources::{Kind, kind_of};

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

/// Visits `root` (followed if a symlink) and every entry under it, parents before children,
/// skipping the directories in `prune`, with the size of every regular file in the directories
/// entered [`Enter::Sized`], taken by a `stat` relative to the open directory as it is listed
/// (as `find -size` does): the kernel looks up one name, not every component of a full path as
/// a `stat` by path afterwards makes it do. Returns what could not be listed.
pub fn walk_sized(root: &Path, prune: &[PathBuf], visit: &mut SizedVisit<'_>) -> Vec<Diagnostic> {
    let (kind, size) = match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => (Kind::Dir, None),
        Ok(m) if m.is_file() => (Kind::File, Some(m.len())),
        Ok(_) => (Kind::Other, None),
        Err(err) => return vec![cannot_walk(root, &err)],
    };
    let state = Mutex::new(State {
        visit,
        problems: Vec::new(),
    });
    let enter = (state.lock().unwrap_or_else(PoisonError::into_inner).visit)(root, kind, size);
    if kind == Kind::Dir && enter != Enter::No && !prune.iter().any(|p| p == root) {
        let sizes = enter == Enter::Sized;
        rayon::scope(|s| list(s, root.to_path_buf(), prune, sizes, &state));
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

/// Lists `dir` (`sizes`: with a `stat` of each regular file), visits its entries, and hands
/// the subdirectories to be entered to the pool.
fn list<'s>(
    scope: &rayon::Scope<'s>,
    dir: PathBuf,
    prune: &'s [PathBuf],
    sizes: bool,
    state: &'s Mutex<State<'_, '_>>,
) {
    let mut entries: Vec<(PathBuf, Kind, Option<u64>)> = Vec::new();
    let mut problems = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(read) => {
            for entry in read {
                match entry {
                    Ok(e) => {
                        // the kind from the directory listing (d_type), lstat where it has none
                        let kind = e.file_type().map_or(Kind::Other, |t| kind_of(&t));
                        // statx relative to the directory's descriptor, not following links
                        let size = if sizes && kind == Kind::File {
                            e.metadata().ok().filter(|m| m.is_file()).map(|m| m.len())
                        } else {
                            None
                        };
                        entries.push((e.path(), kind, size));
                    }
                    Err(err) => problems.push(cannot_walk(&dir, &err)),
                }
            }
        }
        Err(err) => problems.push(cannot_walk(&dir, &err)),
    }
    let mut subdirs = Vec::new();
    {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        state.problems.append(&mut problems);
        for (path, kind, size) in entries {
            if kind == Kind::Dir && prune.contains(&path) {
                continue;
            }
            match (state.visit)(&path, kind, size) {
                Enter::Sized if kind == Kind::Dir => subdirs.push((path, true)),
                Enter::Unsized if kind == Kind::Dir => subdirs.push((path, false)),
                _ => {}
            }
        }
    }
    for (sub, sizes) in subdirs {
        scope.spawn(move |s| list(s, sub, prune, sizes, state));
    }
}

fn cannot_walk(path: &Path, err: &std::io::Error) -> Diagnostic {
    Diagnostic::incomplete(path, format!("cannot walk directory: {}", io_reason(err)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_everything_once_parents_first_and_skips_what_it_is_told_to() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
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
        let problems = walk_sized(r, &[r.join("pruned")], &mut |p, k, _| {
            seen.push((p.strip_prefix(r).unwrap().to_path_buf(), k));
            if p.ends_with("skip") {
                Enter::No
            } else {
                Enter::Unsized
            }
        });
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
        let r = d.path();
        std::fs::create_dir_all(r.join("pkg/sub")).unwrap();
        std::fs::write(r.join("pkg/a.py"), "x = 1\n").unwrap();
        std::fs::write(r.join("pkg/sub/big.py"), "y = 2\n").unwrap();
        std::os::unix::fs::symlink(r.join("pkg/a.py"), r.join("pkg/link.py")).unwrap();
        let mut seen: Vec<(String, Kind, Option<u64>)> = Vec::new();
        let problems = walk_sized(r, &[], &mut |p, k, size| {
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
        let missing = d.path().join("missing");
        let problems = walk_sized(&missing, &[], &mut |_, _, _| Enter::Unsized);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, missing);
        assert!(
            problems[0].message.contains("cannot walk directory"),
            "{problems:?}"
        );
    }
}
