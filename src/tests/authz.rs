//! `authz` against reference answers: istiod's builder goldens (each generated filter names the
//! AuthorizationPolicies of its `-in.yaml`), istioctl's `x authz check` golden, Envoy Gateway's
//! matcher-form per-route RBAC; snapshots of the view and of evaluations on real fixtures.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::authz_meshes::eg_dump;
use super::{envinspect, fixture, root, settings, NOW, NOW_140};

const AUTHZ_140: &str = "envoy-1.40-authz/config_dump.json";
const AUTHZ_118: &str = "istio/istioctl/pkg/authz/testdata/configdump.yaml";
const BUILDER: &str = "istio/pilot/pkg/security/authz/builder/testdata";

pub(super) fn tmp(name: &str, v: &Value) -> String {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("authz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.json"));
    std::fs::write(&p, v.to_string()).unwrap();
    p.display().to_string()
}

fn yaml_docs(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("\n---")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_norway::from_str(d).unwrap())
        .collect()
}

pub(super) fn json_of(args: &[&str]) -> Value {
    let run = envinspect(args);
    run.assert_ok(&args.join(" "));
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// A listener dump around one generated filter: in an HCM for HTTP filters, before tcp_proxy
/// for network ones.
pub(super) fn listener_with(filter: &Value) -> Value {
    let network = filter["name"]
        .as_str()
        .unwrap()
        .starts_with("envoy.filters.network.");
    let filters = if network {
        json!([filter, { "name": "envoy.filters.network.tcp_proxy", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "stat_prefix": "tcp", "cluster": "backend" } }])
    } else {
        json!([{ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "in", "route_config": { "name": "r" },
            "http_filters": [filter, { "name": "envoy.filters.http.router", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }] } }])
    };
    json!({ "configs": [{ "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        "static_listeners": [{ "listener": { "@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "inbound", "address": { "socket_address": { "address": "0.0.0.0", "port_value": 8080 } },
            "filter_chains": [{ "filters": filters }] } }] }] })
}

