//! The judged parts merged into one report, sorted so it does not depend on scheduling.

use crate::discovery::Environment;
use crate::fs::{Kind, ReadStats, Tree};
use crate::times::FileTimes;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::*;

pub(super) fn finish(
    mut report: ScanReport,
    judged: Vec<(Judged, Option<Environment>)>,
    stats: &ReadStats,
    started: Instant,
) -> ScanReport {
    for (j, env) in judged {
        report.findings.extend(j.findings);
        report.diagnostics.extend(j.diagnostics);
        report.stats.hook_files += j.hooks;
        report.stats.distributions += env.as_ref().map_or(0, |e| e.distributions);
        report.stats.payload_files += j.startup_code + j.other_code;
        if j.loose {
            report.stats.loose_code += j.startup_code + j.other_code;
        } else {
            report.stats.startup_code += j.startup_code;
            report.stats.installed_code += j.other_code;
        }
        report.environments.extend(env);
    }
    report.environments.sort_by(|a, b| a.root.cmp(&b.root));
    // a site directory nested in another environment's can belong to that environment (a user
    // site's `…/site-packages/pkg/site-packages`): judged apart, reported as one
    report.environments.dedup_by(|later, kept| {
        if later.root != kept.root {
            return false;
        }
        kept.site_dirs.append(&mut later.site_dirs);
        kept.site_dirs.sort();
        kept.code_dirs.append(&mut later.code_dirs);
        kept.code_dirs.sort();
        kept.distributions += later.distributions;
        kept.inventory.append(&mut later.inventory);
        kept.inventory.sort();
        true
    });
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.diagnostics.sort();
    report.diagnostics.dedup();
    report.count_skipped();
    report.stats.environments = report.environments.len();
    report.stats.files_read = stats.files.load(Ordering::Relaxed);
    report.stats.bytes_read = stats.bytes.load(Ordering::Relaxed);
    report.stats.elapsed = started.elapsed();
    report
}

/// Rewrites the paths of what was judged in `tree` the way people see them (`image › layer ›
/// path` for an artifact), and notes where a file came from.
pub(super) fn shown_as(tree: &dyn Tree, judged: &mut Judged) {
    stamp(tree, &mut judged.findings);
    for f in &mut judged.findings {
        if let Some(note) = tree.provenance(&f.location.path) {
            f.notes.push(note);
        }
        f.location.path = tree.display(&f.location.path);
        f.environment = f.environment.as_deref().map(|e| tree.display(e));
    }
    for d in &mut judged.diagnostics {
        d.path = tree.display(&d.path);
    }
}

/// Gives each finding the times of its file in `tree` (a link followed inside it), looked up
/// once a path, before its path is rewritten for display: a `statx` of an `O_PATH` lookup on
/// disk, which opens nothing for reading, what an archive stored in memory.
pub(super) fn stamp(tree: &dyn Tree, findings: &mut [Finding]) {
    let mut seen: HashMap<PathBuf, FileTimes> = HashMap::new();
    for f in findings {
        f.times = *seen.entry(f.location.path.clone()).or_insert_with(|| {
            match tree.times(&f.location.path, true) {
                Some((Kind::File | Kind::Dir, times)) => times,
                _ => FileTimes::default(),
            }
        });
    }
}
