//! One resource inside a fixed skeleton: the per-resource targets' input is the JSON of one
//! cluster, listener, route configuration, secret or endpoint assignment (with its `@type`),
//! which is put, as its own bytes, into the dynamic list of its kind in a skeleton cut from the
//! Envoy 1.40 capture (`fixtures/envoy-1.40/config_dump_include_eds.json`): its node, and the
//! resource the fuzzed one most often refers to (a listener's route configuration, a route's or
//! an endpoint assignment's cluster, a secret's trusted CA).
//!
//! One input then costs what one resource costs: the per-resource targets ([`judge`]) decode,
//! extract and judge it (every rule). What the report of it then answers, the view of its kind
//! in two formats, a trace and an authorization question ([`run`]), is the `views` target's,
//! whose inputs are resources of every kind ([`Kind::guess`]): half of an execution went there,
//! and the per-resource targets ran at half the rate.

use std::sync::OnceLock;

use serde_json::{json, Value};

/// The kind of resource a target fuzzes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `envoy.config.cluster.v3.Cluster`
    Cluster,
    /// `envoy.config.listener.v3.Listener`
    Listener,
    /// `envoy.config.route.v3.RouteConfiguration`
    Route,
    /// `envoy.extensions.transport_sockets.tls.v3.Secret`
    Secret,
    /// `envoy.config.endpoint.v3.ClusterLoadAssignment`
    Endpoints,
}

/// Where the fuzzed resource goes: the dump section's `@type`, its dynamic list, and the
/// wrapper around the resource in that list (with `@@` where the resource goes).
struct Slot {
    section: &'static str,
    list: &'static str,
    wrapper: &'static str,
}

impl Kind {
    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 5] = [
        Kind::Cluster,
        Kind::Listener,
        Kind::Route,
        Kind::Secret,
        Kind::Endpoints,
    ];

    /// The kind of a resource of unknown kind (the `views` target's input): the first whose type
    /// URL the text holds (the seeds carry their `@type`), else one picked by its length.
    pub fn guess(resource: &[u8]) -> Kind {
        let holds = |url: &str| resource.windows(url.len()).any(|w| w == url.as_bytes());
        Kind::ALL
            .into_iter()
            .find(|k| holds(k.type_url()))
            .unwrap_or(Kind::ALL[resource.len() % Kind::ALL.len()])
    }

    /// The kind a target is named after (`cluster`, `listener`, …).
    pub fn named(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The resource's own type URL.
    pub fn type_url(self) -> &'static str {
        match self {
            Kind::Cluster => "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            Kind::Listener => "type.googleapis.com/envoy.config.listener.v3.Listener",
            Kind::Route => "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
            Kind::Secret => "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
            Kind::Endpoints => "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
        }
    }

    /// The target's name (and its corpus directory).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cluster => "cluster",
            Kind::Listener => "listener",
            Kind::Route => "route",
            Kind::Secret => "secret",
            Kind::Endpoints => "endpoints",
        }
    }

    fn slot(self) -> Slot {
        match self {
            Kind::Cluster => Slot {
                section: "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
                list: "dynamic_active_clusters",
                wrapper: r#"{"version_info":"fuzz","cluster":@@,"last_updated":"2026-11-22T23:17:57.175Z"}"#,
            },
            Kind::Listener => Slot {
                section: "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
                list: "dynamic_listeners",
                wrapper: r#"{"name":"fuzz","active_state":{"version_info":"fuzz","listener":@@,"last_updated":"2026-11-22T23:17:57.175Z"}}"#,
            },
            Kind::Route => Slot {
                section: "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
                list: "dynamic_route_configs",
                wrapper: r#"{"version_info":"fuzz","route_config":@@,"last_updated":"2026-11-22T23:17:57.175Z"}"#,
            },
            Kind::Secret => Slot {
                section: "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
                list: "dynamic_active_secrets",
                wrapper: r#"{"name":"fuzz","version_info":"fuzz","last_updated":"2026-11-22T23:17:57.175Z","secret":@@}"#,
            },
            Kind::Endpoints => Slot {
                section: "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
                list: "dynamic_endpoint_configs",
                wrapper: r#"{"version_info":"fuzz","endpoint_config":@@}"#,
            },
        }
    }

    /// The resources of this kind in a config dump (for seeding a corpus): each as JSON text.
    pub fn resources_in(self, dump: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let Some(configs) = dump.get("configs").and_then(Value::as_array) else {
            return out;
        };
        let field = match self {
            Kind::Cluster => "cluster",
            Kind::Listener => "listener",
            Kind::Route => "route_config",
            Kind::Secret => "secret",
            Kind::Endpoints => "endpoint_config",
        };
        for section in configs {
            find_field(section, field, &mut out);
        }
        out
    }
}

