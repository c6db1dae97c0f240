//! The one read of every installed distribution's metadata: the environment's inventory
//! (`environments[].inventory`, CycloneDX components, baselines' INV rules), and the
//! per-distribution checks that need it — known-bad releases ([`super::malicious`], MAL001) and
//! typosquats ([`super::typosquat`], TYP001–TYP003).

use std::path::PathBuf;

use super::Ctx;
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location};
use crate::python::dist::Distribution;

/// The inventory of the environment's site directories — each metadata file read once — and
/// findings for the distributions at known-bad versions (MAL001) or that look like typosquats
/// (TYP001-TYP003).
pub fn distributions(
    ctx: &Ctx<'_>,
    metadata: &[(PathBuf, PathBuf)],
) -> (Vec<Distribution>, Vec<Finding>) {
    let mut inventory = Vec::new();
    let mut out = Vec::new();
    // who requires whom (`Requires-Dist`), for the typosquat rules: a popular project that
    // depends on a near-named distribution split itself (griffe → griffelib)
    let mut required_by: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for (_, meta) in metadata {
        // the header block is at the top: no need to read long descriptions
        let data = match ctx.tree.read_capped(meta, 16 * 1024) {
            Ok(d) => d,
            Err(err) => {
                ctx.diagnostics.borrow_mut().push(Diagnostic::incomplete(
                    meta,
                    format!("cannot read distribution metadata: {err}"),
                ));
                continue;
            }
        };
        let text = String::from_utf8_lossy(&data.bytes);
        let Some(dist) = Distribution::read(ctx.tree, meta, &text) else {
            ctx.diagnostics.borrow_mut().push(Diagnostic::note(
                meta,
                "distribution metadata has no Name or Version header",
            ));
            continue;
        };
        out.extend(super::malicious::release(
            ctx.db,
            "MAL001",
            &dist.name,
            Some(&dist.version),
            Location {
                path: meta.clone(),
                line: None,
                column: None,
            },
            Some(&ctx.env.root),
        ));
        for required in requires_dist(&text) {
            required_by
                .entry(required)
                .or_default()
                .push(pthscan_db::normalize(&dist.name));
        }
        inventory.push(dist);
    }
    for dist in &inventory {
        let requirers = required_by
            .get(&pthscan_db::normalize(&dist.name))
            .map_or(&[][..], Vec::as_slice);
        out.extend(super::typosquat::judge(
            ctx,
            &dist.metadata,
            &dist.name,
            &dist.version,
            requirers,
        ));
    }
    (inventory, out)
}

/// The names (PEP 503) of the `Requires-Dist` headers of core metadata.
fn requires_dist(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("Requires-Dist:"))
        .filter_map(|r| {
            let r = r.trim_start();
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(r.len());
            (end > 0).then(|| pthscan_db::normalize(&r[..end]))
        })
        .collect()
}
