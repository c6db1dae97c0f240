//! The start-up model's rules, one test each, over trees written in the test.

use std::path::{Path, PathBuf};

use super::finder::{Finder, ModKind};
use super::path::{PthAction, compute};
use super::pyc::{PycRuns, header};
use super::{InstallKind, Interpreter, Layout, PyVersion, View};
use crate::fs::Disk;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn s(&self, rel: &str) -> String {
        self.p(rel).to_string_lossy().into_owned()
    }
    fn file(&self, rel: &str, data: impl AsRef<[u8]>) -> &Env {
        let p = self.p(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
        self
    }
    fn mkdir(&self, rel: &str) -> &Env {
        std::fs::create_dir_all(self.p(rel)).unwrap();
        self
    }
    fn link(&self, target: &str, rel: &str) -> &Env {
        let p = self.p(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(self.p(target), p).unwrap();
        self
    }
    fn tree(&self) -> Disk {
        Disk::open(Path::new("/"), false, 1 << 20, Default::default()).unwrap()
    }
    fn interp(&self, v: &str) -> Interpreter {
        let mut i = Interpreter::new(PyVersion::parse(v).unwrap(), self.p("usr"));
        i.user_base = Some(self.p("home/.local"));
        i
    }
    fn venv(&self, v: &str) -> Interpreter {
        let mut i = self.interp(v);
        i.kind = InstallKind::Venv;
        i.prefix = self.p("venv");
        i.base_prefix = Some(self.p("usr"));
        i
    }
}

fn rel(env: &Env, paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            p.strip_prefix(env.dir.path())
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_else(|_| p.to_string_lossy().into_owned())
        })
        .collect()
}

/// The text of each `.pth` record, in order.
fn texts(s: &super::Startup) -> Vec<&str> {
    s.pth.iter().map(|r| r.text.as_str()).collect()
}

const SP: &str = "usr/lib/python3.12/site-packages";

#[test]
fn system_path_order_and_zip_listed_when_absent() {
    let e = Env::new();
    e.mkdir(SP);
    let tree = e.tree();
    let mut i = e.interp("3.12");
    i.env = vec![("PYTHONPATH".into(), format!("{}:", e.s("pp")))];
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths()),
        [
            "pp",
            "usr/lib/python312.zip",
            "usr/lib/python3.12",
            "usr/lib/python3.12/lib-dynload",
            SP
        ]
    );
    assert!(s.notes.iter().any(|n| n.contains("working directory")));
}

#[test]
fn python27_path_has_its_extra_stdlib_dirs_and_site_python() {
    let e = Env::new();
    e.mkdir("usr/lib/python2.7/site-packages")
        .mkdir("usr/lib/site-python");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("2.7"));
    assert_eq!(
        rel(&e, &s.paths()),
        [
            "usr/lib/python27.zip",
            "usr/lib/python2.7",
            "usr/lib/python2.7/plat-linux2",
            "usr/lib/python2.7/lib-tk",
            "usr/lib/python2.7/lib-old",
            "usr/lib/python2.7/lib-dynload",
            "usr/lib/python2.7/site-packages",
            "usr/lib/site-site-python"
                .replace("site-site", "site")
                .as_str(),
        ]
    );
}

#[test]
fn lib64_before_lib_from_3_9_and_debian_dist_packages_order() {
    let e = Env::new();
    e.mkdir("usr/lib64/python3.12/site-packages").mkdir(SP);
    e.mkdir("usr/local/lib/python3.12/dist-packages")
        .mkdir("usr/lib/python3/dist-packages")
        .mkdir("usr/lib/python3.12/dist-packages");
    let tree = e.tree();
    let mut i = e.interp("3.12");
    i.platlibdir = "lib64".into();
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths())[2..],
        [
            "usr/lib64/python3.12/lib-dynload",
            "usr/lib64/python3.12/site-packages",
            SP
        ]
    );
    let mut i = e.interp("3.12");
    i.layout = Layout::Debian;
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths())[3..],
        [
            "usr/local/lib/python3.12/dist-packages",
            "usr/lib/python3/dist-packages",
            "usr/lib/python3.12/dist-packages"
        ]
    );
}

#[test]
fn venv_first_then_user_site_then_system_and_venv_pth_runs_twice() {
    let e = Env::new();
    e.file(
        "venv/pyvenv.cfg",
        "home = /x/bin\ninclude-system-site-packages = true\n",
    )
    .file("venv/lib/python3.12/site-packages/a.pth", "import evil\n")
    .mkdir("home/.local/lib/python3.12/site-packages")
    .mkdir(SP);
    let tree = e.tree();
    let mut i = e.venv("3.12");
    i.enable_user_site = true;
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths())[3..],
        [
            "venv/lib/python3.12/site-packages",
            "home/.local/lib/python3.12/site-packages",
            SP
        ]
    );
    // venv() processes the venv's site directory, then addsitepackages() again
    assert_eq!(s.pth.len(), 2);
    assert!(s.usercustomize);
}

#[test]
fn venv_without_system_site_has_no_user_site_and_missing_key_means_true() {
    let e = Env::new();
    e.file("venv/pyvenv.cfg", "include-system-site-packages = False\n")
        .mkdir("venv/lib/python3.12/site-packages")
        .mkdir("home/.local/lib/python3.12/site-packages")
        .mkdir(SP);
    let tree = e.tree();
    let mut i = e.venv("3.12");
    i.enable_user_site = true;
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths()).last().unwrap(),
        "venv/lib/python3.12/site-packages"
    );
    assert!(!s.usercustomize);
    e.file("venv/pyvenv.cfg", "home = /usr/bin\n");
    let s = compute(View::new(&tree), &i);
    assert_eq!(rel(&e, &s.paths()).last().unwrap(), SP);
}

