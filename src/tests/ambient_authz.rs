//! ztunnel's L4 authorization, with ztunnel as the oracle: no ztunnel binary runs here, so the
//! cases and their answers are those of ztunnel's own tests (`src/rbac.rs` `rbac_*` and
//! `src/state.rs` `assert_rbac_*` in istio/ztunnel), each written as the dump ztunnel's admin API
//! serialises (its current layout: lists, `{"Exact": …}` string matches, `a.b.c.d/len` ranges)
//! and asked through the binary. Every case must give ztunnel's answer.

use serde_json::{json, Value};

use super::envinspect;

/// ztunnel's three test connections: (name, peer identity, source IP, destination IP, port).
const PLAINTEXT: (&str, Option<&str>, &str, &str, &str) =
    ("plaintext", None, "127.0.0.1", "127.0.0.2", "8080");
const TLS: (&str, Option<&str>, &str, &str, &str) = (
    "tls",
    Some("spiffe://td/ns/namespace/sa/account"),
    "127.0.0.1",
    "127.0.0.2",
    "8080",
);
const TLS_ALT: (&str, Option<&str>, &str, &str, &str) = (
    "tls_alt",
    Some("spiffe://td-alt/ns/ns-alt/sa/sa=alt"),
    "127.0.0.3",
    "127.0.0.4",
    "9090",
);

fn workload(uid: &str, ns: &str, ip: &str) -> Value {
    json!({
        "uid": uid, "name": format!("w{uid}"), "namespace": ns, "workloadIps": [ip],
        "protocol": "HBONE", "trustDomain": "cluster.local", "serviceAccount": "defaultacct",
        "node": "node", "status": "Healthy", "clusterId": "Kubernetes", "capacity": 1,
        "networkMode": "Standard"
    })
}

fn policy(ns: &str, name: &str, scope: &str, action: &str, rules: Value, dry_run: bool) -> Value {
    json!({"name": name, "namespace": ns, "scope": scope, "action": action, "rules": rules, "dryRun": dry_run})
}

fn dump(workloads: Vec<Value>, policies: Vec<Value>) -> Value {
    json!({
        "workloads": workloads, "services": [], "policies": policies, "certificates": [],
        "stagedServices": {}, "staticConfig": {"workloads": [], "policies": [], "services": []},
        "version": {"version": "1.29-dev"}, "config": {}
    })
}

