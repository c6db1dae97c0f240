//! The progress line on standard error: what was found and how much was read, while a scan
//! runs. Only on a terminal, never with `--quiet`; it is cleared before the report is written.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use pthscan_core::Discovered;
use pthscan_core::fs::ReadStats;

/// A spinner with counts, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts the spinner when `show` (stderr is a terminal and not `--quiet`).
    pub fn start(show: bool) -> Progress {
        let bar = show.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message("finding Python environments…");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    /// Switches to the judging phase: environments and artifacts found, files and bytes read,
    /// updated by a thread of its own until [`Progress::finish`].
    pub fn judging(&self, discovered: &Discovered) {
        let Some(bar) = &self.bar else { return };
        let (envs, artifacts) = discovered.found();
        let stats: Arc<ReadStats> = discovered.read_stats();
        let bar = bar.clone();
        std::thread::spawn(move || {
            while !bar.is_finished() {
                bar.set_message(format!(
                    "judging {envs} environment(s), {artifacts} artifact(s): {} files, {} MiB read",
                    stats.files.load(Ordering::Relaxed),
                    stats.bytes.load(Ordering::Relaxed) >> 20
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
        });
    }

    /// Clears the line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
