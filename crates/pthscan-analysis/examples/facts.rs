//! Prints the facts the analysis derives from Python files: `cargo run --release -p
//! pthscan-analysis --example facts -- FILE…`. For rule writers; it reads, never runs, the files.

// a command-line tool: its output is what it is for
#![allow(clippy::print_stdout, clippy::print_stderr)]

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let source = String::from_utf8_lossy(&bytes);
        let facts = pthscan_analysis::analyse(&source);
        println!(
            "== {path}: {} statement(s), {} error(s), {} layer(s)",
            facts.statements, facts.errors, facts.layers
        );
        for flow in &facts.flows {
            let when = if flow.top_level { "import" } else { "call" };
            println!(
                "flow {:?} -> {:?} [{when}]: line {} `{}` -> line {} `{}`",
                flow.source, flow.sink, flow.from.line, flow.from.text, flow.to.line, flow.to.text
            );
        }
        for call in &facts.calls {
            let when = if call.top_level { "import" } else { "call" };
            println!(
                "call {:?} {} [{when}{}] line {}: {:?}",
                call.sink,
                call.name,
                if call.constant { ", constant" } else { "" },
                call.at.line,
                call.text
            );
        }
        for (source, at) in &facts.seen {
            println!("seen {source:?} line {} `{}`", at.line, at.text);
        }
    }
}
