//! ztunnels in a fleet: a row per ztunnel (the identities it holds, their trust domain, the
//! soonest expiry, its roots), and the fleet checks that span ztunnels and Envoys: one mesh root
//! (a ztunnel and a sidecar or waypoint that trust no root in common cannot complete HBONE's
//! mutual TLS), and waypoints whose pods the bundle does not hold.

use crate::model::RuleId;
use std::collections::{BTreeMap, BTreeSet};

use crate::model::bundle::{FleetFacts, ProxyKind, ProxyRow, WaypointUse};
use crate::model::{Finding, Report, SecretKind};

pub(super) fn row(proxy: &str, path: &str, r: &Report) -> ProxyRow {
    let held: Vec<_> = r
        .identities
        .iter()
        .filter_map(|i| i.spiffe_id.clone())
        .collect();
    let domains: BTreeSet<_> = held.iter().map(|i| i.trust_domain().clone()).collect();
    let soonest = r
        .secrets
        .iter()
        .filter(|s| s.state.in_force() && s.kind == SecretKind::CertChain)
        .filter_map(|s| s.certificates.first())
        .min_by_key(|c| c.seconds_left);
    let errors = r.error_count();
    ProxyRow {
        proxy: proxy.to_string(),
        kind: ProxyKind::Ztunnel,
        file: path.to_string(),
        error: (errors > 0).then(|| format!("{errors} value(s) could not be decoded")),
        identity: None,
        trust_domain: (domains.len() == 1)
            .then(|| domains.into_iter().next())
            .flatten(),
        held: held.clone(),
        cert_not_after: soonest.and_then(|c| c.not_after),
        cert_seconds_left: soonest.map(|c| c.seconds_left),
        roots: r.mesh_roots().into_keys().collect(),
        external_roots: Vec::new(),
        outbound: None,
        inbound: Vec::new(),
        findings: r.findings.iter().filter(|f| f.level.fails()).count(),
        warnings: r.warnings.iter().map(|w| w.count).sum(),
        expectations: 0,
        drift: Vec::new(),
        evidence: None,
        sync: None,
        fleet: FleetFacts {
            certificates: super::certificates(r),
            presents: held.iter().map(ToString::to_string).collect(),
            waypoints: waypoints(r),
            ..FleetFacts::default()
        },
    }
}

/// The waypoints the dump's mesh workloads use, with the pods behind each (from the service's
/// endpoints: `Kubernetes//Pod/NS/POD` → `NS/POD`).
fn waypoints(r: &Report) -> Vec<WaypointUse> {
    let Some(a) = &r.ambient else {
        return Vec::new();
    };
    let mut by_service: BTreeMap<String, WaypointUse> = BTreeMap::new();
    for w in &a.workloads {
        let Some(service) = w.waypoint.as_ref().and_then(|wp| wp.service.clone()) else {
            continue;
        };
        let entry = by_service.entry(service.clone()).or_insert_with(|| {
            let svc = a
                .services
                .iter()
                .find(|s| format!("{}/{}", s.namespace, s.name) == service);
            WaypointUse {
                service: service.clone(),
                pods: svc
                    .map(|s| s.endpoint_uids.iter().filter_map(|u| pod_of(u)).collect())
                    .unwrap_or_default(),
                users: Vec::new(),
                pointer: svc.map(|s| s.pointer.clone()).unwrap_or_default(),
            }
        });
        entry.users.push(w.label());
    }
    by_service.into_values().collect()
}

/// `Kubernetes//Pod/NS/POD` (a cluster ID, then the kind) → `NS/POD`.
fn pod_of(uid: &str) -> Option<String> {
    let rest = uid.split_once("//Pod/")?.1;
    let (ns, pod) = rest.split_once('/')?;
    Some(format!("{ns}/{pod}"))
}

/// The fleet checks with ztunnels in them.
pub(super) fn findings(proxies: &[ProxyRow], f: &mut Vec<Finding>) {
    let ztunnels: Vec<&ProxyRow> = proxies
        .iter()
        .filter(|p| p.kind == ProxyKind::Ztunnel)
        .collect();
    let envoys: Vec<&ProxyRow> = proxies
        .iter()
        .filter(|p| p.kind == ProxyKind::Envoy && !p.roots.is_empty())
        .collect();
    let names: BTreeSet<&str> = proxies.iter().map(|p| p.proxy.as_str()).collect();
    for z in &ztunnels {
        if !z.roots.is_empty() {
            let apart: Vec<&str> = envoys
                .iter()
                .filter(|e| !e.roots.iter().any(|r| z.roots.contains(r)))
                .map(|e| e.proxy.as_str())
                .collect();
            if !apart.is_empty() {
                f.push(
                    Finding::new(
                        RuleId::AmbientRootMismatch,
                        z.proxy.clone(),
                        format!(
                            "trusts {}, and shares no root with {}: mutual TLS between them (HBONE) fails",
                            crate::model::Fingerprint::short_list(&z.roots),
                            apart.join(", ")
                        ),
                    )
                    .at(&z.file),
                );
            }
        }
        // A waypoint without endpoints is the ztunnel's own finding (waypoint-without-endpoints).
        for w in z.fleet.waypoints.iter().filter(|w| !w.pods.is_empty()) {
            if w.pods.iter().any(|p| names.contains(p.as_str())) {
                continue;
            }
            let pods = format!("runs as {}, not in the bundle", w.pods.join(", "));
            f.push(
                Finding::new(
                    RuleId::WaypointAbsent,
                    format!("{} waypoint {}", z.proxy, w.service),
                    format!(
                        "{} send through it; it {pods}: its policies and routes cannot be checked",
                        w.users.join(", ")
                    ),
                )
                .at(&format!("{}#{}", z.file, w.pointer)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pods_from_workload_uids() {
        assert_eq!(
            super::pod_of("Kubernetes//Pod/bookinfo/namespace-istio-waypoint-d94944bf6-z89g2"),
            Some("bookinfo/namespace-istio-waypoint-d94944bf6-z89g2".into())
        );
        assert_eq!(
            super::pod_of("Kubernetes/networking.istio.io/ServiceEntry/ns/x"),
            None
        );
    }
}
