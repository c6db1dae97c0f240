//! `--format json`: one document with a schema version (the contract in docs/schema/pthscan.schema.json).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::ReportView;

/// Bumped when a field changes meaning or disappears; new fields do not bump it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    #[serde(flatten)]
    context: &'a super::ScanContext,
    scanned: Vec<String>,
    fail_on: &'static str,
    exit_code: u8,
    summary: Summary<'a>,
    environments: &'a [pthscan_core::Environment],
    findings: &'a [pthscan_core::Finding],
    suppressed: &'a [crate::policy::Suppressed],
    diagnostics: &'a [pthscan_core::Diagnostic],
    /// With `--processes`: every Python process running.
    #[serde(skip_serializing_if = "Option::is_none")]
    processes: Option<&'a [pthscan_core::procs::Process]>,
    /// What happened when, oldest first (as `--format timeline` shows it).
    timeline: Vec<super::timeline::Event>,
    /// Files with findings whose source keeps no time: on no timeline, never dropped.
    untimed: Vec<String>,
}

/// The tool, in every document and record.
#[derive(Serialize)]
pub struct Tool {
    name: &'static str,
    version: &'static str,
}

impl Tool {
    /// pthscan, this version.
    pub fn ours() -> Tool {
        Tool {
            name: "pthscan",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The counts of a scan, in the document's `summary` and the JSON Lines summary record.
#[derive(Serialize)]
pub struct Summary<'a> {
    #[serde(flatten)]
    stats: &'a pthscan_core::Stats,
    elapsed_ms: u128,
    findings: BTreeMap<&'static str, usize>,
    /// Findings at or above `--fail-on` (what makes the exit code 1), after suppressions,
    /// the baseline and `--since`.
    failing: usize,
    /// Whether some input could not be read or judged — apart from the exit code, which
    /// findings at the threshold decide first.
    incomplete: bool,
}

impl Summary<'_> {
    /// The counts of the report in `view`.
    pub fn of<'a>(view: &ReportView<'a>) -> Summary<'a> {
        Summary {
            stats: &view.report.stats,
            elapsed_ms: view.report.stats.elapsed.as_millis(),
            findings: view
                .counts()
                .into_iter()
                .map(|(s, n)| (s.as_str(), n))
                .collect(),
            failing: view.failing(),
            incomplete: view.report.incomplete(),
        }
    }
}

/// The paths a scan was given or found, as shown.
pub fn scanned(view: &ReportView<'_>) -> Vec<String> {
    view.report
        .scanned
        .iter()
        .map(|p| pthscan_core::pathfmt::display_path(p))
        .collect()
}

/// Writes the JSON document.
pub fn render(view: &ReportView<'_>, w: &mut dyn Write) -> io::Result<()> {
    let r = view.report;
    let (timeline, untimed) = super::timeline::events(view);
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool::ours(),
        context: view.context,
        scanned: scanned(view),
        fail_on: view.fail_on_str(),
        exit_code: view.exit_code,
        summary: Summary::of(view),
        environments: &r.environments,
        findings: &r.findings,
        suppressed: view.suppressed,
        diagnostics: &r.diagnostics,
        processes: r.stats.processes.map(|_| r.processes.as_slice()),
        timeline,
        untimed,
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
