//! Artifacts (wheels, sdists, images, archives) opened one at a time within the memory
//! budget, what reading them met judged, and the environments inside them judged.

use crate::budget::Budget;
use crate::detectors;
use crate::diagnostic::Diagnostic;
use crate::discovery::Environment;
use crate::fs::{Disk, ReadStats, Tree};
use crate::sources::{self, OpenOptions, Opened};
use pthscan_signatures::Signatures;
use std::path::PathBuf;
use std::sync::Arc;

use super::*;

/// An artifact to open when judging: a file, or an OCI layout directory.
pub(super) enum Artifact {
    /// A file, and where it came from.
    File(Disk, PathBuf, Place),
    Layout(Disk, PathBuf),
    /// An image archive on standard input (`-`).
    Stdin,
    /// A container engine's image store (its directory, resolved), every image in it or only
    /// the one of this id (`pthscan app:1.0`).
    Store(PathBuf, Option<String>),
}

impl Artifact {
    /// Its size on disk (a layout directory counts as large: its layers are).
    pub(super) fn disk_size(&self) -> u64 {
        match self {
            Artifact::File(disk, path, _) => disk.file_size(path).unwrap_or(0),
            Artifact::Layout(..) | Artifact::Stdin | Artifact::Store(..) => u64::MAX,
        }
    }

    /// Opens the artifact and what is nested in it, handing each opened tree to `visit` in
    /// turn.
    pub(super) fn open(
        &self,
        options: &ScanOptions,
        stats: &Arc<ReadStats>,
        budget: &Arc<Budget>,
        visit: &mut dyn FnMut(Opened),
    ) {
        let open = OpenOptions {
            deep: options.deep,
            ..OpenOptions::new(
                options.max_file_size,
                options.max_memory,
                Arc::clone(budget),
                Arc::clone(stats),
                options.max_archive_depth,
            )
        };
        // what reading found is judged as each tree comes
        let visit = &mut |mut o: Opened| {
            judge_reading(&mut o);
            visit(o);
        };
        match self {
            Artifact::File(reader, path, place) => {
                let given = *place == Place::Given;
                sources::artifact::open_file(path, reader, given, &open, &mut |mut o| {
                    if *place == Place::Bundled {
                        for d in &mut o.diagnostics {
                            d.incomplete = false;
                        }
                    }
                    visit(o);
                });
            }
            Artifact::Layout(disk, dir) => {
                let limits = open.limits();
                let label = crate::pathfmt::display_path(dir);
                let opened = match sources::image::read_layout_dir(disk, dir, &limits) {
                    Ok(blobs) => sources::image::assemble(&label, blobs, &open),
                    Err(why) => {
                        let mut failed = Opened::with_label(&label, &open);
                        failed.diagnostics.push(Diagnostic::incomplete(
                            dir,
                            format!("not a readable OCI layout: {why}"),
                        ));
                        vec![failed]
                    }
                };
                sources::artifact::visit_nested(opened, &open, visit);
            }
            Artifact::Stdin => {
                let opened = sources::image::open_stream(STDIN, std::io::stdin().lock(), &open);
                sources::artifact::visit_nested(opened, &open, visit);
            }
            Artifact::Store(dir, only) => open_store(dir, only.as_deref(), &open, visit),
        }
    }
}

/// Opens the images of a store one at a time, each judged (by `visit`) before the next is
/// read: a store of hundreds of images never holds more than one tree.
fn open_store(
    dir: &std::path::Path,
    only: Option<&str>,
    open: &OpenOptions,
    visit: &mut dyn FnMut(Opened),
) {
    let label = crate::pathfmt::display_path(dir);
    let fail = |why: String, visit: &mut dyn FnMut(Opened)| {
        let mut failed = Opened::with_label(&label, open);
        failed.diagnostics.push(Diagnostic::incomplete(dir, why));
        visit(failed);
    };
    let store = match sources::store::Store::open(dir) {
        Ok(s) => s,
        Err(why) => return fail(why, visit),
    };
    let (images, mut notes) = match store.images(&open.limits()) {
        Ok(found) => found,
        Err(why) => {
            return fail(
                format!("not a readable {} store: {why}", store.engine.name()),
                visit,
            );
        }
    };
    // one image asked for by name: what is said of the store's other containers is not its
    if only.is_some() {
        notes.retain(|d| d.path != store.containers_path());
    }
    if !notes.is_empty() {
        let mut said = Opened::with_label(&label, open);
        said.diagnostics = notes;
        visit(said);
    }
    for image in images.iter().filter(|i| only.is_none_or(|id| i.id == id)) {
        sources::artifact::visit_nested(store.open_image(image, open), open, visit);
        // then each container made from it, as it is now, one tree at a time
        for container in &image.containers {
            let opened = store.open_container(image, container, open);
            sources::artifact::visit_nested(opened, open, visit);
        }
    }
}

/// How standard input is named in the report.
pub(super) const STDIN: &str = "(standard input)";

/// Turns what the archive readers met in an opened artifact (hostile shapes, cut members) and
/// a wheel's RECORD into findings and diagnostics.
pub(super) fn judge_reading(o: &mut Opened) {
    for (label, problems) in std::mem::take(&mut o.problems) {
        let (findings, diagnostics) = detectors::archive::judge(&label, &problems);
        o.findings.extend(findings);
        o.diagnostics.extend(diagnostics);
    }
    if let Some(listing) = o.wheel.take() {
        let (findings, diagnostics) = detectors::record::check_wheel(&o.tree, &listing);
        o.findings.extend(findings);
        o.diagnostics.extend(diagnostics);
    }
}

/// Judges an opened artifact: what reading it found, then each environment in it.
pub(super) fn judge_opened(
    sigs: &Signatures,
    o: Opened,
    options: &ScanOptions,
) -> Vec<(Judged, Option<Environment>)> {
    let tree: Arc<dyn Tree> = Arc::new(o.tree);
    let variables = Arc::new(o.variables);
    // findings about the artifact itself already carry display paths
    let own = Judged {
        findings: o.findings,
        diagnostics: o.diagnostics,
        ..Judged::default()
    };
    let notes = o.notes;
    let only_from = o.only_from;
    let mut out = vec![(own, None)];
    // an image's (or a root filesystem's) own package records own its distribution's hooks
    let mut roots: Vec<PathBuf> = (o.envs.iter().flat_map(|e| &e.site_dirs))
        .filter_map(|d| crate::discovery::packages::system_root(d))
        .collect();
    roots.sort();
    roots.dedup();
    let (owned, mut problems) = crate::discovery::packages::owned(tree.as_ref(), &roots);
    let system_owned = Arc::new(owned);
    for env in o.envs {
        let w = Work {
            tree: Arc::clone(&tree),
            env,
            install_hooks: o.install_hooks.clone(),
            every_file: o.judge_every_file,
            system_owned: Arc::clone(&system_owned),
            reader: None,
            variables: Arc::clone(&variables),
        };
        let mut judged = judge_work(sigs, &w, options);
        // said with the first environment's, whose paths are shown inside the artifact
        judged.0.diagnostics.append(&mut problems);
        out.push(judged);
    }
    // a container's tree: what its writable layer holds, the image's own findings left to it
    if let Some(written) = &only_from {
        for (j, _) in out.iter_mut().skip(1) {
            j.findings
                .retain(|f| written.holds(&f.location.path.to_string_lossy()));
        }
    }
    // what every finding in the tree is told (the containers that run a store's image)
    if !notes.is_empty() {
        for (j, _) in &mut out {
            for f in &mut j.findings {
                f.notes.extend(notes.iter().cloned());
            }
        }
    }
    out
}
