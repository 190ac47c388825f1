//! The Envoy configuration of the differential authorization test, built as JSON: an mTLS HTTP
//! listener and a plaintext one sharing one HTTP connection manager (jwt_authn with inline
//! RS256 and ES256 keys, an RBAC DENY filter with dry-run shadow rules, an RBAC ALLOW filter,
//! Istio's CUSTOM pair: a selector RBAC and ext_authz), per-route RBAC overrides (policies,
//! matcher form, disabled), and an mTLS TCP listener with a network RBAC before tcp_proxy.

use serde_json::{json, Value};

pub const ISSUER: &str = "https://issuer.test";
pub const EC_ISSUER: &str = "https://ec.test";
pub const TD: &str = "cluster.local";

pub fn spiffe(ns: &str, sa: &str) -> String {
    format!("spiffe://{TD}/ns/{ns}/sa/{sa}")
}

pub struct Ports {
    pub mtls: u16,
    pub plain: u16,
    pub tcp: u16,
    /// Nothing listens there: the ext_authz server.
    pub dead: u16,
}

fn exact(v: &str) -> Value {
    json!({ "exact": v })
}

fn peer(v: &str) -> Value {
    json!({ "authenticated": { "principal_name": exact(v) } })
}

fn peer_regex(re: &str) -> Value {
    json!({ "authenticated": { "principal_name": { "safe_regex": { "regex": re } } } })
}

fn path_prefix(p: &str) -> Value {
    json!({ "url_path": { "path": { "prefix": p } } })
}

fn method(m: &str) -> Value {
    json!({ "header": { "name": ":method", "string_match": exact(m) } })
}

fn claim(key: &str, v: &str) -> Value {
    json!({ "metadata": { "filter": "envoy.filters.http.jwt_authn",
        "path": [{ "key": "payload" }, { "key": key }], "value": { "string_match": exact(v) } } })
}

fn policy(perms: Vec<Value>, principals: Vec<Value>) -> Value {
    json!({ "permissions": perms, "principals": principals })
}

fn name(n: &str) -> String {
    format!("ns[default]-policy[{n}]-rule[0]")
}

fn jwks(rsa_jwk: &Value, ec_jwk: &Value) -> (String, String) {
    (
        json!({ "keys": [rsa_jwk] }).to_string(),
        json!({ "keys": [ec_jwk] }).to_string(),
    )
}

