//! Telling what an artifact is by its content (names lie: pip's cache stores wheels under hashed
//! names) and opening it — and the archives inside it, to a depth limit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::archive;
use super::memory::{MemFile, Node};
use super::reread::Source;
use super::{OpenOptions, Opened, image, sdist, wheel};
use crate::diagnostic::Diagnostic;
use crate::discovery::{EnvKind, Environment};
use crate::fs::{Disk, ReadError, Tree};

/// What an artifact file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A zip archive (a wheel, a zip sdist, a zip of anything).
    Zip,
    /// A tar archive, possibly gzip, zstd or bzip2 compressed (an sdist, an image).
    Tar,
}

/// The format of bytes starting with `head`, if it is an archive we read.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if head.starts_with(&[0x1f, 0x8b])
        || super::zstd::is_zstd(head)
        || head.starts_with(b"BZh")
        || head.get(257..262) == Some(b"ustar")
    {
        Some(Format::Tar)
    } else {
        None
    }
}

/// Whether a file name is one a package archive goes by.
pub fn has_archive_name(name: impl AsRef<[u8]>) -> bool {
    let name = name.as_ref();
    [
        ".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.zst", ".tar", ".egg",
    ]
    .iter()
    .any(|ext| name.ends_with(ext.as_bytes()))
}

/// Whether a member found inside an artifact is an archive to open too.
pub fn is_nested_archive(name: &str, data: &[u8]) -> bool {
    has_archive_name(name) && sniff(data).is_some()
}

/// The extension a zip archive hides behind, when a member holds a zip under the name of a
/// text, code, certificate or image file (zip-based formats — wheels, jars, office files, numpy
/// and torch data — are not disguises).
pub fn disguised_archive<'n>(name: &'n str, data: &[u8]) -> Option<&'n str> {
    const COVERS: &[&str] = &[
        "py", "pyc", "pyi", "typed", "crt", "pem", "cer", "key", "txt", "md", "rst", "json", "cfg",
        "ini", "toml", "yaml", "yml", "html", "css", "js", "csv", "log", "xml", "png", "jpg",
        "jpeg", "gif", "ico", "svg", "so", "dll", "pyd", "dat",
    ];
    let ext = name.rsplit_once('.')?.1;
    (data.starts_with(b"PK\x03\x04") && COVERS.contains(&ext.to_ascii_lowercase().as_str()))
        .then_some(ext)
}

/// Opens an artifact held in memory and then, one at a time, the archives inside it: each
/// is handed to `visit` (which judges it and lets it go) before the next is opened, so that a
/// zip of zips is never all in memory at once.
pub fn open_bytes(label: &str, bytes: &[u8], opts: &OpenOptions, visit: &mut dyn FnMut(Opened)) {
    visit_nested(open_level(label, bytes, None, opts), opts, visit);
}

/// Opens one artifact held in memory, not what is nested in it. `again`: the same bytes on
/// disk, where members not kept (past a quarter of the budget, past the member cap) are read
/// again when judged or hashed; without it they are said not judged.
fn open_level(
    label: &str,
    bytes: &[u8],
    again: Option<&Arc<Source>>,
    opts: &OpenOptions,
) -> Vec<Opened> {
    let limits = opts.limits();
    let opened = match sniff(bytes) {
        Some(Format::Zip) => {
            let keeps = |p: &Path, _| package_keeps(p, &limits);
            let listing = archive::read_zip_from(&bytes, &limits, &keeps, again);
            zip_opened(label, listing, opts)
        }
        Some(Format::Tar) => {
            // read as an image if it is one, else as an sdist: streamed each time, never held
            // decompressed (a bomb or a corrupt stream is reported by the sdist reading, naming
            // its member)
            // an image is streamed layer by layer whatever its whole compresses to (a sparse
            // `lastlog` of zeros passes the ratio an sdist may have)
            let image = archive::decompress_stream(bytes, &limits.for_layers())
                .map_err(|e| e.to_string())
                .and_then(|s| image::read_outer_tar(s, None, &limits));
            if let Ok(b) = image
                && b.is_image()
            {
                return image::assemble(label, b, opts);
            }
            let listing = archive::read_tar(
                bytes,
                bytes.len() as u64,
                &limits,
                &|p, _| package_keeps(p, &limits) || image::python_relevant(p, false),
                again,
            );
            return tar_opened(label, listing, opts);
        }
        None => {
            let mut failed = Opened::with_label(label, opts);
            failed.diagnostics.push(Diagnostic::incomplete(
                label,
                "not a zip or tar archive: not opened",
            ));
            failed
        }
    };
    vec![opened]
}