#[test]
fn symlinked_site_packages_is_a_site_dir() {
    let e = Env::new();
    e.file("venv/pyvenv.cfg", "include-system-site-packages = false\n")
        .file("real/a.pth", "import evil\n")
        .link("real", "venv/lib/python3.12/site-packages");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.venv("3.12"));
    assert_eq!(rel(&e, &s.site_dirs), ["venv/lib/python3.12/site-packages"]);
    assert_eq!(s.pth[0].text, "import evil");
}

#[test]
fn pth_files_sorted_and_dot_named_skipped_per_version() {
    let e = Env::new();
    e.file(&format!("{SP}/b.pth"), "import b\n")
        .file(&format!("{SP}/B.pth"), "import B\n")
        .file(&format!("{SP}/.h.pth"), "import h\n");
    let tree = e.tree();
    let texts = |v: &str| -> Vec<String> {
        compute(View::new(&tree), &e.interp(v))
            .pth
            .into_iter()
            .map(|r| r.text)
            .collect()
    };
    assert_eq!(texts("3.12.1"), ["import h", "import B", "import b"]);
    assert_eq!(texts("3.12.2"), ["import B", "import b"]);
    let s = compute(View::new(&tree), &e.interp("3.12.2"));
    assert_eq!(s.skipped_pth.len(), 1);
}

#[test]
fn path_lines_rstrip_until_3_15_and_exist_through_links_and_as_files() {
    let e = Env::new();
    e.file(
        &format!("{SP}/p.pth"),
        " vendor\nvendor \nzipped.dat\nlinked\n../../../../target\nmissing\n",
    )
    .mkdir(&format!("{SP}/ vendor"))
    .mkdir(&format!("{SP}/vendor"))
    .file(&format!("{SP}/zipped.dat"), "PK")
    .mkdir("elsewhere")
    .link("elsewhere", &format!("{SP}/linked"))
    .mkdir("target");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    assert_eq!(
        rel(&e, &s.paths())[3..],
        [
            SP.to_string(),
            format!("{SP}/ vendor"),
            format!("{SP}/vendor"),
            format!("{SP}/zipped.dat"),
            format!("{SP}/linked"),
            "target".to_string(),
        ]
    );
    assert!(s.pth.iter().all(|r| r.action == PthAction::Path));
    assert_eq!(s.pth[0].line, 1);
    // 3.15 strips both sides: ` vendor` is `vendor`, already there
    let mut s15 = e.interp("3.15");
    s15.prefix = e.p("usr");
    let tree = e.tree();
    e.mkdir("usr/lib/python3.15/site-packages");
    std::fs::rename(
        e.p(&format!("{SP}/p.pth")),
        e.p("usr/lib/python3.15/site-packages/p.pth"),
    )
    .unwrap();
    let s = compute(View::new(&tree), &s15);
    assert!(
        !s.paths()
            .iter()
            .any(|p| p.to_string_lossy().ends_with(" vendor"))
    );
}

#[test]
fn line_splitting_per_version() {
    let e = Env::new();
    e.file(
        &format!("{SP}/a.pth"),
        "x\x0cimport evil\r\nimport ok\rimport two\n",
    )
    .file(
        "usr/lib/python3.13/site-packages/a.pth",
        "\u{feff}import bom\nx\x0cimport evil\n",
    )
    .file(
        "usr/lib/python3.15/site-packages/a.pth",
        "  import indented\n",
    );
    let tree = e.tree();
    let run = |v: &str| -> Vec<(usize, String)> {
        compute(View::new(&tree), &e.interp(v))
            .pth
            .into_iter()
            .filter(|r| r.action == PthAction::Exec)
            .map(|r| (r.line, r.text))
            .collect()
    };
    assert_eq!(
        run("3.12"),
        [(2, "import ok".into()), (3, "import two".into())]
    );
    assert_eq!(
        run("3.13"),
        [(1, "import bom".into()), (3, "import evil".into())]
    );
    assert_eq!(run("3.15"), [(1, "import indented".into())]);
}

#[test]
fn finder_order_extension_before_source_before_bytecode_and_stale_abi_ignored() {
    let e = Env::new();
    let magic = PyVersion::new(3, 12).pyc_magic().unwrap();
    e.file(&format!("{SP}/m.cpython-311-x86_64-linux-gnu.so"), "")
        .file(&format!("{SP}/m.py"), "")
        .file(&format!("{SP}/m.pyc"), magic)
        .file(&format!("{SP}/n.abi3.so"), "")
        .file(&format!("{SP}/n.py"), "")
        .file(&format!("{SP}/o.pyc"), magic)
        .file(&format!("{SP}/p/__init__.so"), "")
        .file(&format!("{SP}/p/__init__.py"), "");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let f = Finder::new(View::new(&tree), &s);
    let got = |n: &str| {
        let r = f.find(n).unwrap();
        (rel(&e, std::slice::from_ref(&r.file))[0].clone(), r.kind)
    };
    assert_eq!(got("m"), (format!("{SP}/m.py"), ModKind::Source));
    assert_eq!(got("n"), (format!("{SP}/n.abi3.so"), ModKind::Extension));
    assert_eq!(got("o"), (format!("{SP}/o.pyc"), ModKind::Bytecode));
    assert_eq!(got("p"), (format!("{SP}/p/__init__.so"), ModKind::Package));
    assert!(f.find("absent").is_none());
}

