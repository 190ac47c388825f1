//! Validated names: each built by `FromStr`, printed by `Display`, and the two round-trip.
//! No identity in the model is a bare `String`.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid name of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not a `spiffe://` URI.
    #[error("not a SPIFFE ID (no spiffe:// scheme): {0}")]
    NotSpiffe(String),
    /// `spiffe://` with no trust domain.
    #[error("SPIFFE ID has an empty trust domain: {0}")]
    EmptyTrustDomain(String),
    /// A trust domain with characters the SPIFFE spec refuses.
    #[error("invalid trust domain `{0}` (lowercase letters, digits, '.', '-', '_' only)")]
    BadTrustDomain(String),
    /// A SPIFFE path with an empty, `.` or `..` segment, or a query or fragment.
    #[error("invalid SPIFFE ID path in {0} (empty, '.' or '..' segment, or a query/fragment)")]
    BadPath(String),
    /// Not a DNS name a TLS client could send as SNI.
    #[error("invalid server name `{0}`")]
    BadServerName(String),
    /// Not `direction|port|subset|host`.
    #[error("not an Istio cluster name (direction|port|subset|host): {0}")]
    NotIstioClusterName(String),
    /// Not 64 hex digits.
    #[error("not a SHA-256 fingerprint (64 hex digits): {0:?}")]
    Fingerprint(String),
    /// Neither an IP address nor `ADDRESS/LENGTH`.
    #[error("not an IP address or CIDR range (ADDRESS/LENGTH): {0:?}")]
    Cidr(String),
}

/// A SPIFFE trust domain (`cluster.local`), per the SPIFFE ID spec's character set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrustDomain(String);

impl FromStr for TrustDomain {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(IdError::BadTrustDomain(s.to_string()))
        }
    }
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(TrustDomain);

/// `spiffe://<trust-domain>/<path>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct SpiffeId {
    trust_domain: TrustDomain,
    /// Without the leading `/`; may be empty (a trust-domain ID).
    path: String,
}

impl SpiffeId {
    /// The trust domain: what comes after `spiffe://`, up to the path.
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }
    /// The path, from its leading `/` (empty when the ID has none).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// Namespace and service account of Istio's `ns/<ns>/sa/<sa>` form.
    pub fn istio_workload(&self) -> Option<(&str, &str)> {
        let mut parts = self.path.split('/');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("ns"), Some(ns), Some("sa"), Some(sa), None) => Some((ns, sa)),
            _ => None,
        }
    }
}

impl FromStr for SpiffeId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let rest = s
            .strip_prefix("spiffe://")
            .ok_or_else(|| IdError::NotSpiffe(s.to_string()))?;
        let (td, path) = rest.split_once('/').unwrap_or((rest, ""));
        if td.is_empty() {
            return Err(IdError::EmptyTrustDomain(s.to_string()));
        }
        let trust_domain = td.parse()?;
        let path_ok = !rest.contains(['?', '#'])
            && (path.is_empty()
                || path
                    .split('/')
                    .all(|seg| !seg.is_empty() && seg != "." && seg != ".."));
        if !path_ok || (rest.contains('/') && path.is_empty()) {
            return Err(IdError::BadPath(s.to_string()));
        }
        Ok(Self {
            trust_domain,
            path: path.to_string(),
        })
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spiffe://{}", self.trust_domain)?;
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        Ok(())
    }
}
string_serde!(SpiffeId);

/// A TLS server name (SNI) a client sends: a DNS-like name, no spaces, not empty.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerName(String);

impl FromStr for ServerName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(IdError::BadServerName(s.to_string()))
        }
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(ServerName);

/// A certificate's SHA-256 fingerprint: 64 lowercase hex digits. Also read as openssl prints it
/// (`AA:BB:…`, any case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(String);

impl FromStr for Fingerprint {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex: String = s
            .chars()
            .filter(|c| *c != ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(IdError::Fingerprint(s.to_string()));
        }
        Ok(Fingerprint(hex))
    }
}

impl Fingerprint {
    /// Its first 12 hex digits, as tables abbreviate it.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }

    /// From the 32 bytes of a SHA-256 digest.
    pub fn from_digest(bytes: [u8; 32]) -> Self {
        Fingerprint(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Several, abbreviated and joined: `3f2a9c1b0d4e, 8c1d…`.
    pub fn short_list(fps: &[Fingerprint]) -> String {
        fps.iter()
            .map(Fingerprint::short)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_serde!(Fingerprint);

/// Istio's cluster naming: `outbound|9080|v1|reviews.default.svc.cluster.local`,
/// `inbound|9080||`, `inbound-vip|8000|http|httpbin.default.svc.cluster.local`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[non_exhaustive]
pub struct IstioClusterName {
    /// `outbound`, `inbound`, `inbound-vip`…: the name's first field.
    pub direction: String,
    /// The port; `None` when the field is empty.
    pub port: Option<u16>,
    /// The subset (a DestinationRule subset, or the port name of an `inbound-vip` cluster); may be empty.
    pub subset: String,
    /// The host, fully qualified; may be empty (`inbound|9080||`).
    pub fqdn: String,
}

impl FromStr for IstioClusterName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::NotIstioClusterName(s.to_string());
        let parts: Vec<&str> = s.split('|').collect();
        let [direction, port, subset, fqdn] = parts.as_slice() else {
            return Err(bad());
        };
        if direction.is_empty()
            || !direction
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-')
        {
            return Err(bad());
        }
        let port = if port.is_empty() {
            None
        } else {
            Some(port.parse().map_err(|_| bad())?)
        };
        Ok(Self {
            direction: direction.to_string(),
            port,
            subset: subset.to_string(),
            fqdn: fqdn.to_string(),
        })
    }
}

impl fmt::Display for IstioClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = self.port.map(|p| p.to_string()).unwrap_or_default();
        write!(
            f,
            "{}|{}|{}|{}",
            self.direction, port, self.subset, self.fqdn
        )
    }
}

