//! ztunnels in a bundle, beside sidecars and waypoints: a row each (identities held, trust
//! domain, soonest expiry, roots), and the fleet checks that span them. Certificates are made
//! here; the ztunnel dumps are written in ztunnel's current layout.

use base64::Engine as _;
use serde_json::{json, Value};

use super::bundle::{proxy, tree_fleet};
use super::bundle_fleet::guarded_api;
use super::pki::{self, Ca};

/// A ztunnel holding `sa`'s certificate from `ca`, knowing a mesh workload that sends through
/// the waypoint `default/wp` (served by pod `default/wp-1`, or by none).
fn ztunnel(ca: &Ca, sa: &str, waypoint_pods: &[&str]) -> Value {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let leaf = ca.leaf(
        &format!("spiffe://cluster.local/ns/default/sa/{sa}"),
        &[],
        9,
        (2026, 11, 1),
        (2027, 11, 1),
    );
    let cert = |pem: &str| json!({"pem": b64(pem), "serialNumber": "", "validFrom": "", "expirationTime": ""});
    let endpoints: serde_json::Map<String, Value> = waypoint_pods
        .iter()
        .map(|p| {
            let uid = format!("Kubernetes//Pod/default/{p}");
            (
                uid.clone(),
                json!({"workloadUid": uid, "port": {"15008": 15008}, "status": "Healthy"}),
            )
        })
        .collect();
    json!({
        "workloads": [{
            "uid": "Kubernetes//Pod/default/app-1", "name": "app-1", "namespace": "default",
            "workloadIps": ["10.0.0.5"], "protocol": "HBONE", "serviceAccount": sa,
            "trustDomain": "cluster.local", "node": "n1",
            "waypoint": {"destination": "/10.96.0.9", "hboneMtlsPort": 15008}
        }],
        "services": [{
            "name": "wp", "namespace": "default", "hostname": "wp.default.svc.cluster.local",
            "vips": ["/10.96.0.9"], "ports": {"15008": 15008}, "endpoints": endpoints
        }],
        "policies": [],
        "certificates": [{"identity": format!("spiffe://cluster.local/ns/default/sa/{sa}"), "state": "Available",
                          "certChain": [cert(&leaf.pem)], "rootCerts": [cert(&ca.pem)]}]
    })
}

fn at(ns_pod: &str, file: &str, v: &Value) -> (String, Vec<u8>) {
    (
        format!("bug-report/proxies/{ns_pod}/{file}"),
        v.to_string().into_bytes(),
    )
}

#[test]
fn a_ztunnel_is_a_row_of_the_fleet_and_its_checks_span_it() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let other = pki::ca((2026, 1, 1), (2036, 1, 1));
    // Same root as the sidecar, its waypoint in the bundle: no ambient finding.
    let files = vec![
        at(
            "default/client-1",
            "config_dump?include_eds",
            &proxy("client", "client", &mesh, 1),
        ),
        at(
            "default/wp-1",
            "config_dump?include_eds",
            &proxy("wp", "wp", &mesh, 2),
        ),
        at(
            "istio-system/ztunnel-a",
            "config_dump",
            &ztunnel(&mesh, "app", &["wp-1"]),
        ),
    ];
    let (doc, found) = tree_fleet("ambient-clean", &files);
    let ambient: Vec<_> = found
        .iter()
        .filter(|(rule, _)| rule.contains("ambient") || rule.contains("waypoint"))
        .collect();
    assert!(ambient.is_empty(), "{ambient:?}");
    let row = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proxy"] == "istio-system/ztunnel-a")
        .unwrap();
    assert_eq!(row["kind"], "ztunnel");
    assert_eq!(
        row["held"],
        json!(["spiffe://cluster.local/ns/default/sa/app"])
    );
    assert_eq!(row["trust_domain"], "cluster.local");
    assert_eq!(row["cert_not_after"], "2027-11-01T00:00:00Z");
    assert_eq!(row["error"], Value::Null);
    let client = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proxy"] == "default/client-1")
        .unwrap();
    assert_eq!(row["roots"], client["roots"], "one mesh root");

    // Another root, and the waypoint's pod not collected: both said, once each.
    let files = vec![
        at(
            "default/client-1",
            "config_dump?include_eds",
            &proxy("client", "client", &mesh, 1),
        ),
        at(
            "istio-system/ztunnel-a",
            "config_dump",
            &ztunnel(&other, "app", &["wp-1"]),
        ),
    ];
    let (_, found) = tree_fleet("ambient-apart", &files);
    let ambient: Vec<(String, String)> = found
        .into_iter()
        .filter(|(rule, _)| rule.contains("ambient") || rule.contains("waypoint"))
        .collect();
    assert_eq!(
        ambient,
        vec![
            (
                "ambient-root-mismatch".to_string(),
                "istio-system/ztunnel-a".to_string()
            ),
            (
                "waypoint-absent".to_string(),
                "istio-system/ztunnel-a waypoint default/wp".to_string()
            ),
        ]
    );

    // A ztunnel's identities count as presented: bar-1 presents sa/baz where client-1's cluster
    // for bar accepts only sa/bar, which no proxy presents, until a ztunnel holds sa/bar.
    let absent = |found: &std::collections::BTreeSet<(String, String)>| {
        found.contains(&(
            "san-identity-absent".to_string(),
            "default/client-1 cluster outbound|80||bar.default.svc.cluster.local".to_string(),
        ))
    };
    let sidecars = vec![
        at(
            "default/client-1",
            "config_dump?include_eds",
            &proxy("client", "client", &mesh, 1),
        ),
        at(
            "default/bar-1",
            "config_dump?include_eds",
            &proxy("bar", "baz", &mesh, 3),
        ),
    ];
    let (_, without) = tree_fleet("ambient-not-presented", &sidecars);
    assert!(absent(&without), "{without:?}");
    let mut with = sidecars.clone();
    with.push(at(
        "istio-system/ztunnel-a",
        "config_dump",
        &ztunnel(&mesh, "bar", &["wp-1"]),
    ));
    let (_, with) = tree_fleet("ambient-presented", &with);
    assert!(!absent(&with), "{with:?}");
}

