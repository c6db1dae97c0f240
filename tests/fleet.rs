//! The fleet case end to end: root's scheduled sweep of a host whose user dropped two
//! scanner-exhausting files into their pip cache (one `cp` away for an unprivileged user) still
//! completes under a memory limit, reports both as findings, and reports the real hook of the
//! system site — exit 1, not a dead scan with no report.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::hostile::{EXEC_LINE, deflated_zeros, hand_zip, pax_path_sdist};
use crate::util::*;

/// The memory limit of the fleet recipes' scan (the default `--max-memory`).
const LIMIT: u64 = 256 << 20;

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// A memory cgroup of `LIMIT` bytes (v2, else v1), when this kernel and user may make one.
fn memory_cgroup() -> Option<std::path::PathBuf> {
    let name = format!("pthscan-fleet-{}", std::process::id());
    for (base, limit_file) in [
        ("/sys/fs/cgroup", "memory.max"),
        ("/sys/fs/cgroup/memory", "memory.limit_in_bytes"),
    ] {
        let dir = Path::new(base).join(&name);
        if std::fs::create_dir(&dir).is_ok() {
            if std::fs::write(dir.join(limit_file), LIMIT.to_string()).is_ok()
                && dir.join("cgroup.procs").exists()
            {
                // no swap to spill into, where the controller has the knob
                let _ = std::fs::write(dir.join("memory.swap.max"), "0");
                let _ = std::fs::write(dir.join("memory.memsw.limit_in_bytes"), LIMIT.to_string());
                return Some(dir);
            }
            let _ = std::fs::remove_dir(&dir);
        }
    }
    None
}

#[test]
fn a_sweep_under_a_memory_limit_reports_the_bombs_in_a_users_cache_and_the_real_hook() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    // the system site's real hook
    write(
        &root.join("usr/lib/python3/dist-packages/evil.pth"),
        EXEC_LINE,
    );
    write(&root.join("usr/lib/python3.11/os.py"), b"# os\n");
    // a user's pip cache: the 344-byte sdist whose one PAX path is 64 KiB, and the 53 KB zip
    // whose 40 central entries all point at one 50 MiB deflate stream
    let cache = root.join("home/u/.cache/pip/http-v2/a/b/c/d/e");
    let sdist = pax_path_sdist(64 << 10);
    assert!(sdist.len() < 1024, "{} bytes", sdist.len());
    write(&cache.join("0123456789abcdef.body"), &sdist);
    let (body, crc) = deflated_zeros(50 << 20);
    let names: Vec<String> = (0..40).map(|i| format!("pkg/m{i}.py")).collect();
    let central: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 0)).collect();
    let overlapping = hand_zip(&[("pkg/m0.py", &body, crc, 50 << 20)], &central);
    assert!(overlapping.len() < 64 << 10, "{} bytes", overlapping.len());
    write(&cache.join("fedcba9876543210.body"), &overlapping);

    let peak = dir.path().join("peak");
    let cgroup = memory_cgroup();
    let script = match &cgroup {
        // join the cgroup, then become pthscan: nothing of the scan runs outside the limit
        Some(cg) => format!("echo $$ > {}/cgroup.procs && exec \"$@\"", cg.display()),
        None => "exec \"$@\"".to_owned(),
    };
    let out = Command::new("sh")
        .args(["-c", &script, "sh", "/usr/bin/time", "-f", "%M", "-o"])
        .arg(&peak)
        .arg(env!("CARGO_BIN_EXE_pthscan"))
        .args(["--root"])
        .arg(&root)
        .args(["--format", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("sh and GNU time");
    if let Some(cg) = &cgroup {
        let _ = std::fs::remove_dir(cg);
    }
    let peak_kb: u64 = std::fs::read_to_string(&peak)
        .unwrap()
        .trim()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        peak_kb * 1024 <= LIMIT,
        "peak RSS {peak_kb} KB over the {LIMIT}-byte limit"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no report ({e}), exit {}: {}", code(&out), stderr(&out)));
    let findings = json["findings"].as_array().unwrap();
    let on = |rule_prefix: &str, path: &str| {
        findings.iter().any(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with(rule_prefix))
                && f["location"]["path"]
                    .as_str()
                    .is_some_and(|p| p.contains(path))
                && ["high", "critical"].contains(&f["severity"].as_str().unwrap())
        })
    };
    assert!(on("PTH", "dist-packages/evil.pth"), "{json:#}");
    assert!(on("ARC", "0123456789abcdef.body"), "the PAX bomb: {json:#}");
    assert!(
        on("ARC", "fedcba9876543210.body"),
        "the overlapping zip: {json:#}"
    );
    // high findings give 1 even though some of the bombs' members could not be read (the PAX
    // header cut the rest of its archive): a gate that checks for 1 must not miss them
    let want = 1;
    assert_eq!(code(&out), want, "{}", stderr(&out));
}
