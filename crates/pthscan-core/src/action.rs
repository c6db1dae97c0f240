//! What to do about each finding: its rule's `fix` worded with the finding's facts (the file,
//! the distribution and version that own it, the environment, whether it sits in a package
//! cache or an artifact), and the credential classes to rotate for its file.
//!
//! The rules only say which kind of action they call for ([`Fix`]); the words come from the
//! finding, so that no rule carries text written for one sample.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use pthscan_signatures::Signatures;
use pthscan_signatures::action::ROTATE_CLASSES;

use crate::discovery::{EnvKind, Environment};
use crate::finding::{Finding, Severity};
use crate::pathfmt::display_path;

pub use pthscan_signatures::Fix;

/// What the rules say: by id, the kind of fix and the classes to rotate.
pub struct Catalogue<'a> {
    rules: HashMap<&'a str, (Fix, Vec<&'a str>)>,
}

impl<'a> Catalogue<'a> {
    /// Every rule the engine knows: detectors, payload rules (with the user's and the network
    /// IOCs'), behaviour rules, file, path and process IOCs, signals.
    pub fn new(sigs: &'a Signatures) -> Catalogue<'a> {
        let mut rules: HashMap<&'a str, (Fix, Vec<&'a str>)> = HashMap::new();
        let mut add = |id: &'a str, fix: Fix, rotate: Vec<&'a str>| {
            rules.entry(id).or_insert((fix, rotate));
        };
        for r in crate::detectors::rules() {
            add(r.id, r.fix, r.rotate.to_vec());
        }
        for r in sigs.payload.all() {
            add(&r.id, r.fix, r.rotate.iter().map(String::as_str).collect());
        }
        for b in sigs.behaviours.rules() {
            add(&b.id, b.fix, b.rotate.iter().map(String::as_str).collect());
        }
        let iocs = &sigs.iocs;
        for (id, fix, rotate) in iocs
            .files
            .iter()
            .map(|f| (&f.id, f.fix, &f.rotate))
            .chain(iocs.paths.iter().map(|p| (&p.id, p.fix, &p.rotate)))
            .chain(iocs.processes.iter().map(|p| (&p.id, p.fix, &p.rotate)))
            .chain(iocs.network.iter().map(|n| (&n.id, n.fix, &n.rotate)))
        {
            add(id, fix, rotate.iter().map(String::as_str).collect());
        }
        for s in sigs.signals.docs() {
            add(&s.id, s.fix, s.rotate.iter().map(String::as_str).collect());
        }
        Catalogue { rules }
    }

    /// The fix of rule `id` (one the catalogue does not know: review).
    pub fn fix(&self, id: &str) -> Fix {
        self.rules.get(id).map_or(Fix::Review, |r| r.0)
    }

    /// The classes rule or signal `id` says to rotate.
    pub fn rotate(&self, id: &str) -> &[&'a str] {
        self.rules.get(id).map_or(&[], |r| r.1.as_slice())
    }
}

