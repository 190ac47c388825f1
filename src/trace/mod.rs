//! `trace`: follows a connection through the proxy as Envoy would and says what each client
//! sees, citing the evidence at each step. Works on the model. The listener is the one bound
//! to the address (or the capture listener's hand-off, `listen.rs`); the filter chain, virtual
//! host and route come from the same Envoy-order matching the authorization evaluation uses
//! (`authz::chain`, `authz::route`: Envoy's `FilterChainManagerImpl` and router), so the two
//! never disagree on which chain or route a request gets.

use crate::model::trace::{OutcomeKind, StepKind};
use crate::model::TrafficDirection;
use std::net::IpAddr;

use crate::authz::chain::{self, Connection, Hello, Pick};
use crate::model::intercept::Capture;
use crate::model::trace::{Choice, Outcome, Step, Trace};
use crate::model::{Destination, Report, Socket};

mod answer;
mod http;
mod inbound;
pub(crate) mod listen;
mod probe;
mod wire;

use answer::{outcome, Effect};

pub use inbound::inbound;
pub use probe::{AppProtocol, Probe, Target, TargetError};

/// A trace of `r` with these steps and this outcome.
fn done(
    r: &Report,
    direction: TrafficDirection,
    target: String,
    assumptions: Vec<String>,
    steps: Vec<Step>,
    outcome: Outcome,
) -> Trace {
    Trace {
        schema_version: crate::model::report::SCHEMA_VERSION,
        source: r.source.clone(),
        direction,
        target,
        assumptions,
        steps,
        outcome,
        authorization: None,
        alternatives: Vec::new(),
    }
}

fn step(
    kind: StepKind,
    name: impl Into<String>,
    detail: impl Into<String>,
    evidence: &str,
) -> Step {
    Step {
        kind,
        name: name.into(),
        detail: detail.into(),
        evidence: if evidence.is_empty() {
            vec![]
        } else {
            vec![evidence.into()]
        },
        choices: Vec::new(),
        produced_by: Vec::new(),
    }
}

/// One walk through the proxy: its steps, assumptions, outcome and effect.
struct Walk {
    steps: Vec<Step>,
    assumptions: Vec<String>,
    outcome: Outcome,
    effect: Effect,
}

impl Walk {
    fn end(&mut self, o: (Outcome, Effect)) {
        self.outcome = o.0;
        self.effect = o.1;
    }
}

/// Follows `p` out of the proxy. A name is resolved from the dump (the chains that send to its
/// service, said as an assumption); when several addresses could serve it, each is traced.
pub fn outbound(r: &Report, p: &Probe) -> Trace {
    let mut ips: Vec<(Option<IpAddr>, Option<String>)> = match p.target.ip {
        Some(ip) => vec![(Some(ip), None)],
        None => listen::addresses(r, &p.target.host, p.target.port)
            .into_iter()
            .map(|(ip, why)| (Some(ip), Some(why)))
            .collect(),
    };
    let several = ips.len() > 1;
    if ips.is_empty() {
        ips.push((None, None));
    }
    let mut traces = ips.iter().map(|(ip, why)| {
        let mut assumptions = Vec::new();
        if p.target.ip.is_none() {
            assumptions.push(match (ip, why) {
                (Some(ip), Some(why)) => format!("{} resolves to {ip}: {why}", p.target.host),
                _ => format!("{} has no address of its own in the dump (no chain or listener matches one for it): it is matched by port, SNI and Host", p.target.host),
            });
            if several {
                assumptions.push(format!("{} could be any of {} addresses the dump names: each is traced", p.target.host, ips.len()));
            }
        }
        one(r, p, *ip, assumptions)
    });
    let mut first = traces.next().expect("one address at least");
    first.alternatives = traces.collect();
    first
}

fn one(r: &Report, p: &Probe, ip: Option<IpAddr>, mut assumptions: Vec<String>) -> Trace {
    let tls = p.tls();
    assumptions.push(if tls {
        let sni = p.sni();
        let sni = if sni.is_empty() {
            "no SNI".to_string()
        } else {
            format!("SNI {sni}")
        };
        format!(
            "the application speaks TLS with {sni}, ALPN {}",
            p.alpn().join(",")
        )
    } else if p.tcp {
        "the application speaks plaintext TCP, not HTTP".to_string()
    } else {
        "the application speaks plaintext HTTP/1.1".to_string()
    });
    let w = walk(r, p, ip);
    let other = walk(r, &p.flipped(), ip);
    assumptions.extend(w.assumptions);
    let mut o = w.outcome;
    o.clients = vec![
        w.effect.symptom(tls, !p.tcp),
        other.effect.symptom(!tls, !p.tcp),
    ];
    let target = match (p.target.ip, ip) {
        (None, Some(ip)) => format!("{} ({ip})", p.target),
        _ => p.target.to_string(),
    };
    done(
        r,
        TrafficDirection::Outbound,
        target,
        assumptions,
        w.steps,
        o,
    )
}

