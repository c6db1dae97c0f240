//! Container engines' local image stores, read as files — no daemon, no socket, no network:
//! Docker's classic store (`/var/lib/docker`, the overlay2 driver), podman/CRI-O's
//! `containers/storage` (`/var/lib/containers/storage`, the overlay driver) and containerd's
//! (`/var/lib/containerd`: its content store and bbolt metadata, every namespace).
//!
//! A store is listed first (its images, their names, the containers that run them); each image
//! is then opened on its own — its layers, stored as directories, read into listings as a layer
//! tar of the same files would be, and applied in order with their whiteouts into one tree by
//! [`image`](super::image) — and judged before the next is opened, so a store of 500 images
//! holds one image's tree at a time.
//!
//! Every file is opened inside the store's [`Root`] (a link that leaves the store is refused),
//! regular files only; a layer's symlinks are kept as links of the image and resolve inside the
//! image's tree, never on the host. Overlayfs whiteouts (a character device 0/0) are known by
//! their `lstat` metadata alone and never opened.

mod bolt;
pub mod containerd;
pub mod containers;
pub mod docker;

use std::collections::BTreeMap;
use std::io::Read;
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(unix)]
use rustix::fs::{AtFlags, FileType};

#[cfg(unix)]
use super::archive::{self, Entry, Member};
use super::archive::{Limits, Listing};
use super::image::Layers;
#[cfg(unix)]
use super::reread::{OnDisk, Reread};
use super::{OpenOptions, Opened};
use crate::diagnostic::Diagnostic;
use crate::fs::{Kind, ReadError, Root};

/// The places a host keeps its engines' stores, relative to its root.
pub const DEFAULT_STORES: [&str; 5] = [
    "var/lib/docker",
    // current Docker's containerd image store, beside a classic one it moved from
    "var/lib/docker/containerd/daemon",
    "var/lib/containers/storage",
    "var/lib/containerd",
    "var/lib/rancher/k3s/agent/containerd",
];

/// Where Docker keeps images in containerd's layout (its containerd image store, the default of
/// current Docker), inside `/var/lib/docker`.
const DOCKER_CONTAINERD: &str = "containerd/daemon";

/// The directories of a store that hold image layers as directories or snapshots: a walk of a
/// host does not enter them (each is one layer, not the host; the store is read as images).
pub const LAYER_DIRS: [&str; 10] = [
    "var/lib/docker/overlay2",
    "var/lib/docker/vfs",
    "var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.overlayfs",
    "var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.native",
    "var/lib/containers/storage/overlay",
    "var/lib/containers/storage/vfs",
    "var/lib/containerd/io.containerd.snapshotter.v1.overlayfs",
    "var/lib/containerd/io.containerd.snapshotter.v1.native",
    "var/lib/rancher/k3s/agent/containerd/io.containerd.snapshotter.v1.overlayfs",
    "var/lib/rancher/k3s/agent/containerd/io.containerd.snapshotter.v1.native",
];

/// A store's index documents (`repositories.json`, `images.json`) are read up to this size.
const MAX_INDEX: u64 = 64 << 20;

/// Budget bytes reserved for each byte of a JSON document while its parsed form is held.
const PARSED_PER_BYTE: u64 = 32;

/// At most this many containers are listed.
const MAX_CONTAINERS: usize = 100_000;

/// Which engine wrote a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Docker's classic image store (`image/overlay2`, `overlay2/`).
    Docker,
    /// `containers/storage` (podman, CRI-O, buildah).
    Containers,
    /// containerd's content store and metadata.
    Containerd,
}

impl Engine {
    /// How the engine's store is called in messages.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Containers => "containers/storage",
            Engine::Containerd => "containerd",
        }
    }
}

/// A store, open.
#[derive(Debug, Clone)]
pub struct Store {
    /// Its engine.
    pub engine: Engine,
    /// How it is shown.
    pub label: String,
    root: Arc<Root>,
}

/// What the store readers need of an image config: its layers' diff ids, bottom first.
#[derive(serde::Deserialize)]
struct ImageConfig {
    #[serde(default)]
    rootfs: RootFs,
}

#[derive(serde::Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// A container made from an image of a store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Container {
    /// Its name (or its id's head).
    pub name: String,
    /// Whether it runs, where the store says.
    pub running: Option<bool>,
    /// Its writable layer, the directory (in the store) of what changed in it since it
    /// started, where the engine keeps one as a directory beside the image's layers; else why
    /// it is not read.
    pub writable: Result<String, String>,
    /// The variables its processes start with (`KEY=VALUE`), where the engine records them
    /// (Docker: the image's `Env` with `docker run -e` applied); `None`: the image's.
    pub env: Option<Vec<String>>,
    /// The chain id (`sha256:…`) of the image layers its writable layer lies on, where the
    /// engine records it (containerd: its snapshot's parent): of a multi-platform image, the
    /// platform it runs.
    pub base: Option<String>,
}

/// One image of a store, listed: enough to name it and to open it later.
#[derive(Debug, Clone)]
pub struct StoreImage {
    /// The image id (`sha256:…`, the config's digest).
    pub id: String,
    /// Its references (`app:1.0`, `docker.io/library/app@sha256:…`), each once.
    pub names: Vec<String>,
    /// The containers made from it.
    pub containers: Vec<Container>,
    /// What the engine says more of it (containers/storage: the top layer's id; containerd:
    /// the target's media type).
    detail: Option<String>,
}

