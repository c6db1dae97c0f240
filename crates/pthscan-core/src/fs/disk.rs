//! [`Disk`]: a directory tree on disk, read through its [`Root`] so that no path, link or
//! `..` leads out of it, and only regular files are ever opened for reading, never past a size
//! cap.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::read::{FileBytes, ReadError, ReadStats};
use super::root::Root;
use super::walk::{self, SizedVisit};
use super::{DirEntry, Kind, Tree};
use crate::diagnostic::Diagnostic;
use crate::times::FileTimes;

/// A directory tree on disk, confined to its root.
#[derive(Debug, Clone)]
pub struct Disk {
    root: Arc<Root>,
    /// At most this many bytes are read from one file.
    pub max_file_size: u64,
    /// Counters, shared by clones.
    pub stats: Arc<ReadStats>,
    /// Directories a walk does not enter (pseudo and network filesystems).
    pub prune: Arc<Vec<PathBuf>>,
    /// What `--exclude` passes over, in walks and listings.
    pub exclude: Option<Arc<super::Exclude>>,
}

impl Disk {
    /// A tree confined to `root` (see [`Root::open`] for `in_root`), reading at most
    /// `max_file_size` bytes of a file.
    pub fn open(
        root: &Path,
        in_root: bool,
        max_file_size: u64,
        stats: Arc<ReadStats>,
    ) -> std::io::Result<Disk> {
        Ok(Disk::with_root(
            Arc::new(Root::open(root, in_root)?),
            max_file_size,
            stats,
        ))
    }

    /// A tree over an open root.
    pub fn with_root(root: Arc<Root>, max_file_size: u64, stats: Arc<ReadStats>) -> Disk {
        Disk {
            root,
            max_file_size,
            stats,
            prune: Arc::default(),
            exclude: None,
        }
    }

    /// The confinement every path of this tree goes through.
    pub fn confinement(&self) -> &Arc<Root> {
        &self.root
    }

    /// `path` with its symlinks resolved inside the root (see [`Root::resolve`]).
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        self.root.resolve(path, true)
    }

    /// Opens a regular file, through symlinks that stay inside the root, for reading; returns
    /// it with its size.
    pub fn open_file(&self, path: &Path) -> Result<(File, u64), ReadError> {
        self.root.open_file(path)
    }
}

impl Tree for Disk {
    fn canonical(&self, path: &Path) -> PathBuf {
        self.resolve(path).unwrap_or_else(|_| path.to_path_buf())
    }

