//! Reading what we scan without trusting it: regular files only, never blocking on a FIFO,
//! never following a symlink out of the scanned root, never reading past a size cap.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A FIFO, socket, device or directory where a file was expected.
    #[error("not a regular file ({kind}), skipped")]
    NotRegular {
        /// What it is.
        kind: &'static str,
    },
    /// A symlink that leads outside the scanned root.
    #[error("symlink to `{target}` leads outside the scanned root, not followed")]
    EscapesRoot {
        /// Where it points.
        target: String,
    },
    /// Too many symlinks in a row: a loop.
    #[error("too many levels of symbolic links (a symlink loop)")]
    SymlinkLoop,
    /// An artifact member whose content was not kept (too large, over the memory budget).
    #[error("{0}")]
    Unavailable(String),
    /// The operating system refused.
    #[error("{}", io_reason(.0))]
    Io(#[from] std::io::Error),
}

/// An I/O error as a lower-case reason without Rust's `(os error N)` suffix.
pub fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A file read within a size cap.
#[derive(Debug, Clone)]
pub struct FileBytes {
    /// The bytes (at most the cap).
    pub bytes: Vec<u8>,
    /// The file's full size.
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes read (the whole file unless `truncated`); empty
    /// from an unhashed read.
    pub sha256: String,
    /// Whether the file was larger than the cap and only its head was read.
    pub truncated: bool,
}

/// How much was read, across threads.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Files opened and read.
    pub files: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
}

/// Limits on reading.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The root no symlink may leave.
    pub root: PathBuf,
    /// Whether absolute symlink targets are relative to `root` (a mounted image, `--root`).
    pub rooted: bool,
    /// At most this many bytes are read from one file.
    pub max_file_size: u64,
    /// Counters, shared by clones.
    pub stats: Arc<ReadStats>,
    /// Directories a walk does not enter (pseudo and network filesystems).
    pub prune: Arc<Vec<PathBuf>>,
}

const MAX_SYMLINK_HOPS: usize = 40;

impl Reader {
    /// Resolves `path` (inside `root`) through symlinks, staying inside `root`.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let mut current = path.to_path_buf();
        for _ in 0..MAX_SYMLINK_HOPS {
            let meta = std::fs::symlink_metadata(&current)?;
            if !meta.file_type().is_symlink() {
                return Ok(current);
            }
            let target = std::fs::read_link(&current)?;
            let joined = if target.is_absolute() {
                if self.rooted {
                    self.root.join(target.strip_prefix("/").unwrap_or(&target))
                } else {
                    target.clone()
                }
            } else {
                current.parent().unwrap_or(Path::new("/")).join(&target)
            };
            let normal = normalize(&joined);
            if !normal.starts_with(&self.root) {
                return Err(ReadError::EscapesRoot {
                    target: crate::pathfmt::display_path(&target),
                });
            }
            current = normal;
        }
        Err(ReadError::SymlinkLoop)
    }

    /// Opens a regular file, through symlinks that stay inside the root, for reading; returns
    /// it with its size.
    pub fn open(&self, path: &Path) -> Result<(File, u64), ReadError> {
        let resolved = self.resolve(path)?;
        let meta = std::fs::symlink_metadata(&resolved)?;
        check_regular(&meta)?;
        // O_NONBLOCK: a FIFO swapped in after the check cannot hang us; O_NOFOLLOW: nor can a
        // symlink swapped in.
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&resolved)?;
        let meta = file.metadata()?;
        check_regular(&meta)?;
        Ok((file, meta.len()))
    }

    /// Reads a regular file, through symlinks that stay inside the root, at most `cap` bytes of
    /// it, without hashing ([`crate::sources::Tree::read`] hashes).
    pub fn read_capped(&self, path: &Path, cap: u64) -> Result<FileBytes, ReadError> {
        let (file, size) = self.open(path)?;
        let mut bytes = Vec::with_capacity(size.min(cap) as usize);
        file.take(cap).read_to_end(&mut bytes)?;
        let truncated = size > cap;
        self.stats.files.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(FileBytes {
            sha256: String::new(),
            bytes,
            size,
            truncated,
        })
    }

    /// Reads a regular file within the cap in windows of at most `window` bytes, each
    /// starting `overlap` bytes before the previous one ended, through one buffer; `visit`
    /// gets each window's offset. Returns the file's size and whether it was longer than the
    /// cap. A file that fits in one window is read in one go.
    pub fn read_windows(
        &self,
        path: &Path,
        window: usize,
        overlap: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<(u64, bool), ReadError> {
        let (file, size) = self.open(path)?;
        let cap = self.max_file_size;
        let wanted = size.min(cap);
        let window = window.max(overlap + 1);
        let mut buf = Vec::with_capacity((wanted as usize).min(window));
        let mut reader = file.take(cap);
        let mut offset = 0u64; // of buf[0] in the file
        let mut total = 0u64;
        loop {
            let kept = buf.len();
            let room = window - kept;
            let read = (&mut reader).take(room as u64).read_to_end(&mut buf)?;
            total += read as u64;
            if read == 0 && offset > 0 {
                break; // the previous window ended the file
            }
            visit(offset, &buf);
            if buf.len() < window {
                break;
            }
            // keep the last `overlap` bytes as the start of the next window
            let drop = buf.len() - overlap;
            buf.drain(..drop);
            offset += drop as u64;
        }
        self.stats.files.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(total, Ordering::Relaxed);
        Ok((size, size > cap))
    }
}

