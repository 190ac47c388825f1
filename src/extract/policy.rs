//! Outbound traffic policy and inbound mTLS modes, read from the listeners in the model (no
//! protos here). Envoy's own terms decide, whichever mesh wrote the config: `traffic_direction`,
//! the `original_dst` listener filter, what the catch-all chain reaches, whether a chain
//! terminates TLS and requires client certificates. Istio's names (`virtualOutbound`, `virtual`
//! before 1.3, `virtualInbound`) are one case of these.

use std::collections::BTreeMap;

use crate::model::policy::{ChainTls, ServerNameMode};
use crate::model::{Cluster, FilterChain, TrafficDirection};
use crate::model::{
    Destination, InboundPort, Listener, MtlsMode, OutboundMode, OutboundPolicy, RouteAction,
    RouteConfig, Socket,
};

const PASSTHROUGH: &str = "PassthroughCluster";
const BLACKHOLE: &str = "BlackHoleCluster";

/// Why `l` receives the workload's redirected outbound connections, if it does.
fn outbound_capture(l: &Listener) -> Option<&'static str> {
    if l.name == "virtualOutbound" || l.name == "virtual" {
        return Some("Istio's outbound capture listener");
    }
    match l.direction {
        Some(TrafficDirection::Outbound) if l.captures() => {
            Some("traffic_direction OUTBOUND, original_dst listener filter")
        }
        None if l.captures() && l.name != "virtualInbound" => Some("original_dst listener filter"),
        _ => None,
    }
}

/// Why `l` takes connections into the workload, if it does.
pub(crate) fn inbound_listener(l: &Listener) -> Option<&'static str> {
    // Reached only from inside Envoy (Istio's main_internal behind the HBONE terminator): the
    // listener that accepted the connection decided its transport.
    if l.internal {
        return None;
    }
    if l.name == "virtualInbound" {
        return Some("Istio's inbound capture listener");
    }
    match l.direction {
        Some(TrafficDirection::Inbound) => Some("traffic_direction INBOUND"),
        _ if l
            .filter_chains
            .iter()
            .any(|c| matches!(c.tls, Socket::Tls(_))) =>
        {
            Some("terminates TLS")
        }
        _ => None,
    }
}

/// What a catch-all reaching this cluster means.
enum Reach {
    Allow(String),
    Block(String),
    Dynamic(String),
    Other(String),
}

fn reach(name: &str, clusters: &[Cluster]) -> Reach {
    let cluster = clusters.iter().find(|c| c.name == name);
    match cluster {
        _ if name == PASSTHROUGH => Reach::Allow(PASSTHROUGH.to_string()),
        _ if name == BLACKHOLE => Reach::Block(BLACKHOLE.to_string()),
        Some(c) if c.discovery == "ORIGINAL_DST" => {
            Reach::Allow(format!("ORIGINAL_DST cluster {name}"))
        }
        Some(c) if c.discovery.contains("dynamic_forward_proxy") => {
            Reach::Dynamic(format!("dynamic forward proxy cluster {name}"))
        }
        Some(c) => Reach::Other(format!("cluster {name} ({})", c.discovery)),
        None => Reach::Other(format!("cluster {name}, which the dump does not hold")),
    }
}

/// A chain that takes whatever no more specific chain matched: the default chain, or one that
/// matches no destination (port, address, server name) or source address.
fn is_catch_all(chain: &FilterChain) -> bool {
    let m = &chain.matcher;
    chain.is_default
        || (m.destination_port.is_none()
            && m.prefix_ranges.is_empty()
            && m.server_names.is_empty()
            && m.source_prefix_ranges.is_empty())
}

/// A chain that only stops the proxy sending traffic to itself: it matches the capture
/// listener's own port, or the workload's own address, and drops the connection.
fn loop_guard(l: &Listener, chain: &FilterChain, own_ip: Option<&str>) -> Option<String> {
    let to_blackhole = chain
        .destinations
        .iter()
        .all(|d| matches!(d, Destination::Cluster { name } if name == BLACKHOLE));
    if chain.destinations.is_empty() || !to_blackhole || chain.is_default {
        return None;
    }
    let m = &chain.matcher;
    if m.destination_port.is_some() && m.destination_port == l.port && m.prefix_ranges.is_empty() {
        return Some(format!(
            "destination port {} (the listener's own)",
            m.destination_port.unwrap_or_default()
        ));
    }
    if !m.prefix_ranges.is_empty() {
        let own = own_ip.is_some_and(|ip| {
            m.prefix_ranges
                .iter()
                .all(|r| r.strip_suffix("/32").or(r.strip_suffix("/128")) == Some(ip))
        });
        let what = if own { " (the workload's own IP)" } else { "" };
        return Some(format!("{}{what}", m.prefix_ranges.join(",")));
    }
    None
}