impl StoreImage {
    /// The note findings in the image carry: which containers run it.
    pub fn containers_note(&self) -> Option<String> {
        if self.containers.is_empty() {
            return None;
        }
        const SHOWN: usize = 5;
        let mut parts: Vec<String> = self
            .containers
            .iter()
            .take(SHOWN)
            .map(|c| match c.running {
                Some(true) => format!("`{}` (running)", c.name),
                Some(false) => format!("`{}` (stopped)", c.name),
                None => format!("`{}`", c.name),
            })
            .collect();
        if self.containers.len() > SHOWN {
            parts.push(format!("and {} more", self.containers.len() - SHOWN));
        }
        Some(format!("the image of containers {}", parts.join(", ")))
    }

    /// Whether `reference` (as a user types it: `app`, `app:1.0`, `docker.io/library/app`,
    /// `app@sha256:…`, an image id or a prefix of 12 or more of its hex digits) names it.
    pub fn answers_to(&self, reference: &str) -> bool {
        let hex = self.id.trim_start_matches("sha256:");
        let asked = reference.trim_start_matches("sha256:");
        if asked.len() >= 12
            && asked.bytes().all(|b| b.is_ascii_hexdigit())
            && hex.starts_with(asked)
        {
            return true;
        }
        // podman names what it builds `localhost/NAME`: `NAME` asks for it too
        let forms = |r: &str| {
            let mut out = vec![normalize(r)];
            out.extend(r.strip_prefix("localhost/").map(normalize));
            out
        };
        let want = forms(reference);
        self.names
            .iter()
            .any(|n| forms(n).iter().any(|have| want.contains(have)))
    }
}

