//! Snapshots of what users see: every format and `--help`, with temporary paths, the version
//! and timings redacted. Formats are parsed before they are snapshotted.

use std::path::Path;

use super::util::*;

fn redact(text: &str, dir: &Path) -> String {
    let root = std::fs::canonicalize(dir).unwrap();
    text.replace(root.to_str().unwrap(), "[ROOT]")
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"in \d+\.\d+ s", "in [ELAPSED] s");
    s.add_filter(r#""elapsed_ms": \d+"#, r#""elapsed_ms": "[ELAPSED]""#);
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn text_report_of_a_compromised_venv() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-init"), dir.path());
    materialize(&load_case("known-name-changed"), dir.path());
    let out = pthscan(&[dir.path().to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let text = redact(&String::from_utf8_lossy(&out.stdout), dir.path());
    settings().bind(|| insta::assert_snapshot!("text_compromised_venv", text));
}

#[test]
fn json_report_of_a_compromised_venv() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("hidden-module"), dir.path());
    let out = pthscan(&[dir.path().to_str().unwrap(), "--format", "json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(parsed["schema_version"], 1);
    for f in parsed["findings"].as_array().unwrap() {
        for key in [
            "rule",
            "severity",
            "location",
            "sha256",
            "environment",
            "message",
            "evidence",
            "runs_on",
        ] {
            assert!(!f[key].is_null(), "finding without `{key}`: {f}");
        }
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
    let text = redact(&String::from_utf8_lossy(&out.stdout), dir.path());
    settings().bind(|| insta::assert_snapshot!("json_hidden_module", text));
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("benign-hooks"), dir.path());
    let report = tempfile::tempdir().unwrap();
    let file = report.path().join("r.json");
    let out = pthscan(&[
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    assert!(out.stdout.is_empty());
    let parsed: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(parsed["summary"]["findings"]["info"], 11);
}

#[test]
fn help() {
    let out = pthscan(&["--help"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    settings().bind(|| insta::assert_snapshot!("help", text));
}
