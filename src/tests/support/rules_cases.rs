//! The trigger table for `rules.rs`: for every rule, an input that triggers it and one that must
//! not, each with its flags. Real dumps where one exists, otherwise a minimal edit of a real dump
//! (a field changed, a certificate swapped for an rcgen one).

use serde_json::{json, Value};

use crate::pki;
use crate::rules::{active_secret, b64, load, section, Case, Input};
use crate::{NOW, NOW_140};

const ENVOY140: &str = "envoy-1.40/config_dump_include_eds.json";
const PRODUCTPAGE_13: &str =
    "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json";
const PRODUCTPAGE_14: &str =
    "istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json";
const RATINGS: &str = "istio/istioctl/cmd/testdata/describe/ratings-v1-f745cf57b-vfwcv.json";
const AUTHZ_118: &str = "istio/istioctl/pkg/authz/testdata/configdump.yaml";
const OSM_EGRESS: &str = "osm/pkg/cli/verifier/testdata/curl_egress.json";
const AUTHZ_140: &str = "envoy-1.40-authz/config_dump.json";
const ZTUNNEL: &str = "istio/istioctl/pkg/writer/ztunnel/configdump/testdata/dump.json";

/// The ztunnel dump without the certificate entries in `state` (`Unavailable: …` matches any
/// reason but "no longer needed").
fn ztunnel_without(name: &'static str, state: &str) -> Input {
    let mut d = load(ZTUNNEL);
    d["certificates"].as_array_mut().unwrap().retain(|c| {
        let s = c["state"].as_str().unwrap();
        !(s.starts_with(state) && s != "Unavailable: the identity is no longer needed")
    });
    Input::Edited(name, d)
}

/// The authz capture with one HTTP filter (the `nth` of its type) edited, in both HTTP listeners.
fn authz_edit(name: &'static str, ty: &str, nth: usize, edit: impl Fn(&mut Value)) -> Input {
    let mut d = load(AUTHZ_140);
    for l in section(&mut d, "ListenersConfigDump")["static_listeners"]
        .as_array_mut()
        .unwrap()
    {
        let hcm = &mut l["listener"]["filter_chains"][0]["filters"][0]["typed_config"];
        let Some(filters) = hcm["http_filters"].as_array_mut() else {
            continue;
        };
        let f = filters
            .iter_mut()
            .filter(|f| f["typed_config"]["@type"].as_str().unwrap().ends_with(ty))
            .nth(nth)
            .unwrap();
        edit(&mut f["typed_config"]);
    }
    Input::Edited(name, d)
}

/// The 1.40 capture with the `default` certificate replaced by a leaf with these URI SANs.
fn default_cert_with(uris: &[&str]) -> Value {
    let mut d = load(ENVOY140);
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    let leaf = ca.leaf_with(uris, &[], 7, (2026, 11, 1), (2027, 11, 1));
    active_secret(&mut d, "default")["secret"]["tls_certificate"]["certificate_chain"] =
        json!({"inline_bytes": b64(&leaf.pem)});
    active_secret(&mut d, "ROOTCA")["secret"]["validation_context"]["trusted_ca"] =
        json!({"inline_bytes": b64(&ca.pem)});
    d
}

