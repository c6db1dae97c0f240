//! Container images without a container engine: `docker save` tarballs and OCI image layouts
//! (a directory or a tar of one). Layers (plain, gzip or zstd tars) are applied in order with
//! whiteouts (`.wh.NAME`) and opaque directories (`.wh..wh..opq`) into one tree; each file
//! remembers the layer it came from and the history line that created that layer. Only the
//! files where Python lives keep their content (site directories, `pythonX.Y` directories,
//! `pyvenv.cfg`, package caches, nested archives); every other file is known by name and size.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::archive::{self, Entry, Limits, Listing, Problem, ProblemKind};
use super::memory::{MemFile, MemTree, Node, Origin};
use super::reread::Source;
use super::{OpenOptions, Opened};
use crate::budget::Held;
use crate::diagnostic::Diagnostic;
use crate::fs::{Disk, Kind, ReadError, Tree};

/// Indexes nested deeper than this are not followed (real ones nest once: an index of
/// per-platform manifests).
const MAX_INDEX_DEPTH: usize = 8;

/// An image listing more layers than this is built to exhaust (overlayfs mounts at most 128).
const MAX_LAYERS: usize = 128;

/// The blobs of an image archive or layout: small JSON documents and layer listings, by path.
#[derive(Default)]
pub struct Blobs {
    json: HashMap<String, Vec<u8>>,
    layers: HashMap<String, Listing>,
    problems: Vec<Problem>,
    /// The budget the JSON documents hold.
    held: Held,
    /// JSON documents past the cap, not read: their sizes.
    oversized: HashMap<String, u64>,
    max_json: u64,
    /// Blob names that are another name for a file read under the first (hard links).
    aliases: HashMap<String, String>,
}

impl Blobs {
    /// Keeps a JSON document of `size` bytes read from `reader` (whose first bytes are
    /// `head`) when it is within the cap and the budget; else says why not.
    fn keep_json(
        &mut self,
        name: String,
        head: Vec<u8>,
        reader: &mut dyn Read,
        size: u64,
        limits: &Limits,
    ) -> Result<(), String> {
        if size > limits.max_json {
            // a finding only once the image names it (an attestation may be large)
            self.max_json = limits.max_json;
            self.oversized.insert(name, size);
            return Ok(());
        }
        let Some(held) = limits.budget.try_reserve(size) else {
            self.problems.push(Problem::new(
                ProblemKind::OverBudget,
                Some(&name),
                format!(
                    "a JSON document of {size} bytes not read: the memory budget is spent (raise --max-memory)"
                ),
            ));
            return Ok(());
        };
        self.held.absorb(held);
        let mut all = head;
        reader
            .take(size.saturating_sub(all.len() as u64))
            .read_to_end(&mut all)
            .map_err(|e| format!("member `{name}` unreadable: {e}"))?;
        self.json.insert(name, all);
        Ok(())
    }
}

impl Blobs {
    /// The name a blob was read under: `name`, or the first name of the file it is a hard
    /// link to.
    fn real<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map_or(name, String::as_str)
    }

    /// Whether these are an image's: a `docker save` manifest or an OCI index.
    pub fn is_image(&self) -> bool {
        self.json.contains_key("manifest.json") || self.json.contains_key("index.json")
    }
}

/// Whether a layer member's content is kept: what a default scan reads always; with `--deep`
/// every file where Python lives while three quarters of the budget are free — the rest stays
/// for the names and tree of the whole layer and for start-up files, so a layer too large to
/// hold is still listed whole and its hooks judged (a real 2.5 GB layer of 81,000 files needs
/// about 60 MB for that); what is not kept is said, in one line per reason.
pub(crate) fn keeps(path: &Path, limits: &Limits) -> bool {
    let room = || limits.budget.used() < limits.budget.limit() / 4;
    python_relevant(path, false)
        || (limits.deep && python_relevant(path, true) || package_module(path)) && room()
}

/// A module one level into a package of a site directory (`pkg/mod.py`) or its cached
/// bytecode: what a hook's `import pkg.mod` runs. Kept while the budget has room, so that
/// judging a hook does not read the layer again for each module it imports.
fn package_module(path: &Path) -> bool {
    let parts: Vec<&std::ffi::OsStr> = path.iter().collect();
    let Some(site) = parts
        .iter()
        .rposition(|c| *c == "site-packages" || *c == "dist-packages")
    else {
        return false;
    };
    let name = parts
        .last()
        .map_or(Default::default(), |n| n.to_string_lossy());
    match parts.len() - site - 1 {
        2 => name.ends_with(".py"),
        3 => parts[site + 2] == "__pycache__" && name.ends_with(".pyc"),
        _ => false,
    }
}

/// Whether a file inside an image keeps its content: where Python lives, and there (unless
/// `deep`, when every file is judged) only what a default scan reads — start-up files, the
/// modules at the top of a site directory that hooks import, distribution metadata, archives to
/// open. A real image's layers hold gigabytes of packages; the rest is listed with its size (the
/// RECORD check needs no more) and not held.
pub fn python_relevant(path: &Path, deep: bool) -> bool {
    let text = path.to_string_lossy();
    if text.ends_with("pyvenv.cfg") || super::artifact::has_archive_name(&*text) {
        return true;
    }
    // the system package managers' records: who owns the distribution's own hooks
    if text.starts_with("var/lib/dpkg/info/") && text.ends_with(".list")
        || text == "lib/apk/db/installed"
    {
        return true;
    }
    let parts: Vec<std::borrow::Cow<'_, str>> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    let site = parts
        .iter()
        .position(|c| c == "site-packages" || c == "dist-packages");
    let python = site.is_some()
        || parts
            .iter()
            .any(|c| c.starts_with("python") || c == "pip" || c == "uv");
    // a customize module anywhere: `PYTHONPATH` (an image's `Env`) can put any directory on
    // the path
    let name = parts.last().map_or("", |n| n.as_ref());
    let stem = name.split('.').next().unwrap_or("");
    if matches!(stem, "sitecustomize" | "usercustomize") {
        return true;
    }
    if !python {
        return false;
    }
    if deep {
        return true;
    }
    let parent = parts.len().checked_sub(2).map_or("", |i| parts[i].as_ref());
    let startup = name.ends_with(".pth")
        || name.ends_with(".start")
        || name.ends_with(".egg-link")
        || stem == "sitecustomize"
        || stem == "usercustomize"
        || parent == "sitecustomize"
        || parent == "usercustomize";
    let metadata = parent.ends_with(".dist-info") || parent.ends_with(".egg-info");
    // a module or package `__init__` at the top of a site directory: what a `.pth` line imports
    let top_module = site.is_some_and(|s| {
        let depth = parts.len() - s - 1;
        depth == 1 || (depth == 2 && stem == "__init__")
    });
    // outside site directories: a package cache's entries, and the standard library's top
    // (where a customize module or a shadowing module would be) with `encodings`, which every
    // interpreter imports at start
    let stdlib = site.is_none()
        && parts
            .iter()
            .rposition(|c| c.starts_with("python"))
            .is_some_and(|i| {
                let depth = parts.len() - i - 1;
                depth == 1 || (depth == 2 && parent == "encodings")
            });
    startup || metadata || top_module || stdlib || super::cache::is_cache_path(path)
}

