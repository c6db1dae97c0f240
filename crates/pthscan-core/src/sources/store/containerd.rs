//! containerd's store (`/var/lib/containerd`), read as files:
//!
//! - `io.containerd.metadata.v1.bolt/meta.db`: a bbolt database (read by [`super::bolt`]),
//!   bucket `v1/<namespace>/images/<name>/target` holding each image's `digest` and
//!   `mediatype`, `v1/<namespace>/containers/<id>/image` each container's image name — every
//!   namespace (`default`, Kubernetes' `k8s.io`, `moby`, …);
//! - `io.containerd.content.v1.content/blobs/sha256/<hex>`: the content store, an OCI layout's
//!   blobs without its `index.json` — indexes, manifests, configs and the layers as pulled
//!   (compressed or not), read as an OCI layout's are.
//!
//! - `io.containerd.snapshotter.v1.overlayfs`: the overlayfs snapshotter's own bbolt
//!   `metadata.db` (`v1/snapshots/<name>/id`) and its snapshots, `snapshots/<id>/fs`. A
//!   container's writable layer is its snapshot: `v1/<namespace>/containers/<id>` names its
//!   `snapshotter` and `snapshotKey`, `v1/<namespace>/snapshots/<snapshotter>/<key>` the
//!   snapshot's `name` in the snapshotter and its `parent` (the chain id of the image's layers
//!   it lies on, which picks the platform), the snapshotter's database its directory's id. Its
//!   `spec` (a protobuf `Any` holding the OCI runtime spec as JSON) gives the variables its
//!   processes start with.
//!
//! An image is its target digest: tags of one manifest, in one namespace or several, are one
//! image, judged once.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::bolt::{Bolt, Bucket, Value};
use super::{Store, StoreImage};
use crate::diagnostic::Diagnostic;
use crate::sources::archive::Limits;
use crate::sources::{OpenOptions, Opened};

const META: &str = "io.containerd.metadata.v1.bolt/meta.db";
const CONTENT: &str = "io.containerd.content.v1.content";

/// The database is read up to this size (real ones are a few MB, tens on busy nodes).
const MAX_DB: u64 = 1 << 30;

fn bucket(v: Option<Value>) -> Option<Bucket> {
    match v {
        Some(Value::Bucket(b)) => Some(b),
        _ => None,
    }
}

fn text(v: Option<Value>) -> Option<String> {
    match v {
        Some(Value::Data(d)) => Some(String::from_utf8_lossy(&d).into_owned()),
        _ => None,
    }
}

/// The snapshotter whose snapshots are read as containers' writable layers: each of its
/// snapshots is a directory of what changed (overlayfs' upper directory). Others (native, a
/// full copy; btrfs, devmapper, remote snapshotters) are said.
const OVERLAYFS: &str = "overlayfs";

/// Where the overlayfs snapshotter keeps its database and snapshots, inside the store.
const OVERLAYFS_DIR: &str = "io.containerd.snapshotter.v1.overlayfs";

/// A container's runtime spec is read up to this size (real ones are tens of kilobytes).
const MAX_SPEC: usize = 16 << 20;

/// The overlayfs snapshotter's snapshots, read from its database once, when a container first
/// needs them: by name, each one's directory id and whether it is active (writable).
struct Snapshotter {
    snapshots: Option<Result<BTreeMap<String, Snapshot>, String>>,
    /// The snapshots containers were found to have, by their names in the snapshotter.
    claimed: std::collections::HashSet<String>,
}

struct Snapshot {
    id: Option<u64>,
    active: bool,
}

/// The database's name for an active (writable) snapshot's `kind` (Go's `snapshots.KindActive`).
const KIND_ACTIVE: u8 = 2;

impl Snapshotter {
    const DB: &str = "io.containerd.snapshotter.v1.overlayfs/metadata.db";

