//! `trace --inbound PORT`: the inbound capture listener's chains for a port, and the mTLS mode
//! they add up to.

use super::answer::{outcome as with_effect, Effect};
use super::wire::{sans, trust};
use super::{done, step};
use crate::model::intercept::Capture;
use crate::model::trace::{Outcome, Trace};
use crate::model::trace::{OutcomeKind, StepKind};
use crate::model::TrafficDirection;
use crate::model::{Destination, FilterChain, Listener, MtlsMode, Report, Socket};

fn outcome(kind: OutcomeKind, summary: impl Into<String>, advice: impl Into<String>) -> Outcome {
    with_effect(kind, summary, advice, &Effect::Unknown)
}

fn is_inbound(l: &Listener) -> bool {
    l.name.starts_with("virtualInbound")
        || l.filter_chains
            .iter()
            .flat_map(|c| &c.destinations)
            .any(|d| matches!(d, Destination::Cluster { name } if name.starts_with("inbound|")))
}

/// What a server-side chain does with a connection.
fn chain_tls(ch: &FilterChain) -> String {
    match &ch.tls {
        // The proxy is the server here: what it verifies is the client.
        Socket::Tls(ctx) if ctx.validation.is_empty() => {
            "server-only TLS: no client certificate is asked for or verified (no CA to verify one with)".into()
        }
        Socket::Tls(ctx) => {
            let client = if ctx.require_client_certificate == Some(true) {
                "requires a client certificate"
            } else {
                "asks for a client certificate but does not require one"
            };
            format!(
                "TLS, {client}, verified with {}, accepting {}",
                trust(ctx),
                sans(ctx)
            )
        }
        Socket::Plaintext { .. } => "plaintext".into(),
        Socket::Other { name, .. } => name.clone(),
    }
}

