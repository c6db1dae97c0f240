//! Docker's classic image store (`/var/lib/docker`, storage driver overlay2), read as files:
//!
//! - `image/overlay2/repositories.json`: references (`app:1.0`, `app@sha256:…`) → image ids;
//! - `image/overlay2/imagedb/content/sha256/<id>`: the image config (its digest is the id):
//!   `rootfs.diff_ids`, `history`, `config.Env`;
//! - `image/overlay2/layerdb/sha256/<chain id>/{diff,cache-id}`: each layer of the chain (the
//!   chain id of layer n is `sha256("<chain id n-1> <diff id n>")`, as the OCI spec defines it);
//! - `overlay2/<cache-id>/diff/`: the layer as a directory, overlayfs whiteouts in it;
//! - `containers/<id>/config.v2.json`: each container's image id, name and state;
//! - `image/overlay2/layerdb/mounts/<container id>/mount-id`: the cache id of its writable
//!   layer, `overlay2/<mount-id>/diff/`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    Container as Made, ContainersOf, Layers, MAX_CONTAINERS, MAX_INDEX, Store, StoreImage,
    component, sha256_hex,
};
use crate::diagnostic::Diagnostic;
use crate::fs::Kind;
use crate::sources::archive::Limits;

const IMAGE_DB: &str = "image/overlay2";

#[derive(Deserialize, Default)]
struct Repositories {
    #[serde(rename = "Repositories", default)]
    repositories: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct Container {
    #[serde(rename = "Image", default)]
    image: String,
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "State", default)]
    state: State,
    #[serde(rename = "Config", default)]
    config: ContainerConfig,
}

