//! Python lockfiles and requirement files, read into pins: which distribution, which version,
//! from where, with which hashes, and where in the file (1-based line and column, for SARIF).
//!
//! One model for every format, so that one detector judges them all: a known-malicious pin, a
//! requirement not pinned exactly, a pin without a hash, a URL or VCS dependency without a
//! commit id, an index other than PyPI. Nothing here judges: it only reads, and says what it
//! could not read ([`Problem`]) instead of dropping it.
//!
//! Every input is hostile: no parser here panics, and the work is linear in the text (positions
//! come from one `LineIndex` built once; TOML and JSON nesting is bounded by their parsers).
//! Includes (`-r`, `-c`) are returned, never followed: the caller resolves and reads them
//! confined to the scanned tree.
//!
//! | format | file names | module |
//! | --- | --- | --- |
//! | [`Format::UvLock`] | `uv.lock` | `uv` |
//! | [`Format::PoetryLock`], [`Format::PdmLock`] | `poetry.lock`, `pdm.lock` | `poetry` (`files = [{file, hash}]` locks) |
//! | [`Format::PyLock`] | `pylock.toml`, `pylock.*.toml` (PEP 751) | `pylock` |
//! | [`Format::PipfileLock`] | `Pipfile.lock` (JSON) | `pipfile` |
//! | [`Format::Requirements`] | `requirements*.txt`, `*requirements*.txt`, `constraints*.txt` | `requirements` |
//! | [`Format::PyProject`] | `pyproject.toml` | `pyproject` |
//!
//! Shared: `tomlspan` (TOML with byte spans, recovering parse), `json` (key positions in
//! JSON), `pep508` (the dependency-specifier grammar, for requirement lines and
//! `pyproject.toml`).
//!
//! Not read, on purpose or not yet: uv.lock's `[manifest]` and per-package
//! `dependencies` (every resolved package is its own pin); Pipfile (not the lock); which group
//! (`default`/`develop`, an extra, a dependency group) a pin belongs to; the meaning of
//! markers (kept as text); `--config-settings` and other per-requirement options besides
//! `--hash`; pip's `${VAR}` expansion and shell quoting; PEP 263 encodings (the caller gives
//! UTF-8 text). A pin's column counts Unicode scalar values; SARIF's default unit is UTF-16 code
//! units, which differ only past the Basic Multilingual Plane.

mod json;
mod pep508;
mod pipfile;
mod poetry;
mod pylock;
mod pyproject;
mod requirements;
mod tomlspan;
mod uv;

use std::collections::HashSet;

/// The default index: a pin from any other index is the policy's business.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple";

/// A lockfile or requirement-file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `uv.lock` (TOML, `[[package]]`).
    UvLock,
    /// `poetry.lock` (TOML, `[[package]]` with `files`).
    PoetryLock,
    /// `pylock.toml` (PEP 751, `[[packages]]`).
    PyLock,
    /// `Pipfile.lock` (JSON, `default`/`develop`).
    PipfileLock,
    /// `pdm.lock` (TOML, `[[package]]` with `files`).
    PdmLock,
    /// pip's requirements and constraints files.
    Requirements,
    /// The dependency arrays of a `pyproject.toml`.
    PyProject,
}

impl Format {
    /// A short lower-case name (`uv.lock`, `requirements`, …).
    pub fn name(self) -> &'static str {
        match self {
            Format::UvLock => "uv.lock",
            Format::PoetryLock => "poetry.lock",
            Format::PyLock => "pylock.toml",
            Format::PipfileLock => "Pipfile.lock",
            Format::PdmLock => "pdm.lock",
            Format::Requirements => "requirements",
            Format::PyProject => "pyproject.toml",
        }
    }
}

/// The format a file name says, if any; the name is the last path component. A `.txt` under a
/// `requirements/` directory is the caller's business (this sees no directories).
pub fn format_of(file_name: &str) -> Option<Format> {
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match name {
        "uv.lock" => return Some(Format::UvLock),
        "poetry.lock" => return Some(Format::PoetryLock),
        "pylock.toml" => return Some(Format::PyLock),
        "Pipfile.lock" => return Some(Format::PipfileLock),
        "pdm.lock" => return Some(Format::PdmLock),
        "pyproject.toml" => return Some(Format::PyProject),
        _ => {}
    }
    // PEP 751: `pylock.<name>.toml`, the name non-empty and without dots
    if let Some(mid) = name
        .strip_prefix("pylock.")
        .and_then(|r| r.strip_suffix(".toml"))
        && !mid.is_empty()
        && !mid.contains('.')
    {
        return Some(Format::PyLock);
    }
    let lower = name.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".txt")
        && (stem.contains("requirements") || stem.starts_with("constraints"))
    {
        return Some(Format::Requirements);
    }
    None
}

