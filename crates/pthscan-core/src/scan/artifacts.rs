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
        let opened = store.open_image(image, open);
        let variables: Vec<Vec<(String, String)>> = opened
            .iter()
            .map(|o| {
                o.variables
                    .iter()
                    .map(|s| (s.name.clone(), s.value.clone()))
                    .collect()
            })
            .collect();
        sources::artifact::visit_nested(opened, open, visit);
        // then each container made from it, as it is now, one tree at a time
        for container in &image.containers {
            let opened = store.open_container(image, container, &variables, open);
            sources::artifact::visit_nested(opened, open, visit);
        }
    }
}

/// What makes two findings the same finding in an image and in a container made from it: the
/// rule, what it says and where in the tree (the path after the image's or container's label
/// and layer), never the label itself.
type Same = (
    String,
    String,
    String,
    Option<usize>,
    String,
    String,
    String,
);

fn same(f: &Finding) -> Same {
    let shown = f.location.path.to_string_lossy();
    let inside = shown.rsplit(" › ").next().unwrap_or(&shown).to_owned();
    (
        f.rule.to_string(),
        format!("{:?}", f.severity),
        inside,
        f.location.line,
        f.message.clone(),
        f.evidence.clone(),
        f.sha256.clone(),
    )
}

/// Judges the trees a store's image and its containers open into, in order: a container's
/// findings that its image has too (the same rule, words, file and content) are the image's
/// and left out; what differs is the container's own.
#[derive(Default)]
pub(super) struct Containers {
    image_findings: std::collections::HashMap<String, HashSet<Same>>,
}

impl Containers {
    /// Keeps an image's findings (`image_of`), or leaves out of a container's
    /// (`container_of`) those its image has.
    pub(super) fn sift(
        &mut self,
        image_of: Option<&str>,
        container_of: Option<&str>,
        judged: &mut [(Judged, Option<Environment>)],
    ) {
        if let Some(image) = container_of {
            let of_image = self.image_findings.get(image);
            for (j, _) in judged.iter_mut() {
                j.findings
                    .retain(|f| !of_image.is_some_and(|seen| seen.contains(&same(f))));
            }
        } else if let Some(image) = image_of {
            let seen = self.image_findings.entry(image.to_owned()).or_default();
            seen.extend(judged.iter().flat_map(|(j, _)| j.findings.iter().map(same)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str, rule: &'static str, sha: &str) -> Finding {
        let mut f = Finding {
            rule: rule.into(),
            sha256: sha.into(),
            ..Finding::default()
        };
        f.location.path = PathBuf::from(path);
        f
    }

    fn judged(findings: Vec<Finding>) -> Vec<(Judged, Option<Environment>)> {
        vec![(
            Judged {
                findings,
                ..Judged::default()
            },
            None,
        )]
    }

    /// A container keeps what differs from its image: a file it wrote, an image file it made
    /// run (a link, a variable), a hook of the image it rewrote; what the image has as it is
    /// stays the image's, whatever the labels and layers in the shown paths.
    #[test]
    fn a_container_keeps_what_differs_from_its_image() {
        let mut sift = Containers::default();
        let mut image = judged(vec![
            finding("s › app:1.0 › layer 2 sha256:aa › usr/x.pth", "PTH001", "1"),
            finding("s › app:1.0 › layer 2 sha256:aa › usr/y.pth", "PTH001", "2"),
        ]);
        sift.sift(Some("sha256:i"), None, &mut image);
        assert_eq!(image[0].0.findings.len(), 2, "an image keeps its findings");
        let mut container = judged(vec![
            // the image's own, shown under the container's label
            finding(
                "s › container web › layer 2 sha256:aa › usr/x.pth",
                "PTH001",
                "1",
            ),
            // the image's y.pth, rewritten in the container
            finding(
                "s › container web › layer 5 sha256:cc › usr/y.pth",
                "PTH001",
                "3",
            ),
            // an image file a link or variable of the container made run
            finding(
                "s › container web › layer 3 sha256:bb › opt/z.pth",
                "PTH001",
                "4",
            ),
        ]);
        sift.sift(None, Some("sha256:i"), &mut container);
        let kept: Vec<String> = container[0]
            .0
            .findings
            .iter()
            .map(|f| f.location.path.display().to_string())
            .collect();
        assert_eq!(
            kept,
            [
                "s › container web › layer 5 sha256:cc › usr/y.pth",
                "s › container web › layer 3 sha256:bb › opt/z.pth"
            ]
        );
        // a container of an image not judged keeps everything
        let mut other = judged(vec![finding("s › container x › usr/x.pth", "PTH001", "1")]);
        sift.sift(None, Some("sha256:other"), &mut other);
        assert_eq!(other[0].0.findings.len(), 1);
    }
}
