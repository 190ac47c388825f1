//! Envoy's own semantics on dumps from meshes other than Istio (and Istio dumps that do not
//! follow the newest names): identity from the certificates presented, inbound modes from the
//! chains, outbound policy from the catch-all, redacted keys, wrapped dumps. Each case failed
//! before envinspect read these by Envoy's terms.

use serde_json::{json, Value};

use super::rules::{active_secret, b64, load, section};
use super::{envinspect, envinspect_stdin, fixture, NOW, NOW_140};

const CONSUL: &str = "consul-k8s/cli/common/envoy/testdata/test_config_dump.json";
const ISTIO118: &str = "istio/istioctl/pkg/authz/testdata/configdump.yaml";
const EG_TRANSLATE: &str =
    "envoyproxy-gateway/internal/cmd/egctl/testdata/translate/out/jwt-single-route-single-match-to-xds.all.json";
const EG_CONFIG: &str = "envoyproxy-gateway/internal/cmd/egctl/testdata/config/out/out.all.json";
const OSM_CURL: &str = "osm/pkg/cli/verifier/testdata/curl_permissive.json";
const OSM_HTTPBIN: &str = "osm/pkg/cli/verifier/testdata/httpbin1_permissive.json";

fn report(path: &str, now: &str) -> Value {
    let run = envinspect(&[path, "--now", now, "-o", "json"]);
    assert!(run.code < 2, "{path}: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// The report's decoding warnings of severity `error`.
pub(super) fn decode_errors(doc: &Value) -> Vec<&Value> {
    doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["severity"] == "error")
        .collect()
}

fn rules(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_consul_sidecar_is_read_by_what_it_presents() {
    let doc = report(&fixture(CONSUL), "2023-02-01T00:00:00Z");
    // Envoy's literal "[redacted]" keys read without a warning.
    assert_eq!(doc["warnings"], json!([]), "{}", doc["warnings"]);
    let id = &doc["identity"];
    assert_eq!(
        id["spiffe_id"],
        "spiffe://bc3815c2-1a0f-f3ff-a2e9-20d791f08d00.consul/ns/default/dc/dc1/svc/backend"
    );
    assert_eq!(id["basis"], "inbound_server");
    assert_eq!(
        id["server"],
        json!(["listener public_listener:192.168.69.179:20000 chain #0"])
    );
    assert_eq!(id["client"].as_array().unwrap().len(), 2);
    // The stray SDS secret `default` is said to be unreferenced, not taken as the identity.
    let stray = doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["secret"] == "default")
        .unwrap();
    assert_eq!(stray["basis"], "unreferenced");
    assert_eq!(
        stray["spiffe_id"],
        "spiffe://cluster.local/ns/foo/sa/default"
    );
    // The public listener requires client certificates: STRICT on its port.
    assert_eq!(
        doc["inbound"],
        json!([{
            "listener": "public_listener:192.168.69.179:20000",
            "why": "traffic_direction INBOUND",
            "chains": 1,
            "port": 20000,
            "mode": "STRICT",
            "client_cert_required": true,
            "client_cert_verified": true,
            "evidence": ["public_listener:192.168.69.179:20000 chain #0 (TLS, client certificate required)"]
        }])
    );
    // The outbound listener's catch-all reaches the ORIGINAL_DST cluster.
    assert_eq!(doc["outbound"]["mode"], "ALLOW_ANY");
    assert_eq!(
        doc["outbound"]["evidence"],
        json!(["outbound_listener:127.0.0.1:15001 chain #2 (catch-all) → ORIGINAL_DST cluster original-destination"])
    );
    // Findings follow from the true identity: no trust-domain warnings; one finding per expired
    // leaf, not a chain finding as well.
    let found = rules(&doc);
    assert!(
        !found
            .iter()
            .any(|(r, _)| r == "trust-domain-mismatch" || r == "chain-broken"),
        "{found:?}"
    );
    assert_eq!(
        found.iter().filter(|(r, _)| r == "cert-expired").count(),
        4,
        "{found:?}"
    );
    // The agent link (the bootstrap's xDS cluster) is control-plane trust, not a mesh root.
    let roles: Vec<(&str, &str)> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| Some((s["name"].as_str()?, s["trust_role"].as_str()?)))
        .collect();
    assert!(
        roles.contains(&("cluster local_agent (inline CA)", "control_plane")),
        "{roles:?}"
    );
    assert!(
        roles.contains(&(
            "listener public_listener:192.168.69.179:20000 chain #0 (inline CA)",
            "mesh"
        )),
        "{roles:?}"
    );
}

#[test]
fn istio_outbound_loop_guard_on_the_listener_port_is_not_policy() {
    let doc = report(&fixture(ISTIO118), NOW);
    assert_eq!(doc["outbound"]["mode"], "ALLOW_ANY", "{}", doc["outbound"]);
    let evidence = doc["outbound"]["evidence"].to_string();
    assert!(
        evidence.contains("virtualOutbound-blackhole → BlackHoleCluster matches destination port 15001 (the listener's own) only: loop guard"),
        "{evidence}"
    );
}

