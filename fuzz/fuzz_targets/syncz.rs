//! Any bytes as istiod's syncz, named as a bug-report names it and not: a one-line error or rows,
//! never a panic; every row's summary, findings and cross-check against the real Envoy 1.40
//! capture that refused an LDS update must be computable.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn dump() -> &'static envinspect::Report {
    static R: OnceLock<envinspect::Report> = OnceLock::new();
    R.get_or_init(|| {
        let now = time::OffsetDateTime::from_unix_timestamp(1_796_083_200).unwrap();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/envoy-1.40-sync/web-1.config_dump.json"
        );
        envinspect::Inspection::read(path, &envinspect::Options::at(now))
            .unwrap()
            .into_report()
    })
}

fuzz_target!(|data: &[u8]| {
    for name in [
        "syncz.json",
        "bug-report/istio/istio-system/istiod-1/debug/syncz",
    ] {
        match envinspect::sync::read(name, data) {
            Ok(s) => {
                for p in &s.proxies {
                    let _ = p.summary();
                    let _ = envinspect::sync::cross_check(p, &dump().accepted);
                }
                let r = envinspect::sync::report(vec![s]);
                let _ = r.findings.len();
            }
            Err(e) => assert!(!e.to_string().contains('\n') || e.to_string().lines().count() == 1),
        }
    }
});
