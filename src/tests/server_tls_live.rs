//! Server-only TLS is not mTLS, against a real Envoy 1.40: a port with a TLS chain that has a
//! server certificate and no validation context (it never asks for a client certificate) beside
//! a plaintext chain. Envoy serves a plaintext client and a TLS client alike, and a client's
//! certificate is never seen: an RBAC rule on the client's principal denies even a client that
//! has the right certificate. envinspect must name the port's mode for what it is (not
//! PERMISSIVE, no "plaintext besides mTLS" finding) and decide as Envoy did.

use envinspect::admin::Endpoint;
use envinspect::model::decision::Decision;

use super::envoy::{free_port, report_140, tls_status, write, Envoy};
use super::pki;

const CLIENT: &str = "spiffe://cluster.local/ns/shop/sa/client";

fn bootstrap(dir: &str, open: u16, guarded: u16) -> String {
    let hcm = |name: &str, rbac: &str| {
        format!(
            r#"
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {name}
          route_config: {{virtual_hosts: [{{name: all, domains: ["*"], routes: [{{match: {{prefix: /}}, direct_response: {{status: 200}}}}]}}]}}
          http_filters:{rbac}
          - {{name: envoy.filters.http.router, typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}}}"#
        )
    };
    let rbac = format!(
        r#"
          - name: envoy.filters.http.rbac
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
              rules:
                action: ALLOW
                policies:
                  client-only:
                    permissions: [{{any: true}}]
                    principals: [{{authenticated: {{principal_name: {{exact: "{CLIENT}"}}}}}}]"#
    );
    let server_tls = format!(
        r#"
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates: [{{certificate_chain: {{filename: {dir}/certs/server.pem}}, private_key: {{filename: {dir}/certs/server.key}}}}]"#
    );
    let listener = |name: &str, port: u16, rbac: &str| {
        format!(
            r#"
  - name: {name}
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    traffic_direction: INBOUND
    listener_filters: [{{name: envoy.filters.listener.tls_inspector, typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}}}]
    filter_chains:
    - name: tls
      filter_chain_match: {{transport_protocol: tls}}{server_tls}
      filters:{}
    - name: plaintext
      filter_chain_match: {{transport_protocol: raw_buffer}}
      filters:{}"#,
            hcm(&format!("{name}_tls"), rbac),
            hcm(&format!("{name}_plain"), rbac)
        )
    };
    format!(
        "node: {{id: server, cluster: server}}\nadmin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}\nstatic_resources:\n  listeners:{}{}\n",
        listener("open", open, ""),
        listener("guarded", guarded, &rbac)
    )
}

#[test]
fn server_only_tls_beside_plaintext_is_not_mtls() {
    let dir = Envoy::dir("server-tls");
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    let server = ca.leaf_with(&[], &["localhost"], 0x5001, (2026, 1, 1), (2036, 1, 1));
    write(&dir.join("certs/server.pem"), &server.pem);
    write(&dir.join("certs/server.key"), &server.key_pem);
    let client = ca.leaf(CLIENT, &[], 0x5002, (2026, 1, 1), (2036, 1, 1));
    let (open, guarded) = (free_port(), free_port());
    write(
        &dir.join("bootstrap.yaml"),
        &bootstrap(&dir.display().to_string(), open, guarded),
    );
    let with_cert = pki::tls_client(&ca, Some(&client));
    let envoy = Envoy::launch(dir.clone(), ca);
    // Envoy: both clients served on the open port; on the guarded one, even the client with the
    // right certificate is denied (403): the server never asked for it.
    assert_eq!(tls_status(open, "localhost", None, "/"), 200);
    assert_eq!(tls_status(open, "localhost", Some(&with_cert), "/"), 200);
    assert_eq!(tls_status(guarded, "localhost", Some(&with_cert), "/"), 403);
    assert_eq!(tls_status(guarded, "localhost", None, "/"), 403);

    let path = dir.join("config_dump.json");
    std::fs::write(&path, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, opts) = report_140(&path);
    for port in [open, guarded] {
        let p = report
            .inbound
            .iter()
            .find(|p| p.port == Some(port.into()))
            .unwrap();
        assert_eq!(p.mode.to_string(), "SIMPLE_TLS_OR_PLAINTEXT", "port {port}");
    }
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.rule == "inbound-permissive"),
        "{:?}",
        report.findings
    );
    let now = opts.now;
    for (port, principal, want) in [
        (open, Some(CLIENT), Decision::Allow),
        (open, None, Decision::Allow),
        (guarded, Some(CLIENT), Decision::Deny),
        (guarded, None, Decision::Deny),
    ] {
        let req = envinspect::authz::Request {
            port: port.into(),
            client: Some(principal.map_or(envinspect::authz::Client::Plaintext, |p| {
                envinspect::authz::Client::Certificate(p.parse().unwrap())
            })),
            source_ip: Some("127.0.0.1".parse().unwrap()),
            destination_ip: Some("127.0.0.1".parse().unwrap()),
            ..Default::default()
        };
        let e = envinspect::authz::evaluate(&report, &req, now);
        assert_eq!(
            e.decision, want,
            "port {port}, principal {principal:?}: {:?}",
            e.reason
        );
    }
}
