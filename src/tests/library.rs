//! Library-level tests on dumps built here from rcgen certificates with fixed dates.

use base64::Engine as _;
use time::macros::datetime;

use super::{envinspect_stdin, NOW};

struct Pki {
    ca_pem: String,
    leaf_pem: String,
    leaf_key_pem: String,
}

fn pki(spiffe: &str) -> Pki {
    let ca = super::pki::ca((2024, 1, 1), (2034, 1, 1));
    let leaf = ca.leaf(spiffe, &[], 1, (2024, 10, 1), (2024, 12, 1));
    Pki {
        ca_pem: ca.pem,
        leaf_pem: leaf.pem,
        leaf_key_pem: leaf.key_pem,
    }
}

fn secrets_dump(p: &Pki, key: serde_json::Value) -> Vec<u8> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let doc = serde_json::json!({"configs": [{
        "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
        "dynamic_active_secrets": [
            {"name": "default", "version_info": "1", "secret": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "default",
                "tls_certificate": {"certificate_chain": {"inline_bytes": b64(&(p.leaf_pem.clone() + &p.ca_pem))}, "private_key": key}}},
            {"name": "ROOTCA", "version_info": "1", "secret": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "ROOTCA",
                "validation_context": {"trusted_ca": {"inline_bytes": b64(&p.ca_pem)}}}}
        ]
    }]});
    serde_json::to_vec(&doc).unwrap()
}

fn report(bytes: &[u8], now: time::OffsetDateTime) -> envinspect::Report {
    let input = envinspect::Input {
        name: "t.json".into(),
        bytes: bytes.to_vec(),
    };
    envinspect::inspect(&input, &envinspect::Options::at(now)).unwrap()
}

#[test]
fn identity_comes_from_the_default_secret_and_time_is_an_input() {
    let p = pki("spiffe://cluster.local/ns/shop/sa/cart");
    let dump = secrets_dump(&p, serde_json::json!({"inline_bytes": "W3JlZGFjdGVkXQ=="}));
    let during = report(&dump, datetime!(2024-11-01 0:00 UTC));
    let id = during.identity.clone().unwrap();
    assert_eq!(
        id.spiffe_id.unwrap().to_string(),
        "spiffe://cluster.local/ns/shop/sa/cart"
    );
    assert_eq!(id.trust_domain.unwrap().to_string(), "cluster.local");
    assert!(id.valid_now);
    assert_eq!(
        id.not_after.map(|t| t.to_string()).as_deref(),
        Some("2024-12-01T00:00:00Z")
    );
    let default = &during.secrets.iter().find(|s| s.name == "default").unwrap();
    assert_eq!(
        default.certificates.len(),
        2,
        "every PEM block of the chain is read, not only the first"
    );
    assert_eq!(
        default.private_key,
        envinspect::model::cert::KeyMaterial::Redacted
    );
    let after = report(&dump, datetime!(2025-01-01 0:00 UTC));
    assert!(
        !after.identity.unwrap().valid_now,
        "expired at a later --now"
    );
    let before = report(&dump, datetime!(2024-09-01 0:00 UTC));
    assert!(
        !before.identity.unwrap().valid_now,
        "not yet valid at an earlier --now"
    );
}

/// The library's redaction is the CLI's: `document()` redacts when asked, as it is written;
/// the typed report keeps its values.
#[test]
fn the_document_is_redacted_the_report_is_not() {
    let p = pki("spiffe://cluster.local/ns/shop/sa/cart");
    let dump = secrets_dump(&p, serde_json::json!({"inline_bytes": "W3JlZGFjdGVkXQ=="}));
    let report = report(&dump, datetime!(2024-11-01 0:00 UTC));
    let serial = report.identity.as_ref().unwrap().serial.clone().unwrap();
    let mut opts = envinspect::Options::at(datetime!(2024-11-01 0:00 UTC));
    opts.redact = true;
    let i = envinspect::Inspection::new(report, &opts).unwrap();
    assert_eq!(
        i.report().identity.as_ref().unwrap().serial,
        Some(serial.clone())
    );
    let doc = i.document();
    assert_eq!(doc["identity"]["serial"], "[redacted]");
    assert_eq!(doc["identity"]["not_after"], "[redacted]");
    assert_eq!(doc["redacted"][0], "serial");
    // No value is the serial (a short serial's digits may appear inside other values).
    assert!(!doc.to_string().contains(&format!("\"{serial}\"")));
    opts.redact = false;
    let plain = envinspect::Inspection::new(i.into_report(), &opts).unwrap();
    assert_eq!(plain.document()["identity"]["serial"], serial.to_string());
    assert!(plain.document().get("redacted").is_none());
}

