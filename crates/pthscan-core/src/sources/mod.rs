//! Sources: where the files we judge come from. A [`Tree`] is a read-only file tree the
//! detectors walk the same way whatever is behind it: a directory on disk ([`Reader`]), or a
//! [`MemTree`] built in memory from an artifact — a wheel, an sdist, a package cache entry, the
//! merged layers of a container image — without extracting anything to disk.
//!
//! - [`archive`]: reading zip and tar members under limits (bombs, hostile names, nesting).
//! - [`wheel`], [`sdist`], [`image`], [`cache`]: one file per kind of artifact.
//! - [`artifact`]: telling which kind a file is, by its content.

pub mod archive;
pub mod artifact;
pub mod cache;
pub mod image;
pub mod memory;
pub mod sdist;
pub mod wheel;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::budget::{Budget, Caps, Held};
use crate::diagnostic::Diagnostic;
use crate::discovery::Environment;
use crate::finding::Finding;
use crate::fsread::{FileBytes, ReadError, ReadStats, Reader, sha256_hex};

pub use memory::MemTree;

/// How artifacts are opened.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// At most this many bytes of one member are kept.
    pub max_file_size: u64,
    /// Read counters, shared with the rest of the scan.
    pub stats: Arc<ReadStats>,
    /// Archives inside archives are opened to this depth (1 = only the artifact itself).
    pub max_depth: usize,
    /// What artifacts keep in memory is reserved from here (`--max-memory`), shared by the
    /// whole scan.
    pub budget: Arc<Budget>,
    /// The caps derived from `--max-memory`.
    pub caps: Caps,
}

impl OpenOptions {
    /// Options for a scan allowed `max_memory` bytes, keeping what artifacts hold in `budget`.
    pub fn new(
        max_file_size: u64,
        max_memory: u64,
        budget: Arc<Budget>,
        stats: Arc<ReadStats>,
        max_depth: usize,
    ) -> OpenOptions {
        OpenOptions {
            max_file_size,
            stats,
            max_depth,
            budget,
            caps: Caps::new(max_memory),
        }
    }

    /// The limits on one archive: members kept up to the smaller of `--max-file-size` and the
    /// member cap `--max-memory` sets, within the shared budget.
    pub fn limits(&self) -> archive::Limits {
        archive::Limits {
            max_json: self.caps.json,
            ..archive::Limits::with_budget(
                self.max_file_size.min(self.caps.member),
                Arc::clone(&self.budget),
            )
        }
    }
}

/// An artifact read into memory: the tree to judge, the environments in it, what reading it
/// found, and the archives inside it still to open.
pub struct Opened {
    /// Its files.
    pub tree: MemTree,
    /// The environments to judge in the tree.
    pub envs: Vec<Environment>,
    /// Findings about the artifact itself (hostile archive shapes, RECORD mismatches, install
    /// hooks), with display paths.
    pub findings: Vec<Finding>,
    /// Problems met reading it, with display paths.
    pub diagnostics: Vec<Diagnostic>,
    /// Archives found inside: display label and bytes.
    pub nested: Vec<(String, Arc<Vec<u8>>)>,
    /// Files of the tree that run at install time (an sdist's `setup.py`).
    pub install_hooks: Vec<PathBuf>,
    /// Whether every file gets the payload rules without `--deep` (a package about to be
    /// installed is small and wholly in question; an image follows `--deep`).
    pub judge_every_file: bool,
    /// The budget reserved for the members' content the tree holds (shared with the other
    /// images of one archive), given back once the last tree holding them is judged.
    pub held: Vec<Arc<Held>>,
}

impl Opened {
    /// An artifact shown as `label`, its tree still empty.
    pub fn with_label(label: &str, opts: &OpenOptions) -> Opened {
        Opened::new(
            MemTree::new(label, opts.max_file_size, opts.stats.clone())
                .budgeted(Arc::clone(&opts.budget)),
        )
    }

    /// Holds the budget a listing reserved for as long as this tree lives.
    pub fn hold(&mut self, listing: &mut archive::Listing) {
        let held = std::mem::take(&mut listing.held);
        if held.bytes() > 0 {
            self.held.push(Arc::new(held));
        }
    }

    /// Says, once, how many entries the tree did not take because the budget was spent.
    pub fn report_refused(&mut self) {
        let refused = self.tree.refused();
        if refused > 0 {
            self.diagnostics.push(Diagnostic::incomplete(
                self.tree.label(),
                format!(
                    "{refused} entries were not placed in the tree: the memory budget is spent (raise --max-memory)"
                ),
            ));
        }
    }

    fn new(tree: MemTree) -> Opened {
        Opened {
            tree,
            envs: Vec::new(),
            findings: Vec::new(),
            diagnostics: Vec::new(),
            nested: Vec::new(),
            install_hooks: Vec::new(),
            judge_every_file: true,
            held: Vec::new(),
        }
    }

