//! Criterion benchmarks of the `.pth` classifier and the signal scan: the per-file work of a
//! hook scan. `cargo bench --bench classify`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pthscan_core::python::pth::classify;
use pthscan_signatures::{Context, Signatures};

const SETUPTOOLS: &str = "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n";

fn litellm_sized() -> String {
    // the size of LiteLLM 1.82.8's one-line hook (34,628 bytes), defanged
    let blob: String = "aW1wb3J0IG9zOyBwcmludCgxMjMp"
        .chars()
        .cycle()
        .take(34_400)
        .collect();
    format!(
        "import os, subprocess, sys; subprocess.Popen([sys.executable, \"-c\", \"import base64; exec(base64.b64decode('{blob}'))\"])\n"
    )
}

fn bench(c: &mut Criterion) {
    let big = litellm_sized();
    let paths: String = (0..200)
        .map(|i| format!("/home/dev/project-{i}/src\n"))
        .collect();
    let mut g = c.benchmark_group("classify");
    for (name, input) in [
        ("setuptools-line", SETUPTOOLS.to_owned()),
        ("litellm-sized", big.clone()),
        ("200-path-lines", paths),
    ] {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(name, |b| b.iter(|| classify(black_box(input.as_bytes()))));
    }
    g.finish();
    let sigs = Signatures::embedded().expect("signatures");
    let mut g = c.benchmark_group("signals");
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("litellm-sized", |b| {
        b.iter(|| {
            sigs.signals
                .scan(black_box(big.as_bytes()), Context::Startup)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
