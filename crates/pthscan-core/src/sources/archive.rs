//! Reading zip and tar archives we do not trust, into memory, under limits: a member's content
//! is kept up to a cap, the whole archive's decompressed bytes are bounded (absolutely and by
//! ratio), the member count is bounded, and every oddity a reader could be fooled by — a name
//! that leaves the destination, a duplicate name, a local header that disagrees with the
//! central directory, a link member — is reported as a [`Problem`] naming the member.
//! `uv`'s `crates/uv-extract` was the model for which oddities matter.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::reread::{Again, Layout, Source};
use crate::budget::{Budget, Held, MAX_EXTENSION_HEADER, MAX_NAME};

/// Limits on one archive.
#[derive(Debug, Clone)]
pub struct Limits {
    /// At most this many bytes of one member are kept.
    pub max_member: u64,
    /// At most this many decompressed bytes are read from the whole archive.
    pub max_total: u64,
    /// Decompressed bytes may be at most this many times the compressed ones (past
    /// [`BOMB_FLOOR`]).
    pub max_ratio: u64,
    /// At most this many members are read.
    pub max_members: usize,
    /// An image's manifests, configs and indexes larger than this are not read.
    pub max_json: u64,
    /// What kept bytes (members' content, names) are reserved from, shared by the scan.
    pub budget: Arc<Budget>,
    /// Every file is judged (`--deep`): an image layer keeps every file where Python lives,
    /// not only what start-up and the integrity check read.
    pub deep: bool,
}

impl Limits {
    /// The largest window a zstd frame may declare: a member's cap, and at least the 8 MiB
    /// that `zstd -19` and Docker's encoder use (`--long` and `--ultra` go to 128 MiB).
    pub fn max_window(&self) -> u64 {
        self.max_member.max(8 << 20)
    }

    /// These limits for an image layer: a layer is streamed and only what the budget holds is
    /// kept, so its size costs time, not memory. Real ML layers unpack to tens of gigabytes and
    /// honest runs of zeros (a sparse `lastlog`) reach ratios past any bomb threshold; a layer
    /// is read up to [`MAX_LAYER_STREAM`] whatever its ratio, and what lies past that is said.
    pub fn for_layers(&self) -> Limits {
        Limits {
            max_total: MAX_LAYER_STREAM,
            max_ratio: u64::MAX,
            ..self.clone()
        }
    }

    /// Limits for an archive under `max_member` per member, with a budget of its own as large
    /// as the total limit.
    pub fn new(max_member: u64) -> Limits {
        Limits::with_budget(max_member, Budget::new(4 << 30))
    }

    /// Limits for an archive under `max_member` per member, keeping what it keeps within
    /// `budget`.
    pub fn with_budget(max_member: u64, budget: Arc<Budget>) -> Limits {
        Limits {
            max_member,
            max_total: 4 << 30,
            max_ratio: 1000,
            max_members: 500_000,
            max_json: 1 << 20,
            budget,
            deep: false,
        }
    }
}

/// An image layer is decompressed up to this many bytes (at zstd's speed on zeros, about half a
/// minute): far past the largest real layers, short of an endless stream.
pub const MAX_LAYER_STREAM: u64 = 64 << 30;

/// A member declared or found to be a bomb keeps no more than this head.
const BOMB_HEAD: u64 = 1 << 20;
/// Up to this size a member or stream is never a bomb, whatever its ratio: deflate reaches
/// about 1032:1 on honest runs of zeros (a model's test tensor, a sparse file), and so few
/// bytes exhaust nothing.
pub const BOMB_FLOOR: u64 = 16 << 20;

/// What [`read_kept`] kept of a member.
struct Kept {
    data: Vec<u8>,
    held: Held,
    /// The member went on past the cap.
    more: bool,
    /// The budget ran out before the cap.
    starved: bool,
}

/// Reads at most `cap` bytes of a member whose declared size is `hint`, reserving them from
/// the budget as they come (a declared size can lie): reading stops where the budget does.
fn read_kept(r: &mut dyn Read, cap: u64, hint: u64, budget: &Arc<Budget>) -> io::Result<Kept> {
    let mut kept = Kept {
        data: Vec::new(),
        held: Held::default(),
        more: false,
        starved: false,
    };
    // the declared size first, in one allocation; then, if the member goes on, in steps
    let mut ask = hint.min(cap);
    loop {
        if ask > 0 {
            let Some(h) = budget.try_reserve(ask) else {
                let mut probe = [0u8; 1];
                kept.starved = r.read(&mut probe)? > 0;
                break;
            };
            kept.held.absorb(h);
            kept.data.reserve_exact(ask as usize);
            let got = r.take(ask).read_to_end(&mut kept.data)? as u64;
            if got < ask {
                break;
            }
        }
        let mut probe = [0u8; 1];
        if r.read(&mut probe)? == 0 {
            break;
        }
        let room = cap - kept.data.len() as u64;
        if room == 0 {
            kept.more = true;
            break;
        }
        let Some(h) = budget.try_reserve(1) else {
            kept.starved = true;
            break;
        };
        kept.held.absorb(h);
        kept.data.push(probe[0]);
        // a declared size that lies: the rest in growing steps, each reserved first
        ask = (kept.data.len() as u64)
            .clamp(1 << 16, 1 << 20)
            .min(room - 1);
    }
    if kept.data.capacity() > kept.data.len() + 4096 {
        kept.data.shrink_to_fit();
    }
    // give back what was reserved and not used
    let used = kept.data.len() as u64;
    if kept.held.bytes() > used {
        let held = std::mem::take(&mut kept.held);
        drop(held);
        kept.held = budget.force(used);
    }
    Ok(kept)
}

