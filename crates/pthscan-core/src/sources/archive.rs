//! Reading zip and tar archives we do not trust, into memory, under limits: a member's content
//! is kept up to a cap, the whole archive's decompressed bytes are bounded (absolutely and by
//! ratio), the member count is bounded, and every oddity a reader could be fooled by — a name
//! that leaves the destination, a duplicate name, a local header that disagrees with the
//! central directory, a link member — is reported as a [`Problem`] naming the member.
//! `uv`'s `crates/uv-extract` was the model for which oddities matter.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Limits on one archive.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At most this many bytes of one member are kept.
    pub max_member: u64,
    /// At most this many decompressed bytes are read from the whole archive.
    pub max_total: u64,
    /// Decompressed bytes may be at most this many times the compressed ones (past 1 MiB).
    pub max_ratio: u64,
    /// At most this many members are read.
    pub max_members: usize,
}

impl Limits {
    /// Limits for an archive under `max_member` per member.
    pub fn new(max_member: u64) -> Limits {
        Limits {
            max_member,
            max_total: 4 << 30,
            max_ratio: 1000,
            max_members: 500_000,
        }
    }
}

/// What a member is.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A regular file: the content kept (`None` when it was not wanted) and its full size.
    File {
        /// The kept bytes (at most the member cap).
        data: Option<Arc<Vec<u8>>>,
        /// The member's full size.
        size: u64,
    },
    /// A directory.
    Dir,
    /// A symbolic link to a target.
    Symlink(PathBuf),
    /// A hard link to another member.
    Hardlink(PathBuf),
    /// A device, FIFO or other special member: never read.
    Other(&'static str),
}

/// One member.
#[derive(Debug, Clone)]
pub struct Member {
    /// The name as the archive spells it (lossy UTF-8).
    pub name: String,
    /// Its relative path once `.` is dropped and `./` prefixes removed; `None` when the name
    /// is absolute or climbs out with `..` (reported as [`ProblemKind::Escapes`]).
    pub path: Option<PathBuf>,
    /// What it is.
    pub entry: Entry,
}

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// An absolute name, a `..` that climbs out, or a link whose target does.
    Escapes,
    /// Two members with one name: readers disagree about which one counts.
    Duplicate,
    /// A zip member whose local header names another file than the central directory.
    HeaderMismatch,
    /// A link member.
    Link,
    /// A member that is an archive under the name of another kind of file.
    Disguised,
    /// Decompression past the ratio or total limit: a bomb.
    Bomb,
    /// More members than the limit.
    TooManyMembers,
    /// A member larger than the per-member cap: only its head was kept.
    Truncated,
    /// The archive or a member could not be read: truncated, corrupt, unsupported.
    Corrupt,
}

impl ProblemKind {
    /// Whether the archive was not fully judged because of it.
    pub fn incomplete(self) -> bool {
        matches!(
            self,
            ProblemKind::Bomb | ProblemKind::TooManyMembers | ProblemKind::Corrupt
        )
    }
}

/// Something wrong with an archive or one of its members.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What.
    pub kind: ProblemKind,
    /// The member, where one is to blame.
    pub member: Option<String>,
    /// Lower-case detail, no trailing period.
    pub detail: String,
}

impl Problem {
    /// A problem with `member`, or with the whole archive.
    pub fn new(kind: ProblemKind, member: Option<&str>, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            member: member.map(str::to_owned),
            detail: detail.into(),
        }
    }
}

/// What an archive held.
#[derive(Debug, Default)]
pub struct Listing {
    /// Members in archive order.
    pub members: Vec<Member>,
    /// What was wrong.
    pub problems: Vec<Problem>,
}

const ESCAPING_NAME: &str =
    "member name is absolute or climbs out with `..`: extracting it writes outside the destination";

impl Listing {
    fn problem(&mut self, kind: ProblemKind, member: Option<&str>, detail: impl Into<String>) {
        self.problems.push(Problem::new(kind, member, detail));
    }
}

