//! Any bytes as an access log and as stats, against the Envoy 1.40 capture of the differential
//! explain test (its formats: Envoy's default, Istio's TEXT and JSON): lines of every format,
//! cut, binary or endless must be counted or explained, never a panic; on one thread and on
//! three (chunk boundaries), with the same answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use envinspect::model::evidence::{Explained, LogSummary};
    let r = envinspect_fuzz::explain_capture();
    let mut one = (LogSummary::default(), Vec::<Explained>::new());
    let _ = envinspect::evidence::explain_log(r, "fuzz.log", data, true, &mut one.0, &mut one.1);
    let mut three = (LogSummary::default(), Vec::<Explained>::new());
    let _ = envinspect::evidence::explain_log_parallel(
        r,
        "fuzz.log",
        std::io::Cursor::new(data.to_vec()),
        true,
        3,
        &mut three.0,
        &mut three.1,
    );
    assert!(one == three, "one thread and three disagree");
    if let Ok(stats) = envinspect::evidence::stats::read("fuzz.stats", data) {
        let _ = envinspect::evidence::stats::findings(r, "fuzz.stats", &stats);
    }
});
