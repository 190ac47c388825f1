//! Sync state against real Envoys: two Envoy 1.40 proxies fed by file-based xDS
//! (`path_config_source`, the way a control plane's pushes arrive, one version after another),
//! one of which refuses an LDS update (an HTTP filter missing a required field: the Gloo
//! gateway's NACK). Envoy's own `error_state` is the truth: every one is an `update-rejected`
//! finding, and a bug-report tree of the two captures with istiod's syncz (written as istiod
//! writes it, the NACK's reason being the one Envoy gave) reads as `proxy-status` and `bundle`
//! say it should. `ENVINSPECT_REFRESH_FIXTURES=1` also writes the captures into
//! `fixtures/envoy-1.40-sync/`, which the snapshot tests read.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::envoy::{free_port, write, Envoy};
use super::{envinspect, pki, root};

/// The push versions istiod would have sent: `RFC3339/N`.
pub const V1: &str = "2026-12-07T08:00:00Z/1";
pub const V2: &str = "2026-12-07T08:05:00Z/2";

fn listener(port: u16, filters: &str) -> String {
    format!(
        r#"
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: web
  address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
  filter_chains:
  - filters:
    - name: envoy.filters.network.http_connection_manager
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        stat_prefix: web
        route_config: {{name: web, virtual_hosts: [{{name: all, domains: ["*"], routes: [{{match: {{prefix: /}}, route: {{cluster: backend}}}}]}}]}}
        http_filters:{filters}
        - {{name: envoy.filters.http.router, typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}}}
"#
    )
}

/// A gRPC-JSON transcoder without its required `descriptor_set`: Envoy refuses the listener.
const BAD_FILTER: &str = r#"
        - {name: envoy.filters.http.grpc_json_transcoder, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder, services: [shop.Cart]}}"#;

const CDS: &str = r#"
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: backend
  type: STATIC
  connect_timeout: 1s
  load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9}}}}]}]}
"#;

/// Writes an xDS file the way a control plane replaces it: a new file renamed over the old one
/// (Envoy watches for the move).
fn push(dir: &Path, file: &str, version: &str, resources: &str) {
    let tmp = dir.join(format!("{file}.tmp"));
    write(
        &tmp,
        &format!("version_info: \"{version}\"\nresources:{resources}"),
    );
    std::fs::rename(&tmp, dir.join(file)).unwrap();
}

/// An Envoy whose LDS and CDS are files in its directory, started on v1 of both.
fn start(name: &str, pod: &str) -> Envoy {
    let dir = Envoy::dir(name);
    let port = free_port();
    push(&dir, "cds.yaml", V1, CDS);
    push(&dir, "lds.yaml", V1, &listener(port, ""));
    let d = dir.display();
    write(
        &dir.join("bootstrap.yaml"),
        &format!(
            r#"node: {{id: "sidecar~127.0.0.1~{pod}.shop~shop.svc.cluster.local", cluster: "{pod}.shop"}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
dynamic_resources:
  lds_config: {{path_config_source: {{path: {d}/lds.yaml}}, resource_api_version: V3}}
  cds_config: {{path_config_source: {{path: {d}/cds.yaml}}, resource_api_version: V3}}
"#
        ),
    );
    let envoy = Envoy::launch(dir, pki::ca((2026, 1, 1), (2036, 1, 1)));
    wait(&envoy, |d| d.contains(V1), "v1 accepted");
    envoy
}