/// Reads the members of an image archive (a `docker save` or OCI tar) from a stream, listing
/// each layer as it passes.
/// `file` is the file the stream is, uncompressed, when it is one: what a layer does not keep
/// is read again from its region of it.
pub fn read_outer_tar(
    reader: impl Read,
    file: Option<&std::fs::File>,
    limits: &Limits,
) -> Result<Blobs, String> {
    let mut blobs = Blobs::default();
    let mut outer = tar::Archive::new(reader);
    // raw, extension members read under a cap, as in every tar we read
    let entries = outer
        .entries()
        .map_err(|e| format!("not a readable tar archive: {e}"))?
        .raw(true);
    let mut names = archive::LongNames::default();
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("archive unreadable: {e}"))?;
        if names.absorb(&mut entry).map_err(|p| p.detail)? {
            continue;
        }
        names.check_member(&entry).map_err(|p| p.detail)?;
        let long = names.path.take();
        names.link = None;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = match &long {
            Some(n) => std::borrow::Cow::from(n.as_slice()),
            None => entry.path_bytes(),
        };
        if raw.len() > crate::budget::MAX_NAME {
            continue; // no blob, manifest or config is named so
        }
        let name = String::from_utf8_lossy(&raw)
            .trim_start_matches("./")
            .to_owned();
        // a blob or document of a name read already: not read again (a layer is decoded
        // once), and said: no tool writes two, and runtimes differ on which they load
        if blobs.json.contains_key(&name)
            || blobs.layers.contains_key(&name)
            || blobs.oversized.contains_key(&name)
        {
            blobs.problems.push(Problem::new(
                ProblemKind::Ambiguous,
                Some(&name),
                "two members share this name: which one a runtime loads depends on the runtime and on which matches its digest; the first was judged, the later one not read",
            ));
            continue;
        }
        let size = entry.size();
        let at = entry.raw_file_position();
        let mut head = Vec::with_capacity(512);
        (&mut entry)
            .take(512)
            .read_to_end(&mut head)
            .map_err(|e| format!("member `{name}` unreadable: {e}"))?;
        if head.first() == Some(&b'{') || head.first() == Some(&b'[') {
            blobs.keep_json(name, head, &mut entry, size, limits)?;
        } else if name == "oci-layout" {
            blobs.json.insert(name, head);
        } else if looks_like_layer(&head) {
            let stream = std::io::Cursor::new(head).chain(&mut entry);
            let layer = limits.for_layers();
            let again = file.and_then(|f| Source::new(f, at, size, &layer));
            // a layer that cannot be read again (the archive is compressed whole, held in
            // memory or on standard input) keeps every file while half the budget is free: a
            // hook reached through a link or a path line is judged by what it holds
            let keeps = |p: &Path, _| {
                keeps(p, limits)
                    || again.is_none() && limits.budget.used() < limits.budget.limit() / 2
            };
            let listing = archive::read_tar(stream, size, &layer, &keeps, again.as_ref());
            blobs.layers.insert(name, listing);
        }
    }
    Ok(blobs)
}

/// The image a stream holds (`docker save app | pthscan -`): a `docker save` or OCI archive,
/// compressed whole or not, read once as it passes — no temporary file; what a layer does not
/// keep cannot be read again (said per file where a detector asks for it).
pub fn open_stream(label: &str, mut stream: impl Read, opts: &OpenOptions) -> Vec<Opened> {
    let limits = opts.limits();
    let fail = |why: String| {
        let mut failed = Opened::with_label(label, opts);
        failed.diagnostics.push(Diagnostic::incomplete(label, why));
        vec![failed]
    };
    let mut head = Vec::with_capacity(512);
    if let Err(e) = (&mut stream).take(512).read_to_end(&mut head) {
        return fail(format!("cannot read: {e}"));
    }
    let whole = std::io::Cursor::new(head.clone()).chain(stream);
    let blobs = archive::decompressor(&head, whole, &limits)
        .map_err(|e| e.to_string())
        .and_then(|s| read_outer_tar(s, None, &limits));
    match blobs {
        Ok(b) if b.is_image() => assemble(label, b, opts),
        Ok(_) => fail(
            "not a container image (a `docker save` or OCI archive): only images are read from standard input; give other archives as files".into(),
        ),
        Err(why) => fail(format!("not a readable image: {why}")),
    }
}

/// Reads an OCI image layout directory (`oci-layout`, `index.json`, `blobs/`) through `disk`:
/// `index.json`, then only the indexes and manifests it leads to, then only the configs and
/// layers those name — what a runtime loads; each blob read once, by name and by file (hard
/// links to one blob are one read). Every file is opened inside the scan's root (a
/// `blobs/sha256` that is a link means the evidence's own directory of that name), regular
/// files only, a FIFO refused without blocking. How many blobs no manifest names is a note.
pub fn read_layout_dir(disk: &Disk, dir: &Path, limits: &Limits) -> Result<Blobs, String> {
    read_layout(disk, dir, None, limits)
}

/// As [`read_layout_dir`], the index given rather than read from `index.json`: a content store
/// (containerd's `blobs/sha256/`) whose images are named elsewhere. Blobs it does not lead to
/// are other images': not counted.
pub(crate) fn read_content_store(
    disk: &Disk,
    dir: &Path,
    index: &[u8],
    limits: &Limits,
) -> Result<Blobs, String> {
    read_layout(disk, dir, Some(index), limits)
}

