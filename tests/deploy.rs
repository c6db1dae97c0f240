//! The deployment recipes in deploy/: every pthscan command line they hold runs with this
//! binary, the systemd units pass `systemd-analyze verify`, the Kubernetes manifests pass
//! `kubernetes-validate` and the GitHub workflow passes `action-validator` (both installed by
//! .ci/run from PyPI and npm and found through PTHSCAN_K8S_VALIDATE and
//! PTHSCAN_ACTION_VALIDATOR).

use std::process::Command;

use crate::util::*;

fn deploy(rel: &str) -> String {
    std::fs::read_to_string(repo().join("deploy").join(rel)).unwrap()
}

/// The arguments of every pthscan invocation in a text (after the binary's path).
fn invocations(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        // JSON-array forms: RUN ["/usr/local/bin/pthscan", "--quiet", …] and args: [...]
        if let Some(start) = line.find('[')
            && line.contains("\"--")
            && let Ok(items) = serde_json::from_str::<Vec<String>>(&line[start..])
        {
            let from = items
                .iter()
                .position(|a| a.ends_with("pthscan"))
                .map_or(0, |i| i + 1);
            out.push(items[from..].to_vec());
            continue;
        }
        // shell forms: …/pthscan ARGS [|| …] [; …]
        if let Some(at) = line.find("/usr/local/bin/pthscan ") {
            let rest = &line[at + "/usr/local/bin/pthscan ".len()..];
            let rest = rest.split(['|', ';']).next().unwrap();
            out.push(rest.split_whitespace().map(str::to_owned).collect());
        } else if let Some(rest) = line.strip_prefix("run: pthscan ") {
            out.push(rest.split_whitespace().map(str::to_owned).collect());
        }
    }
    out
}

#[test]
fn every_command_line_in_the_recipes_runs_with_this_binary() {
    let host = tempfile::tempdir().unwrap();
    crate::host::build_host(host.path());
    let out_dir = tempfile::tempdir().unwrap();
    let files = [
        "docker/Dockerfile.check",
        "systemd/pthscan.service",
        "cron/pthscan",
        "kubernetes/cronjob.yaml",
        "kubernetes/daemonset.yaml",
        "github/pthscan.yml",
    ];
    let mut seen = 0;
    for file in files {
        let lines = invocations(&deploy(file));
        assert!(!lines.is_empty(), "{file}: no pthscan command line found");
        for args in lines {
            // the places of a real deployment, mapped into this test's directories
            let mapped: Vec<String> = args
                .iter()
                .map(|a| match a.as_str() {
                    "/" | "/host" | "." => host.path().display().to_string(),
                    "\"$GITHUB_WORKSPACE\"" => host.path().display().to_string(),
                    "/var/lib/pthscan/last.jsonl" | "pthscan.sarif" => {
                        out_dir.path().join("out").display().to_string()
                    }
                    other => other.to_owned(),
                })
                .collect();
            // a host sweep (no PATH, no --root) sweeps the planted host instead of this machine
            let mut mapped = mapped;
            let takes_value = [
                "--format",
                "--output",
                "--fail-on",
                "--root",
                "--sarif-srcroot",
            ];
            let positional = mapped.iter().enumerate().any(|(i, a)| {
                !a.starts_with('-') && (i == 0 || !takes_value.contains(&mapped[i - 1].as_str()))
            });
            if !positional && !mapped.iter().any(|a| a == "--root") {
                mapped.extend(["--root".to_owned(), host.path().display().to_string()]);
            }
            let refs: Vec<&str> = mapped.iter().map(String::as_str).collect();
            let out = pthscan(&refs);
            let err = stderr(&out);
            assert!(
                !err.contains("Usage:"),
                "{file}: {args:?} is not a valid command line\n{err}"
            );
            assert!(
                code(&out) == 1,
                "{file}: {args:?} should find the planted host's hooks\n{err}"
            );
            seen += 1;
        }
    }
    assert!(seen >= 6, "{seen}");
    // cron.d lines: five time fields, a user, a command
    for line in deploy("cron/pthscan")
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("pthscan"))
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(fields.len() > 7 && fields[5] == "root", "{line}");
    }
}

#[test]
fn the_systemd_units_verify() {
    let dir = tempfile::tempdir().unwrap();
    let service = deploy("systemd/pthscan.service")
        .replace("/usr/local/bin/pthscan", &bin().to_string_lossy());
    std::fs::write(dir.path().join("pthscan.service"), service).unwrap();
    std::fs::write(
        dir.path().join("pthscan.timer"),
        deploy("systemd/pthscan.timer"),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("pthscan.service"))
        .arg(dir.path().join("pthscan.timer"))
        .output()
        .expect("systemd-analyze (Debian package systemd; .ci/run installs it)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "{err}");
}

/// A validator CI provides (.ci/run installs it); outside CI the check is left to CI.
fn external(var: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(var)
}

#[test]
fn the_kubernetes_manifests_and_the_workflow_validate() {
    let dir = repo().join("deploy");
    if let Some(k8s) = external("PTHSCAN_K8S_VALIDATE") {
        let out = Command::new(k8s)
            .args(["-k", "1.31.0", "--strict"])
            .arg(dir.join("kubernetes/cronjob.yaml"))
            .arg(dir.join("kubernetes/daemonset.yaml"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert_eq!(text.matches("passed").count(), 3, "{text}");
    }
    if let Some(av) = external("PTHSCAN_ACTION_VALIDATOR") {
        let out = Command::new(&av)
            .arg(dir.join("github/pthscan.yml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // and the validator is no rubber stamp
        let bad = tempfile::tempdir().unwrap();
        let file = bad.path().join("bad.yml");
        std::fs::write(
            &file,
            "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n",
        )
        .unwrap();
        assert!(
            !Command::new(&av)
                .arg(&file)
                .output()
                .unwrap()
                .status
                .success()
        );
    }
}