/// A reference in its full form: `app` is `docker.io/library/app:latest`, `me/app:1` is
/// `docker.io/me/app:1`, a name with a registry keeps it.
pub fn normalize(reference: &str) -> String {
    let (name, suffix) = match reference.find('@') {
        Some(at) => (&reference[..at], reference[at..].to_owned()),
        None => {
            let last = reference.rsplit('/').next().unwrap_or(reference);
            match last.rfind(':') {
                Some(c) => {
                    let at = reference.len() - last.len() + c;
                    (&reference[..at], reference[at..].to_owned())
                }
                None => (reference, ":latest".to_owned()),
            }
        }
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        name.to_owned()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{full}{suffix}")
}

/// Which engine's store `dir` (inside `root`) is, by its layout.
pub fn detect(root: &Root, dir: &Path) -> Option<Engine> {
    let is = |rel: &str, kind: Kind| {
        root.stat(&dir.join(rel), false)
            .is_ok_and(|st| st.kind == kind)
    };
    if is("image", Kind::Dir) && (is("overlay2", Kind::Dir) || is("image/overlay2", Kind::Dir)) {
        Some(Engine::Docker)
    } else if is("overlay-images", Kind::Dir) || is("overlay-layers", Kind::Dir) {
        Some(Engine::Containers)
    } else if is("io.containerd.content.v1.content", Kind::Dir)
        || is("io.containerd.metadata.v1.bolt", Kind::Dir)
    {
        Some(Engine::Containerd)
    } else {
        None
    }
}

impl Store {
    /// The store at `dir` (the operator's path, already resolved inside `--root` when given):
    /// every file of it is opened inside it.
    pub fn open(dir: &Path) -> Result<Store, String> {
        let mut root = Root::open(dir, false)
            .map_err(|e| format!("cannot open: {}", crate::fs::io_reason(&e)))?;
        // current Docker keeps its images in containerd's layout under `containerd/daemon`
        // when it has no classic image db: that is the store (reached through no link)
        let real_dir = |rel: &str| {
            root.stat(&root.path().join(rel), false)
                .is_ok_and(|st| st.kind == Kind::Dir)
        };
        if !real_dir("image/overlay2")
            && real_dir("containerd")
            && real_dir(DOCKER_CONTAINERD)
            && detect(&root, &root.path().join(DOCKER_CONTAINERD)) == Some(Engine::Containerd)
        {
            let inner = root.path().join(DOCKER_CONTAINERD);
            root = Root::open(&inner, false).map_err(|e| {
                format!(
                    "cannot open `{DOCKER_CONTAINERD}`: {}",
                    crate::fs::io_reason(&e)
                )
            })?;
        }
        let engine = detect(&root, root.path()).ok_or_else(|| {
            "not a container image store: no Docker (`image/overlay2`), containers/storage (`overlay-images`) or containerd (`io.containerd.content.v1.content`) layout".to_owned()
        })?;
        Ok(Store {
            engine,
            label: crate::pathfmt::display_path(dir),
            root: Arc::new(root),
        })
    }

    /// The directory it was read from (Docker's `containerd/daemon` when `/var/lib/docker`
    /// holds only that).
    pub fn dir(&self) -> &Path {
        self.root.path()
    }

    /// Its images, each once whatever its names, with what listing them met.
    pub fn images(&self, limits: &Limits) -> Result<(Vec<StoreImage>, Vec<Diagnostic>), String> {
        let listed = match self.engine {
            Engine::Docker => docker::images(self, limits),
            Engine::Containers => containers::images(self, limits),
            Engine::Containerd => containerd::images(self, limits),
        };
        let (images, mut notes) = listed?;
        // a Docker that moved to containerd's image store keeps the old classic store beside it
        if self.engine == Engine::Docker {
            let inner = self.root.path().join(DOCKER_CONTAINERD);
            if detect(&self.root, &inner) == Some(Engine::Containerd) {
                notes.push(Diagnostic::incomplete(
                    &self.label,
                    format!(
                        "Docker's containerd image store `{DOCKER_CONTAINERD}` is here too and was not read (only the classic image db was): give `--image-store {}/{DOCKER_CONTAINERD}`",
                        self.label
                    ),
                ));
            }
        }
        // layers read as directories (containerd's images are read from its content store,
        // only its containers' writable layers from snapshot directories)
        let reads_dirs = match self.engine {
            Engine::Containerd => images
                .iter()
                .flat_map(|i| &i.containers)
                .any(|c| c.writable.is_ok()),
            _ => !images.is_empty(),
        };
        if reads_dirs && !sees_trusted_attributes() {
            notes.push(Diagnostic::note(
                &self.label,
                "an opaque directory of a layer is marked with `trusted.overlay.opaque`, which only a process with CAP_SYS_ADMIN can read: without it, files an opaque directory hides in a lower layer may be reported as present",
            ));
        }
        Ok((images, notes))
    }

    /// Opens one image into a tree (its layers applied in order), or says why it cannot be.
    pub fn open_image(&self, image: &StoreImage, opts: &OpenOptions) -> Vec<Opened> {
        let limits = opts.limits();
        // a reference by digest is shown by the digest's head, as an id is
        let mut names: Vec<String> = image
            .names
            .iter()
            .map(|n| match n.split_once("@sha256:") {
                Some((repo, hex)) if hex.len() > 12 => format!("{repo}@sha256:{}", &hex[..12]),
                _ => n.clone(),
            })
            .collect();
        let hex = image.id.trim_start_matches("sha256:");
        let short = hex.get(..12).unwrap_or(hex);
        if !names.is_empty() {
            names.push(format!("sha256:{short}"));
        }
        let shown = match names.first() {
            Some(n) => format!("{} › {n}", self.label),
            None => format!("{} › image sha256:{short}", self.label),
        };
        let assemble = |(config, layers): Layers| {
            super::image::assemble_layers(&self.label, names, &image.id, config, layers, opts)
        };
        let opened = match self.engine {
            Engine::Docker => docker::layers(self, image, &limits).map(assemble),
            Engine::Containers => containers::layers(self, image, &limits).map(assemble),
            // a content store: read as an OCI layout's blobs are
            Engine::Containerd => containerd::open(self, image, opts),
        };
        let mut opened = match opened {
            Ok(opened) => opened,
            Err(why) => {
                let mut failed = Opened::with_label(&shown, opts);
                failed.diagnostics.push(Diagnostic::incomplete(
                    &shown,
                    format!("image not judged: {why}"),
                ));
                vec![failed]
            }
        };
        for o in &mut opened {
            o.image_of.get_or_insert_with(|| image.id.clone());
        }
        if let Some(note) = image.containers_note() {
            for o in &mut opened {
                o.notes.push(note.clone());
            }
        }
        // what a container changed since it started (a `pip install` in it) lies in its own
        // writable layer: judged on top of the image where the engine keeps it as a
        // directory, else said, so that a clean image is not taken for a clean container
        let unread: Vec<String> = image
            .containers
            .iter()
            .filter_map(|c| Some(format!("`{}`: {}", c.name, c.writable.as_ref().err()?)))
            .collect();
        if !unread.is_empty()
            && let Some(first) = opened.first_mut()
        {
            const SHOWN: usize = 3;
            let more = match unread.len().saturating_sub(SHOWN) {
                0 => String::new(),
                n => format!("; and {n} more"),
            };
            first.diagnostics.push(Diagnostic::incomplete(
                &shown,
                format!(
                    "the writable layers of {} container(s) made from this image (what changed in them since they started) are not judged, only the image — {}{more}; scan a container's files with `--root` on its mounted filesystem",
                    unread.len(),
                    unread[..unread.len().min(SHOWN)].join("; ")
                ),
            ));
        }
        opened
    }

    /// A container as it is now: the image's layers with its writable layer applied on top,
    /// judged for what the writable layer holds (a hook the image has is the image's finding,
    /// not repeated for each container). The environments the image's layers make are what
    /// a file written in the container is judged in. Empty when the container keeps no
    /// writable layer here, or changed nothing since it started. Each container is opened
    /// after its image's tree is judged and gone, one at a time.
    ///
    /// `image_variables`: the variables start-up reads that each platform of the image sets
    /// (its trees' [`Opened::variables`]): a container that wrote nothing and sets the same
    /// costs one directory listing, its image's layers not read again.
    pub fn open_container(
        &self,
        image: &StoreImage,
        container: &Container,
        image_variables: &[Vec<(String, String)>],
        opts: &OpenOptions,
    ) -> Vec<Opened> {
        let Ok(writable) = container.writable.as_deref() else {
            return Vec::new();
        };
        let limits = opts.limits();
        let shown = format!("{} › container {}", self.label, container.name);
        // its own variables count where they differ from the image's in one that start-up
        // reads (a Kubernetes pod's service variables do not make its image run otherwise)
        let watched = |env: &[String]| -> Vec<(String, String)> {
            crate::discovery::variables::image(env, Path::new(""))
                .into_iter()
                .map(|s| (s.name, s.value))
                .collect()
        };
        let read = || -> Result<Vec<Opened>, String> {
            let listing = read_layer_dir(self, writable, &limits)
                .map_err(|e| format!("its writable layer: {e}"))?;
            if listing.members.is_empty()
                && listing.problems.is_empty()
                && container
                    .env
                    .as_ref()
                    .is_none_or(|env| image_variables.contains(&watched(env)))
            {
                // nothing changed since it started: it is its image
                return Ok(Vec::new());
            }
            let (config, mut layers) = match self.engine {
                Engine::Docker => docker::layers(self, image, &limits)?,
                Engine::Containers => containers::layers(self, image, &limits)?,
                Engine::Containerd => containerd::layers(self, image, container, opts, &limits)?,
            };
            // the platform it runs: what its findings are told apart from
            let platform = format!("sha256:{}", crate::fs::read::sha256_hex(&config));
            let mut config: serde_json::Value = serde_json::from_slice(&config)
                .map_err(|e| format!("the image config is malformed: {e}"))?;
            let image_env: Vec<String> = config
                .pointer("/config/Env")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let own_env = container
                .env
                .as_ref()
                .filter(|env| watched(env) != watched(&image_env));
            if listing.members.is_empty() && listing.problems.is_empty() && own_env.is_none() {
                // nothing changed since it started: it is its image
                return Ok(Vec::new());
            }
            // the writable layer as one more layer of the image, with its own history line
            let diff = format!(
                "sha256:{}",
                crate::fs::read::sha256_hex(format!("{} {writable}", image.id).as_bytes())
            );
            if let Some(ids) = config
                .pointer_mut("/rootfs/diff_ids")
                .and_then(|v| v.as_array_mut())
            {
                ids.push(diff.clone().into());
            }
            // its processes start with the container's variables (a `-e PYTHONPATH=…`)
            if let Some(env) = own_env
                && let Some(cfg) = config
                    .as_object_mut()
                    .map(|o| o.entry("config").or_insert_with(|| serde_json::json!({})))
                    .and_then(|v| v.as_object_mut())
            {
                cfg.insert("Env".into(), env.clone().into());
            }
            if let Some(history) = config.get_mut("history").and_then(|v| v.as_array_mut()) {
                history.push(serde_json::json!({
                    "created_by": format!(
                        "the container `{}` since it started (its writable layer `{writable}`)",
                        container.name
                    )
                }));
            }
            let config = serde_json::to_vec(&config).expect("JSON serialises");
            let id = format!("sha256:{}", crate::fs::read::sha256_hex(&config));
            layers.push((diff.clone(), listing));
            let name = format!("container {}", container.name);
            let mut opened =
                super::image::assemble_layers(&self.label, vec![name], &id, config, layers, opts);
            for o in &mut opened {
                o.container_of = Some(platform.clone());
                o.notes.push(format!(
                    "written in the container `{}` of image {} since it started",
                    container.name,
                    image
                        .names
                        .first()
                        .map_or(image.id.as_str(), String::as_str)
                ));
            }
            Ok(opened)
        };
        read().unwrap_or_else(|why| {
            let mut failed = Opened::with_label(&shown, opts);
            failed.diagnostics.push(Diagnostic::incomplete(
                &shown,
                format!("the container's writable layer was not judged: {why}"),
            ));
            vec![failed]
        })
    }

    /// The extended attribute that marks an opaque directory in this store's layers: the
    /// kernel reads `trusted.overlay.opaque`, and `user.overlay.opaque` only on a mount with
    /// `userxattr` — rootless podman's, whose store its user owns.
    #[cfg(unix)]
    fn opaque_attribute(&self) -> &'static str {
        use std::os::unix::fs::MetadataExt;
        let rootless = self.engine == Engine::Containers
            && std::fs::symlink_metadata(self.root.path()).is_ok_and(|m| m.uid() != 0);
        if rootless {
            "user.overlay.opaque"
        } else {
            "trusted.overlay.opaque"
        }
    }

    /// Reads a small document of the store (`rel` inside it), at most `cap` bytes, within the
    /// budget.
    fn read_doc(&self, rel: &str, cap: u64, limits: &Limits) -> Result<Vec<u8>, String> {
        let path = self.root.path().join(rel);
        let (file, size) = self
            .root
            .open_file(&path)
            .map_err(|e| format!("cannot read `{rel}`: {e}"))?;
        if size > cap {
            return Err(format!(
                "`{rel}` is {size} bytes, past the {cap}-byte cap: not read"
            ));
        }
        let _held = limits.budget.try_reserve(size).ok_or_else(|| {
            format!(
                "`{rel}` ({size} bytes) not read: the memory budget is spent (raise --max-memory)"
            )
        })?;
        let mut out = Vec::with_capacity(size as usize);
        file.take(cap)
            .read_to_end(&mut out)
            .map_err(|e| format!("cannot read `{rel}`: {e}"))?;
        Ok(out)
    }

    /// A JSON document of the store, parsed, with the budget its parsed form holds: a list of
    /// small objects takes tens of times its text once parsed (`{"id":""}`, ten bytes, is four
    /// strings and a place in a vector), so [`PARSED_PER_BYTE`] times the text is reserved while
    /// the caller keeps the value, and a document the budget cannot hold so is not read.
    fn json<T: serde::de::DeserializeOwned>(
        &self,
        rel: &str,
        cap: u64,
        limits: &Limits,
    ) -> Result<(T, crate::budget::Held), String> {
        let bytes = self.read_doc(rel, cap, limits)?;
        let parsed = (bytes.len() as u64).saturating_mul(PARSED_PER_BYTE);
        let held = limits.budget.try_reserve(parsed).ok_or_else(|| {
            format!(
                "`{rel}` ({} bytes) not read: parsed, it would pass the memory budget (raise --max-memory)",
                bytes.len()
            )
        })?;
        let value =
            serde_json::from_slice(&bytes).map_err(|e| format!("`{rel}` is malformed: {e}"))?;
        Ok((value, held))
    }

    /// The names of the entries of the directory `rel`, or why it cannot be listed.
    fn list(&self, rel: &str) -> Result<Vec<(String, Kind)>, ReadError> {
        let mut out = Vec::new();
        self.root
            .list(&self.root.path().join(rel), false, &mut |n, k| {
                out.push((n.to_string_lossy().into_owned(), k));
            })?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Where what is said of the store's containers rather than of an image is said: left
    /// out when one image is asked for by name.
    pub fn containers_path(&self) -> PathBuf {
        Path::new(&self.label).join("containers")
    }

    /// Whether `rel` exists in the store (not following a last link).
    fn exists(&self, rel: &str) -> bool {
        self.root.stat(&self.root.path().join(rel), false).is_ok()
    }
}

/// Whether this process may read `trusted.*` extended attributes: it has CAP_SYS_ADMIN
/// (bit 21 of `CapEff` in `/proc/self/status`).
fn sees_trusted_attributes() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let hex = s
                .lines()
                .find_map(|l| l.strip_prefix("CapEff:"))?
                .trim()
                .to_owned();
            u64::from_str_radix(&hex, 16).ok()
        })
        .is_some_and(|caps| caps & (1 << 21) != 0)
}

