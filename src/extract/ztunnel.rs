//! A ztunnel dump → the report: each identity's certificates as a secret (state, chain, roots),
//! the identities it holds, and its workloads, services, L4 policies and connections
//! ([`Ambient`]). Certificates are judged from their DER, as TLS peers judge them; where the
//! dump's own `serialNumber`, `validFrom` or `expirationTime` disagree with it, a warning says so.

use std::collections::BTreeMap;

use base64::Engine as _;
use time::OffsetDateTime;

use crate::decode::ztunnel::{self as z, ZtunnelDump};
use crate::decode::{Issue, Located};
use crate::model::ambient::{
    Ambient, AmbientConnection, AmbientService, AmbientWorkload, L4Action, L4Match, L4Policy,
    L4StringMatch, PolicyScope, ServiceAccountMatch, WaypointRef,
};
use crate::model::cert::TrustRole;
use crate::model::ids::Cidr;
use crate::model::{
    CertInfo, Counts, IdentityBasis, Report, Secret, SecretKind, SecretState, Serial, SpiffeId,
    Timestamp, TrafficDirection, WorkloadIdentity,
};

/// Fills `r` from the dump; returns what decoding and extraction met.
pub(crate) fn ztunnel(d: ZtunnelDump, now: OffsetDateTime, r: &mut Report) -> Vec<Issue> {
    let ZtunnelDump {
        certificates,
        workloads,
        services,
        policies,
        workload_state,
        version,
        config,
        mut issues,
    } = d;
    certificate_secrets(certificates, now, r, &mut issues);
    crate::cert::check::check(r);
    r.identities = r
        .secrets
        .iter()
        .filter(|s| s.kind == SecretKind::CertChain && s.state == SecretState::Active)
        .filter_map(held_identity)
        .collect();
    let count = |st: SecretState| {
        r.secrets
            .iter()
            .filter(|s| s.kind != SecretKind::Ca && s.state == st)
            .count()
    };
    r.counts.secrets = Some(Counts::of(
        0,
        count(SecretState::Active),
        count(SecretState::Initializing),
        0,
    ));
    let mut services: Vec<AmbientService> = services.into_iter().map(service).collect();
    let lookup = services.clone();
    for w in services.iter_mut().filter_map(|s| s.waypoint.as_mut()) {
        w.service = waypoint_service(&w.destination, &lookup);
    }
    let some = |s: String| Some(s).filter(|s| !s.is_empty() && s != "unknown");
    let version = version.unwrap_or_default();
    let config = config.unwrap_or_default();
    let opt = |s: Option<String>| s.filter(|s| !s.is_empty());
    let mut ambient = Ambient {
        node: opt(config.local_node),
        proxy_mode: opt(config.proxy_mode),
        ca_address: opt(config.ca_address),
        xds_address: opt(config.xds_address),
        version: some(version.version),
        git_revision: some(version.git_revision),
        istio_version: some(version.istio_version),
        workloads: workloads
            .into_iter()
            .map(|w| workload(w, &services, &mut issues))
            .collect(),
        services,
        policies: policies
            .into_iter()
            .filter_map(|p| policy(p, &mut issues))
            .collect(),
        connections: connections(workload_state),
    };
    ambient.workloads.sort_by(|a, b| {
        (format!("{}.{}", a.namespace, a.name), &a.node)
            .cmp(&(format!("{}.{}", b.namespace, b.name), &b.node))
    });
    ambient.services.sort_by(|a, b| {
        (&a.namespace, &a.name, &a.hostname).cmp(&(&b.namespace, &b.name, &b.hostname))
    });
    ambient
        .policies
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    link_identities(&ambient, r);
    r.ambient = Some(ambient);
    issues
}

/// Each identity's secret names the workloads that carry it (`name.namespace`): those of the
/// ztunnel's node when the dump says which node that is, else every workload it knows.
fn link_identities(a: &Ambient, r: &mut Report) {
    for s in r.secrets.iter_mut().filter(|s| s.kind != SecretKind::Ca) {
        s.referenced_by = a
            .workloads
            .iter()
            .filter(|w| a.node.as_ref().is_none_or(|n| *n == w.node))
            .filter(|w| {
                w.identity
                    .as_ref()
                    .is_some_and(|i| i.to_string() == s.name.as_str())
            })
            .map(|w| format!("workload {}", w.label()))
            .collect();
    }
}

