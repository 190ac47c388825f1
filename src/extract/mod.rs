//! Protos → the domain model. The only layer besides `decode/` that sees `envoy_types`;
//! [`report`] turns any decoded document into a [`Report`], judging validity at `now`.

mod policy;
mod resources;
mod secret;
mod tls;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::admin::v3 as admin;
use envoy_types::pb::envoy::config::cluster::v3::Cluster as PbCluster;
use envoy_types::pb::envoy::config::core::v3::Node as PbNode;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener as PbListener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret as PbSecret;
use envoy_types::pb::google::protobuf::Any;
use time::OffsetDateTime;

use crate::cert::{rfc3339, serial_hex};
use crate::decode::{
    any::type_name, typeurl, unpack, Decoded, DecodedDump, Issue, SectionType, Unpacked,
};
use crate::model::cert::{CertInfo, KeyMaterial, MissingSecret};
use crate::model::report::SCHEMA_VERSION;
use crate::model::tls::{CertSource, ValidationSource};
use crate::model::{
    Counts, Endpoint, Node, OutboundMode, OutboundPolicy, RawConfig, Report, ResourceState,
    SecretKind, SecretState, SectionCounts, Socket, TlsContext, Warning, WorkloadIdentity,
};
use resources::unpack_or_note;

/// Builds the report for one decoded document.
pub fn report(source: &str, decoded: Decoded, now: OffsetDateTime) -> Report {
    let mut r = Report {
        schema_version: SCHEMA_VERSION,
        source: source.to_string(),
        document: crate::source::DocumentKind::ConfigDump,
        now: rfc3339(now),
        node: None,
        counts: SectionCounts::default(),
        identity: None,
        outbound: OutboundPolicy {
            mode: OutboundMode::NotApplicable,
            evidence: Vec::new(),
        },
        inbound: Vec::new(),
        clusters: Vec::new(),
        listeners: Vec::new(),
        routes: Vec::new(),
        endpoints: Vec::new(),
        secrets: Vec::new(),
        missing_secrets: Vec::new(),
        warnings: Vec::new(),
    };
    let mut issues = Vec::new();
    match decoded {
        Decoded::ConfigDump(d) => config_dump(*d, now, &mut r, &mut issues),
        Decoded::Certs(c, i) => {
            r.document = crate::source::DocumentKind::Certs;
            issues = i;
            certs_document(c, now, &mut r);
        }
        Decoded::ClusterStatuses(c, i) => {
            r.document = crate::source::DocumentKind::ClusterStatuses;
            issues = i;
            cluster_statuses(c, &mut r);
        }
        Decoded::ServerInfo(s, i) => {
            r.document = crate::source::DocumentKind::ServerInfo;
            issues = i;
            r.node = s.node.map(|n| node(n, None));
            if let Some(n) = &mut r.node {
                // `<sha>/1.40.0/Clean/RELEASE/BoringSSL` → drop the sha, as istioctl does.
                n.envoy_version = s
                    .version
                    .split_once('/')
                    .map(|(_, v)| v.to_string())
                    .or(n.envoy_version.take());
            }
        }
    }
    r.warnings = aggregate(issues);
    r
}