#[test]
fn empty_dir_does_not_hide_a_module_and_namespace_collects_portions() {
    let e = Env::new();
    e.file(&format!("{SP}/s.pth"), "vendor\n")
        .mkdir(&format!("{SP}/_virtualenv"))
        .file(&format!("{SP}/_virtualenv.py"), "import os\n")
        .mkdir(&format!("{SP}/ns"))
        .mkdir(&format!("{SP}/vendor/ns"))
        .mkdir(&format!("{SP}/late"))
        .file(&format!("{SP}/vendor/late.py"), "");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let f = Finder::new(View::new(&tree), &s);
    let r = f.find("_virtualenv").unwrap();
    assert_eq!(r.kind, ModKind::Source);
    let r = f.find("ns").unwrap();
    assert_eq!(r.kind, ModKind::Namespace);
    assert_eq!(r.search.len(), 2);
    // a module in a later entry wins over an earlier namespace portion
    let r = f.find("late").unwrap();
    assert_eq!(
        rel(&e, std::slice::from_ref(&r.file))[0],
        format!("{SP}/vendor/late.py")
    );
    assert_eq!(r.entry_index, Some(4));
    assert!(r.origin().contains("sys.path[4]"));
}

#[test]
fn python27_needs_init_and_has_no_namespace() {
    let e = Env::new();
    e.mkdir("usr/lib/python2.7/site-packages/ns")
        .file("usr/lib/python2.7/site-packages/ns.py", "");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("2.7"));
    let f = Finder::new(View::new(&tree), &s);
    assert_eq!(f.find("ns").unwrap().kind, ModKind::Source);
    e.mkdir("usr/lib/python2.7/site-packages/only");
    assert!(Finder::new(View::new(&tree), &s).find("only").is_none());
}

fn zip_with(names: &[&str]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        for n in names {
            if n.ends_with('/') {
                z.add_directory(*n, zip::write::SimpleFileOptions::default())
                    .unwrap();
            } else {
                z.start_file(*n, zip::write::SimpleFileOptions::default())
                    .unwrap();
                std::io::Write::write_all(&mut z, b"x = 1\n").unwrap();
            }
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn zips_on_the_path_stdlib_zip_and_path_line() {
    let e = Env::new();
    e.file("usr/lib/python312.zip", zip_with(&["sitecustomize.py"]))
        .file(&format!("{SP}/z.pth"), "payload.dat\n")
        .file(
            &format!("{SP}/payload.dat"),
            zip_with(&["evil/__init__.py", "evil/sub.py", "nsz/"]),
        );
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let f = Finder::new(View::new(&tree), &s);
    let r = f.find("sitecustomize").unwrap();
    assert_eq!(r.kind, ModKind::Zip);
    assert_eq!(
        rel(&e, std::slice::from_ref(&r.file))[0],
        "usr/lib/python312.zip/sitecustomize.py"
    );
    assert_eq!(
        rel(&e, &[f.find("evil.sub").unwrap().file])[0],
        format!("{SP}/payload.dat/evil/sub.py")
    );
    assert_eq!(f.find("nsz").unwrap().kind, ModKind::Namespace);
    assert_eq!(f.find_chain("evil.sub").len(), 2);
}

#[test]
fn pycache_bytecode_runs_instead_of_source() {
    let e = Env::new();
    let v = PyVersion::new(3, 12);
    e.file(&format!("{SP}/sitecustomize.py"), "pass\n")
        .file(
            &format!("{SP}/__pycache__/sitecustomize.cpython-312.pyc"),
            header(v, 1, 0, 0),
        )
        .file(&format!("{SP}/t.py"), "pass\n")
        .file(
            &format!("{SP}/__pycache__/t.cpython-312.pyc"),
            header(v, 0, 1, 5),
        )
        .file(&format!("{SP}/h.py"), "pass\n")
        .file(
            &format!("{SP}/__pycache__/h.cpython-312.pyc"),
            header(v, 3, 0, 0),
        )
        .file(&format!("{SP}/o.py"), "pass\n")
        .file(
            &format!("{SP}/__pycache__/o.cpython-312.pyc"),
            header(PyVersion::new(3, 11), 1, 0, 0),
        );
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let f = Finder::new(View::new(&tree), &s);
    let runs = |n: &str| f.find(n).unwrap().cached.unwrap().runs;
    assert_eq!(runs("sitecustomize"), PycRuns::Always);
    assert_eq!(f.find("sitecustomize").unwrap().runs().len(), 2);
    // recorded mtime 1 is not the source's
    assert!(!runs("t").may_run());
    // a zero hash is not the source's
    assert!(!runs("h").may_run());
    assert!(!runs("o").may_run());
    // a timestamp pyc matching the source's mtime and size runs
    let mtime = std::fs::metadata(e.p(&format!("{SP}/t.py")))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    e.file(
        &format!("{SP}/__pycache__/t.cpython-312.pyc"),
        header(v, 0, mtime, 5),
    );
    let f = Finder::new(View::new(&tree), &s);
    assert_eq!(
        f.find("t").unwrap().cached.unwrap().runs,
        PycRuns::StatMatches
    );
    // PYTHONPYCACHEPREFIX moves the cache
    let mut i = e.interp("3.12");
    i.env = vec![("PYTHONPYCACHEPREFIX".into(), e.s("cache"))];
    let dir = e.p(SP);
    let moved = format!(
        "cache/{}/__x",
        dir.strip_prefix("/").unwrap().to_string_lossy()
    );
    e.file(
        &moved.replace("/__x", "/sitecustomize.cpython-312.pyc"),
        header(v, 1, 0, 0),
    );
    let s = compute(View::new(&tree), &i);
    let r = Finder::new(View::new(&tree), &s)
        .find("sitecustomize")
        .unwrap();
    assert!(r.cached.unwrap().path.starts_with(e.p("cache")));
}

#[test]
fn a_symlink_to_a_directory_is_listed_through_it() {
    let e = Env::new();
    e.file("real/a.pth", "import evil\n")
        .link("real", "venv/site-packages")
        .file("plain", "");
    let tree = e.tree();
    use crate::fs::Tree;
    assert_eq!(tree.list(&e.p("venv/site-packages")).unwrap().len(), 1);
    assert!(tree.list(&e.p("plain")).is_err());
    assert_eq!(
        tree.kind_followed(&e.p("venv/site-packages")),
        Some(crate::fs::Kind::Dir)
    );
}

// Regression cases from disagreements with the CPython oracle (tests/oracle in branch `oracle`).

#[test]
fn oracle_venv_without_pyvenv_cfg_uses_the_base_installation() {
    let e = Env::new();
    e.mkdir("venv/lib/python3.12/site-packages").mkdir(SP);
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.venv("3.12"));
    assert_eq!(rel(&e, &s.paths()).last().unwrap(), SP);
}

#[test]
fn oracle_venv_site_dir_processed_twice_without_system_site_too() {
    let e = Env::new();
    e.file("venv/pyvenv.cfg", "include-system-site-packages = false\n")
        .file("venv/lib/python3.12/site-packages/a.pth", "import evil\n");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.venv("3.12"));
    assert_eq!(s.pth.len(), 2);
}