/// One secret per identity (named by it), and one CA secret per distinct set of roots.
fn certificate_secrets(
    entries: Vec<Located<z::CertsDump>>,
    now: OffsetDateTime,
    r: &mut Report,
    issues: &mut Vec<Issue>,
) {
    // Root sets by their fingerprints, in order of first use, with the identities using them.
    let mut root_sets: Vec<(Vec<CertInfo>, Vec<String>, String)> = Vec::new();
    let mut chains = Vec::new();
    for Located { pointer, value } in entries {
        let (state, detail) = match value.state.as_str() {
            "Available" => (SecretState::Active, None),
            "Initializing" => (SecretState::Initializing, None),
            s => match s.strip_prefix("Unavailable") {
                Some(why) => (
                    SecretState::Unavailable,
                    Some(why.trim_start_matches(':').trim().to_string()).filter(|w| !w.is_empty()),
                ),
                None => {
                    issues.push(Issue::warning(
                        &format!("{pointer}/state"),
                        format!("unknown certificate state `{s}` read as Unavailable"),
                    ));
                    (SecretState::Unavailable, Some(s.to_string()))
                }
            },
        };
        let mut problems = Vec::new();
        let mut lint = Vec::new();
        let mut chain = Vec::new();
        let mut roots = Vec::new();
        for (field, list, out) in [
            ("certChain", value.cert_chain, &mut chain),
            ("rootCerts", value.root_certs, &mut roots),
        ] {
            for (i, c) in list.into_iter().enumerate() {
                let bytes = pem_bytes(&c.pem);
                let (certs, p) = crate::cert::parse_certificates(&bytes, now);
                lint.extend(crate::cert::pem::lint(&bytes, &certs, false));
                let mut p: Vec<String> = p
                    .into_iter()
                    .map(|p| format!("{field}[{i}]: {p}"))
                    .collect();
                if certs.is_empty() && p.is_empty() {
                    p.push(format!("{field}[{i}]: no certificate in it"));
                }
                // Unreadable certificate bytes leave the answer incomplete, as in Envoy dumps.
                for why in &p {
                    issues.push(Issue::error(
                        &format!("{pointer}/{field}/{i}/pem"),
                        format!("identity {}: {why}", value.identity),
                    ));
                }
                problems.extend(p);
                for cert in certs {
                    disagreements(&c, &cert, &format!("{pointer}/{field}/{i}"), issues);
                    out.push(cert);
                }
            }
        }
        // The earlier layout ends the chain with its root: a self-signed CA after the leaf.
        while roots.is_empty() && chain.len() > 1 && chain.last().is_some_and(self_signed_ca) {
            roots.extend(chain.pop());
        }
        let mut s = Secret::new(
            value.identity.clone(),
            state,
            if chain.is_empty() {
                SecretKind::Empty
            } else {
                SecretKind::CertChain
            },
            &pointer,
        );
        s.state_detail = detail;
        s.certificates = chain;
        s.problems = problems;
        s.lint = lint;
        if !roots.is_empty() {
            let fps = |c: &[CertInfo]| c.iter().map(|c| c.sha256.clone()).collect::<Vec<_>>();
            let set = match root_sets.iter().position(|(rs, ..)| fps(rs) == fps(&roots)) {
                Some(i) => i,
                None => {
                    root_sets.push((roots, Vec::new(), pointer.clone()));
                    root_sets.len() - 1
                }
            };
            root_sets[set].1.push(value.identity.clone());
            chains.push((s, Some(set)));
        } else {
            chains.push((s, None));
        }
    }
    // Names are settled once the number of sets is known.
    let n = root_sets.len();
    r.secrets = chains
        .into_iter()
        .map(|(mut s, set)| {
            s.trust = set.map(|i| root_set_name(i, n)).into_iter().collect();
            s
        })
        .collect();
    for (i, (roots, users, pointer)) in root_sets.into_iter().enumerate() {
        let mut s = Secret::new(
            root_set_name(i, n),
            SecretState::Active,
            SecretKind::Ca,
            &pointer,
        );
        s.certificates = roots;
        s.referenced_by = users;
        s.trust_role = Some(TrustRole::Mesh);
        r.secrets.push(s);
    }
    // As every report's: by name, then state (a stable sort keeps the dump's order within).
    r.secrets
        .sort_by(|a, b| (&a.name, a.state).cmp(&(&b.name, b.state)));
}

