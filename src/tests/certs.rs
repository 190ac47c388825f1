//! Certificates: the `certs` command on every kind of input, PEM hygiene, chain verdicts and the
//! findings they raise, and agreement between Envoy's `/certs` and its config dump.

use envinspect::model::Serial;

use super::{envinspect, fixture, settings, NOW_140};

#[test]
fn certs_command_on_each_input_kind_and_format() {
    let cases: &[(&str, &[&str])] = &[
        (
            "envoy140_config_dump",
            &["certs", "envoy-1.40/config_dump.json"],
        ),
        ("envoy140_certs_json", &["certs", "envoy-1.40/certs.json"]),
        (
            "istio_secrets_spire",
            &[
                "certs",
                "istio/istioctl/pkg/writer/envoy/configdump/testdata/secret/spire/config_dump.json",
            ],
        ),
        (
            "pem_with_roots",
            &[
                "certs",
                "pem/good-chain.pem",
                "--roots",
                "envoy-1.40/certs/ca.pem",
            ],
        ),
        (
            "der_with_roots",
            &["certs", "pem/foo.der", "--roots", "envoy-1.40/certs/ca.pem"],
        ),
        (
            "expired_pem",
            &[
                "certs",
                "envoy-1.40/certs/expired.pem",
                "--roots",
                "envoy-1.40/certs/ca.pem",
            ],
        ),
        (
            "other_ca",
            &[
                "certs",
                "envoy-1.40/certs/foo.pem",
                "--roots",
                "istio/security/pkg/pki/testdata/spiffe-root-cert-1.pem",
            ],
        ),
        (
            "one_secret",
            &[
                "certs",
                "envoy-1.40/config_dump.json",
                "--secret",
                "server_cert",
            ],
        ),
    ];
    for (name, args) in cases {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args[1] = fixture(&args[1]);
        if let Some(i) = args.iter().position(|a| a == "--roots") {
            args[i + 1] = fixture(&args[i + 1]);
        }
        args.extend(["--now".into(), NOW_140.into()]);
        for format in ["table", "json", "yaml"] {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            a.extend(["-o", format]);
            let run = envinspect(&a);
            run.assert_ok(name);
            settings().bind(|| {
                insta::assert_snapshot!(format!("certs__{name}__{format}"), run.transcript(&a))
            });
        }
    }
}

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let run = envinspect(args);
    run.assert_ok(&args.join(" "));
    (run.code, serde_json::from_str(&run.stdout).unwrap())
}

fn rules(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pem_hygiene_findings() {
    let roots = fixture("envoy-1.40/certs/ca.pem");
    let cases = [
        ("good-chain.pem", vec![]),
        ("glued.pem", vec!["pem-glued"]),
        ("trailing.pem", vec!["pem-trailing-data"]),
        ("with-key.pem", vec!["pem-private-key"]),
        ("duplicate.pem", vec!["chain-broken", "pem-duplicate"]),
        ("reversed.pem", vec!["chain-broken", "chain-order"]),
    ];
    for (file, want) in cases {
        let (code, v) = json(&[
            "certs",
            &fixture(&format!("pem/{file}")),
            "--roots",
            &roots,
            "--now",
            NOW_140,
            "-o",
            "json",
        ]);
        let mut got = rules(&v);
        got.sort();
        assert_eq!(got, want, "{file}");
        assert_eq!(code, i32::from(!want.is_empty()), "{file}");
        let chain = &v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["state"] == "INLINE" && s["kind"] == "cert_chain")
            .unwrap()["chain"];
        if want.is_empty()
            || file == "glued.pem"
            || file == "trailing.pem"
            || file == "with-key.pem"
        {
            assert_eq!(
                chain["status"], "valid",
                "{file}: the certificates themselves are fine: {chain}"
            );
        }
    }
    // A glued bundle is still read whole: both certificates.
    let (_, v) = json(&[
        "certs",
        &fixture("pem/glued.pem"),
        "-o",
        "json",
        "--now",
        NOW_140,
    ]);
    assert_eq!(v["secrets"][0]["certificates"].as_array().unwrap().len(), 2);
}

