//! The authorization layers on one request, each as Envoy runs it: RBAC (the enforced engine,
//! shadow rules writing their metadata, a route's `RBACPerRoute` replacing the filter's),
//! jwt_authn (`jwt_eval.rs`) and ext_authz (enabled by metadata, decided by its server).

use crate::model::decision::AuthzLayer;
use serde_json::Value;

use super::context::{Context, Tri};
use super::jwt_eval::{self, JwtOutcome};
use super::request::Request;
use super::state::{end, unknown, Chosen, End, Run};
use super::{istio, matchers};
use crate::model::authz::{
    AuthzFilter, AuthzKind, ExtAuthz, PerRouteAuthz, Rbac, RbacAction, RbacEngine,
};
use crate::model::cannot_tell::{CannotTell, Place, Reason};
use crate::model::decision::{Decision, StepOutcome};

pub(super) fn network_filter(f: &AuthzFilter, ctx: &mut Context, run: &mut Run) -> Option<End> {
    match &f.kind {
        AuthzKind::Rbac(rbac) => {
            let conn_ctx = Context {
                http: None,
                ..ctx.clone()
            };
            rbac_filter(
                f,
                rbac,
                &conn_ctx,
                ctx,
                "envoy.filters.network.rbac",
                run,
                false,
            )
        }
        AuthzKind::ExtAuthz(e) => ext_authz(f, e, ctx, run, false),
        AuthzKind::JwtAuthn(_) => None,
        AuthzKind::Opaque(o) => may_deny(f, o, run),
    }
}

/// A filter that may refuse and is not evaluated: noted, and the evaluation goes on (a later
/// refusal stands; an allow past it cannot be told, see `evaluate`).
fn may_deny(f: &AuthzFilter, o: &crate::model::authz::OpaqueFilter, run: &mut Run) -> Option<End> {
    run.step(
        AuthzLayer::Filter,
        &f.name,
        StepOutcome::Unknown,
        format!("{} ({}): may refuse; not evaluated", o.type_name, o.may),
        &f.pointer,
    );
    run.may_deny
        .get_or_insert(crate::model::cannot_tell::Construct::MayDeny(Box::new(
            crate::model::cannot_tell::MayDeny {
                filter: f.name.clone(),
                type_name: o.type_name.clone(),
                may: o.may.clone(),
            },
        )));
    None
}

pub(super) fn http_filter(
    f: &AuthzFilter,
    chosen: &Chosen,
    ctx: &mut Context,
    req: &Request,
    now: u64,
    run: &mut Run,
) -> Option<End> {
    let per = match chosen.per_filter(&f.name) {
        Ok(p) => p,
        Err(u) => return Some(unknown(u)),
    };
    // A filter disabled in the chain runs only where a route enables it, and the reverse.
    match per {
        Some(PerRouteAuthz::FilterConfig { disabled: true }) => {
            run.step(
                kind(f),
                &f.name,
                StepOutcome::Skipped,
                "disabled for this route",
                &f.pointer,
            );
            return None;
        }
        None if f.disabled => {
            run.step(
                kind(f),
                &f.name,
                StepOutcome::Skipped,
                "disabled in the chain and not enabled by the route",
                &f.pointer,
            );
            return None;
        }
        _ => {}
    }
    match &f.kind {
        AuthzKind::Rbac(own) => {
            let rbac = match per {
                Some(PerRouteAuthz::Rbac { rbac: Some(r) }) => {
                    run.assumptions.push(format!(
                        "the route's RBACPerRoute replaces {}'s policies",
                        f.name
                    ));
                    r.as_ref()
                }
                Some(PerRouteAuthz::Rbac { rbac: None }) => {
                    run.step(
                        AuthzLayer::Rbac,
                        &f.name,
                        StepOutcome::Skipped,
                        "the route's RBACPerRoute has no rbac: RBAC is off for it",
                        &f.pointer,
                    );
                    return None;
                }
                _ => own,
            };
            let eval_ctx = ctx.clone();
            rbac_filter(
                f,
                rbac,
                &eval_ctx,
                ctx,
                "envoy.filters.http.rbac",
                run,
                true,
            )
        }
        AuthzKind::JwtAuthn(j) => match jwt_eval::run(f, j, per, ctx, req, now, run) {
            JwtOutcome::Pass => None,
            JwtOutcome::Fail(status) => {
                let decision = if status.http_status() == 403 {
                    Decision::Deny
                } else {
                    Decision::Unauthenticated
                };
                Some(end(
                    decision,
                    Some(status.http_status()),
                    Some(status.details()),
                ))
            }
            JwtOutcome::Unknown(u) => Some(unknown(u)),
        },
        AuthzKind::ExtAuthz(e) => {
            if let Some(PerRouteAuthz::ExtAuthz { disabled: true }) = per {
                run.step(
                    AuthzLayer::ExtAuthz,
                    &f.name,
                    StepOutcome::Skipped,
                    "disabled for this route (ExtAuthzPerRoute)",
                    &f.pointer,
                );
                return None;
            }
            ext_authz(f, e, ctx, run, true)
        }
        AuthzKind::Opaque(o) => may_deny(f, o, run),
    }
}

