//! Running processes (`--processes`): every process of this machine read from Linux's `/proc`,
//! read-only, and the Python ones told apart by their executable or the runtime they map —
//! with what each runs, the environment its interpreter belongs to and the start-up variables
//! it was given. Nothing is ever signalled, traced or attached to: the sweep reads
//! `status`, `cmdline`, the `exe` and `cwd` links, `maps`, `environ` (only start-up variables
//! are kept) and the `fd/0` link, each within a cap. A process that ends while it is read is
//! counted; parts the kernel refuses (another user's, without root) are counted and said once.

pub mod argv;
pub mod parse;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::finding::excerpt;
use crate::pathfmt::display_path;
pub use argv::{Invocation, Running, interpret};

/// `/proc/PID/cmdline` is read up to this many bytes.
pub const CMDLINE_CAP: u64 = 64 << 10;
/// `/proc/PID/environ` is read up to this many bytes.
pub const ENVIRON_CAP: u64 = 256 << 10;
/// `/proc/PID/maps` is read up to this many bytes (a few thousand mappings).
pub const MAPS_CAP: u64 = 4 << 20;
/// `/proc/PID/status` is read up to this many bytes.
const STATUS_CAP: u64 = 16 << 10;
/// At most this many processes are read.
pub const MAX_PROCESSES: usize = 100_000;
/// The JSON `processes` section shows at most this many arguments of one process, each cut to
/// [`ARG_CHARS`] characters.
pub const ARGS_SHOWN: usize = 64;
/// See [`ARGS_SHOWN`].
pub const ARG_CHARS: usize = 300;

/// How a process was told to be Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Identified {
    /// Its executable is an interpreter (`python3.12`, `pypy3`).
    Executable,
    /// It maps a Python runtime library (`libpython3.12.so`): uwsgi, mod_wsgi, an embedder.
    Library,
    /// Only by its name and `argv[0]`: the executable could not be read (another user's).
    Name,
    /// Its executable, under another name (`bash`, `sshd`), is CPython's interpreter: it calls
    /// CPython's command-line main (a static build maps no library to tell it by).
    Content,
}

/// One process, as `/proc` shows it.
#[derive(Debug, Clone, Default)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Parent's process id.
    pub ppid: u32,
    /// Real user id.
    pub uid: Option<u32>,
    /// That user's name, from this machine's `/etc/passwd`.
    pub user: Option<String>,
    /// The kernel's command name (`status` `Name:`).
    pub name: String,
    /// The executable (`exe` link), without ` (deleted)`.
    pub exe: Option<PathBuf>,
    /// Whether the executable was deleted or replaced since the process started.
    pub exe_deleted: bool,
    /// The arguments, `argv[0]` first (read up to [`CMDLINE_CAP`]).
    pub argv: Vec<String>,
    /// The working directory.
    pub cwd: Option<PathBuf>,
    /// Whether, and how, it is a Python process.
    pub python: Option<Identified>,
    /// The Python runtime library it maps, if any.
    pub libpython: Option<PathBuf>,
    /// `X.Y`, from the executable's or library's name.
    pub version: Option<String>,
    /// Files mapped executable that were deleted or replaced since (not the executable).
    pub deleted_maps: Vec<PathBuf>,
    /// The start-up variables of its environment ([`parse::STARTUP_VARIABLES`]), names and
    /// values; nothing else of the environment is kept.
    pub startup_env: Vec<(String, String)>,
    /// What it runs and how it was started.
    pub invocation: Option<Invocation>,
    /// The script as an absolute path (relative ones against the working directory).
    pub script: Option<PathBuf>,
    /// Its standard input (`fd/0` link: `pipe:[…]`, `/dev/pts/0`, a file).
    pub stdin: Option<String>,
    /// `sys.prefix` as deduced from the executable it was started as (`pyvenv.cfg` beside or
    /// above it makes a venv), or `PYTHONHOME`.
    pub prefix: Option<PathBuf>,
    /// Whether [`Process::prefix`] is a venv.
    pub venv: bool,
    /// The scanned environment whose root is [`Process::prefix`], when the scan found it.
    pub environment: Option<PathBuf>,
    /// Every scanned environment whose site directories it has on `sys.path`: its own, the
    /// user site of its user (unless `-s`, `-I`, `PYTHONNOUSERSITE` or a venv without system
    /// site packages turn it off), `/usr/local` for Debian's `/usr` interpreter.
    pub uses: Vec<PathBuf>,
    /// Its user's home directory (`/etc/passwd`), for the user site.
    pub(crate) home: Option<PathBuf>,
    /// What was longer than its cap and read in part (`cmdline`, `environ`, `maps`).
    pub cut: Vec<&'static str>,
    /// What the kernel refused to show (`exe`, `environ`, `maps`, `cwd`, `stdin`).
    pub unreadable: Vec<&'static str>,
    /// `PATH` of its environment: where a bare `argv[0]` was looked up. Never reported.
    pub(crate) path_var: Option<String>,
    /// `/proc/PID/root`, when it can be read: the process's own view of the filesystem.
    pub(crate) root: Option<PathBuf>,
}

