//! `explain` through the real binary on the captured Envoy 1.40 fixture
//! (`fixtures/envoy-1.40-explain`): the causes the live run cannot provoke (rate limits, faults,
//! resets, overload, ext_authz…), written as Envoy writes them in Istio's TEXT format; counters
//! the live run cannot raise; snapshots of every output format; and bad input (cut and binary
//! lines, unreadable files, stats that are not stats, a line with no end).

use serde_json::Value;

use super::{envinspect, envinspect_stdin, settings, NOW_140};

const DIR: &str = "fixtures/envoy-1.40-explain";

fn dump() -> String {
    format!("{DIR}/config_dump.json")
}

/// An Istio TEXT line on the fixture's `front` listener (127.0.0.1:27860).
fn line(
    status: &str,
    flags: &str,
    details: &str,
    reason: &str,
    host: &str,
    cluster: &str,
    route: &str,
) -> String {
    format!(
        "[2026-12-07T06:48:14.105Z] \"GET /ok HTTP/1.1\" {status} {flags} {details} - \"{reason}\" 0 19 0 - \"-\" \"-\" \"id\" \"app.test\" \"{host}\" {cluster} - 127.0.0.1:27860 127.0.0.1:44820 - {route}"
    )
}

/// Causes the live test does not provoke: (rule, line).
fn synthetic() -> Vec<(&'static str, String)> {
    let up =
        |status, flags, details| line(status, flags, details, "-", "127.0.0.1:27865", "ok", "r-ok");
    let local = |status, flags, details| line(status, flags, details, "-", "-", "ok", "r-ok");
    vec![
        ("log-rate-limited", local("429", "RL", "request_rate_limited")),
        ("log-rate-limited", local("500", "RLSE", "rate_limiter_error")),
        ("log-fault-injected", local("503", "FI", "fault_filter_abort")),
        ("log-upstream-reset", up("503", "UC", "upstream_reset_before_response_started{connection_termination}")),
        ("log-upstream-reset", up("503", "UR", "upstream_reset_before_response_started{remote_reset}")),
        ("log-stream-timeout", up("408", "SI", "stream_idle_timeout")),
        ("log-overload", local("503", "OM", "overload_manager")),
        ("log-dns-failure", local("503", "DF", "dns_resolution_failure")),
        ("log-upstream-protocol-error", up("502", "UPE", "upstream_reset_before_response_started{protocol_error}")),
        ("log-ext-authz-denied", local("403", "UAEX", "ext_authz_denied")),
        ("log-ext-authz-error", local("403", "UAEX", "ext_authz_error")),
        ("log-local-reply", local("503", "-", "direct_response")),
        ("log-other-version", line("503", "UH", "no_healthy_upstream", "-", "-", "outbound|9080||gone.default.svc.cluster.local", "r-ok")),
        ("log-other-version", line("503", "UH", "no_healthy_upstream", "-", "-", "ok", "r-renamed")),
        (
            "log-upstream-tls-expired",
            line("503", "UF", "upstream_reset_before_response_started{remote_connection_failure}", "TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify_cert_failed:_X509_verify_cert:_certificate_verification_error_at_depth_0:_certificate_has_expired:TLS_error_end", "127.0.0.1:27866", "tls-ca", "r-ca"),
        ),
        (
            "log-upstream-tls-failure",
            line("503", "UF", "upstream_reset_before_response_started{remote_connection_failure}", "TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end", "127.0.0.1:27866", "tls-ca", "r-ca"),
        ),
        ("log-cannot-tell", local("503", "XYZ", "some_extension")),
        ("log-cannot-tell", local("503", "-", "-")),
        ("log-downstream-protocol-error", local("400", "IH", "request_headers_failed_strict_check")),
    ]
}

/// The rules the live differential test (`explain_live.rs`) checks against Envoy.
const LIVE: &[&str] = &[
    "log-ok",
    "log-no-healthy-upstream",
    "log-cluster-not-found",
    "log-upstream-tls-san",
    "log-upstream-tls-untrusted",
    "log-upstream-connect-failure",
    "log-upstream-overflow",
    "log-upstream-timeout",
    "log-upstream-status",
    "log-no-route",
    "log-no-virtual-host",
    "log-rbac-denied-policy",
    "log-rbac-no-allow",
    "log-jwt-missing",
    "log-jwt-invalid",
    "log-rbac-network-denied",
    "log-no-filter-chain",
    "log-downstream-protocol-error",
    "log-downstream-reset",
    "stat-tls-verify-failed",
    "stat-tls-handshake-failed",
    "stat-upstream-connect-failed",
    "stat-no-healthy-upstream",
    "stat-circuit-breaker",
    "stat-upstream-timeout",
    "stat-retries-exhausted",
    "stat-no-filter-chain",
    "stat-no-route",
    "stat-rbac-denied",
    "stat-jwt-denied",
];

