//! Any bytes as an admin document (config dump, /certs, /clusters, /server_info, PEM/DER, a
//! ztunnel's dump): read, decode, extract, judge, run every rule, render every view (plain and
//! redacted), write expectations and check them, trace, evaluate a request. Must never panic.
#![no_main]

use envinspect::render::{render, Format, View};
use libfuzzer_sys::fuzz_target;


fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200).unwrap();
    let input = envinspect::Input { name: "fuzz.json".into(), bytes: data.to_vec() };
    let Ok(report) = envinspect::inspect(&input, &envinspect::Options::at(now)) else { return };
    let redaction = envinspect::render::Redaction::of(&report);
    for view in [View::Report, View::Clusters, View::Listeners, View::Routes, View::Endpoints, View::Secrets, View::Certs, View::Workloads, View::Services, View::Connections] {
        for format in [Format::Table, Format::Json] {
            for redact in [None, Some(&redaction)] {
                let _ = render(&report, view, format, envinspect::render::Color::Plain, redact, &mut std::io::sink());
            }
        }
    }
    let generated = envinspect::expect::generate(&report, &Default::default());
    let _ = envinspect::expect::check(&report, &generated.expectations, &Default::default());
    if let Ok(t) = "www.example.com:443/a".parse() {
        let _ = envinspect::trace::outbound(&report, &envinspect::trace::Probe::new(t, envinspect::trace::AppProtocol::Auto));
    }
    let _ = envinspect::trace::inbound(&report, 8080);
    // Authorization: Envoy's, or a ztunnel's (which picks the workload by the destination).
    let request = envinspect::authz::Request {
        port: 9080,
        client: "spiffe://cluster.local/ns/default/sa/sleep"
            .parse()
            .ok()
            .map(envinspect::authz::Client::Certificate),
        source_ip: "10.0.0.1".parse().ok(),
        destination_ip: "10.244.2.56".parse().ok(),
        ..Default::default()
    };
    let _ = envinspect::authz::evaluate(&report, &request, report.now);
});
