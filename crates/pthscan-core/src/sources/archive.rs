//! Reading zip and tar archives we do not trust, into memory, under limits: a member's content
//! is kept up to a cap, the whole archive's decompressed bytes are bounded (absolutely and by
//! ratio), the member count is bounded, and every oddity a reader could be fooled by — a name
//! that leaves the destination, a duplicate name, a local header that disagrees with the
//! central directory, a link member — is reported as a [`Problem`] naming the member.
//! `uv`'s `crates/uv-extract` was the model for which oddities matter.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

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
        data: Option<Vec<u8>>,
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
    let mut zip = match zip::ZipArchive::new(io::Cursor::new(bytes)) {
        Ok(z) => z,
        Err(err) => {
            out.problems.push(Problem::new(
                ProblemKind::Corrupt,
                None,
                format!("not a readable zip archive: {err}"),
            ));
            return out;
        }
    };
    let mut seen = HashSet::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        if i >= limits.max_members {
            out.problems.push(Problem::new(
                ProblemKind::TooManyMembers,
                None,
                format!(
                    "{} members, more than the limit of {}: the rest were not read",
                    zip.len(),
                    limits.max_members
                ),
            ));
            break;
        }
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(err) => {
                out.problems.push(Problem::new(
                    ProblemKind::Corrupt,
                    None,
                    format!("member #{i} cannot be read: {err}"),
                ));
                continue;
            }
        };
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        let path = contained(&name);
        if path.is_none() {
            out.problems.push(Problem::new(
                ProblemKind::Escapes,
                Some(&name),
                "member name is absolute or climbs out with `..`: extracting it writes outside the destination",
            ));
        }
        if !seen.insert(name.clone()) {
            out.problems.push(Problem::new(
                ProblemKind::Duplicate,
                Some(&name),
                "two members share this name: installers and scanners may each pick a different one",
            ));
        }
        if let Some(local) = local_name(bytes, file.header_start())
            && local != file.name_raw()
        {
            out.problems.push(Problem::new(
                ProblemKind::HeaderMismatch,
                Some(&name),
                format!(
                    "the local header names `{}`: a streaming reader sees another file than the central directory lists",
                    String::from_utf8_lossy(local)
                ),
            ));
        }
        let mode = file.unix_mode().unwrap_or(0);
        let entry = if file.is_dir() {
            Entry::Dir
        } else if mode & 0o170000 == 0o120000 {
            let mut target = Vec::new();
            let _ = (&mut file).take(4096).read_to_end(&mut target);
            let target = PathBuf::from(String::from_utf8_lossy(&target).into_owned());
            link_problem(&mut out, &name, path.as_deref(), &target, "symlink");
            Entry::Symlink(target)
        } else {
            let size = file.size();
            let compressed = file.compressed_size();
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
                    out.problems.push(Problem::new(
                        ProblemKind::Corrupt,
                        Some(&name),
                        format!("member cannot be decompressed: {err}"),
                    ));
                    continue;
                }
            }
            let over = data.len() as u64 > cap;
            data.truncate(cap as usize);
            total += data.len() as u64;
            if over {
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
                out.problems.push(Problem::new(kind, Some(&name), detail));
            }
            Entry::File {
                size: size.max(data.len() as u64),
                data: Some(data),
            }
        };
        out.members.push(Member { name, path, entry });
    }
    out
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

fn link_problem(out: &mut Listing, name: &str, at: Option<&Path>, target: &Path, what: &str) {
    let inside = at.is_some_and(|p| link_stays_inside(p, target));
    out.problems.push(Problem::new(
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
    ));
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
            out.problems.push(Problem::new(
                ProblemKind::Corrupt,
                None,
                format!("cannot read: {err}"),
            ));
            return out;
        }
    };
    let stream = match decompressor(&head, reader) {
        Ok(s) => s,
        Err(err) => {
            out.problems.push(Problem::new(
                ProblemKind::Corrupt,
                None,
                format!("cannot decompress: {err}"),
            ));
            return out;
        }
    };
    let limit = limits.max_total.min(
        compressed_len
            .saturating_mul(limits.max_ratio)
            .max(16 << 20),
    );
    let mut archive = tar::Archive::new(Bounded {
        inner: stream,
        read: 0,
        limit,
    });
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(err) => {
            out.problems.push(Problem::new(
                ProblemKind::Corrupt,
                None,
                format!("not a readable tar archive: {err}"),
            ));
            return out;
        }
    };
    let mut seen = HashSet::new();
    let mut last = None;
    for (i, entry) in entries.enumerate() {
        if i >= limits.max_members {
            out.problems.push(Problem::new(
                ProblemKind::TooManyMembers,
                None,
                format!(
                    "more than {} members: the rest were not read",
                    limits.max_members
                ),
            ));
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
                out.problems.push(Problem::new(
                    kind,
                    None,
                    match &last {
                        Some(l) => format!("archive unreadable after member `{l}`: {err}"),
                        None => format!("archive unreadable: {err}"),
                    },
                ));
                break;
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        last = Some(name.clone());
        let path = contained(&name);
        if path.is_none() {
            out.problems.push(Problem::new(
                ProblemKind::Escapes,
                Some(&name),
                "member name is absolute or climbs out with `..`: extracting it writes outside the destination",
            ));
        }
        let kind = entry.header().entry_type();
        if kind.is_file() && !seen.insert(name.trim_start_matches("./").to_owned()) {
            out.problems.push(Problem::new(
                ProblemKind::Duplicate,
                Some(&name),
                "two members share this name: the later one replaces the earlier on extraction",
            ));
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
                    out.problems.push(Problem::new(
                        ProblemKind::Corrupt,
                        Some(&name),
                        format!("member cannot be read: {err}"),
                    ));
                    break;
                }
                if size > limits.max_member {
                    out.problems.push(Problem::new(
                        ProblemKind::Truncated,
                        Some(&name),
                        format!(
                            "member is {size} bytes, larger than the {}-byte cap: only its head was judged (raise --max-file-size)",
                            limits.max_member
                        ),
                    ));
                }
                Entry::File {
                    data: Some(data),
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

/// Reports link members of a tar listing whose target leaves the archive; `what` names the
/// artifact kind for callers that allow links inside (images, sdists).
pub fn check_links(listing: &mut Listing) {
    let mut problems = Vec::new();
    for m in &listing.members {
        let (target, what) = match &m.entry {
            Entry::Symlink(t) => (t, "symlink"),
            Entry::Hardlink(t) => (t, "hard link"),
            _ => continue,
        };
        let mut tmp = Listing::default();
        // hard link targets are archive paths, not relative to the link
        let inside = match &m.entry {
            Entry::Hardlink(t) => contained(&t.to_string_lossy()).is_some(),
            _ => m
                .path
                .as_deref()
                .is_some_and(|p| link_stays_inside(p, target)),
        };
        if inside {
            continue;
        }
        link_problem(&mut tmp, &m.name, None, target, what);
        problems.extend(tmp.problems);
    }
    listing.problems.extend(problems);
}
