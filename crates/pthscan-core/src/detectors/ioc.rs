//! IOC matches (`signatures/ioc.toml`): files with known-bad hashes — by content, or as RECORD
//! lists them; each finding's rule is the IOC entry's id, `pthscan explain ID` prints the entry.

use std::path::{Path, PathBuf};

use pthscan_signatures::ioc::FileIoc;

use super::Ctx;
use crate::finding::{Finding, Location};
use crate::pathfmt::display_path;

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
