//! ztunnel's L4 authorization, as ztunnel decides it (`ProxyState::assert_rbac` and
//! `Authorization::matches` in istio/ztunnel): the policies of the destination workload's
//! namespace, the global ones and those its `authorizationPolicies` name; any DENY that matches
//! refuses ("explicitly denied by: ns/name"), then without ALLOW policies the connection is
//! allowed, else one must match ("allow policies exist, but none allowed"). Dry-run policies are
//! evaluated and never enforced. Only the connection is seen: peer identity, addresses, port.

use crate::model::decision::AuthzLayer;
use std::net::IpAddr;

use super::context::Tri;
use crate::model::ambient::{
    AmbientWorkload, L4Action, L4Match, L4Policy, PolicyScope, TunnelProtocol,
};
use crate::model::cannot_tell::{CannotTell, Fact, Reason};
use crate::model::decision::{
    AuthzStep, Decision, Evaluation, RequestSummary, Response, StepOutcome,
};
use crate::model::Report;

/// The connection ztunnel authorizes: who the peer is, from where, to which address and port.
pub struct L4Connection<'a> {
    /// The peer's SPIFFE ID; `None` for plaintext (ztunnel's inbound passthrough).
    pub principal: Option<&'a str>,
    /// The peer's address.
    pub source_ip: Option<IpAddr>,
    /// The address connected to (a workload's).
    pub destination_ip: Option<IpAddr>,
    /// The port connected to.
    pub port: u16,
}

/// The peer as ztunnel reads it: the identity without `spiffe://`, and its namespace and
/// service account (all empty for plaintext).
struct Peer {
    id: String,
    namespace: String,
    service_account: String,
}

/// Evaluates `c` against the ztunnel dump in `r` (a report without `ambient` has no workloads:
/// the connection is refused as ztunnel refuses a destination it does not know).
pub fn evaluate(r: &Report, c: &L4Connection, summary: RequestSummary) -> Evaluation {
    let mut steps = Vec::new();
    let mut assumptions = Vec::new();
    let (decision, policy, details, reason) = decide(r, c, &mut steps, &mut assumptions);
    Evaluation {
        source: r.source.clone(),
        enforcer: crate::model::decision::Enforcer::Ztunnel,
        decision,
        policy,
        response: Response {
            status: None,
            details,
        },
        reason,
        request: summary,
        steps,
        assumptions,
    }
}

type Decided = (Decision, Option<String>, Option<String>, Option<Reason>);

fn step(
    layer: AuthzLayer,
    name: &str,
    outcome: StepOutcome,
    detail: String,
    pointer: &str,
) -> AuthzStep {
    AuthzStep {
        layer,
        name: name.into(),
        outcome,
        detail,
        policy: None,
        authorization_policy: None,
        pointer: pointer.into(),
    }
}

