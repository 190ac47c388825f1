//! The Envoy configuration of the differential `explain` test, built as JSON: a `front` HTTP
//! listener whose routes fail in every way a cluster can (no endpoint, missing, SAN mismatch,
//! untrusted CA, closed port, circuit breaker at zero, a timeout against a delaying upstream,
//! an upstream's own error status) and whose Host or path can match nothing; an `authz`
//! listener with RBAC DENY and ALLOW filters (Istio's policy names); a `jwt` listener with
//! jwt_authn; a TCP listener with a network RBAC that allows nothing; and a listener whose only
//! chain wants an SNI. Every connection manager, TCP proxy and that listener log the same events
//! three times: Envoy's default format, Istio's TEXT format and Istio's JSON format.

use serde_json::{json, Value};

use envinspect::evidence::{ISTIO_JSON, ISTIO_TEXT};

pub struct Ports {
    pub front: u16,
    pub authz: u16,
    pub jwt: u16,
    pub tcp_rbac: u16,
    pub sni_only: u16,
    pub backend: u16,
    pub backend_tls: u16,
    /// Nothing listens there.
    pub closed: u16,
}

/// The three access logs (file names in the test's directory).
pub const LOGS: [&str; 3] = ["default.log", "text.log", "json.log"];

pub const DENY_POLICY: &str = "ns[default]-policy[deny-admin]-rule[0]";
pub const ALLOW_POLICY: &str = "ns[default]-policy[allow-get]-rule[0]";
/// The SAN cluster `tls-san` wants; the backend presents `…/sa/server`.
pub const WANTED_SAN: &str = "spiffe://cluster.local/ns/default/sa/other";

fn socket(port: u16) -> Value {
    json!({ "socket_address": { "address": "127.0.0.1", "port_value": port } })
}

fn access_logs(dir: &str) -> Value {
    let json_format: serde_json::Map<String, Value> = ISTIO_JSON
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let file = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
    json!([
        { "name": "envoy.access_loggers.file", "typed_config": { "@type": file,
            "path": format!("{dir}/default.log") } },
        { "name": "envoy.access_loggers.file", "typed_config": { "@type": file,
            "path": format!("{dir}/text.log"),
            "log_format": { "text_format_source": { "inline_string": ISTIO_TEXT } } } },
        { "name": "envoy.access_loggers.file", "typed_config": { "@type": file,
            "path": format!("{dir}/json.log"),
            "log_format": { "json_format": json_format } } }
    ])
}

fn router() -> Value {
    json!({ "name": "envoy.filters.http.router", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } })
}

fn hcm(prefix: &str, dir: &str, filters: Vec<Value>, route_config: Value) -> Value {
    let mut all = filters;
    all.push(router());
    json!({ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": prefix,
        "access_log": access_logs(dir),
        "http_filters": all,
        "route_config": route_config } })
}

fn route(name: &str, prefix: &str, cluster: &str) -> Value {
    json!({ "name": name, "match": { "prefix": prefix }, "route": { "cluster": cluster } })
}

fn front_routes() -> Value {
    let mut slow = route("r-slow", "/slow", "ok");
    slow["route"]["timeout"] = json!("0.3s");
    let mut retry = route("r-san-retry", "/san-retry", "tls-san");
    retry["route"]["retry_policy"] = json!({ "retry_on": "connect-failure", "num_retries": 2 });
    json!({ "name": "front", "validate_clusters": false, "virtual_hosts": [{
        "name": "app", "domains": ["app.test"], "routes": [
            route("r-ok", "/ok", "ok"),
            route("r-empty", "/empty", "empty"),
            route("r-missing", "/missing", "missing"),
            retry,
            route("r-san", "/san", "tls-san"),
            route("r-ca", "/ca", "tls-ca"),
            route("r-closed", "/closed", "closed"),
            route("r-overflow", "/overflow", "overflow"),
            slow,
            route("r-teapot", "/teapot", "ok")
        ] }] })
}

fn rbac(action: &str, policy: &str, permission: Value) -> Value {
    json!({ "name": "envoy.filters.http.rbac", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
        "rules": { "action": action, "policies": { policy: {
            "permissions": [permission], "principals": [{ "any": true }] } } } } })
}

fn authz_filters() -> Vec<Value> {
    vec![
        rbac(
            "DENY",
            DENY_POLICY,
            json!({ "url_path": { "path": { "prefix": "/admin" } } }),
        ),
        rbac(
            "ALLOW",
            ALLOW_POLICY,
            json!({ "header": { "name": ":method", "string_match": { "exact": "GET" } } }),
        ),
    ]
}

fn jwt_filter(jwk: &Value) -> Value {
    json!({ "name": "envoy.filters.http.jwt_authn", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
        "providers": { "origins-0": { "issuer": "https://issuer.test", "audiences": ["api"],
            "local_jwks": { "inline_string": json!({ "keys": [jwk] }).to_string() } } },
        "rules": [{ "match": { "prefix": "/" }, "requires": { "provider_name": "origins-0" } }] } })
}

