//! Which listener takes an inbound connection, by Envoy's rules and not by names, against a real
//! Envoy 1.40: a listener named `virtualInbound` that restores no original destination (no
//! `original_dst` listener filter) captures nothing, so a connection to port N is served by the
//! listener bound to N, and allowed or denied by that listener's network RBAC. envinspect's
//! `authz` on the same Envoy's dump must decide as Envoy did on every port.

use envinspect::admin::Endpoint;
use envinspect::model::decision::Decision;

use super::envoy::{answering_hcm, free_port, http_status, report_140, write, Envoy};
use super::pki;

/// A TCP listener to the backend, behind a network RBAC filter that allows `allowed`.
fn guarded(name: &str, port: u16, allowed: &str) -> String {
    format!(
        r#"
  - name: {name}
    address: {{socket_address: {{address: 0.0.0.0, port_value: {port}}}}}
    traffic_direction: INBOUND
    filter_chains:
    - filters:
      - name: envoy.filters.network.rbac
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
          stat_prefix: {name}
          rules:
            action: ALLOW
            policies:
              only:
                permissions: [{{any: true}}]
                principals: [{{remote_ip: {{address_prefix: "{allowed}", prefix_len: 8}}}}]
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: {name}
          cluster: backend
"#
    )
}

fn bootstrap(capture: u16, denied: u16, allowed: u16, backend: u16) -> String {
    format!(
        r#"node: {{id: "sidecar~127.0.0.1~app-1.shop~shop.svc.cluster.local", cluster: app.shop}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
static_resources:
  listeners:
  # Named as Istio names its capture listener, but without the original_dst listener filter.
  - name: virtualInbound
    address: {{socket_address: {{address: 0.0.0.0, port_value: {capture}}}}}
    traffic_direction: INBOUND
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: virtual_inbound
          cluster: backend
{}{}  - name: backend
    address: {{socket_address: {{address: 127.0.0.1, port_value: {backend}}}}}
    filter_chains: [{{filters: [{}]}}]
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    load_assignment: {{cluster_name: backend, endpoints: [{{lb_endpoints: [{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {backend}}}}}}}}}]}}]}}
"#,
        guarded("denies_loopback", denied, "10.0.0.0"),
        guarded("allows_loopback", allowed, "127.0.0.0"),
        answering_hcm("backend", 200),
    )
}

/// Whether a GET through the port gets the backend's 200 (else the RBAC filter closed it).
fn served(port: u16) -> bool {
    http_status(port, "/") == Some(200)
}

#[test]
fn a_listener_bound_to_the_port_beats_a_capture_listener_chosen_by_name() {
    let dir = Envoy::dir("inbound-bind");
    let (capture, denied, allowed, backend) = (free_port(), free_port(), free_port(), free_port());
    write(
        &dir.join("bootstrap.yaml"),
        &bootstrap(capture, denied, allowed, backend),
    );
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));
    let path = dir.join("config_dump.json");
    std::fs::write(&path, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, opts) = report_140(&path);
    let now = opts.now;
    for (port, listener) in [
        (denied, "denies_loopback"),
        (allowed, "allows_loopback"),
        (capture, "virtualInbound"),
    ] {
        let envoy_serves = served(port);
        let req = envinspect::authz::Request {
            port: port.into(),
            client: Some(envinspect::authz::Client::Plaintext),
            tcp: true,
            source_ip: Some("127.0.0.1".parse().unwrap()),
            destination_ip: Some("127.0.0.1".parse().unwrap()),
            ..Default::default()
        };
        let e = envinspect::authz::evaluate(&report, &req, now);
        let chose = e
            .steps
            .iter()
            .find(|s| s.layer.as_str() == "listener")
            .map(|s| s.name.as_str());
        assert_eq!(chose, Some(listener), "port {port}: {:?}", e.steps);
        let want = if envoy_serves {
            Decision::Allow
        } else {
            Decision::Deny
        };
        assert_eq!(
            e.decision, want,
            "port {port} ({listener}): Envoy served: {envoy_serves}; {:?}",
            e.reason
        );
    }
    // Envoy's own answers, to be sure the cases are what they say.
    assert!(!served(denied) && served(allowed) && served(capture));
}