fn config_dump(mut d: DecodedDump, now: OffsetDateTime, r: &mut Report, issues: &mut Vec<Issue>) {
    let has = |s| d.sections.contains(&s);
    if let Some(b) = d.bootstrap.take() {
        if let Some(n) = b.value.bootstrap.and_then(|b| b.node) {
            r.node = Some(node(n, None));
        }
    }
    let mut counts = SectionCounts::default();
    if has(SectionType::Clusters) {
        counts.clusters = Some(Counts {
            static_: d.static_clusters.len(),
            active: d.active_clusters.len(),
            warming: d.warming_clusters.len(),
            draining: 0,
        });
    }
    for c in std::mem::take(&mut d.static_clusters) {
        let ptr = format!("{}/cluster", c.pointer);
        if let Some(pb) = unpack_or_note::<PbCluster>(c.value.cluster.as_ref(), &ptr, issues) {
            r.clusters
                .push(resources::cluster(pb, ResourceState::Static, &ptr));
        }
    }
    for (list, state) in [
        (
            std::mem::take(&mut d.active_clusters),
            ResourceState::Active,
        ),
        (
            std::mem::take(&mut d.warming_clusters),
            ResourceState::Warming,
        ),
    ] {
        for c in list {
            let ptr = format!("{}/cluster", c.pointer);
            if let Some(pb) = unpack_or_note::<PbCluster>(c.value.cluster.as_ref(), &ptr, issues) {
                r.clusters.push(resources::cluster(pb, state, &ptr));
            }
        }
    }
    if has(SectionType::Listeners) {
        let mut c = Counts {
            static_: d.static_listeners.len(),
            ..Counts::default()
        };
        for l in &d.dynamic_listeners {
            c.active += usize::from(l.value.active_state.is_some());
            c.warming += usize::from(l.value.warming_state.is_some());
            c.draining += usize::from(l.value.draining_state.is_some());
        }
        counts.listeners = Some(c);
    }
    for l in std::mem::take(&mut d.static_listeners) {
        let ptr = format!("{}/listener", l.pointer);
        if let Some(pb) = unpack_or_note::<PbListener>(l.value.listener.as_ref(), &ptr, issues) {
            r.listeners
                .push(resources::listener(pb, ResourceState::Static, &ptr));
        }
    }
    for l in std::mem::take(&mut d.dynamic_listeners) {
        let v = l.value;
        for (state, s, key) in [
            (ResourceState::Active, v.active_state, "active_state"),
            (ResourceState::Warming, v.warming_state, "warming_state"),
            (ResourceState::Draining, v.draining_state, "draining_state"),
        ] {
            let Some(s) = s else { continue };
            let ptr = format!("{}/{key}/listener", l.pointer);
            if let Some(pb) = unpack_or_note::<PbListener>(s.listener.as_ref(), &ptr, issues) {
                r.listeners.push(resources::listener(pb, state, &ptr));
            }
        }
    }
    if has(SectionType::Routes) {
        counts.routes = Some(Counts {
            static_: d.static_routes.len(),
            active: d.dynamic_routes.len(),
            ..Counts::default()
        });
    }
    let route_lists = [
        (
            d.static_routes
                .drain(..)
                .map(|x| (x.pointer, x.value.route_config))
                .collect::<Vec<_>>(),
            ResourceState::Static,
        ),
        (
            d.dynamic_routes
                .drain(..)
                .map(|x| (x.pointer, x.value.route_config))
                .collect(),
            ResourceState::Active,
        ),
    ];
    for (list, state) in route_lists {
        for (ptr, any) in list {
            let ptr = format!("{ptr}/route_config");
            if let Some(pb) = unpack_or_note::<RouteConfiguration>(any.as_ref(), &ptr, issues) {
                r.routes.push(resources::route_config(pb, state, &ptr));
            }
        }
    }
    if has(SectionType::Endpoints) {
        counts.endpoints = Some(Counts {
            static_: d.static_endpoints.len(),
            active: d.dynamic_endpoints.len(),
            ..Counts::default()
        });
    }
    let endpoint_lists = [
        d.static_endpoints
            .drain(..)
            .map(|x| (x.pointer, x.value.endpoint_config))
            .collect::<Vec<_>>(),
        d.dynamic_endpoints
            .drain(..)
            .map(|x| (x.pointer, x.value.endpoint_config))
            .collect(),
    ];
    for (ptr, any) in endpoint_lists.into_iter().flatten() {
        let ptr = format!("{ptr}/endpoint_config");
        if let Some(pb) = unpack_or_note::<ClusterLoadAssignment>(any.as_ref(), &ptr, issues) {
            resources::endpoints(pb, &ptr, &mut r.endpoints);
        }
    }
    if has(SectionType::Secrets) {
        counts.secrets = Some(Counts {
            static_: d.static_secrets.len(),
            active: d.active_secrets.len(),
            warming: d.warming_secrets.len(),
            draining: 0,
        });
    }
    for s in std::mem::take(&mut d.static_secrets) {
        let ptr = format!("{}/secret", s.pointer);
        let pb = unpack_or_note::<PbSecret>(s.value.secret.as_ref(), &ptr, issues);
        r.secrets.push(secret::secret(
            s.value.name,
            None,
            pb,
            SecretState::Static,
            &ptr,
            now,
        ));
    }
    for (list, state) in [
        (std::mem::take(&mut d.active_secrets), SecretState::Active),
        (std::mem::take(&mut d.warming_secrets), SecretState::Warming),
    ] {
        for s in list {
            let ptr = format!("{}/secret", s.pointer);
            let pb = unpack_or_note::<PbSecret>(s.value.secret.as_ref(), &ptr, issues);
            let state = if state == SecretState::Warming && s.value.version_info == "uninitialized"
            {
                SecretState::Uninitialized
            } else {
                state
            };
            r.secrets.push(secret::secret(
                s.value.name,
                Some(s.value.version_info),
                pb,
                state,
                &ptr,
                now,
            ));
        }
    }
    for s in &r.secrets {
        for p in &s.problems {
            issues.push(Issue::error(&s.pointer, format!("secret {}: {p}", s.name)));
        }
    }
    counts.scoped_routes = has(SectionType::ScopedRoutes).then_some(d.scoped_routes);
    counts.ecds_filters = has(SectionType::Ecds).then_some(d.ecds_filters.len());
    r.counts = counts;

    sort(r);
    r.outbound = policy::outbound(&r.listeners, &r.routes, &r.clusters);
    r.inbound = policy::inbound(&r.listeners);
    link_secrets(r, has(SectionType::Secrets));
    r.identity = identity(r);
    issues.append(&mut d.issues);
}