#[test]
fn the_key_in_a_certificate_file_is_never_shown() {
    let key = std::fs::read_to_string(super::root().join(fixture("test-keys/rsa2048.pkcs8.pem")))
        .unwrap();
    for format in ["table", "json", "yaml"] {
        let run = envinspect(&[
            "certs",
            &fixture("pem/with-key.pem"),
            "-o",
            format,
            "--now",
            NOW_140,
        ]);
        for line in key.lines().filter(|l| !l.starts_with("-----")) {
            assert!(
                !run.stdout.contains(line) && !run.stderr.contains(line),
                "{format}"
            );
        }
    }
}

/// Envoy's `/certs` and the secrets in its config dump describe the same certificates: every
/// certificate `/certs` lists has a twin in the dump with the same serial and expiry.
#[test]
fn envoy_certs_and_config_dump_agree() {
    let (_, certs) = json(&[
        "certs",
        &fixture("envoy-1.40/certs.json"),
        "-o",
        "json",
        "--now",
        NOW_140,
    ]);
    let (_, dump) = json(&[
        "certs",
        &fixture("envoy-1.40/config_dump.json"),
        "-o",
        "json",
        "--now",
        NOW_140,
    ]);
    let all = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["certificates"].as_array().unwrap().clone())
            .map(|c| {
                (
                    c["serial"].as_str().unwrap().to_string(),
                    c["not_after"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let in_dump = all(&dump);
    let listed = all(&certs);
    assert!(listed.len() >= 3, "{listed:?}");
    for (serial, not_after) in &listed {
        let twin = in_dump
            .iter()
            .find(|(s, _)| s.parse::<Serial>().ok() == serial.parse::<Serial>().ok());
        let Some((_, dump_not_after)) = twin else {
            // /certs also lists certificates read from files (the static expired cert), which a
            // dump only names by path.
            assert!(
                dump["secrets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| !s["files"].as_array().unwrap().is_empty()),
                "{serial} not in the dump"
            );
            continue;
        };
        assert_eq!(dump_not_after, not_after, "{serial}");
    }
}

/// The SPIRE federation dump: one trust bundle per federated domain, each row its own.
#[test]
fn spire_federation_bundles() {
    let (_, v) = json(&[
        "secrets",
        &fixture(
            "istio/istioctl/pkg/writer/envoy/configdump/testdata/secret/spire/config_dump.json",
        ),
        "-o",
        "json",
        "--now",
        super::NOW,
    ]);
    let rootca = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ROOTCA")
        .unwrap();
    let tds: Vec<&str> = rootca["trust_bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["trust_domain"].as_str().unwrap())
        .collect();
    assert_eq!(tds, ["east.local", "west.local"]);
    let default = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "default")
        .unwrap();
    assert_eq!(
        default["certificates"][0]["spiffe_ids"][0],
        "spiffe://east.local/ns/istio-system/sa/federation-ingress-gateway-service-account"
    );
}

/// `certs --secret NAME` keeps that secret's rows; the findings and the exit code stay the
/// whole proxy's, as for every filter (it used to keep only that secret's findings, so an
/// expired `default` certificate exited 0 under `--secret ROOTCA`).
#[test]
fn a_secret_filter_keeps_the_proxys_findings_and_exit_code() {
    let dump = fixture("istio/istioctl/pkg/writer/compare/sds/testdata/envoyconfigdumpsds.json");
    let run = |extra: &[&str]| {
        let mut a = vec!["certs", dump.as_str(), "--now", super::NOW, "-o", "json"];
        a.extend_from_slice(extra);
        envinspect(&a)
    };
    let (all, one) = (run(&[]), run(&["--secret", "ROOTCA"]));
    assert_eq!((all.code, one.code), (1, 1), "{}", one.stdout);
    let findings = |r: &super::Run| {
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        (
            v["findings"].clone(),
            v["secrets"].as_array().unwrap().len(),
        )
    };
    let ((fa, na), (fo, no)) = (findings(&all), findings(&one));
    assert_eq!(fa, fo, "the same findings");
    assert!(fo.to_string().contains("cert-expired"), "{fo}");
    assert!(no < na && no > 0, "{no} of {na} secrets");
}
