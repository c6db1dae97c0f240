//! RECORD rows and core metadata headers, from untrusted dist-info files.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for row in pthscan_core::python::record::parse(&text) {
        assert!(row.line >= 1 && !row.path.is_empty());
        if let Some((algo, digest)) = &row.hash {
            let _ = pthscan_core::python::record::digest_matches(algo, digest, data);
        }
    }
    let _ = pthscan_core::python::dist::name_version(&text);
});
