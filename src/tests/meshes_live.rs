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

use super::envoy::{free_port, write, Envoy};
use super::{envinspect, pki, NOW_140};

const TD: &str = "11111111-2222-3333-4444-555555555555.consul";

/// The workload behind the sidecar: says `hello` to every connection.
fn app() -> u16 {
    app_saying("hello\n")
}

/// A workload that says `words` to every connection.
fn app_saying(words: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let _ = s.write_all(words.as_bytes());
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
    use envinspect::admin::{Admin, AdminOptions, Endpoint};
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
        let errors = super::meshes::decode_errors(&doc);
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

fn chain_action(name: &str) -> Value {
    json!({ "action": { "name": name, "typed_config": {
        "@type": "type.googleapis.com/google.protobuf.StringValue", "value": name } } })
}

fn input(kind: &str) -> Value {
    json!({ "name": kind, "typed_config": {
        "@type": format!("type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.{kind}") } })
}

/// A listener choosing chains with `filter_chain_matcher` as Istio's waypoints do (a matcher tree
/// on the server name, a nested one on ALPN, an IPMatcher on the destination as the fallback):
/// the chain Envoy serves for each connection is the one envinspect picks.
#[test]
fn filter_chain_matcher_picks_the_chain_envoy_picks() {
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    let leaf = ca.leaf(
        "spiffe://cluster.local/ns/default/sa/waypoint",
        &["a.test", "b.test", "c.test"],
        0x61,
        (2026, 11, 1),
        (2027, 11, 1),
    );
    let (admin, port) = (free_port(), free_port());
    // Each chain proxies to a workload that says the chain's name.
    let names = ["a-h2", "b", "loopback", "default"];
    let clusters: Vec<Value> = names
        .iter()
        .map(|n| static_cluster(&format!("app-{n}"), app_saying(n)))
        .collect();
    let chain = |name: &str| {
        json!({ "name": name, "transport_socket": downstream_tls(&leaf, &ca, false, false),
            "filters": tcp_proxy(name, &format!("app-{name}")) })
    };
    let matcher = json!({
        "matcher_tree": {
            "input": input("ServerNameInput"),
            "exact_match_map": { "map": {
                "a.test": { "matcher": { "matcher_tree": {
                    "input": input("ApplicationProtocolInput"),
                    "exact_match_map": { "map": { "'h2'": chain_action("a-h2") } } } } },
                "b.test": chain_action("b")
            } }
        },
        "on_no_match": { "matcher": { "matcher_tree": {
            "input": input("DestinationIPInput"),
            "custom_match": { "name": "ip", "typed_config": {
                "@type": "type.googleapis.com/xds.type.matcher.v3.IPMatcher",
                "range_matchers": [
                    // The most specific range's nested matcher names no chain for these tests'
                    // server names: the next range is tried.
                    { "ranges": [{ "address_prefix": "127.0.0.1", "prefix_len": 32 }],
                      "on_match": { "matcher": { "matcher_tree": {
                          "input": input("ServerNameInput"),
                          "exact_match_map": { "map": { "z.test": chain_action("b") } } } } } },
                    { "ranges": [{ "address_prefix": "127.0.0.0", "prefix_len": 8 }],
                      "on_match": chain_action("loopback") }
                ] } } } } }
    });
    // The same with the wider range exclusive: it is not tried after the narrower one.
    let mut exclusive = matcher.clone();
    exclusive["on_no_match"]["matcher"]["matcher_tree"]["custom_match"]["typed_config"]
        ["range_matchers"][1]["exclusive"] = json!(true);
    let port_exclusive = free_port();
    // The same tree without its fallback: what it does not name goes to the default chain.
    let mut bare = matcher.clone();
    bare.as_object_mut().unwrap().remove("on_no_match");
    let port_bare = free_port();
    let listener = |name: &str, port: u16, m: &Value| {
        json!({ "name": name, "address": socket(port),
            "listener_filters": [{ "name": "envoy.filters.listener.tls_inspector", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" } }],
            "filter_chains": [chain("a-h2"), chain("b"), chain("loopback")],
            "default_filter_chain": chain("default"),
            "filter_chain_matcher": m })
    };
    let config = bootstrap(
        vec![
            listener("waypoint", port, &matcher),
            listener("waypoint-bare", port_bare, &bare),
            listener("waypoint-exclusive", port_exclusive, &exclusive),
        ],
        clusters,
        admin,
    );
    let dir = Envoy::dir("mesh-matcher");
    write(&dir.join("bootstrap.yaml"), &config.to_string());
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));
    let dump = envoy_dump(&envoy.admin);
    let input = envinspect::read_from("waypoint.json", dump.as_slice()).unwrap();
    let opts = envinspect::Options::at(time::macros::datetime!(2026-12-01 0:00 UTC));
    let report = envinspect::inspect(&input, &opts).unwrap();
    let cases: [(&str, u16, &str, &[&str]); 9] = [
        ("waypoint", port, "a.test", &["h2"]),
        ("waypoint", port, "a.test", &["http/1.1"]),
        ("waypoint", port, "a.test", &[]),
        ("waypoint", port, "b.test", &["h2"]),
        ("waypoint", port, "c.test", &[]),
        ("waypoint-bare", port_bare, "c.test", &[]),
        ("waypoint-bare", port_bare, "a.test", &["http/1.1"]),
        ("waypoint-exclusive", port_exclusive, "c.test", &[]),
        ("waypoint-exclusive", port_exclusive, "b.test", &[]),
    ];
    let mut seen = Vec::new();
    for (listener, port, sni, alpn) in cases {
        // Envoy's answer: the name the chain's workload says.
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca.pem.as_bytes()).unwrap())
            .unwrap();
        let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        cfg.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let conn = rustls::ClientConnection::new(
            Arc::new(cfg),
            ServerName::try_from(sni.to_string()).unwrap(),
        )
        .unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        let envoy_chain = String::from_utf8_lossy(&buf[..n]).to_string();

        let req = envinspect::authz::Request {
            port: u32::from(port),
            listener: Some(listener.into()),
            client: Some(envinspect::authz::Client::Tls),
            tcp: true,
            sni: Some(sni.into()),
            alpn: Some(alpn.iter().map(|p| p.to_string()).collect()),
            destination_ip: Some("127.0.0.1".parse().unwrap()),
            source_ip: Some("127.0.0.1".parse().unwrap()),
            ..Default::default()
        };
        let ev =
            envinspect::authz::evaluate(&report, &req, "2026-12-01T00:00:00Z".parse().unwrap());
        let ours = ev
            .steps
            .iter()
            .find(|s| s.layer.as_str() == "filter chain")
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("{:?}: {:?}", ev.decision, ev.reason));
        assert_eq!(ours, envoy_chain, "{sni} {alpn:?}\n{}", envoy.log());
        seen.push(envoy_chain);
    }
    // The cases reach every branch: nested match, nested miss falling back to on_no_match, map
    // hit, an IP range tried after a more specific one gave nothing, an exclusive one not tried,
    // and no action at all (the default chain).
    assert_eq!(
        seen,
        ["a-h2", "loopback", "loopback", "b", "loopback", "default", "default", "default", "b"]
    );
}
