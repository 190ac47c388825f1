//! `bundle` across proxies: fleet expectations selected by globs (drift exits 1, an unmatched
//! selector warns), who can call whom from every identity the fleet presents, mesh roots versus a
//! shared external CA, and the flags a bundle refuses. Bundles are built by `bundle.rs`'s helpers.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::bundle::{bug_report, dir, fleet, proxy, tree_fleet, write_tree};
use super::pki::{self, Ca};
use super::rules::{active_secret, b64, section};
use super::{envinspect, NOW_140};

/// `bundle --expect`: expectations per proxy, selected by globs; drift makes exit 1.
#[test]
fn fleet_expectations_apply_per_proxy() {
    let d = dir("expect");
    write_tree(&d, &bug_report()[..3]);
    let fleet = d.join("fleet.yaml");
    std::fs::write(
        &fleet,
        "version: 1\nproxies:\n- select: {namespace: default, pod: 'bar-*'}\n  expect:\n    version: 1\n    identity: {spiffe_id: 'spiffe://cluster.local/ns/default/sa/bar'}\n- select: {identity: 'spiffe://cluster.local/ns/default/sa/client'}\n  expect:\n    version: 1\n    identity: {trust_domain: cluster.local}\n    secrets: {active: [default, ROOTCA]}\n",
    )
    .unwrap();
    let run = envinspect(&[
        "bundle",
        &d.display().to_string(),
        "--expect",
        &fleet.display().to_string(),
        "--now",
        NOW_140,
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let by: std::collections::BTreeMap<&str, (u64, Vec<&str>)> = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let rules = p["drift"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["rule"].as_str().unwrap())
                .collect();
            (
                p["proxy"].as_str().unwrap(),
                (p["expectations"].as_u64().unwrap(), rules),
            )
        })
        .collect();
    assert_eq!(by["default/bar-1"], (1, vec!["drift-identity"]));
    assert_eq!(by["default/client-1"], (3, vec![]));
    assert_eq!(by["default/foo-1"], (0, vec![]));
    std::fs::write(&fleet, "version: 1\nproxies:\n- selec: {}\n").unwrap();
    let bad = envinspect(&[
        "bundle",
        &d.display().to_string(),
        "--expect",
        &fleet.display().to_string(),
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("fleet.yaml:3:"), "{}", bad.stderr);
}

/// Drift alone fails a bundle (exit 1), as for `check`, on a proxy with no finding of its own;
/// an entry whose selector matches no proxy is a warning, not silence.
#[test]
fn fleet_drift_and_unmatched_selectors_fail_the_bundle() {
    let d = dir("drift-only");
    let clean = std::fs::read(super::fixture("envoy-1.40/config_dump.json")).unwrap();
    write_tree(
        &d,
        &[("default/clean-1/config_dump.json".to_string(), clean)],
    );
    let run = |fleet: &str| {
        let path = d.join("fleet.yaml");
        std::fs::write(&path, fleet).unwrap();
        let bundle = d.display().to_string();
        let path = path.display().to_string();
        envinspect(&[
            "bundle", &bundle, "--expect", &path, "--now", NOW_140, "-o", "json",
        ])
    };
    let holds = run("version: 1\nproxies:\n- expect:\n    version: 1\n    identity: {trust_domain: cluster.local}\n");
    assert_eq!(holds.code, 0, "{}", holds.stdout);
    let drift = run("version: 1\nproxies:\n- expect:\n    version: 1\n    identity: {trust_domain: other.domain}\n");
    assert_eq!(drift.code, 1, "drift exits 1: {}", drift.stdout);
    let typo = run("version: 1\nproxies:\n- select: {namespace: defualt}\n  expect:\n    version: 1\n    identity: {trust_domain: other.domain}\n");
    assert_eq!(typo.code, 1, "{}", typo.stdout);
    let doc: Value = serde_json::from_str(&typo.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "fleet-expectation-unmatched", "{doc}");
    assert!(
        f["subject"]
            .as_str()
            .unwrap()
            .ends_with("fleet.yaml proxies[0]"),
        "{f}"
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("namespace: \"defualt\""),
        "{f}"
    );
}

/// The proxy of `api` (sa/api), whose HTTP RBAC allows frontend, old-name and batch and denies
/// batch.
pub(super) fn guarded_api(mesh: &pki::Ca) -> Value {
    let mut api = proxy("api", "api", mesh, 1);
    let id = |sa: &str| format!("spiffe://cluster.local/ns/default/sa/{sa}");
    let peer = |sa: &str| json!({ "authenticated": { "principal_name": { "exact": id(sa) } } });
    let rbac = |action: &str, name: &str, principals: Vec<Value>| {
        json!({
            "name": "envoy.filters.http.rbac",
            "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
                "rules": { "action": action, "policies": { name: { "permissions": [{ "any": true }], "principals": principals } } } }
        })
    };
    let l = &mut section(&mut api, "ListenersConfigDump")["static_listeners"][0]["listener"];
    let filters = l["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
        .as_array_mut()
        .unwrap();
    filters.insert(
        0,
        rbac(
            "ALLOW",
            "ns[default]-policy[api-callers]-rule[0]",
            vec![peer("frontend"), peer("old-name"), peer("batch")],
        ),
    );
    filters.insert(
        0,
        rbac(
            "DENY",
            "ns[default]-policy[no-batch]-rule[0]",
            vec![peer("batch")],
        ),
    );
    api
}

/// Who can call whom: `api` allows frontend (and a renamed account no proxy presents) and denies
/// batch; every caller identity of the fleet is judged against its guarded port.
#[test]
fn who_can_call_whom_and_unknown_principals() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let api = guarded_api(&mesh);
    let id = |sa: &str| format!("spiffe://cluster.local/ns/default/sa/{sa}");
    let d = dir("reach");
    let p = |n: &str| format!("proxies/default/{n}/config_dump?include_eds");
    write_tree(
        &d,
        &[
            (p("api-1"), api.to_string().into_bytes()),
            (
                p("frontend-1"),
                proxy("frontend", "frontend", &mesh, 2)
                    .to_string()
                    .into_bytes(),
            ),
            (
                p("batch-1"),
                proxy("batch", "batch", &mesh, 3).to_string().into_bytes(),
            ),
            (
                p("other-1"),
                proxy("other", "other", &mesh, 4).to_string().into_bytes(),
            ),
        ],
    );
    let dir_arg = d.display().to_string();
    let run = envinspect(&["bundle", &dir_arg, "--now", NOW_140, "-o", "json"]);
    let (doc, findings) = fleet(&run);
    let verdicts: BTreeSet<(String, String, String)> = doc["reachability"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["callee"].as_str().unwrap().into(),
                r["caller"].as_str().unwrap().into(),
                r["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("frontend", "allowed"),
        ("batch", "never"),
        ("other", "never"),
    ]
    .into_iter()
    .map(|(sa, v)| ("default/api-1".to_string(), id(sa), v.to_string()))
    .collect();
    assert_eq!(verdicts, want, "{}", doc["reachability"]);
    let batch = doc["reachability"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["caller"] == id("batch"))
        .unwrap();
    assert!(
        batch["because"].as_str().unwrap().contains("no-batch"),
        "{batch}"
    );
    let unknown: Vec<_> = findings
        .iter()
        .filter(|(r, _)| r == "authz-principal-unknown")
        .collect();
    assert_eq!(unknown.len(), 1, "{findings:?}");
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "authz-principal-unknown"
            && f["message"].as_str().unwrap().contains("old-name")));
    let table = envinspect(&["bundle", &dir_arg, "--now", NOW_140]);
    assert!(
        table.stdout.contains("WHO CAN CALL WHOM"),
        "{}",
        table.stdout
    );
    let section = table.stdout.split("WHO CAN CALL WHOM").nth(1).unwrap();
    let header = section.lines().nth(1).unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "CALLEE",
            "PORT",
            "default/batch",
            "default/frontend",
            "default/other"
        ],
        "{section}"
    );
    let row = section
        .lines()
        .find(|l| l.starts_with("default/api-1 "))
        .unwrap();
    assert_eq!(
        row.split_whitespace().skip(2).collect::<Vec<_>>(),
        ["no", "yes", "no"],
        "{row}"
    );
}

