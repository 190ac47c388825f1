//! Who can call whom across a fleet: every identity a proxy presents (or a ztunnel holds for its
//! workloads) against every port another proxy guards with RBAC; and the fleet rule `authz-principal-unknown` (a policy allows a SPIFFE
//! ID no proxy of the fleet presents — often a renamed service account).

use crate::model::RuleId;
use std::collections::BTreeSet;

use crate::authz::reach::can_call;
use crate::model::authz::{Principal, RbacAction, RbacEngine};
use crate::model::bundle::{ProxyKind, ProxyRow, Reach};
use crate::model::tls::MatchKind;
use crate::model::Finding;

fn exact_peers<'a>(p: &'a Principal, out: &mut Vec<&'a str>) {
    match p {
        Principal::And(xs) | Principal::Or(xs) => xs.iter().for_each(|x| exact_peers(x, out)),
        Principal::Authenticated(Some(m))
            if m.how == MatchKind::Exact && m.value.starts_with("spiffe://") =>
        {
            out.push(&m.value)
        }
        Principal::FilterState { key, value }
            if key == "io.istio.peer_principal" && value.how == MatchKind::Exact =>
        {
            out.push(&value.value)
        }
        _ => {}
    }
}

pub(super) fn reachability(proxies: &[ProxyRow], findings: &mut Vec<Finding>) -> Vec<Reach> {
    let envoys: Vec<&ProxyRow> = proxies
        .iter()
        .filter(|p| p.kind == ProxyKind::Envoy)
        .collect();
    // Callers: each Envoy's identity, and those a ztunnel holds for its (ambient) workloads.
    let callers: BTreeSet<String> = envoys
        .iter()
        .filter_map(|p| p.identity.as_ref())
        .chain(
            proxies
                .iter()
                .filter(|p| p.kind == ProxyKind::Ztunnel)
                .flat_map(|p| &p.held),
        )
        .map(|i| i.to_string())
        .collect();
    let mut out = Vec::new();
    for callee in &envoys {
        for g in &callee.fleet.guards {
            for caller in &callers {
                if callee
                    .identity
                    .as_ref()
                    .is_some_and(|i| &i.to_string() == caller)
                {
                    continue;
                }
                let (verdict, because) = can_call(&g.rbac, caller);
                out.push(Reach {
                    callee: callee.proxy.clone(),
                    port: g.port.clone(),
                    caller: caller.clone(),
                    verdict,
                    because,
                });
            }
            if callers.is_empty() {
                continue;
            }
            for (name, rbac) in &g.rbac {
                let Some(RbacEngine::Policies {
                    action: RbacAction::Allow,
                    policies,
                }) = &rbac.rules
                else {
                    continue;
                };
                for p in policies {
                    let mut ids = Vec::new();
                    p.principals.iter().for_each(|x| exact_peers(x, &mut ids));
                    for id in ids.into_iter().filter(|id| !callers.contains(*id)) {
                        findings.push(
                            Finding::new(RuleId::AuthzPrincipalUnknown, format!("{} {}", callee.proxy, g.port), format!("{name} policy {} allows {id}, which no proxy of the bundle presents (a renamed service account, or a caller outside the bundle)", p.name))
                                .at(&format!("{}#{}", callee.file, g.pointer)),
                        );
                    }
                }
            }
        }
    }
    out.sort();
    findings.sort();
    findings.dedup();
    out
}
