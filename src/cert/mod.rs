//! Certificates from bytes: PEM (one or many blocks) or DER → [`CertInfo`] facts, judged
//! against a `now` the caller gives (the library never reads the clock).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::model::{CertInfo, SpiffeId};

/// Parses every certificate in `bytes` (PEM blocks, or a single DER certificate). Non-certificate
/// PEM blocks are skipped; each unreadable certificate is a problem, not a failure.
pub fn parse_certificates(bytes: &[u8], now: OffsetDateTime) -> (Vec<CertInfo>, Vec<String>) {
    let mut certs = Vec::new();
    let mut problems = Vec::new();
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
            match pem {
                Ok(pem) if pem.label == "CERTIFICATE" => match parse_der(&pem.contents, now) {
                    Ok(info) => certs.push(info),
                    Err(e) => problems.push(format!("PEM block {}: {e}", i + 1)),
                },
                Ok(pem) if pem.label.contains("PRIVATE KEY") => {
                    problems.push(format!(
                        "PEM block {}: a private key where certificates belong",
                        i + 1
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    problems.push(format!("PEM block {}: {e}", i + 1));
                    break;
                }
            }
        }
    } else if !bytes.is_empty() {
        match parse_der(bytes, now) {
            Ok(info) => certs.push(info),
            Err(e) => problems.push(format!("not PEM, and not a DER certificate: {e}")),
        }
    }
    (certs, problems)
}

fn parse_der(der: &[u8], now: OffsetDateTime) -> Result<CertInfo, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let validity = cert.validity();
    let not_before = validity.not_before.to_datetime();
    let not_after = validity.not_after.to_datetime();
    let mut info = CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: serial_hex(cert.raw_serial()),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        valid_now: not_before <= now && now <= not_after,
        is_ca: cert.is_ca(),
        spiffe_ids: Vec::new(),
        bad_spiffe_ids: Vec::new(),
        dns_names: Vec::new(),
        other_uris: Vec::new(),
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
                _ => {}
            }
        }
    }
    Ok(info)
}

/// The serial as istioctl prints it (`%032x` of the integer).
pub fn serial_hex(raw: &[u8]) -> String {
    let digits: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let digits = digits.trim_start_matches('0');
    format!("{digits:0>32}")
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_padded_like_istioctl() {
        assert_eq!(
            serial_hex(&[0x01, 0x93]),
            "00000000000000000000000000000193"
        );
        assert_eq!(
            serial_hex(&[0x00, 0xff]),
            "000000000000000000000000000000ff"
        );
        let twenty = [0x52u8; 20];
        assert_eq!(serial_hex(&twenty).len(), 40);
    }

    #[test]
    fn real_pem_bundle() {
        let pem = include_bytes!("../../fixtures/envoy-1.40/certs/ca.pem");
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let (certs, problems) = parse_certificates(pem, now);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(certs.len(), 1);
        assert!(certs[0].is_ca);
    }

    #[test]
    fn garbage_is_a_problem_not_a_panic() {
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let (certs, problems) = parse_certificates(b"\x30\x03\x02\x01", now);
        assert!(certs.is_empty());
        assert_eq!(problems.len(), 1);
        let (_, problems) = parse_certificates(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            now,
        );
        assert_eq!(
            problems,
            ["PEM block 1: a private key where certificates belong"]
        );
    }
}
