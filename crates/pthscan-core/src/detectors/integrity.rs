//! INT: installed files against what installed them. Every file a distribution's `RECORD`
//! lists (inside the environment: a row that leaves it is refused and said) is checked for
//! presence and size, and hashed whole when it is start-up code (a hook, a customize module, a
//! module a hook runs) or with `--deep`; every file of a site directory is
//! checked for an owner — a `RECORD`, an egg's `installed-files.txt`, a conda package's
//! `conda-meta` record, or the system package manager (dpkg). Hashing runs in parallel.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::{Ctx, EVIDENCE_CHARS, RuleDoc};
use crate::diagnostic::Diagnostic;
use crate::discovery::EnvKind;
use crate::discovery::Finder;
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::fs::walk::Enter;
use crate::fs::{Kind, Tree};
use crate::fs::{join_normalized, normalize};
use crate::python::record;

/// The rules.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "INT001",
        fix: super::Fix::Reinstall,
        rotate: &[],
        title: "installed files missing",
        what: "Files a distribution's RECORD lists that are not on disk, one finding per \
               distribution. Low; medium when a missing file is a start-up hook.",
        why: "Deleted after install: a cleanup by hand, a half-done uninstall, or an intruder \
              covering tracks.",
        example: "…/site-packages/requests-2.32.3.dist-info/RECORD: 3 listed files missing → low",
        references: &[
            "README.md#integrity-and-persistence",
            "PEP 376 (RECORD)",
            "pip check / pip-audit practice",
        ],
    },
    &RuleDoc {
        id: "INT002",
        fix: super::Fix::Reinstall,
        rotate: &[],
        title: "installed file differs from its RECORD",
        what: "A file whose size or hash is not the one its distribution's RECORD gives. Low for \
               a size-only change of an ordinary file, medium for a changed ordinary file, high \
               when the file is start-up code (a hook, a customize module, a module a hook \
               imports). Hashes are checked for start-up code, and for every file with --deep, \
               always over the whole file whatever --max-file-size says.",
        why: "Changed after install — the LiteLLM 1.82.7 shape edited an installed module; some \
              honest packages ship a wrong RECORD, hence the low floor.",
        example: "…/site-packages/litellm/proxy/proxy_server.py (hash differs) → medium",
        references: &[
            "PEP 376 (RECORD)",
            "docs/threats/litellm.md#timeline-and-attribution",
        ],
    },
    &RuleDoc {
        id: "INT003",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "start-up hook owned by no installed distribution",
        what: "A `.pth` or `.start` file, or a `sitecustomize`/`usercustomize` module, in a site \
               directory that no RECORD, egg record, conda record or system package lists. High; \
               medium when its content is a known-good hook.",
        why: "Installers record every file they write: a hook nobody installed was planted.",
        example: "…/site-packages/zz_init.pth (no owner) → high",
        references: &["PEP 376 (RECORD)", "docs/threats/startup-hooks.md"],
    },
    &RuleDoc {
        id: "INT004",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "module planted in a distribution's package",
        what: "A `.py`, `.pyc` or extension module with no owner inside a package directory \
               whose other files a distribution owns. Medium.",
        why: "Dropping a module into an installed package makes it importable under a trusted \
              name, and no RECORD check sees it.",
        example: "…/site-packages/requests/_telemetry.py (no owner; requests owns its siblings) → medium",
        references: &["README.md#integrity-and-persistence", "PEP 376 (RECORD)"],
    },
    &RuleDoc {
        id: "INT005",
        fix: super::Fix::Uninstall,
        rotate: super::EVERY_CREDENTIAL,
        title: "RECORD lists a hook the distribution never ships",
        what: "A RECORD of a distribution that the known-good table says never ships a start-up \
               hook lists a `.pth`, `.start` or customize module. High.",
        why: "The wheel was rebuilt by someone else, RECORD regenerated to match: the LiteLLM \
              1.82.8 wheel listed litellm_init.pth in a RECORD that pip accepted.",
        example: "…/litellm-1.82.8.dist-info/RECORD:1021 lists litellm_init.pth → high",
        references: &[
            "docs/threats/litellm.md#timeline-and-attribution",
            "signatures/known-good.toml (no_hooks)",
        ],
    },
    &RuleDoc {
        id: "INT006",
        fix: super::Fix::Review,
        rotate: &[],
        title: "files owned by no installed distribution",
        what: "The count of other files in a site directory that no installer recorded, with \
               examples. Info.",
        why: "Context for a responder: leftovers of `setup.py install`, hand copies, or a \
              planted tree.",
        example: "…/site-packages: 412 files owned by no installed distribution → info",
        references: &["README.md#integrity-and-persistence", "PEP 376 (RECORD)"],
    },
];