/// `ROOTCA` when every identity has the same roots (as with one mesh CA), else `ROOTCA-1`….
fn root_set_name(i: usize, total: usize) -> String {
    if total == 1 {
        "ROOTCA".to_string()
    } else {
        format!("ROOTCA-{}", i + 1)
    }
}

fn self_signed_ca(c: &CertInfo) -> bool {
    c.is_ca && c.subject == c.issuer
}

/// PEM text, or (current ztunnel) base64 of it.
fn pem_bytes(s: &str) -> Vec<u8> {
    let t = s.trim_start();
    if t.starts_with("-----BEGIN") {
        return s.as_bytes().to_vec();
    }
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .unwrap_or_else(|_| s.as_bytes().to_vec())
}

/// Where the dump's own account of a certificate differs from the certificate.
fn disagreements(said: &z::Cert, cert: &CertInfo, at: &str, issues: &mut Vec<Issue>) {
    if !said.serial_number.is_empty() {
        match decimal_serial(&said.serial_number) {
            Some(s) if s == cert.serial => {}
            Some(s) => issues.push(Issue::warning(
                &format!("{at}/serialNumber"),
                format!(
                    "the dump says serial {s}, the certificate says {}",
                    cert.serial
                ),
            )),
            None => issues.push(Issue::warning(
                &format!("{at}/serialNumber"),
                format!("`{}` is not a decimal serial number", said.serial_number),
            )),
        }
    }
    for (field, said, actual) in [
        ("validFrom", &said.valid_from, cert.not_before),
        ("expirationTime", &said.expiration_time, cert.not_after),
    ] {
        let Some(actual) = actual else { continue };
        if said.is_empty() {
            continue;
        }
        match said.parse::<Timestamp>() {
            Ok(t) if t == actual => {}
            Ok(t) => issues.push(Issue::warning(
                &format!("{at}/{field}"),
                format!("the dump says {t}, the certificate says {actual}"),
            )),
            Err(_) => issues.push(Issue::warning(
                &format!("{at}/{field}"),
                format!("`{said}` is not an RFC 3339 time"),
            )),
        }
    }
}