fn find_field(v: &Value, field: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == field && x.is_object() {
                    out.push(x.to_string());
                } else {
                    find_field(x, field, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| find_field(x, field, out)),
        _ => {}
    }
}

/// The skeleton for `kind`: from the Envoy 1.40 capture, the node (without its 80 KB list of
/// built-in extensions) and what a resource of this kind refers to: a listener gets the
/// capture's route configuration, a route configuration and an endpoint assignment get its first
/// cluster, a secret gets the trusted CA (`ROOTCA`) to be verified against. Each section costs
/// ~10–80 µs to inspect whatever the fuzzed resource is (measured with `examples/rate.rs`), so
/// the skeleton holds nothing more: combinations of whole dumps are the `dump_tree` target's.
pub fn skeleton(kind: Kind) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/envoy-1.40/config_dump_include_eds.json"
    );
    let full: Value =
        serde_json::from_slice(&std::fs::read(path).expect("the 1.40 capture")).expect("JSON");
    let wanted = match kind {
        Kind::Cluster => None,
        Kind::Listener => Some("RoutesConfigDump"),
        Kind::Route | Kind::Endpoints => Some("ClustersConfigDump"),
        Kind::Secret => Some("SecretsConfigDump"),
    };
    let mut configs = Vec::new();
    for section in full["configs"].as_array().expect("configs") {
        let ty = section["@type"].as_str().unwrap_or_default().to_string();
        if ty.ends_with("BootstrapConfigDump") {
            let mut node = section["bootstrap"]["node"].clone();
            if let Value::Object(o) = &mut node {
                o.remove("extensions");
            }
            configs.push(json!({"@type": ty, "bootstrap": {"node": node}, "last_updated": section["last_updated"].clone()}));
        } else if wanted.is_some_and(|w| ty.ends_with(w)) {
            let mut s = section.clone();
            if let Value::Object(o) = &mut s {
                for (_, list) in o.iter_mut() {
                    if let Value::Array(a) = list {
                        a.retain(|x| kind != Kind::Secret || x["name"] == "ROOTCA");
                        a.truncate(1);
                    }
                }
            }
            configs.push(s);
        }
    }
    json!({ "configs": configs })
}

/// The skeleton's text split around the place of a resource of `kind`: `(before, after)`.
fn halves(kind: Kind) -> &'static (String, String) {
    static H: OnceLock<Vec<(String, String)>> = OnceLock::new();
    let all = H.get_or_init(|| {
        Kind::ALL
            .iter()
            .map(|k| {
                let slot = k.slot();
                let mut dump = skeleton(*k);
                let marker = "@@fuzzed-resource@@";
                let wrapper: Value =
                    serde_json::from_str(&slot.wrapper.replace("@@", &format!("\"{marker}\"")))
                        .expect("wrapper");
                let sections = dump["configs"].as_array_mut().expect("configs");
                let section = match sections.iter_mut().find(|s| s["@type"] == slot.section) {
                    Some(s) => s,
                    None => {
                        sections.push(json!({"@type": slot.section}));
                        sections.last_mut().expect("pushed")
                    }
                };
                let list = section
                    .as_object_mut()
                    .expect("object")
                    .entry(slot.list)
                    .or_insert_with(|| json!([]));
                list.as_array_mut().expect("a list").push(wrapper);
                let text = dump.to_string();
                let quoted = serde_json::to_string(marker).expect("marker");
                let at = text.find(&quoted).expect("marker written once");
                (
                    text[..at].to_string(),
                    text[at + quoted.len()..].to_string(),
                )
            })
            .collect()
    });
    &all[Kind::ALL.iter().position(|k| *k == kind).expect("listed")]
}

/// The dump for one fuzzed resource, or `None` when `resource` is not one JSON value (the
/// byte-level `dump` target covers the parser; here only structure counts).
pub fn dump_with(kind: Kind, resource: &[u8]) -> Option<Vec<u8>> {
    serde_json::from_slice::<serde::de::IgnoredAny>(resource).ok()?;
    let (before, after) = halves(kind);
    let mut out = Vec::with_capacity(before.len() + resource.len() + after.len());
    out.extend_from_slice(before.as_bytes());
    out.extend_from_slice(resource);
    out.extend_from_slice(after.as_bytes());
    Some(out)
}

