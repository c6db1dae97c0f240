//! `containers/storage` (podman, CRI-O, buildah: `/var/lib/containers/storage`, the overlay
//! driver), read as files:
//!
//! - `overlay-images/images.json`: each image's id (its config's digest), names and top layer;
//! - `overlay-images/<id>/=<base64 of "sha256:<id>">`: the image config, kept as "big data"
//!   under its digest (a key with characters other than `[0-9a-z.]` is stored base64-named);
//! - `overlay-layers/layers.json`: each layer's id, parent and uncompressed digest;
//! - `overlay/<layer id>/diff/`: the layer as a directory, overlayfs whiteouts in it;
//! - `overlay-containers/containers.json`: each container's names, image id and its own
//!   (writable) layer, `overlay/<layer id>/diff/`.

use base64::Engine as _;
use serde::Deserialize;

use super::{
    Container as Made, ContainersOf, Layers, MAX_CONTAINERS, MAX_INDEX, Store, StoreImage,
    component, sha256_hex,
};
use crate::diagnostic::Diagnostic;
use crate::sources::archive::Limits;

#[derive(Deserialize)]
struct Image {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    layer: String,
}

#[derive(Deserialize)]
struct Layer {
    id: String,
    #[serde(default)]
    parent: String,
    #[serde(rename = "diff-digest", default)]
    diff_digest: String,
}

#[derive(Deserialize)]
struct Container {
    #[serde(default)]
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    layer: String,
}

/// The store's images, from `overlay-images/images.json`.
pub(super) fn images(
    store: &Store,
    limits: &Limits,
) -> Result<(Vec<StoreImage>, Vec<Diagnostic>), String> {
    let mut notes = Vec::new();
    let (listed, _held): (Vec<Image>, _) = if store.exists("overlay-images/images.json") {
        store.json("overlay-images/images.json", MAX_INDEX, limits)?
    } else {
        (Vec::new(), crate::budget::Held::default())
    };
    let containers = containers(store, limits, &mut notes);
    let mut out: Vec<StoreImage> = Vec::new();
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for image in listed {
        let id = format!("sha256:{}", image.id);
        if sha256_hex(&id).is_none() {
            notes.push(Diagnostic::incomplete(
                &store.label,
                format!(
                    "`overlay-images/images.json` lists `{}`, no image id: not judged",
                    crate::finding::excerpt(&image.id, 80)
                ),
            ));
            continue;
        }
        // an id listed twice: once, unless the entries disagree on what the image is (its top
        // layer), when each is judged — the store's own reading of such a file is not ours to
        // guess
        match seen.get(&id) {
            Some(layer) if *layer == image.layer => continue,
            Some(_) => notes.push(Diagnostic::note(
                &store.label,
                format!(
                    "`overlay-images/images.json` lists image {id} more than once with different top layers: each is judged"
                ),
            )),
            None => {}
        }
        seen.insert(id.clone(), image.layer.clone());
        let mut names = image.names;
        if let Some(hex) = sha256_hex(&image.digest)
            && let Some(repo) = names.iter().find(|n| !n.contains('@')).map(|n| {
                let last = n.rsplit('/').next().unwrap_or(n);
                let cut = last
                    .rfind(':')
                    .map_or(n.len(), |c| n.len() - last.len() + c);
                n[..cut].to_owned()
            })
        {
            let by_digest = format!("{repo}@sha256:{hex}");
            if !names.contains(&by_digest) {
                names.push(by_digest);
            }
        }
        out.push(StoreImage {
            containers: containers
                .get(&super::image_key(&image.id))
                .cloned()
                .unwrap_or_default(),
            names,
            id,
            detail: Some(image.layer),
        });
    }
    super::orphans(
        store,
        &containers,
        |k| seen.contains_key(&format!("sha256:{k}")),
        &mut notes,
    );
    Ok((out, notes))
}

