//! Who the proxy is: its node, its workload identity, and which TLS contexts use which secret.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::bootstrap::v3::Bootstrap;
use envoy_types::pb::envoy::config::core::v3::Node as PbNode;

use super::resources;
use crate::model::cert::{CertInfo, MissingSecret, TrustRole};
use crate::model::tls::{CertSource, ValidationSource};
use crate::model::{
    IdentityBasis, Node, Report, Secret, SecretKind, SecretState, Socket, TlsContext,
    WorkloadIdentity,
};

/// A TLS context and who holds it: a cluster (client side: its default socket, then each
/// transport socket match) or a listener's chain (server side).
pub(crate) struct Holder<'a> {
    /// `cluster X`, `cluster X match M`, `listener L chain C` (`#i` for an unnamed chain).
    pub owner: String,
    pub ctx: &'a TlsContext,
    pub cluster: Option<&'a str>,
    pub listener: Option<&'a crate::model::Listener>,
}

pub(crate) fn holders(r: &Report) -> Vec<Holder<'_>> {
    let mut out = Vec::new();
    for c in &r.clusters {
        // The owner's name is written only for a TLS socket: most clusters of a large dump
        // are plaintext, and formatting a name for each was 1.4% of a whole run.
        let sockets = std::iter::once((None, &c.tls.default))
            .chain(c.tls.matches.iter().map(|m| (Some(&m.name), &m.socket)));
        for (matched, socket) in sockets {
            if let Socket::Tls(ctx) = socket {
                out.push(Holder {
                    owner: match matched {
                        None => format!("cluster {}", c.name),
                        Some(m) => format!("cluster {} match {m}", c.name),
                    },
                    ctx,
                    cluster: Some(&c.name),
                    listener: None,
                });
            }
        }
    }
    for l in &r.listeners {
        for (i, ch) in l.filter_chains.iter().enumerate() {
            if let Socket::Tls(ctx) = &ch.tls {
                let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
                out.push(Holder {
                    owner: format!("listener {} chain {chain}", l.name),
                    ctx,
                    cluster: None,
                    listener: Some(l),
                });
            }
        }
    }
    out
}

/// Who references each SDS secret, and which referenced names the dump lacks.
pub(crate) fn link_secrets(r: &mut Report, have_secret_section: bool) {
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
            refs.entry(name.to_string())
                .or_default()
                .insert(who.to_string());
        }
    };
    for h in holders(r) {
        note(h.ctx, &h.owner);
    }
    for s in &mut r.secrets {
        if let Some(who) = refs.get(s.name.as_str()) {
            s.referenced_by = who.iter().cloned().collect();
        }
    }
    if have_secret_section {
        let known: BTreeSet<&str> = r.secrets.iter().map(|s| s.name.as_str()).collect();
        r.missing_secrets = refs
            .iter()
            .filter(|(name, _)| !known.contains(name.as_str()))
            .map(|(name, who)| MissingSecret {
                name: name.clone().into(),
                referenced_by: who.iter().cloned().collect(),
            })
            .collect();
    }
}

/// The secrets holding one leaf (each with its most telling use), and all their uses.
type Group<'a> = (Vec<(&'a Secret, IdentityBasis)>, Vec<&'a Use>);

/// Where a TLS context presents a certificate.
struct Use {
    basis: IdentityBasis,
    at: String,
}

