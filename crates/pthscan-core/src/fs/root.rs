//! [`Root`]: the directory no path of a scan leaves. Every path pthscan opens on disk — a
//! RECORD row, a `.pth` path line, a symlink at any depth, a host place such as `etc/cron.d`, a
//! PATH given under `--root` — is resolved *inside* it, the way `openat2(RESOLVE_IN_ROOT)`
//! does for a mounted system (an absolute link means the root, `..` stops at the root) or
//! `RESOLVE_BENEATH` does for a directory given on the live host (a link or `..` that leaves
//! it is refused).
//!
//! The kernel enforces it where it can: every open is an `openat2` relative to the root's
//! descriptor with `RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`, `O_NOFOLLOW`, `O_NONBLOCK`
//! and `O_CLOEXEC` (and `O_NOATIME` while permitted). A path with a symlink in it fails that
//! open with `ELOOP`; it is then resolved component by component here, each link's target
//! spliced in under the rules above, and the symlink-free result opened the same way — so a
//! link swapped in between the two steps makes the open fail, never leave the root. Where the
//! kernel has no `openat2` (before Linux 5.6, or a seccomp filter that refuses it), the same
//! component walk is followed by an `openat` with `O_NOFOLLOW`, which guards the last
//! component only: a link raced into the middle of the path is then not caught.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;

use super::read::ReadError;

/// At most this many symlinks are followed in one path (Linux's own limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// Whether `openat2` works here; cleared on the first `ENOSYS` (or a seccomp `EPERM`).
static OPENAT2: AtomicBool = AtomicBool::new(true);
/// Whether `O_NOATIME` is permitted; cleared on the first `EPERM` (not the files' owner and
/// no `CAP_FOWNER`).
static NOATIME: AtomicBool = AtomicBool::new(true);

/// The directory a scan is confined to, held open.
#[derive(Debug)]
pub struct Root {
    path: PathBuf,
    fd: OwnedFd,
    in_root: bool,
}

impl Root {
    /// Opens `path` (the operator's own path: it is followed as given) as the root. With
    /// `in_root`, absolute paths and links mean the root itself and `..` stops there (a mounted
    /// disk or image, `--root`); without, a link or `..` that leaves it is refused.
    pub fn open(path: &Path, in_root: bool) -> std::io::Result<Root> {
        let path = std::fs::canonicalize(path)?;
        let fd = rustix::fs::open(
            &path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Root { path, fd, in_root })
    }

    /// The root's canonical path: every path this root hands out starts with it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether absolute paths and links are taken inside the root (a mounted system).
    pub fn in_root(&self) -> bool {
        self.in_root
    }

