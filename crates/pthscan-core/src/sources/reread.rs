//! Members read again where they lie: an archive too large for the memory budget is listed
//! whole, but only its start-up files and metadata are kept; every other member carries an
//! [`Again`] — where its bytes are in the file — and is streamed from there when it is judged
//! (a `--deep` scan, a module a hook imports), never held whole.
//!
//! A zip member is read at its offset. A tar member lies in a stream that may be compressed
//! (an image layer, a `.tar.gz` sdist): the stream is kept open at the last member read and
//! read forward, so members asked for in their order ([`Again::order`]) cost one pass over the
//! archive, and one asked for behind it starts the stream over.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// An archive file (or a region of one: a layer inside a `docker save` tar) that its members
/// are read again from, through the descriptor opened when it was listed — what is judged is
/// what was listed, even if the path is replaced meanwhile.
pub struct Source {
    bytes: Backing,
    start: u64,
    len: u64,
    /// A tar's stream, open where the last member read ended: the decompressor and its offset.
    cursor: Mutex<Option<(Box<dyn Read + Send>, u64)>>,
    /// How many decompressed bytes the stream may yield (the listing's own limit).
    limit: u64,
    /// The listing's limits: a decompressor's window is reserved from their budget.
    limits: super::archive::Limits,
    /// How many times the stream was started (over).
    starts: std::sync::atomic::AtomicUsize,
    /// The region is not compressed: a tar member is read where it lies, in any order.
    plain: bool,
}

/// What a [`Source`]'s bytes are read from.
enum Backing {
    /// An archive file, through the descriptor opened when it was listed.
    File(File),
    /// An archive inside an archive, held in memory while the tree made of it is judged.
    Memory(Arc<Vec<u8>>),
}

/// A stream is started over at most this many times: members asked for out of order (modules a
/// hook imports, from the end of a layer to its start) cost a pass each, and an input built to
/// ask for thousands must not cost thousands of passes over gigabytes.
const MAX_STARTS: usize = 8;

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("start", &self.start)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// The `len` bytes of `file` from `start`, read again under the `limits` it was listed
    /// with. `None` when the descriptor cannot be duplicated.
    pub fn new(
        file: &File,
        start: u64,
        len: u64,
        limits: &super::archive::Limits,
    ) -> Option<Arc<Source>> {
        let mut head = [0u8; 4];
        let plain = len >= 4
            && crate::fs::read_exact_at(file, &mut head, start).is_ok()
            && !super::archive::compressed(&head);
        Some(Arc::new(Source {
            plain,
            bytes: Backing::File(file.try_clone().ok()?),
            start,
            len,
            cursor: Mutex::new(None),
            limit: super::archive::stream_limit(len, limits),
            limits: limits.clone(),
            starts: Default::default(),
        }))
    }

    /// An archive held in memory (one nested in another), read again under the `limits` it
    /// was listed with: what a package too large to keep unpacked does not keep is
    /// decompressed again from the bytes when it is judged, as from a file.
    pub fn in_memory(bytes: &Arc<Vec<u8>>, limits: &super::archive::Limits) -> Arc<Source> {
        let len = bytes.len() as u64;
        Arc::new(Source {
            plain: bytes.len() >= 4 && !super::archive::compressed(&bytes[..4]),
            bytes: Backing::Memory(Arc::clone(bytes)),
            start: 0,
            len,
            cursor: Mutex::new(None),
            limit: super::archive::stream_limit(len, limits),
            limits: limits.clone(),
            starts: Default::default(),
        })
    }

    fn region(&self, at: u64, len: u64) -> Region<'_> {
        let end = at.saturating_add(len).min(self.len);
        Region {
            source: self,
            pos: at.min(end),
            end,
        }
    }
}

/// Reads part of a [`Source`] with `pread`: no shared file offset, so readers never race.
struct Region<'a> {
    source: &'a Source,
    pos: u64,
    end: u64,
}

impl Read for Region<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.end - self.pos) as usize;
        if n == 0 {
            return Ok(0);
        }
        let at = self.source.start + self.pos;
        let got = match &self.source.bytes {
            Backing::File(file) => crate::fs::read_at(file, &mut buf[..n], at)?,
            Backing::Memory(bytes) => {
                let from = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
                let got = n.min(bytes.len() - from);
                buf[..got].copy_from_slice(&bytes[from..from + got]);
                got
            }
        };
        self.pos += got as u64;
        Ok(got)
    }
}