fn read_layout(
    disk: &Disk,
    dir: &Path,
    given: Option<&[u8]>,
    limits: &Limits,
) -> Result<Blobs, String> {
    let mut blobs = Blobs::default();
    let cannot = |name: &str, e: ReadError| format!("cannot read `{name}`: {e}");
    // skopeo's `dir:` layout: one manifest in `manifest.json` (an index's images in
    // `HEX.manifest.json`), every blob a file named by its bare hex; read as a layout whose
    // index names that manifest
    let bare = given.is_none()
        && disk.kind(&dir.join("index.json")).is_none()
        && disk.kind(&dir.join("version")) == Some(Kind::File);
    let top = if bare { "manifest.json" } else { "index.json" };
    let (mut index, size): (Box<dyn Read>, u64) = match given {
        Some(doc) => (Box::new(doc), doc.len() as u64),
        None => {
            let (f, size) = disk.open_file(&dir.join(top)).map_err(|e| cannot(top, e))?;
            (Box::new(f), size)
        }
    };
    if size > limits.max_json {
        return Err(format!(
            "{top} is {size} bytes, past the {}-byte cap for an index (real ones are a few kilobytes)",
            limits.max_json
        ));
    }
    if bare {
        let mut manifest = Vec::new();
        (&mut index)
            .take(size)
            .read_to_end(&mut manifest)
            .map_err(|e| cannot(top, e.into()))?;
        let digest = format!("sha256:{}", crate::fs::read::sha256_hex(&manifest));
        let media_type = serde_json::from_slice::<serde_json::Value>(&manifest)
            .ok()
            .and_then(|m| m.get("mediaType")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".into());
        let index = serde_json::json!({"manifests": [{"digest": digest, "mediaType": media_type}]});
        let index = serde_json::to_vec(&index).expect("a JSON value serialises");
        let len = index.len() as u64;
        blobs.keep_json(
            "index.json".into(),
            Vec::new(),
            &mut &index[..],
            len,
            limits,
        )?;
        blobs.keep_json(
            blob_path(&digest),
            Vec::new(),
            &mut &manifest[..],
            size,
            limits,
        )?;
    } else {
        blobs.keep_json("index.json".into(), Vec::new(), &mut index, size, limits)?;
    }
    let mut layout = Layout {
        disk,
        dir,
        limits,
        bare,
        read: HashSet::new(),
        files: HashMap::new(),
    };
    // indexes and manifests, depth first, each once (a cycle ends where it comes back)
    let mut configs = Vec::new();
    let mut layers = Vec::new();
    let mut todo: Vec<(String, usize)> = refs(blobs.json.get("index.json"))
        .manifests
        .into_iter()
        .filter(|d| !d.runs_nowhere())
        .map(|d| (d.digest, 0))
        .collect();
    while let Some((digest, depth)) = todo.pop() {
        if depth >= MAX_INDEX_DEPTH {
            continue; // said when the images are listed
        }
        let name = match layout.read_blob(&mut blobs, &digest)? {
            Some(name) => name,
            // skopeo's top manifest, read from `manifest.json` already
            None if blobs.json.contains_key(&blob_path(&digest)) => blob_path(&digest),
            None => continue,
        };
        let found = refs(blobs.json.get(blobs.real(&name)));
        todo.extend(
            found
                .manifests
                .into_iter()
                .filter(|d| !d.runs_nowhere())
                .map(|d| (d.digest, depth + 1)),
        );
        configs.extend(found.config.map(|c| c.digest));
        layers.extend(found.layers.into_iter().map(|l| l.digest));
    }
    for digest in configs.iter().chain(&layers) {
        layout.read_blob(&mut blobs, digest)?;
    }
    // what no runtime loads is not judged: said, with how many
    let mut unread = 0usize;
    if given.is_some() {
        // a content store: the other blobs are other images'
    } else if bare {
        let listed = disk.list(dir).unwrap_or_default();
        unread = listed
            .iter()
            .filter(|b| b.name.bytes().all(|c| c.is_ascii_hexdigit()))
            .filter(|b| !layout.read.contains(&format!("blobs/sha256/{}", b.name)))
            .count();
    } else if let Ok(algos) = disk.list(&dir.join("blobs")) {
        for algo in algos.iter().filter(|a| a.kind != Kind::File) {
            if let Ok(listed) = disk.list(&algo.path) {
                unread += listed
                    .iter()
                    .filter(|b| {
                        !layout
                            .read
                            .contains(&format!("blobs/{}/{}", algo.name, b.name))
                    })
                    .count();
            }
        }
    }
    if unread > 0 {
        blobs.problems.push(Problem::new(
            ProblemKind::Truncated,
            Some("blobs"),
            format!(
                "{unread} blobs that no manifest reached from `index.json` names were not read: no runtime loads them"
            ),
        ));
    }
    Ok(blobs)
}

/// The descriptors a JSON document names: an index's manifests, a manifest's config and
/// layers. Whatever does not parse names nothing (the images are listed, and what is wrong
/// said, from the documents themselves).
#[derive(Deserialize, Default)]
struct Refs {
    #[serde(default)]
    manifests: Vec<OciDescriptor>,
    #[serde(default)]
    config: Option<OciDescriptor>,
    #[serde(default)]
    layers: Vec<OciDescriptor>,
}

fn refs(doc: Option<&Vec<u8>>) -> Refs {
    doc.and_then(|d| serde_json::from_slice(d).ok())
        .unwrap_or_default()
}

/// The blob file a digest names, when the digest has the OCI grammar (`algorithm:encoded`,
/// no separator that could climb out of `blobs/`).
fn blob_name(digest: &str) -> Option<String> {
    let (algo, hex) = digest.split_once(':')?;
    let algo_ok = !algo.is_empty()
        && algo
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        && !algo.starts_with('.');
    let hex_ok = !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    (algo_ok && hex_ok).then(|| blob_path(digest))
}

/// What reading one layout directory has read.
struct Layout<'a> {
    disk: &'a Disk,
    dir: &'a Path,
    limits: &'a Limits,
    /// Blobs are files named by their bare hex (skopeo's `dir:`), not `blobs/ALGO/HEX`.
    bare: bool,
    /// Blob names read (or tried).
    read: HashSet<String>,
    /// Files read, by (device, inode): the name they were read as.
    files: HashMap<(u64, u64), String>,
}

impl Layout<'_> {
    /// Reads the blob `digest` names, once: a JSON document is kept, a layer listed. Returns
    /// its name, or `None` when it is not there to read (a missing blob is said when the
    /// images are listed).
    fn read_blob(&mut self, blobs: &mut Blobs, digest: &str) -> Result<Option<String>, String> {
        let Some(name) = blob_name(digest) else {
            return Ok(None);
        };
        if !self.read.insert(name.clone()) {
            return Ok(Some(name));
        }
        // regular files only: a FIFO among the blobs must not hang the scan
        let file = if self.bare {
            // only sha256 blobs are named by bare hex; an image's manifest is `HEX.manifest.json`
            let hex = name.strip_prefix("blobs/sha256/").ok_or_else(|| {
                format!("blob {digest}: skopeo's `dir:` layout names sha256 blobs only")
            })?;
            match self.disk.open_file(&self.dir.join(hex)) {
                Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => self
                    .disk
                    .open_file(&self.dir.join(format!("{hex}.manifest.json"))),
                other => other,
            }
        } else {
            self.disk.open_file(&self.dir.join(&name))
        };
        let (mut file, len) = match file {
            Ok(f) => f,
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                let why = e.to_string();
                blobs
                    .problems
                    .push(Problem::new(ProblemKind::Corrupt, Some(&name), why));
                return Ok(None);
            }
        };
        // another name for a file already read (a hard link): what was read is what it holds
        if let Some(id) = file.metadata().ok().as_ref().and_then(crate::fs::file_id) {
            match self.files.entry(id) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    blobs.aliases.insert(name.clone(), first.get().clone());
                    return Ok(Some(name));
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(name.clone());
                }
            }
        }
        let mut head = Vec::new();
        let _ = (&mut file).take(512).read_to_end(&mut head);
        if head.first() == Some(&b'{') {
            blobs.keep_json(name.clone(), head, &mut file, len, self.limits)?;
        } else if looks_like_layer(&head) {
            let layer = self.limits.for_layers();
            let again = Source::new(&file, 0, len, &layer);
            let stream = std::io::Cursor::new(head).chain(file);
            let keeps = |p: &Path, _| keeps(p, self.limits);
            let listing = archive::read_tar(stream, len, &layer, &keeps, again.as_ref());
            blobs.layers.insert(name.clone(), listing);
        }
        Ok(Some(name))
    }
}

fn looks_like_layer(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || super::zstd::is_zstd(head)
        || head.get(257..262) == Some(b"ustar")
}

