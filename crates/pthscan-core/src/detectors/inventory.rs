//! INV: an environment's installed distributions against those a baseline recorded for it
//! (`pthscan baseline`, then `--baseline FILE`): what appeared, changed version or went away
//! since. An environment the baseline does not know is not compared.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::RuleDoc;
use crate::discovery::Environment;
use crate::finding::{Finding, Location, Severity};

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "INV001",
        fix: super::Fix::Review,
        rotate: &[],
        title: "distribution installed since the baseline",
        what: "An installed distribution in an environment the baseline recorded, under a name \
               (PEP 503-normalised) the baseline does not list for it. Low.",
        why: "A fleet that watches its inventory sees a package nobody deployed: the first sign \
              of a typosquat or of a dependency pulled in by hand on one machine.",
        example: "…/site-packages/reqeusts-2.0.dist-info/METADATA: reqeusts 2.0 installed since the baseline → low",
        references: &[
            "PEP 503 (names), PEP 376 (installed distributions)",
            "CycloneDX, https://cyclonedx.org/",
        ],
    },
    &RuleDoc {
        id: "INV002",
        fix: super::Fix::Review,
        rotate: &[],
        title: "distribution version changed since the baseline",
        what: "An installed distribution whose version is not the one the baseline recorded for \
               it in that environment. Low.",
        why: "Malicious releases are published as new versions of real packages (LiteLLM \
              1.82.7 and 1.82.8): an upgrade nobody planned is worth a look.",
        example: "…/site-packages/litellm-1.82.8.dist-info/METADATA: litellm 1.82.6 → 1.82.8 since the baseline → low",
        references: &["README.md#suppressions-and-baselines", "PEP 440 (versions)"],
    },
    &RuleDoc {
        id: "INV003",
        fix: super::Fix::Review,
        rotate: &[],
        title: "distribution removed since the baseline",
        what: "A distribution the baseline recorded in an environment that no longer has it. \
               Info.",
        why: "Removing a package is usually routine, but an attacker who cleans up after \
              itself removes what it installed: the inventory keeps the trace.",
        example: "/srv/venv: colorama 0.4.6 removed since the baseline → info",
        references: &[
            "README.md#suppressions-and-baselines",
            "PEP 376 (installed distributions)",
        ],
    },
];

/// The distributions a baseline recorded for one environment: normalised name → (name as
/// published, versions).
pub type Recorded = BTreeMap<String, (String, BTreeSet<String>)>;

/// Findings for what changed in `env`'s inventory since `recorded`.
pub fn changes(env: &Environment, recorded: &Recorded) -> Vec<Finding> {
    let mut now: BTreeMap<&str, (&str, BTreeSet<&str>, &Path)> = BTreeMap::new();
    for d in &env.inventory {
        let e = now.entry(d.normalized.as_str()).or_insert((
            d.name.as_str(),
            BTreeSet::new(),
            d.metadata.as_path(),
        ));
        e.1.insert(d.version.as_str());
    }
    let finding =
        |rule: &'static str, severity, path: &Path, name: &str, message: String| Finding {
            rule: rule.into(),
            severity,
            location: Location {
                path: path.to_path_buf(),
                line: None,
                column: None,
            },
            environment: Some(env.root.clone()),
            distribution: Some(name.to_owned()),
            evidence: message.clone(),
            message,
            ..Default::default()
        };
    let mut out = Vec::new();
    for (norm, (name, versions, meta)) in &now {
        let shown = versions.iter().copied().collect::<Vec<_>>().join(", ");
        match recorded.get(*norm) {
            None => out.push(finding(
                "INV001",
                Severity::Low,
                meta,
                norm,
                format!("{name} {shown} installed since the baseline"),
            )),
            Some((_, before))
                if !before
                    .iter()
                    .map(String::as_str)
                    .eq(versions.iter().copied()) =>
            {
                let was = before.iter().cloned().collect::<Vec<_>>().join(", ");
                out.push(finding(
                    "INV002",
                    Severity::Low,
                    meta,
                    norm,
                    format!("{name} {was} → {shown} since the baseline"),
                ));
            }
            Some(_) => {}
        }
    }
    for (norm, (name, before)) in recorded {
        if !now.contains_key(norm.as_str()) {
            let was = before.iter().cloned().collect::<Vec<_>>().join(", ");
            out.push(finding(
                "INV003",
                Severity::Info,
                &env.root,
                norm,
                format!("{name} {was} removed since the baseline"),
            ));
        }
    }
    out
}
