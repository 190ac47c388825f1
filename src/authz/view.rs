//! The authorization view: per listener and filter chain, the layers in the order Envoy runs
//! them with their policies in short (who / what / when), dry-run policies marked, the routes
//! whose configuration overrides a filter, and the report's one line per port.

use super::istio;
use crate::model::authz::{
    AuthzFilter, AuthzKind, FieldMatcher, Jwks, OnMatch, PerRouteAuthz, PerRouteJwt, Rbac,
    RbacAction, RbacEngine,
};
use crate::model::decision::{
    AuthzView, ChainAuthz, JwtProviderView, LayerKind, LayerView, MeshAction, PolicyView,
    PortSummary, RouteAuthz, ShadowRole,
};
use crate::model::{Listener, Report, Socket};

/// What may refuse a request on each inbound chain (every port, or `port`): the layers in the
/// order Envoy runs them, their policies and JWT providers.
pub fn view(r: &Report, port: Option<u32>) -> AuthzView {
    let mut chains = Vec::new();
    for l in &r.listeners {
        let inbound = l.name == "virtualInbound";
        for (i, ch) in l.filter_chains.iter().enumerate() {
            if ch.authz.is_empty() && !inbound {
                continue;
            }
            let p = ch
                .matcher
                .destination_port
                .or(if inbound { None } else { l.port });
            if port.is_some() && p.is_some() && p != port {
                continue;
            }
            if port.is_some() && p.is_none() && !inbound {
                continue;
            }
            chains.push(ChainAuthz {
                listener: l.name.clone(),
                port: p,
                chain: ch.name.clone().unwrap_or_else(|| format!("#{i}")),
                transport: transport(&ch.tls),
                mtls: mtls(r, l, p),
                layers: ch.authz.iter().map(layer).collect(),
                pointer: ch.pointer.clone(),
            });
        }
    }
    AuthzView {
        source: r.source.clone(),
        chains,
        routes: routes(r),
        kubelet_probes: r
            .node
            .as_ref()
            .and_then(|n| n.interception.as_ref())
            .map(|i| i.kubelet_probes()),
    }
}

fn transport(s: &Socket) -> String {
    match s {
        Socket::Tls(ctx) if ctx.require_client_certificate == Some(true) => "mtls".into(),
        Socket::Tls(_) => "tls".into(),
        Socket::Plaintext { .. } => "plaintext".into(),
        Socket::Other { name, .. } => name.clone(),
    }
}

fn mtls(r: &Report, l: &Listener, port: Option<u32>) -> Option<crate::model::MtlsMode> {
    if l.name != "virtualInbound" {
        return None;
    }
    r.inbound
        .iter()
        .find(|p| p.port == port)
        .or_else(|| r.inbound.iter().find(|p| p.port.is_none()))
        .map(|p| p.mode)
}

fn layer(f: &AuthzFilter) -> LayerView {
    let (kind, action, summary, policies) = match &f.kind {
        AuthzKind::Rbac(r) => {
            let (action, summary) = rbac_summary(r);
            (LayerKind::Rbac, action, summary, rbac_policies(r))
        }
        AuthzKind::JwtAuthn(j) => {
            let providers: Vec<String> = j
                .providers
                .iter()
                .map(|(n, p)| {
                    let keys = match &p.jwks {
                        Jwks::Inline {
                            keys,
                            problem: None,
                        } => format!("inline JWKS, {} key(s)", keys.len()),
                        Jwks::Inline {
                            problem: Some(e), ..
                        } => format!("inline JWKS unreadable: {e}"),
                        Jwks::Remote { uri, cluster } => format!("remote JWKS {uri} via {cluster}"),
                        Jwks::Local { source } => format!("JWKS from {source}"),
                        Jwks::None => "no JWKS".into(),
                    };
                    let aud = if p.audiences.is_empty() {
                        "any audience".into()
                    } else {
                        format!("audiences {}", p.audiences.join(","))
                    };
                    format!("{n} (issuer {}, {aud}, {keys})", p.issuer)
                })
                .collect();
            let rules: Vec<String> = j
                .rules
                .iter()
                .map(|r| match &r.requires {
                    Some(req) => format!("{} requires {req}", r.matcher.path),
                    None => format!("{} requires nothing", r.matcher.path),
                })
                .collect();
            let summary = format!(
                "providers: {}; rules: {}",
                providers.join("; "),
                if rules.is_empty() {
                    "none (no request is checked)".into()
                } else {
                    rules.join("; ")
                }
            );
            (LayerKind::JwtAuthn, None, summary, Vec::new())
        }
        AuthzKind::ExtAuthz(e) => {
            let mut s = format!(
                "asks {}; {}",
                e.server,
                if e.failure_mode_allow {
                    "fails open"
                } else {
                    "fails closed"
                }
            );
            if let Some(m) = &e.filter_enabled_metadata {
                s.push_str(&format!("; only where {m}"));
            }
            if e.shadow_mode {
                s.push_str("; shadow mode (not enforced)");
            }
            (LayerKind::ExtAuthz, None, s, Vec::new())
        }
        AuthzKind::Opaque(o) => (
            LayerKind::Opaque,
            None,
            format!("{}: {}; may refuse, not evaluated", o.type_name, o.may),
            Vec::new(),
        ),
    };
    LayerView {
        filter: f.name.clone(),
        kind,
        level: f.level,
        action,
        summary: if f.disabled {
            format!("disabled unless a route enables it; {summary}")
        } else {
            summary
        },
        policies,
        providers: match &f.kind {
            AuthzKind::JwtAuthn(j) => j
                .providers
                .iter()
                .map(|(name, p)| JwtProviderView {
                    name: name.clone(),
                    issuer: p.issuer.clone(),
                    audiences: p.audiences.clone(),
                    jwks: p.jwks.clone(),
                    from_headers: p.locations.headers.clone(),
                    from_params: p.locations.params.clone(),
                    from_cookies: p.locations.cookies.clone(),
                    forward: p.forward,
                    claim_to_headers: p.claim_to_headers.clone(),
                    payload_in_metadata: Some(p.payload_in_metadata.clone())
                        .filter(|m| !m.is_empty()),
                })
                .collect(),
            _ => Vec::new(),
        },
        pointer: f.pointer.clone(),
    }
}

