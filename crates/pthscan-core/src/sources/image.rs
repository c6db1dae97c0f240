//! Container images without a container engine: `docker save` tarballs and OCI image layouts
//! (a directory or a tar of one). Layers (plain, gzip or zstd tars) are applied in order with
//! whiteouts (`.wh.NAME`) and opaque directories (`.wh..wh..opq`) into one tree; each file
//! remembers the layer it came from and the history line that created that layer. Only the
//! files where Python lives keep their content (site directories, `pythonX.Y` directories,
//! `pyvenv.cfg`, package caches, nested archives); every other file is known by name and size.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::archive::{self, Entry, Limits, Listing};
use super::memory::{MemFile, MemTree, Node, Origin};
use super::{OpenOptions, Opened};
use crate::diagnostic::Diagnostic;

/// JSON blobs larger than this are not manifests or configs.
const MAX_JSON: u64 = 4 << 20;

/// The blobs of an image archive or layout: small JSON documents and layer listings, by path.
#[derive(Default)]
pub struct Blobs {
    json: HashMap<String, Vec<u8>>,
    layers: HashMap<String, Listing>,
    problems: Vec<(String, String)>,
}

impl Blobs {
    /// Whether these are an image's: a `docker save` manifest or an OCI index.
    pub fn is_image(&self) -> bool {
        self.json.contains_key("manifest.json") || self.json.contains_key("index.json")
    }
}

/// Whether a file inside an image keeps its content: where Python lives.
pub fn python_relevant(path: &Path, _size: u64) -> bool {
    let text = path.to_string_lossy();
    path.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c.starts_with("python")
            || c == "site-packages"
            || c == "dist-packages"
            || c == "pip"
            || c == "uv"
    }) || text.ends_with("pyvenv.cfg")
        || super::artifact::has_archive_name(&*text)
}

