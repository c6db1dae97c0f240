//! The lockfile corpus (`tests/lockfiles/`, sources in its README) end to end: each planted
//! file gives exactly its expected findings, real locks from public projects give no
//! known-malicious pin, and a fully hash-pinned file gives nothing at all.

use std::path::Path;

use crate::util::*;

/// `rule severity file:line:column` of every finding of a scan of `dir`.
fn findings(dir: &Path) -> (Vec<String>, serde_json::Value) {
    let (json, _) = scan_json(dir, &[]);
    let mut out: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let l = &f["location"];
            let file = Path::new(l["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            format!(
                "{} {} {file}:{}:{}",
                f["rule"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                l["line"],
                l["column"]
            )
        })
        .collect();
    out.sort();
    (out, json)
}

fn corpus(dir: &str) -> std::path::PathBuf {
    repo().join("tests/lockfiles").join(dir)
}

#[test]
fn planted_lockfiles_give_exactly_their_findings() {
    let cases: &[(&str, &[&str])] = &[
        (
            "planted/requirements-policy",
            &[
                "LCK001 low requirements.txt:8:1",
                "LCK002 medium requirements.txt:7:1",
                "LCK002 medium requirements.txt:8:1",
                "LCK002 medium requirements.txt:9:3",
                "LCK003 medium requirements.txt:10:1",
                "LCK003 medium requirements.txt:12:4",
                "LCK004 low requirements.txt:2:13",
                "MAL002 critical requirements.txt:7:1",
            ],
        ),
        (
            "planted/uv-malicious",
            &[
                "LCK003 medium uv.lock:36:1",
                "LCK004 low uv.lock:26:24",
                "MAL002 critical uv.lock:15:1",
            ],
        ),
        (
            "planted/pyproject",
            &[
                "LCK003 medium pyproject.toml:7:6",
                "LCK004 medium pyproject.toml:19:8",
                "MAL002 critical pyproject.toml:5:6",
            ],
        ),
        ("planted/requirements-clean", &[]),
    ];
    for (dir, want) in cases {
        let (got, _) = findings(&corpus(dir));
        assert_eq!(got, *want, "{dir}");
    }
}

#[test]
fn real_lockfiles_pin_nothing_known_malicious_and_hashed_ones_pass_the_policy() {
    for dir in [
        "uv",
        "poetry",
        "pylock",
        "pipfile",
        "pdm",
        "requirements-hashes",
        "requirements",
    ] {
        let (got, json) = findings(&corpus(&format!("real/{dir}")));
        assert!(!got.iter().any(|f| f.starts_with("MAL")), "{dir}: {got:?}");
        assert_eq!(json["summary"]["lockfiles"], 1, "{dir}");
        if dir != "requirements" {
            // generated, hash-pinned locks: the policy has nothing to say
            assert!(got.is_empty(), "{dir}: {got:?}");
        }
    }
    // pip's documented example: unpinned lines, a tag archive and a plain-http URL without hash
    let (got, _) = findings(&corpus("real/requirements"));
    for want in [
        "LCK001 low requirements.txt:3:1",
        "LCK003 medium requirements.txt:10:1",
        "LCK003 medium requirements.txt:20:1",
    ] {
        assert!(got.iter().any(|f| f == want), "{want} not in {got:?}");
    }
}

#[test]
fn a_lockfile_given_alone_is_judged_and_includes_stay_inside_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("proj/reqs")).unwrap();
    std::fs::write(
        d.join("proj/reqs/requirements-dev.txt"),
        "-r ../requirements.txt\n-r ../../../../../../../../etc/passwd\n-r requirements-dev.txt\n",
    )
    .unwrap();
    std::fs::write(d.join("proj/requirements.txt"), "litellm==1.82.7\n").unwrap();
    let file = d.join("proj/reqs/requirements-dev.txt");
    let out = pthscan(&[file.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // the include above the given file's folder is outside what was given: not read, and said
    assert!(!rules.contains(&"MAL002"), "{rules:?}");
    let diags = json["diagnostics"].to_string();
    assert!(
        diags.contains("`../requirements.txt` is not a readable file"),
        "{diags}"
    );
    assert!(diags.contains("etc/passwd"), "{diags}");
    assert_eq!(code(&out), 2);
    // given the project, the include is inside, read once, and the cycle ends
    let (json, out) = scan_json(&d.join("proj"), &[]);
    let mal: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "MAL002")
        .collect();
    assert_eq!(mal.len(), 1, "{json:#}");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let diags = json["diagnostics"].to_string();
    assert!(
        diags.contains("etc/passwd` is not a readable file"),
        "{diags}"
    );
    assert!(!diags.contains("../requirements.txt"), "{diags}");
    // a link named like a lockfile is read through (its includes relative to where the link
    // lies, as pip reads them), inside the tree only
    std::os::unix::fs::symlink("reqs/requirements-dev.txt", d.join("proj/constraints.txt"))
        .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.join("proj/requirements-prod.txt")).unwrap();
    let (json, _) = scan_json(&d.join("proj"), &[]);
    assert!(
        json["diagnostics"]
            .to_string()
            .contains("requirements-prod.txt"),
        "{json:#}"
    );
    assert_eq!(json["summary"]["lockfiles"], 3, "{json:#}");
}

#[test]
fn a_host_sweep_judges_project_lockfiles_not_the_system_s_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (path, text) in [
        ("home/ann/proj/requirements.txt", "litellm==1.82.8\n"),
        ("srv/app/uv.lock", ""),
        ("usr/share/doc/tool/requirements.txt", "litellm==1.82.7\n"),
        (
            "usr/lib/node_modules/x/requirements.txt",
            "litellm==1.82.7\n",
        ),
    ] {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = pthscan(&["--root", d.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mal: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "MAL002")
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(mal.len(), 1, "{json:#}");
    assert!(
        mal[0].ends_with("/home/ann/proj/requirements.txt"),
        "{mal:?}"
    );
    assert_eq!(json["summary"]["lockfiles"], 2);
}

#[test]
fn a_range_that_allows_a_known_malicious_release_is_medium_and_low_in_a_pyproject() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("requirements.txt"),
        "litellm~=1.82.0\nlitellm>=1.83\n",
    )
    .unwrap();
    std::fs::write(
        d.join("pyproject.toml"),
        "[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"litellm>=1.80,<1.90\"]\n",
    )
    .unwrap();
    let (got, _) = findings(d);
    let mal: Vec<&String> = got.iter().filter(|f| f.starts_with("MAL002")).collect();
    assert_eq!(
        mal,
        [
            "MAL002 low pyproject.toml:4:18",
            "MAL002 medium requirements.txt:1:1",
            // 1.107.0 is listed too (PTHSCAN-2026-0001)
            "MAL002 medium requirements.txt:2:1",
        ],
        "{got:?}"
    );
}