pub(crate) fn rbac_summary(r: &Rbac) -> (Option<RbacAction>, String) {
    let shadow = match &r.shadow {
        Some(RbacEngine::Policies { policies, action }) => {
            let what = shadow_role(r);
            format!(
                "; {what} {action}: {} polic{}, not enforced",
                policies.len(),
                if policies.len() == 1 { "y" } else { "ies" }
            )
        }
        Some(RbacEngine::Matcher { .. }) => "; shadow matcher, not enforced".into(),
        None => String::new(),
    };
    match &r.rules {
        None => (None, format!("enforces nothing{shadow}")),
        Some(RbacEngine::Policies { action, policies })
            if policies.is_empty() && *action == RbacAction::Allow =>
        {
            (
                Some(*action),
                format!("ALLOW with no policies: denies every request{shadow}"),
            )
        }
        Some(RbacEngine::Policies { action, policies }) => (
            Some(*action),
            format!(
                "{action}: {} polic{}{shadow}",
                policies.len(),
                if policies.len() == 1 { "y" } else { "ies" }
            ),
        ),
        Some(RbacEngine::Matcher { matcher }) => {
            let otherwise = match &matcher.on_no_match {
                Some(OnMatch::Action { action, name, .. }) => {
                    format!("otherwise {action} (policy {name})")
                }
                Some(_) => "otherwise a nested matcher".into(),
                None => "otherwise DENY".into(),
            };
            (
                None,
                format!(
                    "matcher: {} entr{}, {otherwise}{shadow}",
                    matcher.matchers.len(),
                    if matcher.matchers.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                ),
            )
        }
    }
}

fn rbac_policies(r: &Rbac) -> Vec<PolicyView> {
    let mut out = engine_policies(r.rules.as_ref(), None);
    out.extend(engine_policies(r.shadow.as_ref(), Some(shadow_role(r))));
    out
}

fn shadow_role(r: &Rbac) -> ShadowRole {
    let all_custom = match &r.shadow {
        Some(RbacEngine::Policies { policies, .. }) => {
            !policies.is_empty()
                && policies
                    .iter()
                    .all(|p| istio::is_ext_authz_selector(&p.name))
        }
        _ => false,
    };
    if istio::is_dry_run_prefix(&r.shadow_rules_stat_prefix) {
        ShadowRole::DryRun
    } else if all_custom {
        ShadowRole::CustomSelector
    } else {
        ShadowRole::Shadow
    }
}

fn engine_policies(e: Option<&RbacEngine>, shadow: Option<ShadowRole>) -> Vec<PolicyView> {
    let enforced = shadow.is_none();
    match e {
        None => Vec::new(),
        Some(RbacEngine::Policies { action, policies }) => policies
            .iter()
            .map(|p| {
                let istio = istio::parse(&p.name);
                // What the AuthorizationPolicy said, read back from how Istio compiles it.
                let mesh_action = istio.as_ref().map(|_| match (shadow, action) {
                    (Some(ShadowRole::CustomSelector), _) => MeshAction::Custom,
                    (_, RbacAction::Log) => MeshAction::Audit,
                    (_, RbacAction::Deny) => MeshAction::Deny,
                    (_, RbacAction::Allow) => MeshAction::Allow,
                });
                PolicyView {
                    name: p.name.clone(),
                    action: *action,
                    enforced,
                    shadow,
                    authorization_policy: istio.as_ref().map(|i| i.reference()),
                    mesh_action,
                    rule: istio.and_then(|i| i.rule),
                    who: p.principals.iter().map(istio::who).collect(),
                    what: p.permissions.iter().map(istio::what).collect(),
                    when: p.condition.iter().cloned().collect(),
                }
            })
            .collect(),
        Some(RbacEngine::Matcher { matcher }) => matcher
            .matchers
            .iter()
            .filter_map(|f: &FieldMatcher| match &f.on_match {
                OnMatch::Action {
                    name,
                    action,
                    entry,
                } => Some(PolicyView {
                    name: name.clone(),
                    action: *action,
                    enforced,
                    shadow,
                    authorization_policy: None,
                    mesh_action: None,
                    rule: None,
                    who: vec![predicate_text(&f.predicate)],
                    what: vec![format!("matcher entry {entry}")],
                    when: Vec::new(),
                }),
                _ => None,
            })
            .collect(),
    }
}

