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
    s.add_filter(r#""host": "[^"]*""#, r#""host": "[HOST]""#);
    s.add_filter(r#""scan_id": "[0-9a-f]{32}""#, r#""scan_id": "[SCAN_ID]""#);
    s.add_filter(
        r#""timestamp": "[0-9TZ:-]{20}""#,
        r#""timestamp": "[TIME]""#,
    );
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

/// The JSON Schema users validate against (docs/schema/pthscan.schema.json), compiled.
fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("docs/schema/pthscan.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

fn assert_valid(schema: &jsonschema::Validator, value: &serde_json::Value, what: &str) {
    let errors: Vec<String> = schema
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{value:#}");
}

#[test]
fn json_and_json_lines_output_validates_against_the_shipped_schema() {
    let schema = schema();
    // every corpus case at once, an artifact, and a whole fake host
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in case_names().iter().enumerate() {
        let sub = dir.path().join(format!("c{i}"));
        materialize(&load_case(name), &sub);
    }
    let host = tempfile::tempdir().unwrap();
    super::host::build_host(host.path());
    let runs: Vec<Vec<String>> = vec![
        vec![dir.path().display().to_string(), "--deep".into()],
        vec!["--root".into(), host.path().display().to_string()],
    ];
    let mut records = 0;
    for args in runs {
        for format in ["json", "jsonl"] {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            a.extend(["--format", format]);
            let out = pthscan(&a);
            assert!(code(&out) <= 2, "{}", stderr(&out));
            let text = String::from_utf8(out.stdout).unwrap();
            if format == "json" {
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert!(!doc["findings"].as_array().unwrap().is_empty());
                assert_valid(&schema, &doc, "document");
            } else {
                let lines: Vec<serde_json::Value> = text
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(lines.last().unwrap()["record"], "summary");
                let ids: std::collections::HashSet<&str> = lines
                    .iter()
                    .map(|l| l["scan_id"].as_str().unwrap())
                    .collect();
                assert_eq!(ids.len(), 1, "one scan id per scan");
                for l in &lines {
                    assert_valid(&schema, l, "record");
                    records += 1;
                }
            }
        }
    }
    assert!(records > 50, "{records}");
    // the schema is no rubber stamp: a finding without a rule, a bad severity are rejected
    let mut broken: serde_json::Value = serde_json::json!({
        "record": "finding", "schema_version": 1, "tool": {"name": "pthscan", "version": "0"},
        "host": "h", "scan_id": "0123456789abcdef0123456789abcdef", "timestamp": "2026-11-22T00:00:00Z",
        "rule": "PTH001", "severity": "high", "location": {"path": "/x.pth", "line": 1},
        "environment": null, "message": "m", "evidence": "", "signals": [], "runs_on": [], "sha256": ""
    });
    assert!(schema.is_valid(&broken));
    broken["severity"] = "severe".into();
    assert!(!schema.is_valid(&broken));
    broken["severity"] = "high".into();
    broken.as_object_mut().unwrap().remove("rule");
    assert!(!schema.is_valid(&broken));
}
