//! Authorization as other meshes write it, through the same RBAC evaluation: Envoy Gateway's
//! matcher-form per-route RBAC (translator goldens), Consul intentions, and Istio 1.1's
//! `ServiceRole` RBAC with Istio authn.

use serde_json::{json, Value};

use super::authz::{json_of, listener_with, tmp};
use super::{envinspect, fixture, root, NOW};

const EG: &str = "envoyproxy-gateway/internal/xds/translator/testdata/out/xds-ir";

/// `v` as an `Any` of message `ty`.
fn typed(v: &Value, ty: &str) -> Value {
    let mut v = v.clone();
    v["@type"] = json!(format!("type.googleapis.com/{ty}"));
    v
}

/// An Envoy Gateway listener and its routes (translator goldens) as one dump.
pub(super) fn eg_dump(case: &str) -> String {
    let dir = root().join("fixtures").join(EG);
    let listeners: Value = serde_norway::from_str(
        &std::fs::read_to_string(dir.join(format!("{case}.listeners.yaml"))).unwrap(),
    )
    .unwrap();
    let routes: Value = serde_norway::from_str(
        &std::fs::read_to_string(dir.join(format!("{case}.routes.yaml"))).unwrap(),
    )
    .unwrap();
    let dump = json!({ "configs": [
        { "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
          "static_listeners": listeners.as_array().unwrap().iter().map(|l| json!({ "listener": typed(l, "envoy.config.listener.v3.Listener") })).collect::<Vec<_>>() },
        { "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
          "static_route_configs": routes.as_array().unwrap().iter().map(|r| json!({ "route_config": typed(r, "envoy.config.route.v3.RouteConfiguration") })).collect::<Vec<_>>() }
    ] });
    tmp(&format!("eg-{case}"), &dump)
}

#[test]
fn envoy_gateway_matcher_form_per_route_rbac() {
    let dump = eg_dump("authorization-client-cidr");
    let v = json_of(&["authz", &dump, "--now", NOW, "-o", "json"]);
    let routes = v["routes"].as_array().unwrap();
    let foo = routes
        .iter()
        .find(|r| r["route"].as_str().unwrap().contains("httproute-1"))
        .unwrap();
    let names: Vec<&str> = foo["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // Envoy reports the Action's own name (`DENY` here), not the matcher entry's: the
    // differential test shows it on a real Envoy.
    assert_eq!(names, ["DENY", "DENY"], "{foo}");
    let entries: Vec<&str> = foo["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["what"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        entries,
        [
            "matcher entry deny-location-1",
            "matcher entry deny-location-2"
        ]
    );
    assert!(
        foo["summary"]
            .as_str()
            .unwrap()
            .contains("otherwise ALLOW (policy ALLOW)"),
        "{foo}"
    );
    // The HCM-level RBAC is empty: only the route's matcher decides.
    let eval = |ip: &str, path: &str| {
        let run = envinspect(&[
            "authz",
            &dump,
            "--port",
            "10080",
            "--plaintext",
            "--host",
            "www.example.com",
            "--path",
            path,
            "--source-ip",
            ip,
            "--now",
            NOW,
            "-o",
            "json",
        ]);
        let v: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
        (
            v["decision"].as_str().unwrap().to_string(),
            v["policy"].clone(),
            run.code,
        )
    };
    assert_eq!(
        eval("192.168.1.7", "/foo"),
        ("deny".into(), json!("DENY"), 1)
    );
    assert_eq!(eval("10.75.2.1", "/foo"), ("deny".into(), json!("DENY"), 1));
    assert_eq!(eval("8.8.8.8", "/foo"), ("allow".into(), Value::Null, 0));
    // /test denies everyone by its on_no_match.
    assert_eq!(eval("8.8.8.8", "/test"), ("deny".into(), json!("DENY"), 1));
}

/// Consul intentions are RBAC with regex principals (`consul-intentions-layer4`): read and
/// evaluated as any other RBAC, on a TCP chain.
#[test]
fn consul_intentions_evaluate_like_any_rbac() {
    let rbac = json!({ "name": "envoy.filters.network.rbac", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC",
        "stat_prefix": "connect_authz",
        "rules": { "action": "DENY", "policies": { "consul-intentions-layer4": {
            "permissions": [{ "any": true }],
            "principals": [{ "authenticated": { "principal_name": { "safe_regex": {
                "regex": "^spiffe://[^/]+/ns/default/dc/[^/]+/svc/web$" } } } }] } } } } });
    let mut dump = listener_with(&rbac);
    dump["configs"][0]["static_listeners"][0]["listener"]["filter_chains"][0]["transport_socket"] = json!({
        "name": "tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "require_client_certificate": true,
            "common_tls_context": { "validation_context": { "trusted_ca": { "inline_string": "" } } } } });
    let path = tmp("consul-intentions", &dump);
    let eval = |svc: &str| {
        let id = format!("spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/{svc}");
        let v = json_of(&[
            "authz",
            &path,
            "--port",
            "8080",
            "--principal",
            &id,
            "--tcp",
            "--now",
            NOW,
            "-o",
            "json",
        ]);
        (
            v["decision"].as_str().unwrap().to_string(),
            v["policy"].clone(),
            v["response"]["details"].clone(),
        )
    };
    assert_eq!(
        eval("web"),
        (
            "deny".into(),
            json!("consul-intentions-layer4"),
            json!("rbac_access_denied_matched_policy[consul-intentions-layer4]")
        )
    );
    assert_eq!(eval("api"), ("allow".into(), Value::Null, Value::Null));
}

/// Istio 1.1: untyped v2 `config` for RBAC, v2 `regex` string matchers, and principals read
/// from the `istio_authn` filter's `source.principal` metadata.
#[test]
fn istio_1_1_rbac_with_istio_authn() {
    let dump = fixture("istio/istioctl/cmd/testdata/authz/productpage_config_dump.json");
    let eval = |id: &str| {
        let v = json_of(&[
            "authz",
            &dump,
            "--port",
            "9080",
            "--principal",
            id,
            "--now",
            NOW,
            "-o",
            "json",
        ]);
        (
            v["decision"].as_str().unwrap().to_string(),
            v["policy"].clone(),
        )
    };
    assert_eq!(
        eval("spiffe://cluster.local/ns/default/sa/reviews"),
        ("allow".into(), Value::Null)
    );
    assert_eq!(
        eval("spiffe://cluster.local/ns/istio-system/sa/ingress"),
        ("allow".into(), Value::Null)
    );
    assert_eq!(
        eval("spiffe://cluster.local/ns/other/sa/x"),
        ("deny".into(), json!("none"))
    );
    let v = json_of(&["authz", &dump, "--port", "9080", "--now", NOW, "-o", "json"]);
    let who = &v["chains"][0]["layers"][0]["policies"][0]["who"];
    assert_eq!(
        who,
        &json!(["peer namespace istio-system", "peer namespace default"]),
        "{v}"
    );
}
