//! A report snapshot (table and JSON) for every real fixture, one snapshot per
//! command × format on the Envoy 1.40 capture, and `--help`.

use super::{envinspect, fixture, settings, NOW, NOW_140};

/// Every real admin document among the fixtures, with a short snapshot name.
pub const DUMPS: &[(&str, &str)] = &[
    ("envoy140_config_dump", "envoy-1.40/config_dump.json"),
    ("envoy140_include_eds", "envoy-1.40/config_dump_include_eds.json"),
    ("envoy140_certs", "envoy-1.40/certs.json"),
    ("envoy140_clusters", "envoy-1.40/clusters.json"),
    ("envoy140_server_info", "envoy-1.40/server_info.json"),
    ("envoy140_unknown_types", "envoy-1.40/synthetic/istio_unknown_types.json"),
    ("envoy140_authz", "envoy-1.40-authz/config_dump.json"),
    ("envoy140_consul_shaped", "envoy-1.40-meshes/consul-shaped.json"),
    ("envoy140_kuma_shaped", "envoy-1.40-meshes/kuma-shaped.json"),
    ("eg_edge_proxy", "envoyproxy-gateway/internal/cmd/egctl/testdata/config/in/in.all.json"),
    ("eg_config_wrapped", "envoyproxy-gateway/internal/cmd/egctl/testdata/config/out/out.all.json"),
    ("eg_translate_wrapped", "envoyproxy-gateway/internal/cmd/egctl/testdata/translate/out/jwt-single-route-single-match-to-xds.all.json"),
    ("consul_backend", "consul-k8s/cli/common/envoy/testdata/test_config_dump.json"),
    ("consul_backend_clusters", "consul-k8s/cli/common/envoy/testdata/test_clusters.json"),
    ("wg_ai_gateway", "wg-ai-gateway/config_dump.json"),
    ("marathon_envoy114", "marathon-envoy-poc/config-dump-prety.json"),
    ("istio11_productpage_authz", "istio/istioctl/cmd/testdata/authz/productpage_config_dump.json"),
    ("istio13_ingressgateway", "istio/istioctl/cmd/testdata/describe/istio-ingressgateway-5bf6c9887-vvvmj.json"),
    ("istio13_productpage", "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json"),
    ("istio14_productpage", "istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json"),
    ("istio12_ratings", "istio/istioctl/cmd/testdata/describe/ratings-v1-f745cf57b-vfwcv.json"),
    ("istio118_listeners_authz", "istio/istioctl/pkg/authz/testdata/configdump.yaml"),
    ("istio_describe_http", "istio/istioctl/pkg/describe/testdata/describe/http_config.json"),
    ("istio_describe_tls", "istio/istioctl/pkg/describe/testdata/describe/tls_config.json"),
    ("istio121_waypoint", "istio/istioctl/pkg/proxyconfig/testdata/config_dump.json"),
    ("istio15_sds_mixed_case", "istio/istioctl/pkg/writer/compare/sds/testdata/envoyconfigdumpsds.json"),
    ("istio_compare", "istio/istioctl/pkg/writer/compare/testdata/configdump.json"),
    ("istio_compare_diff", "istio/istioctl/pkg/writer/compare/testdata/configdump_diff.json"),
    ("istio15_trimmed", "istio/istioctl/pkg/writer/compare/testdata/envoyconfigdump2020.json"),
    ("istio110_bootstrap_only", "istio/istioctl/pkg/writer/envoy/configdump/testdata/configdump.json"),
    ("istio_ecds", "istio/istioctl/pkg/writer/envoy/configdump/testdata/ecds/configdump.json"),
    ("istio_endpoints", "istio/istioctl/pkg/writer/envoy/configdump/testdata/endpoint/configdump.json"),
    ("istio_routes_empty_gateway", "istio/istioctl/pkg/writer/envoy/configdump/testdata/routes/empty-gateway/configdump.json"),
    ("istio_routes_gateway_prefix", "istio/istioctl/pkg/writer/envoy/configdump/testdata/routes/istio-gateway-http-route-prefix/configdump.json"),
    ("istio_routes_k8s_gateway", "istio/istioctl/pkg/writer/envoy/configdump/testdata/routes/k8s-gateway-http-route-path-prefix/configdump.json"),
    ("istio_secrets", "istio/istioctl/pkg/writer/envoy/configdump/testdata/secret/istio/config_dump.json"),
    ("istio_secrets_spire", "istio/istioctl/pkg/writer/envoy/configdump/testdata/secret/spire/config_dump.json"),
    ("istio11_echo_registry_only", "istio/pkg/test/framework/components/echo/common/testdata/config_dump.json"),
    ("osm_curl_egress", "osm/pkg/cli/verifier/testdata/curl_egress.json"),
    ("osm_curl_permissive", "osm/pkg/cli/verifier/testdata/curl_permissive.json"),
    ("osm_httpbin1_permissive", "osm/pkg/cli/verifier/testdata/httpbin1_permissive.json"),
    ("osm_httpbin2_permissive", "osm/pkg/cli/verifier/testdata/httpbin2_permissive.json"),
    ("osm_bookbuyer", "osm/pkg/cli/verifier/testdata/sample-envoy-config-dump-bookbuyer.json"),
    ("osm_bookstore", "osm/pkg/cli/verifier/testdata/sample-envoy-config-dump-bookstore.json"),
    ("istio_ztunnel", "istio/istioctl/pkg/writer/ztunnel/configdump/testdata/dump.json"),
    ("ztunnel_dump_certs", "ztunnel/dump_certs.json"),
];

