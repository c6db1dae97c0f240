//! [`Root`] on Windows: the directory no path of a scan leaves, with the rules of the Unix
//! root (`root.rs`): inside a mounted system (`--root`) an absolute path or link means the
//! root and `..` stops there; on the live host a link or `..` that leaves the root is refused.
//!
//! Windows has no `openat2`: every path is resolved here, one component at a time, each
//! symbolic link and junction (`FileType::is_symlink` is true for both name-surrogate reparse
//! points) read and spliced in under those rules, and the link-free result opened with
//! `FILE_FLAG_OPEN_REPARSE_POINT`, so that a link swapped in for the last component is opened
//! as itself and refused, not followed. A link raced into the middle of the path between the
//! walk and the open is not caught (as on a Linux kernel without `openat2`). Paths are opened
//! in their `\\?\` form, built from the resolved components, so that a file named `CON` or
//! `NUL` is a file of the tree and never the DOS device of that name.

use std::ffi::OsStr;
use std::fs::{File, Metadata, OpenOptions};
use std::os::windows::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf, Prefix};

use super::read::ReadError;
use super::{Kind, Meta};
use super::{Step, escapes, resolve_links};

/// `CreateFileW` flags: open a reparse point itself rather than what it points to.
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
/// Share everything: a scan never keeps another program from writing, renaming or deleting.
const SHARE_ALL: u32 = 0x1 | 0x2 | 0x4;

/// The directory a scan is confined to.
#[derive(Debug)]
pub struct Root {
    /// The absolute path, as shown.
    path: PathBuf,
    /// The same path in its `\\?\` form, which opens are made under.
    verbatim: PathBuf,
    in_root: bool,
}

impl Root {
    /// Opens `path` (the operator's own path: it is followed as given) as the root. With
    /// `in_root`, absolute paths and links mean the root itself and `..` stops there (a mounted
    /// disk or image, `--root`); without, a link or `..` that leaves it is refused.
    pub fn open(path: &Path, in_root: bool) -> std::io::Result<Root> {
        let real = std::fs::canonicalize(path)?;
        if !std::fs::metadata(&real)?.is_dir() {
            return Err(std::io::Error::other("not a directory"));
        }
        let path = plain(&real);
        Ok(Root {
            verbatim: real,
            path,
            in_root,
        })
    }

    /// The root's absolute path: every path this root hands out starts with it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether absolute paths and links are taken inside the root (a mounted system).
    pub fn in_root(&self) -> bool {
        self.in_root
    }

    /// `path` relative to the root (see the Unix root's `relative`). A path of the scanned
    /// system without a drive (`/etc/x`, `\Python312\Lib`, as the start-up model writes
    /// `C:\Python312\Lib`) is, inside a mounted system, under the root; on the live host it is
    /// a path of the root's own drive.
    pub fn relative<'p>(&self, path: &'p Path) -> Result<&'p Path, ReadError> {
        if let Ok(rel) = path
            .strip_prefix(&self.path)
            .or_else(|_| path.strip_prefix(&self.verbatim))
        {
            return Ok(rel);
        }
        let mut parts = path.components();
        match parts.next() {
            Some(Component::RootDir) if self.in_root => Ok(parts.as_path()),
            Some(Component::RootDir) => parts
                .as_path()
                .strip_prefix(without_prefix(&self.path))
                .map_err(|_| escapes(path)),
            _ => Err(escapes(path)),
        }
    }

    /// `path` with every symlink in it resolved inside the root (the last one too when
    /// `follow_last`), as an absolute path under [`Root::path`].
    pub fn resolve(&self, path: &Path, follow_last: bool) -> Result<PathBuf, ReadError> {
        let rel = self.resolve_relative(self.relative(path)?, follow_last)?;
        Ok(join(&self.path, &rel))
    }

    /// Opens the regular file at `path` (through links inside the root) for reading; returns
    /// it with its size. Anything but a regular file is refused.
    pub fn open_file(&self, path: &Path) -> Result<(File, u64), ReadError> {
        let rel = self.resolve_relative(self.relative(path)?, true)?;
        let at = join(&self.verbatim, &rel);
        let before = std::fs::symlink_metadata(&at).map_err(ReadError::Io)?;
        check_regular(&before)?;
        let file = OpenOptions::new()
            .read(true)
            .share_mode(SHARE_ALL)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(&at)
            .map_err(ReadError::Io)?;
        // what was opened is what was checked: a link swapped in meanwhile is opened as
        // itself (FILE_FLAG_OPEN_REPARSE_POINT) and refused here
        let meta = file.metadata().map_err(ReadError::Io)?;
        check_regular(&meta)?;
        Ok((file, meta.len()))
    }

    /// The status of `path`, following a last symlink (inside the root) when `follow_last`.
    pub fn stat(&self, path: &Path, follow_last: bool) -> Result<Meta, ReadError> {
        self.lstat(path, follow_last).map(|m| meta(&m))
    }

    /// Lists the directory at `dir` (a last symlink followed inside the root when
    /// `follow_last`), handing each entry's name and kind (not following links) to `entry`.
    pub fn list(
        &self,
        dir: &Path,
        follow_last: bool,
        entry: &mut dyn FnMut(&OsStr, Kind),
    ) -> Result<Listing, ReadError> {
        let rel = self.resolve_relative(self.relative(dir)?, follow_last)?;
        let at = join(&self.verbatim, &rel);
        if !std::fs::symlink_metadata(&at)
            .map_err(ReadError::Io)?
            .is_dir()
        {
            return Err(ReadError::Io(std::io::ErrorKind::NotADirectory.into()));
        }
        for e in std::fs::read_dir(&at).map_err(ReadError::Io)? {
            let e = e.map_err(ReadError::Io)?;
            let kind = e.file_type().map_or(Kind::Other, |t| kind_of(&t));
            entry(&e.file_name(), kind);
        }
        Ok(Listing { dir: at })
    }

    /// What `path` is and its times (creation, last write), following a last symlink (inside
    /// the root) when `follow_last`.
    pub fn times(
        &self,
        path: &Path,
        follow_last: bool,
    ) -> Result<(Kind, crate::times::FileTimes), ReadError> {
        let m = self.lstat(path, follow_last)?;
        Ok((
            kind_of(&m.file_type()),
            crate::times::FileTimes::of_metadata(&m),
        ))
    }

    /// The target of the symlink at `path` (its parents resolved inside the root), as written.
    pub fn read_link(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let rel = self.resolve_relative(self.relative(path)?, false)?;
        std::fs::read_link(join(&self.verbatim, &rel)).map_err(ReadError::Io)
    }

    fn lstat(&self, path: &Path, follow_last: bool) -> Result<Metadata, ReadError> {
        let rel = self.resolve_relative(self.relative(path)?, follow_last)?;
        let m = std::fs::symlink_metadata(join(&self.verbatim, &rel)).map_err(ReadError::Io)?;
        if follow_last && m.file_type().is_symlink() {
            // a link swapped in after the resolution
            return Err(ReadError::SymlinkLoop);
        }
        Ok(m)
    }

    /// Resolves the symlinks of `rel` under the rules of this root, returning a relative path
    /// made only of real components (and a missing tail, kept as written).
    fn resolve_relative(&self, rel: &Path, follow_last: bool) -> Result<PathBuf, ReadError> {
        let step = |here: &Path| -> Result<Step, ReadError> {
            let here = join(&self.verbatim, here);
            // missing (or unreadable): the rest is kept for the open to report
            let Ok(m) = std::fs::symlink_metadata(&here) else {
                return Ok(Step::Missing);
            };
            if !m.file_type().is_symlink() {
                return Ok(Step::Real);
            }
            std::fs::read_link(&here)
                .map(Step::Link)
                .map_err(ReadError::Io)
        };
        let inside = |target: &Path| {
            if self.in_root {
                // `C:\x`, `\x` or `\\?\C:\x`: the system's own absolute path, the root's
                Some(without_prefix(target))
            } else {
                target
                    .strip_prefix(&self.path)
                    .or_else(|_| target.strip_prefix(&self.verbatim))
                    .ok()
                    .map(Path::to_path_buf)
            }
        };
        resolve_links(rel, follow_last, self.in_root, &self.path, step, inside)
    }
}

