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
            clear_line_on_interrupt();
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

/// Ctrl-C (or a TERM) while the spinner is drawn: the line is cleared and the cursor shown
/// before the process ends as the signal says, instead of a half-drawn spinner left on the
/// terminal.
#[cfg(unix)]
#[expect(
    unsafe_code,
    reason = "installing a signal handler has no safe wrapper in libc"
)]
fn clear_line_on_interrupt() {
    extern "C" fn on_signal(sig: libc::c_int) {
        const CLEAR: &[u8] = b"\r\x1b[2K\x1b[?25h";
        // SAFETY: write, signal and raise are async-signal-safe; the buffer is static
        unsafe {
            libc::write(2, CLEAR.as_ptr().cast(), CLEAR.len());
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
    let handler: extern "C" fn(libc::c_int) = on_signal;
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler does only async-signal-safe work
        unsafe {
            libc::signal(sig, handler as libc::sighandler_t);
        }
    }
}

#[cfg(not(unix))]
fn clear_line_on_interrupt() {}