impl Process {
    /// The directory under `/proc` that identifies it: a finding's location.
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}", self.pid))
    }

    /// `pid N (command line, cut)`, for messages.
    pub fn label(&self) -> String {
        let command = match self.argv.is_empty() {
            true => self.name.clone(),
            false => self.argv.join(" "),
        };
        format!("pid {} ({})", self.pid, excerpt(&command, 80))
    }

    /// Whether `path` exists in the process's view of the filesystem (its root when that can
    /// be read, else this one's).
    pub fn exists(&self, path: &Path) -> bool {
        let here = match (&self.root, path.strip_prefix("/")) {
            (Some(root), Ok(rel)) => root.join(rel),
            _ => path.to_path_buf(),
        };
        std::fs::symlink_metadata(here).is_ok()
    }

    /// The value of a start-up variable it was given.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.startup_env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let path = |p: &Option<PathBuf>| p.as_deref().map(display_path);
        let argv: Vec<String> = self
            .argv
            .iter()
            .take(ARGS_SHOWN)
            .map(|a| excerpt(a, ARG_CHARS))
            .collect();
        let running = self.invocation.as_ref().map(|i| match &i.running {
            Running::Script(x) => Running::Script(excerpt(x, ARG_CHARS)),
            Running::Command(x) => Running::Command(excerpt(x, ARG_CHARS)),
            Running::Module(x) => Running::Module(excerpt(x, ARG_CHARS)),
            other => other.clone(),
        });
        let env: std::collections::BTreeMap<&str, &str> = self
            .startup_env
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mut st = s.serialize_struct("Process", 22)?;
        st.serialize_field("pid", &self.pid)?;
        st.serialize_field("ppid", &self.ppid)?;
        st.serialize_field("uid", &self.uid)?;
        st.serialize_field("user", &self.user)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("exe", &path(&self.exe))?;
        st.serialize_field("exe_deleted", &self.exe_deleted)?;
        st.serialize_field("identified_by", &self.python)?;
        st.serialize_field("version", &self.version)?;
        st.serialize_field("argv", &argv)?;
        st.serialize_field("argc", &self.argv.len())?;
        st.serialize_field("cwd", &path(&self.cwd))?;
        st.serialize_field("running", &running)?;
        st.serialize_field("script", &path(&self.script))?;
        st.serialize_field("stdin", &self.stdin)?;
        st.serialize_field("prefix", &path(&self.prefix))?;
        st.serialize_field("venv", &self.venv)?;
        st.serialize_field("environment", &path(&self.environment))?;
        st.serialize_field(
            "uses",
            &self
                .uses
                .iter()
                .map(|p| display_path(p))
                .collect::<Vec<_>>(),
        )?;
        st.serialize_field("startup_env", &env)?;
        st.serialize_field(
            "ignores_environment",
            &self
                .invocation
                .as_ref()
                .is_some_and(|i| i.ignores_environment),
        )?;
        st.serialize_field(
            "deleted_maps",
            &self
                .deleted_maps
                .iter()
                .map(|p| display_path(p))
                .collect::<Vec<_>>(),
        )?;
        st.serialize_field("cut", &self.cut)?;
        st.serialize_field("unreadable", &self.unreadable)?;
        st.end()
    }
}

/// What a sweep of `/proc` found.
#[derive(Debug, Default)]
pub struct Sweep {
    /// Every process read (kernel threads and zombies aside), by pid; the Python ones have
    /// [`Process::python`] set and every field read, the others their ids, name, executable
    /// and arguments only.
    pub processes: Vec<Process>,
    /// What could not be read, said once per kind.
    pub diagnostics: Vec<Diagnostic>,
}

impl Sweep {
    /// The Python processes.
    pub fn python(&self) -> impl Iterator<Item = &Process> {
        self.processes.iter().filter(|p| p.python.is_some())
    }

    /// The process with this pid.
    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.processes
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &self.processes[i])
    }
}

/// Counts of what went wrong, said once each at the end.
#[derive(Default)]
struct Trouble {
    vanished: usize,
    partial: Vec<u32>,
    cut: Vec<u32>,
    /// Executables already looked into, by (device, inode): whether each is a Python runtime.
    runtimes: HashMap<(u64, u64), bool>,
}

