//! The Envoy configuration of the differential trace test, built as JSON: an `edge` listener
//! (TLS and HTTP inspectors) with chains by exact and wildcard SNI, by transport, by ALPN and a
//! default chain; a `plain` listener with one HTTP chain and no inspector; one route
//! configuration (from RDS, a file) with virtual hosts by exact, short, suffix, deeper suffix,
//! prefix and `*` domains, and routes of every match kind (prefix, exact, regex, separated
//! prefix, case-insensitive, header exact/prefix/suffix/regex/present/inverted, query
//! parameters, method), weighted clusters, a cluster from a header, a direct response, a
//! redirect, a missing cluster and a cluster without endpoints. Every cluster reaches a local
//! `upstream` listener that answers 200. One access log records what Envoy chose.

use serde_json::{json, Value};

pub struct Ports {
    pub edge: u16,
    pub plain: u16,
    /// HTTP listeners whose connection managers rewrite the Host: any port and a trailing dot,
    /// or the listener's own port.
    pub strip_any: u16,
    pub strip_matching: u16,
    pub upstream: u16,
    /// The same answer over TLS: where the chain that passes TLS through sends it.
    pub upstream_tls: u16,
}

/// The access log line: the case (its `x-case` header, when Envoy parsed a request), the
/// listener's and the client's ports (to match the others), then Envoy's choices.
pub const LOG_FORMAT: &str = "%REQ(X-CASE)%|%DOWNSTREAM_LOCAL_PORT%|%DOWNSTREAM_REMOTE_PORT%|%FILTER_CHAIN_NAME%|%ROUTE_NAME%|%UPSTREAM_CLUSTER%|%RESPONSE_CODE%|%RESPONSE_FLAGS%|%RESPONSE_CODE_DETAILS%\n";

/// Every cluster the routes and chains name that exists (all but `c-missing`).
pub const CLUSTERS: &[&str] = &[
    "c-exact",
    "c-sep",
    "c-regex",
    "c-ci",
    "c-hdr-exact",
    "c-hdr-prefix",
    "c-hdr-suffix",
    "c-hdr-regex",
    "c-hdr-present",
    "c-hdr-invert",
    "c-query",
    "c-method",
    "c-prefix",
    "c-short",
    "c-suffix",
    "c-deep",
    "c-prefixvh",
    "c-any",
    "w-a",
    "w-b",
    "hc-1",
    "hc-2",
    "wild_tcp",
    "deep_tcp",
    "tls_tcp",
    "default_tcp",
];

fn socket(port: u16) -> Value {
    json!({ "socket_address": { "address": "127.0.0.1", "port_value": port } })
}

fn log(path: &str) -> Value {
    json!([{ "name": "log", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
        "path": path,
        "log_format": { "text_format_source": { "inline_string": LOG_FORMAT } } } }])
}

fn to(cluster: &str) -> Value {
    json!({ "cluster": cluster })
}

fn header(name: &str, m: Value) -> Value {
    let mut h = json!({ "name": name });
    for (k, v) in m.as_object().unwrap() {
        h[k] = v.clone();
    }
    h
}

fn route(name: &str, m: Value, action: (&str, Value)) -> Value {
    let mut r = json!({ "name": name, "match": m });
    r[action.0] = action.1;
    r
}

fn prefix(p: &str) -> Value {
    json!({ "prefix": p })
}

fn fwd(c: &str) -> (&'static str, Value) {
    ("route", to(c))
}

