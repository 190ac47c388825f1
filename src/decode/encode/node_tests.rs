//! The walk over a `Node` against the walk over a `Value`: the same bytes, the same issues and
//! the same verdict, on every resource of every config dump among the fixtures and on the cases
//! that leave the fast path.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::super::Encoder;
use crate::decode::schema::Kind;
use crate::decode::{typeurl, Issue, Pool};
use crate::document::json::{parse, parse_node};

/// Walks `raw` as a `type_name` both ways and asserts they agree; returns the issues.
fn both(pool: &Pool, type_name: &str, raw: &str) -> Vec<Issue> {
    let desc = pool.message(type_name).expect("descriptor");
    let mut by_value = Encoder::new(pool, "/r");
    let mut value_bytes = Vec::new();
    let mut value = parse(raw.as_bytes()).expect("json");
    let value_fit = by_value.message(desc, &mut value, &mut value_bytes);
    let mut by_node = Encoder::new(pool, "/r");
    let mut node_bytes = Vec::new();
    let node_fit = by_node.message_node(desc, parse_node(raw).expect("json"), &mut node_bytes);
    let (mut a, mut b) = (by_value.issues, by_node.issues);
    a.sort();
    b.sort();
    assert_eq!(value_fit, node_fit, "{type_name}: {raw}");
    assert_eq!(a, b, "{type_name}: {raw}");
    assert!(
        value_bytes == node_bytes,
        "{type_name}: different bytes for {raw}"
    );
    a
}

#[derive(serde::Deserialize)]
struct Dump<'a> {
    #[serde(borrow)]
    configs: Vec<BTreeMap<&'a str, &'a RawValue>>,
}

fn json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Every resource list and section message of every config dump in `fixtures/`.
#[test]
fn every_fixture_resource_walks_the_same_both_ways() {
    let pool = Pool::load().expect("pool");
    let mut files = Vec::new();
    json_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut files,
    );
    let (mut dumps, mut resources, mut issues) = (0, 0, 0);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let Ok(dump) = serde_json::from_str::<Dump>(&text) else {
            continue;
        };
        dumps += 1;
        for section in dump.configs {
            let Some(url) = section
                .get("@type")
                .and_then(|t| serde_json::from_str::<String>(t.get()).ok())
            else {
                continue;
            };
            let name = typeurl::message_name(&url);
            let Some(desc) = pool.message(typeurl::v3_name(name).unwrap_or(name)) else {
                continue;
            };
            for (key, raw) in section {
                let Some(field) = desc.field(key) else {
                    continue;
                };
                let Kind::Message(i) = field.kind else {
                    continue;
                };
                let item_type = pool.schema.message_at(i).full_name.clone();
                let items: Vec<&RawValue> = if field.list {
                    serde_json::from_str(raw.get()).unwrap_or_default()
                } else {
                    vec![raw]
                };
                for item in items {
                    resources += 1;
                    issues += both(&pool, &item_type, item.get()).len();
                }
            }
        }
    }
    // The fixtures hold dozens of dumps, old (v2-era, with unknown fields and types) and new.
    assert!(dumps >= 20, "{dumps} dumps");
    assert!(resources >= 1000, "{resources} resources");
    assert!(issues >= 100, "{issues} issues");
}

