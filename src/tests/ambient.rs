//! Istio ambient's ztunnel dump: agreement with every `istioctl ztunnel-config` golden beside it
//! (deliberate differences normalised here and listed in `docs/istioctl-differences.md`), the
//! views a ztunnel dump has and refuses, and its findings.

use super::goldens::{agree, golden};
use super::{envinspect, fixture, NOW_140};

const ZT: &str = "istio/istioctl/pkg/writer/ztunnel/configdump/testdata";

fn dump() -> String {
    fixture(&format!("{ZT}/dump.json"))
}

/// The paragraph of `text` whose first line starts with `header`.
fn section<'a>(text: &'a str, header: &str) -> &'a str {
    text.split("\n\n")
        .map(|p| p.trim_start_matches('\n'))
        .find(|p| p.starts_with(header))
        .unwrap_or_else(|| panic!("no paragraph starting with {header:?} in\n{text}"))
}

/// The table under a title line (`WORKLOADS`, `CONNECTIONS`) of the report.
fn titled<'a>(text: &'a str, title: &str) -> &'a str {
    let p = section(text, &format!("{title}\n"));
    &p[title.len() + 1..]
}

/// The table under a `------ X INFO ------` heading of `allsummary_withheaders.txt`.
fn golden_section(heading: &str) -> String {
    let all = golden(&format!("{ZT}/allsummary_withheaders.txt"));
    let start = all.find(heading).expect(heading);
    let rest = &all[start..];
    let rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
    let end = rest.find("------").unwrap_or(rest.len());
    rest[..end].trim().to_string()
}

fn ours(args: &[&str]) -> String {
    let mut full = args.to_vec();
    let d = dump();
    full.extend([d.as_str(), "--now", NOW_140]);
    let r = envinspect(&full);
    assert!(r.code <= 1, "{args:?}: {}", r.stderr);
    r.stdout
}

const WORKLOAD_COLS: [(&str, &str); 6] = [
    ("NAMESPACE", "NAMESPACE"),
    ("POD NAME", "POD NAME"),
    ("ADDRESS", "ADDRESS"),
    ("NODE", "NODE"),
    ("WAYPOINT", "WAYPOINT"),
    ("PROTOCOL", "PROTOCOL"),
];

#[test]
fn workloads_agree_with_istioctl_with_every_filter() {
    for (golden_file, args) in [
        ("workloadsummary.txt", vec!["workloads"]),
        (
            "workloadsummary_default.txt",
            vec!["workloads", "--namespace", "default"],
        ),
        (
            "workloadsummary_workload.txt",
            vec![
                "workloads",
                "--workload",
                "productpage-v1-675fc69cf-jscn2.bookinfo",
            ],
        ),
    ] {
        let out = ours(&args);
        agree(
            &golden(&format!("{ZT}/{golden_file}")),
            section(&out, "NAMESPACE"),
            &WORKLOAD_COLS,
            |_| {},
        );
    }
    // The same workload by address and by pod name alone.
    for w in ["10.244.2.53", "productpage-v1-675fc69cf-jscn2"] {
        let out = ours(&["workloads", "--workload", w]);
        agree(
            &golden(&format!("{ZT}/workloadsummary_workload.txt")),
            section(&out, "NAMESPACE"),
            &WORKLOAD_COLS,
            |_| {},
        );
    }
}

