//! Fleet rules: what no single dump shows. Who talks to whom comes from the clients' outbound
//! mesh clusters (`outbound|port|subset|fqdn`) and the services each proxy serves.

use crate::model::RuleId;
use std::collections::{BTreeMap, BTreeSet};

use super::BundleOptions;
use crate::expect::san::evaluate;
use crate::model::bundle::{OutboundCluster, ProxyKind, ProxyRow};
use crate::model::tls::{MatchKind, SanKind, TlsKind};
use crate::model::{Finding, MtlsMode};

/// `fleet-expectation-unmatched`: an entry of the fleet expectations whose selector matches no
/// proxy of the bundle (a typo in a namespace), so nothing it expects was checked.
fn unmatched(proxies: &[ProxyRow], opts: &BundleOptions, f: &mut Vec<Finding>) {
    let Some((name, fleet)) = &opts.expect else {
        return;
    };
    for (i, item) in fleet.proxies.iter().enumerate() {
        let any = proxies.iter().any(|p| {
            let id = p.identity.as_ref().map(|i| i.to_string());
            item.select.matches(&p.proxy, id.as_deref())
        });
        if !any {
            f.push(Finding::new(RuleId::FleetExpectationUnmatched,
                format!("{name} proxies[{i}]"),
                format!(
                    "select {} matches none of the bundle's {} proxies: its expectations were not checked",
                    item.select,
                    proxies.len()
                ),
            ));
        }
    }
}

pub(super) fn findings(proxies: &[ProxyRow], opts: &BundleOptions) -> Vec<Finding> {
    let envoys: Vec<&ProxyRow> = proxies
        .iter()
        .filter(|p| p.kind == ProxyKind::Envoy)
        .collect();
    let mut servers: BTreeMap<&str, Vec<&ProxyRow>> = BTreeMap::new();
    for p in &envoys {
        for s in &p.fleet.serves {
            servers.entry(s.as_str()).or_default().push(p);
        }
    }
    // Replicas of a service look alike to a client: what `pair` judges of a server (its roots,
    // identity and inbound modes) is compared once per kind of server, and pair by pair only
    // where it finds something. Otherwise a fleet of N replicas costs N² comparisons.
    let alike: BTreeMap<&str, Vec<Vec<&ProxyRow>>> = servers
        .iter()
        .map(|(fqdn, ps)| {
            let mut groups: BTreeMap<String, Vec<&ProxyRow>> = BTreeMap::new();
            for p in ps {
                let key = format!("{:?}|{:?}|{:?}", p.roots, p.identity, p.inbound);
                groups.entry(key).or_default().push(p);
            }
            (*fqdn, groups.into_values().collect())
        })
        .collect();
    let mut f = Vec::new();
    // Every identity some proxy presents, not only each one's primary; a ztunnel presents those
    // of the workloads it holds certificates for.
    let ztunnels = proxies.iter().filter(|p| p.kind == ProxyKind::Ztunnel);
    let presented: BTreeSet<String> = envoys
        .iter()
        .copied()
        .chain(ztunnels.clone())
        .flat_map(|p| {
            p.identity
                .iter()
                .map(|i| i.to_string())
                .chain(p.fleet.presents.iter().cloned())
        })
        .collect();
    for c in &envoys {
        for oc in &c.fleet.clusters {
            let (Some(ps), Some(groups)) =
                (servers.get(oc.fqdn.as_str()), alike.get(oc.fqdn.as_str()))
            else {
                continue;
            };
            for group in groups {
                // Names aside, the first of a group answers for all of it.
                let mut probe = Vec::new();
                pair(c, oc, group[0], &mut probe);
                if probe.is_empty() {
                    continue;
                }
                for p in group.iter().filter(|p| p.proxy != c.proxy) {
                    pair(c, oc, p, &mut f);
                }
            }
            // Only where the bundle holds the service's servers and knows who they are.
            if ps.iter().any(|p| p.identity.is_some()) {
                absent_identities(c, oc, &presented, &mut f);
            }
        }
    }
    let domains: BTreeSet<String> = envoys
        .iter()
        .copied()
        .chain(ztunnels.clone())
        .filter_map(|p| p.trust_domain.as_ref())
        .map(|t| t.to_string())
        .collect();
    if domains.len() > 1 {
        let by_domain: Vec<String> = domains
            .iter()
            .map(|d| {
                let n = envoys
                    .iter()
                    .copied()
                    .chain(ztunnels.clone())
                    .filter(|p| p.trust_domain.as_ref().is_some_and(|t| &t.to_string() == d))
                    .count();
                format!("{d} ({n} proxies)")
            })
            .collect();
        f.push(Finding::new(RuleId::MultipleTrustDomains, "fleet", format!("proxies present identities in {} trust domains: {}; peers across them need trust-domain aliases or federated bundles", domains.len(), by_domain.join(", "))));
    }
    for p in envoys.iter().copied().chain(ztunnels) {
        for (secret, not_after, left) in &p.fleet.certificates {
            if *left >= 0 && *left < opts.expiry_warning.seconds() {
                f.push(
                    Finding::new(
                        RuleId::FleetCertExpiring,
                        format!("{} {secret}", p.proxy),
                        format!(
                            "expires at {}, in {}",
                            crate::model::timestamp::or_unknown(*not_after),
                            crate::cert::time_left(*left)
                        ),
                    )
                    .at(&p.file),
                );
            }
        }
    }
    unmatched(proxies, opts, &mut f);
    super::ambient::findings(proxies, &mut f);
    f.sort();
    f.dedup();
    f
}