fn sort(r: &mut Report) {
    r.clusters
        .sort_by(|a, b| (&a.name, a.state).cmp(&(&b.name, b.state)));
    r.listeners
        .sort_by(|a, b| (&a.name, a.state, &a.pointer).cmp(&(&b.name, b.state, &b.pointer)));
    r.routes
        .sort_by(|a, b| (&a.name, a.state, &a.pointer).cmp(&(&b.name, b.state, &b.pointer)));
    r.endpoints
        .sort_by(|a, b| (&a.cluster, &a.address).cmp(&(&b.cluster, &b.address)));
    r.secrets
        .sort_by(|a, b| (&a.name, a.state).cmp(&(&b.name, b.state)));
}

/// Who references each SDS secret, and which referenced names the dump lacks.
fn link_secrets(r: &mut Report, have_secret_section: bool) {
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut note = |ctx: &TlsContext, who: &str| {
        let names = ctx.certificates.iter().filter_map(|c| match c {
            CertSource::Sds { name } => Some(name),
            _ => None,
        });
        let trust = ctx.validation.iter().filter_map(|v| match v {
            ValidationSource::Sds { name } => Some(name),
            _ => None,
        });
        for name in names.chain(trust) {
            refs.entry(name.clone())
                .or_default()
                .insert(who.to_string());
        }
    };
    for c in &r.clusters {
        let sockets =
            std::iter::once(&c.tls.default).chain(c.tls.matches.iter().map(|m| &m.socket));
        for s in sockets {
            if let Socket::Tls(ctx) = s {
                note(ctx, &format!("cluster {}", c.name));
            }
        }
    }
    for l in &r.listeners {
        for (i, ch) in l.filter_chains.iter().enumerate() {
            if let Socket::Tls(ctx) = &ch.tls {
                let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
                note(ctx, &format!("listener {} chain {chain}", l.name));
            }
        }
    }
    for s in &mut r.secrets {
        if let Some(who) = refs.get(&s.name) {
            s.referenced_by = who.iter().cloned().collect();
        }
    }
    if have_secret_section {
        let known: BTreeSet<&str> = r.secrets.iter().map(|s| s.name.as_str()).collect();
        r.missing_secrets = refs
            .iter()
            .filter(|(name, _)| !known.contains(name.as_str()))
            .map(|(name, who)| MissingSecret {
                name: name.clone(),
                referenced_by: who.iter().cloned().collect(),
            })
            .collect();
    }
}

