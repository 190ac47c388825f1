//! Any bytes as an Envoy stats dump, Prometheus text (`/stats/prometheus`) and plain
//! (`/stats`), named as a bug-report names each: the counters read, or a one-line error; the
//! findings against the Envoy 1.40 explain capture computable. Never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for name in ["stats/prometheus", "stats", "fuzz.txt"] {
        if let Ok(stats) = envinspect::evidence::stats::read(name, data) {
            let _ = envinspect::evidence::stats::findings(
                envinspect_fuzz::explain_capture(),
                name,
                &stats,
            );
        }
    }
});
