//! PRC001–PRC005: running Python processes (`--processes`) that run decoded or piped code,
//! live in temporary or hidden places, run deleted files, or were given start-up variables
//! that point at code; and the process IOCs of `signatures/ioc.toml` (`[[process]]`). Each
//! finding is located at `/proc/PID`; its notes say who the process is.

use std::path::{Path, PathBuf};

use pthscan_signatures::ioc::ProcessView;
use pthscan_signatures::{Context, PayloadScanner, Role, Signatures};

use super::{EVIDENCE_CHARS, RuleDoc, describe_hits, raise};
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::pathfmt::display_path;
use crate::procs::{Process, Running, Sweep};
use crate::python::Runs;

/// The rules.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "PRC001",
        fix: super::Fix::Stop,
        rotate: &[],
        title: "running Python executes code it decodes (python -c)",
        what: "A running interpreter started with `-c` whose code decodes or decompresses data \
               and executes it (`exec`/`eval`/`compile` of `base64`, `zlib`, `marshal`, \
               `codecs`…): high, raised by the other signals the code carries. The same code \
               also goes through the payload rules, which report on their own. Checked with \
               `--processes`, Linux only.",
        why: "LiteLLM 1.82.8's `.pth` started `python -c \"import base64; exec(base64.b64decode('…'))\"`: \
              the stealer ran as such a child, and its code never existed as a file to scan.",
        example: "/proc/4242: pid 4242 (python3 -c import base64;exec(base64.b64decode('aW1w…'))) → high",
        references: &[
            "docs/threats/litellm.md#execution-and-payload-layering, docs/threats/litellm.md#published-detection-rules (SigmaHQ TeamPCP process rule)",
            "MITRE T1059.006, T1027",
        ],
    },
    &RuleDoc {
        id: "PRC002",
        fix: super::Fix::Stop,
        rotate: &[],
        title: "running Python reads its code from standard input",
        what: "A running interpreter given `-`, or no script, `-c` or `-m` while its standard \
               input is a pipe or socket (medium) or a file (low): the code it runs came from \
               another process and is on no disk. An interpreter on a terminal is interactive \
               and not reported. Checked with `--processes`, Linux only.",
        why: "`curl … | python3 -` and `echo <b64> | base64 -d | python3` run code that leaves no \
              file behind; a dropper uses them so that nothing is there to scan.",
        example: "/proc/777: pid 777 (python3 -), stdin pipe:[91822] → medium",
        references: &["README.md#running-processes---processes", "MITRE T1059.006"],
    },
    &RuleDoc {
        id: "PRC003",
        fix: super::Fix::Stop,
        rotate: &[],
        title: "running Python from a temporary or hidden place",
        what: "A running interpreter whose executable or script is under `/tmp`, `/var/tmp` or \
               `/dev/shm` (high), or under a hidden directory (medium) other than the usual \
               homes of interpreters and tools (`.venv`, `.local`, `.pyenv`, `.cache`, \
               `.conda`, `.virtualenvs`, `.vscode-server`, …) and outside the interpreter's \
               own environment. Checked with `--processes`, Linux only.",
        why: "Installed software runs from installed places; payloads copy an interpreter to \
              `/tmp`, or run a poller from `~/.config/sysmon/`, where few people look.",
        example: "/proc/5150: pid 5150 (/tmp/.x/python3 -c …), executable in a temporary directory → high",
        references: &[
            "docs/threats/litellm.md#persistence",
            "MITRE T1074.001, T1564.001",
        ],
    },
    &RuleDoc {
        id: "PRC004",
        fix: super::Fix::Stop,
        rotate: &[],
        title: "running Python runs a deleted executable, library or script",
        what: "A running Python process whose executable or an executable mapping (a \
               library, a `memfd:` file) was deleted since it started and is gone (high), or \
               was replaced by another file at the same path (medium: usually an upgrade of \
               a running program); or whose script, given as an absolute path, is no longer \
               on disk (medium). libffi's closure pages (`memfd:libffi`, a temporary \
               `ffiXXXXXX`), deleted by design, are low. Checked with `--processes`, Linux only.",
        why: "Deleting what runs is how a payload hides: the process keeps running from a file \
              no disk scan can find.",
        example: "/proc/6001: pid 6001 (/tmp/tmp.Q/python3 -c …), executable deleted → high",
        references: &[
            "README.md#running-processes---processes",
            "MITRE T1070.004, T1620",
        ],
    },
    &RuleDoc {
        id: "PRC005",
        fix: super::Fix::Stop,
        rotate: &[],
        title: "running Python was given start-up variables that point at code",
        what: "A running interpreter whose environment sets `PYTHONSTARTUP` (medium; high in a \
               temporary or hidden place), or `PYTHONPATH`, `PYTHONHOME` or `PYTHONUSERBASE` \
               into a temporary or hidden place (high). Low when the process ignores them \
               (`-E`, `-I`): its children may not. Only these names and values are read from a \
               process's environment. Checked with `--processes`, Linux only.",
        why: "`PYTHONSTARTUP` runs a file in every interactive interpreter; `PYTHONPATH` and \
              `PYTHONUSERBASE` put directories (and their `sitecustomize`, their `.pth` files) \
              before the installed ones for every Python the process starts.",
        example: "/proc/8080: pid 8080 (python3 app.py), PYTHONPATH=/dev/shm/.lib → high",
        references: &[
            "docs/threats/startup-hooks.md#when-site-runs, docs/threats/startup-hooks.md#other-code-that-runs-automatically",
            "MITRE T1546.018",
        ],
    },
];