/// The path a connection to the workload's `port` takes: the pod's redirection, the inbound
/// listener and chain, and what the chain accepts (mTLS, plaintext).
pub fn inbound(r: &Report, port: u32) -> Trace {
    let mut steps = Vec::new();
    let target = format!("port {port}");
    // The pod's redirection decides first: a port it leaves alone never reaches a listener.
    if let Some(i) = r.node.as_ref().and_then(|n| n.interception.as_ref()) {
        if let Capture::No(why) = i.inbound(port) {
            steps.push(step(
                StepKind::Interception,
                "",
                format!("not redirected to the proxy ({why})"),
                &i.pointer,
            ));
            // The change to make is to the annotation that left the port alone.
            let fix = if why.contains("excludeInboundPorts") {
                format!("remove {port} from traffic.sidecar.istio.io/excludeInboundPorts")
            } else if why.contains("includeInboundPorts") {
                format!("add {port} to traffic.sidecar.istio.io/includeInboundPorts")
            } else {
                "redirect the pod's traffic (its interception mode is NONE)".to_string()
            };
            let o = outcome(
                OutcomeKind::NotCaptured,
                format!("port {port} is not redirected to the sidecar: connections go straight to the application"),
                format!("no mTLS is terminated and no authorization runs on this port: a mesh client that sends mTLS reaches the application, which does not expect TLS, and fails (503 UC or a reset at its proxy); to protect the port, {fix}"),
            );
            return done(r, TrafficDirection::Inbound, target, vec![], steps, o);
        }
    }
    // The inbound listener the report found for this port (a listener of its own, or a chain of
    // a capture listener), else one that receives every port.
    let by_report = r
        .inbound
        .iter()
        .find(|p| p.port == Some(port))
        .or_else(|| r.inbound.iter().find(|p| p.port.is_none()))
        .and_then(|p| r.listeners.iter().find(|l| l.name == p.listener));
    let listener = by_report
        .or_else(|| r.listeners.iter().find(|l| l.name == "virtualInbound"))
        .or_else(|| {
            r.listeners
                .iter()
                .find(|l| is_inbound(l) && l.port == Some(port))
        })
        // An inbound listener whose filter_chain_matcher names a chain for the port (Istio's
        // main_internal, behind the HBONE terminator).
        .or_else(|| {
            r.listeners.iter().find(|l| {
                l.direction == Some(crate::model::TrafficDirection::Inbound)
                    && l.filter_chain_matcher
                        .as_ref()
                        .is_some_and(|m| m.candidates(port).iter().any(Option::is_some))
            })
        });
    let Some(l) = listener else {
        // A gateway's listener on the port receives requests from outside: they are traced as
        // requests to HOST:PORT, which go through its routes.
        let other = r
            .listeners
            .iter()
            .find(|l| l.port == Some(port) && !l.internal && l.bind_to_port);
        let advice = match other {
            Some(l) => format!(
                "listener {} takes connections on port {port} but is not an inbound listener (a gateway's, or an outbound one): follow a request to it as one to HOST:{port} instead",
                l.name
            ),
            None => "not a sidecar with inbound capture, or the port is not declared".to_string(),
        };
        let o = outcome(
            OutcomeKind::NoListener,
            format!("no inbound listener for port {port}"),
            advice,
        );
        return done(r, TrafficDirection::Inbound, target, vec![], steps, o);
    };
    steps.push(
        step(StepKind::Listener, &l.name, "inbound capture", &l.pointer)
            .produced_by(&l.produced_by),
    );
    let for_port: Vec<(usize, &FilterChain)> = l
        .filter_chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.matcher.destination_port == Some(port))
        .collect();
    let chains = if l.filter_chain_matcher.is_some() {
        // The matcher names the chains; those a connection to this port may get.
        l.matcher_chains(port)
            .into_iter()
            .map(|i| (i, &l.filter_chains[i]))
            .collect()
    } else if for_port.is_empty() {
        l.filter_chains
            .iter()
            .enumerate()
            .filter(|(_, c)| c.matcher.destination_port.is_none())
            .collect()
    } else {
        for_port
    };
    for (i, ch) in &chains {
        let dest = match ch.destinations.first() {
            Some(Destination::Cluster { name }) => format!(" → cluster {name}"),
            Some(Destination::Route { name }) => format!(" → HTTP route {name}"),
            Some(Destination::InlineRoute { .. }) => " → HTTP (inline routes)".to_string(),
            _ => String::new(),
        };
        let m = &ch.matcher;
        let mut on = Vec::new();
        if let Some(tp) = &m.transport_protocol {
            on.push(format!("transport {tp}"));
        }
        if !m.application_protocols.is_empty() {
            on.push(format!("ALPN {}", m.application_protocols.join(",")));
        }
        if !m.prefix_ranges.is_empty() {
            on.push(format!("address {}", m.prefix_ranges.join(",")));
        }
        let on = if on.is_empty() {
            String::new()
        } else {
            format!(" (on {})", on.join(", "))
        };
        steps.push(
            step(
                StepKind::FilterChain,
                ch.name.clone().unwrap_or_else(|| format!("#{i}")),
                format!("{}{on}{dest}", chain_tls(ch)),
                &l.pointer,
            )
            .produced_by(&ch.produced_by),
        );
    }
    let of_listener = || r.inbound.iter().filter(|p| p.listener == l.name);
    let reported = of_listener()
        .find(|p| p.port == Some(port))
        .or_else(|| of_listener().find(|p| p.port.is_none()));
    // A listener the report does not count as inbound has no mode: judge the chains taken here.
    let from_chains = || {
        let tls = chains
            .iter()
            .filter(|(_, c)| matches!(c.tls, Socket::Tls(_)))
            .count();
        let required = chains
            .iter()
            .filter(|(_, c)| matches!(&c.tls, Socket::Tls(ctx) if ctx.require_client_certificate == Some(true)))
            .count();
        match (tls, chains.len() - tls) {
            (0, 0) => None,
            (_, 0) if required == tls => Some(MtlsMode::Strict),
            (_, 0) => Some(MtlsMode::SimpleTls),
            (0, _) => Some(MtlsMode::Disable),
            _ if required > 0 => Some(MtlsMode::Permissive),
            _ => Some(MtlsMode::SimpleTlsOrPlaintext),
        }
    };
    if l.internal {
        let tunnels: Vec<&str> = r
            .inbound
            .iter()
            .filter(|p| p.mode == MtlsMode::Strict)
            .map(|p| p.listener.as_str())
            .collect();
        let by = if tunnels.is_empty() {
            "the listener that accepted the tunnel".to_string()
        } else {
            format!("the tunnel's listener ({})", tunnels.join(", "))
        };
        let o = outcome(
            OutcomeKind::InboundTunnel,
            format!("port {port} is served by the internal listener {}, reached only through a tunnel", l.name),
            format!("{by} decides TLS and client certificates; the chains here see the decapsulated stream"),
        );
        return done(r, TrafficDirection::Inbound, target, vec![], steps, o);
    }
    let o = match reported.map(|m| m.mode).or_else(from_chains) {
        Some(MtlsMode::Strict) => outcome(OutcomeKind::InboundMtls, format!("STRICT: only mTLS is accepted on {port}"), "a plaintext client (no sidecar, or DISABLE towards this host) is reset: curl exit 56, or 503 UC at the client's proxy"),
        Some(MtlsMode::Permissive) => outcome(OutcomeKind::InboundPermissive, format!("PERMISSIVE: mTLS and plaintext are both accepted on {port}"), "plaintext callers are not authenticated: policies on their identity do not apply"),
        Some(MtlsMode::SimpleTls) => outcome(OutcomeKind::InboundTls, format!("TLS without client certificates on {port}"), "any client that speaks TLS is accepted: callers are not authenticated, so policies on their identity do not apply"),
        Some(MtlsMode::SimpleTlsOrPlaintext) => outcome(OutcomeKind::InboundTlsOrPlaintext, format!("TLS without client certificates, and plaintext, on {port}"), "no client is authenticated on this port, whether it encrypts or not: policies on callers' identities do not apply; an mTLS client's certificate is not asked for"),
        Some(MtlsMode::Disable) => outcome(OutcomeKind::InboundPlaintext, format!("plaintext only on {port}"), "an mTLS client (ISTIO_MUTUAL) fails its handshake here: 503 UF at the client's proxy"),
        None => outcome(OutcomeKind::NoMatch, format!("no chain for port {port}"), "the connection is reset"),
    };
    done(r, TrafficDirection::Inbound, target, vec![], steps, o)
}