/// An owned [`Region`] for a decompressor that outlives the call: the source shared.
struct OwnedRegion {
    source: Arc<Source>,
    pos: u64,
}

impl Read for OwnedRegion {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut r = self.source.region(self.pos, u64::MAX);
        let got = r.read(buf)?;
        self.pos += got as u64;
        Ok(got)
    }
}

/// How a member's bytes are laid out at its offset.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    /// A zip member stored as is, this many bytes.
    Stored(u64),
    /// A zip member deflated into this many bytes.
    Deflated(u64),
    /// A tar member at this offset of the archive's (decompressed) stream.
    Tar,
}

/// Where one member's content lies, to be read again.
#[derive(Debug, Clone)]
pub struct Again {
    source: Arc<Source>,
    at: u64,
    layout: Layout,
}

/// A file of an image layer stored as a directory (a container engine's store): opened again
/// by its path inside the store's [`Root`](crate::fs::Root) when it is judged — a regular file
/// only, and only the file that was listed (same device and inode), never one swapped in since.
#[derive(Debug, Clone)]
pub struct OnDisk {
    root: Arc<crate::fs::Root>,
    path: Arc<std::path::Path>,
    id: (u64, u64),
}

impl OnDisk {
    /// The file at `path` inside `root`, listed with device and inode `id`.
    pub fn new(root: &Arc<crate::fs::Root>, path: &std::path::Path, id: (u64, u64)) -> OnDisk {
        OnDisk {
            root: Arc::clone(root),
            path: Arc::from(path),
            id,
        }
    }

    fn open(&self) -> io::Result<File> {
        let (file, _) = self.root.open_file(&self.path).map_err(io::Error::other)?;
        let id = crate::fs::file_id(&file.metadata()?);
        if id.is_some_and(|id| id != self.id) {
            return Err(io::Error::other(
                "the store changed while it was scanned: another file is at the path listed",
            ));
        }
        Ok(file)
    }
}

/// Where a member's content lies: in an archive, or a file of a layer directory.
#[derive(Debug, Clone)]
pub enum Reread {
    /// In an archive.
    Archive(Again),
    /// A file of a layer stored as a directory.
    Disk(OnDisk),
}

impl From<Again> for Reread {
    fn from(a: Again) -> Reread {
        Reread::Archive(a)
    }
}

impl Reread {
    /// See [`Again::order`]; a file on disk is read in any order (one read each).
    pub fn order(&self) -> (usize, u64) {
        match self {
            Reread::Archive(a) => a.order(),
            Reread::Disk(d) => (Arc::as_ptr(&d.root) as usize, 0),
        }
    }

    /// See [`Again::with_reader`].
    pub fn with_reader<T>(
        &self,
        size: u64,
        f: &mut dyn FnMut(&mut dyn Read) -> io::Result<T>,
    ) -> io::Result<T> {
        match self {
            Reread::Archive(a) => a.with_reader(size, f),
            Reread::Disk(d) => f(&mut d.open()?.take(size)),
        }
    }

    /// See [`Again::release`].
    pub fn release(&self) {
        if let Reread::Archive(a) = self {
            a.release();
        }
    }

    /// See [`Again::read`].
    pub fn read(&self, size: u64, cap: u64) -> io::Result<Vec<u8>> {
        self.with_reader(size, &mut |r| {
            let mut out = Vec::with_capacity(size.min(cap) as usize);
            r.take(cap).read_to_end(&mut out)?;
            Ok(out)
        })
    }
}

impl Again {
    /// The member laid out as `layout` at `at` in `source`.
    pub fn new(source: &Arc<Source>, at: u64, layout: Layout) -> Again {
        Again {
            source: Arc::clone(source),
            at,
            layout,
        }
    }

    /// Which stream it is in and where: members of one stream read in this order cost one
    /// pass over it.
    pub fn order(&self) -> (usize, u64) {
        (Arc::as_ptr(&self.source) as usize, self.at)
    }