fn kind(f: &AuthzFilter) -> AuthzLayer {
    match f.kind {
        AuthzKind::Rbac(_) => AuthzLayer::Rbac,
        AuthzKind::JwtAuthn(_) => AuthzLayer::JwtAuthn,
        AuthzKind::ExtAuthz(_) => AuthzLayer::ExtAuthz,
        AuthzKind::Opaque(_) => AuthzLayer::Filter,
    }
}

/// What one engine decides.
enum Verdict {
    Allowed { policy: Option<String> },
    Denied { policy: String, uncertain: bool },
    Unknown(CannotTell),
}

fn engine(e: &RbacEngine, c: &Context) -> Verdict {
    match e {
        RbacEngine::Policies { action, policies } => {
            let mut doubt: Option<CannotTell> = None;
            let mut matched = None;
            for p in policies {
                match matchers::policy(p, c) {
                    Tri::Yes => {
                        matched = Some(p.name.clone());
                        break;
                    }
                    Tri::No => {}
                    Tri::Unknown(u) => {
                        doubt.get_or_insert(u.at(Place::Policy(p.name.clone())));
                    }
                }
            }
            match (action, matched, doubt) {
                (RbacAction::Log, m, _) => Verdict::Allowed { policy: m },
                (RbacAction::Allow, Some(m), _) => Verdict::Allowed { policy: Some(m) },
                (RbacAction::Deny, Some(m), d) => Verdict::Denied {
                    policy: m,
                    uncertain: d.is_some(),
                },
                (_, None, Some(d)) => Verdict::Unknown(d),
                (RbacAction::Allow, None, None) => Verdict::Denied {
                    policy: "none".into(),
                    uncertain: false,
                },
                (RbacAction::Deny, None, None) => Verdict::Allowed { policy: None },
            }
        }
        RbacEngine::Matcher { matcher } => match matchers::action_matcher(matcher, c) {
            matchers::MatcherOutcome::Action { name, action } => match action {
                RbacAction::Deny => Verdict::Denied {
                    policy: name,
                    uncertain: false,
                },
                _ => Verdict::Allowed { policy: Some(name) },
            },
            matchers::MatcherOutcome::NoMatch => Verdict::Denied {
                policy: "none".into(),
                uncertain: false,
            },
            matchers::MatcherOutcome::Unknown(u) => Verdict::Unknown(u),
        },
    }
}

fn action_of(e: &RbacEngine) -> String {
    match e {
        RbacEngine::Policies { action, policies } => {
            let n = policies.len();
            format!(
                "{action} with {n} polic{}",
                if n == 1 { "y" } else { "ies" }
            )
        }
        RbacEngine::Matcher { .. } => "matcher".into(),
    }
}

