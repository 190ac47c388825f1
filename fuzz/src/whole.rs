//! The whole-dump harness of the `dump` (byte mutations) and `dump_tree` (tree mutations)
//! targets: any bytes as an admin document, through every view, expectations, a trace out and
//! in, and an authorization question (Envoy's, or a ztunnel's, which picks the workload by the
//! destination). Must never panic.

use envinspect::render::{render, Format, View};

/// Runs `data` through the whole pipeline.
pub fn run(data: &[u8]) {
    let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200).expect("a time");
    let input = envinspect::Input {
        name: "fuzz.json".into(),
        bytes: data.to_vec(),
    };
    let Ok(report) = envinspect::inspect(&input, &envinspect::Options::at(now)) else {
        return;
    };
    let redaction = envinspect::render::Redaction::of(&report);
    for view in View::ALL {
        for format in [Format::Table, Format::Json] {
            for redact in [None, Some(&redaction)] {
                let _ = render(
                    &report,
                    view,
                    format,
                    envinspect::render::Color::Plain,
                    redact,
                    &mut std::io::sink(),
                );
            }
        }
    }
    let generated = envinspect::expect::generate(&report, &Default::default());
    let _ = envinspect::expect::check(&report, &generated.expectations, &Default::default());
    if let Ok(t) = "www.example.com:443/a".parse() {
        let _ = envinspect::trace::outbound(
            &report,
            &envinspect::trace::Probe::new(t, envinspect::trace::AppProtocol::Auto),
        );
    }
    let _ = envinspect::trace::inbound(&report, 8080);
    let request = crate::sleep_request("10.244.2.56".parse().ok());
    let _ = envinspect::authz::evaluate(&report, &request, report.now);
}