fn http_filters(rsa_jwk: &Value, ec_jwk: &Value) -> Value {
    let (rsa, ec) = jwks(rsa_jwk, ec_jwk);
    let jwt = json!({
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                "origins-0": { "issuer": ISSUER, "audiences": ["api"], "payload_in_metadata": "payload",
                    "local_jwks": { "inline_string": rsa }, "forward": true },
                "ec": { "issuer": EC_ISSUER, "payload_in_metadata": "payload",
                    "local_jwks": { "inline_string": ec } }
            },
            "rules": [
                { "match": { "prefix": "/jwt-required" }, "requires": { "provider_name": "origins-0" } },
                { "match": { "prefix": "/ec" }, "requires": { "provider_name": "ec" } },
                { "match": { "prefix": "/nojwt" } },
                { "match": { "prefix": "/" }, "requires": { "requires_any": { "requirements": [
                    { "provider_name": "origins-0" }, { "allow_missing": {} } ] } } }
            ]
        }
    });
    let mut deny = serde_json::Map::new();
    deny.insert(
        name("deny-banned"),
        policy(
            vec![json!({ "any": true })],
            vec![peer(&spiffe("default", "banned"))],
        ),
    );
    deny.insert(
        name("deny-admin-path"),
        policy(
            vec![path_prefix("/admin")],
            vec![json!({ "not_id": peer(&spiffe("default", "admin")) })],
        ),
    );
    deny.insert(
        name("deny-delete-other"),
        policy(vec![method("DELETE")], vec![peer_regex(".*/ns/other/.*")]),
    );
    let rbac_deny = json!({
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules": { "action": "DENY", "policies": deny },
            "shadow_rules": { "action": "DENY", "policies": {
                name("dry-deny-reader"): policy(vec![json!({ "any": true })], vec![peer(&spiffe("default", "reader"))]) } },
            "shadow_rules_stat_prefix": "istio_dry_run_deny_"
        }
    });
    let mut allow = serde_json::Map::new();
    allow.insert(
        name("allow-default-get"),
        policy(vec![method("GET")], vec![peer_regex(".*/ns/default/.*")]),
    );
    allow.insert(
        name("allow-public"),
        policy(vec![path_prefix("/public")], vec![json!({ "any": true })]),
    );
    allow.insert(
        name("allow-jwt"),
        policy(
            vec![path_prefix("/jwt")],
            vec![json!({ "and_ids": { "ids": [claim("iss", ISSUER), claim("sub", "alice")] } })],
        ),
    );
    allow.insert(
        name("allow-ec"),
        policy(vec![path_prefix("/ec")], vec![claim("iss", EC_ISSUER)]),
    );
    allow.insert(
        name("allow-foreign"),
        policy(
            vec![json!({ "url_path": { "path": exact("/foreign") } })],
            vec![peer("spiffe://foreign.example/ns/default/sa/admin")],
        ),
    );
    allow.insert(
        name("allow-header"),
        policy(
            vec![json!({ "header": { "name": "x-allow", "present_match": true } })],
            vec![json!({ "any": true })],
        ),
    );
    allow.insert(
        name("allow-inverted"),
        policy(
            vec![json!({ "and_rules": { "rules": [path_prefix("/inv"),
                { "header": { "name": "x-inv", "string_match": exact("yes"), "invert_match": true } }] } })],
            vec![json!({ "any": true })],
        ),
    );
    allow.insert(
        name("allow-query"),
        policy(
            vec![json!({ "header": { "name": ":path", "string_match": exact("/query?ok=1") } })],
            vec![json!({ "any": true })],
        ),
    );
    allow.insert(
        name("allow-post-other"),
        policy(
            vec![json!({ "and_rules": { "rules": [method("POST"), path_prefix("/api")] } })],
            vec![peer_regex(".*/ns/other/.*")],
        ),
    );
    allow.insert(
        name("allow-loopback"),
        policy(
            vec![path_prefix("/src")],
            vec![
                json!({ "direct_remote_ip": { "address_prefix": "127.0.0.1", "prefix_len": 32 } }),
            ],
        ),
    );
    allow.insert(
        name("allow-ten"),
        policy(
            vec![path_prefix("/ten")],
            vec![json!({ "remote_ip": { "address_prefix": "10.0.0.0", "prefix_len": 8 } })],
        ),
    );
    let rbac_allow = json!({
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules": { "policies": allow }
        }
    });
    // Istio's CUSTOM: shadow rules select the requests, ext_authz runs only on those.
    let custom_selector = json!({
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "shadow_rules": { "action": "DENY", "policies": {
                "istio-ext-authz-ns[default]-policy[custom]-rule[0]": policy(vec![path_prefix("/custom")], vec![json!({ "any": true })]) } },
            "shadow_rules_stat_prefix": "istio_ext_authz_"
        }
    });
    let ext_authz = json!({
        "name": "envoy.filters.http.ext_authz",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            "grpc_service": { "envoy_grpc": { "cluster_name": "ext_authz" }, "timeout": "0.5s" },
            "transport_api_version": "V3",
            "filter_enabled_metadata": { "filter": "envoy.filters.http.rbac",
                "path": [{ "key": "istio_ext_authz_shadow_effective_policy_id" }],
                "value": { "string_match": { "prefix": "istio-ext-authz" } } }
        }
    });
    json!([custom_selector, ext_authz, jwt, rbac_deny, rbac_allow,
        { "name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }])
}

fn per_route_rbac(rbac: Value) -> Value {
    json!({ "envoy.filters.http.rbac": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute", "rbac": rbac } })
}

/// A matcher action; the extension's own name differs from the Action's, to show which one Envoy
/// reports.
fn action(n: &str, a: &str) -> Value {
    json!({ "action": { "name": format!("ext-{n}"), "typed_config": {
        "@type": "type.googleapis.com/envoy.config.rbac.v3.Action", "name": n, "action": a } } })
}

fn route_config() -> Value {
    let ok = |prefix: &str, per: Option<Value>| {
        let mut r = json!({ "match": { "prefix": prefix }, "direct_response": { "status": 200, "body": { "inline_string": "ok" } } });
        if let Some(p) = per {
            r["typed_per_filter_config"] = p;
        }
        r
    };
    let override_reader = per_route_rbac(json!({ "rules": { "action": "ALLOW", "policies": {
        name("override-reader"): policy(vec![json!({ "any": true })], vec![peer(&spiffe("default", "reader"))]) } } }));
    let header_input = json!({ "name": "team", "typed_config": {
        "@type": "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput", "header_name": "x-team" } });
    let matcher = per_route_rbac(json!({ "matcher": {
        "matcher_list": { "matchers": [
            { "predicate": { "single_predicate": { "input": header_input, "value_match": exact("red") } },
              "on_match": action("red-team", "ALLOW") },
            { "predicate": { "single_predicate": {
                "input": { "name": "ip", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourceIPInput" } },
                "custom_match": { "name": "ip", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.matching.input_matchers.ip.v3.Ip",
                    "cidr_ranges": [{ "address_prefix": "10.0.0.0", "prefix_len": 8 }], "stat_prefix": "ip" } } } },
              "on_match": action("ten-net", "ALLOW") },
            { "predicate": { "single_predicate": { "input": header_input, "value_match": exact("black") } },
              "on_match": action("black-team", "DENY") }
        ] },
        "on_no_match": action("fallback-deny", "DENY") } }));
    let matcher_no_default = per_route_rbac(json!({ "matcher": { "matcher_list": { "matchers": [
        { "predicate": { "single_predicate": { "input": header_input, "value_match": exact("blue") } },
          "on_match": action("blue-team", "ALLOW") } ] } } }));
    json!({
        "name": "local",
        "virtual_hosts": [{ "name": "all", "domains": ["*"], "routes": [
            ok("/override", Some(override_reader)),
            ok("/matcher", Some(matcher)),
            ok("/nodefault", Some(matcher_no_default)),
            ok("/open", Some(per_route_rbac(Value::Null))),
            ok("/", None)
        ] }]
    })
}

fn hcm(stat: &str, log: &str, rsa_jwk: &Value, ec_jwk: &Value) -> Value {
    let mut rc = route_config();
    // `/open`'s RBACPerRoute has no rbac: drop the null so Envoy reads "disabled".
    for r in rc["virtual_hosts"][0]["routes"].as_array_mut().unwrap() {
        if let Some(p) = r.pointer_mut("/typed_per_filter_config/envoy.filters.http.rbac") {
            if p["rbac"].is_null() {
                p.as_object_mut().unwrap().remove("rbac");
            }
        }
    }
    json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": stat,
            "route_config": rc,
            "http_filters": http_filters(rsa_jwk, ec_jwk),
            "access_log": [{ "name": "log", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": log,
                "log_format": { "text_format_source": { "inline_string": "%REQ(X-CASE)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS%\n" } } } }]
        }
    })
}