/// Hands each of `opened` to `visit`, then opens what was nested in it, one level deeper.
pub fn visit_nested(opened: Vec<Opened>, opts: &OpenOptions, visit: &mut dyn FnMut(Opened)) {
    let inner = OpenOptions {
        max_depth: opts.max_depth.saturating_sub(1),
        ..opts.clone()
    };
    for mut o in opened {
        o.report_refused();
        let nested = std::mem::take(&mut o.nested);
        let held = std::mem::take(&mut o.held);
        visit(o);
        // the tree is judged and gone: of what it held, only the archives nested in it are
        // still alive, until each is opened
        let mut still = opts
            .budget
            .force(nested.iter().map(|(_, b)| b.len() as u64).sum());
        drop(held);
        for (label, bytes) in nested {
            let len = bytes.len() as u64;
            // what it does not keep unpacked is decompressed again from these bytes
            let again = Source::in_memory(&bytes, &inner.limits());
            visit_nested(
                open_level(&label, &bytes, Some(&again), &inner),
                &inner,
                visit,
            );
            drop(again);
            drop(bytes);
            still = opts.budget.force(still.bytes().saturating_sub(len));
        }
        drop(still);
    }
}

/// Opens an artifact file on disk, and what is nested in it, handing each to `visit` as
/// [`open_bytes`] does: zip archives and small tars are read into memory; an image tar is
/// streamed, keeping only where Python lives. A file `given` to be judged that is no archive
/// (and not named as one) is judged as loose code ([`loose_file`]).
pub fn open_file(
    path: &Path,
    reader: &Disk,
    given: bool,
    opts: &OpenOptions,
    visit: &mut dyn FnMut(Opened),
) {
    let label = crate::pathfmt::display_path(path);
    let fail = |why: String, visit: &mut dyn FnMut(Opened)| {
        let mut failed = Opened::with_label(&label, opts);
        failed.diagnostics.push(Diagnostic::incomplete(path, why));
        visit(failed);
    };
    // a start-up file given by name is what CPython reads it as, text, whatever else its bytes
    // also are (a `.pth` that is a valid zip too is still a `.pth` to `site`)
    if given && is_hook_name(path) {
        return visit(loose_file(path, reader, opts));
    }
    let head = match reader.read_capped(path, 512) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string(), visit),
    };
    let limits = opts.limits();
    match sniff(&head.bytes) {
        // a large tar is likely an image: stream it rather than hold it (a small one is read
        // once, below, and told apart in memory)
        Some(Format::Tar) if head.size > opts.max_file_size.min(opts.budget.limit() / 4) => {
            let stream = match open_stream(reader, path) {
                Ok(s) => s,
                Err(e) => return fail(e.to_string(), visit),
            };
            // an image tar not compressed as a whole: its layers are regions of the file, read
            // again from there for what is not kept
            let plain = !archive::compressed(&head.bytes);
            let outer = plain.then(|| stream.try_clone().ok()).flatten();
            let blobs = archive::decompressor(&head.bytes, stream, &limits)
                .map_err(|e| e.to_string())
                .and_then(|s| image::read_outer_tar(s, outer.as_ref(), &limits));
            if let Ok(b) = blobs
                && b.is_image()
            {
                return visit_nested(image::assemble(&label, b, opts), opts, visit);
            }
        }
        Some(Format::Tar | Format::Zip) => {}
        // a cache entry that is no package (an index page, pip's self-check): nothing to open
        None if super::cache::is_cache_path(path) && head.size > 0 => {}
        None if given && !has_archive_name(path.as_os_str().as_encoded_bytes()) => {
            return visit(loose_file(path, reader, opts));
        }
        None => return fail("not a zip or tar archive: not opened".into(), visit),
    }
    // an sdist, a wheel, a zip: small enough to hold (the cap is the archive limit, checked
    // before anything is read). An uncompressed tar is streamed whatever its size, as a layer
    // is: a `docker export` of an ML image is tens of gigabytes, and unpacks to no more
    let plain_tar = sniff(&head.bytes) == Some(Format::Tar) && !archive::compressed(&head.bytes);
    if head.size > limits.max_total && !plain_tar {
        return fail(
            format!(
                "archive is {} bytes, larger than the {}-byte limit: not opened",
                head.size, limits.max_total
            ),
            visit,
        );
    }
    // held whole when it fits a quarter of the budget (what it unpacks to needs the rest);
    // else a zip is read from the file where asked and a tar streamed, never held
    let fits = head.size <= opts.budget.limit() / 4;
    if let Some(_whole_held) = fits.then(|| opts.budget.try_reserve(head.size)).flatten() {
        // read through one descriptor, which what is not kept is read again from: the bytes
        // judged are the bytes listed, even if the path is replaced meanwhile
        let (file, size) = match reader.open_file(path) {
            Ok(f) => f,
            Err(e) => return fail(e.to_string(), visit),
        };
        let mut whole = vec![0; size.min(head.size) as usize];
        if let Err(e) = crate::fs::read_exact_at(&file, &mut whole, 0) {
            return fail(crate::fs::io_reason(&e), visit);
        }
        opts.stats.files.fetch_add(1, Ordering::Relaxed);
        opts.stats
            .bytes
            .fetch_add(whole.len() as u64, Ordering::Relaxed);
        return match super::cache::body(&whole) {
            Some(body) => {
                let start = (body.as_ptr() as usize - whole.as_ptr() as usize) as u64;
                let again = Source::new(&file, start, body.len() as u64, &limits);
                let opened = open_level(&label, body, again.as_ref(), opts);
                visit_nested(opened, opts, visit)
            }
            None if super::cache::is_cache_path(path) => {}
            None => fail("not a zip or tar archive: not opened".into(), visit),
        };
    }
    let (file, size) = match reader.open_file(path) {
        Ok(f) => f,
        Err(e) => return fail(e.to_string(), visit),
    };
    let opened = match sniff(&head.bytes) {
        Some(Format::Tar) => {
            // what an image keeps too: a root filesystem's hooks and package records
            let keeps = |p: &Path, _| package_keeps(p, &limits) || image::python_relevant(p, false);
            let stream = if plain_tar {
                limits.for_layers()
            } else {
                limits.clone()
            };
            let again = Source::new(&file, 0, size, &stream);
            let listing = archive::read_tar(file, size, &stream, &keeps, again.as_ref());
            return visit_nested(tar_opened(&label, listing, opts), opts, visit);
        }
        _ => {
            // a zip, or a cached response whose body is one further in
            let start = if sniff(&head.bytes).is_some() {
                Some(0)
            } else {
                let mut window = vec![0; size.min(64 << 10) as usize];
                crate::fs::read_exact_at(&file, &mut window, 0)
                    .ok()
                    .and_then(|()| memchr::memmem::find(&window, b"PK\x03\x04"))
                    .map(|at| at as u64)
            };
            let Some(start) = start else {
                if !super::cache::is_cache_path(path) {
                    fail("not a zip or tar archive: not opened".into(), visit);
                }
                return;
            };
            let region = archive::FileRegion {
                file,
                start,
                len: size - start,
            };
            let again = Source::new(&region.file, region.start, region.len, &limits);
            let keeps = |p: &Path, _| package_keeps(p, &limits);
            let listing = archive::read_zip_from(&region, &limits, &keeps, again.as_ref());
            zip_opened(&label, listing, opts)
        }
    };
    visit_nested(vec![opened], opts, visit);
}