/// Whether a file name is a start-up hook's.
fn is_hook_name(name: &str) -> bool {
    name.ends_with(".pth")
        || name.ends_with(".start")
        || name.starts_with("sitecustomize")
        || name.starts_with("usercustomize")
}

/// One RECORD row to check.
/// A file a RECORD lists.
pub struct Listed {
    path: PathBuf,
    row: record::RecordRow,
    /// Shared by every row of one RECORD (a host lists hundreds of thousands of files).
    dist: Arc<str>,
    record: Arc<Path>,
}

impl Listed {
    /// `name version` of the distribution whose RECORD lists the file, the version read from
    /// its `NAME-VERSION.dist-info` directory (the name alone where it has none).
    fn release(&self) -> String {
        let version = self
            .record
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".dist-info"))
            .and_then(|n| n.split_once('-'))
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty());
        match version {
            Some(v) => format!("{} {v}", self.dist),
            None => self.dist.to_string(),
        }
    }
}

/// The files an environment's records list. Among them the pending ones: those whose hash
/// `--deep` checks as it reads them for the payload rules (one read of each file, not two),
/// with [`Listed::hasher`] and [`Listed::verdict`]; what it does not read is hashed by
/// [`Listing::hash_rest`].
#[derive(Default)]
pub struct Listing {
    listed: Vec<Listed>,
    pending: Vec<usize>,
    /// What each RECORD read tells the inventory.
    pub records: Vec<RecordFacts>,
}

/// What the inventory takes from a RECORD read for the check (read once, for both).
#[derive(Debug, Clone)]
pub struct RecordFacts {
    /// The metadata file of the distribution it belongs to.
    pub metadata: PathBuf,
    /// Lowercase hex SHA-256 of the RECORD.
    pub sha256: String,
    /// The top-level import names its rows list.
    pub top_level: Vec<String>,
}

impl Listing {
    /// The pending files by path.
    pub fn by_path(&self) -> HashMap<&std::ffi::OsStr, &Listed> {
        self.pending
            .iter()
            .map(|&i| (self.listed[i].path.as_os_str(), &self.listed[i]))
            .collect()
    }

    /// Hashes the pending files not in `done`, in parallel: the findings, and what could not
    /// be hashed.
    pub fn hash_rest(
        &self,
        tree: &dyn Tree,
        env_root: &Path,
        done: &HashSet<&std::ffi::OsStr>,
    ) -> (Vec<Finding>, Vec<Diagnostic>) {
        self.pending
            .par_iter()
            .map(|&i| &self.listed[i])
            .filter(|l| !done.contains(l.path.as_os_str()))
            .filter_map(|l| {
                match check_listed(tree, env_root, l, None, &Default::default(), Hashing::Now) {
                    Checked::Found(f) => Some((vec![*f], Vec::new())),
                    Checked::Unhashed(d) => Some((Vec::new(), vec![d])),
                    _ => None,
                }
            })
            .reduce(Default::default, |mut a, b| {
                a.0.extend(b.0);
                a.1.extend(b.1);
                a
            })
    }

    /// The listed files, present, that are not in `walked` nor in `skip`: what a deep scan of
    /// the import directories does not reach (a distribution's `bin/` scripts, data files
    /// under the prefix), each once. Every one is inside the environment (see [`check`]).
    pub fn beyond(
        &self,
        tree: &dyn Tree,
        walked: &HashSet<&std::ffi::OsStr>,
        skip: &HashSet<PathBuf>,
    ) -> Vec<PathBuf> {
        let mut seen = HashSet::new();
        self.listed
            .iter()
            .map(|l| l.path.as_path())
            .filter(|p| !walked.contains(p.as_os_str()) && !skip.contains(*p))
            .filter(|p| seen.insert(*p))
            .filter(|p| tree.kind(p).is_some())
            .map(Path::to_path_buf)
            .collect()
    }