fn walk(r: &Report, p: &Probe, ip: Option<IpAddr>) -> Walk {
    let mut w = Walk {
        steps: Vec::new(),
        assumptions: Vec::new(),
        outcome: outcome(OutcomeKind::CannotTell, "", "", &Effect::Unknown),
        effect: Effect::Unknown,
    };
    let port = p.target.port;
    let tls = p.tls();
    if let Some(i) = r.node.as_ref().and_then(|n| n.interception.as_ref()) {
        match i.outbound(ip, port) {
            Some(Capture::No(why)) => {
                let e = Effect::Bypass;
                w.steps.push(step(StepKind::Interception, "", format!("not redirected to the proxy ({why})"), &i.pointer));
                w.end((outcome(OutcomeKind::NotCaptured, format!("the sidecar's redirection leaves {}:{port} alone: the application connects directly", ip.map_or(p.target.host.clone(), |i| i.to_string())), "no mesh policy, mTLS or telemetry applies to this connection; remove the exclusion to route it through the proxy", &e), e));
                return w;
            }
            Some(Capture::Yes) => {}
            None => w.assumptions.push("the interception annotations include or exclude address ranges: assumed the address is redirected to the proxy".into()),
        }
    }
    let entry = match listen::listener(r, ip, port) {
        Ok(e) => e,
        Err(why) => {
            let e = Effect::Refused;
            w.end((outcome(OutcomeKind::NoListener, why.to_string(), "nothing accepts the connection: check the port, or whether this proxy should receive it", &e), e));
            return w;
        }
    };
    let l = entry.listener;
    w.assumptions.extend(entry.assumed);
    w.steps
        .push(step(StepKind::Listener, &l.name, entry.why, &l.pointer).produced_by(&l.produced_by));
    let hello = Hello {
        tls,
        sni: Some(p.sni()),
        alpn: Some(p.alpn()),
        http: !p.tcp,
    };
    // A name the dump gives no address of its own is, as far as the chains go, an address
    // none of their ranges lists: the chain for "any other address" is the one it gets.
    let chain_ip = ip.or_else(|| {
        let unlisted = l.unlisted_address()?;
        w.assumptions.push(format!(
            "the address of {} is none of those the chains of {} match by range",
            p.target.host, l.name
        ));
        Some(unlisted)
    });
    let conn = Connection::inspected(l, port, chain_ip, p.source_ip, &hello);
    let (ci, why) = match chain::pick(l, &conn) {
        Pick::Chain(i, why) => (i, why),
        Pick::None(why) => {
            let e = Effect::Reset;
            w.end((outcome(OutcomeKind::NoMatch, why, "Envoy closes the connection: add a chain for it, or check the port's protocol and the client's SNI", &e), e));
            return w;
        }
        Pick::Unknown(u) => {
            let e = Effect::Unknown;
            w.end((
                outcome(
                    OutcomeKind::CannotTell,
                    format!("which filter chain of {} applies depends on {u}", l.name),
                    "give the address (trace DUMP IP:PORT), --sni or --alpn",
                    &e,
                ),
                e,
            ));
            return w;
        }
    };
    let ch = &l.filter_chains[ci];
    for a in why.iter().filter_map(|a| a.strip_prefix("assumed: ")) {
        w.assumptions.push(a.to_string());
    }
    let mut detail: Vec<String> = why
        .iter()
        .filter(|a| !a.starts_with("assumed: "))
        .cloned()
        .collect();
    if ch.name.is_none() {
        detail.push(format!("unnamed chain #{ci}"));
    }
    if detail.is_empty() {
        detail.push("the chain has no match criteria".into());
    }
    w.steps.push(
        step(
            StepKind::FilterChain,
            ch.name.clone().unwrap_or_default(),
            detail.join("; "),
            &ch.pointer,
        )
        .produced_by(&ch.produced_by),
    );
    let http = ch.destinations.iter().any(|d| {
        matches!(
            d,
            Destination::Route { .. } | Destination::InlineRoute { .. }
        )
    });
    let terminated = match (&ch.tls, tls) {
        (Socket::Tls(ctx), false) => {
            let e = Effect::Reset;
            let mtls = if ctx.require_client_certificate == Some(true) {
                "mTLS and requires a client certificate (STRICT)"
            } else {
                "TLS"
            };
            w.end((outcome(OutcomeKind::HandshakeFails, format!("the chain terminates {mtls}: a plaintext client fails the handshake"), "the client must speak TLS to this port (for a mesh port: its sidecar must originate mTLS)", &e), e));
            return w;
        }
        (Socket::Tls(ctx), true) if r.undelivered_certificate(ctx).is_some() => {
            let why = r.undelivered_certificate(ctx).unwrap_or_default();
            let e = Effect::Reset;
            w.end((outcome(OutcomeKind::HandshakeFails, format!("the chain's {why}: Envoy has no certificate to present, so the TLS handshake fails (the connection is reset: curl exit 35)"), "deliver the certificate (a gateway's credentialName: the Secret in the gateway's namespace; otherwise the SDS server)", &e), e));
            return w;
        }
        (Socket::Tls(ctx), true) => {
            if ctx.require_client_certificate == Some(true) {
                w.assumptions.push(
                    "the client presents a certificate the chain accepts (it requires one)".into(),
                );
            }
            true
        }
        (_, true) if http => {
            let e = Effect::TlsIntoHttp;
            w.end((outcome(OutcomeKind::TlsIntoHttpChain, format!("the chain's HTTP connection manager reads plaintext HTTP: the application's TLS ClientHello is not HTTP (Envoy answers 400, {})", "http1.codec_error"), "declare the port as TLS (Istio: name the Service port `https` or `tls`, or set appProtocol), or let the application speak plaintext and the proxy originate TLS", &e), e));
            return w;
        }
        _ => false,
    };
    let wire_tls = tls && !terminated;
    match ch.destinations.first() {
        Some(Destination::Cluster { name }) => {
            let o = wire::cluster(r, p, name, wire_tls, false, &mut w.steps);
            w.end(o);
        }
        Some(Destination::WeightedClusters { names, weights }) => {
            let name = weighted(names, weights, &ch.pointer, &mut w);
            let o = wire::cluster(r, p, &name, wire_tls, false, &mut w.steps);
            w.end(o);
        }
        Some(Destination::Route { .. } | Destination::InlineRoute { .. }) if p.tcp => {
            let e = answer::answer(400, "DPE", "http1.codec_error");
            w.end((outcome(OutcomeKind::NotHttp, "the chain's HTTP connection manager cannot parse what the application sends", "the port is handled as HTTP: declare it as TCP if the application does not speak HTTP", &e), e));
        }
        Some(Destination::Route { .. } | Destination::InlineRoute { .. })
            if ch.no_router.is_some() =>
        {
            let ms = ch.no_router.map_or(0, |n| n.stream_idle_timeout_ms);
            let (e, when) = if ms == 0 {
                (
                    Effect::Hangs,
                    "never: its stream idle timeout is disabled".to_string(),
                )
            } else {
                (
                    answer::answer(504, "SI", "stream_idle_timeout"),
                    format!(
                        "only when its stream idle timeout fires, after {}",
                        seconds(ms)
                    ),
                )
            };
            w.end((outcome(OutcomeKind::NoRouter, format!("the chain's HTTP connection manager has no HTTP filter, so no router: Envoy reads the request and answers it {when}"), "add the router (envoy.filters.http.router) as the last HTTP filter: without it no route is followed, whatever the route configuration says", &e), e));
        }
        Some(d @ (Destination::Route { .. } | Destination::InlineRoute { .. })) => {
            let o = http::follow(r, p, d, ch.host, &mut w);
            w.end(o);
        }
        Some(Destination::Filter { name, .. }) => {
            let e = Effect::Unknown;
            w.end((
                outcome(
                    OutcomeKind::NetworkFilter,
                    format!("handled by the network filter {name}"),
                    "envinspect does not follow this filter",
                    &e,
                ),
                e,
            ));
        }
        None => {
            let e = Effect::Unknown;
            w.end((
                outcome(
                    OutcomeKind::NoDestination,
                    "the chain has no destination envinspect can follow",
                    "",
                    &e,
                ),
                e,
            ));
        }
    }
    w
}

