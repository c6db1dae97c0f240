//! Every file of an environment under the payload rules (`--deep`, or a package archive), in
//! windows, in parallel; members read again from an archive in their stream's order.

use crate::detectors;
use crate::detectors::integrity::{Listed, Listing};
use crate::diagnostic::Diagnostic;
use crate::discovery::{self, Environment};
use crate::finding::Finding;
use crate::fs::{Kind, Tree};
use crate::sources;
use pthscan_signatures::{PayloadScanner, Role, Signatures};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::*;

/// The payload rules over every regular file under the environment's import directories, in
/// parallel: one rule set, one scanner per worker.
pub(super) fn deep_scan(
    sigs: &Signatures,
    tree: &dyn Tree,
    env: &Environment,
    dirs: &[PathBuf],
    skip: &HashSet<PathBuf>,
    listing: &Listing,
    options: &ScanOptions,
) -> Judged {
    let mut out = Judged::default();
    // RECORD hashes --deep checks in the same read as the payload rules
    let to_hash = listing.by_path();
    // a directory inside another one listed is walked with its parent, and one directory
    // reached by two paths (a venv's `lib64 -> lib`) once, by its own path
    let mut canon: Vec<PathBuf> = dirs.iter().map(|d| tree.canonical(d)).collect();
    canon.sort();
    canon.dedup();
    let canon: Vec<PathBuf> = canon
        .iter()
        .filter(|d| !canon.iter().any(|o| o != *d && d.starts_with(o)))
        .cloned()
        .collect();
    let roots: Vec<&PathBuf> = canon.iter().collect();
    let mut files = Vec::new();
    for root in roots {
        out.diagnostics.extend(tree.walk(root, &mut |path, kind| {
            // a FIFO, socket or device is listed too, to be named (never opened)
            // loose files: an archive among them is opened as what it is, not read as code
            let opened_apart = env.kind == discovery::EnvKind::Loose
                && sources::artifact::has_archive_name(path.as_os_str().as_encoded_bytes());
            if matches!(kind, Kind::File | Kind::Symlink | Kind::Other)
                && !skip.contains(path)
                && !opened_apart
            {
                files.push(path.to_path_buf());
            }
            true
        }));
    }
    // every other file a RECORD lists (`bin/` scripts, data files under the prefix; inside
    // the environment, see `integrity::check`): judged like the rest, and its hash checked
    let walked: HashSet<&std::ffi::OsStr> = files.iter().map(|p| p.as_os_str()).collect();
    let beyond = listing.beyond(tree, &walked, skip);
    drop(walked);
    files.extend(beyond);
    // files read again from a stream (members of an archive too large to hold) are read in
    // the stream's order, each stream by one worker: one pass over it
    let mut streams: BTreeMap<usize, Vec<(u64, &PathBuf)>> = BTreeMap::new();
    let mut direct = Vec::new();
    for path in &files {
        match tree.read_order(path) {
            Some((stream, at)) => streams.entry(stream).or_default().push((at, path)),
            None => direct.push(path),
        }
    }
    let new_scanner = || {
        PayloadScanner::new(&sigs.payload, options.scan_timeout).with_behaviours(&sigs.behaviours)
    };
    let judge_one = |scanner: &mut PayloadScanner<'_>, path: &PathBuf| {
        let listed = to_hash.get(path.as_os_str()).copied();
        deep_file(sigs, tree, env, scanner, path, listed)
    };
    let mut results: Vec<(Vec<Finding>, Vec<Diagnostic>)> = direct
        .par_iter()
        .map_init(new_scanner, |s, p| judge_one(s, p))
        .collect();
    let streams: Vec<Vec<(u64, &PathBuf)>> = streams
        .into_values()
        .map(|mut members| {
            members.sort();
            members
        })
        .collect();
    results.par_extend(streams.par_iter().flat_map_iter(|members| {
        let mut scanner = new_scanner();
        let judged: Vec<_> = members
            .iter()
            .map(|(_, p)| judge_one(&mut scanner, p))
            .collect();
        // the pass over this stream is done: its decompressor is given back
        if let Some((_, last)) = members.last() {
            tree.release_stream(last);
        }
        judged
    }));
    out.other_code = files.len();
    // listed files none of the above read (gone since they were listed): hashed on their own
    let read: HashSet<&std::ffi::OsStr> = files.iter().map(|p| p.as_os_str()).collect();
    let (found, unhashed) = listing.hash_rest(tree, &env.root, &read);
    out.findings.extend(found);
    out.diagnostics.extend(unhashed);
    for (findings, diagnostics) in results {
        out.findings.extend(findings);
        out.diagnostics.extend(diagnostics);
    }
    out.diagnostics = grouped(std::mem::take(&mut out.diagnostics), &env.root);
    out
}

