//! Payload rules: the YARA-X rules of `signatures/rules/` (and `--rules`), run over every file
//! of start-up code and, with `--deep`, every file of every distribution — and over every layer
//! the decoder unwraps from them. Each rule documents itself (`pthscan explain RULE`).

use std::path::{Path, PathBuf};

use pthscan_analysis::{FileKind, file_kind};
use pthscan_signatures::{PayloadScanner, Role, Severity};

use super::{EVIDENCE_CHARS, line_at};
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, excerpt};
use crate::fs::sha256_hex;
use crate::python::Runs;

/// Which files are code for the text rules: Python source and bytecode by content
/// ([`file_kind`]: a console script without an extension is Python, an ELF binary named like one
/// is not, a distribution's `METADATA` is text), and scripts by their extension. Code gets every
/// rule and its encoded layers unwrapped; other files (extension modules, binaries, web assets,
/// data) get the rules that hold anywhere — IOCs, hard-coded webhooks, campaign markers.
pub fn is_code(path: &Path, bytes: &[u8]) -> bool {
    kind_is_code(path, file_kind(path, bytes))
}

/// [`is_code`] for a file whose kind is known.
fn kind_is_code(path: &Path, kind: FileKind) -> bool {
    match kind {
        FileKind::Python | FileKind::Bytecode => true,
        FileKind::Executable | FileKind::Archive | FileKind::Binary => false,
        FileKind::Text => matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("sh" | "bash" | "ps1" | "bat" | "cmd")
        ),
    }
}

/// Text-rule families that describe capabilities (what code can do); for Python, the behaviour
/// rules judge capabilities on the syntax tree, so these text rules are evidence, not verdicts.
const CAPABILITY_FAMILIES: [&str; 7] = [
    "common",
    "credentials",
    "dropper",
    "exfiltration",
    "install",
    "obfuscation",
    "persistence",
];

/// Text rules whose evidence is a literal, as text rules are best at, and that are not capped:
/// the shape of obfuscation itself (an obfuscator's fingerprint, builtins named by escapes or
/// picked from reprs) and addresses made for stolen data or payloads (a hard-coded webhook with
/// its token, a request-capture or file-drop service, a Discord attachment serving a program).
const LITERAL_RULES: [&str; 7] = [
    "obf-repr-char-picking",
    "obf-escaped-builtin",
    "obf-known-obfuscator",
    "obf-zipimport-disguised",
    "exfil-chat-webhook",
    "exfil-drop-service",
    "drop-payload-host",
];

/// The highest severity a text rule of a capability family gives Python code: its literals can
/// be hundreds of lines apart in unrelated functions, which the behaviour rules tell apart.
const TEXT_RULE_CAP: Severity = Severity::Medium;

/// A test file of a package (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`): not run by
/// importing the package, and full of deliberately hostile material.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with("test_")
        || name.ends_with("_test.py")
        || name == "conftest.py"
        || path.components().any(|c| {
            matches!(
                c.as_os_str().to_str(),
                Some("tests" | "test" | "testing" | "testdata" | "test_data")
            )
        })
}

/// Scans one file's bytes and turns rule matches into findings, decoding limits and timeouts
/// into diagnostics.
pub fn judge(
    scanner: &mut PayloadScanner<'_>,
    env_root: &Path,
    path: &Path,
    bytes: &[u8],
    sha256: Option<&str>,
    role: Role,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    // the kind is worked out once: for text it may mean parsing the file
    let kind = file_kind(path, bytes);
    let code = role != Role::Other || kind_is_code(path, kind);
    judge_scan(scanner, env_root, path, bytes, sha256, role, kind, code)
}

/// The kind the payload scan treats a file as: start-up and install code is Python whatever its
/// content looks like (a `.pth` line, a `setup.py`), unless it is bytecode or binary.
fn scan_kind(kind: FileKind, role: Role) -> FileKind {
    match (kind, role) {
        (FileKind::Text, Role::Startup | Role::Install) => FileKind::Python,
        _ => kind,
    }
}

/// As [`judge`], for a file that is code whatever its name (a unit file, a crontab, a shell
/// profile).
pub fn judge_code(
    scanner: &mut PayloadScanner<'_>,
    env_root: &Path,
    path: &Path,
    bytes: &[u8],
    role: Role,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let kind = file_kind(path, bytes);
    judge_scan(scanner, env_root, path, bytes, None, role, kind, true)
}

