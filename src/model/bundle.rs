//! A fleet of proxies read from a support bundle: one row per proxy (what `bundle` prints), the
//! facts the fleet rules compare across proxies, and the fleet's own findings.

use serde::Serialize;

use super::ids::{SpiffeId, TrustDomain};
use super::policy::{MtlsMode, OutboundMode};
use super::tls::{SanMatcher, TlsKind};
use super::Finding;

/// What a bundle's proxy dump turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProxyKind {
    /// An Envoy proxy (a sidecar, a gateway, a waypoint).
    Envoy,
    /// Istio ambient's ztunnel: the identities it holds, its roots and its workloads' waypoints.
    Ztunnel,
    /// Its dump could not be read or decoded: the row says why.
    Unreadable,
}

/// One proxy of a bundle: one row of `bundle`'s table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProxyRow {
    /// `namespace/pod`, or the file's path.
    pub proxy: String,
    /// What its dump is.
    pub kind: ProxyKind,
    /// The bundle file analysed for it.
    pub file: String,
    /// Why its dump could not be read, for an unreadable one.
    pub error: Option<String>,
    /// Its workload identity: the SPIFFE ID of its certificate.
    pub identity: Option<SpiffeId>,
    /// A ztunnel's: the identities it holds certificates for (its workloads').
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<SpiffeId>,
    /// The trust domain of that identity.
    pub trust_domain: Option<TrustDomain>,
    /// Of the workload certificate.
    pub cert_not_after: Option<super::Timestamp>,
    /// Seconds from `now` to the workload certificate's expiry (negative once expired).
    pub cert_seconds_left: Option<i64>,
    /// SHA-256 fingerprints of the roots it verifies mesh peers with.
    pub roots: Vec<super::Fingerprint>,
    /// SHA-256 fingerprints of CAs it trusts only for hosts outside the mesh.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_roots: Vec<super::Fingerprint>,
    /// Its outbound traffic policy; `None` when its dump cannot tell.
    pub outbound: Option<OutboundMode>,
    /// Inbound mTLS mode per port (`null` port: every other port).
    pub inbound: Vec<(Option<u32>, MtlsMode)>,
    /// Its own findings (error and warning) and decoding warnings.
    pub findings: usize,
    /// Its warnings (findings of level warning).
    pub warnings: usize,
    /// With `--expect`: how many expectations applied to it, and those that failed.
    pub expectations: usize,
    /// The expectations that failed for it.
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
    /// The outbound clusters, with their TLS and SAN checks.
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
    /// JSON Pointer to the workload entry in the ztunnel's dump.
    pub pointer: crate::model::Pointer,
}

/// One inbound port's enforced RBAC filters (network, then HTTP, filter level), from the chain a
/// mesh caller (mTLS) gets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PortGuard {
    /// `LISTENER/PORT` (`*`: a chain without a port).
    pub port: String,
    /// The RBAC filters, each by its filter name, in the order Envoy runs them.
    pub rbac: Vec<(String, super::authz::Rbac)>,
    /// JSON Pointer to the chain.
    pub pointer: crate::model::Pointer,
}

/// Whether a caller identity of the fleet can be allowed on a callee's port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Reach {
    /// `namespace/pod`.
    pub callee: String,
    /// `LISTENER/PORT` of the callee.
    pub port: String,
    /// The caller's SPIFFE ID.
    pub caller: String,
    /// The answer.
    pub verdict: ReachVerdict,
    /// Why: the policy that admits it, the DENY that refuses it, or what is not known.
    pub because: String,
}

/// Whether a caller can be allowed on a port.
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

/// An outbound cluster of a proxy, as the fleet rules compare it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OutboundCluster {
    /// The cluster's name.
    pub name: String,
    /// The service host it reaches (from Istio's name, else its SNI or endpoints).
    pub fqdn: String,
    /// The service port, when the name says.
    pub port: Option<u16>,
    /// The ports of its endpoints (the pods' ports a connection reaches, which a service may map
    /// its own port to); empty without endpoints in the dump.
    pub target_ports: Vec<u16>,
    /// The TLS it originates.
    pub kind: TlsKind,
    /// The SAN matchers of each of its TLS contexts.
    pub san_matchers: Vec<Vec<SanMatcher>>,
    /// JSON Pointer to the cluster.
    pub pointer: crate::model::Pointer,
}

/// What `bundle` answers: the fleet's proxies, findings and reachability.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BundleReport {
    /// The version of this output's schema (docs/output-schema.md).
    pub schema_version: u32,
    /// The bundle read (an archive or a directory).
    pub source: String,
    /// The time expiries were judged at (`--now`, or the clock).
    pub now: super::Timestamp,
    /// One row per proxy, sorted by proxy.
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
    /// Each syncz file read.
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
    /// The entry's path in the bundle.
    pub path: String,
    /// Why it was not read.
    pub reason: String,
}
