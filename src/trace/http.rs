//! The HTTP part of a trace: the HTTP connection manager's route configuration, the virtual
//! host Envoy gives the Host header, the first route whose match fits the request (path,
//! headers, query, method — `authz::route`, Envoy's router order), and the route's action.

use super::answer::{answer, outcome, Effect};
use super::{step, weighted, wire, Probe, Walk};
use crate::authz::route;
use crate::model::trace::Outcome;
use crate::model::trace::{OutcomeKind, StepKind};
use crate::model::{Destination, Report, RouteAction, RouteConfig};

pub(super) fn follow(
    r: &Report,
    p: &Probe,
    d: &Destination,
    host: crate::model::http::HostNormalization,
    w: &mut Walk,
) -> (Outcome, Effect) {
    let rc: &RouteConfig = match d {
        Destination::InlineRoute { config } => {
            w.steps.push(step(
                StepKind::RouteConfig,
                &config.name,
                "inline in the HTTP connection manager",
                "",
            ));
            config
        }
        Destination::Route { name } if name.starts_with("scoped:") => {
            let e = Effect::Unknown;
            return (
                outcome(
                    OutcomeKind::CannotTell,
                    format!("the HTTP connection manager picks its routes by scope ({name})"),
                    "envinspect does not follow scoped routes",
                    &e,
                ),
                e,
            );
        }
        Destination::Route { name } => match r.routes.iter().find(|rc| &rc.name == name) {
            Some(rc) => {
                w.steps.push(step(
                    StepKind::RouteConfig,
                    &rc.name,
                    "the HTTP connection manager's RDS route configuration",
                    &rc.pointer,
                ));
                rc
            }
            None if r.counts.routes.is_none() => {
                let e = Effect::Unknown;
                return (outcome(OutcomeKind::CannotTell, format!("the dump has no routes section: route configuration {name} cannot be followed"), "take the dump with its routes (the whole /config_dump)", &e), e);
            }
            None => {
                let e = answer(404, "NR", "route_not_found");
                return (outcome(OutcomeKind::NoRoute, format!("RDS route configuration {name} is not in the dump"), "the proxy has not received it: requests get 404 NR until it arrives (check the control plane's push of this route)", &e), e);
            }
        },
        _ => unreachable!("follow is called for HTTP destinations"),
    };
    let mut req = p.request();
    w.assumptions.push(format!(
        "the request is {} {} with Host {}{}",
        req.method,
        req.path,
        req.authority,
        if p.headers.is_empty() {
            String::new()
        } else {
            let hs: Vec<String> = p.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!(" and {}", hs.join(", "))
        }
    ));
    // The connection manager rewrites the Host before its filters and the router see it.
    let sent = std::mem::take(&mut req.authority);
    req.authority = host.apply(&sent, p.target.port);
    if req.authority != sent {
        w.assumptions.push(format!(
            "the connection manager rewrites Host {sent} to {} before routing",
            req.authority
        ));
    }
    let Some((_, vh, domain)) = route::matching_domain(rc, &req.authority) else {
        let e = answer(404, "NR", "route_not_found");
        return (outcome(OutcomeKind::NoRoute, format!("no virtual host of {} has a domain for {}", rc.name, req.authority), "the host is not in this route configuration (Istio: a VirtualService or ServiceEntry host missing, or a Sidecar's egress hosts leave it out)", &e), e);
    };
    w.steps.push(
        step(
            StepKind::VirtualHost,
            &vh.name,
            format!("domain {domain} matches Host {}", req.authority),
            &rc.pointer,
        )
        .produced_by(&vh.produced_by),
    );
    let rt = match route::route(vh, &req) {
        Ok(Some((_, rt))) => rt,
        Ok(None) => {
            let e = answer(404, "NR", "route_not_found");
            return (
                outcome(
                    OutcomeKind::NoRoute,
                    format!(
                        "no route of virtual host {} matches {} {}",
                        vh.name, req.method, req.path
                    ),
                    "no route for this request: check the route's path, header and query matches",
                    &e,
                ),
                e,
            );
        }
        Err(u) => {
            let e = Effect::Unknown;
            return (
                outcome(
                    OutcomeKind::CannotTell,
                    format!("which route of {} applies depends on {u}", vh.name),
                    "",
                    &e,
                ),
                e,
            );
        }
    };
    let mut on = vec![format!("match {}", rt.matcher)];
    on.extend(rt.route_match.headers.iter().map(|h| h.to_string()));
    on.extend(rt.route_match.query.iter().map(|q| match &q.value {
        Some(v) => format!("?{} {v}", q.name),
        None => format!("?{} present", q.name),
    }));
    // The VirtualService is named with the other objects that produced the route.
    if let Some(v) = rt
        .virtual_service
        .as_ref()
        .filter(|_| rt.produced_by.is_empty())
    {
        on.push(format!("from {v}"));
    }
    w.steps.push(
        step(
            StepKind::Route,
            rt.name.clone().unwrap_or_default(),
            on.join("; "),
            &rc.pointer,
        )
        .produced_by(&rt.produced_by),
    );
    match &rt.action {
        RouteAction::Cluster { name } => wire::cluster(r, p, name, false, true, &mut w.steps),
        RouteAction::WeightedClusters { names, weights } => {
            let name = weighted(names, weights, &rc.pointer, w);
            wire::cluster(r, p, &name, false, true, &mut w.steps)
        }
        RouteAction::ClusterHeader { header } => match req.header(header).filter(|v| !v.is_empty())
        {
            Some(name) => {
                w.assumptions.push(format!(
                    "the cluster is the request's {header} header: {name}"
                ));
                wire::cluster(r, p, &name, false, true, &mut w.steps)
            }
            None => {
                let e = answer(503, "NC", "cluster_not_found");
                (outcome(OutcomeKind::NoCluster, format!("the route takes its cluster from the {header} header, which the request does not have"), "send the header (--header), or fix the route", &e), e)
            }
        },
        RouteAction::DirectResponse { status } => {
            let e = answer(*status, "", "direct_response");
            (
                outcome(
                    OutcomeKind::DirectResponse,
                    format!("the proxy answers itself with HTTP {status}"),
                    "no upstream is contacted",
                    &e,
                ),
                e,
            )
        }
        RouteAction::Redirect { status } => {
            let e = answer(*status, "", "direct_response");
            (
                outcome(
                    OutcomeKind::Redirect,
                    format!("the proxy answers with a redirect (HTTP {status})"),
                    "no upstream is contacted",
                    &e,
                ),
                e,
            )
        }
        other => {
            let e = Effect::Unknown;
            (
                outcome(
                    OutcomeKind::RouteAction,
                    format!("route action {other:?}"),
                    "envinspect does not follow this action",
                    &e,
                ),
                e,
            )
        }
    }
}
