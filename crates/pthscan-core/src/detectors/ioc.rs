//! IOC matches (`signatures/ioc.toml`): files with known-bad hashes — by content, or as RECORD
//! lists them; each finding's rule is the IOC entry's id, `pthscan explain ID` prints the entry.
//! Also the one read of every distribution's metadata ([`distributions`]): the inventory, and
//! the per-distribution checks of [`super::malicious`] and [`super::typosquat`] (a detector file
//! of its own would fit it better, as LAYOUT.md's `inventory.rs` has it).

use std::path::{Path, PathBuf};

use pthscan_signatures::ioc::FileIoc;

use super::Ctx;
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location};
use crate::pathfmt::display_path;
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

/// A finding for a file whose content hash is a known-bad one.
pub fn file_finding(ioc: &FileIoc, env_root: &Path, path: &Path, sha256: &str) -> Finding {
    Finding {
        rule: ioc.id.clone().into(),
        severity: ioc.severity,
        location: Location {
            path: path.to_path_buf(),
            line: None,
            column: None,
        },
        environment: Some(env_root.to_path_buf()),
        message: format!(
            "file has the SHA-256 of a known-bad file: {}",
            ioc.description
        ),
        evidence: format!("sha256 {sha256}"),
        sha256: sha256.to_owned(),
        reference: Some(ioc.reference.clone()),
        ..Default::default()
    }
}

/// Findings for RECORD entries that list a known-bad hash (RECORD was regenerated to match the
/// payload in the LiteLLM releases, so the hash it lists is the payload's).
pub fn record_hashes(ctx: &Ctx<'_>, metadata: &[(PathBuf, PathBuf)]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (dir, meta) in metadata {
        let record = meta.with_file_name("RECORD");
        if meta
            .parent()
            .is_none_or(|p| p.extension().is_none_or(|e| e != "dist-info"))
        {
            continue;
        }
        let Ok(data) = ctx.tree.read_unhashed(&record) else {
            continue; // a dist-info without RECORD is issue 5's integrity check, not an IOC
        };
        for (n, line) in String::from_utf8_lossy(&data.bytes).lines().enumerate() {
            let mut fields = line.rsplitn(3, ',');
            let (_size, hash, file) = (fields.next(), fields.next(), fields.next());
            let (Some(hash), Some(file)) = (hash, file) else {
                continue;
            };
            if let Some(ioc) = ctx.sigs.iocs.file(hash) {
                let file = file.trim_matches('"');
                out.push(Finding {
                    rule: ioc.id.clone().into(),
                    severity: ioc.severity,
                    location: Location {
                        path: record.clone(),
                        line: Some(n + 1),
                        column: None,
                    },
                    environment: Some(ctx.env.root.clone()),
                    message: format!(
                        "RECORD lists `{}` with the SHA-256 of a known-bad file: {}",
                        display_path(&dir.join(file)),
                        ioc.description
                    ),
                    evidence: crate::finding::excerpt(line, super::EVIDENCE_CHARS),
                    sha256: crate::fs::sha256_hex(&data.bytes),
                    reference: Some(ioc.reference.clone()),
                    ..Default::default()
                });
            }
        }
    }
    out
}
