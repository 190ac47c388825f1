//! Certificates from bytes: PEM (one or many blocks) or DER → [`CertInfo`] facts, judged
//! against a `now` the caller gives (the library never reads the clock); PEM hygiene ([`pem`]);
//! chain verification ([`verify`]); and the findings they lead to ([`check`]).

mod error;
pub(crate) mod findings;
pub(crate) mod pem;
pub(crate) mod verify;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

pub use error::{CertError, LinkError};

use crate::model::{CertDer, CertInfo, Fingerprint, Serial, SpiffeId, Timestamp};

/// Parses every certificate in `bytes` (PEM blocks, or a single DER certificate). Non-certificate
/// PEM blocks are skipped; each unreadable certificate is a problem, not a failure.
pub fn parse_certificates(bytes: &[u8], now: Timestamp) -> (Vec<CertInfo>, Vec<String>) {
    let mut certs = Vec::new();
    let mut problems = Vec::new();
    if pem::is_pem(bytes) {
        for block in pem::blocks(bytes) {
            match block {
                Ok(b) if b.label == "CERTIFICATE" => match parse_der(b.der, now) {
                    Ok(info) => certs.push(info),
                    Err(e) => problems.push(format!("PEM block {}: {e}", b.index + 1)),
                },
                // Reported by the PEM lint (never with the key's bytes).
                Ok(_) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
    } else if !bytes.is_empty() {
        match parse_der(bytes.to_vec(), now) {
            Ok(info) => certs.push(info),
            Err(e) => problems.push(format!("not PEM, and not a DER certificate: {e}")),
        }
    }
    (certs, problems)
}

pub(crate) fn parse_der(der: Vec<u8>, now: Timestamp) -> Result<CertInfo, CertError> {
    let (_, cert) = X509Certificate::from_der(&der).map_err(|e| CertError::Der {
        reason: e.to_string(),
    })?;
    let validity = cert.validity();
    let not_before = Timestamp::from(validity.not_before.to_datetime());
    let not_after = Timestamp::from(validity.not_after.to_datetime());
    let (key_algorithm, key_bits) = key_facts(&cert);
    let mut info = CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: Serial::from_bytes(cert.raw_serial()),
        not_before: Some(not_before),
        not_after: Some(not_after),
        valid_now: not_before <= now && now <= not_after,
        seconds_left: now.seconds_until(not_after),
        is_ca: cert.is_ca(),
        spiffe_ids: Vec::new(),
        bad_spiffe_ids: Vec::new(),
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        emails: Vec::new(),
        other_uris: Vec::new(),
        key_algorithm,
        key_bits,
        key_usage: key_usage(&cert),
        extended_key_usage: extended_key_usage(&cert),
        sha256: Some(sha256(&der)),
        der: None,
    };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::URI(uri) if uri.starts_with("spiffe://") => {
                    match uri.parse::<SpiffeId>() {
                        Ok(id) => info.spiffe_ids.push(id),
                        Err(e) => info.bad_spiffe_ids.push(e.to_string()),
                    }
                }
                GeneralName::URI(uri) => info.other_uris.push(uri.to_string()),
                GeneralName::DNSName(dns) => info.dns_names.push(dns.to_string()),
                GeneralName::RFC822Name(mail) => info.emails.push(mail.to_string()),
                GeneralName::IPAddress(ip) => info.ip_addresses.push(ip_text(ip)),
                _ => {}
            }
        }
    }
    drop(cert);
    info.der = Some(CertDer::try_from(der)?);
    Ok(info)
}

fn key_facts(cert: &X509Certificate<'_>) -> (String, Option<u32>) {
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".into(), Some(rsa.key_size() as u32)),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let name = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ECDSA P-256",
                Some("1.3.132.0.34") => "ECDSA P-384",
                Some("1.3.132.0.35") => "ECDSA P-521",
                _ => "ECDSA",
            };
            (name.into(), Some(point.key_size() as u32))
        }
        _ if oid == "1.3.101.112" => ("Ed25519".into(), Some(256)),
        _ => (format!("OID {oid}"), None),
    }
}

fn key_usage(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ku)) = cert.key_usage() else {
        return Vec::new();
    };
    let ku = ku.value;
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "contentCommitment"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n.to_string())
    .collect()
}

fn extended_key_usage(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(eku)) = cert.extended_key_usage() else {
        return Vec::new();
    };
    let e = eku.value;
    let mut out: Vec<String> = [
        (e.any, "any"),
        (e.server_auth, "serverAuth"),
        (e.client_auth, "clientAuth"),
        (e.code_signing, "codeSigning"),
        (e.email_protection, "emailProtection"),
        (e.time_stamping, "timeStamping"),
        (e.ocsp_signing, "OCSPSigning"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n.to_string())
    .collect();
    out.extend(e.other.iter().map(|o| o.to_id_string()));
    out
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// The SHA-256 fingerprint of a certificate's DER.
pub(crate) fn sha256(der: &[u8]) -> Fingerprint {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    Fingerprint::from_digest(bytes)
}

/// What a table shows for a certificate's remaining life: `29d 3h`, `expired 3d 0h ago`, or
/// `not yet valid`.
pub(crate) fn remaining(c: &crate::model::CertInfo) -> String {
    if !c.valid_now && c.seconds_left >= 0 {
        "not yet valid".into()
    } else {
        time_left(c.seconds_left)
    }
}

/// `29d 3h`, `5h 12m`, `expired 3d 0h ago`.
pub fn time_left(seconds: i64) -> String {
    let (abs, past) = (seconds.unsigned_abs(), seconds < 0);
    let (d, h, m) = (abs / 86_400, abs % 86_400 / 3_600, abs % 3_600 / 60);
    let text = if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else {
        format!("{m}m")
    };
    if past {
        format!("expired {text} ago")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_well() {
        assert_eq!(time_left(29 * 86_400 + 3 * 3_600 + 5), "29d 3h");
        assert_eq!(time_left(5 * 3_600 + 12 * 60), "5h 12m");
        assert_eq!(time_left(-3 * 86_400), "expired 3d 0h ago");
    }

    #[test]
    fn real_pem() {
        let pem = include_bytes!("../../fixtures/envoy-1.40/certs/ca.pem");
        let now = time::macros::datetime!(2026-12-01 0:00 UTC);
        let (certs, problems) = parse_certificates(pem, now.into());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(certs.len(), 1);
        assert!(certs[0].is_ca);
        assert!(certs[0].sha256.is_some());
        assert!(certs[0].der.is_some());
    }

    #[test]
    fn garbage_is_a_problem_not_a_panic() {
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let (certs, problems) = parse_certificates(b"\x30\x03\x02\x01", now.into());
        assert!(certs.is_empty());
        assert_eq!(problems.len(), 1);
    }
}
