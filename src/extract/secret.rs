//! SDS secrets → [`Secret`], with their certificates decoded. Private keys are looked at only
//! to say whether they were redacted; their bytes never leave this function.

use crate::model::Timestamp;
use envoy_types::pb::envoy::config::core::v3::{data_source::Specifier, DataSource};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    secret, Secret as PbSecret, SpiffeCertValidatorConfig,
};

use crate::cert::parse_certificates;
use crate::decode::unpack;
use crate::model::cert::{KeyMaterial, TrustBundle};
use crate::model::{Secret, SecretKind, SecretState};

/// Envoy's redaction marker for private keys in dumps.
const REDACTED: &[u8] = b"[redacted]";

pub(crate) fn secret(
    name: String,
    version_info: Option<String>,
    pb: Option<PbSecret>,
    state: SecretState,
    pointer: &str,
    now: Timestamp,
) -> Secret {
    let name = if name.is_empty() {
        pb.as_ref().map(|s| s.name.clone()).unwrap_or_default()
    } else {
        name
    };
    let mut out = Secret::new(name, state, SecretKind::Empty, pointer);
    out.version_info = version_info.filter(|v| !v.is_empty());
    match pb.and_then(|s| s.r#type) {
        Some(secret::Type::TlsCertificate(tc)) => {
            out.kind = SecretKind::CertChain;
            if let Some(chain) = tc.certificate_chain {
                read_certs(
                    &chain,
                    now,
                    &mut out.certificates,
                    &mut out.files,
                    &mut out.problems,
                );
                out.lint = lint(&chain, &out.certificates, true);
            }
            out.private_key = key_material(tc.private_key.as_ref());
        }
        Some(secret::Type::ValidationContext(cvc)) => {
            out.kind = SecretKind::Ca;
            if let Some(ca) = &cvc.trusted_ca {
                read_certs(
                    ca,
                    now,
                    &mut out.certificates,
                    &mut out.files,
                    &mut out.problems,
                );
                out.lint = lint(ca, &out.certificates, false);
            }
            let spiffe = cvc
                .custom_validator_config
                .as_ref()
                .and_then(|c| unpack::<SpiffeCertValidatorConfig>(c.typed_config.as_ref()).known());
            for td in spiffe.map(|s| s.trust_domains).unwrap_or_default() {
                let mut certs = Vec::new();
                if let Some(bundle) = &td.trust_bundle {
                    read_certs(bundle, now, &mut certs, &mut out.files, &mut out.problems);
                }
                match td.name.parse() {
                    Ok(trust_domain) => out.trust_bundles.push(TrustBundle {
                        trust_domain,
                        certificates: certs,
                    }),
                    Err(e) => out
                        .problems
                        .push(format!("SPIFFE validator trust domain: {e}")),
                }
            }
        }
        Some(secret::Type::SessionTicketKeys(_)) => out.kind = SecretKind::SessionTicketKeys,
        Some(secret::Type::GenericSecret(_)) => out.kind = SecretKind::Generic,
        None => {}
    }
    out
}

fn read_certs(
    d: &DataSource,
    now: Timestamp,
    certs: &mut Vec<crate::model::CertInfo>,
    files: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let bytes: &[u8] = match &d.specifier {
        Some(Specifier::InlineBytes(b)) => b,
        Some(Specifier::InlineString(s)) => s.as_bytes(),
        Some(Specifier::Filename(f)) => {
            files.push(f.clone());
            return;
        }
        Some(Specifier::EnvironmentVariable(e)) => {
            files.push(format!("env:{e}"));
            return;
        }
        None => return,
    };
    let (mut found, mut bad) = parse_certificates(bytes, now);
    certs.append(&mut found);
    problems.append(&mut bad);
}

fn lint(
    d: &DataSource,
    certs: &[crate::model::CertInfo],
    chain: bool,
) -> Vec<crate::model::cert::PemLint> {
    match &d.specifier {
        Some(Specifier::InlineBytes(b)) => crate::cert::pem::lint(b, certs, chain),
        Some(Specifier::InlineString(s)) => crate::cert::pem::lint(s.as_bytes(), certs, chain),
        _ => Vec::new(),
    }
}

/// An `INLINE` secret from certificate bytes that are not an SDS secret: a TLS context's inline
/// certificate or CA, or a PEM/DER file.
pub(crate) fn from_bytes(
    name: String,
    ca: bool,
    bytes: &[u8],
    key: KeyMaterial,
    pointer: &str,
    now: Timestamp,
) -> Secret {
    let (certificates, problems) = parse_certificates(bytes, now);
    let kind = if ca
        || certificates.first().is_some_and(|c| c.is_ca) && certificates.iter().all(|c| c.is_ca)
    {
        SecretKind::Ca
    } else {
        SecretKind::CertChain
    };
    let mut out = Secret::new(name, SecretState::Inline, kind, pointer);
    out.lint = crate::cert::pem::lint(bytes, &certificates, kind == SecretKind::CertChain);
    out.certificates = certificates;
    out.problems = problems;
    out.private_key = key;
    out
}

pub(crate) fn key_material(d: Option<&DataSource>) -> KeyMaterial {
    match d.and_then(|d| d.specifier.as_ref()) {
        None => KeyMaterial::Absent,
        Some(Specifier::InlineBytes(b)) if b.as_slice() == REDACTED => KeyMaterial::Redacted,
        Some(Specifier::InlineString(s)) if s.as_bytes() == REDACTED => KeyMaterial::Redacted,
        Some(Specifier::Filename(f)) if f.as_bytes() == REDACTED => KeyMaterial::Redacted,
        Some(Specifier::InlineBytes(b)) => KeyMaterial::Exposed { bytes: b.len() },
        Some(Specifier::InlineString(s)) => KeyMaterial::Exposed { bytes: s.len() },
        Some(Specifier::Filename(f)) => KeyMaterial::File { path: f.clone() },
        Some(Specifier::EnvironmentVariable(e)) => KeyMaterial::File {
            path: format!("env:{e}"),
        },
    }
}
