//! Where a connection lands: the names a dump gives a service's address, and the listener Envoy
//! gives `address:port` — bound to it exactly, else to the wildcard address, else (on a
//! sidecar) the capture listener that received the redirected connection keeps it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::model::cannot_tell::NoListener;
use crate::model::ids::Cidr;
use crate::model::{
    Destination, IstioClusterName, Listener, Report, ResourceState, TrafficDirection,
};

/// The service host a cluster serves and its port: Istio's `outbound|port|subset|host`, or
/// the cluster's own name.
pub(super) fn cluster_host(name: &str) -> (String, Option<u32>) {
    match name.parse::<IstioClusterName>() {
        Ok(c) => (c.fqdn, c.port.map(u32::from)),
        Err(_) => (name.to_string(), None),
    }
}

/// Whether `host` as typed (`cart`, `cart.shop`, the FQDN) names `fqdn`, with the search
/// domains of a pod in namespace `ns`.
pub(super) fn names(fqdn: &str, host: &str, ns: Option<&str>) -> bool {
    if fqdn.eq_ignore_ascii_case(host) {
        return true;
    }
    let fqdn = fqdn.to_ascii_lowercase();
    match host.matches('.').count() {
        0 => ns.is_some_and(|ns| fqdn.starts_with(&format!("{host}.{ns}.svc."))),
        1 => fqdn.starts_with(&format!("{host}.svc.")),
        2 if host.ends_with(".svc") => fqdn.starts_with(&format!("{host}.")),
        _ => false,
    }
}

/// The pod's namespace, from an Istio node id's `pod.namespace`.
pub(super) fn namespace(r: &Report) -> Option<&str> {
    r.node
        .as_ref()
        .and_then(|n| n.workload.as_deref())
        .and_then(|w| w.rsplit_once('.'))
        .map(|(_, ns)| ns)
}

fn outbound_side(l: &Listener) -> bool {
    l.direction != Some(TrafficDirection::Inbound) && !l.name.starts_with("virtualInbound")
}

/// The clusters that serve `host` on `port` (any port when the name does not say).
pub(super) fn clusters_for<'a>(r: &'a Report, host: &str, port: Option<u32>) -> Vec<&'a str> {
    let ns = namespace(r);
    r.clusters
        .iter()
        .filter(|c| !c.name.starts_with("inbound|"))
        .filter(|c| {
            let (fqdn, p) = cluster_host(&c.name);
            names(&fqdn, host, ns) && (port.is_none() || p.is_none() || p == port)
        })
        .map(|c| c.name.as_str())
        .collect()
}

/// The addresses the dump gives `host` on `port`: a chain that sends to the host's cluster
/// and matches one address (Istio's TCP services, by VIP), or a listener bound to one. Each
/// with the evidence.
pub(super) fn addresses(r: &Report, host: &str, port: u32) -> Vec<(IpAddr, String)> {
    let ns = namespace(r);
    let mut out: BTreeMap<IpAddr, String> = BTreeMap::new();
    for l in r.listeners.iter().filter(|l| outbound_side(l)) {
        for ch in &l.filter_chains {
            let chain_port = ch.matcher.destination_port.or(l.port);
            let clusters = ch.destinations.iter().flat_map(|d| match d {
                Destination::Cluster { name } => vec![name.as_str()],
                Destination::WeightedClusters { names, .. } => {
                    names.iter().map(String::as_str).collect()
                }
                _ => Vec::new(),
            });
            let Some(cluster) = clusters.into_iter().find(|c| {
                let (fqdn, p) = cluster_host(c);
                names(&fqdn, host, ns) && p.or(chain_port) == Some(port)
            }) else {
                continue;
            };
            let hosts: Vec<IpAddr> = ch
                .matcher
                .prefix_ranges
                .iter()
                .filter_map(|p| p.parse::<Cidr>().ok().map(|c| (p, c)))
                .filter(|(_, c)| c.prefix_len() == 32 || c.prefix_len() == 128)
                .filter_map(|(p, _)| p.split('/').next()?.parse().ok())
                .collect();
            let bound = l
                .address
                .as_deref()
                .and_then(|a| a.parse::<IpAddr>().ok())
                .filter(|a| !a.is_unspecified());
            let chain = ch.name.as_deref().unwrap_or("(unnamed)");
            for ip in hosts.into_iter().chain(bound) {
                out.entry(ip).or_insert_with(|| {
                    format!(
                        "chain {chain} of listener {} matches {ip} and sends to {cluster}",
                        l.name
                    )
                });
            }
        }
    }
    out.into_iter().collect()
}

/// The listener a connection to `ip:port` gets, and why.
pub(crate) struct Entry<'a> {
    pub listener: &'a Listener,
    pub why: String,
    /// Assumptions the choice rests on.
    pub assumed: Vec<String>,
}