/// Counters the live run does not raise: (rule, stats text).
const COUNTERS: &[(&str, &str)] = &[
    (
        "stat-outlier-ejection",
        "cluster.ok.outlier_detection.ejections_enforced_total: 3",
    ),
    ("stat-upstream-reset", "cluster.ok.upstream_rq_rx_reset: 2"),
    (
        "stat-rbac-shadow-denied",
        "http.authz.rbac.istio_dry_run_allow_shadow_denied: 5",
    ),
    ("stat-ext-authz-denied", "http.authz.ext_authz.error: 1"),
    (
        "stat-update-rejected",
        "listener_manager.lds.update_rejected: 1",
    ),
];

/// Where `rules.rs` learns which log-* and stat-* rules are covered here and live.
pub fn covered() -> Vec<&'static str> {
    let mut all: Vec<&str> = LIVE.to_vec();
    all.extend(synthetic().iter().map(|(r, _)| *r));
    all.extend(COUNTERS.iter().map(|(r, _)| *r));
    all
}

fn explain_json(args: &[&str], stdin: Option<&[u8]>) -> (i32, Value, String) {
    let run = envinspect_stdin(args, stdin);
    let doc = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run.code, doc, run.stderr)
}

#[test]
fn every_cause_is_named_from_its_line() {
    let ok = line(
        "200",
        "-",
        "via_upstream",
        "-",
        "127.0.0.1:27865",
        "ok",
        "r-ok",
    );
    for (rule, l) in synthetic() {
        let input = format!("{l}\n{ok}\n");
        let d = dump();
        let (code, doc, err) = explain_json(
            &["explain", &d, "-", "--all", "-o", "json", "--now", NOW_140],
            Some(input.as_bytes()),
        );
        assert_eq!(code, 1, "{rule}: {err}");
        let e = &doc["explained"];
        assert_eq!(e[0]["rule"], rule, "{l}\n{}", e[0]);
        assert!(!e[0]["explanation"].as_str().unwrap().is_empty());
        // The same request without a failure is not this cause.
        assert_eq!(e[1]["rule"], "log-ok", "{}", e[1]);
        // Pointers are into the dump.
        let dump: Value =
            serde_json::from_str(&std::fs::read_to_string(super::root().join(dump())).unwrap())
                .unwrap();
        for p in e[0]["evidence"].as_array().unwrap() {
            assert!(dump.pointer(p.as_str().unwrap()).is_some(), "{rule}: {p}");
        }
    }
}

#[test]
fn every_counter_rule_is_named_from_its_counter() {
    for (rule, text) in COUNTERS {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("stats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{rule}.txt"));
        std::fs::write(&path, format!("{text}\ncluster.ok.upstream_cx_total: 3\n")).unwrap();
        let p = path.display().to_string();
        let run = envinspect(&[&dump(), "--stats", &p, "-o", "json", "--now", NOW_140]);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let found: Vec<&Value> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == *rule)
            .collect();
        assert_eq!(found.len(), 1, "{rule}: {}", run.stdout);
        // Without the counter, no such finding.
        std::fs::write(&path, "cluster.ok.upstream_cx_total: 3\n").unwrap();
        let run = envinspect(&[&dump(), "--stats", &p, "-o", "json", "--now", NOW_140]);
        assert!(
            !run.stdout.contains(&format!("\"{rule}\"")),
            "{rule} without its counter"
        );
    }
}

#[test]
fn every_log_and_stat_rule_has_a_case() {
    let covered = covered();
    for r in envinspect::model::catalog::CATALOG {
        let id = r.id.as_str();
        if id.starts_with("log-") || id.starts_with("stat-") {
            assert!(covered.contains(&id), "{id} has no case");
        }
    }
}

