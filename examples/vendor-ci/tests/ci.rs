//! What a vendor's CI asserts about a proxy, from Rust: a snapshot of its identities and TLS,
//! and a check against expectations. The second and third programs of `docs/library.md`.
//! The dumps are envinspect's own fixtures; a vendor points at theirs.

use std::path::{Path, PathBuf};

/// The repository's top level, relative to this crate (`examples/vendor-ci`, where cargo runs
/// its tests), so that the report's `source` and the snapshot do not depend on the checkout.
fn repo() -> PathBuf {
    Path::new("../..").to_path_buf()
}

/// Snapshots live with the repository's others, in `snapshots/`.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn snapshot_identities_and_tls() -> Result<(), envinspect::Error> {
    let dump = repo().join("fixtures/envoy-1.40/config_dump_include_eds.json");
    settings().bind(|| {
        let mut opts = envinspect::Options::at(time::macros::datetime!(2026-12-01 0:00 UTC));
        opts.redact = true;
        let inspection = envinspect::Inspection::read(&dump, &opts)?;
        // What the proxy is, as `envinspect expect` writes it: identity, roots, TLS per cluster…
        insta::assert_yaml_snapshot!("library_expectations", inspection.expectations());
        // Or the whole report, as `envinspect -o json --redact` writes it.
        insta::assert_json_snapshot!("library_document", inspection.document());
        Ok(())
    })
}

#[test]
fn check_against_expectations() -> Result<(), envinspect::Error> {
    let dump = repo().join("fixtures/envoy-1.40/config_dump_include_eds.json");
    let expectations = repo().join("fixtures/expect/envoy140.yaml");
    let now: envinspect::model::Timestamp = time::macros::datetime!(2026-12-01 0:00 UTC).into();
    let (expected, input) = envinspect::load_expectations(&expectations, now)?;
    let inspection = envinspect::Inspection::read(&dump, &envinspect::Options::at(now))?;
    let check = inspection.check(&expected, &input);
    assert_eq!(check.summary.failed, 0, "{:#?}", check.results);
    assert!(check.summary.passed > 0, "{:#?}", check.summary);
    Ok(())
}

/// The drifted expectations fail, so the check above is not vacuous.
#[test]
fn drifted_expectations_fail() -> Result<(), envinspect::Error> {
    let dump = repo().join("fixtures/envoy-1.40/config_dump_include_eds.json");
    let expectations = repo().join("fixtures/expect/envoy140-drift.yaml");
    let now: envinspect::model::Timestamp = time::macros::datetime!(2026-12-01 0:00 UTC).into();
    let (expected, input) = envinspect::load_expectations(&expectations, now)?;
    let inspection = envinspect::Inspection::read(&dump, &envinspect::Options::at(now))?;
    assert!(inspection.check(&expected, &input).summary.failed > 0);
    Ok(())
}

/// The program of `src/main.rs`, run on a dump: it prints the proxy's SPIFFE ID.
#[test]
fn identity_program_prints_the_spiffe_id() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_identity"))
        .arg(repo().join("fixtures/envoy-1.40/config_dump.json"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "spiffe://cluster.local/ns/default/sa/foo\n"
    );
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_identity"))
        .arg(repo().join("fixtures/does-not-exist.json"))
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
}
