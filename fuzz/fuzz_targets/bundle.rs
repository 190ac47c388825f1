//! Any bytes as a support bundle archive (tar or tar.gz), read with small limits: entries are
//! classified, hostile ones refused, nothing panics and nothing is written.
#![no_main]
use envinspect::bundle::{read_archive, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        entry_bytes: 1 << 20,
        total_bytes: 8 << 20,
        entries: 10_000,
    };
    let mut seen = 0usize;
    let _ = read_archive("fuzz.tar.gz", data, &limits, &mut |e| seen += e.bytes.len());
});