fn check_regular(meta: &Metadata) -> Result<(), ReadError> {
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else {
        "special file"
    };
    Err(ReadError::NotRegular { kind })
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Removes `.` and folds `..` without touching the filesystem.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `base` (already normal, see [`normalize`]) joined with the `/`-separated relative path
/// `rel`, normalised. The common case, a path without `.`, `..` or empty components, is a
/// plain join: a host's RECORDs list hundreds of thousands of such paths.
pub fn join_normalized(base: &Path, rel: &str) -> PathBuf {
    if !rel.starts_with('/')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
    {
        base.join(rel)
    } else {
        normalize(&base.join(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn reader(root: &Path) -> Reader {
        Reader {
            root: root.to_path_buf(),
            rooted: false,
            max_file_size: 8,
            stats: Arc::default(),
            prune: Arc::default(),
        }
    }

    use crate::sources::Tree;

    #[test]
    fn reads_within_cap_and_reports_truncation() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), b"0123456789").unwrap();
        let r = reader(d.path()).read(&d.path().join("a")).unwrap();
        assert_eq!(
            (r.bytes.as_slice(), r.size, r.truncated),
            (&b"01234567"[..], 10, true)
        );
    }

    #[test]
    fn refuses_fifo_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("f.pth");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(matches!(
            reader(d.path()).read(&fifo),
            Err(ReadError::NotRegular { kind: "FIFO" })
        ));
    }

    #[test]
    fn symlinks_inside_root_are_followed_outside_not_and_loops_end() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("real"), b"x").unwrap();
        std::fs::write(d.path().join("outside"), b"y").unwrap();
        symlink("real", root.join("in")).unwrap();
        symlink("../outside", root.join("out")).unwrap();
        symlink("loop2", root.join("loop1")).unwrap();
        symlink("loop1", root.join("loop2")).unwrap();
        let r = reader(&root);
        assert_eq!(r.read(&root.join("in")).unwrap().bytes, b"x");
        assert!(matches!(
            r.read(&root.join("out")),
            Err(ReadError::EscapesRoot { .. })
        ));
        assert!(matches!(
            r.read(&root.join("loop1")),
            Err(ReadError::SymlinkLoop)
        ));
    }

    #[test]
    fn rooted_absolute_links_resolve_inside_the_image() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("etc/python3.11")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib/python3.11")).unwrap();
        std::fs::write(root.join("etc/python3.11/sitecustomize.py"), b"import x").unwrap();
        symlink(
            "/etc/python3.11/sitecustomize.py",
            root.join("usr/lib/python3.11/sitecustomize.py"),
        )
        .unwrap();
        let r = Reader {
            rooted: true,
            ..reader(root)
        };
        let got = r
            .read(&root.join("usr/lib/python3.11/sitecustomize.py"))
            .unwrap();
        assert_eq!(got.bytes, b"import x");
    }

    #[test]
    fn unreadable_file_is_an_io_error() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            reader(d.path()).read(&d.path().join("missing")),
            Err(ReadError::Io(_))
        ));
    }

    #[test]
    fn join_normalized_is_normalize_of_the_join() {
        let base = Path::new("/v/lib/python3.12/site-packages");
        for rel in [
            "a/b.py",
            "../../../bin/tool",
            "./a//b.py",
            "a/./b/../c.py",
            "a/",
            "/abs/x",
            "..",
            "x.dist-info/RECORD",
        ] {
            assert_eq!(
                join_normalized(base, rel),
                normalize(&base.join(rel)),
                "{rel}"
            );
        }
    }
}
