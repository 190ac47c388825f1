//! Protos → the domain model. The only layer besides `decode/` that sees `envoy_types`;
//! [`report`] turns any decoded document into a [`Report`], judging validity at `now`.

mod admin_docs;
mod authz;
mod identity;
mod jwt;
mod lists;
mod matcher;
mod policy;
mod provenance;
mod request_match;
mod resources;
mod secret;
mod telemetry;
mod tls;
mod updates;
mod ztunnel;
mod ztunnel_certs;

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::mem::take;

use crate::model::Timestamp;
use envoy_types::pb::envoy::admin::v3 as admin;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret as PbSecret;
use envoy_types::pb::google::protobuf::Any;

use crate::decode::{
    any::type_name, typeurl, unpack, Decoded, DecodedDump, Issue, Located, SectionType, Unpacked,
};
use crate::model::report::SCHEMA_VERSION;
use crate::model::{
    Counts, OutboundMode, OutboundPolicy, RawConfig, Report, SecretState, SectionCounts, Warning,
};
use resources::unpack_or_note;

/// Builds the report for one decoded document. `roots` (a name and PEM/DER bytes) are extra
/// trust anchors for a certificate file; a config dump's lists are extracted on up to `threads`
/// threads, capped at `par::MAX_THREADS`.
pub(crate) fn report(
    source: &str,
    decoded: Decoded,
    now: Timestamp,
    roots: Option<(&str, &[u8])>,
    threads: usize,
) -> Report {
    let mut r = Report {
        schema_version: SCHEMA_VERSION,
        source: source.to_string(),
        document: crate::model::DocumentKind::ConfigDump,
        now,
        node: None,
        counts: SectionCounts::default(),
        identity: None,
        identities: Vec::new(),
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
        authz: Vec::new(),
        ambient: None,
        findings: Vec::new(),
        warnings: Vec::new(),
        rejected_updates: Vec::new(),
        accepted: Default::default(),
        expiry_warning: crate::diagnose::RuleOptions::default().expiry_warning,
    };
    let mut issues = Vec::new();
    match decoded {
        Decoded::ConfigDump(d) => config_dump(*d, now, threads, &mut r, &mut issues),
        Decoded::Certificates(bytes) => {
            r.document = crate::model::DocumentKind::Certificates;
            certificate_file(source, &bytes, roots, now, &mut r, &mut issues);
        }
        Decoded::Certs(c, i) => {
            r.document = crate::model::DocumentKind::Certs;
            issues = i;
            admin_docs::certs_document(c, now, &mut r);
        }
        Decoded::ClusterStatuses(c, i) => {
            r.document = crate::model::DocumentKind::ClusterStatuses;
            issues = i;
            admin_docs::cluster_statuses(c, &mut r);
        }
        Decoded::Ztunnel(d) => {
            r.document = crate::model::DocumentKind::Ztunnel;
            issues = ztunnel::ztunnel(*d, now, &mut r);
        }
        Decoded::ServerInfo(s, i) => {
            r.document = crate::model::DocumentKind::ServerInfo;
            issues = i;
            r.node = s.node.map(identity::node);
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

fn config_dump(
    mut d: DecodedDump,
    now: Timestamp,
    threads: usize,
    r: &mut Report,
    issues: &mut Vec<Issue>,
) {
    let sections = take(&mut d.sections);
    let has = |s| sections.contains(&s);
    if let Some((pointer, mut b)) = d
        .bootstrap
        .take()
        .and_then(|b| Some((b.pointer, b.value.bootstrap?)))
    {
        let control_plane = identity::control_plane_clusters(&b);
        if let Some(n) = b.node.take() {
            let mut node = identity::node(n);
            node.control_plane_clusters = control_plane;
            if let Some(i) = node.interception.as_mut() {
                i.pointer = format!("{pointer}/bootstrap/node/metadata").into();
            }
            r.node = Some(node);
        }
    }
    let counts = SectionCounts {
        clusters: has(SectionType::Clusters).then(|| {
            Counts::of(
                d.static_clusters.len(),
                d.active_clusters.len(),
                d.warming_clusters.len(),
                0,
            )
        }),
        listeners: has(SectionType::Listeners).then(|| {
            let dl = &d.dynamic_listeners;
            let n = |f: fn(&admin::listeners_config_dump::DynamicListener) -> bool| {
                dl.iter().filter(|l| f(&l.value)).count()
            };
            Counts::of(
                d.static_listeners.len(),
                n(|l| l.active_state.is_some()),
                n(|l| l.warming_state.is_some()),
                n(|l| l.draining_state.is_some()),
            )
        }),
        routes: has(SectionType::Routes)
            .then(|| Counts::of(d.static_routes.len(), d.dynamic_routes.len(), 0, 0)),
        endpoints: has(SectionType::Endpoints)
            .then(|| Counts::of(d.static_endpoints.len(), d.dynamic_endpoints.len(), 0, 0)),
        secrets: has(SectionType::Secrets).then(|| {
            Counts::of(
                d.static_secrets.len(),
                d.active_secrets.len(),
                d.warming_secrets.len(),
                0,
            )
        }),
        scoped_routes: has(SectionType::ScopedRoutes).then_some(d.scoped_routes),
        ecds_filters: has(SectionType::Ecds).then_some(d.ecds_filters.len()),
    };

    r.rejected_updates = updates::rejected(&d);
    r.accepted = updates::accepted(&d, &r.rejected_updates);
    lists::extract(&mut d, threads, r, issues);

    for (ptr, w, pb) in unpacked::<_, PbSecret>(
        take(&mut d.static_secrets),
        "secret",
        |w| w.secret.as_ref(),
        issues,
    ) {
        r.secrets.push(secret::secret(
            w.name,
            None,
            pb,
            SecretState::Static,
            &ptr,
            now,
        ));
    }
    for (list, state) in [
        (take(&mut d.active_secrets), SecretState::Active),
        (take(&mut d.warming_secrets), SecretState::Warming),
    ] {
        for (ptr, w, pb) in unpacked::<_, PbSecret>(list, "secret", |w| w.secret.as_ref(), issues) {
            let state = if state == SecretState::Warming && w.version_info == "uninitialized" {
                SecretState::Uninitialized
            } else {
                state
            };
            let last_updated = lists::when(w.last_updated.as_ref());
            let mut s = secret::secret(w.name, Some(w.version_info), pb, state, &ptr, now);
            s.last_updated = last_updated;
            r.secrets.push(s);
        }
    }
    inline_secrets(r, now);
    for s in &r.secrets {
        for p in &s.problems {
            issues.push(Issue::error(&s.pointer, format!("secret {}: {p}", s.name)));
        }
    }
    r.counts = counts;

    file_endpoints_by_cluster(r);
    sort(r);
    let own_ip = r.node.as_ref().and_then(|n| n.ip.clone());
    r.outbound = policy::outbound(&r.listeners, &r.routes, &r.clusters, own_ip.as_deref());
    r.inbound = policy::inbound(&r.listeners);
    identity::link_secrets(r, has(SectionType::Secrets));
    r.identities = identity::identities(r);
    r.identity = identity::primary(&r.identities);
    identity::trust_roles(r);
    crate::cert::findings::check(r);
    issues.append(&mut d.issues);
}

/// A dump files an EDS cluster's endpoints under its `eds_cluster_config.service_name` when one
/// is set (measured on Envoy 1.40: the `ClusterLoadAssignment`'s `cluster_name` is the service
/// name). Each such endpoint is filed under every cluster that reads that service name, as
/// `/clusters` lists it, with the service name kept; one filed under a cluster's own name stays.
fn file_endpoints_by_cluster(r: &mut Report) {
    let mut by_service: BTreeMap<&str, Vec<&crate::model::ClusterName>> = BTreeMap::new();
    for c in &r.clusters {
        if let Some(s) = c.traffic.eds_service_name.as_deref() {
            if s != c.name.as_str() {
                by_service.entry(s).or_default().push(&c.name);
            }
        }
    }
    if by_service.is_empty() {
        return;
    }
    let own: std::collections::BTreeSet<&str> = r
        .clusters
        .iter()
        .filter(|c| c.traffic.eds_service_name.is_none())
        .map(|c| c.name.as_str())
        .collect();
    let mut out = Vec::with_capacity(r.endpoints.len());
    for e in std::mem::take(&mut r.endpoints) {
        let Some(clusters) = by_service.get(e.cluster.as_str()) else {
            out.push(e);
            continue;
        };
        for name in clusters {
            out.push(crate::model::Endpoint {
                cluster: (*name).clone(),
                eds_service_name: Some(e.cluster.to_string()),
                ..e.clone()
            });
        }
        if own.contains(e.cluster.as_str()) {
            out.push(e);
        }
    }
    r.endpoints = out;
}

/// Certificates carried inline in TLS contexts become `INLINE` secrets named after their owner
/// (`cluster X (inline cert)`, `… (inline CA)`); the chain is verified against the same
/// context's inline CA.
fn inline_secrets(r: &mut Report, now: Timestamp) {
    let mut found = Vec::new();
    let mut take_from = |ctx: &mut crate::model::TlsContext, owner: String, pointer: &str| {
        let material = std::mem::take(&mut ctx.inline);
        let ca_name = format!("{owner} (inline CA)");
        let has_ca = material.iter().any(|m| m.ca);
        for m in material {
            let name = if m.ca {
                ca_name.clone()
            } else {
                format!("{owner} (inline cert)")
            };
            let mut s = secret::from_bytes(name, m.ca, &m.bytes, m.key, pointer, now);
            if !m.ca && has_ca {
                s.trust = vec![ca_name.clone()];
            }
            s.referenced_by = vec![owner.clone()];
            found.push(s);
        }
    };
    for c in &mut r.clusters {
        let (name, ptr) = (c.name.clone(), c.pointer.clone());
        if let crate::model::Socket::Tls(ctx) = &mut c.tls.default {
            take_from(ctx, format!("cluster {name}"), &ptr);
        }
        for m in &mut c.tls.matches {
            if let crate::model::Socket::Tls(ctx) = &mut m.socket {
                take_from(ctx, format!("cluster {name} match {}", m.name), &ptr);
            }
        }
    }
    for l in &mut r.listeners {
        let (name, ptr) = (l.name.clone(), l.pointer.clone());
        for (i, ch) in l.filter_chains.iter_mut().enumerate() {
            let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
            if let crate::model::Socket::Tls(ctx) = &mut ch.tls {
                take_from(ctx, format!("listener {name} chain {chain}"), &ptr);
            }
        }
    }
    found.dedup_by(|a, b| a.name == b.name);
    r.secrets.extend(found);
}

/// A PEM or DER file (and `--roots`): one `INLINE` secret, verified against the roots.
fn certificate_file(
    name: &str,
    bytes: &[u8],
    roots: Option<(&str, &[u8])>,
    now: Timestamp,
    r: &mut Report,
    issues: &mut Vec<Issue>,
) {
    let mut s = secret::from_bytes(
        name.to_string(),
        false,
        bytes,
        crate::model::cert::KeyMaterial::Absent,
        "",
        now,
    );
    if let Some((roots_name, roots_bytes)) = roots {
        let anchors = secret::from_bytes(
            roots_name.to_string(),
            true,
            roots_bytes,
            crate::model::cert::KeyMaterial::Absent,
            "",
            now,
        );
        for p in &anchors.problems {
            issues.push(Issue::error("", format!("{roots_name}: {p}")));
        }
        s.trust = vec![anchors.name.to_string()];
        r.secrets.push(anchors);
    }
    for p in &s.problems {
        issues.push(Issue::error("", format!("{name}: {p}")));
    }
    if s.certificates.is_empty() && s.problems.is_empty() {
        issues.push(Issue::error(
            "",
            format!("{name}: no certificate in the file"),
        ));
    }
    r.secrets.push(s);
    sort(r);
    crate::cert::findings::check(r);
}

/// Unpacks the `Any` (at `field`) of each wrapper: `(pointer, wrapper, Some(T))`, or `None` with an
/// error issue when the `Any` holds something else.
///
/// Lazily, one resource at a time: a typed proto is many times the size of its wire bytes, so
/// each is decoded, turned into the model by the caller and dropped before the next one is
/// decoded (holding a whole list of them set the peak memory of a large dump).
pub(super) fn unpacked<'a, W: 'a, T: prost::Message + prost::Name + Default>(
    list: Vec<Located<W>>,
    field: &'a str,
    any: impl Fn(&W) -> Option<&Any> + 'a,
    issues: &'a mut Vec<Issue>,
) -> impl Iterator<Item = (String, W, Option<T>)> + 'a {
    list.into_iter().map(move |l| {
        let ptr = format!("{}/{field}", l.pointer);
        let t = unpack_or_note::<T>(any(&l.value), &ptr, issues);
        (ptr, l.value, t)
    })
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

/// Groups issues by message: count and first place. Errors first.
fn aggregate(issues: Vec<Issue>) -> Vec<Warning> {
    type Group = (usize, String, Option<String>, Vec<String>);
    let mut groups: BTreeMap<(Reverse<crate::decode::Severity>, String), Group> = BTreeMap::new();
    for i in issues {
        let e = groups.entry((Reverse(i.severity), i.message)).or_insert((
            0,
            i.pointer.clone(),
            i.kept_raw,
            i.quoted,
        ));
        e.0 += 1;
        if i.pointer < e.1 {
            e.1 = i.pointer;
        }
    }
    groups
        .into_iter()
        .map(
            |((Reverse(severity), message), (count, first_pointer, kept_raw, quoted))| Warning {
                severity,
                message,
                count,
                first_pointer,
                kept_raw,
                quoted,
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
