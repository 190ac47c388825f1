//! An Istio-shaped sidecar for a real Envoy 1.40, whose `/config_dump?include_eds` is the
//! fixture `fixtures/envoy-1.40-trace/sidecar.json`: REGISTRY_ONLY `virtualOutbound` (original
//! destination, loop guard, blackhole catch-all); `0.0.0.0_8080` with TCP services chosen by
//! VIP (`cart`, and `orders` whose cluster has no endpoint and auto-mTLS transport socket
//! matches); `0.0.0.0_5432`, a headless service with a chain per pod address; `0.0.0.0_9080`,
//! sniffed HTTP, RDS route `9080` from a file (reviews with the `end-user: jason` canary route,
//! ratings to a subset cluster that does not exist, Istio's `block_all` 502); `0.0.0.0_443`
//! with a TLS chain by SNI for `api.partner.test`; a cluster for `vault.shop:8443` no listener
//! leads to; `virtualInbound` with chains for 9080 (mTLS) and 8888 (plaintext), and node
//! metadata whose annotations redirect only 9080 inbound and exclude the metadata server
//! outbound. Only `virtualOutbound` and the admin bind (free loopback ports); the others take
//! hand-offs, as Istio's do.

use serde_json::{json, Value};

fn socket(addr: &str, port: u16) -> Value {
    json!({ "socket_address": { "address": addr, "port_value": port } })
}

