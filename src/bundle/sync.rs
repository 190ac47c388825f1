//! istiod's view of the fleet: every syncz of the bundle read, each proxy it lists matched with
//! its row (`POD.NAMESPACE` is the bundle's `NAMESPACE/POD`), the row's SYNC cell, and the fleet
//! findings it proves (`sync-nack`, `sync-stale`, and `sync-dump-differs` where the row's dump
//! accepted another version than istiod saw acknowledged).

use std::collections::BTreeMap;

use crate::model::bundle::{FleetSync, ProxyRow};
use crate::model::Finding;
use crate::source::bundle::Entry;

/// `None` when the bundle has no syncz. A syncz that cannot be read is one line in `errors`; the
/// others are still read.
pub(super) fn fleet(
    entries: Vec<Entry>,
    rows: &mut [ProxyRow],
    findings: &mut Vec<Finding>,
) -> Option<FleetSync> {
    if entries.is_empty() {
        return None;
    }
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for e in entries {
        match crate::sync::read(&e.path, &e.bytes) {
            Ok(s) => files.push(s),
            Err(err) => errors.push(err.to_string()),
        }
    }
    let report = crate::sync::report(files);
    let by_node: BTreeMap<String, usize> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| crate::sync::node_name(&r.proxy).map(|n| (n, i)))
        .collect();
    let mut worst: BTreeMap<usize, &crate::model::sync::ProxySync> = BTreeMap::new();
    for p in &report.proxies {
        let row = by_node.get(&p.name).copied();
        let subject = row.map(|i| format!("proxy {}", rows[i].proxy));
        let mut found = crate::sync::findings(p);
        if let Some(i) = row {
            found.extend(crate::sync::cross_check(p, &rows[i].fleet.accepted));
            let rank =
                |p: &crate::model::sync::ProxySync| p.worst().map_or(0, |(s, _)| s.severity());
            if worst.get(&i).is_none_or(|w| rank(p) > rank(w)) {
                worst.insert(i, p);
            }
        }
        for mut f in found {
            if let Some(s) = &subject {
                f.subject = s.clone();
            }
            findings.push(f);
        }
    }
    for (i, p) in worst {
        rows[i].sync = Some(p.summary());
    }
    findings.sort();
    findings.dedup();
    Some(FleetSync {
        sources: report.sources,
        proxies: report.proxies,
        errors,
    })
}
