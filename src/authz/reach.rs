//! Who can call whom, from the principal alone: can some request from a peer with this identity
//! (over mTLS) get past a port's enforced RBAC filters? ALLOW filters must have a policy whose
//! principals can name it; a DENY policy that names it for any request refuses it. Principals
//! that are not about the peer (request principals, IPs, headers) make the answer unknown.

use super::context::Tri;
use crate::model::authz::{Permission, Principal, Rbac, RbacAction, RbacEngine};
use crate::model::bundle::ReachVerdict;
use crate::model::cannot_tell::CannotTell;

fn peer(p: &Principal, caller: &str) -> Tri {
    match p {
        Principal::Any | Principal::Authenticated(None) => Tri::Yes,
        Principal::And(xs) => Tri::all(xs.iter().map(|x| peer(x, caller))),
        Principal::Or(xs) => Tri::any(xs.iter().map(|x| peer(x, caller))),
        Principal::Not(x) => peer(x, caller).negate(),
        Principal::Authenticated(Some(m)) => Tri::of(m.matches(caller)),
        Principal::FilterState { key, value } if key == "io.istio.peer_principal" => {
            Tri::of(value.matches(caller))
        }
        other => Tri::Unknown(CannotTell::NotAboutPeer {
            principal: super::istio::who(other),
        }),
    }
}

fn unconditional(p: &Permission) -> bool {
    match p {
        Permission::Any => true,
        Permission::And(xs) => xs.iter().all(unconditional),
        Permission::Or(xs) => xs.iter().any(unconditional),
        _ => false,
    }
}

/// The verdict for `caller` against the filters in order, and why.
pub(crate) fn can_call(filters: &[(String, Rbac)], caller: &str) -> (ReachVerdict, String) {
    let mut admitted = Vec::new();
    let mut doubt = None;
    for (name, rbac) in filters {
        match &rbac.rules {
            None => {}
            Some(RbacEngine::Matcher { .. }) => {
                doubt.get_or_insert(format!("{name} uses the matcher form"));
            }
            Some(RbacEngine::Policies {
                action: RbacAction::Log,
                ..
            }) => {}
            Some(RbacEngine::Policies {
                action: RbacAction::Deny,
                policies,
            }) => {
                for p in policies {
                    let who = Tri::any(p.principals.iter().map(|x| peer(x, caller)));
                    if who == Tri::Yes
                        && p.permissions.iter().any(unconditional)
                        && p.condition.is_none()
                    {
                        return (
                            ReachVerdict::Never,
                            format!("DENY {} refuses every request from it", p.name),
                        );
                    }
                }
            }
            Some(RbacEngine::Policies {
                action: RbacAction::Allow,
                policies,
            }) => {
                let mut found = None;
                let mut maybe = None;
                for p in policies.iter().filter(|p| !p.permissions.is_empty()) {
                    match Tri::any(p.principals.iter().map(|x| peer(x, caller))) {
                        Tri::Yes => {
                            found = Some(p.name.clone());
                            break;
                        }
                        Tri::Unknown(u) => {
                            maybe.get_or_insert(format!("{}: {u}", p.name));
                        }
                        Tri::No => {}
                    }
                }
                match (found, maybe) {
                    (Some(p), _) => admitted.push(format!("ALLOW {p}")),
                    (None, Some(m)) => {
                        doubt.get_or_insert(m);
                    }
                    (None, None) => {
                        return (
                            ReachVerdict::Never,
                            format!("no ALLOW policy of {name} names it"),
                        );
                    }
                }
            }
        }
    }
    match doubt {
        Some(d) => (ReachVerdict::Unknown, d),
        None if admitted.is_empty() => (
            ReachVerdict::Allowed,
            "no enforced policy applies to it".into(),
        ),
        None => (ReachVerdict::Allowed, admitted.join(", ")),
    }
}