/// ztunnel writes serials in decimal; the model compares them as hex.
fn decimal_serial(s: &str) -> Option<Serial> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Big-endian base-256 digits, times ten plus each decimal digit.
    let mut bytes: Vec<u8> = vec![0];
    for d in s.bytes().map(|b| b - b'0') {
        let mut carry = d as u32;
        for b in bytes.iter_mut().rev() {
            let v = *b as u32 * 10 + carry;
            *b = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    Some(Serial::from_bytes(&bytes))
}

fn held_identity(s: &Secret) -> Option<WorkloadIdentity> {
    let leaf = s.certificates.first()?;
    Some(WorkloadIdentity {
        secret: s.name.clone(),
        spiffe_id: leaf.spiffe_ids.first().cloned(),
        trust_domain: leaf.trust_domain().cloned(),
        dns_names: leaf.dns_names.clone(),
        serial: Some(leaf.serial.clone()),
        not_after: leaf.not_after,
        valid_now: leaf.valid_now,
        problem: None,
        basis: IdentityBasis::Ztunnel,
        server: Vec::new(),
        client: Vec::new(),
        also_in: Vec::new(),
    })
}

fn gateway(g: Option<z::Gateway>) -> Option<WaypointRef> {
    g.map(|g| WaypointRef {
        destination: g.destination(),
        port: g.hbone_mtls_port.or(g.port),
        service: None,
    })
}

/// The service (`namespace/name`) a waypoint destination names: by VIP, or by
/// `namespace/hostname`.
fn waypoint_service(dest: &str, services: &[AmbientService]) -> Option<String> {
    services
        .iter()
        .find(|s| {
            s.vips.iter().any(|v| v == dest) || format!("{}/{}", s.namespace, s.hostname) == dest
        })
        .map(|s| format!("{}/{}", s.namespace, s.name))
}

fn workload(
    w: Located<z::Workload>,
    services: &[AmbientService],
    issues: &mut Vec<Issue>,
) -> AmbientWorkload {
    let Located { pointer, value: w } = w;
    let mut addresses = Vec::new();
    for (i, a) in w.workload_ips.iter().enumerate() {
        match a.parse() {
            Ok(ip) => addresses.push(ip),
            Err(_) => issues.push(Issue::error(
                &format!("{pointer}/workloadIps/{i}"),
                format!("`{a}` is not an IP address"),
            )),
        }
    }
    // ztunnel fills these in when its control plane leaves them empty (`TryFrom<XdsWorkload>`).
    let or = |v: &str, d: &'static str| {
        if v.is_empty() {
            d.to_string()
        } else {
            v.to_string()
        }
    };
    let service_account = or(&w.service_account, "default");
    let identity = format!(
        "spiffe://{}/ns/{}/sa/{service_account}",
        or(&w.trust_domain, "cluster.local"),
        w.namespace
    )
    .parse::<SpiffeId>()
    .ok();
    let mut waypoint = gateway(w.waypoint);
    if let Some(wp) = &mut waypoint {
        wp.service = waypoint_service(&wp.destination, services);
    }
    AmbientWorkload {
        uid: w.uid,
        name: w.name,
        namespace: w.namespace,
        addresses,
        network: w.network,
        node: w.node,
        protocol: w.protocol.as_str().into(),
        waypoint,
        identity,
        service_account,
        workload_name: w.workload_name,
        canonical_name: w.canonical_name,
        canonical_revision: w.canonical_revision,
        status: if w.status.is_empty() {
            "Healthy".into()
        } else {
            w.status
        },
        cluster_id: w.cluster_id,
        authorization_policies: w.authorization_policies,
        pointer,
    }
}

fn service(s: Located<z::Service>) -> AmbientService {
    let Located { pointer, value: s } = s;
    let healthy = s
        .endpoints
        .values()
        .filter(|e| e.status != "Unhealthy")
        .count();
    AmbientService {
        name: s.name,
        namespace: s.namespace,
        hostname: s.hostname,
        vips: s.vips,
        ports: s.ports,
        waypoint: gateway(s.waypoint),
        endpoints: s.endpoints.len(),
        healthy_endpoints: healthy,
        endpoint_uids: {
            let mut u: Vec<String> = s
                .endpoints
                .values()
                .map(|e| e.workload_uid.clone())
                .collect();
            u.sort();
            u.dedup();
            u
        },
        subject_alt_names: s.subject_alt_names,
        pointer,
    }
}

fn policy(p: Located<z::Policy>, issues: &mut Vec<Issue>) -> Option<L4Policy> {
    let Located { pointer, value: p } = p;
    let scope = match p.scope.as_str() {
        "Global" => PolicyScope::Global,
        "Namespace" => PolicyScope::Namespace,
        "WorkloadSelector" => PolicyScope::WorkloadSelector,
        other => {
            issues.push(Issue::error(
                &format!("{pointer}/scope"),
                format!("dropped: unknown scope `{other}`"),
            ));
            return None;
        }
    };
    let action = match p.action.as_str() {
        "Allow" => L4Action::Allow,
        "Deny" => L4Action::Deny,
        other => {
            issues.push(Issue::error(
                &format!("{pointer}/action"),
                format!("dropped: unknown action `{other}`"),
            ));
            return None;
        }
    };
    let mut rules = Vec::with_capacity(p.rules.len());
    for (i, rule) in p.rules.into_iter().enumerate() {
        let mut clauses = Vec::with_capacity(rule.len());
        for (j, clause) in rule.into_iter().enumerate() {
            let mut matches = Vec::with_capacity(clause.len());
            for (k, m) in clause.into_iter().enumerate() {
                let at = format!("{pointer}/rules/{i}/{j}/{k}");
                match l4_match(m) {
                    Ok(m) => matches.push(m),
                    Err(bad) => {
                        issues.push(Issue::error(
                            &at,
                            format!(
                                "dropped policy {}/{}: `{bad}` is not an address range",
                                p.namespace, p.name
                            ),
                        ));
                        return None;
                    }
                }
            }
            clauses.push(matches);
        }
        rules.push(clauses);
    }
    Some(L4Policy {
        name: p.name,
        namespace: p.namespace,
        scope,
        action,
        dry_run: p.dry_run,
        rules,
        pointer,
    })
}

