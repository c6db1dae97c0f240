//! Payload rules: the YARA-X rules of `signatures/rules/` (and `--rules`), run over every file
//! of start-up code and, with `--deep`, every file of every distribution — and over every layer
//! the decoder unwraps from them. Each rule documents itself (`pthscan explain RULE`).

use std::path::{Path, PathBuf};

use pthscan_signatures::{PayloadScanner, Role};

use super::{EVIDENCE_CHARS, line_at};
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, excerpt};
use crate::fs::sha256_hex;
use crate::python::Runs;

/// Which files are code: Python source and bytecode, hooks, scripts, and files without an
/// extension (console scripts) unless their content says otherwise — an executable (ELF, PE,
/// Mach-O) or a distribution's metadata (`METADATA`, `PKG-INFO`, a licence in `*.dist-info`),
/// whose README text names the very things the code rules look for. Code gets every rule and
/// its encoded layers unwrapped; other files (extension modules, binaries, web assets, data)
/// get the rules that hold anywhere — IOCs, hard-coded webhooks, campaign markers.
pub fn is_code(path: &Path, bytes: &[u8]) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        None => !is_executable_image(bytes) && !is_metadata(path),
        Some(ext) => matches!(
            ext,
            "py" | "pyw" | "pth" | "start" | "pyc" | "pyo" | "sh" | "bash" | "ps1" | "bat" | "cmd"
        ),
    }
}

/// An ELF, PE or Mach-O file, by its first bytes.
fn is_executable_image(bytes: &[u8]) -> bool {
    const MAGICS: [&[u8]; 7] = [
        b"\x7fELF",
        b"MZ",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ];
    MAGICS.iter().any(|m| bytes.starts_with(m))
}

/// A file of a distribution's metadata directory (`*.dist-info`, `*.egg-info`) or a
/// `PKG-INFO`.
fn is_metadata(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "PKG-INFO")
        || path.parent().and_then(Path::file_name).is_some_and(|d| {
            let d = d.to_string_lossy();
            d.ends_with(".dist-info") || d.ends_with(".egg-info")
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
    let code = role != Role::Other || is_code(path, bytes);
    judge_scan(scanner, env_root, path, bytes, sha256, role, code)
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
    judge_scan(scanner, env_root, path, bytes, None, role, true)
}

fn judge_scan(
    scanner: &mut PayloadScanner<'_>,
    env_root: &Path,
    path: &Path,
    bytes: &[u8],
    sha256: Option<&str>,
    role: Role,
    code: bool,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let scan = scanner.scan(bytes, role, code);
    let mut diagnostics = Vec::new();
    if scan.timed_out {
        diagnostics.push(Diagnostic::incomplete(
            path,
            "rule scan timed out: part of this file was not judged (raise --scan-timeout)",
        ));
    }
    for limit in &scan.limits {
        diagnostics.push(Diagnostic::note(path, format!("decoding stopped: {limit}")));
    }
    if scan.hits.is_empty() {
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
            Finding {
                rule: hit.rule.id.clone().into(),
                severity: hit.rule.severity,
                location: Location {
                    path: path.to_path_buf(),
                    line: Some(line_at(bytes, hit.offset)),
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
                reference: Some(hit.rule.reference.clone()),
                ..Default::default()
            }
        })
        .collect();
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
        assert!(is_code(Path::new("/v/x.py"), b"\x7fELF"));
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
