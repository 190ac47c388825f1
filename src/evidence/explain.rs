//! Why a logged request failed, from the line and the proxy's configuration: the line is placed
//! on the listener, filter chain, virtual host, route and cluster Envoy gave it (the listener and
//! chain by the same matching `trace` uses, the route by its logged name or by re-matching the
//! request), and its response flags and details name the cause, a rule of the catalogue. What
//! the line names and the dump lacks is said to come from another configuration version; what
//! the line does not carry is said, never guessed.

use super::place::{chain_name, locate, route_configs, Place};
use super::upstream::{no_healthy, overflow, timeout, upstream_failure};
use crate::authz::context::HttpRequest;
use crate::model::authz::{AuthzKind, RbacAction, RbacEngine};
use crate::model::evidence::{Explained, Record, ResponseFlag};
use crate::model::RuleId;
use crate::model::{Level, Report};

/// Whether the line is a failure: an error status, a response flag (other than a cache hit or
/// an injected delay alone), or a connection closed with termination details.
pub fn failed(r: &Record) -> bool {
    r.status.is_some_and(|s| s >= 400)
        || r.flags.iter().any(ResponseFlag::is_failure)
        || r.termination.is_some()
}

/// Explains one line.
pub fn explain(report: &Report, file: &str, line: u64, format: &str, rec: &Record) -> Explained {
    let place = locate(report, rec, file);
    let mut e = Explained {
        file: file.to_string(),
        line,
        format: format.to_string(),
        status: rec.status,
        flags: rec.flags.clone(),
        details: rec.details.clone(),
        termination_details: rec.termination.clone(),
        transport_failure: rec.transport_failure.clone(),
        method: rec.method.clone(),
        authority: rec.authority.clone(),
        path: rec.path.clone(),
        upstream_host: rec.upstream_host.clone(),
        listener: place.listener.map(|l| l.name.to_string()),
        filter_chain: place.chain.map(chain_name),
        route_config: place.rc.map(|rc| rc.name.to_string()),
        virtual_host: place.vh.map(|v| v.name.clone()),
        route: place
            .route
            .map(|r| r.name.clone().unwrap_or_else(|| r.matcher.clone())),
        cluster: place.cluster_name.clone(),
        policy: None,
        providers: Vec::new(),
        expected_sans: Vec::new(),
        presented_sans: Vec::new(),
        trusted_roots: Vec::new(),
        rule: RuleId::LogCannotTell,
        level: Level::Error,
        explanation: String::new(),
        evidence: Vec::new(),
        failed: failed(rec),
    };
    for p in [
        place.listener.map(|l| l.pointer.as_str()),
        place.chain.map(|c| c.pointer.as_str()),
        place.rc.map(|r| r.pointer.as_str()),
        place.cluster.map(|c| c.pointer.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        if !p.is_empty() && !e.evidence.iter().any(|x| x == p) {
            e.evidence.push(p.into());
        }
    }
    let (rule, text) = cause(report, rec, &place, &mut e);
    e.rule = rule;
    e.level = rule.level();
    e.explanation = text;
    let why = place.unplaced.join("; ");
    let quiet = [RuleId::LogOk, RuleId::LogNoFilterChain].contains(&e.rule);
    if !why.is_empty() && !quiet && !e.explanation.contains(&why) {
        e.explanation.push_str(&format!(" ({why})"));
    }
    e
}

pub(super) fn has(rec: &Record, f: ResponseFlag) -> bool {
    rec.flags.contains(&f)
}

/// The text between `prefix` and the closing bracket or brace of a details string.
fn inside<'a>(details: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = details.strip_prefix(prefix)?;
    Some(
        rest.strip_suffix(']')
            .or_else(|| rest.strip_suffix('}'))
            .unwrap_or(rest),
    )
}

