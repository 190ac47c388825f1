//! The encoder's unit tests (beside `encode.rs`, which is long enough without them): every
//! output is compared with prost-reflect's reading of the same JSON.

use super::*;
use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use prost::Message;
use prost_reflect::{DeserializeOptions, DynamicMessage};
use serde_json::json;

fn run<T: Message + prost::Name + Default>(mut v: Value) -> (T, Vec<String>) {
    let pool = Pool::load().unwrap();
    let desc = pool.message(&T::full_name()).unwrap();
    let mut s = Encoder::new(&pool, "/r");
    let mut buf = Vec::new();
    s.message(desc, &mut v, &mut buf).unwrap();
    let t = T::decode(buf.as_slice()).unwrap();
    (t, s.issues.iter().map(|i| i.to_string()).collect())
}

#[test]
fn unknown_fields_enums_and_types_are_named_by_pointer() {
    let (c, issues) = run::<Cluster>(json!({
        "name": "c", "bogus": 1, "type": "NOT_A_TYPE", "connect_timeout": 3,
        "transport_socket": {"name": "x", "typed_config": {"@type": "type.googleapis.com/foo.Bar", "a/b": 1}},
    }));
    assert_eq!(
        issues,
        [
            "warning at /r/bogus: unknown field `bogus` in envoy.config.cluster.v3.Cluster ignored",
            "warning at /r/type: unknown value `NOT_A_TYPE` of enum envoy.config.cluster.v3.Cluster.DiscoveryType ignored",
            "error at /r/connect_timeout: expected a string (google.protobuf.Duration), found a number; value ignored",
            "warning at /r/transport_socket/typed_config: unknown type foo.Bar kept as raw JSON",
        ]
    );
    assert_eq!(c.name, "c");
    assert!(c.connect_timeout.is_none());
    let socket = c.transport_socket.unwrap();
    let typed = match socket.config_type {
        Some(
            envoy_types::pb::envoy::config::core::v3::transport_socket::ConfigType::TypedConfig(a),
        ) => a,
        other => panic!("{other:?}"),
    };
    match super::super::unpack::<super::super::any::Never>(Some(&typed)) {
        super::super::Unpacked::Raw { type_url, raw_json } => {
            assert_eq!(type_url, "type.googleapis.com/foo.Bar");
            assert_eq!(
                raw_json,
                r#"{"@type":"type.googleapis.com/foo.Bar","a/b":1}"#
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn camel_case_and_lists_with_bad_items() {
    let (l, issues) =
        run::<Listener>(json!({"name": "l", "filterChains": [{"name": "a"}, 7, null]}));
    assert_eq!(
        issues,
        [
            "error at /r/filterChains/1: expected an object (envoy.config.listener.v3.FilterChain), found a number; value ignored",
            "error at /r/filterChains/2: null is not allowed in a list; value ignored",
        ]
    );
    assert_eq!(l.filter_chains.len(), 1);
    assert_eq!(l.filter_chains[0].name, "a");
}

/// A malformed duration, time or map key costs its field, not the resource.
#[test]
fn bad_forms_cost_only_their_field() {
    let (c, issues) = run::<Cluster>(json!({
        "name": "c", "connect_timeout": "soon",
        "metadata": {"filter_metadata": {"istio": {"a": 1}}},
        "typed_extension_protocol_options": {"x": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1.5"}},
    }));
    assert_eq!(
        issues,
        [
            "error at /r/connect_timeout: expected a duration such as `1.5s` (google.protobuf.Duration), found `soon`; value ignored",
            "error at /r/typed_extension_protocol_options/x: expected a duration such as `1.5s` (google.protobuf.Duration), found `1.5`; value ignored",
        ]
    );
    assert!(c.connect_timeout.is_none() && c.typed_extension_protocol_options.is_empty());
    assert_eq!(c.metadata.unwrap().filter_metadata["istio"].fields.len(), 1);
}

/// The same clean JSON through prost-reflect's `DynamicMessage` (the route this encoder
/// replaced) gives the same typed message, down to the bytes inside each `Any`: every scalar
/// kind, enums by name and number, 64-bit integers as strings, bytes, maps, oneofs, lists,
/// and the well-known types (Any, Duration, Timestamp, Struct, Value, wrappers, FieldMask).
#[test]
fn same_message_as_prost_reflect() {
    use envoy_types::pb::envoy::admin::v3::{ClustersConfigDump, ConfigDump, ServerInfo};
    let v: Value = serde_json::from_str(
        r#"{"configs": [
        {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "version_info": "7",
         "dynamic_active_clusters": [{"version_info": "v1", "last_updated": "2024-11-01T00:00:00.123Z",
           "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
             "name": "outbound|80||a.b", "type": "EDS", "lb_policy": 3, "connect_timeout": "10.5s",
             "per_connection_buffer_limit_bytes": 32768, "ignore_health_on_host_removal": true,
             "common_lb_config": {"healthy_panic_threshold": {"value": 12.5}},
             "circuit_breakers": {"thresholds": [{"max_connections": 4294967295, "priority": "HIGH"}]},
             "outlier_detection": {"consecutive_5xx": 0, "interval": "-1.000000001s"},
             "metadata": {"filter_metadata": {"istio": {"n": 1.5, "s": "x", "b": false, "z": null, "l": [1, "a", {}], "o": {"k": []}}}},
             "transport_socket": {"name": "tls", "typed_config": {
               "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
               "sni": "a.b", "max_session_keys": 0,
               "common_tls_context": {"alpn_protocols": ["h2", "http/1.1"],
                 "tls_certificates": [{"certificate_chain": {"inline_bytes": "LS0tLQ=="}, "private_key": {"inline_string": ""}}],
                 "combined_validation_context": {"default_validation_context": {
                   "match_subject_alt_names": [{"exact": "spiffe://td/ns/a/sa/b"}, {"prefix": "x", "ignore_case": true}]}}}}},
             "upstream_connection_options": {"tcp_keepalive": {"keepalive_probes": 3}},
             "dns_lookup_family": "V4_ONLY", "max_requests_per_connection": 1,
             "lrs_server": {"self": {}},
             "load_assignment": {"cluster_name": "c", "endpoints": [{"priority": 1, "lb_endpoints": [
               {"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}},
                "load_balancing_weight": 3, "metadata": {"filter_metadata": {}}}]}]}}}]},
        {"@type": "type.googleapis.com/envoy.admin.v3.ServerInfo", "uptime_current_epoch": "123s",
         "command_line_options": {"base_id": "18446744073709551615", "concurrency": 2, "log_level": "info",
           "mode": "Validate", "restart_epoch": 0, "file_flush_interval": "0.010s", "drain_time": "600s",
           "disabled_extensions": []},
         "node": {"id": "n", "user_agent_build_version": {"version": {"major_number": 1, "minor_number": 40}},
           "metadata": {"A": "b"}}}
    ]}"#,
    )
    .unwrap();
    let pool = Pool::load().unwrap();
    let desc = pool.message("envoy.admin.v3.ConfigDump").unwrap();
    let ours: ConfigDump = {
        let mut s = Encoder::new(&pool, "");
        let mut buf = Vec::new();
        s.message(desc, &mut v.clone(), &mut buf).unwrap();
        assert_eq!(s.issues, []);
        ConfigDump::decode(buf.as_slice()).unwrap()
    };
    let reflect = super::super::pool::descriptors()
        .get_message_by_name("envoy.admin.v3.ConfigDump")
        .unwrap();
    let theirs: ConfigDump =
        DynamicMessage::deserialize_with_options(reflect, &v, &DeserializeOptions::new())
            .unwrap()
            .transcode_to()
            .unwrap();
    // Map entries come out of prost-reflect in hash order, so the Anys that hold a map are
    // compared once decoded (maps compare as maps); all the others byte for byte.
    type Opened = (ClustersConfigDump, Cluster, ServerInfo);
    fn open(d: &ConfigDump) -> Opened {
        let mut clusters = ClustersConfigDump::decode(d.configs[0].value.as_slice()).unwrap();
        let any = clusters.dynamic_active_clusters[0].cluster.take().unwrap();
        let cluster = Cluster::decode(any.value.as_slice()).unwrap();
        let info = ServerInfo::decode(d.configs[1].value.as_slice()).unwrap();
        (clusters, cluster, info)
    }
    let (a, b) = (open(&ours), open(&theirs));
    assert!(a.1.metadata.is_some() && a.1.transport_socket.is_some());
    assert_eq!(a, b);
}

#[test]
fn pointer_escaping() {
    let mut s = String::new();
    push_escaped(&mut s, "a/b~c");
    assert_eq!(s, "a~1b~0c");
}
