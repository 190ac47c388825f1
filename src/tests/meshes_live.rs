//! A real Envoy 1.40 configured the way other meshes configure it, read back from its admin API:
//! a Consul-shaped sidecar (`public_listener:…` with inline PEM strings requiring client
//! certificates, `outbound_listener:…` with a catch-all to an ORIGINAL_DST cluster) and a
//! Kuma-shaped one (`inbound:…` serving TLS without client certificates, a capture listener with
//! only a loop guard). Envoy redacts the inline keys itself. The inbound modes envinspect reads
//! are then checked against real handshakes: Envoy's answer decides.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{json, Value};

use super::envoy::{write, Envoy};
use super::{envinspect, pki, NOW_140};

const TD: &str = "11111111-2222-3333-4444-555555555555.consul";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The workload behind the sidecar: says `hello` to every connection.
fn app() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let _ = s.write_all(b"hello\n");
        }
    });
    port
}

fn socket(port: u16) -> Value {
    json!({ "socket_address": { "address": "127.0.0.1", "port_value": port } })
}

fn static_cluster(name: &str, port: u16) -> Value {
    json!({ "name": name, "type": "STATIC", "connect_timeout": "1s",
        "load_assignment": { "cluster_name": name, "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": socket(port) } }] }] } })
}

fn tcp_proxy(stat: &str, cluster: &str) -> Value {
    json!([{ "name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        "stat_prefix": stat, "cluster": cluster } }])
}

/// A data source as Consul writes it (`inline_string`) or as base64 bytes.
fn data(pem: &str, string: bool) -> Value {
    if string {
        json!({ "inline_string": pem })
    } else {
        json!({ "inline_bytes": super::rules::b64(pem) })
    }
}

fn downstream_tls(leaf: &pki::Leaf, ca: &pki::Ca, require: bool, string: bool) -> Value {
    let mut common = json!({
        "tls_certificates": [{ "certificate_chain": data(&leaf.pem, string), "private_key": data(&leaf.key_pem, string) }]
    });
    if require {
        common["validation_context"] = json!({
            "trusted_ca": data(&ca.pem, string),
            "match_typed_subject_alt_names": [{ "san_type": "URI", "matcher": { "prefix": format!("spiffe://{TD}/") } }]
        });
    }
    json!({ "name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "common_tls_context": common, "require_client_certificate": require } })
}

fn upstream_tls(leaf: &pki::Leaf, ca: &pki::Ca, peer: &str) -> Value {
    json!({ "name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "sni": "db.default.dc1.internal.consul",
        "common_tls_context": {
            "tls_certificates": [{ "certificate_chain": data(&leaf.pem, true), "private_key": data(&leaf.key_pem, true) }],
            "validation_context": { "trusted_ca": data(&ca.pem, true),
                "match_typed_subject_alt_names": [{ "san_type": "URI", "matcher": { "exact": peer } }] } } } })
}

struct Ports {
    admin: u16,
    inbound: u16,
    outbound: u16,
}

fn bootstrap(listeners: Vec<Value>, clusters: Vec<Value>, admin: u16) -> Value {
    json!({
        "node": { "id": "backend-sidecar-proxy", "cluster": "backend" },
        "admin": { "address": socket(admin) },
        "static_resources": { "listeners": listeners, "clusters": clusters }
    })
}

/// Consul's shape: the sidecar presents its SPIFFE certificate inline on the public listener and
/// to its upstreams.
fn consul(ca: &pki::Ca, leaf: &pki::Leaf, p: &Ports, app: u16) -> Value {
    let original_dst = json!({ "name": "original-destination", "type": "ORIGINAL_DST",
        "lb_policy": "CLUSTER_PROVIDED", "connect_timeout": "1s" });
    let mut db = static_cluster("db.default.dc1.internal.11111111.consul", 1);
    db["transport_socket"] =
        upstream_tls(leaf, ca, &format!("spiffe://{TD}/ns/default/dc/dc1/svc/db"));
    bootstrap(
        vec![
            json!({ "name": format!("public_listener:127.0.0.1:{}", p.inbound), "address": socket(p.inbound),
                "traffic_direction": "INBOUND",
                "filter_chains": [{ "transport_socket": downstream_tls(leaf, ca, true, true), "filters": tcp_proxy("public_listener", "local_app") }] }),
            json!({ "name": format!("outbound_listener:127.0.0.1:{}", p.outbound), "address": socket(p.outbound),
                "traffic_direction": "OUTBOUND",
                "listener_filters": [{ "name": "envoy.filters.listener.original_dst", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst" } }],
                "filter_chains": [
                    { "filter_chain_match": { "prefix_ranges": [{ "address_prefix": "240.0.0.3", "prefix_len": 32 }] },
                      "filters": tcp_proxy("upstream.db", "db.default.dc1.internal.11111111.consul") },
                    { "filters": tcp_proxy("upstream.original-destination", "original-destination") }
                ] }),
        ],
        vec![static_cluster("local_app", app), original_dst, db],
        p.admin,
    )
}

/// Kuma's shape, with the keys as base64 bytes: TLS without client certificates inbound, and a
/// capture listener whose only chain stops the proxy calling itself.
fn kuma(ca: &pki::Ca, leaf: &pki::Leaf, p: &Ports, app: u16) -> Value {
    let blackhole =
        json!({ "name": "BlackHoleCluster", "type": "STATIC", "connect_timeout": "1s" });
    bootstrap(
        vec![
            json!({ "name": format!("inbound:127.0.0.1:{}", p.inbound), "address": socket(p.inbound),
                "traffic_direction": "INBOUND",
                "filter_chains": [{ "transport_socket": downstream_tls(leaf, ca, false, false), "filters": tcp_proxy("localhost_app", "localhost:app") }] }),
            json!({ "name": "outbound:passthrough:ipv4", "address": socket(p.outbound),
                "traffic_direction": "OUTBOUND",
                "listener_filters": [{ "name": "envoy.filters.listener.original_dst", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst" } }],
                "filter_chains": [
                    { "filter_chain_match": { "destination_port": p.outbound }, "filters": tcp_proxy("loop", "BlackHoleCluster") }
                ] }),
        ],
        vec![static_cluster("localhost:app", app), blackhole],
        p.admin,
    )
}

fn envoy_dump(admin: &str) -> Vec<u8> {
    use envinspect::source::admin::{Admin, AdminOptions, Endpoint};
    Admin::new(admin, AdminOptions::default())
        .unwrap()
        .get(Endpoint::ConfigDump)
        .unwrap()
        .bytes
}

/// What Envoy does with a connection: the app's `hello` came back through it, or not.
fn reached_app(port: u16, tls: Option<Arc<rustls::ClientConfig>>) -> bool {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = Vec::new();
    match tls {
        None => {
            let mut tcp = tcp;
            let _ = tcp.write_all(b"GET / HTTP/1.1\r\n\r\n");
            let _ = tcp.read_to_end(&mut out);
        }
        Some(cfg) => {
            let conn =
                rustls::ClientConnection::new(cfg, ServerName::try_from("localhost").unwrap())
                    .unwrap();
            let mut s = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 64];
            if let Ok(n) = s.read(&mut buf) {
                out.extend_from_slice(&buf[..n]);
            }
        }
    }
    out.starts_with(b"hello")
}

fn client(ca: &pki::Ca, cert: Option<&pki::Leaf>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem.as_bytes()).unwrap())
        .unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    Arc::new(match cert {
        Some(l) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(l.pem.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(l.key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    })
}

/// Envoy's answer for each way of connecting: plaintext, TLS without and with a client
/// certificate; and the mode those answers make.
fn observed_mode(port: u16, ca: &pki::Ca, peer: &pki::Leaf) -> &'static str {
    let plain = reached_app(port, None);
    let anonymous = reached_app(port, Some(client(ca, None)));
    let mutual = reached_app(port, Some(client(ca, Some(peer))));
    match (plain, anonymous, mutual) {
        (false, false, true) => "STRICT",
        (false, true, true) => "SIMPLE_TLS",
        (true, _, true) => "PERMISSIVE",
        (true, false, false) => "DISABLE",
        other => panic!("no mode explains {other:?}"),
    }
}

#[test]
fn other_meshes_shapes_read_back_from_a_real_envoy() {
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    let spiffe = format!("spiffe://{TD}/ns/default/dc/dc1/svc/backend");
    let leaf = ca.leaf(&spiffe, &["localhost"], 0x51, (2026, 11, 1), (2027, 11, 1));
    let peer = ca.leaf(
        &format!("spiffe://{TD}/ns/default/dc/dc1/svc/frontend"),
        &[],
        0x52,
        (2026, 11, 1),
        (2027, 11, 1),
    );
    let app = app();
    for (shape, want_inbound, want_outbound, want_identity) in [
        ("consul", "STRICT", "ALLOW_ANY", spiffe.as_str()),
        ("kuma", "SIMPLE_TLS", "REGISTRY_ONLY", spiffe.as_str()),
    ] {
        let p = Ports {
            admin: free_port(),
            inbound: free_port(),
            outbound: free_port(),
        };
        let config = match shape {
            "consul" => consul(&ca, &leaf, &p, app),
            _ => kuma(&ca, &leaf, &p, app),
        };
        let dir = Envoy::dir(&format!("mesh-{shape}"));
        write(&dir.join("bootstrap.yaml"), &config.to_string());
        let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));

        // How fixtures/envoy-1.40-meshes/ was captured (see its README).
        if let Some(save) = std::env::var_os("ENVINSPECT_SAVE_MESH_CAPTURES") {
            let dump = envoy_dump(&envoy.admin);
            let at = std::path::Path::new(&save);
            std::fs::write(at.join(format!("{shape}.raw.json")), dump).unwrap();
            std::fs::write(
                at.join(format!("{shape}.env")),
                format!(
                    "ADMIN={}\nINBOUND={}\nOUTBOUND={}\nAPP={app}\n",
                    p.admin, p.inbound, p.outbound
                ),
            )
            .unwrap();
        }
        // envinspect reads the live admin API.
        let run = envinspect(&["--admin", &envoy.admin, "--now", NOW_140, "-o", "json"]);
        assert!(run.code < 2, "{shape}: {}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let errors: Vec<&Value> = doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{shape}: {errors:?}");
        assert!(
            !run.stdout.contains("PRIVATE KEY"),
            "{shape}: Envoy redacts keys, and so does the report"
        );
        let keys: Vec<&str> = doc["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "cert_chain")
            .map(|s| s["private_key"]["kind"].as_str().unwrap_or("?"))
            .collect();
        assert!(
            !keys.is_empty() && keys.iter().all(|k| *k == "redacted"),
            "{shape}: {keys:?}"
        );
        assert_eq!(doc["identity"]["spiffe_id"], want_identity, "{shape}");
        assert_eq!(doc["identity"]["basis"], "inbound_server", "{shape}");
        assert_eq!(
            doc["outbound"]["mode"], want_outbound,
            "{shape}: {}",
            doc["outbound"]
        );
        let inbound = doc["inbound"].as_array().unwrap();
        assert_eq!(inbound.len(), 1, "{shape}: {inbound:?}");
        assert_eq!(inbound[0]["port"], p.inbound, "{shape}");
        assert_eq!(inbound[0]["mode"], want_inbound, "{shape}");

        // Envoy is the oracle: the handshakes it accepts make the mode envinspect reported.
        assert_eq!(
            observed_mode(p.inbound, &ca, &peer),
            inbound[0]["mode"].as_str().unwrap(),
            "{shape}: Envoy and envinspect disagree on the inbound mode\n{}",
            envoy.log()
        );
        if shape == "consul" {
            let ids = doc["identities"].as_array().unwrap();
            assert_eq!(
                ids.len(),
                1,
                "one certificate, inline in two places: {ids:?}"
            );
            assert_eq!(ids[0]["also_in"].as_array().unwrap().len(), 1, "{ids:?}");
            assert_eq!(
                ids[0]["client"],
                json!(["cluster db.default.dc1.internal.11111111.consul"])
            );
        }
    }
}