/// The containers of each image id, from `overlay-containers/containers.json` (which does not
/// say whether they run: podman and CRI-O keep that elsewhere).
fn containers(store: &Store, limits: &Limits, notes: &mut Vec<Diagnostic>) -> ContainersOf {
    let mut of = ContainersOf::new();
    let rel = "overlay-containers/containers.json";
    if !store.exists(rel) {
        return of;
    }
    // each entry on its own: one malformed entry is said, the others judged
    match store.json::<Vec<serde_json::Value>>(rel, MAX_INDEX, limits) {
        Ok((list, _held)) => {
            for (i, entry) in list.into_iter().take(MAX_CONTAINERS).enumerate() {
                let c: Container = match serde_json::from_value(entry) {
                    Ok(c) => c,
                    Err(e) => {
                        notes.push(Diagnostic::incomplete(
                            store.containers_path(),
                            format!(
                                "`{rel}` entry {i} is malformed ({e}): what changed in that container since it started is not judged"
                            ),
                        ));
                        continue;
                    }
                };
                let name = super::shown(
                    &c.names
                        .first()
                        .cloned()
                        .unwrap_or_else(|| c.id.chars().take(12).collect()),
                );
                let writable = match component(&c.layer) {
                    true => Ok(format!("overlay/{}/diff", c.layer)),
                    false => Err(format!(
                        "its record names no layer (`{}`)",
                        crate::finding::excerpt(&c.layer, 80)
                    )),
                };
                of.entry(super::image_key(&c.image))
                    .or_default()
                    .push(Made {
                        name,
                        running: None,
                        writable,
                        env: None,
                        base: None,
                    });
            }
        }
        Err(why) => notes.push(Diagnostic::incomplete(
            store.containers_path(),
            format!("{why}: the containers' writable layers are not judged"),
        )),
    }
    for list in of.values_mut() {
        list.sort();
    }
    of
}

/// An image's config and its layers, each read from its directory, bottom first.
pub(super) fn layers(store: &Store, image: &StoreImage, limits: &Limits) -> Result<Layers, String> {
    let hex = sha256_hex(&image.id).ok_or_else(|| format!("`{}` is no image id", image.id))?;
    let key = base64::engine::general_purpose::STANDARD.encode(format!("sha256:{hex}"));
    let config_at = format!("overlay-images/{hex}/={key}");
    let config = store.read_doc(&config_at, limits.max_json, limits)?;
    if crate::fs::read::sha256_hex(&config) != hex {
        return Err(format!(
            "`{config_at}` does not hash to the image id: the config was changed in place"
        ));
    }
    let parsed: super::ImageConfig =
        serde_json::from_slice(&config).map_err(|e| format!("`{config_at}` is malformed: {e}"))?;
    let (all, _held): (Vec<Layer>, _) =
        store.json("overlay-layers/layers.json", MAX_INDEX, limits)?;
    // the chain from the top layer down, then bottom first
    let mut chain = Vec::new();
    let mut next = image.detail.clone().unwrap_or_default();
    while !next.is_empty() {
        if chain.len() > parsed.rootfs.diff_ids.len() + 1 {
            return Err(
                "the layers' parents form a cycle or a chain longer than the config's".into(),
            );
        }
        let layer = all.iter().find(|l| l.id == next).ok_or_else(|| {
            format!(
                "layer `{}` is not in `overlay-layers/layers.json`",
                crate::finding::excerpt(&next, 80)
            )
        })?;
        chain.push(layer);
        next = layer.parent.clone();
    }
    chain.reverse();
    if chain.len() != parsed.rootfs.diff_ids.len() {
        return Err(format!(
            "the config lists {} layers, `overlay-layers/layers.json` chains {}",
            parsed.rootfs.diff_ids.len(),
            chain.len()
        ));
    }
    let mut out = Vec::new();
    for (i, (layer, diff)) in chain.iter().zip(&parsed.rootfs.diff_ids).enumerate() {
        let n = i + 1;
        if !layer.diff_digest.is_empty() && layer.diff_digest != *diff {
            return Err(format!(
                "layer {n}: `overlay-layers/layers.json` says {}, the config {diff}",
                layer.diff_digest
            ));
        }
        if !component(&layer.id) {
            return Err(format!(
                "layer {n}: `{}` is no layer id",
                crate::finding::excerpt(&layer.id, 80)
            ));
        }
        let listing = super::read_layer_dir(store, &format!("overlay/{}/diff", layer.id), limits)
            .map_err(|e| format!("layer {n} ({diff}): {e}"))?;
        out.push((diff.clone(), listing));
    }
    if out.is_empty() {
        return Err(format!("`{config_at}` lists no layer"));
    }
    Ok((config, out))
}
