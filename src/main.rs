//! The `pthscan` command: parses flags, calls [`pthscan::run`], renders fatal errors.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    return_large_buffers_to_the_system();
    let args = pthscan::cli::Args::parse_from(pthscan::cli::subcommand_first(
        std::env::args_os().collect(),
    ));
    match pthscan::run(args) {
        Ok(code) => code,
        // the reader of our output went away (`pthscan --format jsonl | head`): nothing to say
        Err(err)
            if err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(pthscan::EXIT_ERROR)
        }
        Err(err) => {
            pthscan::report_fatal(&err);
            ExitCode::from(pthscan::EXIT_ERROR)
        }
    }
}

/// glibc serves buffers under its dynamic mmap threshold (up to 32 MiB) from per-thread heaps
/// and keeps them after they are freed: a scan that held a 57 MB wheel, file windows and
/// archive members on two threads kept twice its live memory resident. A fixed 256 KiB
/// threshold sends every large buffer to mmap, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "mallopt has no safe wrapper")]
fn return_large_buffers_to_the_system() {
    // SAFETY: called before any other thread exists; only tunes the allocator
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_buffers_to_the_system() {}
