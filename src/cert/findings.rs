//! Judges the certificates in a report: a chain verdict for every certificate-chain secret, and
//! the findings (expiry, broken or untrusted chains, malformed SPIFFE IDs, exposed keys, PEM
//! hygiene, missing or never-delivered secrets). Works on the model only.

use crate::model::RuleId;
use std::collections::BTreeSet;

use super::verify::{verify_chain, Root};
use crate::model::cert::{BreakKind, KeyMaterial};
use crate::model::timestamp::or_unknown;
use crate::model::tls::{CertSource, ValidationSource};
use crate::model::{ChainVerdict, Finding, Report, SecretKind, SecretState, Socket, TlsContext};

pub(crate) fn check(r: &mut Report) {
    let verdicts: Vec<ChainVerdict> = r.secrets.iter().map(|s| verdict(r, s)).collect();
    for (s, v) in r.secrets.iter_mut().zip(verdicts) {
        s.chain = v;
    }
    let mut f = Vec::new();
    for s in &r.secrets {
        let subject = s.label();
        for (i, c) in s.certificates.iter().enumerate() {
            let what = if s.kind == SecretKind::CertChain && i == 0 {
                "leaf".to_string()
            } else {
                format!("certificate {} ({})", i + 1, c.subject)
            };
            if !c.valid_now && c.seconds_left < 0 {
                f.push(Finding::new(
                    RuleId::CertExpired,
                    &subject,
                    format!("{what} expired at {}", or_unknown(c.not_after)),
                ));
            } else if !c.valid_now {
                f.push(Finding::new(
                    RuleId::CertNotYetValid,
                    &subject,
                    format!("{what} is not valid before {}", or_unknown(c.not_before)),
                ));
            }
            for bad in &c.bad_spiffe_ids {
                f.push(Finding::new(
                    RuleId::SpiffeIdMalformed,
                    &subject,
                    format!("{what}: {bad}"),
                ));
            }
        }
        if s.kind == SecretKind::CertChain {
            // The leaf: the first non-CA certificate (a reversed chain is reported separately).
            let leaf = s
                .certificates
                .iter()
                .find(|c| !c.is_ca)
                .or(s.certificates.first());
            if leaf.is_some_and(|l| !l.has_san()) {
                f.push(Finding::new(
                    RuleId::CertNoSan,
                    &subject,
                    "the leaf has no subject alternative name: peers matching SANs reject it",
                ));
            }
        }
        match &s.chain {
            // A certificate of the chain, or its root, not valid now is its own finding
            // (cert-expired, cert-not-yet-valid, on this secret or the root's).
            ChainVerdict::Broken {
                kind: BreakKind::Validity | BreakKind::RootValidity,
                ..
            } => {}
            ChainVerdict::Broken { link, reason, .. } => {
                f.push(Finding::new(RuleId::ChainBroken, &subject, format!("link {link}: {reason}")));
            }
            ChainVerdict::Untrusted { issuer, roots } => f.push(Finding::new(RuleId::ChainUntrusted,
                &subject,
                format!("no trusted root ({roots} known) issued {issuer}: peers trusting those roots reject this certificate"),
            )),
            _ => {}
        }
        if let KeyMaterial::Exposed { bytes } = s.private_key {
            f.push(Finding::new(RuleId::PrivateKeyExposed, &subject, format!("the dump holds an unredacted private key ({bytes} bytes); its content is not shown")));
        }
        for l in &s.lint {
            f.push(Finding::new(l.rule, &subject, l.detail.clone()));
        }
        if s.state == SecretState::Uninitialized {
            let who = if s.referenced_by.is_empty() {
                String::new()
            } else {
                format!("; used by {}", s.referenced_by.join(", "))
            };
            f.push(Finding::new(
                RuleId::SecretUninitialized,
                &subject,
                format!("SDS never delivered it (version_info: uninitialized){who}"),
            ));
        }
    }
    for m in &r.missing_secrets {
        let mut finding = Finding::new(
            RuleId::SecretMissing,
            format!("secret {}", m.name),
            format!(
                "referenced by {} but not in the dump{}",
                m.referenced_by.join(", "),
                missing_hint(&m.name)
            ),
        );
        // Evidence: the clusters and listeners naming it (`cluster X`, `listener L chain C`).
        for who in &m.referenced_by {
            let pointer = if let Some(name) = who.strip_prefix("cluster ") {
                r.clusters
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| c.pointer.as_str())
            } else {
                let listener = who
                    .strip_prefix("listener ")
                    .and_then(|l| l.split(" chain ").next());
                r.listeners
                    .iter()
                    .find(|l| Some(l.name.as_str()) == listener)
                    .map(|l| l.pointer.as_str())
            };
            finding = finding.at(pointer.unwrap_or_default());
        }
        f.push(finding);
    }
    // Evidence: the secret each finding is about, or the TLS contexts naming a missing one.
    for finding in &mut f {
        if let Some(s) = r
            .secrets
            .iter()
            .find(|s| s.label() == finding.subject && !s.pointer.is_empty())
        {
            finding.evidence.push(s.pointer.to_string());
        }
    }
    f.sort();
    f.dedup();
    r.findings = f;
}

