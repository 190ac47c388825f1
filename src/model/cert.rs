//! Secrets and the certificates in them, as facts (validity is judged against a given `now`).

use super::catalog::RuleId;
use serde::Serialize;

use super::ids::{Fingerprint, SpiffeId, TrustDomain};
use super::serial::Serial;
use super::timestamp::Timestamp;

/// Where a secret is in its life, as the dump (or ztunnel) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SecretState {
    /// From the bootstrap (`static_active_secrets`).
    Static,
    /// Delivered by SDS and in use.
    Active,
    /// Named by a TLS context, waiting for SDS to deliver it.
    Warming,
    /// Warming with `version_info: uninitialized`: SDS never delivered it (istio/istio#36539).
    Uninitialized,
    /// Not a secret: certificates carried inline in a cluster's or listener's TLS context, or
    /// given as a PEM/DER file.
    Inline,
    /// ztunnel: the certificate of this identity is being requested from the CA.
    Initializing,
    /// ztunnel: no certificate for this identity; `state_detail` says why.
    Unavailable,
}

impl SecretState {
    /// Whether its content is in force: delivered, configured statically, or inline.
    pub fn in_force(self) -> bool {
        matches!(
            self,
            SecretState::Active | SecretState::Static | SecretState::Inline
        )
    }
}

impl std::fmt::Display for SecretState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretState::Static => "STATIC",
            SecretState::Active => "ACTIVE",
            SecretState::Warming => "WARMING",
            SecretState::Uninitialized => "UNINITIALIZED",
            SecretState::Inline => "INLINE",
            SecretState::Initializing => "INITIALIZING",
            SecretState::Unavailable => "UNAVAILABLE",
        })
    }
}

/// What a secret holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecretKind {
    /// `tls_certificate`: a certificate chain and its key.
    CertChain,
    /// `validation_context`: trusted CAs.
    Ca,
    /// `session_ticket_keys`: keys for TLS session tickets.
    SessionTicketKeys,
    /// `generic_secret`: opaque bytes (an HMAC key, a token).
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
#[non_exhaustive]
pub enum KeyMaterial {
    /// No private key where one would be.
    Absent,
    /// Envoy's redaction (`[redacted]`).
    Redacted,
    /// `filename`: the key is read from a file.
    File {
        /// The file's path.
        path: String,
    },
    /// Unredacted key bytes in the dump: a security problem. Only the size is kept.
    Exposed {
        /// How many bytes.
        bytes: usize,
    },
}

/// A DER-encoded X.509 certificate, checked to parse when built. Kept beside the facts read from
/// it so chains can be verified; never serialised (the facts are).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertDer(Vec<u8>);

impl CertDer {
    /// The DER bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Bytes that are not one DER X.509 certificate (x509-parser's account of why).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotDer(pub String);

impl TryFrom<Vec<u8>> for CertDer {
    type Error = NotDer;
    fn try_from(der: Vec<u8>) -> Result<Self, NotDer> {
        use x509_parser::prelude::FromDer;
        x509_parser::certificate::X509Certificate::from_der(&der)
            .map_err(|e| NotDer(e.to_string()))?;
        Ok(Self(der))
    }
}

impl std::fmt::Debug for CertDer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertDer({} bytes)", self.0.len())
    }
}

/// The verdict on a certificate chain: leaf → intermediates → a trusted root, at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainVerdict {
    /// Every signature verifies, every link is valid at `now`, and it ends at one of the roots.
    Valid {
        /// The root's subject.
        root: String,
    },
    /// The first broken link: `link` 0 is the leaf's signature by the next certificate.
    Broken {
        /// Which link broke (0: the leaf's signature by the next certificate).
        link: usize,
        /// The subject of the certificate whose link broke.
        subject: String,
        /// Why, in one sentence.
        reason: String,
        /// What broke it.
        kind: BreakKind,
    },
    /// Signatures fine, but no root among the trust anchors signed the last certificate.
    Untrusted {
        /// The issuer no root matches.
        issuer: String,
        /// How many roots were tried.
        roots: usize,
    },
    /// No trust anchors known for this secret in the document.
    NoRoots,
    /// Nothing to verify (CA bundles, empty or file-based secrets).
    NotApplicable,
}

