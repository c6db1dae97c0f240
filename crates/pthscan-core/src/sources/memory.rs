//! [`MemTree`]: a file tree held in memory, built from an artifact's members. Symlinks resolve
//! inside the tree (an absolute target means the tree's own root, as in a chroot), so nothing
//! read from an artifact can reach the host's files.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::reread::Reread;
use crate::budget::{Budget, Held, NODE_OVERHEAD};
use crate::diagnostic::Diagnostic;
use crate::fs::{DirEntry, Kind, Tree};
use crate::fs::{FileBytes, ReadError, ReadStats};

const MAX_SYMLINK_HOPS: usize = 40;

/// Where a file of a tree came from, beyond the artifact: an image layer.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Shown between the artifact and the path (`layer 2 sha256:ab12…`).
    pub label: String,
    /// A note for findings in files from here (the command that created the layer).
    pub note: Option<String>,
    /// When the layer was created (the image history's `created`), where the image says.
    pub created: Option<crate::times::Timestamp>,
}

/// One node.
#[derive(Debug, Clone)]
pub enum Node {
    /// A directory.
    Dir,
    /// A regular file.
    File(MemFile),
    /// A symlink and its target as written.
    Symlink(PathBuf),
    /// Anything else (a device, a FIFO, a hard link we could not place): never read.
    Other(&'static str),
}

/// A regular file's content and provenance.
#[derive(Debug, Clone)]
pub struct MemFile {
    /// What was kept of the content, or why nothing was.
    pub data: Result<Arc<Vec<u8>>, Arc<str>>,
    /// The file's full size.
    pub size: u64,
    /// Index into the tree's origins.
    pub origin: Option<usize>,
    /// The member name as the artifact spells it, when the tree path differs (a wheel's
    /// `foo.pth` placed in `/site-packages/foo.pth`).
    pub member: Option<Arc<str>>,
    /// Where the content lies when none was kept: read from there when asked.
    pub again: Option<Reread>,
    /// The modification time an image layer gives it (seconds, nanoseconds): what a runtime
    /// extracts it with. `None` where the artifact's times are not what an install leaves (a
    /// wheel's files get the time they are installed).
    pub mtime: Option<(i64, u32)>,
}

impl MemFile {
    /// An archive member's file: the content read (or, when none was kept, why), no origin.
    pub fn from_member(data: Option<&Arc<Vec<u8>>>, size: u64, unread: &str) -> MemFile {
        MemFile {
            data: data.cloned().ok_or_else(|| Arc::from(unread)),
            size,
            origin: None,
            member: None,
            again: None,
            mtime: None,
        }
    }
}

/// A file tree in memory.
#[derive(Debug)]
pub struct MemTree {
    label: String,
    nodes: BTreeMap<PathBuf, Node>,
    origins: Vec<Origin>,
    max_file_size: u64,
    stats: Arc<ReadStats>,
    root: PathBuf,
    /// Where the nodes' paths are reserved from, when the tree is budgeted.
    budget: Option<Arc<Budget>>,
    held: Held,
    refused: usize,
}

impl MemTree {
    /// An empty tree shown as `label` (the artifact's path or chain).
    pub fn new(label: impl Into<String>, max_file_size: u64, stats: Arc<ReadStats>) -> MemTree {
        let mut nodes = BTreeMap::new();
        nodes.insert(PathBuf::from("/"), Node::Dir);
        MemTree {
            label: label.into(),
            nodes,
            origins: Vec::new(),
            max_file_size,
            stats,
            root: PathBuf::from("/"),
            budget: None,
            held: Held::default(),
            refused: 0,
        }
    }

    /// The tree, reserving its nodes' paths from `budget`: a node that does not fit is not
    /// placed (and counted, see [`MemTree::refused`]).
    pub fn budgeted(mut self, budget: Arc<Budget>) -> MemTree {
        self.budget = Some(budget);
        self
    }

    /// How many nodes were not placed because the budget was spent.
    pub fn refused(&self) -> usize {
        self.refused
    }

    /// How the tree itself is shown.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Adds an origin and returns its index.
    pub fn add_origin(&mut self, origin: Origin) -> usize {
        self.origins.push(origin);
        self.origins.len() - 1
    }

