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
            "ztunnel_wrong_types",
            "errors/ztunnel-wrong-types.json",
            "4 value(s) could not be decoded; first at /policies/0/rules/0/0/0",
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

/// More of the table, made at run time (sizes, invalid UTF-8, a sparse 1 GiB file, a directory):
/// each exits 2 with one line naming the file and what is wrong, and nothing panics.
#[test]
fn generated_bad_inputs_give_one_line_and_exit_2() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let secret = |chain: &str| {
        format!(
            r#"{{"configs": [{{"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump", "dynamic_active_secrets": [{{"name": "default", "secret": {{"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "default", "tls_certificate": {{"certificate_chain": {chain}}}}}}}]}}]}}"#
        )
    };
    let deep = format!(
        "{{\"configs\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let huge = format!("\"{}\"", "A".repeat(20 << 20));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "whitespace.json",
            b"  \n\t \n".to_vec(),
            "the file is empty",
        ),
        ("number.json", b"42".to_vec(), "found a number"),
        ("null.json", b"null".to_vec(), "found null"),
        ("huge-string.json", huge.into_bytes(), "found a string"),
        ("deep.json", deep.into_bytes(), "recursion limit exceeded"),
        (
            "invalid-utf8.json",
            b"{\"configs\": [{\"@type\": \"a\xff\xfeb\"}]}".to_vec(),
            "invalid unicode code point",
        ),
        (
            "duplicate-keys.json",
            b"{\"configs\": [],\n \"configs\": [{}]}".to_vec(),
            "duplicate key \"configs\" with different values",
        ),
        (
            "trailing.json",
            b"{\"configs\": []} {}".to_vec(),
            "trailing characters",
        ),
        (
            "section-not-object.json",
            b"{\"configs\": [1]}".to_vec(),
            "expected a config section object, found a number",
        ),
        (
            "type-missing.json",
            b"{\"configs\": [{\"bootstrap\": {}}]}".to_vec(),
            "/configs/0/@type: a config section needs a string `@type`, found nothing",
        ),
        (
            "type-not-string.json",
            b"{\"configs\": [{\"@type\": 5}]}".to_vec(),
            "found a number",
        ),
        (
            "garbage-der.json",
            secret(r#"{"inline_bytes": "bm90IGEgY2VydGlmaWNhdGU="}"#).into_bytes(),
            "not PEM, and not a DER certificate",
        ),
        (
            "broken-armour.pem",
            b"-----BEGIN CERTIFICATE-----\nMIIB\n".to_vec(),
            "no `-----END CERTIFICATE-----` line",
        ),
        (
            "bad-gzip.gz",
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad],
            "not a valid gzip stream",
        ),
    ];
    let run_case = |file: &std::path::Path, needle: &str| {
        let path = file.display().to_string();
        let run = envinspect(&["--now", NOW, &path]);
        assert_eq!(run.code, 2, "{path}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{path}: {}", run.stderr);
        assert!(
            run.stderr
                .starts_with(&format!("envinspect: error: {path}")),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(needle),
            "{path}: `{needle}` not in {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"));
    };
    for (name, bytes, needle) in &cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        run_case(&p, needle);
    }
    // A 1 GiB + 1 byte file (sparse: nothing is written) is refused before it is read.
    let big = dir.join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len((1 << 30) + 1)
        .unwrap();
    run_case(
        &big,
        "larger than 1073741824 bytes, the limit for one document",
    );
    run_case(&dir, "cannot read");
    assert!(
        cases.len() + 2 + 12 >= 25,
        "the table has at least 25 cases"
    );
}

/// Names in a dump are untrusted text: a listener called `gw ESC[2J ESC[31m red`, a chain
/// named with a window-title sequence, a C1 CSI in a server name, a backspace in a cluster's
/// name. Every command reads the dump, and neither stdout nor stderr ever carries a control
/// character other than newline and tab, nor an escape sequence other than the colour codes
/// envinspect paints with (only under `--color always`).
#[test]
fn terminal_escapes_in_a_dump_are_shown_escaped() {
    let dump = fixture("errors/terminal-escapes.json");
    let commands: &[&[&str]] = &[
        &[],
        &["listeners"],
        &["clusters"],
        &["authz"],
        &["authz", "--port", "443", "--tls", "--sni", "b.example"],
        &["trace", "--inbound", "443", "--tls", "--sni", "b.example"],
        &["-o", "json"],
        &["-o", "yaml"],
        &["expect"],
    ];
    for color in ["always", "never"] {
        for c in commands {
            let mut args: Vec<&str> = c.to_vec();
            args.extend(["--now", NOW, "--color", color, dump.as_str()]);
            let run = envinspect(&args);
            assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
            for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                let bad: Vec<char> = text
                    .chars()
                    .filter(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\x1b'))
                    .collect();
                assert!(bad.is_empty(), "{args:?} {stream}: {bad:?}\n{text}");
                for (i, _) in text.match_indices('\x1b') {
                    let rest = &text[i + 1..];
                    assert!(
                        color == "always"
                            && ["[0m", "[31m", "[1;31m", "[32m", "[33m"]
                                .iter()
                                .any(|p| rest.starts_with(p)),
                        "{args:?} {stream}: a raw escape {:?}",
                        &rest[..rest.len().min(12)]
                    );
                }
            }
            if c.is_empty() || c[0] == "listeners" {
                assert!(
                    run.stdout.contains("gw\\u{1b}[2J\\u{1b}[31mred"),
                    "{args:?}: the name shown escaped\n{}",
                    run.stdout
                );
            }
        }
    }
}