#[test]
fn explain_outputs_are_snapshotted() {
    let d = dump();
    let log = format!("{DIR}/istio-proxy.log");
    let stats = format!("{DIR}/prometheus.txt");
    for (name, args) in [
        (
            "explain__table",
            vec!["explain", &d, &log, "--stats", &stats, "--now", NOW_140],
        ),
        (
            "explain__default_format",
            vec![
                "explain",
                &d,
                "fixtures/envoy-1.40-explain/default.log",
                "--now",
                NOW_140,
            ],
        ),
        (
            "explain__json",
            vec![
                "explain",
                &d,
                "fixtures/envoy-1.40-explain/json.log",
                "--stats",
                &stats,
                "-o",
                "json",
                "--now",
                NOW_140,
            ],
        ),
        (
            "explain__yaml",
            vec![
                "explain",
                &d,
                "fixtures/envoy-1.40-explain/text.log",
                "-o",
                "yaml",
                "--now",
                NOW_140,
            ],
        ),
    ] {
        let run = envinspect(&args);
        settings().bind(|| insta::assert_snapshot!(name, run.transcript(&args)));
    }
}

#[test]
fn a_container_log_skips_envoys_own_lines_and_counts_what_matches_nothing() {
    let d = dump();
    let log = format!("{DIR}/istio-proxy.log");
    let (code, doc, _) = explain_json(&["explain", &d, &log, "-o", "json", "--now", NOW_140], None);
    assert_eq!(code, 1);
    let s = &doc["summary"];
    // The cut line and the binary one; every access line around them still read.
    assert_eq!(s["unmatched"], 2, "{s}");
    assert_eq!(s["envoy_log"], 41, "{s}");
    assert_eq!(
        s["parsed"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        24
    );
    assert_eq!(s["failed"], 21);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let d = dump();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["explain", &d, "no/such.log"],
            "no/such.log:0: cannot read",
        ),
        (vec!["explain", &d], "explain: give the access logs"),
        (
            vec![
                "explain",
                "fixtures/envoy-1.40/certs.json",
                "fixtures/envoy-1.40-explain/text.log",
            ],
            "explain joins log lines with a config dump",
        ),
        (
            vec![
                "explain",
                &d,
                "fixtures/envoy-1.40-explain/text.log",
                "--stats",
                "fixtures/envoy-1.40-explain/text.log",
            ],
            "not Envoy's /stats",
        ),
        (
            vec![
                "explain",
                &d,
                "fixtures/envoy-1.40-explain/text.log",
                "--stats",
                "no/stats.txt",
            ],
            "no/stats.txt:0: cannot read",
        ),
        (vec!["explain", "-", "-"], "standard input can be read once"),
        (
            vec![
                "explain",
                &d,
                "fixtures/envoy-1.40-explain/text.log",
                "--certs",
                "fixtures/envoy-1.40/certs.json",
            ],
            "explain: --certs adds findings to a report",
        ),
        (
            vec!["explain", "fixtures/envoy-1.40-explain", "--stats", "x"],
            "explain BUNDLE: each proxy's stats/prometheus",
        ),
    ];
    for (args, want) in cases {
        let run = envinspect(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
    }
    // A log that cannot be read after others could: their answer, then the error.
    let run = envinspect(&[
        "explain",
        &d,
        "fixtures/envoy-1.40-explain/text.log",
        "no/such.log",
        "--now",
        NOW_140,
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("log-upstream-tls-san"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("no/such.log:0: cannot read"),
        "{}",
        run.stderr
    );
    // Binary garbage and a line with no end, through stdin: counted, never an error.
    let mut junk = vec![0u8, 159, 146, 150, b'\n'];
    junk.extend(std::iter::repeat_n(b'x', 3 << 20));
    let (code, doc, err) = explain_json(
        &["explain", &d, "-", "-o", "json", "--now", NOW_140],
        Some(&junk),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["summary"]["unmatched"], 1);
    assert_eq!(doc["summary"]["too_long"], 1);
}

#[test]
fn a_log_without_a_newline_for_two_gigabytes_is_one_skipped_line() {
    use envinspect::model::evidence::LogSummary;
    use std::io::Read;
    let (report, _) = super::envoy::report_140(&super::root().join(dump()));
    // 2 GiB of one line, then one real line: memory stays one buffer, the real line is read.
    let ok = line(
        "503",
        "UH",
        "no_healthy_upstream",
        "-",
        "-",
        "empty",
        "r-empty",
    );
    let reader = std::io::repeat(b'a')
        .take(2 << 30)
        .chain(std::io::Cursor::new(format!("\n{ok}\n").into_bytes()));
    let mut summary = LogSummary::default();
    let mut lines = Vec::new();
    envinspect::evidence::explain_log(&report, "huge.log", reader, false, &mut summary, &mut lines)
        .unwrap();
    assert_eq!(summary.too_long, 1);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].rule, "log-no-healthy-upstream");
    assert_eq!(lines[0].line, 2);
}