    /// Names the distribution whose RECORD lists the file of each finding that names none.
    pub fn attribute(&self, findings: &mut [Finding]) {
        let mut owner: foldhash::HashMap<OsString, Option<&Listed>> = findings
            .iter()
            .filter(|f| f.distribution.is_none())
            .map(|f| (f.location.path.clone().into_os_string(), None))
            .collect();
        if owner.is_empty() {
            return;
        }
        for l in &self.listed {
            if let Some(slot) = owner.get_mut(l.path.as_os_str()) {
                *slot = Some(l);
            }
        }
        for f in findings.iter_mut().filter(|f| f.distribution.is_none()) {
            f.distribution = owner
                .get(f.location.path.as_os_str())
                .and_then(|l| l.map(Listed::release));
        }
    }

    /// The archives among the listed files that a RECORD row gives a size and a hash for and
    /// that `found` (this check's findings) does not say changed: installed files like any
    /// other (virtualenv's seed wheels), which the default scan does not open.
    pub fn recorded_archives(&self, found: &[Finding]) -> Vec<PathBuf> {
        let changed: HashSet<&Path> = found
            .iter()
            .filter(|f| f.rule == "INT002")
            .map(|f| f.location.path.as_path())
            .collect();
        self.listed
            .iter()
            .filter(|l| {
                l.row.hash.is_some()
                    && l.row.size.is_some()
                    // the extension ends the path as it ends the file name
                    && crate::sources::artifact::has_archive_name(l.path.as_os_str().as_encoded_bytes())
                    && !changed.contains(l.path.as_path())
            })
            .map(|l| l.path.clone())
            .collect()
    }
}

impl Listed {
    /// The file's name: what follows the last `/` of the joined, normal path (found without
    /// parsing components: asked of every listed file).
    fn name(&self) -> std::borrow::Cow<'_, str> {
        let path = self.path.as_os_str().as_encoded_bytes();
        String::from_utf8_lossy(path.rsplit(|&b| b == b'/').next().unwrap_or(path))
    }

    /// A hasher for the digest its RECORD row gives, if it gives one we know.
    pub fn hasher(&self) -> Option<record::RecordHasher> {
        record::RecordHasher::new(&self.row.hash.as_ref()?.0)
    }

    /// INT002 when the file, of `size` bytes, hashed by `hasher`, is not what RECORD lists.
    pub fn verdict(
        &self,
        env_root: &Path,
        hasher: record::RecordHasher,
        size: u64,
    ) -> Option<Finding> {
        let digest = &self.row.hash.as_ref()?.1;
        changed(env_root, self, size, !hasher.matches(digest), false)
    }
}

/// When listed files that are not start-up code are hashed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// Never (a size check only: the default scan).
    Never,
    /// Now, reading each file (what the deferred ones get when nothing else read them).
    Now,
    /// Later, by whoever reads the file anyway (`--deep`).
    Deferred,
}

/// The largest RECORD read (about 100,000 rows).
pub(crate) const MAX_RECORD: u64 = 8 << 20;

/// At most this many RECORD rows are held for one environment, all its distributions together:
/// each costs a few hundred bytes until the check ends, and one RECORD hard-linked into many
/// `*.dist-info` directories costs nothing on disk.
pub(crate) const MAX_RECORD_ROWS: usize = 200_000;

/// What one distribution's record gave.
enum Recorded {
    /// An egg's `installed-files.txt`: owned files, no sizes or hashes.
    Egg(Vec<PathBuf>),
    /// A RECORD's rows, INT005 findings, notes on rows not checked, and what the inventory
    /// takes from it.
    Record(Vec<Listed>, Vec<Finding>, Vec<Diagnostic>, RecordFacts),
    /// A RECORD refused.
    Refused(Diagnostic),
    /// No record (a distro-built dist-info: owned by the package manager).
    Nothing,
}

