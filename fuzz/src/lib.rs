//! What the structure-aware fuzz targets share: a mutator over JSON trees ([`tree`]) and the
//! per-resource harness ([`resource`]) that places one cluster, listener, route configuration,
//! secret or endpoint assignment inside a fixed skeleton dump (the Envoy 1.40 capture, trimmed).
//!
//! libFuzzer's own mutations flip bytes, and nearly every flipped byte of a config dump is
//! invalid JSON that stops at the parser. These mutations keep the JSON valid and change its
//! structure instead: delete, duplicate and retype members, swap `@type`s among the known ones,
//! rename keys to ones Envoy writes, splice subtrees within and between inputs, and put edge
//! values (huge numbers, empty and NaN-like strings, deep nesting, base64 and PEM garbage) where
//! the decoder expects something else.
//!
//! The code here depends on neither libFuzzer nor the sanitizer, so its unit tests run on stable
//! (`cd fuzz && cargo test --lib`); the targets pass libFuzzer's byte mutator in as a function.

pub mod resource;
pub mod tree;
pub mod whole;

/// The report of the Envoy 1.40 capture of the differential explain test
/// (`fixtures/envoy-1.40-explain/config_dump.json`), read once per process: the evidence targets
/// (`evidence`, `log_line`, `stats`) explain lines and judge counters against it.
pub fn explain_capture() -> &'static envinspect::Report {
    static R: std::sync::OnceLock<envinspect::Report> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let now = time::OffsetDateTime::from_unix_timestamp(1_796_083_200).expect("a time");
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/envoy-1.40-explain/config_dump.json"
        );
        envinspect::Inspection::read(path, &envinspect::Options::at(now))
            .expect("the explain capture")
            .into_report()
    })
}

/// The authorization question the targets ask: Istio's `sleep` service account, by its
/// certificate, from 10.0.0.1 to port 9080 (of `destination_ip`, which a ztunnel needs to pick
/// the workload).
pub fn sleep_request(destination_ip: Option<std::net::IpAddr>) -> envinspect::authz::Request {
    envinspect::authz::Request {
        port: 9080,
        client: "spiffe://cluster.local/ns/default/sa/sleep"
            .parse()
            .ok()
            .map(envinspect::authz::Client::Certificate),
        source_ip: "10.0.0.1".parse().ok(),
        destination_ip,
        ..Default::default()
    }
}