/// Runs `authz` for one connection; returns (decision, policy, details).
fn decide(
    dir: &std::path::Path,
    d: &Value,
    conn: (&str, Option<&str>, &str, &str, &str),
) -> (String, Value, Value) {
    let path = dir.join("ztunnel.json");
    std::fs::write(&path, serde_json::to_vec(d).unwrap()).unwrap();
    let (_, principal, src, dst, port) = conn;
    let path = path.to_string_lossy().to_string();
    let mut args = vec![
        "authz",
        path.as_str(),
        "-o",
        "json",
        "--port",
        port,
        "--source-ip",
        src,
        "--destination-ip",
        dst,
    ];
    match principal {
        Some(p) => args.extend(["--principal", p]),
        None => args.push("--plaintext"),
    }
    let r = envinspect(&args);
    assert!(r.code <= 1, "{args:?}: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["enforcer"], "ztunnel");
    let decision = v["decision"].as_str().unwrap().to_string();
    assert_eq!(
        r.code,
        i32::from(decision != "allow"),
        "exit code of {decision}"
    );
    (
        decision,
        v["policy"].clone(),
        v["response"]["details"].clone(),
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `rbac_test!` in ztunnel: one global ALLOW policy with one match group; whether it matches
/// each connection (so: allowed, or denied as "allow policies exist, but none allowed").
#[test]
fn each_match_field_as_ztunnels_rbac_tests_answer() {
    let dir = scratch("ambient-rbac-fields");
    let ws = || {
        vec![
            workload("1", "any", "127.0.0.2"),
            workload("2", "any", "127.0.0.4"),
        ]
    };
    let sa = json!([{"namespace": "namespace", "serviceAccount": "account"}]);
    let principal = json!([{"Exact": "td/ns/namespace/sa/account"}]);
    let cases: Vec<(&str, Value, [bool; 3])> = vec![
        (
            "namespaces",
            json!({"namespaces": [{"Exact": "namespace"}]}),
            [false, true, false],
        ),
        (
            "not_namespaces",
            json!({"notNamespaces": [{"Exact": "namespace"}]}),
            [true, false, true],
        ),
        (
            "service_accounts",
            json!({"serviceAccounts": sa}),
            [false, true, false],
        ),
        (
            "not_service_accounts",
            json!({"notServiceAccounts": sa}),
            [true, false, true],
        ),
        (
            "principals",
            json!({"principals": principal}),
            [false, true, false],
        ),
        (
            "not_principals",
            json!({"notPrincipals": principal}),
            [true, false, true],
        ),
        (
            "source_ips",
            json!({"sourceIps": ["127.0.0.1/32"]}),
            [true, true, false],
        ),
        (
            "not_source_ips",
            json!({"notSourceIps": ["127.0.0.1/32"]}),
            [false, false, true],
        ),
        (
            "destination_ips",
            json!({"destinationIps": ["127.0.0.2/32"]}),
            [true, true, false],
        ),
        (
            "not_destination_ips",
            json!({"notDestinationIps": ["127.0.0.2/32"]}),
            [false, false, true],
        ),
        (
            "cidr_range",
            json!({"destinationIps": ["127.0.0.1/24"]}),
            [true, true, true],
        ),
        (
            "destination_ports",
            json!({"destinationPorts": [8080]}),
            [true, true, false],
        ),
        (
            "not_destination_ports",
            json!({"notDestinationPorts": [8080]}),
            [false, false, true],
        ),
    ];
    let mut checked = 0;
    for (name, m, want) in cases {
        let d = dump(
            ws(),
            vec![policy(
                "namespace",
                name,
                "Global",
                "Allow",
                json!([[[m]]]),
                false,
            )],
        );
        for (conn, matches) in [PLAINTEXT, TLS, TLS_ALT].into_iter().zip(want) {
            let (decision, named, details) = decide(&dir, &d, conn);
            let expected = if matches { "allow" } else { "deny" };
            assert_eq!(decision, expected, "{name} on {}", conn.0);
            if !matches {
                assert_eq!(named, Value::Null, "{name}: ztunnel names no policy");
                assert_eq!(details, "allow policies exist, but none allowed");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 39);
}

/// `rbac_empty_policy`, `rbac_nesting`, `rbac_multi_rule`: how rules, clauses and match groups
/// combine, and what an empty one of each means.
#[test]
fn rules_clauses_and_groups_combine_as_in_ztunnel() {
    let dir = scratch("ambient-rbac-nesting");
    let ws = vec![workload("1", "any", "127.0.0.2")];
    let allow = |rules: Value| {
        dump(
            ws.clone(),
            vec![policy("namespace", "p", "Global", "Allow", rules, false)],
        )
    };
    // An empty match group matches nothing; an empty clause or rule matches everything; no
    // rules match nothing.
    for (rules, want) in [
        (json!([[[{}]]]), "deny"),
        (json!([[[]]]), "allow"),
        (json!([[]]), "allow"),
        (json!([]), "deny"),
    ] {
        assert_eq!(
            decide(&dir, &allow(rules.clone()), PLAINTEXT).0,
            want,
            "{rules}"
        );
    }
    let from = |ns: &str, port: &str| {
        let id = format!("spiffe://td/ns/{ns}/sa/account");
        let (d, p): (&'static str, &'static str) = (
            Box::leak(id.into_boxed_str()),
            Box::leak(port.to_string().into_boxed_str()),
        );
        ("c", Some(d), "127.0.0.1", "127.0.0.2", p)
    };
    // One rule: (namespace a or b) and port 80.
    let nested = allow(json!([[
        [{"namespaces": [{"Exact": "a"}]}, {"namespaces": [{"Exact": "b"}]}],
        [{"destinationPorts": [80]}]
    ]]));
    for (ns, port, want) in [
        ("a", "80", "allow"),
        ("b", "80", "allow"),
        ("bad", "80", "deny"),
        ("b", "12345", "deny"),
    ] {
        assert_eq!(
            decide(&dir, &nested, from(ns, port)).0,
            want,
            "nesting {ns}:{port}"
        );
    }
    // Two rules: namespace a, or namespace b.
    let multi = allow(json!([
        [[{"namespaces": [{"Exact": "a"}]}]],
        [[{"namespaces": [{"Exact": "b"}]}]]
    ]));
    for (ns, want) in [("a", "allow"), ("b", "allow"), ("bad", "deny")] {
        assert_eq!(
            decide(&dir, &multi, from(ns, "80")).0,
            want,
            "multi-rule {ns}"
        );
    }
}

/// `assert_rbac_logic_deny_allow`: dry-run wildcards change nothing; no ALLOW policy for the
/// workload's namespace allows; a matching ALLOW allows; a matching DENY denies and is named.
#[test]
fn deny_then_allow_with_dry_run_as_ztunnels_assert_rbac() {
    let dir = scratch("ambient-assert-rbac");
    let principal = |sa: &str| json!([[[{"principals": [{"Exact": format!("cluster.local/ns/default/sa/{sa}")}]}]]]);
    let d = dump(
        vec![
            workload("1", "ns1", "192.168.0.1"),
            workload("2", "ns2", "192.168.0.2"),
        ],
        vec![
            policy("ns1", "wildcard", "Namespace", "Allow", json!([[]]), true),
            policy(
                "ns1",
                "wildcard-deny",
                "Namespace",
                "Deny",
                json!([[]]),
                true,
            ),
            policy(
                "ns1",
                "foo",
                "Namespace",
                "Allow",
                principal("defaultacct"),
                false,
            ),
            policy(
                "ns1",
                "deny",
                "Namespace",
                "Deny",
                principal("denyacct"),
                false,
            ),
        ],
    );
    let from = |sa: &'static str, dst: &'static str| -> (&str, Option<&str>, &str, &str, &str) {
        let id: &'static str =
            Box::leak(format!("spiffe://cluster.local/ns/default/sa/{sa}").into_boxed_str());
        ("c", Some(id), "192.168.1.1", dst, "8080")
    };
    let (d2, ..) = decide(&dir, &d, from("not-defaultacct", "192.168.0.2"));
    assert_eq!(d2, "allow", "ns2 has no policy");
    assert_eq!(
        decide(&dir, &d, from("defaultacct", "192.168.0.1")).0,
        "allow"
    );
    let (dec, named, details) = decide(&dir, &d, from("not-defaultacct", "192.168.0.1"));
    assert_eq!((dec.as_str(), &named), ("deny", &Value::Null));
    assert_eq!(details, "allow policies exist, but none allowed");
    let (dec, named, details) = decide(&dir, &d, from("denyacct", "192.168.0.1"));
    assert_eq!((dec.as_str(), named.as_str()), ("deny", Some("ns1/deny")));
    assert_eq!(details, "explicitly denied by: ns1/deny");
    // A destination ztunnel does not know is refused; a workload-selector policy applies only
    // to the workloads that name it.
    let (dec, _, details) = decide(&dir, &d, from("defaultacct", "192.168.0.9"));
    assert_eq!(
        (dec.as_str(), details.as_str()),
        ("rejected", Some("workload not found"))
    );
    let mut selected = d.clone();
    selected["policies"].as_array_mut().unwrap().push(policy(
        "ns2",
        "only-w2",
        "WorkloadSelector",
        "Deny",
        json!([[]]),
        false,
    ));
    assert_eq!(
        decide(&dir, &selected, from("defaultacct", "192.168.0.2")).0,
        "allow"
    );
    selected["workloads"][1]["authorizationPolicies"] = json!(["ns2/only-w2"]);
    let (dec, named, _) = decide(&dir, &selected, from("defaultacct", "192.168.0.2"));
    assert_eq!(
        (dec.as_str(), named.as_str()),
        ("deny", Some("ns2/only-w2"))
    );
}

/// What envinspect cannot be told: a source-IP match without `--source-ip` is unknown, not a
/// guess; a DENY that may match keeps the answer unknown even when an ALLOW matches.
#[test]
fn an_unknown_source_ip_is_unknown_not_guessed() {
    let dir = scratch("ambient-unknown");
    let d = dump(
        vec![workload("1", "ns1", "10.0.0.1")],
        vec![policy(
            "ns1",
            "from-lb",
            "Namespace",
            "Deny",
            json!([[[{"sourceIps": ["10.9.0.0/16"]}]]]),
            false,
        )],
    );
    let path = dir.join("ztunnel.json");
    std::fs::write(&path, serde_json::to_vec(&d).unwrap()).unwrap();
    let p = path.to_string_lossy().to_string();
    let r = envinspect(&[
        "authz",
        &p,
        "-o",
        "json",
        "--port",
        "80",
        "--plaintext",
        "--destination-ip",
        "10.0.0.1",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["decision"], "unknown");
    assert_eq!(v["reason"], "the client's source IP (give --source-ip)");
    assert_eq!(r.code, 1);
    let (dec, ..) = decide(&dir, &d, ("c", None, "10.9.1.1", "10.0.0.1", "80"));
    assert_eq!(dec, "deny");
    let (dec, ..) = decide(&dir, &d, ("c", None, "10.8.1.1", "10.0.0.1", "80"));
    assert_eq!(dec, "allow");
}

/// ztunnel decides on the connection alone: what the request says beyond it is named, as parts
/// of the request (not as command-line options, which the library does not know), and set aside.
#[test]
fn request_parts_a_ztunnel_ignores_are_named() {
    let dir = scratch("ambient-authz-ignored");
    let d = dump(vec![workload("w1", "ns", "10.0.0.1")], vec![]);
    let path = dir.join("ztunnel.json");
    std::fs::write(&path, serde_json::to_vec(&d).unwrap()).unwrap();
    let path = path.to_string_lossy().to_string();
    let r = envinspect(&[
        "authz",
        &path,
        "-o",
        "json",
        "--port",
        "8080",
        "--plaintext",
        "--source-ip",
        "10.0.0.9",
        "--destination-ip",
        "10.0.0.1",
        "--method",
        "POST",
        "--path",
        "/x",
        "--header",
        "a: b",
    ]);
    assert!(r.code <= 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let said: Vec<&str> = v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|a| a.starts_with("ztunnel decides on the connection alone"))
        .collect();
    assert_eq!(
        said,
        ["ztunnel decides on the connection alone: the method, the path, the headers play no part (a waypoint decides on them)"]
    );
}
