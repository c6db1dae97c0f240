//! The malicious-package database end to end: one release found wherever it lies (installed,
//! wheel, sdist, cache, image layer, lockfile), `db import`/`db status`/`--db`, and records in
//! the real OSV schema written here.

use std::path::Path;

use crate::util::*;

const LITELLM_METADATA: &[u8] = b"Metadata-Version: 2.1\nName: LiteLLM\nVersion: 1.82.8\n\n";

fn litellm_wheel() -> Vec<u8> {
    zip_of(&[
        ("litellm-1.82.8.dist-info/METADATA", LITELLM_METADATA),
        (
            "litellm-1.82.8.dist-info/WHEEL",
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        ("litellm-1.82.8.dist-info/RECORD", b""),
        ("litellm/__init__.py", b""),
    ])
}

const UV_LOCK: &str = r#"version = 1
requires-python = ">=3.11"

[[package]]
name = "idna"
version = "3.10"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.pythonhosted.org/packages/idna-3.10-py3-none-any.whl", hash = "sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3", size = 70442 },
]

[[package]]
name = "litellm"
version = "1.82.8"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.pythonhosted.org/packages/litellm-1.82.8-py3-none-any.whl", hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111", size = 1 },
]
"#;

/// `(rule, path relative to the scanned dir with line:col when given)` of every finding.
fn rules_at(json: &serde_json::Value, dir: &Path) -> Vec<(String, String)> {
    let prefix = format!("{}/", dir.display());
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let loc = &f["location"];
            let mut at = loc["path"].as_str().unwrap().replace(&prefix, "");
            if let Some(l) = loc["line"].as_u64() {
                at.push_str(&format!(":{l}"));
            }
            if let Some(c) = loc["column"].as_u64() {
                at.push_str(&format!(":{c}"));
            }
            (f["rule"].as_str().unwrap().to_owned(), at)
        })
        .collect()
}

#[test]
fn a_known_malicious_release_is_reported_wherever_it_lies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // installed in a venv
    let sp = d.join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(sp.join("LiteLLM-1.82.8.dist-info")).unwrap();
    std::fs::write(d.join("venv/pyvenv.cfg"), "version = 3.12.1\n").unwrap();
    std::fs::write(
        sp.join("LiteLLM-1.82.8.dist-info/METADATA"),
        LITELLM_METADATA,
    )
    .unwrap();
    // a wheel, an sdist, a pip cache entry under a hashed name
    std::fs::write(d.join("litellm-1.82.8-py3-none-any.whl"), litellm_wheel()).unwrap();
    std::fs::write(
        d.join("lite_llm-1.82.8.tar.gz"),
        gzip(&tar_of(&[
            ("lite_llm-1.82.8/PKG-INFO", LITELLM_METADATA),
            (
                "lite_llm-1.82.8/setup.py",
                b"from setuptools import setup\nsetup()\n",
            ),
        ])),
    )
    .unwrap();
    let cache = d.join("home/ann/.cache/pip/http-v2/a/b/c/d/e");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("0f1e2d3c.body"), litellm_wheel()).unwrap();
    // an image layer
    let layer = tar_of(&[
        ("usr/local/lib/python3.12/os.py", b"# os\n"),
        (
            "usr/local/lib/python3.12/site-packages/litellm-1.82.8.dist-info/METADATA",
            LITELLM_METADATA,
        ),
    ]);
    let layer_name = "blobs/sha256/layer1";
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest =
        br#"[{"Config":"blobs/sha256/config","RepoTags":["app:1"],"Layers":["blobs/sha256/layer1"]}]"#;
    std::fs::write(
        d.join("app.tar"),
        tar_of(&[
            (layer_name, &layer),
            ("blobs/sha256/config", config),
            ("manifest.json", manifest),
        ]),
    )
    .unwrap();
    // a project's lock
    std::fs::create_dir_all(d.join("src/app")).unwrap();
    std::fs::write(d.join("src/app/uv.lock"), UV_LOCK).unwrap();

    let (json, out) = scan_json(d, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let found = rules_at(&json, d);
    let mal: Vec<&(String, String)> = found.iter().filter(|(r, _)| r.starts_with("MAL")).collect();
    for want in [
        (
            "MAL001",
            "venv/lib/python3.12/site-packages/LiteLLM-1.82.8.dist-info/METADATA",
        ),
        (
            "MAL001",
            "litellm-1.82.8-py3-none-any.whl › litellm-1.82.8.dist-info/METADATA",
        ),
        (
            "MAL001",
            "lite_llm-1.82.8.tar.gz › lite_llm-1.82.8/PKG-INFO",
        ),
        (
            "MAL001",
            "home/ann/.cache/pip/http-v2/a/b/c/d/e/0f1e2d3c.body › litellm-1.82.8.dist-info/METADATA",
        ),
        ("MAL002", "src/app/uv.lock:13:1"),
    ] {
        assert!(
            mal.iter().any(|(r, p)| r == want.0 && p == want.1),
            "{want:?} not in {mal:#?}"
        );
    }
    assert!(
        mal.iter().any(|(r, p)| r == "MAL001"
            && p.starts_with("app.tar › app:1 › layer 1")
            && p.ends_with("litellm-1.82.8.dist-info/METADATA")),
        "image layer: {mal:#?}"
    );
    // the hash-pinned idna of the same lock is clean, and so is the lock's policy
    assert!(
        !found
            .iter()
            .any(|(r, p)| r.starts_with("LCK") && p.contains("uv.lock")),
        "{found:#?}"
    );
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "MAL002")
        .unwrap();
    assert_eq!(f["severity"], "critical");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("MAL-2026-2144 (PYSEC-2026-2)"),
        "{message}"
    );
    assert!(
        f["notes"]
            .to_string()
            .contains("embedded:osv/pypi/litellm/MAL-2026-2144.json")
    );
}