/// Reads and parses the record of the distribution whose metadata file is `meta`, in the
/// environment rooted at `env_root`.
fn recorded(
    tree: &dyn Tree,
    sigs: &pthscan_signatures::Signatures,
    env_root: &Path,
    site: &Path,
    meta: &Path,
    rows_held: &std::sync::atomic::AtomicUsize,
) -> Recorded {
    let Some((info, info_name, dist)) = crate::python::dist::info_dir(meta) else {
        return Recorded::Nothing;
    };
    if info_name.ends_with(".egg-info") && tree.is_dir(info) {
        let list = info.join("installed-files.txt");
        let files = match tree.read_unhashed(&list) {
            Ok(files) => files,
            Err(err) if err.is_missing() => return Recorded::Nothing,
            Err(err) => return Recorded::Refused(unreadable_record(&list, &err)),
        };
        return Recorded::Egg(
            String::from_utf8_lossy(&files.bytes)
                .lines()
                .map(|line| normalize(&info.join(line.trim())))
                .collect(),
        );
    }
    if !info_name.ends_with(".dist-info") {
        return Recorded::Nothing;
    }
    let record_path = info.join("RECORD");
    if let Some(size) = tree.file_size(&record_path)
        && size > MAX_RECORD
    {
        // each row costs memory until the check ends: a RECORD no package has is refused
        return Recorded::Refused(Diagnostic::incomplete(
            &record_path,
            format!(
                "RECORD is {size} bytes, more than the {MAX_RECORD} any real package's has (torch's is 1.5 MB): its files were not checked"
            ),
        ));
    }
    let text = match tree.read_unhashed(&record_path) {
        Ok(text) => text,
        Err(err) if err.is_missing() => return Recorded::Nothing,
        Err(err) => return Recorded::Refused(unreadable_record(&record_path, &err)),
    };
    // every row is held until the environment's check ends: counted before any is parsed
    let lines = memchr::memchr_iter(b'\n', &text.bytes).count() + 1;
    let before = rows_held.fetch_add(lines, std::sync::atomic::Ordering::Relaxed);
    if before + lines > MAX_RECORD_ROWS {
        return Recorded::Refused(Diagnostic::incomplete(
            &record_path,
            format!(
                "{lines} rows, past the {MAX_RECORD_ROWS} rows this environment's records may hold together (the 2.5 GB environment of 214 packages has 55,000): its files were not checked"
            ),
        ));
    }
    let owner: Arc<str> = Arc::from(dist.as_str());
    let shared_record: Arc<Path> = Arc::from(record_path.as_path());
    // a site directory found by a walk is normal already; one given otherwise is made so
    let site = normalize(site);
    let mut found = Vec::new();
    let rows = record::parse(&String::from_utf8_lossy(&text.bytes));
    let facts = RecordFacts {
        metadata: meta.to_path_buf(),
        sha256: crate::fs::sha256_hex(&text.bytes),
        top_level: crate::python::dist::record_top_level(rows.iter().map(|r| r.path.as_str())),
    };
    let mut listed = Vec::with_capacity(rows.len());
    // rows not checked, said once per RECORD: paths that leave the environment, and hash
    // names RECORD does not allow or we cannot check (each with its first row)
    let mut outside: (usize, Option<String>) = (0, None);
    let mut unchecked: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for row in rows {
        if !row.path.contains('/')
            && let Some(entry) = sigs.known_good.ships_no_hooks(&dist, &row.path)
        {
            found.push(Finding {
                rule: "INT005".into(),
                severity: Severity::High,
                location: Location {
                    path: record_path.clone(),
                    line: Some(row.line),
                    column: None,
                },
                environment: Some(env_root.to_path_buf()),
                message: format!(
                    "{dist}'s RECORD lists the start-up hook `{}`, but {dist} never ships one ({}): the wheel was rebuilt",
                    row.path, entry.id
                ),
                evidence: excerpt(&row.path, EVIDENCE_CHARS),
                reference: Some(entry.reference.clone()),
                ..Default::default()
            });
        }
        let path = join_normalized(&site, &row.path);
        if !path.starts_with(env_root) {
            outside.0 += 1;
            outside.1.get_or_insert(row.path);
            continue;
        }
        if let Some((algo, _)) = &row.hash
            && record::HashName::of(algo) != record::HashName::Supported
        {
            unchecked.entry(algo.to_string()).or_insert((row.line, 0)).1 += 1;
        }
        listed.push(Listed {
            path,
            row,
            dist: Arc::clone(&owner),
            record: Arc::clone(&shared_record),
        });
    }
    let mut notes = Vec::new();
    if let (n, Some(first)) = outside {
        notes.push(Diagnostic::note(
            &record_path,
            format!(
                "lists {n} file(s) outside the environment `{}` (the first: `{first}`): refused, not checked",
                crate::pathfmt::display_path(env_root)
            ),
        ));
    }
    for (algo, (line, n)) in &unchecked {
        let why = record::HashName::unchecked(algo).unwrap_or_default();
        notes.push(Diagnostic::note(
            &record_path,
            format!(
                "{n} row(s) from line {line} give a hash named {why}: their files are checked for presence and size only"
            ),
        ));
    }
    Recorded::Record(listed, found, notes, facts)
}

