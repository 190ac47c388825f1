//! Who a request comes from, as the proxy's policies name callers: the peer's identity from its
//! client certificate (a SPIFFE ID, or another URI SAN), and the request principal of a verified
//! token (`ISSUER/SUBJECT`, as Istio writes `requestPrincipals`).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::ids::SpiffeId;

/// The identity a client certificate presents: its URI SAN, which RBAC's `authenticated`
/// principal matches. A SPIFFE ID when it is one (as linkerd's and Istio's identities are).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId {
    text: String,
    spiffe: Option<SpiffeId>,
}

/// An empty peer identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a peer identity is a URI SAN (spiffe://TRUST_DOMAIN/PATH), not an empty string")]
pub struct PeerIdError;

impl PeerId {
    /// The URI SAN as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The SPIFFE ID, when the URI is one.
    pub fn spiffe_id(&self) -> Option<&SpiffeId> {
        self.spiffe.as_ref()
    }
}

impl FromStr for PeerId {
    type Err = PeerIdError;

    /// Any URI SAN (RBAC matches the text as the certificate carries it); a `spiffe://` one that
    /// parses is also kept as a [`SpiffeId`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(PeerIdError);
        }
        Ok(PeerId {
            text: s.to_string(),
            spiffe: s.parse().ok(),
        })
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for PeerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// The principal of a verified token: its issuer and subject, written `ISSUER/SUBJECT` (the
/// issuer may hold slashes: the subject is what follows the last one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestPrincipal {
    /// The token's `iss`.
    pub issuer: String,
    /// The token's `sub`.
    pub subject: String,
}

/// Text that is not `ISSUER/SUBJECT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: expected ISSUER/SUBJECT")]
pub struct RequestPrincipalError(pub String);

impl FromStr for RequestPrincipal {
    type Err = RequestPrincipalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (issuer, subject) = s
            .rsplit_once('/')
            .ok_or_else(|| RequestPrincipalError(s.to_string()))?;
        Ok(RequestPrincipal {
            issuer: issuer.to_string(),
            subject: subject.to_string(),
        })
    }
}

impl fmt::Display for RequestPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.issuer, self.subject)
    }
}

impl Serialize for RequestPrincipal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_any_uri_san_and_a_spiffe_id_when_it_is_one() {
        let p: PeerId = "spiffe://cluster.local/ns/default/sa/sleep"
            .parse()
            .unwrap();
        assert_eq!(
            p.spiffe_id().unwrap().trust_domain().to_string(),
            "cluster.local"
        );
        assert_eq!(p.to_string(), "spiffe://cluster.local/ns/default/sa/sleep");
        let uri: PeerId = "https://example.com/client".parse().unwrap();
        assert!(uri.spiffe_id().is_none());
        assert_eq!(uri.as_str(), "https://example.com/client");
        assert_eq!("".parse::<PeerId>(), Err(PeerIdError));
    }

    #[test]
    fn a_request_principal_splits_at_the_last_slash() {
        let rp: RequestPrincipal = "https://accounts.example.com/v1/user-1".parse().unwrap();
        assert_eq!(rp.issuer, "https://accounts.example.com/v1");
        assert_eq!(rp.subject, "user-1");
        assert_eq!(rp.to_string(), "https://accounts.example.com/v1/user-1");
        assert_eq!(
            serde_json::to_string(&rp).unwrap(),
            "\"https://accounts.example.com/v1/user-1\""
        );
        assert!("no-slash".parse::<RequestPrincipal>().is_err());
    }
}