/// Client `c` reaching server `p` through cluster `oc`.
fn pair(c: &ProxyRow, oc: &OutboundCluster, p: &ProxyRow, f: &mut Vec<Finding>) {
    let subject = format!("{} → {}", c.proxy, p.proxy);
    // The server pod's redirection may leave the port alone: the application itself answers,
    // and nothing of its sidecar (roots, SANs, inbound mode) is met.
    if let Some((port, why)) = uncaptured(oc, p) {
        if matches!(
            oc.kind,
            TlsKind::IstioMtls | TlsKind::Mutual | TlsKind::Auto
        ) {
            f.push(
                Finding::new(
                    RuleId::MtlsToUncapturedPort,
                    &subject,
                    format!(
                        "cluster {} sends mTLS to port {port}, which {}'s sidecar does not capture ({why}): the application receives a TLS handshake it does not expect (CERTIFICATE_VERIFY_FAILED, or a reset: 503 UC){}",
                        oc.name,
                        p.proxy,
                        observed(c, &oc.name)
                    ),
                )
                .at(&format!("{}#{}", c.file, oc.pointer)),
            );
        }
        return;
    }
    let mesh = matches!(oc.kind, TlsKind::IstioMtls | TlsKind::Auto);
    if mesh
        && !c.roots.is_empty()
        && !p.roots.is_empty()
        && !c.roots.iter().any(|r| p.roots.contains(r))
    {
        f.push(
            Finding::new(RuleId::RootMismatch,
                &subject,
                format!("no root CA in common ({} trusts {}, {} trusts {}): each rejects the other's certificate chain{}", c.proxy, short(&c.roots), p.proxy, short(&p.roots), observed(c, &oc.name)),
            )
            .at(&format!("{}#{}", c.file, oc.pointer)),
        );
    }
    if let Some(id) = p
        .identity
        .as_ref()
        .filter(|_| mesh || oc.kind == TlsKind::Mutual || oc.kind == TlsKind::Simple)
    {
        let id = id.to_string();
        let rejecting: Vec<&Vec<_>> = oc
            .san_matchers
            .iter()
            .filter(|m| !evaluate(m, &id).accepted())
            .collect();
        if !oc.san_matchers.is_empty() && rejecting.len() == oc.san_matchers.len() {
            let names: Vec<String> = rejecting[0].iter().map(|m| m.to_string()).collect();
            f.push(
                Finding::new(RuleId::SanUnsatisfiable,
                    &subject,
                    format!("cluster {} accepts only {}, but {} presents {id}: the handshake fails (CERTIFICATE_VERIFY_FAILED){}", oc.name, names.join(", "), p.proxy, observed(c, &oc.name)),
                )
                .at(&format!("{}#{}", c.file, oc.pointer)),
            );
        }
    }
    if oc.kind == TlsKind::Plaintext {
        let mode = p
            .inbound
            .iter()
            .find(|(port, _)| *port == oc.port.map(u32::from))
            .or_else(|| p.inbound.iter().find(|(port, _)| port.is_none()));
        if let Some((port, MtlsMode::Strict)) = mode {
            let port = port.map(|p| p.to_string()).unwrap_or_else(|| "*".into());
            f.push(
                Finding::new(RuleId::PlaintextToStrict,
                    &subject,
                    format!("cluster {} sends plaintext, and {} accepts only mTLS on port {port}: connections are reset (503 UC){}", oc.name, p.proxy, observed(c, &oc.name)),
                )
                .at(&format!("{}#{}", c.file, oc.pointer)),
            );
        }
    }
}

