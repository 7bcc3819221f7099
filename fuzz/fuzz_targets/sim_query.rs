#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rally_fuzz::check_sim_query(data));
