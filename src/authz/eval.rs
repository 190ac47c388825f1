//! Would Envoy let this request in, and which policy decides? The listener and filter chain the
//! connection gets, its network filters, then the route and the HTTP filters in order — each
//! layer as Envoy runs it, first refusal wins. Every step keeps a JSON Pointer.

use crate::model::decision::AuthzLayer;
use crate::model::Timestamp;
use std::net::IpAddr;

use super::chain::{self, Connection, Pick};
use super::context::{Context, HttpRequest, PeerCert};
use super::request::Request;
use super::route;
use super::state::{end, unknown, Chosen, End, Run};
use crate::model::authz::{FilterLevel, PerRouteAuthz};
use crate::model::cannot_tell::{CannotTell, Place, Reason};
use crate::model::decision::{Decision, Evaluation, RequestSummary, StepOutcome};
use crate::model::{Destination, FilterChain, Report, RouteAction, RouteConfig, Socket};

/// The chain refuses the connection at the handshake.
fn refuse(run: &mut Run, chain: &str, pointer: &str, why: &str) -> End {
    run.step(
        AuthzLayer::FilterChain,
        chain,
        StepOutcome::Rejected,
        why,
        pointer,
    );
    rejected(Reason::Refused(why.to_string()))
}

/// No answer from Envoy at all: the connection is closed (the reason is ours, not Envoy's).
fn rejected(reason: Reason) -> End {
    End {
        reason: Some(reason),
        ..end(Decision::Rejected, None, None)
    }
}

/// Whether `req` passes the proxy of `r`, layer by layer, with tokens judged at `now` (their
/// `exp` and `nbf`): the decision, the policy Envoy names, and each step.
pub fn evaluate(r: &Report, req: &Request, now: Timestamp) -> Evaluation {
    // JWT claims are whole seconds since the epoch; a time before it has expired everything.
    let now_unix = now.get().unix_timestamp().max(0) as u64;
    if r.document == crate::model::DocumentKind::Ztunnel {
        return l4(r, req);
    }
    let mut run = Run {
        steps: Vec::new(),
        assumptions: Vec::new(),
        may_deny: None,
    };
    let mut e = walk(r, req, now_unix, &mut run);
    if let Some(c) = run.may_deny.take() {
        match e.decision {
            Decision::Allow => e = unknown(CannotTell::Unevaluated(c)),
            Decision::Deny | Decision::Unauthenticated => run.assumptions.push(format!(
                "refused either way; {c}, and may refuse first (another status)"
            )),
            _ => {}
        }
    }
    Evaluation {
        source: r.source.clone(),
        enforcer: Default::default(),
        decision: e.decision,
        policy: e.policy,
        response: e.response,
        reason: e.reason,
        request: summary(req),
        steps: run.steps,
        assumptions: run.assumptions,
    }
}

/// A ztunnel decides on the connection alone (super::ambient); what the request says beyond it
/// is for a waypoint.
fn l4(r: &Report, req: &Request) -> Evaluation {
    let c = super::ambient::L4Connection {
        principal: req.principal(),
        source_ip: req.source_ip,
        destination_ip: req.destination_ip,
        port: u16::try_from(req.port).unwrap_or(0),
    };
    let mut summary = summary(req);
    summary.method = None;
    summary.path = None;
    summary.destination_ip = req.destination_ip.map(|i| i.to_string());
    let mut e = super::ambient::evaluate(r, &c, summary);
    // Named as parts of the request, not as the command line's options (the library knows no
    // flag).
    let http = [
        ("the method", req.method.is_some()),
        ("the path", req.path.is_some()),
        ("the Host", req.host.is_some()),
        ("the headers", !req.headers.is_empty()),
        ("the bearer token", req.jwt.is_some()),
        ("the request principal", req.request_principal.is_some()),
        ("the SNI", req.sni.is_some()),
        ("the ALPN", req.alpn.is_some()),
    ];
    let ignored: Vec<&str> = http
        .iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| *f)
        .collect();
    if !ignored.is_empty() {
        e.assumptions.push(format!(
            "ztunnel decides on the connection alone: {} play no part (a waypoint decides on them)",
            ignored.join(", ")
        ));
    }
    e
}