fn verdict(r: &Report, s: &crate::model::Secret) -> ChainVerdict {
    if s.kind != SecretKind::CertChain || s.certificates.is_empty() {
        return ChainVerdict::NotApplicable;
    }
    let names = if s.trust.is_empty() {
        trust_sources(r, &s.name)
    } else {
        s.trust.iter().cloned().collect()
    };
    let mut roots = Vec::new();
    let leaf_td = s.certificates[0].trust_domain();
    for anchor in r.secrets.iter().filter(|a| names.contains(a.name.as_str())) {
        for c in &anchor.certificates {
            roots.push(Root {
                source: anchor.name.to_string(),
                cert: c,
            });
        }
        // SPIFFE bundles: the bundle of the leaf's trust domain (all of them if it has none).
        for b in anchor
            .trust_bundles
            .iter()
            .filter(|b| leaf_td.is_none_or(|td| *td == b.trust_domain))
        {
            for c in &b.certificates {
                roots.push(Root {
                    source: format!("{} [{}]", anchor.name, b.trust_domain),
                    cert: c,
                });
            }
        }
    }
    verify_chain(&s.certificates, &roots)
}

/// The validation secrets paired with `secret` in the TLS contexts that use it; `ROOTCA` (Istio)
/// when none names one.
fn trust_sources(r: &Report, secret: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut visit = |ctx: &TlsContext| {
        let uses = ctx
            .certificates
            .iter()
            .any(|c| matches!(c, CertSource::Sds { name } if name == secret));
        if uses {
            for v in &ctx.validation {
                if let ValidationSource::Sds { name } = v {
                    names.insert(name.to_string());
                }
            }
        }
    };
    for c in &r.clusters {
        c.tls.contexts().for_each(&mut visit);
    }
    for l in &r.listeners {
        for ch in &l.filter_chains {
            if let Socket::Tls(ctx) = &ch.tls {
                visit(ctx);
            }
        }
    }
    if names.is_empty() {
        names.insert("ROOTCA".into());
    }
    names
}

/// What a missing secret's name says about where it should come from.
fn missing_hint(name: &str) -> String {
    if let Some(secret) = name.strip_prefix("kubernetes://") {
        format!(": the gateway's credentialName {secret} has no Kubernetes secret it can read (wrong namespace, or not created)")
    } else if let Some(path) = name.strip_prefix("file-root:") {
        format!(": DestinationRule caCertificates {path} is not mounted in the proxy")
    } else if let Some(path) = name.strip_prefix("file-cert:") {
        format!(": DestinationRule clientCertificate {path} is not mounted in the proxy")
    } else {
        String::new()
    }
}