/// One parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockfile {
    /// What it was read as.
    pub format: Format,
    /// Every pinned (or required) distribution, in file order.
    pub pins: Vec<Pin>,
    /// Index URLs the file names (`--index-url`, a lock's registries, `_meta.sources`), each once,
    /// at its first mention.
    pub indexes: Vec<Index>,
    /// Requirement and constraint files this one includes (`-r`, `-c`), unresolved.
    pub includes: Vec<Include>,
    /// What could not be read, with where.
    pub problems: Vec<Problem>,
}

/// One distribution the file pins or requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The name as written (empty when the file gives none, e.g. `-e ./dir` without `#egg=`).
    pub name: String,
    /// The PEP 503 normalised name: lower-case, runs of `-_.` as one `-`.
    pub normalized: String,
    /// The exact version: a lock's version, or the one of a single `==`/`===` specifier without
    /// a wildcard; `None` when not pinned exactly.
    pub version: Option<String>,
    /// The specifier as written (`>=1.2`, `==1.2.3`, the URL of a direct reference); for a lock,
    /// `==` and its version.
    pub requirement: String,
    /// Where the pin is: the name's first character (a requirement line, a lock's `name` key, the
    /// first character inside a `pyproject.toml` string).
    pub pos: Pos,
    /// Hashes as `algorithm:hex` (algorithm lower-cased), in file order.
    pub hashes: Vec<String>,
    /// Where the distribution comes from.
    pub source: Source,
    /// The environment marker, when the pin has one.
    pub marker: Option<String>,
    /// Whether this is an editable install (`-e`, a lock's `editable`).
    pub editable: bool,
}

/// Where a pin's distribution comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A package index; its URL when the file names it (else: whatever index is configured,
    /// PyPI by default).
    Index(Option<String>),
    /// A direct URL to an archive.
    Url(String),
    /// A version-control URL.
    Vcs {
        /// The URL as written (for pip: with its `git+` prefix, `@rev` and `#egg=`).
        url: String,
        /// A full commit id (40 or 64 hex digits) that the file fixes; never a branch or tag.
        commit: Option<String>,
    },
    /// A local path (a directory, an archive, a workspace member).
    Path(String),
}

/// A 1-based line and column; the column counts Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// An index URL the file configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The URL as written.
    pub url: String,
    /// Which role it has.
    pub kind: IndexKind,
    /// Where it is named.
    pub pos: Pos,
}

/// The role of an [`Index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// Replaces PyPI (`--index-url`, a lock's registry, a Pipfile source).
    Primary,
    /// Searched besides the primary index (`--extra-index-url`): the dependency-confusion shape.
    Extra,
    /// A page or directory of links (`--find-links`).
    FindLinks,
}

/// Another requirements file this one reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The path as written, relative to the including file.
    pub path: String,
    /// `-c`/`--constraint` rather than `-r`/`--requirement`.
    pub constraint: bool,
    /// Where the option is.
    pub pos: Pos,
}

/// Something that could not be read: said, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub pos: Pos,
    /// What, in the house voice (lower-case start, no trailing period).
    pub message: String,
    /// Whether part of the lock was not read at all (not only read with recovery): the scan
    /// is then incomplete.
    pub unread: bool,
}

/// Reads `text` as `format`. Never panics; whatever cannot be read is a [`Problem`].
pub fn parse(format: Format, text: &str) -> Lockfile {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Out::new(format, text);
    match format {
        Format::UvLock => uv::parse(text, &mut out),
        Format::PoetryLock => poetry::parse(text, &mut out, poetry::Flavour::Poetry),
        Format::PdmLock => poetry::parse(text, &mut out, poetry::Flavour::Pdm),
        Format::PyLock => pylock::parse(text, &mut out),
        Format::PipfileLock => pipfile::parse(text, &mut out),
        Format::Requirements => requirements::parse(text, &mut out),
        Format::PyProject => pyproject::parse(text, &mut out),
    }
    out.lock
}

/// PEP 503 normalisation, as the malicious-package database compares names.
pub use pthscan_db::normalize;

/// Whether `url` is the default index, PyPI's simple API (a trailing `/` and the case of the
/// scheme and host aside). A `--index-url` or registry that is not this is the policy's business.
pub fn is_default_index(url: &str) -> bool {
    let url = url.trim().trim_end_matches('/');
    url.len() == PYPI_SIMPLE.len()
        && url.is_char_boundary(16)
        && url[..16].eq_ignore_ascii_case(&PYPI_SIMPLE[..16])
        && url[16..] == PYPI_SIMPLE[16..]
}

impl Source {
    /// A version-control source; `commit` counts only when it is a full commit id (a branch or a
    /// tag can move).
    fn vcs(url: &str, commit: Option<&str>) -> Source {
        Source::Vcs {
            url: url.to_owned(),
            commit: commit.filter(|c| is_commit_id(c)).map(str::to_owned),
        }
    }
}

