//! `trace`: follows a connection through the proxy as Envoy would (listener, filter chain, route
//! and virtual host, cluster) and says what happens on the wire, citing the evidence at each
//! step. Works on the model. Envoy's filter-chain choice is hierarchical (port, address, SNI,
//! transport, ALPN); this follows the same criteria, picking the chain that matches the most.

use std::net::IpAddr;
use std::str::FromStr;

use crate::model::tls::TlsKind;
use crate::model::trace::{Outcome, Step, Trace};
use crate::model::{
    Destination, FilterChain, Listener, MtlsMode, Report, RouteAction, RouteConfig, Socket,
    TlsContext,
};

/// `host:port[/path]` (`[v6]:port`); the port defaults to 80, the path to `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u32,
    pub ip: Option<IpAddr>,
    pub path: String,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(whole: &str) -> Result<Self, String> {
        let (s, path) = match whole.find('/') {
            Some(i) => (&whole[..i], whole[i..].to_string()),
            None => (whole, "/".to_string()),
        };
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse().map_err(|_| format!("{s}: invalid port {p:?}"))?,
            ),
            _ => (s.trim_start_matches('[').trim_end_matches(']'), 80),
        };
        if host.is_empty() {
            return Err(format!("{s}: no host"));
        }
        Ok(Target {
            host: host.to_lowercase(),
            port,
            ip: host.parse().ok(),
            path,
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            Some(IpAddr::V6(_)) => write!(f, "[{}]:{}", self.host, self.port)?,
            _ => write!(f, "{}:{}", self.host, self.port)?,
        }
        if self.path != "/" {
            f.write_str(&self.path)?;
        }
        Ok(())
    }
}

/// What the application sends: decides SNI, transport and ALPN matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppProtocol {
    /// TLS on 443, plaintext HTTP elsewhere.
    Auto,
    Tls,
    Plaintext,
}

/// A trace of `r` with these steps and this outcome.
fn done(
    r: &Report,
    direction: &'static str,
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
    }
}

fn step(
    kind: &'static str,
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
            vec![evidence.to_string()]
        },
    }
}

fn outcome(kind: &'static str, summary: impl Into<String>, advice: impl Into<String>) -> Outcome {
    Outcome {
        kind,
        summary: summary.into(),
        advice: advice.into(),
    }
}

fn is_inbound(l: &Listener) -> bool {
    l.name.starts_with("virtualInbound")
        || l.filter_chains
            .iter()
            .flat_map(|c| &c.destinations)
            .any(|d| matches!(d, Destination::Cluster { name } if name.starts_with("inbound|")))
}

fn cluster_fqdn(c: &str) -> Option<&str> {
    c.strip_prefix("outbound|")
        .and_then(|rest| rest.split('|').nth(2))
}

