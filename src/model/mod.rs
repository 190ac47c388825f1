//! The domain model every command shares: a proxy's identity, resources, TLS and policies, free
//! of proto types. Built by `extract/`, read by the analyses (`diagnose/`, `authz/`, `trace/`,
//! `expect/`, `bundle/`, `evidence/`, `sync/`) and by `render/`. Every public field says what it
//! holds; docs/output-schema.md says how each is written in the JSON document.

/// Serialised as their `Display` text; read back through `FromStr`, so a value in an
/// expectations file is validated like one from a dump.
macro_rules! string_serde {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod ambient;
pub mod authz;
pub mod bundle;
pub mod cannot_tell;
pub mod catalog;
pub mod cert;
mod contract;
pub mod decision;
pub mod evidence;
pub mod expectation;
pub mod finding;
pub mod http;
pub mod ids;
pub mod intercept;
pub mod matcher;
pub mod names;
pub mod pointer;
pub mod policy;
mod principal;
pub mod provenance;
pub mod report;
pub mod serial;
mod span;
pub mod sync;
pub mod timestamp;
pub mod tls;
pub mod trace;

use std::collections::BTreeMap;

use serde::Serialize;

pub use catalog::{Rule, RuleId, RuleKind};
pub use cert::{CertDer, CertInfo, ChainVerdict, Secret, SecretKind, SecretState};
pub use finding::{Finding, Level};
pub use ids::{Fingerprint, IdError, IstioClusterName, ServerName, SpiffeId, TrustDomain};
pub use names::{ClusterName, ListenerName, RouteName, SecretName};
pub use pointer::Pointer;
pub use policy::{InboundPort, MtlsMode, OutboundMode, OutboundPolicy};
pub use principal::{PeerId, PeerIdError, RequestPrincipal, RequestPrincipalError};
pub use report::{
    Counts, DocumentKind, IdentityBasis, Node, Report, SectionCounts, Warning, WorkloadIdentity,
};
pub use serial::Serial;
pub use span::{Span, SpanError};
pub use timestamp::Timestamp;
pub use tls::{Socket, TlsContext, UpstreamTls};

/// Configuration of a type we do not model (or do not know): its type and JSON, as it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RawConfig {
    /// Its type URL (or the extension's name when it has none).
    pub type_url: String,
    /// The original JSON; absent for known types we simply do not look into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<serde_json::Value>,
}

/// Where a resource is in its life, as the dump files it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResourceState {
    /// From the bootstrap.
    Static,
    /// Delivered by xDS and in use.
    Active,
    /// Delivered, waiting for its dependencies (routes, secrets, endpoints) before use.
    Warming,
    /// Replaced or removed, finishing its open connections.
    Draining,
}

impl std::fmt::Display for ResourceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ResourceState::Static => "STATIC",
            ResourceState::Active => "ACTIVE",
            ResourceState::Warming => "WARMING",
            ResourceState::Draining => "DRAINING",
        })
    }
}

/// An upstream cluster: where it sends traffic and how it protects it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Cluster {
    /// Its name.
    pub name: ClusterName,
    /// Where it is in its life.
    pub state: ResourceState,
    /// The push it came with, and when it was accepted.
    #[serde(flatten)]
    pub versioned: Versioned,
    /// Set when the name follows Istio's `direction|port|subset|host` convention.
    pub istio: Option<IstioClusterName>,
    /// `EDS`, `STATIC`, `ORIGINAL_DST`, `STRICT_DNS`… or the custom cluster type's name.
    pub discovery: String,
    /// `name.namespace` of the DestinationRule that produced it (`filter_metadata.istio.config`).
    pub destination_rule: Option<String>,
    /// The control-plane objects its metadata says produced it (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub produced_by: Vec<provenance::ConfigRef>,
    /// Its transport socket(s): TLS or not, per endpoint.
    pub tls: UpstreamTls,
    /// Istio's ALPN rewrite opt-out (`filter_metadata.istio.alpn_override: "false"`).
    pub alpn_override: Option<bool>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
    /// Circuit breakers, outlier detection, timeouts: what `explain` cites (not in the report).
    #[serde(skip)]
    pub traffic: evidence::ClusterTraffic,
}