#[derive(Deserialize)]
struct SaveManifest {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct OciIndex {
    #[serde(default)]
    manifests: Vec<OciDescriptor>,
}

#[derive(Deserialize)]
struct OciDescriptor {
    digest: String,
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    annotations: HashMap<String, String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Platform {
    #[serde(default)]
    os: String,
}

impl OciDescriptor {
    /// Whether no runtime runs what it names: buildkit's attestation manifests sit in an image
    /// index beside the images, for the platform `unknown/unknown`.
    fn runs_nowhere(&self) -> bool {
        self.platform.as_ref().is_some_and(|p| p.os == "unknown")
    }
}

#[derive(Deserialize)]
struct OciManifest {
    config: OciDescriptor,
    layers: Vec<OciDescriptor>,
}

#[derive(Deserialize, Default)]
struct ImageConfig {
    #[serde(default)]
    history: Vec<History>,
    /// What containers of the image start with (`Env`).
    #[serde(default)]
    config: RunConfig,
    #[serde(default)]
    rootfs: RootFs,
}

#[derive(Deserialize, Default)]
struct RootFs {
    /// Each layer's uncompressed digest, in order.
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
struct RunConfig {
    #[serde(rename = "Env", default)]
    env: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct History {
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    empty_layer: bool,
}

/// One image: a name, its config blob and its layer blobs in order.
struct ImageRef {
    name: String,
    /// Its other names (tags).
    also: Vec<String>,
    config: String,
    /// (blob path, digest where the archive gives it)
    layers: Vec<(String, Option<String>)>,
    /// The descriptors (indexes, then the manifest) whose names are the image's.
    named_by: Vec<String>,
}

impl ImageRef {
    /// How findings name it: its name, and its other names after it.
    fn label(&self) -> String {
        match self.also.len() {
            0 => self.name.clone(),
            1..=3 => format!("{} (also {})", self.name, self.also.join(", ")),
            n => format!(
                "{} (also {} and {} more)",
                self.name,
                self.also[..3].join(", "),
                n - 3
            ),
        }
    }
}

fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

fn short(digest: &str) -> String {
    let (algo, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    format!("{algo}:{}", &hex[..hex.len().min(12)])
}

impl Blobs {
    /// The JSON document `name`, or why there is none: missing, or past the cap (then a
    /// problem, once: a manifest, index or config that large was built to exhaust).
    fn doc(&self, name: &str, what: &str, problems: &mut Vec<Problem>) -> Option<&[u8]> {
        let name = self.real(name);
        if let Some(d) = self.json.get(name) {
            return Some(d);
        }
        if let Some(size) = self.oversized.get(name)
            && !problems.iter().any(|p| p.member.as_deref() == Some(name))
        {
            problems.push(Problem::new(
                ProblemKind::Exhausting,
                Some(name),
                format!(
                    "{what} of {size} bytes, past the {}-byte cap (real ones are a few kilobytes): not read",
                    self.max_json
                ),
            ));
        }
        None
    }
}

/// The images the blobs describe, each manifest once, and what was wrong with how they are
/// described.
fn images(blobs: &Blobs) -> Result<(Vec<ImageRef>, Vec<Problem>), String> {
    let has = |name: &str| blobs.json.contains_key(name) || blobs.oversized.contains_key(name);
    match (has("manifest.json"), has("index.json")) {
        (true, true) => both_images(blobs),
        (true, false) => docker_images(blobs),
        _ => oci_images(blobs),
    }
}

/// The loader that reads each document, for messages.
const DOCKER_LOADER: &str = "docker's own loader reads `manifest.json`";
const OCI_LOADER: &str =
    "containerd (docker with the containerd image store, nerdctl, ctr) reads `index.json`";

/// The images of a tarball that is both a `docker save` and an OCI archive (as Docker 25 and
/// later write them): docker's loader reads `manifest.json`, containerd reads `index.json`
/// whenever `oci-layout` is there. Every image either leads to is judged (a layer both name is
/// judged once); when they lead to different images, that is a problem of its own: someone
/// built a tarball that loads differently in different runtimes.
fn both_images(blobs: &Blobs) -> Result<(Vec<ImageRef>, Vec<Problem>), String> {
    let (docker, oci) = match (docker_images(blobs), oci_images(blobs)) {
        (Err(d), Err(o)) => return Err(format!("{d}; {o}")),
        (Ok(d), Err(o)) => {
            let mut problems = d.1.clone();
            problems.push(Problem::new(
                ProblemKind::Corrupt,
                Some("index.json"),
                format!("{o}: {OCI_LOADER}; judged by `manifest.json` alone"),
            ));
            return Ok((d.0, problems));
        }
        (Err(d), Ok(o)) => {
            let mut problems = o.1.clone();
            problems.push(Problem::new(
                ProblemKind::Corrupt,
                Some("manifest.json"),
                format!("{d}: {DOCKER_LOADER}; judged by `index.json` alone"),
            ));
            return Ok((o.0, problems));
        }
        (Ok(d), Ok(o)) => (d, o),
    };
    let (mut out, mut problems) = docker;
    problems.extend(oci.1);
    // an image is its config and its layers in order, whatever it is called
    let key = |i: &ImageRef| -> (String, Vec<String>) {
        (
            i.config.trim_start_matches("./").to_owned(),
            i.layers
                .iter()
                .map(|(b, _)| b.trim_start_matches("./").to_owned())
                .collect(),
        )
    };
    let in_docker: HashSet<_> = out.iter().map(key).collect();
    let in_oci: HashSet<_> = oci.0.iter().map(key).collect();
    let mut only_docker = Vec::new();
    for image in &mut out {
        if !in_oci.contains(&key(image)) {
            only_docker.push(format!("`{}`", crate::finding::excerpt(&image.name, 80)));
            image.name.push_str(" (manifest.json)");
        }
    }
    let mut only_oci = Vec::new();
    for mut image in oci.0 {
        if in_docker.contains(&key(&image)) {
            continue;
        }
        only_oci.push(format!("`{}`", crate::finding::excerpt(&image.name, 80)));
        image.name.push_str(" (index.json)");
        out.push(image);
    }
    if !only_docker.is_empty() || !only_oci.is_empty() {
        let list = |names: &[String]| match names.len() {
            0 => "none".to_owned(),
            1..=4 => names.join(", "),
            n => format!("{} and {} more", names[..4].join(", "), n - 4),
        };
        problems.push(Problem::new(
            ProblemKind::Ambiguous,
            Some("index.json"),
            format!(
                "`manifest.json` and `index.json` lead to different images (only in `manifest.json`: {}; only in `index.json`: {}): {DOCKER_LOADER}, {OCI_LOADER}, so the tarball loads differently in each; every image either leads to was judged",
                list(&only_docker),
                list(&only_oci)
            ),
        ));
    }
    Ok((out, problems))
}

/// The images of a `docker save` manifest.
fn docker_images(blobs: &Blobs) -> Result<(Vec<ImageRef>, Vec<Problem>), String> {
    let mut problems = Vec::new();
    let Some(m) = blobs.doc("manifest.json", "manifest.json", &mut problems) else {
        return Ok((Vec::new(), problems));
    };
    let manifests: Vec<SaveManifest> = serde_json::from_slice(m)
        .map_err(|e| format!("manifest.json is not a docker save manifest: {e}"))?;
    let mut seen = HashSet::new();
    let mut repeated = 0usize;
    let mut out = Vec::new();
    for m in manifests {
        if !seen.insert((m.config.clone(), m.layers.clone())) {
            repeated += 1;
            continue;
        }
        let digest_of = |p: &str| {
            p.strip_prefix("blobs/sha256/")
                .map(|h| format!("sha256:{h}"))
                .unwrap_or_else(|| format!("sha256:{}", p.split('/').next().unwrap_or(p)))
        };
        let mut tags = m.repo_tags.unwrap_or_default().into_iter();
        out.push(ImageRef {
            name: tags
                .next()
                .unwrap_or_else(|| format!("image {}", short(&digest_of(&m.config)))),
            also: tags.collect(),
            // a layer is named by its digest where the archive names it so; else (a classic
            // save's `<v1 id>/layer.tar`) by the config's diff id
            layers: m
                .layers
                .iter()
                .map(|l| {
                    (
                        l.clone(),
                        l.strip_prefix("blobs/sha256/")
                            .map(|h| format!("sha256:{h}")),
                    )
                })
                .collect(),
            config: m.config,
            named_by: Vec::new(),
        });
    }
    if repeated > 0 {
        problems.push(Problem::new(
            ProblemKind::Truncated,
            Some("manifest.json"),
            format!("{repeated} entries repeat an image listed before: each image judged once"),
        ));
    }
    Ok((out, problems))
}

/// The images an OCI `index.json` leads to, through nested indexes.
fn oci_images(blobs: &Blobs) -> Result<(Vec<ImageRef>, Vec<Problem>), String> {
    let mut problems = Vec::new();
    let Some(index) = blobs.doc("index.json", "index.json", &mut problems) else {
        return if problems.is_empty() {
            Err("no manifest.json or index.json".into())
        } else {
            Ok((Vec::new(), problems))
        };
    };
    let index: OciIndex = serde_json::from_slice(index)
        .map_err(|e| format!("index.json is not an OCI index: {e}"))?;
    let mut out = Vec::new();
    // (descriptor, depth, the indexes it was reached through, the name the nearest of them
    // gives: an image index's manifests are named by the descriptor that names the index)
    let mut todo: Vec<(OciDescriptor, usize, Vec<String>, Option<String>)> = index
        .manifests
        .into_iter()
        .rev()
        .map(|d| (d, 0, Vec::new(), None))
        .collect();
    let mut judged: HashSet<String> = HashSet::new();
    // every name each manifest or index is given (tags of one image are one image)
    let mut names_of: HashMap<String, Vec<String>> = HashMap::new();
    let mut repeated = 0usize;
    let mut absent = 0usize;
    while let Some((desc, depth, path, named)) = todo.pop() {
        let given = desc
            .annotations
            .get("io.containerd.image.name")
            .or_else(|| desc.annotations.get("org.opencontainers.image.ref.name"))
            .cloned();
        let mut new_name = false;
        if let Some(n) = &given {
            let known = names_of.entry(desc.digest.clone()).or_default();
            if !known.contains(n) {
                known.push(n.clone());
                new_name = true;
            }
        }
        // a name given to an image index is each of its platforms' (told apart by digest)
        let name = given.or_else(|| named.map(|n| format!("{n}@{}", short(&desc.digest))));
        if path.contains(&desc.digest) {
            let at = blob_path(&desc.digest);
            if problems
                .iter()
                .any(|p| p.member.as_deref() == Some(at.as_str()))
            {
                continue;
            }
            problems.push(Problem::new(
                ProblemKind::Repeated,
                Some(&blob_path(&desc.digest)),
                format!(
                    "index {} refers back to itself through {} nested indexes: a cycle, not followed",
                    short(&desc.digest),
                    path.len()
                ),
            ));
            continue;
        }
        if !judged.insert(desc.digest.clone()) {
            // another tag of an image listed before is that image: a name, not a repeat
            if !new_name {
                repeated += 1;
            }
            continue;
        }
        if desc.runs_nowhere() {
            continue;
        }
        let what = if is_index(&desc.media_type) {
            "an index"
        } else {
            "a manifest"
        };
        let Some(doc) = blobs.doc(&blob_path(&desc.digest), what, &mut problems) else {
            if blobs.oversized.contains_key(&blob_path(&desc.digest)) {
                continue;
            }
            if depth > 0 {
                // an image index saved for one platform names the others' manifests too
                absent += 1;
                continue;
            }
            return Err(format!(
                "blob {} named by the index is missing",
                desc.digest
            ));
        };
        if is_index(&desc.media_type) {
            if depth + 1 >= MAX_INDEX_DEPTH {
                problems.push(Problem::new(
                    ProblemKind::Exhausting,
                    Some(&blob_path(&desc.digest)),
                    format!(
                        "indexes nested {} deep, past the limit of {MAX_INDEX_DEPTH} (real ones nest once): not followed",
                        depth + 1
                    ),
                ));
                continue;
            }
            match serde_json::from_slice::<OciIndex>(doc) {
                Ok(inner) => {
                    let mut through = path.clone();
                    through.push(desc.digest.clone());
                    todo.extend(inner.manifests.into_iter().rev().map(|d| {
                        let named = name
                            .as_ref()
                            .map(|n| n.split_once('@').map_or(n.as_str(), |(n, _)| n).to_owned());
                        (d, depth + 1, through.clone(), named)
                    }));
                }
                Err(e) => problems.push(Problem::new(
                    ProblemKind::Corrupt,
                    Some(&blob_path(&desc.digest)),
                    format!("not an OCI index: {e}"),
                )),
            }
            continue;
        }
        let manifest: OciManifest = serde_json::from_slice(doc)
            .map_err(|e| format!("blob {} is not an OCI manifest: {e}", desc.digest))?;
        out.push(ImageRef {
            name: name.unwrap_or_else(|| format!("image {}", short(&desc.digest))),
            also: Vec::new(),
            config: blob_path(&manifest.config.digest),
            layers: manifest
                .layers
                .iter()
                .map(|l| (blob_path(&l.digest), Some(l.digest.clone())))
                .collect(),
            named_by: path.iter().chain([&desc.digest]).cloned().collect(),
        });
    }
    // every other name of the image, of the manifest or of an index leading to it
    for image in &mut out {
        for digest in std::mem::take(&mut image.named_by) {
            for n in names_of.get(&digest).into_iter().flatten() {
                if !image.name.starts_with(n.as_str()) && !image.also.contains(n) {
                    image.also.push(n.clone());
                }
            }
        }
    }
    if repeated > 0 {
        problems.push(Problem::new(
            ProblemKind::Truncated,
            Some("index.json"),
            format!(
                "{repeated} descriptors repeat a manifest or index listed before: each judged once"
            ),
        ));
    }
    if absent > 0 {
        problems.push(Problem::new(
            ProblemKind::Truncated,
            Some("index.json"),
            format!(
                "{absent} manifests named by a nested index are not in the archive (platforms not saved): no runtime loads them, not judged"
            ),
        ));
    }
    Ok((out, problems))
}

fn is_index(media_type: &str) -> bool {
    media_type.contains("index") || media_type.contains("manifest.list")
}

/// Whether a tar is a root filesystem: it holds `etc/os-release` or `usr/lib/os-release`, as
/// every distribution's (distroless and busybox images' too) does.
pub fn is_root_filesystem(listing: &Listing) -> bool {
    listing.members.iter().any(|m| {
        m.path.as_deref().is_some_and(|p| {
            p == Path::new("etc/os-release") || p == Path::new("usr/lib/os-release")
        })
    })
}

/// A root filesystem tar (`docker export`, `tar -C / -c .`) as an image of one layer: its
/// links resolve inside it, as a runtime that imports it resolves them.
pub fn root_filesystem(label: &str, listing: Listing, opts: &OpenOptions) -> Vec<Opened> {
    let mut blobs = Blobs::default();
    let manifest = serde_json::json!([{
        "Config": "config.json",
        "RepoTags": ["root filesystem"],
        "Layers": ["rootfs"],
    }]);
    let config = serde_json::json!({"history": [{"created_by": "the root filesystem archive"}]});
    for (name, doc) in [("manifest.json", manifest), ("config.json", config)] {
        blobs.json.insert(
            name.into(),
            serde_json::to_vec(&doc).expect("JSON serialises"),
        );
    }
    blobs.layers.insert("rootfs".into(), listing);
    assemble(label, blobs, opts)
}

/// One image of a container engine's store ([`super::store`]): its config (named by the image
/// id) and its layers, each a directory read into a listing (with its diff id), assembled as an
/// image archive's are — the same history lines, layer names and whiteouts. `names` are its
/// references, the first naming it.
pub(crate) fn assemble_layers(
    label: &str,
    names: Vec<String>,
    id: &str,
    config: Vec<u8>,
    layers: Vec<(String, Listing)>,
    opts: &OpenOptions,
) -> Vec<Opened> {
    let mut blobs = Blobs::default();
    let manifest = serde_json::json!([{
        "Config": blob_path(id),
        "RepoTags": names,
        "Layers": layers.iter().map(|(d, _)| blob_path(d)).collect::<Vec<_>>(),
    }]);
    blobs.json.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("JSON serialises"),
    );
    blobs.json.insert(blob_path(id), config);
    for (digest, listing) in layers {
        blobs.layers.entry(blob_path(&digest)).or_insert(listing);
    }
    assemble(label, blobs, opts)
}

/// An image's config and its layers (diff id and listing), bottom first.
pub(crate) type Layers = (Vec<u8>, Vec<(String, Listing)>);

/// One image of `blobs` taken apart: its config and its layers (diff id, listing), bottom
/// first — the image whose layers' diff ids `pick` accepts (of a multi-platform index, the
/// platform a container's snapshot was made from). A store's container puts its writable layer
/// on top of them ([`assemble_layers`]). A layer listed twice keeps its listing where it is
/// listed first, and is empty where again.
pub(crate) fn image_layers(
    mut blobs: Blobs,
    pick: impl Fn(&[String]) -> bool,
) -> Result<Layers, String> {
    let (images, _) = images(&blobs)?;
    for image in &images {
        let Some(bytes) = blobs.json.get(blobs.real(&image.config)).cloned() else {
            continue;
        };
        let Ok(config) = serde_json::from_slice::<ImageConfig>(&bytes) else {
            continue;
        };
        let diff_ids = config.rootfs.diff_ids;
        if !pick(&diff_ids) {
            continue;
        }
        if diff_ids.len() != image.layers.len() {
            return Err(format!(
                "its config lists {} layers, its manifest {}",
                diff_ids.len(),
                image.layers.len()
            ));
        }
        let mut layers = Vec::new();
        for ((blob, _), diff) in image.layers.iter().zip(diff_ids) {
            let real = blobs.real(blob).to_owned();
            let listing = match blobs.layers.remove(&real) {
                Some(l) => l,
                None if layers.iter().any(|(d, _)| d == &diff) => Listing::default(),
                None => return Err(format!("layer {diff} is missing or not a tar archive")),
            };
            layers.push((diff, listing));
        }
        return Ok((bytes, layers));
    }
    Err("no image in the store has the layers its snapshot was made from".into())
}

/// Applies each image's layers into a tree.
pub fn assemble(label: &str, mut blobs: Blobs, opts: &OpenOptions) -> Vec<Opened> {
    let fail = |why: String, problems: &[Problem]| {
        let mut failed = Opened::with_label(label, opts);
        failed.add_problems(problems);
        failed.diagnostics.push(Diagnostic::incomplete(
            label,
            format!("not a readable image: {why}"),
        ));
        vec![failed]
    };
    let (images, problems) = match images(&blobs) {
        Ok(i) => i,
        Err(why) => return fail(why, &[]),
    };
    if images.is_empty() {
        let what = if blobs.json.contains_key("manifest.json") {
            "manifest.json lists no image"
        } else {
            "index.json leads to no image manifest"
        };
        return fail(what.into(), &problems);
    }
    // what the layers and documents hold is held until the last image's tree is judged
    let mut held = std::mem::take(&mut blobs.held);
    for listing in blobs.layers.values_mut() {
        held.absorb(std::mem::take(&mut listing.held));
    }
    let held = Arc::new(held);
    let mut read_problems = std::mem::take(&mut blobs.problems);
    read_problems.extend(problems);
    if !blobs.oversized.is_empty() {
        // those an image names are findings of their own
        let named: HashSet<&str> = read_problems
            .iter()
            .filter_map(|p| p.member.as_deref())
            .chain(images.iter().map(|i| i.config.as_str()))
            .collect();
        let unnamed = blobs
            .oversized
            .keys()
            .filter(|k| !named.contains(k.as_str()))
            .count();
        if unnamed > 0 {
            read_problems.push(Problem::new(
                ProblemKind::Truncated,
                None,
                format!(
                    "{unnamed} JSON documents past the {}-byte cap that no manifest names were not read",
                    blobs.max_json
                ),
            ));
        }
    }
    // a layer shared by images (or listed twice) is judged once: its archive problems and
    // nested archives reported with the first image that has it
    let mut layers_judged: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for (n, image) in images.iter().enumerate() {
        let tree_label = format!("{label} › {}", image.label());
        let mut opened = Opened::with_label(&tree_label, opts);
        opened.judge_every_file = false;
        opened.held.push(Arc::clone(&held));
        if n == 0 {
            opened.add_problems_as(label, &read_problems);
        }
        let mut doc_problems = Vec::new();
        let config_doc = blobs.doc(&image.config, "an image config", &mut doc_problems);
        // the image (of one platform) is its config's digest: what a container of a store is
        // told apart from
        opened.image_of = config_doc.map(|c| format!("sha256:{}", crate::fs::read::sha256_hex(c)));
        let config: ImageConfig = config_doc
            .and_then(|c| serde_json::from_slice(c).ok())
            .unwrap_or_default();
        opened.add_problems_as(label, &doc_problems);
        opened.variables = crate::discovery::variables::image(
            config.config.env.as_deref().unwrap_or_default(),
            Path::new(&tree_label),
        );
        // the history's non-empty entries are the layers, in order — when there are as many
        // of them (a base image from another tool may leave layers out: then none is named,
        // rather than every later one named wrong)
        let history: Vec<&str> = config
            .history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.as_str())
            .collect();
        let history_lines_up = history.len() == image.layers.len();
        // a reproducible build's zero time (the epoch, Go's year 1) says nothing: none
        let created: Vec<Option<crate::times::Timestamp>> = config
            .history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| {
                h.created
                    .as_deref()
                    .and_then(|c| crate::times::Timestamp::parse(c).ok())
            })
            .map(|t| t.filter(|t| t.secs() > 0))
            .collect();
        if image.layers.len() > MAX_LAYERS {
            let unique: HashSet<&str> = image.layers.iter().map(|(b, _)| b.as_str()).collect();
            opened.add_problems_as(
                label,
                &[Problem::new(
                    ProblemKind::Repeated,
                    None,
                    format!(
                        "`{}` lists {} layers ({} distinct), more than any runtime mounts ({MAX_LAYERS}): each distinct layer applied once",
                        image.name,
                        image.layers.len(),
                        unique.len()
                    ),
                )],
            );
        }
        // a layer listed twice is applied where it is listed last: what it writes is what
        // the image has
        let last_at: HashMap<&str, usize> = image
            .layers
            .iter()
            .enumerate()
            .map(|(i, (b, _))| (b.as_str(), i))
            .collect();
        for (i, (blob, digest)) in image.layers.iter().enumerate() {
            if last_at.get(blob.as_str()) != Some(&i) {
                continue;
            }
            let digest = digest
                .as_deref()
                .or(config.rootfs.diff_ids.get(i).map(String::as_str));
            let layer_label = match digest {
                Some(d) => format!("layer {} {}", i + 1, short(d)),
                None => format!("layer {}", i + 1),
            };
            let blob = blobs.real(blob);
            let Some(listing) = blobs.layers.get(blob) else {
                opened.diagnostics.push(Diagnostic::incomplete(
                    format!("{tree_label} › {layer_label}"),
                    "layer blob missing or not a tar archive: the image was judged without it",
                ));
                continue;
            };
            if layers_judged.insert(blob) {
                opened.add_problems_as(
                    &format!("{tree_label} › {layer_label}"),
                    &listing
                        .problems
                        .iter()
                        .filter(|p| p.kind != archive::ProblemKind::Duplicate)
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                opened.nest_members(&format!("{tree_label} › {layer_label}"), listing, opts);
            }
            let shown = format!("{tree_label} › {layer_label}");
            let origin = opened.tree.add_origin(Origin {
                label: layer_label,
                note: Some(match history.get(i).filter(|_| history_lines_up) {
                    Some(h) => format!(
                        "layer {} was created by: {}",
                        i + 1,
                        crate::finding::excerpt(h.trim(), 160)
                    ),
                    None => format!(
                        "layer {}: the image's history has {} entries for {} layers, so which one created it is not known",
                        i + 1,
                        history.len(),
                        image.layers.len()
                    ),
                }),
                created: created.get(i).copied().flatten().filter(|_| history_lines_up),
            });
            for why in apply_layer(&mut opened.tree, listing, origin) {
                opened
                    .diagnostics
                    .push(Diagnostic::incomplete(shown.clone(), why));
            }
        }
        let found = crate::discovery::discover(
            &opened.tree,
            &[PathBuf::from("/")],
            crate::discovery::Depth::All,
        );
        opened.diagnostics.extend(found.diagnostics);
        opened.envs = found.environments;
        out.push(opened);
    }
    out
}

/// The node a hard link's `target` names, found as runtimes find it (containerd and moby open
/// the target's directory inside the root, following symlinks there, and link its last
/// component without following it): a target reached through a symlinked directory is found,
/// a target that is a symlink is that symlink.
fn link_target<'t>(tree: &'t MemTree, target: &Path) -> Option<&'t Node> {
    tree.node(&placed(tree, &Path::new("/").join(target)))
}

/// Where a layer's `path` lands in the tree: its directory resolved inside the tree (a
/// layer's entry under a symlinked directory is written where the symlink leads, as runtimes
/// write it), its last component as it is.
fn placed(tree: &MemTree, path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => tree
            .resolve(dir)
            .map_or_else(|_| path.to_path_buf(), |dir| dir.join(name)),
        _ => path.to_path_buf(),
    }
}

