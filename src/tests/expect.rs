//! `expect`, `check` and `diff` end to end: expectations written from every real fixture hold on
//! it; each kind of mutation (of the expectations or of the dump) is drift with its own rule;
//! every output format is snapshotted; JUnit and SARIF validate against their published schemas.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::expect_drift::rand_name;
use super::snapshots::DUMPS;
use super::{envinspect, fixture, root, settings, Run, NOW, NOW_140};

pub(super) const ENVOY140: &str = "envoy-1.40/config_dump_include_eds.json";
pub(super) const PRODUCTPAGE: &str =
    "istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json";

fn now_for(path: &str) -> &'static str {
    if path.starts_with("envoy-1.40") {
        NOW_140
    } else {
        NOW
    }
}

/// A scratch file under Cargo's target/tmp, unique to the test.
pub(super) fn scratch(name: &str, content: &[u8]) -> String {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

/// Runs the schema validator from the README's virtualenv on `files`.
fn validate(kind: &str, files: &[String]) -> Result<(), String> {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "no {}: run the README's test command",
        python.display()
    );
    let out = std::process::Command::new(python)
        .arg(root().join("src/tests/validate.py"))
        .arg(kind)
        .args(files)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

pub(super) fn expectations(path: &str) -> Value {
    let run = envinspect(&[
        "expect",
        &fixture(path),
        "--now",
        now_for(path),
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn expectations_written_from_every_fixture_hold_on_it_and_fit_the_schema() {
    let mut json_files = Vec::new();
    for (name, path) in DUMPS {
        let now = now_for(path);
        let yaml = envinspect(&["expect", &fixture(path), "--now", now]);
        assert_eq!(yaml.code, 0, "{path}: {}", yaml.stderr);
        let file = scratch(&format!("{name}.yaml"), yaml.stdout.as_bytes());
        let check = envinspect(&["check", &fixture(path), "--expect", &file, "--now", now]);
        assert_eq!(check.code, 0, "{path}:\n{}{}", check.stdout, check.stderr);
        assert!(
            check.stdout.contains("expectations hold\n"),
            "{}",
            check.stdout
        );
        json_files.push(scratch(
            &format!("{name}.json"),
            expectations(path).to_string().as_bytes(),
        ));
    }
    validate("expectations", &json_files).unwrap();
    // The schema rejects what the parser rejects.
    let bad = scratch(
        "bad.json",
        br#"{"version": 1, "clusters": {"items": [{"name": "a", "glob": "b"}]}}"#,
    );
    assert!(validate("expectations", &[bad]).is_err());
}

fn check(args: &[&str]) -> (Run, Vec<String>) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let owned: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    (envinspect(&all), owned)
}

#[test]
fn check_and_expect_outputs_are_snapshotted() {
    let dump = fixture(ENVOY140);
    let drift = fixture("expect/envoy140-drift.yaml");
    for (format, ext) in [
        ("table", "txt"),
        ("json", "json"),
        ("yaml", "yaml"),
        ("junit", "xml"),
        ("sarif", "sarif"),
    ] {
        let (run, args) = check(&[&dump, "--expect", &drift, "--now", NOW_140, "-o", format]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        settings().bind(|| {
            insta::assert_snapshot!(
                format!("check__envoy140_drift__{format}"),
                run.transcript(&args)
            )
        });
        if matches!(format, "junit" | "sarif") {
            let kind = if format == "junit" { "junit" } else { "sarif" };
            validate(
                kind,
                &[scratch(&format!("drift.{ext}"), run.stdout.as_bytes())],
            )
            .unwrap();
        }
    }
    // Passing: the expectations `expect` wrote, kept as a fixture; it must still be what
    // `expect` writes today.
    let good = fixture("expect/envoy140.yaml");
    let written = envinspect(&["expect", &dump, "--now", NOW_140]);
    assert_eq!(
        written.stdout,
        std::fs::read_to_string(root().join(&good)).unwrap(),
        "regenerate fixtures/expect/envoy140.yaml"
    );
    for format in ["table", "junit", "sarif"] {
        let (run, args) = check(&[&dump, "--expect", &good, "--now", NOW_140, "-o", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        settings().bind(|| {
            insta::assert_snapshot!(
                format!("check__envoy140_pass__{format}"),
                run.transcript(&args)
            )
        });
        if format != "table" {
            validate(
                format,
                &[scratch(&format!("pass.{format}"), run.stdout.as_bytes())],
            )
            .unwrap();
        }
    }
    for (path, name) in [(ENVOY140, "envoy140"), (PRODUCTPAGE, "istio14_productpage")] {
        for format in ["yaml", "json"] {
            let args = [
                "expect",
                &fixture(path),
                "--now",
                now_for(path),
                "-o",
                format,
            ];
            let run = envinspect(&args);
            settings().bind(|| {
                insta::assert_snapshot!(format!("expect__{name}__{format}"), run.transcript(&args))
            });
        }
    }
    // The validators are live: a broken document fails them.
    let broken = scratch(
        "broken.sarif",
        br#"{"version": "2.1.0", "runs": [{"results": []}]}"#,
    );
    assert!(validate("sarif", &[broken]).is_err());
    let broken = scratch("broken.xml", b"<testsuites><testcase/></testsuites>");
    assert!(validate("junit", &[broken]).is_err());
}

#[test]
fn diff_names_what_changed_between_two_dumps() {
    let before = fixture("istio/istioctl/pkg/writer/compare/testdata/configdump.json");
    let after = fixture("istio/istioctl/pkg/writer/compare/testdata/configdump_diff.json");
    let args = ["diff", &before, &after, "--now", NOW];
    let run = envinspect(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    settings()
        .bind(|| insta::assert_snapshot!("diff__istio_compare__table", run.transcript(&args)));
    let same = envinspect(&["diff", &before, &before, "--now", NOW]);
    assert_eq!(same.code, 0, "{}", same.stdout);
    // Rotation is not drift: the 1.40 capture's dump with and without EDS.
    let run = envinspect(&[
        "diff",
        &fixture("envoy-1.40/config_dump.json"),
        &fixture(ENVOY140),
        "--now",
        NOW_140,
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn malformed_expectations_are_one_line_with_line_and_column() {
    let dump = fixture(ENVOY140);
    let cases: [(&str, &str); 4] = [
        (
            "version: 1\nclusters:\n  items:\n  - name: a\n    glob: b\n",
            ":4:",
        ),
        ("version: 1\nidentity:\n  spife_id: spiffe://a/b\n", ":3:"),
        ("version: 1\ncertificates:\n  min_time_left: soon\n", ":3:"),
        (
            "{\"version\": 1,\n \"roots\": {\"sha256\": [\"xyz\"]}}",
            ":2:",
        ),
    ];
    for (text, pos) in cases {
        let file = scratch(
            &format!("bad-{}.yaml", rand_name(&json!(text))),
            text.as_bytes(),
        );
        let run = envinspect(&["check", &dump, "--expect", &file]);
        assert_eq!(run.code, 2, "{text}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr
                .starts_with(&format!("envinspect: error: {file}{pos}")),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn redact_removes_what_rotation_changes() {
    let args = ["secrets", &fixture(ENVOY140), "--now", NOW_140, "--redact"];
    let run = envinspect(&args);
    run.assert_ok("secrets --redact");
    assert!(!run.stdout.contains("2026-"), "{}", run.stdout);
    settings()
        .bind(|| insta::assert_snapshot!("secrets__envoy140__redacted", run.transcript(&args)));
    let json = envinspect(&[
        "secrets",
        &fixture(ENVOY140),
        "--now",
        NOW_140,
        "--redact",
        "-o",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["redacted"][0], "serial");
    assert_eq!(
        doc["secrets"][1]["certificates"][0]["seconds_left"],
        "[redacted]"
    );
    let check = envinspect(&[
        "check",
        &fixture(ENVOY140),
        "--expect",
        &fixture("expect/envoy140-drift.yaml"),
        "--now",
        NOW_140,
        "--redact",
    ]);
    assert_eq!(check.code, 1);
    assert!(
        check.stdout.contains("(serial [redacted])")
            && check.stdout.contains("Redacted (--redact):"),
        "{}",
        check.stdout
    );
}

/// The example in docs/GUIDE.md ("How do I snapshot a proxy's identity in my own tests?"),
/// verbatim but for the snapshot settings every test here shares.
#[test]
fn guide_library_example() -> Result<(), envinspect::Error> {
    settings().bind(|| -> Result<(), envinspect::Error> {
        let opts = envinspect::Options::at(time::macros::datetime!(2026-12-01 0:00 UTC));
        let path = "fixtures/envoy-1.40/config_dump_include_eds.json";
        insta::assert_yaml_snapshot!(envinspect::Inspection::read(path, &opts)?.expectations());
        Ok(())
    })
}

#[test]
fn every_drift_rule_has_its_anchor_in_the_docs() {
    let doc = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    for r in envinspect::model::catalog::DRIFT {
        let id = r.id;
        assert!(
            doc.contains(&format!("\n## {id}\n")),
            "docs/rules.md lacks ## {id}"
        );
        assert!(!r.meaning.is_empty());
    }
}

/// Every value `--redact` must remove, read from the unredacted JSON report: serials, dates,
/// fingerprints and versions at any depth, and the time left tables derive from the dates.
fn rotating_values(doc: &Value, out: &mut BTreeSet<String>) {
    match doc {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    (
                        "serial" | "not_before" | "not_after" | "sha256" | "version_info"
                        | "last_updated",
                        Value::String(s),
                    ) if s.len() >= 4 => {
                        out.insert(s.clone());
                    }
                    ("seconds_left", Value::Number(n)) => {
                        let left = envinspect::time_left(n.as_i64().unwrap());
                        out.insert(format!("({left})"));
                    }
                    _ => rotating_values(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| rotating_values(v, out)),
        _ => {}
    }
}

/// `--redact` on every command and format that takes it, on a dump and on `/certs`: not one
/// serial, date, fingerprint, version or time left of the report reaches the output, and each
/// output says it was redacted.
#[test]
fn redact_leaves_no_rotating_value_in_any_output() {
    let drift = fixture("expect/envoy140-drift.yaml");
    for input in [ENVOY140, "envoy-1.40/certs.json"] {
        let path = fixture(input);
        let raw = envinspect(&[&path, "--now", NOW_140, "-o", "json"]);
        let mut values = BTreeSet::new();
        rotating_values(&serde_json::from_str(&raw.stdout).unwrap(), &mut values);
        assert!(values.len() >= 8, "{input}: {values:?}");
        let mut runs: Vec<Vec<&str>> = Vec::new();
        for cmd in [None, Some("secrets"), Some("certs"), Some("clusters")] {
            for format in ["table", "json", "yaml"] {
                let mut args: Vec<&str> = cmd.into_iter().collect();
                args.extend([path.as_str(), "-o", format]);
                runs.push(args);
            }
        }
        if input == ENVOY140 {
            for format in ["table", "json", "yaml", "junit", "sarif"] {
                runs.push(vec!["check", &path, "--expect", &drift, "-o", format]);
            }
            runs.push(vec!["diff", &path, &path]);
        }
        for mut args in runs {
            args.extend(["--now", NOW_140, "--redact"]);
            let run = envinspect(&args);
            assert!(run.code < 2, "{args:?}: {}", run.stderr);
            for v in &values {
                assert!(
                    !run.stdout.contains(v.as_str()),
                    "{args:?} writes {v}:\n{}",
                    run.stdout
                );
            }
            assert!(
                run.stdout.contains("edacted"),
                "{args:?} does not say it is redacted"
            );
        }
    }
}
