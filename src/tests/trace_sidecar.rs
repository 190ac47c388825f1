//! The Istio-shaped sidecar of `sidecar_config.rs` on a real Envoy 1.40: Envoy accepts it, and
//! its `/config_dump?include_eds` traces as `fixtures/envoy-1.40-trace/sidecar.json` does (the
//! fixture is that dump with the run's directory and capture port made fixed; see its README).
//! Then each case the trace issue lists, on that fixture: names resolved from the dump, the
//! canary header route, the subset that does not exist, the cluster without endpoints, TLS
//! and plaintext to a chain by SNI, a cluster no listener leads to, REGISTRY_ONLY per client,
//! and interception both ways.

use serde_json::Value;

use super::envoy::{free_port, write, Envoy};
use super::{envinspect, fixture, pki, root, settings, sidecar_config as config, NOW_140};

const FIXTURE: &str = "envoy-1.40-trace/sidecar.json";
const FIXED_DIR: &str = "/var/run/envinspect-sidecar";
const FIXED_CAPTURE: u64 = 15001;
const UPSTREAM: u16 = 9;

/// The dump with the run's directory and capture port replaced by fixed ones.
fn normalized(bytes: &[u8], dir: &str, capture: u16) -> Value {
    fn walk(v: &mut Value, dir: &str, capture: u64) {
        match v {
            Value::String(s) if s.contains(dir) => *s = s.replace(dir, FIXED_DIR),
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if (k == "port_value" || k == "destination_port") && x.as_u64() == Some(capture)
                    {
                        *x = FIXED_CAPTURE.into();
                    } else {
                        walk(x, dir, capture);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, dir, capture)),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    walk(&mut v, dir, capture as u64);
    v
}

/// The trace cases: arguments after the dump, and the outcome kind.
const CASES: &[(&str, &[&str], &str)] = &[
    (
        "by_name",
        &["cart.shop.svc.cluster.local:8080"],
        "plaintext",
    ),
    ("short_name", &["cart:8080"], "plaintext"),
    ("headless_each_address", &["db:5432"], "plaintext"),
    (
        "header_route",
        &[
            "reviews.shop.svc.cluster.local:9080",
            "--header",
            "end-user: jason",
        ],
        "plaintext",
    ),
    ("header_route_absent", &["reviews:9080"], "plaintext"),
    ("missing_subset", &["ratings:9080"], "no-cluster"),
    (
        "no_endpoints",
        &["orders.shop.svc.cluster.local:8080"],
        "no-healthy-upstream",
    ),
    ("sni_tls", &["api.partner.test:443"], "plaintext"),
    (
        "sni_plaintext",
        &["api.partner.test:443", "--app", "plaintext"],
        "blackhole",
    ),
    (
        "cluster_without_listener",
        &["vault.shop.svc.cluster.local:8443"],
        "blackhole",
    ),
    ("registry_only_https", &["www.google.com:443"], "blackhole"),
    (
        "registry_only_http",
        &["www.google.com:9080"],
        "direct-response",
    ),
    ("excluded_range", &["169.254.169.254:80"], "not-captured"),
    ("inbound_captured", &["--inbound", "9080"], "inbound-mtls"),
    (
        "inbound_not_captured",
        &["--inbound", "8888"],
        "not-captured",
    ),
];

fn kinds(dump: &str) -> Vec<(String, String)> {
    CASES
        .iter()
        .map(|(name, args, _)| {
            let mut a = vec!["trace", dump];
            a.extend_from_slice(args);
            a.extend_from_slice(&["--now", NOW_140, "-o", "json"]);
            let run = envinspect(&a);
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            let j: Value = serde_json::from_str(&run.stdout).unwrap();
            (
                name.to_string(),
                j["outcome"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_sidecar_capture_is_what_envoy_writes() {
    let dir = Envoy::dir("trace-sidecar");
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    let leaf = ca.leaf(
        "spiffe://cluster.local/ns/shop/sa/web",
        &[],
        0x5001,
        (2026, 11, 1),
        (2027, 11, 1),
    );
    write(&dir.join("certs/ca.pem"), &ca.pem);
    write(&dir.join("certs/workload.pem"), &leaf.pem);
    write(&dir.join("certs/workload.key"), &leaf.key_pem);
    let d = dir.display().to_string();
    let capture = free_port();
    write(&dir.join("rds.json"), &config::routes().to_string());
    write(
        &dir.join("bootstrap.yaml"),
        &serde_json::to_string_pretty(&config::bootstrap(&d, capture, UPSTREAM)).unwrap(),
    );
    let envoy = Envoy::launch(dir.clone(), ca);
    let dump = envoy.dump(envinspect::admin::Endpoint::ConfigDumpWithEds);
    let live = normalized(&dump, &d, capture);
    let text = serde_json::to_string_pretty(&live).unwrap() + "\n";
    // How the fixture was made (see its README).
    if let Some(save) = std::env::var_os("ENVINSPECT_SAVE_TRACE_CAPTURE") {
        std::fs::write(root().join("fixtures").join(FIXTURE), &text).unwrap();
        let _ = save;
    }
    // Outside the run's directory, which goes with Envoy.
    let live_path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("trace-sidecar-{}.json", std::process::id()));
    std::fs::write(&live_path, &text).unwrap();
    drop(envoy);
    let (live, fixed) = (
        kinds(&live_path.display().to_string()),
        kinds(&fixture(FIXTURE)),
    );
    assert_eq!(live, fixed, "the live dump and the fixture trace alike");
    let _ = std::fs::remove_file(&live_path);
    for ((name, kind), (_, _, want)) in fixed.iter().zip(CASES) {
        assert_eq!(kind, want, "{name}");
    }
}

#[test]
fn trace_cases_on_the_sidecar_fixture() {
    let dump = fixture(FIXTURE);
    for (name, what, _) in CASES {
        let mut args = vec!["trace", dump.as_str()];
        args.extend_from_slice(what);
        args.extend_from_slice(&["--now", NOW_140]);
        let run = envinspect(&args);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        settings().bind(|| {
            insta::assert_snapshot!(format!("trace__sidecar140_{name}"), run.transcript(&args))
        });
        // The JSON contract (step names as Envoy logs them, the response, each client), pinned
        // on a routed request, a local reply and a name with two addresses.
        if ["header_route", "missing_subset", "headless_each_address"].contains(name) {
            args.extend_from_slice(&["-o", "json"]);
            let run = envinspect(&args);
            settings().bind(|| {
                insta::assert_snapshot!(
                    format!("trace__sidecar140_{name}__json"),
                    run.transcript(&args)
                )
            });
        }
    }
}