/// `name` cut to [`MAX_NAME`] bytes (on a character boundary) when longer, and whether it was.
fn capped_name(raw: &[u8]) -> (String, bool) {
    if raw.len() <= MAX_NAME {
        return (String::from_utf8_lossy(raw).into_owned(), false);
    }
    let mut cut = String::from_utf8_lossy(&raw[..MAX_NAME]).into_owned();
    cut.push('…');
    (cut, true)
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
    /// Where a file's content lies when it was not kept, to be read again when judged.
    pub again: Option<super::reread::Reread>,
    /// The modification time stored with it (a tar header's, or a PAX `mtime` record's with
    /// its fraction): seconds since the epoch and nanoseconds. What a runtime extracting the
    /// layer sets, and what a cached `.pyc` is compared with.
    pub mtime: Option<(i64, u32)>,
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
    /// Zip entries sharing bytes (several central entries on one local header, or ranges that
    /// overlap): a bomb that multiplies one stream without any ratio to show.
    Overlap,
    /// A shape built to exhaust whoever reads it, and cut: a name, PAX header or manifest far
    /// past any real one, indexes nested past the limit.
    Exhausting,
    /// A shape built to exhaust whoever reads it by repetition, judged once: a layer listed
    /// over and over, a cycle of indexes.
    Repeated,
    /// Bytes not kept because the memory budget (`--max-memory`) was spent.
    OverBudget,
    /// More members than the limit.
    TooManyMembers,
    /// A member larger than the per-member cap: only its head was kept.
    Truncated,
    /// The archive or a member could not be read: truncated, corrupt, unsupported.
    Corrupt,
    /// An image tarball whose two descriptions (`manifest.json` and `index.json`) lead to
    /// different images, or with two blobs of one name: it loads differently in different
    /// runtimes.
    Ambiguous,
}

impl ProblemKind {
    /// Whether the archive was not fully judged because of it.
    pub fn incomplete(self) -> bool {
        matches!(
            self,
            ProblemKind::Bomb
                | ProblemKind::TooManyMembers
                | ProblemKind::Corrupt
                | ProblemKind::OverBudget
                | ProblemKind::Exhausting
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
    /// The budget reserved for what the members keep (content and names): given back when
    /// the last holder lets go.
    pub held: Held,
    /// Whether whiteouts and opaque directories are the members marked [`WHITEOUT`] and
    /// [`OPAQUE`] (a layer read from an overlayfs directory, where they are a device and an
    /// extended attribute), not every `.wh.` name: there a file named `.wh.x.pth` is a file
    /// overlayfs shows, which `site` reads.
    pub marked_whiteouts: bool,
}

/// The entry of a member that is an overlayfs whiteout, in a [`Listing::marked_whiteouts`].
pub const WHITEOUT: &str = "overlayfs whiteout";
/// The entry of a member that marks its directory opaque, likewise.
pub const OPAQUE: &str = "overlayfs opaque directory";

const ESCAPING_NAME: &str =
    "member name is absolute or climbs out with `..`: extracting it writes outside the destination";

impl Listing {
    fn problem(&mut self, kind: ProblemKind, member: Option<&str>, detail: impl Into<String>) {
        self.problems.push(Problem::new(kind, member, detail));
    }

    /// Reserves what one more member's name costs (its name, path and duplicate check); false,
    /// with a problem, when the budget is spent.
    fn reserve_name(&mut self, name: &str, limits: &Limits) -> bool {
        match limits.budget.try_reserve(name.len() as u64 * 3 + 160) {
            Some(h) => {
                self.held.absorb(h);
                true
            }
            None => {
                self.problem(
                    ProblemKind::OverBudget,
                    None,
                    format!(
                        "the listing outgrew the memory budget after {} members: the rest were not read (raise --max-memory)",
                        self.members.len()
                    ),
                );
                false
            }
        }
    }

    /// Where a member lands inside the destination, or `None` (with its problem) when its name
    /// leaves it or was cut from a name of `cut_from` bytes.
    fn member_path(&mut self, name: &str, cut_from: Option<usize>) -> Option<PathBuf> {
        if let Some(len) = cut_from {
            self.long_name(name, len, "member name");
            return None;
        }
        let path = contained(name);
        if path.is_none() {
            self.problem(ProblemKind::Escapes, Some(name), ESCAPING_NAME);
        }
        path
    }

    /// Reports a member of which only `kept` of `size` bytes fit in the budget.
    fn starved(&mut self, name: &str, kept: usize, size: u64) {
        self.problem(
            ProblemKind::OverBudget,
            Some(name),
            format!(
                "only {kept} of its {size} bytes were kept: the memory budget is spent (raise --max-memory)"
            ),
        );
    }

    /// Reports a name cut to [`MAX_NAME`] bytes.
    fn long_name(&mut self, name: &str, len: usize, what: &str) {
        self.problem(
            ProblemKind::Exhausting,
            Some(name),
            format!(
                "{what} of {len} bytes, longer than any path a system can open ({MAX_NAME}): cut, and the member not placed"
            ),
        );
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
    read_zip_from(&bytes, limits, want, None)
}

/// Random access to the bytes of a zip: held in memory, or a file read where asked (a zip
/// larger than the memory budget is never held whole).
pub trait ZipSource: Sync {
    /// How many bytes there are.
    fn size(&self) -> u64;
    /// The `len` bytes at `at`, or `None` past the end or when they cannot be read.
    fn bytes_at(&self, at: u64, len: usize) -> Option<std::borrow::Cow<'_, [u8]>>;
}

impl ZipSource for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn bytes_at(&self, at: u64, len: usize) -> Option<std::borrow::Cow<'_, [u8]>> {
        let at = usize::try_from(at).ok()?;
        self.get(at..at.checked_add(len)?).map(Into::into)
    }
}

/// A region of a file opened for reading: a zip on disk (or a cached response's body).
#[derive(Debug)]
pub struct FileRegion {
    /// The file.
    pub file: std::fs::File,
    /// Where the region starts in it.
    pub start: u64,
    /// How long the region is.
    pub len: u64,
}

impl ZipSource for FileRegion {
    fn size(&self) -> u64 {
        self.len
    }

    fn bytes_at(&self, at: u64, len: usize) -> Option<std::borrow::Cow<'_, [u8]>> {
        if at.checked_add(len as u64)? > self.len {
            return None;
        }
        let mut buf = vec![0; len];
        crate::fs::read_exact_at(&self.file, &mut buf, self.start + at).ok()?;
        Some(buf.into())
    }
}

/// [`Read`] and [`io::Seek`] over a [`ZipSource`], for the zip crate.
struct SourceReader<'a> {
    src: &'a dyn ZipSource,
    pos: u64,
}

