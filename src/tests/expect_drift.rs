//! Drift, case by case: expectations written from a real fixture, then one mutation at a time
//! (of the expectations or of the dump, including the `authz` section on the Envoy 1.40
//! authorization capture) must fail exactly its own rule, with `check` exiting 1.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::expect::{expectations, scratch, ENVOY140, PRODUCTPAGE};
use super::{envinspect, fixture, root, NOW, NOW_140};

/// The rules of the failing results of `check -o json`, asserting exit 1 when any.
fn failing_rules(dump: &str, e: &Value, now: &str) -> BTreeSet<String> {
    let file = scratch(
        &format!("e-{}.json", rand_name(e)),
        e.to_string().as_bytes(),
    );
    let run = envinspect(&["check", dump, "--expect", &file, "--now", now, "-o", "json"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.stderr));
    let rules: BTreeSet<String> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        run.code,
        if rules.is_empty() { 0 } else { 1 },
        "{}",
        run.stderr
    );
    rules
}

/// A file name from the content, so parallel mutations never share a file.
pub(super) fn rand_name(v: &Value) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.to_string().hash(&mut h);
    format!("{:016x}", h.finish())
}

fn item<'a>(e: &'a mut Value, name: &str) -> &'a mut Value {
    e["clusters"]["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item {name}"))
}

fn set(rules: &[&str]) -> BTreeSet<String> {
    rules.iter().map(|r| r.to_string()).collect()
}

#[test]
fn each_mutation_of_the_expectations_is_drift_with_its_rule() {
    let dump = fixture(ENVOY140);
    let base = expectations(ENVOY140);
    assert_eq!(failing_rules(&dump, &base, NOW_140), set(&[]));
    let foo = "outbound|443||foo.default.svc.cluster.local";
    let plain = "outbound|8080||plain.default.svc.cluster.local";
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation, &[&str])> = vec![
        (
            "identity",
            Box::new(|e| {
                e["identity"]["spiffe_id"] = json!("spiffe://cluster.local/ns/default/sa/bar")
            }),
            &["drift-identity"],
        ),
        (
            "trust domain",
            Box::new(|e| e["identity"]["trust_domain"] = json!("east.local")),
            &["drift-trust-domain"],
        ),
        (
            "root",
            Box::new(|e| e["roots"]["sha256"][0] = json!("00".repeat(32))),
            &["drift-root-missing", "drift-root-extra"],
        ),
        (
            "root extra allowed",
            Box::new(|e| {
                e["roots"]["sha256"][0] = json!("00".repeat(32));
                e["roots"]["allow_extra"] = json!(true)
            }),
            &["drift-root-missing"],
        ),
        (
            "SAN accept",
            Box::new(move |e| {
                item(e, foo)["accept"] = json!(["spiffe://cluster.local/ns/default/sa/evil"])
            }),
            &["drift-peer-not-accepted"],
        ),
        (
            "SAN reject",
            Box::new(move |e| {
                item(e, foo)["reject"] = json!(["spiffe://cluster.local/ns/default/sa/foo"])
            }),
            &["drift-peer-not-rejected"],
        ),
        (
            "SAN on plaintext",
            Box::new(move |e| {
                item(e, plain)["accept"] = json!(["spiffe://cluster.local/ns/default/sa/foo"])
            }),
            &["drift-peer-not-accepted"],
        ),
        (
            "TLS kind",
            Box::new(move |e| item(e, plain)["tls"] = json!("istio-mtls")),
            &["drift-tls-kind"],
        ),
        (
            "SNI",
            Box::new(move |e| item(e, foo)["sni"] = json!("foo.example.com")),
            &["drift-sni"],
        ),
        (
            "ALPN",
            Box::new(move |e| item(e, foo)["alpn"] = json!(["h2"])),
            &["drift-alpn"],
        ),
        (
            "missing cluster",
            Box::new(|e| {
                e["clusters"]["items"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"fqdn": "reviews", "port": 9080}))
            }),
            &["drift-cluster-missing"],
        ),
        (
            "extra cluster",
            Box::new(|e| {
                e["clusters"]["allow_extra"] = json!(false);
                e["clusters"]["items"].as_array_mut().unwrap().pop();
            }),
            &["drift-cluster-extra"],
        ),
        (
            "expiry",
            Box::new(|e| e["certificates"]["min_time_left"] = json!("30d")),
            &["drift-cert-time-left"],
        ),
        (
            "lifetime",
            Box::new(|e| e["certificates"]["max_lifetime"] = json!("1d")),
            &["drift-cert-lifetime"],
        ),
        (
            "missing secret",
            Box::new(|e| {
                e["secrets"]["active"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("kubernetes://gw-cred"))
            }),
            &["drift-secret-not-active"],
        ),
        (
            "extra secret",
            Box::new(|e| {
                e["secrets"]["allow_extra"] = json!(false);
                e["secrets"]["active"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|s| s != "server_cert");
            }),
            &["drift-secret-extra"],
        ),
    ];
    for (what, mutate, want) in cases {
        let mut e = base.clone();
        mutate(&mut e);
        assert_eq!(failing_rules(&dump, &e, NOW_140), set(want), "{what}");
    }
    // Roots as in a PEM file beside the expectations: the capture's CA holds, another does not.
    let ours = std::fs::read(root().join(fixture("envoy-1.40/certs/ca.pem"))).unwrap();
    scratch("ours.pem", &ours);
    scratch(
        "other.pem",
        super::pki::ca((2026, 1, 1), (2036, 1, 1)).pem.as_bytes(),
    );
    for (file, want) in [
        ("ours.pem", &[][..]),
        ("other.pem", &["drift-root-missing", "drift-root-extra"][..]),
    ] {
        let mut e = base.clone();
        e["roots"] = json!({"allow_extra": false, "same_as": [file]});
        assert_eq!(
            failing_rules(&dump, &e, NOW_140),
            set(want),
            "same_as {file}"
        );
    }
    // Policy and port modes, on a sidecar that has them.
    let dump = fixture(PRODUCTPAGE);
    let base = expectations(PRODUCTPAGE);
    assert_eq!(base["inbound"]["ports"]["9080"], "STRICT");
    let cases: Vec<(&str, Mutation, &[&str])> = vec![
        (
            "policy",
            Box::new(|e| e["outbound"]["policy"] = json!("REGISTRY_ONLY")),
            &["drift-outbound-policy"],
        ),
        (
            "port mode",
            Box::new(|e| e["inbound"]["ports"]["9080"] = json!("PERMISSIVE")),
            &["drift-inbound-mode"],
        ),
        (
            "extra port",
            Box::new(|e| {
                e["inbound"]["ports"]
                    .as_object_mut()
                    .unwrap()
                    .remove("15020");
            }),
            &["drift-inbound-extra"],
        ),
    ];
    for (what, mutate, want) in cases {
        let mut e = base.clone();
        mutate(&mut e);
        assert_eq!(failing_rules(&dump, &e, NOW), set(want), "{what}");
    }
}

