//! The `pthscan` command: parses flags, calls [`pthscan::run`], renders fatal errors.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = pthscan::cli::Args::parse();
    match pthscan::run(args) {
        Ok(code) => code,
        Err(err) => {
            pthscan::report_fatal(&err);
            ExitCode::from(pthscan::EXIT_ERROR)
        }
    }
}
