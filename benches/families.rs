//! Throughput of each payload rule family over a real tree: every regular file under
//! `PTHSCAN_BENCH_TREE` is read once and scanned by one rule set per family (each family
//! compiled with the shared helper rules, as in a real run), then by the whole embedded set, then
//! the decoder alone over code files. Prints MB/s per family.
//!
//!   PTHSCAN_BENCH_TREE=/path/to/venv cargo bench --bench families
//!
//! Without the variable it says so and exits: the tree is 2.5 GB and lives outside the repo
//! (`../shared/testbed/bench-requirements.txt`).
//!
//! `PTHSCAN_BENCH_OVERHEAD=FILE` instead measures the fixed cost of one scan, the rule and
//! decoder throughput on FILE repeated to about 100 MB, and with `PTHSCAN_BENCH_EACH=1` each
//! rule alone (with the helpers) on it: the way to find a slow rule.
#![expect(clippy::print_stdout, reason = "a benchmark report")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pthscan_signatures::rules::{EMBEDDED_RULES, RuleSource};
use pthscan_signatures::{PayloadRules, PayloadScanner, Signatures, decode};

fn main() {
    let Some(tree) = std::env::var_os("PTHSCAN_BENCH_TREE").map(PathBuf::from) else {
        println!(
            "set PTHSCAN_BENCH_TREE to a directory (the 2.5 GB bench venv) to run this benchmark"
        );
        return;
    };
    let sigs = Signatures::load(&[]).expect("embedded signatures compile");
    if std::env::var_os("PTHSCAN_BENCH_OVERHEAD").is_some() {
        let mut all = PayloadScanner::new(&sigs.payload, Duration::from_secs(60));
        let t = Instant::now();
        for _ in 0..100_000 {
            std::hint::black_box(all.match_only(b"import os\n", true));
        }
        println!(
            "per-scan overhead, tiny input: {:.1} us",
            t.elapsed().as_secs_f64() * 10.0
        );
        let big = vec![b'a'; 100 << 20];
        let t = Instant::now();
        std::hint::black_box(all.match_only(&big, true));
        println!(
            "100 MB of 'a': {:.0} MB/s",
            100.0 / t.elapsed().as_secs_f64()
        );
        let text: Vec<u8> = std::fs::read(std::env::var_os("PTHSCAN_BENCH_OVERHEAD").unwrap())
            .unwrap()
            .repeat(200);
        let t = Instant::now();
        std::hint::black_box(all.match_only(&text, true));
        println!(
            "{} MB of a real .py: {:.0} MB/s",
            text.len() >> 20,
            (text.len() >> 20) as f64 / t.elapsed().as_secs_f64()
        );
        if std::env::var_os("PTHSCAN_BENCH_EACH").is_some() {
            for (family, src) in EMBEDDED_RULES {
                for chunk in src.split("\nrule ").skip(1).chain(if *family == "common" {
                    src.split("\nprivate rule ").skip(1).collect::<Vec<_>>()
                } else {
                    Vec::new()
                }) {
                    let body = format!("rule {}", chunk.split("\nprivate rule").next().unwrap());
                    let Ok(r) = PayloadRules::compile(&[RuleSource {
                        origin: "x".into(),
                        family: "x".into(),
                        text: body.clone(),
                        user: true,
                    }]) else {
                        continue;
                    };
                    let mut sc = PayloadScanner::new(&r, Duration::from_secs(60));
                    let t = Instant::now();
                    std::hint::black_box(sc.match_only(&text, true));
                    println!(
                        "{:>8.0} MB/s  {}",
                        (text.len() >> 20) as f64 / t.elapsed().as_secs_f64(),
                        body.lines().next().unwrap()
                    );
                }
            }
        }
        let t = Instant::now();
        std::hint::black_box(decode::unwrap(&text, &decode::Limits::default()));
        println!(
            "decoder on it: {:.0} MB/s",
            (text.len() >> 20) as f64 / t.elapsed().as_secs_f64()
        );
        return;
    }
    let mut sets: Vec<(String, PayloadRules)> = EMBEDDED_RULES[1..]
        .iter()
        .map(|(family, text)| {
            let source = RuleSource {
                origin: format!("signatures/rules/{family}.yar"),
                family: (*family).to_owned(),
                text: (*text).to_owned(),
                user: false,
            };
            (
                (*family).to_owned(),
                PayloadRules::compile(&[source]).expect("family compiles"),
            )
        })
        .collect();
    sets.push((
        "ioc (network)".into(),
        PayloadRules::compile(&[RuleSource {
            origin: "signatures/ioc.toml".into(),
            family: "ioc".into(),
            text: sigs.iocs.network_rules(),
            user: false,
        }])
        .unwrap(),
    ));
    let mut scanners: Vec<(String, PayloadScanner<'_>, Duration, usize)> = sets
        .iter()
        .map(|(name, rules)| {
            (
                name.clone(),
                PayloadScanner::new(rules, Duration::from_secs(60)),
                Duration::ZERO,
                0,
            )
        })
        .collect();
    let mut all = PayloadScanner::new(&sigs.payload, Duration::from_secs(60));
    let (mut all_time, mut all_hits) = (Duration::ZERO, 0);
    let mut decode_time = Duration::ZERO;
    let (mut files, mut bytes, mut code_bytes) = (0usize, 0u64, 0u64);
    for entry in walkdir::WalkDir::new(&tree).follow_links(false) {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(data) = std::fs::read(entry.path()) else {
            continue;
        };
        let code = matches!(
            entry.path().extension().and_then(|e| e.to_str()),
            None | Some(
                "py" | "pyw"
                    | "pyc"
                    | "pyo"
                    | "pth"
                    | "start"
                    | "sh"
                    | "bash"
                    | "ps1"
                    | "bat"
                    | "cmd"
            )
        );
        files += 1;
        bytes += data.len() as u64;
        for (_, scanner, time, hits) in &mut scanners {
            let t = Instant::now();
            *hits += scanner.match_only(&data, code).hits.len();
            *time += t.elapsed();
        }
        let t = Instant::now();
        all_hits += all.match_only(&data, code).hits.len();
        all_time += t.elapsed();
        if code {
            code_bytes += data.len() as u64;
            let t = Instant::now();
            std::hint::black_box(decode::unwrap(&data, &decode::Limits::default()));
            decode_time += t.elapsed();
        }
    }
    let mbs = |b: u64, t: Duration| b as f64 / 1e6 / t.as_secs_f64().max(1e-9);
    println!(
        "tree: {} ({files} files, {:.0} MB; {:.0} MB of code)",
        tree.display(),
        bytes as f64 / 1e6,
        code_bytes as f64 / 1e6
    );
    println!(
        "{:<16} {:>10} {:>10} {:>8}",
        "rule set", "seconds", "MB/s", "matches"
    );
    for (name, _, time, hits) in &scanners {
        println!(
            "{name:<16} {:>10.2} {:>10.0} {hits:>8}",
            time.as_secs_f64(),
            mbs(bytes, *time)
        );
    }
    println!(
        "{:<16} {:>10.2} {:>10.0} {all_hits:>8}",
        "all embedded",
        all_time.as_secs_f64(),
        mbs(bytes, all_time)
    );
    println!(
        "{:<16} {:>10.2} {:>10.0} {:>8}",
        "decoder (code)",
        decode_time.as_secs_f64(),
        mbs(code_bytes, decode_time),
        "-"
    );
}