/// An executable past this size is not looked into for a Python runtime (CPython's own is
/// 5–30 MB).
const RUNTIME_SCAN_CAP: u64 = 128 << 20;

/// Whether the executable `/proc/PID/exe` leads to is CPython's interpreter under any name: it
/// holds the name of CPython's command-line entry (`Py_BytesMain`, 3.8+; `_Py_UnixMain`, 3.7),
/// which the `python` program calls and an embedder (uwsgi, mod_wsgi) does not. Read once per
/// file, in chunks, through the process's own link (the file it runs, even deleted or in another
/// mount namespace); never run.
fn runtime_inside(exe: &Path, seen: &mut HashMap<(u64, u64), bool>) -> bool {
    const NEEDLES: [&[u8]; 2] = [b"Py_BytesMain", b"_Py_UnixMain"];
    const LONGEST: usize = 12;
    let Ok(file) = std::fs::File::open(exe) else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    if !meta.is_file() || meta.len() > RUNTIME_SCAN_CAP {
        return false;
    }
    let id = crate::fs::file_id(&meta).unwrap_or_default();
    *seen.entry(id).or_insert_with(|| {
        let finders = NEEDLES.map(memchr::memmem::Finder::new);
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let chunk = match std::io::BufRead::fill_buf(&mut reader) {
                Ok([]) | Err(_) => return false,
                Ok(c) => c,
            };
            carry.extend_from_slice(chunk);
            let n = chunk.len();
            std::io::BufRead::consume(&mut reader, n);
            if finders.iter().any(|f| f.find(&carry).is_some()) {
                return true;
            }
            // keep the tail a needle could straddle
            let keep = carry.len().saturating_sub(LONGEST - 1);
            carry.drain(..keep);
        }
    })
}

/// Reads every process under `proc_dir` (`/proc`). Not on Linux, or without a `/proc`: a note
/// says so and the sweep is empty.
pub fn sweep(proc_dir: &Path) -> Sweep {
    let mut out = Sweep::default();
    if !cfg!(target_os = "linux") {
        out.diagnostics.push(Diagnostic::note(
            proc_dir,
            "`--processes` reads Linux's /proc: not available on this system; the rest of the scan goes on",
        ));
        return out;
    }
    let entries = match std::fs::read_dir(proc_dir) {
        Ok(e) => e,
        Err(err) => {
            out.diagnostics.push(Diagnostic::incomplete(
                proc_dir,
                format!("cannot list running processes: {err}"),
            ));
            return out;
        }
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    if pids.len() > MAX_PROCESSES {
        out.diagnostics.push(Diagnostic::incomplete(
            proc_dir,
            format!(
                "{} processes are running: only the first {MAX_PROCESSES} by pid were read",
                pids.len()
            ),
        ));
        pids.truncate(MAX_PROCESSES);
    }
    let users = users();
    let mut trouble = Trouble::default();
    for pid in pids {
        let dir = proc_dir.join(pid.to_string());
        match read_process(&dir, pid, &mut trouble) {
            Ok(Some(mut p)) => {
                if let Some((name, home)) = p.uid.and_then(|u| users.get(&u)) {
                    p.user = Some(name.clone());
                    p.home = Some(home.clone());
                }
                out.processes.push(p);
            }
            Ok(None) => {}
            Err(()) => trouble.vanished += 1,
        }
    }
    let list = |pids: &[u32]| {
        let shown: Vec<String> = pids.iter().take(10).map(u32::to_string).collect();
        let more = match pids.len() > 10 {
            true => format!(" and {} more", pids.len() - 10),
            false => String::new(),
        };
        format!("{}{more}", shown.join(", "))
    };
    if trouble.vanished > 0 {
        out.diagnostics.push(Diagnostic::note(
            proc_dir,
            format!(
                "{} process(es) ended while they were read: not judged",
                trouble.vanished
            ),
        ));
    }
    if !trouble.partial.is_empty() {
        out.diagnostics.push(Diagnostic::note(
            proc_dir,
            format!(
                "{} Python process(es) could be read only in part (the kernel refused their executable, environment, maps or working directory: another user's; run as root to see them whole): pid {}",
                trouble.partial.len(),
                list(&trouble.partial)
            ),
        ));
    }
    if !trouble.cut.is_empty() {
        out.diagnostics.push(Diagnostic::note(
            proc_dir,
            format!(
                "{} Python process(es) had a command line over {CMDLINE_CAP} bytes, an environment over {ENVIRON_CAP} or maps over {MAPS_CAP}: read up to the cap (see each process's `cut`): pid {}",
                trouble.cut.len(),
                list(&trouble.cut)
            ),
        ));
    }
    out
}

/// Reads `path` up to `cap` bytes: the bytes, and whether there was more.
fn read_capped(path: &Path, cap: u64) -> std::io::Result<(Vec<u8>, bool)> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    let cut = bytes.len() as u64 > cap;
    bytes.truncate(cap as usize);
    Ok((bytes, cut))
}

