//! Helpers for the CLI tests: build environments by writing files (never by running Python),
//! run the built binary, parse what it prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

/// A corpus case (`corpus/cases/<name>/case.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub description: String,
    /// Extra command-line flags for this case (`--deep`).
    #[serde(default)]
    pub args: Vec<String>,
    pub file: Vec<CaseFile>,
    /// Exactly the findings the scan must report (none for a benign case).
    #[serde(default)]
    pub expect: Vec<Expect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub path: String,
    pub text: Option<String>,
    pub base64: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Clone)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub rule: String,
    pub severity: String,
    pub path: String,
    pub line: Option<usize>,
    pub runs_on: Option<Vec<String>>,
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn case_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("corpus/cases"))
        .expect("corpus/cases")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn load_case(name: &str) -> Case {
    let text =
        std::fs::read_to_string(repo().join("corpus/cases").join(name).join("case.toml")).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Writes the case's files under `dir`.
pub fn materialize(case: &Case, dir: &Path) {
    for f in &case.file {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes = match (&f.text, &f.base64) {
            (Some(t), None) => t.clone().into_bytes(),
            (None, Some(b)) => decode_base64(b),
            _ => panic!("{}: needs exactly one of text and base64", f.path),
        };
        std::fs::write(path, bytes).unwrap();
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= u32::from(value(c)) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// A tool `.ci/setup` installs for the tests (the README's test command runs it first): `$var`
/// when set, else where the setup puts it under `~/.cache`. Missing, the test fails and says
/// how to get it: a check that needs a validator is never skipped in silence.
pub fn setup_tool(var: &str, under_cache: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let path = PathBuf::from(home).join(".cache").join(under_cache);
    assert!(
        path.exists(),
        "{} is missing: run .ci/setup (the README's test command does), or set {var}",
        path.display()
    );
    path
}

/// The binary under test: `PTHSCAN_BIN` when set (another build, to compare), else the one
/// cargo built.
pub fn bin() -> PathBuf {
    std::env::var_os("PTHSCAN_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_pthscan")),
        PathBuf::from,
    )
}

/// Runs the binary. The user's own suppression file (`~/.config/pthscan/pthscan.toml`) never
/// applies to a test: `XDG_CONFIG_HOME` names a directory that does not exist.
pub fn pthscan(args: &[&str]) -> Output {
    pthscan_env(args, &[])
}

/// The binary's command line, with the defaults of [`pthscan`].
fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", "/nonexistent/pthscan-tests/config")
        // the embedded malicious-package database only, whatever this machine imported
        .env("PTHSCAN_DB_DIR", "/nonexistent/pthscan-tests/db");
    cmd
}

/// Runs the binary with `env` set (over the defaults of [`pthscan`]).
pub fn pthscan_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let mut cmd = command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run pthscan")
}

/// Runs the binary with the file `input` on its standard input.
pub fn pthscan_stdin(args: &[&str], input: &Path) -> Output {
    command(args)
        .stdin(std::fs::File::open(input).unwrap())
        .output()
        .expect("run pthscan")
}

pub fn scan_json(dir: &Path, extra: &[&str]) -> (serde_json::Value, Output) {
    let mut args = vec![dir.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = pthscan(&args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (json, out)
}

/// The findings of a JSON report as expectations, paths relative to `dir`.
pub fn findings_as_expect(
    json: &serde_json::Value,
    dir: &Path,
    with_runs_on: &dyn Fn(&Expect) -> bool,
) -> Vec<Expect> {
    let root = std::fs::canonicalize(dir).unwrap();
    let mut got: Vec<Expect> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["location"]["path"].as_str().unwrap();
            let rel = Path::new(path)
                .strip_prefix(&root)
                .unwrap_or(Path::new(path));
            let mut e = Expect {
                rule: f["rule"].as_str().unwrap().into(),
                severity: f["severity"].as_str().unwrap().into(),
                path: rel.to_string_lossy().into_owned(),
                line: f["location"]["line"].as_u64().map(|l| l as usize),
                runs_on: None,
            };
            if with_runs_on(&e) {
                e.runs_on = Some(
                    f["runs_on"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect(),
                );
            }
            e
        })
        .collect();
    got.sort();
    got
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A zip archive of `members` (deflated).
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A tar archive of regular files.
pub fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let timed: Vec<(&str, &[u8], u64)> = members.iter().map(|&(n, d)| (n, d, 0)).collect();
    tar_with_times(&timed)
}

/// A tar archive of regular files, each with its stored modification time.
pub fn tar_with_times(members: &[(&str, &[u8], u64)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mtime) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(*mtime);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Lowercase hex SHA-256: a blob's name in an image.
pub fn sha(data: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(data))
}

/// Whether a JSON report says `text` in one of its diagnostics.
pub fn diagnosed(json: &serde_json::Value, text: &str) -> bool {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["message"].as_str().unwrap().contains(text))
}

/// `data` gzip-compressed at the best ratio (zeros reach about 1,000 to 1: a bomb's shape).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}
