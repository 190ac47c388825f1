//! `trace` on the sidecar, gateway, REGISTRY_ONLY and Envoy 1.40 fixtures: one snapshot per case
//! (table), the outcome kind checked in JSON.

use super::{envinspect, fixture, settings, NOW, NOW_140};

const SIDECAR: &str = "istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json";
const GATEWAY: &str =
    "istio/istioctl/cmd/testdata/describe/istio-ingressgateway-5bf6c9887-vvvmj.json";
const REGISTRY_ONLY: &str =
    "istio/pkg/test/framework/components/echo/common/testdata/config_dump.json";
const ENVOY140: &str = "envoy-1.40/config_dump_include_eds.json";

#[test]
fn traces_are_snapshotted_with_their_outcome() {
    let cases: [(&str, &str, &[&str], &str, &str); 17] = [
        (
            "osm_egress_by_sni",
            "osm/pkg/cli/verifier/testdata/curl_egress.json",
            &["httpbin.org:443"],
            NOW,
            "passthrough",
        ),
        (
            "istio11_plaintext_to_strict",
            "istio/istioctl/cmd/testdata/authz/productpage_config_dump.json",
            &["10.52.2.21:9080"],
            NOW,
            "handshake-fails",
        ),
        (
            "istio13_tls_into_http_chain",
            "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
            &["metrics-server.kube-system.svc.cluster.local:443"],
            NOW,
            "tls-into-http-chain",
        ),
        (
            "sidecar_app_tls_to_http_port",
            SIDECAR,
            &["reviews.default.svc.cluster.local:9080", "--app", "tls"],
            NOW,
            "tls-into-http-chain",
        ),
        (
            "gateway_request_options",
            GATEWAY,
            &[
                "bookinfo.example.com:80",
                "--path",
                "/api/v1/products?x=1",
                "--method",
                "POST",
                "--header",
                "x-user: a",
            ],
            NOW,
            "istio-mtls",
        ),
        (
            "istio13_inbound_not_captured",
            "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
            &["--inbound", "8888"],
            NOW,
            "not-captured",
        ),
        (
            "sidecar_mesh_http",
            SIDECAR,
            &["reviews.default.svc.cluster.local:9080"],
            NOW,
            "istio-mtls",
        ),
        (
            "sidecar_external_tls",
            SIDECAR,
            &["www.google.com:443"],
            NOW,
            "passthrough",
        ),
        (
            "sidecar_external_plaintext",
            SIDECAR,
            &["www.google.com:443", "--app", "plaintext"],
            NOW,
            "passthrough",
        ),
        (
            "sidecar_inbound",
            SIDECAR,
            &["--inbound", "9080"],
            NOW,
            "inbound-mtls",
        ),
        (
            "gateway_route",
            GATEWAY,
            &["bookinfo.example.com:80/productpage"],
            NOW,
            "istio-mtls",
        ),
        (
            "gateway_no_route",
            GATEWAY,
            &["bookinfo.example.com:80/admin"],
            NOW,
            "no-route",
        ),
        (
            "registry_only",
            REGISTRY_ONLY,
            &["www.google.com:443"],
            NOW,
            "blackhole",
        ),
        (
            "envoy140_inbound",
            ENVOY140,
            &["--inbound", "18443"],
            NOW_140,
            "inbound-mtls",
        ),
        (
            "waypoint_inbound_matcher",
            "istio/istioctl/pkg/proxyconfig/testdata/config_dump.json",
            &["--inbound", "8000"],
            NOW,
            "inbound-tunnel",
        ),
        (
            "consul_inbound",
            "consul-k8s/cli/common/envoy/testdata/test_config_dump.json",
            &["--inbound", "20000"],
            NOW,
            "inbound-mtls",
        ),
        (
            "envoy140_outbound",
            ENVOY140,
            &["foo.default.svc.cluster.local:443"],
            NOW_140,
            "no-listener",
        ),
    ];
    for (name, dump, what, now, kind) in cases {
        let path = fixture(dump);
        let mut args = vec!["trace", path.as_str()];
        args.extend_from_slice(what);
        args.extend_from_slice(&["--now", now]);
        let run = envinspect(&args);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        settings()
            .bind(|| insta::assert_snapshot!(format!("trace__{name}"), run.transcript(&args)));
        args.extend_from_slice(&["-o", "json"]);
        let json: serde_json::Value = serde_json::from_str(&envinspect(&args).stdout).unwrap();
        assert_eq!(json["outcome"]["kind"], kind, "{name}");
        assert!(
            json["steps"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| !s["evidence"].as_array().unwrap().is_empty() || s["kind"] == "route"),
            "{name}: a step without evidence"
        );
    }
    // A dump of listeners alone cannot say whether a cluster exists.
    let mut d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(REGISTRY_ONLY)).unwrap()).unwrap();
    d["configs"]
        .as_array_mut()
        .unwrap()
        .retain(|c| !c["@type"].as_str().unwrap().ends_with("ClustersConfigDump"));
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("listeners-only-{}.json", std::process::id()));
    std::fs::write(&path, d.to_string()).unwrap();
    let run = envinspect(&[
        "trace",
        path.to_str().unwrap(),
        "www.google.com:443",
        "-o",
        "json",
    ]);
    let _ = std::fs::remove_file(&path);
    let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(j["outcome"]["kind"], "cannot-tell", "{}", run.stdout);
    assert!(
        j["outcome"]["summary"]
            .as_str()
            .unwrap()
            .contains("no clusters section"),
        "{}",
        run.stdout
    );
    // Bad requests are one line and exit 2: a port that is not one, a header without a
    // colon, an option that only describes an inbound request.
    for args in [
        &["reviews:http"][..],
        &["reviews:9080", "--header", "no-colon"],
        &[
            "reviews:9080",
            "--principal",
            "spiffe://cluster.local/ns/a/sa/b",
        ],
        &["reviews:9080", "--jwt", "x.y.z"],
        &["--inbound", "9080", "--path", "/x"],
    ] {
        let sidecar = fixture(SIDECAR);
        let mut a = vec!["trace", sidecar.as_str()];
        a.extend_from_slice(args);
        let bad = envinspect(&a);
        assert_eq!(bad.code, 2, "{args:?}: {}", bad.stdout);
        assert_eq!(bad.stderr.lines().count(), 1, "{args:?}: {}", bad.stderr);
    }
}