    /// Places a node at `path` (made absolute and normalised), creating parent directories
    /// and replacing whatever was there (a directory's contents included).
    pub fn insert(&mut self, path: &Path, node: Node) {
        let path = clean(path);
        let mut parent = path.parent();
        let mut missing = Vec::new();
        while let Some(p) = parent {
            match self.nodes.get(p) {
                Some(Node::Dir) => break,
                _ => missing.push(p.to_path_buf()),
            }
            parent = p.parent();
        }
        if let Some(budget) = &self.budget {
            let new = |p: &Path| p.as_os_str().len() as u64 + NODE_OVERHEAD;
            let cost = missing.iter().map(|p| new(p)).sum::<u64>()
                + if self.nodes.contains_key(&path) {
                    0
                } else {
                    new(&path)
                };
            match budget.try_reserve(cost) {
                Some(h) => self.held.absorb(h),
                None => {
                    self.refused += 1;
                    return;
                }
            }
        }
        // top down: a file or link where a directory must be is replaced by the directory
        for p in missing.into_iter().rev() {
            if self.nodes.contains_key(&p) {
                self.remove(&p);
            }
            self.nodes.insert(p, Node::Dir);
        }
        if matches!(node, Node::Dir) && matches!(self.nodes.get(&path), Some(Node::Dir)) {
            return;
        }
        self.remove(&path);
        self.nodes.insert(path, node);
    }

    /// Removes `path` and everything under it.
    pub fn remove(&mut self, path: &Path) {
        let path = clean(path);
        let doomed: Vec<PathBuf> = self
            .nodes
            .range(path.clone()..)
            .take_while(|(p, _)| p.starts_with(&path))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            if p != Path::new("/") {
                self.nodes.remove(&p);
            }
        }
    }

    /// Removes everything under `dir`, keeping `dir`.
    pub fn clear_dir(&mut self, dir: &Path) {
        let dir = clean(dir);
        let was_dir = matches!(self.nodes.get(&dir), Some(Node::Dir));
        self.remove(&dir);
        if was_dir {
            self.nodes.insert(dir, Node::Dir);
        }
    }

    /// The node at `path`, not following symlinks.
    pub fn node(&self, path: &Path) -> Option<&Node> {
        self.nodes.get(&clean(path))
    }

    /// Every regular file, with its path.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &MemFile)> {
        self.nodes.iter().filter_map(|(p, n)| match n {
            Node::File(f) => Some((p.as_path(), f)),
            _ => None,
        })
    }

    /// Follows symlinks in every component of `path`, inside the tree.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let mut todo: Vec<OsString> = rev_components(path);
        let mut current = PathBuf::from("/");
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                current.pop();
                continue;
            }
            let next = current.join(&part);
            if let Some(Node::Symlink(target)) = self.nodes.get(&next) {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(ReadError::SymlinkLoop);
                }
                if target.is_absolute() {
                    current = PathBuf::from("/");
                }
                todo.extend(rev_components(target));
            } else {
                current = next;
            }
        }
        Ok(current)
    }
}

/// `path` made absolute, with `.` dropped and `..` folded (never above `/`).
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for part in rev_components(path).into_iter().rev() {
        if part == ".." {
            out.pop();
        } else {
            out.push(part);
        }
    }
    out
}

/// The normal and `..` components of `path`, last first.
fn rev_components(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    parts.reverse();
    parts
}

