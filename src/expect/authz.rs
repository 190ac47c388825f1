//! The `authz` section of expectations: per listener and port (and per route that overrides a
//! filter), the RBAC policies by their Envoy name with their action, whether they are dry-run,
//! and whom they name. `check` reports a policy added or removed (a DENY gone), an action or
//! enforcement changed, and principals widened or narrowed.

use crate::model::RuleId;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::check::{fail, Results};
use crate::model::decision::{AuthzView, PolicyView, ShadowRole};
use crate::model::Report;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthzExpect {
    /// Policies the expectations do not list are drift unless this is true (the default, as
    /// for every section; `expect` writes false).
    #[serde(default = "super::yes")]
    pub allow_extra: bool,
    /// By `LISTENER/PORT` (`*` for a chain without a port), or `route RC/VHOST/ROUTE`.
    pub ports: BTreeMap<String, BTreeMap<String, PolicyExpect>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PolicyExpect {
    /// `ALLOW`, `DENY` or `LOG`.
    pub action: String,
    /// Evaluated, not enforced (Istio's dry-run).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Whom it names, as `envinspect authz` writes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub who: Vec<String>,
}

fn expect_of(p: &PolicyView) -> PolicyExpect {
    PolicyExpect {
        action: p.action.to_string(),
        dry_run: p.shadow == Some(ShadowRole::DryRun),
        who: p.who.clone(),
    }
}

/// What the proxy's authorization is, by key and policy name.
fn actual(v: &AuthzView) -> BTreeMap<String, BTreeMap<String, PolicyExpect>> {
    let mut out: BTreeMap<String, BTreeMap<String, PolicyExpect>> = BTreeMap::new();
    for c in &v.chains {
        let port = c.port.map(|p| p.to_string()).unwrap_or_else(|| "*".into());
        let key = format!("{}/{port}", c.listener);
        for l in &c.layers {
            for p in &l.policies {
                out.entry(key.clone())
                    .or_default()
                    .entry(p.name.clone())
                    .or_insert_with(|| expect_of(p));
            }
        }
    }
    for r in &v.routes {
        let key = format!(
            "route {}/{}/{}",
            r.route_config,
            r.virtual_host,
            r.route.as_deref().unwrap_or("*")
        );
        for p in &r.policies {
            out.entry(key.clone())
                .or_default()
                .entry(p.name.clone())
                .or_insert_with(|| expect_of(p));
        }
    }
    out
}

pub(super) fn generate(r: &Report) -> Option<AuthzExpect> {
    let ports = actual(&crate::authz::view(r, None));
    (!ports.is_empty()).then_some(AuthzExpect {
        allow_extra: false,
        ports,
    })
}

pub(super) fn check(r: &Report, want: &AuthzExpect, out: &mut Results) {
    let have = actual(&crate::authz::view(r, None));
    let none = BTreeMap::new();
    for (key, policies) in &want.ports {
        let got = have.get(key).unwrap_or(&none);
        for (name, w) in policies {
            let id = format!("authz.ports[{key}].policies[{name}]");
            let subject = format!("authz {key} policy {name}");
            let Some(g) = got.get(name) else {
                let gone = if w.action == "DENY" {
                    " (a DENY gone: what it refused is now let through)"
                } else {
                    ""
                };
                let f = fail(
                    &subject,
                    &w.action,
                    "absent",
                    format!("the policy is not there{gone}"),
                );
                out.push(
                    id,
                    &subject,
                    RuleId::DriftAuthzPolicyMissing,
                    w.action.clone(),
                    vec![f],
                );
                continue;
            };
            let mut failures = Vec::new();
            let state = |p: &PolicyExpect| {
                format!("{}{}", p.action, if p.dry_run { " (dry-run)" } else { "" })
            };
            if g.action != w.action || g.dry_run != w.dry_run {
                failures.push(fail(
                    &subject,
                    state(w),
                    state(g),
                    "the policy's action or enforcement changed",
                ));
            }
            out.push(
                format!("{id}.action"),
                &subject,
                RuleId::DriftAuthzPolicyChanged,
                state(w),
                failures,
            );
            if !w.who.is_empty() || !g.who.is_empty() {
                let f = (g.who != w.who).then(|| {
                    fail(
                        &subject,
                        w.who.join(" | "),
                        g.who.join(" | "),
                        "the policy names other callers: principals widened or narrowed",
                    )
                });
                out.push(
                    format!("{id}.who"),
                    &subject,
                    RuleId::DriftAuthzPrincipals,
                    w.who.join(" | "),
                    f.into_iter().collect(),
                );
            }
        }
    }
    if !want.allow_extra {
        let failures = have
            .iter()
            .flat_map(|(key, ps)| ps.iter().map(move |(n, p)| (key, n, p)))
            .filter(|(key, n, _)| !want.ports.get(*key).is_some_and(|w| w.contains_key(*n)))
            .map(|(key, n, p)| {
                fail(
                    &format!("authz {key} policy {n}"),
                    "not listed",
                    p.action.clone(),
                    format!(
                        "{key} has {} policy {n}, which the expectations do not list",
                        p.action
                    ),
                )
            })
            .collect();
        out.push(
            "authz.allow_extra".into(),
            "authz",
            RuleId::DriftAuthzPolicyExtra,
            "no other policy".into(),
            failures,
        );
    }
}
