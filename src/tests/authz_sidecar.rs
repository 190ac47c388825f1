//! `authz` and `trace --inbound` on sidecars, beyond the reference answers of `authz.rs`: the
//! authorization step of a trace, ports the pod's redirection leaves alone, what the view's JSON
//! carries, filters envinspect does not evaluate (Cilium, Lua, Wasm), and kubelet's probes.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::authz::{json_of, AUTHZ_118};
use super::{envinspect, fixture, settings, NOW, NOW_140};

/// `trace --inbound` takes the same request options and ends with the authorization step.
#[test]
fn trace_inbound_shows_the_authorization() {
    let a118 = fixture(AUTHZ_118);
    let args = [
        "trace",
        &a118,
        "--inbound",
        "80",
        "--principal",
        "spiffe://cluster.local/ns/default/sa/sleep",
        "--path",
        "/info",
        "--now",
        NOW,
    ];
    let run = envinspect(&args);
    run.assert_ok("trace --inbound with a request");
    settings()
        .bind(|| insta::assert_snapshot!("trace__istio118_inbound_authz", run.transcript(&args)));
    let mut json = args.to_vec();
    json.extend(["-o", "json"]);
    let v = json_of(&json);
    assert_eq!(v["authorization"]["decision"], "deny");
    assert_eq!(v["authorization"]["policy"], "none");
    let run = envinspect(&[
        "trace",
        &a118,
        "www.google.com:443",
        "--plaintext",
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("--inbound"), "{}", run.stderr);
}

/// A port the pod's redirection leaves alone never meets the sidecar: a plaintext client reaches
/// the application (allowed, by no policy of the proxy), what a TLS client meets is the
/// application's to say, and `trace --inbound` advises the annotation that excluded it.
#[test]
fn a_port_excluded_from_interception_is_not_the_sidecars_to_decide() {
    let mut d = super::rules::load(
        "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
    );
    // Istio 1.3 keeps the pod's annotations at the top of the node metadata.
    d["configs"][0]["bootstrap"]["node"]["metadata"]
        ["traffic.sidecar.istio.io/excludeInboundPorts"] = json!("15020,9080");
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("excluded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("excluded.json");
    std::fs::write(&path, d.to_string()).unwrap();
    let p = path.to_str().unwrap();
    let json = |args: &[&str]| -> Value {
        let run = envinspect(args);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let e = json(&[
        "authz",
        p,
        "--port",
        "9080",
        "--plaintext",
        "-o",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(e["decision"], "allow", "{e}");
    let reason = e["reason"].as_str().unwrap();
    assert!(
        reason.contains("excludeInboundPorts") && reason.contains("straight to the application"),
        "{reason}"
    );
    let e = json(&[
        "authz",
        p,
        "--port",
        "9080",
        "--principal",
        "spiffe://cluster.local/ns/default/sa/bookinfo-reviews",
        "-o",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(e["decision"], "unknown", "{e}");
    assert!(e["reason"]
        .as_str()
        .unwrap()
        .contains("receives the client's TLS handshake"));
    let t = json(&[
        "trace",
        p,
        "--inbound",
        "9080",
        "--plaintext",
        "-o",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(t["outcome"]["kind"], "not-captured");
    let advice = t["outcome"]["advice"].as_str().unwrap();
    assert!(
        advice.ends_with("remove 9080 from traffic.sidecar.istio.io/excludeInboundPorts"),
        "{advice}"
    );
    assert_eq!(
        t["authorization"]["decision"], "allow",
        "{}",
        t["authorization"]
    );
}

/// The authz view's JSON carries what its table says: each policy's action as the mesh wrote it
/// beside Envoy's (CUSTOM compiles to a shadow DENY), and each JWT provider field by field.
#[test]
fn the_authz_json_carries_mesh_actions_and_jwt_providers() {
    let run = envinspect(&[
        "authz",
        "fixtures/envoy-1.40-authz/config_dump.json",
        "-o",
        "json",
        "--now",
        NOW_140,
    ]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let layers: Vec<&Value> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["layers"].as_array().unwrap())
        .collect();
    let policy = |name: &str| {
        layers
            .iter()
            .flat_map(|l| l["policies"].as_array().unwrap())
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no policy {name}"))
    };
    let custom = policy("istio-ext-authz-ns[default]-policy[custom]-rule[0]");
    assert_eq!(
        (custom["action"].as_str(), custom["mesh_action"].as_str()),
        (Some("DENY"), Some("CUSTOM"))
    );
    let allow = policy("ns[default]-policy[allow-jwt]-rule[0]");
    assert_eq!(allow["mesh_action"], "ALLOW");
    let provider = layers
        .iter()
        .flat_map(|l| l["providers"].as_array().into_iter().flatten())
        .find(|p| p["name"] == "origins-0")
        .expect("the jwt_authn layer lists its providers");
    assert_eq!(provider["issuer"], "https://issuer.test");
    assert_eq!(provider["audiences"], json!(["api"]));
    assert_eq!(provider["forward"], true);
    assert_eq!(provider["jwks"]["kind"], "inline");
    assert_eq!(provider["payload_in_metadata"], "payload");
    for field in [
        "from_headers",
        "from_params",
        "from_cookies",
        "claim_to_headers",
    ] {
        assert!(provider[field].is_array(), "{field}");
    }
}

/// Filters that may refuse and that envinspect does not evaluate make an allow "cannot tell":
/// Cilium's policy filters, a Lua script that can `respond`, a Wasm module from a file. A Lua
/// script that never responds cannot refuse, and a later RBAC refusal stands.
#[test]
fn filters_that_may_deny_make_the_answer_cannot_tell() {
    let router = json!({"name": "envoy.filters.http.router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}});
    let listener = |port: u16, network: Vec<Value>, http: Vec<Value>| {
        let mut filters = network;
        let mut http = http;
        http.push(router.clone());
        filters.push(json!({"name": "envoy.filters.network.http_connection_manager", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "p", "http_filters": http,
            "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "direct_response": {"status": 200}}]}]}}}));
        json!({"name": format!("l{port}"), "address": {"socket_address": {"address": "0.0.0.0", "port_value": port}},
               "filter_chains": [{"filters": filters}]})
    };
    let lua = |code: &str| json!({"name": "envoy.filters.http.lua", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua", "inline_code": code}});
    let deny_all = json!({"name": "envoy.filters.http.rbac", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC", "rules": {"action": "ALLOW", "policies": {}}}});
    let listeners = vec![
        // Cilium: a network and an HTTP policy filter.
        listener(
            8001,
            vec![json!({"name": "cilium.network", "typed_config": {"@type": "type.googleapis.com/cilium.NetworkFilter"}})],
            vec![json!({"name": "cilium.l7policy", "typed_config": {"@type": "type.googleapis.com/cilium.L7Policy", "access_log_path": "/var/run/cilium/access_log.sock"}})],
        ),
        listener(8002, vec![], vec![lua("function envoy_on_request(h) if h:headers():get('x-no') then h:respond({[':status'] = '403'}, 'no') end end")]),
        listener(8003, vec![], vec![lua("function envoy_on_request(h) h:headers():add('x-seen', '1') end")]),
        listener(8004, vec![], vec![json!({"name": "envoy.filters.http.wasm", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {"vm_config": {"runtime": "envoy.wasm.runtime.v8", "code": {"local": {"filename": "/etc/plugin.wasm"}}}}}})]),
        // A script that may respond, then an RBAC filter that refuses everything.
        listener(8005, vec![], vec![lua("function envoy_on_request(h) h:respond({[':status'] = '418'}, '') end"), deny_all]),
    ];
    let dump = json!({"configs": [
        {"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump", "bootstrap": {"node": {"id": "edge", "cluster": "edge"}}},
        {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "static_listeners": listeners.into_iter().map(|l| json!({"listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": l["name"], "address": l["address"], "filter_chains": l["filter_chains"]}})).collect::<Vec<_>>()},
    ]});
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("maydeny-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.json");
    std::fs::write(&path, dump.to_string()).unwrap();
    let p = path.to_str().unwrap();
    let decide = |port: &str| -> Value {
        let run = envinspect(&[
            "authz",
            p,
            "--port",
            port,
            "--plaintext",
            "-o",
            "json",
            "--now",
            NOW,
        ]);
        assert!(run.code == 0 || run.code == 1, "{port}: {}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let e = decide("8001");
    assert_eq!(e["decision"], "unknown", "{e}");
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("cilium.network (cilium.NetworkFilter"),
        "{}",
        e["reason"]
    );
    let e = decide("8002");
    assert_eq!(e["decision"], "unknown", "{e}");
    assert!(e["reason"].as_str().unwrap().contains("runs a Lua program"));
    assert_eq!(decide("8003")["decision"], "allow");
    let e = decide("8004");
    assert_eq!(e["decision"], "unknown", "{e}");
    let e = decide("8005");
    assert_eq!(e["decision"], "deny", "{e}");
    assert!(
        e["assumptions"].to_string().contains("may refuse first"),
        "{}",
        e["assumptions"]
    );
}

/// Kubelet's probes on an Istio sidecar: rewritten by default to the agent's status port,
/// which the pod excludes from redirection, so no RBAC or mTLS of the proxy sees them; a pod
/// that opts out (`sidecar.istio.io/rewriteAppHTTPProbers: "false"`) is probed in plaintext
/// from the node, as any plaintext caller; a status port that is redirected is said to be.
#[test]
fn kubelet_probes_are_said_to_bypass_the_proxy_or_not() {
    let base = super::rules::load(
        "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
    );
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("probes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let view = |name: &str, d: &Value| -> (String, Value) {
        let path = dir.join(name);
        std::fs::write(&path, d.to_string()).unwrap();
        let p = path.to_str().unwrap();
        let table = envinspect(&["authz", p]);
        table.assert_ok(name);
        let json = envinspect(&["authz", p, "-o", "json"]);
        json.assert_ok(name);
        (
            table.stdout,
            serde_json::from_str::<Value>(&json.stdout).unwrap()["kubelet_probes"].clone(),
        )
    };
    let (table, probes) = view("default.json", &base);
    assert!(
        table.contains("Kubelet probes: rewritten to the agent's port 15020, which is not redirected to the proxy"),
        "{table}"
    );
    assert_eq!(probes["kind"], "rewritten");
    assert_eq!(probes["status_port"], 15020);
    assert_eq!(probes["status_port_captured"], false);

    let mut opted_out = base.clone();
    opted_out["configs"][0]["bootstrap"]["node"]["metadata"]
        ["sidecar.istio.io/rewriteAppHTTPProbers"] = json!("false");
    let (table, probes) = view("opted-out.json", &opted_out);
    assert_eq!(probes["kind"], "not_rewritten");
    assert!(table.contains("STRICT refuses it"), "{table}");

    // The status port moved to one the pod redirects: probes then meet an inbound chain.
    let mut moved = base.clone();
    moved["configs"][0]["bootstrap"]["node"]["metadata"]["status.sidecar.istio.io/port"] =
        json!("9080");
    let (_, probes) = view("moved.json", &moved);
    assert_eq!(probes["status_port"], 9080);
    assert_eq!(probes["status_port_captured"], true);

    // A proxy without the pod's annotations (plain Envoy) says nothing of probes.
    let (table, probes) = view(
        "plain.json",
        &super::rules::load("envoy-1.40-authz/config_dump.json"),
    );
    assert!(probes.is_null());
    assert!(!table.contains("Kubelet"));
}
