//! Deterministic generators of large, realistic dumps for benchmarks, in two shapes:
//! - [`dump`]: a real Istio sidecar dump (plus the Envoy 1.40 capture's EDS) with every resource
//!   list replicated `k` times, names made unique per copy (`…-k.svc.cluster.local`), so
//!   cross-references stay consistent. Clusters and EDS dominate its bytes.
//! - [`capture`]: the Envoy 1.40 capture with its clusters and listeners replicated under new
//!   names and ports. Listeners with HTTP connection managers and inline routes dominate its
//!   bytes, and its secrets are real certificates: a different balance of work per byte.

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
                items.extend(originals.iter().map(|item| renamed(item, k)));
            }
        }
    }
    serde_json::to_vec_pretty(&base).expect("json")
}

/// Copy `k` of a resource: every service name `….svc.cluster.local` becomes
/// `…-k.svc.cluster.local`, so references between copied resources stay consistent.
fn renamed(item: &Value, k: usize) -> Value {
    let text = item
        .to_string()
        .replace(".svc.cluster.local", &format!("-{k}.svc.cluster.local"));
    serde_json::from_str(&text).expect("json")
}

/// The Envoy 1.40 capture with its static clusters and listeners replicated `copies` times: each
/// copy's clusters renamed `…-k.svc.cluster.local`, its listener named `…-k` on its own port.
/// 4,400 copies make 67 MB.
pub fn capture(root: &std::path::Path, copies: usize) -> Vec<u8> {
    let path = root.join("fixtures/envoy-1.40/config_dump.json");
    let mut base: Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("json");
    for section in base["configs"].as_array_mut().expect("configs") {
        for key in ["static_clusters", "static_listeners"] {
            let Some(items) = section.get_mut(key).and_then(Value::as_array_mut) else {
                continue;
            };
            let originals = std::mem::take(items);
            for k in 0..copies {
                for item in &originals {
                    let mut copy = renamed(item, k);
                    if let Some(l) = copy.get_mut("listener") {
                        let name = format!("{}-{k}", l["name"].as_str().unwrap_or("listener"));
                        l["name"] = Value::String(name);
                        let port = &mut l["address"]["socket_address"]["port_value"];
                        *port = Value::from(20_000 + k as u64);
                    }
                    items.push(copy);
                }
            }
        }
    }
    serde_json::to_vec_pretty(&base).expect("json")
}
