//! Diagnoses: rules that turn the proxy's state into answers (rotation overdue, a SAN nobody can
//! satisfy, Istio mTLS towards a host outside the mesh, TLS inside TLS…), each a [`Finding`]
//! with a stable [`RuleId`] and JSON Pointers as evidence. Works on the model only;
//! certificate and secret findings of `cert::findings` come first, these are added to them.

mod authz;
mod tls;
mod traffic;
mod updates;

use crate::model::RuleId;
use crate::model::{Finding, Report, SecretKind, SecretState, Span};

/// The thresholds of the rules that have one.
#[derive(Debug, Clone)]
pub struct RuleOptions {
    /// `cert-expiring` fires below this much time left (and below half the lifetime).
    pub expiry_warning: Span,
}

impl Default for RuleOptions {
    /// A day, as the command line's `--expiry-warning` defaults to.
    fn default() -> Self {
        Self {
            expiry_warning: Span::from_seconds(24 * 3600),
        }
    }
}

/// Adds the findings of every rule to the report (sorted, without duplicates).
pub(crate) fn diagnose(r: &mut Report, opts: &RuleOptions) {
    let mut f = Vec::new();
    expiring(r, opts, &mut f);
    warming(r, &mut f);
    updates::rules(r, &mut f);
    ztunnel_identities(r, &mut f);
    waypoints_without_endpoints(r, &mut f);
    tls::san_rules(r, &mut f);
    traffic::rules(r, &mut f);
    authz::rules(r, &mut f);
    undecodable(r, &mut f);
    r.findings.extend(f);
    r.findings.sort();
    r.findings.dedup();
}

fn expiring(r: &Report, opts: &RuleOptions, f: &mut Vec<Finding>) {
    for s in r.secrets.iter().filter(|s| s.state.in_force()) {
        for c in s.certificates.iter().filter(|c| c.valid_now) {
            let (Some(life), Some(not_after)) = (c.lifetime_seconds(), c.not_after) else {
                continue;
            };
            // A rotating agent replaces a certificate at about half its lifetime: less than that
            // left (and less than the threshold) means the rotation is overdue.
            if c.seconds_left < opts.expiry_warning.seconds() && c.seconds_left < life / 2 {
                let who = c
                    .spiffe_ids
                    .first()
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| c.subject.clone());
                f.push(
                    Finding::new(RuleId::CertExpiring,
                        s.label(),
                        format!(
                            "{who} expires at {not_after} ({} left of a {} lifetime): the rotation is overdue",
                            crate::cert::time_left(c.seconds_left),
                            crate::cert::time_left(life)
                        ),
                    )
                    .at(&s.pointer),
                );
            }
        }
    }
}

fn warming(r: &Report, f: &mut Vec<Finding>) {
    for s in r.secrets.iter().filter(|s| s.state == SecretState::Warming) {
        let who = if s.referenced_by.is_empty() {
            String::new()
        } else {
            format!("; used by {}", s.referenced_by.join(", "))
        };
        f.push(
            Finding::new(
                RuleId::SecretWarming,
                s.label(),
                format!("requested from SDS, not delivered yet{who}"),
            )
            .at(&s.pointer),
        );
    }
}

/// What ztunnel says of the identities it holds certificates for. "No longer needed" is ztunnel
/// forgetting an identity whose last workload left the node: not a problem.
fn ztunnel_identities(r: &Report, f: &mut Vec<Finding>) {
    const FORGOTTEN: &str = "the identity is no longer needed";
    for s in &r.secrets {
        let (rule, what) = match s.state {
            SecretState::Initializing => (
                RuleId::ZtunnelIdentityInitializing,
                "its certificate is being requested from the CA".to_string(),
            ),
            SecretState::Unavailable if s.state_detail.as_deref() != Some(FORGOTTEN) => (
                RuleId::ZtunnelIdentityUnavailable,
                format!(
                    "no certificate: {}",
                    s.state_detail.as_deref().unwrap_or("no reason given")
                ),
            ),
            _ => continue,
        };
        f.push(Finding::new(rule, format!("identity {}", s.name), what).at(&s.pointer));
    }
}