/// Hidden directories where interpreters and the tools that run Python usually live: not
/// a hiding place on their own.
const ORDINARY_HIDDEN: &[&str] = &[
    ".venv",
    ".local",
    ".pyenv",
    ".cache",
    ".conda",
    ".virtualenvs",
    ".rye",
    ".asdf",
    ".mise",
    ".nix-profile",
    ".vscode-server",
    ".vscode",
    ".cursor-server",
    ".pycharm_helpers",
    ".tox",
    ".nox",
];

/// `a temporary directory`, `a hidden directory` or nothing, for where `path` is.
fn place(path: &Path) -> Option<(&'static str, Severity)> {
    let text = path.to_string_lossy();
    if ["/tmp/", "/var/tmp/", "/dev/shm/"]
        .iter()
        .any(|t| text.starts_with(t))
    {
        return Some(("a temporary directory", Severity::High));
    }
    let dir = path.parent()?;
    dir.components()
        .filter_map(|c| c.as_os_str().to_str())
        .any(|c| c.starts_with('.') && c.len() > 1 && c != ".." && !ORDINARY_HIDDEN.contains(&c))
        .then_some(("a hidden directory", Severity::Medium))
}

/// Judges every process of the sweep.
pub fn judge(
    sigs: &Signatures,
    sweep: &Sweep,
    scanner: &mut PayloadScanner<'_>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    for p in &sweep.processes {
        iocs(sigs, sweep, p, &mut findings);
        if p.python.is_none() {
            continue;
        }
        let mut found = Vec::new();
        command(sigs, p, scanner, &mut found, &mut diagnostics);
        stdin(p, &mut found);
        places(p, &mut found);
        deleted(p, &mut found);
        variables(p, &mut found);
        let about = about(sweep, p);
        for f in &mut found {
            f.notes.splice(0..0, about.iter().cloned());
        }
        findings.extend(found);
    }
    (findings, diagnostics)
}

