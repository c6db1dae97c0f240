//! REC: a wheel's members against its own `RECORD` — files it does not list, files it lists that
//! are missing, files whose hash or size differs.

use std::collections::HashMap;
use std::path::PathBuf;

use super::RuleDoc;
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::python::record::{self, RecordRow};
use crate::sources::MemTree;
use crate::sources::archive::{Entry, Listing};

/// The rules.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "REC001",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "file not listed in RECORD",
        what: "A wheel member that its `*.dist-info/RECORD` does not list (RECORD's own \
               signature files excepted). Medium.",
        why: "Build tools list every file they pack; a file added afterwards is how a wheel is \
              tampered with after its build, and uninstalling leaves it behind.",
        example: "x-1.0-py3-none-any.whl › x_init.pth (not in RECORD) → medium",
        references: &[
            "README.md#integrity-and-persistence",
            "PEP 427 (the RECORD file)",
            "PEP 376",
        ],
    },
    &RuleDoc {
        id: "REC002",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "RECORD lists a missing file",
        what: "A `RECORD` row for a file the wheel does not contain. Low.",
        why: "A broken or hand-edited wheel; installers refuse some of these.",
        example: "x-1.0-py3-none-any.whl › x-1.0.dist-info/RECORD:3 → low",
        references: &[
            "README.md#integrity-and-persistence",
            "PEP 427 (the RECORD file)",
        ],
    },
    &RuleDoc {
        id: "REC003",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "file differs from its RECORD hash or size",
        what: "A wheel member whose hash (over the whole member, any name RECORD allows: \
               SHA-2, SHA-3, BLAKE2) or size is not the one `RECORD` gives. High.",
        why: "The file was changed after the wheel was built; pip refuses to install such a \
              wheel, so the wheel was made by hand or for another installer.",
        example: "x-1.0-py3-none-any.whl › x/__init__.py (hash mismatch) → high",
        references: &[
            "README.md#integrity-and-persistence",
            "PEP 427 (the RECORD file)",
        ],
    },
    &RuleDoc {
        id: "REC004",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "wheel without RECORD",
        what: "A wheel with no `*.dist-info/RECORD`, so nothing in it can be checked. Medium.",
        why: "Every build tool writes RECORD; installers refuse a wheel without one.",
        example: "x-1.0-py3-none-any.whl → medium",
        references: &[
            "README.md#integrity-and-persistence",
            "PEP 427 (the RECORD file)",
        ],
    },
];

