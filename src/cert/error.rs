//! Why a certificate or a PEM block cannot be read, or a chain link does not hold. Each is
//! recorded as a secret's problem (or a chain verdict's reason), never a failure of the run:
//! a dump with one bad certificate still reports everything else.

/// A PEM block or DER certificate that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// A `-----BEGIN` line that does not end.
    #[error("PEM block {block}: unterminated BEGIN line")]
    Unterminated {
        /// The block, counted from 1.
        block: usize,
    },
    /// A block without its END line.
    #[error("PEM block {block}: no `-----END {label}-----` line")]
    NoEnd {
        /// The block, counted from 1.
        block: usize,
        /// Its label (`CERTIFICATE`).
        label: String,
    },
    /// A block whose body is not base64.
    #[error("PEM block {block}: bad base64 ({reason})")]
    Base64 {
        /// The block, counted from 1.
        block: usize,
        /// The decoder's reason.
        reason: String,
    },
    /// x509-parser's account of the DER (its error borrows the input, so its text is kept).
    #[error("{reason}")]
    Der {
        /// x509-parser's reason.
        reason: String,
    },
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
    /// The next certificate is not the issuer this one names.
    #[error("issued by {issuer}, but the next certificate is {next}")]
    OtherIssuer {
        /// The issuer this certificate names.
        issuer: String,
        /// The subject of the next certificate.
        next: String,
    },
    /// The bytes to check the signature with are not in the document.
    #[error("certificate bytes not available to check the signature")]
    NoBytes,
    /// A certificate of the link cannot be read.
    #[error(transparent)]
    Unreadable(#[from] CertError),
    /// The signature does not verify with the next certificate's key.
    #[error("signature does not verify with the key of {issuer} ({reason})")]
    BadSignature {
        /// The issuer whose key was tried.
        issuer: String,
        /// The verifier's reason.
        reason: String,
    },
}
