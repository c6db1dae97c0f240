//! Renderers: one file per format, each over the same [`ReportView`], writing to `&mut dyn Write`.

pub mod cyclonedx;
pub mod explain;
pub mod json;
pub mod jsonl;
pub mod sarif;
pub mod startup;
pub mod text;
pub mod timeline;

use pthscan_core::{ScanReport, Severity};
use serde::Serialize;

/// What a renderer needs: the report, the verdict it leads to, and where and when it ran.
pub struct ReportView<'a> {
    /// The scan's result: the findings that count toward the verdict.
    pub report: &'a ScanReport,
    /// Findings a suppression or the baseline took out of the verdict, with what took them
    /// out: listed in JSON, JSON Lines and SARIF, counted in text.
    pub suppressed: &'a [crate::policy::Suppressed],
    /// The `--fail-on` threshold; `None` for `never`.
    pub fail_on: Option<Severity>,
    /// The exit code the run ends with.
    pub exit_code: u8,
    /// Host, scan id, time.
    pub context: &'a ScanContext,
    /// Colour severities (a terminal, and NO_COLOR unset).
    pub color: bool,
    /// `--min-severity`: text and SARIF list findings at or above it only; counts stay whole.
    pub min_severity: Severity,
}

/// Where and when a scan ran: what a log pipeline keys records on.
#[derive(Debug, Clone, Serialize)]
pub struct ScanContext {
    /// The scanning machine's host name.
    pub host: String,
    /// A random id shared by every record of one scan.
    pub scan_id: String,
    /// When the scan started, RFC 3339 UTC.
    pub timestamp: String,
}

impl ScanContext {
    /// The context of a scan starting now.
    pub fn now() -> ScanContext {
        // /proc/sys is hidden from the systemd unit (ProcSubset=pid): then /etc/hostname
        let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .map(|h| h.trim().to_owned())
            .find(|h| !h.is_empty())
            .unwrap_or_default();
        let mut id = [0u8; 16];
        // the kernel's random bytes; a scan id need not be secret, only distinct
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            let _ = std::io::Read::read_exact(&mut f, &mut id);
        }
        let scan_id = id.iter().map(|b| format!("{b:02x}")).collect();
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        ScanContext {
            host,
            scan_id,
            timestamp: rfc3339(secs),
        }
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (see [`pthscan_core::Timestamp`]).
pub fn rfc3339(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    pthscan_core::Timestamp::from_secs(secs)
        .unwrap_or_else(pthscan_core::Timestamp::now)
        .rfc3339()
}

impl ReportView<'_> {
    /// Findings at or above `--fail-on`: what makes the exit code 1.
    pub fn failing(&self) -> usize {
        self.fail_on.map_or(0, |level| {
            self.report
                .findings
                .iter()
                .filter(|f| f.severity >= level)
                .count()
        })
    }

    /// `--fail-on` as written.
    pub fn fail_on_str(&self) -> &'static str {
        self.fail_on.map_or("never", |s| s.as_str())
    }

    /// The findings to list: those at or above `--min-severity`.
    pub fn shown(&self) -> impl Iterator<Item = &pthscan_core::Finding> {
        let min = self.min_severity;
        self.report
            .findings
            .iter()
            .filter(move |f| f.severity >= min)
    }

    /// How many findings `--min-severity` hides, per severity, most severe first (only those
    /// with some hidden).
    pub fn hidden(&self) -> Vec<(Severity, usize)> {
        self.counts()
            .into_iter()
            .filter(|(s, n)| *s < self.min_severity && *n > 0)
            .collect()
    }

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

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_350_896), "2026-11-22T12:34:56Z");
    }
}