fn decide(
    r: &Report,
    c: &L4Connection,
    steps: &mut Vec<AuthzStep>,
    assumptions: &mut Vec<String>,
) -> Decided {
    let Some(dst) = c.destination_ip else {
        let why = CannotTell::NotGiven(Fact::DestinationIp);
        return (Decision::Unknown, None, None, Some(Reason::CannotTell(why)));
    };
    let ambient = r.ambient.as_ref();
    let Some(wl) = ambient.and_then(|a| a.workloads.iter().find(|w| w.addresses.contains(&dst)))
    else {
        let why = format!("no workload of the dump has the address {dst}: ztunnel refuses the connection (workload not found)");
        return (
            Decision::Rejected,
            None,
            Some("workload not found".into()),
            Some(Reason::Refused(why)),
        );
    };
    let peer = match c.principal {
        None => Peer {
            id: String::new(),
            namespace: String::new(),
            service_account: String::new(),
        },
        Some(p) => match p
            .parse::<crate::model::SpiffeId>()
            .ok()
            .as_ref()
            .and_then(|s| {
                s.istio_workload()
                    .map(|(ns, sa)| (ns.to_string(), sa.to_string()))
            }) {
            Some((namespace, service_account)) => Peer {
                id: p.strip_prefix("spiffe://").unwrap_or(p).to_string(),
                namespace,
                service_account,
            },
            None => {
                let why = format!("{p} is not an identity ztunnel accepts (spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/ACCOUNT): the HBONE handshake fails");
                return (Decision::Rejected, None, None, Some(Reason::Refused(why)));
            }
        },
    };
    let mut s = step(
        AuthzLayer::Workload,
        &wl.label(),
        StepOutcome::Continue,
        format!("the destination {dst} is this workload ({})", wl.protocol),
        &wl.pointer,
    );
    if wl.protocol != TunnelProtocol::Hbone {
        s.outcome = StepOutcome::Skipped;
        s.detail = format!("the destination {dst} is this workload, which is not in the ambient mesh (protocol {}): ztunnel does not intercept its inbound connections", wl.protocol);
        steps.push(s);
        assumptions.push("ztunnel's policies do not apply; a sidecar of the workload, if any, enforces its own (read its dump)".into());
        return (Decision::Allow, None, None, None);
    }
    steps.push(s);
    if c.principal.is_some() {
        assumptions.push(
            "the peer's certificate chains to a root this ztunnel trusts (HBONE is mutual TLS)"
                .into(),
        );
    }
    if let Some(w) = &wl.waypoint {
        assumptions.push(format!(
            "clients normally reach it through the waypoint {}, whose own (Envoy) policies apply first: read the waypoint's dump",
            w.name()
        ));
    }
    let (policies, missing) = applicable(r, wl);
    assumptions.extend(missing.iter().map(|key| {
        format!("the workload names policy {key}, which the dump does not hold: ztunnel skips it")
    }));
    let conn = Conn {
        c,
        peer: &peer,
        dst,
    };
    // DENY first, dry-run ones only observed; then ALLOW.
    let deny: Vec<&L4Policy> = policies
        .iter()
        .copied()
        .filter(|p| p.action == L4Action::Deny)
        .collect();
    let (denied_by, unknown) = check(&deny, &conn, steps);
    if let Some(first) = denied_by.first() {
        if denied_by.len() > 1 {
            assumptions.push(format!(
                "{} DENY policies match ({}); ztunnel names whichever it checks first (its order is a hash set's)",
                denied_by.len(),
                denied_by.join(", ")
            ));
        }
        let details = format!("explicitly denied by: {first}");
        return (Decision::Deny, Some(first.clone()), Some(details), None);
    }
    if let Some(why) = unknown {
        return (Decision::Unknown, None, None, Some(Reason::CannotTell(why)));
    }
    let allow: Vec<&L4Policy> = policies
        .iter()
        .copied()
        .filter(|p| p.action == L4Action::Allow)
        .collect();
    let enforced = allow.iter().filter(|p| !p.dry_run).count();
    let (allowed_by, unknown) = check(&allow, &conn, steps);
    let allowed_by = allowed_by.first();
    if enforced == 0 {
        steps.push(step(
            AuthzLayer::Policy,
            "(no ALLOW policy)",
            StepOutcome::Continue,
            "no ALLOW policy applies to the workload: allowed".into(),
            &wl.pointer,
        ));
        return (Decision::Allow, None, None, None);
    }
    if allowed_by.is_some() {
        return (Decision::Allow, None, None, None);
    }
    if let Some(why) = unknown {
        return (Decision::Unknown, None, None, Some(Reason::CannotTell(why)));
    }
    let details = "allow policies exist, but none allowed".to_string();
    (Decision::Deny, None, Some(details), None)
}

/// Evaluates policies of one action, a step each: the enforced ones that match (by key), and
/// the first reason one may match that cannot be told. Dry-run policies are only observed.
fn check(
    policies: &[&L4Policy],
    conn: &Conn,
    steps: &mut Vec<AuthzStep>,
) -> (Vec<String>, Option<CannotTell>) {
    let mut matched = Vec::new();
    let mut unknown = None;
    for p in policies {
        let m = matches(p, conn);
        let verb = match p.action {
            L4Action::Deny => "deny",
            L4Action::Allow => "allow",
        };
        let (outcome, detail) = match (&m, p.dry_run) {
            (Tri::Yes, true) => (
                StepOutcome::Observed,
                format!("dry run: it matches, and would {verb}"),
            ),
            (Tri::No, true) => (
                StepOutcome::Observed,
                "dry run: it does not match".to_string(),
            ),
            (Tri::Yes, false) if p.action == L4Action::Deny => (
                StepOutcome::Denied,
                "it matches: ztunnel closes the connection".to_string(),
            ),
            (Tri::Yes, false) => (StepOutcome::Continue, "it matches: allowed".to_string()),
            (Tri::No, false) => (StepOutcome::Continue, "it does not match".to_string()),
            (Tri::Unknown(why), _) => (
                StepOutcome::Unknown,
                format!("cannot tell whether it matches: {why}"),
            ),
        };
        let mut st = step(AuthzLayer::Policy, &p.key(), outcome, detail, &p.pointer);
        st.policy = Some(p.key());
        steps.push(st);
        match m {
            _ if p.dry_run => {}
            Tri::Yes => matched.push(p.key()),
            Tri::Unknown(why) => {
                unknown.get_or_insert(why);
            }
            Tri::No => {}
        }
    }
    (matched, unknown)
}

/// A workload of the dump by pod name, `name.namespace` or address.
pub fn workload<'a>(r: &'a Report, w: &str) -> Option<&'a AmbientWorkload> {
    let a = r.ambient.as_ref()?;
    a.workloads
        .iter()
        .find(|x| x.name == w || x.label() == w || x.addresses.iter().any(|ip| ip.to_string() == w))
}