/// The cause and its explanation.
fn cause(r: &Report, rec: &Record, p: &Place, e: &mut Explained) -> (RuleId, String) {
    use ResponseFlag::*;
    let details = rec.details.as_deref().unwrap_or("");
    let cluster_name = e
        .cluster
        .clone()
        .unwrap_or_else(|| "(not named by the line)".into());
    // A name the dump lacks means the line was written under another configuration; the
    // cluster of an NC line is missing by definition.
    let missing: Vec<&String> = p
        .missing
        .iter()
        .filter(|m| !(has(rec, NoClusterFound) && m.starts_with("cluster ")))
        .collect();
    if !missing.is_empty() && failed(rec) {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return (
            RuleId::LogOtherVersion,
            format!(
                "the line names {} that the dump does not have: it was written under another configuration version (compare the dump's version_info with the time of the line); flags {}",
                names.join(" and "),
                flags_text(rec)
            ),
        );
    }
    if !failed(rec) {
        return (
            RuleId::LogOk,
            match rec.status {
                Some(s) if s > 0 => format!("{s}, no response flag"),
                _ if rec.logged.termination => "a connection that ended without a response flag or termination details".into(),
                _ => "a connection that ended without a response flag; the format logs no %CONNECTION_TERMINATION_DETAILS%, so a network filter's denial would not show".into(),
            },
        );
    }
    if details == "filter_chain_not_found" {
        let l = p
            .listener
            .map_or("the listener".into(), |l| format!("listener {}", l.name));
        return (RuleId::LogNoFilterChain, format!(
            "{l} has no filter chain for this connection (destination {}, SNI {}) and no default chain: Envoy closed it",
            rec.downstream_local.as_deref().unwrap_or("not logged"),
            rec.sni.as_deref().unwrap_or("none")
        ));
    }
    if has(rec, NoRouteFound) || details == "route_not_found" {
        let authority = rec.authority.as_deref().unwrap_or("-");
        if rec.status.is_none_or(|s| s == 0) {
            let l = p
                .listener
                .map_or("its listener".into(), |l| format!("listener {}", l.name));
            return (RuleId::LogNoFilterChain, format!(
                "NR without a response: the connection matched no filter chain of {l} and there is no default chain (destination {}, SNI {})",
                rec.downstream_local.as_deref().unwrap_or("not logged"),
                rec.sni.as_deref().unwrap_or("none")
            ));
        }
        if p.chain.is_none() {
            if let Some(answer) = nr_unplaced(r, rec, e) {
                return answer;
            }
        }
        let Some(rc) = p.rc else {
            return (RuleId::LogCannotTell, format!(
                "404 NR: no route for {} {} with Host {authority}; cannot tell whether the Host had no virtual host or the path no route: the route configuration is not known ({})",
                rec.method.as_deref().unwrap_or("-"),
                rec.path.as_deref().unwrap_or("-"),
                place_why(p)
            ));
        };
        let Some(vh) = p.vh else {
            let mut domains: Vec<&str> = rc
                .virtual_hosts
                .iter()
                .flat_map(|v| v.domains.iter().map(String::as_str))
                .collect();
            domains.sort();
            domains.dedup();
            let shown: Vec<&str> = domains.iter().take(8).copied().collect();
            let more = domains.len().saturating_sub(shown.len());
            return (RuleId::LogNoVirtualHost, format!(
                "no virtual host of route configuration {} has a domain for Host {authority} (domains: {}{}): add the host to a VirtualService/HTTPRoute, or call a host the proxy knows",
                rc.name,
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ));
        };
        let matchers: Vec<String> = vh.routes.iter().map(|r| r.matcher.clone()).collect();
        return (RuleId::LogNoRoute, format!(
            "virtual host {} takes Host {authority} but none of its routes matches {} {} (routes: {}): add a route for the path, or fix the request",
            vh.name,
            rec.method.as_deref().unwrap_or("-"),
            rec.path.as_deref().unwrap_or("-"),
            if matchers.is_empty() { "none".into() } else { matchers.join(", ") }
        ));
    }
    if has(rec, NoClusterFound) || details == "cluster_not_found" {
        return (RuleId::LogClusterNotFound, format!(
            "the route sends to cluster {cluster_name}, which the proxy does not have: create what the cluster comes from (a Service port, a DestinationRule subset, a ServiceEntry) or fix the route"
        ));
    }
    if has(rec, NoHealthyUpstream) {
        return (
            RuleId::LogNoHealthyUpstream,
            no_healthy(r, p, &cluster_name, e),
        );
    }
    if has(rec, UpstreamOverflow) {
        return (
            RuleId::LogUpstreamOverflow,
            overflow(p, &cluster_name, details),
        );
    }
    if has(rec, UpstreamConnectionFailure) && !rec.logged.transport_failure {
        return (RuleId::LogCannotTell, format!(
            "UF: the connection to the upstream{} of cluster {cluster_name} failed; cannot tell a refused or unreachable host from a failed TLS handshake: the format logs no %UPSTREAM_TRANSPORT_FAILURE_REASON%",
            rec.upstream_host.as_deref().map_or(String::new(), |h| format!(" {h}"))
        ));
    }
    if has(rec, UpstreamConnectionFailure)
        || (has(rec, UpstreamRetryLimitExceeded) && rec.transport_failure.is_some())
    {
        return upstream_failure(r, rec, p, &cluster_name, e);
    }
    if has(rec, UpstreamRequestTimeout) {
        return (RuleId::LogUpstreamTimeout, timeout(p, &cluster_name));
    }
    if let Some(policy) = inside(details, "rbac_access_denied_matched_policy[").or_else(|| {
        rec.termination
            .as_deref()
            .and_then(|t| inside(t, "rbac_access_denied_matched_policy["))
    }) {
        return rbac(rec, p, policy, e);
    }
    if let Some(reason) = inside(details, "jwt_authn_access_denied{") {
        return jwt(p, reason, e);
    }
    if has(rec, UnauthorizedExternalService) || details.starts_with("ext_authz") {
        let error = details.contains("error") || rec.status.is_some_and(|s| s >= 500);
        let server = ext_authz_server(p);
        return if error {
            (RuleId::LogExtAuthzError, format!("the ext_authz server{server} could not be reached or answered an error ({details}), and the filter does not fail open: check the authorization service and its cluster"))
        } else {
            (RuleId::LogExtAuthzDenied, format!("the external authorization server{server} denied the request ({details}): its own logs say which rule"))
        };
    }
    if has(rec, RateLimited) || has(rec, RateLimitServiceError) {
        return (
            RuleId::LogRateLimited,
            format!(
                "a rate limit refused the request ({}): {}",
                flags_text(rec),
                if has(rec, RateLimitServiceError) {
                    "the rate limit service failed and the filter denies on failure"
                } else {
                    "the request was over its limit"
                }
            ),
        );
    }
    if has(rec, FaultInjected) {
        return (RuleId::LogFaultInjected, format!("a fault filter aborted the request with {} on purpose (a VirtualService fault or an HTTP fault filter): remove the fault to stop it", rec.status.map_or("-".into(), |s| s.to_string())));
    }
    if has(rec, DownstreamProtocolError) || has(rec, InvalidEnvoyRequestHeaders) {
        return (
            RuleId::LogDownstreamProtocolError,
            format!(
                "the client's request broke the protocol ({}{}): Envoy refused it before routing",
                flags_text(rec),
                if details.is_empty() {
                    String::new()
                } else {
                    format!(", {details}")
                }
            ),
        );
    }
    if has(rec, UpstreamProtocolError) {
        return (RuleId::LogUpstreamProtocolError, format!("the upstream of cluster {cluster_name} broke the protocol ({details}): check what it speaks against the cluster's protocol options"));
    }
    if has(rec, StreamIdleTimeout)
        || has(rec, DurationTimeout)
        || has(rec, UpstreamMaxStreamDurationReached)
    {
        // A connection manager without a router answers nothing: the idle timeout is the only
        // end a request gets (Envoy 1.40, measured). Said when the chain is known to be one, or
        // when every HTTP chain of the proxy is.
        let http_chains = || {
            r.listeners
                .iter()
                .flat_map(|l| &l.filter_chains)
                .filter(|c| {
                    c.destinations.iter().any(|d| {
                        matches!(
                            d,
                            crate::model::Destination::Route { .. }
                                | crate::model::Destination::InlineRoute { .. }
                        )
                    })
                })
        };
        let no_router = match p.chain {
            Some(c) => c.no_router.is_some(),
            None => http_chains().next().is_some() && http_chains().all(|c| c.no_router.is_some()),
        };
        if no_router && has(rec, StreamIdleTimeout) {
            return (RuleId::LogStreamTimeout, format!("the stream ran out of time ({}) because the HTTP connection manager has no router (no HTTP filter): Envoy answers no request until its stream idle timeout fires (rule no-router); add envoy.filters.http.router", flags_text(rec)));
        }
        return (RuleId::LogStreamTimeout, format!("the stream ran out of time ({}): an idle timeout, max_stream_duration or max_connection_duration of the connection manager or route", flags_text(rec)));
    }
    if has(rec, UpstreamRemoteReset)
        || has(rec, UpstreamConnectionTermination)
        || has(rec, LocalReset)
        || has(rec, UpstreamRetryLimitExceeded)
    {
        return (RuleId::LogUpstreamReset, format!("the upstream connection of cluster {cluster_name} was reset or closed before the response completed ({}{}): check the upstream's logs and its connection limits", flags_text(rec), if details.is_empty() { String::new() } else { format!(", {details}") }));
    }
    if has(rec, DownstreamConnectionTermination) {
        return (RuleId::LogDownstreamReset, "the client closed the connection before the response was complete: look at the client's timeout, not at the proxy".into());
    }
    if has(rec, OverloadManager) || has(rec, DropOverload) {
        return (RuleId::LogOverload, format!("Envoy shed the request under load ({}): the overload manager or the cluster's drop_overloads", flags_text(rec)));
    }
    if has(rec, DnsResolutionFailed) {
        return (
            RuleId::LogDnsFailure,
            format!("DNS resolution failed for the host of cluster {cluster_name}"),
        );
    }
    if let Some(f) = rec.flags.iter().find(|f| f.is_failure()) {
        return (RuleId::LogCannotTell, format!("cannot tell more: flag {} ({}) is not one envinspect explains from the configuration", f.short(), f.long()));
    }
    if details == "via_upstream" || (details.is_empty() && rec.upstream_host.is_some()) {
        return (RuleId::LogUpstreamStatus, format!(
            "the upstream {} of cluster {cluster_name} answered {} itself: Envoy passed it on; look at the application, not the proxy",
            rec.upstream_host.as_deref().unwrap_or("host"),
            rec.status.map_or("-".into(), |s| s.to_string())
        ));
    }
    if details == "direct_response" {
        return (
            RuleId::LogLocalReply,
            format!(
                "the route answers {} itself (direct_response)",
                rec.status.map_or("-".into(), |s| s.to_string())
            ),
        );
    }
    (
        RuleId::LogCannotTell,
        format!(
            "cannot tell why: status {} with {} and no response flag",
            rec.status.map_or("-".into(), |s| s.to_string()),
            match (details.is_empty(), rec.logged.details) {
                (false, _) => format!("details {details}"),
                (true, true) => "no response code details".to_string(),
                (true, false) =>
                    "no response code details (the format does not log %RESPONSE_CODE_DETAILS%)"
                        .to_string(),
            },
        ),
    )
}