/// `name` as a relative path inside the destination, or `None` if it leaves it.
pub fn contained(name: &str) -> Option<PathBuf> {
    let name = name.replace('\\', "/");
    let mut out = PathBuf::new();
    for c in Path::new(&name).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    // `C:` drive names are as absolute as `/`
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return None;
    }
    Some(out)
}

/// Whether a link at `at` pointing to `target` stays inside the archive's destination.
fn link_stays_inside(at: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let joined = at.parent().unwrap_or(Path::new("")).join(target);
    contained(&joined.to_string_lossy()).is_some()
}

/// Reads a zip archive held in memory. `want(path, size)` says whether a file's content is
/// kept.
pub fn read_zip(bytes: &[u8], limits: &Limits, want: &dyn Fn(&Path, u64) -> bool) -> Listing {
    let mut out = Listing::default();
    // the zip crate parses the whole central directory up front (a few hundred bytes of memory
    // per entry): a zip declaring more members than any package has is not handed to it
    if let Some(count) = declared_entries(bytes)
        && count > MAX_ZIP_MEMBERS
    {
        out.problem(
            ProblemKind::TooManyMembers,
            None,
            format!(
                "declares {count} members, more than the limit of {MAX_ZIP_MEMBERS} for a zip: not opened"
            ),
        );
        return out;
    }
    let mut zip = match zip::ZipArchive::new(io::Cursor::new(bytes)) {
        Ok(z) => z,
        Err(err) => {
            out.problem(
                ProblemKind::Corrupt,
                None,
                format!("not a readable zip archive: {err}"),
            );
            return out;
        }
    };
    // the zip crate keeps one entry per name: duplicates are found in the central directory
    let mut seen = HashSet::new();
    for name in central_names(bytes).unwrap_or_default() {
        if !seen.insert(name.clone()) {
            out.problem(
                ProblemKind::Duplicate,
                Some(&String::from_utf8_lossy(&name)),
                "two members share this name: installers and scanners may each pick a different one",
            );
        }
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        if i >= limits.max_members {
            out.problem(
                ProblemKind::TooManyMembers,
                None,
                format!(
                    "{} members, more than the limit of {}: the rest were not read",
                    zip.len(),
                    limits.max_members
                ),
            );
            break;
        }
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(err) => {
                out.problem(
                    ProblemKind::Corrupt,
                    None,
                    format!("member #{i} cannot be read: {err}"),
                );
                continue;
            }
        };
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        let path = contained(&name);
        if path.is_none() {
            out.problem(ProblemKind::Escapes, Some(&name), ESCAPING_NAME);
        }
        if let Some(local) = local_name(bytes, file.header_start())
            && local != file.name_raw()
        {
            out.problem(
                ProblemKind::HeaderMismatch,
                Some(&name),
                format!(
                    "the local header names `{}`: a streaming reader sees another file than the central directory lists",
                    String::from_utf8_lossy(local)
                ),
            );
        }
        let mode = file.unix_mode().unwrap_or(0);
        let entry = if file.is_dir() {
            Entry::Dir
        } else if mode & 0o170000 == 0o120000 {
            let mut target = Vec::new();
            let _ = (&mut file).take(4096).read_to_end(&mut target);
            let target = PathBuf::from(String::from_utf8_lossy(&target).into_owned());
            let inside = path
                .as_deref()
                .is_some_and(|p| link_stays_inside(p, &target));
            out.problems
                .push(link_problem(&name, inside, &target, "symlink"));
            Entry::Symlink(target)
        } else {
            let size = file.size();
            let compressed = file.compressed_size();
            let declared_bomb = size > (1 << 20) && size / compressed.max(1) > limits.max_ratio;
            if declared_bomb {
                out.problem(
                    ProblemKind::Bomb,
                    Some(&name),
                    format!(
                        "declares {size} bytes from {compressed} compressed: a decompression bomb, at most {} bytes were read",
                        limits.max_member.min(compressed.saturating_mul(limits.max_ratio).max(1 << 20))
                    ),
                );
            }
            let keep = path.as_deref().is_some_and(|p| want(p, size));
            let budget = limits.max_total.saturating_sub(total);
            let ratio_cap = compressed.saturating_mul(limits.max_ratio).max(1 << 20);
            let cap = limits.max_member.min(budget).min(ratio_cap);
            if !keep {
                out.members.push(Member {
                    name,
                    path,
                    entry: Entry::File { data: None, size },
                });
                continue;
            }
            let mut data = Vec::with_capacity(size.min(cap) as usize);
            match (&mut file).take(cap + 1).read_to_end(&mut data) {
                Ok(_) => {}
                Err(err) => {
                    out.problem(
                        ProblemKind::Corrupt,
                        Some(&name),
                        format!("member cannot be decompressed: {err}"),
                    );
                    continue;
                }
            }
            let over = data.len() as u64 > cap;
            data.truncate(cap as usize);
            total += data.len() as u64;
            if over && !declared_bomb {
                let kind = if cap == ratio_cap || cap == budget {
                    ProblemKind::Bomb
                } else {
                    ProblemKind::Truncated
                };
                let detail = match kind {
                    ProblemKind::Bomb => format!(
                        "decompresses past {cap} bytes from {compressed}: a decompression bomb, only its head was judged"
                    ),
                    _ => format!(
                        "member is larger than the {cap}-byte cap: only its head was judged (raise --max-file-size)"
                    ),
                };
                out.problem(kind, Some(&name), detail);
            }
            Entry::File {
                size: size.max(data.len() as u64),
                data: Some(Arc::new(data)),
            }
        };
        out.members.push(Member { name, path, entry });
    }
    out
}