impl Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.src.size().saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left).min(256 << 10) as usize;
        if n == 0 {
            return Ok(0);
        }
        let got = self
            .src
            .bytes_at(self.pos, n)
            .ok_or_else(|| io::Error::other("archive unreadable"))?;
        buf[..n].copy_from_slice(&got);
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for SourceReader<'_> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let size = self.src.size() as i128;
        let at = match to {
            io::SeekFrom::Start(n) => i128::from(n),
            io::SeekFrom::End(d) => size + i128::from(d),
            io::SeekFrom::Current(d) => i128::from(self.pos) + i128::from(d),
        };
        self.pos = u64::try_from(at)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// Reads a zip archive from `src`, in memory or on disk. `want(path, size)` says whether a
/// file's content is kept; a file not kept (or not kept whole for want of budget) is read
/// again from `again` — the same bytes as `src`, on disk — when it is judged.
pub fn read_zip_from(
    src: &dyn ZipSource,
    limits: &Limits,
    want: &dyn Fn(&Path, u64) -> bool,
    again: Option<&Arc<Source>>,
) -> Listing {
    let bytes = src;
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
    if let Some(cd) = central_size(bytes)
        && cd > limits.budget.limit() / 4
    {
        out.problem(
            ProblemKind::Exhausting,
            None,
            format!(
                "a central directory of {cd} bytes, past a quarter of the memory budget (the largest wheels have a few megabytes): not opened"
            ),
        );
        return out;
    }
    let mut zip = match zip::ZipArchive::new(SourceReader { src: bytes, pos: 0 }) {
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
    let central = central_names(bytes).unwrap_or_default();
    for (_, name) in &central {
        if !seen.insert(name.clone()) {
            let (shown, _) = capped_name(name);
            out.problem(
                ProblemKind::Duplicate,
                Some(&shown),
                "two members share this name: installers and scanners may each pick a different one",
            );
        }
    }
    drop(seen);
    // the directory's raw names by local header (several on one header are an overlap, said
    // apart: no renaming is read into them)
    let mut raw_names: HashMap<u64, Vec<Vec<u8>>> = HashMap::new();
    for (at, name) in central {
        raw_names.entry(at).or_default().push(name);
    }
    // entries sharing bytes are found before anything is decompressed: each range is read once
    let shadowed = overlapping_entries(&mut zip, bytes, &mut out);
    let mut total: u64 = 0;
    let mut aliases: Vec<(String, String)> = Vec::new();
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
        let (name, long) = capped_name(file.name_raw());
        if !out.reserve_name(&name, limits) {
            break;
        }
        let path = out.member_path(&name, long.then(|| file.name_raw().len()));
        // a Unicode Path extra field renames the member for 3.12's zipfile (and the zip crate),
        // not for 3.11's, which installs it under the name the directory gives: both judged
        if let Some([raw]) = raw_names.get(&file.header_start()).map(Vec::as_slice)
            && *raw != *file.name_raw()
        {
            let (alias, _) = capped_name(raw);
            out.problem(
                ProblemKind::HeaderMismatch,
                Some(&name),
                format!(
                    "a Unicode Path field renames `{alias}`: Python 3.11 and older install it under that name, 3.12 on under this one; judged as both"
                ),
            );
            aliases.push((name.clone(), alias));
        }
        if let Some(local) = local_name(bytes, file.header_start())
            && *local != *file.name_raw()
        {
            out.problem(
                ProblemKind::HeaderMismatch,
                Some(&name),
                format!(
                    "the local header names `{}`: a streaming reader sees another file than the central directory lists",
                    capped_name(&local).0
                ),
            );
        }
        let mode = file.unix_mode().unwrap_or(0);
        let entry = if file.is_dir() {
            Entry::Dir
        } else if shadowed.contains(&i) {
            // its bytes belong to another member, read once under that member's name
            Entry::File {
                data: None,
                size: file.size(),
            }
        } else if mode & 0o170000 == 0o120000 {
            let mut target = Vec::new();
            let _ = (&mut file)
                .take(MAX_NAME as u64 + 1)
                .read_to_end(&mut target);
            let (target, long) = capped_name(&target);
            if long {
                out.long_name(&name, MAX_NAME + 1, "symlink target");
            }
            let target = PathBuf::from(target);
            let inside = path
                .as_deref()
                .is_some_and(|p| link_stays_inside(p, &target));
            out.problems
                .push(link_problem(&name, inside, &target, "symlink"));
            Entry::Symlink(target)
        } else {
            let size = file.size();
            let compressed = file.compressed_size();
            let declared_bomb = size > BOMB_FLOOR && size / compressed.max(1) > limits.max_ratio;
            let keep = path.as_deref().is_some_and(|p| want(p, size));
            let budget = limits.max_total.saturating_sub(total);
            let ratio_cap = compressed.saturating_mul(limits.max_ratio).max(BOMB_FLOOR);
            let mut cap = limits.max_member.min(budget).min(ratio_cap);
            if declared_bomb {
                // a bomb's head is judged; the rest is what it was built to be
                cap = cap.min(BOMB_HEAD);
                out.problem(
                    ProblemKind::Bomb,
                    Some(&name),
                    format!(
                        "declares {size} bytes from {compressed} compressed: a decompression bomb, at most {cap} bytes were read"
                    ),
                );
            }
            // where the member lies, to read it again: stored or deflated, not encrypted, not
            // a bomb (whose head is all that is judged)
            let layout = match file.compression() {
                zip::CompressionMethod::Stored => Some(Layout::Stored(compressed)),
                zip::CompressionMethod::Deflated => Some(Layout::Deflated(compressed)),
                _ => None,
            };
            let reread = again
                .zip(layout)
                .filter(|_| !declared_bomb && !file.encrypted())
                .and_then(|(src, layout)| {
                    local_data_start(bytes, file.header_start())
                        .map(|at| Again::new(src, at, layout).into())
                });
            let kept = match keep.then(|| read_kept(&mut file, cap, size, &limits.budget)) {
                None => None,
                Some(Ok(k)) => Some(k),
                Some(Err(err)) => {
                    out.problem(
                        ProblemKind::Corrupt,
                        Some(&name),
                        format!("member cannot be decompressed: {err}"),
                    );
                    continue;
                }
            };
            // not wanted, or the budget spent with a place to read it again from: no content
            // held, read again (where it can be) when it is judged
            let Some(kept) = kept.filter(|k| !(k.starved && reread.is_some())) else {
                out.members.push(Member {
                    name,
                    path,
                    entry: Entry::File { data: None, size },
                    again: reread,
                    mtime: None,
                });
                continue;
            };
            total += kept.data.len() as u64;
            out.held.absorb(kept.held);
            // only a head kept for the cap (not a bomb's): the whole is read again where it
            // lies when asked for (a RECORD hash), never held
            let mut again_whole = None;
            if kept.starved {
                out.starved(&name, kept.data.len(), size);
            } else if kept.more && !declared_bomb {
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
                        "member is larger than the {cap}-byte cap: only its head was judged (raise --max-file-size or --max-memory)"
                    ),
                };
                if kind == ProblemKind::Truncated {
                    again_whole = reread;
                }
                out.problem(kind, Some(&name), detail);
            }
            let entry = Entry::File {
                size: size.max(kept.data.len() as u64),
                data: Some(Arc::new(kept.data)),
            };
            out.members.push(Member {
                name,
                path,
                entry,
                again: again_whole,
                mtime: None,
            });
            continue;
        };
        out.members.push(Member {
            name,
            path,
            entry,
            again: None,
            mtime: None,
        });
    }
    for (name, alias) in aliases {
        if let Some(m) = out.members.iter().find(|m| m.name == name).cloned() {
            let path = out.member_path(&alias, None);
            out.members.push(Member {
                name: alias,
                path,
                ..m
            });
        }
    }
    out
}