#[test]
fn oracle_an_exec_line_that_does_not_compile_ends_its_file() {
    let e = Env::new();
    e.file(
        &format!("{SP}/a.pth"),
        "import ok\nimport foo foo\nimport never\n",
    )
    .file(
        "usr/lib/python3.6/site-packages/a.pth",
        "import usercustomize;\\\nimport later\n",
    )
    .file(
        "usr/lib/python3.8/site-packages/a.pth",
        "import usercustomize;\\\nimport later\n",
    );
    let tree = e.tree();
    let texts = |v: &str| -> Vec<String> {
        compute(View::new(&tree), &e.interp(v))
            .pth
            .into_iter()
            .map(|r| r.text)
            .collect()
    };
    assert_eq!(texts("3.12"), ["import ok"]);
    // 3.6 and 3.7 accept a continuation at the end of the source
    assert_eq!(texts("3.6"), ["import usercustomize;\\", "import later"]);
    assert!(texts("3.8").is_empty());
}

#[test]
fn oracle_a_pth_that_is_not_utf8_stops_the_interpreter() {
    let e = Env::new();
    e.file(&format!("{SP}/a.pth"), b"import ok\n\xff\n".as_slice())
        .file(
            "usr/lib/python2.7/site-packages/a.pth",
            b"import ok\n\xff\n".as_slice(),
        );
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    assert_eq!(s.fatal.as_deref(), Some("UnicodeDecodeError"));
    // the bad byte is in the first 8192-byte chunk: nothing of the file ran
    assert!(s.pth.is_empty());
    assert!(compute(View::new(&tree), &e.interp("2.7")).fatal.is_none());
}

#[test]
fn oracle_path_records_name_the_directory_appended() {
    let e = Env::new();
    e.file(&format!("{SP}/a.pth"), "./vendor/\n")
        .mkdir(&format!("{SP}/vendor"));
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    assert_eq!(s.pth[0].text, e.s(&format!("{SP}/vendor")));
}

#[test]
fn oracle_fullwidth_import_names_fold_to_ascii() {
    assert_eq!(
        crate::python::imports::imported_modules("import ａｃｍｅ; x"),
        ["acme"]
    );
}

#[test]
fn oracle_checked_hash_pyc_runs_when_its_hash_is_the_sources() {
    let e = Env::new();
    let v = PyVersion::new(3, 12);
    let source = b"x = 1\n";
    let key = u64::from(u32::from_le_bytes(v.pyc_magic().unwrap()));
    let mut pyc = v.pyc_magic().unwrap().to_vec();
    pyc.extend(3u32.to_le_bytes());
    pyc.extend(super::pyc::siphash(key, 0, source, 1, 3).to_le_bytes());
    e.file(&format!("{SP}/acme.py"), source)
        .file(&format!("{SP}/__pycache__/acme.cpython-312.pyc"), pyc);
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let r = Finder::new(View::new(&tree), &s).find("acme").unwrap();
    assert_eq!(r.cached.unwrap().runs, PycRuns::HashMatches);
}

#[test]
fn python27_appends_a_site_dir_again_for_a_blank_or_dot_path_line() {
    // 2.7's addsitedir does not remember the directory, and its addpackage skips no blank line
    let e = Env::new();
    e.file("usr/lib/python2.7/site-packages/a.pth", "\n.\n");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("2.7"));
    let sp = "usr/lib/python2.7/site-packages".to_string();
    assert_eq!(rel(&e, &s.paths())[6..], [sp.clone(), sp]);
    // 3.x remembers it
    e.file(&format!("{SP}/a.pth"), "\n.\n");
    let s = compute(View::new(&tree), &e.interp("3.12"));
    assert_eq!(rel(&e, &s.paths())[3..], [SP]);
}