/// An IP range as Envoy's `CidrRange` means it: the address masked to `len` bits. A bare address
/// is the range of just itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Cidr {
    addr: std::net::IpAddr,
    len: u8,
}

impl Cidr {
    /// Envoy's reading of a `CidrRange`: a prefix longer than the address is clamped, and the
    /// address is masked (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn new(addr: std::net::IpAddr, len: u32) -> Self {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = len.min(max) as u8;
        Self {
            addr: mask(addr, len),
            len,
        }
    }

    /// Whether the address is in the range.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.len) == self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }
}

fn mask(ip: std::net::IpAddr, len: u8) -> std::net::IpAddr {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len as u32)
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len as u32)
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

impl FromStr for Cidr {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::Cidr(s.to_string());
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: std::net::IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr::new(addr, len))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}
string_serde!(Cidr);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: FromStr + fmt::Display>(s: &str)
    where
        T::Err: fmt::Debug,
    {
        assert_eq!(s.parse::<T>().unwrap().to_string(), s);
    }

    #[test]
    fn spiffe_ids() {
        round_trip::<SpiffeId>("spiffe://cluster.local/ns/default/sa/foo");
        round_trip::<SpiffeId>("spiffe://east.local");
        let id: SpiffeId = "spiffe://cluster.local/ns/default/sa/foo".parse().unwrap();
        assert_eq!(id.trust_domain().to_string(), "cluster.local");
        assert_eq!(id.istio_workload(), Some(("default", "foo")));
        for bad in [
            "spiffe:///ns/x",
            "http://a/b",
            "spiffe://Cluster.local/x",
            "spiffe://a//b",
            "spiffe://a/",
            "spiffe://a/b/../c",
            "spiffe://a/b?x",
        ] {
            assert!(bad.parse::<SpiffeId>().is_err(), "{bad}");
        }
        assert_eq!(
            "spiffe:///ns/x".parse::<SpiffeId>().unwrap_err(),
            IdError::EmptyTrustDomain("spiffe:///ns/x".into())
        );
    }

    #[test]
    fn trust_domains_and_server_names() {
        round_trip::<TrustDomain>("cluster.local");
        round_trip::<ServerName>("outbound_.9080_.v1_.reviews.default.svc.cluster.local");
        assert!("".parse::<ServerName>().is_err());
        assert!("a b".parse::<ServerName>().is_err());
    }

    #[test]
    fn istio_cluster_names() {
        round_trip::<IstioClusterName>("outbound|9080|v1|reviews.default.svc.cluster.local");
        round_trip::<IstioClusterName>("inbound|9080||");
        round_trip::<IstioClusterName>("inbound-vip|8000|http|httpbin.default.svc.cluster.local");
        let n: IstioClusterName = "outbound|9080|v1|reviews.default.svc.cluster.local"
            .parse()
            .unwrap();
        assert_eq!((n.port, n.subset.as_str()), (Some(9080), "v1"));
        for bad in [
            "BlackHoleCluster",
            "outbound|x||a",
            "a|b|c",
            "default/httpbin|14001",
        ] {
            assert!(bad.parse::<IstioClusterName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cidr_ranges() {
        round_trip::<Cidr>("10.0.0.0/8");
        round_trip::<Cidr>("0.0.0.0/0");
        round_trip::<Cidr>("2001:db8::/32");
        assert_eq!(
            "10.1.2.3/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            "127.0.0.1".parse::<Cidr>().unwrap().to_string(),
            "127.0.0.1/32"
        );
        let c: Cidr = "192.168.1.0/24".parse().unwrap();
        assert!(c.contains("192.168.1.77".parse().unwrap()));
        assert!(!c.contains("192.168.2.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        assert!("0.0.0.0/0"
            .parse::<Cidr>()
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "x/8", "", "10.0.0.0/-1"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fingerprints() {
        let hex = "aa4058090a21d64084aa5c4fbfbec93bc481bb4ab24774ddd499e9685c3afc39";
        round_trip::<Fingerprint>(hex);
        let colons = hex
            .to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(colons.parse::<Fingerprint>().unwrap().to_string(), hex);
        assert!("abc".parse::<Fingerprint>().is_err());
        assert!(hex.replace('a', "g").parse::<Fingerprint>().is_err());
        let json: Fingerprint = serde_json::from_str(&format!("\"{hex}\"")).unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), format!("\"{hex}\""));
    }
}
