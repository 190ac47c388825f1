//! A ztunnel's certificates: agreement with istioctl's certificate golden, where the dump and
//! its certificates disagree, ztunnel's current layout with certificates made here, several root
//! sets, and ztunnel's own certificate dump.

use super::ambient::{dump, golden_section, ours, section, ZT};
use super::goldens::{agree, golden};
use super::{envinspect, fixture, NOW_140};

/// istioctl prints each identity's certificates from the dump's own fields, judged at the wall
/// clock: the first as `Leaf`, the others as `Root`, ztunnel's states as written. We read the
/// certificates: the root is a CA secret (`ROOTCA`), states are in capitals, `TYPE` is the
/// secret's kind, and validity comes from the DER at `--now` (see the dates test below).
#[test]
fn certificates_agree_with_istioctl_on_names_states_and_serials() {
    let cols = [
        ("CERTIFICATE NAME", "RESOURCE NAME"),
        ("TYPE", "TYPE"),
        ("STATUS", "STATUS"),
        ("SERIAL NUMBER", "SERIAL NUMBER"),
    ];
    let out = ours(&["secrets"]);
    let as_istioctl = |r: &mut Vec<String>| {
        if r[0] == "ROOTCA" {
            // The one identity whose chain carries this root.
            r[0] = "spiffe://cluster.local/ns/istio-system/sa/istiod".into();
        }
        r[1] = match r[1].as_str() {
            "Cert Chain" => "Leaf",
            "CA" => "Root",
            _ => "NA",
        }
        .into();
        r[2] = match r[2].as_str() {
            "ACTIVE" => "Available",
            "INITIALIZING" => "Initializing",
            "UNAVAILABLE" => "Unavailable",
            other => panic!("state {other}"),
        }
        .into();
        if r[3].is_empty() {
            r[3] = "NA".into();
        }
    };
    agree(
        &golden(&format!("{ZT}/secretsummary.txt")),
        section(&out, "RESOURCE NAME"),
        &cols,
        as_istioctl,
    );
    assert_eq!(
        golden_section("SECRET INFO"),
        golden(&format!("{ZT}/secretsummary.txt")).trim()
    );
}
/// The golden dump's `expirationTime`/`validFrom` were edited by hand (the leaf's DER expires on
/// 2023-03-22, the dump says 2033; the root's says 2022 for a DER valid 2023–2033): istioctl
/// prints the fields, envinspect the certificates, and says where the two disagree.
#[test]
fn where_the_dump_and_its_certificates_disagree_the_certificate_wins_and_it_is_said() {
    let r = envinspect(&[&dump(), "-o", "json", "--now", NOW_140]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let istiod = |state: &str| {
        v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["name"] == "spiffe://cluster.local/ns/istio-system/sa/istiod"
                    && s["state"] == state
            })
            .unwrap()
            .clone()
    };
    let leaf = &istiod("ACTIVE")["certificates"][0];
    assert_eq!(leaf["not_after"], "2023-03-22T13:04:57Z");
    assert_eq!(leaf["serial"], "e5dfb59150b2ba7f108d93dcec5aa613");
    let warnings: Vec<(String, String)> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["first_pointer"].as_str().unwrap().to_string(),
                w["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        warnings,
        vec![
            (
                "/certificates/0/certChain/1/expirationTime".into(),
                "the dump says 2022-03-18T13:04:49Z, the certificate says 2033-03-18T13:04:49Z"
                    .into()
            ),
            (
                "/certificates/0/certChain/1/validFrom".into(),
                "the dump says 2022-03-21T13:04:49Z, the certificate says 2023-03-21T13:04:49Z"
                    .into()
            ),
            (
                "/certificates/0/certChain/0/expirationTime".into(),
                "the dump says 2033-03-22T13:04:57Z, the certificate says 2023-03-22T13:04:57Z"
                    .into()
            ),
        ]
    );
    let findings: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![
            (
                "cert-expired".into(),
                "secret spiffe://cluster.local/ns/istio-system/sa/istiod".into()
            ),
            (
                "ztunnel-identity-unavailable".into(),
                "identity spiffe://cluster.local/ns/istio-system/sa/istiod".into()
            ),
            (
                "ztunnel-identity-initializing".into(),
                "identity spiffe://cluster.local/ns/istio-system/sa/ztunnel".into()
            ),
        ],
        "`Unavailable: the identity is no longer needed` (another-sa) is no finding"
    );
    // The root is trusted for the mesh, and the expired leaf's chain breaks at its validity.
    assert_eq!(v["secrets"][0]["name"], "ROOTCA");
    assert_eq!(v["secrets"][0]["trust_role"], "mesh");
    assert_eq!(istiod("ACTIVE")["chain"]["kind"], "validity");
    assert_eq!(istiod("UNAVAILABLE")["certificates"], serde_json::json!([]));
    assert_eq!(v["document"], "ztunnel");
    // The dump's own values are rotating ones too: --redact scrubs them from the warnings.
    for format in ["json", "table"] {
        let r = envinspect(&[&dump(), "--redact", "-o", format, "--now", NOW_140]);
        for said in [
            "2022-03-18T13:04:49Z",
            "2022-03-21T13:04:49Z",
            "2033-03-22T13:04:57Z",
        ] {
            assert!(
                !r.stdout.contains(said),
                "{format}: {said} in\n{}",
                r.stdout
            );
        }
        assert!(r
            .stdout
            .contains("the dump says [redacted], the certificate says [redacted]"));
    }
}
fn table_has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}
/// ztunnel's current layout, with certificates made here: lists, `pem` as base64 of PEM, roots
/// in `rootCerts`, decimal serials. Chains verify against the roots of their own entry.
#[test]
fn the_current_layout_with_real_certificates() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let root = super::pki::ca((2026, 1, 1), (2036, 1, 1));
    let other = super::pki::ca((2026, 1, 1), (2036, 1, 1));
    let sleep = root.leaf(
        "spiffe://cluster.local/ns/default/sa/sleep",
        &[],
        4242,
        (2026, 11, 30),
        (2026, 12, 2),
    );
    let rogue = other.leaf(
        "spiffe://cluster.local/ns/default/sa/rogue",
        &[],
        7,
        (2026, 11, 1),
        (2027, 1, 1),
    );
    let cert = |pem: &str, serial: &str, from: &str, to: &str| serde_json::json!({"pem": b64(pem), "serialNumber": serial, "validFrom": from, "expirationTime": to});
    let workload = |name: &str, sa: &str, node: &str| {
        serde_json::json!({"uid": format!("Kubernetes//Pod/default/{name}"), "name": name, "namespace": "default",
            "workloadIps": [], "protocol": "HBONE", "serviceAccount": sa, "trustDomain": "cluster.local", "node": node})
    };
    let d = serde_json::json!({
        "workloads": [workload("sleep-1", "sleep", "n1"), workload("sleep-2", "sleep", "n2"), workload("rogue-1", "rogue", "n1")],
        "services": [], "policies": [], "stagedServices": {},
        "config": {"localNode": "n1", "proxyMode": "Shared", "clusterId": "Kubernetes",
                   "caAddress": "https://istiod.istio-system.svc:15012", "xdsAddress": "https://istiod.istio-system.svc:15012"},
        "version": {"version": "1.29.0", "gitRevision": "c5c31102fd1ddefe95bf3c40dbbe36652dcd7889",
                    "rustVersion": "1.90", "buildProfile": "release", "buildStatus": "Clean",
                    "istioVersion": "1.29.0", "cryptoProvider": "aws-lc"},
        "certificates": [
            {"identity": "spiffe://cluster.local/ns/default/sa/gone", "state": "Unavailable: the identity is no longer needed", "certChain": [], "rootCerts": []},
            {"identity": "spiffe://cluster.local/ns/default/sa/rogue", "state": "Available",
             "certChain": [cert(&rogue.pem, "7", "2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z")],
             "rootCerts": [cert(&root.pem, "", "", "")]},
            {"identity": "spiffe://cluster.local/ns/default/sa/sleep", "state": "Available",
             "certChain": [cert(&sleep.pem, "4242", "2026-11-30T00:00:00Z", "2026-12-02T00:00:00Z")],
             "rootCerts": [cert(&root.pem, "", "", "")]}
        ]
    });
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ambient-current");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ztunnel.json");
    std::fs::write(&path, serde_json::to_vec(&d).unwrap()).unwrap();
    let p = path.to_string_lossy().to_string();
    let r = envinspect(&[&p, "-o", "json", "--now", "2026-12-01T12:00:00Z"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["warnings"],
        serde_json::json!([]),
        "the dump agrees with its certificates"
    );
    assert_eq!(
        v["ambient"]["git_revision"],
        "c5c31102fd1ddefe95bf3c40dbbe36652dcd7889"
    );
    assert_eq!(v["ambient"]["istio_version"], "1.29.0");
    assert_eq!(v["ambient"]["node"], "n1");
    let table = envinspect(&[&p, "--now", "2026-12-01T12:00:00Z"]).stdout;
    for line in [
        "              ztunnel 1.29.0, git c5c31102fd1ddefe95bf3c40dbbe36652dcd7889, Istio 1.29.0",
        "Node:         n1 (Shared)",
        "Talks to:     CA https://istiod.istio-system.svc:15012, xDS https://istiod.istio-system.svc:15012",
        "Workloads:    3 known (3 in the mesh over HBONE), on 2 node(s); 2 on its node",
    ] {
        assert!(table_has(&table, line), "no line {line:?} in\n{table}");
    }
    let secret = |name: &str| {
        v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no secret {name}"))
            .clone()
    };
    let s = secret("spiffe://cluster.local/ns/default/sa/sleep");
    assert_eq!(s["chain"]["status"], "valid");
    assert_eq!(s["trust"], serde_json::json!(["ROOTCA"]));
    // Its workloads on the ztunnel's node (sleep-2 runs on another node).
    assert_eq!(
        s["referenced_by"],
        serde_json::json!(["workload sleep-1.default"])
    );
    assert_eq!(s["certificates"][0]["serial"], "1092");
    assert_eq!(secret("ROOTCA")["kind"], "ca");
    assert_eq!(
        secret("spiffe://cluster.local/ns/default/sa/rogue")["chain"]["status"],
        "untrusted"
    );
    let gone = secret("spiffe://cluster.local/ns/default/sa/gone");
    assert_eq!(
        (gone["state"].as_str(), gone["state_detail"].as_str()),
        (
            Some("UNAVAILABLE"),
            Some("the identity is no longer needed")
        )
    );
    let rules: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        vec![
            (
                "chain-untrusted",
                "secret spiffe://cluster.local/ns/default/sa/rogue"
            ),
            (
                "cert-expiring",
                "secret spiffe://cluster.local/ns/default/sa/sleep"
            ),
        ]
    );
    let ids: Vec<&str> = v["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["spiffe_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "spiffe://cluster.local/ns/default/sa/rogue",
            "spiffe://cluster.local/ns/default/sa/sleep"
        ]
    );
    assert!(v["identities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["basis"] == "ztunnel"));
}
/// Identities whose roots differ (a CA migration): one CA secret per set of roots, each chain
/// verified against its own.
#[test]
fn identities_with_different_roots_get_a_root_secret_each() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (old, new) = (
        super::pki::ca((2026, 1, 1), (2036, 1, 1)),
        super::pki::ca((2026, 6, 1), (2036, 6, 1)),
    );
    let entry = |ca: &super::pki::Ca, sa: &str| {
        let leaf = ca.leaf(
            &format!("spiffe://cluster.local/ns/default/sa/{sa}"),
            &[],
            1,
            (2026, 11, 1),
            (2027, 1, 1),
        );
        serde_json::json!({"identity": format!("spiffe://cluster.local/ns/default/sa/{sa}"), "state": "Available",
            "certChain": [{"pem": b64(&leaf.pem)}], "rootCerts": [{"pem": b64(&ca.pem)}]})
    };
    let d = serde_json::json!({"workloads": [], "services": [], "certificates": [entry(&old, "a"), entry(&new, "b"), entry(&old, "c")]});
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ambient-two-roots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ztunnel.json");
    std::fs::write(&path, d.to_string()).unwrap();
    let r = envinspect(&[&path.to_string_lossy(), "-o", "json", "--now", NOW_140]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let got: Vec<(String, String, String)> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["trust"].to_string(),
                s["chain"]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let id = |sa: &str| format!("spiffe://cluster.local/ns/default/sa/{sa}");
    assert_eq!(
        got,
        vec![
            ("ROOTCA-1".into(), "[]".into(), "not_applicable".into()),
            ("ROOTCA-2".into(), "[]".into(), "not_applicable".into()),
            (id("a"), r#"["ROOTCA-1"]"#.into(), "valid".into()),
            (id("b"), r#"["ROOTCA-2"]"#.into(), "valid".into()),
            (id("c"), r#"["ROOTCA-1"]"#.into(), "valid".into()),
        ]
    );
    assert_eq!(
        v["secrets"][0]["referenced_by"],
        serde_json::json!([id("a"), id("c")])
    );
}
/// ztunnel's own output (the expected value of its `test_dump_certs`, fixtures/ztunnel): its
/// decimal serials (160 bits) and dates agree with the certificates; states as ztunnel wrote them.
#[test]
fn ztunnels_own_certificate_dump_reads_without_a_warning() {
    let path = fixture("ztunnel/dump_certs.json");
    let r = envinspect(&[&path, "-o", "json", "--now", NOW_140]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["warnings"], serde_json::json!([]));
    let rows: Vec<(String, String, String)> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
                s["certificates"][0]["serial"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let row = |n: &str, st: &str, se: &str| (n.to_string(), st.to_string(), se.to_string());
    assert_eq!(
        rows,
        vec![
            row(
                "ROOTCA",
                "ACTIVE",
                "4d9fda019e00b0343a841dd8edbf3c5c6c9a1bc8"
            ),
            row(
                "spiffe://error/ns/forgotten/sa/sa-failed",
                "UNAVAILABLE",
                ""
            ),
            row("spiffe://test/ns/test/sa/sa-pending", "INITIALIZING", ""),
            row(
                "spiffe://trust_domain/ns/namespace/sa/sa-0",
                "ACTIVE",
                "2f96602a12c1e5a2b06ad9dd3251a705e7f004b8"
            ),
            row(
                "spiffe://trust_domain/ns/namespace/sa/sa-1",
                "ACTIVE",
                "25417950598dbfd5d7050561d42958e1348a171f"
            ),
        ]
    );
    // The same key signed the leaves and the re-issued root: only time breaks the chain.
    let kind = |now: &str| {
        let r = envinspect(&[&path, "-o", "json", "--now", now]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["secrets"][3]["chain"]["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(kind("2023-03-11T07:00:00Z"), "root_validity");
    assert_eq!(kind(NOW_140), "validity");
}