/// What leaves the fast path: upgrades, `@type` on inline messages, unknown and well-known
/// types in `Any`s, `@type` after other keys, a field under both its names, wrong kinds.
#[test]
fn rare_shapes_walk_the_same_both_ways() {
    let pool = Pool::load().expect("pool");
    let listener = "envoy.config.listener.v3.Listener";
    let cluster = "envoy.config.cluster.v3.Cluster";
    let hcm = r#"{"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": "s", "route_config": {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "c", "timeout": "1.5s"}}]}]}, "http_filters": [{"name": "envoy.filters.http.router", "config": {}}, {"name": "x", "typed_config": {"@type": "type.googleapis.com/udpa.type.v1.TypedStruct", "type_url": "type.googleapis.com/a.B", "value": {"k": 1}}}]}"#;
    let cases: Vec<(&str, String)> = vec![
        (listener, format!(r#"{{"name": "l", "filter_chains": [{{"filters": [{{"name": "envoy.filters.network.http_connection_manager", "typed_config": {hcm}}}]}}]}}"#)),
        (listener, r#"{"name": "l", "deprecated_v1": {"bind_to_port": false}, "bogus": [1, {"a": 2}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"name": "snake"}], "filterChains": [{"name": "camel"}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": {"name": "one object"}}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [null, 3, {"name": "ok", "filters": "no"}]}"#.into()),
        (listener, r#"{"name": "l", "address": {"@type": "type.googleapis.com/envoy.config.core.v3.Address", "socket_address": {"address": "1.2.3.4", "port_value": "80"}}}"#.into()),
        (listener, r#"{"name": "l", "address": {"@type": "x.Other", "pipe": {"path": "/p"}}}"#.into()),
        (listener, r#"{"name": "l", "address": "1.2.3.4", "listener_filters": [{"name": "tls", "config": {}}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"filters": [{"name": "f", "typed_config": {"stat_prefix": "late", "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "cluster": "c"}}]}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"filters": [{"name": "f", "typed_config": {"@type": "type.googleapis.com/envoy.config.filter.network.tcp_proxy.v2.TcpProxy", "stat_prefix": "v2", "cluster": "c"}}]}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"filters": [{"name": "f", "typed_config": {}}, {"name": "g", "typed_config": {"@type": 7}}, {"name": "h", "typed_config": {"cluster": "no type"}}]}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"filters": [{"name": "f", "typed_config": {"@type": "type.googleapis.com/google.protobuf.Struct", "value": {"a": [1, "b"]}}}]}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"transport_socket": {"name": "tls", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", "common_tls_context": {"validation_context": {"verify_subject_alt_name": ["spiffe://a/b"]}}}}}]}"#.into()),
        (cluster, r#"{"name": "c", "tls_context": {"sni": "s"}, "connect_timeout": "1s", "type": "EDS", "lb_policy": 3}"#.into()),
        (cluster, r#"{"name": "c", "metadata": {"filter_metadata": {"istio": {"k": [1, null, {"z": true}]}}}, "circuit_breakers": {"thresholds": [{"max_connections": 0, "max_requests": "12"}]}}"#.into()),
        (cluster, r#"{"name": "c", "type": "NOPE", "connect_timeout": 3, "per_connection_buffer_limit_bytes": null, "load_assignment": null, "transport_socket_matches": [{"name": "m", "match": {"tlsMode": "istio"}, "transport_socket": {"name": "t"}}]}"#.into()),
        (cluster, r#"{"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "typed inline"}"#.into()),
        (cluster, r#"{"name": "esc\"aped/~key", "a/b~c": 1}"#.into()),
        (cluster, r#"{"name": "c", "tls_context": {"sni": "s"}, "transportSocket": {"name": "kept"}}"#.into()),
        (listener, r#"{"name": "l", "bind_to_port": true, "deprecated_v1": {"bind_to_port": false}}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"filters": [{"name": "envoy.tcp_proxy", "config": {"stat_prefix": "s", "cluster": "c"}}, {"name": "unknown.filter", "config": {"a": 1}}, {"name": "x", "config": {"a": 1}, "typed_config": {}}]}]}"#.into()),
        ("envoy.config.core.v3.Node", r#"{"id": "n", "build_version": "abc/1.12.0-dev/Clean/RELEASE/BoringSSL", "metadata": {"A": "b"}}"#.into()),
        ("envoy.config.route.v3.RouteConfiguration", r#"{"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [{"match": {"prefix": "/", "headers": [{"name": "h", "string_match": {"regex": "a.*"}}, {"name": "g", "string_match": {"regex": "b", "safe_regex": {"regex": "c"}}}]}, "route": {"cluster": "c"}}]}]}"#.into()),
        ("envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext", r#"{"verify_subject_alt_name": ["a"], "matchSubjectAltNames": [{"prefix": "b"}]}"#.into()),
        (listener, r#"{"name": "l", "filter_chains": [{"filters": [{"name": "a", "typed_config": {"@type": "type.googleapis.com/udpa.type.v1.TypedStruct", "typeUrl": "x.Camel", "value": {"z": 1, "a": [true, 1.5, "é\u0001"]}}}, {"name": "b", "typed_config": {"value": {}, "@type": "type.googleapis.com/xds.type.v3.TypedStruct", "type_url": 3, "typeUrl": "x.Ignored"}}, {"name": "c", "typed_config": {"@type": "type.googleapis.com/envoy.config.filter.http.unknown.v2.Thing", "k": {}}}]}]}"#.into()),
        (cluster, r#"{"name": "", "alt_stat_name": "a", "respect_dns_ttl": false, "ignore_health_on_host_removal": true, "type": "", "lb_policy": "RING_HASH", "dns_lookup_family": 0, "per_connection_buffer_limit_bytes": 0, "connect_timeout": "", "cluster_type": {"name": true}, "metadata": {"filter_metadata": {}}, "protocol_selection": 7, "eds_cluster_config": {"service_name": 5, "eds_config": {"ads": "x"}}}"#.into()),
        ("envoy.config.route.v3.VirtualHost", r#"{"name": "v", "domains": ["", "a", 3, true], "require_tls": "ALL", "include_request_attempt_count": false, "routes": [{"match": {"prefix": ""}, "route": {"cluster": "", "auto_host_rewrite": true}}]}"#.into()),
        (cluster, "[1, 2]".into()),
        (cluster, r#""a string""#.into()),
    ];
    for (type_name, raw) in &cases {
        both(&pool, type_name, raw);
    }
}