/// Checks every distribution of the environment against its records, and every file of its
/// site directories for an owner. `startup` holds the files read as start-up code; `hashing`
/// says when listed files that are not start-up code are hashed. `finder`, when discovery did
/// not enter the site directories, is shown every entry of this check's walk of them. Returns
/// the findings and the files the records list. Records are read and parsed in parallel.
pub fn check(
    ctx: &Ctx<'_>,
    metadata: &[(PathBuf, PathBuf)],
    startup: &HashSet<PathBuf>,
    hashing: Hashing,
    finder: Option<&mut Finder>,
) -> (Vec<Finding>, Listing) {
    let tree = ctx.tree;
    let mut out = Vec::new();
    let (sigs, env_root) = (ctx.sigs, &ctx.env.root);
    // the records and a walk of the site directories that takes every file's size as it lists
    // it, at once; a listed file the walk did not see as a regular file (a link, something
    // outside the site directories, or missing) is then looked up by its path
    let rows_held = std::sync::atomic::AtomicUsize::new(0);
    let (records, (walked, problems)): (Vec<Recorded>, _) = rayon::join(
        || {
            metadata
                .par_iter()
                .map(|(site, meta)| recorded(tree, sigs, env_root, site, meta, &rows_held))
                .collect()
        },
        || site_files(tree, &ctx.env.site_dirs, finder),
    );
    ctx.diagnostics.borrow_mut().extend(problems);
    let mut listed: Vec<Listed> = Vec::new();
    let mut other_owned: Vec<PathBuf> = Vec::new();
    let mut facts = Vec::new();
    for r in records {
        match r {
            Recorded::Egg(files) => other_owned.extend(files),
            Recorded::Record(rows, found, notes, f) => {
                facts.push(f);
                out.extend(found);
                listed.extend(rows);
                ctx.diagnostics.borrow_mut().extend(notes);
            }
            Recorded::Refused(d) => ctx.diagnostics.borrow_mut().push(d),
            Recorded::Nothing => {}
        }
    }
    if ctx.env.kind == EnvKind::Conda {
        other_owned.extend(conda_owned(tree, &ctx.env.root));
    }
    // looked up once per listed file: by the path's bytes, not component by component
    let startup: foldhash::HashSet<&OsStr> = startup.iter().map(|p| p.as_os_str()).collect();
    let walked = Walked::new(&walked);
    // The presence and size of every listed file (hashes of start-up code; of all with
    // --deep), marking the walked files it owns. Of the listed files only what differs is
    // kept (a finding is a few hundred bytes; most files are fine).
    let results: Vec<(usize, Checked)> = listed
        .par_iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let size = walked.own(l.path.as_os_str());
            match check_listed(tree, env_root, l, size, &startup, hashing) {
                Checked::Fine => None,
                found => Some((i, found)),
            }
        })
        .collect();
    for path in &other_owned {
        walked.own(path.as_os_str());
    }
    let strays = unowned(sigs, ctx.env, ctx.system_owned, &walked);
    let mut missing: BTreeMap<(&str, &Path), (Vec<&str>, bool)> = BTreeMap::new();
    let mut pending = Vec::new();
    for (i, checked) in results {
        let l = &listed[i];
        let f = match checked {
            Checked::Defer => {
                pending.push(i);
                continue;
            }
            Checked::Found(f) => *f,
            Checked::Unhashed(d) => {
                ctx.diagnostics.borrow_mut().push(d);
                continue;
            }
            Checked::Fine => continue,
        };
        if f.rule == "INT001" {
            let e = missing.entry((&l.dist, &l.record)).or_default();
            e.0.push(&l.row.path);
            e.1 |= is_hook_name(&l.name());
        } else {
            out.push(f);
        }
    }
    for ((dist, record_path), (mut paths, hook)) in missing {
        // a distribution the system's package manager installed: its packaging moved what
        // RECORD lists outside the site directory (Debian's `../scripts/pip` is `/usr/bin/pip`)
        if ctx.system_owned.contains(record_path.as_os_str()) {
            paths.retain(|p| !p.starts_with("../"));
            if paths.is_empty() {
                continue;
            }
        }
        out.push(Finding {
            rule: "INT001".into(),
            severity: if hook {
                Severity::Medium
            } else {
                Severity::Low
            },
            location: Location {
                path: record_path.to_path_buf(),
                line: None,
                column: None,
            },
            environment: Some(ctx.env.root.clone()),
            message: format!(
                "{} file(s) that {dist}'s RECORD lists are missing",
                paths.len()
            ),
            evidence: excerpt(&paths.join(", "), EVIDENCE_CHARS),
            ..Default::default()
        });
    }
    out.extend(strays);
    (
        out,
        Listing {
            listed,
            pending,
            records: facts,
        },
    )
}