/// The index of the dump's section of this type.
fn section(d: &Value, ty: &str) -> usize {
    d["configs"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["@type"].as_str().unwrap().ends_with(ty))
        .unwrap()
}

/// The Envoy 1.40 capture's `foo` cluster, to edit.
fn foo_cluster(d: &mut Value) -> &mut Value {
    let i = section(d, "ClustersConfigDump");
    d["configs"][i]["static_clusters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["cluster"]["name"] == "outbound|443||foo.default.svc.cluster.local")
        .unwrap()
}

#[test]
fn each_mutation_of_the_dump_is_drift_with_its_rule() {
    let base = expectations(ENVOY140);
    let original: Value =
        serde_json::from_slice(&std::fs::read(root().join(fixture(ENVOY140))).unwrap()).unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation, &[&str])> = vec![
        (
            "SNI changed",
            Box::new(move |d| {
                let c = foo_cluster(d);
                c["cluster"]["transport_socket"]["typed_config"]["sni"] =
                    json!("foo.attacker.example");
            }),
            &["drift-sni"],
        ),
        (
            "SAN matcher changed",
            Box::new(move |d| {
                let c = foo_cluster(d);
                c["cluster"]["transport_socket"]["typed_config"]["common_tls_context"]
                    ["combined_validation_context"]["default_validation_context"]
                    ["match_typed_subject_alt_names"][0]["matcher"]["exact"] =
                    json!("spiffe://cluster.local/ns/default/sa/other");
            }),
            &["drift-peer-not-accepted"],
        ),
        (
            "TLS removed",
            Box::new(move |d| {
                let c = foo_cluster(d);
                c["cluster"]
                    .as_object_mut()
                    .unwrap()
                    .remove("transport_socket");
            }),
            &[
                "drift-tls-kind",
                "drift-sni",
                "drift-alpn",
                "drift-peer-not-accepted",
            ],
        ),
        (
            "workload secret gone",
            Box::new(move |d| {
                let i = section(d, "SecretsConfigDump");
                d["configs"][i]["dynamic_active_secrets"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|s| s["name"] != "default");
            }),
            &["drift-identity", "drift-secret-not-active"],
        ),
    ];
    for (what, mutate, want) in cases {
        let mut d = original.clone();
        mutate(&mut d);
        let dump = scratch(
            &format!("dump-{}.json", rand_name(&d)),
            d.to_string().as_bytes(),
        );
        assert_eq!(failing_rules(&dump, &base, NOW_140), set(want), "{what}");
    }
}