/// More files than this with one reason are said once, on the environment, with their count.
pub(super) const GROUP_OVER: usize = 20;

/// `diagnostics` with every reason that more than [`GROUP_OVER`] files share (an image layer
/// too large for the memory budget: thousands of files not kept) said once on `root`, with the
/// count and one example: a report a person can read, nothing left unsaid.
pub(super) fn grouped(diagnostics: Vec<Diagnostic>, root: &Path) -> Vec<Diagnostic> {
    let mut by_reason: std::collections::HashMap<(&str, bool), usize> = Default::default();
    for d in &diagnostics {
        *by_reason
            .entry((d.message.as_str(), d.incomplete))
            .or_default() += 1;
    }
    let crowded: Vec<((String, bool), usize)> = by_reason
        .into_iter()
        .filter(|(_, n)| *n > GROUP_OVER)
        .map(|((m, i), n)| ((m.to_owned(), i), n))
        .collect();
    if crowded.is_empty() {
        return diagnostics;
    }
    let mut out = Vec::new();
    let mut example: std::collections::HashMap<(String, bool), PathBuf> = Default::default();
    for d in diagnostics {
        let key = (d.message.clone(), d.incomplete);
        if crowded.iter().any(|(k, _)| *k == key) {
            example.entry(key).or_insert(d.path);
        } else {
            out.push(d);
        }
    }
    for ((message, incomplete), n) in crowded {
        let first = example
            .get(&(message.clone(), incomplete))
            .map(|p| crate::pathfmt::display_path(p))
            .unwrap_or_default();
        let text = format!("{n} files: {message} (the first: `{first}`)");
        out.push(if incomplete {
            Diagnostic::incomplete(root, text)
        } else {
            Diagnostic::note(root, text)
        });
    }
    out
}

/// Files are judged in windows of this size, each overlapping the one before by
/// [`DEEP_OVERLAP`] (a match across a window boundary shorter than that is found): memory stays
/// bounded whatever the file's size.
pub(super) const DEEP_WINDOW: usize = 4 << 20;
pub(super) const DEEP_OVERLAP: usize = 256 << 10;

