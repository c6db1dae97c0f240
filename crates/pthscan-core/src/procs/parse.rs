//! The text of `/proc/PID/*` files, parsed: pure functions over bytes, tested on samples.

/// `/proc/PID/cmdline`: the arguments, NUL-separated (and NUL-terminated). A process that
/// rewrote its title (`setproctitle`) may leave one string with spaces: it is one argument.
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// What `/proc/PID/status` says that the sweep uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// `Name:`, the command name (at most 15 bytes, cut by the kernel).
    pub name: String,
    /// `PPid:`.
    pub ppid: u32,
    /// `Uid:`, the real user id.
    pub uid: Option<u32>,
}

/// Parses `/proc/PID/status`.
pub fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            // the name is escaped by the kernel (`\n` as `\\n`), so one line holds it
            "Name" => status.name = value.to_owned(),
            "PPid" => status.ppid = value.parse().unwrap_or(0),
            "Uid" => status.uid = value.split_whitespace().next().and_then(|u| u.parse().ok()),
            _ => {}
        }
    }
    status
}

/// A link's target as `/proc` shows it: the path, and whether the file was deleted (the
/// kernel appends ` (deleted)`).
pub fn strip_deleted(target: &str) -> (&str, bool) {
    match target.strip_suffix(" (deleted)") {
        Some(path) => (path, true),
        None => (target, false),
    }
}

/// One line of `/proc/PID/maps` that maps a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping<'a> {
    /// Whether the mapping is executable (`x` in its permissions).
    pub exec: bool,
    /// The file, without ` (deleted)`.
    pub path: &'a str,
    /// Whether the file was deleted (or replaced) after it was mapped.
    pub deleted: bool,
}

/// Parses a line of `/proc/PID/maps`: `start-end perms offset dev inode   path`. `None` for
/// an anonymous mapping or a pseudo one (`[heap]`, `[stack]`, `[vdso]`).
pub fn parse_maps_line(line: &str) -> Option<Mapping<'_>> {
    let mut rest = line;
    let mut perms = "";
    // five fields, then the path (which may hold spaces) after the padding
    for i in 0..5 {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ')?;
        if i == 1 {
            perms = &rest[..end];
        }
        rest = &rest[end..];
    }
    let path = rest.trim_start_matches(' ');
    if path.is_empty() || path.starts_with('[') {
        return None;
    }
    let (path, deleted) = strip_deleted(path);
    Some(Mapping {
        exec: perms.contains('x'),
        path,
        deleted,
    })
}

/// Whether a mapped file is a Python runtime library (`libpython3.12.so.1.0`,
/// `libpypy3.10-c.so`): what makes uwsgi, gunicorn's embedders or mod_wsgi run Python.
pub fn is_libpython(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_prefix("libpython")
        .or_else(|| name.strip_prefix("libpypy"))
        .is_some_and(|r| {
            r.starts_with(|c: char| c.is_ascii_digit() || c == '-') && r.contains(".so")
        })
}

/// The `X.Y` of an interpreter or library name (`python3.12`, `libpython3.12.so.1.0`).
pub fn version_of(name: &str) -> Option<String> {
    let name = name.rsplit('/').next().unwrap_or(name);
    let rest = name
        .strip_prefix("libpython")
        .or_else(|| name.strip_prefix("python"))?;
    let mut parts = rest.split('.');
    let major = parts.next()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!major.is_empty() && major.chars().all(|c| c.is_ascii_digit()) && !minor.is_empty())
        .then(|| format!("{major}.{minor}"))
}

/// The environment variables that change what Python runs at start-up or where it looks:
/// only these are ever reported from a process's environment, which holds secrets too.
pub const STARTUP_VARIABLES: &[&str] = &[
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONUSERBASE",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "PYTHONNOUSERSITE",
    "PYTHONSAFEPATH",
    "PYTHONPLATLIBDIR",
    "PYTHONBREAKPOINT",
    "PYTHONEXECUTABLE",
];

/// A value of a start-up variable is cut to this many characters.
pub const VALUE_CHARS: usize = 512;