/// What a validation context's roots are trusted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrustRole {
    /// Verifying mesh peers: a context that checks SPIFFE IDs, holds SPIFFE bundles, or presents
    /// the workload's own certificate alongside (mutual TLS inside the mesh).
    Mesh,
    /// Verifying the control plane the proxy fetches its configuration from (xDS clusters).
    ControlPlane,
    /// Only for TLS to hosts outside the mesh (SIMPLE TLS, or MUTUAL with other certificates).
    External,
}

/// What broke a chain: a signature (names or keys do not link), a certificate of the chain not
/// valid at `now` (also reported per certificate), or the root that issued it not valid at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BreakKind {
    /// A signature does not verify (names or keys do not link).
    Signature,
    /// A certificate of the chain is not valid at `now`.
    Validity,
    /// The root that issued the chain is not valid at `now`.
    RootValidity,
}

impl std::fmt::Display for ChainVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainVerdict::Valid { root } => write!(f, "valid (root {root})"),
            ChainVerdict::Broken { link, reason, .. } => {
                write!(f, "broken at link {link}: {reason}")
            }
            ChainVerdict::Untrusted { issuer, .. } => write!(f, "untrusted: no root for {issuer}"),
            ChainVerdict::NoRoots => f.write_str("no roots to verify against"),
            ChainVerdict::NotApplicable => f.write_str(""),
        }
    }
}

/// A secret the proxy holds (or a certificate carried inline), with its certificates read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Secret {
    /// Its name (the SDS resource name, or an inline certificate's owner).
    pub name: super::SecretName,
    /// Where it is in its life.
    pub state: SecretState,
    /// What the holder said of the state (ztunnel's reason for `UNAVAILABLE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_detail: Option<String>,
    /// What it holds.
    pub kind: SecretKind,
    /// The SDS version delivered.
    pub version_info: Option<String>,
    /// When Envoy last accepted a version of it (an SDS secret's `last_updated`): when it rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<Timestamp>,
    /// Certificates in file order: chain leaf first, or the CA bundle's entries.
    pub certificates: Vec<CertInfo>,
    /// SPIFFE validator bundles: one per trust domain.
    pub trust_bundles: Vec<TrustBundle>,
    /// Where the certificate bytes are when they are not inline (`filename`).
    pub files: Vec<String>,
    /// What the dump holds where the private key would be (never the key).
    pub private_key: KeyMaterial,
    /// Clusters and listener chains whose TLS contexts name this secret.
    pub referenced_by: Vec<String>,
    /// Why certificates could not be read, if any (bad base64, not PEM/DER…).
    pub problems: Vec<String>,
    /// PEM hygiene problems of the stored bytes (see `docs/rules.md`): rule id → detail.
    pub lint: Vec<PemLint>,
    /// Secrets whose certificates verify this one, when the document says so explicitly (a TLS
    /// context's inline CA, `--roots`); otherwise the validation contexts paired with it.
    pub trust: Vec<String>,
    /// The verdict on its chain, leaf to a trusted root, at `now`.
    pub chain: ChainVerdict,
    /// For CA secrets: whether TLS contexts use them to verify mesh peers or external hosts;
    /// absent when no context in the dump uses them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_role: Option<TrustRole>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
}

/// Certificate bytes carried inline in a TLS context, held until extraction turns them into
/// `INLINE` secrets. Never serialised.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InlineMaterial {
    /// Whether the bytes are a CA bundle (a validation context's) rather than a certificate chain.
    pub ca: bool,
    /// The PEM or DER bytes.
    pub bytes: Vec<u8>,
    /// The private key beside them, as [`KeyMaterial`].
    pub key: KeyMaterial,
}

impl std::fmt::Debug for InlineMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "InlineMaterial {{ ca: {}, {} bytes, key: {:?} }}",
            self.ca,
            self.bytes.len(),
            self.key
        )
    }
}

/// A PEM hygiene problem in a secret's bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct PemLint {
    /// The rule it breaks (docs/rules.md).
    pub rule: RuleId,
    /// What is wrong, and where in the bytes.
    pub detail: String,
}

