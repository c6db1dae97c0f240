//! Lockfiles and requirement files, judged before anything is installed: every pin against
//! the malicious-package database (MAL002), and the advice every supply-chain post-mortem ends
//! with as policy — pin exactly (LCK001), pin by hash (LCK002), fix direct and VCS references
//! to an immutable hash (LCK003), install from the index you meant (LCK004); and a pin named
//! near a popular project (TYP001, [`super::typosquat`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pthscan_db::Database;

use super::RuleDoc;
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, Severity};
use crate::fs::{Kind, Tree};
use crate::python::lockfile::{self, Format, IndexKind, Lockfile, Pin, Pos, Source};

/// The rules of this detector (MAL002 is [`super::malicious`]'s).
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "LCK001",
        fix: super::Fix::Repin,
        rotate: &[],
        title: "requirement not pinned to one version",
        what: "A line of a requirements or constraints file that allows more than one version \
               (`requests>=2`, `flask`, `django~=4.2`). Low. Not reported for a `pyproject.toml`, \
               whose ranges are how a library states what it works with.",
        why: "Whatever is newest at install time is installed: a compromised release published \
              tomorrow (litellm 1.82.8 was on PyPI for hours) goes straight into the next build.",
        example: "requirements.txt:3:1: `requests>=2` allows any version → low",
        references: &[
            "README.md#malicious-package-database-and-lockfiles",
            "pip: Repeatable installs",
            "pip: Secure installs (--require-hashes)",
        ],
    },
    &RuleDoc {
        id: "LCK002",
        fix: super::Fix::Repin,
        rotate: &[],
        title: "pin without a hash",
        what: "A pin that carries no artifact hash: in a requirements file without `--hash`, or a \
               lock entry without hashes. When no pin of a file has one, one finding at its first \
               pin says how many (low); when some do and others do not, each pin without (medium: \
               `pip --require-hashes` would refuse the file).",
        why: "A version number names a release, not its bytes: a replaced file, a mirror or a \
              cache that serves other bytes goes unnoticed. Hashes make the install fail instead.",
        example: "requirements.txt:1:1: 12 of 12 pins carry no hash → low",
        references: &[
            "README.md#malicious-package-database-and-lockfiles",
            "pip: Hash-checking mode",
            "PEP 751 (pylock.toml)",
        ],
    },
    &RuleDoc {
        id: "LCK003",
        fix: super::Fix::Repin,
        rotate: &[],
        title: "direct or VCS reference without an immutable hash",
        what: "A dependency fetched from a URL without a hash, or from version control at a \
               branch, a tag or no revision at all instead of a full commit id. Medium.",
        why: "A branch or a tag moves and a URL serves what its owner puts there today: whoever \
              controls it decides what the next install runs.",
        example: "requirements.txt:7:1: git+https://github.com/x/y@main#egg=y → medium",
        references: &[
            "README.md#malicious-package-database-and-lockfiles",
            "pip: VCS support",
            "PEP 440 direct references",
        ],
    },
    &RuleDoc {
        id: "LCK004",
        fix: super::Fix::Repin,
        rotate: &[],
        title: "index other than PyPI",
        what: "An index the file installs from that is not https://pypi.org/simple: a replacing \
               index (`--index-url`, a lock's registry) is low; an extra index searched beside it \
               (`--extra-index-url`) is medium; `--find-links` is low.",
        why: "An extra index is the dependency-confusion shape: pip takes the highest version of a \
              name from any index, so a public upload can shadow a private package. A replacing \
              index must be one you run.",
        example: "requirements.txt:1:1: --extra-index-url https://pkgs.example.com/simple → medium",
        references: &[
            "README.md#malicious-package-database-and-lockfiles",
            "pip: --extra-index-url",
            "Birsan, Dependency Confusion (2021)",
        ],
    },
];