    /// Every snapshot of `v1/snapshots`, read on first use.
    fn snapshots(&mut self, store: &Store) -> Result<&BTreeMap<String, Snapshot>, String> {
        let read = || -> Result<BTreeMap<String, Snapshot>, String> {
            let rel = Self::DB;
            let db = open_db(store, rel)?;
            let fail = |e: String| format!("`{rel}`: {e}");
            let snapshots = bucket(db.get(&db.root(), b"v1").map_err(fail)?)
                .map(|v1| db.get(&v1, b"snapshots"))
                .transpose()
                .map_err(fail)?
                .and_then(bucket)
                .ok_or_else(|| format!("`{rel}` has no `v1/snapshots` bucket"))?;
            let mut out = BTreeMap::new();
            for (name, value) in db.entries(&snapshots).map_err(fail)? {
                let Value::Bucket(snapshot) = value else {
                    continue;
                };
                let field = |key: &[u8]| match db.get(&snapshot, key) {
                    Ok(Some(Value::Data(d))) => Ok(Some(d)),
                    Ok(_) => Ok(None),
                    Err(e) => Err(fail(e)),
                };
                out.insert(
                    String::from_utf8_lossy(&name).into_owned(),
                    Snapshot {
                        id: field(b"id")?.as_deref().and_then(uvarint),
                        active: field(b"kind")?.as_deref() == Some(&[KIND_ACTIVE]),
                    },
                );
            }
            Ok(out)
        };
        self.snapshots
            .get_or_insert_with(read)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The directory (in the store) of the snapshot the snapshotter calls `name`.
    fn dir_of(&mut self, store: &Store, name: &str) -> Result<String, String> {
        let rel = Self::DB;
        let snapshot = self
            .snapshots(store)?
            .get(name)
            .ok_or_else(|| format!("`{rel}` has no snapshot `{}`", super::shown(name)))?;
        let id = snapshot
            .id
            .ok_or_else(|| format!("`{rel}`: snapshot `{}` has no id", super::shown(name)))?;
        self.claimed.insert(name.to_owned());
        Ok(format!("{OVERLAYFS_DIR}/snapshots/{id}/fs"))
    }

    /// The active (writable) snapshots no container was found to have: a container's of an
    /// engine that keeps its containers elsewhere (Docker on containerd's image store), a
    /// build's, an unpack in progress. Empty where the store has no overlayfs snapshotter.
    fn unclaimed_active(&mut self, store: &Store) -> Result<Vec<String>, String> {
        if self.snapshots.is_none() && !store.exists(Self::DB) {
            return Ok(Vec::new());
        }
        let claimed = std::mem::take(&mut self.claimed);
        Ok(self
            .snapshots(store)?
            .iter()
            .filter(|(name, s)| s.active && !claimed.contains(*name))
            .map(|(name, _)| name.clone())
            .collect())
    }
}

/// One of the store's bbolt databases (`rel` inside it), up to [`MAX_DB`] bytes.
fn open_db(store: &Store, rel: &str) -> Result<Bolt, String> {
    let (file, len) = store
        .root
        .open_file(&store.root.path().join(rel))
        .map_err(|e| format!("cannot read `{rel}`: {e}"))?;
    if len > MAX_DB {
        return Err(format!(
            "`{rel}` is {len} bytes, past the {MAX_DB}-byte cap"
        ));
    }
    Bolt::open(file, len).map_err(|e| format!("`{rel}`: {e}"))
}

/// A Go `binary.Uvarint`, the whole of `bytes`.
fn uvarint(bytes: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b < 0x80 {
            return (i + 1 == bytes.len()).then_some(value);
        }
    }
    None
}

/// A container's writable layer (its directory in the store) and the chain id it lies on.
fn writable_layer(
    db: &Bolt,
    namespace: &Bucket,
    container: &Bucket,
    store: &Store,
    overlayfs: &mut Snapshotter,
) -> Result<(String, Option<String>), String> {
    let snapshotter = text(db.get(container, b"snapshotter")?).unwrap_or_default();
    let key = text(db.get(container, b"snapshotKey")?).unwrap_or_default();
    if snapshotter.is_empty() || key.is_empty() {
        return Err("it has no snapshot".into());
    }
    if snapshotter != OVERLAYFS {
        return Err(format!(
            "its snapshotter `{}` keeps snapshots this reader does not read (overlayfs only)",
            super::shown(&snapshotter)
        ));
    }
    let snapshot = bucket(db.get(namespace, b"snapshots")?)
        .map(|b| db.get(&b, OVERLAYFS.as_bytes()))
        .transpose()?
        .and_then(bucket)
        .map(|b| db.get(&b, key.as_bytes()))
        .transpose()?
        .and_then(bucket)
        .ok_or_else(|| {
            format!(
                "its snapshot `{}` is not in the metadata",
                super::shown(&key)
            )
        })?;
    let name = text(db.get(&snapshot, b"name")?)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("its snapshot `{}` has no name", super::shown(&key)))?;
    let parent = text(db.get(&snapshot, b"parent")?).filter(|p| super::sha256_hex(p).is_some());
    Ok((overlayfs.dir_of(store, &name)?, parent))
}

