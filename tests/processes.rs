//! `--processes`: harmless processes this test starts itself (a python3 that decodes
//! `time.sleep(30)`, an interpreter copied to /tmp and deleted while it sleeps, one given
//! PYTHONSTARTUP, one reading a pipe, an ordinary one), then the sweep must name their pids.
//! Every process is killed when its guard drops. Linux only: `/proc`.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// A child killed and reaped when dropped, whatever the test's outcome.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

/// The interpreter `python3` on PATH really is (through pyenv's shims and the like). Asked of
/// the test's own python3, never of anything scanned.
fn real_python() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("these tests need a python3 on PATH");
    assert!(out.status.success());
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Starts `program args` with `env` and waits until the process runs `program` (a shim or
/// wrapper has exec'd into it) with every argument in place.
fn start(program: &Path, args: &[&str], env: &[(&str, &str)], stdin: Stdio) -> Running {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_remove("PYTHONSTARTUP")
        .env_remove("PYTHONPATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Running(cmd.spawn().expect("start a harmless process"));
    let deadline = Instant::now() + Duration::from_secs(15);
    let want = args.last().copied().unwrap_or_default();
    loop {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.pid())).unwrap_or_default();
        let exe = std::fs::read_link(format!("/proc/{}/exe", child.pid())).unwrap_or_default();
        let ready = String::from_utf8_lossy(&cmdline).contains(want)
            && exe
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python") || exe == program);
        if ready {
            // the interpreter is up; give it a moment to be past start-up
            std::thread::sleep(Duration::from_millis(300));
            return child;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not start",
            program.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The findings at `/proc/PID`, as (rule, severity).
fn at_pid(json: &serde_json::Value, pid: u32) -> Vec<(String, String)> {
    let path = format!("/proc/{pid}");
    let mut found: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] == path.as_str())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

fn process(json: &serde_json::Value, pid: u32) -> &serde_json::Value {
    json["processes"]
        .as_array()
        .expect("a processes section")
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("pid {pid} not listed: {:#}", json["processes"]))
}

const SEVERE: [&str; 3] = ["medium", "high", "critical"];

#[test]
fn the_sweep_names_decoded_deleted_piped_and_startup_processes_and_not_an_ordinary_one() {
    let python = real_python();
    let decoded = start(
        &python,
        &[
            "-c",
            "import base64;exec(base64.b64decode('aW1wb3J0IHRpbWU7dGltZS5zbGVlcCgzMCk='))",
        ],
        &[],
        Stdio::null(),
    );
    let ordinary = start(
        &python,
        &["-c", "import time; time.sleep(30)"],
        &[],
        Stdio::null(),
    );
    let startup_file = tempfile::NamedTempFile::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let startup = start(
        &python,
        &["-c", "import time; time.sleep(30.5)"],
        &[("PYTHONSTARTUP", startup_file.path().to_str().unwrap())],
        Stdio::null(),
    );
    // a pipe the test holds open and never writes to: the interpreter waits on it
    let piped = start(&python, &["-"], &[], Stdio::piped());
    // an interpreter copied to a directory under /tmp, deleted while it runs
    let copies = tempfile::Builder::new()
        .prefix("pthscan-copy")
        .tempdir_in("/tmp")
        .unwrap();
    let copy = copies.path().join("python3");
    std::fs::copy(&python, &copy).unwrap();
    let deleted = start(
        &copy,
        &["-c", "import time; time.sleep(31)"],
        &[],
        Stdio::null(),
    );
    std::fs::remove_file(&copy).unwrap();

    let empty = tempfile::tempdir().unwrap();
    let (json, out) = scan_json(empty.path(), &["--processes"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));

    let found = at_pid(&json, decoded.pid());
    assert!(
        found.contains(&("PRC001".into(), "high".into())),
        "{found:?}"
    );
    let prc001 = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "PRC001" && f["location"]["path"] == format!("/proc/{}", decoded.pid())
        })
        .unwrap();
    assert!(
        prc001["message"]
            .as_str()
            .unwrap()
            .contains(&format!("pid {}", decoded.pid()))
    );
    assert!(
        prc001["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("import time;time.sleep(30)")),
        "{prc001:#}"
    );

    let found = at_pid(&json, deleted.pid());
    assert!(
        found.contains(&("PRC004".into(), "high".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("PRC003".into(), "high".into())),
        "{found:?}"
    );
    let listed = process(&json, deleted.pid());
    assert_eq!(listed["exe_deleted"], true);
    assert_eq!(listed["exe"], copy.to_str().unwrap());

    let found = at_pid(&json, startup.pid());
    assert_eq!(found, [("PRC005".into(), "medium".into())]);
    assert_eq!(
        process(&json, startup.pid())["startup_env"]["PYTHONSTARTUP"],
        startup_file.path().to_str().unwrap()
    );

    let found = at_pid(&json, piped.pid());
    assert_eq!(found, [("PRC002".into(), "medium".into())]);
    assert!(
        process(&json, piped.pid())["stdin"]
            .as_str()
            .unwrap()
            .starts_with("pipe:")
    );

    let found = at_pid(&json, ordinary.pid());
    assert!(
        found.iter().all(|(_, s)| !SEVERE.contains(&s.as_str())),
        "an ordinary sleeping python3 is not medium or worse: {found:?}"
    );
    let listed = process(&json, ordinary.pid());
    assert_eq!(listed["identified_by"], "executable");
    assert_eq!(listed["running"]["kind"], "command");
    assert_eq!(listed["argv"][1], "-c");
    assert_eq!(listed["startup_env"], serde_json::json!({}));
    assert_eq!(listed["ppid"], std::process::id());
    // the environment is never dumped: only start-up variables are kept
    let text = serde_json::to_string(&json["processes"]).unwrap();
    assert!(!text.contains("\"HOME\""));
    assert!(!text.contains("CARGO_MANIFEST_DIR"));

    crate::output::assert_valid(&crate::output::schema(), &json, "document with processes");
    drop((decoded, ordinary, startup, piped, deleted));
}

/// A harmless stand-in for an interpreter inside a venv: `sleep` copied to `venv/bin/python3`
/// (so no Python ever starts on the scanned environment). A finding about the venv names it.
#[test]
fn a_finding_about_an_environment_names_the_processes_that_use_it_now() {
    // not under /tmp, where a copied interpreter is a finding of its own
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let venv = dir.path().join("venv");
    let sp = venv.join("lib/python3.12/site-packages");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.3\n",
    )
    .unwrap();
    std::fs::write(sp.join("zz_shim.pth"), "import zz_shim\n").unwrap();
    let sleep = ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
        .expect("a sleep binary");
    let fake = venv.join("bin/python3");
    std::fs::copy(sleep, &fake).unwrap();
    let running = start(&fake, &["30"], &[], Stdio::null());

    let (json, out) = scan_json(dir.path(), &["--processes"]);
    assert!(code(&out) <= 1, "{}", stderr(&out));
    let pth = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "PTH001")
        .expect("the .pth line is found");
    let note = format!("used now by pid {}", running.pid());
    assert!(
        pth["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with(&note)),
        "{pth:#}"
    );
    let listed = process(&json, running.pid());
    assert_eq!(listed["venv"], true);
    assert_eq!(listed["prefix"], venv.to_str().unwrap());
    assert_eq!(listed["environment"], venv.to_str().unwrap());
    // a venv without system site packages: no user site either
    assert_eq!(listed["uses"], serde_json::json!([venv.to_str().unwrap()]));

    // the text report lists the running Python processes and counts them
    let out = pthscan(&["--processes", dir.path().to_str().unwrap()]);
    let text = stdout(&out);
    assert!(text.contains("running Python processes ("), "{text}");
    assert!(text.contains(&note), "{text}");
    assert!(text.contains("Python process(es) running"), "{text}");
}