/// A finding about `p`, at `/proc/PID`.
fn finding(
    p: &Process,
    rule: &str,
    severity: Severity,
    message: String,
    evidence: &str,
) -> Finding {
    Finding {
        rule: rule.to_owned().into(),
        severity,
        location: Location {
            path: p.proc_path(),
            line: None,
            column: None,
        },
        message: format!("{}: {message}", p.label()),
        evidence: excerpt(evidence, EVIDENCE_CHARS),
        runs_on: Runs::default(),
        ..Default::default()
    }
}

/// Who the process is: the notes every finding about it carries.
fn about(sweep: &Sweep, p: &Process) -> Vec<String> {
    let parent = sweep
        .get(p.ppid)
        .map(|q| format!(" ({})", excerpt(&q.name, 40)))
        .unwrap_or_default();
    let user = match (&p.user, p.uid) {
        (Some(u), _) => u.clone(),
        (None, Some(uid)) => format!("uid {uid}"),
        (None, None) => "unknown user".into(),
    };
    let mut notes = vec![format!(
        "process {}, parent {}{parent}, user {user}",
        p.pid, p.ppid
    )];
    if let Some(exe) = &p.exe {
        notes.push(format!(
            "executable `{}`{}",
            display_path(exe),
            if p.exe_deleted { " (deleted)" } else { "" }
        ));
    }
    if let Some(prefix) = &p.prefix {
        notes.push(match &p.environment {
            Some(env) => format!("environment `{}` (scanned)", display_path(env)),
            None => format!(
                "environment `{}`{}",
                display_path(prefix),
                if p.venv { " (a venv)" } else { "" }
            ),
        });
    }
    notes
}

fn iocs(sigs: &Signatures, sweep: &Sweep, p: &Process, out: &mut Vec<Finding>) {
    let exe = p.exe.as_deref().map(|e| e.to_string_lossy().into_owned());
    let script = p
        .script
        .as_deref()
        .map(|s| s.to_string_lossy().into_owned());
    let view = ProcessView {
        exe: exe.as_deref(),
        argv: &p.argv,
        script: script.as_deref(),
        python: p.python.is_some(),
        parent_python: sweep.get(p.ppid).is_some_and(|q| q.python.is_some()),
    };
    for ioc in sigs.iocs.processes.iter().filter(|i| i.matches(&view)) {
        let mut f = finding(
            p,
            &ioc.id,
            ioc.severity,
            ioc.description.clone(),
            &p.argv.join(" "),
        );
        f.reference = Some(ioc.reference.clone());
        f.notes = about(sweep, p);
        out.push(f);
    }
}

fn command(
    sigs: &Signatures,
    p: &Process,
    scanner: &mut PayloadScanner<'_>,
    out: &mut Vec<Finding>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(Running::Command(code)) = p.invocation.as_ref().map(|i| &i.running) else {
        return;
    };
    let hits = sigs.signals.scan(code.as_bytes(), Context::Startup);
    if hits.iter().any(|h| {
        matches!(
            h.id.as_str(),
            "decode-exec" | "decode-exec-blob" | "spawn-decoded-interpreter"
        )
    }) {
        let severity = raise(Severity::High, &hits);
        let mut f = finding(
            p,
            "PRC001",
            severity,
            format!(
                "`-c` code decodes data and executes it ({})",
                describe_hits(&hits)
            ),
            code,
        );
        let layers = pthscan_signatures::decode::unwrap(
            code.as_bytes(),
            &pthscan_signatures::decode::Limits {
                max_depth: 2,
                max_layer_bytes: 1 << 20,
                max_total_bytes: 4 << 20,
                min_run: 16,
            },
        );
        if let Some(layer) = layers.layers.first() {
            f.notes.push(format!(
                "decodes ({}) to: {}",
                layer
                    .chain
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" → "),
                excerpt(&String::from_utf8_lossy(&layer.bytes), EVIDENCE_CHARS)
            ));
        }
        f.signals = hits;
        out.push(f);
    }
    // the payload rules and the behaviour rules, over the code as start-up code: the child a
    // hook spawns runs it as soon as it starts
    let at = p.proc_path();
    let (found, problems) =
        super::payload::judge_code(scanner, Path::new("/"), &at, code.as_bytes(), Role::Startup);
    out.extend(found.into_iter().map(|mut f| {
        f.environment = None;
        f.runs_on = Runs::default();
        f.message = format!("{}: `-c` code: {}", p.label(), f.message);
        f.notes
            .retain(|n| !n.starts_with("this file runs at interpreter start-up"));
        f
    }));
    diagnostics.extend(problems);
}

