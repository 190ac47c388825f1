//! What an Istio ambient ztunnel holds beside its certificates: the workloads and services it
//! knows, the L4 authorization policies it enforces, and its open connections. ztunnel is not
//! Envoy; these are its own terms (`workloads`, `services`, `policies`, `workloadState` of its
//! admin `/config_dump`). Its certificates are secrets of the report like any proxy's.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::ids::{Cidr, SpiffeId};

/// The ztunnel part of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Ambient {
    /// ztunnel's version, when the dump carries it (`version.version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The commit it was built from (`version.gitRevision`), as istioctl's "Ztunnel version".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_revision: Option<String>,
    /// The Istio release it runs with (`version.istioVersion`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio_version: Option<String>,
    /// The node it runs on (`config.localNode`): its workloads are those of this node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// `Shared` (a node's ztunnel) or `Dedicated` (`config.proxyMode`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_mode: Option<String>,
    /// Where it gets certificates and configuration (`config.caAddress`, `config.xdsAddress`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_address: Option<String>,
    /// Where it gets its configuration (`config.xdsAddress`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xds_address: Option<String>,
    /// Sorted by namespace, name, node.
    pub workloads: Vec<AmbientWorkload>,
    /// Sorted by namespace, name, hostname.
    pub services: Vec<AmbientService>,
    /// Sorted by namespace, name.
    pub policies: Vec<L4Policy>,
    /// The connections of the workloads it serves (`workloadState`), when the dump has them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<AmbientConnection>,
}

/// How a workload receives mesh traffic. Serialised as ztunnel writes it (`HBONE`, `TCP`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TunnelProtocol {
    /// HTTP CONNECT over mutual TLS on port 15008: the workload is in the mesh.
    Hbone,
    /// Plain TCP: the workload is not captured (ztunnel sends to it as it is).
    Tcp,
    /// A value this version of envinspect does not know, as written.
    Other(String),
}

impl std::fmt::Display for TunnelProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TunnelProtocol::Hbone => f.write_str("HBONE"),
            TunnelProtocol::Tcp => f.write_str("TCP"),
            TunnelProtocol::Other(s) => f.write_str(s),
        }
    }
}

impl Serialize for TunnelProtocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<&str> for TunnelProtocol {
    fn from(s: &str) -> Self {
        match s {
            "HBONE" => TunnelProtocol::Hbone,
            "TCP" | "" => TunnelProtocol::Tcp,
            other => TunnelProtocol::Other(other.to_string()),
        }
    }
}

/// Where a workload's or service's traffic is sent first: a waypoint proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WaypointRef {
    /// As ztunnel writes it: `network/address` or `namespace/hostname`.
    pub destination: String,
    /// The waypoint's HBONE port.
    pub port: Option<u16>,
    /// The waypoint service the destination names (`namespace/name`), when the dump has it.
    pub service: Option<String>,
}

impl WaypointRef {
    /// The waypoint as istioctl names it: its service's name, or `NA` when no service of the
    /// dump has that address.
    pub fn name(&self) -> &str {
        match &self.service {
            Some(s) => s.split_once('/').map_or(s.as_str(), |(_, n)| n),
            None => "NA",
        }
    }
}

/// A workload ztunnel knows of (any node's; those of its own node it serves).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AmbientWorkload {
    /// Its UID (`Kubernetes//Pod/NAMESPACE/POD` for a pod).
    pub uid: String,
    /// Its name (the pod's).
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
    /// The network of its addresses (empty: the default network).
    pub network: String,
    /// The node it runs on.
    pub node: String,
    /// How traffic to it is tunnelled (`HBONE` in the mesh, `TCP` outside it).
    pub protocol: TunnelProtocol,
    /// The waypoint its traffic goes through, if any.
    pub waypoint: Option<WaypointRef>,
    /// `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`: whom it is in the mesh.
    pub identity: Option<SpiffeId>,
    /// Its service account.
    pub service_account: String,
    /// Its workload (the Deployment or other owner).
    pub workload_name: String,
    /// `service.istio.io/canonical-name`.
    pub canonical_name: String,
    /// `service.istio.io/canonical-revision`.
    pub canonical_revision: String,
    /// `Healthy` or `Unhealthy`, as ztunnel writes it.
    pub status: String,
    /// The Kubernetes cluster it runs in.
    pub cluster_id: String,
    /// Keys (`namespace/name`) of the workload-selector policies that apply to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_policies: Vec<String>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
}

impl AmbientWorkload {
    /// `name.namespace`, as istioctl and the connection tables name it.
    pub fn label(&self) -> String {
        format!("{}.{}", self.name, self.namespace)
    }
}

/// A service ztunnel knows of.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AmbientService {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its hostname (`NAME.NAMESPACE.svc.cluster.local`).
    pub hostname: String,
    /// As ztunnel writes them: `network/address`.
    pub vips: Vec<String>,
    /// Service port → target port.
    pub ports: BTreeMap<u16, u16>,
    /// The waypoint its traffic goes through, if any.
    pub waypoint: Option<WaypointRef>,
    /// How many endpoints it has.
    pub endpoints: usize,
    /// Endpoints not marked unhealthy.
    pub healthy_endpoints: usize,
    /// The UIDs of its endpoints' workloads (`Kubernetes//Pod/NAMESPACE/POD`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoint_uids: Vec<String>,
    /// The identities its endpoints may present, when the service restricts them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subject_alt_names: Vec<String>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
}