#[derive(Deserialize, Default)]
struct ContainerConfig {
    #[serde(rename = "Env", default)]
    env: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct State {
    #[serde(rename = "Running", default)]
    running: bool,
}

/// The store's images: every config in the image db, named by the references that lead to it.
pub(super) fn images(
    store: &Store,
    limits: &Limits,
) -> Result<(Vec<StoreImage>, Vec<Diagnostic>), String> {
    let mut notes = Vec::new();
    if !store.exists(IMAGE_DB) {
        let drivers: Vec<String> = store
            .list("image")
            .unwrap_or_default()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        return Err(format!(
            "no `{IMAGE_DB}`: only the overlay2 storage driver is read (this store has `image/{}`)",
            drivers.join("`, `image/")
        ));
    }
    let (repos, _held): (Repositories, _) =
        if store.exists(&format!("{IMAGE_DB}/repositories.json")) {
            store.json(&format!("{IMAGE_DB}/repositories.json"), MAX_INDEX, limits)?
        } else {
            (Repositories::default(), crate::budget::Held::default())
        };
    let content = format!("{IMAGE_DB}/imagedb/content/sha256");
    let ids: Vec<String> = store
        .list(&content)
        .map_err(|e| format!("cannot list `{content}`: {e}"))?
        .into_iter()
        .filter(|(n, k)| *k == Kind::File && sha256_hex(&format!("sha256:{n}")).is_some())
        .map(|(n, _)| format!("sha256:{n}"))
        .collect();
    let mut names: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for refs in repos.repositories.values() {
        for (reference, id) in refs {
            names.entry(id.as_str()).or_default().insert(reference);
        }
    }
    let in_db: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    for (id, refs) in &names {
        if !in_db.contains(id) {
            let shown: Vec<&str> = refs.iter().take(5).copied().collect();
            let more = refs.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            notes.push(Diagnostic::incomplete(
                &store.label,
                format!(
                    "`{}`{more} name image {id}, which is not in the image db: not judged",
                    shown.join("`, `")
                ),
            ));
        }
    }
    let containers = containers(store, limits, &mut notes);
    super::orphans(
        store,
        &containers,
        |k| in_db.contains(format!("sha256:{k}").as_str()),
        &mut notes,
    );
    let images = ids
        .into_iter()
        .map(|id| {
            let mut refs: Vec<String> = names
                .get(id.as_str())
                .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
                .unwrap_or_default();
            // tags first, then digests, each in order
            refs.sort_by_key(|r| (r.contains('@'), r.clone()));
            StoreImage {
                names: refs,
                containers: containers
                    .get(&super::image_key(&id))
                    .cloned()
                    .unwrap_or_default(),
                id,
                detail: None,
            }
        })
        .collect();
    Ok((images, notes))
}

/// The containers of each image id, from `containers/<id>/config.v2.json`; one that cannot be
/// read is a note (the images are judged whatever runs them).
fn containers(store: &Store, limits: &Limits, notes: &mut Vec<Diagnostic>) -> ContainersOf {
    let mut of = ContainersOf::new();
    let Ok(dirs) = store.list("containers") else {
        return of;
    };
    for (id, kind) in dirs.into_iter().take(MAX_CONTAINERS) {
        if kind != Kind::Dir || !component(&id) {
            continue;
        }
        let rel = format!("containers/{id}/config.v2.json");
        match store.json::<Container>(&rel, limits.max_json, limits) {
            Ok((c, _held)) => {
                let name = c.name.trim_start_matches('/');
                let name = if name.is_empty() {
                    &id[..12.min(id.len())]
                } else {
                    name
                };
                let mount = format!("{IMAGE_DB}/layerdb/mounts/{id}/mount-id");
                let writable = store
                    .read_doc(&mount, 4096, limits)
                    .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                    .and_then(|m| match component(&m) {
                        true => Ok(format!("overlay2/{m}/diff")),
                        false => Err(format!("`{mount}` names no layer directory")),
                    });
                of.entry(super::image_key(&c.image))
                    .or_default()
                    .push(Made {
                        name: super::shown(name),
                        running: Some(c.state.running),
                        writable,
                        env: c.config.env,
                        base: None,
                    });
            }
            Err(why) => notes.push(Diagnostic::incomplete(
                store.containers_path(),
                format!("{why}: what changed in container {id} since it started is not judged"),
            )),
        }
    }
    for list in of.values_mut() {
        list.sort();
    }
    of
}

/// An image's config and its layers, each read from its directory, bottom first.
pub(super) fn layers(store: &Store, image: &StoreImage, limits: &Limits) -> Result<Layers, String> {
    let hex = sha256_hex(&image.id).ok_or_else(|| format!("`{}` is no image id", image.id))?;
    let config_at = format!("{IMAGE_DB}/imagedb/content/sha256/{hex}");
    let config = store.read_doc(&config_at, limits.max_json, limits)?;
    if crate::fs::read::sha256_hex(&config) != hex {
        return Err(format!(
            "`{config_at}` does not hash to its name: the config was changed in place"
        ));
    }
    let parsed: super::ImageConfig =
        serde_json::from_slice(&config).map_err(|e| format!("`{config_at}` is malformed: {e}"))?;
    let mut out = Vec::new();
    let mut chain: Option<String> = None;
    for (i, diff) in parsed.rootfs.diff_ids.iter().enumerate() {
        let n = i + 1;
        if sha256_hex(diff).is_none() {
            return Err(format!("layer {n}: `{diff}` is no sha256 diff id"));
        }
        let id = match &chain {
            None => diff.clone(),
            Some(parent) => format!(
                "sha256:{}",
                crate::fs::read::sha256_hex(format!("{parent} {diff}").as_bytes())
            ),
        };
        let at = format!("{IMAGE_DB}/layerdb/{}", id.replacen(':', "/", 1));
        let read = |name: &str| -> Result<String, String> {
            let bytes = store.read_doc(&format!("{at}/{name}"), 4096, limits)?;
            Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
        };
        let recorded = read("diff").map_err(|e| format!("layer {n} ({diff}): {e}"))?;
        if recorded != *diff {
            return Err(format!(
                "layer {n}: `{at}/diff` says {recorded}, the config {diff}"
            ));
        }
        let cache = read("cache-id").map_err(|e| format!("layer {n} ({diff}): {e}"))?;
        if !component(&cache) {
            return Err(format!(
                "layer {n} ({diff}): `{at}/cache-id` is no cache id: `{}`",
                crate::finding::excerpt(&cache, 80)
            ));
        }
        let listing = super::read_layer_dir(store, &format!("overlay2/{cache}/diff"), limits)
            .map_err(|e| format!("layer {n} ({diff}): {e}"))?;
        out.push((diff.clone(), listing));
        chain = Some(id);
    }
    if out.is_empty() {
        return Err(format!("`{config_at}` lists no layer"));
    }
    Ok((config, out))
}