    /// Hands `f` a reader of the member's `size` bytes, read from where they lie.
    pub fn with_reader<T>(
        &self,
        size: u64,
        f: &mut dyn FnMut(&mut dyn Read) -> io::Result<T>,
    ) -> io::Result<T> {
        match self.layout {
            Layout::Stored(len) => f(&mut self.source.region(self.at, len).take(size)),
            Layout::Deflated(len) => f(&mut flate2::read::DeflateDecoder::new(
                self.source.region(self.at, len),
            )
            .take(size)),
            // an uncompressed tar's member is where its offset says
            Layout::Tar if self.source.plain => f(&mut self.source.region(self.at, size)),
            Layout::Tar => {
                let mut cursor = self
                    .source
                    .cursor
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // behind the stream, or none open: start it over
                if cursor.as_ref().is_none_or(|(_, pos)| *pos > self.at) {
                    // counted under the cursor's lock
                    if self.source.starts.load(Ordering::Relaxed) >= MAX_STARTS {
                        return Err(io::Error::other(format!(
                            "not read again: its archive's stream was already read {MAX_STARTS} times for members asked for out of order"
                        )));
                    }
                    self.source.starts.fetch_add(1, Ordering::Relaxed);
                    *cursor = Some((self.open_stream()?, 0));
                }
                let (stream, pos) = cursor.as_mut().expect("opened above");
                *pos += io::copy(&mut stream.take(self.at - *pos), &mut io::sink())?;
                if *pos != self.at {
                    *cursor = None;
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the archive ends before the member",
                    ));
                }
                let mut member = Counted {
                    inner: stream.take(size),
                    read: 0,
                };
                let got = f(&mut member);
                match &got {
                    Ok(_) => *pos += member.read,
                    Err(_) => *cursor = None,
                }
                got
            }
        }
    }

    /// Closes the stream's cursor (and gives back what its decompressor held): after the last
    /// member of a pass, or a read out of any order.
    pub fn release(&self) {
        if let Ok(mut cursor) = self.source.cursor.lock() {
            *cursor = None;
        }
    }

    /// The member's bytes, at most `cap` of its `size`.
    pub fn read(&self, size: u64, cap: u64) -> io::Result<Vec<u8>> {
        self.with_reader(size, &mut |r| {
            let mut out = Vec::with_capacity(size.min(cap) as usize);
            r.take(cap).read_to_end(&mut out)?;
            Ok(out)
        })
    }

    fn open_stream(&self) -> io::Result<Box<dyn Read + Send>> {
        let mut head = [0u8; 4];
        let n = self.source.region(0, 4).read(&mut head)?;
        let raw = OwnedRegion {
            source: Arc::clone(&self.source),
            pos: 0,
        };
        let inner = super::archive::decompressor(&head[..n], raw, &self.source.limits)?;
        Ok(Box::new(super::archive::bounded(inner, self.source.limit)))
    }
}

/// A reader that counts what it gave.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn tar_members_are_read_forward_and_a_member_behind_starts_over() {
        let mut data = Vec::new();
        let mut b = tar::Builder::new(&mut data);
        for (name, body) in [("a.py", b"first".as_slice()), ("b.py", b"second")] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, body).unwrap();
        }
        b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let f = file_of(&gz);
        let src = Source::new(
            &f,
            0,
            gz.len() as u64,
            &super::super::archive::Limits::new(1 << 20),
        )
        .unwrap();
        let a = Again::new(&src, 512, Layout::Tar);
        let b = Again::new(&src, 1536, Layout::Tar);
        assert_eq!(a.read(5, 100).unwrap(), b"first");
        assert_eq!(b.read(6, 100).unwrap(), b"second");
        // behind the cursor now: read again from the start
        assert_eq!(a.read(5, 3).unwrap(), b"fir");
        assert!(a.order() < b.order());
        // asked for out of order again and again: the stream is not started over without end
        let errors = (0..2 * MAX_STARTS)
            .filter(|_| b.read(6, 100).is_err() || a.read(5, 100).is_err())
            .count();
        assert!(errors > 0);
        assert!(src.starts.load(Ordering::Relaxed) <= MAX_STARTS);
    }

    #[test]
    fn zip_members_are_read_at_their_offset_within_the_cap() {
        let body = b"import os\n".repeat(100);
        let mut deflated = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
        deflated.write_all(&body).unwrap();
        let deflated = deflated.finish().unwrap();
        let mut file = b"junk".to_vec();
        file.extend_from_slice(&deflated);
        file.extend_from_slice(&body);
        let f = file_of(&file);
        let src = Source::new(
            &f,
            0,
            file.len() as u64,
            &super::super::archive::Limits::new(1 << 20),
        )
        .unwrap();
        let d = Again::new(&src, 4, Layout::Deflated(deflated.len() as u64));
        assert_eq!(d.read(body.len() as u64, u64::MAX).unwrap(), body);
        let s = Again::new(
            &src,
            4 + deflated.len() as u64,
            Layout::Stored(body.len() as u64),
        );
        assert_eq!(s.read(body.len() as u64, 10).unwrap(), &body[..10]);
    }
}