/// Every distinct certificate the proxy presents, grouped by leaf, primary first (by
/// [`IdentityBasis`], then by how often it is used); then certificate secrets that no TLS context
/// references.
pub(crate) fn identities(r: &Report) -> Vec<WorkloadIdentity> {
    // Secret label → the uses of the certificate it holds.
    let mut uses: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    // Certificates a context names but the dump cannot show (files, providers).
    let mut elsewhere: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    let mut note = |ctx: &TlsContext, owner: String, basis: IdentityBasis| {
        for c in &ctx.certificates {
            let at = owner.clone();
            match c {
                CertSource::Sds { name } => uses.entry(name.to_string()).or_default(),
                CertSource::Inline { .. } => {
                    uses.entry(format!("{owner} (inline cert)")).or_default()
                }
                CertSource::File { path } => elsewhere.entry(format!("file {path}")).or_default(),
                CertSource::Provider { name } => elsewhere
                    .entry(format!("certificate provider {name}"))
                    .or_default(),
            }
            .push(Use { basis, at });
        }
    };
    let control_plane = r
        .node
        .as_ref()
        .map(|n| n.control_plane_clusters.as_slice())
        .unwrap_or_default();
    for h in holders(r) {
        let basis = match (h.cluster, h.listener) {
            (Some(c), _) if control_plane.iter().any(|x| x == c) => IdentityBasis::ControlPlane,
            (Some(_), _) => IdentityBasis::Client,
            (None, Some(l))
                if l.name == "virtualInbound"
                    || l.direction == Some(crate::model::TrafficDirection::Inbound) =>
            {
                IdentityBasis::InboundServer
            }
            (None, _) => IdentityBasis::Server,
        };
        note(h.ctx, h.owner, basis);
    }
    // Group the secrets holding one leaf; an SDS secret not in the dump is its own group.
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for s in r.secrets.iter().filter(|s| s.kind == SecretKind::CertChain) {
        let key = match s.certificates.first().and_then(|l| l.sha256.as_ref()) {
            Some(fp) => fp.to_string(),
            None => format!("secret {}", s.name),
        };
        let g = groups.entry(key).or_default();
        let mine = uses
            .get(s.name.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let best = mine.iter().map(|u| u.basis).min();
        g.0.push((s, best.unwrap_or(IdentityBasis::Unreferenced)));
        g.1.extend(mine);
    }
    let mut out: Vec<WorkloadIdentity> = groups
        .into_values()
        .map(|(secrets, uses)| from_secrets(&secrets, &uses))
        .collect();
    // A certificate secret that contexts name but the dump lacks is still what they present.
    for m in &r.missing_secrets {
        let Some(u) = uses.get(m.name.as_str()) else {
            continue;
        };
        let mut id = unresolved(&m.name, u.iter().collect());
        id.problem = Some(format!(
            "secret {} is referenced but not in the dump (never delivered)",
            m.name
        ));
        out.push(id);
    }
    for (what, uses) in &elsewhere {
        let mut id = unresolved("", uses.iter().collect());
        id.problem = Some(format!(
            "the certificate is read from the {what}, which a config dump does not contain"
        ));
        out.push(id);
    }
    out.sort_by_key(|id| {
        (
            id.basis,
            std::cmp::Reverse(id.server.len() + id.client.len()),
            id.spiffe_id.is_none(),
            id.secret.clone(),
        )
    });
    out
}

/// The primary identity: the first certificate a TLS context presents to workloads (not the one
/// only the control-plane link uses); when none is (a dump without listeners and clusters, or a
/// secrets-only one), Istio's `default` secret, else the first other one with a SPIFFE ID.
pub(crate) fn primary(all: &[WorkloadIdentity]) -> Option<WorkloadIdentity> {
    let used = all.iter().find(|i| i.basis < IdentityBasis::ControlPlane);
    used.or_else(|| all.iter().find(|i| i.secret == "default"))
        .or_else(|| all.iter().find(|i| i.spiffe_id.is_some()))
        .cloned()
}

fn unresolved(secret: &str, uses: Vec<&Use>) -> WorkloadIdentity {
    let mut id = WorkloadIdentity {
        secret: secret.into(),
        spiffe_id: None,
        trust_domain: None,
        dns_names: Vec::new(),
        serial: None,
        not_after: None,
        valid_now: false,
        problem: None,
        basis: uses
            .iter()
            .map(|u| u.basis)
            .min()
            .unwrap_or(IdentityBasis::Unreferenced),
        server: Vec::new(),
        client: Vec::new(),
        also_in: Vec::new(),
    };
    for u in uses {
        match u.basis {
            IdentityBasis::Client | IdentityBasis::ControlPlane => id.client.push(u.at.clone()),
            _ => id.server.push(u.at.clone()),
        }
    }
    id.server.sort();
    id.server.dedup();
    id.client.sort();
    id.client.dedup();
    id
}

fn from_secrets(secrets: &[(&Secret, IdentityBasis)], uses: &[&Use]) -> WorkloadIdentity {
    // The SDS secret names the group when there is one, else the copy with the most telling use.
    let mut secrets = secrets.to_vec();
    secrets.sort_by_key(|(s, best)| (s.state == SecretState::Inline, *best, s.name.clone()));
    let secret = secrets[0].0;
    let mut id = unresolved(&secret.name, uses.to_vec());
    id.also_in = secrets[1..].iter().map(|(s, _)| s.label()).collect();
    let leaf: Option<&CertInfo> = secret.certificates.first();
    let spiffe_id = leaf.and_then(|c| c.spiffe_ids.first().cloned());
    id.problem = match (leaf, &spiffe_id) {
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
    if id.basis == IdentityBasis::Unreferenced && secret.state != SecretState::Inline {
        let why = "no TLS context in the dump references this secret";
        id.problem = Some(match id.problem.take() {
            Some(p) => format!("{why}; {p}"),
            None => why.into(),
        });
    }
    id.trust_domain = spiffe_id.as_ref().map(|s| s.trust_domain().clone());
    id.spiffe_id = spiffe_id;
    id.dns_names = leaf.map(|c| c.dns_names.clone()).unwrap_or_default();
    id.serial = leaf.map(|c| c.serial.clone());
    id.not_after = leaf.and_then(|c| c.not_after);
    id.valid_now = leaf.is_some_and(|c| c.valid_now);
    id
}

/// The clusters named by the bootstrap's xDS config sources (ADS, LDS, CDS over gRPC or REST).
pub(crate) fn control_plane_clusters(b: &Bootstrap) -> Vec<String> {
    use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
    use envoy_types::pb::envoy::config::core::v3::grpc_service::TargetSpecifier;
    use envoy_types::pb::envoy::config::core::v3::ApiConfigSource;
    let mut out = BTreeSet::new();
    let mut api = |a: &ApiConfigSource| {
        out.extend(a.cluster_names.iter().cloned());
        for g in &a.grpc_services {
            if let Some(TargetSpecifier::EnvoyGrpc(e)) = &g.target_specifier {
                out.insert(e.cluster_name.clone());
            }
        }
    };
    if let Some(d) = &b.dynamic_resources {
        if let Some(a) = &d.ads_config {
            api(a);
        }
        for c in [&d.lds_config, &d.cds_config].into_iter().flatten() {
            if let Some(ConfigSourceSpecifier::ApiConfigSource(a)) = &c.config_source_specifier {
                api(a);
            }
        }
    }
    out.into_iter().filter(|c| !c.is_empty()).collect()
}

pub(crate) fn node(n: PbNode) -> Node {
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
        // A build label (`dev`, `rc.1`) is part of the version Envoy reports: `1.19.2-dev`.
        if let Some(label) = m.get("build.label").filter(|l| !l.is_empty()) {
            s.push('-');
            s.push_str(label);
        }
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
        control_plane_clusters: Vec::new(),
        interception: interception(n.metadata.as_ref(), &meta),
    }
}

/// Istio's redirection settings: the pod annotations the node metadata carries
/// (`ANNOTATIONS`), and `INTERCEPTION_MODE`. `None` when there are neither.
fn interception(
    m: Option<&envoy_types::pb::google::protobuf::Struct>,
    meta: &BTreeMap<String, String>,
) -> Option<crate::model::intercept::Interception> {
    use envoy_types::pb::google::protobuf::value::Kind;
    // Istio ≥1.4 nests the pod's annotations under ANNOTATIONS; 1.3 put them at the top.
    let nested = match m
        .and_then(|m| m.fields.get("ANNOTATIONS"))
        .and_then(|v| v.kind.as_ref())
    {
        Some(Kind::StructValue(a)) => resources::struct_strings(a),
        _ => BTreeMap::new(),
    };
    let annotations: BTreeMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(nested)
        .filter(|(k, _)| {
            use crate::model::intercept::{REWRITE_PROBES, STATUS_PORT};
            k.starts_with("traffic.sidecar.istio.io/") || k == REWRITE_PROBES || k == STATUS_PORT
        })
        .collect();
    let mode = meta.get("INTERCEPTION_MODE").cloned();
    (mode.is_some() || !annotations.is_empty()).then_some(crate::model::intercept::Interception {
        mode,
        annotations,
        // Set by the caller, which knows where the bootstrap is.
        pointer: String::new().into(),
    })
}

/// Marks each CA secret a TLS context uses as mesh or external trust (see [`TrustRole`]).
pub(crate) fn trust_roles(r: &mut Report) {
    let primary = r.identity.as_ref().map(|i| i.secret.clone());
    let workload: BTreeSet<&str> = r
        .secrets
        .iter()
        .filter(|s| s.kind == SecretKind::CertChain)
        .filter(|s| {
            Some(s.name.as_str()) == primary.as_deref()
                || s.certificates
                    .first()
                    .is_some_and(|c| !c.spiffe_ids.is_empty())
        })
        .map(|s| s.name.as_str())
        .collect();
    let mut roles: BTreeMap<String, TrustRole> = BTreeMap::new();
    let control_plane = r
        .node
        .as_ref()
        .map(|n| n.control_plane_clusters.clone())
        .unwrap_or_default();
    let mut note = |ctx: &TlsContext, owner: &str, xds: bool| {
        let presents_workload = ctx.certificates.iter().any(|c| match c {
            CertSource::Sds { name } => workload.contains(name.as_str()),
            CertSource::Inline { .. } => {
                workload.contains(format!("{owner} (inline cert)").as_str())
            }
            _ => false,
        });
        let mesh = presents_workload
            || ctx
                .san_matchers
                .iter()
                .any(|m| m.matcher.value.starts_with("spiffe://"))
            || ctx
                .validation
                .iter()
                .any(|v| matches!(v, ValidationSource::SpiffeBundles { .. }));
        let role = if xds {
            TrustRole::ControlPlane
        } else if mesh {
            TrustRole::Mesh
        } else {
            TrustRole::External
        };
        for v in &ctx.validation {
            let name = match v {
                ValidationSource::Sds { name } => name.clone(),
                ValidationSource::InlineCa { .. } => format!("{owner} (inline CA)").into(),
                _ => continue,
            };
            let e = roles.entry(name.to_string()).or_insert(role);
            *e = (*e).min(role);
        }
    };
    for h in holders(r) {
        let xds = h
            .cluster
            .is_some_and(|c| control_plane.iter().any(|x| x == c));
        note(h.ctx, &h.owner, xds);
    }
    for s in &mut r.secrets {
        s.trust_role = roles.get(s.name.as_str()).copied();
    }
}