#[test]
fn services_policies_and_connections_agree_with_istioctl() {
    let cols = [
        ("NAMESPACE", "NAMESPACE"),
        ("SERVICE NAME", "SERVICE NAME"),
        ("SERVICE VIP", "SERVICE VIP"),
        ("WAYPOINT", "WAYPOINT"),
        ("ENDPOINTS", "ENDPOINTS"),
    ];
    let out = ours(&["services"]);
    agree(
        &golden_section("SERVICE INFO"),
        section(&out, "NAMESPACE"),
        &cols,
        |_| {},
    );

    let policy_cols = [
        ("NAMESPACE", "NAMESPACE"),
        ("POLICY NAME", "POLICY NAME"),
        ("ACTION", "ACTION"),
        ("SCOPE", "SCOPE"),
    ];
    let out = ours(&["authz"]);
    agree(
        &golden(&format!("{ZT}/policies.txt")),
        section(&out, "NAMESPACE"),
        &policy_cols,
        |_| {},
    );
    assert_eq!(
        golden_section("POLICY INFO"),
        golden(&format!("{ZT}/policies.txt")).trim()
    );

    let conn_cols = [
        ("WORKLOAD", "WORKLOAD"),
        ("DIRECTION", "DIRECTION"),
        ("LOCAL", "LOCAL"),
        ("REMOTE", "REMOTE"),
        ("REMOTE TARGET", "REMOTE TARGET"),
        ("PROTOCOL", "PROTOCOL"),
    ];
    let report = ours(&[]);
    agree(
        &golden_section("CONNECTIONS INFO"),
        titled(&report, "CONNECTIONS"),
        &conn_cols,
        |_| {},
    );
    // The report's workload table is the `workloads` view.
    agree(
        &golden(&format!("{ZT}/workloadsummary.txt")),
        titled(&report, "WORKLOADS"),
        &WORKLOAD_COLS,
        |_| {},
    );
}

/// `istioctl ztunnel-config connections` on its connections list (workload states alone), whole
/// and for one workload; the dump's own workloadState gives the same rows.
#[test]
fn connections_agree_with_istioctl() {
    let cols = [
        ("WORKLOAD", "WORKLOAD"),
        ("DIRECTION", "DIRECTION"),
        ("LOCAL", "LOCAL"),
        ("REMOTE", "REMOTE"),
        ("REMOTE TARGET", "REMOTE TARGET"),
        ("PROTOCOL", "PROTOCOL"),
    ];
    let list = fixture(&format!("{ZT}/connectionsdump.json"));
    for (golden_file, extra) in [
        ("connectionsummary.txt", vec![]),
        (
            "connectionsummary_workload.txt",
            vec!["--workload", "productpage-v1-796f87b58-97bjk.bookinfo"],
        ),
    ] {
        for source in [list.as_str(), dump().as_str()] {
            let mut args = vec!["connections", source];
            args.extend(&extra);
            let r = envinspect(&args);
            // The dump's findings (an expired certificate) are the exit code of every view.
            let findings = i32::from(source != list);
            assert_eq!(r.code, findings, "{args:?}: {}", r.stderr);
            agree(
                &golden(&format!("{ZT}/{golden_file}")),
                section(&r.stdout, "WORKLOAD"),
                &cols,
                |_| {},
            );
        }
    }
    // By pod name alone, too.
    let r = envinspect(&[
        "connections",
        &list,
        "--workload",
        "productpage-v1-796f87b58-97bjk",
    ]);
    agree(
        &golden(&format!("{ZT}/connectionsummary_workload.txt")),
        &r.stdout,
        &cols,
        |_| {},
    );
}

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
}