#[test]
fn debian_venv_adds_site_packages_before_dist_packages_for_every_prefix() {
    // checked against Debian 12's own site.py (python3.11), `-I -S`, 200 generated layouts
    let e = Env::new();
    e.file("venv/pyvenv.cfg", "include-system-site-packages = true\n")
        .mkdir("venv/lib/python3.11/site-packages")
        .mkdir("venv/lib/python3/dist-packages")
        .mkdir("usr/lib/python3.11/site-packages")
        .mkdir("usr/lib/python3/dist-packages")
        .mkdir("usr/local/lib/python3.11/dist-packages");
    let tree = e.tree();
    let mut i = e.venv("3.11");
    i.layout = Layout::Debian;
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths())[3..],
        [
            "venv/lib/python3.11/site-packages",
            "venv/lib/python3/dist-packages",
            "usr/lib/python3.11/site-packages",
            "usr/local/lib/python3.11/dist-packages",
            "usr/lib/python3/dist-packages",
        ]
    );
}

#[test]
fn oracle_a_sequence_cut_short_at_the_end_fails_only_at_the_end() {
    // up to 3.12 the incremental decoder holds an incomplete sequence until the end of the
    // file: the lines before it run, and a line that ends the file early (a syntax error)
    // leaves no error at all
    let e = Env::new();
    e.file(
        &format!("{SP}/a.pth"),
        b"import ok\nimport os; return\n\xe9".as_slice(),
    )
    .file(&format!("{SP}/b.pth"), b"import ok2\n\xe9".as_slice());
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let texts = texts(&s);
    assert_eq!(texts, ["import ok", "import ok2"]);
    assert_eq!(s.fatal.as_deref(), Some("UnicodeDecodeError"));
}

// 3.15 (PEP 829's `StartupState`), each checked against CPython 3.15.2 (Debian's build, `site`
// de-patched: tests/oracle/debian_python.py) with the oracle; the cases are in `corpus/startup`

const SP15: &str = "usr/lib/python3.15/site-packages";

fn records(s: &super::Startup, env: &Env) -> Vec<(&'static str, String)> {
    s.pth
        .iter()
        .map(|r| {
            let text = match r.action {
                PthAction::Path => rel(env, &[PathBuf::from(&r.text)])[0].clone(),
                _ => r.text.clone(),
            };
            (r.action.as_str(), text)
        })
        .collect()
}

#[test]
fn oracle_3_15_applies_every_path_before_any_import_line_or_entry_point() {
    let e = Env::new();
    e.file(&format!("{SP15}/a.pth"), "import first\nvendor\n")
        .file(&format!("{SP15}/b.start"), "tool.boot:run\n")
        .file(&format!("{SP15}/c.pth"), "src\n")
        .mkdir(&format!("{SP15}/vendor"))
        .mkdir(&format!("{SP15}/src"));
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.15"));
    assert_eq!(
        records(&s, &e),
        [
            ("path", format!("{SP15}/vendor")),
            ("path", format!("{SP15}/src")),
            ("exec", "import first".into()),
            ("entrypoint", "tool.boot:run".into()),
        ]
    );
    // the module an entry point imports is located like an import line's
    assert!(s.imported_names().contains(&"tool".to_string()));
}

#[test]
fn oracle_3_15_a_start_file_silences_its_pth_sibling_unless_it_is_not_utf8() {
    let e = Env::new();
    e.file(&format!("{SP15}/a.pth"), "import silenced\n")
        .file(&format!("{SP15}/a.start"), "# nothing but a comment\n")
        .file(&format!("{SP15}/b.pth"), "import runs\n")
        .file(&format!("{SP15}/b.start"), b"ok:run\n\xff")
        .file(
            &format!("{SP15}/c.start"),
            "1bad:x\nbad\n \tgood.mod:f.g \n",
        );
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.15"));
    assert_eq!(
        records(&s, &e),
        [
            ("exec", "import runs".into()),
            ("entrypoint", "good.mod:f.g".into())
        ]
    );
    // before 3.15 a `.start` file is nothing
    e.file(
        "usr/lib/python3.14/site-packages/a.pth",
        "import silenced\n",
    )
    .file("usr/lib/python3.14/site-packages/a.start", "x:y\n");
    let s = compute(View::new(&tree), &e.interp("3.14"));
    assert_eq!(records(&s, &e), [("exec", "import silenced".into())]);
}

#[test]
fn oracle_3_15_reads_a_venv_site_directory_once_and_strips_import_lines() {
    let e = Env::new();
    e.file("venv/pyvenv.cfg", "include-system-site-packages = true\n")
        .file(
            "venv/lib/python3.15/site-packages/a.pth",
            "  import evil  \nimport foo foo\nimport after_a_syntax_error\n",
        );
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.venv("3.15"));
    assert_eq!(
        records(&s, &e),
        [
            ("exec", "import evil".into()),
            ("exec", "import after_a_syntax_error".into())
        ]
    );
}

#[test]
fn oracle_3_15_a_pth_that_is_not_utf8_stops_start_up_before_anything_is_applied() {
    let e = Env::new();
    e.file(&format!("{SP15}/a.pth"), "vendor\nimport x\n")
        .mkdir(&format!("{SP15}/vendor"))
        .file(&format!("{SP15}/b.pth"), b"\xff\n");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.15"));
    assert_eq!(s.fatal.as_deref(), Some("UnicodeDecodeError"));
    assert!(s.pth.is_empty());
    assert!(!rel(&e, &s.paths()).contains(&SP15.to_string()));
}