/// A listener and its filter chains.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Listener {
    /// Its name.
    pub name: ListenerName,
    /// Where it is in its life.
    pub state: ResourceState,
    /// The push it came with, and when it was accepted.
    #[serde(flatten)]
    pub versioned: Versioned,
    /// IP (or pipe path, or internal listener name) and port; internal listeners have no port.
    pub address: Option<String>,
    /// Its port; `None` for internal listeners and pipes.
    pub port: Option<u32>,
    /// Its listener filters (`envoy.filters.listener.tls_inspector`…), in order.
    pub listener_filters: Vec<String>,
    /// `traffic_direction`, when the control plane set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<TrafficDirection>,
    /// Its filter chains, in order.
    pub filter_chains: Vec<FilterChain>,
    /// The listener picks chains by name with `filter_chain_matcher` (the matcher API): the
    /// chains' own `filter_chain_match` is then not what decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_chain_matcher: Option<matcher::ChainMatcher>,
    /// v2's `use_original_dst` (Istio before 1.6 set it on `virtual`): connections are handed to
    /// the listener of their original destination, when there is one.
    #[serde(skip)]
    pub use_original_dst: bool,
    /// `bind_to_port` (default true); a listener that does not bind only gets hand-offs.
    #[serde(skip)]
    pub bind_to_port: bool,
    /// An internal listener (`internal_listener`, an Envoy internal address): only Envoy itself
    /// connects to it, after a tunnel or another listener.
    #[serde(skip)]
    pub internal: bool,
    /// The control-plane objects its metadata says produced it (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub produced_by: Vec<provenance::ConfigRef>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
    /// The listener's own access logs (`access_logs`, absent when none).
    #[serde(flatten)]
    pub telemetry: evidence::ChainTelemetry,
}

/// Which configuration push a resource came with, and when Envoy accepted it (the admin
/// wrapper's `version_info` and `last_updated`): is it stale, when did it change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Versioned {
    /// The push version (`version_info`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_info: Option<String>,
    /// When Envoy accepted it (`last_updated`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<Timestamp>,
}

/// Envoy's `core.v3.TrafficDirection` (UNSPECIFIED is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TrafficDirection {
    /// `INBOUND`: connections to the workload.
    Inbound,
    /// `OUTBOUND`: connections from the workload.
    Outbound,
}

impl TrafficDirection {
    /// `inbound` or `outbound`, as a trace names its direction.
    pub fn as_lowercase(self) -> &'static str {
        match self {
            TrafficDirection::Inbound => "inbound",
            TrafficDirection::Outbound => "outbound",
        }
    }

    /// Serializes as [`TrafficDirection::as_lowercase`].
    pub(crate) fn serialize_lowercase<S: serde::Serializer>(
        d: &TrafficDirection,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.as_lowercase())
    }
}