/// The workload identity: the `default` secret (Istio), else the first certificate secret whose
/// leaf carries a SPIFFE ID.
fn identity(r: &Report) -> Option<WorkloadIdentity> {
    let chains = || r.secrets.iter().filter(|s| s.kind == SecretKind::CertChain);
    let secret = chains().find(|s| s.name == "default").or_else(|| {
        chains().find(|s| {
            s.certificates
                .first()
                .is_some_and(|c| !c.spiffe_ids.is_empty())
        })
    });
    let Some(secret) = secret else {
        // Pre-SDS Istio mounts the workload certificate from a file: say so.
        let file = r
            .clusters
            .iter()
            .flat_map(|c| {
                std::iter::once(&c.tls.default).chain(c.tls.matches.iter().map(|m| &m.socket))
            })
            .find_map(|s| match s {
                Socket::Tls(ctx) => ctx.certificates.iter().find_map(|c| match c {
                    CertSource::File { path } => Some(path.clone()),
                    _ => None,
                }),
                _ => None,
            })?;
        return Some(WorkloadIdentity {
            secret: String::new(),
            spiffe_id: None,
            trust_domain: None,
            serial: None,
            not_after: None,
            valid_now: false,
            problem: Some(format!(
                "certificate is read from the file {file}, which a config dump does not contain"
            )),
        });
    };
    let leaf: Option<&CertInfo> = secret.certificates.first();
    let spiffe_id = leaf.and_then(|c| c.spiffe_ids.first().cloned());
    let problem = match (leaf, &spiffe_id) {
        (None, _) if !secret.files.is_empty() => Some(format!(
            "certificate is read from the file {}, which a config dump does not contain",
            secret.files[0]
        )),
        (None, _) => Some(format!(
            "secret {} holds no certificate ({})",
            secret.name, secret.state
        )),
        (Some(c), None) if !c.bad_spiffe_ids.is_empty() => Some(c.bad_spiffe_ids[0].clone()),
        (Some(_), None) => Some("the leaf certificate has no SPIFFE ID".into()),
        _ => None,
    };
    Some(WorkloadIdentity {
        secret: secret.name.clone(),
        trust_domain: spiffe_id.as_ref().map(|id| id.trust_domain().clone()),
        spiffe_id,
        serial: leaf.map(|c| c.serial.clone()),
        not_after: leaf.map(|c| c.not_after.clone()),
        valid_now: leaf.is_some_and(|c| c.valid_now),
        problem,
    })
}

