//! ARC: archive shapes that fool installers or scanners — a member name that leaves the
//! destination, two members with one name, a zip local header that disagrees with the central
//! directory, link members — and shapes built to exhaust a scanner: overlapping zip entries,
//! names and headers far past any real one, images that reference one layer over and over —
//! and image tarballs whose `manifest.json` and `index.json` lead to different images.
//! Truncation, corruption and a spent memory budget are diagnostics, not findings: they say what
//! could not be judged. A bomb is both: what it kept from being judged, and that it was there.

use std::path::PathBuf;

use super::RuleDoc;
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, Severity};
use crate::sources::archive::{Problem, ProblemKind};

/// The rules.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "ARC001",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "archive member escapes its destination",
        what: "A member named with an absolute path or a `..` that climbs out of the archive, or \
               a link member whose target does. High.",
        why: "Extracting it writes (or reads through a link) outside the install directory: the \
              path-traversal that turns an install into a write anywhere. No honest package \
              needs it.",
        example: "evil-1.0.tar.gz › ../../etc/cron.d/x → high",
        references: &[
            "README.md#artifacts-wheels-sdists-caches-container-images",
            "uv crates/uv-extract (member name validation)",
            "CVE-2007-4559",
        ],
    },
    &RuleDoc {
        id: "ARC002",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "duplicate archive member",
        what: "Two members with the same name. Medium.",
        why: "Readers disagree about which copy counts (first, last, central directory), so a \
              scanner can judge one file while the installer writes the other.",
        example: "x-1.0-py3-none-any.whl › x/__init__.py (twice) → medium",
        references: &[
            "README.md#artifacts-wheels-sdists-caches-container-images",
            "uv crates/uv-extract (duplicate entries)",
        ],
    },
    &RuleDoc {
        id: "ARC003",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "zip local header disagrees with the central directory",
        what: "A zip member whose local file header names another file than the central \
               directory entry that points at it. Medium.",
        why: "Streaming readers follow local headers, others the central directory: the same \
              archive shows two different contents — a known way to slip a file past review.",
        example: "x.whl › x/__init__.py (local header says x/evil.py) → medium",
        references: &[
            "README.md#artifacts-wheels-sdists-caches-container-images",
            "uv crates/uv-extract (local/central header validation)",
        ],
    },
    &RuleDoc {
        id: "ARC004",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "link member in a package archive",
        what: "A symlink or hard link member inside a wheel or sdist that stays inside the \
               archive. Low.",
        why: "Wheels cannot carry links (installers write the link text as a file); in an sdist \
              a link is legal but lets a build reach files by another name.",
        example: "x-1.0.tar.gz › x-1.0/LICENSE -> ../COPYING → low",
        references: &[
            "README.md#artifacts-wheels-sdists-caches-container-images",
            "PEP 427 (wheel contents)",
        ],
    },
    &RuleDoc {
        id: "ARC005",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "archive disguised as another kind of file",
        what: "A member that is a zip archive but is named like source, bytecode, a certificate, \
               an image or text (`server.crt`, `_websocket.typed`). The archive is opened and \
               judged too. High.",
        why: "`zipimport` loads code from such a file while every reviewer and most scanners skip \
              it as data: a known way to ship a payload inside a typosquat.",
        example: "aiohttp_x-3.13.1-py3-none-any.whl › aiohttp/server.crt → high",
        references: &[
            "README.md#artifacts-wheels-sdists-caches-container-images",
            "pypi_malregistry: aiohttp typosquats (2025)",
        ],
    },
    &RuleDoc {
        id: "ARC006",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "zip entries overlap: a bomb without a ratio",
        what: "Several central directory entries of a zip point at one local header, or at byte \
               ranges that overlap. Each range is decompressed once; the entries that lie on \
               another's bytes are listed, not read. High.",
        why: "No zip writer produces it: it is how a few kilobytes are made to inflate to \
              gigabytes in readers that decompress every entry (David Fifield's non-recursive \
              zip bomb) — an input built to blind or kill whatever scans it.",
        example: "x-1.0-py3-none-any.whl (40 entries on one 50 MiB deflate stream) → high",
        references: &[
            "README.md#artifacts-wheels-sdists-caches-container-images",
            "D. Fifield, A better zip bomb (WOOT 2019)",
            "CVE-2019-9674",
        ],
    },
    &RuleDoc {
        id: "ARC007",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "input built to exhaust a scanner",
        what: "An archive or image shaped to exhaust whoever reads it: a decompression bomb, a \
               member name, link target or PAX header far past any a system can use, an image \
               manifest or config past the size cap, a layer or manifest referenced over and \
               over, a cycle of nested indexes. What was cut is said in a diagnostic. High.",
        why: "Such an input has no use but to make a scanner die, hang or give up — and whatever \
              it sits beside goes unjudged: a scheduled sweep killed by its memory limit reports \
              nothing at all. It was put there for a reason.",
        example: "pkg-1.0.tar.gz (one 64 KiB PAX path) → high",
        references: &[
            "CVE-2007-4559",
            "README.md#artifacts-wheels-sdists-caches-container-images",
        ],
    },
    &RuleDoc {
        id: "ARC008",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "image tarball that loads differently in different runtimes",
        what: "An image tarball that is both a `docker save` (`manifest.json`) and an OCI \
               archive (`oci-layout`, `index.json`), as Docker 25 and later write them, where \
               the two lead to different images: other layers for a tag, or images only one of \
               them lists; or an image tarball with two blobs or documents of one name (the \
               first is judged, the later one not read). Every image either document leads to \
               is judged. High.",
        why: "Docker's own loader reads `manifest.json`; containerd (docker with the containerd \
              image store, nerdctl, ctr) reads `index.json` whenever `oci-layout` is there. A \
              tarball that tells them different things shows a reviewer or scanner one image \
              and runs another: no tool that writes both lets them disagree.",
        example: "app.tar (manifest.json → a clean layer, index.json → a layer with a .pth) → high",
        references: &[
            "README.md#artifacts-wheels-sdists-caches-container-images",
            "OCI image layout specification (index.json)",
            "moby image/tarexport (manifest.json)",
        ],
    },
];

