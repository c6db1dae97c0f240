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

/// The store's images in every namespace, each target once, named by every name it has.
pub(super) fn images(
    store: &Store,
    _limits: &Limits,
) -> Result<(Vec<StoreImage>, Vec<Diagnostic>), String> {
    let mut notes = Vec::new();
    let (file, len) = store
        .root
        .open_file(&store.root.path().join(META))
        .map_err(|e| format!("cannot read `{META}`: {e}"))?;
    if len > MAX_DB {
        return Err(format!(
            "`{META}` is {len} bytes, past the {MAX_DB}-byte cap"
        ));
    }
    let db = Bolt::open(file, len).map_err(|e| format!("`{META}`: {e}"))?;
    let fail = |e: String| format!("`{META}`: {e}");
    let v1 = bucket(db.get(&db.root(), b"v1").map_err(fail)?)
        .ok_or_else(|| format!("`{META}` has no `v1` bucket: not containerd's metadata"))?;
    // target digest → (media type, names, containers)
    type Found = (String, Vec<String>, Vec<super::Container>);
    let mut by_digest: BTreeMap<String, Found> = BTreeMap::new();
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
                if let Some(entry) = digest_of.get(&image).and_then(|d| by_digest.get_mut(d)) {
                    entry.2.push(super::Container {
                        name: super::shown(&String::from_utf8_lossy(&id)),
                        running: None,
                        writable: None,
                        env: None,
                    });
                }
            }
        }
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
    let limits = opts.limits();
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
    let blobs = crate::sources::image::read_content_store(&disk, &dir, &index, &limits)?;
    Ok(crate::sources::image::assemble(&store.label, blobs, opts))
}
