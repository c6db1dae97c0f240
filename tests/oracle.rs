//! Issue 18, "CPython is the oracle": pthscan's start-up model (`pthscan debug-startup`) against
//! what each CPython on the machine says about the same generated environment
//! (`tests/oracle/`: `generate.py` writes, `oracle.py` asks CPython without running anything
//! planted, `compare.py` compares).
//!
//! Interpreters: every X.Y from 3.6 up that `compare.py` finds (pyenv's newest patch release,
//! `PTHSCAN_PYTHON_3_12`-style overrides, or an upstream `python3.12` on `PATH`); the tests fail
//! when fewer than two are found, as agreement on one version proves little.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::*;

/// Environments per version in the test suite; `tests/oracle/README.md` runs 10,000.
const COUNT: &str = "50";

fn oracle_dir() -> PathBuf {
    repo().join("tests/oracle")
}

/// `python3 tests/oracle/compare.py ARGS`, with the report as JSON.
fn compare(args: &[&str], report: &Path) -> (Output, serde_json::Value) {
    let out = Command::new("python3")
        .arg(oracle_dir().join("compare.py"))
        .args(["--versions", "auto", "--min-interpreters", "2", "--json"])
        .arg(report)
        .args(args)
        .output()
        .expect("python3 runs compare.py");
    let json = std::fs::read(report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    (out, json)
}

fn explain(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

#[test]
fn cpython_oracle_runs_nothing_planted_and_agrees_with_itself() {
    // Independent of the model: a batch oracle process and a fresh one per environment give
    // the same answer on every version, and no marker of planted code ever appears (exit 3).
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = compare(&["--count", COUNT], &dir.path().join("report.json"));
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let versions = report["versions"].as_object().expect("a JSON report");
    assert!(versions.len() >= 2, "{}", explain(&out));
    for (version, stats) in versions {
        assert_eq!(
            stats["envs"],
            stats["agree"],
            "{version}: {}",
            explain(&out)
        );
        assert_eq!(stats["envs"].as_u64(), Some(50), "{version}");
    }
}

#[test]
fn cpython_oracle_matches_a_really_started_interpreter() {
    // Independent of the model: the one part the oracle models (getpath's `sys.path` before
    // `site`) against the real interpreter started normally on inert environments (`live.py`).
    let out = Command::new("python3")
        .arg(oracle_dir().join("live.py"))
        .args(["--versions", "auto", "--count", "30"])
        .output()
        .expect("python3 runs live.py");
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let versions = stdout(&out)
        .lines()
        .filter(|l| l.contains(" of 30 "))
        .count();
    assert!(versions >= 2, "{}", explain(&out));
}

#[test]
fn model_agrees_with_cpython_on_generated_environments() {
    // DEPENDS ON THE MODEL: `pthscan debug-startup --spec` (the start-up model, branch
    // `model`). Until it lands this fails with `error` on every environment. Disagreements are
    // minimised into the temporary corpus named in the message.
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let bin = bin();
    let (out, report) = compare(
        &[
            "--count",
            COUNT,
            "--pthscan",
            bin.to_str().unwrap(),
            "--corpus",
            corpus.to_str().unwrap(),
            "--cases",
            "2",
        ],
        &dir.path().join("report.json"),
    );
    assert_ne!(code(&out), 3, "planted code ran: {}", explain(&out));
    assert!(
        report["versions"].as_object().map_or(0, |v| v.len()) >= 2,
        "{}",
        explain(&out)
    );
    if code(&out) != 0 {
        // keep the minimised cases for whoever reads the failure
        let kept = std::env::temp_dir().join("pthscan-oracle-disagreements");
        let _ = std::fs::remove_dir_all(&kept);
        let _ = std::fs::rename(&corpus, &kept);
        panic!(
            "pthscan's start-up model disagrees with CPython (cases in {}):\n{}",
            kept.display(),
            explain(&out)
        );
    }
}

/// The interpreter `compare.py` would use for `version`, if any.
fn python_for(version: &str) -> Option<String> {
    let code = format!(
        "import sys; sys.path.insert(0, {:?}); import compare; print(compare.find_python({version:?}) or '')",
        oracle_dir().display()
    );
    let out = Command::new("python3").args(["-c", &code]).output().ok()?;
    let exe = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!exe.is_empty()).then_some(exe)
}

#[test]
fn every_startup_corpus_case_reproduces_and_the_model_agrees() {
    // Each case in `corpus/startup/` is a disagreement compare.py found once, minimised: the
    // generator seed and the plan operations kept. CPython's answer must still be the stored
    // one (the oracle is stable), and the model's must equal it (DEPENDS ON THE MODEL).
    let root = repo().join("corpus/startup");
    let Ok(entries) = std::fs::read_dir(&root) else {
        return;
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let case_dir = root.join(&name);
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case_dir.join("case.json")).unwrap()).unwrap();
        let version = meta["version"].as_str().unwrap();
        let Some(python) = python_for(version) else {
            // no CPython of that version here: nothing to ask
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let made = Command::new(&python)
            .args(["-I", "-S"])
            .arg(oracle_dir().join("generate.py"))
            .arg("--plan")
            .arg(case_dir.join("plan.json"))
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(code(&made), 0, "{name}: {}", explain(&made));
        let spec = dir.path().join("spec.json");
        let env_root = dir.path().join("env");
        let with_root = |file: &str| -> serde_json::Value {
            let text = std::fs::read_to_string(case_dir.join(file)).unwrap();
            let text = text
                .replace("@ROOT@", env_root.to_str().unwrap())
                .replace("@MARKERS@", dir.path().join("markers").to_str().unwrap());
            serde_json::from_str(&text).unwrap()
        };
        let cpython = Command::new(&python)
            .args(["-I", "-S"])
            .arg(oracle_dir().join("oracle.py"))
            .arg(&spec)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        assert_eq!(code(&cpython), 0, "{name}: {}", explain(&cpython));
        let cpython: serde_json::Value = serde_json::from_slice(&cpython.stdout).unwrap();
        assert_eq!(
            cpython,
            with_root("cpython.json"),
            "{name}: CPython's answer changed"
        );
        let model = pthscan(&["debug-startup", "--spec", spec.to_str().unwrap()]);
        assert_eq!(code(&model), 0, "{name}: {}", stderr(&model));
        let model: serde_json::Value = serde_json::from_slice(&model.stdout).unwrap();
        assert_eq!(model.get("fatal"), cpython.get("fatal"), "{name}: `fatal`");
        if cpython.get("fatal").is_none() {
            // the interpreter starts: the path, the .pth lines and every module must agree
            assert_eq!(model["sys_path"], cpython["sys_path"], "{name}: `sys_path`");
            assert_eq!(model["pth"], cpython["pth"], "{name}: `pth`");
            for (module, want) in cpython["modules"].as_object().unwrap() {
                let got = &model["modules"][module];
                let same = if want.is_null() {
                    got.is_null()
                } else {
                    got["file"] == want["file"] && got["kind"] == want["kind"]
                };
                assert!(
                    same,
                    "{name}: module `{module}`: CPython {want}, model {got}"
                );
            }
        }
        let ran: Vec<_> = std::fs::read_dir(dir.path().join("markers"))
            .unwrap()
            .collect();
        assert!(ran.is_empty(), "{name}: planted code ran");
    }
}