/// NR on a line whose listener is not known: the route configurations under which Envoy would
/// answer NR for this request (no virtual host for the Host, or no route in it), the others
/// ruled out; the cause when they all agree.
fn nr_unplaced(r: &Report, rec: &Record, e: &mut Explained) -> Option<(RuleId, String)> {
    let authority = rec.authority.as_deref()?;
    let req = HttpRequest {
        method: rec.method.clone().unwrap_or_else(|| "GET".into()),
        path: rec.path.clone().unwrap_or_else(|| "/".into()),
        authority: authority.to_string(),
        headers: Default::default(),
    };
    let all = route_configs(r);
    let mut no_host = Vec::new();
    let mut no_route = Vec::new();
    for rc in &all {
        match crate::authz::route::virtual_host(rc, authority) {
            None => no_host.push(*rc),
            Some((_, vh)) => match crate::authz::route::route(vh, &req) {
                Ok(None) => no_route.push((*rc, vh)),
                Ok(Some(_)) => {}
                // A match on a header the log does not carry: this one cannot be ruled out.
                Err(_) => return None,
            },
        }
    }
    match (no_host.as_slice(), no_route.as_slice()) {
        (hosts, []) if !hosts.is_empty() => {
            let names: Vec<String> = hosts.iter().map(|rc| rc.name.to_string()).collect();
            if let [one] = hosts {
                e.route_config = Some(one.name.to_string());
            }
            let which = if hosts.len() == all.len() {
                "no route configuration of the dump".to_string()
            } else {
                format!(
                    "no route configuration that would answer NR ({})",
                    names.join(", ")
                )
            };
            Some((RuleId::LogNoVirtualHost, format!(
                "{which} has a virtual host for Host {authority}: add the host to a VirtualService/HTTPRoute, or call a host the proxy knows (the line has no %DOWNSTREAM_LOCAL_ADDRESS%; the others route the request)"
            )))
        }
        ([], [(rc, vh)]) => {
            e.route_config = Some(rc.name.to_string());
            e.virtual_host = Some(vh.name.clone());
            let matchers: Vec<String> = vh.routes.iter().map(|r| r.matcher.clone()).collect();
            Some((RuleId::LogNoRoute, format!(
                "virtual host {} of route configuration {} takes Host {authority} but none of its routes matches {} {} (routes: {}): add a route for the path, or fix the request (the only route configuration that would answer NR; the line has no %DOWNSTREAM_LOCAL_ADDRESS%)",
                vh.name, rc.name, req.method, req.path,
                if matchers.is_empty() { "none".into() } else { matchers.join(", ") }
            )))
        }
        (hosts, routes) if !hosts.is_empty() && !routes.is_empty() => {
            let h: Vec<String> = hosts.iter().map(|rc| rc.name.to_string()).collect();
            let v: Vec<String> = routes
                .iter()
                .map(|(rc, vh)| format!("{}/{}", rc.name, vh.name))
                .collect();
            Some((RuleId::LogCannotTell, format!(
                "404 NR for {} {} with Host {authority}; cannot tell whether the Host had no virtual host (as under {}) or the path no route (as in {}): the line has no %DOWNSTREAM_LOCAL_ADDRESS% to say which listener took it",
                req.method, req.path, h.join(", "), v.join(", ")
            )))
        }
        _ => None,
    }
}