    /// `path` relative to the root. A path that does not start with the root is, inside a
    /// mounted system, a path of that system (a RECORD row `/etc/x`, an absolute path line);
    /// on the live host it is outside and refused.
    pub fn relative<'p>(&self, path: &'p Path) -> Result<&'p Path, ReadError> {
        if let Ok(rel) = path.strip_prefix(&self.path) {
            return Ok(rel);
        }
        match path.strip_prefix("/") {
            Ok(rel) if self.in_root => Ok(rel),
            _ => Err(escapes(path)),
        }
    }

    /// `path` with every symlink in it resolved inside the root (the last one too when
    /// `follow_last`), as an absolute path under [`Root::path`]. A component that does not
    /// exist ends the resolution there: the rest is kept as written, for the open to fail on.
    pub fn resolve(&self, path: &Path, follow_last: bool) -> Result<PathBuf, ReadError> {
        let rel = self.resolve_relative(self.relative(path)?, follow_last)?;
        Ok(self.path.join(rel))
    }

    /// Opens the regular file at `path` (through links inside the root) for reading; returns
    /// it with its size. Anything but a regular file is refused without being opened for
    /// reading: a FIFO cannot block, a device is never read.
    pub fn open_file(&self, path: &Path) -> Result<(File, u64), ReadError> {
        // O_PATH first: it opens nothing for reading, so a FIFO or device is refused by its
        // type before a read-mode open could block or act on it
        let (probe, rel, st) = self.locate(path, true)?;
        drop(probe);
        check_regular(&st)?;
        let flags = OFlags::RDONLY | OFlags::NONBLOCK;
        let opened = if NOATIME.load(Ordering::Relaxed) {
            match self.open_plain(&rel, flags | OFlags::NOATIME, true) {
                Err(Errno::PERM) => {
                    NOATIME.store(false, Ordering::Relaxed);
                    self.open_plain(&rel, flags, true)
                }
                other => other,
            }
        } else {
            self.open_plain(&rel, flags, true)
        };
        let fd = opened.map_err(|e| self.error(e, path))?;
        // what was opened is what was checked: a file swapped in meanwhile is refused here
        let st = rustix::fs::fstat(&fd).map_err(io)?;
        check_regular(&st)?;
        Ok((File::from(fd), st.st_size as u64))
    }

    /// Opens the directory at `path` (through links inside the root when `follow_last`) for
    /// listing.
    pub fn open_dir(&self, path: &Path, follow_last: bool) -> Result<OwnedFd, ReadError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        // the common case, a path without links, in one open
        match self.open_plain(self.relative(path)?, flags, false) {
            Err(Errno::LOOP) => {}
            // `O_DIRECTORY | O_NOFOLLOW` on a last symlink answers ENOTDIR, not ELOOP: a
            // symlinked `site-packages` is listed through its link
            Err(Errno::NOTDIR) if follow_last => {}
            other => return other.map_err(|e| self.error(e, path)),
        }
        let (_, rel, _) = self.locate(path, follow_last)?;
        self.open_plain(&rel, flags, true)
            .map_err(|e| self.error(e, path))
    }

    /// The status of `path`, following a last symlink (inside the root) when `follow_last`.
    pub fn stat(&self, path: &Path, follow_last: bool) -> Result<Stat, ReadError> {
        self.locate(path, follow_last).map(|(_, _, st)| st)
    }

    /// What `path` is and its times, following a last symlink (inside the root) when
    /// `follow_last`: a `statx` of the `O_PATH` descriptor that found it (`AT_EMPTY_PATH`),
    /// which opens nothing for reading. The birth time is there where the filesystem records
    /// one; where `statx` is refused (before Linux 4.11, a seccomp filter), the `fstat` the
    /// lookup made gives the modified and changed times.
    pub fn times(
        &self,
        path: &Path,
        follow_last: bool,
    ) -> Result<(FileType, crate::times::FileTimes), ReadError> {
        use rustix::fs::{AtFlags, StatxFlags};
        let (fd, _, st) = self.locate(path, follow_last)?;
        let kind = FileType::from_raw_mode(st.st_mode);
        let mask = StatxFlags::BTIME | StatxFlags::MTIME | StatxFlags::CTIME;
        let times = match rustix::fs::statx(&fd, "", AtFlags::EMPTY_PATH, mask) {
            Ok(stx) => crate::times::FileTimes::of_statx(&stx),
            Err(_) => crate::times::FileTimes::of_stat(&st),
        };
        Ok((kind, times))
    }

    /// The target of the symlink at `path` (its parents resolved inside the root), as written.
    pub fn read_link(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let (fd, _, _) = self.locate(path, false)?;
        let target = rustix::fs::readlinkat(&fd, "", Vec::new()).map_err(io)?;
        Ok(PathBuf::from(OsStr::from_bytes(target.as_bytes())))
    }

    /// Finds `path` inside the root: an `O_PATH` descriptor of it (of a last symlink itself
    /// unless `follow_last`), the symlink-free path, relative to the root, that reached it, and
    /// its status. The kernel refuses any symlink on the way; a path with links is resolved here
    /// first.
    fn locate(
        &self,
        path: &Path,
        follow_last: bool,
    ) -> Result<(OwnedFd, PathBuf, Stat), ReadError> {
        let rel = self.relative(path)?;
        match self.open_plain(rel, OFlags::PATH, false) {
            // a symlink before the last component
            Err(Errno::LOOP) => {}
            Ok(fd) => {
                let st = rustix::fs::fstat(&fd).map_err(io)?;
                // O_PATH | O_NOFOLLOW opens a last symlink itself: followed when asked
                if !(follow_last && is_symlink(&st)) {
                    return Ok((fd, rel.to_path_buf(), st));
                }
            }
            Err(e) => return Err(self.error(e, path)),
        }
        let resolved = self.resolve_relative(rel, follow_last)?;
        let fd = self
            .open_plain(&resolved, OFlags::PATH, true)
            .map_err(|e| self.error(e, path))?;
        let st = rustix::fs::fstat(&fd).map_err(io)?;
        if follow_last && is_symlink(&st) {
            // a link swapped in after the resolution
            return Err(ReadError::SymlinkLoop);
        }
        Ok((fd, resolved, st))
    }

    /// One open of a path that should hold no symlink: `resolved` when this module resolved
    /// it, else only the kernel's `openat2` may vouch for it (without that, `ELOOP` sends the
    /// caller to resolve it first).
    fn open_plain(&self, rel: &Path, flags: OFlags, resolved: bool) -> Result<OwnedFd, Errno> {
        let rel: &Path = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if OPENAT2.load(Ordering::Relaxed) {
            let mut how = ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            how |= if self.in_root {
                ResolveFlags::IN_ROOT
            } else {
                ResolveFlags::BENEATH
            };
            match rustix::fs::openat2(&self.fd, rel, flags, Mode::empty(), how) {
                Err(Errno::NOSYS) => OPENAT2.store(false, Ordering::Relaxed),
                // a seccomp filter that refuses the call (an old container runtime's
                // profile) answers EPERM for any path; tell it from a real refusal by
                // asking for the root itself, which the filter alone can refuse
                Err(Errno::PERM) if self.openat2_refused() => {
                    OPENAT2.store(false, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        if !resolved {
            return Err(Errno::LOOP);
        }
        // no openat2: the path was resolved in user space; O_NOFOLLOW guards its end
        if rel.components().any(|c| c == Component::ParentDir) && !self.in_root {
            return Err(Errno::XDEV);
        }
        rustix::fs::openat(&self.fd, rel, flags, Mode::empty())
    }

    fn openat2_refused(&self) -> bool {
        rustix::fs::openat2(
            &self.fd,
            ".",
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::empty(),
        )
        .is_err()
    }

    /// Resolves the symlinks of `rel` under the rules of this root, returning a relative path
    /// made only of real components (and a missing tail, kept as written).
    fn resolve_relative(&self, rel: &Path, follow_last: bool) -> Result<PathBuf, ReadError> {
        let mut done: Vec<OsString> = Vec::new();
        // the components still to walk, the next one last
        let mut todo: Vec<OsString> = Vec::new();
        push_components(&mut todo, rel);
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                if done.pop().is_none() && !self.in_root {
                    return Err(escapes(&self.path.join(rel)));
                }
                continue;
            }
            done.push(part);
            if todo.is_empty() && !follow_last {
                break;
            }
            let here: PathBuf = done.iter().collect();
            // `here` holds no link but perhaps its last component: the kernel checks that, so a
            // directory swapped for a link meanwhile fails the step instead of leading out
            let step = match self.open_plain(&here, OFlags::PATH, false) {
                Err(Errno::LOOP) if !OPENAT2.load(Ordering::Relaxed) => {
                    // no openat2: this walk is all there is (see the module's note)
                    self.open_plain(&here, OFlags::PATH, true)
                }
                Err(Errno::LOOP) => return Err(ReadError::SymlinkLoop),
                other => other,
            };
            let st = match step.and_then(|fd| rustix::fs::fstat(&fd).map(|st| (fd, st))) {
                Ok(found) => found,
                // missing (or unreadable): the rest is kept for the open to report
                Err(_) => {
                    while let Some(rest) = todo.pop() {
                        done.push(rest);
                    }
                    break;
                }
            };
            let (fd, st) = st;
            if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
                continue;
            }
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(ReadError::SymlinkLoop);
            }
            // the link this descriptor holds, not whatever the name means by now
            let target = rustix::fs::readlinkat(&fd, "", Vec::new()).map_err(io)?;
            let target = Path::new(OsStr::from_bytes(target.as_bytes())).to_path_buf();
            done.pop();
            if target.is_absolute() {
                done.clear();
                let inside = if self.in_root {
                    target.strip_prefix("/").ok()
                } else {
                    // on the live host an absolute link may still point inside the root
                    target.strip_prefix(&self.path).ok()
                };
                match inside {
                    Some(inside) => push_components(&mut todo, inside),
                    None => return Err(escapes(&target)),
                }
            } else {
                push_components(&mut todo, &target);
            }
        }
        Ok(done.iter().collect())
    }

    /// An open's error in this root's terms.
    fn error(&self, err: Errno, path: &Path) -> ReadError {
        match err {
            Errno::XDEV => escapes(path),
            Errno::LOOP => ReadError::SymlinkLoop,
            e => io(e),
        }
    }
}

/// Pushes the components of `path` so that the first is popped first; `.` is dropped.
fn push_components(todo: &mut Vec<OsString>, path: &Path) {
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

fn is_symlink(st: &Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Symlink
}

fn escapes(target: &Path) -> ReadError {
    ReadError::EscapesRoot {
        target: crate::pathfmt::display_path(target),
    }
}

fn io(err: Errno) -> ReadError {
    ReadError::Io(err.into())
}

/// What a status says a file is, as a refusal when it is not a regular file.
pub(crate) fn check_regular(st: &Stat) -> Result<(), ReadError> {
    let kind = match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => return Ok(()),
        FileType::Directory => "directory",
        FileType::Fifo => "FIFO",
        FileType::Socket => "socket",
        FileType::BlockDevice | FileType::CharacterDevice => "device",
        FileType::Symlink => "symlink",
        FileType::Unknown => "special file",
    };
    Err(ReadError::NotRegular { kind })
}