/// The entries of a zip whose bytes another entry already covers — several central entries
/// on one local header, or a range starting inside another's — reported as one
/// [`ProblemKind::Overlap`] before anything is decompressed.
fn overlapping_entries(
    zip: &mut zip::ZipArchive<SourceReader<'_>>,
    bytes: &dyn ZipSource,
    out: &mut Listing,
) -> HashSet<usize> {
    // (start of the local header, end of the data, index)
    let mut ranges: Vec<(u64, u64, usize)> = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let Ok(e) = zip.by_index_raw(i) else { continue };
        let start = e.header_start();
        let data = local_data_start(bytes, start).unwrap_or(start + 30);
        if e.is_dir() && e.compressed_size() == 0 {
            continue;
        }
        ranges.push((start, data.saturating_add(e.compressed_size()), i));
    }
    ranges.sort_unstable();
    let mut shadowed = HashSet::new();
    let mut first: Option<(usize, usize)> = None;
    let mut reach: Option<(u64, usize)> = None; // furthest end so far, and whose
    for &(start, end, i) in &ranges {
        match reach {
            Some((far, owner)) if start < far => {
                shadowed.insert(i);
                first.get_or_insert((i, owner));
            }
            _ => {}
        }
        if reach.is_none_or(|(far, _)| end > far) {
            reach = Some((end, i));
        }
    }
    if let Some((i, owner)) = first {
        let mut name = |i: usize| {
            zip.by_index_raw(i)
                .map(|e| capped_name(e.name_raw()).0)
                .unwrap_or_default()
        };
        let (shown, owner) = (name(i), name(owner));
        out.problem(
            ProblemKind::Overlap,
            None,
            format!(
                "{} central directory entries share bytes with another (`{shown}` lies on `{owner}`): an overlapping-entry zip bomb; each byte range was decompressed once",
                shadowed.len()
            ),
        );
    }
    shadowed
}

/// Where a zip member's data starts, after its local header.
fn local_data_start(bytes: &dyn ZipSource, at: u64) -> Option<u64> {
    let head = bytes.bytes_at(at, 30)?;
    if head[..4] != *b"PK\x03\x04" {
        return None;
    }
    let name = u16::from_le_bytes([head[26], head[27]]) as u64;
    let extra = u16::from_le_bytes([head[28], head[29]]) as u64;
    Some(at + 30 + name + extra)
}

/// At most this many members in one zip (the largest wheels on PyPI have a few tens of
/// thousands).
const MAX_ZIP_MEMBERS: u64 = 100_000;

/// The end of central directory record: its offset and its 22 bytes.
fn eocd(bytes: &dyn ZipSource) -> Option<(u64, Vec<u8>)> {
    let from = bytes.size().saturating_sub(65_557);
    let tail = bytes.bytes_at(from, (bytes.size() - from) as usize)?;
    let at = memchr::memmem::rfind(&tail, b"PK\x05\x06")?;
    Some((from + at as u64, tail.get(at..at + 22)?.to_vec()))
}

/// The zip64 end of central directory record, when the end record points at one.
fn eocd64(bytes: &dyn ZipSource, eocd_at: u64) -> Option<Vec<u8>> {
    let locator = bytes.bytes_at(eocd_at.checked_sub(20)?, 20)?;
    if locator[..4] != *b"PK\x06\x07" {
        return None;
    }
    let at = u64::from_le_bytes(locator[8..16].try_into().ok()?);
    let rec = bytes.bytes_at(at, 56)?;
    (rec[..4] == *b"PK\x06\x06").then(|| rec.into_owned())
}

/// The number of entries a zip's end of central directory declares (its zip64 record's, when
/// it has one).
fn declared_entries(bytes: &dyn ZipSource) -> Option<u64> {
    let (at, rec) = eocd(bytes)?;
    let count = u16::from_le_bytes([rec[10], rec[11]]);
    if count != u16::MAX {
        return Some(u64::from(count));
    }
    match eocd64(bytes, at) {
        Some(rec64) => Some(u64::from_le_bytes(rec64[32..40].try_into().ok()?)),
        None => Some(u64::from(count)),
    }
}

/// The size of a zip's central directory as its end records declare it.
fn central_size(bytes: &dyn ZipSource) -> Option<u64> {
    let (at, rec) = eocd(bytes)?;
    let size = u32::from_le_bytes([rec[12], rec[13], rec[14], rec[15]]);
    if size != u32::MAX {
        return Some(u64::from(size));
    }
    let rec64 = eocd64(bytes, at)?;
    Some(u64::from_le_bytes(rec64[40..48].try_into().ok()?))
}