pub fn outbound(r: &Report, t: &Target, app: AppProtocol) -> Trace {
    let tls = match app {
        AppProtocol::Tls => true,
        AppProtocol::Plaintext => false,
        AppProtocol::Auto => t.port == 443,
    };
    let mut assumptions = vec![if tls {
        format!(
            "the application speaks TLS with SNI {} (ALPN h2, http/1.1)",
            t.host
        )
    } else {
        "the application speaks plaintext (HTTP/1.1 when the proxy sniffs)".to_string()
    }];
    if t.ip.is_none() {
        assumptions.push(format!(
            "{} resolves to the service's address (a VIP) the proxy has a listener or chain for",
            t.host
        ));
    }
    let mut steps = Vec::new();
    let listeners: Vec<&Listener> = r.listeners.iter().filter(|l| !is_inbound(l)).collect();
    let on_port: Vec<&Listener> = listeners
        .iter()
        .copied()
        .filter(|l| l.port == Some(t.port))
        .collect();
    let by_address = on_port.iter().copied().find(|l| {
        t.ip.is_some_and(|ip| l.address.as_deref() == Some(&ip.to_string()))
    });
    let by_service = on_port.iter().copied().find(|l| {
        l.filter_chains.iter().flat_map(|c| &c.destinations).any(|d| matches!(d, Destination::Cluster { name } if cluster_fqdn(name) == Some(t.host.as_str())))
    });
    let wildcard = on_port
        .iter()
        .copied()
        .find(|l| matches!(l.address.as_deref(), Some("0.0.0.0") | Some("::")));
    let capture = listeners
        .iter()
        .copied()
        .find(|l| l.name == "virtualOutbound" || l.name == "virtual");
    let (listener, why) = if let Some(l) = by_address {
        (l, format!("bound to {}", t))
    } else if let Some(l) = by_service {
        (l, format!("on port {} with a chain for {}", t.port, t.host))
    } else if let Some(l) = wildcard {
        (
            l,
            format!(
                "bound to {}:{}",
                l.address.as_deref().unwrap_or("0.0.0.0"),
                t.port
            ),
        )
    } else if let Some(l) = capture {
        (
            l,
            format!(
                "no listener for port {}: the outbound capture listener handles it",
                t.port
            ),
        )
    } else if let Some(l) = on_port.first() {
        (*l, format!("the listener on port {}", t.port))
    } else {
        return done(r, "outbound", t.to_string(), assumptions, steps, outcome("no-listener", format!("no listener takes {t}: the connection is refused"), "Envoy does not listen for this port and no capture listener exists (not a sidecar?): curl exit 7 (connection refused)"));
    };
    steps.push(step("listener", &listener.name, why, &listener.pointer));
    let Some((i, chain, chain_why)) = pick_chain(listener, t, tls) else {
        let o = outcome("no-match", "no filter chain matches and the listener has no default chain: the connection is closed", "curl exit 56 / 52 (reset): add a chain, or check the port's protocol");
        return done(r, "outbound", t.to_string(), assumptions, steps, o);
    };
    let chain_name = chain.name.clone().unwrap_or_else(|| format!("#{i}"));
    steps.push(step(
        "filter chain",
        chain_name,
        chain_why,
        &listener.pointer,
    ));
    let o = follow(r, t, tls, chain, &mut steps, &mut assumptions);
    done(r, "outbound", t.to_string(), assumptions, steps, o)
}

fn sni_matches(pattern: &str, host: &str) -> bool {
    pattern == host
        || pattern
            .strip_prefix("*.")
            .is_some_and(|suffix| host.ends_with(&format!(".{suffix}")))
}

/// The chain Envoy would pick for this connection: every set criterion must hold; the one
/// holding the most wins; else the default chain.
fn pick_chain<'a>(
    l: &'a Listener,
    t: &Target,
    tls: bool,
) -> Option<(usize, &'a FilterChain, String)> {
    let mut best: Option<(usize, usize, &FilterChain, Vec<String>)> = None;
    for (i, ch) in l
        .filter_chains
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_default)
    {
        let m = &ch.matcher;
        let mut why = Vec::new();
        if let Some(p) = m.destination_port {
            if p != t.port {
                continue;
            }
            why.push(format!("destination port {p}"));
        }
        if !m.prefix_ranges.is_empty() {
            let Some(ip) = t.ip else { continue };
            if !m.prefix_ranges.iter().any(|r| in_range(r, ip)) {
                continue;
            }
            why.push(format!("address in {}", m.prefix_ranges.join(",")));
        }
        if !m.server_names.is_empty() {
            if !tls || !m.server_names.iter().any(|s| sni_matches(s, &t.host)) {
                continue;
            }
            why.push(format!("SNI {}", t.host));
        }
        if let Some(tp) = &m.transport_protocol {
            if (tp == "tls") != tls {
                continue;
            }
            why.push(format!("transport {tp}"));
        }
        if !m.application_protocols.is_empty() {
            let ours: &[&str] = if tls {
                &["h2", "http/1.1"]
            } else {
                &["http/1.1"]
            };
            if !m
                .application_protocols
                .iter()
                .any(|a| ours.contains(&a.as_str()))
            {
                continue;
            }
            why.push(format!("ALPN {}", m.application_protocols.join(",")));
        }
        if best.as_ref().is_none_or(|b| why.len() > b.3.len()) {
            best = Some((i, why.len(), ch, why));
        }
    }
    if let Some((i, _, ch, why)) = best {
        let detail = if why.is_empty() {
            "matches every connection".to_string()
        } else {
            format!("matches {}", why.join(", "))
        };
        return Some((i, ch, detail));
    }
    l.filter_chains
        .iter()
        .enumerate()
        .find(|(_, c)| c.is_default)
        .map(|(i, c)| {
            (
                i,
                c,
                "no chain matches: the listener's default chain".to_string(),
            )
        })
}