/// A tar's tree: a root filesystem's (`docker export`, a `tar -C / .`) judged as a one-layer
/// image is — its absolute links inside it, its package records owning its files — else an
/// sdist's or a plain archive's. A package shape wins over an `os-release`: an sdist that
/// carries one is still an sdist, its `setup.py` and every file judged as an sdist's.
fn tar_opened(label: &str, listing: archive::Listing, opts: &OpenOptions) -> Vec<Opened> {
    if image::is_root_filesystem(&listing) && !sdist::is_sdist(&listing) {
        image::root_filesystem(label, listing, opts)
    } else {
        vec![sdist::from_listing(label, listing, opts)]
    }
}

/// A zip's tree: a wheel's when it is one, else an sdist's or a plain archive's.
fn zip_opened(label: &str, listing: archive::Listing, opts: &OpenOptions) -> Opened {
    // a zip that could not be read at all is that one problem, not also a package whose
    // site directory cannot be listed
    if listing.members.is_empty() && !listing.problems.is_empty() {
        let mut failed = Opened::with_label(label, opts);
        failed.add_problems(&listing.problems);
        return failed;
    }
    let is_wheel = label.ends_with(".whl")
        || listing
            .members
            .iter()
            .any(|m| m.name.ends_with(".dist-info/WHEEL") && m.name.matches('/').count() == 1);
    if is_wheel {
        wheel::from_listing(label, listing, opts)
    } else {
        sdist::from_listing(label, listing, opts)
    }
}

