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
//! component only: a link raced into the middle of the path is then not caught. That walk is
//! all there is on macOS and the BSDs (no `openat2`, no `O_PATH`: a path is looked at with
//! `fstatat(AT_SYMLINK_NOFOLLOW)` relative to the root's descriptor).
//!
//! This is the Unix root; `root_windows.rs` is Windows'.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(target_os = "linux")]
use rustix::fs::ResolveFlags;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use super::read::ReadError;
use super::{Kind, Meta};
use super::{Step, escapes, resolve_links};

/// How a path is looked at without opening it for reading: `O_PATH`, which opens nothing
/// (Linux); elsewhere the lookup is an `fstatat` and this is only a directory open.
#[cfg(target_os = "linux")]
const LOOK: OFlags = OFlags::PATH;

/// Whether `openat2` works here; cleared on the first `ENOSYS` (or a seccomp `EPERM`).
static OPENAT2: AtomicBool = AtomicBool::new(cfg!(target_os = "linux"));
/// Whether `O_NOATIME` is permitted; cleared on the first `EPERM` (not the files' owner and
/// no `CAP_FOWNER`).
#[cfg(target_os = "linux")]
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
        #[cfg(target_os = "linux")]
        let flags = OFlags::PATH;
        #[cfg(not(target_os = "linux"))]
        let flags = OFlags::RDONLY;
        let fd = rustix::fs::open(
            &path,
            flags | OFlags::DIRECTORY | OFlags::CLOEXEC,
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
        #[cfg(not(target_os = "linux"))]
        let opened = self.open_plain(&rel, flags, true);
        #[cfg(target_os = "linux")]
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
    pub fn stat(&self, path: &Path, follow_last: bool) -> Result<Meta, ReadError> {
        self.locate(path, follow_last).map(|(_, _, st)| meta(&st))
    }

    /// Lists the directory at `dir` (a last symlink followed inside the root when
    /// `follow_last`), handing each entry's name and kind (not following links) to `entry`,
    /// `.` and `..` left out. Returns the open directory, for looking at its entries.
    pub fn list(
        &self,
        dir: &Path,
        follow_last: bool,
        entry: &mut dyn FnMut(&OsStr, Kind),
    ) -> Result<Listing, ReadError> {
        // the directory reads from this descriptor itself (`read_from` would duplicate it:
        // two more calls per directory)
        let mut entries =
            rustix::fs::Dir::new(self.open_dir(dir, follow_last)?).map_err(std::io::Error::from)?;
        while let Some(e) = entries.next() {
            let e = e.map_err(std::io::Error::from)?;
            let name = OsStr::from_bytes(e.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            let kind = match e.file_type() {
                // a filesystem without d_type: ask, relative to the directory, not following
                FileType::Unknown => entries
                    .fd()
                    .and_then(|fd| rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW))
                    .map_or(Kind::Other, |st| meta(&st).kind),
                t => kind_of_type(t),
            };
            entry(name, kind);
        }
        Ok(Listing { dir: entries })
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
    ) -> Result<(Kind, crate::times::FileTimes), ReadError> {
        let (_fd, _, st) = self.locate(path, follow_last)?;
        #[cfg(target_os = "linux")]
        if let Some(fd) = &_fd {
            use rustix::fs::StatxFlags;
            let mask = StatxFlags::BTIME | StatxFlags::MTIME | StatxFlags::CTIME;
            if let Ok(stx) = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, mask) {
                return Ok((meta(&st).kind, crate::times::FileTimes::of_statx(&stx)));
            }
        }
        let times = crate::times::FileTimes::of_stat(&st);
        Ok((meta(&st).kind, times))
    }

    /// The target of the symlink at `path` (its parents resolved inside the root), as written.
    pub fn read_link(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let (fd, rel, _) = self.locate(path, false)?;
        let target = match &fd {
            Some(fd) => rustix::fs::readlinkat(fd, "", Vec::new()),
            None => rustix::fs::readlinkat(&self.fd, &rel, Vec::new()),
        }
        .map_err(io)?;
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
    ) -> Result<(Option<OwnedFd>, PathBuf, Stat), ReadError> {
        let rel = self.relative(path)?;
        match self.look(rel, false) {
            // a symlink before the last component
            Err(Errno::LOOP) => {}
            Ok((fd, st)) => {
                // O_PATH | O_NOFOLLOW opens a last symlink itself: followed when asked
                if !(follow_last && is_symlink(&st)) {
                    return Ok((fd, rel.to_path_buf(), st));
                }
            }
            Err(e) => return Err(self.error(e, path)),
        }
        let resolved = self.resolve_relative(rel, follow_last)?;
        let (fd, st) = self
            .look(&resolved, true)
            .map_err(|e| self.error(e, path))?;
        if follow_last && is_symlink(&st) {
            // a link swapped in after the resolution
            return Err(ReadError::SymlinkLoop);
        }
        Ok((fd, resolved, st))
    }

    /// Looks at a path that should hold no symlink but perhaps its last component (not
    /// followed): its status, and on Linux an `O_PATH` descriptor of it. `resolved` as for
    /// [`Root::open_plain`].
    fn look(&self, rel: &Path, resolved: bool) -> Result<(Option<OwnedFd>, Stat), Errno> {
        #[cfg(target_os = "linux")]
        {
            let fd = self.open_plain(rel, LOOK, resolved)?;
            let st = rustix::fs::fstat(&fd)?;
            Ok((Some(fd), st))
        }
        #[cfg(not(target_os = "linux"))]
        {
            if !resolved {
                return Err(Errno::LOOP);
            }
            if rel.components().any(|c| c == Component::ParentDir) && !self.in_root {
                return Err(Errno::XDEV);
            }
            let rel: &Path = if rel.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rel
            };
            let st = rustix::fs::statat(&self.fd, rel, AtFlags::SYMLINK_NOFOLLOW)?;
            Ok((None, st))
        }
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
        #[cfg(target_os = "linux")]
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

    #[cfg(target_os = "linux")]
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
        let step = |here: &Path| -> Result<Step, ReadError> {
            // `here` holds no link but perhaps its last component: the kernel checks that, so
            // a directory swapped for a link meanwhile fails the step instead of leading out
            let found = match self.look(here, false) {
                Err(Errno::LOOP) if !OPENAT2.load(Ordering::Relaxed) => {
                    // no openat2: this walk is all there is (see the module's note)
                    self.look(here, true)
                }
                Err(Errno::LOOP) => return Err(ReadError::SymlinkLoop),
                other => other,
            };
            // missing (or unreadable): the rest is kept for the open to report
            let Ok((fd, st)) = found else {
                return Ok(Step::Missing);
            };
            if !is_symlink(&st) {
                return Ok(Step::Real);
            }
            // the link this descriptor holds, not whatever the name means by now
            let target = match &fd {
                Some(fd) => rustix::fs::readlinkat(fd, "", Vec::new()),
                None => rustix::fs::readlinkat(&self.fd, here, Vec::new()),
            }
            .map_err(io)?;
            Ok(Step::Link(PathBuf::from(OsStr::from_bytes(
                target.as_bytes(),
            ))))
        };
        let inside = |target: &Path| {
            if self.in_root {
                target.strip_prefix("/").ok().map(Path::to_path_buf)
            } else {
                // on the live host an absolute link may still point inside the root
                target.strip_prefix(&self.path).ok().map(Path::to_path_buf)
            }
        };
        resolve_links(rel, follow_last, self.in_root, &self.path, step, inside)
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

