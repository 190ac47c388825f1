//! Any bytes as an Envoy stats dump, Prometheus text (`/stats/prometheus`) and plain
//! (`/stats`), named as a bug-report names each: the counters read, or a one-line error; the
//! findings against the Envoy 1.40 explain capture computable. Never a panic.
#![no_main]

use std::sync::OnceLock;

fn report() -> &'static envinspect::Report {
    static R: OnceLock<envinspect::Report> = OnceLock::new();
    R.get_or_init(|| {
        let now = time::OffsetDateTime::from_unix_timestamp(1_796_083_200).unwrap();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/envoy-1.40-explain/config_dump.json"
        );
        envinspect::Inspection::read(path, &envinspect::Options::at(now))
            .unwrap()
            .into_report()
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for name in ["stats/prometheus", "stats", "fuzz.txt"] {
        if let Ok(stats) = envinspect::evidence::stats::read(name, data) {
            let _ = envinspect::evidence::stats::findings(report(), name, &stats);
        }
    }
});