fn predicate_text(p: &crate::model::authz::Predicate) -> String {
    use crate::model::authz::{InputMatch, Predicate};
    match p {
        Predicate::Single { input, matcher } => {
            let m = match matcher {
                InputMatch::String(s) => s.to_string(),
                InputMatch::Ip(r) => format!(
                    "in {}",
                    r.iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                InputMatch::Unsupported(t) => format!("({t})"),
            };
            format!("{input} {m}")
        }
        Predicate::And { predicates } => format!(
            "({})",
            predicates
                .iter()
                .map(predicate_text)
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Predicate::Or { predicates } => format!(
            "({})",
            predicates
                .iter()
                .map(predicate_text)
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Predicate::Not { predicate } => format!("not {}", predicate_text(predicate)),
    }
}

fn per_route_summary(p: &PerRouteAuthz) -> (String, Vec<PolicyView>) {
    match p {
        PerRouteAuthz::Rbac { rbac: None } => ("RBAC off for this route".into(), Vec::new()),
        PerRouteAuthz::Rbac { rbac: Some(r) } => {
            let (_, s) = rbac_summary(r);
            (
                format!("replaces the filter's policies: {s}"),
                rbac_policies(r),
            )
        }
        PerRouteAuthz::Jwt {
            requirement: PerRouteJwt::Disabled,
        } => ("JWT not checked for this route".into(), Vec::new()),
        PerRouteAuthz::Jwt {
            requirement: PerRouteJwt::RequirementName(n),
        } => (format!("JWT requirement {n}"), Vec::new()),
        PerRouteAuthz::ExtAuthz { disabled: true } => {
            ("ext_authz off for this route".into(), Vec::new())
        }
        PerRouteAuthz::ExtAuthz { disabled: false } => {
            ("ext_authz check settings for this route".into(), Vec::new())
        }
        PerRouteAuthz::FilterConfig { disabled } => (
            if *disabled {
                "filter disabled for this route"
            } else {
                "filter enabled for this route"
            }
            .into(),
            Vec::new(),
        ),
    }
}

fn routes(r: &Report) -> Vec<RouteAuthz> {
    let mut out = Vec::new();
    let mut add = |rc: &crate::model::RouteConfig,
                   vh: &str,
                   route: Option<String>,
                   map: &std::collections::BTreeMap<String, PerRouteAuthz>| {
        for (filter, p) in map {
            let (summary, policies) = per_route_summary(p);
            out.push(RouteAuthz {
                route_config: rc.name.clone(),
                virtual_host: vh.into(),
                route: route.clone(),
                filter: filter.clone(),
                summary,
                policies,
                pointer: rc.pointer.clone(),
            });
        }
    };
    for rc in &r.routes {
        add(rc, "", None, &rc.per_filter);
        for vh in &rc.virtual_hosts {
            add(rc, &vh.name, None, &vh.per_filter);
            for rt in &vh.routes {
                let name = rt.name.clone().unwrap_or_else(|| rt.matcher.clone());
                add(rc, &vh.name, Some(name.clone()), &rt.per_filter);
                for (cluster, m) in &rt.cluster_per_filter {
                    add(rc, &vh.name, Some(format!("{name} → {cluster}")), m);
                }
            }
        }
    }
    out
}

/// One line per port that has authorization layers, for the report.
pub fn summaries(r: &Report) -> Vec<PortSummary> {
    let v = view(r, None);
    let mut out: Vec<PortSummary> = Vec::new();
    for c in v.chains.iter().filter(|c| !c.layers.is_empty()) {
        let layers: Vec<String> = c
            .layers
            .iter()
            .map(|l| match l.action {
                Some(a) => format!(
                    "{} {a} ({})",
                    l.kind,
                    l.policies.iter().filter(|p| p.enforced).count()
                ),
                // A filter that may refuse, unevaluated: which one.
                None if l.kind == LayerKind::Opaque => {
                    format!("{} (may refuse, not evaluated)", l.filter)
                }
                None => l.kind.to_string(),
            })
            .collect();
        let line = layers.join(", ");
        if let Some(existing) = out
            .iter_mut()
            .find(|s| s.listener == c.listener && s.port == c.port)
        {
            if !existing.summary.split(" | ").any(|s| s == line) {
                existing.summary = format!("{} | {line}", existing.summary);
            }
            continue;
        }
        out.push(PortSummary {
            listener: c.listener.clone(),
            port: c.port,
            summary: line,
        });
    }
    out
}