/// A file's content: held, or where it lies.
enum Content<'a> {
    Held(&'a Arc<Vec<u8>>),
    Again(&'a Reread),
}

impl MemTree {
    /// The regular file at `path` (through symlinks).
    fn file(&self, path: &Path) -> Result<&MemFile, ReadError> {
        let resolved = self.resolve(path)?;
        match self.nodes.get(&resolved) {
            Some(Node::File(f)) => Ok(f),
            Some(Node::Dir) => Err(ReadError::NotRegular { kind: "directory" }),
            Some(Node::Other(kind)) => Err(ReadError::NotRegular { kind }),
            Some(Node::Symlink(_)) => Err(ReadError::SymlinkLoop),
            None => Err(not_found()),
        }
    }

    /// The content of the regular file at `path` (through symlinks) and its full size.
    fn content(&self, path: &Path) -> Result<(Content<'_>, u64), ReadError> {
        let file = self.file(path)?;
        let content = match (&file.data, &file.again) {
            (Ok(data), _) => Content::Held(data),
            (Err(_), Some(again)) => Content::Again(again),
            (Err(why), None) => return Err(ReadError::Unavailable(why.to_string())),
        };
        Ok((content, file.size))
    }

    /// Counts a file read of `bytes` bytes.
    fn count(&self, bytes: u64) {
        self.stats.files.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

impl Tree for MemTree {
    fn read_capped(&self, path: &Path, cap: u64) -> Result<FileBytes, ReadError> {
        let (content, size) = self.content(path)?;
        let bytes = match content {
            Content::Held(data) => {
                let take = data.len().min(usize::try_from(cap).unwrap_or(usize::MAX));
                data[..take].to_vec()
            }
            Content::Again(again) => {
                // what is read again is held by the caller: reserved while it is read
                let _held = match &self.budget {
                    Some(b) => Some(
                        b.try_reserve(size.min(cap))
                            .ok_or_else(|| ReadError::Unavailable(super::NOT_KEPT.to_owned()))?,
                    ),
                    None => None,
                };
                let bytes = again.read(size, cap);
                // read out of any pass: the stream's decompressor is not kept
                again.release();
                let bytes = bytes?;
                if (bytes.len() as u64) < size.min(cap) {
                    return Err(changed(bytes.len() as u64, size));
                }
                bytes
            }
        };
        self.count(bytes.len() as u64);
        Ok(FileBytes {
            truncated: (bytes.len() as u64) < size,
            bytes,
            size,
            sha256: String::new(),
        })
    }

    fn read_windows_upto(
        &self,
        path: &Path,
        cap: u64,
        window: usize,
        overlap: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<(u64, bool), ReadError> {
        let (content, size) = self.content(path)?;
        // a member of which only the head is held is read again where it lies when more of
        // it is asked for (a RECORD hash of the whole file), if it can be
        let content = match (content, &self.file(path)?.again) {
            (Content::Held(data), Some(again)) if (data.len() as u64) < size.min(cap) => {
                Content::Again(again)
            }
            (content, _) => content,
        };
        let data = match content {
            Content::Held(data) => data,
            // read again where it lies, a window at a time
            Content::Again(again) => {
                let read = again.with_reader(size, &mut |r| {
                    crate::fs::read::windows(r, cap, size, window, overlap, visit)
                })?;
                self.count(read);
                if read < size.min(cap) {
                    return Err(changed(read, size));
                }
                return Ok((size, read < size));
            }
        };
        // already in memory: windows are slices of it, not copies
        let take = data.len().min(usize::try_from(cap).unwrap_or(usize::MAX));
        self.count(take as u64);
        let step = window.saturating_sub(overlap).max(1);
        let mut start = 0;
        loop {
            let end = (start + window).min(take);
            visit(start as u64, &data[start..end]);
            if end == take {
                break;
            }
            start += step;
        }
        Ok((size, (take as u64) < size))
    }

    fn list(&self, dir: &Path) -> Result<Vec<DirEntry>, ReadError> {
        let dir = self.resolve(dir)?;
        match self.nodes.get(&dir) {
            Some(Node::Dir) => {}
            Some(_) => return Err(ReadError::NotRegular { kind: "file" }),
            None => {
                return Err(not_found());
            }
        }
        Ok(self
            .nodes
            .range(dir.clone()..)
            .skip(1)
            .take_while(|(p, _)| p.starts_with(&dir))
            .filter(|(p, _)| p.parent() == Some(dir.as_path()))
            .map(|(p, n)| DirEntry {
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                path: p.clone(),
                kind: node_kind(n),
            })
            .collect())
    }

    fn kind(&self, path: &Path) -> Option<Kind> {
        let path = clean(path);
        let parent = path.parent().map(|p| self.resolve(p).ok())?;
        let real = parent?.join(path.file_name()?);
        self.nodes.get(&real).map(node_kind)
    }

    fn file_size(&self, path: &Path) -> Option<u64> {
        match self.nodes.get(&self.resolve(path).ok()?) {
            Some(Node::File(f)) => Some(f.size),
            _ => None,
        }
    }

    fn mtime(&self, path: &Path) -> Option<(i64, u32)> {
        match self.nodes.get(&self.resolve(path).ok()?) {
            Some(Node::File(f)) => f.mtime,
            _ => None,
        }
    }

    fn walk_sized(
        &self,
        root: &Path,
        visit: &mut crate::fs::walk::SizedVisit<'_>,
    ) -> Vec<Diagnostic> {
        let root = clean(root);
        // a directory not entered: what sorts after it and starts with it is skipped
        let mut skipped: Option<&Path> = None;
        for (p, n) in self
            .nodes
            .range(root.clone()..)
            .take_while(|(p, _)| p.starts_with(&root))
        {
            if skipped.is_some_and(|s| p.starts_with(s)) {
                continue;
            }
            let kind = node_kind(n);
            let size = match n {
                Node::File(f) => Some(f.size),
                _ => None,
            };
            // sizes cost nothing here: given whether asked or not
            if visit(p, kind, size) == crate::fs::walk::Enter::No && kind == Kind::Dir {
                skipped = Some(p);
            }
        }
        Vec::new()
    }

    fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn rooted(&self) -> bool {
        false
    }

    fn display(&self, path: &Path) -> PathBuf {
        let clean = clean(path);
        if clean == Path::new("/") {
            return PathBuf::from(&self.label);
        }
        let rel = clean.strip_prefix("/").unwrap_or(&clean).to_string_lossy();
        let (origin, member) = match self.nodes.get(&clean) {
            Some(Node::File(f)) => (f.origin, f.member.as_deref()),
            _ => (None, None),
        };
        let shown = member.unwrap_or(&rel);
        PathBuf::from(match origin.and_then(|o| self.origins.get(o)) {
            Some(o) => format!("{} › {} › {shown}", self.label, o.label),
            None => format!("{} › {shown}", self.label),
        })
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        self.resolve(path).unwrap_or_else(|_| path.to_path_buf())
    }

    fn release_stream(&self, path: &Path) {
        if let Ok(MemFile {
            again: Some(again), ..
        }) = self.file(path)
        {
            again.release();
        }
    }

    fn read_order(&self, path: &Path) -> Option<(usize, u64)> {
        let file = self.file(path).ok()?;
        match (&file.data, &file.again) {
            (Err(_), Some(again)) => Some(again.order()),
            _ => None,
        }
    }

    fn times(&self, path: &Path, follow_last: bool) -> Option<(Kind, crate::times::FileTimes)> {
        let real = if follow_last {
            self.resolve(path).ok()?
        } else {
            let path = clean(path);
            self.resolve(path.parent()?).ok()?.join(path.file_name()?)
        };
        let node = self.nodes.get(&real)?;
        let mut times = crate::times::FileTimes::default();
        if let Node::File(f) = node {
            // a stored 0 is the convention for none (a reproducible build's)
            times.modified = f
                .mtime
                .filter(|&(secs, _)| secs != 0)
                .and_then(|(secs, nanos)| crate::times::Timestamp::new(secs, nanos));
            times.layer_created = f
                .origin
                .and_then(|o| self.origins.get(o))
                .and_then(|o| o.created);
        }
        Some((node_kind(node), times))
    }

    fn provenance(&self, path: &Path) -> Option<String> {
        match self.nodes.get(&clean(path)) {
            Some(Node::File(f)) => f
                .origin
                .and_then(|o| self.origins.get(o))
                .and_then(|o| o.note.clone()),
            _ => None,
        }
    }
}

/// A member read again came out shorter than listed: the archive changed while it was scanned
/// (truncated in place), and what it holds now was not all judged.
fn changed(read: u64, size: u64) -> ReadError {
    ReadError::Unavailable(format!(
        "the archive changed while it was scanned: {read} of the member's {size} bytes could be read again"
    ))
}

fn not_found() -> ReadError {
    ReadError::Io(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "no such file or directory",
    ))
}

fn node_kind(n: &Node) -> Kind {
    match n {
        Node::Dir => Kind::Dir,
        Node::File(_) => Kind::File,
        Node::Symlink(_) => Kind::Symlink,
        Node::Other(_) => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: &[u8]) -> Node {
        Node::File(MemFile {
            data: Ok(Arc::new(bytes.to_vec())),
            size: bytes.len() as u64,
            origin: None,
            member: None,
            again: None,
            mtime: None,
        })
    }

    /// A member read again from an archive truncated since it was listed is not judged in
    /// part and called complete: the read fails, naming the change.
    #[test]
    fn a_member_read_again_from_an_archive_that_shrank_is_an_error() {
        use crate::sources::reread::{Again, Layout, Source};
        use std::io::Write;
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&b"import os\n".repeat(100)).unwrap();
        let limits = crate::sources::archive::Limits::new(1 << 20);
        let src = Source::new(&f, 0, 1000, &limits).unwrap();
        let mut t = MemTree::new("t", 1 << 20, Arc::default());
        t.insert(
            Path::new("/m.py"),
            Node::File(MemFile {
                data: Err(Arc::from("not kept")),
                size: 1000,
                origin: None,
                member: None,
                again: Some(Again::new(&src, 0, Layout::Stored(1000)).into()),
                mtime: None,
            }),
        );
        let mut seen = 0;
        let whole = t.read_windows(Path::new("/m.py"), 256, 16, &mut |_, w| seen += w.len());
        assert_eq!(whole.unwrap(), (1000, false));
        f.set_len(100).unwrap();
        let cut = t.read_windows(Path::new("/m.py"), 256, 16, &mut |_, _| {});
        assert!(
            cut.unwrap_err()
                .to_string()
                .contains("changed while it was scanned")
        );
        let cut = t.read_capped(Path::new("/m.py"), 1 << 20);
        assert!(
            cut.unwrap_err()
                .to_string()
                .contains("changed while it was scanned")
        );
    }

    #[test]
    fn a_budgeted_tree_places_what_fits_and_counts_the_rest() {
        let budget = Budget::new(4096);
        let mut t = MemTree::new("t", 1024, Arc::default()).budgeted(Arc::clone(&budget));
        t.insert(Path::new("/a/b/c.py"), file(b"x"));
        assert_eq!(t.refused(), 0);
        let deep = "d/".repeat(1000);
        t.insert(Path::new(&deep).join("e.py").as_path(), file(b"x"));
        assert_eq!(t.refused(), 1);
        assert!(t.node(Path::new("/a/b/c.py")).is_some());
        assert!(budget.used() > 0);
        drop(t);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn windows_overlap_cover_the_file_and_stop_at_the_cap_on_disk_and_in_memory() {
        let windows = |tree: &dyn Tree, path: &Path| {
            let mut got: Vec<(u64, String)> = Vec::new();
            let (size, truncated) = tree
                .read_windows(path, 4, 1, &mut |at, b| {
                    got.push((at, String::from_utf8_lossy(b).into_owned()))
                })
                .unwrap();
            (got, size, truncated)
        };
        let want = |w: &[(u64, &str)]| -> Vec<(u64, String)> {
            w.iter().map(|(a, s)| (*a, (*s).to_owned())).collect()
        };
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("f"), b"0123456789").unwrap();
        let mut disk = crate::fs::Disk::open(d.path(), false, 1024, Arc::default()).unwrap();
        let d = disk.root().to_path_buf();
        let mut mem = MemTree::new("m", 1024, Arc::default());
        mem.insert(Path::new("/f"), file(b"0123456789"));
        let all = want(&[(0, "0123"), (3, "3456"), (6, "6789")]);
        assert_eq!(windows(&disk, &d.join("f")), (all.clone(), 10, false));
        assert_eq!(windows(&mem, Path::new("/f")), (all, 10, false));
        // a cap of 6: the windows end there and the file is reported longer
        disk.max_file_size = 6;
        let mut capped = MemTree::new("m", 6, Arc::default());
        capped.insert(Path::new("/f"), file(b"0123456789"));
        let head = want(&[(0, "0123"), (3, "345")]);
        assert_eq!(windows(&disk, &d.join("f")), (head.clone(), 10, true));
        assert_eq!(windows(&capped, Path::new("/f")), (head, 10, true));
        // asked for the whole file (a RECORD hash), past the cap: all of it
        let whole = |tree: &dyn Tree, path: &Path| {
            let mut got = Vec::new();
            let r =
                tree.read_windows_upto(path, u64::MAX, 4, 0, &mut |_, b| got.extend_from_slice(b));
            (r.unwrap(), String::from_utf8(got).unwrap())
        };
        let all = ((10, false), "0123456789".to_owned());
        assert_eq!(whole(&disk, &d.join("f")), all);
        assert_eq!(whole(&capped, Path::new("/f")), all);
    }

    /// A member of which only the head is held is read again whole where it lies when the whole
    /// is asked for; with nowhere to read it from, the read says it is short.
    #[test]
    fn a_held_head_is_read_again_whole_when_the_whole_is_asked_for() {
        use crate::sources::reread::{Again, Layout, Source};
        use std::io::Write;
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"0123456789").unwrap();
        let limits = crate::sources::archive::Limits::new(1 << 20);
        let src = Source::new(&f, 0, 10, &limits).unwrap();
        let head = |again| {
            Node::File(MemFile {
                data: Ok(Arc::new(b"0123".to_vec())),
                size: 10,
                origin: None,
                member: None,
                again,
                mtime: None,
            })
        };
        let mut t = MemTree::new("t", 4, Arc::default());
        t.insert(
            Path::new("/a"),
            head(Some(Again::new(&src, 0, Layout::Stored(10)).into())),
        );
        t.insert(Path::new("/b"), head(None));
        let read = |path: &str, cap| {
            let mut got = Vec::new();
            let r = t.read_windows_upto(Path::new(path), cap, 3, 0, &mut |_, b| {
                got.extend_from_slice(b)
            });
            (r.unwrap(), String::from_utf8(got).unwrap())
        };
        assert_eq!(read("/a", u64::MAX), ((10, false), "0123456789".into()));
        // within the cap, the head held is what is read
        assert_eq!(read("/a", 4), ((10, true), "0123".into()));
        assert_eq!(read("/b", u64::MAX), ((10, true), "0123".into()));
    }

    #[test]
    fn symlinks_resolve_inside_the_tree_and_loops_end() {
        let mut t = MemTree::new("img", 1024, Arc::default());
        t.insert(Path::new("/etc/passwd"), file(b"inside"));
        t.insert(Path::new("/usr/lib/python3"), Node::Dir);
        t.insert(
            Path::new("/usr/lib/python3/evil"),
            Node::Symlink("../../../../../../etc/passwd".into()),
        );
        t.insert(Path::new("/lib"), Node::Symlink("usr/lib".into()));
        t.insert(Path::new("/a"), Node::Symlink("/b".into()));
        t.insert(Path::new("/b"), Node::Symlink("a".into()));
        // `..` past the root stays at the tree's root: the host's /etc/passwd is never reached
        assert_eq!(
            t.read(Path::new("/usr/lib/python3/evil")).unwrap().bytes,
            b"inside"
        );
        assert!(t.is_dir(Path::new("/lib/python3")));
        assert!(matches!(
            t.read(Path::new("/a")),
            Err(ReadError::SymlinkLoop)
        ));
    }

    #[test]
    fn insert_replaces_and_remove_takes_the_subtree() {
        let mut t = MemTree::new("x", 4, Arc::default());
        t.insert(Path::new("/d/f"), file(b"0123456789"));
        let got = t.read(Path::new("/d/f")).unwrap();
        assert_eq!((got.bytes.as_slice(), got.truncated), (&b"0123"[..], true));
        t.insert(Path::new("/d/f/g"), file(b"x")); // a file becomes a directory
        assert!(t.is_dir(Path::new("/d/f")));
        t.insert(Path::new("/a/b/c/one"), file(b"1"));
        t.insert(Path::new("/a/b/c/two"), file(b"2"));
        let names: Vec<String> = t
            .list(Path::new("/a/b/c"))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["one", "two"]);
        t.remove(Path::new("/a"));
        t.remove(Path::new("/d"));
        assert!(t.kind(Path::new("/d/f/g")).is_none());
        let names: Vec<String> = t
            .list(Path::new("/"))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(names.is_empty());
    }
}