/// The port of server `p` that cluster `oc` reaches, when `p`'s pod does not redirect it to its
/// sidecar, and the annotation that says so. The port is the endpoints' (the pod's), else the
/// service's.
fn uncaptured(oc: &OutboundCluster, p: &ProxyRow) -> Option<(u16, String)> {
    use crate::model::intercept::Capture;
    let i = p.fleet.interception.as_ref()?;
    let ports: Vec<u16> = if oc.target_ports.is_empty() {
        oc.port.into_iter().collect()
    } else {
        oc.target_ports.clone()
    };
    ports
        .into_iter()
        .find_map(|port| match i.inbound(u32::from(port)) {
            Capture::No(why) => Some((port, why)),
            Capture::Yes => None,
        })
}

/// Exact SPIFFE IDs a client's cluster names that no proxy in the bundle presents.
fn absent_identities(
    c: &ProxyRow,
    oc: &OutboundCluster,
    presented: &BTreeSet<String>,
    f: &mut Vec<Finding>,
) {
    let named: BTreeSet<&str> = oc
        .san_matchers
        .iter()
        .flatten()
        .filter(|m| {
            m.matcher.how == MatchKind::Exact
                && matches!(m.san, SanKind::Uri | SanKind::Any)
                && m.matcher.value.starts_with("spiffe://")
        })
        .map(|m| m.matcher.value.as_str())
        .collect();
    for id in named.into_iter().filter(|id| !presented.contains(*id)) {
        f.push(
            Finding::new(
                RuleId::SanIdentityAbsent,
                format!("{} cluster {}", c.proxy, oc.name),
                format!("accepts {id}, which no proxy in the bundle presents"),
            )
            .at(&format!("{}#{}", c.file, oc.pointer)),
        );
    }
}

fn short(roots: &[crate::model::Fingerprint]) -> String {
    crate::model::Fingerprint::short_list(roots)
}

/// What the client's own evidence (its access log and counters, when the bundle has them) shows
/// of `cluster`: `; seen in its evidence: …`, or nothing.
fn observed(c: &ProxyRow, cluster: &str) -> String {
    let Some(ev) = &c.evidence else {
        return String::new();
    };
    let named = format!("cluster {cluster}");
    let mut seen: Vec<String> = ev
        .causes
        .iter()
        .filter(|g| g.explanation.contains(&format!("{named} ")) || g.explanation.ends_with(&named))
        .map(|g| {
            format!(
                "{} log line(s) {} (first {})",
                g.count,
                g.rule,
                g.first.first().map_or("", String::as_str)
            )
        })
        .collect();
    seen.extend(
        ev.counters
            .iter()
            .filter(|f| f.subject == named)
            .map(|f| f.message.split(" (").next().unwrap_or("").to_string()),
    );
    if seen.is_empty() {
        String::new()
    } else {
        format!("; seen in its evidence: {}", seen.join(", "))
    }
}