/// Checks a wheel's members (as listed by the archive reader) against its RECORD: each hash
/// over the whole member, whatever its size (a member of which only the head is held is read
/// again where it lies). Returns the findings, and what could not be checked (a member that
/// cannot be read whole, hash names RECORD does not allow).
pub fn check_wheel(tree: &MemTree, listing: &Listing) -> (Vec<Finding>, Vec<Diagnostic>) {
    let label = tree.label();
    let shown = |member: &str| PathBuf::from(format!("{label} › {member}"));
    let finding = |rule: &'static str, severity, path: PathBuf, line, message: String| Finding {
        rule: rule.into(),
        severity,
        location: Location {
            path,
            line,
            column: None,
        },
        environment: Some(PathBuf::from(label)),
        message,
        ..Default::default()
    };
    let record_member = listing
        .members
        .iter()
        .find(|m| m.name.ends_with(".dist-info/RECORD") && m.name.matches('/').count() == 1);
    let Some(record_member) = record_member else {
        return (
            vec![finding(
                "REC004",
                Severity::Medium,
                PathBuf::from(label),
                None,
                "wheel has no *.dist-info/RECORD: its files cannot be checked".into(),
            )],
            Vec::new(),
        );
    };
    let Entry::File {
        data: Some(text), ..
    } = &record_member.entry
    else {
        return (Vec::new(), Vec::new());
    };
    // parsed rows cost several times the text: a RECORD past any real one's size is not parsed
    if text.len() as u64 > super::integrity::MAX_RECORD {
        return (
            vec![finding(
                "ARC007",
                Severity::High,
                shown(&record_member.name),
                None,
                format!(
                    "RECORD is {} bytes, more than the {} any real wheel's has (torch's is 1.5 MB): built to exhaust a scanner; its rows were not checked",
                    text.len(),
                    super::integrity::MAX_RECORD
                ),
            )],
            Vec::new(),
        );
    }
    let rows = record::parse(&String::from_utf8_lossy(text));
    let by_path: HashMap<&str, &RecordRow> = rows.iter().map(|r| (r.path.as_str(), r)).collect();
    let record_path = shown(&record_member.name);
    let dist_info = record_member.name.trim_end_matches("RECORD");
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    // hash names RECORD does not allow or we cannot check, each with its first row
    let mut unchecked: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let mut present = std::collections::HashSet::new();
    for m in &listing.members {
        let Entry::File { data, size } = &m.entry else {
            continue;
        };
        present.insert(m.name.as_str());
        let is_signature = m
            .name
            .strip_prefix(dist_info)
            .is_some_and(|f| matches!(f, "RECORD" | "RECORD.jws" | "RECORD.p7s"));
        let Some(row) = by_path.get(m.name.as_str()) else {
            if !is_signature {
                let mut f = finding(
                    "REC001",
                    Severity::Medium,
                    shown(&m.name),
                    None,
                    "file is in the wheel but not in its RECORD: added after the build".into(),
                );
                f.evidence = excerpt(&m.name, super::EVIDENCE_CHARS);
                out.push(f);
            }
            continue;
        };
        let Some((algo, digest)) = &row.hash else {
            continue;
        };
        if record::HashName::of(algo) != record::HashName::Supported {
            unchecked.entry(algo.to_string()).or_insert((row.line, 0)).1 += 1;
        }
        let hash_ok = match (data, &m.path) {
            (Some(data), _) if data.len() as u64 == *size => {
                record::digest_matches(algo, digest, data)
            }
            // not held whole: hashed as read again where it lies, one window at a time
            (_, Some(path)) => record::RecordHasher::new(algo).and_then(|mut h| {
                let placed = crate::sources::wheel::place(path);
                match super::integrity::hash_whole(tree, &placed, &mut h) {
                    Ok(()) => Some(h.matches(digest)),
                    Err(why) => {
                        diagnostics.push(super::integrity::unhashed(&shown(&m.name), &why));
                        None
                    }
                }
            }),
            (_, None) => None,
        };
        let size_ok = row.size.is_none_or(|s| s == *size);
        if hash_ok == Some(false) || !size_ok {
            let what = if hash_ok == Some(false) {
                "hash"
            } else {
                "size"
            };
            let mut f = finding(
                "REC003",
                Severity::High,
                shown(&m.name),
                None,
                format!("file's {what} differs from what RECORD lists: changed after the build"),
            );
            f.evidence = excerpt(
                &format!("RECORD line {}: {algo}={digest},{:?}", row.line, row.size),
                super::EVIDENCE_CHARS,
            );
            if let Some(data) = data.as_ref().filter(|d| d.len() as u64 == *size) {
                f.sha256 = crate::fs::sha256_hex(data);
            }
            out.push(f);
        }
    }
    for row in &rows {
        if !present.contains(row.path.as_str()) && !row.path.ends_with('/') {
            let mut f = finding(
                "REC002",
                Severity::Low,
                record_path.clone(),
                Some(row.line),
                format!(
                    "RECORD lists `{}`, which the wheel does not contain",
                    row.path
                ),
            );
            f.evidence = excerpt(&row.path, super::EVIDENCE_CHARS);
            out.push(f);
        }
    }
    for (algo, (line, n)) in unchecked {
        let why = record::HashName::unchecked(&algo).unwrap_or_default();
        diagnostics.push(Diagnostic::note(
            &record_path,
            format!(
                "{n} row(s) from line {line} give a hash named {why}: their members are checked for size only"
            ),
        ));
    }
    (out, diagnostics)
}