const RANGE_RECORD: &str = r#"{
  "schema_version": "1.7.4", "id": "MAL-2099-7", "modified": "2099-02-01T00:00:00Z",
  "aliases": ["GHSA-xxxx-yyyy-zzzz"], "summary": "Malicious code in corp-utils (PyPI)",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "corp_utils"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.3"}]}]}]
}"#;
const WITHDRAWN_RECORD: &str = r#"{
  "id": "MAL-2099-8", "modified": "2099-02-02T00:00:00Z", "withdrawn": "2099-02-03T00:00:00Z",
  "summary": "Malicious code in requests (PyPI)",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["2.32.3"]}]
}"#;
const NPM_RECORD: &str = r#"{
  "id": "MAL-2099-9", "modified": "2099-02-04T00:00:00Z", "summary": "Malicious code in corp-utils (npm)",
  "affected": [{"package": {"ecosystem": "npm", "name": "corp-utils"}, "versions": ["2.9.0"]}]
}"#;

fn venv_with(dir: &Path, dists: &[(&str, &str)]) {
    let sp = dir.join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(dir.join("venv/pyvenv.cfg"), "version = 3.12.1\n").unwrap();
    for (name, version) in dists {
        let info = sp.join(format!("{name}-{version}.dist-info"));
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(
            info.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"),
        )
        .unwrap();
    }
}

#[test]
fn imported_records_apply_to_every_later_scan_and_status_says_what_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let osv = d.join("osv/malicious/pypi");
    std::fs::create_dir_all(osv.join("corp-utils")).unwrap();
    std::fs::write(osv.join("corp-utils/MAL-2099-7.json"), RANGE_RECORD).unwrap();
    std::fs::write(osv.join("corp-utils/MAL-2099-9.json"), NPM_RECORD).unwrap();
    std::fs::create_dir_all(osv.join("requests")).unwrap();
    std::fs::write(osv.join("requests/MAL-2099-8.json"), WITHDRAWN_RECORD).unwrap();
    let store = d.join("store");
    let env = [("PTHSCAN_DB_DIR", store.as_os_str())];

    let out = pthscan_env(&["db", "import", d.join("osv").to_str().unwrap()], &env);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("imported 1 records")
            && stdout(&out).contains("1 withdrawn, 1 skipped"),
        "{}",
        stdout(&out)
    );
    let status = stdout(&pthscan_env(&["db", "status"], &env));
    assert!(
        status.contains("1 records, 1 withdrawn, 1 skipped, newest modified 2099-02-02T00:00:00Z"),
        "{status}"
    );
    assert!(status.contains("imported 20"), "{status}");

    venv_with(
        d.join("a").as_path(),
        &[("Corp.Utils", "2.2.1"), ("requests", "2.32.3")],
    );
    venv_with(d.join("b").as_path(), &[("corp-utils", "2.3")]);
    let scan = |path: &Path, env: &[(&str, &std::ffi::OsStr)]| {
        let out = pthscan_env(&[path.to_str().unwrap(), "--format", "json"], env);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (rules_at(&json, path), code(&out))
    };
    let (a, code_a) = scan(&d.join("a"), &env);
    assert_eq!(code_a, 1);
    assert_eq!(
        a,
        [(
            "MAL001".to_owned(),
            "venv/lib/python3.12/site-packages/Corp.Utils-2.2.1.dist-info/METADATA".to_owned()
        )],
        "a withdrawn record matches nothing"
    );
    let (b, code_b) = scan(&d.join("b"), &env);
    assert!(b.is_empty() && code_b == 0, "2.3 is fixed: {b:?}");
    // without the import, only the embedded snapshot: nothing on corp-utils
    let none = [("PTHSCAN_DB_DIR", d.join("empty").into_os_string())];
    let none: Vec<(&str, &std::ffi::OsStr)> =
        none.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    assert!(scan(&d.join("a"), &none).0.is_empty());
    // --db for one run, a single record file
    let one = d.join("one.json");
    std::fs::write(&one, RANGE_RECORD).unwrap();
    let out = pthscan_env(
        &[
            d.join("a").to_str().unwrap(),
            "--db",
            one.to_str().unwrap(),
            "-q",
        ],
        &none,
    );
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    // a --db that cannot be read stops the run before the scan, with why
    let out = pthscan_env(
        &[d.join("a").to_str().unwrap(), "--db", "/nonexistent/x.zip"],
        &none,
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("cannot read --db /nonexistent/x.zip"),
        "{}",
        stderr(&out)
    );
    // a kept snapshot that is not one: said, and the scan is incomplete
    std::fs::create_dir_all(d.join("bad")).unwrap();
    std::fs::write(d.join("bad/imported.json"), "{").unwrap();
    let bad = [("PTHSCAN_DB_DIR", d.join("bad").into_os_string())];
    let bad: Vec<(&str, &std::ffi::OsStr)> = bad.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let out = pthscan_env(&[d.join("b").to_str().unwrap()], &bad);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("not a pthscan database snapshot"),
        "{}",
        stderr(&out)
    );
    // importing nothing usable keeps what was kept
    std::fs::write(d.join("npm.json"), NPM_RECORD).unwrap();
    let out = pthscan_env(
        &["db", "import", d.join("npm.json").to_str().unwrap()],
        &env,
    );
    assert_eq!(code(&out), 2);
    assert_eq!(scan(&d.join("a"), &env).1, 1);
}