#[test]
fn a_log_explained_on_several_threads_is_the_same_line_for_line() {
    use envinspect::model::evidence::{Explained, LogSummary};
    let (report, _) = super::envoy::report_140(&super::root().join(dump()));
    // About 3 MB, so several chunks of a megabyte, with cut and garbage lines among them.
    let one = std::fs::read(super::root().join(format!("{DIR}/istio-proxy.log"))).unwrap();
    let log: Vec<u8> = one.iter().copied().cycle().take(one.len() * 300).collect();
    let run = |threads: usize, all: bool| {
        let mut summary = LogSummary::default();
        let mut out: Vec<Explained> = Vec::new();
        envinspect::evidence::explain_log_parallel(
            &report,
            "big.log",
            std::io::Cursor::new(log.clone()),
            all,
            threads,
            &mut summary,
            &mut out,
        )
        .unwrap();
        (summary, out)
    };
    for all in [false, true] {
        let (s1, e1) = run(1, all);
        let (s3, e3) = run(3, all);
        assert_eq!(s1, s3);
        assert_eq!(e1.len(), e3.len());
        assert!(e1 == e3, "the same explanations in the same order");
        assert_eq!(s1.lines, 67 * 300);
        assert_eq!(s1.unmatched, 2 * 300);
    }
}

#[test]
fn an_istio_sidecars_lines_are_placed_through_its_listeners() {
    let d = "fixtures/istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json";
    let log = format!("{DIR}/productpage-istio.log");
    let (code, doc, err) = explain_json(
        &["explain", d, &log, "-o", "json", "--now", super::NOW],
        None,
    );
    assert_eq!(code, 1, "{err}");
    let e = doc["explained"].as_array().unwrap();
    let placed = |i: usize, field: &str| e[i][field].as_str().unwrap_or("").to_string();
    // Outbound, by the original destination's port: 0.0.0.0_9080, RDS 9080, reviews' host.
    assert_eq!(e[0]["rule"], "log-no-healthy-upstream");
    assert_eq!(placed(0, "listener"), "0.0.0.0_9080");
    assert_eq!(placed(0, "route_config"), "9080");
    assert_eq!(
        placed(0, "virtual_host"),
        "reviews.default.svc.cluster.local:9080"
    );
    assert!(
        placed(0, "explanation").contains("the dump has no endpoints"),
        "{}",
        e[0]
    );
    assert_eq!(e[1]["rule"], "log-upstream-tls-san");
    assert_eq!(
        placed(1, "cluster"),
        "outbound|9080|v1|reviews.default.svc.cluster.local"
    );
    assert_eq!(
        e[1]["expected_sans"],
        serde_json::json!(["spiffe://cluster.local/ns/default/sa/bookinfo-reviews"])
    );
    // Inbound, by the pod's address: a denial from a filter this dump does not have.
    assert_eq!(e[2]["rule"], "log-other-version");
    assert_eq!(placed(2, "listener"), "172.30.144.174_9080");
}

#[test]
fn a_format_whose_lines_cannot_be_read_back_is_said() {
    // The TEXT format of the capture's access logs, made to span two lines.
    let text = std::fs::read_to_string(super::root().join(dump())).unwrap();
    let istio = serde_json::to_string(envinspect::evidence::ISTIO_TEXT).unwrap();
    let two_lines = serde_json::to_string(&envinspect::evidence::ISTIO_TEXT.replacen(
        "\" %RESPONSE_CODE%",
        "\"\n%RESPONSE_CODE%",
        1,
    ))
    .unwrap();
    assert!(text.contains(&istio));
    let edited = text.replace(&istio, &two_lines);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("unread-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.json");
    std::fs::write(&path, edited).unwrap();
    let p = path.display().to_string();
    let log = format!("{DIR}/json.log");
    let (code, doc, err) =
        explain_json(&["explain", &p, &log, "-o", "json", "--now", NOW_140], None);
    assert_eq!(code, 1, "{err}");
    let unread = doc["summary"]["formats_unread"].as_array().unwrap();
    // One per access log that had it: three connection managers, a TCP proxy, a listener.
    assert_eq!(unread.len(), 5, "{}", doc["summary"]);
    assert!(
        unread[0]
            .as_str()
            .unwrap()
            .starts_with("configured at /configs/"),
        "{unread:?}"
    );
    let table = envinspect(&["explain", &p, &log, "--now", NOW_140]);
    assert!(
        table
            .stdout
            .contains("formats of the dump whose lines cannot be read back"),
        "{}",
        table.stdout
    );
}