/// `10.0.0.0/8` (or a bare address) contains `ip`.
fn in_range(range: &str, ip: IpAddr) -> bool {
    let (addr, len) = range
        .split_once('/')
        .unwrap_or((range, if range.contains(':') { "128" } else { "32" }));
    let (Ok(base), Ok(len)) = (addr.parse::<IpAddr>(), len.parse::<u32>()) else {
        return false;
    };
    match (base, ip) {
        (IpAddr::V4(b), IpAddr::V4(i)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len.min(32))
            };
            u32::from(b) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(b), IpAddr::V6(i)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len.min(128))
            };
            u128::from(b) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

fn follow(
    r: &Report,
    t: &Target,
    tls: bool,
    chain: &FilterChain,
    steps: &mut Vec<Step>,
    assumptions: &mut Vec<String>,
) -> Outcome {
    match chain.destinations.first() {
        Some(Destination::Cluster { name }) => cluster(r, name, tls, steps),
        Some(Destination::WeightedClusters { names }) => {
            let first = names.first().cloned().unwrap_or_default();
            assumptions.push(format!("of the weighted clusters {}, the trace follows {first}", names.join(", ")));
            cluster(r, &first, tls, steps)
        }
        Some(Destination::Route { name }) => match r.routes.iter().find(|rc| &rc.name == name) {
            Some(rc) => {
                steps.push(step("route", &rc.name, "the HTTP connection manager's RDS route configuration", &rc.pointer));
                http(r, t, tls, rc, steps, assumptions)
            }
            None => outcome("no-route", format!("RDS route configuration {name} is not in the dump"), "the proxy has not received it (RDS warming) or the dump lacks it: HTTP 404 (NR) until it arrives"),
        },
        Some(Destination::InlineRoute { config }) => {
            steps.push(step("route", &config.name, "inline in the HTTP connection manager", ""));
            http(r, t, tls, config, steps, assumptions)
        }
        Some(Destination::Filter { name, .. }) => outcome("network-filter", format!("handled by the network filter {name}"), "envinspect does not follow this filter"),
        None => outcome("no-destination", "the chain has no destination envinspect can follow", ""),
    }
}

/// Envoy's virtual host choice: exact domain, then the longest `*.suffix`, then `prefix*`, then `*`.
fn pick_vhost<'a>(
    rc: &'a RouteConfig,
    t: &Target,
) -> Option<(&'a crate::model::VirtualHost, String)> {
    let host_port = format!("{}:{}", t.host, t.port);
    let names = [t.host.as_str(), host_port.as_str()];
    let exact = rc.virtual_hosts.iter().find_map(|v| {
        v.domains
            .iter()
            .find(|d| names.contains(&d.as_str()))
            .map(|d| (v, d.clone()))
    });
    let suffix = || {
        rc.virtual_hosts
            .iter()
            .flat_map(|v| v.domains.iter().map(move |d| (v, d)))
            .filter(|(_, d)| {
                d.len() > 1 && d.starts_with('*') && names.iter().any(|n| n.ends_with(&d[1..]))
            })
            .max_by_key(|(_, d)| d.len())
            .map(|(v, d)| (v, d.clone()))
    };
    let prefix = || {
        rc.virtual_hosts
            .iter()
            .flat_map(|v| v.domains.iter().map(move |d| (v, d)))
            .filter(|(_, d)| {
                d.len() > 1
                    && d.ends_with('*')
                    && names.iter().any(|n| n.starts_with(&d[..d.len() - 1]))
            })
            .max_by_key(|(_, d)| d.len())
            .map(|(v, d)| (v, d.clone()))
    };
    let any = || {
        rc.virtual_hosts
            .iter()
            .find(|v| v.domains.iter().any(|d| d == "*"))
            .map(|v| (v, "*".to_string()))
    };
    exact.or_else(suffix).or_else(prefix).or_else(any)
}

