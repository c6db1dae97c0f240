//! The command line a gate and an operator rely on: the exit-code matrix, `error:`/`note:` on
//! standard error and repeats grouped, flags checked before the scan, reports created with the
//! umask's mode, the marker a dead run leaves, a baseline that would hide findings refused,
//! `--exclude`, `--fail-on never`, `--min-severity`, completions and the man page.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::util::*;

/// A venv with a medium hook (unknown import) and, when `high`, a high one.
fn venv_with(dir: &Path, high: bool) -> PathBuf {
    let sp = dir.join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(dir.join("venv/pyvenv.cfg"), "version = 3.12.4\n").unwrap();
    std::fs::write(sp.join("x.pth"), "import _shim\n").unwrap();
    if high {
        std::fs::write(sp.join("y.pth"), "import os; os.system('id')\n").unwrap();
    }
    dir.join("venv")
}

/// A zip nothing can open, beside the venv: something not judged.
fn unreadable(dir: &Path) -> PathBuf {
    let bad = dir.join("broken.whl");
    std::fs::write(&bad, b"PK\x03\x04 this is no zip").unwrap();
    bad
}

#[test]
fn exit_codes_a_gate_can_trust() {
    let dir = tempfile::tempdir().unwrap();
    let clean = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), true);
    let bad = unreadable(clean.path());
    let (e, b) = (env.to_str().unwrap(), bad.to_str().unwrap());
    // (arguments, exit code, failing, incomplete)
    let matrix: &[(&[&str], i32, u64, bool)] = &[
        (&[e], 1, 1, false),
        (&[e, b], 1, 1, true), // a finding at the threshold wins over what was not judged
        (&[e, "--fail-on", "critical"], 0, 0, false),
        (&[e, b, "--fail-on", "critical"], 2, 0, true),
        (&[e, "--fail-on", "never"], 0, 0, false),
        (&[e, b, "--fail-on", "never"], 2, 0, true),
        (&[e, "--fail-on", "medium"], 1, 2, false),
        (&[e, "--fail-on", "INFO"], 1, 2, false),
    ];
    for (args, want, failing, incomplete) in matrix {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let out = pthscan(&a);
        assert_eq!(code(&out), *want, "{args:?}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["exit_code"], *want, "{args:?}");
        assert_eq!(v["summary"]["failing"], *failing, "{args:?}");
        assert_eq!(v["summary"]["incomplete"], *incomplete, "{args:?}");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&pthscan(&[e, "--fail-on", "never", "--format", "json"]).stdout)
            .unwrap();
    assert_eq!(v["fail_on"], "never");
}

