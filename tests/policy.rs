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
    // the operator's file, outside the scanned tree
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = cfg_dir.path().join("policy.toml");
    let cfg_arg = cfg.to_str().unwrap();
    std::fs::write(
        &cfg,
        format!(
            "# reviewed\n[[suppress]]\nrule = \"PTH001\"\npath = \"**/site-packages/ops.pth\"\nreason = \"ops logging hook, reviewed\"\n\n\
             [[suppress]]\nsha256 = \"{sha}\"\nreason = \"known test hook\"\nexpires = \"2001-01-01\"\n\n\
             [[suppress]]\nrule = \"PTH002\"\nreason = \"never fires here\"\n"
        ),
    )
    .unwrap();
    let (after, out) = scan_json(dir.path(), &["--config", cfg_arg]);
    let got = rules_at(&after);
    assert!(
        !got.contains(&("PTH001".into(), "ops.pth".into())),
        "{got:?}"
    );
    // the expired one no longer applies, and says so; the unused one says so too
    assert!(got.contains(&("PTH001".into(), "zz.pth".into())), "{got:?}");
    let notes = after["diagnostics"].to_string();
    assert!(notes.contains("expired on 2001-01-01"), "{notes}");
    assert!(
        notes.contains("suppression 3 at line 12 (never fires here) matched nothing"),
        "{notes}"
    );
    assert_eq!(after["summary"]["suppressed"], 1);
    assert_eq!(code(&out), 1);
    // what was suppressed is still listed, with the entry that did it
    let listed = after["suppressed"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["rule"], "PTH001");
    assert!(
        listed[0]["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("/ops.pth")
    );
    assert_eq!(
        listed[0]["suppression"],
        serde_json::json!({
            "kind": "config",
            "file": std::fs::canonicalize(&cfg).unwrap().to_str().unwrap(),
            "line": 2,
            "entry": 1,
            "reason": "ops logging hook, reviewed"
        })
    );

    // a suppression without a reason, or that matches everything, is refused with its line
    let bad = cfg_dir.path().join("bad.toml");
    let path = dir.path().to_str().unwrap();
    std::fs::write(
        &bad,
        "[[suppress]]\nrule = \"PTH002\"\nreason = \"fine\"\n\n[[suppress]]\nrule = \"PTH001\"\nreason = \"\"\n",
    )
    .unwrap();
    let out = pthscan(&[path, "--config", bad.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(&format!(
            "{}:5`: suppression 2 has an empty reason",
            bad.display()
        )),
        "{}",
        stderr(&out)
    );
    std::fs::write(&bad, "[[suppress]]\nreason = \"everything\"\n").unwrap();
    let out = pthscan(&[path, "--config", bad.to_str().unwrap()]);
    assert!(
        stderr(&out).contains("matches everything"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_path_pattern_that_matches_every_path_is_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    venv_with(dir.path(), &[("zz.pth", "import os; os.system('id')\n")]);
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = cfg_dir.path().join("policy.toml");
    for pattern in ["**", "**/*", "/**", "*/**", "/*/**", "**/**", "/**/*", "*"] {
        // with a rule beside it too: a path that accepts every file says nothing, or hides
        std::fs::write(
            &cfg,
            format!(
                "[[suppress]]\nrule = \"PTH002\"\nreason = \"fine\"\n\n[[suppress]]\nrule = \"PTH001\"\npath = \"{pattern}\"\nreason = \"all of them\"\n"
            ),
        )
        .unwrap();
        let out = pthscan(&[
            dir.path().to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 2, "{pattern}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "`{}:5`: suppression 2 has path `{pattern}`, which matches every path",
                cfg.display()
            )),
            "{pattern}: {err}"
        );
        assert!(stdout(&out).is_empty(), "{pattern}: no report when refused");
    }
    // a pattern that names something is accepted, and applies
    std::fs::write(
        &cfg,
        "[[suppress]]\nrule = \"PTH001\"\npath = \"**/zz.pth\"\nreason = \"reviewed\"\n",
    )
    .unwrap();
    let (json, out) = scan_json(dir.path(), &["--config", cfg.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(rules_at(&json), []);
    assert_eq!(json["summary"]["suppressed"], 1);
}

/// A venv with an executable `.pth` and a `pthscan.toml` beside it (at the top of what is
/// scanned) that would silence it, as an attacker leaves one.
fn planted(dir: &Path) -> std::path::PathBuf {
    venv_with(dir, &[("zz.pth", "import os; os.system('id')\n")]);
    let file = dir.join("pthscan.toml");
    std::fs::write(
        &file,
        "[[suppress]]\nrule = \"PTH001\"\nreason = \"nothing to see\"\n\n[[suppress]]\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nreason = \"x\"\n",
    )
    .unwrap();
    file
}

fn cfg001(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "CFG001")
        .map(|f| {
            assert_eq!(f["severity"], "high", "{f}");
            f["location"]["path"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn a_config_in_the_scanned_tree_is_reported_and_never_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let file = planted(dir.path());
    let real = std::fs::canonicalize(&file).unwrap();
    let real = real.to_str().unwrap();

    // at the top of a PATH
    let (json, out) = scan_json(dir.path(), &[]);
    assert!(rules_at(&json).contains(&("PTH001".into(), "zz.pth".into())));
    assert_eq!(cfg001(&json), [real], "{json:#}");
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "CFG001")
        .unwrap();
    assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    assert!(
        f["evidence"]
            .as_str()
            .unwrap()
            .starts_with("2 `[[suppress]]` entries; rule = \"PTH001\""),
        "{f}"
    );
    assert_eq!(json["summary"]["suppressed"], 0);
    assert_eq!(json["suppressed"], serde_json::json!([]));
    assert_eq!(code(&out), 1);

    // at the top of `--root`, whether the PATH is left out or names the root
    let root = dir.path().to_str().unwrap();
    for extra in [&[][..], &["/"][..], &["."][..]] {
        let mut args = vec!["--root", root, "--format", "json"];
        args.extend_from_slice(extra);
        let out = pthscan(&args);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(cfg001(&json), [real], "{extra:?}: {json:#}");
        assert!(rules_at(&json).contains(&("PTH001".into(), "zz.pth".into())));
        assert_eq!(code(&out), 1, "{}", stderr(&out));
    }
    // a link in its place is reported, and not followed
    let other = tempfile::tempdir().unwrap();
    venv_with(other.path(), &[("zz.pth", "import os; os.system('id')\n")]);
    std::os::unix::fs::symlink(&file, other.path().join("pthscan.toml")).unwrap();
    let (json, _) = scan_json(other.path(), &[]);
    assert_eq!(cfg001(&json).len(), 1, "{json:#}");
    assert!(rules_at(&json).contains(&("PTH001".into(), "zz.pth".into())));

    // named with --config, it is the operator's choice: obeyed, and not reported
    let (json, out) = scan_json(dir.path(), &["--config", file.to_str().unwrap()]);
    assert_eq!(cfg001(&json), Vec::<String>::new());
    assert_eq!(rules_at(&json), []);
    assert_eq!(json["summary"]["suppressed"], 1);
    assert_eq!(code(&out), 0);

    // the rule is documented like every other
    let out = pthscan(&["explain", "CFG001"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("What it finds"), "{}", stdout(&out));
    assert!(stdout(&pthscan(&["explain", "all"])).contains("CFG001"));
}

#[test]
fn under_root_the_scanned_systems_own_configs_are_reported_and_never_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    venv_with(r, &[("zz.pth", "import os; os.system('id')\n")]);
    let silence = "[[suppress]]\nrule = \"PTH001\"\nreason = \"quiet\"\n";
    for at in [
        "etc/pthscan",
        "root/.config/pthscan",
        "home/ann/.config/pthscan",
    ] {
        std::fs::create_dir_all(r.join(at)).unwrap();
        std::fs::write(r.join(at).join("pthscan.toml"), silence).unwrap();
    }
    // a user's home that is a link out of the root is not followed
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join(".config/pthscan")).unwrap();
    std::fs::write(outside.path().join(".config/pthscan/pthscan.toml"), silence).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("home/eve")).unwrap();
    let out = pthscan(&["--root", r.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = std::fs::canonicalize(r).unwrap();
    let mut got: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "CFG001")
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            (
                p.strip_prefix(root.to_str().unwrap())
                    .unwrap_or(p)
                    .to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("/etc/pthscan/pthscan.toml".to_owned(), "medium".to_owned()),
            (
                "/home/ann/.config/pthscan/pthscan.toml".to_owned(),
                "medium".to_owned()
            ),
            (
                "/root/.config/pthscan/pthscan.toml".to_owned(),
                "medium".to_owned()
            ),
        ],
        "{json:#}"
    );
    assert!(rules_at(&json).contains(&("PTH001".into(), "zz.pth".into())));
    assert_eq!(json["summary"]["suppressed"], 0);
}

#[test]
fn the_operators_own_config_applies_only_when_the_operator_owns_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    venv_with(
        dir.path(),
        &[
            ("ops.pth", "import os; os.system('logger started')\n"),
            ("zz.pth", "import os; os.system('id')\n"),
        ],
    );
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir(xdg.path().join("pthscan")).unwrap();
    std::fs::set_permissions(
        xdg.path().join("pthscan"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let file = xdg.path().join("pthscan/pthscan.toml");
    std::fs::write(
        &file,
        "[[suppress]]\nrule = \"PTH001\"\npath = \"**/ops.pth\"\nreason = \"ops hook\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = [("XDG_CONFIG_HOME", xdg.path().as_os_str())];
    let run = |extra: &[&str]| {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let out = pthscan_env(&args, &env);
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        json
    };
    let path = dir.path().to_str().unwrap();
    let has_ops =
        |json: &serde_json::Value| rules_at(json).contains(&("PTH001".into(), "ops.pth".into()));
    // the user's own file: applied, and what it took out is listed with it
    let json = run(&[path]);
    assert!(!has_ops(&json), "{json:#}");
    assert!(rules_at(&json).contains(&("PTH001".into(), "zz.pth".into())));
    assert_eq!(json["suppressed"][0]["suppression"]["line"], 1);
    assert!(
        json["suppressed"][0]["suppression"]["file"]
            .as_str()
            .unwrap()
            .ends_with("/pthscan/pthscan.toml")
    );
    // writable by others: not the operator's word, skipped with a note
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let json = run(&[path]);
    assert!(has_ops(&json), "{json:#}");
    assert!(
        json["diagnostics"]
            .to_string()
            .contains("not applied as the suppression file: it is writable by group or others"),
        "{json:#}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    // its directory writable by others: the same
    std::fs::set_permissions(
        xdg.path().join("pthscan"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let json = run(&[path]);
    assert!(has_ops(&json), "{json:#}");
    assert!(
        json["diagnostics"]
            .to_string()
            .contains("is writable by group or others"),
        "{json:#}"
    );
    std::fs::set_permissions(
        xdg.path().join("pthscan"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    // with --root (evidence), only --config: the operator's file is noted, not applied
    let json = run(&["--root", path]);
    assert!(has_ops(&json), "{json:#}");
    assert!(
        json["diagnostics"]
            .to_string()
            .contains("not applied: with `--root`, suppressions come only from `--config`"),
        "{json:#}"
    );
    assert_eq!(json["summary"]["suppressed"], 0);
}

#[test]
fn suppressed_and_baselined_findings_are_listed_with_what_took_them_out() {
    let dir = tempfile::tempdir().unwrap();
    venv_with(
        dir.path(),
        &[
            ("ops.pth", "import os; os.system('logger started')\n"),
            ("old.pth", "import os; os.system('id')\n"),
        ],
    );
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("base.json");
    let path = dir.path().to_str().unwrap();
    // the baseline holds old.pth only
    std::fs::rename(
        dir.path().join("venv/lib/python3.12/site-packages/ops.pth"),
        work.path().join("ops.pth"),
    )
    .unwrap();
    let out = pthscan(&[
        "baseline",
        "-o",
        base.to_str().unwrap(),
        "--accept-findings",
        path,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    std::fs::rename(
        work.path().join("ops.pth"),
        dir.path().join("venv/lib/python3.12/site-packages/ops.pth"),
    )
    .unwrap();
    let cfg = work.path().join("policy.toml");
    std::fs::write(
        &cfg,
        "[[suppress]]\nrule = \"PTH001\"\npath = \"**/ops.pth\"\nreason = \"ops hook, TICKET-1\"\n",
    )
    .unwrap();
    let flags = [
        "--config",
        cfg.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
    ];
    let (json, out) = scan_json(dir.path(), &flags);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(rules_at(&json), []);
    let by: Vec<(String, String)> = json["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["location"]["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                s["suppression"]["kind"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(file, _)| file.ends_with(".pth"))
        .collect();
    assert!(by.contains(&("ops.pth".into(), "config".into())), "{by:?}");
    assert!(
        by.contains(&("old.pth".into(), "baseline".into())),
        "{by:?}"
    );
    let baselined = json["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["suppression"]["kind"] == "baseline")
        .unwrap();
    assert_eq!(
        baselined["suppression"]["file"],
        std::fs::canonicalize(&base).unwrap().to_str().unwrap()
    );
    assert_eq!(json["summary"]["suppressed"], 1);
    assert!(json["summary"]["baselined"].as_u64().unwrap() >= 1);

    // JSON Lines: a `suppressed` record each, never a `finding`
    let mut args = vec![path, "--format", "jsonl"];
    args.extend_from_slice(&flags);
    let out = pthscan(&args);
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!records.iter().any(|r| r["record"] == "finding"));
    let suppressed: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["record"] == "suppressed")
        .collect();
    assert_eq!(
        suppressed.len(),
        json["suppressed"].as_array().unwrap().len()
    );
    assert!(
        suppressed
            .iter()
            .any(|r| r["suppression"]["reason"] == "ops hook, TICKET-1")
    );

    // SARIF: the results are kept, each with an external suppression saying why
    let mut args = vec![path, "--format", "sarif"];
    args.extend_from_slice(&flags);
    let sarif: serde_json::Value = serde_json::from_slice(&pthscan(&args).stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), suppressed.len());
    for r in results {
        let s = &r["suppressions"][0];
        assert_eq!(s["kind"], "external", "{r:#}");
        assert_eq!(s["status"], "accepted");
    }
    let ops = results
        .iter()
        .find(|r| {
            r["suppressions"][0]["justification"]
                .as_str()
                .unwrap()
                .contains("ops hook, TICKET-1")
        })
        .unwrap();
    assert_eq!(
        ops["suppressions"][0]["location"]["physicalLocation"]["region"]["startLine"],
        1
    );
    assert!(results.iter().any(|r| {
        r["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .starts_with("held by the baseline")
    }));

    // text: counted, not listed
    let mut args = vec![path];
    args.extend_from_slice(&flags);
    let text = stdout(&pthscan(&args));
    assert!(!text.contains("ops.pth"), "{text}");
    assert!(text.contains("(1 suppressed)"), "{text}");
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
        "--accept-findings",
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
    // a terminal that cannot show colour, and --color
    assert!(!tty(&[("TERM", "dumb")], "").contains("\x1b[31m"));
    assert!(!tty(&[], "--color never").contains("\x1b[31m"));
    assert!(tty(&[("NO_COLOR", "1")], "--color always").contains("\x1b[31mHIGH"));
    assert!(stdout(&pthscan(&[path, "--color", "always"])).contains("\x1b[31mHIGH"));
    // --quiet: no progress and no problem lines on the terminal, the report still there
    let quiet = tty(&[("NO_COLOR", "1")], "--quiet /nonexistent");
    assert!(!quiet.contains("finding Python environments"), "{quiet}");
    assert!(!quiet.contains("error: /nonexistent"), "{quiet}");
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
    assert_eq!(owned["distribution"], "colorlib 1.0");
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

/// Installs `name` at `version` in the site directory `sp` (METADATA and RECORD).
fn installed(sp: &Path, name: &str, version: &str) {
    let info = sp.join(format!("{name}-{version}.dist-info"));
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        info.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"),
    )
    .unwrap();
    std::fs::write(
        info.join("RECORD"),
        format!("{name}-{version}.dist-info/METADATA,,\n{name}-{version}.dist-info/RECORD,,\n"),
    )
    .unwrap();
}

#[test]
fn a_baseline_records_each_environments_distributions_and_reports_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    venv_with(dir.path(), &[]);
    let sp = dir.path().join("venv/lib/python3.12/site-packages");
    installed(&sp, "Stays_Same", "1.0");
    installed(&sp, "upgraded", "1.0");
    installed(&sp, "goes-away", "2.0");
    let base = dir.path().join("baseline.json");
    let b = base.to_str().unwrap();
    let out = pthscan(&["baseline", "-o", b, dir.path().to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 environment(s)"),
        "{}",
        stderr(&out)
    );
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    assert_eq!(
        recorded["environments"][0]["distributions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // nothing changed: nothing to say
    let (json, out) = scan_json(dir.path(), &["--baseline", b, "--fail-on", "info"]);
    assert_eq!(rules_at(&json), [], "{json:#}");
    assert_eq!(code(&out), 0);
    // one added, one upgraded, one removed
    installed(&sp, "newcomer", "0.1");
    std::fs::remove_dir_all(sp.join("upgraded-1.0.dist-info")).unwrap();
    installed(&sp, "upgraded", "1.1");
    std::fs::remove_dir_all(sp.join("goes-away-2.0.dist-info")).unwrap();
    let (json, out) = scan_json(dir.path(), &["--baseline", b, "--fail-on", "low"]);
    let got: Vec<(String, String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("INV001", "low", "newcomer 0.1 installed since the baseline"),
        ("INV002", "low", "upgraded 1.0 → 1.1 since the baseline"),
        ("INV003", "info", "goes-away 2.0 removed since the baseline"),
    ];
    for (rule, severity, message) in want {
        assert!(
            got.iter()
                .any(|g| g.0 == rule && g.1 == severity && g.2 == message),
            "{rule}: {got:#?}"
        );
    }
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(code(&out), 1);
    // an old baseline, without environments, still loads and compares no inventory
    let mut old = recorded.clone();
    old.as_object_mut().unwrap().remove("environments");
    std::fs::write(&base, serde_json::to_vec(&old).unwrap()).unwrap();
    let (json, out) = scan_json(dir.path(), &["--baseline", b, "--fail-on", "info"]);
    assert_eq!(rules_at(&json), [], "{json:#}");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // every rule is explained
    for rule in ["INV001", "INV002", "INV003"] {
        let out = pthscan(&["explain", rule]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(stdout(&out).contains(rule));
    }
}