#[test]
fn malformed_spiffe_id_is_named_not_accepted() {
    let p = pki("spiffe:///ns/x");
    let r = report(
        &secrets_dump(&p, serde_json::Value::Null),
        datetime!(2024-11-01 0:00 UTC),
    );
    let id = r.identity.unwrap();
    assert!(id.spiffe_id.is_none());
    assert!(id.problem.unwrap().contains("empty trust domain"));
}

#[test]
fn an_unredacted_private_key_never_reaches_output() {
    let p = pki("spiffe://cluster.local/ns/shop/sa/cart");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&p.leaf_key_pem);
    let body_lines: Vec<&str> = p
        .leaf_key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let leaked = |all: &str| {
        body_lines.iter().any(|l| all.contains(l))
            || all.contains(&b64[..40])
            || all.contains("PRIVATE KEY")
    };
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("keys-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tree")).unwrap();
    // The key as PEM text and as base64 bytes, each through every command and format.
    for (how, key) in [
        ("pem", serde_json::json!({"inline_string": p.leaf_key_pem})),
        ("b64", serde_json::json!({"inline_bytes": b64})),
    ] {
        let dump = secrets_dump(&p, key);
        let file = dir.join(format!("{how}.json"));
        std::fs::write(&file, &dump).unwrap();
        std::fs::write(dir.join(format!("tree/{how}.json")), &dump).unwrap();
        let file = file.display().to_string();
        let expect = envinspect_stdin(&["expect", &file, "--now", NOW], None);
        let expectations = dir.join(format!("{how}.yaml"));
        std::fs::write(&expectations, &expect.stdout).unwrap();
        let e = expectations.display().to_string();
        let tree = dir.join("tree").display().to_string();
        let mut runs: Vec<Vec<&str>> = Vec::new();
        for format in ["table", "json", "yaml"] {
            for cmd in [
                "",
                "clusters",
                "listeners",
                "routes",
                "endpoints",
                "secrets",
                "certs",
            ] {
                let mut a: Vec<&str> = if cmd.is_empty() { vec![] } else { vec![cmd] };
                a.extend([file.as_str(), "-o", format]);
                runs.push(a);
            }
            runs.push(vec!["bundle", &tree, "-o", format]);
            runs.push(vec![file.as_str(), "--redact", "-o", format]);
        }
        for format in ["table", "json", "yaml", "junit", "sarif"] {
            runs.push(vec!["check", file.as_str(), "--expect", &e, "-o", format]);
            runs.push(vec!["diff", file.as_str(), file.as_str(), "-o", format]);
        }
        runs.push(vec!["expect", file.as_str(), "-o", "json"]);
        runs.push(vec!["trace", file.as_str(), "www.example.com:443"]);
        for mut args in runs {
            args.extend(["--now", NOW]);
            let run = envinspect_stdin(&args, None);
            assert!(run.code <= 2, "{args:?}");
            assert!(
                !leaked(&format!("{}{}", run.stdout, run.stderr)),
                "key material leaked: {how} {args:?}"
            );
        }
        let run = envinspect_stdin(&["-", "--now", NOW], Some(&dump));
        assert_eq!(run.code, 1, "an exposed key is a finding: {}", run.stderr);
        assert!(run.stdout.contains("private-key-exposed"));
    }
    let dump = secrets_dump(&p, serde_json::json!({"inline_string": p.leaf_key_pem}));
    let r = report(&dump, datetime!(2024-11-01 0:00 UTC));
    let default = r.secrets.iter().find(|s| s.name == "default").unwrap();
    assert_eq!(
        default.private_key,
        envinspect::model::cert::KeyMaterial::Exposed {
            bytes: p.leaf_key_pem.len()
        }
    );
}

