//! Who the proxy is: its node, its workload identity, and which TLS contexts use which secret.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::core::v3::Node as PbNode;

use super::resources;
use crate::model::cert::{CertInfo, MissingSecret};
use crate::model::tls::{CertSource, ValidationSource};
use crate::model::{Node, Report, SecretKind, Socket, TlsContext, WorkloadIdentity};

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
            refs.entry(name.clone())
                .or_default()
                .insert(who.to_string());
        }
    };
    for c in &r.clusters {
        for ctx in c.tls.contexts() {
            note(ctx, &format!("cluster {}", c.name));
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
pub(crate) fn identity(r: &Report) -> Option<WorkloadIdentity> {
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
            .flat_map(|c| c.tls.contexts())
            .find_map(|ctx| {
                ctx.certificates.iter().find_map(|c| match c {
                    CertSource::File { path } => Some(path.clone()),
                    _ => None,
                })
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
