//! The tar reader (plain, gzip, zstd, bzip2) and the image reader (docker save, OCI).
#![no_main]
use pthscan_core::sources::archive::{Limits, read_tar};
use pthscan_core::sources::image;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_member: 1 << 16,
        max_total: 1 << 20,
        max_ratio: 100,
        max_members: 1000,
        ..Limits::with_budget(1 << 16, pthscan_core::budget::Budget::new(8 << 20))
    };
    let _ = read_tar(data, data.len() as u64, &limits, &|_, _| true, None);
    if let Ok(blobs) = image::read_outer_tar(data, None, &limits) {
        let opts = pthscan_core::sources::OpenOptions::new(
            1 << 16,
            64 << 20,
            pthscan_core::budget::Budget::new(8 << 20),
            Default::default(),
            1,
        );
        let _ = image::assemble("fuzz.tar", blobs, &opts);
    }
});