/// What checking one listed file gave.
enum Checked {
    /// As listed (or not checkable).
    Fine,
    /// Missing or changed.
    Found(Box<Finding>),
    /// Present, its hash left to whoever reads it.
    Defer,
    /// Present, and its hash could not be checked: said, never skipped in silence.
    Unhashed(Diagnostic),
}

/// Checks one listed file; `walked` is its size when a walk saw it as a regular file.
fn check_listed(
    tree: &dyn Tree,
    env_root: &Path,
    l: &Listed,
    walked: Option<u64>,
    startup: &foldhash::HashSet<&OsStr>,
    hashing: Hashing,
) -> Checked {
    let name = l.name();
    if name.ends_with(".pyc") && l.row.hash.is_none() {
        return Checked::Fine; // compiled on install, unhashed by design
    }
    let Some(size) = walked.or_else(|| tree.file_size(&l.path)) else {
        return Checked::Found(Box::new(Finding {
            rule: "INT001".into(),
            ..Default::default()
        }));
    };
    let Some((algo, digest)) = l.row.hash.as_ref() else {
        return Checked::Fine;
    };
    let critical = is_hook_name(&name) || startup.contains(l.path.as_os_str());
    let hash_differs = if critical || hashing == Hashing::Now {
        // a hash name we cannot check is said once for its RECORD (see `recorded`)
        let Some(mut hasher) = record::RecordHasher::new(algo) else {
            return Checked::Fine;
        };
        match hash_whole(tree, &l.path, &mut hasher) {
            Ok(()) => !hasher.matches(digest),
            Err(why) => return Checked::Unhashed(unhashed(&l.path, &why)),
        }
    } else if hashing == Hashing::Deferred {
        return Checked::Defer;
    } else {
        false
    };
    changed(env_root, l, size, hash_differs, critical)
        .map_or(Checked::Fine, |f| Checked::Found(Box::new(f)))
}

/// Hashes the whole file at `path`, whatever its size (`--max-file-size` caps what is judged,
/// not what is hashed), streamed: a 500 MB extension module costs one window of memory. Fails
/// with why when the file cannot be read whole.
pub fn hash_whole(
    tree: &dyn Tree,
    path: &Path,
    hasher: &mut record::RecordHasher,
) -> Result<(), String> {
    match tree.read_windows_upto(path, u64::MAX, 1 << 20, 0, &mut |_, bytes| {
        hasher.update(bytes)
    }) {
        Ok((_, false)) => Ok(()),
        Ok((size, true)) => Err(short_read(size)),
        Err(err) => Err(err.to_string()),
    }
}

/// Why a file was not hashed whole: only its head is in memory (an artifact member past the
/// cap, in a stream that cannot be read again).
pub fn short_read(size: u64) -> String {
    format!("only the head of its {size} bytes is held and the rest cannot be read again")
}

/// A listed file whose RECORD hash could not be checked.
pub fn unhashed(path: &Path, why: &str) -> Diagnostic {
    Diagnostic::incomplete(path, format!("{why}: its RECORD hash was not checked"))
}

/// INT002 for a listed file of `size` bytes whose hash does or does not differ.
fn changed(
    env_root: &Path,
    l: &Listed,
    size: u64,
    hash_differs: bool,
    critical: bool,
) -> Option<Finding> {
    let (algo, digest) = l.row.hash.as_ref()?;
    let size_differs = l.row.size.is_some_and(|s| s != size);
    if !size_differs && !hash_differs {
        return None;
    }
    let severity = match (critical, hash_differs) {
        (true, _) => Severity::High,
        (false, true) => Severity::Medium,
        (false, false) => Severity::Low,
    };
    let what = if hash_differs { "content" } else { "size" };
    let mut notes = vec![format!(
        "RECORD: {} line {}",
        crate::pathfmt::display_path(&l.record),
        l.row.line
    )];
    if critical {
        notes.push("this file runs at interpreter start-up".into());
    }
    Some(Finding {
        rule: "INT002".into(),
        severity,
        location: Location {
            path: l.path.clone(),
            line: None,
            column: None,
        },
        environment: Some(env_root.to_path_buf()),
        message: format!(
            "{what} differs from what {}'s RECORD lists: changed after install",
            l.dist
        ),
        evidence: excerpt(
            &format!(
                "{},{algo}={digest},{}",
                l.row.path,
                l.row.size.map(|s| s.to_string()).unwrap_or_default()
            ),
            EVIDENCE_CHARS,
        ),
        notes,
        ..Default::default()
    })
}

