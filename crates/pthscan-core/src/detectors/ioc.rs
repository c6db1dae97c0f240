//! IOC matches (`signatures/ioc.toml`): files with known-bad hashes — by content, or as RECORD lists them. Each finding's rule is the IOC
//! entry's id; `pthscan explain ID` prints the entry.

use std::path::{Path, PathBuf};

use pthscan_signatures::ioc::FileIoc;

use super::Ctx;
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location};
use crate::fs::{Kind, Tree};
use crate::pathfmt::display_path;

/// Installed metadata files in the site directories, with the directory each is in:
/// `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, a bare `*.egg-info`.
pub fn metadata_files(tree: &dyn Tree, site_dirs: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in site_dirs {
        out.extend(in_site_dir(tree, dir).into_iter().map(|m| (dir.clone(), m)));
    }
    out
}

fn in_site_dir(tree: &dyn Tree, site_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = tree.list(site_dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .into_iter()
        .filter_map(|e| {
            let is_dir = e.kind == Kind::Dir;
            if e.name.ends_with(".dist-info") && is_dir {
                Some(e.path.join("METADATA"))
            } else if e.name.ends_with(".egg-info") {
                Some(if is_dir {
                    e.path.join("PKG-INFO")
                } else {
                    e.path
                })
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

/// The `*.dist-info`/`*.egg-info` directory a metadata file of [`metadata_files`] is in, its
/// name, and the distribution's name from it (PEP 503-normalised).
pub fn info_dir(meta: &Path) -> Option<(&Path, String, String)> {
    let info = meta.parent()?;
    let name = info.file_name()?.to_string_lossy().into_owned();
    let dist = pthscan_signatures::known_good::normalize_dist(
        name.split_once('-').map_or(name.as_str(), |(n, _)| n),
    );
    Some((info, name, dist))
}

/// `Name` and `Version` from the header block of core metadata.
pub fn name_version(text: &str) -> Option<(String, String)> {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_owned());
        }
    }
    Some((name?, version?))
}

/// The number of distributions in the environment's site directories, and findings for those
/// at known-bad versions (MAL001) or that look like typosquats (TYP001-TYP003).
pub fn distributions(ctx: &Ctx<'_>, metadata: &[(PathBuf, PathBuf)]) -> (usize, Vec<Finding>) {
    let mut count = 0;
    let mut out = Vec::new();
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
        let Some((name, version)) = name_version(&String::from_utf8_lossy(&data.bytes)) else {
            ctx.diagnostics.borrow_mut().push(Diagnostic::note(
                meta,
                "distribution metadata has no Name or Version header",
            ));
            continue;
        };
        count += 1;
        out.extend(super::malicious::release(
            ctx.db,
            "MAL001",
            &name,
            Some(&version),
            Location {
                path: meta.clone(),
                line: None,
            },
            Some(&ctx.env.root),
        ));
        out.extend(super::typosquat::judge(ctx, meta, &name, &version));
    }
    (count, out)
}

/// A finding for a file whose content hash is a known-bad one.
pub fn file_finding(ioc: &FileIoc, env_root: &Path, path: &Path, sha256: &str) -> Finding {
    Finding {
        rule: ioc.id.clone().into(),
        severity: ioc.severity,
        location: Location {
            path: path.to_path_buf(),
            line: None,
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
