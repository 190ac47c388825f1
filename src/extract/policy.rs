//! Outbound traffic policy and inbound mTLS modes, read from a sidecar's capture listeners in the
//! model (no protos here). Istio's conventions: `virtualOutbound` (`virtual` before 1.3) and
//! `virtualInbound`.

use std::collections::BTreeMap;

use crate::model::{Cluster, FilterChain};
use crate::model::{
    Destination, InboundPort, Listener, MtlsMode, OutboundMode, OutboundPolicy, RouteAction,
    RouteConfig, Socket,
};

const PASSTHROUGH: &str = "PassthroughCluster";
const BLACKHOLE: &str = "BlackHoleCluster";

pub(crate) fn outbound(
    listeners: &[Listener],
    routes: &[RouteConfig],
    clusters: &[Cluster],
) -> OutboundPolicy {
    let Some(l) = listeners
        .iter()
        .find(|l| l.name == "virtualOutbound")
        .or_else(|| listeners.iter().find(|l| l.name == "virtual"))
    else {
        return OutboundPolicy {
            mode: OutboundMode::NotApplicable,
            evidence: vec![
                "no virtualOutbound listener: not a sidecar with outbound capture".into(),
            ],
        };
    };
    let (mut allow, mut block, mut dynamic) = (false, false, false);
    let mut evidence = Vec::new();
    for (i, chain) in l.filter_chains.iter().enumerate() {
        let label = chain_label(l, chain, i);
        for d in &chain.destinations {
            let Destination::Cluster { name } = d else {
                continue;
            };
            // A chain limited to address ranges (the pod's own IP → BlackHole) is a loop guard.
            if !chain.matcher.prefix_ranges.is_empty() {
                if name == BLACKHOLE {
                    evidence.push(format!(
                        "{label} → {BLACKHOLE} matches {} only: loop guard, not policy",
                        chain.matcher.prefix_ranges.join(",")
                    ));
                }
                continue;
            }
            if name == PASSTHROUGH {
                allow = true;
                evidence.push(format!("{label} (catch-all) → {PASSTHROUGH}"));
            } else if name == BLACKHOLE {
                block = true;
                evidence.push(format!("{label} (catch-all) → {BLACKHOLE}"));
            } else if clusters
                .iter()
                .any(|c| &c.name == name && c.discovery.contains("dynamic_forward_proxy"))
            {
                dynamic = true;
                evidence.push(format!(
                    "{label} (catch-all) → dynamic forward proxy cluster {name}"
                ));
            }
        }
    }
    // HTTP routes carry the same decision in their catch-all virtual hosts; one line per kind.
    let (mut allow_routes, mut block_routes) = (Vec::new(), Vec::new());
    for rc in routes {
        for vh in &rc.virtual_hosts {
            let target = vh.routes.iter().find_map(|r| match &r.action {
                RouteAction::Cluster { name } => Some(name.as_str()),
                _ => None,
            });
            match (vh.name.as_str(), target) {
                ("allow_any", Some(PASSTHROUGH)) => allow_routes.push(display(&rc.name)),
                ("block_all", _) => block_routes.push(display(&rc.name)),
                _ => {}
            }
        }
    }
    if !allow_routes.is_empty() {
        allow = true;
        evidence.push(format!(
            "virtual host allow_any → {PASSTHROUGH} in {}",
            route_list(&allow_routes)
        ));
    }
    if !block_routes.is_empty() {
        block = true;
        evidence.push(format!(
            "virtual host block_all in {}",
            route_list(&block_routes)
        ));
    }
    evidence.sort();
    evidence.dedup();
    let mode = match (allow, block, dynamic) {
        (_, false, true) => OutboundMode::AllowAnyDynamicDns,
        (true, false, false) => OutboundMode::AllowAny,
        (false, true, false) => OutboundMode::RegistryOnly,
        (false, false, false) => {
            evidence.push(format!(
                "listener {} has no catch-all chain to {PASSTHROUGH} or {BLACKHOLE}",
                l.name
            ));
            OutboundMode::Unknown
        }
        _ => {
            evidence.push("evidence for both ALLOW_ANY and REGISTRY_ONLY".into());
            OutboundMode::Unknown
        }
    };
    OutboundPolicy { mode, evidence }
}

pub(crate) fn inbound(listeners: &[Listener]) -> Vec<InboundPort> {
    let Some(l) = listeners.iter().find(|l| l.name == "virtualInbound") else {
        return Vec::new();
    };
    #[derive(Default)]
    struct Seen {
        tls: bool,
        plain: bool,
        client_cert: bool,
        evidence: Vec<String>,
    }
    let mut ports: BTreeMap<Option<u32>, Seen> = BTreeMap::new();
    for (i, chain) in l.filter_chains.iter().enumerate() {
        let to_blackhole = chain
            .destinations
            .iter()
            .any(|d| matches!(d, Destination::Cluster { name } if name == BLACKHOLE));
        if to_blackhole {
            continue;
        }
        let is_tls = match chain.matcher.transport_protocol.as_deref() {
            Some("tls") => true,
            Some("raw_buffer") => false,
            _ => matches!(chain.tls, Socket::Tls(_)),
        };
        let seen = ports.entry(chain.matcher.destination_port).or_default();
        if is_tls {
            seen.tls = true;
            seen.client_cert |= matches!(&chain.tls, Socket::Tls(ctx) if ctx.require_client_certificate == Some(true));
        } else {
            seen.plain = true;
        }
        seen.evidence.push(format!(
            "{} ({})",
            chain_label(l, chain, i),
            if is_tls { "tls" } else { "plaintext" }
        ));
    }
    ports
        .into_iter()
        .map(|(port, seen)| InboundPort {
            port,
            mode: match (seen.tls, seen.plain) {
                (true, false) => MtlsMode::Strict,
                (true, true) => MtlsMode::Permissive,
                _ => MtlsMode::Disable,
            },
            client_cert_required: seen.client_cert,
            evidence: seen.evidence,
        })
        .collect()
}

fn chain_label(l: &Listener, chain: &FilterChain, i: usize) -> String {
    match (&chain.name, chain.is_default) {
        (Some(n), _) => format!("{} chain {n}", l.name),
        (None, true) => format!("{} default chain", l.name),
        (None, false) => format!("{} chain #{i}", l.name),
    }
}

/// `route 80` or `12 routes (15004, 15010, 3000, … )`.
fn route_list(names: &[&str]) -> String {
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [one] => format!("route {one}"),
        many if many.len() <= 4 => format!("routes {}", many.join(", ")),
        many => format!("{} routes ({}, …)", many.len(), many[..3].join(", ")),
    }
}

fn display(name: &str) -> &str {
    if name.is_empty() {
        "(inline)"
    } else {
        name
    }
}