fn tcp(cluster: &str) -> Value {
    json!({ "name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        "stat_prefix": cluster, "cluster": cluster } })
}

fn inspectors(http: bool) -> Value {
    let mut v = vec![
        json!({ "name": "envoy.filters.listener.tls_inspector", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" } }),
    ];
    if http {
        v.push(json!({ "name": "envoy.filters.listener.http_inspector", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector" } }));
    }
    json!(v)
}

fn hidden(name: &str, port: u16, chains: Value, default: Value, http: bool) -> Value {
    json!({ "name": name, "address": socket("0.0.0.0", port), "bind_to_port": false,
        "traffic_direction": "OUTBOUND", "listener_filters": inspectors(http),
        "filter_chains": chains, "default_filter_chain": default })
}

fn blackhole_chain(name: &str) -> Value {
    json!({ "name": name, "filters": [tcp("BlackHoleCluster")] })
}

fn cluster(name: &str, endpoint: Option<u16>) -> Value {
    let endpoints = match endpoint {
        Some(p) => {
            json!([{ "lb_endpoints": [{ "endpoint": { "address": socket("127.0.0.1", p) } }] }])
        }
        None => json!([]),
    };
    json!({ "name": name, "type": "STATIC", "connect_timeout": "1s",
        "load_assignment": { "cluster_name": name, "endpoints": endpoints } })
}

fn certs(dir: &str) -> Value {
    json!({ "tls_certificates": [{
        "certificate_chain": { "filename": format!("{dir}/certs/workload.pem") },
        "private_key": { "filename": format!("{dir}/certs/workload.key") } }],
        "validation_context": { "trusted_ca": { "filename": format!("{dir}/certs/ca.pem") } } })
}

/// Istio's auto-mTLS: mTLS to endpoints labelled `tlsMode: istio`, plaintext to the others.
fn auto_mtls(mut c: Value, dir: &str, sa: &str) -> Value {
    let mut ctx = certs(dir);
    ctx["validation_context"]["match_typed_subject_alt_names"] = json!([{ "san_type": "URI",
        "matcher": { "exact": format!("spiffe://cluster.local/ns/shop/sa/{sa}") } }]);
    ctx["alpn_protocols"] = json!(["istio-peer-exchange", "istio"]);
    c["transport_socket_matches"] = json!([
        { "name": "tlsMode-istio", "match": { "tlsMode": "istio" }, "transport_socket": {
            "name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "common_tls_context": ctx, "sni": "outbound_.8080_._.orders.shop.svc.cluster.local" } } },
        { "name": "tlsMode-disabled", "match": {}, "transport_socket": { "name": "envoy.transport_sockets.raw_buffer",
            "typed_config": { "@type": "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer" } } }
    ]);
    c
}

/// The RDS file of route configuration `9080`.
pub fn routes() -> Value {
    let to = |c: &str| json!({ "cluster": c });
    let reviews = "reviews.shop.svc.cluster.local";
    let ratings = "ratings.shop.svc.cluster.local";
    json!({ "version_info": "1", "resources": [{
        "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        "name": "9080", "validate_clusters": false,
        "virtual_hosts": [
            { "name": format!("{reviews}:9080"),
              "domains": [reviews, format!("{reviews}:9080"), "reviews", "reviews:9080", "reviews.shop", "reviews.shop:9080",
                  "reviews.shop.svc", "reviews.shop.svc:9080", "10.96.30.1", "10.96.30.1:9080"],
              "routes": [
                { "name": "reviews-jason", "match": { "prefix": "/", "headers": [{ "name": "end-user", "string_match": { "exact": "jason" } }] },
                  "route": to(&format!("outbound|9080|v2|{reviews}")),
                  "metadata": { "filter_metadata": { "istio": { "config": "/apis/networking.istio.io/v1/namespaces/shop/virtual-service/reviews" } } } },
                { "name": "default", "match": { "prefix": "/" }, "route": to(&format!("outbound|9080|v1|{reviews}")),
                  "metadata": { "filter_metadata": { "istio": { "config": "/apis/networking.istio.io/v1/namespaces/shop/virtual-service/reviews" } } } }
              ] },
            { "name": format!("{ratings}:9080"),
              "domains": [ratings, format!("{ratings}:9080"), "ratings", "ratings:9080", "ratings.shop", "ratings.shop:9080"],
              "routes": [{ "name": "default", "match": { "prefix": "/" }, "route": to(&format!("outbound|9080|v3|{ratings}")) }] },
            { "name": "block_all", "domains": ["*"],
              "routes": [{ "name": "block_all", "match": { "prefix": "/" }, "direct_response": { "status": 502 } }] }
        ] }] })
}

/// `capture`: the port `virtualOutbound` binds; `upstream`: where every endpoint points.
pub fn bootstrap(dir: &str, capture: u16, upstream: u16) -> Value {
    let hcm = json!({ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "outbound_0.0.0.0_9080",
        "rds": { "route_config_name": "9080", "config_source": {
            "path_config_source": { "path": format!("{dir}/rds.json") }, "resource_api_version": "V3" } },
        "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }] } });
    let inbound_hcm = json!({ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "inbound_0.0.0.0_9080",
        "route_config": { "name": "inbound|9080||", "virtual_hosts": [{ "name": "inbound|http|9080", "domains": ["*"],
            "routes": [{ "name": "default", "match": { "prefix": "/" }, "route": { "cluster": "inbound|9080||" } }] }] },
        "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }] } });
    let mut server = certs(dir);
    server["alpn_protocols"] = json!(["h2", "http/1.1"]);
    let inbound_tls = json!({ "name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": true, "common_tls_context": server } });
    let cart = "outbound|8080||cart.shop.svc.cluster.local";
    let orders = "outbound|8080||orders.shop.svc.cluster.local";
    let db = "outbound|5432||db.shop.svc.cluster.local";
    json!({
        "node": { "id": "sidecar~10.244.0.12~web-7d4b9c-x2x9k.shop~shop.svc.cluster.local", "cluster": "web.shop",
            "metadata": { "ISTIO_VERSION": "1.24.0", "INTERCEPTION_MODE": "REDIRECT", "NAMESPACE": "shop",
                "ANNOTATIONS": { "traffic.sidecar.istio.io/includeInboundPorts": "9080",
                                 "traffic.sidecar.istio.io/excludeOutboundIPRanges": "169.254.169.254/32" } } },
        "admin": { "address": socket("127.0.0.1", 0) },
        "static_resources": {
            "listeners": [
                { "name": "virtualOutbound", "address": socket("127.0.0.1", capture), "use_original_dst": true,
                  "traffic_direction": "OUTBOUND",
                  "filter_chains": [{ "name": "virtualOutbound-blackhole", "filter_chain_match": { "destination_port": capture },
                      "filters": [tcp("BlackHoleCluster")] }],
                  "default_filter_chain": blackhole_chain("virtualOutbound-catchall-tcp") },
                hidden("0.0.0.0_8080", 8080, json!([
                    { "name": "10.96.12.34_8080", "filter_chain_match": { "prefix_ranges": [{ "address_prefix": "10.96.12.34", "prefix_len": 32 }] },
                      "filters": [tcp(cart)] },
                    { "name": "10.96.20.7_8080", "filter_chain_match": { "prefix_ranges": [{ "address_prefix": "10.96.20.7", "prefix_len": 32 }] },
                      "filters": [tcp(orders)] }]), blackhole_chain("PassthroughFilterChain"), true),
                // A headless service: Istio writes a chain per pod address.
                hidden("0.0.0.0_5432", 5432, json!([
                    { "name": "10.244.1.5_5432", "filter_chain_match": { "prefix_ranges": [{ "address_prefix": "10.244.1.5", "prefix_len": 32 }] },
                      "filters": [tcp(db)] },
                    { "name": "10.244.1.6_5432", "filter_chain_match": { "prefix_ranges": [{ "address_prefix": "10.244.1.6", "prefix_len": 32 }] },
                      "filters": [tcp(db)] }]), blackhole_chain("PassthroughFilterChain"), false),
                hidden("0.0.0.0_9080", 9080, json!([
                    { "name": "0.0.0.0_9080", "filter_chain_match": { "transport_protocol": "raw_buffer", "application_protocols": ["http/1.1", "h2c"] },
                      "filters": [hcm] }]), blackhole_chain("PassthroughFilterChain"), true),
                hidden("0.0.0.0_443", 443, json!([
                    { "name": "outbound|443||api.partner.test", "filter_chain_match": { "server_names": ["api.partner.test"] },
                      "filters": [tcp("outbound|443||api.partner.test")] }]), blackhole_chain("PassthroughFilterChain"), false),
                { "name": "virtualInbound", "address": socket("0.0.0.0", 15006), "bind_to_port": false,
                  "traffic_direction": "INBOUND", "listener_filters": inspectors(true),
                  "filter_chains": [
                    { "name": "inbound|9080||", "filter_chain_match": { "destination_port": 9080, "transport_protocol": "tls" },
                      "transport_socket": inbound_tls, "filters": [inbound_hcm] },
                    { "name": "inbound|8888||", "filter_chain_match": { "destination_port": 8888 },
                      "filters": [tcp("inbound|8888||")] }] }
            ],
            "clusters": [
                cluster("BlackHoleCluster", None),
                { "name": "PassthroughCluster", "type": "ORIGINAL_DST", "lb_policy": "CLUSTER_PROVIDED", "connect_timeout": "1s" },
                cluster(cart, Some(upstream)),
                cluster(db, Some(upstream)),
                auto_mtls(cluster(orders, None), dir, "orders"),
                cluster("outbound|9080|v1|reviews.shop.svc.cluster.local", Some(upstream)),
                cluster("outbound|9080|v2|reviews.shop.svc.cluster.local", Some(upstream)),
                cluster("outbound|443||api.partner.test", Some(upstream)),
                cluster("outbound|8443||vault.shop.svc.cluster.local", Some(upstream)),
                cluster("inbound|9080||", Some(upstream)),
                cluster("inbound|8888||", Some(upstream))
            ]
        }
    })
}