/// At most this many members in one zip (the largest wheels on PyPI have a few tens of
/// thousands).
const MAX_ZIP_MEMBERS: u64 = 100_000;

/// The number of entries a zip's end of central directory declares (its zip64 record's, when
/// it has one).
fn declared_entries(bytes: &[u8]) -> Option<u64> {
    let from = bytes.len().saturating_sub(65_557);
    let eocd = memchr::memmem::rfind(&bytes[from..], b"PK\x05\x06")? + from;
    let rec = bytes.get(eocd..eocd + 22)?;
    let count = u16::from_le_bytes([rec[10], rec[11]]);
    if count != u16::MAX {
        return Some(u64::from(count));
    }
    // zip64: the locator just before points at the zip64 end record
    let locator = bytes.get(eocd.checked_sub(20)?..eocd)?;
    if locator[..4] != *b"PK\x06\x07" {
        return Some(u64::from(count));
    }
    let at = usize::try_from(u64::from_le_bytes(locator[8..16].try_into().ok()?)).ok()?;
    let rec64 = bytes.get(at..at.checked_add(56)?)?;
    (rec64[..4] == *b"PK\x06\x06")
        .then(|| u64::from_le_bytes(rec64[32..40].try_into().unwrap_or_default()))
}

/// The names of a zip's central directory, in order (not for zip64 archives).
fn central_names(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let eocd = memchr::memmem::rfind(&bytes[bytes.len().saturating_sub(65_557)..], b"PK\x05\x06")?
        + bytes.len().saturating_sub(65_557);
    let rec = bytes.get(eocd..eocd + 22)?;
    let count = u16::from_le_bytes([rec[10], rec[11]]) as usize;
    let mut at = u32::from_le_bytes([rec[16], rec[17], rec[18], rec[19]]) as usize;
    let mut names = Vec::with_capacity(count.min(65_535));
    for _ in 0..count {
        let head = bytes.get(at..at + 46)?;
        if head[..4] != *b"PK\x01\x02" {
            return None;
        }
        let field = |i: usize| u16::from_le_bytes([head[i], head[i + 1]]) as usize;
        let (name_len, extra, comment) = (field(28), field(30), field(32));
        names.push(bytes.get(at + 46..at + 46 + name_len)?.to_vec());
        at += 46 + name_len + extra + comment;
    }
    Some(names)
}