/// Reads the members of an image archive (a `docker save` or OCI tar) from a stream, listing
/// each layer as it passes.
pub fn read_outer_tar(reader: impl Read, limits: &Limits) -> Result<Blobs, String> {
    let mut blobs = Blobs::default();
    let mut outer = tar::Archive::new(reader);
    let entries = outer
        .entries()
        .map_err(|e| format!("not a readable tar archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("archive unreadable: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .to_owned();
        let size = entry.size();
        let mut head = Vec::with_capacity(512);
        (&mut entry)
            .take(512)
            .read_to_end(&mut head)
            .map_err(|e| format!("member `{name}` unreadable: {e}"))?;
        if size <= MAX_JSON && (head.first() == Some(&b'{') || head.first() == Some(&b'[')) {
            let mut all = head;
            entry
                .read_to_end(&mut all)
                .map_err(|e| format!("member `{name}` unreadable: {e}"))?;
            blobs.json.insert(name, all);
        } else if name == "oci-layout" {
            blobs.json.insert(name, head);
        } else if looks_like_layer(&head) {
            let stream = std::io::Cursor::new(head).chain(&mut entry);
            let listing = archive::read_tar(stream, size, limits, &python_relevant);
            blobs.layers.insert(name, listing);
        }
    }
    Ok(blobs)
}

/// Reads an OCI image layout directory (`oci-layout`, `index.json`, `blobs/`).
pub fn read_layout_dir(dir: &Path, limits: &Limits) -> Result<Blobs, String> {
    let mut blobs = Blobs::default();
    let index = std::fs::read(dir.join("index.json"))
        .map_err(|e| format!("cannot read index.json: {}", crate::fs::io_reason(&e)))?;
    blobs.json.insert("index.json".into(), index);
    for algo in std::fs::read_dir(dir.join("blobs"))
        .map_err(|e| e.to_string())?
        .flatten()
    {
        for blob in std::fs::read_dir(algo.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = format!(
                "blobs/{}/{}",
                algo.file_name().to_string_lossy(),
                blob.file_name().to_string_lossy()
            );
            // regular files only: a FIFO among the blobs must not hang the scan
            let Ok(meta) = std::fs::symlink_metadata(blob.path()) else {
                continue;
            };
            if !meta.is_file() {
                blobs
                    .problems
                    .push((name, "not a regular file, skipped".into()));
                continue;
            }
            let mut file = match std::fs::File::open(blob.path()) {
                Ok(f) => f,
                Err(e) => {
                    blobs.problems.push((name, crate::fs::io_reason(&e)));
                    continue;
                }
            };
            let mut head = Vec::new();
            let _ = (&mut file).take(512).read_to_end(&mut head);
            if meta.len() <= MAX_JSON && head.first() == Some(&b'{') {
                let mut all = head;
                let _ = file.read_to_end(&mut all);
                blobs.json.insert(name, all);
            } else if looks_like_layer(&head) {
                let stream = std::io::Cursor::new(head).chain(file);
                let listing = archive::read_tar(stream, meta.len(), limits, &python_relevant);
                blobs.layers.insert(name, listing);
            }
        }
    }
    Ok(blobs)
}

fn looks_like_layer(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
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
}

#[derive(Deserialize)]
struct History {
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    empty_layer: bool,
}

/// One image: a name, its config blob and its layer blobs in order.
struct ImageRef {
    name: String,
    config: String,
    layers: Vec<(String, String)>, // (blob path, digest)
}

fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

fn short(digest: &str) -> String {
    let (algo, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    format!("{algo}:{}", &hex[..hex.len().min(12)])
}

/// The images the blobs describe.
fn images(blobs: &Blobs) -> Result<Vec<ImageRef>, String> {
    if let Some(m) = blobs.json.get("manifest.json") {
        let manifests: Vec<SaveManifest> = serde_json::from_slice(m)
            .map_err(|e| format!("manifest.json is not a docker save manifest: {e}"))?;
        return Ok(manifests
            .into_iter()
            .map(|m| {
                let digest_of = |p: &str| {
                    p.strip_prefix("blobs/sha256/")
                        .map(|h| format!("sha256:{h}"))
                        .unwrap_or_else(|| format!("sha256:{}", p.split('/').next().unwrap_or(p)))
                };
                ImageRef {
                    name: m
                        .repo_tags
                        .and_then(|t| t.into_iter().next())
                        .unwrap_or_else(|| format!("image {}", short(&digest_of(&m.config)))),
                    layers: m.layers.iter().map(|l| (l.clone(), digest_of(l))).collect(),
                    config: m.config,
                }
            })
            .collect());
    }
    let index = blobs
        .json
        .get("index.json")
        .ok_or("no manifest.json or index.json")?;
    let index: OciIndex = serde_json::from_slice(index)
        .map_err(|e| format!("index.json is not an OCI index: {e}"))?;
    let mut out = Vec::new();
    let mut todo: Vec<(OciDescriptor, usize)> =
        index.manifests.into_iter().map(|d| (d, 0)).collect();
    while let Some((desc, depth)) = todo.pop() {
        let Some(doc) = blobs.json.get(&blob_path(&desc.digest)) else {
            return Err(format!(
                "blob {} named by the index is missing",
                desc.digest
            ));
        };
        if desc.media_type.contains("index") || desc.media_type.contains("manifest.list") {
            if depth < 2
                && let Ok(inner) = serde_json::from_slice::<OciIndex>(doc)
            {
                todo.extend(inner.manifests.into_iter().map(|d| (d, depth + 1)));
            }
            continue;
        }
        let manifest: OciManifest = serde_json::from_slice(doc)
            .map_err(|e| format!("blob {} is not an OCI manifest: {e}", desc.digest))?;
        out.push(ImageRef {
            name: desc
                .annotations
                .get("io.containerd.image.name")
                .or_else(|| desc.annotations.get("org.opencontainers.image.ref.name"))
                .cloned()
                .unwrap_or_else(|| format!("image {}", short(&desc.digest))),
            config: blob_path(&manifest.config.digest),
            layers: manifest
                .layers
                .iter()
                .map(|l| (blob_path(&l.digest), l.digest.clone()))
                .collect(),
        });
    }
    out.reverse();
    Ok(out)
}

/// Applies each image's layers into a tree.
pub fn assemble(label: &str, mut blobs: Blobs, opts: &OpenOptions) -> Vec<Opened> {
    let images = match images(&blobs) {
        Ok(i) => i,
        Err(why) => {
            let mut failed = Opened::with_label(label, opts);
            failed.diagnostics.push(Diagnostic::incomplete(
                label,
                format!("not a readable image: {why}"),
            ));
            return vec![failed];
        }
    };
    let problems = std::mem::take(&mut blobs.problems);
    let mut out = Vec::new();
    for image in images {
        let tree_label = format!("{label} › {}", image.name);
        let mut opened = Opened::with_label(&tree_label, opts);
        opened.judge_every_file = false;
        for (blob, why) in &problems {
            opened.diagnostics.push(Diagnostic::incomplete(
                format!("{label} › {blob}"),
                why.clone(),
            ));
        }
        let config: ImageConfig = blobs
            .json
            .get(&image.config)
            .and_then(|c| serde_json::from_slice(c).ok())
            .unwrap_or_default();
        let history: Vec<&str> = config
            .history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.as_str())
            .collect();
        for (i, (blob, digest)) in image.layers.iter().enumerate() {
            let layer_label = format!("layer {} {}", i + 1, short(digest));
            let Some(listing) = blobs.layers.get(blob) else {
                opened.diagnostics.push(Diagnostic::incomplete(
                    format!("{tree_label} › {layer_label}"),
                    "layer blob missing or not a tar archive: the image was judged without it",
                ));
                continue;
            };
            let (findings, diagnostics) = crate::detectors::archive::judge(
                &format!("{tree_label} › {layer_label}"),
                &listing
                    .problems
                    .iter()
                    .filter(|p| p.kind != archive::ProblemKind::Duplicate)
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            opened.findings.extend(findings);
            opened.diagnostics.extend(diagnostics);
            opened.nest_members(&format!("{tree_label} › {layer_label}"), listing, opts);
            let origin = opened.tree.add_origin(Origin {
                label: layer_label,
                note: history.get(i).map(|h| {
                    format!(
                        "layer {} was created by: {}",
                        i + 1,
                        crate::finding::excerpt(h.trim(), 160)
                    )
                }),
            });
            apply_layer(&mut opened.tree, listing, origin);
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

/// Applies one layer: opaque directories first, then whiteouts, then the layer's entries.
fn apply_layer(tree: &mut MemTree, listing: &Listing, origin: usize) {
    let paths = listing
        .members
        .iter()
        .filter_map(|m| m.path.as_ref().map(|p| (m, Path::new("/").join(p))));
    for (_, path) in paths.clone() {
        if path.file_name().is_some_and(|n| n == ".wh..wh..opq")
            && let Some(dir) = path.parent()
        {
            tree.clear_dir(dir);
        }
    }
    for (_, path) in paths.clone() {
        if let Some(name) = path.file_name().and_then(|n| n.to_str())
            && let Some(hidden) = name.strip_prefix(".wh.")
            && hidden != ".wh..opq"
            && let Some(dir) = path.parent()
        {
            tree.remove(&dir.join(hidden));
        }
    }
    for (m, path) in paths {
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".wh."))
        {
            continue;
        }
        let node = match &m.entry {
            Entry::File { data, size } => Node::File(MemFile {
                origin: Some(origin),
                ..MemFile::from_member(
                    data.as_ref(),
                    *size,
                    "content not kept: outside the places Python lives",
                )
            }),
            Entry::Dir => Node::Dir,
            Entry::Symlink(target) => Node::Symlink(target.clone()),
            Entry::Hardlink(target) => match tree.node(&Path::new("/").join(target)) {
                Some(Node::File(f)) => Node::File(MemFile {
                    origin: Some(origin),
                    ..f.clone()
                }),
                _ => Node::Other("hard link to a missing file"),
            },
            Entry::Other(kind) => Node::Other(kind),
        };
        tree.insert(&path, node);
    }
}