#[test]
fn errors_and_notes_are_prefixed_and_repeats_grouped() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), false);
    // twelve archives that are no archives: one cause, one line
    let junk = dir.path().join("junk");
    std::fs::create_dir(&junk).unwrap();
    for i in 0..12 {
        std::fs::write(junk.join(format!("w{i:02}.whl")), b"PK\x03\x04 no zip").unwrap();
    }
    let out = pthscan(&[env.to_str().unwrap(), junk.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("error: ") || l.starts_with("note: ")),
        "{err}"
    );
    let grouped: Vec<&&str> = lines.iter().filter(|l| l.contains("12 times")).collect();
    assert_eq!(grouped.len(), 1, "{err}");
    assert!(
        grouped[0].contains("w00.whl") && grouped[0].contains("and 9 more"),
        "{err}"
    );
    // the report still lists each
    let (v, _) = scan_json(&junk, &[]);
    let not_judged = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["incomplete"] == true);
    assert_eq!(not_judged.count(), 12);
    // a note is a note: a path inside the root also given
    let out = pthscan(&["--root", dir.path().to_str().unwrap(), "/", "/junk"]);
    assert!(
        stderr(&out).lines().any(|l| l.starts_with("note: /junk")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_named_file_and_folder_is_checked_before_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), true);
    let e = env.to_str().unwrap();
    let missing = dir.path().join("missing");
    let m = missing.to_str().unwrap();
    let in_missing = missing.join("report.json");
    let cases: &[(&[&str], &str)] = &[
        (&["--config", m, e], "--config"),
        (&["--baseline", m, e], "--baseline"),
        (&["--rules", m, e], "--rules"),
        (&["--db", m, e], "--db"),
        (&["-o", in_missing.to_str().unwrap(), e], "does not exist"),
        (&["-o", dir.path().to_str().unwrap(), e], "is a directory"),
        (&["--exclude", "a[", e], "--exclude"),
    ];
    for (args, says) in cases {
        let out = pthscan(args);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{args:?}: {err}"
        );
        // before the scan: no report, no temporary file left
        assert!(stdout(&out).is_empty(), "{args:?}");
        assert!(!err.contains(".pthscan-"), "{args:?}: {err}");
    }
    assert!(!missing.exists());
    // a report whose name says another format: written, and said
    let r = dir.path().join("r.json");
    let out = pthscan(&["-o", r.to_str().unwrap(), e]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("warning: writing a text report to")
            && stderr(&out).contains("--format json"),
        "{}",
        stderr(&out)
    );
    // sizes with units, values in any case
    let out = pthscan(&[
        "--max-file-size",
        "64MiB",
        "--max-memory",
        "1GiB",
        "--format",
        "JSON",
        e,
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let out = pthscan(&["--max-file-size", "64 potatoes", e]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("64MiB"), "{}", stderr(&out));
}

#[test]
fn reports_take_the_umask_and_a_dead_run_leaves_a_marker_not_a_stale_report() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), true);
    let report = dir.path().join("last.jsonl");
    let run = |umask: &str| {
        std::process::Command::new("sh")
            .args([
                "-c",
                &format!(
                    "umask {umask}; exec \"$0\" --quiet --format jsonl -o {} {}",
                    report.display(),
                    env.display()
                ),
            ])
            .arg(bin())
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .unwrap()
    };
    assert_eq!(code(&run("022")), 1);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&report), 0o644);
    std::fs::remove_file(&report).unwrap();
    assert_eq!(code(&run("077")), 1);
    assert_eq!(mode(&report), 0o600);
    // a replaced report keeps the mode it was given
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(code(&run("022")), 1);
    assert_eq!(mode(&report), 0o640);
    let names = || {
        let mut n: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(), ["last.jsonl", "venv"]);

    // a run killed while it works: its marker beside the previous report
    let bomb = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["--quiet", "--format", "jsonl", "-o"])
        .arg(&report)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .spawn()
        .unwrap();
    let running = dir.path().join("last.jsonl.running");
    for _ in 0..200 {
        if running.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(bomb);
    assert_eq!(names(), ["last.jsonl", "last.jsonl.running", "venv"]);
    // a marker that is a link (a folder others write to) is refused, never followed
    let marker = dir.path().join("last.jsonl.running");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "kept\n").unwrap();
    std::fs::rename(&marker, dir.path().join("held")).unwrap();
    std::os::unix::fs::symlink(&secret, &marker).unwrap();
    let out = pthscan(&["-o", report.to_str().unwrap(), env.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("in the way of the run marker"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "kept\n");
    std::fs::remove_file(&marker).unwrap();
    std::fs::remove_file(&secret).unwrap();
    std::fs::rename(dir.path().join("held"), &marker).unwrap();
    // the next run says so, and puts everything back in order
    let out = std::process::Command::new(bin())
        .args(["--format", "jsonl", "-o"])
        .arg(&report)
        .arg(&env)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("the previous run did not finish"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(), ["last.jsonl", "venv"]);
}

#[test]
fn a_baseline_takes_the_global_flags_and_refuses_to_trust_findings() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), true);
    let base = dir.path().join("base.json");
    let (e, b) = (env.to_str().unwrap(), base.to_str().unwrap());
    // flags before the subcommand are the subcommand's: not a scan of a folder `baseline`
    let out = pthscan(&["-q", "baseline", "-o", b, e]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not writing a baseline that holds 1 finding(s) at or above `high`")
    );
    assert!(stderr(&out).contains("HIGH PTH001"), "{}", stderr(&out));
    assert!(!base.exists());
    // accepted on purpose: written, each finding said
    let out = pthscan(&["baseline", "-o", b, "--accept-findings", e]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: the baseline accepts 1 finding(s)"));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    assert_eq!(v["schema_version"], 1);
    // with a threshold above what is there, no question
    std::fs::remove_file(&base).unwrap();
    let out = pthscan(&["--fail-on", "critical", "baseline", "-o", b, e]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(base.exists());
    // and the next scan holds nothing new
    let out = pthscan(&[e, "--baseline", b, "--fail-on", "info"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // a subcommand word given as a PATH that does not exist: said, not scanned
    let out = pthscan(&[e, "baseline"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("put `baseline` first"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exclude_passes_over_what_it_names_and_says_how_much() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), true);
    let other = dir.path().join("node_modules/pkg/.venv");
    let sp = other.join("lib/python3.12/site-packages");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(sp.join("evil.pth"), "import os; os.system('id')\n").unwrap();
    std::fs::write(other.join("pyvenv.cfg"), "version = 3.12.4\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let (all, _) = scan_json(dir.path(), &[]);
    let (some, _) = scan_json(dir.path(), &["--exclude", "node_modules"]);
    let paths = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["location"]["path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        paths(&all).iter().any(|p| p.contains("node_modules")),
        "{all}"
    );
    assert!(
        !paths(&some).iter().any(|p| p.contains("node_modules")),
        "{some}"
    );
    assert!(paths(&some).iter().any(|p| p.ends_with("y.pth")));
    assert_eq!(some["summary"]["excluded"], 1);
    let out = pthscan(&[d, "--exclude", &format!("{d}/venv/**")]);
    assert!(stdout(&out).contains("excluded: "), "{}", stdout(&out));
    let _ = env;
}

#[test]
fn min_severity_hides_from_the_text_only() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), true);
    let e = env.to_str().unwrap();
    let full = stdout(&pthscan(&[e]));
    let high = stdout(&pthscan(&[e, "--min-severity", "high"]));
    assert!(full.contains("x.pth") && full.contains("y.pth"));
    assert!(!high.contains("x.pth") && high.contains("y.pth"), "{high}");
    assert!(
        high.contains("hidden by --min-severity: 1 medium"),
        "{high}"
    );
    // the counts and the verdict are the same
    let tail = |t: &str| t.lines().rev().take(1).collect::<String>();
    assert_eq!(tail(&full), tail(&high));
    let (v, _) = scan_json(&env, &["--min-severity", "critical"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn completions_man_page_and_version_come_from_the_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = pthscan(&["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        let text = stdout(&out);
        for flag in ["fail-on", "min-severity", "exclude", "accept-findings"] {
            assert!(text.contains(flag), "{shell}: {flag}");
        }
    }
    // the bash script is valid bash
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("pthscan.bash");
    std::fs::write(&script, pthscan(&["completions", "bash"]).stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    // the man page renders without a warning (man -l through groff, as man(1) would)
    let page = pthscan(&["man"]).stdout;
    let text = String::from_utf8_lossy(&page);
    assert!(
        text.starts_with(".ie") || text.contains(".TH pthscan"),
        "{text}"
    );
    for flag in ["fail\\-on", "min\\-severity", "exclude"] {
        assert!(text.contains(flag), "{flag}");
    }
    let file = dir.path().join("pthscan.1");
    std::fs::write(&file, &page).unwrap();
    let out = std::process::Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output()
        .expect("groff (Debian groff-base; .ci/setup installs it)");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
    // --version names the rule set and the database built in
    let long = stdout(&pthscan(&["--version"]));
    let lines: Vec<&str> = long.lines().collect();
    assert!(lines[0].starts_with("pthscan 0."), "{long}");
    assert!(
        lines[1].starts_with("signatures: ") && lines[1].contains(" files)"),
        "{long}"
    );
    assert!(
        lines[2].starts_with("malicious-package database: "),
        "{long}"
    );
    assert!(!lines[2].contains(" 0 embedded"), "{long}");
}

#[test]
fn a_normal_user_is_told_once_how_to_grant_read_access() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = venv_with(dir.path(), false);
    for i in 0..6 {
        let closed = dir.path().join(format!("home{i}"));
        std::fs::create_dir(&closed).unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // the binary and the tree as another user sees them: nobody
    let copy = dir.path().join("pthscan");
    std::fs::copy(bin(), &copy).unwrap();
    let out = std::process::Command::new(&copy)
        .arg(dir.path())
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("HOME", dir.path())
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.lines().next().unwrap().starts_with("error: ") && err.contains("6 times"),
        "{err}"
    );
    assert!(
        err.contains("note: 6 path(s) could not be read by this user")
            && err.contains("cap_dac_read_search"),
        "{err}"
    );
    let _ = env;
}

#[test]
fn an_interpreter_given_names_its_environment() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv_with(dir.path(), true);
    let bin_dir = env.join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    // a venv's python is a link to the base interpreter, elsewhere
    std::os::unix::fs::symlink("/usr/bin/python3", bin_dir.join("python")).unwrap();
    let python = bin_dir.join("python");
    let (v, out) = scan_json(&python, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(v["scanned"][0], env.to_str().unwrap(), "{v}");
    assert!(
        stderr(&out).contains("note: ")
            && stderr(&out).contains("the interpreter of the environment"),
        "{}",
        stderr(&out)
    );
    // the same under --root, through no link
    let out = pthscan(&[
        "--root",
        dir.path().to_str().unwrap(),
        "/venv/bin/python",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}