#[test]
fn oracle_3_14_zipimport_counts_implied_directories_as_namespace_portions() {
    let e = Env::new();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("nsp/inner.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    let bytes = z.finish().unwrap().into_inner();
    e.file("pp.zip", &bytes);
    let tree = e.tree();
    for (v, found) in [("3.13", false), ("3.14", true)] {
        let mut i = e.interp(v);
        i.env = vec![("PYTHONPATH".into(), e.s("pp.zip"))];
        let s = compute(View::new(&tree), &i);
        let r = Finder::new(View::new(&tree), &s).find("nsp");
        assert_eq!(
            r.is_some_and(|r| r.kind == ModKind::Namespace),
            found,
            "{v}"
        );
    }
}

// Windows and macOS: modelled from `site.py` and `getpath` (no interpreter of theirs here)

#[test]
fn windows_path_order_prefix_as_site_dir_and_pyd_modules() {
    let e = Env::new();
    e.file("py/Lib/site-packages/a.pth", "import hook\n")
        .file("py/top.pth", "import top\n")
        .mkdir("py/DLLs")
        .file("py/Lib/site-packages/m.cp312-win_amd64.pyd", "")
        .file("py/Lib/site-packages/m.py", "");
    let tree = e.tree();
    let mut i = Interpreter::new(PyVersion::new(3, 12), e.p("py"));
    i.platform = super::Platform::Windows;
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths()),
        [
            "py/python312.zip",
            "py/DLLs",
            "py/Lib",
            "py",
            "py/Lib/site-packages"
        ]
    );
    // the prefix is a site directory: its `.pth` runs, before `Lib\site-packages`'
    let texts = texts(&s);
    assert_eq!(texts, ["import top", "import hook"]);
    let r = Finder::new(View::new(&tree), &s).find("m").unwrap();
    assert_eq!(r.kind, ModKind::Extension);
}

#[test]
fn windows_venv_scripts_cfg_home_and_pth_file_of_an_embedded_install() {
    let e = Env::new();
    e.file(
        "venv/Scripts/pyvenv.cfg",
        "home = C:\\py\r\ninclude-system-site-packages = false\r\n",
    )
    .file("venv/root.pth", "import venv_top\n")
    .mkdir("venv/Lib/site-packages")
    .mkdir("py/Lib/site-packages");
    let tree = e.tree();
    let mut i = Interpreter::new(PyVersion::new(3, 12), e.p("venv"));
    i.platform = super::Platform::Windows;
    i.kind = InstallKind::Venv;
    i.base_prefix = Some(e.p("py"));
    // without a `DLLs` folder, 3.11.1+ put the prefix in its place, before `Lib` (gh-98790)
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths())[1..],
        ["py", "py/Lib", "venv", "venv/Lib/site-packages"]
    );
    e.mkdir("py/DLLs");
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths())[1..],
        ["py/DLLs", "py/Lib", "py", "venv", "venv/Lib/site-packages"]
    );
    assert_eq!(s.pth[0].text, "import venv_top");
    // an embedded distribution: `python312._pth` is the whole path, `import site` runs site
    e.file(
        "emb/python312._pth",
        "python312.zip\r\n.\r\nvendor\r\n# import site\r\n",
    )
    .file("emb/x.pth", "import never\n");
    let mut i = Interpreter::new(PyVersion::new(3, 12), e.p("emb"));
    i.platform = super::Platform::Windows;
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths()),
        ["emb/python312.zip", "emb", "emb/vendor"]
    );
    assert!(s.pth.is_empty());
    e.file("emb/python312._pth", "vendor\nimport site\n");
    let s = compute(View::new(&tree), &i);
    assert_eq!(s.pth.len(), 1);
    // a `._pth` of 32 KiB or more: from 3.11 getpath's `readlines` raises MemoryError and the
    // interpreter does not start (seen with 3.11's own getpath, which reads `._pth` on Linux
    // too); 3.10's reads every line, and the `import site` past the padding runs `site`
    let padded = format!("vendor\n{}\nimport site\n", "#".repeat(40_000));
    e.file("emb/python312._pth", &padded);
    let s = compute(View::new(&tree), &i);
    assert_eq!(s.fatal.as_deref(), Some("MemoryError"));
    assert!(s.pth.is_empty() && s.sys_path.is_empty());
    e.file("emb/python310._pth", &padded);
    let mut old = Interpreter::new(PyVersion::new(3, 10), e.p("emb"));
    old.platform = super::Platform::Windows;
    let s = compute(View::new(&tree), &old);
    assert_eq!(s.fatal, None);
    assert_eq!(s.pth.len(), 1);
    // `import site` leaves the user site on up to 3.14 (the file's `isolated` comes after the
    // flags were read: gh-120037, seen with 3.11-3.13's own getpath); 3.15 turns it off
    e.file("emb/python312._pth", "vendor\nimport site\n")
        .file("roaming/Python312/site-packages/u.pth", "import user\n")
        .file("roaming/Python315/site-packages/u.pth", "import user\n")
        .file("emb/python315._pth", "vendor\nimport site\n");
    let mut user = i.clone();
    user.enable_user_site = true;
    user.user_base = Some(e.p("roaming"));
    let s = compute(View::new(&tree), &user);
    assert!(s.usercustomize);
    assert_eq!(
        (s.pth.iter().map(|r| r.text.as_str()).collect::<Vec<_>>()),
        ["import user", "import never"]
    );
    user.version = PyVersion::new(3, 15);
    let s = compute(View::new(&tree), &user);
    assert!(!s.usercustomize);
    assert_eq!(s.pth.len(), 1);
    // a `._pth` of no line (empty, or NUL first) is no `._pth` to 3.11+: `site` runs, with the
    // folder as the prefix, and `PYTHONPATH` is ignored (seen with 3.11 and 3.12's getpath)
    for text in ["", "\0python312.zip\r\n.\r\n"] {
        e.file("emb/python312._pth", text);
        let mut empty = i.clone();
        empty.env = vec![(
            "PYTHONPATH".into(),
            e.p("pp").to_string_lossy().into_owned(),
        )];
        e.mkdir("pp");
        let s = compute(View::new(&tree), &empty);
        assert_eq!(s.pth.len(), 1, "{text:?}");
        assert!(!rel(&e, &s.paths()).contains(&"pp".to_owned()), "{text:?}");
    }
}

