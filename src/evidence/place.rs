//! Where an access-log line sits in the proxy's configuration: the listener (bound to the
//! line's `%DOWNSTREAM_LOCAL_ADDRESS%`, or the capture listener's hand-off: `trace`'s rule), the
//! filter chain (`authz::chain`, Envoy's matching), the route configuration, virtual host and
//! route (by the logged name, else by re-matching the request: `authz::route`), and the cluster
//! (as logged, else the route's). What the line names and the dump lacks is kept as `missing`;
//! what cannot be placed, with why.

use std::net::{IpAddr, SocketAddr};

use crate::authz::chain::{self, Connection, Hello, Pick};
use crate::authz::context::HttpRequest;
use crate::model::evidence::{Record, ResponseFlag};
use crate::model::{Cluster, Destination, FilterChain, Listener, Report, RouteAction, RouteConfig};
use crate::model::{Route, VirtualHost};

/// Where the line sits in the configuration.
#[derive(Default)]
pub(super) struct Place<'r> {
    pub(super) listener: Option<&'r Listener>,
    pub(super) chain: Option<&'r FilterChain>,
    pub(super) rc: Option<&'r RouteConfig>,
    pub(super) vh: Option<&'r VirtualHost>,
    pub(super) route: Option<&'r Route>,
    pub(super) cluster: Option<&'r Cluster>,
    /// The cluster's name, as logged or from the route, even when the dump lacks it.
    pub(super) cluster_name: Option<String>,
    /// What could not be placed, and why.
    pub(super) unplaced: Vec<String>,
    /// Names the line gives that the dump does not have.
    pub(super) missing: Vec<String>,
}

/// Every route configuration: from RDS, and inline in connection managers.
pub(super) fn route_configs(r: &Report) -> Vec<&RouteConfig> {
    let inline = r
        .listeners
        .iter()
        .flat_map(|l| &l.filter_chains)
        .flat_map(|c| &c.destinations)
        .filter_map(|d| match d {
            Destination::InlineRoute { config } => Some(config.as_ref()),
            _ => None,
        });
    // Envoy lists inline route configurations among its static ones too: each once.
    let mut out: Vec<&RouteConfig> = Vec::new();
    for rc in r.routes.iter().chain(inline) {
        if !out
            .iter()
            .any(|o| o.name == rc.name && o.virtual_hosts == rc.virtual_hosts)
        {
            out.push(rc);
        }
    }
    out
}

pub(super) fn chain_name(c: &FilterChain) -> String {
    match &c.name {
        Some(n) => n.clone(),
        None if c.is_default => "default_filter_chain".into(),
        None => c
            .pointer
            .rsplit('/')
            .next()
            .map_or_else(String::new, |i| format!("#{i}")),
    }
}

/// Every (listener, chain) whose access logs write `file`.
fn writers<'r>(r: &'r Report, file: &str) -> Vec<(&'r Listener, &'r FilterChain)> {
    let writes = |logs: &[crate::model::evidence::AccessLog]| {
        logs.iter().any(|a| super::log::writes(a, file))
    };
    r.listeners
        .iter()
        .flat_map(|l| l.filter_chains.iter().map(move |c| (l, c)))
        .filter(|(l, c)| writes(&l.telemetry.access_logs) || writes(&c.telemetry.access_logs))
        .collect()
}

pub(super) fn socket(s: &str) -> Option<SocketAddr> {
    s.parse().ok()
}

