//! Rules on authorization: filters that deny everything, JWT requirements that let requests
//! without a token through, principal policies plaintext callers can never meet, principals of
//! trust domains the proxy cannot verify, dry-run policies, ext_authz failing open, remote JWKS
//! clusters that are not there, and Istio's TCP translation of HTTP-only ALLOW rules.

use crate::model::RuleId;
use std::collections::BTreeSet;

use crate::model::authz::{
    AuthzFilter, AuthzKind, FilterLevel, Jwks, JwtRequirement, Policy, Principal, Rbac, RbacAction,
    RbacEngine,
};
use crate::model::cert::SecretKind;
use crate::model::tls::{SanKind, SanMatcher, StringMatch, ValidationSource};
use crate::model::{FilterChain, Finding, Listener, Report, Socket, TrustDomain};

pub(super) fn rules(r: &Report, f: &mut Vec<Finding>) {
    let tds = trust_domains(r);
    let has_clusters = r.counts.clusters.is_some();
    for l in &r.listeners {
        let http_allow = l.filter_chains.iter().any(|c| {
            c.authz.iter().any(|a| {
                a.level == FilterLevel::Http
                    && matches!(&a.kind, AuthzKind::Rbac(Rbac { rules: Some(RbacEngine::Policies { action: RbacAction::Allow, policies }), .. }) if !policies.is_empty())
            })
        });
        for (i, ch) in l.filter_chains.iter().enumerate() {
            let subject = format!(
                "listener {} chain {}",
                l.name,
                ch.name.clone().unwrap_or_else(|| format!("#{i}"))
            );
            for a in &ch.authz {
                match &a.kind {
                    AuthzKind::Rbac(rbac) => {
                        deny_all(&subject, a, rbac, http_allow, f);
                        dry_run(&subject, a, rbac, f);
                        foreign(&subject, a, rbac, &tds, f);
                    }
                    AuthzKind::ExtAuthz(e) if e.failure_mode_allow && !e.shadow_mode => f.push(
                        Finding::new(RuleId::ExtAuthzFailOpen, &subject, format!("{} lets requests through when {} cannot be reached (failure_mode_allow)", a.name, e.server))
                            .at(&a.pointer),
                    ),
                    AuthzKind::JwtAuthn(j) => {
                        for (name, p) in &j.providers {
                            if let Jwks::Remote { uri, cluster } = &p.jwks {
                                if has_clusters && !r.clusters.iter().any(|c| &c.name == cluster) {
                                    f.push(Finding::new(RuleId::JwksClusterMissing, &subject, format!("provider {name} fetches its JWKS ({uri}) through cluster {cluster:?}, which the proxy does not have: every token of {} fails (401 Jwks_remote_fetch_is_failed)", p.issuer)).at(&a.pointer));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            jwt_not_enforced(&subject, ch, f);
            permissive(&subject, l, ch, f);
        }
    }
}

/// Enforced ALLOW engines that can never match: Istio's `spec: {}` or `rules: {}`.
fn never_matches(p: &Policy) -> bool {
    p.permissions.is_empty() || p.principals.is_empty()
}

fn deny_all(subject: &str, a: &AuthzFilter, rbac: &Rbac, http_allow: bool, f: &mut Vec<Finding>) {
    let Some(RbacEngine::Policies {
        action: RbacAction::Allow,
        policies,
    }) = &rbac.rules
    else {
        return;
    };
    if !policies.iter().all(never_matches) {
        return;
    }
    if a.level == FilterLevel::Network && policies.is_empty() && http_allow {
        f.push(Finding::new(RuleId::AuthzTcpDroppedHttpRule, subject, format!("{} is an ALLOW filter with no policies while the listener's HTTP chains have ALLOW policies: Istio drops ALLOW rules with HTTP-only fields (methods, paths, hosts, request principals) on TCP ports, so every TCP connection here is closed", a.name)).at(&a.pointer));
        return;
    }
    let why = if policies.is_empty() {
        "has no policies"
    } else {
        "has only policies that can never match"
    };
    f.push(Finding::new(RuleId::AuthzDenyAll, subject, format!("{} is an ALLOW filter that {why}: every request is denied (rbac_access_denied_matched_policy[none]); an AuthorizationPolicy with `spec: {{}}` does this", a.name)).at(&a.pointer));
}

fn dry_run(subject: &str, a: &AuthzFilter, rbac: &Rbac, f: &mut Vec<Finding>) {
    let Some(RbacEngine::Policies { policies, action }) = &rbac.shadow else {
        return;
    };
    let real: Vec<&str> = policies
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| !n.starts_with("istio-ext-authz"))
        .collect();
    if !real.is_empty() {
        f.push(
            Finding::new(
                RuleId::AuthzDryRun,
                subject,
                format!(
                    "{} evaluates {action} policies in dry-run, not enforced: {}",
                    a.name,
                    real.join(", ")
                ),
            )
            .at(&a.pointer),
        );
    }
}

/// Trust domains the proxy can verify: its own identity's and every SPIFFE bundle's.
fn trust_domains(r: &Report) -> BTreeSet<TrustDomain> {
    let mut tds: BTreeSet<TrustDomain> = r
        .identity
        .iter()
        .filter_map(|i| i.trust_domain.clone())
        .collect();
    for s in r
        .secrets
        .iter()
        .filter(|s| s.kind == SecretKind::Ca || !s.trust_bundles.is_empty())
    {
        tds.extend(s.trust_bundles.iter().map(|b| b.trust_domain.clone()));
    }
    for l in &r.listeners {
        for ch in &l.filter_chains {
            if let Socket::Tls(ctx) = &ch.tls {
                for v in &ctx.validation {
                    if let ValidationSource::SpiffeBundles { trust_domains } = v {
                        tds.extend(trust_domains.iter().cloned());
                    }
                }
            }
        }
    }
    tds
}

fn principal_matchers<'a>(p: &'a Principal, out: &mut Vec<&'a StringMatch>) {
    match p {
        Principal::And(xs) | Principal::Or(xs) => {
            xs.iter().for_each(|x| principal_matchers(x, out))
        }
        Principal::Authenticated(Some(m)) => out.push(m),
        Principal::FilterState { key, value } if key == "io.istio.peer_principal" => {
            out.push(value)
        }
        // `not` principals exclude: a foreign one there admits nobody new.
        _ => {}
    }
}

fn foreign(
    subject: &str,
    a: &AuthzFilter,
    rbac: &Rbac,
    tds: &BTreeSet<TrustDomain>,
    f: &mut Vec<Finding>,
) {
    if tds.is_empty() {
        return;
    }
    let Some(RbacEngine::Policies { policies, .. }) = &rbac.rules else {
        return;
    };
    for p in policies {
        let mut ms = Vec::new();
        p.principals
            .iter()
            .for_each(|x| principal_matchers(x, &mut ms));
        for m in ms {
            let san = SanMatcher {
                san: SanKind::Uri,
                matcher: m.clone(),
            };
            if let Some(Ok(td)) = super::tls::matcher_trust_domain(&san) {
                if !tds.contains(&td) {
                    let have: Vec<String> = tds.iter().map(|t| t.to_string()).collect();
                    f.push(Finding::new(RuleId::PrincipalForeignTrustDomain, subject, format!("policy {} of {} names {} in trust domain {td}, but the proxy verifies only {}: no such peer can present a certificate it accepts", p.name, a.name, m.value, have.join(", "))).at(&a.pointer));
                }
            }
        }
    }
}

/// Whether a requirement lets a request without a token through.
fn allows_missing(r: &JwtRequirement) -> bool {
    match r {
        JwtRequirement::AllowMissing | JwtRequirement::AllowMissingOrFailed => true,
        JwtRequirement::Any(xs) => xs.iter().any(allows_missing),
        JwtRequirement::All(xs) => xs.iter().all(allows_missing),
        _ => false,
    }
}

fn requires_token_claims(p: &Principal) -> bool {
    match p {
        Principal::And(xs) => xs.iter().any(requires_token_claims),
        Principal::Or(xs) => !xs.is_empty() && xs.iter().all(requires_token_claims),
        Principal::Metadata(m) => {
            m.filter == "envoy.filters.http.jwt_authn"
                || (m.filter == "istio_authn"
                    && m.path.iter().any(|k| k.starts_with("request.auth")))
        }
        _ => false,
    }
}

fn jwt_not_enforced(subject: &str, ch: &FilterChain, f: &mut Vec<Finding>) {
    for a in &ch.authz {
        let AuthzKind::JwtAuthn(j) = &a.kind else {
            continue;
        };
        let lax = j
            .rules
            .iter()
            .any(|r| r.requires.as_ref().is_some_and(allows_missing))
            || j.requirement_map.values().any(allows_missing);
        if !lax {
            continue;
        }
        let enforced = ch.authz.iter().any(|b| match &b.kind {
            AuthzKind::Rbac(Rbac {
                rules: Some(RbacEngine::Policies { action, policies }),
                ..
            }) => match action {
                RbacAction::Allow => {
                    !policies.is_empty()
                        && policies
                            .iter()
                            .all(|p| p.principals.iter().all(requires_token_claims))
                }
                RbacAction::Deny => policies.iter().any(|p| {
                    p.principals
                        .iter()
                        .any(|x| matches!(x, Principal::Not(inner) if requires_token_claims(inner)))
                }),
                RbacAction::Log => false,
            },
            _ => false,
        });
        if !enforced {
            f.push(Finding::new(RuleId::JwtNotEnforced, subject, format!("{} lets requests without a token through (allow_missing) and no RBAC policy requires a request principal: a RequestAuthentication alone does not make a token mandatory", a.name)).at(&a.pointer));
        }
    }
}

fn has_peer_principals(ch: &FilterChain) -> bool {
    ch.authz.iter().any(|a| match &a.kind {
        AuthzKind::Rbac(Rbac {
            rules:
                Some(RbacEngine::Policies {
                    action: RbacAction::Allow,
                    policies,
                }),
            ..
        }) => policies.iter().any(|p| {
            let mut ms = Vec::new();
            p.principals
                .iter()
                .for_each(|x| principal_matchers(x, &mut ms));
            !ms.is_empty()
        }),
        _ => false,
    })
}

/// A plaintext chain of a port that also takes TLS (PERMISSIVE), whose ALLOW policies name peers.
fn permissive(subject: &str, l: &Listener, ch: &FilterChain, f: &mut Vec<Finding>) {
    if !matches!(ch.tls, Socket::Plaintext { .. }) || !has_peer_principals(ch) {
        return;
    }
    let port = ch.matcher.destination_port;
    let tls_too = l.filter_chains.iter().any(|c| {
        matches!(c.tls, Socket::Tls(_))
            && c.matcher.destination_port == port
            && has_peer_principals(c)
    });
    if tls_too {
        let on = port
            .map(|p| format!("port {p}"))
            .unwrap_or_else(|| "its ports".into());
        let pointer = ch
            .authz
            .first()
            .map(|a| a.pointer.as_str())
            .unwrap_or(&ch.pointer);
        f.push(Finding::new(RuleId::PrincipalOnPermissivePort, subject, format!("{on} also accepts plaintext (PERMISSIVE), and ALLOW policies here name peer identities: plaintext callers have none, so they never match and are denied; make the port STRICT or allow them explicitly")).at(pointer));
    }
}
