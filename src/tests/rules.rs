//! Every finding rule on a fixture that triggers it and one that must not: real dumps where one
//! exists, otherwise a minimal edit of a real dump (a field changed, a certificate swapped for an
//! rcgen one). Evidence pointers must resolve in the dump they came from.

use base64::Engine as _;
use serde_json::{json, Value};

use super::rules_cases::cases;
use super::{envinspect, fixture, root, NOW_140};

/// A dump as JSON (YAML fixtures too).
pub(super) fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(fixture(path))).unwrap();
    if path.ends_with(".yaml") {
        serde_norway::from_str(&text).unwrap()
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

pub(super) fn write(name: &str, v: &Value) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.json"));
    std::fs::write(&p, v.to_string()).unwrap();
    p.display().to_string()
}

pub(super) fn section<'a>(d: &'a mut Value, ty: &str) -> &'a mut Value {
    d["configs"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["@type"].as_str().unwrap().ends_with(ty))
        .unwrap()
}

pub(super) fn active_secret<'a>(d: &'a mut Value, name: &str) -> &'a mut Value {
    section(d, "SecretsConfigDump")["dynamic_active_secrets"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["name"] == name)
        .unwrap()
}

pub(super) fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A rule, the input that triggers it (with its flags), and one that must not.
pub(super) type Case = (
    &'static str,
    Input,
    Vec<&'static str>,
    Input,
    Vec<&'static str>,
);

pub(super) enum Input {
    Fixture(&'static str),
    Edited(&'static str, Value),
}

/// Runs the report and returns the findings of `rule`, checking their evidence resolves.
fn findings_of(rule: &str, input: &Input, extra: &[&str]) -> Vec<Value> {
    let (path, dump) = match input {
        Input::Fixture(p) => (fixture(p), (!p.ends_with(".pem")).then(|| load(p))),
        Input::Edited(name, v) => (write(name, v), Some(v.clone())),
    };
    let mut args = vec![path.as_str(), "-o", "json"];
    args.extend_from_slice(extra);
    let run = envinspect(&args);
    run.assert_ok(&path);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .cloned()
        .collect();
    if let Some(dump) = dump {
        for f in &found {
            for p in f["evidence"].as_array().unwrap() {
                let p = p.as_str().unwrap();
                assert!(
                    dump.pointer(p).is_some(),
                    "{rule}: evidence {p} does not resolve in {path}"
                );
            }
            assert!(
                !f["evidence"].as_array().unwrap().is_empty(),
                "{rule}: no evidence in {f}"
            );
        }
    }
    found
}

#[test]
fn every_rule_fires_on_its_fixture_and_not_on_a_clean_one() {
    let mut covered = std::collections::BTreeSet::new();
    for (rule, yes, yes_args, no, no_args) in &cases() {
        assert!(
            !findings_of(rule, yes, yes_args).is_empty(),
            "{rule} does not fire on its trigger"
        );
        assert!(
            findings_of(rule, no, no_args).is_empty(),
            "{rule} fires where it must not"
        );
        covered.insert(*rule);
    }
    // Need several documents: `stale_certs_endpoint_compares_certs_with_the_dump` here, the
    // fleet rules in bundle.rs.
    covered.insert("stale-certs-endpoint");
    for fleet in [
        "root-mismatch",
        "san-unsatisfiable",
        "san-identity-absent",
        "plaintext-to-strict",
        "mtls-to-uncaptured-port",
        "multiple-trust-domains",
        "fleet-cert-expiring",
        "fleet-expectation-unmatched",
        "authz-principal-unknown",
        "ambient-root-mismatch",
        "waypoint-absent",
        // istiod's syncz: proxy_status.rs and sync_live.rs.
        "sync-nack",
        "sync-stale",
        "sync-dump-differs",
    ] {
        covered.insert(fleet);
    }
    // The causes of log lines and counters: their cases are in explain.rs (synthetic) and
    // explain_live.rs (against Envoy), which checks every one of them has one.
    covered.extend(super::explain::covered());
    for r in envinspect::model::catalog::CATALOG {
        assert!(
            covered.contains(r.id.as_str()),
            "rule {} has no trigger/non-trigger test",
            r.id
        );
    }
}

/// `/certs` and the dump of the same Envoy 1.40 capture agree; with one serial edited in `/certs`
/// (a chain the dump no longer holds) the rule fires, pointing into `/certs`.
#[test]
fn stale_certs_endpoint_compares_certs_with_the_dump() {
    let dump = fixture("envoy-1.40/config_dump.json");
    let rules = |certs: &str| -> Vec<Value> {
        let run = envinspect(&[&dump, "--certs", certs, "--now", NOW_140, "-o", "json"]);
        run.assert_ok(certs);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "stale-certs-endpoint")
            .cloned()
            .collect()
    };
    assert!(rules(&fixture("envoy-1.40/certs.json")).is_empty());
    let mut certs = load("envoy-1.40/certs.json");
    certs["certificates"][3]["cert_chain"][0]["serial_number"] = json!("0badc0ffee");
    let edited = write("stale-certs", &certs);
    let found = rules(&edited);
    assert_eq!(found.len(), 1, "{found:?}");
    let pointer = found[0]["evidence"][0].as_str().unwrap();
    assert!(certs.pointer(pointer).is_some(), "{pointer}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("badc0ffee, not after"),
        "{}",
        found[0]
    );
    // Given something else than /certs, it says so.
    let run = envinspect(&[&dump, "--certs", &dump, "--now", NOW_140]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--certs expects Envoy's /certs output"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_rule_is_listed_and_documented() {
    let doc = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    let listed = envinspect(&["rules", "-o", "json"]);
    assert_eq!(listed.code, 0);
    let rows: Vec<Value> = serde_json::from_str(&listed.stdout).unwrap();
    for r in envinspect::model::catalog::CATALOG {
        assert!(
            doc.contains(&format!("\n## {}\n", r.id)),
            "docs/rules.md lacks ## {}",
            r.id
        );
        assert!(
            rows.iter()
                .any(|x| x["id"] == r.id.as_str() && x["kind"] == "finding"),
            "{} not listed",
            r.id
        );
    }
    assert!(rows.iter().filter(|x| x["kind"] == "finding").count() >= 15);
    let args = ["rules"];
    let run = envinspect(&args);
    super::settings().bind(|| insta::assert_snapshot!("rules__table", run.transcript(&args)));
}