/// Whether `s` is safe as one path component of the store (an id, a cache id): no separator,
/// no dot-only name, nothing but letters, digits, `_` and `-`.
fn component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `sha256:HEX` with 64 lower-case hex digits: its hex.
fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(hex)
}

/// The containers of each image, by the image id's hex (with or without `sha256:` in the
/// engine's record), sorted.
type ContainersOf = BTreeMap<String, Vec<Container>>;

/// A container's name as shown: control characters (a newline, a terminal escape) escaped,
/// and ` › ` (which separates the parts of a shown path) written `\u{203a}`.
fn shown(name: &str) -> String {
    name.chars()
        .flat_map(|c| match c {
            '›' => "\\u{203a}".chars().collect::<Vec<_>>(),
            c if c.is_control() => c.escape_debug().collect(),
            c => vec![c],
        })
        .collect()
}

/// The key of [`ContainersOf`] for an image id as an engine writes it.
fn image_key(id: &str) -> String {
    id.trim_start_matches("sha256:").to_owned()
}

/// Says the containers whose image the store does not hold: their image cannot be applied
/// under their writable layers, so what changed in them is not judged.
fn orphans(
    store: &Store,
    containers: &ContainersOf,
    held: impl Fn(&str) -> bool,
    notes: &mut Vec<Diagnostic>,
) {
    for (image, made) in containers.iter().filter(|(k, _)| !held(k)) {
        let names: Vec<&str> = made.iter().take(5).map(|c| c.name.as_str()).collect();
        let more = match made.len().saturating_sub(names.len()) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        notes.push(Diagnostic::incomplete(
            store.containers_path(),
            format!(
                "container(s) `{}`{more} name image {}, which is not in the store: what changed in them since they started is not judged",
                names.join("`, `"),
                crate::finding::excerpt(image, 80)
            ),
        ));
    }
}