fn node(n: PbNode, _unused: Option<()>) -> Node {
    let meta = n
        .metadata
        .as_ref()
        .map(resources::struct_strings)
        .unwrap_or_default();
    let parts: Vec<&str> = n.id.split('~').collect();
    let (proxy_type, ip, workload) = match parts.as_slice() {
        [t, ip, w, _] => (
            Some(t.to_string()),
            Some(ip.to_string()),
            Some(w.to_string()),
        ),
        _ => (None, None, None),
    };
    use envoy_types::pb::envoy::config::core::v3::node::UserAgentVersionType;
    let envoy_version = match n.user_agent_version_type {
        Some(UserAgentVersionType::UserAgentBuildVersion(b)) => Some(b),
        _ => None,
    }
    .map(|b| {
        let v = b.version.unwrap_or_default();
        let m = b
            .metadata
            .as_ref()
            .map(resources::struct_strings)
            .unwrap_or_default();
        let mut s = format!("{}.{}.{}", v.major_number, v.minor_number, v.patch);
        for key in ["revision.status", "build.type", "ssl.version"] {
            if let Some(x) = m.get(key) {
                s.push('/');
                s.push_str(x);
            }
        }
        s
    });
    Node {
        cluster: Some(n.cluster).filter(|c| !c.is_empty()),
        istio_version: meta.get("ISTIO_VERSION").cloned(),
        id: n.id,
        proxy_type,
        ip,
        workload,
        envoy_version,
    }
}

/// `/certs`: each certificate Envoy holds, as CA or chain entries.
fn certs_document(c: admin::Certificates, now: OffsetDateTime, r: &mut Report) {
    use envoy_types::pb::envoy::admin::v3::subject_alternate_name::Name;
    for (i, entry) in c.certificates.into_iter().enumerate() {
        for (kind, list, key) in [
            (SecretKind::Ca, entry.ca_cert, "ca_cert"),
            (SecretKind::CertChain, entry.cert_chain, "cert_chain"),
        ] {
            let certs: Vec<CertInfo> = list
                .into_iter()
                .map(|d| {
                    let ts = |t: Option<envoy_types::pb::google::protobuf::Timestamp>| {
                        t.and_then(|t| OffsetDateTime::from_unix_timestamp(t.seconds).ok())
                    };
                    let (from, to) = (ts(d.valid_from), ts(d.expiration_time));
                    let mut info = CertInfo {
                        subject: String::new(),
                        issuer: String::new(),
                        serial: serial_hex(&hex_bytes(&d.serial_number)),
                        not_before: from.map(rfc3339).unwrap_or_default(),
                        not_after: to.map(rfc3339).unwrap_or_default(),
                        valid_now: matches!((from, to), (Some(f), Some(t)) if f <= now && now <= t),
                        is_ca: kind == SecretKind::Ca,
                        spiffe_ids: Vec::new(),
                        bad_spiffe_ids: Vec::new(),
                        dns_names: Vec::new(),
                        other_uris: Vec::new(),
                    };
                    for san in d.subject_alt_names {
                        match san.name {
                            Some(Name::Uri(u)) if u.starts_with("spiffe://") => match u.parse() {
                                Ok(id) => info.spiffe_ids.push(id),
                                Err(e) => info.bad_spiffe_ids.push(format!("{e}")),
                            },
                            Some(Name::Uri(u)) => info.other_uris.push(u),
                            Some(Name::Dns(d)) => info.dns_names.push(d),
                            _ => {}
                        }
                    }
                    (d.path, info)
                })
                .map(|(path, info)| {
                    let _ = path;
                    info
                })
                .collect();
            if certs.is_empty() {
                continue;
            }
            r.secrets.push(crate::model::Secret {
                name: format!("certificates[{i}].{key}"),
                state: SecretState::Active,
                kind,
                version_info: None,
                certificates: certs,
                trust_bundles: Vec::new(),
                files: Vec::new(),
                private_key: KeyMaterial::Absent,
                referenced_by: Vec::new(),
                problems: Vec::new(),
                pointer: format!("/certificates/{i}/{key}"),
            });
        }
    }
}