impl Listener {
    /// The indices of the chains a `filter_chain_matcher` may give a connection to `port` (see
    /// [`matcher::ChainMatcher::candidates`]; the default chain when it may give none). Empty
    /// without a matcher.
    pub fn matcher_chains(&self, port: u32) -> Vec<usize> {
        let Some(m) = &self.filter_chain_matcher else {
            return Vec::new();
        };
        let names = m.candidates(port);
        self.filter_chains
            .iter()
            .enumerate()
            .filter(|(_, c)| match &c.name {
                _ if c.is_default => names.contains(&None),
                Some(n) => names.iter().any(|x| x.as_deref() == Some(n.as_str())),
                None => false,
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// An address in no destination range of the chains (the documentation ranges of RFC 5737
    /// first), when some chain matches by range: what a connection to "any other address" is
    /// matched as. `None` when no chain matches by address.
    pub fn unlisted_address(&self) -> Option<std::net::IpAddr> {
        let ranges: Vec<ids::Cidr> = self
            .filter_chains
            .iter()
            .flat_map(|c| &c.matcher.prefix_ranges)
            .filter_map(|r| r.parse::<ids::Cidr>().ok())
            .filter(|c| c.prefix_len() > 0)
            .collect();
        if ranges.is_empty() {
            return None;
        }
        ["192.0.2.1", "198.51.100.1", "203.0.113.1", "240.0.0.1"]
            .iter()
            .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
            .find(|a| !ranges.iter().any(|r| r.contains(*a)))
    }

    /// Whether connections reach it redirected (iptables, eBPF), keeping their original
    /// destination: the `original_dst` listener filter, or the deprecated `use_original_dst`.
    pub fn captures(&self) -> bool {
        self.listener_filters.iter().any(|f| {
            f == "envoy.filters.listener.original_dst" || f == "envoy.listener.original_dst"
        }) || self.use_original_dst
    }
}

/// One filter chain of a listener: what it matches, its TLS, and where it sends traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FilterChain {
    /// Its name, when it has one.
    pub name: Option<String>,
    /// The listener's `default_filter_chain` (taken when no chain matches).
    pub is_default: bool,
    /// `filter_chain_match`.
    pub matcher: ChainMatch,
    /// Its transport socket: the TLS it accepts connections with.
    pub tls: Socket,
    /// Where its network filters send traffic.
    pub destinations: Vec<Destination>,
    /// The HTTP filters of its HTTP connection manager, in order (empty for TCP chains).
    pub http_filters: Vec<String>,
    /// What its HTTP connection manager does to the Host header before routing.
    #[serde(skip_serializing_if = "http::HostNormalization::is_none")]
    pub host: http::HostNormalization,
    /// Set when its HTTP connection manager has no HTTP filter, so nothing answers a request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_router: Option<http::NoRouter>,
    /// The filters that can refuse traffic, network ones then HTTP ones, in the order Envoy
    /// runs them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authz: Vec<authz::AuthzFilter>,
    /// The control-plane objects its metadata says produced it (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub produced_by: Vec<provenance::ConfigRef>,
    /// The names of its network filters, in order.
    #[serde(skip)]
    pub network_filters: Vec<String>,
    /// JSON Pointer to the chain in the dump.
    #[serde(skip)]
    pub pointer: crate::model::Pointer,
    /// Its connection manager's or TCP proxy's `access_logs` and `stat_prefix` (each absent
    /// when none).
    #[serde(flatten)]
    pub telemetry: evidence::ChainTelemetry,
}

/// A filter chain's `filter_chain_match`: what a connection must have for the chain to take it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct ChainMatch {
    /// `destination_port`.
    pub destination_port: Option<u32>,
    /// `prefix_ranges`: destination addresses.
    pub prefix_ranges: Vec<String>,
    /// `source_prefix_ranges`: source addresses.
    pub source_prefix_ranges: Vec<String>,
    /// `transport_protocol` (`tls`, `raw_buffer`).
    pub transport_protocol: Option<String>,
    /// `application_protocols`: ALPN.
    pub application_protocols: Vec<String>,
    /// `server_names`: SNI.
    pub server_names: Vec<String>,
    /// The peer's own address before a PROXY protocol header (`direct_source_prefix_ranges`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub direct_source_prefix_ranges: Vec<String>,
    /// `SAME_IP_OR_LOOPBACK` or `EXTERNAL` (`ANY`, the default, is `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// `source_ports`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_ports: Vec<u32>,
}

impl ChainMatch {
    /// Whether it matches every connection.
    pub fn is_empty(&self) -> bool {
        *self == ChainMatch::default()
    }
}

/// Where a filter chain sends traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Destination {
    /// A TCP proxy to one cluster.
    Cluster {
        /// The cluster.
        name: String,
    },
    /// A TCP proxy to weighted clusters.
    WeightedClusters {
        /// The clusters.
        names: Vec<String>,
        /// `weights[i]` is `names[i]`'s weight.
        weights: Vec<u32>,
    },
    /// HTTP, routes from RDS by this name.
    Route {
        /// The route configuration's name.
        name: String,
    },
    /// HTTP, routes inline in the listener: their match prefixes.
    InlineRoute {
        /// The route configuration.
        config: Box<RouteConfig>,
    },
    /// A network filter we do not follow (Redis, Mongo, a Wasm filter, an unknown type…).
    Filter {
        /// The filter's name.
        name: String,
        /// Its configuration, as it was.
        config: RawConfig,
    },
}

