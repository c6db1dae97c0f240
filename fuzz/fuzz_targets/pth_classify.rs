//! The `.pth` classifier: any bytes, every CPython generation's reading, no panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let analysis = pthscan_core::python::pth::classify(data);
    for line in &analysis.exec_lines {
        assert!(line.line >= 1);
    }
});
