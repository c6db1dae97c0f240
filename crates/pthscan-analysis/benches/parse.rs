//! Throughput of the Python analysis over a real tree: every `.py` file under
//! `PTHSCAN_BENCH_TREE` is read once, then parsed alone, then analysed (parse, walk twice,
//! executed and embedded constants), single-threaded. Prints MB/s for each.
//!
//!   PTHSCAN_BENCH_TREE=/path/to/venv cargo bench -p pthscan-analysis --bench parse
//!
//! Without the variable it says so and exits: the tree is 2.5 GB and lives outside the repo
//! (`../shared/testbed/bench-requirements.txt`).
#![expect(clippy::print_stdout, reason = "a benchmark report")]

use std::path::{Path, PathBuf};
use std::time::Instant;

use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            python_files(&path, out);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

fn main() {
    let Some(tree) = std::env::var_os("PTHSCAN_BENCH_TREE").map(PathBuf::from) else {
        println!(
            "set PTHSCAN_BENCH_TREE to a directory (the 2.5 GB bench venv) to run this benchmark"
        );
        return;
    };
    let mut paths = Vec::new();
    python_files(&tree, &mut paths);
    let sources: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    let bytes: usize = sources.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    println!("{} .py files, {mb:.1} MB", sources.len());

    let start = Instant::now();
    let mut errors = 0usize;
    for source in &sources {
        errors += parse_unchecked(source, ParseOptions::from(Mode::Module))
            .errors()
            .len();
    }
    let parse = start.elapsed().as_secs_f64();
    println!(
        "parse:   {parse:.2} s, {:.1} MB/s ({errors} syntax errors recovered)",
        mb / parse
    );

    let start = Instant::now();
    let mut flows = 0usize;
    let mut truncated = 0usize;
    for source in &sources {
        let facts = pthscan_analysis::analyse(source);
        flows += facts.flows.len();
        truncated += usize::from(facts.truncated);
    }
    let analyse = start.elapsed().as_secs_f64();
    println!(
        "analyse: {analyse:.2} s, {:.1} MB/s ({flows} flows, {truncated} files nested past the walk)",
        mb / analyse
    );
}
