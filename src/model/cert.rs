//! Secrets and the certificates in them, as facts (validity is judged against a given `now`).

use serde::Serialize;

use super::ids::{SpiffeId, TrustDomain};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecretState {
    Static,
    Active,
    Warming,
    /// Warming with `version_info: uninitialized`: SDS never delivered it (istio/istio#36539).
    Uninitialized,
}

impl std::fmt::Display for SecretState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretState::Static => "STATIC",
            SecretState::Active => "ACTIVE",
            SecretState::Warming => "WARMING",
            SecretState::Uninitialized => "UNINITIALIZED",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// `tls_certificate`: a certificate chain and its key.
    CertChain,
    /// `validation_context`: trusted CAs.
    Ca,
    SessionTicketKeys,
    Generic,
    /// Nothing decodable (a warming secret, an empty one).
    Empty,
}

impl std::fmt::Display for SecretKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretKind::CertChain => "Cert Chain",
            SecretKind::Ca => "CA",
            SecretKind::SessionTicketKeys => "Session Ticket Keys",
            SecretKind::Generic => "Generic",
            SecretKind::Empty => "",
        })
    }
}

/// What a dump holds where a private key would be. Never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeyMaterial {
    Absent,
    /// Envoy's redaction (`[redacted]`).
    Redacted,
    File {
        path: String,
    },
    /// Unredacted key bytes in the dump: a security problem. Only the size is kept.
    Exposed {
        bytes: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Secret {
    pub name: String,
    pub state: SecretState,
    pub kind: SecretKind,
    pub version_info: Option<String>,
    /// Certificates in file order: chain leaf first, or the CA bundle's entries.
    pub certificates: Vec<CertInfo>,
    /// SPIFFE validator bundles: one per trust domain.
    pub trust_bundles: Vec<TrustBundle>,
    /// Where the certificate bytes are when they are not inline (`filename`).
    pub files: Vec<String>,
    pub private_key: KeyMaterial,
    /// Clusters and listener chains whose TLS contexts name this secret.
    pub referenced_by: Vec<String>,
    /// Why certificates could not be read, if any (bad base64, not PEM/DER…).
    pub problems: Vec<String>,
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrustBundle {
    pub trust_domain: TrustDomain,
    pub certificates: Vec<CertInfo>,
}

/// An SDS name referenced by a TLS context but absent from the secrets dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingSecret {
    pub name: String,
    pub referenced_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex of the serial number, zero-padded to 32 digits as `istioctl` prints it.
    pub serial: String,
    /// RFC 3339, UTC, seconds.
    pub not_before: String,
    pub not_after: String,
    /// Whether `not_before <= now <= not_after` for the `--now` of this run.
    pub valid_now: bool,
    pub is_ca: bool,
    pub spiffe_ids: Vec<SpiffeId>,
    /// `spiffe://` URI SANs that do not parse, with why.
    pub bad_spiffe_ids: Vec<String>,
    pub dns_names: Vec<String>,
    pub other_uris: Vec<String>,
}

impl CertInfo {
    pub fn trust_domain(&self) -> Option<&TrustDomain> {
        self.spiffe_ids.first().map(SpiffeId::trust_domain)
    }
}
