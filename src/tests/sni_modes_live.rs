//! A gateway port whose TLS mode differs per server name, against a real Envoy 1.40: one
//! listener, a chain per SNI — client certificate required (Istio MUTUAL), verified when sent
//! (OPTIONAL_MUTUAL), never asked for (SIMPLE) — and an RBAC filter that lets `/public` through
//! and `/private` only for one client identity. Clients come with a certificate, with TLS and no
//! certificate (a browser), or in plaintext, for each name and for a name no chain has.
//! envinspect must decide every case as Envoy did and show the port's mode per server name.

use envinspect::admin::Endpoint;
use envinspect::authz::{Client, Request};
use envinspect::model::decision::Decision;

use super::envoy::{free_port, report_140, tls_status, write, Envoy, ROUTER};
use super::pki;

const CLIENT: &str = "spiffe://cluster.local/ns/shop/sa/client";

fn bootstrap(dir: &str, port: u16) -> String {
    let rbac = format!(
        r#"
          - name: envoy.filters.http.rbac
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
              rules:
                action: ALLOW
                policies:
                  public:
                    permissions: [{{url_path: {{path: {{prefix: /public}}}}}}]
                    principals: [{{any: true}}]
                  private:
                    permissions: [{{url_path: {{path: {{prefix: /private}}}}}}]
                    principals: [{{authenticated: {{principal_name: {{exact: "{CLIENT}"}}}}}}]"#
    );
    let chain = |name: &str, validation: &str, require: bool| {
        format!(
            r#"
    - name: {name}
      filter_chain_match: {{server_names: ["{name}.test"]}}
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: {require}
          common_tls_context:
            tls_certificates: [{{certificate_chain: {{filename: {dir}/certs/server.pem}}, private_key: {{filename: {dir}/certs/server.key}}}}]{validation}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {name}
          route_config: {{virtual_hosts: [{{name: all, domains: ["*"], routes: [{{match: {{prefix: /}}, direct_response: {{status: 200}}}}]}}]}}
          http_filters:{rbac}
          - {ROUTER}"#
        )
    };
    let validation = format!(
        "\n            validation_context: {{trusted_ca: {{filename: {dir}/certs/ca.pem}}}}"
    );
    format!(
        r#"node: {{id: gateway, cluster: gateway}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
static_resources:
  listeners:
  - name: gateway_443
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    listener_filters: [{{name: envoy.filters.listener.tls_inspector, typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}}}]
    filter_chains:{}{}{}
"#,
        chain("mutual", &validation, true),
        chain("optional", &validation, false),
        chain("simple", "", false),
    )
}

#[test]
fn tls_modes_per_server_name_and_a_client_without_certificate() {
    let dir = Envoy::dir("sni-modes");
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    write(&dir.join("certs/ca.pem"), &ca.pem);
    let names = ["mutual.test", "optional.test", "simple.test", "other.test"];
    let server = ca.leaf_with(&[], &names, 0x6001, (2026, 1, 1), (2036, 1, 1));
    write(&dir.join("certs/server.pem"), &server.pem);
    write(&dir.join("certs/server.key"), &server.key_pem);
    let client = ca.leaf(CLIENT, &[], 0x6002, (2026, 1, 1), (2036, 1, 1));
    let port = free_port();
    write(
        &dir.join("bootstrap.yaml"),
        &bootstrap(&dir.display().to_string(), port),
    );
    let with_cert = pki::tls_client(&ca, Some(&client));
    let no_cert = pki::tls_client(&ca, None);
    let envoy = Envoy::launch(dir.clone(), ca);

    let path = dir.join("config_dump.json");
    std::fs::write(&path, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, opts) = report_140(&path);
    let now = opts.now;

    // Every client on every name and path: Envoy's status (0: no answer) and envinspect's
    // decision must agree.
    let mut cases = 0;
    for sni in names {
        for (who, cfg, client) in [
            (
                "certificate",
                Some(&with_cert),
                Client::Certificate(CLIENT.parse().unwrap()),
            ),
            ("no certificate", Some(&no_cert), Client::Tls),
            ("plaintext", None, Client::Plaintext),
        ] {
            for p in ["/public", "/private"] {
                let envoy_says = tls_status(port, sni, cfg, p);
                let req = Request {
                    port: port.into(),
                    client: Some(client.clone()),
                    sni: client.tls().then(|| sni.to_string()),
                    path: Some(p.into()),
                    host: Some(sni.into()),
                    source_ip: Some("127.0.0.1".parse().unwrap()),
                    destination_ip: Some("127.0.0.1".parse().unwrap()),
                    ..Default::default()
                };
                let e = envinspect::authz::evaluate(&report, &req, now);
                let want = match envoy_says {
                    200 => Decision::Allow,
                    403 => Decision::Deny,
                    0 => Decision::Rejected,
                    other => panic!("{sni} {who} {p}: Envoy answered {other}"),
                };
                assert_eq!(
                    e.decision, want,
                    "{sni}, {who}, {p}: Envoy {envoy_says}; envinspect {:?} {:?}",
                    e.reason, e.steps
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 24);
    // What Envoy did, spelled out: a client without a certificate fails the handshake only
    // where one is required, and is then never authenticated.
    assert_eq!(
        tls_status(port, "mutual.test", Some(&no_cert), "/public"),
        0
    );
    assert_eq!(
        tls_status(port, "optional.test", Some(&no_cert), "/public"),
        200
    );
    assert_eq!(
        tls_status(port, "optional.test", Some(&no_cert), "/private"),
        403
    );
    assert_eq!(
        tls_status(port, "optional.test", Some(&with_cert), "/private"),
        200
    );
    assert_eq!(
        tls_status(port, "simple.test", Some(&with_cert), "/private"),
        403
    );

    // The port's mode, per server name.
    let p = report
        .inbound
        .iter()
        .find(|p| p.port == Some(port.into()))
        .expect("the gateway port is inbound (it terminates TLS)");
    assert_eq!(p.mode.to_string(), "SIMPLE_TLS");
    let per: Vec<(Vec<String>, String)> = p
        .by_server_name
        .iter()
        .map(|s| (s.server_names.clone(), s.tls.to_string()))
        .collect();
    assert_eq!(
        per,
        vec![
            (vec!["mutual.test".to_string()], "mTLS required".to_string()),
            (
                vec!["optional.test".to_string()],
                "mTLS optional".to_string()
            ),
            (
                vec!["simple.test".to_string()],
                "server-only TLS".to_string()
            ),
        ]
    );
}
