//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning takes it — one run, the rules that
//! fired with their help text, `level` and `security-severity` from our severity, locations
//! relative to `--sarif-srcroot` when given, and `partialFingerprints` that stay the same from
//! one scan to the next. Problems met become tool execution notifications.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use pthscan_core::{Finding, Severity};
use pthscan_signatures::Signatures;
use serde_json::{Value, json};

use super::ReportView;

/// What SARIF says about one rule: a name, a one-line and a full description, help, a
/// reference.
struct RuleText {
    short: String,
    full: String,
    help: String,
    reference: Option<String>,
}

/// The text of any rule id: a detector, a payload rule, an IOC entry.
fn describe(id: &str, sigs: &Signatures) -> Option<RuleText> {
    if let Some(doc) = crate::planted::rules().into_iter().find(|r| r.id == id) {
        return Some(RuleText {
            short: doc.title.to_owned(),
            full: format!("{} {}", doc.what, doc.why),
            help: format!(
                "{}\n\nWhy it matters: {}\n\nExample: {}\n\nReferences: {}",
                doc.what,
                doc.why,
                doc.example,
                doc.references.join("; ")
            ) + &todo(doc.fix, doc.rotate),
            reference: None,
        });
    }
    if let Some(b) = sigs.behaviours.rules().iter().find(|b| b.id == id) {
        return Some(RuleText {
            short: b.description.clone(),
            full: format!(
                "{} (behaviour rule, judged on the syntax tree)",
                b.description
            ),
            help: format!(
                "{}\n\n{} in start-up and install code and at a module's import time, {} in other functions of a module. `pthscan explain {}` prints its examples.",
                b.description, b.severity, b.module_severity, b.id
            ) + &todo(b.fix, &b.rotate),
            reference: Some(b.reference.clone()),
        });
    }
    if let Some(r) = sigs.payload.all().into_iter().find(|r| r.id == id) {
        return Some(RuleText {
            short: r.description.clone(),
            full: format!(
                "{} (payload rule, family {}, {})",
                r.description, r.family, r.origin
            ),
            help: format!(
                "{}\n\nRun over start-up code, every module a hook imports, with --deep every file of every distribution, and every layer decoded from them. `pthscan explain {}` prints more.",
                r.description, r.id
            ) + &todo(r.fix, &r.rotate),
            reference: Some(r.reference.clone()),
        });
    }
    let iocs = &sigs.iocs;
    let ioc = iocs
        .files
        .iter()
        .map(|f| (&f.id, &f.description, &f.reference, f.fix, &f.rotate))
        .chain(
            iocs.network
                .iter()
                .map(|n| (&n.id, &n.description, &n.reference, n.fix, &n.rotate)),
        )
        .chain(
            iocs.paths
                .iter()
                .map(|p| (&p.id, &p.description, &p.reference, p.fix, &p.rotate)),
        )
        .chain(
            iocs.processes
                .iter()
                .map(|p| (&p.id, &p.description, &p.reference, p.fix, &p.rotate)),
        )
        .find(|(i, ..)| *i == id)?;
    Some(RuleText {
        short: ioc.1.clone(),
        full: format!("{} (indicator of compromise, signatures/ioc.toml)", ioc.1),
        help: format!("{}\n\nReference: {}", ioc.1, ioc.2) + &todo(ioc.3, ioc.4),
        reference: Some(ioc.2.clone()),
    })
}

/// The help's `What to do` paragraph: the kind of fix, and the credentials to rotate.
fn todo<S: AsRef<str>>(fix: pthscan_signatures::Fix, rotate: &[S]) -> String {
    let mut out = format!("\n\nWhat to do ({fix}): {}", fix.summary());
    if !rotate.is_empty() {
        let classes: Vec<&str> = rotate
            .iter()
            .map(|c| pthscan_signatures::action::rotate_label(c.as_ref()).unwrap_or(c.as_ref()))
            .collect();
        out.push_str(&format!(
            "\n\nRotate, because the code it finds reads them: {}.",
            classes.join("; ")
        ));
    }
    out
}