fn stdin(p: &Process, out: &mut Vec<Finding>) {
    let Some(inv) = &p.invocation else { return };
    if inv.running != Running::Stdin {
        return;
    }
    let from = p.stdin.as_deref().unwrap_or("standard input");
    let file = from.starts_with('/');
    let (severity, message) = match (inv.dash, file) {
        (_, true) => (
            Severity::Low,
            format!("runs the code of `{from}`, given on standard input"),
        ),
        (true, false) => (
            Severity::Medium,
            "runs code read from standard input (`python -`): it came from another process and is on no disk".to_owned(),
        ),
        (false, false) => (
            Severity::Medium,
            "has no script and reads its code from a pipe: it came from another process and is on no disk".to_owned(),
        ),
    };
    out.push(finding(
        p,
        "PRC002",
        severity,
        message,
        &format!("stdin {from}"),
    ));
}

fn places(p: &Process, out: &mut Vec<Finding>) {
    if let Some(exe) = &p.exe
        && let Some((where_, severity)) = place(exe)
    {
        out.push(finding(
            p,
            "PRC003",
            severity,
            format!("its interpreter is kept in {where_}"),
            &display_path(exe),
        ));
    }
    if let Some(script) = &p.script
        && let Some((where_, severity)) = place(script)
        && !p
            .prefix
            .as_deref()
            .is_some_and(|pre| script.starts_with(pre))
    {
        out.push(finding(
            p,
            "PRC003",
            severity,
            format!("runs a script in {where_}"),
            &display_path(script),
        ));
    }
}

fn deleted(p: &Process, out: &mut Vec<Finding>) {
    let gone_or_replaced = |path: &Path, what: &str| -> (Severity, String) {
        if libffi_trampoline(path) {
            (
                Severity::Low,
                format!(
                    "{what} is the kind libffi makes for its closure trampolines (ctypes callbacks): deleted by design, worth a look only if nothing here uses ctypes or cffi"
                ),
            )
        } else if path.to_string_lossy().starts_with("/memfd:") {
            (
                Severity::High,
                format!("{what} is a memory-only file (`memfd`): code that was never on disk"),
            )
        } else if p.exists(path) {
            (
                Severity::Medium,
                format!(
                    "{what} was replaced since the process started (an upgrade, or a swap): what runs is not what is on disk"
                ),
            )
        } else {
            (
                Severity::High,
                format!("{what} was deleted while it runs: no disk scan can see it"),
            )
        }
    };
    if p.exe_deleted
        && let Some(exe) = &p.exe
    {
        let (severity, message) = gone_or_replaced(exe, "its executable");
        out.push(finding(
            p,
            "PRC004",
            severity,
            message,
            &format!("{} (deleted)", display_path(exe)),
        ));
    }
    for m in &p.deleted_maps {
        let what = match p.libpython.as_deref() == Some(m.as_path()) {
            true => "its Python runtime library",
            false => "a file it maps executable",
        };
        let (severity, message) = gone_or_replaced(m, what);
        out.push(finding(
            p,
            "PRC004",
            severity,
            message,
            &format!("{} (deleted)", display_path(m)),
        ));
    }
    if let Some(Running::Script(script)) = p.invocation.as_ref().map(|i| &i.running)
        && script.starts_with('/')
        && !p.exists(Path::new(script))
        && p.unreadable.is_empty()
    {
        out.push(finding(
            p,
            "PRC004",
            Severity::Medium,
            "the script it was started on is no longer on disk".into(),
            script,
        ));
    }
}