fn l4_match(m: z::Match) -> Result<L4Match, String> {
    let strings = |v: Vec<z::StringMatch>| -> Vec<L4StringMatch> {
        v.into_iter()
            .map(|s| match s {
                z::StringMatch::Exact(e) => L4StringMatch::Exact(e),
                z::StringMatch::Prefix(p) => L4StringMatch::Prefix(p),
                z::StringMatch::Suffix(x) => L4StringMatch::Suffix(x),
                z::StringMatch::Presence() => L4StringMatch::Presence,
            })
            .collect()
    };
    let sas = |v: Vec<z::ServiceAccount>| -> Vec<ServiceAccountMatch> {
        v.into_iter()
            .map(|s| ServiceAccountMatch {
                namespace: s.namespace,
                service_account: s.service_account,
            })
            .collect()
    };
    let cidrs = |v: Vec<String>| -> Result<Vec<Cidr>, String> {
        v.into_iter().map(|s| s.parse().map_err(|_| s)).collect()
    };
    Ok(L4Match {
        namespaces: strings(m.namespaces),
        not_namespaces: strings(m.not_namespaces),
        service_accounts: sas(m.service_accounts),
        not_service_accounts: sas(m.not_service_accounts),
        principals: strings(m.principals),
        not_principals: strings(m.not_principals),
        source_ips: cidrs(m.source_ips)?,
        not_source_ips: cidrs(m.not_source_ips)?,
        destination_ips: cidrs(m.destination_ips)?,
        not_destination_ips: cidrs(m.not_destination_ips)?,
        destination_ports: m.destination_ports,
        not_destination_ports: m.not_destination_ports,
    })
}

/// Every workload's connections, workloads by name, inbound before outbound, each list in the
/// dump's order.
fn connections(states: Vec<Located<z::WorkloadState>>) -> Vec<AmbientConnection> {
    let mut by_workload: BTreeMap<String, Vec<AmbientConnection>> = BTreeMap::new();
    for Located { value: s, .. } in states {
        let label = format!("{}.{}", s.info.name, s.info.namespace);
        let list = by_workload.entry(label.clone()).or_default();
        for (dir, conns) in [
            (TrafficDirection::Inbound, s.connections.inbound),
            (TrafficDirection::Outbound, s.connections.outbound),
        ] {
            list.extend(conns.into_iter().map(|c| AmbientConnection {
                workload: label.clone(),
                direction: dir,
                src: c.src,
                original_dst: c.original_dst.filter(|o| !o.is_empty()),
                actual_dst: c.actual_dst,
                protocol: c.protocol,
            }));
        }
        list.sort_by_key(|c| c.direction);
    }
    by_workload.into_values().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_serials_are_the_certificates_hex() {
        let s = decimal_serial("305554775863395697262503895661564044819").unwrap();
        assert_eq!(s.to_string(), "e5dfb59150b2ba7f108d93dcec5aa613");
        assert_eq!(decimal_serial("0").unwrap(), "0".parse().unwrap());
        assert_eq!(decimal_serial("256").unwrap(), "100".parse().unwrap());
        assert!(decimal_serial("12a").is_none());
    }

    #[test]
    fn base64_of_pem_and_pem_read_alike() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        assert_eq!(pem_bytes(&b64), pem.as_bytes());
        assert_eq!(pem_bytes(pem), pem.as_bytes());
    }
}