#[test]
fn envoy_views_are_refused_for_ztunnel_and_ztunnel_views_for_envoy() {
    for view in ["clusters", "listeners", "routes", "endpoints"] {
        let r = envinspect(&[view, &dump()]);
        assert_eq!(r.code, 2, "{view}");
        assert!(r.stdout.is_empty());
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{view} cannot be shown for a ztunnel config dump")),
            "{}",
            r.stderr
        );
    }
    let r = envinspect(&["trace", &dump(), "reviews:9080"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("trace cannot be shown for a ztunnel config dump"),
        "{}",
        r.stderr
    );
    let envoy = fixture("envoy-1.40/config_dump.json");
    for view in ["workloads", "services", "connections"] {
        let r = envinspect(&[view, &envoy]);
        assert_eq!(r.code, 2, "{view}");
        assert!(
            r.stderr.contains(&format!("{view} cannot be shown for a config dump: workloads and services are what Istio ambient's ztunnel knows")),
            "{}",
            r.stderr
        );
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
    assert_eq!(
        s["certificates"][0]["serial"],
        "00000000000000000000000000001092"
    );
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

/// One snapshot per command × format on the ztunnel dump, and an evaluation of each kind.
#[test]
fn every_ztunnel_view_in_every_format() {
    let d = dump();
    let mut cases: Vec<(String, Vec<&str>)> = Vec::new();
    for cmd in [
        "secrets",
        "certs",
        "workloads",
        "services",
        "connections",
        "authz",
    ] {
        for format in ["table", "json", "yaml"] {
            cases.push((
                format!("{cmd}__istio_ztunnel__{format}"),
                vec![cmd, d.as_str(), "-o", format],
            ));
        }
    }
    let request = ["--port", "9080", "--source-ip", "10.244.2.58"];
    for (name, who, dst) in [
        (
            "allow_nothing_denies",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.244.2.56",
        ),
        (
            "no_policy_allows",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.244.2.53",
        ),
        (
            "not_in_mesh",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.244.1.40",
        ),
        (
            "unknown_workload",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.1.2.3",
        ),
    ] {
        for format in ["table", "json"] {
            let mut args = vec![
                "authz",
                d.as_str(),
                "-o",
                format,
                "--principal",
                who,
                "--destination-ip",
                dst,
            ];
            args.extend(request);
            cases.push((format!("authz__istio_ztunnel_{name}__{format}"), args));
        }
    }
    for format in ["table", "json"] {
        let args = vec![
            "authz",
            d.as_str(),
            "--workload",
            "productpage-v1-675fc69cf-kkrm2.default",
            "-o",
            format,
        ];
        cases.push((format!("authz__istio_ztunnel_workload__{format}"), args));
    }
    for (name, mut args) in cases {
        args.extend(["--now", NOW_140]);
        let run = envinspect(&args);
        run.assert_ok(&name);
        super::settings().bind(|| insta::assert_snapshot!(name, run.transcript(&args)));
    }
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

/// `authz --workload`: the policies ztunnel checks for one workload, and the same workload as an
/// evaluation's destination (what --destination-ip with its address gives).
#[test]
fn authz_for_one_workload() {
    let d = dump();
    let view = |w: &str| {
        let r = envinspect(&["authz", &d, "--workload", w, "-o", "json", "--now", NOW_140]);
        assert!(r.code <= 1, "{}", r.stderr);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    p["namespace"].as_str().unwrap(),
                    p["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    // default's namespace policy applies; the workload-selector one is named by no workload.
    let v = view("productpage-v1-675fc69cf-kkrm2.default");
    assert_eq!(v["workload"], "productpage-v1-675fc69cf-kkrm2.default");
    assert_eq!(names(&v), ["default/allow-nothing"]);
    assert!(names(&view("details-v1-698d88b-dqrbr")).is_empty());
    assert_eq!(names(&view("10.244.2.56")), ["default/allow-nothing"]);
    let table = envinspect(&[
        "authz",
        &d,
        "--workload",
        "httpbin-7447985f87-t8hv7.default",
    ]);
    assert!(
        table.stdout.contains("Not in the ambient mesh"),
        "{}",
        table.stdout
    );

    let eval = |dest: &[&str]| {
        let mut args = vec![
            "authz",
            d.as_str(),
            "-o",
            "json",
            "--plaintext",
            "--port",
            "9080",
        ];
        args.extend(dest);
        let r = envinspect(&args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        r.stdout
    };
    assert_eq!(
        eval(&["--workload", "productpage-v1-675fc69cf-kkrm2.default"]),
        eval(&["--destination-ip", "10.244.2.56"])
    );
    for (args, error) in [
        (
            vec!["authz", d.as_str(), "--workload", "nope"],
            "authz --workload nope: no workload of the ztunnel dump has that name or address",
        ),
        (
            vec![
                "authz",
                "fixtures/envoy-1.40/config_dump.json",
                "--workload",
                "x",
            ],
            "authz --workload names a ztunnel's workload",
        ),
    ] {
        let r = envinspect(&args);
        assert_eq!(r.code, 2);
        assert_eq!(r.stderr.lines().count(), 1);
        assert!(r.stderr.contains(error), "{}", r.stderr);
    }
}
