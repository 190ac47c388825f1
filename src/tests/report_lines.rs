//! Small things seen on real dumps, each once wrong: the build label of Envoy's version, a node
//! without an id, a proxy that trusts CAs but none for mesh peers, the help of `--method`, and
//! `trace --inbound` on a gateway's port.

use serde_json::{json, Value};

use super::rules::load;
use super::{envinspect, NOW, NOW_140};

fn write(name: &str, d: &Value) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, d.to_string()).unwrap();
    p.display().to_string()
}

#[test]
fn envoys_build_label_is_part_of_its_version() {
    let mut d = load("envoy-1.40/config_dump_include_eds.json");
    d["configs"][0]["bootstrap"]["node"]["user_agent_build_version"]["metadata"]["build.label"] =
        json!("dev");
    let p = write("label.json", &d);
    let run = envinspect(&[&p, "-o", "json", "--now", NOW_140]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["node"]["envoy_version"],
        "1.40.0-dev/Clean/RELEASE/BoringSSL"
    );
}

#[test]
fn a_node_without_an_id_says_so() {
    let mut d = load("envoy-1.40/config_dump_include_eds.json");
    d["configs"][0]["bootstrap"]["node"]["id"] = json!("");
    let p = write("no-id.json", &d);
    let run = envinspect(&[&p, "--now", NOW_140]);
    assert!(
        run.stdout.contains("\nNode:         (no id)\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.lines().any(|l| l.trim_end() == "Node:"));
}

/// Envoy Gateway trusts CAs for its backends and none for mesh peers.
#[test]
fn no_empty_mesh_roots_line() {
    let run = envinspect(&[
        "fixtures/envoyproxy-gateway/internal/cmd/egctl/testdata/config/in/in.all.json",
        "--now",
        NOW,
    ]);
    assert!(
        run.stdout.contains("\nTrust:        no mesh roots\n"),
        "{}",
        run.stdout
    );
    assert!(!run
        .stdout
        .lines()
        .any(|l| l.trim_end().ends_with("mesh roots:")));
}

#[test]
fn every_request_option_has_help() {
    for cmd in ["trace", "authz"] {
        let run = envinspect(&[cmd, "--help"]);
        let line = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("--method"))
            .unwrap();
        assert!(line.contains("The request method"), "{cmd}: {line}");
    }
}

/// A gateway's port has no inbound listener: trace says where requests to it are followed.
#[test]
fn trace_inbound_on_a_gateway_points_at_the_request() {
    let run = envinspect(&[
        "trace",
        "fixtures/istio/istioctl/cmd/testdata/describe/istio-ingressgateway-5bf6c9887-vvvmj.json",
        "--inbound",
        "80",
        "-o",
        "json",
        "--now",
        NOW,
    ]);
    let t: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(t["outcome"]["kind"], "no-listener");
    let advice = t["outcome"]["advice"].as_str().unwrap();
    assert!(
        advice.contains("listener 0.0.0.0_80") && advice.ends_with("as one to HOST:80 instead"),
        "{advice}"
    );
}

/// An ambient waypoint's `xds.type.matcher.v3.IPMatcher` is evaluated from its JSON: the report
/// must not say envinspect does not look inside it.
#[test]
fn a_type_read_from_its_json_is_not_called_undecodable() {
    let run = envinspect(&[
        "fixtures/istio/istioctl/pkg/proxyconfig/testdata/config_dump.json",
        "-o",
        "json",
        "--now",
        NOW,
    ]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let text = doc.to_string();
    assert!(
        !text.contains("IPMatcher kept as raw JSON"),
        "a warning still says so"
    );
    assert!(
        !doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["subject"] == "type xds.type.matcher.v3.IPMatcher"),
        "undecodable-type still names it"
    );
    // It is read: the waypoint's chains are chosen by it (a listener matcher on destination IP).
    assert!(text.contains("destination_ip"), "the matcher is not read");
}

/// Whether each listener logs its traffic, where and in which format, is one line of the report.
#[test]
fn the_report_says_where_each_listener_logs() {
    let run = envinspect(&[
        "fixtures/envoy-1.40-explain/config_dump.json",
        "--now",
        NOW_140,
    ]);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Access logs:"))
        .expect("an access-log line");
    for part in [
        "/var/run/envinspect-explain/default.log (envoy-default) on 5 listeners",
        "/var/run/envinspect-explain/json.log (istio-json) on 5 listeners",
        "/var/run/envinspect-explain/text.log (istio-text) on 5 listeners",
        "none on 2 listeners (backend, backend-tls)",
    ] {
        assert!(line.contains(part), "{part} not in {line}");
    }
    let run = envinspect(&[
        "fixtures/istio/istioctl/cmd/testdata/describe/istio-ingressgateway-5bf6c9887-vvvmj.json",
        "--now",
        NOW,
    ]);
    assert!(
        run.stdout
            .contains("Access logs:  none on 3 listeners ((unnamed), 0.0.0.0_31400, 0.0.0.0_80)"),
        "{}",
        run.stdout
    );
}
