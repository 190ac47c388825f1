//! A ztunnel dump → the report: its certificates (`ztunnel_certs`), and its workloads, services,
//! L4 policies and connections ([`Ambient`]), with each identity linked to the workloads that
//! carry it.

use std::collections::BTreeMap;

use crate::model::Timestamp;

use crate::decode::ztunnel::{self as z, ZtunnelDump};
use crate::decode::{Issue, Located};
use crate::model::ambient::{
    Ambient, AmbientConnection, AmbientService, AmbientWorkload, L4Action, L4Match, L4Policy,
    L4StringMatch, PolicyScope, ServiceAccountMatch, WaypointRef,
};
use crate::model::ids::Cidr;
use crate::model::{Counts, Report, SecretKind, SecretState, SpiffeId, TrafficDirection};

/// Fills `r` from the dump; returns what decoding and extraction met.
pub(crate) fn ztunnel(d: ZtunnelDump, now: Timestamp, r: &mut Report) -> Vec<Issue> {
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
    super::ztunnel_certs::certificate_secrets(certificates, now, r, &mut issues);
    crate::cert::findings::check(r);
    r.identities = r
        .secrets
        .iter()
        .filter(|s| s.kind == SecretKind::CertChain && s.state == SecretState::Active)
        .filter_map(super::ztunnel_certs::held_identity)
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
    let waypoints = WaypointIndex::of(&services);
    for w in services.iter_mut().filter_map(|s| s.waypoint.as_mut()) {
        w.service = waypoints.service(&w.destination);
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
            .map(|w| workload(w, &waypoints, &mut issues))
            .collect(),
        services,
        policies: policies
            .into_iter()
            .filter_map(|p| policy(p, &mut issues))
            .collect(),
        connections: connections(workload_state),
    };
    // istioctl's order: `namespace.name`, then node.
    ambient
        .workloads
        .sort_by_cached_key(|w| (format!("{}.{}", w.namespace, w.name), w.node.clone()));
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
    let mut carriers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in a
        .workloads
        .iter()
        .filter(|w| a.node.as_ref().is_none_or(|n| *n == w.node))
    {
        if let Some(id) = &w.identity {
            carriers
                .entry(id.to_string())
                .or_default()
                .push(format!("workload {}", w.label()));
        }
    }
    for s in r.secrets.iter_mut().filter(|s| s.kind != SecretKind::Ca) {
        s.referenced_by = carriers.get(s.name.as_str()).cloned().unwrap_or_default();
    }
}

fn gateway(g: Option<z::Gateway>) -> Option<WaypointRef> {
    g.map(|g| WaypointRef {
        destination: g.destination(),
        port: g.hbone_mtls_port.or(g.port),
        service: None,
    })
}

/// The services a waypoint destination may name, by VIP (`network/address`) and by
/// `namespace/hostname`, each to its `namespace/name`; built once, the first service of the dump
/// winning where two claim one destination.
struct WaypointIndex(BTreeMap<String, String>);

impl WaypointIndex {
    fn of(services: &[AmbientService]) -> Self {
        let mut m = BTreeMap::new();
        for s in services {
            let name = format!("{}/{}", s.namespace, s.name);
            let hostname = format!("{}/{}", s.namespace, s.hostname);
            for dest in s.vips.iter().cloned().chain([hostname]) {
                m.entry(dest).or_insert_with(|| name.clone());
            }
        }
        WaypointIndex(m)
    }

    fn service(&self, dest: &str) -> Option<String> {
        self.0.get(dest).cloned()
    }
}

fn workload(
    w: Located<z::Workload>,
    waypoints: &WaypointIndex,
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
        wp.service = waypoints.service(&wp.destination);
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
        pointer: pointer.into(),
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
        pointer: pointer.into(),
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
        pointer: pointer.into(),
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
