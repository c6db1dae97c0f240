//! PEP 829 `.start` files.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pthscan_core::python::start::parse(data);
});
