//! Times end to end: each finding's `times`, a distribution's `installed`, `--since` and
//! `--format timeline`, on a venv whose files' modification times the test sets, and on an
//! image whose layers and members carry times the test chooses. A birth time cannot be set:
//! where the filesystem keeps one, it is checked to be the test's own hour; where not, absent.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::util::*;

/// 2020-01-01T00:00:00Z: the older, benign hook's modification time.
const T_OLD: u64 = 1_577_836_800;
/// 2026-03-24T10:52:00Z: the distribution's install.
const T0: u64 = 1_774_349_520;
/// 2026-03-24T10:53:00Z: the malicious hook's modification time.
const T1: u64 = 1_774_349_580;

/// A `.pth` line that runs decoded code at every start (defanged: the code is `print(1)`).
const HOOK: &[u8] = b"import os; exec(__import__('base64').b64decode('cHJpbnQoMSk='))\n";

fn rfc3339(secs: u64) -> String {
    // the binary's own formatter is under test; this is Python's answer, written out
    match secs {
        T_OLD => "2020-01-01T00:00:00Z",
        T0 => "2026-03-24T10:52:00Z",
        T1 => "2026-03-24T10:53:00Z",
        _ => unreachable!(),
    }
    .to_owned()
}

fn set_mtime(path: &Path, secs: u64) {
    std::fs::File::open(path)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Seconds since the epoch of an RFC 3339 UTC time as the report writes it.
fn secs_of(text: &str) -> u64 {
    let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    assert_eq!(&text[19..], "Z", "{text}");
    // days from civil, as in the tests of `pthscan_core::times`, checked against the constants
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    (days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)) as u64
}

/// A venv: `evil` 1.0 installed (its dist-info's mtime T0), its hook modified at T1, and an
/// older benign hook modified at `T_OLD`.
fn planted_venv(dir: &Path) -> std::path::PathBuf {
    let venv = dir.join("venv");
    let sp = venv.join("lib/python3.12/site-packages");
    let info = sp.join("evil-1.0.dist-info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.1\n",
    )
    .unwrap();
    std::fs::write(
        info.join("METADATA"),
        "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
    )
    .unwrap();
    std::fs::write(info.join("INSTALLER"), "pip\n").unwrap();
    std::fs::write(sp.join("evil_init.pth"), HOOK).unwrap();
    std::fs::write(sp.join("old.pth"), "import sys\n").unwrap();
    set_mtime(&sp.join("evil_init.pth"), T1);
    set_mtime(&sp.join("old.pth"), T_OLD);
    set_mtime(&info, T0);
    venv
}

fn finding_times<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no finding in {name}: {json:#}"));
    &f["times"]
}

