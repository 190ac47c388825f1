//! The panic policy (`par::LOST`) end to end in a bundle: a worker that panics on one proxy
//! costs that proxy's row only. The row says why, the others are analysed as without it, and
//! the panic does not escape `analyse`. The binary turns an unreadable row into exit 2
//! (`src/tests/bundle.rs` holds that for unreadable dumps).

use std::path::PathBuf;

use crate::model::bundle::ProxyKind;

/// A proxy whose name ends so makes `row` panic (under `cfg(test)` only).
pub(super) const PANICS: &str = "inject-panic";

fn bundle(jobs: usize) -> PathBuf {
    let dump = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/envoy-1.40/config_dump_include_eds.json"
    ))
    .unwrap();
    let root = std::env::temp_dir().join(format!("envinspect-fault-{}-{jobs}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for pod in ["a-1", &format!("b-{PANICS}"), "c-1", "d-1"] {
        let d = root.join("proxies/default").join(pod);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config_dump?include_eds"), &dump).unwrap();
    }
    root
}

#[test]
fn a_worker_that_panics_costs_its_proxy_only() {
    for jobs in [1, 3] {
        let dir = bundle(jobs);
        let mut opts = super::BundleOptions::at(time::macros::datetime!(2026-12-01 0:00 UTC));
        opts.jobs = jobs;
        let report = super::analyse(&dir, &opts, &crate::progress::Quiet).expect("an answer");
        let rows: Vec<(&str, ProxyKind)> = report
            .proxies
            .iter()
            .map(|p| (p.proxy.as_str(), p.kind))
            .collect();
        let lost = format!("default/b-{PANICS}");
        assert_eq!(
            rows,
            vec![
                ("default/a-1", ProxyKind::Envoy),
                (lost.as_str(), ProxyKind::Unreadable),
                ("default/c-1", ProxyKind::Envoy),
                ("default/d-1", ProxyKind::Envoy),
            ],
            "jobs {jobs}"
        );
        let why = report.proxies[1].error.as_deref().unwrap_or_default();
        assert!(why.ends_with(crate::par::LOST), "{why}");
        assert!(why.contains(&format!("b-{PANICS}")), "{why}");
        // The others are whole: each has its identity, as a bundle without the fault has.
        for p in [0, 2, 3] {
            assert!(
                report.proxies[p].identity.is_some(),
                "{:?}",
                report.proxies[p]
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
