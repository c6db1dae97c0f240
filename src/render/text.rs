//! `--format text`: for people. Grouped by environment, most severe first; known-good hooks on
//! one line each; a summary and the verdict last.

use std::io::{self, Write};
use std::path::Path;

use pthscan_core::pathfmt::display_path;
use pthscan_core::{Finding, Severity};

use super::ReportView;

/// Writes the text report.
pub fn render(view: &ReportView<'_>, w: &mut dyn Write) -> io::Result<()> {
    let r = view.report;
    let scanned: Vec<String> = r.scanned.iter().map(|p| display_path(p)).collect();
    writeln!(
        w,
        "pthscan {}: scanned {}",
        env!("CARGO_PKG_VERSION"),
        if scanned.is_empty() {
            "nothing".into()
        } else {
            scanned.join(", ")
        }
    )?;

    // environments in order of their worst finding, then by root; findings about no
    // environment found (an artifact's own shape, persistence on the host) get groups of their own
    let mut groups: Vec<(Option<&Path>, Severity, Vec<&Finding>)> = r
        .environments
        .iter()
        .map(|e| (Some(e.root.as_path()), Severity::Info, Vec::new()))
        .collect();
    for f in view.shown() {
        let key = f.environment.as_deref();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.2.push(f),
            None => groups.push((key, Severity::Info, vec![f])),
        }
    }
    for g in &mut groups {
        g.1 =
            g.2.iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (root, _, findings) in &groups {
        writeln!(w)?;
        match root.and_then(|root| r.environments.iter().find(|e| e.root == root)) {
            Some(env) => {
                let python = env
                    .python
                    .as_deref()
                    .map(|v| format!(", Python {v}"))
                    .unwrap_or_default();
                let kind = serde_json::to_value(env.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                writeln!(
                    w,
                    "{} ({kind}{python}, {} distribution(s))",
                    display_path(&env.root),
                    env.distributions
                )?;
            }
            None => match root {
                Some(root) => writeln!(w, "{}", display_path(root))?,
                None => writeln!(w, "outside any Python environment")?,
            },
        }
        if findings.is_empty() {
            let hidden = r
                .findings
                .iter()
                .filter(|f| f.environment.as_deref() == *root)
                .count();
            match hidden {
                0 => writeln!(w, "  no start-up hooks")?,
                n => writeln!(
                    w,
                    "  nothing at or above `{}` ({n} finding(s) hidden by --min-severity)",
                    view.min_severity
                )?,
            }
        }
        write_files(findings, view.color, w)?;
    }

    if r.stats.processes.is_some() {
        processes(r, w)?;
    }

    if !r.diagnostics.is_empty() {
        writeln!(w)?;
        writeln!(w, "problems ({}):", r.diagnostics.len())?;
        for d in &r.diagnostics {
            let tag = if d.incomplete { "not judged" } else { "note" };
            writeln!(w, "  {tag}: {}: {}", display_path(&d.path), d.message)?;
        }
    }

    let s = &r.stats;
    let counts: Vec<String> = view
        .counts()
        .iter()
        .map(|(sev, n)| format!("{n} {sev}"))
        .collect();
    writeln!(w)?;
    writeln!(
        w,
        "summary: {}{} environment(s), {} hook file(s), {} distribution(s){}{}; judged: {}; findings: {}{}; {} entries walked, {} files read ({} KiB) in {:.2} s",
        match s.artifacts {
            0 => String::new(),
            n => format!("{n} artifact(s), "),
        },
        s.environments,
        s.hook_files,
        s.distributions,
        match s.lockfiles {
            0 => String::new(),
            n => format!(", {n} lockfile(s)"),
        },
        match s.processes {
            None => String::new(),
            Some(n) => format!(", {n} Python process(es) running"),
        },
        judged(s),
        counts.join(", "),
        [
            (s.suppressed, "suppressed".to_owned()),
            (s.baselined, "already in the baseline".to_owned()),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!(" ({n} {what})"))
        .chain(hidden(view))
        .collect::<String>(),
        s.entries_walked,
        s.files_read,
        s.bytes_read.div_ceil(1024),
        s.elapsed.as_secs_f64()
    )?;
    if s.excluded > 0 {
        writeln!(
            w,
            "excluded: {} entries passed over by --exclude",
            s.excluded
        )?;
    }
    if let Some(since) = s.since {
        writeln!(
            w,
            "since {}: {} older finding(s) left out, {} kept for lack of a known time",
            since.date, since.older, since.untimed
        )?;
    }
    let at_or_above = view.failing();
    let threshold = match view.fail_on {
        Some(level) => format!("at or above `{level}`"),
        None => "failing (--fail-on never)".to_owned(),
    };
    let verdict = match view.exit_code {
        0 => format!("pass: nothing {threshold}"),
        1 => format!(
            "fail: {at_or_above} finding(s) {threshold}{}",
            match r.incomplete() {
                true => "; some inputs could not be read or judged (see problems)",
                false => "",
            }
        ),
        _ => format!(
            "incomplete: nothing {threshold}, but some inputs could not be read or judged (see problems)"
        ),
    };
    writeln!(w, "verdict: {verdict} (exit {})", view.exit_code)
}

/// What `--min-severity` left out of the listing: ` (hidden by --min-severity: 432 info)`.
fn hidden(view: &ReportView<'_>) -> Option<String> {
    let hidden = view.hidden();
    (!hidden.is_empty()).then(|| {
        let parts: Vec<String> = hidden.iter().map(|(s, n)| format!("{n} {s}")).collect();
        format!(" (hidden by --min-severity: {})", parts.join(", "))
    })
}

/// The Python processes running (`--processes`): one line each, the first [`PROCESSES_SHOWN`].
fn processes(r: &pthscan_core::ScanReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w)?;
    writeln!(w, "running Python processes ({}):", r.processes.len())?;
    if r.processes.is_empty() {
        writeln!(w, "  none")?;
    }
    for p in r.processes.iter().take(PROCESSES_SHOWN) {
        let user = p
            .user
            .clone()
            .or_else(|| p.uid.map(|u| format!("uid {u}")))
            .unwrap_or_else(|| "?".into());
        let env = match (&p.environment, &p.prefix) {
            (Some(e), _) => format!("  [{} (scanned)]", display_path(e)),
            (None, Some(prefix)) => format!(
                "  [{}{}]",
                display_path(prefix),
                if p.venv { ", venv" } else { "" }
            ),
            (None, None) => String::new(),
        };
        writeln!(
            w,
            "  pid {:<7} ppid {:<7} {:<10} {}{env}",
            p.pid,
            p.ppid,
            user,
            pthscan_core::finding::excerpt(&p.argv.join(" "), 100),
        )?;
    }
    if r.processes.len() > PROCESSES_SHOWN {
        writeln!(
            w,
            "  … and {} more (--format json lists them all)",
            r.processes.len() - PROCESSES_SHOWN
        )?;
    }
    Ok(())
}