/// The name in a zip local file header.
fn local_name(bytes: &[u8], at: u64) -> Option<&[u8]> {
    let at = usize::try_from(at).ok()?;
    let head = bytes.get(at..at.checked_add(30)?)?;
    if head[..4] != *b"PK\x03\x04" {
        return None;
    }
    let len = u16::from_le_bytes([head[26], head[27]]) as usize;
    bytes.get(at + 30..at + 30 + len)
}

fn link_problem(name: &str, inside: bool, target: &Path, what: &str) -> Problem {
    Problem::new(
        if inside {
            ProblemKind::Link
        } else {
            ProblemKind::Escapes
        },
        Some(name),
        if inside {
            format!("{what} member pointing to `{}`", target.display())
        } else {
            format!(
                "{what} member pointing to `{}`, outside the archive: extracting through it writes or reads elsewhere",
                target.display()
            )
        },
    )
}

/// Undoes the compression a tar stream may carry (gzip, zstd, bzip2), by its magic bytes.
pub fn decompressor<'a>(head: &[u8], reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(
            ruzstd::decoding::StreamingDecoder::new(reader)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
        )
    } else if head.starts_with(b"BZh") {
        Box::new(bzip2::read::MultiBzDecoder::new(reader))
    } else {
        Box::new(reader)
    })
}

/// How many decompressed bytes a stream of `compressed_len` bytes may yield.
fn stream_limit(compressed_len: u64, limits: &Limits) -> u64 {
    limits.max_total.min(
        compressed_len
            .saturating_mul(limits.max_ratio)
            .max(16 << 20),
    )
}

/// The decompressed stream of a tar held in memory, failing past the same limits as
/// [`read_tar`]: a tar can be streamed more than once without ever being held decompressed.
pub fn decompress_stream<'a>(bytes: &'a [u8], limits: &Limits) -> io::Result<impl Read + 'a> {
    Ok(Bounded {
        inner: decompressor(bytes, bytes)?,
        read: 0,
        limit: stream_limit(bytes.len() as u64, limits),
    })
}

/// Counts decompressed bytes and fails once they pass a limit: what stops a tar bomb.
struct Bounded<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(format!(
                "decompresses past {} bytes: a decompression bomb",
                self.limit
            )));
        }
        Ok(n)
    }
}