pub(super) fn deep_file(
    sigs: &Signatures,
    tree: &dyn Tree,
    env: &Environment,
    scanner: &mut PayloadScanner<'_>,
    path: &Path,
    listed: Option<&Listed>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut record_hasher = listed.and_then(Listed::hasher);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let known_bad_name = sigs.iocs.is_known_bad_name(&name);
    let mut findings: Vec<Finding> = Vec::new();
    let mut diagnostics = Vec::new();
    let mut hasher = Sha256::new();
    let mut lines_before = 0usize; // newlines before the current window
    let mut hashed_to = 0u64; // the file's bytes hashed so far
    let mut judged_to = 0u64; // the file's bytes the payload rules judged so far
    // the payload rules judge the file within --max-file-size; a RECORD hash needs all of it,
    // read on in the same pass
    let cap = tree.max_file_size();
    let upto = if record_hasher.is_some() {
        u64::MAX
    } else {
        cap
    };
    let read = tree.read_windows_upto(
        path,
        upto,
        DEEP_WINDOW,
        DEEP_OVERLAP,
        &mut |offset, bytes| {
            let fresh = &bytes[(hashed_to - offset) as usize..];
            if known_bad_name && hashed_to < cap {
                // as far as the cap, as the file's reported hash is
                hasher.update(&fresh[..fresh.len().min((cap - hashed_to) as usize)]);
            }
            if let Some(h) = &mut record_hasher {
                h.update(fresh);
            }
            hashed_to = offset + bytes.len() as u64;
            if offset > 0 && judged_to >= cap {
                return; // past the cap: hashed only
            }
            let within = usize::try_from(cap.saturating_sub(offset)).unwrap_or(usize::MAX);
            let bytes = &bytes[..bytes.len().min(within)];
            judged_to = offset + bytes.len() as u64;
            let (found, problems) =
                detectors::payload::judge(scanner, &env.root, path, bytes, Some(""), Role::Other);
            for mut f in found {
                f.location.line = f.location.line.map(|l| l + lines_before);
                // a match inside the overlap was already found in the window before
                if !findings
                    .iter()
                    .any(|g| g.rule == f.rule && g.location.line == f.location.line)
                {
                    findings.push(f);
                }
            }
            diagnostics.extend(problems);
            // the next window starts `DEEP_OVERLAP` bytes before this one's end
            let step = bytes.len().saturating_sub(DEEP_OVERLAP);
            lines_before += memchr::memchr_iter(b'\n', &bytes[..step]).count();
        },
    );
    let (size, short) = match read {
        Ok(r) => r,
        // a symlink to a directory, or out of the root: the walk covers what is inside
        Err(crate::fs::ReadError::NotRegular { kind: "directory" }) => {
            return (Vec::new(), Vec::new());
        }
        // nothing Python could import, nothing to read: named, not a gap in the scan
        Err(err @ crate::fs::ReadError::NotRegular { .. }) => {
            return (Vec::new(), vec![Diagnostic::note(path, err.to_string())]);
        }
        // a dangling link (inside a mounted system, where its target would be): as above
        Err(err) if err.is_missing() && tree.kind(path) == Some(Kind::Symlink) => {
            let why = format!("symlink to nothing inside the root: {err}");
            return (Vec::new(), vec![Diagnostic::note(path, why)]);
        }
        Err(err) => {
            return (
                Vec::new(),
                vec![Diagnostic::incomplete(path, err.to_string())],
            );
        }
    };
    if size > cap {
        diagnostics.push(Diagnostic::note(
            path,
            format!(
                "file is {size} bytes: the payload rules judged its first {cap} (raise --max-file-size)"
            ),
        ));
    }
    if let (Some(l), Some(h)) = (listed, record_hasher) {
        if short {
            let why = crate::detectors::integrity::short_read(size);
            diagnostics.push(crate::detectors::integrity::unhashed(path, &why));
        } else {
            findings.extend(l.verdict(&env.root, h, size));
        }
    }
    if known_bad_name {
        let hash = format!("{:x}", hasher.finalize());
        if let Some(ioc) = sigs.iocs.file(&hash) {
            findings.push(detectors::ioc::file_finding(ioc, &env.root, path, &hash));
        }
    }
    if !findings.is_empty() {
        // the whole file's hash, read again only when something was found
        let hash = file_sha256(tree, path).unwrap_or_default();
        for f in &mut findings {
            f.sha256.clone_from(&hash);
        }
    }
    (findings, diagnostics)
}

/// The SHA-256 of a file as far as the read cap, read in windows.
pub(super) fn file_sha256(tree: &dyn Tree, path: &Path) -> Option<String> {
    let mut hasher = Sha256::new();
    tree.read_windows(path, 1 << 20, 0, &mut |_, bytes| hasher.update(bytes))
        .ok()?;
    Some(format!("{:x}", hasher.finalize()))
}