#[expect(clippy::too_many_arguments, reason = "the two entry points' one body")]
fn judge_scan(
    scanner: &mut PayloadScanner<'_>,
    env_root: &Path,
    path: &Path,
    bytes: &[u8],
    sha256: Option<&str>,
    role: Role,
    kind: FileKind,
    code: bool,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let kind = scan_kind(kind, role);
    let python = matches!(kind, FileKind::Python | FileKind::Bytecode);
    // a `__pycache__` pyc in a --deep walk is its source compiled: the source is judged as
    // code, and a pyc that runs instead of its source is judged at start-up by the start-up
    // model; its names alone would only repeat the source's, as one undivided place
    let cached = kind == FileKind::Bytecode
        && role == Role::Other
        && path.components().any(|c| c.as_os_str() == "__pycache__");
    let scan = if cached {
        scanner.scan(bytes, role, code)
    } else {
        scanner.scan_kind(bytes, role, kind, code)
    };
    let mut diagnostics = Vec::new();
    if let Some(why) = &scan.not_analysed {
        diagnostics.push(Diagnostic::note(path, why.clone()));
    }
    let test_file = role == Role::Other && is_test_file(path);
    if scan.timed_out {
        diagnostics.push(Diagnostic::incomplete(
            path,
            "rule scan timed out: part of this file was not judged (raise --scan-timeout)",
        ));
    }
    for limit in &scan.limits {
        diagnostics.push(Diagnostic::note(path, format!("decoding stopped: {limit}")));
    }
    if scan.hits.is_empty() && scan.behaviours.is_empty() {
        return (Vec::new(), diagnostics);
    }
    let sha256 = sha256.map_or_else(|| sha256_hex(bytes), str::to_owned);
    // one finding per rule and line: the outermost layer that matched; deeper layers of the
    // same literal are noted on it
    let mut first: Vec<(&str, usize, usize)> = Vec::new(); // (rule, line, index of the hit)
    let mut deeper: Vec<Vec<String>> = vec![Vec::new(); scan.hits.len()];
    for (i, hit) in scan.hits.iter().enumerate() {
        let line = line_at(bytes, hit.offset);
        match first
            .iter()
            .find(|(r, l, _)| *r == hit.rule.id && *l == line)
        {
            Some(&(_, _, j)) => deeper[j].push(hit.chain_text()),
            None => first.push((&hit.rule.id, line, i)),
        }
    }
    let findings = first
        .iter()
        .map(|&(_, _, i)| {
            let hit = &scan.hits[i];
            let decoded: Vec<&'static str> = hit.chain.iter().map(|c| c.as_str()).collect();
            let mut notes = Vec::new();
            if !decoded.is_empty() {
                // the chain itself is in `decoded`
                notes.push(
                    "the line is where the encoded data starts; the evidence is the decoded text"
                        .into(),
                );
            }
            if !deeper[i].is_empty() {
                notes.push(format!("also matches deeper: {}", deeper[i].join("; ")));
            }
            match role {
                Role::Startup => notes.push(
                    "this file runs at interpreter start-up (a hook, or a module a hook imports)"
                        .into(),
                ),
                Role::Install => notes.push(
                    "this file runs when the package is installed or built from source".into(),
                ),
                Role::Other => {}
            }
            if hit.rule.family == "user" {
                notes.push(format!("user rule from {}", hit.rule.origin));
            }
            let mut severity = hit.rule.severity;
            // capability text rules judge Python only as evidence, and any other file only as
            // evidence unless it runs by itself (a hook, an install script)
            if (python || role == Role::Other)
                && CAPABILITY_FAMILIES.contains(&hit.rule.family.as_str())
                && !LITERAL_RULES.contains(&hit.rule.id.as_str())
                && severity > TEXT_RULE_CAP
            {
                severity = TEXT_RULE_CAP;
                notes.push(
                    "a text rule: capped at medium outside hooks and install scripts, and for Python, whose behaviour the behaviour rules judge"
                        .into(),
                );
            }
            if test_file && severity > Severity::Medium {
                severity = Severity::Medium;
                notes.push("a test file: capped at medium (importing the package does not run it)".into());
            }
            Finding {
                rule: hit.rule.id.clone().into(),
                severity,
                location: Location {
                    path: path.to_path_buf(),
                    line: Some(line_at(bytes, hit.offset)),
                    column: None,
                },
                environment: Some(PathBuf::from(env_root)),
                message: hit.rule.description.clone(),
                evidence: excerpt(&hit.context, EVIDENCE_CHARS),
                runs_on: if role == Role::Startup {
                    Runs::ALL
                } else {
                    Runs::default()
                },
                sha256: sha256.clone(),
                notes,
                decoded,
                rotate: hit.rotate.clone(),
                reference: Some(hit.rule.reference.clone()),
                ..Default::default()
            }
        })
        .collect::<Vec<_>>();
    let mut findings = findings;
    for (chain, origin, hit) in &scan.behaviours {
        let mut severity = hit.severity(role);
        let mut notes = vec![String::from(if python {
            "judged on the syntax tree (bytecode: its names), from where the data comes in to where it ends"
        } else {
            "judged on the syntax tree"
        })];
        if !chain.is_empty() {
            notes.push(
                "found in a layer the decoder unwrapped; the line is where the encoded data starts"
                    .into(),
            );
        }
        if test_file && severity > Severity::Medium {
            severity = Severity::Medium;
            notes.push(
                "a test file: capped at medium (importing the package does not run it)".into(),
            );
        }
        match role {
            Role::Startup => notes.push(
                "this file runs at interpreter start-up (a hook, or a module a hook imports)"
                    .into(),
            ),
            Role::Install => notes
                .push("this file runs when the package is installed or built from source".into()),
            Role::Other => {}
        }
        let line = if chain.is_empty() {
            hit.at.line
        } else {
            line_at(bytes, *origin)
        };
        // one finding per rule and line: the same behaviour seen again in a decoded layer
        // or an executed constant is the same finding
        if findings
            .iter()
            .any(|f| f.rule == hit.rule.id.as_str() && f.location.line == Some(line))
        {
            continue;
        }
        findings.push(Finding {
            rule: hit.rule.id.clone().into(),
            severity,
            location: Location {
                path: path.to_path_buf(),
                line: Some(line),
                column: None,
            },
            environment: Some(PathBuf::from(env_root)),
            message: hit.rule.description.clone(),
            evidence: excerpt(&hit.evidence, EVIDENCE_CHARS),
            runs_on: if role == Role::Startup {
                Runs::ALL
            } else {
                Runs::default()
            },
            sha256: sha256.clone(),
            notes,
            decoded: chain.iter().map(|c| c.as_str()).collect(),
            reference: Some(hit.rule.reference.clone()),
            behaviour: true,
            ..Default::default()
        });
    }
    (findings, diagnostics)
}