fn http(
    r: &Report,
    t: &Target,
    tls: bool,
    rc: &RouteConfig,
    steps: &mut Vec<Step>,
    assumptions: &mut Vec<String>,
) -> Outcome {
    if tls {
        assumptions.push("an HTTP connection manager reads this connection: TLS from the application would fail here".into());
    }
    let Some((vh, domain)) = pick_vhost(rc, t) else {
        return outcome("no-route", format!("no virtual host of {} matches {}", rc.name, t), "HTTP 404 with response flag NR: the host is not in this route configuration (a VirtualService or ServiceEntry host missing)");
    };
    steps.push(step(
        "virtual host",
        &vh.name,
        format!("domain {domain} matches {}", t.host),
        &rc.pointer,
    ));
    assumptions.push(format!("the request path is {}", t.path));
    let Some(route) = vh
        .routes
        .iter()
        .find(|rt| path_matches(&rt.matcher, &t.path))
    else {
        return outcome(
            "no-route",
            format!(
                "no route of virtual host {} matches path {}",
                vh.name, t.path
            ),
            "HTTP 404 with response flag NR: no route for this path",
        );
    };
    let vs = route
        .virtual_service
        .as_ref()
        .map(|v| format!(" (VirtualService {v})"))
        .unwrap_or_default();
    steps.push(step(
        "route",
        route.name.clone().unwrap_or_else(|| route.matcher.clone()),
        format!("match {}{vs}", route.matcher),
        &rc.pointer,
    ));
    match &route.action {
        RouteAction::Cluster { name } => cluster(r, name, false, steps),
        RouteAction::WeightedClusters { names } => {
            let first = names.first().cloned().unwrap_or_default();
            assumptions.push(format!(
                "of the weighted clusters {}, the trace follows {first}",
                names.join(", ")
            ));
            cluster(r, &first, false, steps)
        }
        RouteAction::DirectResponse { status } => outcome(
            "direct-response",
            format!("the proxy answers itself with HTTP {status}"),
            "no upstream is contacted",
        ),
        RouteAction::Redirect => outcome(
            "redirect",
            "the proxy answers with a redirect",
            "no upstream is contacted",
        ),
        other => outcome(
            "route-action",
            format!("route action {other:?}"),
            "envinspect does not follow this action",
        ),
    }
}

/// A route's match (as the model writes it: `/prefix*`, `/exact`, `PathPrefix:/p`, `regex R`)
/// against a path; other matchers (CONNECT, policies) are not followed.
fn path_matches(matcher: &str, path: &str) -> bool {
    if let Some(re) = matcher.strip_prefix("regex ") {
        regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(path))
    } else if let Some(p) = matcher.strip_prefix("PathPrefix:") {
        let p = p.trim_end_matches('/');
        p.is_empty() || path == p || path.starts_with(&format!("{p}/"))
    } else if let Some(prefix) = matcher.strip_suffix('*') {
        path.starts_with(prefix)
    } else {
        matcher == path
    }
}