/// Findings and diagnostics for what reading the archive shown as `label` met.
pub fn judge(label: &str, problems: &[Problem]) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    for p in problems {
        let path = match &p.member {
            Some(m) => PathBuf::from(format!("{label} › {m}")),
            None => PathBuf::from(label),
        };
        let (rule, severity) = match p.kind {
            ProblemKind::Escapes => ("ARC001", Severity::High),
            ProblemKind::Duplicate => ("ARC002", Severity::Medium),
            ProblemKind::HeaderMismatch => ("ARC003", Severity::Medium),
            ProblemKind::Link => ("ARC004", Severity::Low),
            ProblemKind::Disguised => ("ARC005", Severity::High),
            ProblemKind::Overlap => ("ARC006", Severity::High),
            ProblemKind::Ambiguous => ("ARC008", Severity::High),
            // what it kept from being judged, and that it was there
            ProblemKind::Bomb | ProblemKind::Exhausting => {
                diagnostics.push(Diagnostic::incomplete(path.clone(), p.detail.clone()));
                ("ARC007", Severity::High)
            }
            ProblemKind::Repeated => {
                diagnostics.push(Diagnostic::note(path.clone(), p.detail.clone()));
                ("ARC007", Severity::High)
            }
            kind => {
                diagnostics.push(if kind.incomplete() {
                    Diagnostic::incomplete(path, p.detail.clone())
                } else {
                    Diagnostic::note(path, p.detail.clone())
                });
                continue;
            }
        };
        findings.push(Finding {
            rule: rule.into(),
            severity,
            location: Location {
                path,
                line: None,
                column: None,
            },
            environment: Some(PathBuf::from(label)),
            message: p.detail.clone(),
            evidence: crate::finding::excerpt(
                p.member.as_deref().unwrap_or(label),
                super::EVIDENCE_CHARS,
            ),
            ..Default::default()
        });
    }
    (findings, diagnostics)
}