/// At most this many bytes of one lockfile are read (beyond, said): real locks are rarely over
/// 2 MiB, and a TOML parse with positions holds some fifty times its input — a hostile 13 MB
/// `uv.lock` took 640 MB at 16 MiB, 226 MB at this cap.
const MAX_LOCKFILE: u64 = 4 << 20;

/// At most this many distinct names of one file are compared with the popular list (each
/// comparison is thousands of edit distances): a real lock names a few thousand; a hostile
/// file of a million names must not cost hours.
const MAX_NAME_CHECKS: usize = 5_000;

/// At most this many `-r`/`-c` levels are followed.
const INCLUDE_DEPTH: usize = 8;

/// Judges one lockfile or requirement file and what it includes; `reported` holds the files
/// already judged in this scan (an included file found by the walk too is judged once).
pub fn judge(
    tree: &dyn Tree,
    db: &Database,
    path: &Path,
    format: Format,
    reported: &mut HashSet<PathBuf>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut out = Judged::default();
    judge_file(tree, db, path, format, 0, reported, &mut out);
    (out.findings, out.diagnostics)
}

#[derive(Default)]
struct Judged {
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
}

fn judge_file(
    tree: &dyn Tree,
    db: &Database,
    path: &Path,
    format: Format,
    depth: usize,
    reported: &mut HashSet<PathBuf>,
    out: &mut Judged,
) {
    if !reported.insert(path.to_path_buf()) {
        return;
    }
    let data = match tree.read_capped(path, MAX_LOCKFILE) {
        Ok(d) => d,
        Err(err) => {
            out.diagnostics.push(Diagnostic::incomplete(
                path,
                format!("cannot read {}: {err}", format.name()),
            ));
            return;
        }
    };
    if data.truncated {
        out.diagnostics.push(Diagnostic::incomplete(
            path,
            format!(
                "{} larger than {} MiB: only its first {} bytes were judged",
                format.name(),
                MAX_LOCKFILE >> 20,
                data.bytes.len()
            ),
        ));
    }
    let text = if format == Format::Requirements {
        decode_as_pip(&data.bytes)
    } else {
        // TOML and JSON lockfiles are UTF-8 by their specifications
        String::from_utf8_lossy(&data.bytes).into_owned()
    };
    let lock = lockfile::parse(format, &text);
    for p in &lock.problems {
        let message = format!("{}:{}: {}", p.pos.line, p.pos.column, p.message);
        out.diagnostics.push(if p.unread {
            Diagnostic::incomplete(path, message)
        } else {
            Diagnostic::note(path, message)
        });
    }
    let at = |pos: Pos| Location {
        path: path.to_path_buf(),
        line: Some(pos.line as usize),
        column: Some(pos.column as usize),
    };
    let mut checked: std::collections::HashMap<String, Option<super::typosquat::Near<'static>>> =
        std::collections::HashMap::new();
    for pin in &lock.pins {
        if pin.normalized.is_empty() {
            continue;
        }
        out.findings.extend(super::malicious::release(
            db,
            "MAL002",
            &pin.name,
            pin.version.as_deref(),
            at(pin.pos),
            None,
        ));
        if pin.version.is_none()
            && matches!(pin.source, Source::Index(_))
            && !pin.requirement.trim().is_empty()
        {
            let severity = if format == Format::PyProject {
                Severity::Low
            } else {
                Severity::Medium
            };
            out.findings.extend(super::malicious::range(
                db,
                &pin.name,
                &pin.requirement,
                at(pin.pos),
                severity,
            ));
        }
        // a pin named like a popular project it is not: the typo happens where names are
        // typed, and a lockfile is where it is caught before the install
        if matches!(pin.source, Source::Path(_)) {
            continue;
        }
        if !checked.contains_key(&pin.normalized) {
            if checked.len() == MAX_NAME_CHECKS {
                out.diagnostics.push(Diagnostic::incomplete(
                    path,
                    format!(
                        "more than {MAX_NAME_CHECKS} package names: the rest were not compared with the popular list (TYP001)"
                    ),
                ));
            }
            let near = (checked.len() < MAX_NAME_CHECKS)
                .then(|| super::typosquat::near_popular(&pin.name))
                .flatten();
            checked.insert(pin.normalized.clone(), near);
        }
        if let Some(Some(near)) = checked.get(&pin.normalized) {
            out.findings.push(finding(
                "TYP001",
                Severity::Medium,
                at(pin.pos),
                format!(
                    "`{}` is named near the popular `{}` (rank {} by downloads): {}; check that it is the project meant",
                    pin.name, near.project, near.rank, near.kind
                ),
                format!("{}{}", pin.name, pin.requirement),
            ));
        }
    }
    policy(path, &lock, &at, &mut out.findings);
    for inc in &lock.includes {
        let target = match path.parent() {
            Some(dir) => dir.join(&inc.path),
            None => PathBuf::from(&inc.path),
        };
        let target = crate::fs::normalize(&target);
        if depth + 1 > INCLUDE_DEPTH {
            out.diagnostics.push(Diagnostic::incomplete(
                path,
                format!(
                    "{}:{}: `{}` not followed: more than {INCLUDE_DEPTH} levels of includes",
                    inc.pos.line, inc.pos.column, inc.path
                ),
            ));
            continue;
        }
        match tree.kind(&target) {
            Some(Kind::File) => judge_file(
                tree,
                db,
                &target,
                Format::Requirements,
                depth + 1,
                reported,
                out,
            ),
            _ => out.diagnostics.push(Diagnostic::incomplete(
                path,
                format!(
                    "{}:{}: included file `{}` is not a readable file in the scanned tree",
                    inc.pos.line, inc.pos.column, inc.path
                ),
            )),
        }
    }
}

