//! A deterministic generator of large, realistic dumps for benchmarks: a real Istio sidecar
//! dump (plus the Envoy 1.40 capture's EDS) with every resource list replicated `k` times,
//! names made unique per copy (`…-k.svc.cluster.local`), so cross-references stay consistent.

use serde_json::Value;

/// A dump with about `clusters` clusters, as JSON bytes.
pub fn dump(root: &std::path::Path, clusters: usize) -> Vec<u8> {
    let read = |p: &str| -> Value {
        serde_json::from_slice(&std::fs::read(root.join(p)).expect("fixture")).expect("json")
    };
    let mut base =
        read("fixtures/istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json");
    let eds = read("fixtures/envoy-1.40/config_dump_include_eds.json");
    // The Istio dump has no EDS section: take the 1.40 capture's.
    if let Some(e) = eds["configs"].as_array().and_then(|c| {
        c.iter().find(|s| {
            s["@type"]
                .as_str()
                .is_some_and(|t| t.ends_with("EndpointsConfigDump"))
        })
    }) {
        base["configs"]
            .as_array_mut()
            .expect("configs")
            .push(e.clone());
    }
    let per_copy = base["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s["@type"]
                .as_str()
                .is_some_and(|t| t.ends_with("ClustersConfigDump"))
        })
        .map(|s| {
            s["dynamic_active_clusters"]
                .as_array()
                .map_or(0, |a| a.len())
        })
        .sum::<usize>()
        .max(1);
    let copies = clusters.div_ceil(per_copy).max(1);
    for section in base["configs"].as_array_mut().expect("configs") {
        let Some(obj) = section.as_object_mut() else {
            continue;
        };
        for (key, list) in obj.iter_mut() {
            if key == "static_clusters" || key == "static_listeners" || key == "bootstrap" {
                continue;
            }
            let Some(items) = list.as_array_mut() else {
                continue;
            };
            let originals = std::mem::take(items);
            for k in 0..copies {
                for item in &originals {
                    let text = item
                        .to_string()
                        .replace(".svc.cluster.local", &format!("-{k}.svc.cluster.local"));
                    items.push(serde_json::from_str(&text).expect("json"));
                }
            }
        }
    }
    serde_json::to_vec_pretty(&base).expect("json")
}
