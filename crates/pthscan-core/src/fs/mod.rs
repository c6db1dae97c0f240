//! The one way pthscan touches a file. A [`Tree`] is a read-only file tree that detectors walk
//! the same way whatever is behind it: a directory on disk ([`Disk`], confined to its [`Root`]:
//! no path, link or `..` leads out of it), or an artifact held in memory
//! ([`MemTree`](crate::sources::MemTree): a wheel, an sdist, the merged layers of an image),
//! whose links resolve inside it the same way.
//!
//! - [`root`]: resolving every path inside the scan's root (`openat2(RESOLVE_IN_ROOT)`);
//!   `root.rs` on Linux, macOS and the BSDs, `root_windows.rs` on Windows (the one place where
//!   the platforms differ: everything above it sees [`Meta`], [`Kind`] and [`Listing`]).
//! - [`case`]: directory names matched regardless of case, as NTFS does (a Windows disk
//!   read from Linux).
//! - [`disk`]: the tree on disk; [`walk`]: walking it with every thread.
//! - [`exclude`]: the `--exclude` globs walks and listings pass over.
//! - [`read`]: what a read gives ([`FileBytes`]) and how it fails ([`ReadError`]).

pub mod case;
pub mod disk;
pub mod exclude;
pub mod read;
#[cfg(unix)]
pub mod root;
#[cfg(windows)]
#[path = "root_windows.rs"]
pub mod root;
pub mod walk;

use std::path::{Path, PathBuf};

pub use disk::Disk;
pub use exclude::Exclude;
pub use read::{
    FileBytes, ReadError, ReadStats, file_id, io_reason, join_normalized, normalize, read_at,
    read_exact_at, sha256_hex,
};
pub use root::{Listing, Root, canonicalize};

use crate::diagnostic::Diagnostic;
use crate::times::FileTimes;

/// What a path is, without following a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A FIFO, socket, device or anything else that is never read.
    Other,
}

/// At most this many symlinks are followed in one path (Linux's own limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// What one step of [`resolve_links`] finds at a path made of real components.
enum Step {
    /// Nothing there (or nothing readable): the rest of the path is kept as written, for the
    /// open to report.
    Missing,
    /// A file or directory.
    Real,
    /// A symbolic link (or junction) to this target, as written.
    Link(PathBuf),
}

/// The component walk both roots resolve links with, relative to the root: the components of
/// `rel` in order, `..` going up one (refused above the root unless `in_root`, where it stops
/// there), each path so far looked at by `step`, and a link's target spliced in its place —
/// relative to where the link is, or, absolute, mapped inside the root by `inside` (refused
/// when it gives nothing). The last component is looked at only when `follow_last`. Returns a
/// path of real components (and a missing tail, kept as written).
fn resolve_links(
    rel: &Path,
    follow_last: bool,
    in_root: bool,
    root: &Path,
    mut step: impl FnMut(&Path) -> Result<Step, ReadError>,
    inside: impl Fn(&Path) -> Option<PathBuf>,
) -> Result<PathBuf, ReadError> {
    let mut done: Vec<std::ffi::OsString> = Vec::new();
    // the components still to walk, the next one last
    let mut todo: Vec<std::ffi::OsString> = Vec::new();
    push_components(&mut todo, rel);
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            if done.pop().is_none() && !in_root {
                return Err(escapes(&root.join(rel)));
            }
            continue;
        }
        done.push(part);
        if todo.is_empty() && !follow_last {
            break;
        }
        let here: PathBuf = done.iter().collect();
        let target = match step(&here)? {
            Step::Real => continue,
            Step::Missing => {
                done.extend(todo.drain(..).rev());
                break;
            }
            Step::Link(target) => target,
        };
        hops += 1;
        if hops > MAX_SYMLINK_HOPS {
            return Err(ReadError::SymlinkLoop);
        }
        done.pop();
        if target.has_root() || target.is_absolute() {
            done.clear();
            match inside(&target) {
                Some(inside) => push_components(&mut todo, &inside),
                None => return Err(escapes(&target)),
            }
        } else {
            push_components(&mut todo, &target);
        }
    }
    Ok(done.iter().collect())
}