fn tls_socket(dir: &str) -> Value {
    json!({ "name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": true,
        "common_tls_context": {
            "tls_certificates": [{ "certificate_chain": { "filename": format!("{dir}/certs/server.pem") },
                                   "private_key": { "filename": format!("{dir}/certs/server.key") } }],
            "validation_context": { "trusted_ca": { "filename": format!("{dir}/certs/ca.pem") } }
        } } })
}

fn socket(port: u16) -> Value {
    json!({ "socket_address": { "address": "127.0.0.1", "port_value": port } })
}

fn static_cluster(name: &str, port: u16, h2: bool) -> Value {
    let mut c = json!({ "name": name, "type": "STATIC", "connect_timeout": "0.25s",
        "load_assignment": { "cluster_name": name, "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": socket(port) } }] }] } });
    if h2 {
        c["typed_extension_protocol_options"] = json!({ "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": { "http2_protocol_options": {} } } });
    }
    c
}

/// The whole bootstrap. `dir` holds the certificates and the logs.
pub fn bootstrap(dir: &str, p: &Ports, rsa_jwk: &Value, ec_jwk: &Value) -> Value {
    let http_log = format!("{dir}/http.log");
    let tcp_rbac = json!({ "name": "envoy.filters.network.rbac", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC",
        "stat_prefix": "tcp",
        "rules": { "policies": {
            name("tcp-admin"): policy(vec![json!({ "destination_port": p.tcp })], vec![peer(&spiffe("default", "admin"))]),
            name("tcp-reader-elsewhere"): policy(vec![json!({ "destination_port": 1 })], vec![peer(&spiffe("default", "reader"))]),
            name("tcp-other-ns"): policy(vec![json!({ "any": true })], vec![peer_regex(".*/ns/other/.*")])
        } } } });
    let tcp_proxy = json!({ "name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        "stat_prefix": "tcp", "cluster": "sink" } });
    json!({
        "node": { "id": "authz-differential", "cluster": "envinspect-tests" },
        "admin": { "address": socket(0) },
        "static_resources": {
            "listeners": [
                { "name": "authz_mtls", "address": socket(p.mtls),
                  "filter_chains": [{ "name": "mtls-http", "transport_socket": tls_socket(dir),
                      "filters": [hcm("mtls", &http_log, rsa_jwk, ec_jwk)] }] },
                { "name": "authz_plain", "address": socket(p.plain),
                  "filter_chains": [{ "name": "plain-http", "filters": [hcm("plain", &http_log, rsa_jwk, ec_jwk)] }] },
                { "name": "authz_tcp", "address": socket(p.tcp),
                  "access_log": [{ "name": "log", "typed_config": {
                      "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                      "path": format!("{dir}/tcp.log"),
                      "log_format": { "text_format_source": { "inline_string": "%DOWNSTREAM_REMOTE_PORT% %CONNECTION_TERMINATION_DETAILS%\n" } } } }],
                  "filter_chains": [{ "name": "mtls-tcp", "transport_socket": tls_socket(dir),
                      "filters": [tcp_rbac, tcp_proxy] }] }
            ],
            // tcp_proxy's upstream must accept: network RBAC decides on the first bytes, and a
            // refused upstream would close the connection before any arrive.
            "clusters": [static_cluster("sink", p.plain, false), static_cluster("ext_authz", p.dead, true)]
        }
    })
}