fn single_vh(name: &str, domain: &str) -> Value {
    json!({ "name": name, "virtual_hosts": [{ "name": name, "domains": [domain],
        "routes": [route(&format!("r-{name}"), "/", "ok")] }] })
}

fn cluster(name: &str, port: Option<u16>) -> Value {
    let endpoints = match port {
        Some(p) => json!([{ "lb_endpoints": [{ "endpoint": { "address": socket(p) } }] }]),
        None => json!([]),
    };
    json!({ "name": name, "type": "STATIC", "connect_timeout": "0.5s",
        "load_assignment": { "cluster_name": name, "endpoints": endpoints } })
}

fn upstream_tls(dir: &str, ca: &str, sans: Option<&str>) -> Value {
    let mut validation = json!({ "trusted_ca": { "filename": format!("{dir}/certs/{ca}") } });
    if let Some(san) = sans {
        validation["match_typed_subject_alt_names"] =
            json!([{ "san_type": "URI", "matcher": { "exact": san } }]);
    }
    json!({ "name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "sni": "backend.test",
        "common_tls_context": { "validation_context": validation } } })
}

fn backend(dir: &str, tls: bool) -> Value {
    let delay = json!({ "name": "envoy.filters.http.fault", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
        "delay": { "fixed_delay": "1.5s", "percentage": { "numerator": 100, "denominator": "HUNDRED" } },
        "headers": [{ "name": ":path", "string_match": { "prefix": "/slow" } }] } });
    let direct = |prefix: &str, status: u16| {
        json!({ "match": { "prefix": prefix },
            "direct_response": { "status": status, "body": { "inline_string": "backend" } } })
    };
    let mut chain = json!({ "filters": [{ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": if tls { "backend_tls" } else { "backend" },
        "http_filters": [delay, router()],
        "route_config": { "virtual_hosts": [{ "name": "backend", "domains": ["*"],
            "routes": [direct("/teapot", 418), direct("/", 200)] }] } } }] });
    if tls {
        chain["transport_socket"] = json!({ "name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": { "tls_certificates": [{
                "certificate_chain": { "filename": format!("{dir}/certs/server.pem") },
                "private_key": { "filename": format!("{dir}/certs/server.key") } }] } } });
    }
    chain
}

pub fn bootstrap(dir: &str, p: &Ports, jwk: &Value) -> Value {
    let mut tls_san = cluster("tls-san", Some(p.backend_tls));
    tls_san["transport_socket"] = upstream_tls(dir, "ca.pem", Some(WANTED_SAN));
    let mut tls_ca = cluster("tls-ca", Some(p.backend_tls));
    tls_ca["transport_socket"] = upstream_tls(dir, "other-ca.pem", None);
    let mut overflow = cluster("overflow", Some(p.backend));
    overflow["circuit_breakers"] = json!({ "thresholds": [{ "max_pending_requests": 0 }] });
    let tcp_rbac = json!({ "filters": [
        { "name": "envoy.filters.network.rbac", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC",
            "stat_prefix": "tcp_rbac", "rules": { "action": "ALLOW", "policies": {} } } },
        { "name": "envoy.filters.network.tcp_proxy", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "stat_prefix": "tcp_rbac", "cluster": "ok", "access_log": access_logs(dir) } }
    ] });
    json!({
        "node": { "id": "explain-differential", "cluster": "envinspect-tests" },
        "admin": { "address": socket(0) },
        "static_resources": {
            "listeners": [
                { "name": "front", "address": socket(p.front), "filter_chains": [
                    { "name": "front-http", "filters": [hcm("front", dir, vec![], front_routes())] }] },
                { "name": "authz", "address": socket(p.authz), "filter_chains": [
                    { "name": "authz-http", "filters": [hcm("authz", dir, authz_filters(), single_vh("authz", "authz.test"))] }] },
                { "name": "jwt", "address": socket(p.jwt), "filter_chains": [
                    { "name": "jwt-http", "filters": [hcm("jwt", dir, vec![jwt_filter(jwk)], single_vh("jwt", "jwt.test"))] }] },
                { "name": "tcp-rbac", "address": socket(p.tcp_rbac), "filter_chains": [tcp_rbac] },
                { "name": "sni-only", "address": socket(p.sni_only),
                  "listener_filters": [{ "name": "envoy.filters.listener.tls_inspector", "typed_config": {
                      "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" } }],
                  "access_log": access_logs(dir),
                  "filter_chains": [{ "name": "only-sni", "filter_chain_match": { "server_names": ["only.test"] },
                      "filters": [{ "name": "envoy.filters.network.tcp_proxy", "typed_config": {
                          "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                          "stat_prefix": "sni_only", "cluster": "ok" } }] }] },
                { "name": "backend", "address": socket(p.backend), "filter_chains": [backend(dir, false)] },
                { "name": "backend-tls", "address": socket(p.backend_tls), "filter_chains": [backend(dir, true)] }
            ],
            "clusters": [
                cluster("ok", Some(p.backend)),
                cluster("empty", None),
                tls_san,
                tls_ca,
                cluster("closed", Some(p.closed)),
                overflow
            ]
        }
    })
}