fn summary(req: &Request) -> RequestSummary {
    RequestSummary {
        port: req.port,
        principal: req.peer().cloned(),
        tls: req.tls(),
        method: (!req.tcp).then(|| req.method.clone().unwrap_or_else(|| "GET".into())),
        path: (!req.tcp).then(|| req.path.clone().unwrap_or_else(|| "/".into())),
        host: req.host.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect(),
        request_principal: req.request_principal.clone(),
        source_ip: req.source_ip.map(|i| i.to_string()),
        destination_ip: None,
        sni: req.sni.clone(),
    }
}

fn walk(r: &Report, req: &Request, now: u64, run: &mut Run) -> End {
    if let Some((why, pointer)) = super::inbound::not_captured(r, req) {
        run.step(
            AuthzLayer::Interception,
            "",
            StepOutcome::Skipped,
            format!("not redirected to the proxy ({why})"),
            &pointer,
        );
        let reason = Reason::NotCaptured {
            port: req.port,
            why,
            tls: req.tls(),
        };
        // A plaintext client reaches the application; what a TLS client meets is the
        // application's answer, not the proxy's.
        let decision = if !req.tls() {
            Decision::Allow
        } else {
            Decision::Unknown
        };
        return End {
            reason: Some(reason),
            ..end(decision, None, None)
        };
    }
    let l = match super::inbound::listener(r, req) {
        Ok(l) => l,
        Err(e) => return rejected(Reason::NoListener(e)),
    };
    run.step(
        AuthzLayer::Listener,
        &l.name,
        StepOutcome::Continue,
        "receives the connection",
        &l.pointer,
    );
    let tls = req.tls();
    let destination_ip = req.destination_ip.or_else(|| {
        let own = l.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok());
        let node = r
            .node
            .as_ref()
            .and_then(|n| n.ip.as_deref())
            .and_then(|a| a.parse().ok());
        own.filter(|a| !a.is_unspecified()).or(node)
    });
    let hello = chain::Hello {
        tls,
        sni: req.sni.clone(),
        alpn: req.alpn.clone(),
        http: !req.tcp,
    };
    let conn = Connection::inspected(l, req.port, destination_ip, req.source_ip, &hello);
    let (ci, why) = match chain::pick(l, &conn) {
        Pick::Chain(i, why) => (i, why),
        Pick::None(why) => {
            return refuse(run, "-", &l.pointer, &why);
        }
        Pick::Unknown(u) => return unknown(u.at(Place::FilterChain)),
    };
    let ch = &l.filter_chains[ci];
    let chain_name = ch.name.clone().unwrap_or_else(|| format!("#{ci}"));
    for w in why.iter().filter(|w| w.starts_with("assumed")) {
        run.assumptions
            .push(w.trim_start_matches("assumed: ").to_string());
    }
    // The handshake.
    let peer = match (&ch.tls, tls) {
        (Socket::Tls(ctx), true) if r.undelivered_certificate(ctx).is_some() => {
            let why = r.undelivered_certificate(ctx).unwrap_or_default();
            let why = format!(
                "the chain's {why}: Envoy has no certificate to present, so the TLS handshake fails"
            );
            return refuse(run, &chain_name, &ch.pointer, &why);
        }
        (Socket::Tls(ctx), true)
            if req.principal().is_none() && ctx.require_client_certificate == Some(true) =>
        {
            let why = "the chain requires a client certificate and the client presents none: the TLS handshake fails";
            return refuse(run, &chain_name, &ch.pointer, why);
        }
        (Socket::Tls(ctx), true) => {
            if let Some(p) = req.principal() {
                if !ctx.san_matchers.is_empty()
                    && !ctx.san_matchers.iter().any(|m| m.matcher.matches(p))
                {
                    let why = format!("the chain's SAN matchers reject the client certificate {p}");
                    return refuse(run, &chain_name, &ch.pointer, &why);
                }
            }
            if req.principal().is_none() {
                // Envoy asks for a certificate only where it validates one, and a client that
                // sends none passes unless one is required: no peer identity either way.
                run.assumptions.push(
                    "the client presents no certificate: the peer is not authenticated".into(),
                );
                None
            } else if ctx.validation.is_empty() {
                run.assumptions.push(
                    "the chain validates no client certificate: the peer is not authenticated"
                        .into(),
                );
                None
            } else {
                run.assumptions.push("the client certificate chains to a root the chain trusts and carries only this URI SAN".into());
                req.principal().map(|p| PeerCert {
                    uri_sans: vec![p.to_string()],
                    ..Default::default()
                })
            }
        }
        (Socket::Tls(ctx), false) => {
            let why = if ctx.require_client_certificate == Some(true) {
                "the chain terminates mTLS: a plaintext client fails the handshake"
            } else {
                "the chain terminates TLS: a plaintext client fails the handshake"
            };
            return refuse(run, &chain_name, &ch.pointer, why);
        }
        (_, true) => {
            let why = "the chain does not terminate TLS: the client's TLS is not accepted";
            return refuse(run, &chain_name, &ch.pointer, why);
        }
        (_, false) => None,
    };
    run.step(
        AuthzLayer::FilterChain,
        &chain_name,
        StepOutcome::Continue,
        if why.is_empty() {
            format!("{}; the chain has no match criteria", ch.tls.summary())
        } else {
            format!("{} ({})", ch.tls.summary(), why.join("; "))
        },
        &ch.pointer,
    );
    let hcm = chain_routes(r, ch);
    let http = (!req.tcp && hcm.is_some()).then(|| {
        let mut h = http_request(req);
        // The connection manager rewrites the Host before its filters and the router see it.
        h.authority = ch.host.apply(&h.authority, req.port);
        h
    });
    if !req.tcp && hcm.is_none() {
        run.assumptions.push(
            "the chain is TCP: only the connection is authorized, the HTTP request is not seen"
                .into(),
        );
    }
    let mut ctx = Context {
        tls,
        peer,
        source_ip: req.source_ip,
        destination_ip,
        destination_port: req.port,
        sni: conn.sni.clone(),
        alpn: req.alpn.clone().unwrap_or_default(),
        http: None,
        metadata: Default::default(),
        filter_state: Default::default(),
    };
    // Istio's `istio_authn` network filter puts the peer's identity in filter state, which
    // its waypoint-style policies match.
    if ch.network_filters.iter().any(|n| n == "istio_authn") {
        if let Some(p) = ctx.peer.as_ref().and_then(|p| p.uri_sans.first()) {
            ctx.filter_state
                .insert("io.istio.peer_principal".into(), p.clone());
        }
    }
    for f in ch.authz.iter().filter(|f| f.level == FilterLevel::Network) {
        if let Some(e) = super::layers::network_filter(f, &mut ctx, run) {
            return e;
        }
    }
    let Some(routes) = hcm else {
        return end(Decision::Allow, None, None);
    };
    let Some(http) = http else {
        return end(Decision::Allow, None, None);
    };
    let chosen = choose_route(routes, &http, run);
    ctx.http = Some(http);
    // Istio 1.1–1.5's `istio_authn` HTTP filter publishes the peer's identity (its SAN without
    // the scheme) as `source.principal`, which their RBAC policies match.
    if ch.http_filters.iter().any(|n| n == "istio_authn") {
        if let Some(p) = ctx.peer.as_ref().and_then(|p| p.uri_sans.first()).cloned() {
            let id = p.strip_prefix("spiffe://").unwrap_or(&p).to_string();
            ctx.set_metadata(
                "istio_authn",
                "source.principal",
                serde_json::Value::String(id.clone()),
            );
            ctx.set_metadata("istio_authn", "source.user", serde_json::Value::String(id));
        }
    }
    let chosen = match chosen {
        Ok(c) => c,
        Err(e) => return e,
    };
    for f in ch.authz.iter().filter(|f| f.level == FilterLevel::Http) {
        if let Some(e) = super::layers::http_filter(f, &chosen, &mut ctx, req, now, run) {
            return e;
        }
    }
    // No HTTP filter ran and no router follows: Envoy answers only when the stream idle timeout
    // fires (measured on Envoy 1.40), whatever the route says.
    if let Some(n) = ch.no_router {
        return match n.stream_idle_timeout_ms {
            0 => {
                run.assumptions.push("the chain's HTTP connection manager has no router and its stream idle timeout is disabled: Envoy never answers".into());
                end(Decision::Allow, None, None)
            }
            _ => end(
                Decision::Allow,
                Some(504),
                Some("stream_idle_timeout".to_string()),
            ),
        };
    }
    match &chosen {
        Chosen::None => end(
            Decision::Allow,
            Some(404),
            Some("route_not_found".to_string()),
        ),
        Chosen::Route { route, .. } => match route.action {
            RouteAction::DirectResponse { status } => end(
                Decision::Allow,
                Some(status as u16),
                Some("direct_response".to_string()),
            ),
            _ => end(Decision::Allow, None, None),
        },
    }
}

