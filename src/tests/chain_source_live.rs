//! Filter chains chosen by who connects (source type, source and direct source ranges), against
//! a real Envoy 1.40: each chain answers with its own status, so Envoy's answer says which chain
//! took the connection; envinspect, reading the same Envoy's dump, must choose the same chain,
//! and its listeners table must show the criteria (istioctl's MATCH shows `ALL` for them).

use envinspect::admin::Endpoint;

use super::envoy::{answering_hcm, free_port, http_status, report_140, write, Envoy};
use super::{envinspect, pki};

/// A chain named `name` matching `criteria` (YAML flow fields), answering `status` itself.
fn chain(name: &str, criteria: &str, status: u16) -> String {
    format!(
        "\n    - {{name: {name}, filter_chain_match: {{{criteria}}}, filters: [{}]}}",
        answering_hcm(name, status)
    )
}

fn listener(name: &str, port: u16, chains: &[String]) -> String {
    format!(
        "  - name: {name}\n    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}\n    filter_chains:{}\n",
        chains.concat()
    )
}

#[test]
fn chains_chosen_by_the_source_are_envoys() {
    let dir = Envoy::dir("chain-source");
    let (by_type, by_range, by_direct) = (free_port(), free_port(), free_port());
    let listeners = [
        listener(
            "by_type",
            by_type,
            &[
                // The chain that must not be taken first: a dump read in order would take it.
                chain("external", "source_type: EXTERNAL", 403),
                chain("loopback", "source_type: SAME_IP_OR_LOOPBACK", 200),
            ],
        ),
        // 127.0.0.1 is in 0.0.0.0/1; the more specific /8 of the other chain would win if it
        // matched.
        listener(
            "by_range",
            by_range,
            &[
                chain(
                    "low_half",
                    "source_prefix_ranges: [{address_prefix: 0.0.0.0, prefix_len: 1}]",
                    201,
                ),
                chain(
                    "high_half",
                    "source_prefix_ranges: [{address_prefix: 128.0.0.0, prefix_len: 1}]",
                    403,
                ),
                chain(
                    "ten",
                    "source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]",
                    404,
                ),
            ],
        ),
        listener(
            "by_direct",
            by_direct,
            &[
                chain(
                    "direct_loopback",
                    "direct_source_prefix_ranges: [{address_prefix: 127.0.0.0, prefix_len: 8}]",
                    202,
                ),
                chain(
                    "direct_other",
                    "direct_source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]",
                    403,
                ),
            ],
        ),
    ];
    write(
        &dir.join("bootstrap.yaml"),
        &format!(
            "node: {{id: edge, cluster: edge}}\nadmin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}\nstatic_resources:\n  listeners:\n{}",
            listeners.concat()
        ),
    );
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));
    let path = dir.join("config_dump.json");
    std::fs::write(&path, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, opts) = report_140(&path);
    let now = opts.now;
    for (port, want_chain, want_status) in [
        (by_type, "loopback", 200),
        (by_range, "low_half", 201),
        (by_direct, "direct_loopback", 202),
    ] {
        assert_eq!(
            http_status(port, "/"),
            Some(want_status),
            "Envoy on port {port}"
        );
        let req = envinspect::authz::Request {
            port: port.into(),
            client: Some(envinspect::authz::Client::Plaintext),
            source_ip: Some("127.0.0.1".parse().unwrap()),
            destination_ip: Some("127.0.0.1".parse().unwrap()),
            ..Default::default()
        };
        let e = envinspect::authz::evaluate(&report, &req, now);
        let chose = e
            .steps
            .iter()
            .find(|s| s.layer.as_str() == "filter chain")
            .map(|s| s.name.as_str());
        assert_eq!(chose, Some(want_chain), "port {port}: {:?}", e.steps);
    }
    // The table shows what the chains match on.
    let run = envinspect(&["listeners", path.to_str().unwrap()]);
    for cell in [
        "SrcType: SAME_IP_OR_LOOPBACK",
        "SrcType: EXTERNAL",
        "Src: 0.0.0.0/1",
        "DirectSrc: 127.0.0.0/8",
    ] {
        assert!(run.stdout.contains(cell), "{cell} not in\n{}", run.stdout);
    }
}
