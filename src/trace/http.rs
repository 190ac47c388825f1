//! The HTTP part of a trace: from the chain's destination to a cluster, through the route
//! configuration, virtual host (by domain) and route (by path).

use super::wire::cluster;
use super::{outcome, step, Target};
use crate::model::trace::{Outcome, Step};
use crate::model::{Destination, FilterChain, Report, RouteAction, RouteConfig};

pub(super) fn follow(
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
pub(super) fn path_matches(matcher: &str, path: &str) -> bool {
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