/// Whether an error means the process is gone (rather than that its file is refused).
fn gone(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::NotFound || err.raw_os_error() == Some(3 /* ESRCH */)
}

/// A link under the process's directory, as text: `Ok(None)` when refused.
fn link(dir: &Path, name: &str) -> Result<Option<String>, ()> {
    match std::fs::read_link(dir.join(name)) {
        Ok(target) => Ok(Some(target.to_string_lossy().into_owned())),
        Err(err) if gone(&err) => Err(()),
        Err(_) => Ok(None),
    }
}

/// One process: `Err` when it ended while read, `Ok(None)` for a kernel thread or zombie.
fn read_process(dir: &Path, pid: u32, trouble: &mut Trouble) -> Result<Option<Process>, ()> {
    let status = read_capped(&dir.join("status"), STATUS_CAP).map_err(|_| ())?;
    let status = parse::parse_status(&String::from_utf8_lossy(&status.0));
    let (cmdline, cmdline_cut) = read_capped(&dir.join("cmdline"), CMDLINE_CAP).map_err(|_| ())?;
    let argv = parse::split_cmdline(&cmdline);
    if argv.is_empty() {
        return Ok(None);
    }
    let mut p = Process {
        pid,
        ppid: status.ppid,
        uid: status.uid,
        name: status.name,
        argv,
        ..Process::default()
    };
    if cmdline_cut {
        p.cut.push("cmdline");
    }
    // a kernel thread has no executable; a zombie's link is gone too
    let exe = match std::fs::read_link(dir.join("exe")) {
        Ok(target) => Some(target.to_string_lossy().into_owned()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) if gone(&err) => return Err(()),
        Err(_) => {
            p.unreadable.push("exe");
            None
        }
    };
    if let Some(exe) = &exe {
        let (path, deleted) = parse::strip_deleted(exe);
        p.exe = Some(PathBuf::from(path));
        p.exe_deleted = deleted;
    }
    // the maps: a Python runtime mapped, and executable mappings of deleted files
    match read_capped(&dir.join("maps"), MAPS_CAP) {
        Ok((maps, cut)) => {
            if cut {
                p.cut.push("maps");
            }
            let text = String::from_utf8_lossy(&maps);
            let mut lines: Vec<&str> = text.lines().collect();
            if cut {
                lines.pop();
            }
            for m in lines.into_iter().filter_map(parse::parse_maps_line) {
                if p.libpython.is_none() && parse::is_libpython(m.path) {
                    p.libpython = Some(PathBuf::from(m.path));
                }
                let is_exe = p.exe.as_deref() == Some(Path::new(m.path));
                if m.deleted
                    && m.exec
                    && !is_exe
                    && !p.deleted_maps.iter().any(|d| d == Path::new(m.path))
                {
                    p.deleted_maps.push(PathBuf::from(m.path));
                }
            }
        }
        Err(err) if gone(&err) => return Err(()),
        Err(_) => p.unreadable.push("maps"),
    }
    // under another name: an interpreter (it runs CPython's main), not an embedder
    p.python = match identify(&p) {
        None | Some(Identified::Library)
            if p.exe.is_some() && runtime_inside(&dir.join("exe"), &mut trouble.runtimes) =>
        {
            Some(Identified::Content)
        }
        other => other,
    };
    if p.python.is_none() {
        p.deleted_maps.clear();
        p.libpython = None;
        p.cut.clear();
        p.unreadable.clear();
        return Ok(Some(p));
    }
    p.version = p
        .exe
        .as_deref()
        .and_then(|e| parse::version_of(&e.to_string_lossy()))
        .or_else(|| {
            p.libpython
                .as_deref()
                .and_then(|l| parse::version_of(&l.to_string_lossy()))
        })
        .or_else(|| parse::version_of(&p.name));
    match read_capped(&dir.join("environ"), ENVIRON_CAP) {
        Ok((environ, cut)) => {
            if cut {
                p.cut.push("environ");
            }
            let (vars, path) = parse::startup_variables(&environ);
            p.startup_env = vars;
            p.path_var = path;
        }
        Err(err) if gone(&err) => return Err(()),
        Err(_) => p.unreadable.push("environ"),
    }
    match link(dir, "cwd")? {
        Some(cwd) => p.cwd = Some(PathBuf::from(parse::strip_deleted(&cwd).0)),
        None => p.unreadable.push("cwd"),
    }
    match link(dir, "fd/0")? {
        Some(stdin) => p.stdin = Some(stdin),
        None => p.unreadable.push("stdin"),
    }
    let root = dir.join("root");
    if std::fs::metadata(&root).is_ok() {
        p.root = Some(root);
    }
    let mut inv = match p.python {
        Some(Identified::Library) if !is_python_exe(&p) => Invocation {
            running: Running::Embedded,
            ignores_environment: false,
            no_site: false,
            no_user_site: false,
            dash: false,
        },
        _ => interpret(&p.argv),
    };
    if inv.running == Running::NoScript || (inv.running == Running::Stdin && !inv.dash) {
        inv.running = match p.stdin.as_deref() {
            Some(s) if s.starts_with("/dev/pts/") || s.starts_with("/dev/tty") => {
                Running::Interactive
            }
            Some("/dev/null") | None => Running::NoScript,
            Some(_) => Running::Stdin,
        };
    }
    if let Running::Script(script) = &inv.running {
        let path = Path::new(script);
        p.script = match (path.is_absolute(), &p.cwd) {
            (true, _) => Some(path.to_path_buf()),
            (false, Some(cwd)) => Some(cwd.join(path)),
            (false, None) => None,
        };
    }
    p.invocation = Some(inv);
    deduce_prefix(&mut p);
    if !p.unreadable.is_empty() {
        trouble.partial.push(pid);
    }
    if !p.cut.is_empty() {
        trouble.cut.push(pid);
    }
    Ok(Some(p))
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_python_exe(p: &Process) -> bool {
    p.exe
        .as_deref()
        .is_some_and(|e| pthscan_signatures::ioc::is_python_name(base_name(&e.to_string_lossy())))
}

/// Whether, and how, a process is Python: by its executable's name, else by the runtime it
/// maps, else — its executable refused — by its name or `argv[0]`.
fn identify(p: &Process) -> Option<Identified> {
    use pthscan_signatures::ioc::is_python_name;
    if is_python_exe(p) {
        return Some(Identified::Executable);
    }
    if p.libpython.is_some() {
        return Some(Identified::Library);
    }
    let by_name = is_python_name(&p.name)
        || p.argv
            .first()
            .is_some_and(|a| is_python_name(base_name(a.split(' ').next().unwrap_or(a))));
    (p.exe.is_none() && by_name).then_some(Identified::Name)
}

/// `sys.prefix` as CPython computes it, as far as `/proc` tells: `PYTHONHOME` when honoured;
/// else the path the interpreter was started as (`argv[0]`, looked up in its `PATH` when bare)
/// with `pyvenv.cfg` beside it or one directory up making a venv; else the executable's or the
/// runtime library's installation prefix (the parent of its `bin` or `lib`).
fn deduce_prefix(p: &mut Process) {
    let honours_env = !p.invocation.as_ref().is_some_and(|i| i.ignores_environment);
    if honours_env && let Some(home) = p.var("PYTHONHOME") {
        let home = home.split(':').next().unwrap_or(home);
        if home.starts_with('/') {
            p.prefix = Some(PathBuf::from(home));
            return;
        }
    }
    let embedded = p.python == Some(Identified::Library) && !is_python_exe(p);
    let invoked: Option<PathBuf> = match p.argv.first().filter(|_| !embedded) {
        Some(a) if a.contains('/') => {
            let path = Path::new(a);
            match (path.is_absolute(), &p.cwd) {
                (true, _) => Some(path.to_path_buf()),
                (false, Some(cwd)) => Some(cwd.join(path)),
                _ => None,
            }
        }
        Some(a) => p.path_var.as_deref().and_then(|dirs| {
            dirs.split(':')
                .filter(|d| d.starts_with('/'))
                .map(|d| Path::new(d).join(a))
                .find(|c| p.exists(c))
        }),
        None => None,
    };
    if let Some(invoked) = &invoked {
        for dir in invoked.ancestors().skip(1).take(2) {
            if p.exists(&dir.join("pyvenv.cfg")) {
                p.prefix = Some(dir.to_path_buf());
                p.venv = true;
                return;
            }
        }
    }
    let installed = match embedded {
        true => p.libpython.clone(),
        false => p.exe.clone().or(invoked),
    };
    p.prefix = installed.and_then(|file| {
        let dir = file.parent()?;
        let top = dir.ancestors().find(|a| {
            a.file_name()
                .is_some_and(|n| n == "bin" || n == "lib" || n == "lib64")
        })?;
        top.parent().map(Path::to_path_buf)
    });
}

/// User names and homes by uid, from this machine's `/etc/passwd`.
fn users() -> HashMap<u32, (String, PathBuf)> {
    let Ok((bytes, _)) = read_capped(Path::new("/etc/passwd"), 4 << 20) else {
        return HashMap::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            let home = f.nth(2)?;
            Some((uid, (name.to_owned(), PathBuf::from(home))))
        })
        .collect()
}