/// A requirements file's text as pip's `auto_decode` reads it: by its byte-order mark
/// (UTF-32, UTF-16, UTF-8), else as UTF-8 (the locale's encoding and PEP 263 lines aside).
fn decode_as_pip(bytes: &[u8]) -> String {
    let utf32 = |rest: &[u8], le: bool| -> String {
        rest.chunks_exact(4)
            .map(|c| {
                let n = if le {
                    u32::from_le_bytes([c[0], c[1], c[2], c[3]])
                } else {
                    u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                };
                char::from_u32(n).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect()
    };
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe\x00\x00") {
        return utf32(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\x00\x00\xfe\xff") {
        return utf32(rest, false);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return encoding_rs::UTF_16LE
            .decode_without_bom_handling(rest)
            .0
            .into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return encoding_rs::UTF_16BE
            .decode_without_bom_handling(rest)
            .0
            .into_owned();
    }
    String::from_utf8_lossy(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)).into_owned()
}

fn finding(
    rule: &'static str,
    severity: Severity,
    at: Location,
    message: String,
    evidence: String,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        location: at,
        message,
        evidence,
        ..Default::default()
    }
}

fn policy(path: &Path, lock: &Lockfile, at: &dyn Fn(Pos) -> Location, out: &mut Vec<Finding>) {
    let pins: Vec<&Pin> = lock
        .pins
        .iter()
        .filter(|p| !matches!(p.source, Source::Path(_)) && !p.normalized.is_empty())
        .collect();
    let requirements = lock.format == Format::Requirements;
    // LCK001: a requirements line that allows more than one version (a lock always pins)
    if requirements {
        for p in &pins {
            if p.version.is_none() && matches!(p.source, Source::Index(_)) {
                let spec = if p.requirement.is_empty() {
                    "any version".to_owned()
                } else {
                    format!("`{}`", p.requirement)
                };
                out.push(finding(
                    "LCK001",
                    Severity::Low,
                    at(p.pos),
                    format!("{} is not pinned to one version: {spec} allows whatever is newest at install time", p.name),
                    format!("{}{}", p.name, p.requirement),
                ));
            }
        }
    }
    // LCK002: hashes, all or nothing (a pyproject.toml states ranges, never hashes)
    if lock.format != Format::PyProject {
        let indexed: Vec<&&Pin> = pins
            .iter()
            .filter(|p| matches!(p.source, Source::Index(_)))
            .collect();
        let without: Vec<&&&Pin> = indexed.iter().filter(|p| p.hashes.is_empty()).collect();
        if !without.is_empty() && without.len() == indexed.len() {
            let first = without[0];
            out.push(finding(
                "LCK002",
                Severity::Low,
                at(first.pos),
                format!(
                    "{} of {} pins carry no hash: the file names versions, not the bytes installed ({})",
                    without.len(),
                    indexed.len(),
                    path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
                ),
                format!("{}{}", first.name, first.requirement),
            ));
        } else {
            for p in without {
                out.push(finding(
                    "LCK002",
                    Severity::Medium,
                    at(p.pos),
                    format!("{} carries no hash while other pins of the file do: `pip --require-hashes` refuses the file, and these bytes are not checked", p.name),
                    format!("{}{}", p.name, p.requirement),
                ));
            }
        }
    }
    // LCK003: direct URLs without a hash, VCS references without a commit
    for p in &pins {
        match &p.source {
            Source::Url(url) if p.hashes.is_empty() && !url_has_hash(url) => out.push(finding(
                "LCK003",
                Severity::Medium,
                at(p.pos),
                format!("{} comes from a URL with no hash: whoever serves it decides what is installed", p.name),
                url.clone(),
            )),
            Source::Vcs { url, commit: None } => out.push(finding(
                "LCK003",
                Severity::Medium,
                at(p.pos),
                format!("{} comes from version control at a branch, tag or no revision, not a full commit id: it can move", p.name),
                url.clone(),
            )),
            _ => {}
        }
    }
    // LCK004: indexes other than PyPI, each once
    for idx in &lock.indexes {
        if lockfile::is_default_index(&idx.url) {
            continue;
        }
        let (severity, what) = match idx.kind {
            IndexKind::Extra => (
                Severity::Medium,
                "an extra index searched beside the primary one: a public upload of a private name can shadow it (dependency confusion)",
            ),
            IndexKind::Primary => (Severity::Low, "packages come from an index other than PyPI"),
            IndexKind::FindLinks => (
                Severity::Low,
                "packages may come from a page or directory of links",
            ),
        };
        out.push(finding(
            "LCK004",
            severity,
            at(idx.pos),
            what.to_owned(),
            idx.url.clone(),
        ));
    }
}