pub(crate) fn outbound(
    listeners: &[Listener],
    routes: &[RouteConfig],
    clusters: &[Cluster],
    own_ip: Option<&str>,
) -> OutboundPolicy {
    let capture: Vec<(&Listener, &str)> = listeners
        .iter()
        .filter_map(|l| outbound_capture(l).map(|why| (l, why)))
        .collect();
    if capture.is_empty() {
        return OutboundPolicy {
            mode: OutboundMode::NotApplicable,
            evidence: vec![
                "no outbound capture listener (traffic_direction OUTBOUND with the original_dst listener filter, or Istio's virtualOutbound): the proxy does not intercept the workload's outbound traffic".into(),
            ],
        };
    }
    let (mut allow, mut block, mut dynamic, mut other) = (false, false, false, false);
    let mut evidence = Vec::new();
    for (l, why) in &capture {
        let mut catch_all = false;
        for (i, chain) in l.filter_chains.iter().enumerate() {
            let label = chain_label(l, chain, i);
            if let Some(what) = loop_guard(l, chain, own_ip) {
                evidence.push(format!(
                    "{label} → {BLACKHOLE} matches {what} only: loop guard, not policy"
                ));
                continue;
            }
            if !is_catch_all(chain) {
                continue;
            }
            catch_all = true;
            for target in catch_all_targets(chain, routes) {
                let verdict = reach(target, clusters);
                let (flag, what) = match &verdict {
                    Reach::Allow(w) => (&mut allow, w),
                    Reach::Block(w) => (&mut block, w),
                    Reach::Dynamic(w) => (&mut dynamic, w),
                    Reach::Other(w) => (&mut other, w),
                };
                *flag = true;
                evidence.push(format!("{label} (catch-all) → {what}"));
            }
        }
        if !catch_all {
            block = true;
            evidence.push(format!(
                "{} ({why}) has no catch-all chain: Envoy closes connections to destinations no chain matches",
                l.name
            ));
        }
    }
    // Istio's HTTP routes carry the same decision in their catch-all virtual hosts.
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
    let mode = match (allow, block, dynamic, other) {
        (_, false, true, false) => OutboundMode::AllowAnyDynamicDns,
        (true, false, false, false) => OutboundMode::AllowAny,
        (false, true, false, false) => OutboundMode::RegistryOnly,
        (false, false, false, _) => {
            evidence.push(format!(
                "no catch-all reaches {PASSTHROUGH}, an ORIGINAL_DST cluster or {BLACKHOLE}"
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

/// The clusters a catch-all chain reaches: its TCP proxy's, or those of the `*` virtual host of
/// its HTTP routes.
fn catch_all_targets<'a>(chain: &'a FilterChain, routes: &'a [RouteConfig]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let star = |rc: &'a RouteConfig, out: &mut Vec<&'a str>| {
        for vh in rc
            .virtual_hosts
            .iter()
            .filter(|v| v.domains.iter().any(|d| d == "*"))
        {
            out.extend(vh.routes.iter().filter_map(|r| match &r.action {
                RouteAction::Cluster { name } => Some(name.as_str()),
                _ => None,
            }));
        }
    };
    for d in &chain.destinations {
        match d {
            Destination::Cluster { name } => out.push(name.as_str()),
            Destination::WeightedClusters { names, .. } => {
                out.extend(names.iter().map(String::as_str))
            }
            Destination::Route { name } => {
                if let Some(rc) = routes.iter().find(|r| &r.name == name) {
                    star(rc, &mut out);
                }
            }
            Destination::InlineRoute { config } => star(config, &mut out),
            Destination::Filter { .. } => {}
        }
    }
    out
}

pub(crate) fn inbound(listeners: &[Listener]) -> Vec<InboundPort> {
    #[derive(Default)]
    struct Seen {
        tls: bool,
        plain: bool,
        tls_chains: usize,
        client_cert: usize,
        /// TLS chains that verify a certificate sent but require none.
        verifies: usize,
        why: &'static str,
        evidence: Vec<String>,
        by_sni: bool,
        names: std::collections::BTreeSet<ServerNameMode>,
    }
    let mut ports: BTreeMap<(String, Option<u32>), Seen> = BTreeMap::new();
    // A capture listener that serves its chains itself (Istio's virtualInbound since 1.3) hands
    // nothing to listeners that do not bind: those then only see the workload calling itself.
    let serves_itself = listeners
        .iter()
        .any(|l| l.captures() && !l.use_original_dst && inbound_listener(l).is_some());
    for l in listeners {
        let Some(why) = inbound_listener(l) else {
            continue;
        };
        if serves_itself && !l.bind_to_port {
            continue;
        }
        // A capture listener receives every port; a plain one only its own.
        let listener_port = if l.captures() || l.name == "virtualInbound" {
            None
        } else {
            l.port
        };
        for (i, port) in chain_ports(l, listener_port) {
            let chain = &l.filter_chains[i];
            let to_blackhole = chain
                .destinations
                .iter()
                .any(|d| matches!(d, Destination::Cluster { name } if name == BLACKHOLE));
            if to_blackhole {
                continue;
            }
            let terminates = matches!(chain.tls, Socket::Tls(_));
            let is_tls = match chain.matcher.transport_protocol.as_deref() {
                Some("tls") => true,
                Some("raw_buffer") => false,
                _ => terminates,
            };
            let seen = ports.entry((l.name.to_string(), port)).or_default();
            let kind = match &chain.tls {
                _ if !is_tls => ChainTls::Plaintext,
                Socket::Tls(ctx) if ctx.require_client_certificate == Some(true) => {
                    ChainTls::MtlsRequired
                }
                Socket::Tls(ctx) if !ctx.validation.is_empty() => ChainTls::MtlsOptional,
                Socket::Tls(_) => ChainTls::ServerOnly,
                _ => ChainTls::PassedThrough,
            };
            let what = match kind {
                ChainTls::Plaintext => "plaintext",
                ChainTls::PassedThrough => "TLS passed through",
                ChainTls::MtlsRequired => "TLS, client certificate required",
                ChainTls::MtlsOptional => "TLS, client certificate verified when sent",
                ChainTls::ServerOnly => "TLS, no client certificate asked for",
            };
            if is_tls {
                seen.tls = true;
                seen.tls_chains += 1;
                seen.client_cert += usize::from(kind == ChainTls::MtlsRequired);
                seen.verifies += usize::from(kind == ChainTls::MtlsOptional);
            } else {
                seen.plain = true;
            }
            let mut names = chain.matcher.server_names.clone();
            names.sort();
            seen.by_sni |= !names.is_empty();
            seen.names.insert(ServerNameMode {
                server_names: names,
                tls: kind,
            });
            seen.why = why;
            seen.evidence
                .push(format!("{} ({what})", chain_label(l, chain, i)));
        }
    }
    ports
        .into_iter()
        .map(|((listener, port), seen)| {
            let all_require = seen.tls_chains > 0 && seen.client_cert == seen.tls_chains;
            InboundPort {
                listener: listener.into(),
                why: seen.why.to_string(),
                chains: seen.evidence.len(),
                port,
                mode: match (seen.tls, seen.plain) {
                    (true, false) if all_require => MtlsMode::Strict,
                    (true, false) => MtlsMode::SimpleTls,
                    // mTLS optional only where a TLS chain authenticates clients at all.
                    (true, true) if seen.client_cert + seen.verifies > 0 => MtlsMode::Permissive,
                    (true, true) => MtlsMode::SimpleTlsOrPlaintext,
                    _ => MtlsMode::Disable,
                },
                client_cert_required: all_require,
                client_cert_verified: seen.client_cert + seen.verifies > 0,
                evidence: seen.evidence,
                by_server_name: if seen.by_sni {
                    seen.names.into_iter().collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// Each chain of an inbound listener with the port it serves: its `filter_chain_match` port, or
/// under `filter_chain_matcher` every port the matcher names for it (and `listener_port` for the
/// chains it gives other ports).
fn chain_ports(l: &Listener, listener_port: Option<u32>) -> Vec<(usize, Option<u32>)> {
    let Some(m) = &l.filter_chain_matcher else {
        return l
            .filter_chains
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.matcher.destination_port.or(listener_port)))
            .collect();
    };
    let mut out = Vec::new();
    let named = m.destination_ports();
    // A port no entry names: what every other port gets.
    let other = (0..=u32::from(u16::MAX)).find(|p| !named.contains(p));
    let ports = named
        .iter()
        .map(|p| (Some(*p), *p))
        .chain(other.map(|p| (listener_port, p)));
    for (shown, probe) in ports {
        out.extend(l.matcher_chains(probe).into_iter().map(|i| (i, shown)));
    }
    out
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
