//! Any bytes as an admin document (config dump, /certs, /clusters, /server_info, PEM/DER, a
//! ztunnel's dump), mutated as bytes by libFuzzer: read, decode, extract, judge, run every rule,
//! render every view (plain and redacted), write expectations and check them, trace, evaluate a
//! request (`envinspect_fuzz::whole`). Must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| envinspect_fuzz::whole::run(data));