    /// Turns what the archive reader met into findings and diagnostics.
    fn add_problems(&mut self, problems: &[archive::Problem]) {
        let label = self.tree.label().to_owned();
        self.add_problems_as(&label, problems);
    }

    /// As [`Opened::add_problems`], shown under `label` (an image's archive rather than one
    /// image in it).
    fn add_problems_as(&mut self, label: &str, problems: &[archive::Problem]) {
        let (findings, diagnostics) = crate::detectors::archive::judge(label, problems);
        self.findings.extend(findings);
        self.diagnostics.extend(diagnostics);
    }

    /// Queues the members that are archives themselves, and reports those disguised as
    /// another kind of file; `within` is how the listing's archive is shown.
    fn nest_members(&mut self, within: &str, listing: &archive::Listing, opts: &OpenOptions) {
        let mut disguised = Vec::new();
        for m in &listing.members {
            let archive::Entry::File {
                data: Some(data), ..
            } = &m.entry
            else {
                continue;
            };
            let hidden = artifact::disguised_archive(&m.name, data);
            if let Some(ext) = hidden {
                disguised.push(archive::Problem::new(
                    archive::ProblemKind::Disguised,
                    Some(&m.name),
                    format!("a zip archive named like a `.{ext}` file: code hidden where no reviewer looks for it"),
                ));
            }
            if hidden.is_some() || artifact::is_nested_archive(&m.name, data) {
                let label = format!("{within} › {}", m.name);
                if opts.max_depth <= 1 {
                    self.diagnostics.push(Diagnostic::incomplete(
                        &label,
                        "archive nested deeper than the depth limit: not opened",
                    ));
                } else {
                    self.nested.push((label, data.clone()));
                }
            }
        }
        let (findings, diagnostics) = crate::detectors::archive::judge(within, &disguised);
        self.findings.extend(findings);
        self.diagnostics.extend(diagnostics);
    }
}

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
    fn walk(&self, root: &Path, visit: &mut crate::fswalk::Visit<'_>) -> Vec<Diagnostic> {
        use crate::fswalk::Enter;
        self.walk_sized(root, &mut |path, kind, _| {
            if visit(path, kind) {
                Enter::Unsized
            } else {
                Enter::No
            }
        })
    }
    /// As [`Tree::walk`], with each regular file's size (not through symlinks) in the
    /// directories `visit` enters [`Enter::Sized`](crate::fswalk::Enter::Sized): what a walk
    /// that needs every size asks, instead of a [`Tree::file_size`] per path afterwards.
    fn walk_sized(&self, root: &Path, visit: &mut crate::fswalk::SizedVisit<'_>)
    -> Vec<Diagnostic>;
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
    ) -> Result<(u64, bool), ReadError>;
    /// Whether `path` is a regular file or a symlink to one inside the tree.
    fn is_file(&self, path: &Path) -> bool {
        self.file_size(path).is_some()
    }
    /// Whether `path` is a directory (not through a symlink).
    fn is_dir(&self, path: &Path) -> bool {
        self.kind(path) == Some(Kind::Dir)
    }
}

impl Tree for Reader {
    fn read_capped(&self, path: &Path, cap: u64) -> Result<FileBytes, ReadError> {
        Reader::read_capped(self, path, cap)
    }

    fn read_windows(
        &self,
        path: &Path,
        window: usize,
        overlap: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<(u64, bool), ReadError> {
        Reader::read_windows(self, path, window, overlap, visit)
    }

    fn list(&self, dir: &Path) -> Result<Vec<DirEntry>, ReadError> {
        let mut out: Vec<DirEntry> = std::fs::read_dir(dir)?
            .flatten()
            .map(|e| DirEntry {
                name: e.file_name().to_string_lossy().into_owned(),
                kind: e.file_type().map_or(Kind::Other, |t| kind_of(&t)),
                path: e.path(),
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn kind(&self, path: &Path) -> Option<Kind> {
        std::fs::symlink_metadata(path)
            .ok()
            .map(|m| kind_of(&m.file_type()))
    }

    fn file_size(&self, path: &Path) -> Option<u64> {
        // one lstat for the common case, a regular file; links are resolved inside the root
        let meta = std::fs::symlink_metadata(path).ok()?;
        let meta = if meta.file_type().is_symlink() {
            std::fs::symlink_metadata(self.resolve(path).ok()?).ok()?
        } else {
            meta
        };
        meta.is_file().then_some(meta.len())
    }

    fn walk_sized(
        &self,
        root: &Path,
        visit: &mut crate::fswalk::SizedVisit<'_>,
    ) -> Vec<Diagnostic> {
        crate::fswalk::walk_sized(root, &self.prune, visit)
    }

    fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn rooted(&self) -> bool {
        self.rooted
    }
}

/// What a directory entry's type is.
pub(crate) fn kind_of(t: &std::fs::FileType) -> Kind {
    if t.is_file() {
        Kind::File
    } else if t.is_dir() {
        Kind::Dir
    } else if t.is_symlink() {
        Kind::Symlink
    } else {
        Kind::Other
    }
}
