//! Certificates for tests, made with rcgen: fixed dates, fixed serials, SPIFFE SANs. Keys are
//! fresh per run, so tests compare serials and dates, never fingerprints.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};

/// A date as `(year, month, day)`.
pub type Ymd = (i32, u8, u8);

pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

pub struct Leaf {
    pub pem: String,
    pub key_pem: String,
}

/// A self-signed root CA for `cluster.local`.
pub fn ca(from: Ymd, to: Ymd) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::OrganizationName, "cluster.local");
    p.distinguished_name
        .push(DnType::CommonName, "envinspect test root CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    let pem = p.self_signed(&key).unwrap().pem();
    Ca {
        pem,
        issuer: Issuer::new(p, key),
    }
}

impl Ca {
    /// A workload certificate with a SPIFFE URI SAN (and DNS SANs), signed by this CA.
    pub fn leaf(&self, spiffe: &str, dns: &[&str], serial: u64, from: Ymd, to: Ymd) -> Leaf {
        self.leaf_with(&[spiffe], dns, serial, from, to)
    }

    /// A leaf with any URI SANs (none, or a malformed SPIFFE ID) and DNS SANs.
    pub fn leaf_with(&self, uris: &[&str], dns: &[&str], serial: u64, from: Ymd, to: Ymd) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name
            .push(DnType::OrganizationName, "cluster.local");
        p.subject_alt_names = uris
            .iter()
            .map(|u| SanType::URI((*u).try_into().unwrap()))
            .chain(
                dns.iter()
                    .map(|d| SanType::DnsName((*d).try_into().unwrap())),
            )
            .collect();
        p.serial_number = Some(SerialNumber::from(serial.to_be_bytes().to_vec()));
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A rustls client that trusts `ca` and presents `cert` (none: TLS without a client
/// certificate, as a browser connects).
pub fn tls_client(ca: &Ca, cert: Option<&Leaf>) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem.as_bytes()).unwrap())
        .unwrap();
    let b = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    std::sync::Arc::new(match cert {
        Some(c) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(c.pem.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(c.key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    })
}