pub fn route_config() -> Value {
    let h = |p: &str, hs: Vec<Value>| json!({ "prefix": p, "headers": hs });
    let routes = vec![
        route("r-exact", json!({ "path": "/exact" }), fwd("c-exact")),
        route(
            "r-sep",
            json!({ "path_separated_prefix": "/sep" }),
            fwd("c-sep"),
        ),
        route(
            "r-regex",
            json!({ "safe_regex": { "regex": "/re/[0-9]+" } }),
            fwd("c-regex"),
        ),
        route(
            "r-ci",
            json!({ "prefix": "/CI/", "case_sensitive": false }),
            fwd("c-ci"),
        ),
        route(
            "r-header-cluster",
            prefix("/hc"),
            ("route", json!({ "cluster_header": "x-cluster" })),
        ),
        route(
            "r-hdr-exact",
            h(
                "/h",
                vec![header(
                    "end-user",
                    json!({ "string_match": { "exact": "jason" } }),
                )],
            ),
            fwd("c-hdr-exact"),
        ),
        route(
            "r-hdr-prefix",
            h(
                "/h",
                vec![header(
                    "x-ver",
                    json!({ "string_match": { "prefix": "v2" } }),
                )],
            ),
            fwd("c-hdr-prefix"),
        ),
        route(
            "r-hdr-suffix",
            h(
                "/h",
                vec![header(
                    "x-ver",
                    json!({ "string_match": { "suffix": "-beta" } }),
                )],
            ),
            fwd("c-hdr-suffix"),
        ),
        route(
            "r-hdr-regex",
            h(
                "/h",
                vec![header(
                    "x-ver",
                    json!({ "string_match": { "safe_regex": { "regex": "v[0-9]+" } } }),
                )],
            ),
            fwd("c-hdr-regex"),
        ),
        route(
            "r-hdr-present",
            h(
                "/h",
                vec![header("x-canary", json!({ "present_match": true }))],
            ),
            fwd("c-hdr-present"),
        ),
        route(
            "r-hdr-invert",
            h(
                "/h",
                vec![header(
                    "x-block",
                    json!({ "string_match": { "exact": "1" }, "invert_match": true }),
                )],
            ),
            fwd("c-hdr-invert"),
        ),
        route(
            "r-query",
            json!({ "prefix": "/q", "query_parameters": [{ "name": "debug", "string_match": { "exact": "1" } }] }),
            fwd("c-query"),
        ),
        route(
            "r-query-present",
            json!({ "prefix": "/q", "query_parameters": [{ "name": "trace", "present_match": true }] }),
            fwd("c-query"),
        ),
        route(
            "r-method",
            h(
                "/m",
                vec![header(
                    ":method",
                    json!({ "string_match": { "exact": "POST" } }),
                )],
            ),
            fwd("c-method"),
        ),
        route(
            "r-direct",
            prefix("/direct"),
            ("direct_response", json!({ "status": 418 })),
        ),
        route(
            "r-redirect",
            prefix("/old"),
            (
                "redirect",
                json!({ "path_redirect": "/new", "response_code": "FOUND" }),
            ),
        ),
        route(
            "r-weighted",
            prefix("/w"),
            (
                "route",
                json!({ "weighted_clusters": { "clusters": [
            { "name": "w-a", "weight": 70 }, { "name": "w-b", "weight": 30 }] } }),
            ),
        ),
        route("r-missing", prefix("/missing"), fwd("c-missing")),
        route("r-empty", prefix("/empty"), fwd("c-empty")),
        route("r-prefix", prefix("/p"), fwd("c-prefix")),
    ];
    let vh = |name: &str, domains: Vec<&str>, routes: Vec<Value>| json!({ "name": name, "domains": domains, "routes": routes });
    let all = |name: &str, c: &str| vec![route(name, prefix("/"), fwd(c))];
    json!({
        "name": "edge-routes",
        "validate_clusters": false,
        "virtual_hosts": [
            vh("exact", vec!["www.example.com"], routes),
            vh("short", vec!["reviews", "reviews.shop", "reviews.shop.svc.cluster.local", "reviews.shop.svc.cluster.local:9080"], all("r-short", "c-short")),
            vh("suffix", vec!["*.example.com"], all("r-suffix", "c-suffix")),
            vh("deep", vec!["*.b.example.com"], all("r-deep", "c-deep")),
            vh("prefixvh", vec!["api.*"], all("r-prefixvh", "c-prefixvh")),
            vh("any", vec!["*"], all("r-any", "c-any")),
        ]
    })
}

fn hcm(stat: &str, dir: &str, rds: bool) -> Value {
    let mut cfg = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": stat,
        "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
        "access_log": log(&format!("{dir}/access.log")),
    });
    if rds {
        cfg["rds"] = json!({ "route_config_name": "edge-routes", "config_source": {
            "path_config_source": { "path": format!("{dir}/rds.json") }, "resource_api_version": "V3" } });
    } else {
        let mut rc = route_config();
        rc["name"] = json!("edge-inline");
        cfg["route_config"] = rc;
    }
    json!({ "name": "envoy.filters.network.http_connection_manager", "typed_config": cfg })
}

fn tcp(cluster: &str, dir: &str) -> Value {
    json!({ "name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        "stat_prefix": cluster, "cluster": cluster, "access_log": log(&format!("{dir}/access.log")) } })
}

fn tls(dir: &str) -> Value {
    json!({ "name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "common_tls_context": { "tls_certificates": [{
            "certificate_chain": { "filename": format!("{dir}/certs/edge.pem") },
            "private_key": { "filename": format!("{dir}/certs/edge.key") } }] } } })
}