/// Gives every finding its `fix` and `rotate`: the fix of its rule worded with its facts, and
/// the classes of every rule and signal that fired on its file (findings at `info` say
/// nothing: a known-good hook needs no action).
pub fn annotate(findings: &mut [Finding], sigs: &Signatures, environments: &[Environment]) {
    let catalogue = Catalogue::new(sigs);
    let kinds: HashMap<&Path, EnvKind> = environments
        .iter()
        .map(|e| (e.root.as_path(), e.kind))
        .collect();
    let fixes: Vec<Fix> = findings.iter().map(|f| catalogue.fix(&f.rule)).collect();
    // a file whose content differs from what its distribution installed: reinstalling that
    // release brings the right one back
    let changed: HashSet<PathBuf> = findings
        .iter()
        .zip(&fixes)
        .filter(|(f, fix)| **fix == Fix::Reinstall && f.severity > Severity::Info)
        .map(|(f, _)| f.location.path.clone())
        .collect();
    let mut rotate: HashMap<PathBuf, BTreeSet<usize>> = HashMap::new();
    for f in findings.iter().filter(|f| f.severity > Severity::Info) {
        let classes = rotate.entry(f.location.path.clone()).or_default();
        let mut add = |class: &str| {
            if let Some(i) = ROTATE_CLASSES.iter().position(|(c, _)| *c == class) {
                classes.insert(i);
            }
        };
        // the rule's own: as its detector narrowed them to the stores the code names, else
        // all its rule lists
        match (f.rotate.is_empty(), f.behaviour) {
            (false, _) => f.rotate.iter().for_each(|c| add(c)),
            // a flow's evidence names where its data came from
            (true, true) => narrow(catalogue.rotate(&f.rule), &f.evidence)
                .into_iter()
                .for_each(&mut add),
            (true, false) => catalogue.rotate(&f.rule).iter().for_each(|c| add(c)),
        }
        // each signal's, narrowed to the stores its literals name; a combination speaks
        // through the signals it combines
        for hit in &f.signals {
            if f.signals
                .iter()
                .any(|other| other.id != hit.id && hit.matched.contains(other.id.as_str()))
            {
                continue;
            }
            narrow(catalogue.rotate(&hit.id), &hit.matched)
                .into_iter()
                .for_each(&mut add);
        }
    }
    for (f, fix) in findings.iter_mut().zip(fixes) {
        let kind = f.environment.as_deref().and_then(|e| kinds.get(e).copied());
        let changed = changed.contains(&f.location.path);
        apply(f, fix, kind, changed);
        if f.severity > Severity::Info {
            f.rotate = rotate
                .get(&f.location.path)
                .into_iter()
                .flatten()
                .map(|&i| ROTATE_CLASSES[i].0.to_owned())
                .collect();
        }
    }
}

/// The classes of `listed` whose stores `text` names, or all of `listed` when it names none.
fn narrow<'c>(listed: &[&'c str], text: &str) -> Vec<&'c str> {
    let named = pthscan_signatures::action::classes_named(text);
    let kept: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|c| named.contains(c))
        .collect();
    match kept.is_empty() {
        true => listed.to_vec(),
        false => kept,
    }
}

/// Words `fix` for `f`: `kind` is its environment's, `changed` whether its file differs from
/// what its distribution installed.
pub fn apply(f: &mut Finding, fix: Fix, kind: Option<EnvKind>, changed: bool) {
    f.fix = words(f, fix, kind, changed);
}