fn variables(p: &Process, out: &mut Vec<Finding>) {
    let ignored = p.invocation.as_ref().is_some_and(|i| i.ignores_environment);
    let mut report = |name: &str, value: &str, severity: Severity, message: String| {
        let (severity, message) = match ignored {
            true => (
                Severity::Low.min(severity),
                format!(
                    "{message} (ignored by this process, started with -E or -I; its children may not be)"
                ),
            ),
            false => (severity, message),
        };
        out.push(finding(
            p,
            "PRC005",
            severity,
            message,
            &format!("{name}={value}"),
        ));
    };
    let entries = |value: &str| -> Option<(&'static str, Severity)> {
        value
            .split(':')
            .filter(|v| v.starts_with('/'))
            .find_map(|v| place(&PathBuf::from(v).join("x")))
    };
    if let Some(value) = p.var("PYTHONSTARTUP") {
        match place(Path::new(value)) {
            Some((where_, _)) => report(
                "PYTHONSTARTUP",
                value,
                Severity::High,
                format!(
                    "PYTHONSTARTUP points into {where_}: every interactive Python it starts runs that file"
                ),
            ),
            None => report(
                "PYTHONSTARTUP",
                value,
                Severity::Medium,
                "PYTHONSTARTUP is set: every interactive Python it starts runs that file first"
                    .into(),
            ),
        }
    }
    for name in ["PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE"] {
        if let Some(value) = p.var(name)
            && let Some((where_, _)) = entries(value)
        {
            report(
                name,
                value,
                Severity::High,
                format!(
                    "{name} points into {where_}: what is there (a sitecustomize, .pth files, any module) comes before the installed code"
                ),
            );
        }
    }
}

/// Whether a deleted executable mapping is libffi's writable-and-executable closure page:
/// `memfd_create("libffi")`, or its fallback, a temporary file `ffiXXXXXX`.
fn libffi_trampoline(path: &Path) -> bool {
    let text = path.to_string_lossy();
    let name = text.rsplit('/').next().unwrap_or(&text);
    text == "/memfd:libffi"
        || (name.len() == 9
            && name.starts_with("ffi")
            && ["/tmp/", "/var/tmp/", "/dev/shm/", "/run/"]
                .iter()
                .any(|t| text.starts_with(t)))
}