#[test]
fn macos_framework_user_site_and_darwin_extensions() {
    let e = Env::new();
    e.file(
        "home/Library/Python/3.12/lib/python/site-packages/u.pth",
        "import u\n",
    );
    let tree = e.tree();
    let mut i = Interpreter::new(PyVersion::new(3, 12), e.p("fw"));
    i.platform = super::Platform::MacOs;
    i.framework = true;
    i.enable_user_site = true;
    i.user_base = Some(e.p("home/Library/Python/3.12"));
    let s = compute(View::new(&tree), &i);
    assert_eq!(s.pth[0].text, "import u");
    assert_eq!(i.extension_suffixes()[0], ".cpython-312-darwin.so");
}

#[test]
fn oracle_timestamp_pyc_compares_the_float_mtime_truncated() {
    // found by the red team, agreed by CPython 3.12: st_mtime 1767225600.999999999 is the
    // float 1767225601.0, so a header recording 1767225601 runs and one recording 1767225600
    // is stale
    let e = Env::new();
    e.file(&format!("{SP}/sitecustomize.py"), "# clean\n");
    let source = std::fs::File::options()
        .write(true)
        .open(e.p(&format!("{SP}/sitecustomize.py")))
        .unwrap();
    source
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::new(1_767_225_600, 999_999_999))
        .unwrap();
    drop(source);
    let tree = e.tree();
    let v = PyVersion::new(3, 12);
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let pyc = format!("{SP}/__pycache__/sitecustomize.cpython-312.pyc");
    for (recorded, runs) in [(1_767_225_601, true), (1_767_225_600, false)] {
        e.file(&pyc, header(v, 0, recorded, 8));
        let f = Finder::new(View::new(&tree), &s);
        let cached = f.find("sitecustomize").unwrap().cached.unwrap();
        assert_eq!(cached.runs == PycRuns::StatMatches, runs, "{recorded}");
    }
}

#[test]
fn oracle_lines_ended_by_cr_before_a_bad_chunk_run() {
    // found by the red team, agreed by CPython 3.12's io.TextIOWrapper: lines ended by `\r`
    // in the chunks before the one that does not decode are read; a `\r` that ends the
    // decoded text waits for a `\n` that never comes; nothing after the error is read
    let e = Env::new();
    let mut a = b"import a\rimport b;".to_vec();
    a.resize(8191, b'#');
    a.extend(b"\r\xff\n");
    e.file(&format!("{SP}/a.pth"), &a)
        .file(&format!("{SP}/b.pth"), "import never\n");
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let texts = texts(&s);
    assert_eq!(texts, ["import a"]);
    assert_eq!(s.fatal.as_deref(), Some("UnicodeDecodeError"));
}

#[test]
fn oracle_pth_names_that_are_not_utf8_are_read_and_sorted_as_surrogate_escapes() {
    // found by the red team: `\xff.pth` is processed by CPython (os.listdir's surrogate
    // escape), sorted as U+DCFF: after `z.pth`, before a fullwidth `ａ.pth`
    use std::os::unix::ffi::OsStrExt;
    let e = Env::new();
    e.file(&format!("{SP}/z.pth"), "import z\n")
        .file(&format!("{SP}/\u{ff41}.pth"), "import fullwidth\n");
    let raw = e.p(SP).join(std::ffi::OsStr::from_bytes(b"\xff.pth"));
    std::fs::write(raw, "import raw\n").unwrap();
    let tree = e.tree();
    let s = compute(View::new(&tree), &e.interp("3.12"));
    let texts = texts(&s);
    assert_eq!(texts, ["import z", "import raw", "import fullwidth"]);
}

#[test]
fn oracle_3_14_a_pyvenv_cfg_beside_the_executable_makes_bin_the_prefix() {
    // found by live.py against the real 3.14.10 and 3.15.2: getpath makes the directory
    // holding `pyvenv.cfg` the venv's `sys.prefix`, so one in `bin/` puts
    // `bin/lib/python3.14/site-packages` on the path; 3.13's `site.venv()` uses the venv root
    let e = Env::new();
    for v in ["3.13", "3.14"] {
        e.file(
            "venv/bin/pyvenv.cfg",
            "include-system-site-packages = false\n",
        )
        .mkdir(&format!("venv/lib/python{v}/site-packages"))
        .mkdir(&format!("venv/bin/lib/python{v}/site-packages"));
    }
    let tree = e.tree();
    let site = |v: &str| rel(&e, &compute(View::new(&tree), &e.venv(v)).paths()).pop();
    assert_eq!(
        site("3.13").as_deref(),
        Some("venv/lib/python3.13/site-packages")
    );
    assert_eq!(
        site("3.14").as_deref(),
        Some("venv/bin/lib/python3.14/site-packages")
    );
}