fn rbac_filter(
    f: &AuthzFilter,
    rbac: &Rbac,
    eval: &Context,
    ctx: &mut Context,
    namespace: &str,
    run: &mut Run,
    http: bool,
) -> Option<End> {
    if let Some(shadow) = &rbac.shadow {
        let (result, id, text) = match engine(shadow, eval) {
            Verdict::Allowed { policy } => (
                "allowed",
                policy.clone(),
                format!(
                    "allowed{}",
                    policy.map(|p| format!(" (policy {p})")).unwrap_or_default()
                ),
            ),
            Verdict::Denied { policy, .. } => (
                "denied",
                Some(policy.clone()).filter(|p| p != "none"),
                format!("denied (policy {policy})"),
            ),
            Verdict::Unknown(u) => ("unknown", None, format!("cannot tell: {u}")),
        };
        let prefix = &rbac.shadow_rules_stat_prefix;
        if result != "unknown" {
            if let Some(id) = &id {
                ctx.set_metadata(
                    namespace,
                    &format!("{prefix}shadow_effective_policy_id"),
                    Value::String(id.clone()),
                );
            }
            ctx.set_metadata(
                namespace,
                &format!("{prefix}shadow_engine_result"),
                Value::String(result.into()),
            );
        }
        let s = run.step(
            AuthzLayer::Rbac,
            &f.name,
            StepOutcome::Observed,
            format!("shadow rules ({}, not enforced): {text}", action_of(shadow)),
            &f.pointer,
        );
        s.authorization_policy = id.as_deref().and_then(istio::policy_ref);
        s.policy = id;
    }
    let Some(rules) = &rbac.rules else {
        run.step(
            AuthzLayer::Rbac,
            &f.name,
            StepOutcome::Skipped,
            "no rules: the filter enforces nothing",
            &f.pointer,
        );
        return None;
    };
    let detail = |p: &str| format!("rbac_access_denied_matched_policy[{p}]");
    match engine(rules, eval) {
        Verdict::Allowed { policy } => {
            let outcome = if matches!(
                rules,
                RbacEngine::Policies {
                    action: RbacAction::Log,
                    ..
                }
            ) {
                StepOutcome::Observed
            } else {
                StepOutcome::Continue
            };
            let text = match &policy {
                Some(p) => format!("{}: policy {p} matches", action_of(rules)),
                None => format!("{}: no policy matches", action_of(rules)),
            };
            let s = run.step(AuthzLayer::Rbac, &f.name, outcome, text, &f.pointer);
            s.authorization_policy = policy.as_deref().and_then(istio::policy_ref);
            s.policy = policy;
            None
        }
        Verdict::Denied { policy, uncertain } => {
            let text = if policy == "none" {
                format!(
                    "{}: no policy matches, so the request is denied",
                    action_of(rules)
                )
            } else {
                format!("{}: policy {policy} matches", action_of(rules))
            };
            let s = run.step(
                AuthzLayer::Rbac,
                &f.name,
                StepOutcome::Denied,
                text,
                &f.pointer,
            );
            s.authorization_policy = istio::policy_ref(&policy);
            s.policy = Some(policy.clone());
            let mut e = if http {
                end(Decision::Deny, Some(403), Some(detail(&policy)))
            } else {
                end(Decision::Deny, None, Some(detail(&policy)))
            };
            if uncertain {
                e.reason = Some(Reason::CannotTell(CannotTell::EarlierPolicy));
                e.response.details = None;
            } else {
                e.policy = Some(policy);
            }
            Some(e)
        }
        Verdict::Unknown(u) => {
            run.step(
                AuthzLayer::Rbac,
                &f.name,
                StepOutcome::Unknown,
                format!("cannot tell: {u}"),
                &f.pointer,
            );
            Some(unknown(u.at(Place::Filter(f.name.clone()))))
        }
    }
}

fn ext_authz(
    f: &AuthzFilter,
    e: &ExtAuthz,
    ctx: &Context,
    run: &mut Run,
    http: bool,
) -> Option<End> {
    if let Some(m) = &e.filter_enabled_metadata {
        if matchers::metadata(m, ctx) == Tri::No {
            run.step(
                AuthzLayer::ExtAuthz,
                &f.name,
                StepOutcome::Skipped,
                format!("not enabled: {m} does not match"),
                &f.pointer,
            );
            return None;
        }
    }
    if e.shadow_mode {
        run.step(
            AuthzLayer::ExtAuthz,
            &f.name,
            StepOutcome::Observed,
            format!(
                "asks {} in shadow mode: its answer is not enforced",
                e.server
            ),
            &f.pointer,
        );
        return None;
    }
    let fail = if e.failure_mode_allow {
        "lets the request through"
    } else {
        "denies it"
    };
    let what = if http { "request" } else { "connection" };
    run.step(
        AuthzLayer::ExtAuthz,
        &f.name,
        StepOutcome::Unknown,
        format!(
            "the {what} goes to {}: its answer decides (unreachable, the filter {fail})",
            e.server
        ),
        &f.pointer,
    );
    Some(unknown(CannotTell::ExternalServer {
        server: e.server.clone(),
    }))
}
