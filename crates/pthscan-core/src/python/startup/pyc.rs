//! When a cached `.pyc` runs instead of the source beside it.
//!
//! `SourceFileLoader.get_code` reads `__pycache__/name.cpython-3Y.pyc` (2.7: `name.pyc` beside
//! the source) and runs it instead of compiling the source when its header says so:
//!
//! | header (3.7+, PEP 552) | runs |
//! |---|---|
//! | other magic number, unknown flag bits | never: the source is compiled |
//! | flags `0b00`: timestamp | when its mtime and size (3.3+) equal the source's |
//! | flags `0b11`: checked hash | when its SipHash of the source matches (not computed here) |
//! | flags `0b01`: unchecked hash | always, whatever the source says |

use std::path::{Path, PathBuf};

use super::{PyVersion, View};

/// Whether a cached `.pyc` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PycRuns {
    /// Unchecked-hash bytecode: runs whatever the source says.
    Always,
    /// Timestamp bytecode whose mtime and size equal the source's.
    StatMatches,
    /// Runs only if the source's stat matches the header; the tree keeps no mtime to compare,
    /// or the size alone matched.
    IfStatMatches {
        /// The source mtime the header records.
        mtime: u32,
        /// The source size it records (not on 2.7).
        size: Option<u32>,
    },
    /// Checked-hash bytecode: runs when the source's hash matches the header (not computed:
    /// the source could not be read, or the version's hash is not known).
    IfHashMatches,
    /// Checked-hash bytecode whose recorded hash is the source's: it runs.
    HashMatches,
    /// Never runs (bad magic, unknown flags, stale stat, too short): the source is compiled.
    Never(String),
}

impl PycRuns {
    /// Whether it may run.
    pub fn may_run(&self) -> bool {
        !matches!(self, PycRuns::Never(_))
    }

    /// Whether it runs whatever else holds (unchecked hash, or a stat that matches).
    pub fn runs_for_certain(&self) -> bool {
        matches!(
            self,
            PycRuns::Always | PycRuns::StatMatches | PycRuns::HashMatches
        )
    }

    /// In words.
    pub fn describe(&self) -> String {
        match self {
            PycRuns::Always => "unchecked-hash bytecode: it runs whatever the source says".into(),
            PycRuns::StatMatches => {
                "timestamp bytecode whose recorded mtime and size match the source: it runs".into()
            }
            PycRuns::IfStatMatches { mtime, size } => match size {
                Some(size) => format!(
                    "timestamp bytecode: it runs if the source's mtime is {mtime} and its size {size}"
                ),
                None => format!("timestamp bytecode: it runs if the source's mtime is {mtime}"),
            },
            PycRuns::HashMatches => {
                "checked-hash bytecode whose recorded hash is the source's: it runs".into()
            }
            PycRuns::IfHashMatches => {
                "checked-hash bytecode: it runs if the source's hash matches its header".into()
            }
            PycRuns::Never(why) => format!("not run: {why}"),
        }
    }
}

/// A cached bytecode file beside a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The `.pyc` (a path of the scanned system).
    pub path: PathBuf,
    /// Whether it runs.
    pub runs: PycRuns,
}

/// Where `version` looks for the bytecode of `source` (`None` on a version without a
/// cache tag or a source without a `.py` name).
pub fn cache_path(
    version: PyVersion,
    source: &Path,
    pycache_prefix: Option<&str>,
    optimize: u32,
) -> Option<PathBuf> {
    let name = source.file_name()?.to_str()?;
    let stem = name.strip_suffix(".py")?;
    let dir = source.parent()?;
    let Some(tag) = version.cache_tag() else {
        // 2.7: `.pyo` beside the source under -O
        let ext = if optimize > 0 { "pyo" } else { "pyc" };
        return Some(dir.join(format!("{stem}.{ext}")));
    };
    // `-O`/`PYTHONOPTIMIZE` (PEP 488): `name.cpython-3Y.opt-N.pyc`
    let opt = if optimize > 0 {
        format!(".opt-{optimize}")
    } else {
        String::new()
    };
    let file = format!("{stem}.{tag}{opt}.pyc");
    match pycache_prefix.filter(|_| version.at_least(3, 8)) {
        Some(prefix) => {
            let rel = dir.strip_prefix("/").unwrap_or(dir);
            Some(Path::new(prefix).join(rel).join(file))
        }
        None => Some(dir.join("__pycache__").join(file)),
    }
}

/// The cached bytecode of `source`, if there is one, and whether it runs.
pub fn cached(
    view: View<'_>,
    version: PyVersion,
    source: &Path,
    pycache_prefix: Option<&str>,
    optimize: u32,
) -> Option<Cached> {
    let path = cache_path(version, source, pycache_prefix, optimize)?;
    if !view.is_file(&path) {
        return None;
    }
    let head = view.tree.read_capped(&view.disk(&path), 16).ok()?;
    let runs = judge_header(view, version, &head.bytes, source);
    Some(Cached { path, runs })
}