#[test]
fn posix_pth_file_sets_the_whole_path_and_import_site_runs_site() {
    // found by the second red team, shown with the real 3.11-3.13: `bin/python3.12._pth`
    // is the whole `sys.path` of the interpreter started as `bin/python3.12`
    let e = Env::new();
    e.file(
        "usr/bin/python3.12._pth",
        "../../opt/tools  # comment\nimport os\n",
    )
    .mkdir("opt/tools")
    .file(&format!("{SP}/a.pth"), "import never\n");
    let tree = e.tree();
    let mut i = e.interp("3.12");
    i.pth_file = Some(e.p("usr/bin/python3.12._pth"));
    let s = compute(View::new(&tree), &i);
    assert_eq!(rel(&e, &s.paths()), ["opt/tools"]);
    assert!(s.pth.is_empty() && !s.usercustomize);
    // `import site` runs `site` with the file's folder as `sys.prefix` (seen with 3.12's own:
    // `usr/bin`, whatever landmark is above it): the installation's site-packages is not read
    e.file("usr/bin/python3.12._pth", "../../opt/tools\nimport site\n")
        .file(
            "usr/bin/lib/python3.12/site-packages/b.pth",
            "import beside\n",
        );
    let s = compute(View::new(&tree), &i);
    assert_eq!(
        rel(&e, &s.paths()),
        ["opt/tools", "usr/bin/lib/python3.12/site-packages"]
    );
    assert_eq!(s.pth.len(), 1);
    assert_eq!(s.pth[0].text, "import beside");
}

#[test]
fn windows_paths_are_trimmed_as_win32_opens_them() {
    use super::path::windows_path;
    for (written, opened) in [
        ("C:\\Evil.", "/Evil"),
        ("C:\\Evil. .", "/Evil"),
        ("C:\\Evil.\\lib", "/Evil/lib"),
        ("C:\\Evil \\lib", "/Evil /lib"),
        ("vendor\\", "vendor/"),
        ("..\\x", "../x"),
        ("a...\\b", "a.../b"),
        ("\\\\.\\C:\\Evil.", "/Evil"),
        // a verbatim path is opened as written
        ("\\\\?\\C:\\Evil.", "/Evil."),
    ] {
        assert_eq!(windows_path(written), opened, "{written}");
    }
}

#[test]
fn a_pyvenv_cfg_beside_a_windows_python_exe_moves_the_prefix_up_to_3_13() {
    // `site.venv()` (3.13 and before): `sys.prefix = dirname(dirname(sys.executable))` when
    // a `pyvenv.cfg` is beside the executable or above its folder
    let e = Env::new();
    e.file("Tools/Python312/python.exe", "MZ")
        .file(
            "Tools/Python312/pyvenv.cfg",
            "home = C:\\Tools\\Python312\r\n",
        )
        .file("Tools/up.pth", "import up\n")
        .file("Tools/Python312/top.pth", "import top\n");
    let tree = e.tree();
    let texts = |minor: u8| {
        let mut i = Interpreter::new(PyVersion::new(3, minor), e.p("Tools/Python312"));
        i.platform = super::Platform::Windows;
        let s = compute(View::new(&tree), &i);
        s.pth.iter().map(|r| r.text.clone()).collect::<Vec<_>>()
    };
    // (`venv()` reads the new prefix, then `main()` reads it again with the old one: a `.pth`
    // of a directory read twice runs twice, as `addsitedir` does)
    assert_eq!(texts(13), ["import up", "import up", "import top"]);
    // 3.14's getpath keeps the prefix where the `pyvenv.cfg` is
    assert!(texts(14).iter().all(|t| t == "import top"));
    // a venv's executable is in `Scripts`: its prefix stays the venv's root
    e.file("venv/Scripts/python.exe", "MZ")
        .file("venv/pyvenv.cfg", "home = C:\\Tools\\Python312\r\n")
        .file("venv/v.pth", "import v\n")
        .file("w.pth", "import above\n");
    let mut i = Interpreter::new(PyVersion::new(3, 12), e.p("venv"));
    i.platform = super::Platform::Windows;
    i.kind = InstallKind::Venv;
    let s = compute(View::new(&tree), &i);
    assert!(s.pth.iter().any(|r| r.text == "import v"));
    assert!(!s.pth.iter().any(|r| r.text == "import above"));
}

#[test]
fn a_pth_files_folder_is_split_at_the_path_list_separator_from_3_11() {
    // seen with 3.12's own: `/tmp/col/a:b/bin/python3.12._pth` with `import site` gives
    // `sys.prefix` `/tmp/col/a`, and `site` reads `a/lib/python3.12/site-packages`
    let e = Env::new();
    e.file("a:b/bin/python3.12._pth", "../x\nimport site\n")
        .file("a/lib/python3.12/site-packages/s.pth", "import split\n")
        .file(
            "a:b/bin/lib/python3.12/site-packages/t.pth",
            "import whole\n",
        );
    let tree = e.tree();
    let texts = |minor: u8| {
        let mut i = e.interp(&format!("3.{minor}"));
        i.pth_file = Some(e.p("a:b/bin/python3.12._pth"));
        let s = compute(View::new(&tree), &i);
        s.pth.iter().map(|r| r.text.clone()).collect::<Vec<_>>()
    };
    assert_eq!(texts(12), ["import split"]);
}