#[test]
fn osm_sidecars_without_a_catch_all_refuse_unknown_destinations() {
    let curl = report(&fixture(OSM_CURL), "2022-01-01T00:00:00Z");
    assert_eq!(
        curl["outbound"]["mode"], "REGISTRY_ONLY",
        "{}",
        curl["outbound"]
    );
    // OSM names workloads by DNS SANs; the xDS link's certificate is not the workload's.
    assert_eq!(
        curl["identity"]["dns_names"],
        json!(["curl.curl.cluster.local"])
    );
    assert_eq!(curl["identity"]["basis"], "client");
    let httpbin = report(&fixture(OSM_HTTPBIN), "2022-01-01T00:00:00Z");
    let modes: Vec<(&str, u64, &str)> = httpbin["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["listener"].as_str().unwrap(),
                p["port"].as_u64().unwrap(),
                p["mode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(modes, [("inbound-listener", 14001, "STRICT")]);
    assert_eq!(httpbin["identity"]["basis"], "inbound_server");
}

#[test]
fn envoy_redaction_in_every_form_is_not_an_error_and_real_keys_are_flagged() {
    let key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB\n-----END PRIVATE KEY-----\n";
    for (form, private_key, exposed) in [
        (
            "literal bytes",
            json!({"inline_bytes": "[redacted]"}),
            false,
        ),
        (
            "literal string",
            json!({"inline_string": "[redacted]"}),
            false,
        ),
        ("base64", json!({"inline_bytes": b64("[redacted]")}), false),
        ("real key", json!({"inline_string": key}), true),
    ] {
        let mut d = load("envoy-1.40/config_dump.json");
        active_secret(&mut d, "default")["secret"]["tls_certificate"]["private_key"] = private_key;
        let _ = section(&mut d, "SecretsConfigDump");
        let run = envinspect_stdin(
            &["-", "--now", NOW_140, "-o", "json"],
            Some(d.to_string().as_bytes()),
        );
        assert!(run.code < 2, "{form}: {}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let errors = decode_errors(&doc);
        assert!(errors.is_empty(), "{form}: {errors:?}");
        let flagged = rules(&doc)
            .iter()
            .any(|(r, s)| r == "private-key-exposed" && s == "secret default");
        assert_eq!(flagged, exposed, "{form}");
        assert!(
            !run.stdout.contains("MC4CAQAw"),
            "{form}: key material in the output"
        );
    }
}

#[test]
fn wrapped_dumps_read_as_one_proxy_or_as_a_fleet() {
    // egctl x translate: one proxy inside `xds`.
    let doc = report(&fixture(EG_TRANSLATE), NOW);
    assert_eq!(doc["counts"]["listeners"]["active"], 2);
    // egctl config envoy-proxy all: {ns: {pod: dump}}.
    let doc = report(&fixture(EG_CONFIG), NOW);
    assert_eq!(doc["counts"]["clusters"]["active"], 1, "{}", doc["counts"]);

    // Two proxies in one file: single-proxy commands name them; bundle reads both.
    let one: Value =
        serde_json::from_slice(&std::fs::read(super::root().join(fixture(EG_CONFIG))).unwrap())
            .unwrap();
    let dump = one["default"]["eg"].clone();
    let two = json!({"default": {"eg": dump.clone()}, "infra": {"edge-7": dump}});
    let path = super::expect::scratch("two-proxies.json", two.to_string().as_bytes());
    let run = envinspect(&[&path, "--now", NOW]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("holds the dumps of 2 proxies (default/eg, infra/edge-7): run `envinspect bundle` on it"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = envinspect(&["bundle", &path, "--now", NOW, "-o", "json"]);
    assert!(run.code < 2, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let proxies: Vec<&str> = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["proxy"].as_str().unwrap())
        .collect();
    assert_eq!(proxies, ["default/eg", "infra/edge-7"]);
    assert_eq!(doc["proxies"][0]["kind"], "envoy");
}

/// A capture listener that picks chains with `filter_chain_matcher` on the destination port:
/// the inbound modes come from the chains the matcher gives each port.
#[test]
fn inbound_modes_follow_filter_chain_matcher_ports() {
    let action = |n: &str| {
        json!({"action": {"name": n, "typed_config": {
            "@type": "type.googleapis.com/google.protobuf.StringValue", "value": n}}})
    };
    let tls = json!({"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": true,
        "common_tls_context": {"tls_certificate_sds_secret_configs": [{"name": "default"}],
            "validation_context_sds_secret_config": {"name": "ROOTCA"}}}});
    let tcp = |cluster: &str| {
        json!([{"name": "envoy.filters.network.tcp_proxy", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "stat_prefix": cluster, "cluster": cluster}}])
    };
    let listener = json!({
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        "name": "inbound-capture",
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15006}},
        "traffic_direction": "INBOUND",
        "listener_filters": [{"name": "envoy.filters.listener.original_dst", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"}}],
        "filter_chains": [
            {"name": "mtls-8080", "transport_socket": tls, "filters": tcp("app-8080")},
            {"name": "plain", "filters": tcp("app")}
        ],
        "filter_chain_matcher": {
            "matcher_tree": {
                "input": {"name": "port", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput"}},
                "exact_match_map": {"map": {"8080": action("mtls-8080")}}
            },
            "on_no_match": action("plain")
        }
    });
    let dump = json!({"configs": [{
        "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        "static_listeners": [{"listener": listener}]
    }]});
    let run = envinspect_stdin(
        &["-", "--now", NOW, "-o", "json"],
        Some(dump.to_string().as_bytes()),
    );
    assert!(run.code < 2, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let modes: Vec<(Value, &str)> = doc["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["port"].clone(), p["mode"].as_str().unwrap()))
        .collect();
    assert_eq!(modes, [(json!(null), "DISABLE"), (json!(8080), "STRICT")]);
}