/// The variables a container's processes start with: `process.env` of its OCI runtime spec,
/// which containerd keeps as a protobuf `Any` (field 1 its type URL, field 2 the spec as JSON).
fn spec_env(any: &[u8]) -> Option<Vec<String>> {
    let mut rest = any;
    let mut value = None;
    while let Some((&tag, after)) = rest.split_first() {
        // every field of an `Any` is length-delimited (wire type 2)
        if tag & 7 != 2 {
            return None;
        }
        let mut len = 0usize;
        let mut used = 0;
        for (i, &b) in after.iter().enumerate().take(5) {
            len |= usize::from(b & 0x7f) << (7 * i);
            used = i + 1;
            if b < 0x80 {
                break;
            }
        }
        let body = after.get(used..used.checked_add(len)?)?;
        if tag >> 3 == 2 {
            value = Some(body);
        }
        rest = &after[used + len..];
    }
    let value = value.filter(|v| v.len() <= MAX_SPEC)?;
    let spec: serde_json::Value = serde_json::from_slice(value).ok()?;
    spec.pointer("/process/env")?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The store's images in every namespace, each target once, named by every name it has.
pub(super) fn images(
    store: &Store,
    _limits: &Limits,
) -> Result<(Vec<StoreImage>, Vec<Diagnostic>), String> {
    let mut notes = Vec::new();
    let db = open_db(store, META)?;
    let fail = |e: String| format!("`{META}`: {e}");
    let v1 = bucket(db.get(&db.root(), b"v1").map_err(fail)?)
        .ok_or_else(|| format!("`{META}` has no `v1` bucket: not containerd's metadata"))?;
    // target digest → (media type, names, containers)
    type Found = (String, Vec<String>, Vec<super::Container>);
    let mut by_digest: BTreeMap<String, Found> = BTreeMap::new();
    let mut overlayfs = Snapshotter {
        snapshots: None,
        claimed: Default::default(),
    };
    // containers whose image (by name, in their namespace) is not in the store: said
    let mut orphaned = super::ContainersOf::new();
    for (ns, value) in db.entries(&v1).map_err(fail)? {
        let ns = String::from_utf8_lossy(&ns).into_owned();
        let Value::Bucket(ns_bucket) = value else {
            continue;
        };
        let mut digest_of: BTreeMap<String, String> = BTreeMap::new();
        if let Some(images) = bucket(db.get(&ns_bucket, b"images").map_err(fail)?) {
            for (name, value) in db.entries(&images).map_err(fail)? {
                let name = String::from_utf8_lossy(&name).into_owned();
                let Value::Bucket(image) = value else {
                    continue;
                };
                let target = bucket(db.get(&image, b"target").map_err(fail)?);
                let (digest, media) = match &target {
                    Some(t) => (
                        text(db.get(t, b"digest").map_err(fail)?),
                        text(db.get(t, b"mediatype").map_err(fail)?),
                    ),
                    None => (None, None),
                };
                let Some(digest) = digest.filter(|d| super::sha256_hex(d).is_some()) else {
                    notes.push(Diagnostic::incomplete(
                        &store.label,
                        format!("image `{name}` (namespace `{ns}`) has no sha256 target digest: not judged"),
                    ));
                    continue;
                };
                digest_of.insert(name.clone(), digest.clone());
                let entry = by_digest
                    .entry(digest)
                    .or_insert_with(|| (media.unwrap_or_default(), Vec::new(), Vec::new()));
                // CRI names an image by its config digest too: the id, said anyway
                if super::sha256_hex(&name).is_none() && !entry.1.contains(&name) {
                    entry.1.push(name);
                }
            }
        }
        if let Some(containers) = bucket(db.get(&ns_bucket, b"containers").map_err(fail)?) {
            for (id, value) in db.entries(&containers).map_err(fail)? {
                let Value::Bucket(c) = value else {
                    continue;
                };
                let image = text(db.get(&c, b"image").map_err(fail)?).unwrap_or_default();
                let name = super::shown(&String::from_utf8_lossy(&id));
                let Some(entry) = digest_of.get(&image).and_then(|d| by_digest.get_mut(d)) else {
                    // its snapshot is said with it, not again as no container's
                    let _ = writable_layer(&db, &ns_bucket, &c, store, &mut overlayfs);
                    let image = match image.is_empty() {
                        true => "(none: its root filesystem was given)".to_owned(),
                        false => format!("`{}` (namespace `{ns}`)", super::shown(&image)),
                    };
                    orphaned.entry(image).or_default().push(super::Container {
                        name,
                        running: None,
                        writable: Err("its image is not in the store".into()),
                        env: None,
                        base: None,
                    });
                    continue;
                };
                let layer = writable_layer(&db, &ns_bucket, &c, store, &mut overlayfs);
                let env = match db.get(&c, b"spec").map_err(fail)? {
                    Some(Value::Data(spec)) => {
                        let env = spec_env(&spec);
                        if env.is_none() {
                            notes.push(Diagnostic::incomplete(
                                store.containers_path(),
                                format!("container `{name}`: its runtime spec (`spec`) holds no readable `process.env`: judged with its image's variables, not its own"),
                            ));
                        }
                        env
                    }
                    _ => None,
                };
                entry.2.push(super::Container {
                    name,
                    running: None,
                    base: layer.as_ref().ok().and_then(|(_, parent)| parent.clone()),
                    writable: layer.map(|(dir, _)| dir),
                    env,
                });
            }
        }
    }
    super::orphans(store, &orphaned, |_| false, &mut notes);
    match overlayfs.unclaimed_active(store) {
        Ok(active) if !active.is_empty() => notes.push(Diagnostic::incomplete(
            store.containers_path(),
            format!(
                "{} writable snapshot(s) of the overlayfs snapshotter belong to no container in containerd's metadata (containers of Docker on containerd's image store, which keeps them in its own records; a build; an unpack in progress), not judged: `{}`",
                active.len(),
                active
                    .iter()
                    .take(5)
                    .map(|n| super::shown(n))
                    .collect::<Vec<_>>()
                    .join("`, `")
            ),
        )),
        Ok(_) => {}
        Err(why) => notes.push(Diagnostic::incomplete(
            store.containers_path(),
            format!("{why}: which writable snapshots belong to no container is not known"),
        )),
    }
    let images = by_digest
        .into_iter()
        .map(|(digest, (media, mut names, mut containers))| {
            names.sort_by_key(|r| (r.contains('@'), r.clone()));
            containers.sort();
            StoreImage {
                id: digest,
                names,
                containers,
                detail: Some(media),
            }
        })
        .collect();
    Ok((images, notes))
}

/// Opens one image from the content store: its index or manifest, configs and layers read as
/// an OCI layout's are, from the blobs its target leads to.
pub(super) fn open(
    store: &Store,
    image: &StoreImage,
    opts: &OpenOptions,
) -> Result<Vec<Opened>, String> {
    let blobs = blobs(store, image, opts, &opts.limits())?;
    Ok(crate::sources::image::assemble(&store.label, blobs, opts))
}

/// The image a container of the store runs, taken apart: its config and layers, of the
/// platform its snapshot lies on (the one whose layers' chain id is its snapshot's parent).
pub(super) fn layers(
    store: &Store,
    image: &StoreImage,
    container: &super::Container,
    opts: &OpenOptions,
    limits: &Limits,
) -> Result<crate::sources::image::Layers, String> {
    let blobs = blobs(store, image, opts, limits)?;
    crate::sources::image::image_layers(blobs, |diff_ids| {
        container
            .base
            .as_deref()
            .is_none_or(|base| chain_id(diff_ids).as_deref() == Some(base))
    })
}

/// The chain id of layers with these diff ids, bottom first (the OCI image spec's `ChainID`:
/// the first's diff id, then `sha256(parent + " " + diff id)` for each next): what
/// containerd names a snapshot of them by.
fn chain_id(diff_ids: &[String]) -> Option<String> {
    let (first, rest) = diff_ids.split_first()?;
    Some(rest.iter().fold(first.clone(), |chain, diff| {
        format!(
            "sha256:{}",
            crate::fs::read::sha256_hex(format!("{chain} {diff}").as_bytes())
        )
    }))
}

/// The blobs of one image of the content store: those its target leads to.
fn blobs(
    store: &Store,
    image: &StoreImage,
    opts: &OpenOptions,
    limits: &Limits,
) -> Result<crate::sources::image::Blobs, String> {
    let media = image
        .detail
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".into());
    let first = image.names.first().cloned().unwrap_or_default();
    let mut manifests = Vec::new();
    // one descriptor per name: each a name of the one image
    for name in image
        .names
        .iter()
        .chain(image.names.is_empty().then_some(&first))
    {
        let mut d = serde_json::json!({"digest": image.id, "mediaType": media});
        if !name.is_empty() {
            d["annotations"] = serde_json::json!({ "io.containerd.image.name": name });
        }
        manifests.push(d);
    }
    let index = serde_json::to_vec(&serde_json::json!({ "manifests": manifests }))
        .expect("JSON serialises");
    let disk = crate::fs::Disk::with_root(
        Arc::clone(&store.root),
        opts.max_file_size,
        Arc::clone(&opts.stats),
    );
    let dir = store.root.path().join(CONTENT);
    crate::sources::image::read_content_store(&disk, &dir, &index, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A protobuf `Any` as containerd writes a container's spec.
    fn any(type_url: &str, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (tag, body) in [(0x0a, type_url.as_bytes()), (0x12, value)] {
            out.push(tag);
            let mut len = body.len();
            while len >= 0x80 {
                out.push((len as u8) | 0x80);
                len >>= 7;
            }
            out.push(len as u8);
            out.extend_from_slice(body);
        }
        out
    }

    #[test]
    fn a_containers_variables_come_from_its_runtime_spec() {
        // long enough that its length takes two bytes
        let padding = "x".repeat(300);
        let spec = format!(
            r#"{{"ociVersion":"1.1.0","process":{{"env":["PATH=/usr/bin","PYTHONPATH=/srv/evil"],"cwd":"/{padding}"}}}}"#
        );
        let bytes = any(
            "types.containerd.io/opencontainers/runtime-spec/1/Spec",
            spec.as_bytes(),
        );
        assert_eq!(
            spec_env(&bytes),
            Some(vec!["PATH=/usr/bin".into(), "PYTHONPATH=/srv/evil".into()])
        );
        // no process, a length past the end, a field that is not length-delimited: none
        assert_eq!(spec_env(&any("t", b"{}")), None);
        assert_eq!(spec_env(&bytes[..bytes.len() - 1]), None);
        assert_eq!(spec_env(&[0x08, 0x01]), None);
    }

    #[test]
    fn a_snapshot_id_is_a_go_uvarint_and_nothing_more() {
        assert_eq!(uvarint(&[0x05]), Some(5));
        assert_eq!(uvarint(&[0x96, 0x01]), Some(150));
        assert_eq!(uvarint(&[0x96, 0x01, 0x00]), None);
        assert_eq!(uvarint(&[0x96]), None);
        assert_eq!(uvarint(&[]), None);
        assert_eq!(uvarint(&[0xff; 11]), None);
    }

    #[test]
    fn a_chain_id_is_the_oci_specs() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        assert_eq!(chain_id(&[]), None);
        assert_eq!(chain_id(std::slice::from_ref(&a)), Some(a.clone()));
        // hashlib.sha256(("sha256:" + "a"*64 + " sha256:" + "b"*64).encode()).hexdigest()
        assert_eq!(
            chain_id(&[a, b]).unwrap(),
            "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c"
        );
    }
}