/// The names of a zip's central directory, in order (not for zip64 archives).
/// The raw names of the central directory with each entry's local header offset, as an
/// installer's `zipfile` reads them (Python 3.11 and older ignore a Unicode Path extra field).
fn central_names(bytes: &dyn ZipSource) -> Option<Vec<(u64, Vec<u8>)>> {
    let (_, rec) = eocd(bytes)?;
    let count = u16::from_le_bytes([rec[10], rec[11]]) as usize;
    let size = u32::from_le_bytes([rec[12], rec[13], rec[14], rec[15]]) as usize;
    let start = u32::from_le_bytes([rec[16], rec[17], rec[18], rec[19]]);
    if size == u32::MAX as usize || start == u32::MAX {
        return None; // zip64
    }
    let cd = bytes.bytes_at(u64::from(start), size)?;
    let mut at = 0usize;
    let mut names = Vec::with_capacity(count.min(65_535));
    for _ in 0..count {
        let head = cd.get(at..at + 46)?;
        if head[..4] != *b"PK\x01\x02" {
            return None;
        }
        let field = |i: usize| u16::from_le_bytes([head[i], head[i + 1]]) as usize;
        let (name_len, extra, comment) = (field(28), field(30), field(32));
        let local = u32::from_le_bytes([head[42], head[43], head[44], head[45]]);
        names.push((
            u64::from(local),
            cd.get(at + 46..at + 46 + name_len)?.to_vec(),
        ));
        at += 46 + name_len + extra + comment;
    }
    Some(names)
}

/// The name in a zip local file header.
fn local_name(bytes: &dyn ZipSource, at: u64) -> Option<Vec<u8>> {
    let head = bytes.bytes_at(at, 30)?;
    if head[..4] != *b"PK\x03\x04" {
        return None;
    }
    let len = u16::from_le_bytes([head[26], head[27]]) as usize;
    bytes.bytes_at(at + 30, len).map(|n| n.into_owned())
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

/// A stream with its compression undone.
pub enum Decompressed<R: Read> {
    /// gzip, each member in turn.
    Gzip(flate2::read::MultiGzDecoder<R>),
    /// zstd, each frame in turn.
    Zstd(Box<super::zstd::Frames<R>>),
    /// bzip2, each stream in turn.
    Bzip2(bzip2::read::MultiBzDecoder<R>),
    /// Not compressed.
    Plain(R),
}

impl<R: Read> Read for Decompressed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decompressed::Gzip(r) => r.read(buf),
            Decompressed::Zstd(r) => r.read(buf),
            Decompressed::Bzip2(r) => r.read(buf),
            Decompressed::Plain(r) => r.read(buf),
        }
    }
}

/// Whether a stream starting with `head` is compressed (gzip, zstd, bzip2).
pub fn compressed(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b]) || super::zstd::is_zstd(head) || head.starts_with(b"BZh")
}

/// Undoes the compression a tar stream may carry (gzip, zstd, bzip2), by its magic bytes: every
/// member or frame in turn, a zstd window reserved from the limits' budget.
pub fn decompressor<R: Read>(
    head: &[u8],
    reader: R,
    limits: &Limits,
) -> io::Result<Decompressed<R>> {
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Decompressed::Gzip(flate2::read::MultiGzDecoder::new(reader))
    } else if super::zstd::is_zstd(head) {
        Decompressed::Zstd(Box::new(super::zstd::Frames::new(
            reader,
            Arc::clone(&limits.budget),
            limits.max_window(),
        )?))
    } else if head.starts_with(b"BZh") {
        Decompressed::Bzip2(bzip2::read::MultiBzDecoder::new(reader))
    } else {
        Decompressed::Plain(reader)
    })
}

/// How many decompressed bytes a stream of `compressed_len` bytes may yield.
pub fn stream_limit(compressed_len: u64, limits: &Limits) -> u64 {
    limits.max_total.min(
        compressed_len
            .saturating_mul(limits.max_ratio)
            .max(BOMB_FLOOR),
    )
}

/// The decompressed stream of a tar held in memory, failing past the same limits as
/// [`read_tar`]: a tar can be streamed more than once without ever being held decompressed.
pub fn decompress_stream<'a>(bytes: &'a [u8], limits: &Limits) -> io::Result<impl Read + 'a> {
    Ok(Bounded {
        inner: decompressor(bytes, bytes, limits)?,
        read: 0,
        limit: stream_limit(bytes.len() as u64, limits),
    })
}

/// `inner`, failing once it yields more than `limit` bytes.
pub fn bounded<R: Read>(inner: R, limit: u64) -> Bounded<R> {
    Bounded {
        inner,
        read: 0,
        limit,
    }
}