/// Whether a venv's `pyvenv.cfg` (at `venv`) keeps the system site packages, and so the
/// user site.
fn includes_system_site(p: &Process, venv: &Path) -> bool {
    let cfg = venv.join("pyvenv.cfg");
    let here = match (&p.root, cfg.strip_prefix("/")) {
        (Some(root), Ok(rel)) => root.join(rel),
        _ => cfg,
    };
    read_capped(&here, 64 << 10).is_ok_and(|(bytes, _)| {
        String::from_utf8_lossy(&bytes).lines().any(|l| {
            l.split_once('=').is_some_and(|(k, v)| {
                k.trim()
                    .eq_ignore_ascii_case("include-system-site-packages")
                    && v.trim().eq_ignore_ascii_case("true")
            })
        })
    })
}

/// The environment roots whose site directories `p` has on `sys.path`, its own first, each
/// with whether it is a user site.
fn used_roots(p: &Process) -> Vec<(PathBuf, bool)> {
    let Some(prefix) = &p.prefix else {
        return Vec::new();
    };
    let mut roots = vec![(prefix.clone(), false)];
    if !p.venv && prefix == Path::new("/usr") {
        // Debian's interpreter also reads /usr/local/lib/python3.X/dist-packages
        roots.push((PathBuf::from("/usr/local"), false));
    }
    let inv = p.invocation.as_ref();
    let honours_env = !inv.is_some_and(|i| i.ignores_environment);
    let switched_off = inv.is_some_and(|i| i.no_site || i.no_user_site);
    let by_variable = honours_env && p.var("PYTHONNOUSERSITE").is_some_and(|v| !v.is_empty());
    let by_venv = p.venv && !includes_system_site(p, prefix);
    if !(switched_off || by_variable || by_venv) {
        let base = match p.var("PYTHONUSERBASE").filter(|_| honours_env) {
            Some(b) if b.starts_with('/') => Some(PathBuf::from(b)),
            _ => p.home.as_ref().map(|h| h.join(".local")),
        };
        roots.extend(base.map(|b| (b, true)));
    }
    roots
}

