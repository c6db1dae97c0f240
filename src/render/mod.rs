//! Renderers: one file per format, each over the same [`ReportView`], writing to `&mut dyn Write`.

pub mod explain;
pub mod json;
pub mod text;

use pthscan_core::{ScanReport, Severity};

/// What a renderer needs: the report and the verdict it leads to.
pub struct ReportView<'a> {
    /// The scan's result.
    pub report: &'a ScanReport,
    /// The `--fail-on` threshold.
    pub fail_on: Severity,
    /// The exit code the run ends with.
    pub exit_code: u8,
}

impl ReportView<'_> {
    /// Findings per severity, most severe first.
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .iter()
            .rev()
            .map(|&s| {
                (
                    s,
                    self.report
                        .findings
                        .iter()
                        .filter(|f| f.severity == s)
                        .count(),
                )
            })
            .collect()
    }
}