/// Reads a tar archive (possibly compressed) of `compressed_len` bytes from `reader`.
pub fn read_tar(
    reader: impl Read,
    compressed_len: u64,
    limits: &Limits,
    want: &dyn Fn(&Path, u64) -> bool,
) -> Listing {
    let mut out = Listing::default();
    let mut reader = io::BufReader::new(reader);
    let head = match io::BufRead::fill_buf(&mut reader) {
        Ok(h) => h.get(..4).unwrap_or(h).to_vec(),
        Err(err) => {
            out.problem(ProblemKind::Corrupt, None, format!("cannot read: {err}"));
            return out;
        }
    };
    let stream = match decompressor(&head, reader) {
        Ok(s) => s,
        Err(err) => {
            out.problem(
                ProblemKind::Corrupt,
                None,
                format!("cannot decompress: {err}"),
            );
            return out;
        }
    };
    let limit = stream_limit(compressed_len, limits);
    let mut archive = tar::Archive::new(Bounded {
        inner: stream,
        read: 0,
        limit,
    });
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(err) => {
            out.problem(
                ProblemKind::Corrupt,
                None,
                format!("not a readable tar archive: {err}"),
            );
            return out;
        }
    };
    let mut seen = HashSet::new();
    let mut last = None;
    for (i, entry) in entries.enumerate() {
        if i >= limits.max_members {
            out.problem(
                ProblemKind::TooManyMembers,
                None,
                format!(
                    "more than {} members: the rest were not read",
                    limits.max_members
                ),
            );
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let kind = if err.to_string().contains("decompression bomb") {
                    ProblemKind::Bomb
                } else {
                    ProblemKind::Corrupt
                };
                out.problem(
                    kind,
                    None,
                    match &last {
                        Some(l) => format!("archive unreadable after member `{l}`: {err}"),
                        None => format!("archive unreadable: {err}"),
                    },
                );
                break;
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        last = Some(name.clone());
        let path = contained(&name);
        if path.is_none() {
            out.problem(ProblemKind::Escapes, Some(&name), ESCAPING_NAME);
        }
        let kind = entry.header().entry_type();
        if kind.is_file() && !seen.insert(name.trim_start_matches("./").to_owned()) {
            out.problem(
                ProblemKind::Duplicate,
                Some(&name),
                "two members share this name: the later one replaces the earlier on extraction",
            );
        }
        let link = || {
            entry
                .link_name_bytes()
                .map(|b| PathBuf::from(String::from_utf8_lossy(&b).into_owned()))
                .unwrap_or_default()
        };
        let e = if kind.is_dir() {
            Entry::Dir
        } else if kind.is_symlink() {
            let target = link();
            Entry::Symlink(target)
        } else if kind.is_hard_link() {
            Entry::Hardlink(link())
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            let size = entry.size();
            if path.as_deref().is_some_and(|p| want(p, size)) {
                let mut data = Vec::with_capacity(size.min(limits.max_member) as usize);
                if let Err(err) = (&mut entry).take(limits.max_member).read_to_end(&mut data) {
                    out.problem(
                        ProblemKind::Corrupt,
                        Some(&name),
                        format!("member cannot be read: {err}"),
                    );
                    break;
                }
                if size > limits.max_member {
                    out.problem(
                        ProblemKind::Truncated,
                        Some(&name),
                        format!(
                            "member is {size} bytes, larger than the {}-byte cap: only its head was judged (raise --max-file-size)",
                            limits.max_member
                        ),
                    );
                }
                Entry::File {
                    data: Some(Arc::new(data)),
                    size,
                }
            } else {
                Entry::File { data: None, size }
            }
        } else if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader | tar::EntryType::GNULongName
        ) {
            continue;
        } else {
            Entry::Other(match kind {
                tar::EntryType::Char | tar::EntryType::Block => "device",
                tar::EntryType::Fifo => "FIFO",
                _ => "special member",
            })
        };
        out.members.push(Member {
            name,
            path,
            entry: e,
        });
    }
    out
}