/// Sets each Python process's [`Process::environment`] (the scanned environment whose root is
/// its prefix) and [`Process::uses`] (every scanned environment it has on `sys.path`: a user
/// site only for its user and interpreter version), taking paths under `root` when the scan's
/// filesystem is mounted there; returns, by environment root, the processes that use it.
pub fn map_environments(
    processes: &mut [Process],
    environments: &[crate::discovery::Environment],
    root: Option<&Path>,
) -> HashMap<PathBuf, Vec<u32>> {
    use crate::discovery::EnvKind;
    let mut by_env: HashMap<PathBuf, Vec<u32>> = HashMap::new();
    for p in processes.iter_mut().filter(|p| p.python.is_some()) {
        for (i, (live, user)) in used_roots(p).into_iter().enumerate() {
            let seen_as = match (root, live.strip_prefix("/")) {
                (Some(r), Ok(rel)) => r.join(rel),
                _ => live.clone(),
            };
            let Some(env) = environments.iter().find(|e| {
                e.root == seen_as
                    && (e.kind == EnvKind::UserSite) == user
                    && (i == 0
                        || e.python.is_none()
                        || p.version.is_none()
                        || e.python == p.version)
            }) else {
                continue;
            };
            if i == 0 {
                p.environment = Some(env.root.clone());
            }
            if !p.uses.contains(&env.root) {
                p.uses.push(env.root.clone());
                by_env.entry(env.root.clone()).or_default().push(p.pid);
            }
        }
    }
    by_env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(argv: &[&str], exe: &str) -> Process {
        let mut p = Process {
            pid: 7,
            argv: argv.iter().map(|a| a.to_string()).collect(),
            exe: Some(PathBuf::from(exe)),
            ..Process::default()
        };
        p.python = identify(&p);
        p.invocation = Some(interpret(&p.argv));
        p
    }

    #[test]
    fn python_is_told_by_executable_library_or_name() {
        assert_eq!(
            python(&["python3", "x.py"], "/usr/bin/python3.12").python,
            Some(Identified::Executable)
        );
        // a renamed interpreter is not told by its name alone
        assert_eq!(python(&["python3"], "/usr/bin/bash").python, None);
        let mut uwsgi = python(&["uwsgi", "--ini", "a.ini"], "/usr/bin/uwsgi");
        uwsgi.libpython = Some(PathBuf::from(
            "/usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0",
        ));
        assert_eq!(identify(&uwsgi), Some(Identified::Library));
        let refused = Process {
            name: "python3".into(),
            argv: vec!["/usr/bin/python3".into(), "srv.py".into()],
            ..Process::default()
        };
        assert_eq!(identify(&refused), Some(Identified::Name));
    }

    #[test]
    fn prefix_of_an_installed_interpreter_and_of_a_venv() {
        let mut p = python(&["/usr/bin/python3", "x.py"], "/usr/bin/python3.12");
        deduce_prefix(&mut p);
        assert_eq!(p.prefix.as_deref(), Some(Path::new("/usr")));
        assert!(!p.venv);

        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let started_as = venv.join("bin/python");
        let mut p = python(
            &[started_as.to_str().unwrap(), "app.py"],
            "/usr/bin/python3.12",
        );
        deduce_prefix(&mut p);
        assert_eq!(p.prefix.as_deref(), Some(venv.as_path()));
        assert!(p.venv);
        // a bare `python` found on the process's PATH
        let mut p = python(&["python", "app.py"], "/usr/bin/python3.12");
        p.path_var = Some(format!("/nonexistent:{}", venv.join("bin").display()));
        std::fs::write(venv.join("bin/python"), "").unwrap();
        deduce_prefix(&mut p);
        assert_eq!(p.prefix.as_deref(), Some(venv.as_path()));
        // PYTHONHOME wins, unless -E or -I
        let mut p = python(&["python3", "x.py"], "/usr/bin/python3.12");
        p.startup_env = vec![("PYTHONHOME".into(), "/opt/py".into())];
        deduce_prefix(&mut p);
        assert_eq!(p.prefix.as_deref(), Some(Path::new("/opt/py")));
        let mut p = python(&["python3", "-I", "x.py"], "/usr/bin/python3.12");
        p.startup_env = vec![("PYTHONHOME".into(), "/opt/py".into())];
        deduce_prefix(&mut p);
        assert_eq!(p.prefix.as_deref(), Some(Path::new("/usr")));
        // an embedder: the runtime library's prefix
        let mut p = python(&["uwsgi"], "/usr/sbin/uwsgi");
        p.libpython = Some(PathBuf::from(
            "/usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0",
        ));
        p.python = identify(&p);
        deduce_prefix(&mut p);
        assert_eq!(p.prefix.as_deref(), Some(Path::new("/usr")));
    }

    /// A `/proc` of files and symlinks: the reader follows the kernel's shapes (NUL-separated
    /// arguments, ` (deleted)` links, a maps table), whatever tree it is given.
    #[test]
    fn a_fake_proc_is_read_as_the_kernel_shows_processes() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let proc_dir = dir.path();
        let mk = |pid: u32,
                  status: &str,
                  cmdline: &[u8],
                  exe: Option<&str>,
                  maps: &str,
                  environ: &[u8],
                  stdin: &str| {
            let d = proc_dir.join(pid.to_string());
            std::fs::create_dir_all(d.join("fd")).unwrap();
            std::fs::write(d.join("status"), status).unwrap();
            std::fs::write(d.join("cmdline"), cmdline).unwrap();
            std::fs::write(d.join("maps"), maps).unwrap();
            std::fs::write(d.join("environ"), environ).unwrap();
            if let Some(exe) = exe {
                symlink(exe, d.join("exe")).unwrap();
            }
            symlink("/srv/app", d.join("cwd")).unwrap();
            symlink(stdin, d.join("fd/0")).unwrap();
        };
        mk(
            100,
            "Name:\tpython3\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
            b"/usr/bin/python3\0-c\0import base64;exec(base64.b64decode('cHJpbnQoMSk='))\0",
            Some("/tmp/x/python3 (deleted)"),
            "5600-5700 r-xp 00000000 00:2a 77 /tmp/x/python3 (deleted)\n7f00-7f01 r-xp 00000000 00:2a 78 /tmp/x/evil.so (deleted)\n7f02-7f03 rw-s 00000000 00:05 9 /dev/shm/sem.a (deleted)\n",
            b"SECRET_TOKEN=abc\0PYTHONSTARTUP=/tmp/s.py\0",
            "pipe:[42]",
        );
        // a kernel thread: no command line, no executable
        mk(
            200,
            "Name:\tkthreadd\nPPid:\t0\n",
            b"",
            None,
            "",
            b"",
            "/dev/null",
        );
        // an embedder, told by the runtime it maps
        mk(
            300,
            "Name:\tuwsgi\nPPid:\t1\nUid:\t33\t33\t33\t33\n",
            b"uwsgi\0--ini\0/etc/uwsgi/app.ini\0",
            Some("/usr/bin/uwsgi-core"),
            "7f00-7f01 r-xp 00000000 08:01 5 /usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0\n",
            b"",
            "/dev/null",
        );
        // a command line longer than the cap
        let mut long = b"/usr/bin/python3.12\0-c\0".to_vec();
        long.extend(std::iter::repeat_n(b'x', CMDLINE_CAP as usize));
        mk(
            400,
            "Name:\tpython3.12\nPPid:\t300\n",
            &long,
            Some("/usr/bin/python3.12"),
            "",
            b"",
            "/dev/pts/0",
        );
        // a process that ended: its directory is there, its files are not
        std::fs::create_dir_all(proc_dir.join("500")).unwrap();
        // not a process
        std::fs::create_dir_all(proc_dir.join("self")).unwrap();

        let sweep = sweep(proc_dir);
        let pids: Vec<u32> = sweep.processes.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [100, 300, 400]);
        let p = sweep.get(100).unwrap();
        assert_eq!(p.python, Some(Identified::Executable));
        assert_eq!(p.exe.as_deref(), Some(Path::new("/tmp/x/python3")));
        assert!(p.exe_deleted);
        // the executable itself and non-executable mappings are not counted again
        assert_eq!(p.deleted_maps, [PathBuf::from("/tmp/x/evil.so")]);
        assert_eq!(
            p.startup_env,
            [("PYTHONSTARTUP".to_owned(), "/tmp/s.py".to_owned())]
        );
        assert_eq!(p.stdin.as_deref(), Some("pipe:[42]"));
        assert_eq!(p.cwd.as_deref(), Some(Path::new("/srv/app")));
        assert!(matches!(
            p.invocation.as_ref().unwrap().running,
            Running::Command(_)
        ));
        let json = serde_json::to_string(p).unwrap();
        assert!(
            !json.contains("SECRET_TOKEN") && !json.contains("abc\""),
            "{json}"
        );

        let u = sweep.get(300).unwrap();
        assert_eq!(u.python, Some(Identified::Library));
        assert_eq!(u.invocation.as_ref().unwrap().running, Running::Embedded);
        assert_eq!(u.prefix.as_deref(), Some(Path::new("/usr")));
        assert_eq!(u.version.as_deref(), Some("3.12"));

        let cut = sweep.get(400).unwrap();
        assert_eq!(cut.cut, ["cmdline"]);
        assert_eq!(
            cut.argv[2].len(),
            CMDLINE_CAP as usize - "/usr/bin/python3.12\0-c\0".len()
        );
        let said: Vec<&str> = sweep
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            said.iter().any(|m| m.starts_with("1 process(es) ended")),
            "{said:?}"
        );
        assert!(said.iter().any(|m| m.contains("pid 400")), "{said:?}");
    }

    #[test]
    fn a_process_uses_its_environment_and_its_users_site() {
        use crate::discovery::{EnvKind, Environment};
        let env = |root: &str, kind: EnvKind, python: &str| Environment {
            root: PathBuf::from(root),
            kind,
            python: Some(python.into()),
            site_dirs: Vec::new(),
            code_dirs: Vec::new(),
            distributions: 0,
            inventory: Vec::new(),
        };
        let envs = [
            env("/usr", EnvKind::Interpreter, "3.12"),
            env("/usr/local", EnvKind::Interpreter, "3.12"),
            env("/home/ann/.local", EnvKind::UserSite, "3.12"),
            env("/home/ann/.local", EnvKind::UserSite, "3.11"),
        ];
        let mut p = python(&["/usr/bin/python3", "x.py"], "/usr/bin/python3.12");
        p.version = Some("3.12".into());
        p.home = Some(PathBuf::from("/home/ann"));
        deduce_prefix(&mut p);
        let mut s = python(&["/usr/bin/python3", "-s", "x.py"], "/usr/bin/python3.12");
        s.pid = 8;
        s.version = Some("3.12".into());
        s.home = Some(PathBuf::from("/home/ann"));
        deduce_prefix(&mut s);
        let mut procs = [p, s];
        let by_env = map_environments(&mut procs, &envs, None);
        assert_eq!(procs[0].environment.as_deref(), Some(Path::new("/usr")));
        assert_eq!(
            procs[0].uses,
            ["/usr", "/usr/local", "/home/ann/.local"].map(PathBuf::from)
        );
        // -s: no user site
        assert_eq!(procs[1].uses, ["/usr", "/usr/local"].map(PathBuf::from));
        assert_eq!(by_env[Path::new("/home/ann/.local")], [7]);
        assert_eq!(by_env[Path::new("/usr")], [7, 8]);
    }

    #[test]
    fn this_process_is_read_and_is_no_python() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let me = std::process::id();
        let sweep = sweep(Path::new("/proc"));
        let p = sweep.get(me).expect("the sweep sees its own process");
        assert!(p.python.is_none());
        assert!(p.exe.is_some());
        assert!(!p.argv.is_empty());
    }
}