fn wait(envoy: &Envoy, done: impl Fn(&str) -> bool, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let dump = String::from_utf8(envoy.get("/config_dump?include_eds")).unwrap();
        if done(&dump) {
            return dump;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not after 20 s:\n{}",
            envoy.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A nonce as istiod makes it: the push version, then a UUID.
fn nonce(version: &str, n: u8) -> String {
    format!("{version}{n:08x}-0000-4000-8000-00000000000{}", n % 10)
}

/// istiod's `debug/syncz` (the SyncStatus list, Istio 1.23+ with `resources`) for the two
/// proxies: web-1 refused LDS v2 with the reason its Envoy gave; api-1 acked everything but
/// istiod saw CDS v0 acked while its dump accepted v1 (the syncz was taken before it).
pub fn syncz(reason: &str) -> String {
    let lds = "type.googleapis.com/envoy.config.listener.v3.Listener";
    let cds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    let v0 = "2026-12-07T07:55:00Z/0";
    let web = serde_json::json!({
        "cluster_id": "Kubernetes", "proxy": "web-1.shop", "proxy_type": "sidecar",
        "istio_version": "1.28.1",
        "cluster_sent": nonce(V1, 1), "cluster_acked": nonce(V1, 1),
        "listener_sent": nonce(V2, 2), "listener_acked": nonce(V1, 3),
        "resources": {
            cds: {"sent": nonce(V1, 1), "acked": nonce(V1, 1), "sentTime": "2026-12-07T08:00:00.1Z"},
            lds: {"sent": nonce(V2, 2), "acked": nonce(V1, 3), "sentTime": "2026-12-07T08:05:00.2Z",
                  "lastError": reason},
        },
    });
    let api = serde_json::json!({
        "cluster_id": "Kubernetes", "proxy": "api-1.shop", "proxy_type": "sidecar",
        "istio_version": "1.28.1",
        "cluster_sent": nonce(v0, 4), "cluster_acked": nonce(v0, 4),
        "listener_sent": nonce(V1, 5), "listener_acked": nonce(V1, 5),
        "resources": {
            cds: {"sent": nonce(v0, 4), "acked": nonce(v0, 4), "sentTime": "2026-12-07T07:55:00Z"},
            lds: {"sent": nonce(V1, 5), "acked": nonce(V1, 5), "sentTime": "2026-12-07T08:00:00Z"},
        },
    });
    let gone = serde_json::json!({
        "cluster_id": "Kubernetes", "proxy": "gone-1.shop", "proxy_type": "sidecar",
        "istio_version": "1.28.1",
        "cluster_sent": nonce(V2, 6), "cluster_acked": nonce(V1, 7),
        "listener_sent": nonce(V2, 8),
    });
    serde_json::to_string_pretty(&serde_json::json!([api, gone, web])).unwrap()
}

/// The bug-report tree: both proxies' dumps and istiod's syncz, where bug-report puts them.
pub fn tree(at: &Path, web: &[u8], api: &[u8], syncz: &str) {
    for (p, bytes) in [
        ("bug-report/proxies/shop/web-1/config_dump?include_eds", web),
        ("bug-report/proxies/shop/api-1/config_dump?include_eds", api),
        (
            "bug-report/istio/istio-system/istiod-5d8f7-x2x9k/debug/syncz",
            syncz.as_bytes(),
        ),
    ] {
        let path = at.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Every `error_state` pointer of a dump (walked in the raw JSON, as Envoy wrote it).
pub fn error_states(dump: &Value) -> Vec<String> {
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let here = format!("{at}/{k}");
                    if k == "error_state" {
                        out.push(here.clone());
                    }
                    walk(v, here, out);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(dump, String::new(), &mut out);
    out
}

#[test]
fn a_refused_listener_update_is_a_finding_a_nack_and_a_sync_column() {
    let mut web = start("sync-web", "web-1");
    let mut api = start("sync-api", "api-1");
    let port = free_port();
    push(&web.dir, "lds.yaml", V2, &listener(port, BAD_FILTER));
    let web_dump = wait(
        &web,
        |d| d.contains("error_state"),
        "the NACK's error_state",
    );
    let api_dump = String::from_utf8(api.get("/config_dump?include_eds")).unwrap();
    // The stats agree: one LDS update refused, the version served is still v1.
    let stats = String::from_utf8(web.get("/stats")).unwrap();
    assert!(
        stats.contains("listener_manager.lds.update_rejected: 1"),
        "{stats}"
    );
    assert!(stats.contains(&format!("listener_manager.lds.version_text: \"{V1}\"")));
    web.stop();
    api.stop();

    let raw: Value = serde_json::from_str(&web_dump).unwrap();
    let states = error_states(&raw);
    // Envoy 1.40 writes the named entry and a second with only an error_state.
    assert_eq!(states.len(), 2, "{states:?}");
    let listeners = raw["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["@type"] == "type.googleapis.com/envoy.admin.v3.ListenersConfigDump")
        .unwrap();
    let details = listeners["dynamic_listeners"][0]["error_state"]["details"]
        .as_str()
        .unwrap_or_else(|| panic!("{listeners}"));
    assert!(details.contains("descriptor_set"), "{details}");

    let d = web.dir.join("capture");
    std::fs::create_dir_all(&d).unwrap();
    let (web_path, api_path) = (d.join("web-1.json"), d.join("api-1.json"));
    std::fs::write(&web_path, &web_dump).unwrap();
    std::fs::write(&api_path, &api_dump).unwrap();

    // Every error_state is a finding, and the finding names the resource, reason and version.
    let run = envinspect(&[
        "-o",
        "json",
        web_path.to_str().unwrap(),
        "--now",
        "2026-12-08T00:00:00Z",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let rejected: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "update-rejected")
        .collect();
    assert_eq!(rejected.len(), 1);
    let evidence: Vec<&str> = rejected[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        evidence,
        states.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(rejected[0]["subject"], "listener web");
    let message = rejected[0]["message"].as_str().unwrap();
    assert!(
        message.contains("(field: \"descriptor_set\", reason: is required)"),
        "{message}"
    );
    assert!(
        message.ends_with(&format!("it still serves version {V1}")),
        "{message}"
    );

    // istiod records the NACK's message: Envoy's reason after the listener's name.
    let reason = format!("Error adding/updating listener(s) web: {details}");
    let bundle = d.join("tree");
    tree(
        &bundle,
        web_dump.as_bytes(),
        api_dump.as_bytes(),
        &syncz(&reason),
    );
    let b = bundle.to_str().unwrap();
    let run = envinspect(&["proxy-status", b, "-o", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let status = |name: &str, t: &str| {
        doc["proxies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["status"][t].clone())
    };
    assert_eq!(status("web-1.shop", "LDS"), Some("ERROR".into()));
    assert_eq!(status("web-1.shop", "CDS"), Some("SYNCED".into()));
    assert_eq!(status("api-1.shop", "CDS"), Some("SYNCED".into()));
    assert_eq!(
        status("gone-1.shop", "LDS"),
        Some("STALE_NEVER_ACKNOWLEDGED".into())
    );
    let rules: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect();
    for want in [
        ("sync-nack", "proxy shop/web-1"),
        ("sync-stale", "proxy gone-1.shop"),
        ("sync-dump-differs", "proxy shop/api-1"),
    ] {
        assert!(
            rules.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {rules:?}"
        );
    }

    let run = envinspect(&["bundle", b, "-o", "json", "--now", "2026-12-08T00:00:00Z"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let row = |p: &str| {
        doc["proxies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["proxy"] == p)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("shop/web-1")["sync"], "ERROR (LDS)");
    assert_eq!(row("shop/api-1")["sync"], "SYNCED");
    assert!(row("shop/web-1")["findings"].as_u64().unwrap() >= 1);

    if std::env::var_os("ENVINSPECT_REFRESH_FIXTURES").is_some() {
        let f: PathBuf = root().join("fixtures/envoy-1.40-sync");
        std::fs::create_dir_all(&f).unwrap();
        std::fs::copy(&web_path, f.join("web-1.config_dump.json")).unwrap();
        std::fs::copy(&api_path, f.join("api-1.config_dump.json")).unwrap();
        std::fs::write(f.join("syncz.json"), syncz(&reason)).unwrap();
    }
}