/// From `/proc/PID/environ` (NUL-separated `NAME=value`): the start-up variables, in
/// [`STARTUP_VARIABLES`] order, and `PATH` (kept to find what `argv[0]` named, never
/// reported). Nothing else is kept.
pub fn startup_variables(bytes: &[u8]) -> (Vec<(String, String)>, Option<String>) {
    let mut found = Vec::new();
    let mut path = None;
    for entry in bytes.split(|&b| b == 0) {
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = (&entry[..eq], &entry[eq + 1..]);
        if name == b"PATH" {
            path = Some(String::from_utf8_lossy(value).into_owned());
        } else if let Some(known) = STARTUP_VARIABLES.iter().find(|v| v.as_bytes() == name) {
            let value = String::from_utf8_lossy(value);
            found.push((
                (*known).to_owned(),
                crate::finding::excerpt(&value, VALUE_CHARS),
            ));
        }
    }
    found.sort_by_key(|(name, _)| STARTUP_VARIABLES.iter().position(|v| v == name));
    found.dedup_by(|a, b| a.0 == b.0);
    (found, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_splits_on_nul() {
        assert_eq!(
            split_cmdline(b"/usr/bin/python3\0-c\0import os; print(1)\0"),
            ["/usr/bin/python3", "-c", "import os; print(1)"]
        );
        // an empty argument is kept, the terminator is not
        assert_eq!(split_cmdline(b"python3\0\0x\0"), ["python3", "", "x"]);
        // a rewritten title: one string with spaces, no terminator
        assert_eq!(
            split_cmdline(b"gunicorn: master [app]"),
            ["gunicorn: master [app]"]
        );
        // a kernel thread or a zombie
        assert!(split_cmdline(b"").is_empty());
        assert_eq!(split_cmdline(b"py\xff\0"), ["py\u{fffd}"]);
    }

    #[test]
    fn status_fields() {
        let text = "Name:\tpython3.12\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t1000\nTracerPid:\t0\nUid:\t1001\t1001\t1001\t1001\nGid:\t1001\t1001\t1001\t1001\n";
        assert_eq!(
            parse_status(text),
            Status {
                name: "python3.12".into(),
                ppid: 1000,
                uid: Some(1001)
            }
        );
        assert_eq!(parse_status("garbage"), Status::default());
    }

    #[test]
    fn maps_lines_and_deleted_files() {
        let lines = [
            (
                "7f1c2a000000-7f1c2a1b2000 r-xp 00000000 08:01 1311234                    /usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0",
                Some((
                    true,
                    "/usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0",
                    false,
                )),
            ),
            (
                "55d4c8a00000-55d4c8a01000 r-xp 00000000 00:2a 77  /tmp/tmp.x1/python3 (deleted)",
                Some((true, "/tmp/tmp.x1/python3", true)),
            ),
            (
                "7f00 rw-s 00000000 00:05 1024 /dev/shm/sem.mp-a1 (deleted)",
                Some((false, "/dev/shm/sem.mp-a1", true)),
            ),
            (
                "7f00-7f01 r-xp 00000000 00:01 3 /memfd:payload (deleted)",
                Some((true, "/memfd:payload", true)),
            ),
            (
                "7f00-7f01 r--p 00000000 08:01 99 /home/a/my dir/lib x.so",
                Some((false, "/home/a/my dir/lib x.so", false)),
            ),
            (
                "7ffd5e1f0000-7ffd5e211000 rw-p 00000000 00:00 0                          [stack]",
                None,
            ),
            ("7f1c29e00000-7f1c29e21000 rw-p 00000000 00:00 0 ", None),
            ("7f1c29e00000-7f1c29e21000 rw-p 00000000 00:00 0", None),
            ("short", None),
        ];
        for (line, want) in lines {
            let got = parse_maps_line(line).map(|m| (m.exec, m.path, m.deleted));
            assert_eq!(got, want, "{line}");
        }
    }

    #[test]
    fn libpython_and_versions() {
        assert!(is_libpython(
            "/usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0"
        ));
        assert!(is_libpython("/opt/pypy/bin/libpypy3.10-c.so"));
        assert!(!is_libpython("/usr/lib/libpythonize.so"));
        assert!(!is_libpython(
            "/usr/lib/python3.12/lib-dynload/_ssl.cpython-312.so"
        ));
        assert_eq!(version_of("/usr/bin/python3.12").as_deref(), Some("3.12"));
        assert_eq!(version_of("libpython3.11.so.1.0").as_deref(), Some("3.11"));
        assert_eq!(version_of("python3.13t").as_deref(), Some("3.13"));
        assert_eq!(version_of("/usr/bin/python3"), None);
        assert_eq!(version_of("pythonista"), None);
    }

    #[test]
    fn only_startup_variables_are_kept() {
        let environ = b"HOME=/root\0AWS_SECRET_ACCESS_KEY=hunter2\0PYTHONPATH=/dev/shm/.l\0PATH=/usr/bin:/bin\0PYTHONSTARTUP=/tmp/s.py\0weird\0PYTHONSTARTUP=/again\0";
        let (vars, path) = startup_variables(environ);
        assert_eq!(
            vars,
            [
                ("PYTHONSTARTUP".to_owned(), "/tmp/s.py".to_owned()),
                ("PYTHONPATH".to_owned(), "/dev/shm/.l".to_owned())
            ]
        );
        assert_eq!(path.as_deref(), Some("/usr/bin:/bin"));
        assert!(!format!("{vars:?}").contains("hunter2"));
    }
}
