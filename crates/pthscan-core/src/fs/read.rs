//! What reading a file gives and how it fails, shared by the disk and in-memory trees.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::AtomicU64;

use sha2::{Digest, Sha256};

/// Reads up to `buf.len()` bytes at `offset` of `file` (`pread`: no cursor shared between
/// readers moves on Unix; Windows' positioned read moves the handle's, which no reader here
/// relies on).
pub fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::read_at(file, buf, offset);
    #[cfg(windows)]
    return std::os::windows::fs::FileExt::seek_read(file, buf, offset);
}

/// Reads exactly `buf.len()` bytes at `offset` of `file` (see [`read_at`]).
pub fn read_exact_at(
    file: &std::fs::File,
    mut buf: &mut [u8],
    mut offset: u64,
) -> std::io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A file's identity on the machine, (device, inode): two names with one identity are one
/// file. `None` on Windows, whose file index the standard library does not give yet.
pub fn file_id(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    return Some(std::os::unix::fs::MetadataExt::dev(meta))
        .map(|dev| (dev, std::os::unix::fs::MetadataExt::ino(meta)));
    #[cfg(windows)]
    return {
        let _ = meta;
        None
    };
}

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

impl ReadError {
    /// Whether the file is simply not there (nothing to say), as opposed to there and not
    /// readable (something to say).
    pub fn is_missing(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
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

/// Reads at most `cap` bytes of `reader` in windows of at most `window` bytes, each starting
/// `overlap` bytes before the previous one ended, handing `visit` each window and its offset;
/// returns how many bytes were read. `expected` is the size the file was seen with: the buffer
/// starts that large (a window at most) and grows only if the file did since, so the many small
/// files of a deep scan do not each take a whole window.
pub fn windows(
    reader: &mut dyn Read,
    cap: u64,
    expected: u64,
    window: usize,
    overlap: usize,
    visit: &mut dyn FnMut(u64, &[u8]),
) -> std::io::Result<u64> {
    let window = window.max(overlap + 1);
    // one byte past what is expected: `read_to_end` then sees the end without growing
    let start = cap.min(expected.saturating_add(1)).min(window as u64);
    let mut buf = Vec::with_capacity(start as usize);
    let mut reader = reader.take(cap);
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
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

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