/// The capture listener connections are redirected to (Istio's `virtualOutbound`, OSM's
/// `outbound-listener`): it restores the original destination and hands the connection to the
/// listener of that address, if there is one.
pub(super) fn capture(r: &Report) -> Option<&Listener> {
    let all = || {
        r.listeners
            .iter()
            .filter(|l| l.captures() && outbound_side(l) && l.bind_to_port && !l.internal)
            .filter(|l| matches!(l.state, ResourceState::Static | ResourceState::Active))
    };
    all()
        .find(|l| l.direction == Some(TrafficDirection::Outbound) || l.name == "virtualOutbound")
        .or_else(|| all().next())
}

pub(crate) fn listener(r: &Report, ip: Option<IpAddr>, port: u32) -> Result<Entry<'_>, NoListener> {
    // A listener only in warming_state accepts nothing yet (measured on Envoy 1.40: the port
    // refuses connections), nor is a connection handed to it; draining ones take no new ones.
    let (on_port, warming): (Vec<&Listener>, Vec<&Listener>) = r
        .listeners
        .iter()
        .filter(|l| l.port == Some(port) && !l.internal)
        .filter(|l| l.state != ResourceState::Draining)
        .partition(|l| l.state != ResourceState::Warming);
    // Measured on Envoy 1.40: a removed listener shows only `draining_state` and refuses new
    // connections (a listener whose chains change is updated in place, active throughout).
    let draining = r
        .listeners
        .iter()
        .find(|l| l.port == Some(port) && !l.internal && l.state == ResourceState::Draining);
    let addr = |l: &Listener| l.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok());
    let capture = capture(r).filter(|c| c.port != Some(port) || ip.is_some());
    // Without a capture listener, only listeners that bind receive connections.
    let reachable = |l: &&Listener| capture.is_some() || l.bind_to_port;
    let exact = ip.and_then(|ip| {
        on_port
            .iter()
            .copied()
            .filter(reachable)
            .find(|l| addr(l) == Some(ip))
    });
    let wildcard = on_port
        .iter()
        .copied()
        .filter(reachable)
        .find(|l| addr(l).is_some_and(|a| a.is_unspecified()));
    let specific: Vec<&Listener> = on_port
        .iter()
        .copied()
        .filter(reachable)
        .filter(|l| addr(l).is_some_and(|a| !a.is_unspecified()))
        .collect();
    let handed = |what: String| match capture {
        Some(c) => format!(
            "{what}: the capture listener {} hands the connection to it",
            c.name
        ),
        None => what,
    };
    let mut assumed = Vec::new();
    if let Some(l) = exact {
        let what = format!("bound to {}:{port}", l.address.as_deref().unwrap_or(""));
        return Ok(Entry {
            listener: l,
            why: handed(what),
            assumed,
        });
    }
    if ip.is_none()
        && !specific.is_empty()
        && (wildcard.is_some() || capture.is_some() || specific.len() > 1)
    {
        let names: Vec<&str> = specific.iter().map(|l| l.name.as_str()).collect();
        assumed.push(format!(
            "the address is not one of the listeners bound to an address on port {port} ({}): give the IP to trace one of them",
            names.join(", ")
        ));
    }
    if let Some(l) = wildcard {
        let what = format!(
            "bound to {}:{port}, any address",
            l.address.as_deref().unwrap_or("")
        );
        return Ok(Entry {
            listener: l,
            why: handed(what),
            assumed,
        });
    }
    if let Some(c) = capture {
        let why = format!(
            "no listener for port {port}: the capture listener {} keeps the connection and matches its own chains",
            c.name
        );
        return Ok(Entry {
            listener: c,
            why,
            assumed,
        });
    }
    if ip.is_none() && specific.len() == 1 {
        let l = specific[0];
        assumed.push(format!(
            "the host resolves to {}, the address listener {} is bound to",
            l.address.as_deref().unwrap_or(""),
            l.name
        ));
        return Ok(Entry {
            listener: l,
            why: format!("bound to {}:{port}", l.address.as_deref().unwrap_or("")),
            assumed,
        });
    }
    let not_bound = on_port.iter().find(|l| !l.bind_to_port);
    Err(match (not_bound, warming.first(), draining) {
        (Some(l), _, _) => NoListener::NotBound {
            listener: l.name.clone(),
            port,
        },
        (None, Some(l), _) => NoListener::Warming {
            listener: l.name.clone(),
            port,
        },
        (None, None, Some(l)) => NoListener::Draining {
            listener: l.name.clone(),
            port,
        },
        (None, None, None) => NoListener::None { ip, port },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_use_the_pods_search_domains() {
        let f = "cart.shop.svc.cluster.local";
        assert!(names(f, "cart.shop.svc.cluster.local", None));
        assert!(names(f, "CART.shop.svc.cluster.local", None));
        assert!(names(f, "cart", Some("shop")) && !names(f, "cart", Some("web")));
        assert!(names(f, "cart.shop", None) && !names(f, "cart.sho", None));
        assert!(names(f, "cart.shop.svc", None) && !names(f, "cart.shop.cluster", None));
        assert_eq!(
            cluster_host("outbound|8080||cart.shop.svc.cluster.local"),
            ("cart.shop.svc.cluster.local".to_string(), Some(8080))
        );
        assert_eq!(cluster_host("backend"), ("backend".to_string(), None));
    }
}