/// Reads a layer stored as a directory (`rel` inside the store) into a listing, as a layer tar
/// of the same files is listed: an overlayfs whiteout (a character device 0/0) becomes a
/// `.wh.NAME` member, an opaque directory (`trusted.overlay.opaque` or `user.overlay.opaque`
/// set to `y`) a `.wh..wh..opq` member in it, and `.wh.` names some drivers keep stay as they
/// are. What start-up reads is kept, the rest is read again from its file when judged.
#[cfg(unix)]
fn read_layer_dir(store: &Store, rel: &str, limits: &Limits) -> Result<Listing, String> {
    let top = store.root.path().join(rel);
    let mut listing = Listing {
        marked_whiteouts: true,
        ..Listing::default()
    };
    let opaque_attribute = store.opaque_attribute();
    // (directory on disk, its path in the layer)
    let mut todo: Vec<(PathBuf, PathBuf)> = vec![(top.clone(), PathBuf::new())];
    let mut first = true;
    while let Some((dir, inside)) = todo.pop() {
        let mut entries: Vec<(std::ffi::OsString, Kind)> = Vec::new();
        let listed = store.root.list(&dir, false, &mut |n, k| {
            entries.push((n.to_os_string(), k));
        });
        let handle = match listed {
            Ok(h) => h,
            Err(e) if first => return Err(format!("layer directory `{rel}` cannot be read: {e}")),
            // one directory that cannot be listed (a path past the system's length, a
            // permission) is said and the rest of the layer judged: a `mkdir -p` loop must not
            // hide the layer's other files
            Err(e) => {
                listing.problems.push(archive::Problem::new(
                    archive::ProblemKind::Corrupt,
                    Some(&inside.to_string_lossy()),
                    format!(
                        "directory in layer directory `{rel}` cannot be listed, not judged: {e}"
                    ),
                ));
                continue;
            }
        };
        first = false;
        let fd = handle.fd().map_err(|e| e.to_string())?;
        if !inside.as_os_str().is_empty() && opaque(fd, opaque_attribute) {
            push(
                &mut listing,
                inside.join(".wh..wh..opq"),
                Entry::Other(archive::OPAQUE),
                None,
                limits,
            )?;
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, _) in entries {
            let at = inside.join(&name);
            let st = match rustix::fs::statat(fd, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(e) => {
                    listing.problems.push(archive::Problem::new(
                        archive::ProblemKind::Corrupt,
                        Some(&at.to_string_lossy()),
                        format!("in layer directory `{rel}`: cannot be looked at, not judged: {e}"),
                    ));
                    continue;
                }
            };
            let meta = crate::fs::root::meta(&st);
            let mtime = Some(meta.mtime);
            let entry = match FileType::from_raw_mode(st.st_mode) {
                FileType::Directory => {
                    todo.push((dir.join(&name), at.clone()));
                    Entry::Dir
                }
                FileType::RegularFile => {
                    let size = meta.size;
                    let path = dir.join(&name);
                    let again = Reread::Disk(OnDisk::new(&store.root, &path, meta.id));
                    let data = if super::image::keeps(&at, limits) {
                        read_kept(store, &path, size, limits, &mut listing)
                    } else {
                        None
                    };
                    push(
                        &mut listing,
                        at,
                        Entry::File { data, size },
                        Some((again, mtime)),
                        limits,
                    )?;
                    continue;
                }
                FileType::Symlink => {
                    let target = rustix::fs::readlinkat(fd, name.as_os_str(), Vec::new())
                        .map_err(|e| format!("`{}` in layer `{rel}`: {e}", at.display()))?;
                    Entry::Symlink(PathBuf::from(std::ffi::OsStr::from_bytes(
                        target.as_bytes(),
                    )))
                }
                // overlayfs' whiteout: known by its metadata, never opened
                FileType::CharacterDevice if st.st_rdev == 0 => {
                    let mut hidden = std::ffi::OsString::from(".wh.");
                    hidden.push(&name);
                    push(
                        &mut listing,
                        inside.join(hidden),
                        Entry::Other(archive::WHITEOUT),
                        None,
                        limits,
                    )?;
                    continue;
                }
                FileType::CharacterDevice | FileType::BlockDevice => Entry::Other("device"),
                FileType::Fifo => Entry::Other("FIFO"),
                FileType::Socket => Entry::Other("socket"),
                _ => Entry::Other("special file"),
            };
            push(&mut listing, at, entry, None, limits)?;
        }
    }
    Ok(listing)
}