/// The files (and symlinks) of one site directory, each regular file with its size.
type SiteFiles = Vec<(PathBuf, Option<u64>)>;

/// The files (and symlinks) of each site directory, a directory's together, with each regular
/// file's size, and what could not be listed. `__pycache__` holds what the interpreter
/// compiled, never recorded file by file: its files are not listed, and not `stat`ed. A
/// `finder` is shown every entry, `__pycache__`'s too: discovery left these directories to
/// this walk ([`Depth::UpToSiteDirs`]), and what is nested in them (an environment, an
/// archive) is found here.
///
/// [`Depth::UpToSiteDirs`]: crate::discovery::Depth::UpToSiteDirs
fn site_files(
    tree: &dyn Tree,
    site_dirs: &[PathBuf],
    mut finder: Option<&mut Finder>,
) -> (Vec<SiteFiles>, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let listed = site_dirs
        .iter()
        .map(|site| {
            let mut files = Vec::new();
            let in_pycache = |path: &Path| {
                path.strip_prefix(site)
                    .is_ok_and(|rel| rel.components().any(|c| c.as_os_str() == "__pycache__"))
            };
            problems.extend(tree.walk_sized(site, &mut |path, kind, size| {
                // bytes, not components: asked of every entry
                if let Some(finder) = finder.as_deref_mut()
                    && path.as_os_str() != site.as_os_str()
                {
                    finder.see(tree, path, kind);
                }
                match kind {
                    // `__pycache__`, and a directory inside one
                    Kind::Dir if in_pycache(path) => {
                        if finder.is_some() {
                            Enter::Unsized
                        } else {
                            Enter::No
                        }
                    }
                    // a file of a directory entered unsized has no size: only there is it
                    // worth asking where it is
                    Kind::File | Kind::Symlink if size.is_none() && in_pycache(path) => Enter::No,
                    Kind::File | Kind::Symlink => {
                        files.push((path.to_path_buf(), size));
                        Enter::Sized
                    }
                    Kind::Dir | Kind::Other => Enter::Sized,
                }
            }));
            files
        })
        .collect();
    (listed, problems)
}

/// The files a walk of the site directories saw ([`site_files`]), by path: each one's size,
/// and whether an installer recorded it.
struct Walked<'w> {
    sites: &'w [SiteFiles],
    /// Each path's number (its first place in `sites`, counted as unique paths) and size.
    by_path: foldhash::HashMap<&'w OsStr, (u32, Option<u64>)>,
    /// The number of the path at each place in `sites` (a path twice in nested site
    /// directories has one number).
    number: Vec<u32>,
    /// Whether the file of each number is owned.
    owned: Vec<AtomicBool>,
}