#[test]
fn report_of_every_fixture_table_and_json() {
    for (name, path) in DUMPS {
        let path = fixture(path);
        // The Envoy 1.40 capture's certificates were issued on 2026-11-22: judge them after that.
        let now = if name.starts_with("envoy140") {
            NOW_140
        } else {
            NOW
        };
        for (format, suffix) in [("table", "table"), ("json", "json")] {
            let args = ["--now", now, "-o", format, path.as_str()];
            let run = envinspect(&args);
            run.assert_ok(&path);
            if format == "json" {
                let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
                let failing = v["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["level"] != "info");
                assert_eq!(
                    run.code,
                    i32::from(failing),
                    "{path}: exit 1 exactly when there are error or warning findings"
                );
            }
            settings().bind(|| {
                insta::assert_snapshot!(format!("report__{name}__{suffix}"), run.transcript(&args))
            });
        }
    }
}

#[test]
fn every_subcommand_in_every_format() {
    let path = fixture("envoy-1.40/config_dump_include_eds.json");
    for cmd in ["clusters", "listeners", "routes", "endpoints", "secrets"] {
        for format in ["table", "json", "yaml"] {
            let args = [cmd, path.as_str(), "--now", NOW_140, "-o", format];
            let run = envinspect(&args);
            run.assert_ok(cmd);
            settings().bind(|| {
                insta::assert_snapshot!(
                    format!("{cmd}__envoy140_include_eds__{format}"),
                    run.transcript(&args)
                )
            });
        }
    }
    let args = ["--now", NOW_140, "-o", "yaml", path.as_str()];
    let run = envinspect(&args);
    run.assert_ok("yaml");
    settings().bind(|| {
        insta::assert_snapshot!("report__envoy140_include_eds__yaml", run.transcript(&args))
    });
}

#[test]
fn filters() {
    let cases: &[(&str, &[&str])] = &[
        (
            "clusters_fqdn_port_direction",
            &[
                "clusters",
                "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
                "--fqdn",
                "reviews",
                "--port",
                "9080",
                "--direction",
                "outbound",
            ],
        ),
        (
            "clusters_subset",
            &[
                "clusters",
                "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
                "--subset",
                "v2",
            ],
        ),
        (
            "listeners_port",
            &[
                "listeners",
                "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
                "--port",
                "15001",
            ],
        ),
        (
            "routes_name",
            &[
                "routes",
                "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json",
                "--name",
                "9080",
            ],
        ),
        (
            "endpoints_cluster",
            &[
                "endpoints",
                "istio/istioctl/pkg/writer/envoy/configdump/testdata/endpoint/configdump.json",
                "--cluster",
                "outbound|9080||reviews.default.svc.cluster.local",
            ],
        ),
    ];
    for (name, args) in cases {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args[1] = fixture(&args[1]);
        args.extend(["--now".into(), NOW.into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = envinspect(&args);
        // Findings (exit 1) are the fixture's: the filter only keeps rows.
        run.assert_ok(name);
        assert!(
            run.stdout.lines().count() > 1,
            "{name}: filter kept no rows:\n{}",
            run.stdout
        );
        settings()
            .bind(|| insta::assert_snapshot!(format!("filter__{name}"), run.transcript(&args)));
    }
}

#[test]
fn stdin_and_gzip_give_the_same_report() {
    use std::io::Write;
    let path = fixture("envoy-1.40/config_dump.json");
    let bytes = std::fs::read(super::root().join(&path)).unwrap();
    let direct = envinspect(&["--now", NOW, "-o", "json", &path]);
    let piped = super::envinspect_stdin(&["--now", NOW, "-o", "json", "-"], Some(&bytes));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let zipped = super::envinspect_stdin(
        &["--now", NOW, "-o", "json", "-"],
        Some(&gz.finish().unwrap()),
    );
    let mut must_gather = b"200\n".to_vec();
    must_gather.extend_from_slice(&bytes);
    let prefixed = super::envinspect_stdin(&["--now", NOW, "-o", "json", "-"], Some(&must_gather));
    let body = |s: &str| s.replace(&path, "<stdin>");
    for other in [&piped, &zipped, &prefixed] {
        other.assert_ok("stdin");
        assert_eq!(other.code, direct.code);
        assert_eq!(body(&direct.stdout), other.stdout);
    }
}

#[test]
fn help_and_version() {
    for args in [
        &["--help"][..],
        &["clusters", "--help"],
        &["listeners", "--help"],
        &["routes", "--help"],
        &["endpoints", "--help"],
        &["secrets", "--help"],
        &["certs", "--help"],
        &["workloads", "--help"],
        &["services", "--help"],
        &["connections", "--help"],
        &["authz", "--help"],
        &["fetch", "--help"],
        &["expect", "--help"],
        &["check", "--help"],
        &["diff", "--help"],
        &["trace", "--help"],
        &["rules", "--help"],
        &["bundle", "--help"],
        &["explain", "--help"],
        &["proxy-status", "--help"],
        &["--version"],
    ] {
        let run = envinspect(args);
        assert_eq!(run.code, 0);
        let name = format!(
            "help__{}",
            args.iter()
                .map(|a| a.trim_start_matches('-'))
                .collect::<Vec<_>>()
                .join("_")
        );
        settings().bind(|| insta::assert_snapshot!(name, run.transcript(args)));
    }
}