/// The `authz` section on the authorization capture of a real Envoy 1.40: each mutation of the
/// expectations, and one of the dump, is drift with its own rule.
#[test]
fn authz_expectations_drift_with_their_rules() {
    let path = "envoy-1.40-authz/config_dump.json";
    let dump = fixture(path);
    let base = expectations(path);
    assert_eq!(failing_rules(&dump, &base, NOW_140), set(&[]));
    let port = "authz_mtls/15443";
    let banned = "ns[default]-policy[deny-banned]-rule[0]";
    let dry = "ns[default]-policy[dry-deny-reader]-rule[0]";
    assert_eq!(base["authz"]["ports"][port][dry]["dry_run"], true);
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation, &[&str])> = vec![
        (
            "expected policy absent",
            Box::new(move |e| {
                e["authz"]["ports"][port]["ns[default]-policy[gone]-rule[0]"] =
                    json!({"action": "DENY"})
            }),
            &["drift-authz-policy-missing"],
        ),
        (
            "policy not listed",
            Box::new(move |e| {
                e["authz"]["ports"][port]
                    .as_object_mut()
                    .unwrap()
                    .remove(banned);
            }),
            &["drift-authz-policy-extra"],
        ),
        (
            "action",
            Box::new(move |e| e["authz"]["ports"][port][banned]["action"] = json!("ALLOW")),
            &["drift-authz-policy-changed"],
        ),
        (
            "enforced",
            Box::new(move |e| {
                e["authz"]["ports"][port][dry]
                    .as_object_mut()
                    .unwrap()
                    .remove("dry_run");
            }),
            &["drift-authz-policy-changed"],
        ),
        (
            "principals",
            Box::new(move |e| {
                e["authz"]["ports"][port][banned]["who"] =
                    json!(["peer spiffe://cluster.local/ns/default/sa/someone-else"])
            }),
            &["drift-authz-principals"],
        ),
        (
            "allow extra",
            Box::new(move |e| {
                e["authz"]["ports"][port]
                    .as_object_mut()
                    .unwrap()
                    .remove(banned);
                e["authz"]["allow_extra"] = json!(true);
            }),
            &[],
        ),
    ];
    for (what, mutate, want) in cases {
        let mut e = base.clone();
        mutate(&mut e);
        assert_eq!(failing_rules(&dump, &e, NOW_140), set(want), "{what}");
    }
    // The dump loses its DENY policy for banned callers.
    let mut d: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(&dump)).unwrap()).unwrap();
    for l in d["configs"][2]["static_listeners"].as_array_mut().unwrap() {
        if let Some(fs) = l["listener"]["filter_chains"][0]["filters"][0]["typed_config"]
            ["http_filters"]
            .as_array_mut()
        {
            for f in fs {
                if let Some(p) = f["typed_config"]["rules"]
                    .get_mut("policies")
                    .and_then(|p| p.as_object_mut())
                {
                    p.remove(banned);
                }
            }
        }
    }
    let edited = scratch("authz-no-deny.json", d.to_string().as_bytes());
    assert_eq!(
        failing_rules(&edited, &base, NOW_140),
        set(&["drift-authz-policy-missing"])
    );
}