/// How many processes the text report lists.
const PROCESSES_SHOWN: usize = 50;

/// What was judged as what, and what was not: `3 start-up, 1,204 installed, 2 loose, 1 skipped`.
fn judged(s: &pthscan_core::Stats) -> String {
    let parts: Vec<String> = [
        (s.startup_code, "start-up"),
        (s.installed_code, "installed"),
        (s.loose_code, "loose"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what} file(s)"))
    .chain((s.skipped > 0).then(|| format!("{} input(s) skipped (see problems)", s.skipped)))
    .collect();
    match parts.is_empty() {
        true => "nothing".to_owned(),
        false => parts.join(", "),
    }
}

/// When the file came to be, compactly: its birth, and its modification where it is another
/// second (`--format timeline` and JSON have every time).
fn when(t: &pthscan_core::FileTimes) -> Option<String> {
    let modified = t
        .modified
        .filter(|m| t.birth.is_none_or(|b| b.secs() != m.secs()));
    let parts: Vec<String> = [("born", t.birth), ("modified", modified)]
        .into_iter()
        .filter_map(|(what, at)| at.map(|at| format!("{what} {at}")))
        .collect();
    match (parts.is_empty(), t.layer_created) {
        (true, None) => None,
        (true, Some(layer)) => Some(format!("layer created {layer}")),
        (false, _) => Some(parts.join(", ")),
    }
}

/// The severity label, padded, in colour when asked.
fn label(s: Severity, color: bool) -> String {
    let text = format!("{:<8}", s.as_str().to_uppercase());
    if !color {
        return text;
    }
    let code = match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The findings of one environment, grouped by file: files in order of their worst finding,
/// each file's facts (distribution, sha256, when it runs, what its code does) once, its
/// findings, then what to do (`fix:`, `rotate:`). A file with only `info` findings (a
/// known-good hook) is one line.
fn write_files(findings: &[&Finding], color: bool, w: &mut dyn Write) -> io::Result<()> {
    let mut files: Vec<(&Path, Vec<&Finding>)> = Vec::new();
    for f in findings {
        match files
            .iter_mut()
            .find(|(p, _)| *p == f.location.path.as_path())
        {
            Some((_, group)) => group.push(*f),
            None => files.push((f.location.path.as_path(), vec![*f])),
        }
    }
    for (path, group) in &files {
        let worst = group
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info);
        if worst == Severity::Info {
            for f in group {
                let sev = label(f.severity, color);
                writeln!(w, "  {sev} {:<8} {}  {}", f.rule, at(f), f.message)?;
            }
            continue;
        }
        writeln!(w, "  {} {}", label(worst, color), display_path(path))?;
        let facts: Vec<String> = [
            group
                .iter()
                .find_map(|f| f.distribution.as_deref())
                .map(|d| format!("distribution: {d}"))
                .or_else(|| {
                    group[0]
                        .environment
                        .as_ref()
                        .map(|_| "distribution: none known".to_owned())
                }),
            group
                .iter()
                .find(|f| !f.sha256.is_empty())
                .map(|f| format!("sha256: {}", f.sha256)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !facts.is_empty() {
            writeln!(w, "           {}", facts.join("   "))?;
        }
        let when_line: Vec<String> = runs_on(group)
            .map(|r| format!("runs on: {r}"))
            .into_iter()
            .chain(group.iter().find_map(|f| when(&f.times)))
            .collect();
        if !when_line.is_empty() {
            writeln!(w, "           {}", when_line.join("   "))?;
        }
        // what the code does: the most severe behaviour rule's flow
        if let Some(b) = group.iter().find(|f| f.behaviour) {
            writeln!(w, "           does: {}", b.message)?;
        }
        let mut noted: Vec<&str> = Vec::new();
        for f in group {
            write_finding(f, color, &mut noted, w)?;
        }
        // the most urgent action among the file's findings, and every class to rotate
        if let Some(fix) = group
            .iter()
            .filter(|f| f.fix.is_some())
            .max_by_key(|f| f.severity)
            .and_then(|f| f.fix.as_deref())
        {
            writeln!(w, "           fix: {fix}")?;
        }
        if let Some(f) = group.iter().find(|f| !f.rotate.is_empty()) {
            writeln!(w, "           rotate: {}", rotate_text(&f.rotate))?;
        }
    }
    Ok(())
}

/// The classes to rotate, for people, one clause each.
fn rotate_text(classes: &[String]) -> String {
    classes
        .iter()
        .map(|c| pthscan_core::action::rotate_label(c))
        .collect::<Vec<_>>()
        .join("; ")
}

/// When the file's code runs, where that says something: code in an environment (not a
/// changed file, an archive's shape or a service on the host).
fn runs_on(group: &[&Finding]) -> Option<String> {
    let f = group
        .iter()
        .find(|f| !f.runs_on.is_never())
        .unwrap_or(&group[0]);
    let about_code = f.environment.is_some()
        && !["INT", "REC", "ARC", "ioc-"]
            .iter()
            .any(|p| f.rule.starts_with(p));
    match (about_code || !f.runs_on.is_never(), f.runs_on.is_never()) {
        (false, _) => None,
        (true, true) => Some("not at start-up (when imported)".to_owned()),
        (true, false) => Some(f.runs_on.to_string()),
    }
}

/// `line 3` or `line 3:7`, or the path when the finding is about no line.
fn at(f: &Finding) -> String {
    match (f.location.line, f.location.column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", display_path(&f.location.path)),
        (Some(line), None) => format!("{}:{line}", display_path(&f.location.path)),
        _ => display_path(&f.location.path),
    }
}

/// One finding under its file: severity, rule, line and message, then its evidence, signals,
/// notes (each note once per file) and reference.
fn write_finding<'f>(
    f: &'f Finding,
    color: bool,
    noted: &mut Vec<&'f str>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let sev = label(f.severity, color);
    let line = match (f.location.line, f.location.column) {
        (Some(line), Some(column)) => format!("line {line}:{column}: "),
        (Some(line), None) => format!("line {line}: "),
        _ => String::new(),
    };
    if f.severity == Severity::Info {
        return writeln!(w, "    {sev} {:<8} {line}{}", f.rule, f.message);
    }
    writeln!(w, "    {sev} {:<8} {line}{}", f.rule, f.message)?;
    if !f.evidence.is_empty() {
        writeln!(w, "             | {}", f.evidence)?;
    }
    if !f.decoded.is_empty() {
        writeln!(
            w,
            "             decoded: {} → {}",
            f.decoded.join(" → "),
            f.rule
        )?;
    }
    for hit in &f.signals {
        writeln!(
            w,
            "             signal: {} ({}): {}",
            hit.id, hit.severity, hit.matched
        )?;
    }
    for note in &f.notes {
        if noted.contains(&note.as_str()) {
            continue;
        }
        noted.push(note);
        writeln!(w, "             note: {note}")?;
    }
    if let Some(reference) = &f.reference {
        writeln!(w, "             reference: {reference}")?;
    }
    Ok(())
}