/// Two sidecars whose mesh roots differ, each also trusting the same partner CA for a
/// SIMPLE-TLS cluster: the shared external CA does not make their mesh roots agree.
#[test]
fn a_shared_external_ca_is_not_a_shared_mesh_root() {
    let (mesh, other, partner) = (
        pki::ca((2026, 1, 1), (2036, 1, 1)),
        pki::ca((2026, 1, 1), (2036, 1, 1)),
        pki::ca((2026, 1, 1), (2036, 1, 1)),
    );
    let with_partner = |mut d: Value| {
        let cluster = json!({"cluster": {
            "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "name": "outbound|443||api.partner.example",
            "type": "STRICT_DNS",
            "connect_timeout": "1s",
            "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": "api.partner.example",
                "common_tls_context": {"validation_context": {"trusted_ca": {"inline_bytes": b64(&partner.pem)}}}
            }}
        }});
        section(&mut d, "ClustersConfigDump")["static_clusters"]
            .as_array_mut()
            .unwrap()
            .push(cluster);
        d.to_string().into_bytes()
    };
    let files = vec![
        (
            "c/default/client-1/config_dump.json".to_string(),
            with_partner(proxy("client", "client", &mesh, 1)),
        ),
        (
            "c/default/foo-1/config_dump.json".to_string(),
            with_partner(proxy("foo", "foo", &other, 2)),
        ),
    ];
    let (doc, found) = tree_fleet("external-ca", &files);
    assert!(
        found.contains(&(
            "root-mismatch".into(),
            "default/client-1 → default/foo-1".into()
        )),
        "{found:?}"
    );
    let fp = |ca: &Ca| {
        let (_, pem) = x509_parser::pem::parse_x509_pem(ca.pem.as_bytes()).unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, &pem.contents);
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    for p in doc["proxies"].as_array().unwrap() {
        let roots: Vec<&str> = p["roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let external: Vec<&str> = p["external_roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(external, [fp(&partner).as_str()], "{p}");
        assert_eq!(roots.len(), 1, "{p}");
        assert!(!roots.contains(&fp(&partner).as_str()), "{p}");
    }
}

