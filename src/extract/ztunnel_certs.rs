//! A ztunnel's certificates → secrets: one per identity (its state, its chain), one CA secret
//! per distinct set of roots, and the identities it holds. Certificates are judged from their
//! DER; where the dump's own `serialNumber`, `validFrom` or `expirationTime` disagree with it, a
//! warning names the field.

use base64::Engine as _;

use crate::decode::ztunnel as z;
use crate::decode::{Issue, Located};
use crate::model::cert::TrustRole;
use crate::model::{
    CertInfo, IdentityBasis, Report, Secret, SecretKind, SecretState, Serial, Timestamp,
    WorkloadIdentity,
};

/// One secret per identity (named by it), and one CA secret per distinct set of roots.
pub(super) fn certificate_secrets(
    entries: Vec<Located<z::CertsDump>>,
    now: Timestamp,
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
            Some(s) => issues.push(
                Issue::warning(
                    &format!("{at}/serialNumber"),
                    format!(
                        "the dump says serial {s}, the certificate says {}",
                        cert.serial
                    ),
                )
                .quoting([s.to_string(), said.serial_number.clone()]),
            ),
            None => issues.push(
                Issue::warning(
                    &format!("{at}/serialNumber"),
                    format!("`{}` is not a decimal serial number", said.serial_number),
                )
                .quoting([said.serial_number.clone()]),
            ),
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
            Ok(t) => issues.push(
                Issue::warning(
                    &format!("{at}/{field}"),
                    format!("the dump says {t}, the certificate says {actual}"),
                )
                .quoting([t.to_string()]),
            ),
            Err(_) => issues.push(
                Issue::warning(
                    &format!("{at}/{field}"),
                    format!("`{said}` is not an RFC 3339 time"),
                )
                .quoting([said.to_string()]),
            ),
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

pub(super) fn held_identity(s: &Secret) -> Option<WorkloadIdentity> {
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