/// `--processes` with a host sweep (here of a filesystem at --root, which is this machine's
/// sweep of that root): the processes are this machine's, said once.
#[test]
fn processes_join_a_host_sweep_and_without_the_flag_nothing_is_read() {
    let python = real_python();
    let decoded = start(
        &python,
        &[
            "-c",
            "import base64;exec(base64.b64decode('aW1wb3J0IHRpbWU7dGltZS5zbGVlcCgzMi4wKQ=='))",
        ],
        &[],
        Stdio::null(),
    );
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("usr/lib/python3.12/site-packages")).unwrap();
    let out = pthscan(&[
        "--root",
        root.path().to_str().unwrap(),
        "--processes",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(at_pid(&json, decoded.pid()).contains(&("PRC001".into(), "high".into())));
    assert!(json["summary"]["processes"].as_u64().unwrap() >= 1);
    assert!(
        diagnosed(
            &json,
            "this machine's, not those of the filesystem at --root"
        ),
        "{:#}",
        json["diagnostics"]
    );
    // not implied by a sweep: no processes section, no process finding
    let out = pthscan(&["--root", root.path().to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("processes").is_none());
    assert!(at_pid(&json, decoded.pid()).is_empty());
    // JSON Lines: one process record per Python process
    let out = pthscan(&[
        "--root",
        root.path().to_str().unwrap(),
        "--processes",
        "--format",
        "jsonl",
    ]);
    let schema = crate::output::schema();
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for r in &records {
        crate::output::assert_valid(&schema, r, "record");
    }
    assert!(
        records
            .iter()
            .any(|r| r["record"] == "process" && r["pid"] == decoded.pid())
    );
}

#[test]
fn an_interpreter_renamed_to_another_program_is_still_python() {
    // a copy of the interpreter named `sshd` (Debian's is static: no libpython to tell it by)
    let python = real_python();
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("sshd");
    std::fs::copy(&python, &renamed).unwrap();
    let running = start(
        &renamed,
        &[
            "-c",
            "import base64;exec(base64.b64decode('aW1wb3J0IHRpbWU7dGltZS5zbGVlcCgzMi41KQ=='))",
        ],
        &[],
        Stdio::null(),
    );
    let empty = tempfile::tempdir().unwrap();
    let (json, out) = scan_json(empty.path(), &["--processes"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let p = process(&json, running.pid());
    assert!(
        ["content", "library"].contains(&p["identified_by"].as_str().unwrap()),
        "{p:#}"
    );
    let found = at_pid(&json, running.pid());
    assert!(
        found.contains(&("PRC001".into(), "high".into())),
        "{found:?}"
    );
}
