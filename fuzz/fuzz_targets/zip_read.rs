//! The zip reader and the wheel/sdist builders behind it, under small limits.
#![no_main]
use std::sync::Arc;

use pthscan_core::sources::archive::{Limits, read_zip};
use pthscan_core::sources::{OpenOptions, artifact};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_member: 1 << 16,
        max_total: 1 << 20,
        max_ratio: 100,
        max_members: 1000,
        ..Limits::with_budget(1 << 16, pthscan_core::budget::Budget::new(8 << 20))
    };
    let _ = read_zip(data, &limits, &|_, _| true);
    let opts = OpenOptions::new(
        1 << 16,
        64 << 20,
        pthscan_core::budget::Budget::new(8 << 20),
        Arc::default(),
        2,
    );
    artifact::open_bytes("fuzz.whl", data, &opts, &mut drop);
});
