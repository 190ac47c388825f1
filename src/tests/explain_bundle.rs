//! Evidence in a bundle: a bug-report whose proxy has its `istio-proxy.log` and
//! `stats/prometheus` beside its dump (where `istioctl bug-report` writes them), as a directory
//! and as a `.tar.gz`: `bundle` gains the FAILED column and the explained causes, and `explain
//! BUNDLE` explains every proxy's lines.

use serde_json::Value;

use super::bundle::{dir, tar_gz, write_tree};
use super::{envinspect, root, settings, NOW_140};

fn files() -> Vec<(String, Vec<u8>)> {
    let read = |p: &str| std::fs::read(root().join(p)).unwrap();
    let front = "bug-report/proxies/shop/front-7d9f/";
    vec![
        (
            format!("{front}config_dump?include_eds"),
            read("fixtures/envoy-1.40-explain/config_dump.json"),
        ),
        (
            format!("{front}istio-proxy.log"),
            read("fixtures/envoy-1.40-explain/istio-proxy.log"),
        ),
        (
            format!("{front}stats/prometheus"),
            read("fixtures/envoy-1.40-explain/prometheus.txt"),
        ),
        (
            "bug-report/proxies/shop/quiet-1/config_dump?include_eds".into(),
            read("fixtures/envoy-1.40/config_dump_include_eds.json"),
        ),
    ]
}

#[test]
fn a_bug_reports_logs_and_stats_are_explained_per_proxy() {
    let d = dir("evidence");
    let tree = d.join("tree");
    write_tree(&tree, &files());
    let tgz = tar_gz(&d.join("bug-report.tar.gz"), &files(), |_| {});
    for bundle in [tree.display().to_string(), tgz] {
        let run = envinspect(&["bundle", &bundle, "-o", "json", "--now", NOW_140]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let front = doc["proxies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["proxy"] == "shop/front-7d9f")
            .unwrap();
        let ev = &front["evidence"];
        assert_eq!(ev["summary"]["failed"], 21, "{ev}");
        assert_eq!(ev["summary"]["envoy_log"], 41);
        assert_eq!(ev["summary"]["unmatched"], 2);
        let mut causes: Vec<(&str, u64)> = Vec::new();
        for g in ev["causes"].as_array().unwrap() {
            let (rule, n) = (g["rule"].as_str().unwrap(), g["count"].as_u64().unwrap());
            match causes.iter_mut().find(|(r, _)| *r == rule) {
                Some(c) => c.1 += n,
                None => causes.push((rule, n)),
            }
        }
        for want in [
            ("log-upstream-tls-san", 2),
            ("log-no-healthy-upstream", 2),
            ("log-rbac-denied-policy", 1),
            ("log-no-filter-chain", 1),
        ] {
            assert!(causes.contains(&want), "{want:?} in {causes:?}");
        }
        assert!(ev["counters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "stat-tls-verify-failed" && f["subject"] == "cluster tls-san"));
        assert!(ev["stats"]
            .as_str()
            .unwrap()
            .ends_with("proxies/shop/front-7d9f/stats/prometheus"));
        // The proxy without a log has no evidence, and no FAILED cell.
        let quiet = doc["proxies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["proxy"] == "shop/quiet-1")
            .unwrap();
        assert!(quiet.get("evidence").is_none(), "{quiet}");
    }
    let args = ["bundle", &tree.display().to_string(), "--now", NOW_140];
    let run = envinspect(&args);
    assert_eq!(run.code, 1);
    let shown = run
        .transcript(&args)
        .replace(&tree.display().to_string(), "[TREE]");
    settings().bind(|| insta::assert_snapshot!("explain__bundle_table", shown));
    let args = ["explain", &tree.display().to_string(), "--now", NOW_140];
    let run = envinspect(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let shown = run
        .transcript(&args)
        .replace(&tree.display().to_string(), "[TREE]");
    settings().bind(|| insta::assert_snapshot!("explain__of_a_bundle", shown));
    let run = envinspect(&[
        "explain",
        &tree.display().to_string(),
        "-o",
        "json",
        "--now",
        NOW_140,
    ]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["proxies"]["shop/front-7d9f"]["summary"]["failed"], 21);
}

#[test]
fn an_unreadable_log_in_a_bundle_is_an_error_and_the_rest_is_explained() {
    let d = dir("evidence-bad");
    let mut f = files();
    // A gzip stream cut short where the log should be.
    f[1].1 = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3];
    write_tree(&d, &f);
    let run = envinspect(&["bundle", &d.display().to_string(), "--now", NOW_140]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    // Its counters are still read.
    assert!(
        run.stdout.contains("stat-tls-verify-failed"),
        "{}",
        run.stdout
    );
}

/// The fleet rule predicts the SAN failure; the client's own log and counters show it.
#[test]
fn fleet_findings_cite_the_clients_evidence() {
    let mut files = super::bundle::bug_report();
    let cluster = "outbound|80||bar.default.svc.cluster.local";
    let reason = "TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify_cert_failed:_SAN_matcher,_certificate_SANs_are_[spiffe://cluster.local/ns/default/sa/baz]:TLS_error_end";
    let line = format!(
        "[2026-12-01T10:00:00.000Z] \"GET / HTTP/1.1\" 503 URX,UF upstream_reset_before_response_started{{remote_connection_failure|{reason}}} - \"{reason}\" 0 91 3 - \"-\" \"curl\" \"id\" \"bar\" \"10.0.0.3:80\" {cluster} - 10.96.0.3:80 10.0.0.1:40000 - -\n"
    );
    files.push((
        "bug-report/proxies/default/client-1/istio-proxy.log".into(),
        line.repeat(3).into_bytes(),
    ));
    files.push((
        "bug-report/proxies/default/client-1/stats/prometheus".into(),
        format!("envoy_cluster_ssl_fail_verify_san{{envoy_cluster_name=\"{cluster}\"}} 9\n")
            .into_bytes(),
    ));
    let d = dir("fleet-evidence");
    write_tree(&d, &files);
    let run = envinspect(&[
        "bundle",
        &d.display().to_string(),
        "-o",
        "json",
        "--now",
        NOW_140,
    ]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "san-unsatisfiable" && f["subject"] == "default/client-1 → default/bar-1"
        })
        .unwrap();
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains("seen in its evidence: 3 log line(s) log-upstream-tls-san"),
        "{m}"
    );
    assert!(
        m.contains(&format!("cluster.{cluster}.ssl.fail_verify_san = 9")),
        "{m}"
    );
    // The proxy without evidence keeps the message as it was.
    let other = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "san-unsatisfiable" && f["subject"] == "default/foo-1 → default/bar-1"
        })
        .unwrap();
    assert!(!other["message"]
        .as_str()
        .unwrap()
        .contains("seen in its evidence"));
}