fn hex_bytes(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let s = if s.len() % 2 == 1 { format!("0{s}") } else { s };
    (0..s.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// `/clusters?format=json`: endpoints with their health as Envoy sees it now.
fn cluster_statuses(c: admin::Clusters, r: &mut Report) {
    use envoy_types::pb::envoy::config::core::v3::HealthStatus;
    for (i, cs) in c.cluster_statuses.into_iter().enumerate() {
        for (j, h) in cs.host_statuses.into_iter().enumerate() {
            let hs = h.health_status.unwrap_or_default();
            let failed = hs.failed_active_health_check
                || hs.failed_outlier_check
                || hs.failed_active_degraded_check
                || hs.pending_dynamic_removal;
            let health = if failed {
                "UNHEALTHY".to_string()
            } else {
                HealthStatus::try_from(hs.eds_health_status)
                    .map(|s| s.as_str_name().to_string())
                    .unwrap_or_default()
            };
            r.endpoints.push(Endpoint {
                cluster: cs.name.clone(),
                address: h
                    .address
                    .as_ref()
                    .map(resources::format_address)
                    .unwrap_or_default(),
                health,
                locality: h
                    .locality
                    .map(|l| {
                        [l.region, l.zone, l.sub_zone]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .filter(|l| !l.is_empty()),
                weight: Some(h.weight),
                socket_match: BTreeMap::new(),
                pointer: format!("/cluster_statuses/{i}/host_statuses/{j}"),
            });
        }
    }
    r.endpoints
        .sort_by(|a, b| (&a.cluster, &a.address).cmp(&(&b.cluster, &b.address)));
}

/// Groups issues by message: count and first place. Errors first.
fn aggregate(issues: Vec<Issue>) -> Vec<Warning> {
    let mut groups: BTreeMap<(Reverse<crate::decode::Severity>, String), (usize, String)> =
        BTreeMap::new();
    for i in issues {
        let e = groups
            .entry((Reverse(i.severity), i.message))
            .or_insert((0, i.pointer.clone()));
        e.0 += 1;
        if i.pointer < e.1 {
            e.1 = i.pointer;
        }
    }
    groups
        .into_iter()
        .map(
            |((Reverse(severity), message), (count, first_pointer))| Warning {
                severity,
                message,
                count,
                first_pointer,
            },
        )
        .collect()
}

/// A known type we do not look into, or an unknown one with its JSON.
pub(crate) fn raw_config(any: &Any) -> RawConfig {
    match unpack::<crate::decode::any::Never>(Some(any)) {
        Unpacked::Raw { type_url, raw_json } => RawConfig {
            type_url: typeurl::message_name(&type_url).to_string(),
            raw: serde_json::from_str(&raw_json).ok().map(|mut v| {
                scrub_keys(&mut v);
                v
            }),
        },
        _ => RawConfig {
            type_url: type_name(any),
            raw: None,
        },
    }
}

/// Field names whose values are key material in Envoy and Istio configs.
const KEY_FIELDS: &[&str] = &[
    "private_key",
    "privateKey",
    "password",
    "session_ticket_keys",
    "sessionTicketKeys",
    "keys",
];
const ELIDED: &str = "[elided by envinspect]";

/// Raw JSON of unknown types is shown to users: no private key may ride along in it.
fn scrub_keys(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if KEY_FIELDS.contains(&k.as_str()) && !x.is_null() {
                    *x = serde_json::Value::String(ELIDED.into());
                } else {
                    scrub_keys(x);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_keys),
        serde_json::Value::String(s) if s.contains("PRIVATE KEY-----") => *s = ELIDED.into(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_json_never_carries_keys() {
        let mut v = serde_json::json!({"a": {"private_key": {"inline_string": "x"}}, "b": ["-----BEGIN EC PRIVATE KEY-----\nAA"], "c": 1});
        scrub_keys(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": {"private_key": ELIDED}, "b": [ELIDED], "c": 1})
        );
    }

    #[test]
    fn issues_are_grouped_by_message() {
        let w = aggregate(vec![
            Issue::warning("/b", "m"),
            Issue::warning("/a", "m"),
            Issue::error("/c", "e"),
        ]);
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].severity, w[0].count),
            (crate::decode::Severity::Error, 1)
        );
        assert_eq!((w[1].count, w[1].first_pointer.as_str()), (2, "/a"));
    }
}
