//! The static decoder: base64, hex, escapes, char codes, rot13, reversed and joined strings,
//! and the decompressors behind them, within its limits.
#![no_main]
use pthscan_signatures::decode::{Limits, unwrap};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let decoded = unwrap(data, &limits);
    let total: usize = decoded.layers.iter().map(|l| l.bytes.len()).sum();
    assert!(total <= limits.max_total_bytes);
    for l in &decoded.layers {
        assert!(!l.chain.is_empty() && l.chain.len() <= limits.max_depth);
    }
});