#[cfg(not(unix))]
fn read_layer_dir(_store: &Store, rel: &str, _limits: &Limits) -> Result<Listing, String> {
    Err(format!(
        "layer directory `{rel}` not read: the layer directories of a store are read on Linux and macOS only"
    ))
}

/// Whether the directory open as `fd` is an overlayfs opaque directory: `attribute` set to
/// the one byte `y`, as the kernel checks it (any other value, or the attribute of the other
/// namespace, leaves the lower directory's files showing).
#[cfg(unix)]
fn opaque(fd: rustix::fd::BorrowedFd<'_>, attribute: &str) -> bool {
    let mut buf = [0u8; 2];
    matches!(rustix::fs::fgetxattr(fd, attribute, &mut buf), Ok(1) if buf[0] == b'y')
}

/// Adds one member, its name reserved from the budget (as an archive's listing reserves it).
#[cfg(unix)]
fn push(
    listing: &mut Listing,
    path: PathBuf,
    entry: Entry,
    file: Option<(Reread, Option<(i64, u32)>)>,
    limits: &Limits,
) -> Result<(), String> {
    if listing.members.len() >= limits.max_members {
        return Err(format!(
            "the layer has more than {} entries: not read",
            limits.max_members
        ));
    }
    let name = path.to_string_lossy().into_owned();
    let Some(held) = limits.budget.try_reserve(name.len() as u64 * 3 + 160) else {
        return Err(format!(
            "the layer's listing outgrew the memory budget after {} entries (raise --max-memory)",
            listing.members.len()
        ));
    };
    listing.held.absorb(held);
    let (again, mtime) = match file {
        Some((again, mtime)) => (Some(again), mtime),
        None => (None, None),
    };
    listing.members.push(Member {
        name,
        path: Some(path),
        entry,
        again,
        mtime,
    });
    Ok(())
}

