//! One image in every container format, built by `tests/images/build.py` from a real Debian root
//! filesystem (`.ci/setup` makes it with mmdebstrap in ~/.cache/pthscan-images; skopeo
//! writes two of the formats): every format gives the same findings, in the layer that wrote
//! them, with the history line that made that layer, a hook deleted by a later layer is gone and
//! the one re-added is found; the stock image and its `docker export` have nothing at medium or
//! above.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// (rule, severity, path inside the image, layer number) of each medium+ finding.
fn medium_up(json: &serde_json::Value) -> BTreeSet<(String, String, String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| ["medium", "high", "critical"].contains(&f["severity"].as_str().unwrap()))
        .map(|f| {
            let path = f["location"]["path"].as_str().unwrap();
            let inside = path.rsplit(" › ").next().unwrap().to_owned();
            let layer = path
                .split(" › ")
                .find(|p| p.starts_with("layer "))
                .map(|l| l.split(' ').nth(1).unwrap().to_owned())
                .unwrap_or_default();
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                inside,
                layer,
            )
        })
        .collect()
}

#[test]
fn every_image_format_gives_the_same_findings_and_a_stock_image_passes() {
    // a Debian root filesystem mmdebstrap made (.ci/setup)
    let rootfs = setup_tool(
        "PTHSCAN_DEBIAN_ROOTFS",
        "pthscan-images/bookworm-python.tar",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img");
    let built = Command::new("python3")
        .args(["-I"])
        .arg(repo().join("tests/images/build.py"))
        .arg(&rootfs)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let formats = [
        "oci",
        "oci.tar",
        "oci-zstd",
        "docker-classic.tar",
        "docker-classic.tar.gz",
        "docker-classic.tar.zst",
        "docker25.tar",
        "podman.tar",
        "skopeo-dir",
    ];
    let mut first: Option<BTreeSet<_>> = None;
    for format in formats {
        let (json, run) = scan_json(&out.join(format), &[]);
        assert_eq!(code(&run), 1, "{format}: {}", stderr(&run));
        // nothing was left unread: every layer, every module a hook imports
        assert_eq!(stderr(&run), "", "{format}");
        let found = medium_up(&json);
        let planted = |rule: &str, sev: &str, at: &str, layer: &str| {
            found.contains(&(rule.into(), sev.into(), at.into(), layer.into()))
        };
        let dist = "usr/lib/python3/dist-packages/litellm_init.pth";
        let local = "usr/local/lib/python3.11/dist-packages/gone.pth";
        assert!(
            planted("PTH001", "critical", dist, "2"),
            "{format}: {found:#?}"
        );
        assert!(planted("INT003", "high", dist, "2"), "{format}: {found:#?}");
        // the first gone.pth was deleted by layer 3; the one layer 4 wrote is what runs
        assert!(
            planted("PTH001", "high", local, "4"),
            "{format}: {found:#?}"
        );
        assert!(
            found.iter().all(|f| f.3 == "2" || f.3 == "4"),
            "{format}: {found:#?}"
        );
        let text = json.to_string();
        assert!(
            !text.contains("first.invalid"),
            "{format}: the deleted hook"
        );
        assert!(
            text.contains("layer 4 was created by: RUN echo again"),
            "{format}: history past empty entries"
        );
        match &first {
            None => first = Some(found),
            Some(f) => assert_eq!(f, &found, "{format} differs from {}", formats[0]),
        }
    }
    // tags of one manifest: one image, named by both
    let (json, _) = scan_json(&out.join("oci"), &[]);
    assert!(
        json.to_string()
            .contains("docker.io/library/app:1.0 (also docker.io/library/app:latest)"),
        "{json}"
    );
    // squashed: the same findings, all in its one layer
    let (json, _) = scan_json(&out.join("squashed.tar"), &[]);
    let squashed: BTreeSet<_> = medium_up(&json)
        .into_iter()
        .map(|(r, s, p, _)| (r, s, p))
        .collect();
    let layered: BTreeSet<_> = first
        .unwrap()
        .into_iter()
        .map(|(r, s, p, _)| (r, s, p))
        .collect();
    assert_eq!(squashed, layered);
    // every file judged (--deep) in the root filesystem as `docker export` writes it: members
    // asked for in any order are read where they lie, never "not read again"
    let (_, run) = scan_json(Path::new(&rootfs), &["--deep"]);
    assert!(!stderr(&run).contains("not read again"), "{}", stderr(&run));
    // the stock image, and the root filesystem as `docker export` writes it
    for stock in [out.join("stock.tar"), Path::new(&rootfs).to_path_buf()] {
        let (json, run) = scan_json(&stock, &[]);
        assert_eq!(medium_up(&json), BTreeSet::new(), "{}", stock.display());
        assert_eq!(code(&run), 0, "{}: {}", stock.display(), stderr(&run));
    }
}
