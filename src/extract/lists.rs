//! The resource lists of a config dump — clusters, listeners, routes, endpoints — each unpacked and
//! turned into the model. Resources are independent, so a long list is cut into chunks extracted
//! on several threads (`par`); items and issues are joined in order, so the report does not depend
//! on the thread count.

use envoy_types::pb::envoy::admin::v3 as admin;
use envoy_types::pb::envoy::config::cluster::v3::Cluster as PbCluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener as PbListener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::google::protobuf::{Any, Timestamp};

use std::mem::take;

use super::{resources, unpacked};
use crate::decode::{DecodedDump, Issue, Located};
use crate::model::{Cluster, Endpoint, Listener, Report, ResourceState, RouteConfig, Versioned};

/// Lists shorter than this are extracted on the caller's thread.
const PARALLEL_MIN_RESOURCES: usize = 256;

/// Moves the four kinds of lists out of `d` into `r`, as the model.
pub(super) fn extract(
    d: &mut DecodedDump,
    threads: usize,
    r: &mut Report,
    issues: &mut Vec<Issue>,
) {
    // The order issues were always met in: clusters, listeners, routes, endpoints.
    let statics = par(
        take(&mut d.static_clusters),
        threads,
        clusters(ResourceState::Static),
    );
    add(statics, &mut r.clusters, issues);
    let active = par(
        take(&mut d.active_clusters),
        threads,
        clusters(ResourceState::Active),
    );
    add(active, &mut r.clusters, issues);
    let warming = par(
        take(&mut d.warming_clusters),
        threads,
        clusters(ResourceState::Warming),
    );
    add(warming, &mut r.clusters, issues);
    let statics = par(take(&mut d.static_listeners), threads, static_listeners);
    add(statics, &mut r.listeners, issues);
    let dynamic = par(take(&mut d.dynamic_listeners), threads, dynamic_listeners);
    add(dynamic, &mut r.listeners, issues);
    let statics = par(
        take(&mut d.static_routes),
        threads,
        routes(ResourceState::Static),
    );
    add(statics, &mut r.routes, issues);
    let dynamic = par(
        take(&mut d.dynamic_routes),
        threads,
        routes(ResourceState::Active),
    );
    add(dynamic, &mut r.routes, issues);
    add(
        par(take(&mut d.static_endpoints), threads, endpoints),
        &mut r.endpoints,
        issues,
    );
    add(
        par(take(&mut d.dynamic_endpoints), threads, endpoints),
        &mut r.endpoints,
        issues,
    );
}

fn add<T>((found, mut noted): Out<T>, to: &mut Vec<T>, issues: &mut Vec<Issue>) {
    to.extend(found);
    issues.append(&mut noted);
}

/// `f` over `list` in chunks, on up to `threads` threads when the list is long.
fn par<W: Send, T: Send>(
    list: Vec<Located<W>>,
    threads: usize,
    f: impl Fn(Vec<Located<W>>) -> Out<T> + Sync,
) -> Out<T> {
    let threads = if list.len() >= PARALLEL_MIN_RESOURCES {
        threads
    } else {
        1
    };
    // Where each item is, to say which part a panicking worker lost.
    let pointers: Vec<String> = list.iter().map(|l| l.pointer.clone()).collect();
    let chunks = crate::par::map_chunks(list, threads, |chunk| {
        f(chunk.into_iter().map(|(_, l)| l).collect())
    });
    let (mut found, mut noted) = (Vec::new(), Vec::new());
    for (start, chunk) in chunks {
        match chunk {
            Ok((mut f, mut n)) => {
                found.append(&mut f);
                noted.append(&mut n);
            }
            Err(_) => {
                let at = pointers.get(start).map_or("", String::as_str);
                noted.push(Issue::error(
                    at,
                    format!("from here on: {}", crate::par::LOST),
                ));
            }
        }
    }
    (found, noted)
}

/// What one list gave: its model items and the issues met.
type Out<T> = (Vec<T>, Vec<Issue>);

fn clusters<W: Wrapper>(state: ResourceState) -> impl Fn(Vec<Located<W>>) -> Out<Cluster> {
    move |list| {
        let mut issues = Vec::new();
        let out = unpacked::<_, PbCluster>(list, "cluster", W::any, &mut issues)
            .filter_map(|(ptr, w, pb)| {
                pb.map(|pb| Cluster {
                    versioned: w.versioned(),
                    ..resources::cluster(pb, state, &ptr)
                })
            })
            .collect();
        (out, issues)
    }
}

fn static_listeners(
    list: Vec<Located<admin::listeners_config_dump::StaticListener>>,
) -> Out<Listener> {
    let mut issues = Vec::new();
    let out = unpacked::<_, PbListener>(list, "listener", Wrapper::any, &mut issues)
        .filter_map(|(ptr, w, pb)| {
            pb.map(|pb| Listener {
                versioned: w.versioned(),
                ..resources::listener(pb, ResourceState::Static, &ptr)
            })
        })
        .collect();
    (out, issues)
}