/// Whether `s` is a full commit id: 40 (SHA-1) or 64 (SHA-256) hex digits.
pub fn is_commit_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A hash as `algorithm:hex`, the algorithm lower-cased; `algo=hex` (pylock tables, some
/// requirement files) is accepted too.
fn normalize_hash(h: &str) -> Option<String> {
    let (algo, digest) = h.trim().split_once([':', '='])?;
    if algo.is_empty() || digest.is_empty() {
        return None;
    }
    Some(format!("{}:{}", algo.to_ascii_lowercase(), digest))
}

/// What a lock says of one package besides its name and version.
struct LockPin {
    hashes: Vec<String>,
    source: Source,
    marker: Option<String>,
    editable: bool,
}

impl LockPin {
    fn new(source: Source) -> Self {
        LockPin {
            hashes: Vec::new(),
            source,
            marker: None,
            editable: false,
        }
    }

    /// Adds a hash as written (repeats kept: a dedup would be quadratic on a hostile list).
    fn hash(&mut self, h: &str) {
        if let Some(h) = normalize_hash(h) {
            self.hashes.push(h);
        }
    }
}

/// The accumulating result plus the position table of the text.
struct Out<'t> {
    lock: Lockfile,
    lines: LineIndex<'t>,
    seen_indexes: HashSet<(String, IndexKind)>,
    /// Where the part of the text being read starts: offsets given to `Out` are relative to it
    /// (a lock read one `[[package]]` table at a time, see `tomlspan::parse_by_table`).
    base: usize,
}

impl<'t> Out<'t> {
    fn new(format: Format, text: &'t str) -> Self {
        Out {
            lock: Lockfile {
                format,
                pins: Vec::new(),
                indexes: Vec::new(),
                includes: Vec::new(),
                problems: Vec::new(),
            },
            lines: LineIndex::new(text),
            seen_indexes: HashSet::new(),
            base: 0,
        }
    }

    /// The part of the text being read (offsets are relative to its start).
    fn text(&self) -> &'t str {
        self.lines.text.get(self.base..).unwrap_or("")
    }

    fn pos(&mut self, offset: usize) -> Pos {
        self.lines.pos(self.base + offset)
    }

    fn problem(&mut self, offset: usize, message: impl Into<String>) {
        let pos = self.pos(offset);
        self.lock.problems.push(Problem {
            pos,
            message: message.into(),
            unread: false,
        });
    }

    /// A part of the lock left unread: the scan says it is incomplete.
    fn unread(&mut self, offset: usize, message: impl Into<String>) {
        self.problem(offset, message);
        if let Some(p) = self.lock.problems.last_mut() {
            p.unread = true;
        }
    }

    /// Records one package of a lock: the version is the lock's, the requirement `==version`.
    fn lock_pin(&mut self, name: &str, version: Option<&str>, offset: usize, lock: LockPin) {
        let pos = self.pos(offset);
        self.lock.pins.push(Pin {
            name: name.to_owned(),
            normalized: normalize(name),
            version: version.map(str::to_owned),
            requirement: version.map_or_else(String::new, |v| format!("=={v}")),
            pos,
            hashes: lock.hashes,
            source: lock.source,
            marker: lock.marker,
            editable: lock.editable,
        });
    }

    /// Records an index URL once (the first mention wins).
    fn index(&mut self, url: &str, kind: IndexKind, offset: usize) {
        if !self.seen_indexes.insert((url.to_owned(), kind)) {
            return;
        }
        let pos = self.pos(offset);
        self.lock.indexes.push(Index {
            url: url.to_owned(),
            kind,
            pos,
        });
    }
}

/// Byte offsets to 1-based line and character column, in O(log lines) per lookup plus the
/// characters between two lookups on one non-ASCII line (lookups mostly come in file order, so
/// a one-line JSON file with a hundred thousand pins stays linear).
struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset of each line's start, and whether the line is all ASCII.
    starts: Vec<(usize, bool)>,
    /// The last non-ASCII lookup: (offset, line index, column), to count on from.
    last: Option<(usize, usize, u32)>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = Vec::new();
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push((start, text.as_bytes()[start..i].is_ascii()));
                start = i + 1;
            }
        }
        starts.push((start, text.as_bytes()[start..].is_ascii()));
        LineIndex {
            text,
            starts,
            last: None,
        }
    }

    fn pos(&mut self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&(s, _)| s <= offset) - 1;
        let (start, ascii) = self.starts[line];
        let column = if ascii {
            (offset - start) as u64 + 1
        } else {
            let (from, col) = match self.last {
                Some((o, l, c)) if l == line && o <= offset => (o, c),
                _ => (start, 1),
            };
            let col = col + self.text[from..offset].chars().count() as u32;
            self.last = Some((offset, line, col));
            u64::from(col)
        };
        Pos {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests;