fn is_symlink(st: &Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Symlink
}

fn io(err: Errno) -> ReadError {
    ReadError::Io(err.into())
}

/// `path` made absolute with every link resolved (the operator's own path, followed as given).
pub fn canonicalize(path: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(path)
}

/// A directory listed by [`Root::list`], open for looking at its entries.
pub struct Listing {
    dir: rustix::fs::Dir,
}

impl Listing {
    /// The size of the regular file `name` in this directory (not following a link), looked
    /// at relative to the open directory.
    pub fn file_size(&self, name: &OsStr) -> Option<u64> {
        let st = rustix::fs::statat(self.dir.fd().ok()?, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
        let m = meta(&st);
        m.is_file().then_some(m.size)
    }

    /// The open directory's descriptor (for the Unix-only readers of a store's layers).
    pub fn fd(&self) -> std::io::Result<rustix::fd::BorrowedFd<'_>> {
        self.dir.fd().map_err(std::io::Error::from)
    }
}

/// The portable view of a status.
#[cfg_attr(
    target_os = "linux",
    expect(
        clippy::unnecessary_cast,
        reason = "the field types differ between platforms: `dev_t` is `i32` on macOS"
    )
)]
pub(crate) fn meta(st: &Stat) -> Meta {
    Meta {
        kind: kind_of_type(FileType::from_raw_mode(st.st_mode)),
        size: st.st_size as u64,
        id: (st.st_dev as u64, st.st_ino as u64),
        mtime: (
            st.st_mtime as i64,
            u32::try_from(st.st_mtime_nsec).unwrap_or(0),
        ),
    }
}

fn kind_of_type(t: FileType) -> Kind {
    match t {
        FileType::RegularFile => Kind::File,
        FileType::Directory => Kind::Dir,
        FileType::Symlink => Kind::Symlink,
        _ => Kind::Other,
    }
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
