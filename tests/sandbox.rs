//! Proof of the first promise: pthscan never runs, writes or phones home from what it scans.
//! Under `strace -f` over every malicious corpus case and hostile artifacts, the only `execve`
//! is its own start, there is no `connect` and no Internet socket, and nothing inside the
//! scanned tree is opened for writing, created, renamed or removed.

use crate::util::*;

#[test]
fn under_strace_it_executes_nothing_writes_nothing_and_connects_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("scanned");
    for (i, name) in case_names().iter().enumerate() {
        materialize(&load_case(name), &tree.join(format!("case{i}")));
    }
    crate::host::build_host(&tree.join("host"));
    let log = dir.path().join("strace.log");
    let out = std::process::Command::new("strace")
        .args(["-f", "-y", "-qq", "-e", "trace=execve,connect,socket,open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,truncate,ftruncate,chmod,fchmodat", "-o"])
        .arg(&log)
        .arg(bin())
        .args(["--deep", "--format", "json"])
        .arg(&tree)
        .output()
        .expect("strace (Debian package strace; .ci/run installs it)");
    assert!(code(&out) == 1, "{}", stderr(&out));
    let log = std::fs::read_to_string(&log).unwrap();
    let scanned = std::fs::canonicalize(&tree).unwrap().display().to_string();
    let mut execs = 0;
    for line in log.lines() {
        if line.contains("execve(") && !line.contains("= -1") {
            execs += 1;
        }
        assert!(!line.contains("connect("), "{line}");
        assert!(
            !(line.contains("socket(AF_INET") || line.contains("socket(AF_INET6")),
            "{line}"
        );
        if line.contains(&scanned) {
            let writes = ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                .iter()
                .any(|f| line.contains(f));
            let changes = ["creat(", "rename", "unlink", "mkdir", "truncate(", "chmod"]
                .iter()
                .any(|c| line.contains(c));
            assert!(!writes && !changes, "touches the scanned tree: {line}");
        }
    }
    assert_eq!(execs, 1, "only its own start may exec:\n{log}");
}