/// Counts decompressed bytes and fails once they pass a limit: what stops a tar bomb.
pub struct Bounded<R> {
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

/// Reads a tar archive (possibly compressed) of `compressed_len` bytes from `reader`. A file
/// not kept (or not kept whole for want of budget) is read again from `again` — the same
/// bytes as `reader`, on disk — when it is judged.
pub fn read_tar(
    reader: impl Read,
    compressed_len: u64,
    limits: &Limits,
    want: &dyn Fn(&Path, u64) -> bool,
    again: Option<&Arc<Source>>,
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
    let stream = match decompressor(&head, reader, limits) {
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
    // raw: GNU long names and PAX headers come to us as members, read here under a cap (the
    // tar crate would read any size of them whole)
    let entries = match archive.entries() {
        Ok(e) => e.raw(true),
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
    // what extension members said about the next member
    let mut names = LongNames::default();
    let mut count = 0usize;
    for entry in entries {
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
        let kind = entry.header().entry_type();
        match names.absorb(&mut entry).and_then(|ext| match ext {
            true => Ok(true),
            false => names.check_member(&entry).map(|()| false),
        }) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(p) => {
                out.problems.push(p);
                break;
            }
        }
        if kind.is_gnu_sparse() {
            out.problem(
                ProblemKind::Corrupt,
                None,
                "a GNU sparse member follows: not supported, the rest was not read",
            );
            break;
        }
        count += 1;
        if count > limits.max_members {
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
        let raw_name = names.path.take();
        let raw_name: std::borrow::Cow<'_, [u8]> = match &raw_name {
            Some(n) => n.as_slice().into(),
            None => entry.path_bytes(),
        };
        let (name, long) = capped_name(&raw_name);
        let name_len = raw_name.len();
        drop(raw_name);
        if !out.reserve_name(&name, limits) {
            break;
        }
        last = Some(name.clone());
        let path = out.member_path(&name, long.then_some(name_len));
        if kind.is_file() && !seen.insert(name.trim_start_matches("./").to_owned()) {
            out.problem(
                ProblemKind::Duplicate,
                Some(&name),
                "two members share this name: the later one replaces the earlier on extraction",
            );
        }
        let raw_link = names.link.take();
        let mut link = || {
            let bytes = match &raw_link {
                Some(l) => Some(std::borrow::Cow::from(l.as_slice())),
                None => entry.link_name_bytes(),
            };
            let bytes = bytes.unwrap_or_default();
            let (target, long) = capped_name(&bytes);
            if long {
                out.long_name(&name, bytes.len(), "link target");
            }
            PathBuf::from(target)
        };
        let mut reread = None;
        let e = if kind.is_dir() {
            Entry::Dir
        } else if kind.is_symlink() {
            Entry::Symlink(link())
        } else if kind.is_hard_link() {
            Entry::Hardlink(link())
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            let size = entry.size();
            reread =
                again.map(|src| Again::new(src, entry.raw_file_position(), Layout::Tar).into());
            if path.as_deref().is_some_and(|p| want(p, size)) {
                let kept = match read_kept(&mut entry, limits.max_member, size, &limits.budget) {
                    Ok(k) => k,
                    Err(err) => {
                        out.problem(
                            ProblemKind::Corrupt,
                            Some(&name),
                            format!("member cannot be read: {err}"),
                        );
                        break;
                    }
                };
                if kept.starved && reread.is_some() {
                    // the budget is spent: read it again from the file when it is judged
                    drop(kept);
                    Entry::File { data: None, size }
                } else {
                    if kept.starved {
                        out.starved(&name, kept.data.len(), size);
                    } else if size > limits.max_member {
                        out.problem(
                        ProblemKind::Truncated,
                        Some(&name),
                        format!(
                            "member is {size} bytes, larger than the {}-byte cap: only its head was judged (raise --max-file-size or --max-memory)",
                            limits.max_member
                        ),
                    );
                    }
                    out.held.absorb(kept.held);
                    // only a head kept for the cap: the whole is read again where it lies
                    // when asked for (a RECORD hash), never held
                    if kept.starved || size <= limits.max_member {
                        reread = None;
                    }
                    Entry::File {
                        data: Some(Arc::new(kept.data)),
                        size,
                    }
                }
            } else {
                Entry::File { data: None, size }
            }
        } else {
            Entry::Other(match kind {
                tar::EntryType::Char | tar::EntryType::Block => "device",
                tar::EntryType::Fifo => "FIFO",
                _ => "special member",
            })
        };
        let mtime = names
            .mtime
            .take()
            .or_else(|| Some((entry.header().mtime().ok()? as i64, 0)));
        out.members.push(Member {
            name,
            path,
            entry: e,
            again: reread,
            mtime,
        });
    }
    out
}

/// A PAX time record (`1767225600.25`, `-1.5`): seconds and nanoseconds, `None` when it is
/// not one.
fn pax_time(value: &[u8]) -> Option<(i64, u32)> {
    let text = std::str::from_utf8(value).ok()?;
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = whole.parse().ok()?;
    let digits = &frac[..frac.len().min(9)];
    let nanos = if digits.is_empty() {
        0
    } else {
        digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
    };
    // `-1.5` is one and a half seconds before the epoch
    Some(if whole.starts_with('-') && nanos > 0 {
        (secs - 1, 1_000_000_000 - nanos)
    } else {
        (secs, nanos)
    })
}

/// What the extension members of a tar read raw (GNU long names, PAX headers) say about the
/// member after them, each read under [`MAX_EXTENSION_HEADER`]: the tar crate would read any
/// size of them whole.
#[derive(Debug, Default)]
pub struct LongNames {
    /// The next member's path.
    pub path: Option<Vec<u8>>,
    /// The next member's link target.
    pub link: Option<Vec<u8>>,
    /// The next member's size, when a PAX record gives one.
    size: Option<u64>,
    /// The next member's modification time, when a PAX record gives one.
    pub mtime: Option<(i64, u32)>,
    /// The path and link came from GNU long-name members: those win over PAX records, in
    /// whichever order they come (as Go's `archive/tar` and Python's `tarfile` read them).
    gnu_path: bool,
    gnu_link: bool,
}

impl LongNames {
    /// Reads `entry` into these when it is an extension member (`Ok(true)`); `Ok(false)` when
    /// it is a member; a problem when it is past the cap, unreadable, or says what a raw reading
    /// cannot follow (a PAX size, a GNU sparse member).
    pub fn absorb<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<bool, Problem> {
        let kind = entry.header().entry_type();
        if kind.is_gnu_sparse() {
            return Err(Problem::new(
                ProblemKind::Corrupt,
                None,
                "a GNU sparse member follows: not supported, the rest was not read",
            ));
        }
        if !matches!(
            kind,
            tar::EntryType::XGlobalHeader
                | tar::EntryType::XHeader
                | tar::EntryType::GNULongName
                | tar::EntryType::GNULongLink
        ) {
            return Ok(false);
        }
        let size = entry.size();
        if size > MAX_EXTENSION_HEADER {
            return Err(Problem::new(
                ProblemKind::Exhausting,
                None,
                format!(
                    "an extension header of {size} bytes follows, larger than the {MAX_EXTENSION_HEADER}-byte cap (real ones are a few hundred): not read, nor the rest of the archive"
                ),
            ));
        }
        let mut data = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut data).map_err(|err| {
            Problem::new(
                ProblemKind::Corrupt,
                None,
                format!("archive unreadable: {err}"),
            )
        })?;
        match kind {
            tar::EntryType::GNULongName => {
                self.path = Some(trim_nul(data));
                self.gnu_path = true;
            }
            tar::EntryType::GNULongLink => {
                self.link = Some(trim_nul(data));
                self.gnu_link = true;
            }
            tar::EntryType::XHeader => {
                for (key, value) in pax_records(&data) {
                    match key {
                        b"path" if !self.gnu_path => self.path = Some(value.to_vec()),
                        b"linkpath" if !self.gnu_link => self.link = Some(value.to_vec()),
                        b"size" => {
                            self.size = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok())
                        }
                        b"mtime" => self.mtime = pax_time(value),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(true)
    }

    /// Checks a member against what the extension members said: a PAX size the header does
    /// not give moves where the next member starts, which a raw reading cannot follow.
    pub fn check_member<R: Read>(&mut self, entry: &tar::Entry<'_, R>) -> Result<(), Problem> {
        self.gnu_path = false;
        self.gnu_link = false;
        // a POSIX header (`ustar\0`) of any version joins its prefix to its name, as Go and
        // Python read it; the tar crate does so only for version `00`
        let header = entry.header().as_bytes();
        if self.path.is_none() && header[257..263] == *b"ustar\0" && header[263..265] != *b"00" {
            let field = |r: std::ops::Range<usize>| {
                let f = &header[r];
                f[..f.iter().position(|&b| b == 0).unwrap_or(f.len())].to_vec()
            };
            let prefix = field(345..500);
            if !prefix.is_empty() {
                let mut path = prefix;
                path.push(b'/');
                path.extend(field(0..100));
                self.path = Some(path);
            }
        }
        match self.size.take() {
            Some(s) if s != entry.size() => Err(Problem::new(
                ProblemKind::Corrupt,
                None,
                "a PAX size record overrides the header's: readers disagree on where members start; the rest was not read",
            )),
            _ => Ok(()),
        }
    }
}

/// A GNU long name without its trailing NULs.
fn trim_nul(mut data: Vec<u8>) -> Vec<u8> {
    while data.last() == Some(&0) {
        data.pop();
    }
    data
}

/// The `key=value` records of a PAX extended header (`LEN key=value\n` each); a malformed
/// record ends them.
fn pax_records(mut data: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let Some(space) = data.iter().position(|&b| b == b' ') else {
            break;
        };
        let Some(len) = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|l| l.parse::<usize>().ok())
        else {
            break;
        };
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            break;
        }
        let record = &data[space + 1..len - 1];
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            out.push((&record[..eq], &record[eq + 1..]));
        }
        data = &data[len..];
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

    /// Two central entries on one local header.
    fn overlapping() -> Vec<u8> {
        let mut one = raw_zip(&[z("a.py", b"print(1)\n")]);
        // the end record: one more entry, a copy of the first central entry named `b.py`
        let eocd = one.len() - 22;
        let cd_at = u32::from_le_bytes(one[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
        let mut entry = one[cd_at..eocd].to_vec();
        entry[46..50].copy_from_slice(b"b.py");
        let mut tail = one.split_off(eocd);
        one.extend_from_slice(&entry);
        tail[8..10].copy_from_slice(&2u16.to_le_bytes());
        tail[10..12].copy_from_slice(&2u16.to_le_bytes());
        tail[12..16].copy_from_slice(&(2 * entry.len() as u32).to_le_bytes());
        one.extend_from_slice(&tail);
        one
    }

    #[test]
    fn overlapping_entries_are_read_once() {
        let listing = read_zip(&overlapping(), &Limits::new(1 << 20), &|_, _| true);
        assert_eq!(
            kinds(&listing),
            [ProblemKind::Overlap, ProblemKind::HeaderMismatch]
        );
        let kept: Vec<bool> = listing
            .members
            .iter()
            .map(|m| matches!(m.entry, Entry::File { data: Some(_), .. }))
            .collect();
        assert_eq!(kept, [true, false]);
    }

    #[test]
    fn members_are_kept_within_the_budget() {
        let limits = Limits::with_budget(1 << 20, Budget::new(3000));
        let bytes = raw_zip(&[z("a.py", &[b'a'; 2000]), z("b.py", &[b'b'; 2000])]);
        let listing = read_zip(&bytes, &limits, &|_, _| true);
        assert!(
            listing
                .problems
                .iter()
                .any(|p| p.kind == ProblemKind::OverBudget && p.member.as_deref() == Some("b.py")),
            "{:?}",
            listing.problems
        );
        assert_eq!(limits.budget.used(), listing.held.bytes());
        drop(listing);
        assert_eq!(limits.budget.used(), 0);
    }

    #[test]
    fn hostile_zips_end_in_a_named_problem() {
        let long_shown = format!("{}…", &"n/".repeat(2500)[..MAX_NAME]);
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
                "overlapping entries",
                overlapping(),
                ProblemKind::Overlap,
                None,
            ),
            (
                "a 5,000-byte name",
                raw_zip(&[z(&"n/".repeat(2500), b"x")]),
                ProblemKind::Exhausting,
                Some(long_shown.as_str()),
            ),
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

    #[test]
    fn a_small_member_of_zeros_is_no_bomb() {
        // 2.5 MB of zeros deflates about 1015:1, as onnx's test tensors do
        let bytes = raw_zip(&[Z {
            deflate: true,
            ..z("input_0.pb", &vec![0u8; 2_560_015])
        }]);
        let listing = read_zip(&bytes, &Limits::new(64 << 20), &|_, _| true);
        assert!(listing.problems.is_empty(), "{:?}", listing.problems);
        let Entry::File {
            data: Some(data), ..
        } = &listing.members[0].entry
        else {
            panic!("no content kept");
        };
        assert_eq!(data.len(), 2_560_015);
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

    /// A tar of one file named by a PAX `path` record.
    fn pax(path: &str) -> Vec<u8> {
        let body = format!(" path={path}\n");
        let mut total = body.len() + 1;
        while total.to_string().len() + body.len() != total {
            total = total.to_string().len() + body.len();
        }
        let record = format!("{total}{body}");
        tar_with(|b| {
            let mut h = tar::Header::new_ustar();
            h.set_path("PaxHeaders/f").unwrap();
            h.set_entry_type(tar::EntryType::XHeader);
            h.set_size(record.len() as u64);
            h.set_cksum();
            b.append(&h, record.as_bytes()).unwrap();
            raw_name_file(b, "f", b"x");
        })
    }

    #[test]
    fn pax_and_gnu_long_names_are_read_as_members_are_named() {
        let limits = Limits::new(1 << 20);
        let listing = read_tar(
            &pax("p/long_name.py")[..],
            4096,
            &limits,
            &|_, _| true,
            None,
        );
        assert_eq!(listing.members[0].name, "p/long_name.py");
        let gnu = tar_with(|b| {
            let mut h = tar::Header::new_gnu();
            h.set_size(1);
            b.append_data(&mut h, format!("{}/x.py", "d".repeat(150)), &b"x"[..])
                .unwrap();
        });
        let listing = read_tar(&gnu[..], 4096, &limits, &|_, _| true, None);
        assert_eq!(listing.members[0].name, format!("{}/x.py", "d".repeat(150)));
        assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    }

    /// Names are read as Go's `archive/tar` and Python's `tarfile` read them (what runtimes and
    /// installers extract): a GNU long name wins over a PAX `path`, in either order, and a POSIX
    /// header of any version joins its prefix to its name.
    #[test]
    fn names_are_read_as_runtimes_read_them() {
        let limits = Limits::new(1 << 20);
        let record = "30 path=usr/share/doc/README\n";
        let long = b"site-packages/evil.pth\0";
        for gnu_first in [true, false] {
            let bytes = tar_with(|b| {
                let gnu = |b: &mut tar::Builder<&mut Vec<u8>>| {
                    let mut h = tar::Header::new_gnu();
                    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
                    h.set_entry_type(tar::EntryType::GNULongName);
                    h.set_size(long.len() as u64);
                    h.set_cksum();
                    b.append(&h, &long[..]).unwrap();
                };
                let pax = |b: &mut tar::Builder<&mut Vec<u8>>| {
                    let mut h = tar::Header::new_ustar();
                    h.set_path("PaxHeaders/f").unwrap();
                    h.set_entry_type(tar::EntryType::XHeader);
                    h.set_size(record.len() as u64);
                    h.set_cksum();
                    b.append(&h, record.as_bytes()).unwrap();
                };
                if gnu_first {
                    gnu(b);
                    pax(b);
                } else {
                    pax(b);
                    gnu(b);
                }
                raw_name_file(b, "short", b"x");
            });
            let listing = read_tar(&bytes[..], 4096, &limits, &|_, _| true, None);
            assert_eq!(
                listing.members[0].name, "site-packages/evil.pth",
                "{gnu_first}"
            );
        }
        for version in [*b"00", *b"\0\0", *b"20"] {
            let bytes = tar_with(|b| {
                let mut h = tar::Header::new_ustar();
                let raw = h.as_mut_bytes();
                raw[..8].copy_from_slice(b"evil.pth");
                raw[345..358].copy_from_slice(b"site-packages");
                raw[263..265].copy_from_slice(&version);
                h.set_size(1);
                h.set_mode(0o644);
                h.set_cksum();
                b.append(&h, &b"x"[..]).unwrap();
            });
            let listing = read_tar(&bytes[..], 4096, &limits, &|_, _| true, None);
            assert_eq!(
                listing.members[0].name, "site-packages/evil.pth",
                "{version:?}"
            );
        }
    }

    #[test]
    fn a_member_renamed_by_a_unicode_path_field_is_judged_under_both_names() {
        // `x.pth` in the directory, renamed `x/README.txt` by a 0x7075 field (version 1, the
        // CRC-32 of the name it replaces, the new name)
        let mut extra = vec![0x75, 0x70];
        let new = b"x/README.txt";
        let crc = crc32fast::hash(b"x.pth");
        extra.extend(((5 + new.len()) as u16).to_le_bytes());
        extra.push(1);
        extra.extend(crc.to_le_bytes());
        extra.extend(new);
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("x.pth", opts).unwrap();
        w.write_all(b"import os\n").unwrap();
        let plain = w.finish().unwrap().into_inner();
        // the zip crate refuses to write a renaming field: put it in by hand, in both headers
        let bytes = with_extra(&plain, b"x.pth", &extra);
        let listing = read_zip(&bytes, &Limits::new(1 << 20), &|_, _| true);
        let mut names: Vec<&str> = listing.members.iter().map(|m| m.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["x.pth", "x/README.txt"]);
        assert!(kinds(&listing).contains(&ProblemKind::HeaderMismatch));
    }

    /// `zip` with `extra` added to every header that names `name` (local and central), offsets
    /// fixed up: a zip of one stored member.
    fn with_extra(zip: &[u8], name: &[u8], extra: &[u8]) -> Vec<u8> {
        let grow = extra.len();
        let mut out = Vec::new();
        let mut at = 0;
        let put16 =
            |v: &mut Vec<u8>, i: usize, x: u16| v[i..i + 2].copy_from_slice(&x.to_le_bytes());
        let get16 = |v: &[u8], i: usize| u16::from_le_bytes([v[i], v[i + 1]]) as usize;
        let get32 = |v: &[u8], i: usize| u32::from_le_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
        while at < zip.len() {
            let sig = &zip[at..at + 4];
            if sig == b"PK\x03\x04" {
                let (n, e) = (get16(zip, at + 26), get16(zip, at + 28));
                let data = get32(zip, at + 18) as usize;
                let mut h = zip[at..at + 30 + n + e].to_vec();
                assert_eq!(&h[30..30 + n], name);
                put16(&mut h, 28, (e + grow) as u16);
                h.extend(extra);
                out.extend(h);
                out.extend(&zip[at + 30 + n + e..at + 30 + n + e + data]);
                at += 30 + n + e + data;
            } else if sig == b"PK\x01\x02" {
                let (n, e, c) = (
                    get16(zip, at + 28),
                    get16(zip, at + 30),
                    get16(zip, at + 32),
                );
                let mut h = zip[at..at + 46 + n + e].to_vec();
                put16(&mut h, 30, (e + grow) as u16);
                h.extend(extra);
                h.extend(&zip[at + 46 + n + e..at + 46 + n + e + c]);
                let cd_start = out.len();
                out.extend(h);
                at += 46 + n + e + c;
                let _ = cd_start;
            } else {
                // end of central directory: its size and offset grow
                let mut end = zip[at..].to_vec();
                let size = get32(&end, 12) + grow as u32;
                let offset = get32(&end, 16) + grow as u32;
                end[12..16].copy_from_slice(&size.to_le_bytes());
                end[16..20].copy_from_slice(&offset.to_le_bytes());
                out.extend(end);
                break;
            }
        }
        out
    }

    #[test]
    fn hostile_tars_end_in_a_named_problem() {
        let long_pax = format!("{}…", &"x/".repeat(5_000)[..MAX_NAME]);
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
            (
                "a PAX header past the cap",
                pax(&"x/".repeat(40_000)),
                ProblemKind::Exhausting,
                None,
            ),
            (
                "a PAX path past the name cap",
                pax(&"x/".repeat(5_000)),
                ProblemKind::Exhausting,
                Some(long_pax.as_str()),
            ),
        ];
        for (what, bytes, kind, member) in cases {
            let listing = read_tar(&bytes[..], bytes.len() as u64, &limits, &|_, _| true, None);
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
            None,
        );
        assert!(links.problems.is_empty());
        check_links(&mut links);
        assert_eq!(kinds(&links), [ProblemKind::Escapes, ProblemKind::Escapes]);
    }
}