/// The per-resource targets: one resource of `kind` inside the skeleton, decoded, extracted
/// and judged; its report, when it makes one. Must never panic.
pub fn judge(kind: Kind, data: &[u8]) -> Option<envinspect::Report> {
    let bytes = dump_with(kind, data)?;
    let now = time::OffsetDateTime::from_unix_timestamp(1_796_083_200).expect("a time");
    let input = envinspect::Input {
        name: "fuzz.json".into(),
        bytes,
    };
    envinspect::inspect(&input, &envinspect::Options::at(now)).ok()
}

/// The `views` target: [`judge`], then the view of its kind in two formats and the questions
/// that depend on it (a trace, an authorization question). Must never panic.
pub fn run(kind: Kind, data: &[u8]) {
    use envinspect::render::{render, Color, Format, View};
    let Some(report) = judge(kind, data) else {
        return;
    };
    let view = match kind {
        Kind::Cluster => View::Clusters,
        Kind::Listener => View::Listeners,
        Kind::Route => View::Routes,
        Kind::Secret => View::Secrets,
        Kind::Endpoints => View::Endpoints,
    };
    for format in [Format::Table, Format::Json] {
        let _ = render(
            &report,
            view,
            format,
            Color::Plain,
            None,
            &mut std::io::sink(),
        );
    }
    if kind == Kind::Secret {
        let _ = render(
            &report,
            View::Certs,
            Format::Table,
            Color::Plain,
            None,
            &mut std::io::sink(),
        );
    }
    if matches!(kind, Kind::Listener | Kind::Route | Kind::Cluster) {
        if let Ok(t) = "foo.default.svc.cluster.local:8080/a".parse() {
            let probe = envinspect::trace::Probe::new(t, envinspect::trace::AppProtocol::Auto);
            let _ = envinspect::trace::outbound(&report, &probe);
        }
    }
    if kind == Kind::Listener {
        let _ = envinspect::trace::inbound(&report, 9080);
        let request = crate::sleep_request(None);
        let _ = envinspect::authz::evaluate(&report, &request, report.now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_lands_in_its_dynamic_list_and_the_seeds_read_whole() {
        let full: Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../fixtures/envoy-1.40/config_dump_include_eds.json"
            ))
            .unwrap(),
        )
        .unwrap();
        for kind in Kind::ALL {
            let seeds = kind.resources_in(&full);
            assert!(!seeds.is_empty(), "{kind:?}");
            let dump = dump_with(kind, seeds[0].as_bytes()).unwrap();
            let v: Value = serde_json::from_slice(&dump).unwrap();
            let slot = kind.slot();
            let section = v["configs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["@type"] == slot.section)
                .unwrap();
            let placed = section[slot.list]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .to_string();
            assert!(placed.contains(&seeds[0]), "{kind:?}");
            // The skeleton and a real resource make a report, as the capture itself does.
            let now = time::OffsetDateTime::from_unix_timestamp(1_796_083_200).unwrap();
            let input = envinspect::Input {
                name: "fuzz.json".into(),
                bytes: dump,
            };
            envinspect::inspect(&input, &envinspect::Options::at(now))
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            run(kind, seeds[0].as_bytes());
        }
    }

    #[test]
    fn each_kind_is_found_by_its_target_name() {
        for kind in Kind::ALL {
            assert_eq!(Kind::named(kind.name()), Some(kind));
        }
        assert_eq!(Kind::named("dump"), None);
    }

    #[test]
    fn the_kind_of_a_seed_is_guessed_from_its_type() {
        for kind in Kind::ALL {
            let seed = format!(r#"{{"@type":"{}","name":"x"}}"#, kind.type_url());
            assert_eq!(Kind::guess(seed.as_bytes()), kind);
        }
        // Without a known type, still one of them, the same every time.
        let bare = br#"{"name":"x"}"#;
        assert_eq!(Kind::guess(bare), Kind::guess(bare));
    }

    #[test]
    fn not_one_json_value_is_not_placed() {
        assert!(dump_with(Kind::Cluster, b"{").is_none());
        assert!(dump_with(Kind::Cluster, b"{} {}").is_none());
        assert!(dump_with(Kind::Cluster, b"").is_none());
        // Anything that is one value is placed, even of the wrong type.
        assert!(dump_with(Kind::Cluster, b"7").is_some());
    }
}
