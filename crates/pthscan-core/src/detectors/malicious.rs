//! Known-malicious releases, by the malicious-package database (`pthscan-db`): an installed
//! distribution, a wheel, an sdist, a cache entry or a layer's distribution whose name and
//! version a record names (MAL001), and a lockfile or requirements pin that would install one
//! (MAL002). Each finding names the record, its aliases and where the record came from.

use std::path::Path;

use pthscan_db::{Database, Match};

use super::RuleDoc;
use crate::finding::{Finding, Location, Severity};

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "MAL001",
        fix: super::Fix::Uninstall,
        rotate: super::EVERY_CREDENTIAL,
        title: "known-malicious release present",
        what: "An installed distribution, a wheel, an sdist, a package-cache entry or an image \
               layer's distribution whose name (PEP 503) and version (PEP 440) a record of the \
               malicious-package database names: the embedded snapshot, `pthscan db import`, or \
               `--db`. Critical.",
        why: "A release on this list was published to steal or to run an attacker's code \
              (LiteLLM 1.82.7 and 1.82.8). Its presence means its install-time and import-time \
              code may have run already.",
        example: "…/site-packages/litellm-1.82.8.dist-info/METADATA: litellm 1.82.8 is MAL-2026-2144 (PYSEC-2026-2) → critical",
        references: &[
            "OSV schema, https://ossf.github.io/osv-schema/",
            "https://github.com/ossf/malicious-packages",
            "https://github.com/DataDog/malicious-software-packages-dataset",
        ],
    },
    &RuleDoc {
        id: "MAL002",
        fix: super::Fix::Repin,
        rotate: &[],
        title: "lockfile or requirement pins a known-malicious release",
        what: "A pin in `uv.lock`, `poetry.lock`, `pylock.toml`, `Pipfile.lock`, `pdm.lock`, a \
               requirements or constraints file or a `pyproject.toml` that resolves to a release \
               a record names, or names a package whose every release is malicious: critical. A \
               range that allows a release a record lists (`litellm>=1.80`, `==1.82.*`): medium \
               (low in a `pyproject.toml`, whose ranges state compatibility), since a resolver \
               picks the newest release, which a record rarely names.",
        why: "The next install, build or CI run would fetch and run it; a pin found before \
              installing is the cheapest incident.",
        example: "uv.lock:412:1: litellm 1.82.8 is MAL-2026-2144 → critical",
        references: &["OSV schema, https://ossf.github.io/osv-schema/"],
    },
];

/// Findings for one release: `rule` is MAL001 or MAL002.
pub fn release(
    db: &Database,
    rule: &'static str,
    name: &str,
    version: Option<&str>,
    at: Location,
    environment: Option<&Path>,
) -> Vec<Finding> {
    let matches = match version {
        Some(v) => db.lookup(name, v),
        None => db.lookup_name(name),
    };
    matches
        .into_iter()
        .map(|m| finding(m, rule, name, version, at.clone(), environment))
        .collect()
}

/// Findings for a pin that allows more than one version: one for each record that lists
/// releases the specifier allows, at `severity` (a resolver picks the newest release, which a
/// record rarely names — the pin is to be narrowed, not an incident).
pub fn range(
    db: &Database,
    name: &str,
    spec: &str,
    at: Location,
    severity: Severity,
) -> Vec<Finding> {
    let mut by_record: Vec<(Match<'_>, Vec<String>)> = Vec::new();
    for (m, version) in db.admitted(name, spec) {
        match by_record
            .iter_mut()
            .find(|(n, _)| n.record.id == m.record.id)
        {
            Some((_, versions)) => versions.push(version),
            None => by_record.push((m, vec![version])),
        }
    }
    by_record
        .into_iter()
        .map(|(m, versions)| {
            let listed = versions.join(", ");
            let mut f = finding(m, "MAL002", name, Some(&listed), at.clone(), None);
            f.severity = severity;
            f.message = format!(
                "`{name}{spec}` allows {name} {listed}, known malicious: {}{} — exclude them or pin a release",
                m.record.id,
                if m.record.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", m.record.aliases.join(", "))
                }
            );
            f
        })
        .collect()
}

fn finding(
    m: Match<'_>,
    rule: &'static str,
    name: &str,
    version: Option<&str>,
    at: Location,
    environment: Option<&Path>,
) -> Finding {
    let r = m.record;
    let mut id = r.id.clone();
    if !r.aliases.is_empty() {
        id.push_str(&format!(" ({})", r.aliases.join(", ")));
    }
    let release = match version {
        Some(v) => format!("{name} {v}"),
        None => name.to_owned(),
    };
    let scope = if m.every_version {
        "every release of this name"
    } else {
        "this release"
    };
    let mut notes = vec![format!("record from {}", r.origin)];
    if !r.reporters.is_empty() {
        notes.push(format!("reported by {}", r.reporters.join(", ")));
    }
    // what to do is the finding's `fix` and `rotate` (the rule's, worded for this release)
    Finding {
        rule: rule.into(),
        severity: Severity::Critical,
        location: at,
        environment: environment.map(Path::to_path_buf),
        distribution: Some(release.clone()),
        message: format!(
            "{release} is known malicious: {id} lists {scope}{}",
            if r.summary.is_empty() {
                String::new()
            } else {
                format!(" — {}", r.summary)
            }
        ),
        evidence: format!("{release} → {}", r.id),
        reference: r.references.first().cloned().or_else(|| Some(r.id.clone())),
        notes,
        ..Default::default()
    }
}