/// SARIF `level` and GitHub's `security-severity` for a severity.
fn level(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Critical => ("error", "9.5"),
        Severity::High => ("error", "8.0"),
        Severity::Medium => ("warning", "5.5"),
        Severity::Low => ("note", "3.0"),
        Severity::Info => ("note", "0.0"),
    }
}

/// A path as a URI reference: relative to `srcroot` when inside it, else a `file://` URI; each
/// segment percent-encoded.
fn uri(path: &str, srcroot: Option<&Path>) -> (String, bool) {
    let (rel, base) = match srcroot.and_then(|r| {
        Path::new(path)
            .strip_prefix(r)
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }) {
        Some(rel) => (rel, true),
        None => (path.to_owned(), false),
    };
    let encoded: String = rel
        .split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/");
    if base {
        (encoded, true)
    } else {
        (format!("file://{encoded}"), false)
    }
}

/// A readable rule name, as SARIF asks for beside the id: the first words of the description
/// in PascalCase (`ExecutablePthLine`).
fn pascal_name(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A fingerprint that survives rescans: the rule, the place (relative to the source root) and
/// the evidence — not line numbers, which move when a file is edited above the finding.
fn fingerprint(f: &Finding, place: &str) -> String {
    crate::policy::digest(&[f.rule.as_ref(), place, &f.evidence])
}

/// A SARIF `suppression` for what took a finding out of the verdict: `external` (a file beside
/// the code, not a comment in it), accepted, justified by the entry's reason, located at the
/// entry.
fn suppression(by: &crate::policy::SuppressedBy, srcroot: Option<&Path>) -> Value {
    let file = pthscan_core::pathfmt::display_path(&by.file);
    let justification = match (by.kind, &by.reason) {
        ("baseline", _) => format!("held by the baseline `{file}`"),
        (_, Some(reason)) => format!(
            "suppression {} in `{file}`: {reason}",
            by.entry.unwrap_or_default()
        ),
        (_, None) => format!("suppressed by `{file}`"),
    };
    let (uri, relative) = uri(&file, srcroot);
    let mut artifact = json!({ "uri": uri });
    if relative {
        artifact["uriBaseId"] = "SRCROOT".into();
    }
    let mut physical = json!({ "artifactLocation": artifact });
    if let Some(line) = by.line {
        physical["region"] = json!({ "startLine": line });
    }
    json!({
        "kind": "external",
        "status": "accepted",
        "justification": justification,
        "location": { "physicalLocation": physical }
    })
}

/// Writes the SARIF log. `sigs` describes the rules that fired (`None` when nothing was judged,
/// so nothing fired).
pub fn render(
    view: &ReportView<'_>,
    sigs: Option<&Signatures>,
    srcroot: Option<&Path>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let r = view.report;
    // rules in first-use order, each once
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut rules: Vec<Value> = Vec::new();
    let mut results = Vec::new();
    // suppressed and baselined findings too, each with a `suppressions` entry saying what took
    // it out: a viewer shows them as accepted rather than losing them
    let all = view.shown().map(|f| (f, None)).chain(
        view.suppressed
            .iter()
            .map(|s| (&s.finding, Some(&s.suppression))),
    );
    for (f, by) in all {
        let id = f.rule.to_string();
        let rule_index = *index.entry(id.clone()).or_insert_with(|| {
            let text = sigs.and_then(|s| describe(&id, s)).unwrap_or(RuleText {
                short: f.message.clone(),
                full: f.message.clone(),
                help: f.message.clone(),
                reference: f.reference.clone(),
            });
            let (lvl, sev) = level(f.severity);
            let mut rule = json!({
                "id": id,
                "name": pascal_name(&text.short),
                "shortDescription": { "text": text.short },
                "fullDescription": { "text": text.full },
                "help": { "text": text.help, "markdown": text.help },
                "defaultConfiguration": { "level": lvl },
                "properties": {
                    "security-severity": sev,
                    "tags": ["security", "python", "supply-chain"],
                    "precision": "high"
                }
            });
            // the first public URL the reference names (it may name a docs/ page first, or
            // say what it is after the URL)
            let url = text.reference.as_deref().and_then(|r| {
                r.split_whitespace()
                    .find(|w| w.starts_with("https://") || w.starts_with("http://"))
                    .map(|w| w.trim_end_matches([':', ';', ',', ')', '.']).to_owned())
            });
            if let Some(url) = url {
                rule["helpUri"] = url.into();
            }
            rules.push(rule);
            rules.len() - 1
        });
        let path = pthscan_core::pathfmt::display_path(&f.location.path);
        // inside an artifact the file is the artifact; the chain goes into the message
        let (file, within) = match path.split_once(" › ") {
            Some((outer, rest)) => (outer.to_owned(), Some(rest.to_owned())),
            None => (path.clone(), None),
        };
        let (uri, relative) = uri(&file, srcroot);
        let mut artifact = json!({ "uri": uri });
        if relative {
            artifact["uriBaseId"] = "SRCROOT".into();
        }
        // a finding about a whole file (or a member inside an archive) points at its start
        let line = f.location.line.filter(|_| within.is_none()).unwrap_or(1);
        let mut region = json!({ "startLine": line });
        if let Some(column) = f.location.column.filter(|_| within.is_none()) {
            region["startColumn"] = column.into();
        }
        let physical = json!({ "artifactLocation": artifact, "region": region });
        let mut text = f.message.clone();
        if let Some(inner) = &within {
            text = format!(
                "{text} (in {inner}{})",
                f.location.line.map(|l| format!(":{l}")).unwrap_or_default()
            );
        }
        if !f.evidence.is_empty() {
            text = format!("{text} — evidence: {}", f.evidence);
        }
        let (lvl, sev) = level(f.severity);
        let place = uri.trim_start_matches("file://");
        let mut result = json!({
            "ruleId": f.rule,
            "ruleIndex": rule_index,
            "level": lvl,
            "message": { "text": text },
            "locations": [{ "physicalLocation": physical }],
            "partialFingerprints": { "pthscan/v1": fingerprint(f, &format!("{place}{}", within.as_deref().unwrap_or(""))) },
            "properties": {
                "severity": f.severity.as_str(),
                "security-severity": sev,
                "sha256": f.sha256,
                "environment": f.environment.as_ref().map(|e| pthscan_core::pathfmt::display_path(e)),
                "notes": f.notes,
                "decoded": f.decoded,
                "times": f.times,
                "distribution": f.distribution,
                "fix": f.fix,
                "rotate": f.rotate
            }
        });
        if let Some(by) = by {
            result["suppressions"] = json!([suppression(by, srcroot)]);
        }
        results.push(result);
    }
    let notifications: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            let (uri, relative) = uri(&pthscan_core::pathfmt::display_path(&d.path), srcroot);
            let mut artifact = json!({ "uri": uri });
            if relative {
                artifact["uriBaseId"] = "SRCROOT".into();
            }
            json!({
                "level": if d.incomplete { "error" } else { "note" },
                "message": { "text": d.message },
                "locations": [{ "physicalLocation": { "artifactLocation": artifact } }]
            })
        })
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "pthscan",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/pthscan/pthscan",
                "rules": rules
            }
        },
        "invocations": [{
            // the scan ran; what it could not read is in the notifications
            "executionSuccessful": true,
            "exitCode": view.exit_code,
            "toolExecutionNotifications": notifications
        }],
        "automationDetails": { "id": format!("pthscan/{}", view.context.scan_id) },
        "results": results
    });
    if let Some(root) = srcroot {
        let (root_uri, _) = uri(&format!("{}/", root.display()), None);
        run["originalUriBaseIds"] = json!({ "SRCROOT": { "uri": root_uri } });
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run]
    });
    serde_json::to_writer_pretty(&mut *w, &log).map_err(io::Error::other)?;
    writeln!(w)
}