/// An identity a proxy presents only on its inbound listener (its primary being the client
/// certificate) still counts as present in the fleet.
#[test]
fn identities_presented_besides_the_primary_count_for_the_fleet() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let mut bar = proxy("bar", "baz", &mesh, 3);
    let server = mesh.leaf(
        "spiffe://cluster.local/ns/default/sa/bar",
        &[],
        4,
        (2026, 11, 1),
        (2027, 11, 1),
    );
    active_secret(&mut bar, "server_cert")["secret"]["tls_certificate"]["certificate_chain"] =
        json!({"inline_bytes": b64(&server.pem)});
    let files = vec![
        (
            "bug-report/proxies/default/client-1/config_dump".to_string(),
            proxy("client", "client", &mesh, 1).to_string().into_bytes(),
        ),
        (
            "bug-report/proxies/default/bar-1/config_dump".to_string(),
            bar.to_string().into_bytes(),
        ),
    ];
    let (doc, found) = tree_fleet("presented", &files);
    // bar's primary identity is still its client certificate (sa/baz).
    let bar_row = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proxy"] == "default/bar-1")
        .unwrap();
    assert_eq!(
        bar_row["identity"],
        "spiffe://cluster.local/ns/default/sa/baz"
    );
    // The client's SAN matcher for bar names sa/bar, which bar presents: not absent.
    let absent: Vec<&(String, String)> = found
        .iter()
        .filter(|(r, _)| r == "san-identity-absent")
        .collect();
    assert!(
        !absent.iter().any(|(_, s)| s.contains("outbound|80||bar")),
        "{found:?}"
    );
}

/// Flags every command shares that a bundle cannot honour are refused in one line (they were
/// accepted and ignored); the fleet's expiry threshold is the one flag `--expiry-warning`.
#[test]
fn bundle_refuses_flags_it_cannot_honour() {
    let d = dir("flags");
    write_tree(&d, &bug_report()[..1]);
    let bundle = d.display().to_string();
    for extra in [&["--certs", "certs.json"][..], &["--redact"]] {
        let mut a = vec!["bundle", bundle.as_str()];
        a.extend_from_slice(extra);
        let run = envinspect(&a);
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{extra:?}: {}", run.stderr);
    }
    // `--warn` is gone (clap's usage error); `--expiry-warning` is the threshold.
    assert_eq!(envinspect(&["bundle", &bundle, "--warn", "1d"]).code, 2);
    assert_ne!(
        envinspect(&["bundle", &bundle, "--expiry-warning", "1d"]).code,
        2
    );
}

/// Replicas are judged once per kind, findings still pair by pair: of two replicas of bar, only
/// the one with another root mismatches its clients.
#[test]
fn replicas_alike_are_judged_once_and_a_different_one_still_found() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let other = pki::ca((2026, 1, 1), (2036, 1, 1));
    let p = |n: &str| format!("proxies/default/{n}/config_dump?include_eds");
    let files = vec![
        (
            p("client-1"),
            proxy("client", "client", &mesh, 1).to_string().into_bytes(),
        ),
        (
            p("client-2"),
            proxy("client", "client", &mesh, 2).to_string().into_bytes(),
        ),
        (
            p("bar-1"),
            proxy("bar", "bar", &mesh, 3).to_string().into_bytes(),
        ),
        (
            p("bar-2"),
            proxy("bar", "bar", &mesh, 4).to_string().into_bytes(),
        ),
        (
            p("bar-3"),
            proxy("bar", "bar", &other, 5).to_string().into_bytes(),
        ),
    ];
    let (_, found) = super::bundle::tree_fleet("replicas", &files);
    let mismatches: Vec<&str> = found
        .iter()
        .filter(|(r, _)| r == "root-mismatch")
        .map(|(_, s)| s.as_str())
        .collect();
    // Every proxy's clusters reach bar: the odd replica mismatches each of the others, and they
    // it; the two alike replicas never each other.
    assert_eq!(
        mismatches,
        [
            "default/bar-1 → default/bar-3",
            "default/bar-2 → default/bar-3",
            "default/bar-3 → default/bar-1",
            "default/bar-3 → default/bar-2",
            "default/client-1 → default/bar-3",
            "default/client-2 → default/bar-3",
        ]
    );
}