/// A `weighted clusters` step with every choice; the trace follows the heaviest (the first of
/// equals), said as an assumption.
fn weighted(names: &[String], weights: &[u32], pointer: &str, w: &mut Walk) -> String {
    let choices: Vec<Choice> = names
        .iter()
        .zip(weights.iter().copied().chain(std::iter::repeat(0)))
        .map(|(n, wt)| Choice {
            cluster: n.as_str().into(),
            weight: wt,
        })
        .collect();
    let heaviest = choices
        .iter()
        .rev()
        .max_by_key(|c| c.weight)
        .map(|c| c.cluster.clone())
        .unwrap_or_default();
    let total: u32 = choices.iter().map(|c| c.weight).sum();
    let list: Vec<String> = choices
        .iter()
        .map(|c| format!("{} ({})", c.cluster, c.weight))
        .collect();
    let mut s = step(
        StepKind::WeightedClusters,
        "",
        format!(
            "Envoy picks one per request by weight, of {total}: {}",
            list.join(", ")
        ),
        pointer,
    );
    s.choices = choices;
    w.steps.push(s);
    if names.len() > 1 {
        w.assumptions.push(format!(
            "of the weighted clusters, the trace follows the heaviest, {heaviest}"
        ));
    }
    heaviest.to_string()
}

/// `15 s`, `5 min`, `1.5 s`.
fn seconds(ms: u64) -> String {
    match ms {
        m if m % 60_000 == 0 => format!("{} min", m / 60_000),
        m if m % 1000 == 0 => format!("{} s", m / 1000),
        m => format!("{} s", m as f64 / 1000.0),
    }
}