/// "used now by pid 1234 (python3 app.py), …": the note a finding about an environment gets.
pub fn used_by(sweep: &Sweep, pids: &[u32]) -> String {
    const SHOWN: usize = 5;
    let mut parts: Vec<String> = pids
        .iter()
        .take(SHOWN)
        .filter_map(|&pid| sweep.get(pid))
        .map(Process::label)
        .collect();
    if pids.len() > SHOWN {
        parts.push(format!("and {} more", pids.len() - SHOWN));
    }
    format!("used now by {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procs::{Identified, interpret};

    fn process(argv: &[&str], exe: &str) -> Process {
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        Process {
            pid: 4242,
            ppid: 1,
            name: "python3".into(),
            exe: Some(PathBuf::from(exe)),
            invocation: Some(interpret(&argv)),
            argv,
            python: Some(Identified::Executable),
            ..Process::default()
        }
    }

    fn judged(p: Process) -> Vec<Finding> {
        let sigs = Signatures::embedded().unwrap();
        let mut scanner = PayloadScanner::new(&sigs.payload, std::time::Duration::from_secs(10))
            .with_behaviours(&sigs.behaviours);
        let sweep = Sweep {
            processes: vec![p],
            diagnostics: Vec::new(),
        };
        judge(sigs, &sweep, &mut scanner).0
    }

    fn rules(found: &[Finding]) -> Vec<(String, Severity)> {
        let mut r: Vec<(String, Severity)> = found
            .iter()
            .filter(|f| f.severity >= Severity::Medium)
            .map(|f| (f.rule.to_string(), f.severity))
            .collect();
        r.sort();
        r.dedup();
        r
    }

    #[test]
    fn decoded_command_is_high_and_an_ordinary_one_is_nothing() {
        let bad = judged(process(
            &[
                "python3",
                "-c",
                "import base64;exec(base64.b64decode('aW1wb3J0IHRpbWU7dGltZS5zbGVlcCgzMCk='))",
            ],
            "/usr/bin/python3.12",
        ));
        let prc = bad.iter().find(|f| f.rule == "PRC001").expect("PRC001");
        assert!(prc.severity >= Severity::High);
        assert_eq!(prc.location.path, Path::new("/proc/4242"));
        assert!(prc.message.contains("pid 4242"));
        assert!(
            prc.notes
                .iter()
                .any(|n| n.contains("import time;time.sleep(30)")),
            "{:?}",
            prc.notes
        );
        let fine = judged(process(
            &["python3", "-c", "import time; time.sleep(30)"],
            "/usr/bin/python3.12",
        ));
        assert_eq!(rules(&fine), []);
        let health = judged(process(
            &["python3", "-c", "import sys; print(sys.version)"],
            "/usr/bin/python3.12",
        ));
        assert_eq!(rules(&health), []);
    }

    #[test]
    fn process_iocs_apply_to_any_process_and_to_a_python_parent() {
        let sigs = Signatures::embedded().unwrap();
        let mut scanner = PayloadScanner::new(&sigs.payload, std::time::Duration::from_secs(10));
        let mut python = process(&["python3", "x.py"], "/usr/bin/python3.12");
        python.pid = 10;
        let systemctl = Process {
            pid: 11,
            ppid: 10,
            name: "systemctl".into(),
            exe: Some(PathBuf::from("/usr/bin/systemctl")),
            argv: ["systemctl", "--user", "enable", "--now", "sysmon.service"]
                .map(String::from)
                .to_vec(),
            ..Process::default()
        };
        let pglog = Process {
            pid: 12,
            ppid: 1,
            name: "pglog".into(),
            exe: Some(PathBuf::from("/tmp/pglog")),
            argv: vec!["/tmp/pglog".into()],
            ..Process::default()
        };
        let sweep = Sweep {
            processes: vec![python, systemctl, pglog],
            diagnostics: Vec::new(),
        };
        let found: Vec<(String, PathBuf)> = judge(sigs, &sweep, &mut scanner)
            .0
            .into_iter()
            .filter(|f| f.rule.starts_with("ioc-proc-"))
            .map(|f| (f.rule.to_string(), f.location.path))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "ioc-proc-teampcp-systemctl".to_owned(),
                    PathBuf::from("/proc/11")
                ),
                (
                    "ioc-proc-teampcp-pglog".to_owned(),
                    PathBuf::from("/proc/12")
                ),
            ]
        );
    }

    #[test]
    fn places_deleted_files_stdin_and_variables() {
        assert_eq!(
            rules(&judged(process(
                &["/tmp/x/python3", "a.py"],
                "/tmp/x/python3"
            ))),
            [("PRC003".to_owned(), Severity::High)]
        );
        assert_eq!(
            rules(&judged(process(
                &["python3", "/home/a/.config/sysmon/sysmon.py"],
                "/usr/bin/python3.12"
            ))),
            // without the path the sweep resolves, only that the script is not on this disk
            [("PRC004".to_owned(), Severity::Medium)]
        );
        // the script path is known once the sweep resolved it
        let mut sysmon = process(
            &["python3", "/home/a/.config/sysmon/sysmon.py"],
            "/usr/bin/python3.12",
        );
        sysmon.script = Some(PathBuf::from("/home/a/.config/sysmon/sysmon.py"));
        let found = rules(&judged(sysmon));
        assert!(
            found.contains(&("PRC003".to_owned(), Severity::Medium)),
            "{found:?}"
        );
        assert!(
            found.contains(&("ioc-proc-teampcp-sysmon".to_owned(), Severity::Critical)),
            "{found:?}"
        );
        // and that script is not on this disk: gone since the process started
        assert!(
            found.contains(&("PRC004".to_owned(), Severity::Medium)),
            "{found:?}"
        );
        // (scripts that are not on this disk are PRC004 too: left out here)
        let placed = |argv: &[&str], script: &str| {
            let mut p = process(argv, "/usr/bin/python3.12");
            p.script = Some(PathBuf::from(script));
            let mut r = rules(&judged(p));
            r.retain(|(id, _)| id != "PRC004");
            r
        };
        assert_eq!(
            placed(
                &["/home/a/.venv/bin/python", "/home/a/.venv/bin/tool"],
                "/home/a/.venv/bin/tool"
            ),
            []
        );
        assert_eq!(
            placed(&["python3", "/home/a/.cfg/run.py"], "/home/a/.cfg/run.py"),
            [("PRC003".to_owned(), Severity::Medium)]
        );
        assert_eq!(
            placed(&["python3", "/dev/shm/x.py"], "/dev/shm/x.py"),
            [("PRC003".to_owned(), Severity::High)]
        );
        assert_eq!(
            placed(&["python3", "/srv/app/main.py"], "/srv/app/main.py"),
            []
        );

        let mut gone = process(
            &["python3", "-c", "import time"],
            "/nonexistent/pthscan/python3",
        );
        gone.exe_deleted = true;
        assert_eq!(
            rules(&judged(gone)),
            [("PRC004".to_owned(), Severity::High)]
        );
        let mut replaced = process(&["python3", "x.py"], "/");
        replaced.exe_deleted = true;
        assert_eq!(
            rules(&judged(replaced)),
            [("PRC004".to_owned(), Severity::Medium)]
        );

        let mut ffi = process(&["python3", "app.py"], "/usr/bin/python3.12");
        ffi.deleted_maps = vec![
            PathBuf::from("/memfd:libffi"),
            PathBuf::from("/tmp/ffiAb12Cd"),
        ];
        assert_eq!(rules(&judged(ffi)), []);
        let mut memfd = process(&["python3", "app.py"], "/usr/bin/python3.12");
        memfd.deleted_maps = vec![PathBuf::from("/memfd:x")];
        assert_eq!(
            rules(&judged(memfd)),
            [("PRC004".to_owned(), Severity::High)]
        );

        let mut piped = process(&["python3", "-"], "/usr/bin/python3.12");
        piped.stdin = Some("pipe:[1234]".into());
        assert_eq!(
            rules(&judged(piped)),
            [("PRC002".to_owned(), Severity::Medium)]
        );

        let mut startup = process(&["python3", "app.py"], "/usr/bin/python3.12");
        startup.startup_env = vec![("PYTHONSTARTUP".into(), "/home/a/.pythonrc.py".into())];
        assert_eq!(
            rules(&judged(startup)),
            [("PRC005".to_owned(), Severity::Medium)]
        );
        let mut path = process(&["python3", "app.py"], "/usr/bin/python3.12");
        path.startup_env = vec![("PYTHONPATH".into(), "/opt/app:/dev/shm/.l".into())];
        assert_eq!(
            rules(&judged(path)),
            [("PRC005".to_owned(), Severity::High)]
        );
        let mut fine = process(&["python3", "app.py"], "/usr/bin/python3.12");
        fine.startup_env = vec![("PYTHONPATH".into(), "/opt/app/src".into())];
        assert_eq!(rules(&judged(fine)), []);
        let mut isolated = process(&["python3", "-I", "app.py"], "/usr/bin/python3.12");
        isolated.startup_env = vec![("PYTHONPATH".into(), "/tmp/x".into())];
        assert_eq!(rules(&judged(isolated)), []);
    }
}