#[test]
fn a_waypoint_without_endpoints_is_the_ztunnels_own_finding() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ambient-wp-empty");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ztunnel.json");
    std::fs::write(&path, ztunnel(&mesh, "app", &[]).to_string()).unwrap();
    let p = path.to_string_lossy().to_string();
    let r = super::envinspect(&[&p, "-o", "json", "--now", super::NOW_140]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let f: Vec<(&str, &str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["subject"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        f,
        vec![(
            "waypoint-without-endpoints",
            "waypoint default/wp",
            "app-1.default send through it, but its service default/wp has no endpoint: their traffic has nowhere to go"
        )]
    );
    // In a bundle it is not also waypoint-absent.
    let (_, found) = tree_fleet(
        "ambient-wp-empty-bundle",
        &[at(
            "istio-system/ztunnel-a",
            "config_dump",
            &ztunnel(&mesh, "app", &[]),
        )],
    );
    assert!(
        !found.iter().any(|(r, _)| r == "waypoint-absent"),
        "{found:?}"
    );
}

/// An ambient workload calling a sidecar: the identity its ztunnel holds is a caller of the fleet
/// (who can call whom), and a policy allowing it names someone present.
#[test]
fn identities_a_ztunnel_holds_are_callers_of_the_fleet() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let api = at(
        "default/api-1",
        "config_dump?include_eds",
        &guarded_api(&mesh),
    );
    let id = |sa: &str| format!("spiffe://cluster.local/ns/default/sa/{sa}");
    let unknown = |doc: &Value| -> Vec<String> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "authz-principal-unknown")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let names = |messages: &[String], sa: &str| {
        messages
            .iter()
            .any(|m| m.contains(&format!("allows {}", id(sa))))
    };
    // Without the ztunnel: no proxy presents old-name (api is its only own caller).
    let (doc, _) = tree_fleet("ambient-callers-none", std::slice::from_ref(&api));
    assert_eq!(doc["reachability"], json!([]));
    assert!(names(&unknown(&doc), "old-name"), "{:?}", unknown(&doc));
    let with = vec![
        api,
        at(
            "istio-system/ztunnel-a",
            "config_dump",
            &ztunnel(&mesh, "old-name", &["wp-1"]),
        ),
        at(
            "default/frontend-1",
            "config_dump?include_eds",
            &proxy("frontend", "frontend", &mesh, 2),
        ),
    ];
    let (doc, _) = tree_fleet("ambient-callers", &with);
    let verdicts: Vec<(String, String)> = doc["reachability"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["caller"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            (id("frontend"), "allowed".to_string()),
            (id("old-name"), "allowed".to_string())
        ]
    );
    // The ztunnel holds old-name: only batch is named by no one present.
    let messages = unknown(&doc);
    assert!(!names(&messages, "old-name"), "{messages:?}");
    assert!(names(&messages, "batch"), "{messages:?}");
}