/// Whether a package's member keeps its content: always what start-up, install and the
/// RECORD check read (hooks, modules near the top, metadata, nested archives); any other file
/// while a quarter of the budget is spent at most. A small package keeps everything, as before;
/// a 540 MB wheel is still listed whole and its hooks judged, and what it does not keep is
/// said in one line.
fn package_keeps(path: &Path, limits: &archive::Limits) -> bool {
    if limits.budget.used() < limits.budget.limit() / 4 {
        return true;
    }
    let text = path.to_string_lossy();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|p| p.to_string_lossy())
        .unwrap_or_default();
    let depth = path.components().count();
    parent.ends_with(".dist-info")
        || parent.ends_with(".egg-info")
        || ["PKG-INFO", "setup.cfg", "pyproject.toml"].contains(&name.as_ref())
        || has_archive_name(&*text)
        || depth <= 3 && is_hook_name(path)
        || name.starts_with("sitecustomize")
        || name.starts_with("usercustomize")
}

/// Whether a file's name says CPython reads it as start-up or install code.
fn is_hook_name(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    [".pth", ".start", ".py", ".pyc", ".pyw"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// A file given to be judged that is no archive (`evil.pth`, `setup.py`, `sitecustomize.py`,
/// a `.pyc`): judged as CPython would take it in a site directory — a `.pth` or `.start` as
/// the start-up hook it is there, a customize module as one, `setup.py` as install-time code —
/// and with the payload rules, as every loose file is.
fn loose_file(path: &Path, reader: &Disk, opts: &OpenOptions) -> Opened {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut opened = Opened::with_label(&crate::pathfmt::display_path(dir), opts);
    let name = path.file_name().unwrap_or_default();
    let at = Path::new("/").join(name);
    match reader.read_capped(path, opts.max_file_size) {
        Ok(data) => {
            let node = MemFile::from_member(Some(&Arc::new(data.bytes)), data.size, "not read");
            opened.tree.insert(&at, Node::File(node));
        }
        Err(e) => {
            opened
                .diagnostics
                .push(Diagnostic::incomplete(path, e.to_string()));
            return opened;
        }
    }
    if name == "setup.py" {
        opened.install_hooks.push(at);
    }
    opened.envs.push(Environment {
        root: PathBuf::from("/"),
        kind: EnvKind::Loose,
        python: None,
        site_dirs: vec![PathBuf::from("/")],
        code_dirs: Vec::new(),
        distributions: 0,
        inventory: Vec::new(),
    });
    opened
}

fn open_stream(reader: &Disk, path: &Path) -> Result<std::fs::File, ReadError> {
    reader.open_file(path).map(|(file, _)| file)
}