/// Applies one layer: opaque directories first, then whiteouts, then the layer's entries.
/// Returns what could not be placed (a hard link to nothing), one line each.
pub(crate) fn apply_layer(tree: &mut MemTree, listing: &Listing, origin: usize) -> Vec<String> {
    let mut unplaced = Vec::new();
    let paths = listing
        .members
        .iter()
        .filter_map(|m| m.path.as_ref().map(|p| (m, Path::new("/").join(p))));
    // a tar's whiteouts are its `.wh.` names; an overlayfs directory's, the members marked so
    let marked = |m: &archive::Member, kind: &str| matches!(m.entry, Entry::Other(k) if k == kind);
    let is_opaque = |m: &archive::Member, path: &Path| {
        if listing.marked_whiteouts {
            marked(m, archive::OPAQUE)
        } else {
            path.file_name().is_some_and(|n| n == ".wh..wh..opq")
        }
    };
    let is_whiteout = |m: &archive::Member, path: &Path| {
        if listing.marked_whiteouts {
            marked(m, archive::WHITEOUT) || marked(m, archive::OPAQUE)
        } else {
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".wh."))
        }
    };
    for (m, path) in paths.clone() {
        if is_opaque(m, &path)
            && let Some(dir) = path.parent()
        {
            let dir = tree.resolve(dir).unwrap_or_else(|_| dir.to_path_buf());
            tree.clear_dir(&dir);
        }
    }
    for (m, path) in paths.clone() {
        if is_whiteout(m, &path)
            && !is_opaque(m, &path)
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
            && let Some(hidden) = name.strip_prefix(".wh.")
            && hidden != ".wh..opq"
            && let Some(dir) = path.parent()
        {
            let hidden = placed(tree, &dir.join(hidden));
            tree.remove(&hidden);
        }
    }
    for (m, path) in paths {
        if is_whiteout(m, &path) {
            continue;
        }
        let node = match &m.entry {
            Entry::File { data, size } => Node::File(MemFile {
                origin: Some(origin),
                again: m.again.clone(),
                mtime: m.mtime,
                ..MemFile::from_member(
                    data.as_ref(),
                    *size,
                    "content not kept: an image layer keeps start-up files, the modules they import and metadata, and the rest only with --deep while the memory budget allows (raise --max-memory)",
                )
            }),
            Entry::Dir => Node::Dir,
            Entry::Symlink(target) => Node::Symlink(target.clone()),
            Entry::Hardlink(target) => match link_target(tree, target) {
                Some(Node::File(f)) => Node::File(MemFile {
                    origin: Some(origin),
                    ..f.clone()
                }),
                // `linkat` without following: the new name is the symlink (or device) itself
                Some(node @ (Node::Symlink(_) | Node::Other(_))) => node.clone(),
                found => {
                    let why = if found.is_some() {
                        "a directory, which cannot be hard linked"
                    } else {
                        "not in this layer or those before it"
                    };
                    unplaced.push(format!(
                        "hard link `{}` to `{}`: the target is {why}; not placed (a runtime refuses to unpack the layer)",
                        path.display(),
                        Path::new("/").join(target).display()
                    ));
                    Node::Other("hard link to a missing file")
                }
            },
            Entry::Other(kind) => Node::Other(kind),
        };
        let at = placed(tree, &path);
        tree.insert(&at, node);
    }
    unplaced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, entry: Entry) -> archive::Member {
        archive::Member {
            name: name.to_owned(),
            path: Some(PathBuf::from(name)),
            entry,
            again: None,
            mtime: None,
        }
    }

    fn kept(data: &[u8]) -> Entry {
        Entry::File {
            data: Some(Arc::new(data.to_vec())),
            size: data.len() as u64,
        }
    }

    #[test]
    fn a_hard_link_is_found_as_runtimes_find_it_and_one_to_nothing_is_said() {
        let sp = "usr/local/lib/python3.12/site-packages";
        let at = |p: &str| PathBuf::from(format!("/{sp}/{p}"));
        let listing = Listing {
            members: vec![
                member(&format!("{sp}/_payload.py"), kept(b"payload\n")),
                // a directory that is a symlink inside the layer, and a symlink to a file
                member(&format!("{sp}/alias"), Entry::Symlink(".".into())),
                member(&format!("{sp}/lnk"), Entry::Symlink("_payload.py".into())),
                member(
                    &format!("{sp}/hookpkg/__init__.py"),
                    Entry::Hardlink(format!("./{sp}/alias/alias/_payload.py").into()),
                ),
                member(
                    &format!("{sp}/viasym.py"),
                    Entry::Hardlink(format!("{sp}/lnk").into()),
                ),
                member(
                    &format!("{sp}/gone.py"),
                    Entry::Hardlink(format!("{sp}/nothing.py").into()),
                ),
                member(&format!("{sp}/dir.py"), Entry::Hardlink(sp.into())),
                // a file written through the symlinked directory lands where it leads
                member(&format!("{sp}/alias/_payload.py"), kept(b"again\n")),
            ],
            ..Listing::default()
        };
        let mut tree = MemTree::new("t", 1 << 20, Arc::default());
        let unplaced = apply_layer(&mut tree, &listing, 0);
        // through the symlinked directory: the payload, its content and this layer as origin
        match tree.node(&at("hookpkg/__init__.py")) {
            Some(Node::File(f)) => {
                assert_eq!(
                    f.data.as_deref().ok().map(Vec::as_slice),
                    Some(&b"payload\n"[..])
                );
                assert_eq!(f.origin, Some(0));
            }
            other => panic!("hookpkg/__init__.py: {other:?}"),
        }
        // to a symlink: the symlink itself, which reads as its target (rewritten below)
        assert!(
            matches!(tree.node(&at("viasym.py")), Some(Node::Symlink(t)) if t == Path::new("_payload.py"))
        );
        let read = tree.read_capped(&at("viasym.py"), 1 << 20).unwrap();
        assert_eq!(read.bytes, b"again\n");
        assert!(matches!(tree.node(&at("alias")), Some(Node::Symlink(_))));
        match tree.node(&at("_payload.py")) {
            Some(Node::File(f)) => {
                assert_eq!(
                    f.data.as_deref().ok().map(Vec::as_slice),
                    Some(&b"again\n"[..])
                );
            }
            other => panic!("_payload.py: {other:?}"),
        }
        // to nothing, or to a directory: not placed, and said with both paths
        assert!(matches!(tree.node(&at("gone.py")), Some(Node::Other(_))));
        assert_eq!(unplaced.len(), 2, "{unplaced:?}");
        assert!(
            unplaced[0].contains(&format!("`/{sp}/gone.py`")),
            "{unplaced:?}"
        );
        assert!(
            unplaced[0].contains(&format!("`/{sp}/nothing.py`")),
            "{unplaced:?}"
        );
        assert!(unplaced[1].contains("a directory"), "{unplaced:?}");
    }

    /// A tarball's documents: a `docker save` manifest of one image with `docker_layer`, an
    /// OCI index leading (through an image index naming a platform not saved and an
    /// attestation) to one with `oci_layer`, both on config `c`.
    fn dual(docker_layer: &str, oci_layer: &str) -> Blobs {
        let d = |n: &str| format!("sha256:{n}");
        let mut blobs = Blobs::default();
        let mut put = |name: String, v: serde_json::Value| {
            blobs.json.insert(name, serde_json::to_vec(&v).unwrap());
        };
        put(
            "manifest.json".into(),
            serde_json::json!([{"Config": "blobs/sha256/c", "RepoTags": ["app:1"], "Layers": [format!("blobs/sha256/{docker_layer}")]}]),
        );
        put(
            "index.json".into(),
            serde_json::json!({"manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d("i"), "annotations": {"io.containerd.image.name": "docker.io/library/app:1"}}]}),
        );
        put(
            "blobs/sha256/i".into(),
            serde_json::json!({"manifests": [
                {"digest": d("m"), "platform": {"os": "linux"}},
                {"digest": d("arm"), "platform": {"os": "linux"}},
                {"digest": d("att"), "platform": {"os": "unknown"}},
            ]}),
        );
        put(
            "blobs/sha256/m".into(),
            serde_json::json!({"config": {"digest": d("c")}, "layers": [{"digest": d(oci_layer)}]}),
        );
        put(
            "blobs/sha256/att".into(),
            serde_json::json!({"config": {"digest": d("c")}, "layers": [{"digest": d("intoto")}]}),
        );
        put("blobs/sha256/c".into(), serde_json::json!({}));
        blobs
    }

    #[test]
    fn a_tarball_that_is_a_docker_save_and_an_oci_archive_is_judged_by_both() {
        // as Docker 25 writes it: both lead to the one image, judged once, nothing to say
        // but the platform not saved
        let (found, problems) = images(&dual("l", "l")).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "app:1");
        assert!(
            problems.iter().all(|p| p.kind == ProblemKind::Truncated),
            "{problems:?}"
        );
        assert!(
            problems[0]
                .detail
                .starts_with("1 manifests named by a nested index are not in the archive")
        );
        // each leading to other layers: both judged, and said
        let (found, problems) = images(&dual("clean", "evil")).unwrap();
        let names: Vec<&str> = found.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "app:1 (manifest.json)",
                "docker.io/library/app:1@sha256:m (index.json)"
            ]
        );
        assert_eq!(found[1].layers[0].0, "blobs/sha256/evil");
        let ambiguous: Vec<_> = problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Ambiguous)
            .collect();
        assert_eq!(ambiguous.len(), 1, "{problems:?}");
        assert!(ambiguous[0].detail.contains(
            "only in `manifest.json`: `app:1`; only in `index.json`: `docker.io/library/app:1@sha256:m`"
        ));
    }

    #[test]
    fn a_layout_directory_reads_only_what_index_json_leads_to_each_file_once() {
        let d = tempfile::tempdir().unwrap();
        let sha = d.path().join("blobs/sha256");
        std::fs::create_dir_all(&sha).unwrap();
        let put = |name: &str, data: &[u8]| std::fs::write(sha.join(name), data).unwrap();
        let mut layer = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(5);
        h.set_mode(0o644);
        layer
            .append_data(
                &mut h,
                "usr/lib/python3.12/site-packages/x.pth",
                &b"x\n\n\n\n"[..],
            )
            .unwrap();
        put("aa", &layer.into_inner().unwrap());
        // the layer again under another name the manifest also lists: a hard link, read once
        std::fs::hard_link(sha.join("aa"), sha.join("ab")).unwrap();
        // named by nothing: hard links to the layer, a corrupt gzip, a manifest and an index
        for n in 0..3 {
            std::fs::hard_link(sha.join("aa"), sha.join(format!("f{n}"))).unwrap();
        }
        put("gz", b"\x1f\x8b\x08\x00garbage");
        put(
            "m2",
            br#"{"config": {"digest": "sha256:c"}, "layers": [{"digest": "sha256:gz"}]}"#,
        );
        put(
            "m",
            br#"{"config": {"digest": "sha256:c"}, "layers": [{"digest": "sha256:aa"}, {"digest": "sha256:ab"}, {"digest": "sha256:../../etc"}]}"#,
        );
        put("i", br#"{"manifests": [{"digest": "sha256:m"}, {"digest": "sha256:i", "mediaType": "application/vnd.oci.image.index.v1+json"}]}"#);
        put("c", b"{}");
        std::fs::write(
            d.path().join("index.json"),
            br#"{"manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:i"}]}"#,
        )
        .unwrap();
        let disk = Disk::open(d.path(), false, 1 << 20, Arc::default()).unwrap();
        let blobs = read_layout_dir(&disk, d.path(), &Limits::new(1 << 20)).unwrap();
        let mut layers: Vec<&String> = blobs.layers.keys().collect();
        layers.sort();
        assert_eq!(layers, ["blobs/sha256/aa"]);
        assert_eq!(blobs.real("blobs/sha256/ab"), "blobs/sha256/aa");
        let mut json: Vec<&String> = blobs.json.keys().collect();
        json.sort();
        assert_eq!(
            json,
            [
                "blobs/sha256/c",
                "blobs/sha256/i",
                "blobs/sha256/m",
                "index.json"
            ]
        );
        let notes: Vec<&str> = blobs.problems.iter().map(|p| p.detail.as_str()).collect();
        assert_eq!(
            notes,
            [
                "5 blobs that no manifest reached from `index.json` names were not read: no runtime loads them"
            ]
        );
        // and the image has both layers, from the one listing
        let (found, _) = images(&blobs).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].layers.len(), 3);
    }

    #[test]
    fn a_default_scan_keeps_what_start_up_and_the_record_check_read_and_deep_keeps_all() {
        let sp = "usr/local/lib/python3.12/site-packages";
        for (path, default, deep) in [
            (format!("{sp}/evil.pth"), true, true),
            (format!("{sp}/_hook.py"), true, true),
            (format!("{sp}/pkg/__init__.py"), true, true),
            (format!("{sp}/sitecustomize/__init__.py"), true, true),
            (format!("{sp}/x-1.0.dist-info/RECORD"), true, true),
            (format!("{sp}/x-1.0.dist-info/METADATA"), true, true),
            (format!("{sp}/x.start"), true, true),
            (format!("{sp}/pkg/module.py"), false, true),
            (format!("{sp}/torch/lib/libtorch_cpu.so"), false, true),
            ("usr/lib/python3.12/os.py".into(), true, true),
            ("usr/lib/python3.12/sitecustomize.py".into(), true, true),
            ("usr/lib/python3.12/encodings/utf_8.py".into(), true, true),
            ("usr/lib/python3.12/test/test_os.py".into(), false, true),
            (
                "root/.cache/pip/http-v2/a/b/c/d/e/f.body".into(),
                true,
                true,
            ),
            ("srv/dist/x-1.0-py3-none-any.whl".into(), true, true),
            ("opt/venv/pyvenv.cfg".into(), true, true),
            ("etc/passwd".into(), false, false),
            ("usr/share/doc/x/README".into(), false, false),
        ] {
            let p = Path::new(&path);
            assert_eq!(python_relevant(p, false), default, "{path} (default)");
            assert_eq!(python_relevant(p, true), deep, "{path} (--deep)");
        }
    }
}