/// Reads a bytecode header; `source` is compared where the header asks it.
pub fn judge_header(view: View<'_>, version: PyVersion, head: &[u8], source: &Path) -> PycRuns {
    let need = if version.major == 2 {
        8
    } else if version.at_least(3, 7) {
        16
    } else {
        12
    };
    if head.len() < need {
        return PycRuns::Never(format!("header shorter than {need} bytes"));
    }
    match version.pyc_magic() {
        Some(magic) if head[..4] != magic => {
            return PycRuns::Never("magic number of another version".into());
        }
        None if head[2..4] != *b"\r\n" => {
            return PycRuns::Never("not a bytecode magic number".into());
        }
        _ => {}
    }
    let word = |at: usize| u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let (flags, stat_at) = if version.at_least(3, 7) {
        (word(4), 8)
    } else {
        (0, 4)
    };
    if flags & !0b11 != 0 {
        return PycRuns::Never(format!("invalid flags {flags:#x}"));
    }
    if flags & 0b01 != 0 {
        if flags & 0b10 == 0 {
            return PycRuns::Always;
        }
        return match (source_hash(view, version, source), version.pyc_magic()) {
            (Some(hash), Some(_)) if hash == head[8..16] => PycRuns::HashMatches,
            (Some(_), Some(_)) => PycRuns::Never("stale: the source's hash differs".into()),
            _ => PycRuns::IfHashMatches,
        };
    }
    let mtime = word(stat_at);
    let size = (version.major == 3).then(|| word(stat_at + 4));
    let disk = view.disk(source);
    let source_size = view.tree.file_size(&disk);
    if let (Some(want), Some(have)) = (size, source_size)
        && u64::from(want) != have & 0xffff_ffff
    {
        return PycRuns::Never(format!(
            "stale: records size {want}, the source is {have} bytes"
        ));
    }
    match view.tree.mtime(&disk).map(|t| stat_seconds(version, t)) {
        Some(have) if (have as u64 & 0xffff_ffff) as u32 == mtime => PycRuns::StatMatches,
        Some(have) => PycRuns::Never(format!(
            "stale: records mtime {mtime}, the source's is {have}"
        )),
        None => PycRuns::IfStatMatches { mtime, size },
    }
}

/// A bytecode header for tests and corpus builders: `flags` 0 (timestamp), 1 (unchecked hash)
/// or 3 (checked hash).
pub fn header(version: PyVersion, flags: u32, mtime: u32, size: u32) -> Vec<u8> {
    let mut out = version.pyc_magic().unwrap_or([0, 0, b'\r', b'\n']).to_vec();
    if version.at_least(3, 7) {
        out.extend(flags.to_le_bytes());
    }
    if flags & 1 != 0 {
        out.extend([0u8; 8]);
    } else {
        out.extend(mtime.to_le_bytes());
        if version.major == 3 {
            out.extend(size.to_le_bytes());
        }
    }
    out
}

/// The largest source whose hash is computed for a checked-hash `.pyc`.
const MAX_HASHED_SOURCE: u64 = 8 << 20;

/// The source mtime the import system compares with the header: Python 3's
/// `int(os.stat(source).st_mtime)`, where `st_mtime` is the float `sec + nsec * 1e-9` (which
/// rounds up to the next second from about .99999988 s) truncated toward zero; 2.7 compares
/// the whole seconds.
pub fn stat_seconds(version: PyVersion, (sec, nsec): (i64, u32)) -> i64 {
    if version.major == 2 {
        return sec;
    }
    (sec as f64 + f64::from(nsec) * 1e-9).trunc() as i64
}

/// `_imp.source_hash(_RAW_MAGIC_NUMBER, source)`: SipHash keyed with the magic number
/// (SipHash-2-4 on 3.7–3.10, SipHash-1-3 from 3.11), little-endian.
fn source_hash(view: View<'_>, version: PyVersion, source: &Path) -> Option<[u8; 8]> {
    let magic = version.pyc_magic()?;
    let data = view
        .tree
        .read_capped(&view.disk(source), MAX_HASHED_SOURCE)
        .ok()?;
    if data.truncated {
        return None;
    }
    let key = u64::from(u32::from_le_bytes(magic));
    let (c, d) = if version.at_least(3, 11) {
        (1, 3)
    } else {
        (2, 4)
    };
    Some(siphash(key, 0, &data.bytes, c, d).to_le_bytes())
}

/// SipHash-c-d of `data` with the key (`k0`, `k1`).
pub fn siphash(k0: u64, k1: u64, data: &[u8], c: usize, d: usize) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let round = |v: &mut [u64; 4]| {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    };
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let m = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        v[3] ^= m;
        for _ in 0..c {
            round(&mut v);
        }
        v[0] ^= m;
    }
    let mut last = (data.len() as u64 & 0xff) << 56;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        last |= u64::from(b) << (8 * i);
    }
    v[3] ^= last;
    for _ in 0..c {
        round(&mut v);
    }
    v[0] ^= last;
    v[2] ^= 0xff;
    for _ in 0..d {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    const H12: [u8; 8] = [21, 34, 86, 25, 23, 245, 223, 8];
    const H10: [u8; 8] = [217, 74, 173, 226, 140, 140, 190, 191];

    #[test]
    fn source_hash_is_cpythons() {
        // `_imp.source_hash(int.from_bytes(MAGIC_NUMBER, 'little'), b'x = 1\n')` of 3.12 and 3.10
        let key = |v: PyVersion| u64::from(u32::from_le_bytes(v.pyc_magic().unwrap()));
        let h12 = siphash(key(PyVersion::new(3, 12)), 0, b"x = 1\n", 1, 3);
        let h10 = siphash(key(PyVersion::new(3, 10)), 0, b"x = 1\n", 2, 4);
        assert_eq!(h12.to_le_bytes(), H12);
        assert_eq!(h10.to_le_bytes(), H10);
    }
}