/// Workloads of a ztunnel's dump whose waypoint has no endpoint (or no service in the dump).
fn waypoints_without_endpoints(r: &Report, f: &mut Vec<Finding>) {
    let Some(a) = &r.ambient else { return };
    // (waypoint, why) → (the workloads, where the evidence is: the service, or the first workload).
    let mut users: std::collections::BTreeMap<(String, String), (Vec<String>, String)> =
        Default::default();
    let mut by_name = std::collections::BTreeMap::new();
    for s in &a.services {
        by_name
            .entry(format!("{}/{}", s.namespace, s.name))
            .or_insert(s);
    }
    for w in &a.workloads {
        let Some(wp) = &w.waypoint else { continue };
        let svc = wp.service.as_ref().and_then(|name| by_name.get(name));
        let why = match svc {
            Some(s) if s.endpoints > 0 => continue,
            Some(s) => format!("its service {}/{} has no endpoint", s.namespace, s.name),
            None => format!("no service of the dump has its address {}", wp.destination),
        };
        let at = svc.map_or(w.pointer.clone(), |s| s.pointer.clone());
        let key = (
            wp.service.clone().unwrap_or_else(|| wp.destination.clone()),
            why,
        );
        users
            .entry(key)
            .or_insert((Vec::new(), at.to_string()))
            .0
            .push(w.label());
    }
    for ((waypoint, why), (who, at)) in users {
        f.push(
            Finding::new(
                RuleId::WaypointWithoutEndpoints,
                format!("waypoint {waypoint}"),
                format!(
                    "{} send through it, but {why}: their traffic has nowhere to go",
                    who.join(", ")
                ),
            )
            .at(&at),
        );
    }
}

/// Unknown `@type`s, one finding per type.
fn undecodable(r: &Report, f: &mut Vec<Finding>) {
    for w in &r.warnings {
        if let Some(ty) = &w.kept_raw {
            f.push(
                Finding::new(
                    RuleId::UndecodableType,
                    format!("type {ty}"),
                    format!(
                        "{} ({} time(s)): envinspect keeps it as raw JSON and does not look inside",
                        w.message, w.count
                    ),
                )
                .at(&w.first_pointer),
            );
        }
    }
}

/// `stale-certs-endpoint`: certificate chains Envoy's `/certs` lists that no secret of the config
/// dump holds (by serial, or by file for file-based certificates). Envoy keeps old chains while
/// listeners drain; a chain that stays means a TLS context still uses an old certificate, or the
/// two documents were taken at different times.
pub fn stale_certs(r: &mut Report, certs: &Report) {
    let held: Vec<&crate::model::Serial> = r
        .secrets
        .iter()
        .filter(|s| s.state.in_force())
        .flat_map(|s| &s.certificates)
        .map(|c| &c.serial)
        .collect();
    let files: Vec<&str> = r
        .secrets
        .iter()
        .flat_map(|s| &s.files)
        .map(String::as_str)
        .collect();
    let mut found = Vec::new();
    for s in certs
        .secrets
        .iter()
        .filter(|s| s.kind == SecretKind::CertChain)
    {
        if s.files.iter().any(|f| files.contains(&f.as_str())) {
            continue;
        }
        let Some(leaf) = s.certificates.first() else {
            continue;
        };
        if held.contains(&&leaf.serial) {
            continue;
        }
        let who = leaf
            .spiffe_ids
            .first()
            .map(|i| i.to_string())
            .unwrap_or_else(|| "a certificate".into());
        found.push(
            Finding::new(RuleId::StaleCertsEndpoint,
                format!("{} {}", certs.source, s.name),
                format!(
                    "{who} (serial {}, not after {}) is in /certs but in no active secret of {}: a TLS context still holds an old certificate (draining listeners), or the documents were taken at different times",
                    leaf.serial,
                    crate::model::timestamp::or_unknown(leaf.not_after),
                    r.source
                ),
            )
            .at(&s.pointer),
        );
    }
    r.findings.extend(found);
    r.findings.sort();
    r.findings.dedup();
}