/// `path` made absolute with every link resolved (the operator's own path, followed as
/// given), in the form people read (`C:\x`, not `\\?\C:\x`).
pub fn canonicalize(path: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(path).map(|real| plain(&real))
}

/// A directory listed by [`Root::list`].
pub struct Listing {
    dir: PathBuf,
}

impl Listing {
    /// The size of the regular file `name` in this directory (not following a link).
    pub fn file_size(&self, name: &OsStr) -> Option<u64> {
        let m = std::fs::symlink_metadata(self.dir.join(name)).ok()?;
        (kind_of(&m.file_type()) == Kind::File).then_some(m.len())
    }
}

/// The portable view of a status. Windows gives no (device, inode) through the standard
/// library: the identity is `(0, 0)`.
fn meta(m: &Metadata) -> Meta {
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or((0, 0), |d| {
            (i64::try_from(d.as_secs()).unwrap_or(0), d.subsec_nanos())
        });
    Meta {
        kind: kind_of(&m.file_type()),
        size: m.len(),
        id: (0, 0),
        mtime,
    }
}

fn kind_of(t: &std::fs::FileType) -> Kind {
    if t.is_symlink() {
        Kind::Symlink
    } else if t.is_dir() {
        Kind::Dir
    } else if t.is_file() {
        Kind::File
    } else {
        Kind::Other
    }
}

/// `base` joined with the components of `rel`, with `\` only (a `\\?\` path takes no `/`).
fn join(base: &Path, rel: &Path) -> PathBuf {
    let mut out = base.to_path_buf();
    for c in rel.components() {
        if let Component::Normal(n) = c {
            out.push(n);
        }
    }
    out
}

/// `\\?\C:\x` → `C:\x`, `\\?\UNC\h\s\x` → `\\h\s\x`: the form people read.
fn plain(verbatim: &Path) -> PathBuf {
    let mut parts = verbatim.components();
    match parts.next() {
        Some(Component::Prefix(p)) => {
            let rest = parts.as_path();
            let head = match p.kind() {
                Prefix::VerbatimDisk(d) => format!("{}:\\", d as char),
                Prefix::VerbatimUNC(h, s) => {
                    format!("\\\\{}\\{}\\", h.to_string_lossy(), s.to_string_lossy())
                }
                _ => return verbatim.to_path_buf(),
            };
            join(Path::new(&head), rest.strip_prefix("\\").unwrap_or(rest))
        }
        _ => verbatim.to_path_buf(),
    }
}

/// An absolute path without its drive or share: the path inside whatever system holds it.
fn without_prefix(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect()
}

/// What a status says a file is, as a refusal when it is not a regular file.
fn check_regular(m: &Metadata) -> Result<(), ReadError> {
    let kind = match kind_of(&m.file_type()) {
        Kind::File => return Ok(()),
        Kind::Dir => "directory",
        Kind::Symlink => "symlink",
        Kind::Other => "special file",
    };
    Err(ReadError::NotRegular { kind })
}