/// The policies ztunnel checks for `wl`: its namespace's, the global ones, and those it names;
/// each group sorted by key (ztunnel keeps them in hash sets: no order is promised). Also the
/// keys the workload names that the dump does not hold (ztunnel skips them).
pub fn applicable<'a>(r: &'a Report, wl: &AmbientWorkload) -> (Vec<&'a L4Policy>, Vec<String>) {
    let all = r.ambient.as_ref().map_or(&[][..], |a| &a.policies[..]);
    let mut missing = Vec::new();
    let mut out: Vec<&L4Policy> = Vec::new();
    let mut by_scope = |keep: &dyn Fn(&L4Policy) -> bool| {
        let mut group: Vec<&L4Policy> = all.iter().filter(|p| keep(p)).collect();
        group.sort_by_key(|p| p.key());
        out.extend(group);
    };
    by_scope(&|p| p.scope == PolicyScope::Namespace && p.namespace == wl.namespace);
    by_scope(&|p| p.scope == PolicyScope::Global);
    for key in &wl.authorization_policies {
        match all.iter().find(|p| &p.key() == key) {
            Some(p) => out.push(p),
            None => missing.push(key.clone()),
        }
    }
    (out, missing)
}

struct Conn<'a> {
    c: &'a L4Connection<'a>,
    peer: &'a Peer,
    dst: IpAddr,
}

/// ztunnel's `Authorization::matches`: no rules match nothing; a rule matches when each of its
/// clauses does (an empty clause does); a clause when one of its match groups does (an empty
/// group is skipped).
fn matches(p: &L4Policy, conn: &Conn) -> Tri {
    if p.rules.is_empty() {
        return Tri::No;
    }
    Tri::any(p.rules.iter().map(|rule| {
        Tri::all(rule.iter().map(|clause| {
            if clause.is_empty() {
                return Tri::Yes;
            }
            Tri::any(
                clause
                    .iter()
                    .filter(|m| !m.is_empty())
                    .map(|m| group(m, conn)),
            )
        }))
    }))
}

/// Every field given must hold: any of its values, none of its negated values.
fn group(m: &L4Match, conn: &Conn) -> Tri {
    let c = conn.c;
    let peer = conn.peer;
    let field = |pos: Tri, neg: Tri| Tri::all([pos, neg.negate()]);
    let some = |items: Vec<bool>| Tri::of(items.into_iter().any(|b| b));
    let src_ip = |cidrs: &[crate::model::ids::Cidr]| -> Tri {
        if cidrs.is_empty() {
            return Tri::No;
        }
        match c.source_ip {
            Some(ip) => Tri::of(cidrs.iter().any(|n| n.contains(ip))),
            None => Tri::Unknown(CannotTell::NotGiven(Fact::SourceIp)),
        }
    };
    let or_empty = |given: bool, t: Tri| if given { t } else { Tri::Yes };
    let neg_or_empty = |given: bool, t: Tri| if given { t } else { Tri::No };
    let sa = |v: &[crate::model::ambient::ServiceAccountMatch]| {
        // No identity (plaintext) matches no service account.
        some(
            v.iter()
                .map(|s| {
                    !peer.id.is_empty()
                        && s.namespace == peer.namespace
                        && s.service_account == peer.service_account
                })
                .collect(),
        )
    };
    // ztunnel matches principals against the identity without `spiffe://`; none without one.
    let principal = |v: &[crate::model::ambient::L4StringMatch]| {
        some(
            v.iter()
                .map(|s| !peer.id.is_empty() && s.matches(&peer.id))
                .collect(),
        )
    };
    let ns = |v: &[crate::model::ambient::L4StringMatch]| {
        some(v.iter().map(|s| s.matches(&peer.namespace)).collect())
    };
    Tri::all([
        field(
            or_empty(
                !m.destination_ips.is_empty(),
                some(
                    m.destination_ips
                        .iter()
                        .map(|n| n.contains(conn.dst))
                        .collect(),
                ),
            ),
            neg_or_empty(
                !m.not_destination_ips.is_empty(),
                some(
                    m.not_destination_ips
                        .iter()
                        .map(|n| n.contains(conn.dst))
                        .collect(),
                ),
            ),
        ),
        field(
            or_empty(!m.source_ips.is_empty(), src_ip(&m.source_ips)),
            neg_or_empty(!m.not_source_ips.is_empty(), src_ip(&m.not_source_ips)),
        ),
        field(
            or_empty(
                !m.destination_ports.is_empty(),
                Tri::of(m.destination_ports.contains(&c.port)),
            ),
            neg_or_empty(
                !m.not_destination_ports.is_empty(),
                Tri::of(m.not_destination_ports.contains(&c.port)),
            ),
        ),
        field(
            or_empty(!m.service_accounts.is_empty(), sa(&m.service_accounts)),
            neg_or_empty(
                !m.not_service_accounts.is_empty(),
                sa(&m.not_service_accounts),
            ),
        ),
        field(
            or_empty(!m.principals.is_empty(), principal(&m.principals)),
            neg_or_empty(!m.not_principals.is_empty(), principal(&m.not_principals)),
        ),
        field(
            or_empty(!m.namespaces.is_empty(), ns(&m.namespaces)),
            neg_or_empty(!m.not_namespaces.is_empty(), ns(&m.not_namespaces)),
        ),
    ])
}