fn dynamic_listeners(
    list: Vec<Located<admin::listeners_config_dump::DynamicListener>>,
) -> Out<Listener> {
    let (mut out, mut issues) = (Vec::new(), Vec::new());
    for l in list {
        let v = l.value;
        let states = [
            (ResourceState::Active, v.active_state, "active_state"),
            (ResourceState::Warming, v.warming_state, "warming_state"),
            (ResourceState::Draining, v.draining_state, "draining_state"),
        ];
        for (state, s, key) in states {
            let located = s.map(|s| Located {
                pointer: format!("{}/{key}", l.pointer),
                value: s,
            });
            for (ptr, w, pb) in unpacked::<_, PbListener>(
                located.into_iter().collect(),
                "listener",
                |w| w.listener.as_ref(),
                &mut issues,
            ) {
                let versioned = Versioned {
                    version_info: Some(w.version_info.clone()).filter(|s| !s.is_empty()),
                    last_updated: when(w.last_updated.as_ref()),
                };
                out.extend(pb.map(|pb| Listener {
                    versioned,
                    ..resources::listener(pb, state, &ptr)
                }));
            }
        }
    }
    (out, issues)
}

fn routes<W: Wrapper>(state: ResourceState) -> impl Fn(Vec<Located<W>>) -> Out<RouteConfig> {
    move |list| {
        let mut issues = Vec::new();
        let out = unpacked::<_, RouteConfiguration>(list, "route_config", W::any, &mut issues)
            .filter_map(|(ptr, w, pb)| {
                pb.map(|pb| RouteConfig {
                    versioned: w.versioned(),
                    ..resources::route_config(pb, state, &ptr)
                })
            })
            .collect();
        (out, issues)
    }
}

fn endpoints<W: Wrapper>(list: Vec<Located<W>>) -> Out<Endpoint> {
    let (mut out, mut issues) = (Vec::new(), Vec::new());
    for (ptr, _, pb) in
        unpacked::<_, ClusterLoadAssignment>(list, "endpoint_config", W::any, &mut issues)
    {
        pb.into_iter()
            .for_each(|pb| resources::endpoints(pb, &ptr, &mut out));
    }
    (out, issues)
}

/// The admin wrappers around each resource's `Any`.
trait Wrapper {
    fn any(&self) -> Option<&Any>;
    /// The wrapper's `version_info` and `last_updated`: which push, and when Envoy took it.
    fn versioned(&self) -> Versioned {
        Versioned::default()
    }
}

/// A protobuf `Timestamp` as the model's (whole seconds: what the admin API reports).
pub(crate) fn when(t: Option<&Timestamp>) -> Option<crate::model::Timestamp> {
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.seconds).ok())
        .map(Into::into)
}

macro_rules! wrapper {
    ($($t:ty => $field:ident $(, $version:ident)?);* $(;)?) => {$(
        impl Wrapper for $t {
            fn any(&self) -> Option<&Any> {
                self.$field.as_ref()
            }
            fn versioned(&self) -> Versioned {
                #[allow(unused_mut)]
                let mut v = Versioned {
                    version_info: None,
                    last_updated: when(self.last_updated.as_ref()),
                };
                $(v.version_info = Some(self.$version.clone()).filter(|s| !s.is_empty());)?
                v
            }
        }
    )*};
}

wrapper! {
    admin::clusters_config_dump::StaticCluster => cluster;
    admin::clusters_config_dump::DynamicCluster => cluster, version_info;
    admin::listeners_config_dump::StaticListener => listener;
    admin::routes_config_dump::StaticRouteConfig => route_config;
    admin::routes_config_dump::DynamicRouteConfig => route_config, version_info;
}

impl Wrapper for admin::endpoints_config_dump::StaticEndpointConfig {
    fn any(&self) -> Option<&Any> {
        self.endpoint_config.as_ref()
    }
}

impl Wrapper for admin::endpoints_config_dump::DynamicEndpointConfig {
    fn any(&self) -> Option<&Any> {
        self.endpoint_config.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// Enough resources for the second thread: the report, warnings included, is the same as on
    /// one thread.
    #[test]
    fn two_threads_give_the_report_one_gives() {
        let clusters: Vec<_> = (0..super::PARALLEL_MIN_RESOURCES)
            .map(|i| {
                let timeout = if i == 7 { json!(7) } else { json!("1s") };
                json!({"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
                    "name": format!("outbound|80||c{i}.ns.svc.cluster.local"), "type": "EDS",
                    "connect_timeout": timeout}})
            })
            .collect();
        let listeners: Vec<_> = (0..20)
            .map(|i| {
                json!({"name": format!("l{i}"), "active_state": {"listener": {
                    "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
                    "name": format!("0.0.0.0_{}", 8000 + i),
                    "address": {"socket_address": {"address": "0.0.0.0", "port_value": 8000 + i}},
                    "filter_chains": [{"filters": [{"name": "x", "typed_config": {"@type": "type.googleapis.com/unknown.Filter", "a": i}}]}]}}})
            })
            .collect();
        let routes: Vec<_> = (0..5)
            .map(|i| json!({"route_config": {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": format!("r{i}")}}))
            .collect();
        let dump = json!({"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": clusters},
            {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": listeners},
            {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump", "dynamic_route_configs": routes},
        ]});
        let text = dump.to_string();
        let pool = crate::decode::Pool::load().unwrap();
        let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200)
            .unwrap()
            .into();
        let report = |threads| {
            let doc = crate::document::parse("t.json", text.as_bytes()).unwrap();
            let decoded = crate::decode::decode(&pool, doc, 1).unwrap();
            super::super::report("t.json", decoded, now, None, threads)
        };
        let (one, two) = (report(1), report(2));
        assert_eq!(one.clusters.len(), super::PARALLEL_MIN_RESOURCES);
        assert_eq!((one.listeners.len(), one.routes.len()), (20, 5));
        assert!(!one.warnings.is_empty());
        assert_eq!(one, two);
    }
}
