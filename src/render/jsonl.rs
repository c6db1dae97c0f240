//! `--format jsonl`: JSON Lines for log pipelines — one record per environment found, per
//! finding, per suppressed finding (`suppressed`, with what suppressed it) and per diagnostic,
//! then one summary record. Every record carries `record` (its kind), the schema version, the
//! tool, host, scan id and timestamp, so each line stands alone in a log store. The contract is
//! `docs/schema/pthscan.schema.json`.

use std::io::{self, Write};

use serde::Serialize;

use super::ReportView;
use super::json::{SCHEMA_VERSION, Tool};

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    record: &'static str,
    schema_version: u32,
    tool: Tool,
    #[serde(flatten)]
    context: &'a super::ScanContext,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct Summary<'a> {
    scanned: Vec<String>,
    fail_on: &'static str,
    exit_code: u8,
    #[serde(flatten)]
    counts: super::json::Summary<'a>,
}

/// Writes the records, one per line.
pub fn render(view: &ReportView<'_>, w: &mut dyn Write) -> io::Result<()> {
    let r = view.report;
    let mut line = |record: &'static str, body: &dyn erased::Body| -> io::Result<()> {
        body.write(record, view, w)?;
        writeln!(w)
    };
    for e in &r.environments {
        line("environment", &e)?;
    }
    for p in &r.processes {
        line("process", &p)?;
    }
    for f in &r.findings {
        line("finding", &f)?;
    }
    for s in view.suppressed {
        line("suppressed", &s)?;
    }
    for d in &r.diagnostics {
        line("diagnostic", &d)?;
    }
    let summary = Summary {
        scanned: super::json::scanned(view),
        fail_on: view.fail_on_str(),
        exit_code: view.exit_code,
        counts: super::json::Summary::of(view),
    };
    line("summary", &summary)
}

/// One record body of any serialisable type, written in the envelope.
mod erased {
    use super::*;

    pub trait Body {
        fn write(
            &self,
            record: &'static str,
            view: &ReportView<'_>,
            w: &mut dyn Write,
        ) -> io::Result<()>;
    }

    impl<T: Serialize> Body for T {
        fn write(
            &self,
            record: &'static str,
            view: &ReportView<'_>,
            w: &mut dyn Write,
        ) -> io::Result<()> {
            let envelope = Envelope {
                record,
                schema_version: SCHEMA_VERSION,
                tool: Tool::ours(),
                context: view.context,
                body: self,
            };
            serde_json::to_writer(&mut *w, &envelope).map_err(io::Error::other)
        }
    }
}