impl Secret {
    /// A secret with nothing read into it yet.
    pub fn new(
        name: impl Into<super::SecretName>,
        state: SecretState,
        kind: SecretKind,
        pointer: &str,
    ) -> Self {
        Self {
            name: name.into(),
            state,
            state_detail: None,
            kind,
            version_info: None,
            last_updated: None,
            certificates: Vec::new(),
            trust_bundles: Vec::new(),
            files: Vec::new(),
            private_key: KeyMaterial::Absent,
            referenced_by: Vec::new(),
            problems: Vec::new(),
            lint: Vec::new(),
            trust: Vec::new(),
            chain: ChainVerdict::NotApplicable,
            trust_role: None,
            pointer: pointer.to_string().into(),
        }
    }

    /// How findings name it: `secret default` for SDS secrets; inline certificates and files
    /// by their own name (`cluster X (inline cert)`, `chain.pem`).
    pub fn label(&self) -> String {
        if self.state == SecretState::Inline {
            self.name.to_string()
        } else {
            format!("secret {}", self.name)
        }
    }
}

/// One trust domain's roots of a SPIFFE validator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TrustBundle {
    /// The trust domain.
    pub trust_domain: TrustDomain,
    /// Its roots.
    pub certificates: Vec<CertInfo>,
}

/// An SDS name referenced by a TLS context but absent from the secrets dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MissingSecret {
    /// The SDS name.
    pub name: super::SecretName,
    /// The clusters and listener chains whose TLS contexts name it.
    pub referenced_by: Vec<String>,
}

/// What one certificate says, read from its DER (or from `/certs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CertInfo {
    /// The subject's distinguished name.
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Written as `istioctl` prints it (32 hex digits); equal across tools' spellings.
    pub serial: Serial,
    /// Absent only where the document does not say (a `/certs` entry without dates).
    pub not_before: Option<Timestamp>,
    /// When it expires.
    pub not_after: Option<Timestamp>,
    /// Whether `not_before <= now <= not_after` for the `--now` of this run.
    pub valid_now: bool,
    /// Seconds from `now` to `not_after`; negative once expired.
    pub seconds_left: i64,
    /// Whether it is a CA (basic constraints).
    pub is_ca: bool,
    /// Its SPIFFE IDs (URI SANs with the `spiffe://` scheme that parse).
    pub spiffe_ids: Vec<SpiffeId>,
    /// `spiffe://` URI SANs that do not parse, with why.
    pub bad_spiffe_ids: Vec<String>,
    /// DNS SANs.
    pub dns_names: Vec<String>,
    /// IP address SANs.
    pub ip_addresses: Vec<String>,
    /// Email SANs.
    pub emails: Vec<String>,
    /// URI SANs other than SPIFFE IDs.
    pub other_uris: Vec<String>,
    /// `ECDSA P-256`, `RSA`, `Ed25519`…; empty when unknown (e.g. from `/certs`).
    pub key_algorithm: String,
    /// The key's size in bits, when known.
    pub key_bits: Option<u32>,
    /// Key usages (`Digital Signature`, `Key Encipherment`…).
    pub key_usage: Vec<String>,
    /// Extended key usages (`TLS Web Server Authentication`…).
    pub extended_key_usage: Vec<String>,
    /// SHA-256 of the DER; absent when the DER is not known (`/certs`).
    pub sha256: Option<Fingerprint>,
    /// The DER, to verify chains; never serialised.
    #[serde(skip)]
    pub der: Option<CertDer>,
}

impl CertInfo {
    /// The trust domain of its first SPIFFE ID.
    pub fn trust_domain(&self) -> Option<&TrustDomain> {
        self.spiffe_ids.first().map(SpiffeId::trust_domain)
    }

    /// Its whole validity period, in seconds (`not_after - not_before`), when both are known.
    pub fn lifetime_seconds(&self) -> Option<i64> {
        Some(self.not_before?.seconds_until(self.not_after?))
    }

    /// Whether it has any subject alternative name.
    pub fn has_san(&self) -> bool {
        !(self.spiffe_ids.is_empty()
            && self.bad_spiffe_ids.is_empty()
            && self.dns_names.is_empty()
            && self.ip_addresses.is_empty()
            && self.emails.is_empty()
            && self.other_uris.is_empty())
    }
}