impl AmbientService {
    /// The first VIP's address without its network, as istioctl prints it.
    pub fn vip(&self) -> &str {
        self.vips
            .first()
            .map_or("", |v| v.split_once('/').map_or(v.as_str(), |(_, a)| a))
    }
}

/// Which workloads a policy applies to (ztunnel's `RbacScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum PolicyScope {
    /// Every workload in the mesh (a policy of the root namespace).
    Global,
    /// Every workload of the policy's namespace.
    Namespace,
    /// The workloads that list it in their `authorizationPolicies`.
    WorkloadSelector,
}

impl std::fmt::Display for PolicyScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyScope::Global => "Global",
            PolicyScope::Namespace => "Namespace",
            PolicyScope::WorkloadSelector => "WorkloadSelector",
        })
    }
}

/// What an L4 policy does with a connection it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum L4Action {
    /// Admit it.
    Allow,
    /// Refuse it.
    Deny,
}

impl std::fmt::Display for L4Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            L4Action::Allow => "Allow",
            L4Action::Deny => "Deny",
        })
    }
}

/// An authorization policy as ztunnel enforces it, on connections (no HTTP attributes).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct L4Policy {
    /// The policy's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Which workloads it applies to.
    pub scope: PolicyScope,
    /// What it does with a match.
    pub action: L4Action,
    /// Evaluated and logged, never enforced.
    pub dry_run: bool,
    /// Any rule matches when all its clauses match; a clause matches when any of its matches
    /// does (ztunnel's `Vec<Vec<Vec<RbacMatch>>>`).
    pub rules: Vec<Vec<Vec<L4Match>>>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
}

impl L4Policy {
    /// ztunnel's key for it, the name its logs and denials use: `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// One match group: every field given must hold (within a field, any value may).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct L4Match {
    /// The caller's namespace is one of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<L4StringMatch>,
    /// The caller's namespace is none of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_namespaces: Vec<L4StringMatch>,
    /// The caller is one of these service accounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<ServiceAccountMatch>,
    /// The caller is none of these service accounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_service_accounts: Vec<ServiceAccountMatch>,
    /// Matched against the peer's identity without its `spiffe://`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<L4StringMatch>,
    /// The caller's identity matches none of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_principals: Vec<L4StringMatch>,
    /// The caller's address is in one of these ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<Cidr>,
    /// The caller's address is in none of these ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_source_ips: Vec<Cidr>,
    /// The destination address is in one of these ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destination_ips: Vec<Cidr>,
    /// The destination address is in none of these ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_destination_ips: Vec<Cidr>,
    /// The destination port is one of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destination_ports: Vec<u16>,
    /// The destination port is none of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_destination_ports: Vec<u16>,
}

impl L4Match {
    /// A match group with nothing in it matches nothing (ztunnel skips it).
    pub fn is_empty(&self) -> bool {
        *self == L4Match::default()
    }
}

/// How ztunnel matches a string: exactly, by prefix, by suffix, or present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum L4StringMatch {
    /// Equal to it.
    Exact(String),
    /// Starts with it.
    Prefix(String),
    /// Ends with it.
    Suffix(String),
    /// Any non-empty value.
    Presence,
}

impl L4StringMatch {
    /// Whether `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        match self {
            L4StringMatch::Exact(e) => s == e,
            L4StringMatch::Prefix(p) => s.starts_with(p.as_str()),
            L4StringMatch::Suffix(x) => s.ends_with(x.as_str()),
            L4StringMatch::Presence => !s.is_empty(),
        }
    }
}

impl std::fmt::Display for L4StringMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            L4StringMatch::Exact(e) => f.write_str(e),
            L4StringMatch::Prefix(p) => write!(f, "{p}*"),
            L4StringMatch::Suffix(s) => write!(f, "*{s}"),
            L4StringMatch::Presence => f.write_str("*"),
        }
    }
}

/// A service account, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ServiceAccountMatch {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub service_account: String,
}

/// One connection of a workload ztunnel serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct AmbientConnection {
    /// `name.namespace` of the workload.
    pub workload: String,
    /// Inbound (to the workload) or outbound (from it).
    pub direction: super::TrafficDirection,
    /// The source address and port.
    pub src: String,
    /// What the client asked for (a service address or hostname), when ztunnel knows it.
    pub original_dst: Option<String>,
    /// The address ztunnel connected to.
    pub actual_dst: String,
    /// `HBONE` or `TCP`.
    pub protocol: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_matches_are_ztunnels() {
        assert!(L4StringMatch::Prefix("ns-".into()).matches("ns-a"));
        assert!(L4StringMatch::Suffix("/sa/x".into()).matches("td/ns/a/sa/x"));
        assert!(!L4StringMatch::Exact("a".into()).matches("ab"));
        assert!(L4StringMatch::Presence.matches("a"));
        assert!(!L4StringMatch::Presence.matches(""));
        assert_eq!(L4StringMatch::Prefix("ns-".into()).to_string(), "ns-*");
    }

    #[test]
    fn protocols_round_trip_their_names() {
        for p in ["HBONE", "TCP", "LegacyIstioMtls"] {
            assert_eq!(TunnelProtocol::from(p).to_string(), p);
        }
    }

    #[test]
    fn a_waypoint_is_named_by_its_service() {
        let w = WaypointRef {
            destination: "/10.96.65.117".into(),
            port: Some(15008),
            service: Some("bookinfo/namespace-istio-waypoint".into()),
        };
        assert_eq!(w.name(), "namespace-istio-waypoint");
        let unknown = WaypointRef { service: None, ..w };
        assert_eq!(unknown.name(), "NA");
    }
}