#[test]
fn istiod_builder_goldens_name_their_authorization_policies() {
    let mut checked = 0;
    for kind in ["http", "tcp"] {
        let dir = root().join("fixtures").join(BUILDER).join(kind);
        let mut outs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        outs.sort();
        for out in outs {
            let name = out.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.split("-out").next().filter(|_| name.contains("-out")) else {
                continue;
            };
            let input = dir.join(format!("{stem}-in.yaml"));
            if !input.exists() {
                continue;
            }
            // The AuthorizationPolicies: name.namespace → (action, rule count, dry-run).
            let aps: Vec<(String, String, usize, bool)> = yaml_docs(&input)
                .iter()
                .map(|ap| {
                    let m = &ap["metadata"];
                    let action = ap["spec"]["action"].as_str().unwrap_or("ALLOW").to_string();
                    let rules = ap["spec"]["rules"].as_array().map_or(0, |r| r.len());
                    let dry = m["annotations"]["istio.io/dry-run"] == "true";
                    (
                        format!(
                            "{}.{}",
                            m["name"].as_str().unwrap(),
                            m["namespace"].as_str().unwrap()
                        ),
                        action,
                        rules,
                        dry,
                    )
                })
                .collect();
            let filter: Value = yaml_docs(&out).remove(0);
            let path = tmp(&format!("{kind}-{name}"), &listener_with(&filter));
            let v = json_of(&["authz", &path, "--now", NOW, "-o", "json"]);
            let layers = v["chains"][0]["layers"].as_array().unwrap();
            assert_eq!(layers.len(), 1, "{name}: {v}");
            let layer = &layers[0];
            let expected_kind = if filter["name"].as_str().unwrap().contains("ext_authz") {
                "ext_authz"
            } else {
                "rbac"
            };
            assert_eq!(layer["kind"], expected_kind, "{name}");
            for p in layer["policies"].as_array().unwrap() {
                let ap = p["authorization_policy"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: {p} names no AuthorizationPolicy"));
                let (_, action, rules, dry) = aps
                    .iter()
                    .find(|a| a.0 == ap)
                    .unwrap_or_else(|| panic!("{name}: {ap} is not in {}", input.display()));
                // Istio turns a CUSTOM policy with a bad provider into an enforced DENY.
                let action = if p["name"]
                    .as_str()
                    .unwrap()
                    .ends_with("-deny-due-to-bad-CUSTOM-action")
                {
                    "DENY"
                } else {
                    action.as_str()
                };
                let ours = match (p["action"].as_str().unwrap(), p["shadow"].as_str()) {
                    (_, Some("custom_selector")) => "CUSTOM",
                    ("LOG", _) => "AUDIT",
                    (a, _) => a,
                };
                assert_eq!(ours, action, "{name}: {p}");
                assert_eq!(p["shadow"] == "dry_run", *dry, "{name}: dry-run of {p}");
                assert_eq!(p["enforced"], !dry && ours != "CUSTOM", "{name}: {p}");
                let rule = p["rule"].as_u64().unwrap() as usize;
                assert!(
                    rule < (*rules).max(1),
                    "{name}: rule {rule} of {ap} which has {rules}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} builder goldens checked");
}

/// istioctl's `x authz check` golden for this dump: `ALLOW httpbin.default 1`, `CUSTOM
/// ext-authz.default 1`. Its `ALLOW _anonymous_match_nothing_ 1` row is istioctl reading the
/// TCP chains' empty network RBAC as a policy; envinspect shows that filter as "denies every
/// request" with the authz-tcp-dropped-http-rule finding (docs/istioctl-differences.md).
#[test]
fn istioctl_authz_check_golden() {
    let v = json_of(&["authz", &fixture(AUTHZ_118), "--now", NOW, "-o", "json"]);
    let mut rows = BTreeSet::new();
    let mut empty_network_allow = 0;
    for c in v["chains"].as_array().unwrap() {
        for l in c["layers"].as_array().unwrap() {
            if l["level"] == "network"
                && l["action"] == "ALLOW"
                && l["policies"].as_array().unwrap().is_empty()
            {
                empty_network_allow += 1;
            }
            for p in l["policies"].as_array().unwrap() {
                let action = if p["shadow"] == "custom_selector" {
                    "CUSTOM".to_string()
                } else {
                    p["action"].as_str().unwrap().to_string()
                };
                rows.insert((
                    action,
                    p["authorization_policy"].as_str().unwrap().to_string(),
                    p["rule"].as_u64().unwrap() + 1,
                ));
            }
        }
    }
    let want: BTreeSet<(String, String, u64)> = [
        ("ALLOW", "httpbin.default", 1),
        ("CUSTOM", "ext-authz.default", 1),
    ]
    .into_iter()
    .map(|(a, p, n)| (a.to_string(), p.to_string(), n))
    .collect();
    assert_eq!(rows, want);
    assert!(
        empty_network_allow > 0,
        "the TCP chains' empty network RBAC is shown"
    );
    let report = json_of(&[&fixture(AUTHZ_118), "--now", NOW, "-o", "json"]);
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "authz-tcp-dropped-http-rule"));
}

#[test]
fn views_and_evaluations_are_snapshotted() {
    let a140 = fixture(AUTHZ_140);
    let a118 = fixture(AUTHZ_118);
    let eg = eg_dump("authorization-client-cidr");
    let admin = "spiffe://cluster.local/ns/default/sa/admin";
    let banned = "spiffe://cluster.local/ns/default/sa/banned";
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "authz__envoy140_authz__table",
            vec!["authz", &a140, "--now", NOW_140],
        ),
        (
            "authz__envoy140_authz__json",
            vec!["authz", &a140, "--now", NOW_140, "-o", "json"],
        ),
        ("authz__istio118__table", vec!["authz", &a118, "--now", NOW]),
        (
            "authz__istio118_port80__json",
            vec!["authz", &a118, "--port", "80", "--now", NOW, "-o", "json"],
        ),
        (
            "authz__eg_client_cidr__table",
            vec!["authz", &eg, "--now", NOW],
        ),
        (
            "authz_eval__envoy140_deny__table",
            vec![
                "authz",
                &a140,
                "--port",
                "15443",
                "--principal",
                banned,
                "--path",
                "/public/x",
                "--host",
                "test",
                "--now",
                NOW_140,
            ],
        ),
        (
            "authz_eval__envoy140_deny__json",
            vec![
                "authz",
                &a140,
                "--port",
                "15443",
                "--principal",
                banned,
                "--path",
                "/public/x",
                "--host",
                "test",
                "--now",
                NOW_140,
                "-o",
                "json",
            ],
        ),
        (
            "authz_eval__envoy140_jwt_missing__table",
            vec![
                "authz",
                &a140,
                "--port",
                "15080",
                "--plaintext",
                "--method",
                "POST",
                "--path",
                "/jwt-required/x",
                "--host",
                "test",
                "--now",
                NOW_140,
            ],
        ),
        (
            "authz_eval__envoy140_request_principal__table",
            vec![
                "authz",
                &a140,
                "--port",
                "15080",
                "--plaintext",
                "--method",
                "POST",
                "--path",
                "/jwt/x",
                "--request-principal",
                "https://issuer.test/alice",
                "--host",
                "test",
                "--now",
                NOW_140,
            ],
        ),
        (
            "authz_eval__envoy140_allow__table",
            vec![
                "authz",
                &a140,
                "--port",
                "15443",
                "--principal",
                admin,
                "--path",
                "/admin/x",
                "--host",
                "test",
                "--now",
                NOW_140,
            ],
        ),
        (
            "authz_eval__envoy140_custom__table",
            vec![
                "authz",
                &a140,
                "--port",
                "15443",
                "--principal",
                admin,
                "--path",
                "/custom",
                "--host",
                "test",
                "--now",
                NOW_140,
            ],
        ),
        (
            "authz_eval__istio118_plaintext__table",
            vec!["authz", &a118, "--port", "80", "--plaintext", "--now", NOW],
        ),
        (
            "authz_eval__envoy140_tcp__json",
            vec![
                "authz",
                &a140,
                "--port",
                "15444",
                "--principal",
                banned,
                "--tcp",
                "--now",
                NOW_140,
                "-o",
                "json",
            ],
        ),
    ];
    for (name, args) in cases {
        let run = envinspect(&args);
        assert!(run.code == 0 || run.code == 1, "{name}: {}", run.stderr);
        let mut s = settings();
        // The Envoy Gateway dump is assembled under target/tmp with the process id in its path.
        s.add_filter(r"\S*/authz-\d+/", "[TMP]/");
        s.bind(|| insta::assert_snapshot!(name, run.transcript(&args)));
    }
}

#[test]
fn bad_authz_requests_are_one_line_errors() {
    let a140 = fixture(AUTHZ_140);
    for (args, says) in [
        (
            vec!["authz", a140.as_str(), "--principal", "spiffe://x/y"],
            "--port",
        ),
        (
            vec![
                "authz",
                a140.as_str(),
                "--port",
                "15443",
                "--plaintext",
                "--header",
                "nocolon",
            ],
            "name: value",
        ),
        (
            vec![
                "authz",
                a140.as_str(),
                "--port",
                "15443",
                "--plaintext",
                "--request-principal",
                "nosubject",
            ],
            "ISSUER/SUBJECT",
        ),
        (vec!["authz", a140.as_str(), "--path", "/x"], "--principal"),
    ] {
        let run = envinspect(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
}

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