impl<'w> Walked<'w> {
    fn new(sites: &'w [SiteFiles]) -> Walked<'w> {
        let n = sites.iter().map(Vec::len).sum();
        let mut by_path: foldhash::HashMap<&OsStr, (u32, Option<u64>)> = Default::default();
        by_path.reserve(n);
        let mut number = Vec::with_capacity(n);
        for (path, size) in sites.iter().flatten() {
            let next = by_path.len() as u32;
            number.push(by_path.entry(path.as_os_str()).or_insert((next, *size)).0);
        }
        let owned = (0..by_path.len()).map(|_| AtomicBool::new(false)).collect();
        Walked {
            sites,
            by_path,
            number,
            owned,
        }
    }

    /// Marks `path` owned, if the walk saw it; its size if it is a regular file.
    fn own(&self, path: &OsStr) -> Option<u64> {
        let &(number, size) = self.by_path.get(path)?;
        self.owned[number as usize].store(true, Ordering::Relaxed);
        size
    }

    /// The files of each site directory, each with whether it is owned.
    fn sites(&self) -> impl Iterator<Item = impl Iterator<Item = (&'w Path, bool)> + '_> + '_ {
        let mut place = 0;
        self.sites.iter().map(move |files| {
            let start = place;
            place += files.len();
            files.iter().enumerate().map(move |(i, (path, _))| {
                let number = self.number[start + i] as usize;
                (path.as_path(), self.owned[number].load(Ordering::Relaxed))
            })
        })
    }
}

/// Files of the site directories (as [`site_files`] walked them) that nobody installed.
fn unowned(
    sigs: &pthscan_signatures::Signatures,
    env: &crate::discovery::Environment,
    system_owned: &HashSet<OsString>,
    walked: &Walked<'_>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (site, files) in env.site_dirs.iter().zip(walked.sites()) {
        let mut strays: Vec<&Path> = Vec::new();
        // package directories (first level) with at least one owned file
        let mut owned_dirs: foldhash::HashSet<&OsStr> = Default::default();
        let mut last_owned_dir = None;
        for (path, owned) in files {
            let by_system = || !system_owned.is_empty() && system_owned.contains(path.as_os_str());
            if owned || by_system() {
                // a directory's files come together: one set insert per directory, not per file
                if let Some(dir) = path.parent().map(Path::as_os_str)
                    && last_owned_dir != Some(dir)
                {
                    last_owned_dir = Some(dir);
                    owned_dirs.insert(dir);
                }
            } else {
                strays.push(path);
            }
        }
        // ownership means something only where an installer recorded what it wrote: a site
        // directory in which nothing is owned (a hand-made tree, a distro site without its
        // package database) says nothing about any one file
        if owned_dirs.is_empty() {
            continue;
        }
        let mut rest = Vec::new();
        for path in strays {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let in_site_root = path.parent() == Some(site.as_path());
            let hook = (in_site_root && (name.ends_with(".pth") || name.ends_with(".start")))
                || name.starts_with("sitecustomize")
                || name.starts_with("usercustomize");
            let module = [".py", ".pyc", ".so", ".pyd"]
                .iter()
                .any(|e| name.ends_with(e));
            if hook {
                let known = sigs
                    .known_good
                    .entries()
                    .iter()
                    .any(|e| e.claims_name(&name));
                out.push(Finding {
                    rule: "INT003".into(),
                    severity: if known {
                        Severity::Medium
                    } else {
                        Severity::High
                    },
                    location: Location {
                        path: path.to_path_buf(),
                        line: None,
                        column: None,
                    },
                    environment: Some(env.root.clone()),
                    message: "start-up hook that no installed distribution or system package owns: planted, or left by a by-hand install".into(),
                    evidence: excerpt(&name, EVIDENCE_CHARS),
                    ..Default::default()
                });
            } else if module
                && !in_site_root
                && path
                    .parent()
                    .is_some_and(|d| owned_dirs.contains(d.as_os_str()))
            {
                out.push(Finding {
                    rule: "INT004".into(),
                    severity: Severity::Medium,
                    location: Location {
                        path: path.to_path_buf(),
                        line: None,
                        column: None,
                    },
                    environment: Some(env.root.clone()),
                    message: "module in an installed package's directory that the package's RECORD does not list: added after install".into(),
                    evidence: excerpt(&name, EVIDENCE_CHARS),
                    ..Default::default()
                });
            } else {
                rest.push(path);
            }
        }
        if !rest.is_empty() {
            let examples: Vec<String> = rest
                .iter()
                .take(5)
                .map(|p| crate::pathfmt::display_path(p.strip_prefix(site).unwrap_or(p)))
                .collect();
            out.push(Finding {
                rule: "INT006".into(),
                severity: Severity::Info,
                location: Location {
                    path: site.clone(),
                    line: None,
                    column: None,
                },
                environment: Some(env.root.clone()),
                message: format!(
                    "{} file(s) in this site directory are owned by no installed distribution",
                    rest.len()
                ),
                evidence: excerpt(&examples.join(", "), EVIDENCE_CHARS),
                ..Default::default()
            });
        }
    }
    out
}

/// A record of installed files that is there and cannot be read: its files go unchecked.
fn unreadable_record(path: &Path, err: &crate::fs::ReadError) -> Diagnostic {
    Diagnostic::incomplete(path, format!("{err}: the files it lists were not checked"))
}

/// The files conda's package records list for an environment.
fn conda_owned(tree: &dyn Tree, root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = tree.list(&root.join("conda-meta")) else {
        return out;
    };
    for e in entries.iter().filter(|e| e.name.ends_with(".json")) {
        let Ok(data) = tree.read_unhashed(&e.path) else {
            continue;
        };
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&data.bytes) else {
            continue;
        };
        if let Some(files) = doc.get("files").and_then(|f| f.as_array()) {
            out.extend(
                files
                    .iter()
                    .filter_map(|f| f.as_str())
                    .map(|f| normalize(&root.join(f))),
            );
        }
    }
    out
}