fn flags_text(rec: &Record) -> String {
    if rec.flags.is_empty() {
        "-".into()
    } else {
        rec.flags
            .iter()
            .map(|f| f.short())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn place_why(p: &Place) -> String {
    if p.unplaced.is_empty() {
        "the chain sends to no route configuration of the dump".into()
    } else {
        p.unplaced.join("; ")
    }
}

fn rbac(rec: &Record, p: &Place, policy: &str, e: &mut Explained) -> (RuleId, String) {
    let network = rec
        .details
        .as_deref()
        .is_none_or(|d| !d.starts_with("rbac_access_denied"));
    let filters = p.chain.map(|c| c.authz.as_slice()).unwrap_or(&[]);
    let rbacs = filters.iter().filter_map(|f| match &f.kind {
        AuthzKind::Rbac(r) => Some((f, r)),
        _ => None,
    });
    // Per-route RBAC (RBACPerRoute on the route, its virtual host or configuration) replaces a
    // filter's engine: its policies may be the ones Envoy named (Envoy Gateway puts them there).
    let per_route: Vec<&crate::model::authz::Rbac> = [
        p.route.map(|r| &r.per_filter),
        p.vh.map(|v| &v.per_filter),
        p.rc.map(|r| &r.per_filter),
    ]
    .into_iter()
    .flatten()
    .flat_map(|m| m.values())
    .filter_map(|a| match a {
        crate::model::authz::PerRouteAuthz::Rbac { rbac: Some(r) } => Some(r.as_ref()),
        _ => None,
    })
    .collect();
    let mut owner = None;
    let mut allow_filters = Vec::new();
    // A matcher-form engine names its actions, not policies: it could be the one that decided.
    let mut matcher = false;
    for (f, r) in rbacs {
        match &r.rules {
            Some(RbacEngine::Policies { action, policies }) => {
                if policies.iter().any(|x| x.name == policy) {
                    owner = Some((f, *action));
                }
                if *action == RbacAction::Allow {
                    allow_filters.push((f, policies.len()));
                }
            }
            Some(RbacEngine::Matcher { .. }) => matcher = true,
            None => {}
        }
    }
    let mut per_route_has = false;
    for r in per_route {
        match &r.rules {
            Some(RbacEngine::Policies { action, policies }) => {
                per_route_has |= policies.iter().any(|x| x.name == policy)
                    || (policy == "none" && *action == RbacAction::Allow);
            }
            Some(RbacEngine::Matcher { .. }) => matcher = true,
            None => {}
        }
    }
    // The chain is known and nothing in it could have said this: another configuration.
    let absent = p.chain.is_some()
        && !matcher
        && !per_route_has
        && if policy == "none" {
            allow_filters.is_empty()
        } else {
            owner.is_none()
        };
    if absent {
        let what = if policy == "none" {
            "an RBAC ALLOW filter that matched nothing".to_string()
        } else {
            format!("RBAC policy {policy}")
        };
        return (RuleId::LogOtherVersion, format!(
            "the line names {what}, and the chain it came through ({} of listener {}) has no such RBAC policy or filter: it was written under another configuration version",
            p.chain.map(chain_name).unwrap_or_default(),
            p.listener.map_or(String::new(), |l| l.name.to_string())
        ));
    }
    let istio = crate::authz::istio::policy_ref(policy);
    if policy != "none" {
        e.policy = Some(policy.to_string());
        if let Some((f, _)) = owner {
            e.evidence.push(f.pointer.clone());
        }
    }
    let named = istio
        .as_ref()
        .map_or(String::new(), |i| format!(" (AuthorizationPolicy {i})"));
    if network {
        let who = if policy == "none" {
            "no ALLOW policy matched the connection".to_string()
        } else {
            format!("policy {policy}{named} denied it")
        };
        return (RuleId::LogRbacNetworkDenied, format!("a network RBAC filter closed the connection: {who}; the caller's identity or address is what it matched on"));
    }
    if policy == "none" {
        if let Some((f, n)) = allow_filters.first() {
            e.evidence.push(f.pointer.clone());
            return (RuleId::LogRbacNoAllow, format!("the RBAC ALLOW filter {} has {n} policies and none matched the request: add an ALLOW rule for this caller and request, or call with an identity the policies name", f.name));
        }
        return (RuleId::LogRbacNoAllow, "an RBAC ALLOW filter matched none of its policies for the request (the filter is not in the chain envinspect placed the line on)".into());
    }
    match owner {
        Some((f, RbacAction::Deny)) => (RuleId::LogRbacDeniedPolicy, format!("DENY policy {policy}{named} of RBAC filter {} matched the request: change the policy or the request", f.name)),
        Some((f, _)) => (RuleId::LogRbacDeniedPolicy, format!("policy {policy}{named} of RBAC filter {} decided the denial", f.name)),
        None => (RuleId::LogRbacDeniedPolicy, format!("policy {policy}{named} denied the request; it is not in the chain envinspect placed the line on")),
    }
}

fn jwt(p: &Place, reason: &str, e: &mut Explained) -> (RuleId, String) {
    for f in p.chain.map(|c| c.authz.as_slice()).unwrap_or(&[]) {
        if let AuthzKind::JwtAuthn(j) = &f.kind {
            e.providers.extend(j.providers.keys().cloned());
            e.evidence.push(f.pointer.clone());
        }
    }
    let providers = if e.providers.is_empty() {
        String::new()
    } else {
        format!(" (providers: {})", e.providers.join(", "))
    };
    if reason == "Jwt_is_missing" {
        return (RuleId::LogJwtMissing, format!("the request carried no JWT and the jwt_authn filter requires one{providers}: send a token, or allow_missing for this path"));
    }
    (
        RuleId::LogJwtInvalid,
        format!(
            "the request's JWT was refused by the jwt_authn filter: {}{providers}",
            reason.replace('_', " ")
        ),
    )
}

fn ext_authz_server(p: &Place) -> String {
    for f in p.chain.map(|c| c.authz.as_slice()).unwrap_or(&[]) {
        if let AuthzKind::ExtAuthz(_) = &f.kind {
            return format!(" of filter {}", f.name);
        }
    }
    String::new()
}
