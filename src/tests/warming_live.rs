//! Warming listeners against a real Envoy 1.40: a listener waiting for a route configuration
//! that never comes (RDS over gRPC to a control plane that does not answer, no initial fetch
//! timeout) stays in `warming_state`. Envoy refuses connections to a listener that is only
//! warming, and keeps serving the active version of one whose update is warming. envinspect,
//! reading the same Envoy's dump, must say so: `trace` finds no listener (warming) for the first
//! and goes through the active version of the second, and both are `listener-warming` findings.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use envinspect::admin::Endpoint;
use envinspect::trace::{outbound, AppProtocol, Probe};

use super::envoy::{answering_hcm, free_port, http_status, report_140, write, Envoy, ROUTER};
use super::pki;

/// A listener whose routes come by RDS from the `xds` cluster, which never answers.
fn waiting(name: &str, port: u16) -> String {
    format!(
        r#"
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: {name}
  address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
  filter_chains:
  - filters:
    - name: envoy.filters.network.http_connection_manager
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        stat_prefix: {name}
        rds: {{route_config_name: never, config_source: {{api_config_source: {{api_type: GRPC, transport_api_version: V3, grpc_services: [{{envoy_grpc: {{cluster_name: xds}}}}]}}, resource_api_version: V3, initial_fetch_timeout: 0s}}}}
        http_filters: [{ROUTER}]
"#
    )
}

/// A listener that answers 200 itself.
fn answering(name: &str, port: u16) -> String {
    format!(
        r#"
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: {name}
  address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
  filter_chains: [{{filters: [{}]}}]
"#,
        answering_hcm(name, 200)
    )
}

/// `trace`'s answer for a plaintext `GET /` to a loopback port.
fn get(report: &envinspect::model::Report, port: u16) -> envinspect::model::trace::Trace {
    let mut p = Probe::new(
        format!("127.0.0.1:{port}").parse().unwrap(),
        AppProtocol::Plaintext,
    );
    p.path = Some("/".into());
    p.host = Some("x".into());
    outbound(report, &p)
}

fn push(dir: &std::path::Path, version: &str, resources: &str) {
    let tmp = dir.join("lds.tmp");
    write(
        &tmp,
        &format!("version_info: \"{version}\"\nresources:{resources}"),
    );
    std::fs::rename(&tmp, dir.join("lds.yaml")).unwrap();
}

#[test]
fn a_warming_listener_accepts_nothing_and_an_updated_one_keeps_serving() {
    let dir = Envoy::dir("warming");
    let (xds, warm, steady) = (free_port(), free_port(), free_port());
    // Nothing listens on the control plane's port: RDS never answers.
    write(
        &dir.join("bootstrap.yaml"),
        &format!(
            r#"node: {{id: warming, cluster: warming}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
static_resources:
  clusters:
  - name: xds
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http2_protocol_options: {{}}}}
    load_assignment: {{cluster_name: xds, endpoints: [{{lb_endpoints: [{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {xds}}}}}}}}}]}}]}}
dynamic_resources:
  lds_config: {{path_config_source: {{path: {}/lds.yaml}}, resource_api_version: V3}}
