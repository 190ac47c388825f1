//! Differential `explain` test against a real Envoy 1.40 (`explain_config.rs`, the cases in
//! `explain_cases.rs`): twenty
//! connections and requests, each failing (or not) for one designed cause, sent one at a time;
//! Envoy writes each line three times (its default format, Istio's TEXT and JSON formats).
//! `envinspect explain` then reads Envoy's own `/config_dump?include_eds` and the three logs,
//! and must name the designed cause and the objects involved for every line — or, where the
//! default format does not carry what tells causes apart, say it cannot tell.

use std::path::Path;
use std::time::{Duration, Instant};

use envinspect::admin::Endpoint;
use serde_json::Value;

use super::envoy::{free_port, write, Envoy};
use super::explain_cases::{cases, send, DEFAULT_CLUSTERS};
use super::explain_config::{self as config, Ports, ALLOW_POLICY, WANTED_SAN};
use super::{envinspect, pki};

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

/// Waits until every log has `n` lines (Envoy flushes every 50 ms).
fn wait_for(dir: &Path, n: usize, case: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while config::LOGS.iter().any(|l| lines(&dir.join(l)) < n) {
        assert!(
            Instant::now() < deadline,
            "case {case}: Envoy wrote no line for it ({:?})",
            config::LOGS.map(|l| lines(&dir.join(l)))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn explain_names_the_cause_of_every_line_envoy_wrote() {
    let dir = Envoy::dir("explain");
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    let other = pki::ca((2026, 1, 1), (2036, 1, 1));
    write(&dir.join("certs/ca.pem"), &ca.pem);
    write(&dir.join("certs/other-ca.pem"), &other.pem);
    let server = ca.leaf(
        "spiffe://cluster.local/ns/default/sa/server",
        &["backend.test"],
        0x2001,
        (2026, 1, 1),
        (2035, 1, 1),
    );
    write(&dir.join("certs/server.pem"), &server.pem);
    write(&dir.join("certs/server.key"), &server.key_pem);
    let ports = Ports {
        front: free_port(),
        authz: free_port(),
        jwt: free_port(),
        tcp_rbac: free_port(),
        sni_only: free_port(),
        backend: free_port(),
        backend_tls: free_port(),
        closed: free_port(),
    };
    let jwk = super::jwt::Signer::load().rsa_jwk();
    let bootstrap = config::bootstrap(&dir.display().to_string(), &ports, &jwk);
    write(&dir.join("bootstrap.yaml"), &bootstrap.to_string());
    let envoy = Envoy::launch(dir.clone(), ca);

    let cases = cases();
    for (i, c) in cases.iter().enumerate() {
        send(&ports, c.send, &format!("case-{i}"));
        wait_for(&dir, i + 1, c.name);
    }
    let dump = dir.join("config_dump.json");
    std::fs::write(&dump, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    std::fs::write(dir.join("stats.txt"), envoy.get("/stats")).unwrap();
    std::fs::write(dir.join("prometheus.txt"), envoy.get("/stats/prometheus")).unwrap();
    // What this run captured, kept for a look (fixtures/envoy-1.40-explain came from here).
    let keep = dir.with_file_name("explain-capture");
    let _ = std::fs::remove_dir_all(&keep);
    std::fs::create_dir_all(&keep).unwrap();
    for f in [
        "config_dump.json",
        "stats.txt",
        "prometheus.txt",
        "bootstrap.yaml",
        "envoy.log",
    ]
    .into_iter()
    .chain(config::LOGS)
    {
        std::fs::copy(dir.join(f), keep.join(f)).unwrap();
    }

    let mut disagreements = Vec::new();
    for log in config::LOGS {
        let path = dir.join(log);
        let (d, l) = (dump.display().to_string(), path.display().to_string());
        let run = envinspect(&[
            "explain",
            &d,
            &l,
            "--all",
            "-o",
            "json",
            "--now",
            super::NOW_140,
        ]);
        assert_eq!(
            run.code, 1,
            "{log}: failures are explained, exit 1: {}",
            run.stderr
        );
        let doc: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{log}: {e}\n{}", run.stdout));
        let explained = doc["explained"].as_array().unwrap();
        assert_eq!(doc["summary"]["unmatched"], 0, "{log}: {}", doc["summary"]);
        assert_eq!(
            explained.len(),
            cases.len(),
            "{log}: one explained line per case"
        );
        let istio = log != "default.log";
        for (c, e) in cases.iter().zip(explained) {
            let want = if istio { c.istio } else { c.default };
            let text = e["explanation"].as_str().unwrap_or("");
            if e["rule"] != want {
                disagreements.push(format!(
                    "{log} {}: want {want}, got {} — {text}\n  {e}",
                    c.name, e["rule"]
                ));
                continue;
            }
            if !istio {
                if let Some((_, cluster)) = DEFAULT_CLUSTERS.iter().find(|(n, _)| *n == c.name) {
                    if e["cluster"] != *cluster {
                        disagreements.push(format!(
                            "{log} {}: cluster should be {cluster}, got {}\n  {e}",
                            c.name, e["cluster"]
                        ));
                    }
                }
                continue;
            }
            for (field, value) in c.objects {
                if e[*field] != *value {
                    disagreements.push(format!(
                        "{log} {}: {field} should be {value}, got {}\n  {e}",
                        c.name, e[*field]
                    ));
                }
            }
            if c.istio == "log-upstream-tls-san" {
                let sans = e["expected_sans"].to_string();
                if !sans.contains(WANTED_SAN) {
                    disagreements.push(format!("{log} {}: expected SANs {sans}", c.name));
                }
                // What the backend's certificate has, as Envoy named it.
                let presented = serde_json::json!([
                    "spiffe://cluster.local/ns/default/sa/server",
                    "backend.test"
                ]);
                if e["presented_sans"] != presented {
                    disagreements.push(format!(
                        "{log} {}: presented SANs {}",
                        c.name, e["presented_sans"]
                    ));
                }
            }
            if c.istio == "log-rbac-no-allow" && !text.contains("1 policies") {
                disagreements.push(format!(
                    "{log} {}: {text} (the ALLOW filter of {ALLOW_POLICY})",
                    c.name
                ));
            }
            if c.istio == "log-jwt-missing" && e["providers"] != serde_json::json!(["origins-0"]) {
                disagreements.push(format!("{log} {}: providers {}", c.name, e["providers"]));
            }
            if c.istio == "log-upstream-overflow" && !text.contains("max_pending_requests: 0") {
                disagreements.push(format!("{log} {}: {text}", c.name));
            }
            if c.istio == "log-upstream-timeout" && !text.contains("timeout 300ms") {
                disagreements.push(format!("{log} {}: {text}", c.name));
            }
        }
    }
    // The counters of the same run, in both forms Envoy writes them.
    let expected_counters = [
        (
            "stat-tls-verify-failed",
            "cluster tls-san",
            "ssl.fail_verify_san",
        ),
        (
            "stat-tls-verify-failed",
            "cluster tls-ca",
            "ssl.fail_verify_error",
        ),
        (
            "stat-upstream-connect-failed",
            "cluster closed",
            "upstream_cx_connect_fail",
        ),
        (
            "stat-no-healthy-upstream",
            "cluster empty",
            "upstream_cx_none_healthy",
        ),
        (
            "stat-circuit-breaker",
            "cluster overflow",
            "upstream_rq_pending_overflow",
        ),
        ("stat-upstream-timeout", "cluster ok", "upstream_rq_timeout"),
        (
            "stat-retries-exhausted",
            "cluster tls-san",
            "upstream_rq_retry_limit_exceeded",
        ),
        (
            "stat-no-filter-chain",
            "listener sni-only",
            "no_filter_chain_match",
        ),
        (
            "stat-no-route",
            "listener front HTTP connection manager front",
            "no_route = 2",
        ),
        (
            "stat-no-route",
            "listener front HTTP connection manager front",
            "no_cluster = 1",
        ),
        (
            "stat-rbac-denied",
            "listener authz HTTP connection manager authz",
            "rbac.denied = 2",
        ),
        (
            "stat-rbac-denied",
            "listener tcp-rbac network RBAC tcp_rbac",
            "rbac.denied = 1",
        ),
        (
            "stat-jwt-denied",
            "listener jwt HTTP connection manager jwt",
            "jwt_authn.denied = 2",
        ),
    ];
    let mut forms = Vec::new();
    for stats in ["stats.txt", "prometheus.txt"] {
        let (d, l, st) = (
            dump.display().to_string(),
            dir.join("text.log").display().to_string(),
            dir.join(stats).display().to_string(),
        );
        let run = envinspect(&[
            "explain",
            &d,
            &l,
            "--stats",
            &st,
            "-o",
            "json",
            "--now",
            super::NOW_140,
        ]);
        assert_eq!(run.code, 1, "{stats}: {}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let counters = doc["counters"].as_array().unwrap().clone();
        for (rule, subject, counter) in expected_counters {
            let found = counters.iter().any(|f| {
                f["rule"] == rule
                    && f["subject"] == subject
                    && f["message"].as_str().unwrap_or("").contains(counter)
            });
            if !found {
                disagreements.push(format!(
                    "{stats}: no {rule} for {subject} ({counter}) among {counters:?}"
                ));
            }
        }
        let unplaced: Vec<&Value> = counters
            .iter()
            .filter(|f| {
                f["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no object of the dump")
            })
            .collect();
        if !unplaced.is_empty() {
            disagreements.push(format!("{stats}: counters not placed: {unplaced:?}"));
        }
        // Both forms prove the same things about the same objects.
        let mut set: Vec<(String, String)> = counters
            .iter()
            .map(|f| (f["rule"].to_string(), f["subject"].to_string()))
            .collect();
        set.sort();
        forms.push(set);
    }
    // Live: the dump and /stats/prometheus read from the admin API say what the files say.
    let text = dir.join("text.log").display().to_string();
    let live = envinspect(&[
        "explain",
        "--admin",
        &envoy.admin,
        &text,
        "-o",
        "json",
        "--now",
        super::NOW_140,
    ]);
    assert_eq!(live.code, 1, "{}", live.stderr);
    let live: Value = serde_json::from_str(&live.stdout).unwrap();
    let saved = envinspect(&[
        "explain",
        &dump.display().to_string(),
        &text,
        "-o",
        "json",
        "--now",
        super::NOW_140,
    ]);
    let saved: Value = serde_json::from_str(&saved.stdout).unwrap();
    let rules = |d: &Value| {
        d["explained"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["rule"].clone())
            .collect::<Vec<_>>()
    };
    if rules(&live) != rules(&saved) {
        disagreements.push(format!(
            "--admin: {:?} against the saved dump's {:?}",
            rules(&live),
            rules(&saved)
        ));
    }
    let mut live_set: Vec<(String, String)> = live["counters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].to_string(), f["subject"].to_string()))
        .collect();
    live_set.sort();
    if live_set != forms[1] {
        disagreements.push(format!(
            "--admin counters {live_set:?} against the saved {:?}",
            forms[1]
        ));
    }
    if forms[0] != forms[1] {
        disagreements.push(format!(
            "/stats and /stats/prometheus disagree:\n{:?}\n{:?}",
            forms[0], forms[1]
        ));
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s) with Envoy:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