/// Pushes the components of `path` so that the first is popped first; `.` is dropped (the
/// component walk of both roots).
fn push_components(todo: &mut Vec<std::ffi::OsString>, path: &Path) {
    use std::path::Component;
    let start = todo.len();
    for c in path.components() {
        match c {
            Component::Normal(n) => todo.push(n.to_os_string()),
            Component::ParentDir => todo.push("..".into()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    todo[start..].reverse();
}

/// The refusal of a path or link that leads out of the root.
fn escapes(target: &Path) -> ReadError {
    ReadError::EscapesRoot {
        target: crate::pathfmt::display_path(target),
    }
}

/// What a status (`lstat`, or `stat` through links inside the root) says of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// What it is.
    pub kind: Kind,
    /// Its size in bytes (a regular file's length).
    pub size: u64,
    /// Its identity on the machine, (device, inode) on Unix: two paths with one identity are
    /// one file. `(0, 0)` where the platform gives none (Windows).
    pub id: (u64, u64),
    /// Its modification time: whole seconds since the epoch and nanoseconds.
    pub mtime: (i64, u32),
}

impl Meta {
    /// Whether it is a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == Kind::File
    }
}

/// One entry of a directory.
#[derive(Debug, Clone)]
pub struct DirEntry {
    /// Its file name (lossy UTF-8).
    pub name: String,
    /// Its full path.
    pub path: PathBuf,
    /// What it is (not following symlinks).
    pub kind: Kind,
}

/// A read-only file tree. Paths are absolute paths inside the tree; reading follows symlinks
/// only while they stay inside it, and only regular files are ever opened.
pub trait Tree: Send + Sync {
    /// Reads at most `cap` bytes of the regular file at `path`, without hashing.
    fn read_capped(&self, path: &Path, cap: u64) -> Result<FileBytes, ReadError>;
    /// The entries of a directory, sorted by name.
    fn list(&self, dir: &Path) -> Result<Vec<DirEntry>, ReadError>;
    /// What `path` is, not following a final symlink; `None` when it does not exist.
    fn kind(&self, path: &Path) -> Option<Kind>;
    /// The size of the regular file at `path` (through symlinks inside the tree), or `None`
    /// when there is none.
    fn file_size(&self, path: &Path) -> Option<u64>;
    /// Visits every entry under `root` (itself included, symlinks not followed), parents
    /// before children, entering a directory only when `visit` returns `true` for it; returns
    /// what could not be walked.
    fn walk(&self, root: &Path, visit: &mut walk::Visit<'_>) -> Vec<Diagnostic> {
        use walk::Enter;
        self.walk_sized(root, &mut |path, kind, _| {
            if visit(path, kind) {
                Enter::Unsized
            } else {
                Enter::No
            }
        })
    }
    /// As [`Tree::walk`], with each regular file's size (not through symlinks) in the
    /// directories `visit` enters [`Enter::Sized`](walk::Enter::Sized): what a walk
    /// that needs every size asks, instead of a [`Tree::file_size`] per path afterwards.
    fn walk_sized(&self, root: &Path, visit: &mut walk::SizedVisit<'_>) -> Vec<Diagnostic>;
    /// The per-file read cap.
    fn max_file_size(&self) -> u64;
    /// The root no symlink may leave.
    fn root(&self) -> &Path;
    /// Whether absolute paths of the scanned system are taken inside [`Tree::root`].
    fn rooted(&self) -> bool;
    /// How a path of this tree is shown to people: the path itself for a directory on disk,
    /// the chain `artifact › member` for an artifact.
    fn display(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
    /// A note on where a file came from, when the display path does not say it all (the
    /// command that created an image layer).
    fn provenance(&self, _path: &Path) -> Option<String> {
        None
    }
    /// For a file read again from a stream (a member of a large compressed archive): the
    /// stream and the offset. Files of one stream read in this order cost one pass over it.
    fn read_order(&self, _path: &Path) -> Option<(usize, u64)> {
        None
    }
    /// Closes the stream `path` was read again from: a pass over it is done.
    fn release_stream(&self, _path: &Path) {}
    /// `path` with its symlinks resolved inside the tree: two paths to one directory (a
    /// venv's `lib64 -> lib`) have one canonical path. `path` itself when it cannot be resolved.
    fn canonical(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }

    /// Reads a regular file within [`Tree::max_file_size`] and hashes what it read.
    fn read(&self, path: &Path) -> Result<FileBytes, ReadError> {
        let mut data = self.read_capped(path, self.max_file_size())?;
        data.sha256 = sha256_hex(&data.bytes);
        Ok(data)
    }
    /// As [`Tree::read`], leaving `sha256` empty: for bulk reads that hash only what they
    /// report.
    fn read_unhashed(&self, path: &Path) -> Result<FileBytes, ReadError> {
        self.read_capped(path, self.max_file_size())
    }
    /// Reads a regular file within [`Tree::max_file_size`] in windows of at most `window`
    /// bytes, each starting `overlap` bytes before the previous one ended, so that a file of
    /// any size is judged in bounded memory; `visit` gets each window's offset in the file.
    /// Returns the file's size and whether it was longer than the cap. A tree already in
    /// memory may visit slices of what it holds.
    fn read_windows(
        &self,
        path: &Path,
        window: usize,
        overlap: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<(u64, bool), ReadError> {
        self.read_windows_upto(path, self.max_file_size(), window, overlap, visit)
    }
    /// As [`Tree::read_windows`], within `cap` bytes rather than [`Tree::max_file_size`]:
    /// `u64::MAX` reads the whole file (what a RECORD hash needs, whatever the file's size),
    /// still one window at a time. Returns the file's size and whether less than all of it
    /// was read (the cap, or an artifact member of which only the head is in memory and
    /// nowhere to read the rest from).
    fn read_windows_upto(
        &self,
        path: &Path,
        cap: u64,
        window: usize,
        overlap: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<(u64, bool), ReadError>;
    /// Whether `path` is a regular file or a symlink to one inside the tree.
    fn is_file(&self, path: &Path) -> bool {
        self.file_size(path).is_some()
    }
    /// Whether `path` is a directory (not through a symlink).
    fn is_dir(&self, path: &Path) -> bool {
        self.kind(path) == Some(Kind::Dir)
    }
    /// What `path` is once symlinks are followed inside the tree (`os.stat`, not `os.lstat`):
    /// `None` when it does not exist, or its link leads nowhere or out of the tree.
    fn kind_followed(&self, path: &Path) -> Option<Kind> {
        match self.kind(path)? {
            Kind::Symlink => {
                if self.file_size(path).is_some() {
                    Some(Kind::File)
                } else if self.list(path).is_ok() {
                    Some(Kind::Dir)
                } else {
                    None
                }
            }
            kind => Some(kind),
        }
    }
    /// The modification time of the file at `path` (through symlinks inside the tree): whole
    /// seconds since the epoch and nanoseconds, where the tree keeps one.
    fn mtime(&self, _path: &Path) -> Option<(i64, u32)> {
        None
    }
    /// What `path` is and the times its source keeps (a last symlink followed inside the tree
    /// when `follow_last`), without opening it for reading: `None` when it does not exist.
    /// A tree that keeps no times answers empty [`FileTimes`].
    fn times(&self, path: &Path, follow_last: bool) -> Option<(Kind, FileTimes)> {
        let kind = if follow_last {
            self.kind_followed(path)
        } else {
            self.kind(path)
        };
        kind.map(|k| (k, FileTimes::default()))
    }
}
