//! Differential `explain` test against a real Envoy 1.40 (`explain_config.rs`): twenty
//! connections and requests, each failing (or not) for one designed cause, sent one at a time;
//! Envoy writes each line three times (its default format, Istio's TEXT and JSON formats).
//! `envinspect explain` then reads Envoy's own `/config_dump?include_eds` and the three logs,
//! and must name the designed cause and the objects involved for every line — or, where the
//! default format does not carry what tells causes apart, say it cannot tell.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use envinspect::source::admin::Endpoint;
use serde_json::Value;

use super::envoy::{free_port, write, Envoy};
use super::explain_config::{self as config, Ports, ALLOW_POLICY, DENY_POLICY, WANTED_SAN};
use super::{envinspect, pki};

/// What a case sends.
#[derive(Clone, Copy)]
enum Sent {
    /// An HTTP/1.1 request to a listener: port, method, Host, path, extra header.
    Http(
        fn(&Ports) -> u16,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ),
    /// Bytes that are not HTTP, then read until Envoy closes.
    Raw(fn(&Ports) -> u16, &'static [u8]),
    /// A request whose client hangs up after 100 ms.
    HangUp(fn(&Ports) -> u16, &'static str),
}

struct Case {
    name: &'static str,
    send: Sent,
    /// The rule for Istio's TEXT and JSON lines, and for Envoy's default format.
    istio: &'static str,
    default: &'static str,
    /// Objects the Istio lines must name: (field of the explained object, value).
    objects: &'static [(&'static str, &'static str)],
}

/// The cluster a default-format line must still be placed on (by its route, the only one for
/// the request that forwards), for these cases.
const DEFAULT_CLUSTERS: &[(&str, &str)] = &[
    ("no endpoint", "empty"),
    ("missing cluster", "missing"),
    ("circuit breaker", "overflow"),
    ("timeout", "ok"),
    ("upstream status", "ok"),
];

fn front(p: &Ports) -> u16 {
    p.front
}
fn authz(p: &Ports) -> u16 {
    p.authz
}
fn jwt(p: &Ports) -> u16 {
    p.jwt
}
fn tcp_rbac(p: &Ports) -> u16 {
    p.tcp_rbac
}
fn sni_only(p: &Ports) -> u16 {
    p.sni_only
}

fn cases() -> Vec<Case> {
    use Sent::*;
    let get = |path| Http(front, "GET", "app.test", path, None);
    vec![
        Case {
            name: "ok",
            send: get("/ok"),
            istio: "log-ok",
            default: "log-ok",
            objects: &[
                ("listener", "front"),
                ("route", "r-ok"),
                ("cluster", "ok"),
                ("virtual_host", "app"),
            ],
        },
        Case {
            name: "no endpoint",
            send: get("/empty"),
            istio: "log-no-healthy-upstream",
            default: "log-no-healthy-upstream",
            objects: &[
                ("listener", "front"),
                ("filter_chain", "front-http"),
                ("route", "r-empty"),
                ("cluster", "empty"),
            ],
        },
        Case {
            name: "missing cluster",
            send: get("/missing"),
            istio: "log-cluster-not-found",
            default: "log-cluster-not-found",
            objects: &[
                ("listener", "front"),
                ("route", "r-missing"),
                ("cluster", "missing"),
            ],
        },
        Case {
            name: "SAN mismatch, retried",
            send: get("/san-retry"),
            istio: "log-upstream-tls-san",
            default: "log-cannot-tell",
            objects: &[("route", "r-san-retry"), ("cluster", "tls-san")],
        },
        Case {
            name: "SAN mismatch",
            send: get("/san"),
            istio: "log-upstream-tls-san",
            default: "log-cannot-tell",
            objects: &[("route", "r-san"), ("cluster", "tls-san")],
        },
        Case {
            name: "untrusted CA",
            send: get("/ca"),
            istio: "log-upstream-tls-untrusted",
            default: "log-cannot-tell",
            objects: &[("route", "r-ca"), ("cluster", "tls-ca")],
        },
        Case {
            name: "closed port",
            send: get("/closed"),
            istio: "log-upstream-connect-failure",
            default: "log-cannot-tell",
            objects: &[("route", "r-closed"), ("cluster", "closed")],
        },
        Case {
            name: "circuit breaker",
            send: get("/overflow"),
            istio: "log-upstream-overflow",
            default: "log-upstream-overflow",
            objects: &[("route", "r-overflow"), ("cluster", "overflow")],
        },
        Case {
            name: "timeout",
            send: get("/slow"),
            istio: "log-upstream-timeout",
            default: "log-upstream-timeout",
            objects: &[("route", "r-slow"), ("cluster", "ok")],
        },
        Case {
            name: "upstream status",
            send: get("/teapot"),
            istio: "log-upstream-status",
            default: "log-upstream-status",
            objects: &[("route", "r-teapot"), ("cluster", "ok")],
        },
        Case {
            name: "no route",
            send: get("/nothing"),
            istio: "log-no-route",
            default: "log-cannot-tell",
            objects: &[
                ("listener", "front"),
                ("virtual_host", "app"),
                ("route_config", "front"),
            ],
        },
        Case {
            name: "no virtual host",
            send: Http(front, "GET", "unknown.test", "/", None),
            istio: "log-no-virtual-host",
            default: "log-no-virtual-host",
            objects: &[("listener", "front"), ("route_config", "front")],
        },
        Case {
            name: "RBAC DENY",
            send: Http(authz, "GET", "authz.test", "/admin", None),
            istio: "log-rbac-denied-policy",
            default: "log-cannot-tell",
            objects: &[("listener", "authz"), ("policy", DENY_POLICY)],
        },
        Case {
            name: "RBAC no ALLOW",
            send: Http(authz, "POST", "authz.test", "/", None),
            istio: "log-rbac-no-allow",
            default: "log-cannot-tell",
            objects: &[("listener", "authz"), ("filter_chain", "authz-http")],
        },
        Case {
            name: "allowed",
            send: Http(authz, "GET", "authz.test", "/", None),
            istio: "log-ok",
            default: "log-ok",
            objects: &[("listener", "authz"), ("route", "r-authz")],
        },
        Case {
            name: "JWT missing",
            send: Http(jwt, "GET", "jwt.test", "/", None),
            istio: "log-jwt-missing",
            default: "log-cannot-tell",
            objects: &[("listener", "jwt")],
        },
        Case {
            name: "JWT invalid",
            send: Http(
                jwt,
                "GET",
                "jwt.test",
                "/",
                Some("authorization: Bearer not.a.token"),
            ),
            istio: "log-jwt-invalid",
            default: "log-cannot-tell",
            objects: &[("listener", "jwt")],
        },
        Case {
            name: "network RBAC",
            send: Raw(tcp_rbac, b"hello\n"),
            istio: "log-rbac-network-denied",
            default: "log-ok",
            objects: &[("listener", "tcp-rbac"), ("cluster", "ok")],
        },
        Case {
            name: "no filter chain",
            send: Raw(sni_only, b"hello\n"),
            istio: "log-no-filter-chain",
            default: "log-no-filter-chain",
            objects: &[("listener", "sni-only")],
        },
        Case {
            name: "protocol error",
            send: Raw(front, b"NOT HTTP AT ALL\r\n\r\n"),
            istio: "log-downstream-protocol-error",
            default: "log-downstream-protocol-error",
            objects: &[("listener", "front")],
        },
        Case {
            name: "client hangs up",
            send: HangUp(front, "/slow"),
            istio: "log-downstream-reset",
            default: "log-downstream-reset",
            objects: &[("listener", "front"), ("route", "r-slow")],
        },
    ]
}

fn send(p: &Ports, s: Sent, id: &str) {
    let connect = |port: u16| {
        let c = TcpStream::connect(("127.0.0.1", port)).expect("Envoy listens");
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    };
    let request = |method: &str, host: &str, path: &str, extra: Option<&str>| {
        let extra = extra.map_or(String::new(), |h| format!("{h}\r\n"));
        format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\nx-request-id: {id}\r\n{extra}connection: close\r\n\r\n")
    };
    match s {
        Sent::Http(port, method, host, path, extra) => {
            let mut c = connect(port(p));
            c.write_all(request(method, host, path, extra).as_bytes())
                .unwrap();
            let _ = c.read_to_end(&mut Vec::new());
        }
        Sent::Raw(port, bytes) => {
            let mut c = connect(port(p));
            let _ = c.write_all(bytes);
            let _ = c.read_to_end(&mut Vec::new());
        }
        Sent::HangUp(port, path) => {
            let mut c = connect(port(p));
            c.write_all(request("GET", "app.test", path, None).as_bytes())
                .unwrap();
            std::thread::sleep(Duration::from_millis(100));
            drop(c);
        }
    }
}

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