#[cfg(test)]
mod code_tests {
    use super::is_code;
    use std::path::Path;

    #[test]
    fn what_is_code_by_name_and_content() {
        assert!(is_code(
            Path::new("/v/bin/tool"),
            b"#!/usr/bin/env python\nimport os\n"
        ));
        // content decides: an executable named like a module is not Python source
        assert!(!is_code(Path::new("/v/x.py"), b"\x7fELF"));
        assert!(is_code(Path::new("/v/x.py"), b"import os\n"));
        assert!(is_code(Path::new("/v/bin/run.sh"), b"curl -s x | sh\n"));
        assert!(!is_code(Path::new("/v/notes.txt"), b"See the README.\n"));
        // found by issue 19's false alarms: uv's and ray's binaries, a README in METADATA
        assert!(!is_code(Path::new("/v/bin/uv"), b"\x7fELF\x02\x01\x01"));
        assert!(!is_code(Path::new("/v/node"), b"\xcf\xfa\xed\xfe\x07"));
        let meta = Path::new("/v/lib/python3.12/site-packages/x-1.0.dist-info/METADATA");
        assert!(!is_code(
            meta,
            b"Metadata-Version: 2.1\n\ncurl https://x | sh\n"
        ));
        assert!(!is_code(
            Path::new("/s/x-1.0/PKG-INFO"),
            b"Metadata-Version: 2.1\n"
        ));
        assert!(!is_code(Path::new("/v/x.whl"), b"PK"));
    }
}
