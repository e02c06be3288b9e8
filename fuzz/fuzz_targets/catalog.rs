#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hardport_fuzz::catalog(data));