fn words(f: &Finding, fix: Fix, kind: Option<EnvKind>, changed: bool) -> Option<String> {
    if f.severity == Severity::Info || fix == Fix::Keep {
        return None;
    }
    let fix = match fix {
        // a heuristic that reached `high` on this file is no longer a question
        Fix::Review if f.severity >= Severity::High => Fix::Remove,
        fix => fix,
    };
    let shown = display_path(&f.location.path);
    let path = format!("`{shown}`");
    let release = f.distribution.as_deref().map(|d| match d.split_once(' ') {
        Some((name, version)) => (name, Some(version)),
        None => (d, None),
    });
    let env = f
        .environment
        .as_deref()
        .map(|e| format!(" in `{}`", display_path(e)))
        .unwrap_or_default();
    // an artifact's finding is shown as `artifact › member`: what to act on is the artifact
    let artifact = shown
        .split_once(" › ")
        .map(|(a, _)| a.to_owned())
        .or_else(|| {
            matches!(
                kind,
                Some(EnvKind::Wheel | EnvKind::Sdist | EnvKind::Archive)
            )
            .then(|| f.environment.as_deref().map(display_path))
            .flatten()
        });
    let cache = kind == Some(EnvKind::Cache)
        || [
            "/.cache/pip/",
            "/.cache/uv/",
            "/pip/wheels/",
            "/uv/archive-v",
        ]
        .iter()
        .any(|c| shown.contains(c));
    // a start-up file runs in every Python of its environment, pip's included: it goes first
    let hook = f
        .location
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| {
            n.ends_with(".pth")
                || n.ends_with(".start")
                || n.starts_with("sitecustomize.")
                || n.starts_with("usercustomize.")
        });
    let first = match hook {
        true => format!(
            "remove {path} first (any Python of this environment runs it, pip's included), then "
        ),
        false => String::new(),
    };
    let pin = |name: &str, version: Option<&str>| match version {
        Some(v) => format!("`{name}=={v}`"),
        None => format!("`{name}`"),
    };
    let text = match fix {
        Fix::Keep => return None,
        Fix::Stop => format!(
            "capture {path} (cmdline, exe, maps, environ) for the record, stop the process, then remove what it runs"
        ),
        Fix::Disable => format!(
            "disable and delete {path} (the unit, timer, cron entry or profile line), then remove the code it starts"
        ),
        Fix::Repin => match release {
            Some((name, Some(version))) => format!(
                "change the pin of {name} in {path} to a release no record names (not {version}), regenerate the lock, and check whether an environment or image already installed it"
            ),
            _ => format!(
                "pin every requirement of {path} to one version with hashes from a trusted index (`pip-compile --generate-hashes`, `uv lock`)"
            ),
        },
        _ if cache => format!(
            "delete the package-cache entry holding {path} (or purge the cache: `pip cache purge`, `uv cache clean`) so that no later install reuses it"
        ),
        // inside an image (a saved one, or one of an engine's store): what to act on is the
        // image, never the archive or store that holds it (`/var/lib/docker`)
        _ if image_of(&shown).is_some() => {
            let image = image_of(&shown).unwrap_or_default();
            let what = release.map_or("what put it there".to_owned(), |(n, _)| format!("`{n}`"));
            format!(
                "do not run or deploy `{image}`: rebuild it without {what} (from a trusted index at a release no advisory names), then remove the image and the containers made from it"
            )
        }
        _ if artifact.is_some() => {
            let artifact = artifact.unwrap_or_default();
            let what = release.map_or("the package".to_owned(), |(n, _)| n.to_owned());
            format!(
                "do not install `{artifact}`: delete it, and take {what} from a trusted index at a release no advisory names"
            )
        }
        Fix::Review => match release {
            Some((name, version)) => format!(
                "read {path}: keep it only if you know why {name} runs it; otherwise remove it and reinstall {} from a trusted index",
                pin(name, version)
            ),
            None => format!(
                "read {path}: keep it only if you know why it is there; otherwise remove it"
            ),
        },
        Fix::Reinstall => match release {
            Some((name, version)) => format!(
                "{first}reinstall {name}{} from a trusted index{env}: `pip install --force-reinstall --no-deps --no-cache-dir {}`",
                version.map(|v| format!(" {v}")).unwrap_or_default(),
                pin(name, version).trim_matches('`')
            ),
            None => format!("remove {path} (no installed distribution owns it)"),
        },
        Fix::Remove => match release {
            Some((name, version)) if changed => format!(
                "remove {path}, then reinstall {name}{} from a trusted index: `pip install --force-reinstall --no-deps --no-cache-dir {}`",
                version.map(|v| format!(" {v}")).unwrap_or_default(),
                pin(name, version).trim_matches('`')
            ),
            Some((name, version)) if hook => format!(
                "{first}uninstall {name}{}{env} (`pip uninstall {name}`: it installed the file) and install a release no advisory names from a trusted index",
                version.map(|v| format!(" {v}")).unwrap_or_default(),
            ),
            Some((name, version)) => format!(
                "uninstall {name}{}{env} (`pip uninstall {name}`: it installed {path}), remove the file if it remains, and install a release no advisory names from a trusted index",
                version.map(|v| format!(" {v}")).unwrap_or_default(),
            ),
            None if f.environment.is_some() && !f.rule.starts_with("ioc-path") => {
                format!("remove {path} (no installed distribution owns it)")
            }
            None => format!("remove {path}"),
        },
        Fix::Uninstall => match release {
            Some((name, version)) => format!(
                "delete its start-up files (.pth, sitecustomize) by hand first, then uninstall {name}{}{env} (`pip uninstall {name}`), pin away from the bad release{}, and rebuild the environment from known-good sources",
                version.map(|v| format!(" {v}")).unwrap_or_default(),
                version
                    .map(|v| format!(" (`{name}!={v}`)"))
                    .unwrap_or_default(),
            ),
            None => format!(
                "remove {path}, and rebuild{} from known-good sources",
                if env.is_empty() {
                    " the environment".to_owned()
                } else {
                    env.replacen(" in ", " ", 1)
                }
            ),
        },
    };
    Some(text)
}

/// What a responder rotates for each class, for people (`ssh` → `SSH private keys …`).
pub fn rotate_label(class: &str) -> &str {
    pthscan_signatures::action::rotate_label(class).unwrap_or(class)
}