/// Whether a direct URL fixes its bytes: `#sha256=…` (pip's fragment) or another hash name.
fn url_has_hash(url: &str) -> bool {
    url.split_once('#').is_some_and(|(_, frag)| {
        frag.split('&').any(|kv| {
            kv.split_once('=').is_some_and(|(k, v)| {
                matches!(k, "sha256" | "sha384" | "sha512" | "sha3_256" | "blake2b")
                    && !v.is_empty()
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_files_are_decoded_by_their_byte_order_mark() {
        let text = "litellm==1.82.8\n";
        let utf16le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let utf16be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let utf32le: Vec<u8> = [0xff, 0xfe, 0, 0]
            .into_iter()
            .chain(text.chars().flat_map(|c| (c as u32).to_le_bytes()))
            .collect();
        let utf8 = [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat();
        for bytes in [utf16le, utf16be, utf32le, utf8] {
            assert_eq!(decode_as_pip(&bytes), text);
        }
    }

    #[test]
    fn url_hash_fragments() {
        assert!(url_has_hash("https://x/y-1.0.tar.gz#sha256=abcd"));
        assert!(url_has_hash("https://x/y-1.0.tar.gz#egg=y&sha256=abcd"));
        assert!(!url_has_hash("https://x/y-1.0.tar.gz#egg=y"));
        assert!(!url_has_hash("https://x/y-1.0.tar.gz"));
    }
}
