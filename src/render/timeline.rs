//! `--format timeline`, and the `timeline` of `--format json`: what happened when, oldest
//! first — each distribution installed, each flagged file born, modified and changed, each
//! image layer that holds one created — so that a responder reads "litellm 1.82.8 installed
//! 10:52, `litellm_init.pth` born 10:52, `~/.config/sysmon/sysmon.py` 10:53" in one place.
//! Times are what the filesystem or archive keeps (see `pthscan_core::times`); a finding whose
//! file keeps none is listed apart, never dropped.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use pthscan_core::pathfmt::display_path;
use pthscan_core::{EnvKind, FileTimes, Finding, Severity, Timestamp};
use serde::Serialize;

use super::ReportView;

/// At most this many rule ids are named on one event; the rest are counted.
const RULES_SHOWN: usize = 4;

/// One thing that happened to a file or distribution.
#[derive(Debug, Serialize)]
pub struct Event {
    /// When, RFC 3339 UTC.
    pub time: Timestamp,
    /// What happened: `installed`, `born`, `modified`, `changed` or `layer-created`.
    pub event: &'static str,
    /// What it happened to: `distribution`, `hook`, `persistence`, `cache-entry` (a package
    /// cache's file), `archive` (an artifact with findings inside), `dist-info` (a file of a
    /// distribution's metadata), `lockfile` or `file`.
    pub kind: &'static str,
    /// The file or dist-info directory, as shown elsewhere in the report.
    pub path: String,
    /// For `installed`: `name version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// The worst severity of the findings on this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The rules that found something in this file, most severe first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// The events of a report, oldest first (then distributions before files, then by path);
/// with `--since`, those before it are left out. Also returns the files with findings but no
/// known time.
pub fn events(view: &ReportView<'_>) -> (Vec<Event>, Vec<String>) {
    let r = view.report;
    let since = r.stats.since.map(|s| s.date);
    let mut out = Vec::new();
    for env in &r.environments {
        // an archive's metadata was built, not installed
        if matches!(env.kind, EnvKind::Wheel | EnvKind::Sdist | EnvKind::Archive) {
            continue;
        }
        for d in &env.inventory {
            let Some(time) = d.installed else { continue };
            let dir = d.metadata.parent().unwrap_or(&d.metadata);
            out.push(Event {
                time,
                event: "installed",
                kind: "distribution",
                path: display_path(dir),
                distribution: Some(format!("{} {}", d.name, d.version)),
                severity: None,
                rules: Vec::new(),
            });
        }
    }
    // one set of events a file, whatever the number of its findings (sorted most severe
    // first); a member of an archive file that stored no time of its own (a cached wheel's)
    // is dated by that file, whose events then stand for the findings in it
    let mut files: BTreeMap<String, (FileTimes, Option<&'static str>, Vec<&Finding>)> =
        BTreeMap::new();
    let mut untimed = Vec::new();
    for f in &r.findings {
        let shown = display_path(&f.location.path);
        // only the archive that holds the member itself: a member nested deeper (a wheel in
        // an image layer) is not dated by the outermost file
        let outer = shown
            .split_once(" › ")
            .filter(|(_, inner)| !inner.contains(" › "))
            .map(|(outer, _)| outer);
        let (key, times, kind) = match outer {
            _ if !f.times.is_empty() => (shown, f.times, None),
            Some(outer) => match r
                .artifact_times
                .iter()
                .find(|(p, _)| display_path(p) == outer)
            {
                Some((_, t)) if !t.is_empty() => (outer.to_owned(), *t, Some(artifact_kind(outer))),
                _ => {
                    untimed.push(shown);
                    continue;
                }
            },
            None => {
                untimed.push(shown);
                continue;
            }
        };
        files
            .entry(key)
            .or_insert((times, kind, Vec::new()))
            .2
            .push(f);
    }
    untimed.sort();
    untimed.dedup();
    for (path, (times, kind, findings)) in files {
        let kind = kind.unwrap_or_else(|| kind_of(view, Path::new(&path), &findings));
        let mut rules: Vec<String> = Vec::new();
        for f in &findings {
            if !rules.iter().any(|r| *r == f.rule) {
                rules.push(f.rule.to_string());
            }
        }
        for (event, time) in happened(&times) {
            out.push(Event {
                time,
                event,
                kind,
                path: path.clone(),
                distribution: None,
                severity: findings.iter().map(|f| f.severity).max(),
                rules: rules.clone(),
            });
        }
    }
    out.retain(|e| since.is_none_or(|s| e.time >= s));
    out.sort_by(|a, b| {
        (
            a.time.secs(),
            a.event != "installed",
            &a.path,
            order(a.event),
        )
            .cmp(&(
                b.time.secs(),
                b.event != "installed",
                &b.path,
                order(b.event),
            ))
    });
    (out, untimed)
}

/// The events of one file's times: its birth; its modification and change where they fall on
/// another second (a change after the modification is a rename, a `chmod`, a `touch` that set
/// the modified time back); the creation of its image layer.
fn happened(t: &FileTimes) -> Vec<(&'static str, Timestamp)> {
    let mut out: Vec<(&'static str, Timestamp)> = Vec::new();
    let mut push = |event, time: Option<Timestamp>| {
        if let Some(time) = time
            && !out.iter().any(|(_, seen)| seen.secs() == time.secs())
        {
            out.push((event, time));
        }
    };
    push("born", t.birth);
    push("modified", t.modified);
    push("changed", t.changed);
    if let Some(created) = t.layer_created {
        out.push(("layer-created", created));
    }
    out
}

fn order(event: &str) -> u8 {
    match event {
        "installed" => 0,
        "layer-created" => 1,
        "born" => 2,
        "modified" => 3,
        _ => 4,
    }
}

/// What a flagged file is: persistence on the host, a start-up hook, a member of a package
/// cache, a lockfile, or another file.
fn kind_of(view: &ReportView<'_>, path: &Path, findings: &[&Finding]) -> &'static str {
    // a persistence unit, cron line or shell rc; a file at a path attackers drop (the
    // sysmon.py a unit starts)
    if findings
        .iter()
        .any(|f| f.rule.starts_with("PER") || f.rule.starts_with("ioc-path-"))
    {
        return "persistence";
    }
    let env_kind = findings[0].environment.as_deref().and_then(|root| {
        view.report
            .environments
            .iter()
            .find(|e| e.root == root)
            .map(|e| e.kind)
    });
    if env_kind == Some(EnvKind::Cache) {
        return "cache-entry";
    }
    // a distribution's metadata (a known-malicious release's METADATA, a changed RECORD)
    let in_metadata = path.ancestors().skip(1).any(|dir| {
        dir.file_name()
            .map(|n| n.to_string_lossy())
            .is_some_and(|n| n.ends_with(".dist-info") || n.ends_with(".egg-info"))
    });
    if in_metadata {
        return "dist-info";
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if findings.iter().any(|f| f.rule.starts_with("LCK"))
        || pthscan_core::python::lockfile::format_of(&name).is_some()
    {
        return "lockfile";
    }
    let stem = name.split('.').next().unwrap_or_default();
    if name.ends_with(".pth")
        || name.ends_with(".start")
        || matches!(stem, "sitecustomize" | "usercustomize")
    {
        return "hook";
    }
    "file"
}

/// What an archive file with findings inside is: an entry of a package cache (pip's, uv's:
/// a directory named `.cache` or `…cache` on its path), or an archive.
fn artifact_kind(path: &str) -> &'static str {
    let cached = Path::new(path).components().any(|c| {
        let c = c.as_os_str().to_string_lossy().to_lowercase();
        c == ".cache" || c.ends_with("cache") || c.ends_with("caches")
    });
    if cached { "cache-entry" } else { "archive" }
}

/// Writes the timeline, one event a line.
pub fn render(view: &ReportView<'_>, w: &mut dyn Write) -> io::Result<()> {
    let r = view.report;
    let (events, untimed) = events(view);
    let scanned: Vec<String> = r.scanned.iter().map(|p| display_path(p)).collect();
    writeln!(
        w,
        "pthscan {}: timeline of {}{}",
        env!("CARGO_PKG_VERSION"),
        if scanned.is_empty() {
            "nothing".into()
        } else {
            scanned.join(", ")
        },
        match r.stats.since {
            Some(s) => format!(", since {}", s.date),
            None => String::new(),
        }
    )?;
    writeln!(w)?;
    for e in &events {
        let what = match (&e.distribution, e.severity) {
            (Some(d), _) => d.clone(),
            (None, Some(sev)) => {
                let mut rules = e.rules[..e.rules.len().min(RULES_SHOWN)].join(", ");
                if e.rules.len() > RULES_SHOWN {
                    rules.push_str(&format!(" (+{})", e.rules.len() - RULES_SHOWN));
                }
                format!("{} {rules}", sev.as_str().to_uppercase())
            }
            (None, None) => String::new(),
        };
        writeln!(
            w,
            "{}  {:<13} {:<12} {}  {what}",
            e.time, e.event, e.kind, e.path
        )?;
    }
    if events.is_empty() {
        writeln!(w, "no event")?;
    }
    if !untimed.is_empty() {
        writeln!(w)?;
        writeln!(w, "no time known ({}):", untimed.len())?;
        for path in &untimed {
            writeln!(w, "  {path}")?;
        }
    }
    writeln!(w)?;
    let findings = r.findings.len();
    let since = match r.stats.since {
        Some(s) => format!(
            "; --since left out {} older finding(s) and kept {} without a time",
            s.older, s.untimed
        ),
        None => String::new(),
    };
    writeln!(
        w,
        "summary: {} event(s), {findings} finding(s){since}; verdict: exit {}",
        events.len(),
        view.exit_code
    )
}