fn foo_san(d: &mut Value) -> &mut Value {
    let c = section(d, "ClustersConfigDump")["static_clusters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["cluster"]["name"] == "outbound|443||foo.default.svc.cluster.local")
        .unwrap();
    &mut c["cluster"]["transport_socket"]["typed_config"]["common_tls_context"]
        ["combined_validation_context"]["default_validation_context"]
        ["match_typed_subject_alt_names"][0]["matcher"]["exact"]
}

/// Every rule's trigger and non-trigger.
pub(crate) fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let at140 = vec!["--now", NOW_140];
    let at = vec!["--now", NOW];
    cases.push((
        "cert-expired",
        Input::Fixture("envoyproxy-gateway/internal/cmd/egctl/testdata/config/in/in.all.json"),
        at.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    // server_cert: 30-day certificate; 11 h left is below 24 h and below half its life.
    cases.push((
        "cert-expiring",
        Input::Fixture(ENVOY140),
        vec!["--now", "2026-12-22T12:00:00Z"],
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    cases.push((
        "cert-expiring",
        Input::Fixture(ENVOY140),
        vec!["--now", "2026-12-10T00:00:00Z", "--expiry-warning", "30d"],
        Input::Fixture(ENVOY140),
        vec!["--now", "2026-12-10T00:00:00Z"],
    ));
    cases.push((
        "cert-not-yet-valid",
        Input::Fixture(ENVOY140),
        vec!["--now", "2026-01-01T00:00:00Z"],
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    cases.push((
        "spiffe-id-malformed",
        Input::Edited(
            "spiffe-malformed",
            default_cert_with(&["spiffe:///ns/default/sa/foo"]),
        ),
        at140.clone(),
        Input::Edited(
            "spiffe-ok",
            default_cert_with(&["spiffe://cluster.local/ns/default/sa/foo"]),
        ),
        at140.clone(),
    ));
    cases.push((
        "cert-no-san",
        Input::Edited("no-san", default_cert_with(&[])),
        at140.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    // A forged link: the leaf is followed by a CA of the same name that did not sign it. (An
    // expired leaf is cert-expired only: the chain adds nothing to that.)
    let mut forged = load(ENVOY140);
    let (signer, impostor) = (
        pki::ca((2026, 1, 1), (2036, 1, 1)),
        pki::ca((2026, 1, 1), (2036, 1, 1)),
    );
    let leaf = signer.leaf(
        "spiffe://cluster.local/ns/default/sa/foo",
        &[],
        7,
        (2026, 6, 1),
        (2027, 6, 1),
    );
    active_secret(&mut forged, "default")["secret"]["tls_certificate"]["certificate_chain"] =
        json!({"inline_bytes": b64(&format!("{}{}", leaf.pem, impostor.pem))});
    cases.push((
        "chain-broken",
        Input::Edited("forged", forged),
        at140.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    let mut untrusted = load(ENVOY140);
    active_secret(&mut untrusted, "ROOTCA")["secret"]["validation_context"]["trusted_ca"] =
        json!({"inline_bytes": b64(&pki::ca((2026, 1, 1), (2036, 1, 1)).pem)});
    cases.push((
        "chain-untrusted",
        Input::Edited("untrusted", untrusted),
        at140.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    cases.push((
        "private-key-exposed",
        Input::Fixture("osm/pkg/cli/verifier/testdata/sample-envoy-config-dump-bookbuyer.json"),
        at.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    for (rule, file) in [
        ("pem-glued", "glued.pem"),
        ("pem-trailing-data", "trailing.pem"),
        ("pem-private-key", "with-key.pem"),
        ("pem-duplicate", "duplicate.pem"),
        ("chain-order", "reversed.pem"),
    ] {
        let path: &'static str = Box::leak(format!("pem/{file}").into_boxed_str());
        cases.push((
            rule,
            Input::Fixture(path),
            at140.clone(),
            Input::Fixture("pem/good-chain.pem"),
            at140.clone(),
        ));
    }
    let mut warming = load(ENVOY140);
    let secrets = section(&mut warming, "SecretsConfigDump");
    let list = secrets["dynamic_active_secrets"].as_array_mut().unwrap();
    let i = list
        .iter()
        .position(|s| s["name"] == "server_cert")
        .unwrap();
    let mut s = list.remove(i);
    s["version_info"] = json!("2026-11-22T23:17:17Z/1");
    secrets["dynamic_warming_secrets"] = json!([s]);
    cases.push((
        "secret-warming",
        Input::Edited("warming", warming),
        at140.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    // A refused LDS update of a real Envoy 1.40 (file-based xDS), and its clean neighbour.
    const SYNC_WEB: &str = "envoy-1.40-sync/web-1.config_dump.json";
    const SYNC_API: &str = "envoy-1.40-sync/api-1.config_dump.json";
    cases.push((
        "update-rejected",
        Input::Fixture(SYNC_WEB),
        at140.clone(),
        Input::Fixture(SYNC_API),
        at140.clone(),
    ));
    let mut warming = load(SYNC_API);
    let l = &mut section(&mut warming, "ListenersConfigDump")["dynamic_listeners"][0];
    l["warming_state"] = l["active_state"].take();
    l.as_object_mut().unwrap().remove("active_state");
    cases.push((
        "listener-warming",
        Input::Edited("listener-warming", warming),
        at140.clone(),
        Input::Fixture(SYNC_API),
        at140.clone(),
    ));
    let mut warming = load(SYNC_API);
    let c = section(&mut warming, "ClustersConfigDump");
    c["dynamic_warming_clusters"] = c["dynamic_active_clusters"].take();
    c.as_object_mut().unwrap().remove("dynamic_active_clusters");
    cases.push((
        "cluster-warming",
        Input::Edited("cluster-warming", warming),
        at140.clone(),
        Input::Fixture(SYNC_API),
        at140.clone(),
    ));
    cases.push((
        "secret-uninitialized",
        Input::Fixture(
            "istio/istioctl/pkg/writer/envoy/configdump/testdata/secret/istio/config_dump.json",
        ),
        at.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    cases.push((
        "secret-missing",
        Input::Fixture("istio/istioctl/pkg/writer/compare/testdata/envoyconfigdump2020.json"),
        at.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    let mut malformed = load(ENVOY140);
    *foo_san(&mut malformed) = json!("spiffe:///ns/default/sa/foo");
    cases.push((
        "san-malformed",
        Input::Edited("san-malformed", malformed),
        at140.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    let mut other_td = load(ENVOY140);
    *foo_san(&mut other_td) = json!("spiffe://east.example/ns/default/sa/foo");
    cases.push((
        "trust-domain-mismatch",
        Input::Edited("other-td", other_td),
        at140.clone(),
        Input::Fixture(
            "istio/istioctl/pkg/writer/envoy/configdump/testdata/secret/spire/config_dump.json",
        ),
        at.clone(),
    ));
    let mut in_mesh = load(ENVOY140);
    for e in section(&mut in_mesh, "EndpointsConfigDump")["static_endpoint_configs"]
        .as_array_mut()
        .unwrap()
    {
        for group in e["endpoint_config"]["endpoints"].as_array_mut().unwrap() {
            for lb in group["lb_endpoints"].as_array_mut().unwrap() {
                lb["metadata"] = json!({"filter_metadata": {"envoy.transport_socket_match": {"tlsMode": "istio"}}});
            }
        }
    }
    cases.push((
        "istio-mutual-to-non-mesh",
        Input::Fixture(ENVOY140),
        at140.clone(),
        Input::Edited("in-mesh", in_mesh),
        at140.clone(),
    ));
    // A public gateway dump whose connection manager has no HTTP filter (Envoy answers nothing:
    // public_dumps_live.rs); the same dump with the router is clean.
    let mut with_router = load("wg-ai-gateway/config_dump.json");
    with_router["configs"][2]["dynamic_listeners"][0]["active_state"]["listener"]
        ["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"] = json!([{"name": "envoy.filters.http.router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]);
    cases.push((
        "no-router",
        Input::Fixture("wg-ai-gateway/config_dump.json"),
        at.clone(),
        Input::Edited("with-router", with_router),
        at.clone(),
    ));
    // Istio 1.3 sniffs HTTP on 443 by ALPN alone: a TLS client offering http/1.1 gets the HTTP
    // chain. Istio 1.18 adds `transport_protocol: raw_buffer`, so TLS keeps to the TCP chain.
    cases.push((
        "tls-into-http-chain",
        Input::Fixture(PRODUCTPAGE_13),
        at.clone(),
        Input::Fixture(AUTHZ_118),
        at.clone(),
    ));
    // The same HTTP chain on 8443, HTTPS by convention too: a TLS client gets it as well.
    let mut on_8443 = load(PRODUCTPAGE_13);
    let listeners = section(&mut on_8443, "ListenersConfigDump")["dynamic_listeners"]
        .as_array_mut()
        .unwrap();
    listeners.retain(|l| {
        let port = &l["active_state"]["listener"]["address"]["socket_address"]["port_value"];
        *port != json!(443) || l["active_state"]["listener"]["name"] == "172.21.71.150_443"
    });
    for l in listeners.iter_mut() {
        if l["active_state"]["listener"]["name"] == "172.21.71.150_443" {
            l["active_state"]["listener"]["address"]["socket_address"]["port_value"] = json!(8443);
        }
    }
    cases.push((
        "tls-into-http-chain",
        Input::Edited("on-8443", on_8443),
        at.clone(),
        Input::Fixture(AUTHZ_118),
        at.clone(),
    ));
    // The Istio 1.3 pod redirects only 9080; exclude it as well (Istio 1.3 keeps the pod's
    // annotations at the top of the node metadata).
    let mut excluded = load(PRODUCTPAGE_13);
    excluded["configs"][0]["bootstrap"]["node"]["metadata"]
        ["traffic.sidecar.istio.io/excludeInboundPorts"] = json!("15020,9080");
    cases.push((
        "inbound-port-not-captured",
        Input::Edited("excluded", excluded),
        at.clone(),
        Input::Fixture(PRODUCTPAGE_13),
        at.clone(),
    ));
    // OSM forwards the application's TLS to httpbin.org by SNI; make its cluster originate TLS too.
    let mut double = load(OSM_EGRESS);
    for c in section(&mut double, "ClustersConfigDump")["dynamic_active_clusters"]
        .as_array_mut()
        .unwrap()
    {
        if c["cluster"]["name"] == "443" {
            c["cluster"]["transport_socket"] = json!({"name": "envoy.transport_sockets.tls", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", "sni": "httpbin.org"}});
        }
    }
    cases.push((
        "double-tls",
        Input::Edited("double-tls", double),
        at.clone(),
        Input::Fixture(OSM_EGRESS),
        at.clone(),
    ));
    // Istio 1.18's listeners run istio.alpn; give the dump one TLS-originating cluster (the
    // 1.40 capture's `expired` cluster, renamed), with and without the opt-out.
    let alpn = |opt_out: bool| {
        let mut d = load(AUTHZ_118);
        let mut capture = load(ENVOY140);
        let mut c = section(&mut capture, "ClustersConfigDump")["static_clusters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cluster"]["name"] == "outbound|443||expired.default.svc.cluster.local")
            .unwrap()
            .clone();
        c["cluster"]["name"] = json!("outbound|443||api.example.com");
        if opt_out {
            c["cluster"]["metadata"] =
                json!({"filter_metadata": {"istio": {"alpn_override": "false"}}});
        }
        d["configs"].as_array_mut().unwrap().push(json!({
            "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
            "static_clusters": [c]
        }));
        d
    };
    cases.push((
        "istio-alpn-to-external",
        Input::Edited("alpn", alpn(false)),
        at.clone(),
        Input::Edited("alpn-opt-out", alpn(true)),
        at.clone(),
    ));
    // The same cluster reached only by a TCP chain: istio.alpn (an HTTP filter) never runs there.
    let mut tcp_only = alpn(false);
    tcp_only["configs"].as_array_mut().unwrap().push(json!({
        "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        "static_listeners": [{"listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
            "name": "0.0.0.0_443", "address": {"socket_address": {"address": "0.0.0.0", "port_value": 443}},
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                "stat_prefix": "api", "cluster": "outbound|443||api.example.com"}}]}]}}]
    }));
    cases.push((
        "istio-alpn-to-external",
        Input::Edited("alpn", alpn(false)),
        at.clone(),
        Input::Edited("alpn-tcp-only", tcp_only),
        at.clone(),
    ));
    cases.push((
        "registry-only-blackhole",
        Input::Fixture("istio/pkg/test/framework/components/echo/common/testdata/config_dump.json"),
        at.clone(),
        Input::Fixture(PRODUCTPAGE_14),
        at.clone(),
    ));
    // A TLS-originating cluster for a host nothing routes to (renamed from a real one).
    let mut unrouted = load(RATINGS);
    let clusters = section(&mut unrouted, "ClustersConfigDump");
    let c = clusters["dynamic_active_clusters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["cluster"]["name"] == "outbound|8079||fortio-echo.default.svc.cluster.local")
        .unwrap();
    c["cluster"]["name"] = json!("outbound|443||api.example.com");
    c["cluster"]["tls_context"] = json!({"sni": "api.example.com", "common_tls_context": {}});
    cases.push((
        "passthrough-bypasses-policy",
        Input::Edited("unrouted", unrouted),
        at.clone(),
        Input::Fixture(RATINGS),
        at.clone(),
    ));
    // A route to a cluster the proxy lacks (a missing DestinationRule subset).
    let mut to_missing = load(ENVOY140);
    section(&mut to_missing, ".RoutesConfigDump")["static_route_configs"][0]["route_config"]
        ["virtual_hosts"][0]["routes"][0] = json!({"match": {"prefix": "/"},
            "route": {"cluster": "outbound|80|v9|bar.default.svc.cluster.local"}});
    cases.push((
        "route-to-missing-cluster",
        Input::Edited("to-missing", to_missing),
        at140.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    // An EDS cluster the ?include_eds dump gives no endpoint.
    let mut empty = load(ENVOY140);
    section(&mut empty, "ClustersConfigDump")["static_clusters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"cluster": {
            "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "name": "outbound|80||scaled-to-zero.default.svc.cluster.local",
            "type": "EDS", "connect_timeout": "1s",
            "eds_cluster_config": {"eds_config": {"ads": {}}}}}));
    cases.push((
        "cluster-without-endpoints",
        Input::Edited("no-endpoints", empty),
        at140.clone(),
        Input::Fixture(ENVOY140),
        at140.clone(),
    ));
    cases.push((
        "inbound-permissive",
        Input::Fixture(PRODUCTPAGE_13),
        at.clone(),
        Input::Fixture(PRODUCTPAGE_14),
        at.clone(),
    ));
    cases.push((
        "undecodable-type",
        Input::Fixture("envoy-1.40/config_dump.json"),
        at140.clone(),
        Input::Fixture("istio/istioctl/pkg/describe/testdata/describe/tls_config.json"),
        at.clone(),
    ));

    // Authorization: the real Envoy 1.40 capture of the differential test, and minimal edits.
    let allow_rbac = |name, edit: fn(&mut Value)| authz_edit(name, "rbac.v3.RBAC", 2, edit);
    cases.push((
        "authz-deny-all",
        allow_rbac("deny-all", |c| c["rules"] = json!({})),
        at140.clone(),
        Input::Fixture(AUTHZ_140),
        at140.clone(),
    ));
    cases.push((
        "authz-tcp-dropped-http-rule",
        Input::Fixture(AUTHZ_118),
        at.clone(),
        Input::Fixture(AUTHZ_140),
        at140.clone(),
    ));
    cases.push((
        "jwt-not-enforced",
        Input::Fixture(AUTHZ_140),
        at140.clone(),
        allow_rbac("jwt-enforced", |c| {
            let keep = c["rules"]["policies"]["ns[default]-policy[allow-jwt]-rule[0]"].clone();
            c["rules"]["policies"] = json!({ "ns[default]-policy[allow-jwt]-rule[0]": keep });
        }),
        at140.clone(),
    ));
    cases.push((
        "principal-on-permissive-port",
        Input::Fixture(AUTHZ_118),
        at.clone(),
        Input::Fixture(AUTHZ_140),
        at140.clone(),
    ));
    // The Envoy 1.40 capture is in cluster.local; an HTTP RBAC filter added to its listener
    // names a peer of another trust domain (or, for the clean case, of cluster.local).
    let with_principal = |name, id: &str| {
        let mut d = load(ENVOY140);
        let l = &mut section(&mut d, "ListenersConfigDump")["static_listeners"][0]["listener"];
        let hcm = &mut l["filter_chains"][0]["filters"][0]["typed_config"];
        assert!(
            hcm["http_filters"].is_array(),
            "the 1.40 capture's listener has an HCM"
        );
        hcm["http_filters"].as_array_mut().unwrap().insert(0, json!({
            "name": "envoy.filters.http.rbac",
            "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
                "rules": { "policies": { "ns[default]-policy[p]-rule[0]": {
                    "permissions": [{ "any": true }],
                    "principals": [{ "authenticated": { "principal_name": { "exact": id } } }] } } } }
        }));
        Input::Edited(name, d)
    };
    cases.push((
        "principal-foreign-trust-domain",
        with_principal(
            "foreign-td",
            "spiffe://partner.example/ns/default/sa/client",
        ),
        at140.clone(),
        with_principal("own-td", "spiffe://cluster.local/ns/default/sa/client"),
        at140.clone(),
    ));
    cases.push((
        "authz-dry-run",
        Input::Fixture(AUTHZ_140),
        at140.clone(),
        Input::Fixture(AUTHZ_118),
        at.clone(),
    ));
    cases.push((
        "ext-authz-fail-open",
        authz_edit("fail-open", "ExtAuthz", 0, |c| {
            c["failure_mode_allow"] = json!(true)
        }),
        at140.clone(),
        Input::Fixture(AUTHZ_140),
        at140.clone(),
    ));
    cases.push((
        "jwks-cluster-missing",
        authz_edit("remote-jwks", "JwtAuthentication", 0, |c| {
            let p = &mut c["providers"]["origins-0"];
            p.as_object_mut().unwrap().remove("local_jwks");
            p["remote_jwks"] = json!({ "http_uri": { "uri": "https://issuer.test/jwks", "cluster": "outbound|443||issuer.test", "timeout": "5s" } });
        }),
        at140.clone(),
        Input::Fixture(AUTHZ_140),
        at140.clone(),
    ));
    cases.push((
        "ztunnel-identity-unavailable",
        Input::Fixture(ZTUNNEL),
        at140.clone(),
        ztunnel_without("ztunnel-forgotten-only", "Unavailable"),
        at140.clone(),
    ));
    cases.push((
        "ztunnel-identity-initializing",
        Input::Fixture(ZTUNNEL),
        at140.clone(),
        ztunnel_without("ztunnel-none-initializing", "Initializing"),
        at140.clone(),
    ));
    cases.push((
        "waypoint-without-endpoints",
        {
            let mut d = load(ZTUNNEL);
            d["services"]["/10.96.65.117"]["endpoints"] = json!({});
            Input::Edited("ztunnel-waypoint-empty", d)
        },
        at140.clone(),
        Input::Fixture(ZTUNNEL),
        at140.clone(),
    ));
    cases
}