fn sans(ctx: &TlsContext) -> String {
    if ctx.san_matchers.is_empty() {
        "any certificate the CA signed (no SAN matchers)".into()
    } else {
        ctx.san_matchers
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn trust(ctx: &TlsContext) -> String {
    let v: Vec<String> = ctx.validation.iter().map(|v| v.to_string()).collect();
    if v.is_empty() {
        "no CA: the server is not verified".into()
    } else {
        v.join(", ")
    }
}

fn cluster(r: &Report, name: &str, app_tls: bool, steps: &mut Vec<Step>) -> Outcome {
    let Some(c) = r.clusters.iter().find(|c| c.name == name) else {
        return outcome(
            "no-cluster",
            format!("cluster {name} is not in the dump"),
            "HTTP 503 with response flag NC (no cluster): CDS has not delivered it",
        );
    };
    steps.push(step(
        "cluster",
        &c.name,
        format!("{} cluster, {}", c.discovery, c.tls.summary()),
        &c.pointer,
    ));
    if c.name == "BlackHoleCluster" {
        return outcome(
            "blackhole",
            "blackholed: the connection is reset (REGISTRY_ONLY, no ServiceEntry for the host)",
            "curl exit 56/52, HTTP 502: add a ServiceEntry for the host",
        );
    }
    if c.name == "PassthroughCluster" || c.discovery == "ORIGINAL_DST" {
        let tls_note = if app_tls {
            "the TLS is the application's own: a certificate error is in the application's CA bundle, not the mesh (curl exit 60 or 77)"
        } else {
            "sent as the application sent it"
        };
        return outcome(
            "passthrough",
            format!("TCP passthrough to the original destination; {tls_note}"),
            "no mesh policy applies on this path: no DestinationRule TLS, no mTLS",
        );
    }
    let identity = r
        .identity
        .as_ref()
        .and_then(|i| i.spiffe_id.as_ref())
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(no identity in the dump)".into());
    let first_ctx = c.tls.contexts().next();
    match (c.tls.kind(), first_ctx) {
        (TlsKind::IstioMtls, Some(ctx)) => outcome(
            "istio-mtls",
            format!("Istio mTLS: presents {identity}, SNI {}, accepts {}, trusts {}", sni(ctx), sans(ctx), trust(ctx)),
            if app_tls { "the application's TLS is carried inside the mesh mTLS; its certificate errors are the application's own" } else { "handshake errors here are mesh errors: check `envinspect secrets` (roots, expiry) and the SANs against the server's identity" },
        ),
        (TlsKind::Auto, Some(ctx)) => outcome(
            "auto-mtls",
            format!("Istio auto-mTLS: mTLS to endpoints labelled tlsMode: istio (presents {identity}, SNI {}, accepts {}), plaintext to the others", sni(ctx), sans(ctx)),
            "which endpoint gets which depends on its metadata: `envinspect endpoints` shows TLS MODE",
        ),
        (TlsKind::Mutual | TlsKind::Simple, Some(ctx)) => {
            let double = if app_tls { "; the application already speaks TLS: this is TLS inside TLS (rule double-tls)" } else { "" };
            outcome(
                "tls-origination",
                format!("TLS originated by the proxy ({}): SNI {}, CA {}, accepts {}{double}", if c.tls.kind() == TlsKind::Mutual { "mutual" } else { "simple" }, sni(ctx), trust(ctx), sans(ctx)),
                "certificate errors here are the proxy's: the DestinationRule's caCertificates and subjectAltNames (curl sees 503 UF, not exit 60)",
            )
        }
        (TlsKind::Plaintext, _) => outcome(
            "plaintext",
            if app_tls { "plaintext TCP: the application's own TLS passes through unchanged".to_string() } else { "plaintext: what the application sent, unencrypted".to_string() },
            if app_tls { "certificate errors are the application's own (curl exit 60/77)" } else { "no TLS on this hop" },
        ),
        _ => outcome("other", format!("transport socket {}", c.tls.summary()), "envinspect does not model this transport socket"),
    }
}

fn sni(ctx: &TlsContext) -> String {
    ctx.sni
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(none)".into())
}

/// What a server-side chain does with a connection.
fn chain_tls(ch: &FilterChain) -> String {
    match &ch.tls {
        Socket::Tls(ctx) => {
            let client = if ctx.require_client_certificate == Some(true) {
                "requires a client certificate"
            } else {
                "does not require a client certificate"
            };
            format!(
                "TLS, {client}, accepts {}, trusts {}",
                sans(ctx),
                trust(ctx)
            )
        }
        Socket::Plaintext { .. } => "plaintext".into(),
        Socket::Other { name, .. } => name.clone(),
    }
}

pub fn inbound(r: &Report, port: u32) -> Trace {
    let mut steps = Vec::new();
    let target = format!("port {port}");
    let listener = r
        .listeners
        .iter()
        .find(|l| l.name == "virtualInbound")
        .or_else(|| {
            r.listeners
                .iter()
                .find(|l| is_inbound(l) && l.port == Some(port))
        });
    let Some(l) = listener else {
        let o = outcome(
            "no-listener",
            format!("no inbound listener for port {port}"),
            "not a sidecar with inbound capture, or the port is not declared",
        );
        return done(r, "inbound", target, vec![], steps, o);
    };
    steps.push(step("listener", &l.name, "inbound capture", &l.pointer));
    let for_port: Vec<(usize, &FilterChain)> = l
        .filter_chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.matcher.destination_port == Some(port))
        .collect();
    let chains = if for_port.is_empty() {
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
        steps.push(step(
            "filter chain",
            ch.name.clone().unwrap_or_else(|| format!("#{i}")),
            format!("{}{on}{dest}", chain_tls(ch)),
            &l.pointer,
        ));
    }
    let reported = r
        .inbound
        .iter()
        .find(|p| p.port == Some(port))
        .or_else(|| r.inbound.iter().find(|p| p.port.is_none()));
    // Outside Istio's virtualInbound the report has no mode: judge the chains taken here.
    let from_chains = || {
        let tls = chains
            .iter()
            .filter(|(_, c)| matches!(c.tls, Socket::Tls(_)))
            .count();
        match (tls, chains.len() - tls) {
            (0, 0) => None,
            (_, 0) => Some(MtlsMode::Strict),
            (0, _) => Some(MtlsMode::Disable),
            _ => Some(MtlsMode::Permissive),
        }
    };
    let o = match reported.map(|m| m.mode).or_else(from_chains) {
        Some(MtlsMode::Strict) => outcome("inbound-mtls", format!("STRICT: only mTLS is accepted on {port}"), "a plaintext client (no sidecar, or DISABLE towards this host) is reset: curl exit 56, or 503 UC at the client's proxy"),
        Some(MtlsMode::Permissive) => outcome("inbound-permissive", format!("PERMISSIVE: mTLS and plaintext are both accepted on {port}"), "plaintext callers are not authenticated: policies on their identity do not apply"),
        Some(MtlsMode::Disable) => outcome("inbound-plaintext", format!("plaintext only on {port}"), "an mTLS client (ISTIO_MUTUAL) fails its handshake here: 503 UF at the client's proxy"),
        None => outcome("no-match", format!("no chain for port {port}"), "the connection is reset"),
    };
    done(r, "inbound", target, vec![], steps, o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_ranges() {
        let t: Target = "www.google.com:443".parse().unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.ip),
            ("www.google.com", 443, None)
        );
        let t: Target = "[fe80::1]:8080".parse().unwrap();
        assert_eq!(
            (t.port, t.to_string()),
            (8080, "[fe80::1]:8080".to_string())
        );
        assert_eq!("reviews".parse::<Target>().unwrap().port, 80);
        let t: Target = "bookinfo.example.com:80/productpage".parse().unwrap();
        assert_eq!(
            (t.host.as_str(), t.path.as_str(), t.to_string()),
            (
                "bookinfo.example.com",
                "/productpage",
                "bookinfo.example.com:80/productpage".to_string()
            )
        );
        assert!(
            path_matches("/static*", "/static/app.js")
                && path_matches("/login", "/login")
                && !path_matches("/login", "/logout")
        );
        assert!(
            path_matches("PathPrefix:/api", "/api/v1") && !path_matches("PathPrefix:/api", "/apix")
        );
        assert!(
            path_matches("regex /api/v[0-9]+/.*", "/api/v1/products")
                && !path_matches("regex /a", "/ab")
        );
        assert!("host:http".parse::<Target>().is_err());
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(
            in_range("10.0.0.0/8", ip) && in_range("10.1.2.3", ip) && in_range("0.0.0.0/0", ip)
        );
        assert!(!in_range("10.1.2.4/32", ip) && !in_range("::/0", ip));
        assert!(
            sni_matches("*.google.com", "www.google.com")
                && !sni_matches("*.google.com", "google.com")
        );
    }
}
