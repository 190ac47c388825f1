//! Public dumps replayed in a real Envoy 1.40: the listener and cluster of a dump someone else's
//! control plane wrote are given to Envoy as they are (only the listener's port, and the
//! cluster's DNS name, which would leave the machine, are moved to loopback), and Envoy's
//! answers to real requests are compared with what envinspect's `trace` predicts from the
//! unchanged dump.

use serde_json::{json, Value};

use envinspect::admin::Endpoint;
use envinspect::trace::{outbound, AppProtocol, Probe};

use super::envoy::{answering_hcm, free_port, http_status, report_140, write, Envoy};
use super::{fixture, pki};

/// The gateway's listener and cluster from kubernetes-sigs/wg-ai-gateway's dump (Envoy 1.37), on
/// loopback ports, with `edit` applied to the connection manager; Envoy's own dump of it.
fn replay(test: &str, edit: impl Fn(&mut Value)) -> (Envoy, u16, envinspect::model::Report) {
    let path = fixture("wg-ai-gateway/config_dump.json");
    let dump: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut listener =
        dump["configs"][2]["dynamic_listeners"][0]["active_state"]["listener"].clone();
    let mut cluster = dump["configs"][1]["dynamic_active_clusters"][0]["cluster"].clone();
    // The admin wrapper's `@type` is not a field of the resource itself.
    for r in [&mut listener, &mut cluster] {
        r.as_object_mut().unwrap().remove("@type");
    }
    assert_eq!(listener["name"], "listener-80");
    assert_eq!(cluster["name"], "default-httpbin-backend-80");
    edit(&mut listener["filter_chains"][0]["filters"][0]["typed_config"]);
    let (front, backend) = (free_port(), free_port());
    listener["address"] = json!({"socket_address": {"address": "127.0.0.1", "port_value": front}});
    cluster["type"] = json!("STATIC");
    cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"] =
        json!({"socket_address": {"address": "127.0.0.1", "port_value": backend}});
    let dir = Envoy::dir(test);
    let bootstrap = format!(
        "node: {{id: gateway, cluster: gateway}}\nadmin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}\nstatic_resources:\n  listeners:\n  - {}\n  - name: backend\n    address: {{socket_address: {{address: 127.0.0.1, port_value: {backend}}}}}\n    filter_chains: [{{filters: [{}]}}]\n  clusters:\n  - {}\n",
        listener,
        answering_hcm("backend", 200),
        cluster
    );
    write(&dir.join("bootstrap.yaml"), &bootstrap);
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));
    let own = dir.join("config_dump.json");
    std::fs::write(&own, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, _) = report_140(&own);
    (envoy, front, report)
}

/// What envinspect's trace predicts for `GET path` through the gateway: the status (200 when
/// the request goes upstream) and the response flag.
fn predicted(report: &envinspect::model::Report, port: u16, path: &str) -> (u32, String) {
    let target = format!("127.0.0.1:{port}");
    let mut probe = Probe::new(target.parse().unwrap(), AppProtocol::Plaintext);
    probe.host = Some("example.com".into());
    probe.path = Some(path.into());
    probe.method = Some("GET".into());
    let t = outbound(report, &probe);
    t.outcome
        .response
        .as_ref()
        .map_or((200, String::new()), |r| (r.status, r.flags.clone()))
}

const PATHS: [&str; 7] = [
    "/get",
    "/get/anything",
    "/get?x=1",
    "/getx",
    "/GET",
    "/post",
    "/",
];

/// As published, the gateway's connection manager has no HTTP filter: Envoy 1.40 answers no
/// request, whatever its path, until the stream idle timeout fires (504 SI); envinspect says so
/// (`no-router`) instead of following the route. The dump's 15 s timeout is cut to 1 s here.
#[test]
fn wg_ai_gateway_without_a_router_answers_nothing() {
    let fixture_report = super::envoy::report_140(std::path::Path::new(&fixture(
        "wg-ai-gateway/config_dump.json",
    )))
    .0;
    assert!(fixture_report
        .findings
        .iter()
        .any(|f| f.rule == "no-router"));
    assert_eq!(predicted(&fixture_report, 80, "/get"), (504, "SI".into()));

    let log = Envoy::dir("public-wg-ai-no-router-log").join("access.log");
    let at = log.display().to_string();
    let (envoy, front, report) = replay("public-wg-ai-no-router", |hcm| {
        hcm["stream_idle_timeout"] = json!("1s");
        // The dump's own logger (Envoy's default format), to a file instead of stdout.
        hcm["access_log"][0]["typed_config"]["path"] = json!(at);
    });
    for p in PATHS {
        let envoy_says = u32::from(http_status(front, p).expect("Envoy answers"));
        assert_eq!(envoy_says, 504, "{p}");
        assert_eq!(
            predicted(&report, front, p),
            (envoy_says, "SI".into()),
            "{p}"
        );
    }
    // What Envoy logged for them, explained from its own dump: the missing router, not a
    // timeout to tune.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let own = envoy.dir.join("config_dump.json");
    let run = super::envinspect(&[
        "explain",
        own.to_str().unwrap(),
        log.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        out.to_string().contains("has no router (no HTTP filter)"),
        "{out}"
    );
}

/// With the router the dump lacks, its route (`path_separated_prefix: /get` to a weighted
/// cluster) decides: Envoy matches `/get`, `/get/…` and `/get?…`, not `/getx` nor `/GET`, and
/// every other path is 404 NR. envinspect agrees on each.
#[test]
fn wg_ai_gateway_with_a_router_routes_as_envoy_does() {
    let (_envoy, front, report) = replay("public-wg-ai-router", |hcm| {
        hcm["http_filters"] = json!([{"name": "envoy.filters.http.router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]);
    });
    let mut agreed = Vec::new();
    for p in PATHS {
        let envoy_says = u32::from(http_status(front, p).expect("Envoy answers"));
        let (status, flags) = predicted(&report, front, p);
        assert_eq!(status, envoy_says, "{p}");
        if status == 404 {
            assert_eq!(flags, "NR", "{p}");
        }
        agreed.push((p, envoy_says));
    }
    assert_eq!(
        agreed,
        [
            ("/get", 200),
            ("/get/anything", 200),
            ("/get?x=1", 200),
            ("/getx", 404),
            ("/GET", 404),
            ("/post", 404),
            ("/", 404)
        ]
    );
}