#[test]
fn findings_carry_their_files_times_and_the_timeline_orders_them() {
    let started = unix_now();
    let dir = tempfile::tempdir().unwrap();
    let venv = planted_venv(dir.path());
    let (json, out) = scan_json(&venv, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let done = unix_now();
    let mut births = 0;
    for (name, modified) in [("evil_init.pth", T1), ("old.pth", T_OLD)] {
        let t = finding_times(&json, name);
        assert_eq!(t["modified"], rfc3339(modified), "{name}: {t}");
        // the change time is the kernel's: when the test wrote and touched the file
        let changed = secs_of(t["changed"].as_str().unwrap());
        assert!((started - 2..=done + 2).contains(&changed), "{name}: {t}");
        // a birth time is there only where the filesystem keeps one, and then it is now
        if let Some(birth) = t.get("birth") {
            births += 1;
            let birth = secs_of(birth.as_str().unwrap());
            assert!((started - 2..=done + 2).contains(&birth), "{name}: {t}");
        }
        assert!(t.get("layer_created").is_none(), "{t}");
    }
    // the dist-info's install time: its birth where the filesystem keeps one, else its mtime
    let dist = &json["environments"][0]["inventory"][0];
    assert_eq!(dist["name"], "evil");
    let installed = secs_of(dist["installed"].as_str().unwrap());
    if births == 0 {
        assert_eq!(installed, T0, "{dist}");
    } else {
        assert!((started - 2..=done + 2).contains(&installed), "{dist}");
    }

    // the timeline: oldest first, one set of events a file
    let events = json["timeline"].as_array().unwrap();
    let times: Vec<u64> = events
        .iter()
        .map(|e| secs_of(e["time"].as_str().unwrap()))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{events:#?}");
    let at = |event: &str, path_end: &str| {
        events
            .iter()
            .position(|e| e["event"] == event && e["path"].as_str().unwrap().ends_with(path_end))
            .unwrap_or_else(|| panic!("no {event} of {path_end}: {events:#?}"))
    };
    let old = at("modified", "old.pth");
    let evil = at("modified", "evil_init.pth");
    let install = at("installed", "evil-1.0.dist-info");
    assert!(old < evil, "{events:#?}");
    assert_eq!(events[old]["time"], rfc3339(T_OLD));
    assert_eq!(events[evil]["time"], rfc3339(T1));
    assert_eq!(events[evil]["kind"], "hook");
    assert_eq!(events[install]["distribution"], "evil 1.0");
    assert_eq!(events[install]["kind"], "distribution");
    if births == 0 {
        // installed at T0: between the two hooks' modifications
        assert!(old < install && install < evil, "{events:#?}");
    }
    assert!(
        events[evil]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "PTH001"),
        "{events:#?}"
    );
    assert_eq!(json["untimed"], serde_json::json!([]));

    // the text timeline: the same events, one a line, in the same order
    let out = pthscan(&[venv.to_str().unwrap(), "--format", "timeline"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.len() > 20 && l.as_bytes()[4] == b'-' && l.as_bytes()[19] == b'Z')
        .collect();
    assert_eq!(lines.len(), events.len(), "{text}");
    for (line, e) in lines.iter().zip(events) {
        assert!(line.starts_with(e["time"].as_str().unwrap()), "{line}");
        assert!(line.contains(e["path"].as_str().unwrap()), "{line}");
    }
    let install_line = lines.iter().find(|l| l.contains(" installed ")).unwrap();
    assert!(install_line.ends_with("evil 1.0"), "{install_line}");
    let evil_line = lines
        .iter()
        .find(|l| l.contains(" modified ") && l.contains("evil_init.pth"))
        .unwrap();
    assert!(evil_line.starts_with("2026-03-24T10:53:00Z"), "{evil_line}");
    assert!(evil_line.contains("PTH001"), "{evil_line}");
    assert!(text.contains("event(s)"), "{text}");
}

/// `touch -d` sets a file's modification time back, never its change time: a backdated hook
/// is not hidden from `--since`.
#[test]
fn since_does_not_drop_a_hook_whose_modified_time_was_set_back() {
    let dir = tempfile::tempdir().unwrap();
    let venv = planted_venv(dir.path());
    let (json, out) = scan_json(&venv, &["--since", "2026-01-01"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let since = &json["summary"]["since"];
    assert_eq!(since["date"], "2026-01-01T00:00:00Z");
    assert_eq!(since["older"], 0, "{since}");
    assert_eq!(since["untimed"], 0, "{since}");
    finding_times(&json, "old.pth");
    // its modification is before --since, so it is not on the timeline; its change is
    let events = json["timeline"].as_array().unwrap();
    assert!(
        !events
            .iter()
            .any(|e| e["time"].as_str().unwrap() < "2026-01-01"),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["path"].as_str().unwrap().ends_with("old.pth")),
        "{events:#?}"
    );
    // a later --since than anything here leaves every finding out, and the exit code follows
    let (json, out) = scan_json(&venv, &["--since", "9999-01-01T00:00:00Z"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json["findings"], serde_json::json!([]));
    assert!(json["summary"]["since"]["older"].as_u64().unwrap() >= 2);
    let out = pthscan(&[venv.to_str().unwrap(), "--since", "9999-01-01"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("since 9999-01-01T00:00:00Z: ")
            && stdout(&out).contains(" older finding(s) left out, 0 kept for lack of a known time"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_bad_since_is_refused_before_anything_is_scanned() {
    for bad in ["yesterday", "2026-02-30", "2026-03-24T10:52:00", "7y"] {
        let out = pthscan(&["/nonexistent/pthscan-tests/x", "--since", bad]);
        assert_eq!(code(&out), 2, "{bad}");
        let err = stderr(&out);
        assert!(err.contains("--since"), "{bad}: {err}");
        assert!(err.contains(bad), "{bad}: {err}");
        assert!(stdout(&out).is_empty(), "{bad}");
    }
}

/// A `docker save` image: layer 1 (created 2020) holds the old hook, layer 2 (created T1)
/// installs `evil` with its hook, and caches a wheel whose members keep no time.
fn image_with_times(dir: &Path) -> std::path::PathBuf {
    let sp = "usr/local/lib/python3.12/site-packages";
    let layer1 = tar_with_times(&[
        ("usr/local/lib/python3.12/os.py", b"# os\n", T_OLD),
        (&format!("{sp}/old.pth"), b"import sys\n", T_OLD - 3600),
    ]);
    let wheel = zip_of(&[
        ("evil_init.pth", HOOK),
        (
            "evil-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
        ),
    ]);
    let layer2 = tar_with_times(&[
        (&format!("{sp}/evil_init.pth"), HOOK, T0),
        (
            &format!("{sp}/evil-1.0.dist-info/METADATA"),
            b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
            T0,
        ),
        (
            "root/.cache/pip/wheels/ab/cd/evil-1.0-py3-none-any.whl",
            &wheel,
            T0,
        ),
    ]);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [
            {"created": "2020-01-01T00:00:00Z", "created_by": "ADD base /"},
            {"created": "2026-03-24T10:52:30.123456789Z", "created_by": "ENV X=1", "empty_layer": true},
            {"created": "2026-03-24T10:53:00Z", "created_by": "RUN pip install evil"}
        ]
    });
    let config = serde_json::to_vec(&config).unwrap();
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names = Vec::new();
    for l in [layer1, layer2] {
        let name = format!("blobs/sha256/{}", sha(&l));
        names.push(name.clone());
        members.push((name, l));
    }
    let config_name = format!("blobs/sha256/{}", sha(&config));
    members.push((config_name.clone(), config));
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
    let path = dir.join("evil.tar");
    std::fs::write(&path, tar_of(&refs)).unwrap();
    path
}

#[test]
fn an_image_dates_files_by_their_layer_and_since_counts_what_keeps_no_time() {
    let dir = tempfile::tempdir().unwrap();
    let image = image_with_times(dir.path());
    let (json, out) = scan_json(&image, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // a member's stored time and its layer's creation; no birth or change time in a tar
    let t = finding_times(&json, "site-packages/evil_init.pth");
    assert_eq!(
        t,
        &serde_json::json!({"modified": rfc3339(T0), "layer_created": rfc3339(T1)})
    );
    let t = finding_times(&json, "site-packages/old.pth");
    assert_eq!(
        t,
        &serde_json::json!({"modified": "2019-12-31T23:00:00Z", "layer_created": rfc3339(T_OLD)})
    );
    // a zip member keeps no time: none is given, and the finding is listed as untimed
    let cached = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with(".whl › evil_init.pth")
        })
        .unwrap_or_else(|| panic!("{json:#}"));
    assert!(cached.get("times").is_none(), "{cached}");
    assert!(
        json["untimed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().ends_with(".whl › evil_init.pth")),
        "{json:#}"
    );
    // the distribution was installed when its layer was created
    let installed: Vec<&serde_json::Value> = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["inventory"].as_array().unwrap())
        .filter(|d| d["name"] == "evil")
        .map(|d| &d["installed"])
        .collect();
    assert!(
        installed.contains(&&serde_json::json!(rfc3339(T1))),
        "{installed:?}"
    );
    let events = json["timeline"].as_array().unwrap();
    let first = &events[0];
    assert_eq!(first["time"], "2019-12-31T23:00:00Z", "{events:#?}");
    assert!(first["path"].as_str().unwrap().ends_with("old.pth"));
    assert!(
        events.iter().any(|e| e["event"] == "layer-created"
            && e["time"] == rfc3339(T1)
            && e["path"].as_str().unwrap().ends_with("evil_init.pth")),
        "{events:#?}"
    );

    // --since between the layers: the old hook goes, the new one and the untimed one stay
    let (since, out) = scan_json(&image, &["--since", "2026-01-01"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let paths: Vec<&str> = since["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(!paths.iter().any(|p| p.ends_with("old.pth")), "{paths:#?}");
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("site-packages/evil_init.pth")),
        "{paths:#?}"
    );
    assert!(
        paths.iter().any(|p| p.ends_with(".whl › evil_init.pth")),
        "{paths:#?}"
    );
    let old = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"].as_str().unwrap().ends_with("old.pth"))
        .count();
    let untimed = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("times").is_none())
        .count();
    assert!(old > 0 && untimed > 0);
    assert_eq!(
        since["summary"]["since"],
        serde_json::json!({"date": "2026-01-01T00:00:00Z", "older": old, "untimed": untimed})
    );
    assert_eq!(
        since["findings"].as_array().unwrap().len() + old,
        json["findings"].as_array().unwrap().len()
    );
    // the timeline starts at --since
    let events = since["timeline"].as_array().unwrap();
    assert!(
        events
            .iter()
            .all(|e| e["time"].as_str().unwrap() >= "2026-01-01"),
        "{events:#?}"
    );
}

/// A wheel in a package cache: its members keep no time (a zip's are zone-less DOS times, not
/// used), so the cache file's own times date it on the timeline, as a cache entry.
#[test]
fn a_cached_wheel_is_dated_by_its_cache_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("home/.cache/pip/wheels/ab/cd");
    std::fs::create_dir_all(&cache).unwrap();
    let whl = cache.join("evil-1.0-py3-none-any.whl");
    std::fs::write(
        &whl,
        zip_of(&[
            ("evil_init.pth", HOOK),
            (
                "evil-1.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
            ),
        ]),
    )
    .unwrap();
    set_mtime(&whl, T1);
    let (json, out) = scan_json(dir.path(), &["--since", "2026-01-01"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let members: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with(".whl › evil_init.pth")
        })
        .collect();
    assert!(!members.is_empty(), "{json:#}");
    // the member has no time of its own: kept by --since and counted as such
    assert!(members.iter().all(|f| f.get("times").is_none()));
    assert!(
        json["summary"]["since"]["untimed"].as_u64().unwrap() >= members.len() as u64,
        "{}",
        json["summary"]
    );
    let events = json["timeline"].as_array().unwrap();
    let shown = pthscan_core::pathfmt::display_path(&std::fs::canonicalize(&whl).unwrap());
    let modified = events
        .iter()
        .find(|e| e["event"] == "modified" && e["path"] == shown.as_str())
        .unwrap_or_else(|| panic!("{shown}: {events:#?}"));
    assert_eq!(modified["time"], rfc3339(T1));
    assert_eq!(modified["kind"], "cache-entry");
    assert_eq!(modified["severity"], "high");
}

/// On a host: a persistence unit and the file it starts are on the timeline as persistence,
/// dated by their files.
#[test]
fn persistence_on_a_host_is_on_the_timeline() {
    let host = tempfile::tempdir().unwrap();
    crate::host::build_host(host.path());
    let unit = host
        .path()
        .join("home/ann/.config/systemd/user/sysmon.service");
    set_mtime(&unit, T1);
    let out = pthscan(&["--root", host.path().to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = json["timeline"].as_array().unwrap();
    let of = |end: &str| -> Vec<&serde_json::Value> {
        events
            .iter()
            .filter(|e| e["path"].as_str().unwrap().ends_with(end))
            .collect()
    };
    let service = of("/home/ann/.config/systemd/user/sysmon.service");
    assert!(
        service
            .iter()
            .any(|e| e["event"] == "modified" && e["time"] == rfc3339(T1)),
        "{events:#?}"
    );
    let payload = of("/home/ann/.config/sysmon/sysmon.py");
    assert!(!payload.is_empty(), "{events:#?}");
    for e in service.iter().chain(&payload) {
        assert_eq!(e["kind"], "persistence", "{e}");
    }
    // oldest first, on a whole host too
    let times: Vec<u64> = events
        .iter()
        .map(|e| secs_of(e["time"].as_str().unwrap()))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{events:#?}");
}