pub(super) fn locate<'r>(r: &'r Report, rec: &Record, file: &str) -> Place<'r> {
    let mut p = Place::default();
    // The listener and chain: by the address the connection was made to.
    match rec.downstream_local.as_deref().and_then(socket) {
        Some(local) => {
            match crate::trace::listen::listener(r, Some(local.ip()), u32::from(local.port())) {
                Ok(entry) => {
                    p.listener = Some(entry.listener);
                    p.chain = pick_chain(entry.listener, local, rec);
                    if p.chain.is_none() {
                        p.unplaced.push(format!(
                            "no filter chain of {} could be chosen from what the line carries",
                            entry.listener.name
                        ));
                    }
                }
                Err(_) => p.unplaced.push(format!(
                    "no listener of the dump receives connections to {local}"
                )),
            }
        }
        // Without the address, the file itself may say: a file only one chain's access log
        // (its own or its listener's) writes holds only that chain's lines.
        None => match writers(r, file).as_slice() {
            [(l, c)] => {
                p.listener = Some(l);
                p.chain = Some(c);
            }
            _ => p.unplaced.push(
                "the line has no %DOWNSTREAM_LOCAL_ADDRESS%: the listener is not known".into(),
            ),
        },
    }
    // The route configuration: the chain's, else the only one with a virtual host for the Host.
    p.rc = p.chain.and_then(|c| route_config(r, c));
    if p.rc.is_none() && p.chain.is_none() {
        if let Some(authority) = &rec.authority {
            let with_host: Vec<&RouteConfig> = route_configs(r)
                .into_iter()
                .filter(|rc| crate::authz::route::virtual_host(rc, authority).is_some())
                .collect();
            match with_host.as_slice() {
                [one] => p.rc = Some(one),
                [] => {}
                _ => {
                    // Of several, the line (which went upstream, or meant to) can only have
                    // met one whose route for it forwards to a cluster.
                    let forwarding: Vec<&RouteConfig> = with_host
                        .iter()
                        .copied()
                        .filter(|rc| forwards(rc, rec, authority))
                        .collect();
                    match forwarding.as_slice() {
                        [one] if rec.route_name.is_some() || upstream_bound(rec) => {
                            p.rc = Some(one)
                        }
                        _ => p.unplaced.push(format!(
                            "{} route configurations have a virtual host for Host {authority}",
                            with_host.len()
                        )),
                    }
                }
            }
        }
    }
    // The virtual host and route.
    if let (Some(rc), Some(authority)) = (p.rc, rec.authority.as_deref()) {
        let host = match (p.chain, p.listener.and_then(|l| l.port)) {
            (Some(c), Some(port)) => c.host.apply(authority, port),
            _ => authority.to_string(),
        };
        p.vh = crate::authz::route::virtual_host(rc, &host).map(|(_, v)| v);
        if let Some(vh) = p.vh {
            p.route = match &rec.route_name {
                Some(name) => vh.routes.iter().find(|r| r.name.as_deref() == Some(name)),
                None => {
                    let req = HttpRequest {
                        method: rec.method.clone().unwrap_or_else(|| "GET".into()),
                        path: rec.path.clone().unwrap_or_else(|| "/".into()),
                        authority: host.clone(),
                        headers: Default::default(),
                    };
                    crate::authz::route::route(vh, &req)
                        .ok()
                        .flatten()
                        .map(|(_, r)| r)
                }
            };
        }
    }
    if let Some(name) = &rec.route_name {
        let anywhere = route_configs(r)
            .into_iter()
            .flat_map(|rc| &rc.virtual_hosts)
            .flat_map(|v| &v.routes)
            .any(|x| x.name.as_deref() == Some(name));
        if !anywhere {
            p.missing.push(format!("route {name}"));
        }
    }
    // The cluster: as logged, else the route's.
    let cluster = rec
        .upstream_cluster
        .clone()
        .or_else(|| match p.route.map(|r| &r.action) {
            Some(RouteAction::Cluster { name }) => Some(name.clone()),
            _ => None,
        });
    if let Some(name) = cluster {
        p.cluster = r.clusters.iter().find(|c| c.name == name.as_str());
        if p.cluster.is_none() {
            p.missing.push(format!("cluster {name}"));
        }
        p.cluster_name = Some(name);
    }
    p
}

/// Whether the line's request meant to reach an upstream: a flag about one, or an upstream host.
pub(super) fn upstream_bound(rec: &Record) -> bool {
    use ResponseFlag::*;
    rec.upstream_host.is_some()
        || rec.flags.iter().any(|f| {
            matches!(
                f,
                NoHealthyUpstream
                    | UpstreamOverflow
                    | UpstreamRequestTimeout
                    | UpstreamConnectionFailure
                    | UpstreamRetryLimitExceeded
                    | UpstreamRemoteReset
                    | UpstreamConnectionTermination
                    | NoClusterFound
            )
        })
}

/// Whether `rc` routes the line's request to a cluster.
pub(super) fn forwards(rc: &RouteConfig, rec: &Record, authority: &str) -> bool {
    let Some((_, vh)) = crate::authz::route::virtual_host(rc, authority) else {
        return false;
    };
    let req = HttpRequest {
        method: rec.method.clone().unwrap_or_else(|| "GET".into()),
        path: rec.path.clone().unwrap_or_else(|| "/".into()),
        authority: authority.to_string(),
        headers: Default::default(),
    };
    matches!(
        crate::authz::route::route(vh, &req),
        Ok(Some((_, r))) if matches!(r.action, RouteAction::Cluster { .. } | RouteAction::WeightedClusters { .. } | RouteAction::ClusterHeader { .. })
    )
}

pub(super) fn pick_chain<'r>(
    l: &'r Listener,
    local: SocketAddr,
    rec: &Record,
) -> Option<&'r FilterChain> {
    if let Some(name) = &rec.filter_chain {
        if let Some(c) = l
            .filter_chains
            .iter()
            .find(|c| c.name.as_deref() == Some(name))
        {
            return Some(c);
        }
    }
    let remote: Option<IpAddr> = rec
        .downstream_remote
        .as_deref()
        .and_then(socket)
        .map(|s| s.ip());
    let hello = Hello {
        tls: rec.sni.is_some(),
        sni: rec.sni.clone(),
        alpn: None,
        http: rec.method.is_some(),
    };
    let c = Connection::inspected(l, u32::from(local.port()), Some(local.ip()), remote, &hello);
    match chain::pick(l, &c) {
        Pick::Chain(i, _) => l.filter_chains.get(i),
        Pick::None(_) | Pick::Unknown(_) => None,
    }
}

pub(super) fn route_config<'r>(r: &'r Report, c: &'r FilterChain) -> Option<&'r RouteConfig> {
    c.destinations.iter().find_map(|d| match d {
        Destination::Route { name } => r.routes.iter().find(|rc| rc.name == name.as_str()),
        Destination::InlineRoute { config } => Some(config.as_ref()),
        _ => None,
    })
}