/// Reports the link members of a listing whose target leaves the archive (for sdists; an
/// image's links resolve inside the image).
pub fn check_links(listing: &mut Listing) {
    let mut problems = Vec::new();
    for m in &listing.members {
        let (target, what) = match &m.entry {
            Entry::Symlink(t) => (t, "symlink"),
            Entry::Hardlink(t) => (t, "hard link"),
            _ => continue,
        };
        // hard link targets are archive paths, not relative to the link
        let inside = match &m.entry {
            Entry::Hardlink(t) => contained(&t.to_string_lossy()).is_some(),
            _ => m
                .path
                .as_deref()
                .is_some_and(|p| link_stays_inside(p, target)),
        };
        if !inside {
            problems.push(link_problem(&m.name, false, target, what));
        }
    }
    listing.problems.extend(problems);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip member for [`raw_zip`]: central name, local name, content, deflated or stored,
    /// unix mode.
    struct Z<'a> {
        name: &'a str,
        local: &'a str,
        data: Vec<u8>,
        deflate: bool,
        mode: u32,
    }

    fn z(name: &str, data: &[u8]) -> Z<'static> {
        Z {
            name: Box::leak(name.to_owned().into_boxed_str()),
            local: Box::leak(name.to_owned().into_boxed_str()),
            data: data.to_vec(),
            deflate: false,
            mode: 0o100644,
        }
    }

    /// Writes a zip by hand, so tests can make the shapes no zip library writes: duplicate
    /// names, local headers that disagree with the central directory.
    fn raw_zip(members: &[Z<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for m in members {
            let crc = crc32fast::hash(&m.data);
            let body = if m.deflate {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
                e.write_all(&m.data).unwrap();
                e.finish().unwrap()
            } else {
                m.data.clone()
            };
            let method: u16 = if m.deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            let le16 = |v: u16| v.to_le_bytes();
            let le32 = |v: u32| v.to_le_bytes();
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&le16(20));
            out.extend_from_slice(&le16(0));
            out.extend_from_slice(&le16(method));
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&le32(crc));
            out.extend_from_slice(&le32(body.len() as u32));
            out.extend_from_slice(&le32(m.data.len() as u32));
            out.extend_from_slice(&le16(m.local.len() as u16));
            out.extend_from_slice(&le16(0));
            out.extend_from_slice(m.local.as_bytes());
            out.extend_from_slice(&body);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&le16(3 << 8 | 20));
            central.extend_from_slice(&le16(20));
            central.extend_from_slice(&le16(0));
            central.extend_from_slice(&le16(method));
            central.extend_from_slice(&[0; 4]);
            central.extend_from_slice(&le32(crc));
            central.extend_from_slice(&le32(body.len() as u32));
            central.extend_from_slice(&le32(m.data.len() as u32));
            central.extend_from_slice(&le16(m.name.len() as u16));
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&le32(m.mode << 16));
            central.extend_from_slice(&le32(offset));
            central.extend_from_slice(m.name.as_bytes());
        }
        let at = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&[0; 2]);
        out
    }

    fn kinds(listing: &Listing) -> Vec<ProblemKind> {
        listing.problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn hostile_zips_end_in_a_named_problem() {
        let limits = Limits {
            max_members: 8,
            ..Limits::new(1 << 20)
        };
        let many: Vec<Z<'_>> = (0..12).map(|i| z(&format!("m{i}.py"), b"x")).collect();
        let mut whole = raw_zip(&[z("pkg/a.py", b"print(1)\n"), z("pkg/b.py", b"print(2)\n")]);
        whole.truncate(whole.len() / 2);
        let cases: Vec<(&str, Vec<u8>, ProblemKind, Option<&str>)> = vec![
            (
                "dot-dot name",
                raw_zip(&[z("../../etc/cron.d/x", b"* * * * * id")]),
                ProblemKind::Escapes,
                Some("../../etc/cron.d/x"),
            ),
            (
                "absolute name",
                raw_zip(&[z("/usr/lib/x.pth", b"import x")]),
                ProblemKind::Escapes,
                Some("/usr/lib/x.pth"),
            ),
            (
                "drive name",
                raw_zip(&[z("C:/Windows/x.dll", b"MZ")]),
                ProblemKind::Escapes,
                Some("C:/Windows/x.dll"),
            ),
            (
                "duplicate",
                raw_zip(&[z("a/__init__.py", b"1"), z("a/__init__.py", b"2")]),
                ProblemKind::Duplicate,
                Some("a/__init__.py"),
            ),
            (
                "local header disagrees",
                raw_zip(&[Z {
                    local: "a/evil.py",
                    ..z("a/__init__.py", b"x = 1")
                }]),
                ProblemKind::HeaderMismatch,
                Some("a/__init__.py"),
            ),
            (
                "symlink out",
                raw_zip(&[Z {
                    mode: 0o120777,
                    ..z("a/link", b"/etc/passwd")
                }]),
                ProblemKind::Escapes,
                Some("a/link"),
            ),
            (
                "symlink inside",
                raw_zip(&[Z {
                    mode: 0o120777,
                    ..z("a/link", b"../b/file")
                }]),
                ProblemKind::Link,
                Some("a/link"),
            ),
            (
                "bomb",
                raw_zip(&[Z {
                    deflate: true,
                    ..z("zeros.bin", &vec![0u8; 64 << 20])
                }]),
                ProblemKind::Bomb,
                Some("zeros.bin"),
            ),
            (
                "too many members",
                raw_zip(&many),
                ProblemKind::TooManyMembers,
                None,
            ),
            ("truncated", whole, ProblemKind::Corrupt, None),
            (
                "not a zip",
                b"PK\x03\x04 garbage".to_vec(),
                ProblemKind::Corrupt,
                None,
            ),
        ];
        for (what, bytes, kind, member) in cases {
            let listing = read_zip(&bytes, &limits, &|_, _| true);
            let found = listing.problems.iter().find(|p| p.kind == kind);
            assert!(
                found.is_some(),
                "{what}: expected {kind:?}, got {:?}",
                kinds(&listing)
            );
            assert_eq!(found.unwrap().member.as_deref(), member, "{what}");
        }
    }

    #[test]
    fn a_bomb_is_read_no_further_than_the_cap() {
        let bytes = raw_zip(&[Z {
            deflate: true,
            ..z("zeros.bin", &vec![0u8; 64 << 20])
        }]);
        let listing = read_zip(&bytes, &Limits::new(1 << 20), &|_, _| true);
        let Entry::File {
            data: Some(data),
            size,
        } = &listing.members[0].entry
        else {
            panic!("no content kept");
        };
        assert_eq!((data.len(), *size), (1 << 20, 64 << 20));
    }

    fn tar_with(build: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>)) -> Vec<u8> {
        let mut out = Vec::new();
        let mut b = tar::Builder::new(&mut out);
        build(&mut b);
        b.finish().unwrap();
        drop(b);
        out
    }

    fn raw_name_file(b: &mut tar::Builder<&mut Vec<u8>>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    #[test]
    fn hostile_tars_end_in_a_named_problem() {
        let limits = Limits::new(1 << 20);
        let gz = |raw: Vec<u8>| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(&raw).unwrap();
            e.finish().unwrap()
        };
        let bomb = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            let mut h = tar::Header::new_gnu();
            h.set_path("zeros").unwrap();
            h.set_size(256 << 20);
            h.set_cksum();
            e.write_all(h.as_bytes()).unwrap();
            let chunk = vec![0u8; 1 << 20];
            for _ in 0..256 {
                e.write_all(&chunk).unwrap();
            }
            e.finish().unwrap()
        };
        let mut cut = gz(tar_with(|b| {
            raw_name_file(b, "pkg/a.py", &vec![b'x'; 4096]);
            raw_name_file(b, "pkg/b.py", &vec![b'y'; 4096]);
        }));
        cut.truncate(cut.len() - 30);
        let cases: Vec<(&str, Vec<u8>, ProblemKind, Option<&str>)> = vec![
            (
                "dot-dot name",
                tar_with(|b| raw_name_file(b, "../../etc/x", b"x")),
                ProblemKind::Escapes,
                Some("../../etc/x"),
            ),
            (
                "absolute name",
                tar_with(|b| raw_name_file(b, "/etc/x", b"x")),
                ProblemKind::Escapes,
                Some("/etc/x"),
            ),
            (
                "duplicate",
                tar_with(|b| {
                    raw_name_file(b, "p/setup.py", b"1");
                    raw_name_file(b, "p/setup.py", b"2");
                }),
                ProblemKind::Duplicate,
                Some("p/setup.py"),
            ),
            ("bomb", bomb, ProblemKind::Bomb, None),
            ("truncated gzip", cut, ProblemKind::Corrupt, None),
        ];
        for (what, bytes, kind, member) in cases {
            let listing = read_tar(&bytes[..], bytes.len() as u64, &limits, &|_, _| true);
            let found = listing.problems.iter().find(|p| p.kind == kind);
            assert!(
                found.is_some(),
                "{what}: expected {kind:?}, got {:?}",
                kinds(&listing)
            );
            assert_eq!(found.unwrap().member.as_deref(), member, "{what}");
        }
        // links are checked by check_links (sdists); an image's absolute links are its own
        let mut links = read_tar(
            &tar_with(|b| {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, "p/passwd", "/etc/passwd").unwrap();
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, "p/hard", "../../outside").unwrap();
            })[..],
            4096,
            &limits,
            &|_, _| true,
        );
        assert!(links.problems.is_empty());
        check_links(&mut links);
        assert_eq!(kinds(&links), [ProblemKind::Escapes, ProblemKind::Escapes]);
    }
}
