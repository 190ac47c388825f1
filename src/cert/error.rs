//! Why a certificate or a PEM block cannot be read, or a chain link does not hold. Each is
//! recorded as a secret's problem (or a chain verdict's reason), never a failure of the run:
//! a dump with one bad certificate still reports everything else.

/// A PEM block or DER certificate that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("PEM block {block}: unterminated BEGIN line")]
    Unterminated { block: usize },
    #[error("PEM block {block}: no `-----END {label}-----` line")]
    NoEnd { block: usize, label: String },
    #[error("PEM block {block}: bad base64 ({reason})")]
    Base64 { block: usize, reason: String },
    /// x509-parser's account of the DER (its error borrows the input, so its text is kept).
    #[error("{reason}")]
    Der { reason: String },
}

impl From<crate::model::cert::NotDer> for CertError {
    fn from(e: crate::model::cert::NotDer) -> Self {
        CertError::Der { reason: e.0 }
    }
}

/// Why one certificate of a chain is not signed by the next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("issued by {issuer}, but the next certificate is {next}")]
    OtherIssuer { issuer: String, next: String },
    #[error("certificate bytes not available to check the signature")]
    NoBytes,
    #[error(transparent)]
    Unreadable(#[from] CertError),
    #[error("signature does not verify with the key of {issuer} ({reason})")]
    BadSignature { issuer: String, reason: String },
}