/// The head of a file start-up reads, kept within the member cap and the budget: `None` when
/// the budget is spent (it is read again from its file when judged).
#[cfg(unix)]
fn read_kept(
    store: &Store,
    path: &Path,
    size: u64,
    limits: &Limits,
    listing: &mut Listing,
) -> Option<Arc<Vec<u8>>> {
    let want = size.min(limits.max_member);
    let held = limits.budget.try_reserve(want)?;
    let (file, _) = store.root.open_file(path).ok()?;
    let mut data = Vec::with_capacity(want as usize);
    file.take(want).read_to_end(&mut data).ok()?;
    // held as long as the listing's members are
    listing.held.absorb(held);
    Some(Arc::new(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_matched_in_their_full_form() {
        for (given, full) in [
            ("app", "docker.io/library/app:latest"),
            ("app:1.0", "docker.io/library/app:1.0"),
            ("me/app", "docker.io/me/app:latest"),
            ("localhost/app:1", "localhost/app:1"),
            (
                "registry.example:5000/team/app:2",
                "registry.example:5000/team/app:2",
            ),
            ("app@sha256:ab", "docker.io/library/app@sha256:ab"),
        ] {
            assert_eq!(normalize(given), full, "{given}");
        }
        let image = StoreImage {
            id: format!("sha256:{}", "ab".repeat(32)),
            names: vec!["localhost/app:1.0".into(), "docker.io/library/web:2".into()],
            containers: Vec::new(),
            detail: None,
        };
        for (asked, answers) in [
            ("app:1.0", true),
            ("localhost/app:1.0", true),
            ("app", false),
            ("web:2", true),
            ("docker.io/library/web:2", true),
            ("other.example/web:2", false),
            ("ababababababab", true),
            ("sha256:abababababab", true),
            ("abab", false),
        ] {
            assert_eq!(image.answers_to(asked), answers, "{asked}");
        }
    }

    /// A layer directory is listed as its tar would be: a whiteout device as `.wh.NAME`
    /// (never opened), an opaque directory with `.wh..wh..opq`, a link as a link (not
    /// followed, whatever it names), a FIFO as a special file (never opened).
    #[test]
    fn a_layer_directory_is_listed_as_its_tar_would_be() {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            std::fs::metadata("/proc/self").unwrap().uid(),
            0,
            "this test makes a character device 0/0 and a trusted xattr: run it as root"
        );
        let d = tempfile::tempdir().unwrap();
        let layer = d.path().join("overlay/l1/diff");
        let site = layer.join("usr/lib/python3/dist-packages");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(site.join("hook.pth"), b"import os\n").unwrap();
        std::fs::write(layer.join("usr/big.bin"), vec![0u8; 4096]).unwrap();
        std::os::unix::fs::symlink("../../../../../etc/shadow", site.join("escape.pth")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            site.join("gone.pth"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::empty(),
            0,
        )
        .unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            site.join("fifo.pth"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::RUSR,
            0,
        )
        .unwrap();
        let opaque = layer.join("opt/venv");
        std::fs::create_dir_all(&opaque).unwrap();
        rustix::fs::setxattr(
            &opaque,
            "trusted.overlay.opaque",
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        let root = Arc::new(Root::open(d.path(), false).unwrap());
        let store = Store {
            engine: Engine::Containers,
            label: "s".into(),
            root,
        };
        let limits = Limits::new(1 << 20);
        let listing = read_layer_dir(&store, "overlay/l1/diff", &limits).unwrap();
        let by = |name: &str| {
            listing
                .members
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("{name}: {:?}", listing.members))
        };
        let sp = "usr/lib/python3/dist-packages";
        assert!(matches!(
            &by(&format!("{sp}/hook.pth")).entry,
            Entry::File { data: Some(d), size: 10 } if d.as_slice() == b"import os\n"
        ));
        // not where Python lives: known by size, read again from its file when asked
        let big = by("usr/big.bin");
        assert!(matches!(
            big.entry,
            Entry::File {
                data: None,
                size: 4096
            }
        ));
        assert_eq!(
            big.again.as_ref().unwrap().read(4096, 10).unwrap(),
            [0u8; 10]
        );
        assert!(
            matches!(&by(&format!("{sp}/escape.pth")).entry, Entry::Symlink(t) if t == Path::new("../../../../../etc/shadow"))
        );
        assert!(matches!(
            by(&format!("{sp}/.wh.gone.pth")).entry,
            Entry::Other(archive::WHITEOUT)
        ));
        assert!(listing.marked_whiteouts);
        assert!(
            !listing
                .members
                .iter()
                .any(|m| m.name == format!("{sp}/gone.pth"))
        );
        assert!(matches!(
            by(&format!("{sp}/fifo.pth")).entry,
            Entry::Other("FIFO")
        ));
        assert!(matches!(
            by("opt/venv/.wh..wh..opq").entry,
            Entry::Other(archive::OPAQUE)
        ));
        // a layer directory gone is said
        let gone = read_layer_dir(&store, "overlay/l2/diff", &limits).unwrap_err();
        assert!(
            gone.contains("layer directory `overlay/l2/diff` cannot be read"),
            "{gone}"
        );
    }

    /// What overlayfs does not take for a whiteout or an opaque directory stays what it is:
    /// a regular file named `.wh.x.pth` (which `site` reads), an opaque attribute whose value
    /// is not the one byte `y`, and `user.overlay.opaque` in a store root owns.
    /// A container's name is the container owner's to choose: never a terminal escape, a line
    /// of its own or a part of a shown path.
    #[test]
    fn a_container_name_is_shown_escaped() {
        assert_eq!(shown("web-1"), "web-1");
        assert_eq!(
            shown("a\x1b[31m\nfake line › layer 5"),
            "a\\u{1b}[31m\\nfake line \\u{203a} layer 5"
        );
    }

    /// A container can make a directory no path reaches (a `mkdir -p` loop past PATH_MAX):
    /// that directory is said, the rest of the layer is read and its hook stays visible.
    #[test]
    fn a_directory_that_cannot_be_listed_is_said_and_the_rest_read() {
        use rustix::fs::{Mode, OFlags};
        let d = tempfile::tempdir().unwrap();
        let site = d.path().join("rw/usr/lib/python3/dist-packages");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(site.join("deep.pth"), "import os\n").unwrap();
        let mut fd = rustix::fs::open(
            d.path().join("rw"),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        for _ in 0..1100 {
            rustix::fs::mkdirat(&fd, "aaa", Mode::RWXU).unwrap();
            fd = rustix::fs::openat(
                &fd,
                "aaa",
                OFlags::RDONLY | OFlags::DIRECTORY,
                Mode::empty(),
            )
            .unwrap();
        }
        let store = Store {
            engine: Engine::Docker,
            label: "s".into(),
            root: Arc::new(Root::open(d.path(), false).unwrap()),
        };
        let listing = read_layer_dir(&store, "rw", &Limits::new(1 << 20)).unwrap();
        assert!(
            listing
                .members
                .iter()
                .any(|m| m.name == "usr/lib/python3/dist-packages/deep.pth"),
            "{:?}",
            listing.members.iter().map(|m| &m.name).collect::<Vec<_>>()
        );
        assert!(
            listing
                .problems
                .iter()
                .any(|p| p.kind == archive::ProblemKind::Corrupt && p.kind.incomplete()),
            "{:?}",
            listing.problems
        );
    }

    #[test]
    fn only_what_overlayfs_hides_is_hidden() {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            std::fs::metadata("/proc/self").unwrap().uid(),
            0,
            "this test sets trusted xattrs: run it as root"
        );
        let d = tempfile::tempdir().unwrap();
        let sp = "usr/local/lib/python3.11/dist-packages";
        let lower = d.path().join("overlay2/l1/diff").join(sp);
        let upper = d.path().join("overlay2/l2/diff").join(sp);
        for dir in [&lower, &upper] {
            std::fs::create_dir_all(dir.join("pkg_a")).unwrap();
            std::fs::create_dir_all(dir.join("pkg_b")).unwrap();
            std::fs::create_dir_all(dir.join("pkg_c")).unwrap();
        }
        std::fs::write(lower.join("x.pth"), b"import os; exec('1')\n").unwrap();
        for pkg in ["pkg_a", "pkg_b", "pkg_c"] {
            std::fs::write(lower.join(pkg).join("__init__.py"), b"x = 1\n").unwrap();
        }
        // a file named like a tar whiteout, a file named like a tar opaque marker
        std::fs::write(upper.join(".wh.x.pth"), b"import os; exec('2')\n").unwrap();
        std::fs::write(upper.join("pkg_a/.wh..wh..opq"), b"").unwrap();
        let set = |dir: &Path, name: &str, value: &[u8]| {
            rustix::fs::setxattr(dir, name, value, rustix::fs::XattrFlags::empty()).unwrap();
        };
        set(&upper.join("pkg_b"), "trusted.overlay.opaque", b"yy");
        set(&upper.join("pkg_c"), "user.overlay.opaque", b"y");
        let store = Store {
            engine: Engine::Docker,
            label: "s".into(),
            root: Arc::new(Root::open(d.path(), false).unwrap()),
        };
        let limits = Limits::new(1 << 20);
        let layers: Vec<Listing> = ["overlay2/l1/diff", "overlay2/l2/diff"]
            .iter()
            .map(|rel| read_layer_dir(&store, rel, &limits).unwrap())
            .collect();
        let mut tree = crate::sources::memory::MemTree::new("t", 1 << 20, Arc::default());
        for (i, layer) in layers.iter().enumerate() {
            assert!(crate::sources::image::apply_layer(&mut tree, layer, i).is_empty());
        }
        let at = |p: &str| PathBuf::from(format!("/{sp}/{p}"));
        use crate::fs::Tree;
        for shown in [
            "x.pth",
            ".wh.x.pth",
            "pkg_a/__init__.py",
            "pkg_a/.wh..wh..opq",
            "pkg_b/__init__.py",
            "pkg_c/__init__.py",
        ] {
            assert_eq!(tree.kind(&at(shown)), Some(Kind::File), "{shown}");
        }
    }

    /// A store's index is parsed only when the budget holds its parsed form, and an id listed
    /// twice with different top layers is judged twice, said.
    #[test]
    fn an_index_is_parsed_within_the_budget_and_a_repeated_id_is_said() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("overlay-images")).unwrap();
        std::fs::create_dir_all(d.path().join("overlay-layers")).unwrap();
        let store = || Store {
            engine: Engine::Containers,
            label: "s".into(),
            root: Arc::new(Root::open(d.path(), false).unwrap()),
        };
        // 2 MB of `{"id":""}`: some 40 MB parsed, past a 32 MiB budget
        let many = format!("[{}{{\"id\":\"\"}}]", "{\"id\":\"\"},".repeat(200_000));
        std::fs::write(d.path().join("overlay-images/images.json"), many).unwrap();
        let small = Limits::with_budget(1 << 20, crate::budget::Budget::new(32 << 20));
        let err = store().images(&small).unwrap_err();
        assert!(err.contains("memory budget"), "{err}");

        let id = "a".repeat(64);
        let twice = format!(
            "[{{\"id\":\"{id}\",\"layer\":\"l1\"}},{{\"id\":\"{id}\",\"layer\":\"l2\"}},{{\"id\":\"{id}\",\"layer\":\"l2\"}}]"
        );
        std::fs::write(d.path().join("overlay-images/images.json"), twice).unwrap();
        let (images, notes) = store().images(&small).unwrap();
        let layers: Vec<_> = images.iter().map(|i| i.detail.clone().unwrap()).collect();
        assert_eq!(layers, ["l1", "l2"]);
        assert!(
            notes.iter().any(|n| n.message.contains("more than once")),
            "{notes:?}"
        );
    }
}
