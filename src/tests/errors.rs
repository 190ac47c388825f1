//! The bad-input table: every case exits 2 with one stderr line naming the file and the place;
//! none panics; what could be read is still reported.

use super::{envinspect, fixture, settings, NOW};

#[test]
fn bad_inputs_give_one_line_and_exit_2() {
    let cases = [
        (
            "not_json",
            "errors/not-json.txt",
            "fixtures/errors/not-json.txt:1:2: invalid JSON (expected ident)",
        ),
        (
            "truncated",
            "errors/truncated.json",
            "fixtures/errors/truncated.json:",
        ),
        ("array", "errors/array.json", "found an array"),
        (
            "wrong_shape",
            "errors/wrong-shape.json",
            "not a recognised Envoy admin document",
        ),
        ("empty", "errors/empty.json", "the file is empty"),
        (
            "configs_not_array",
            "errors/configs-not-array.json",
            "at /configs: expected an array",
        ),
        (
            "bad_gzip",
            "errors/bad-gzip.json.gz",
            "not a valid gzip stream",
        ),
        (
            "wrong_types",
            "errors/wrong-types.json",
            "/configs/0/static_clusters/1/cluster/connect_timeout",
        ),
        (
            "garbage_base64",
            "errors/garbage-base64.json",
            "/configs/0/dynamic_active_secrets/",
        ),
        (
            "ztunnel",
            "istio/istioctl/pkg/writer/ztunnel/configdump/testdata/dump.json",
            "ztunnel",
        ),
        (
            "bootstrap",
            "istio/pkg/bootstrap/testdata/default_golden.json",
            "an Envoy bootstrap",
        ),
        (
            "golden_not_dump",
            "istio/istioctl/pkg/writer/envoy/configdump/testdata/endpoint/portfilter_output.json",
            "found an array",
        ),
    ];
    for (name, path, needle) in cases {
        let path = fixture(path);
        let args = ["--now", NOW, path.as_str()];
        let run = envinspect(&args);
        assert_eq!(run.code, 2, "{name}: {}", run.transcript(&args));
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{name}: one line on stderr:\n{}",
            run.stderr
        );
        assert!(
            run.stderr
                .starts_with(&format!("envinspect: error: {path}")),
            "{name}: names the file: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(needle),
            "{name}: `{needle}` not in {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{name}");
        settings()
            .bind(|| insta::assert_snapshot!(format!("error__{name}"), run.transcript(&args)));
    }
}

#[test]
fn wrong_types_still_report_everything_else() {
    let path = fixture("errors/wrong-types.json");
    let run = envinspect(&["clusters", &path, "-o", "json"]);
    assert_eq!(run.code, 2);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["bad-timeout", "good"],
        "the bad field is dropped, not the cluster"
    );
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["first_pointer"] == "/configs/0/static_clusters/2/cluster"),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w["first_pointer"] == "/configs/1/static_listeners/0/listener/filter_chains"),
        "{warnings:?}"
    );
}

#[test]
fn unreadable_file_and_bad_flags() {
    let run = envinspect(&["fixtures/no-such-file.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("envinspect: error: fixtures/no-such-file.json: cannot read"),
        "{}",
        run.stderr
    );
    let run = envinspect(&[
        "--now",
        "yesterday",
        &fixture("envoy-1.40/config_dump.json"),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--now yesterday: not an RFC 3339 time"),
        "{}",
        run.stderr
    );
    let run = envinspect(&[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no input"), "{}", run.stderr);
}

#[test]
fn unknown_types_warn_and_complete() {
    let path = fixture("envoy-1.40/synthetic/istio_unknown_types.json");
    let run = envinspect(&["-o", "json", "--now", NOW, &path]);
    run.assert_ok(&path);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let msgs: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap())
        .collect();
    for t in [
        "envoy.tcp.metadataexchange.config.MetadataExchange",
        "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig",
        "stats.PluginConfig",
    ] {
        assert!(
            msgs.iter().any(|m| m.contains(t)),
            "{t} not warned: {msgs:?}"
        );
    }
    // Everything known around them is still there.
    let plain = envinspect(&[
        "-o",
        "json",
        "--now",
        NOW,
        &fixture("envoy-1.40/config_dump.json"),
    ]);
    let p: serde_json::Value = serde_json::from_str(&plain.stdout).unwrap();
    for key in ["clusters", "listeners", "routes", "secrets"] {
        assert_eq!(
            v[key].as_array().unwrap().len(),
            p[key].as_array().unwrap().len(),
            "{key}"
        );
    }
    assert_eq!(v["identity"], p["identity"]);
}