/// The image a finding's shown path lies in (`app.tar › app:1.0`, `/var/lib/docker › app:1.0
/// (also …)`): what comes before its `layer N …` part, when it has one.
fn image_of(shown: &str) -> Option<String> {
    let parts: Vec<&str> = shown.split(" › ").collect();
    let layer = parts
        .iter()
        .position(|p| {
            p.strip_prefix("layer ")
                .and_then(|rest| rest.split(' ').next())
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|&at| at > 0)?;
    Some(parts[..layer].join(" › "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;

    fn finding(rule: &'static str, path: &str, dist: Option<&str>) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::Critical,
            location: Location {
                path: path.into(),
                line: Some(1),
                column: None,
            },
            environment: Some("/srv/app/.venv".into()),
            distribution: dist.map(str::to_owned),
            ..Finding::default()
        }
    }

    fn worded(f: &Finding, fix: Fix, kind: Option<EnvKind>, changed: bool) -> String {
        words(f, fix, kind, changed).unwrap_or_default()
    }

    #[test]
    fn the_fix_follows_the_facts_of_the_finding() {
        let pth = "/srv/app/.venv/lib/python3.12/site-packages/litellm_init.pth";
        // an unowned hook: remove the file
        let unowned = finding("PTH001", pth, None);
        let text = worded(&unowned, Fix::Remove, Some(EnvKind::Venv), false);
        assert!(text.starts_with("remove `/srv/app/.venv/"), "{text}");
        assert!(text.contains("no installed distribution owns it"), "{text}");
        // shipped by its distribution as it is: uninstall, a release no advisory names
        let shipped = finding("PTH001", pth, Some("litellm 1.82.8"));
        let text = worded(&shipped, Fix::Remove, Some(EnvKind::Venv), false);
        assert!(
            text.starts_with(
                "remove `/srv/app/.venv/lib/python3.12/site-packages/litellm_init.pth` first"
            ),
            "{text}"
        );
        assert!(text.contains("uninstall litellm 1.82.8"), "{text}");
        // changed after install: reinstall that release
        let text = worded(&shipped, Fix::Remove, Some(EnvKind::Venv), true);
        assert!(
            text.contains("reinstall litellm 1.82.8 from a trusted index"),
            "{text}"
        );
        assert!(
            text.contains(
                "`pip install --force-reinstall --no-deps --no-cache-dir litellm==1.82.8`"
            ),
            "{text}"
        );
        // a malicious distribution: uninstall and pin away
        let text = worded(&shipped, Fix::Uninstall, Some(EnvKind::Venv), false);
        assert!(text.contains("`litellm!=1.82.8`"), "{text}");
        // in a package cache: purge the entry
        let cached = finding(
            "PTH001",
            "/root/.cache/uv/archive-v0/x/litellm_init.pth",
            None,
        );
        let text = worded(&cached, Fix::Remove, Some(EnvKind::Cache), false);
        assert!(text.starts_with("delete the package-cache entry"), "{text}");
        // in an artifact: do not install it
        let wheel = finding(
            "PTH001",
            "/dl/litellm-1.82.8-py3-none-any.whl › litellm_init.pth",
            None,
        );
        let text = worded(&wheel, Fix::Remove, Some(EnvKind::Wheel), false);
        assert!(
            text.starts_with("do not install `/dl/litellm-1.82.8-py3-none-any.whl`"),
            "{text}"
        );
        // in an image of a store: the image, not the store, is what to act on
        let stored = finding(
            "PTH001",
            "/var/lib/docker › app:1.0 (also app:latest) › layer 2 sha256:be0c37d6301b › usr/lib/python3/dist-packages/x.pth",
            None,
        );
        let text = worded(&stored, Fix::Remove, Some(EnvKind::Archive), false);
        assert!(
            text.starts_with("do not run or deploy `/var/lib/docker › app:1.0 (also app:latest)`"),
            "{text}"
        );
        assert!(!text.contains("delete it"), "{text}");
        // a known-good hook needs nothing
        let mut info = unowned.clone();
        info.severity = Severity::Info;
        assert_eq!(words(&info, Fix::Remove, None, false), None);
        // a heuristic that reached high is no question any more
        let text = worded(&unowned, Fix::Review, Some(EnvKind::Venv), false);
        assert!(text.starts_with("remove "), "{text}");
    }
}