fn cluster(name: &str, port: Option<u16>) -> Value {
    let endpoints = match port {
        Some(p) => json!([{ "lb_endpoints": [{ "endpoint": { "address": socket(p) } }] }]),
        None => json!([]),
    };
    json!({ "name": name, "type": "STATIC", "connect_timeout": "0.25s",
        "load_assignment": { "cluster_name": name, "endpoints": endpoints } })
}

/// The RDS file `hcm` reads: a discovery response with the route configuration.
pub fn rds() -> Value {
    let mut rc = route_config();
    rc["@type"] = json!("type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    json!({ "version_info": "1", "resources": [rc] })
}

/// The upstreams' HTTP connection manager: 200 to everything.
fn ok() -> Value {
    json!({ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "upstream",
        "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
        "route_config": { "virtual_hosts": [{ "name": "ok", "domains": ["*"], "routes": [
            { "match": { "prefix": "/" }, "direct_response": { "status": 200, "body": { "inline_string": "ok" } } }] }] } } })
}

pub fn bootstrap(dir: &str, p: &Ports) -> Value {
    let filters = |names: &[&str]| -> Value {
        names
            .iter()
            .map(|n| {
                let t = match *n {
                    "tls" => "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
                    _ => "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
                };
                json!({ "name": format!("envoy.filters.listener.{n}_inspector"),
                    "typed_config": { "@type": format!("type.googleapis.com/{t}") } })
            })
            .collect()
    };
    let mut clusters: Vec<Value> = CLUSTERS
        .iter()
        .map(|c| {
            cluster(
                c,
                Some(if *c == "tls_tcp" {
                    p.upstream_tls
                } else {
                    p.upstream
                }),
            )
        })
        .collect();
    clusters.push(cluster("c-empty", None));
    let mut strip_any = hcm("strip_any", dir, true);
    strip_any["typed_config"]["strip_any_host_port"] = json!(true);
    strip_any["typed_config"]["strip_trailing_host_dot"] = json!(true);
    let mut strip_matching = hcm("strip_matching", dir, true);
    strip_matching["typed_config"]["strip_matching_host_port"] = json!(true);
    json!({
        "node": { "id": "trace-differential", "cluster": "envinspect-tests" },
        "admin": { "address": socket(0) },
        "static_resources": {
            "listeners": [
                { "name": "edge", "address": socket(p.edge), "listener_filters": filters(&["tls", "http"]),
                  "filter_chains": [
                    { "name": "tls-api", "filter_chain_match": { "server_names": ["api.example.com"] },
                      "transport_socket": tls(dir), "filters": [hcm("tls_api", dir, false)] },
                    { "name": "tls-wild", "filter_chain_match": { "server_names": ["*.example.com"] },
                      "transport_socket": tls(dir), "filters": [tcp("wild_tcp", dir)] },
                    { "name": "tls-deep", "filter_chain_match": { "server_names": ["*.b.example.com"] },
                      "transport_socket": tls(dir), "filters": [tcp("deep_tcp", dir)] },
                    { "name": "tls-any", "filter_chain_match": { "transport_protocol": "tls" },
                      "filters": [tcp("tls_tcp", dir)] },
                    { "name": "plain-http", "filter_chain_match": { "transport_protocol": "raw_buffer",
                        "application_protocols": ["http/1.1", "http/1.0"] },
                      "filters": [hcm("plain_http", dir, true)] }
                  ],
                  "default_filter_chain": { "name": "default-tcp", "filters": [tcp("default_tcp", dir)] } },
                { "name": "plain", "address": socket(p.plain),
                  "filter_chains": [{ "name": "http-only", "filter_chain_match": { "transport_protocol": "raw_buffer" },
                      "filters": [hcm("http_only", dir, true)] }] },
                { "name": "strip-any", "address": socket(p.strip_any),
                  "filter_chains": [{ "name": "strip-any-port", "filters": [strip_any] }] },
                { "name": "strip-matching", "address": socket(p.strip_matching),
                  "filter_chains": [{ "name": "strip-matching-port", "filters": [strip_matching] }] },
                { "name": "upstream", "address": socket(p.upstream),
                  "filter_chains": [{ "filters": [ok()] }] },
                { "name": "upstream_tls", "address": socket(p.upstream_tls),
                  "filter_chains": [{ "transport_socket": tls(dir), "filters": [ok()] }] }
            ],
            "clusters": clusters
        }
    })
}