/// A route configuration: virtual hosts and their routes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RouteConfig {
    /// Its name.
    pub name: RouteName,
    /// Where it is in its life.
    pub state: ResourceState,
    /// The push it came with, and when it was accepted.
    #[serde(flatten)]
    pub versioned: Versioned,
    /// Its virtual hosts, in order.
    pub virtual_hosts: Vec<VirtualHost>,
    /// `ignore_port_in_host_matching`: the Host header's port is dropped before matching domains.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_port_in_host_matching: bool,
    /// `typed_per_filter_config` for the authorization filters, by filter name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_filter: BTreeMap<String, authz::PerRouteAuthz>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
}

/// A virtual host: the domains it serves and its routes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VirtualHost {
    /// Its name.
    pub name: String,
    /// `domains`: the Host values it serves (`*` wildcards at either end).
    pub domains: Vec<String>,
    /// Its routes, in order: the first that matches takes the request.
    pub routes: Vec<Route>,
    /// The control-plane objects its metadata says produced it (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub produced_by: Vec<provenance::ConfigRef>,

    /// `typed_per_filter_config` for the authorization filters, by filter name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_filter: BTreeMap<String, authz::PerRouteAuthz>,
}

/// A route: its match and what it does with the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Route {
    /// Its name, when it has one.
    pub name: Option<String>,
    /// `/prefix*`, `/exact`, `PathPrefix:/p`, `regex: …`, `ConnectMatcher`…
    #[serde(rename = "match")]
    pub matcher: String,
    /// What it does with a request it matches.
    pub action: RouteAction,
    /// `name.namespace` of the VirtualService or HTTPRoute (`filter_metadata.istio.config`).
    pub virtual_service: Option<String>,
    /// The control-plane objects its metadata says produced it (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub produced_by: Vec<provenance::ConfigRef>,
    /// The match, typed (`match` above is its short text).
    #[serde(skip)]
    pub route_match: http::RouteMatch,
    /// `typed_per_filter_config` for the authorization filters, by filter name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_filter: BTreeMap<String, authz::PerRouteAuthz>,
    /// Per weighted cluster: its `typed_per_filter_config`, most specific of all.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cluster_per_filter: BTreeMap<String, BTreeMap<String, authz::PerRouteAuthz>>,
    /// Timeout and retries: what `explain` cites (not in the report).
    #[serde(skip)]
    pub traffic: evidence::RouteTraffic,
}

/// What a route does with a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RouteAction {
    /// Forwards it to one cluster.
    Cluster {
        /// The cluster.
        name: String,
    },
    /// `weights[i]` is `names[i]`'s weight.
    WeightedClusters {
        /// The clusters.
        names: Vec<String>,
        /// Their weights.
        weights: Vec<u32>,
    },
    /// Forwards it to the cluster a request header names.
    ClusterHeader {
        /// The header.
        header: String,
    },
    /// Forwards it to the cluster a plugin picks.
    ClusterSpecifierPlugin {
        /// The plugin's name.
        name: String,
    },
    /// The redirect's status (`response_code`: 301 unless set).
    Redirect {
        /// The status.
        status: u32,
    },
    /// Answers itself.
    DirectResponse {
        /// The status.
        status: u32,
    },
    /// `non_forwarding_action`: neither forwards nor answers (a filter answers).
    NonForwarding,
    /// No action envinspect reads (none set, or a route action without a cluster specifier).
    None,
}

/// Endpoints of one cluster (from `EndpointsConfigDump` or `/clusters`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Endpoint {
    /// The Envoy cluster the endpoint serves (as `/clusters` names it).
    pub cluster: ClusterName,
    /// The EDS service name the dump files it under, when that is not the cluster's name (the
    /// cluster's `eds_cluster_config.service_name`: Gloo, Envoy Gateway…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eds_service_name: Option<String>,
    /// `ip:port`, a pipe path, or `envoy://<internal listener>/<endpoint id>`.
    pub address: String,
    /// Envoy's health status name: `HEALTHY`, `UNHEALTHY`, `UNKNOWN`, `DRAINING`…
    pub health: String,
    /// The locality, when set.
    pub locality: Option<String>,
    /// `load_balancing_weight`.
    pub weight: Option<u32>,
    /// Transport socket match metadata (`envoy.transport_socket_match`), e.g. `tlsMode=istio`.
    pub socket_match: BTreeMap<String, String>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
}