fn http_request(req: &Request) -> HttpRequest {
    let mut headers = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (k, v) in &req.headers {
        headers
            .entry(k.to_ascii_lowercase())
            .or_default()
            .push(v.clone());
    }
    HttpRequest {
        method: req.method.clone().unwrap_or_else(|| "GET".into()),
        path: req.path.clone().unwrap_or_else(|| "/".into()),
        authority: req.host.clone().unwrap_or_default(),
        headers,
    }
}

/// The route configuration of the chain's HTTP connection manager, if it has one.
fn chain_routes<'a>(r: &'a Report, ch: &'a FilterChain) -> Option<Option<&'a RouteConfig>> {
    match ch.destinations.first()? {
        Destination::Route { name } => Some(r.routes.iter().find(|rc| &rc.name == name)),
        Destination::InlineRoute { config } => Some(Some(config)),
        _ => None,
    }
}

fn choose_route<'a>(
    rc: Option<&'a RouteConfig>,
    req: &HttpRequest,
    run: &mut Run,
) -> Result<Chosen<'a>, End> {
    let Some(rc) = rc else {
        run.step(AuthzLayer::Route, "-", StepOutcome::Continue, "the route configuration is not in the dump: the filters run without per-route configuration", "");
        return Ok(Chosen::None);
    };
    if req.authority.is_empty() {
        run.assumptions
            .push("no --host: only a `*` virtual host matches".into());
    }
    let Some((_, vh)) = route::virtual_host(rc, &req.authority) else {
        run.step(
            AuthzLayer::Route,
            &rc.name,
            StepOutcome::Continue,
            format!(
                "no virtual host matches host {:?}: the router will answer 404",
                req.authority
            ),
            &rc.pointer,
        );
        return Ok(Chosen::None);
    };
    match route::route(vh, req) {
        Ok(Some((_, rt))) => {
            let name = rt.name.clone().unwrap_or_else(|| rt.matcher.clone());
            run.step(
                AuthzLayer::Route,
                &name,
                StepOutcome::Continue,
                format!("virtual host {}, match {}", vh.name, rt.matcher),
                &rc.pointer,
            );
            Ok(Chosen::Route { rc, vh, route: rt })
        }
        Ok(None) => {
            run.step(
                AuthzLayer::Route,
                &vh.name,
                StepOutcome::Continue,
                format!(
                    "no route of virtual host {} matches {}: the router will answer 404",
                    vh.name, req.path
                ),
                &rc.pointer,
            );
            Ok(Chosen::None)
        }
        Err(u) => Err(unknown(u.at(Place::Route))),
    }
}

impl Chosen<'_> {
    /// The most specific per-filter configuration for `filter`: weighted cluster, route, virtual
    /// host, route configuration.
    pub(super) fn per_filter(&self, filter: &str) -> Result<Option<&PerRouteAuthz>, CannotTell> {
        let Chosen::Route { rc, vh, route } = self else {
            return Ok(None);
        };
        if let RouteAction::WeightedClusters { names, .. } = &route.action {
            let configs: Vec<Option<&PerRouteAuthz>> = names
                .iter()
                .map(|n| route.cluster_per_filter.get(n).and_then(|m| m.get(filter)))
                .collect();
            if configs.iter().any(|c| c.is_some()) {
                if configs.windows(2).any(|w| w[0] != w[1]) {
                    return Err(CannotTell::WeightedClustersDiffer {
                        filter: filter.into(),
                    });
                }
                return Ok(configs[0]);
            }
        }
        Ok(route
            .per_filter
            .get(filter)
            .or_else(|| vh.per_filter.get(filter))
            .or_else(|| rc.per_filter.get(filter)))
    }
}