/// A dump whose cluster uses SDS `default` + `ROOTCA` and a missing `gateway-cert`, with the
/// given leaf chain, the given CA in `ROOTCA`, and a never-delivered warming secret.
fn mesh_dump(leaf_chain_pem: &str, root_pem: &str) -> Vec<u8> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let tls = |cert: &str| {
        serde_json::json!({"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "sni": "outbound_.80_._.b.default.svc.cluster.local",
        "common_tls_context": {"tls_certificate_sds_secret_configs": [{"name": cert}],
            "combined_validation_context": {"default_validation_context": {"match_subject_alt_names": [{"exact": "spiffe://cluster.local/ns/default/sa/b"}]},
                "validation_context_sds_secret_config": {"name": "ROOTCA"}}}}})
    };
    let doc = serde_json::json!({"configs": [
        {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": [
            {"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "outbound|80||b.default.svc.cluster.local", "type": "EDS", "transport_socket": tls("default")}},
            {"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "outbound|443||gw.default.svc.cluster.local", "type": "EDS", "transport_socket": tls("gateway-cert")}}
        ]},
        {"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
         "dynamic_active_secrets": [
            {"name": "default", "version_info": "1", "secret": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "default",
                "tls_certificate": {"certificate_chain": {"inline_bytes": b64(leaf_chain_pem)}, "private_key": {"inline_bytes": "W3JlZGFjdGVkXQ=="}}}},
            {"name": "ROOTCA", "version_info": "1", "secret": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "ROOTCA",
                "validation_context": {"trusted_ca": {"inline_bytes": b64(root_pem)}}}}],
         "dynamic_warming_secrets": [{"name": "kubernetes://gw-cred", "version_info": "uninitialized", "secret": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "kubernetes://gw-cred"}}]}
    ]});
    serde_json::to_vec(&doc).unwrap()
}

fn findings(r: &envinspect::Report) -> Vec<(String, String)> {
    r.findings
        .iter()
        .map(|f| (f.rule.to_string(), f.subject.clone()))
        .collect()
}

#[test]
fn chain_and_secret_findings_in_a_mesh_dump() {
    let p = pki("spiffe://cluster.local/ns/shop/sa/cart");
    let other = pki("spiffe://cluster.local/ns/shop/sa/cart");
    let at = datetime!(2024-11-01 0:00 UTC);

    // Leaf and root from the same CA: the chain verifies; only the secret problems remain.
    let good = report(&mesh_dump(&p.leaf_pem, &p.ca_pem), at);
    let default = good.secrets.iter().find(|s| s.name == "default").unwrap();
    assert!(
        matches!(default.chain, envinspect::model::ChainVerdict::Valid { .. }),
        "{:?}",
        default.chain
    );
    assert_eq!(
        findings(&good),
        [
            (
                "secret-missing".to_string(),
                "secret gateway-cert".to_string()
            ),
            (
                "secret-uninitialized".into(),
                "secret kubernetes://gw-cred".into()
            )
        ]
    );
    assert_eq!(
        good.missing_secrets[0].referenced_by,
        ["cluster outbound|443||gw.default.svc.cluster.local"]
    );

    // ROOTCA from another CA: untrusted.
    let untrusted = report(&mesh_dump(&p.leaf_pem, &other.ca_pem), at);
    assert!(findings(&untrusted).contains(&("chain-untrusted".into(), "secret default".into())));

    // Rotation: ROOTCA holding both the old and the new root still trusts the leaf (any-of).
    let both = report(
        &mesh_dump(&p.leaf_pem, &(other.ca_pem.clone() + &p.ca_pem)),
        at,
    );
    assert!(
        !findings(&both)
            .iter()
            .any(|(rule, _)| rule.starts_with("chain-")),
        "{:?}",
        findings(&both)
    );

    // Later, the leaf has expired: one fact, one finding (the chain adds nothing to it).
    let expired = report(
        &mesh_dump(&p.leaf_pem, &p.ca_pem),
        datetime!(2025-01-01 0:00 UTC),
    );
    let f = findings(&expired);
    assert!(
        f.contains(&("cert-expired".into(), "secret default".into())),
        "{f:?}"
    );
    assert!(
        !f.iter().any(|(rule, _)| rule.starts_with("chain-")),
        "{f:?}"
    );
    // The secret's chain verdict still names the link and why.
    let default = expired
        .secrets
        .iter()
        .find(|s| s.name == "default")
        .unwrap();
    assert!(
        default
            .chain
            .to_string()
            .starts_with("broken at link 0: expired at 2024-12-01T00:00:00Z"),
        "{}",
        default.chain
    );
}

#[test]
fn findings_make_the_cli_exit_1() {
    let p = pki("spiffe://cluster.local/ns/shop/sa/cart");
    let dump = mesh_dump(&p.leaf_pem, &p.ca_pem);
    let run = envinspect_stdin(&["secrets", "-", "--now", NOW], Some(&dump));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("FINDINGS") && run.stdout.contains("secret-missing"),
        "{}",
        run.stdout
    );
}

