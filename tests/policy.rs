//! Suppressions and baselines, through the binary.

use std::path::Path;

use crate::util::*;

fn venv_with(dir: &Path, files: &[(&str, &str)]) {
    let sp = dir.join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(dir.join("venv/pyvenv.cfg"), "version = 3.12.4\n").unwrap();
    for (name, text) in files {
        std::fs::write(sp.join(name), text).unwrap();
    }
}

fn rules_at(json: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            (
                f["rule"].as_str().unwrap().to_owned(),
                p.rsplit('/').next().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn suppressions_need_a_reason_match_every_key_given_and_expire_loudly() {
    let dir = tempfile::tempdir().unwrap();
    venv_with(
        dir.path(),
        &[
            ("ops.pth", "import os; os.system('logger started')\n"),
            ("zz.pth", "import os; os.system('id')\n"),
        ],
    );
    let (before, _) = scan_json(dir.path(), &[]);
    assert!(rules_at(&before).contains(&("PTH001".into(), "ops.pth".into())));
    let sha = before["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["path"].as_str().unwrap().ends_with("zz.pth"))
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(
        dir.path().join("pthscan.toml"),
        format!(
            "[[suppress]]\nrule = \"PTH001\"\npath = \"**/site-packages/ops.pth\"\nreason = \"ops logging hook, reviewed\"\n\n\
             [[suppress]]\nsha256 = \"{sha}\"\nreason = \"known test hook\"\nexpires = \"2001-01-01\"\n\n\
             [[suppress]]\nrule = \"PTH002\"\nreason = \"never fires here\"\n"
        ),
    )
    .unwrap();
    let (after, out) = scan_json(dir.path(), &[]);
    let got = rules_at(&after);
    assert!(
        !got.contains(&("PTH001".into(), "ops.pth".into())),
        "{got:?}"
    );
    // the expired one no longer applies, and says so; the unused one says so too
    assert!(got.contains(&("PTH001".into(), "zz.pth".into())), "{got:?}");
    let notes = after["diagnostics"].to_string();
    assert!(notes.contains("expired on 2001-01-01"), "{notes}");
    assert!(notes.contains("matched nothing"), "{notes}");
    assert_eq!(after["summary"]["suppressed"], 1);
    assert_eq!(code(&out), 1);

    // --config wins over pthscan.toml, and a suppression without a reason is refused
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[suppress]]\nrule = \"PTH001\"\nreason = \"\"\n").unwrap();
    let out = pthscan(&[
        dir.path().to_str().unwrap(),
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("empty reason"), "{}", stderr(&out));
    std::fs::write(&bad, "[[suppress]]\nreason = \"everything\"\n").unwrap();
    let out = pthscan(&[
        dir.path().to_str().unwrap(),
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert!(
        stderr(&out).contains("matches everything"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_baseline_reports_only_what_is_new_or_changed() {
    let dir = tempfile::tempdir().unwrap();
    venv_with(dir.path(), &[("old.pth", "import os; os.system('id')\n")]);
    let base = dir.path().join("baseline.json");
    let out = pthscan(&[
        "baseline",
        "--output",
        base.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("baseline of"), "{}", stderr(&out));
    let b = base.to_str().unwrap();
    let (json, out) = scan_json(dir.path(), &["--baseline", b]);
    assert_eq!(rules_at(&json), [], "{json:#}");
    assert_eq!(code(&out), 0);
    assert!(json["summary"]["baselined"].as_u64().unwrap() >= 1);
    // a new hook, and a changed one, are reported; with --fail-on info any new hook fails
    std::fs::write(
        dir.path().join("venv/lib/python3.12/site-packages/new.pth"),
        "import _distutils_hack\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("venv/lib/python3.12/site-packages/old.pth"),
        "import os; os.system('whoami')\n",
    )
    .unwrap();
    let (json, out) = scan_json(dir.path(), &["--baseline", b, "--fail-on", "info"]);
    let got = rules_at(&json);
    assert!(got.iter().any(|(_, f)| f == "new.pth"), "{got:?}");
    assert!(got.iter().any(|(_, f)| f == "old.pth"), "{got:?}");
    assert_eq!(code(&out), 1);
    // a broken baseline is an error, not an empty one
    std::fs::write(&base, "{}").unwrap();
    let out = pthscan(&[dir.path().to_str().unwrap(), "--baseline", b]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("not a pthscan baseline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn colour_and_progress_only_on_a_terminal_and_never_with_no_color_or_quiet() {
    let dir = tempfile::tempdir().unwrap();
    venv_with(dir.path(), &[("zz.pth", "import os; os.system('id')\n")]);
    let path = dir.path().to_str().unwrap();
    // piped: no colour, no progress line
    let out = pthscan(&[path]);
    assert!(!stdout(&out).contains('\x1b'));
    assert!(!stderr(&out).contains('\x1b'));
    // on a terminal (util-linux `script` gives one): colour, unless NO_COLOR
    let tty = |env: &[(&str, &str)], extra: &str| {
        let mut cmd = std::process::Command::new("script");
        cmd.args([
            "-qec",
            &format!("{} {path} {extra}", bin().display()),
            "/dev/null",
        ]);
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        String::from_utf8_lossy(&cmd.output().expect("script(1) from util-linux").stdout)
            .into_owned()
    };
    assert!(tty(&[], "").contains("\x1b[31mHIGH"));
    assert!(!tty(&[("NO_COLOR", "1")], "").contains("\x1b[31m"));
    // --quiet: no progress and no problem lines on the terminal, the report still there
    let quiet = tty(&[("NO_COLOR", "1")], "--quiet /nonexistent");
    assert!(!quiet.contains("finding Python environments"), "{quiet}");
    assert!(!quiet.contains("pthscan: /nonexistent"), "{quiet}");
    assert!(quiet.contains("not judged: /nonexistent"), "{quiet}");
}

#[test]
fn a_suppression_by_owning_distribution() {
    let host = tempfile::tempdir().unwrap();
    crate::host::build_host(host.path());
    let root = host.path().to_str().unwrap();
    let (json, _) = scan_json_root(root, &[]);
    let ep = |j: &serde_json::Value| {
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "EP001")
            .count()
    };
    assert_eq!(ep(&json), 1);
    let owned = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "EP001")
        .unwrap();
    assert_eq!(owned["distribution"], "colorlib");
    let cfg = tempfile::tempdir().unwrap();
    let file = cfg.path().join("policy.toml");
    std::fs::write(
        &file,
        "[[suppress]]\ndistribution = \"ColorLib\"\nrule = \"EP001\"\nreason = \"internal CLI, reviewed\"\n",
    )
    .unwrap();
    let (json, _) = scan_json_root(root, &["--config", file.to_str().unwrap()]);
    assert_eq!(ep(&json), 0, "{json:#}");
}

fn scan_json_root(root: &str, extra: &[&str]) -> (serde_json::Value, std::process::Output) {
    let mut args = vec!["--root", root, "--format", "json"];
    args.extend_from_slice(extra);
    let out = pthscan(&args);
    (serde_json::from_slice(&out.stdout).unwrap(), out)
}

#[test]
fn a_flag_that_would_be_ignored_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let out = pthscan(&[path, "--sarif-srcroot", path]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("applies to `--format sarif` only"),
        "{}",
        stderr(&out)
    );
    let out = pthscan(&[
        path,
        "--format",
        "sarif",
        "--sarif-srcroot",
        "/nonexistent-root",
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("is not a directory"),
        "{}",
        stderr(&out)
    );
}