    fn read_capped(&self, path: &Path, cap: u64) -> Result<FileBytes, ReadError> {
        let (file, size) = self.open_file(path)?;
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

    fn read_windows_upto(
        &self,
        path: &Path,
        cap: u64,
        window: usize,
        overlap: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<(u64, bool), ReadError> {
        let (mut file, size) = self.open_file(path)?;
        let total = super::read::windows(&mut file, cap, size, window, overlap, visit)?;
        self.stats.files.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(total, Ordering::Relaxed);
        if total < size.min(cap) {
            // truncated between its stat and its read: what it held was not all judged
            return Err(ReadError::Unavailable(format!(
                "the file changed while it was read: {total} of its {size} bytes were there"
            )));
        }
        Ok((size, size > cap))
    }

    fn list(&self, dir: &Path) -> Result<Vec<DirEntry>, ReadError> {
        let mut out = Vec::new();
        let exclude = self.exclude.as_deref();
        self.root.list(dir, true, &mut |name, kind| {
            if exclude.is_some_and(|e| e.excludes(&dir.join(name))) {
                return;
            }
            out.push(DirEntry {
                name: name.to_string_lossy().into_owned(),
                path: dir.join(name),
                kind,
            });
        })?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn kind(&self, path: &Path) -> Option<Kind> {
        self.root.stat(path, false).ok().map(|st| st.kind)
    }

    fn file_size(&self, path: &Path) -> Option<u64> {
        let st = self.root.stat(path, true).ok()?;
        st.is_file().then_some(st.size)
    }

    fn kind_followed(&self, path: &Path) -> Option<Kind> {
        self.root.stat(path, true).ok().map(|st| st.kind)
    }

    fn mtime(&self, path: &Path) -> Option<(i64, u32)> {
        let st = self.root.stat(path, true).ok()?;
        st.is_file().then_some(st.mtime)
    }

    fn times(&self, path: &Path, follow_last: bool) -> Option<(Kind, FileTimes)> {
        self.root.times(path, follow_last).ok()
    }

    fn walk_sized(&self, root: &Path, visit: &mut SizedVisit<'_>) -> Vec<Diagnostic> {
        walk::walk_sized(
            &self.root,
            root,
            &walk::Skip {
                prune: &self.prune,
                exclude: self.exclude.as_deref(),
            },
            visit,
        )
    }

    fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    fn rooted(&self) -> bool {
        self.root.in_root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn disk(root: &Path, in_root: bool) -> Disk {
        Disk::open(root, in_root, 8, Arc::default()).unwrap()
    }

    #[test]
    fn reads_within_cap_and_reports_truncation() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), b"0123456789").unwrap();
        let t = disk(d.path(), false);
        let r = t.read(&t.root().join("a")).unwrap();
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
        let t = disk(d.path(), false);
        assert!(matches!(
            t.read(&t.root().join("f.pth")),
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
        let t = disk(&root, false);
        let r = t.root().to_path_buf();
        assert_eq!(t.read(&r.join("in")).unwrap().bytes, b"x");
        assert!(matches!(
            t.read(&r.join("out")),
            Err(ReadError::EscapesRoot { .. })
        ));
        assert!(matches!(
            t.read(&r.join("loop1")),
            Err(ReadError::SymlinkLoop)
        ));
        // a path named outside the root, or leaving it by `..`, is refused on the live host
        assert!(matches!(
            t.read(&d.path().join("outside")),
            Err(ReadError::EscapesRoot { .. })
        ));
        assert!(matches!(
            t.read(&r.join("../outside")),
            Err(ReadError::EscapesRoot { .. })
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
        let t = disk(root, true);
        let got = t
            .read(&t.root().join("usr/lib/python3.11/sitecustomize.py"))
            .unwrap();
        assert_eq!(got.bytes, b"import x");
    }

    /// The shapes an attacker uses to lead a scan of a mounted disk out of it: every one
    /// resolves inside the root, where the evidence's own file is (or nothing is).
    #[test]
    fn every_path_of_a_mounted_system_stays_inside_it() {
        let d = tempfile::tempdir().unwrap();
        let host = d.path().join("host");
        let root = d.path().join("evidence");
        for dir in ["etc", "lib", "usr/lib/site-packages"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::create_dir_all(host.join("etc")).unwrap();
        std::fs::write(host.join("etc/shadow"), b"HOST").unwrap();
        std::fs::write(root.join("etc/shadow"), b"EVID").unwrap();
        // a link in the middle of a path, absolute and relative, and a link to the host's own
        // absolute path
        symlink("/", root.join("esc")).unwrap();
        symlink("../../../../../../../..", root.join("usr/lib/up")).unwrap();
        symlink(&host, root.join("hostlink")).unwrap();
        let t = disk(&root, true);
        let r = t.root().to_path_buf();
        let site = r.join("usr/lib/site-packages");
        for path in [
            r.join("esc/etc/shadow"),
            r.join("usr/lib/up/etc/shadow"),
            site.join("../../../../../../../etc/shadow"),
            PathBuf::from("/etc/shadow"),
            r.join("esc/esc/esc/etc/shadow"),
        ] {
            let got = t.read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert_eq!(got.bytes, b"EVID", "{path:?}");
            assert!(t.resolve(&path).unwrap().starts_with(&r), "{path:?}");
        }
        // the host path through a link is the evidence's path of that name: not there
        assert!(t.read(&r.join("hostlink/etc/shadow")).is_err());
        // a directory listed through a link in the middle lists the evidence's
        let names: Vec<String> = t
            .list(&r.join("esc/etc"))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["shadow"]);
        assert_eq!(t.kind(&r.join("esc")), Some(Kind::Symlink));
        assert_eq!(t.file_size(&r.join("esc/etc/shadow")), Some(4));
    }

    /// Times come from a `statx` of the lookup, for files and directories alike, through
    /// links inside the root; a FIFO is found without being opened for reading.
    #[test]
    fn times_are_the_files_own_and_a_fifo_does_not_block() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("dir")).unwrap();
        std::fs::write(d.path().join("dir/a"), b"x").unwrap();
        symlink("dir/a", d.path().join("link")).unwrap();
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_774_349_580);
        std::fs::File::open(d.path().join("dir/a"))
            .unwrap()
            .set_modified(at)
            .unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(d.path().join("f"))
            .status()
            .unwrap();
        assert!(made.success());
        let t = disk(d.path(), false);
        let r = t.root().to_path_buf();
        let (kind, times) = t.times(&r.join("link"), true).unwrap();
        assert_eq!(kind, Kind::File);
        assert_eq!(
            times.modified.map(|m| m.rfc3339()).as_deref(),
            Some("2026-03-24T10:53:00Z")
        );
        // the change time is the kernel's, later than the modification set back
        assert!(times.changed > times.modified);
        assert_eq!(t.times(&r.join("link"), false).unwrap().0, Kind::Symlink);
        assert_eq!(t.times(&r.join("dir"), false).unwrap().0, Kind::Dir);
        assert_eq!(t.times(&r.join("f"), true).unwrap().0, Kind::Other);
        assert!(t.times(&r.join("missing"), true).is_none());
        assert!(t.times(&d.path().join("../x"), true).is_none());
    }

    #[test]
    fn unreadable_file_is_an_io_error() {
        let d = tempfile::tempdir().unwrap();
        let t = disk(d.path(), false);
        assert!(matches!(
            t.read(&t.root().join("missing")),
            Err(ReadError::Io(_))
        ));
    }
}
