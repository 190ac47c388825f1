//! A fleet of proxies read from a support bundle: one row per proxy (what `bundle` prints), the
//! facts the fleet rules compare across proxies, and the fleet's own findings.

use serde::Serialize;

use super::ids::{SpiffeId, TrustDomain};
use super::policy::{MtlsMode, OutboundMode};
use super::tls::{SanMatcher, TlsKind};
use super::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProxyKind {
    Envoy,
    /// Istio ambient's ztunnel: the identities it holds, its roots and its workloads' waypoints.
    Ztunnel,
    /// Its dump could not be read or decoded: the row says why.
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProxyRow {
    /// `namespace/pod`, or the file's path.
    pub proxy: String,
    pub kind: ProxyKind,
    /// The bundle file analysed for it.
    pub file: String,
    pub error: Option<String>,
    pub identity: Option<SpiffeId>,
    /// A ztunnel's: the identities it holds certificates for (its workloads').
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<SpiffeId>,
    pub trust_domain: Option<TrustDomain>,
    /// Of the workload certificate.
    pub cert_not_after: Option<super::Timestamp>,
    pub cert_seconds_left: Option<i64>,
    /// SHA-256 fingerprints of the roots it verifies mesh peers with.
    pub roots: Vec<super::Fingerprint>,
    /// SHA-256 fingerprints of CAs it trusts only for hosts outside the mesh.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_roots: Vec<super::Fingerprint>,
    pub outbound: Option<OutboundMode>,
    /// Inbound mTLS mode per port (`null` port: every other port).
    pub inbound: Vec<(Option<u32>, MtlsMode)>,
    /// Its own findings (error and warning) and decoding warnings.
    pub findings: usize,
    pub warnings: usize,
    /// With `--expect`: how many expectations applied to it, and those that failed.
    pub expectations: usize,
    pub drift: Vec<super::expectation::CheckResult>,
    /// Its container log and counters, explained, when the bundle has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::evidence::ProxyEvidence>,
    /// What istiod's syncz says of it: `SYNCED`, or the worst state and its types
    /// (`ERROR (LDS)`, `STALE (CDS,EDS)`); absent when no syncz of the bundle lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
    /// What the fleet rules compare; not printed.
    #[serde(skip)]
    pub fleet: FleetFacts,
}

/// The few facts of a proxy the fleet rules need; everything else of its dump is dropped once the
/// row is made.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct FleetFacts {
    /// Service FQDNs it serves (inbound cluster names, or Istio's `app.namespace` node cluster).
    pub serves: Vec<String>,
    pub clusters: Vec<OutboundCluster>,
    /// `(secret, not_after, seconds_left)` of every certificate in force.
    pub certificates: Vec<(String, Option<super::Timestamp>, i64)>,
    /// The ports guarded by authorization filters, for who-can-call-whom.
    pub guards: Vec<PortGuard>,
    /// Every SPIFFE ID it presents to workloads (server or client certificates), not only the
    /// primary one.
    pub presents: Vec<String>,
    /// A ztunnel's: the waypoints its mesh workloads send through.
    pub waypoints: Vec<WaypointUse>,
    /// The CDS and LDS versions its dump accepted, to cross-check with istiod's syncz.
    pub accepted: super::sync::AcceptedVersions,
    /// Its pod's traffic redirection (Istio's annotations in the node metadata), when known.
    pub interception: Option<super::intercept::Interception>,
}

/// A waypoint some workloads of a ztunnel's dump send through, and the pods behind it.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct WaypointUse {
    /// `namespace/name` of the waypoint's service.
    pub service: String,
    /// `namespace/pod` of its endpoints, as the bundle names proxies.
    pub pods: Vec<String>,
    /// `name.namespace` of the workloads that use it.
    pub users: Vec<String>,
    pub pointer: crate::model::Pointer,
}

/// One inbound port's enforced RBAC filters (network, then HTTP, filter level), from the chain a
/// mesh caller (mTLS) gets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PortGuard {
    /// `LISTENER/PORT` (`*`: a chain without a port).
    pub port: String,
    pub rbac: Vec<(String, super::authz::Rbac)>,
    pub pointer: crate::model::Pointer,
}

/// Whether a caller identity of the fleet can be allowed on a callee's port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Reach {
    /// `namespace/pod`.
    pub callee: String,
    pub port: String,
    pub caller: String,
    pub verdict: ReachVerdict,
    /// Why: the policy that admits it, the DENY that refuses it, or what is not known.
    pub because: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReachVerdict {
    /// Some request from it can be allowed (for some method, path…).
    Allowed,
    /// No request from it is ever allowed.
    Never,
    /// It depends on what the principal alone does not say (request principals, IPs, headers).
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OutboundCluster {
    pub name: String,
    pub fqdn: String,
    pub port: Option<u16>,
    /// The ports of its endpoints (the pods' ports a connection reaches, which a service may map
    /// its own port to); empty without endpoints in the dump.
    pub target_ports: Vec<u16>,
    pub kind: TlsKind,
    /// The SAN matchers of each of its TLS contexts.
    pub san_matchers: Vec<Vec<SanMatcher>>,
    pub pointer: crate::model::Pointer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BundleReport {
    pub schema_version: u32,
    pub source: String,
    pub now: super::Timestamp,
    pub proxies: Vec<ProxyRow>,
    /// Findings that need several proxies (docs/rules.md), subject `namespace/pod …`.
    pub findings: Vec<Finding>,
    /// Who can call whom: every identity the fleet presents against every port guarded by
    /// authorization filters (filter-level policies; per-route overrides are not considered).
    pub reachability: Vec<Reach>,
    /// Bundle entries not read, and why.
    pub refused: Vec<Refused>,
    /// istiod's view of the fleet, from every `istio/NS/POD/debug/syncz` of the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<FleetSync>,
}

/// Every istiod's syncz of a bundle, read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FleetSync {
    pub sources: Vec<super::sync::SynczSource>,
    /// Every proxy of every syncz (those without a dump in the bundle too), as `proxy-status`
    /// lists them.
    pub proxies: Vec<super::sync::ProxySync>,
    /// Syncz files that could not be read, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// A bundle entry not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Refused {
    pub path: String,
    pub reason: String,
}