#[test]
fn certificates_inline_in_a_tls_context_are_read_and_verified() {
    let p = pki("spiffe://cluster.local/ns/shop/sa/cart");
    let doc = serde_json::json!({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "static_clusters": [
        {"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "egress", "type": "STRICT_DNS",
         "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "common_tls_context": {
                "tls_certificates": [{"certificate_chain": {"inline_string": p.leaf_pem}, "private_key": {"inline_string": "[redacted]"}}],
                "validation_context": {"trusted_ca": {"inline_string": p.ca_pem}}}}}}}]}]});
    let r = report(
        &serde_json::to_vec(&doc).unwrap(),
        datetime!(2024-11-01 0:00 UTC),
    );
    let names: Vec<(&str, String)> = r
        .secrets
        .iter()
        .map(|s| (s.name.as_str(), s.state.to_string()))
        .collect();
    assert_eq!(
        names,
        [
            ("cluster egress (inline CA)", "INLINE".to_string()),
            ("cluster egress (inline cert)", "INLINE".to_string())
        ]
    );
    let cert = &r.secrets[1];
    assert_eq!(
        cert.private_key,
        envinspect::model::cert::KeyMaterial::Redacted
    );
    assert!(
        matches!(cert.chain, envinspect::model::ChainVerdict::Valid { .. }),
        "{:?}",
        cert.chain
    );
    assert_eq!(cert.referenced_by, ["cluster egress"]);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

/// The code blocks of docs/library.md are the vendor example crate's files, verbatim: the first
/// Rust block is `examples/vendor-ci/src/main.rs` whole, and every line of the later blocks is a
/// line of `examples/vendor-ci/tests/ci.rs` (which CI builds and runs as a crate of its own).
#[test]
fn library_docs_show_the_example_crate_verbatim() {
    let root = super::root();
    let doc = std::fs::read_to_string(root.join("docs/library.md")).unwrap();
    let main = std::fs::read_to_string(root.join("examples/vendor-ci/src/main.rs")).unwrap();
    let tests = std::fs::read_to_string(root.join("examples/vendor-ci/tests/ci.rs")).unwrap();
    let blocks: Vec<(&str, String)> = doc
        .split("\n```")
        .skip(1)
        .step_by(2)
        .filter_map(|b| {
            let (lang, body) = b.split_once('\n')?;
            Some((lang, format!("{body}\n")))
        })
        .filter(|(lang, _)| lang.starts_with("rust"))
        .collect();
    assert!(blocks.len() >= 3, "{} rust blocks", blocks.len());
    assert_eq!(blocks[0].0, "rust", "the first block compiles as is");
    assert_eq!(blocks[0].1, main, "docs/library.md's first program");
    let test_lines: std::collections::BTreeSet<&str> = tests.lines().map(str::trim).collect();
    for (_, body) in &blocks[1..] {
        for line in body.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                test_lines.contains(line.trim()),
                "docs/library.md shows a line examples/vendor-ci/tests/ci.rs lacks: {line}"
            );
        }
    }
}

/// docs/output-schema.md lists every value of each contract enum on the row that defines it:
/// the compiler knows the values, this keeps the schema's lists true.
#[test]
fn output_schema_lists_every_value_of_each_contract_enum() {
    use envinspect::model::decision::{AuthzLayer, LayerKind};
    use envinspect::model::trace::{ClientKind, OutcomeKind, StepKind};
    let doc = std::fs::read_to_string(super::root().join("docs/output-schema.md")).unwrap();
    let row = |marker: &str| -> &str {
        doc.lines()
            .find(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("docs/output-schema.md has no row with {marker}"))
    };
    let lists: [(&str, Vec<&str>); 5] = [
        (
            "| `steps` | list | in order: `{kind, name,",
            StepKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "| `outcome` | object | `{kind, summary,",
            OutcomeKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "| `steps` | list | in order: `{layer,",
            AuthzLayer::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "| `chains[].layers` | list |",
            LayerKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "| `outcome.clients` | list |",
            ClientKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
    ];
    for (marker, values) in lists {
        let line = row(marker);
        for v in values {
            assert!(
                line.contains(&format!("`{v}`")),
                "docs/output-schema.md, row {marker}: `{v}` is not listed"
            );
        }
    }
}
