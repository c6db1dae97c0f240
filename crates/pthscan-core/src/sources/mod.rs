//! Sources: the artifacts the files we judge come from. Each is opened into a [`MemTree`] (a
//! [`Tree`](crate::fs::Tree) held in memory) — a wheel, an sdist, a package cache entry, the
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
pub mod reread;
pub mod sdist;
pub mod store;
pub mod wheel;
pub mod zstd;

use std::path::PathBuf;
use std::sync::Arc;

use crate::budget::{Budget, Caps, Held};
use crate::diagnostic::Diagnostic;
use crate::discovery::Environment;
use crate::finding::Finding;
use crate::fs::ReadStats;

pub use memory::MemTree;

/// Why a package member has no content in its tree: over its cap, or not kept once the memory
/// budget was a quarter spent ([`artifact`]'s `package_keeps`).
pub(crate) const NOT_KEPT: &str =
    "content not kept: the package was larger than the memory budget holds (raise --max-memory)";

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
    /// Every file is judged (`--deep`).
    pub deep: bool,
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
            deep: false,
        }
    }

    /// The limits on one archive: members kept up to the smaller of `--max-file-size` and the
    /// member cap `--max-memory` sets, within the shared budget.
    pub fn limits(&self) -> archive::Limits {
        archive::Limits {
            max_json: self.caps.json,
            deep: self.deep,
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
    /// What the archive readers met (hostile shapes, cut members), by how the archive is
    /// shown: judged as findings and diagnostics by the scan, not here.
    pub problems: Vec<(String, Vec<archive::Problem>)>,
    /// A wheel's listing, for the scan to check its RECORD against.
    pub wheel: Option<archive::Listing>,
    /// Variables every process of an image starts with (its config's `Env`).
    pub variables: Vec<crate::discovery::variables::Setting>,
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
    /// Notes every finding in the tree carries (the containers that run a store's image).
    pub notes: Vec<String>,
    /// The image an image's tree is (its config's digest: of a multi-platform index, the one
    /// platform's), whose findings a container made from it is told apart from.
    pub image_of: Option<String>,
    /// For a container of a store (its image's layers and its writable layer): the image (its
    /// config's digest, of the platform it runs) whose findings are the image's, not repeated
    /// for the container — only what differs (a file it wrote, a link or a variable that makes
    /// an image file run) is its own.
    pub container_of: Option<String>,
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
            problems: Vec::new(),
            wheel: None,
            variables: Vec::new(),
            nested: Vec::new(),
            install_hooks: Vec::new(),
            judge_every_file: true,
            held: Vec::new(),
            notes: Vec::new(),
            image_of: None,
            container_of: None,
        }
    }

    /// Keeps what the archive reader met, to be judged.
    fn add_problems(&mut self, problems: &[archive::Problem]) {
        let label = self.tree.label().to_owned();
        self.add_problems_as(&label, problems);
    }

    /// As [`Opened::add_problems`], shown under `label` (an image's archive rather than one
    /// image in it).
    fn add_problems_as(&mut self, label: &str, problems: &[archive::Problem]) {
        if !problems.is_empty() {
            self.problems.push((label.to_owned(), problems.to_vec()));
        }
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
        self.add_problems_as(within, &disguised);
    }
}
