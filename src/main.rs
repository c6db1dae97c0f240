//! The `pthscan` command: parses flags, calls [`pthscan::run`], renders fatal errors.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = pthscan::cli::Args::parse();
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