"#,
            dir.display()
        ),
    );
    push(&dir, "1", &answering("steady", steady));
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));
    assert_eq!(http_status(steady, "/"), Some(200));
    // v2: a new listener that warms, and an update of `steady` that warms.
    push(
        &dir,
        "2",
        &format!("{}{}", waiting("warm", warm), waiting("steady", steady)),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let dump = loop {
        let d = envoy.dump(Endpoint::ConfigDumpWithEds);
        let text = String::from_utf8_lossy(&d);
        if text.matches("warming_state").count() >= 2 {
            break d;
        }
        assert!(Instant::now() < deadline, "not warming:\n{}", envoy.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    // Envoy's answers: refused, and the active version's 200.
    assert_eq!(
        http_status(warm, "/"),
        None,
        "a warming listener accepted a connection"
    );
    assert_eq!(http_status(steady, "/"), Some(200));

    let path = dir.join("config_dump.json");
    std::fs::write(&path, &dump).unwrap();
    let (report, _) = report_140(&path);
    let trace = |port: u16| get(&report, port);
    let t = trace(warm);
    assert_eq!(t.outcome.kind.as_str(), "no-listener", "{:?}", t.outcome);
    assert!(
        t.outcome.summary.contains("warming"),
        "{}",
        t.outcome.summary
    );
    let t = trace(steady);
    let listener = t
        .steps
        .iter()
        .find(|s| s.kind.as_str() == "listener")
        .unwrap();
    assert!(
        listener
            .evidence
            .iter()
            .any(|e| e.ends_with("active_state/listener")),
        "{:?}",
        listener.evidence
    );
    assert_eq!(
        t.outcome.response.as_ref().map(|r| r.status),
        Some(200),
        "{:?}",
        t.outcome
    );
    let mut warming: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "listener-warming")
        .map(|f| f.message.as_str())
        .collect();
    warming.sort();
    assert_eq!(warming.len(), 2, "{warming:?}");
    assert!(warming
        .iter()
        .any(|m| m.ends_with("nothing accepts its connections yet")));
    assert!(warming
        .iter()
        .any(|m| m.ends_with("its active version serves meanwhile")));
}

/// A TLS chain whose SDS certificate never arrives (a gateway's missing credentialName): the
/// static listener goes active once the initial fetch times out, with no certificate; Envoy
/// resets every TLS handshake. `trace` and `authz` must say the handshake fails, and why.
#[test]
fn a_chain_whose_certificate_never_arrived_fails_every_handshake() {
    use std::sync::Arc;
    let dir = Envoy::dir("uninitialized");
    let port = free_port();
    // The SDS file has a secret, not the one the chain asks for.
    write(
        &dir.join("sds.yaml"),
        "resources:\n- \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret\n  name: other\n  generic_secret: {secret: {inline_string: x}}\n",
    );
    write(
        &dir.join("bootstrap.yaml"),
        &format!(
            r#"node: {{id: gateway, cluster: gateway}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
static_resources:
  listeners:
  - name: https
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificate_sds_secret_configs:
            - name: "kubernetes://missing-cred"
              sds_config: {{path_config_source: {{path: {}/sds.yaml}}, resource_api_version: V3, initial_fetch_timeout: 1s}}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: https
          route_config: {{virtual_hosts: [{{name: all, domains: ["*"], routes: [{{match: {{prefix: /}}, direct_response: {{status: 200}}}}]}}]}}
          http_filters: [{ROUTER}]
"#,
            dir.display()
        ),
    );
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));
    // Envoy: the handshake fails (reset, or an alert): no response ever comes.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    );
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let conn = rustls::ClientConnection::new(cfg, "gateway.example".try_into().unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let sent = tls.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    let mut got = Vec::new();
    let read = tls.read_to_end(&mut got);
    assert!(
        sent.is_err() || read.is_err(),
        "the handshake succeeded: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(got.is_empty());

    let path = dir.join("config_dump.json");
    std::fs::write(&path, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, opts) = report_140(&path);
    let mut p = Probe::new(
        format!("127.0.0.1:{port}").parse().unwrap(),
        AppProtocol::Tls,
    );
    p.sni = Some("gateway.example".into());
    let t = outbound(&report, &p);
    assert_eq!(
        t.outcome.kind.as_str(),
        "handshake-fails",
        "{:?}",
        t.outcome
    );
    assert!(
        t.outcome
            .summary
            .contains("kubernetes://missing-cred was never delivered"),
        "{}",
        t.outcome.summary
    );
    let req = envinspect::authz::Request {
        port: port.into(),
        client: Some(envinspect::authz::Client::Certificate(
            "spiffe://cluster.local/ns/shop/sa/client".parse().unwrap(),
        )),
        ..Default::default()
    };
    let e = envinspect::authz::evaluate(&report, &req, opts.now);
    assert_eq!(
        e.decision,
        envinspect::model::decision::Decision::Rejected,
        "{:?}",
        e.reason
    );
}

/// Draining listeners against a real Envoy 1.40: a listener removed by an LDS update drains
/// (600 s by default) and refuses new connections; one replaced by a new version of its filter
/// chains is updated in place and serves the new version at once. envinspect, reading the same Envoy's dump, must not
/// route through a draining listener.
#[test]
fn a_draining_listener_takes_no_new_connection() {
    let dir = Envoy::dir("draining");
    let (gone, kept) = (free_port(), free_port());
    write(
        &dir.join("bootstrap.yaml"),
        &format!(
            "node: {{id: draining, cluster: draining}}\nadmin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}\ndynamic_resources:\n  lds_config: {{path_config_source: {{path: {}/lds.yaml}}, resource_api_version: V3}}\n",
            dir.display()
        ),
    );
    push(
        &dir,
        "1",
        &format!("{}{}", answering("gone", gone), answering("kept", kept)),
    );
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));
    assert_eq!(http_status(gone, "/"), Some(200));
    assert_eq!(http_status(kept, "/"), Some(200));
    // v2: `gone` removed; `kept` replaced by a version that answers 201.
    let kept_v2 = format!(
        r#"
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: kept
  address: {{socket_address: {{address: 127.0.0.1, port_value: {kept}}}}}
  filter_chains: [{{filters: [{}]}}]
"#,
        answering_hcm("kept_v2", 201)
    );
    push(&dir, "2", &kept_v2);
    let deadline = Instant::now() + Duration::from_secs(20);
    let dump = loop {
        let d = envoy.dump(Endpoint::ConfigDumpWithEds);
        let text = String::from_utf8_lossy(&d);
        // The removed listener drains; the replaced one is updated in place (only its chains
        // drain), so it shows only its new active version (measured).
        if text.contains("draining_state") && text.contains("kept_v2") {
            break d;
        }
        assert!(Instant::now() < deadline, "not draining:\n{}", envoy.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    // Envoy's answers: the removed listener takes nothing, the replaced one answers as v2.
    let envoy_gone = http_status(gone, "/");
    let envoy_kept = http_status(kept, "/");
    assert_eq!(
        envoy_gone, None,
        "a draining listener took a new connection"
    );
    assert_eq!(envoy_kept, Some(201));

    let path = dir.join("config_dump.json");
    std::fs::write(&path, &dump).unwrap();
    let (report, _) = report_140(&path);
    let trace = |port: u16| get(&report, port);
    let t = trace(gone);
    assert_eq!(t.outcome.kind.as_str(), "no-listener", "{:?}", t.outcome);
    assert!(
        t.outcome.summary.contains("is draining"),
        "{}",
        t.outcome.summary
    );
    // authz: the connection is refused, and why.
    let req = envinspect::authz::Request {
        port: gone.into(),
        client: Some(envinspect::authz::Client::Plaintext),
        destination_ip: Some("127.0.0.1".parse().unwrap()),
        ..Default::default()
    };
    let e = envinspect::authz::evaluate(&report, &req, "2026-12-01T00:00:00Z".parse().unwrap());
    assert_eq!(e.decision, envinspect::model::decision::Decision::Rejected);
    assert!(
        format!("{:?}", e.reason).contains("Draining"),
        "{:?}",
        e.reason
    );
    let t = trace(kept);
    assert_eq!(
        t.outcome.response.as_ref().map(|r| r.status),
        Some(201),
        "{:?}",
        t.outcome
    );
}
