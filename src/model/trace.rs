//! The path a connection takes through the proxy, as `envinspect trace` reports it: steps, each
//! with what was matched and its evidence, and what happens on the wire in the end.

use serde::Serialize;

use super::contract::contract_enum;

/// The path a connection or request takes through one proxy, as `envinspect trace` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Trace {
    /// The version of this output's schema (docs/output-schema.md).
    pub schema_version: u32,
    /// The document traced (a file name or admin URL).
    pub source: String,
    /// Written `outbound` or `inbound`.
    #[serde(serialize_with = "super::TrafficDirection::serialize_lowercase")]
    pub direction: super::TrafficDirection,
    /// What was traced: `www.google.com:443`, or the inbound port.
    pub target: String,
    /// What the trace assumed about the application's traffic (TLS or not, the path).
    pub assumptions: Vec<String>,
    /// Each object the connection goes through, in order.
    pub steps: Vec<Step>,
    /// What happens on the wire in the end.
    pub outcome: Outcome,
    /// `trace --inbound` with a request described: what the authorization layers decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<super::decision::Evaluation>,
    /// A name that several chains could serve: the trace of each other one, in turn.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Trace>,
}

/// One object the path goes through.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Step {
    /// `listener`, `filter chain`, `route config`, `virtual host`, `route`, `weighted clusters`,
    /// `cluster`, `interception`…
    pub kind: StepKind,
    /// The name Envoy logs for it: `%FILTER_CHAIN_NAME%` for a filter chain, `%ROUTE_NAME%`
    /// for a route, `%UPSTREAM_CLUSTER%` for a cluster (empty when it has none).
    pub name: String,
    /// Why this one was taken.
    pub detail: String,
    /// JSON Pointers to the configuration that decides this step.
    pub evidence: Vec<crate::model::Pointer>,
    /// `weighted clusters`: every cluster Envoy may pick, with its weight.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// The control-plane objects its metadata says produced it (the VirtualService of a route,
    /// the DestinationRule and Service of a cluster…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub produced_by: Vec<super::provenance::ConfigRef>,
}

impl Step {
    /// The step, with the objects that produced what it went through.
    pub fn produced_by(mut self, refs: &[super::provenance::ConfigRef]) -> Step {
        self.produced_by = refs.to_vec();
        self
    }
}

/// One cluster of `weighted_clusters`, with its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Choice {
    /// The cluster.
    pub cluster: super::ClusterName,
    /// Its weight, as configured (not a percentage).
    pub weight: u32,
}

/// What happens on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Outcome {
    /// `passthrough`, `blackhole`, `istio-mtls`, `auto-mtls`, `tls-origination`, `plaintext`,
    /// `direct-response`, `no-route`, `no-cluster`, `no-healthy-upstream`,
    /// `tls-into-http-chain`, `handshake-fails`, `not-captured`, `inbound-mtls`, `cannot-tell`…
    pub kind: OutcomeKind,
    /// One sentence saying what happens.
    pub summary: String,
    /// The troubleshooting consequence: where to look when this path fails.
    pub advice: String,
    /// When the proxy answers the request itself: the status, response flag and
    /// `%RESPONSE_CODE_DETAILS%` it logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// What each kind of client sees.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Symptom>,
}

/// The answer the proxy itself gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Response {
    /// The HTTP status.
    pub status: u32,
    /// `%RESPONSE_FLAGS%`: `NR`, `NC`, `UH`… (empty for none).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub flags: String,
    /// `%RESPONSE_CODE_DETAILS%`: `route_not_found`, `cluster_not_found`, `direct_response`…
    pub details: String,
}

/// What one kind of client sees when it takes this path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Symptom {
    /// `http` (plaintext HTTP, `curl http://`), `https` (TLS, `curl https://`), `tcp`.
    pub client: ClientKind,
    /// What it sees, as the user would describe it.
    pub sees: String,
}

contract_enum! {
    /// What a trace step went through.
    pub enum StepKind {
        Listener = "listener",
        FilterChain = "filter chain",
        RouteConfig = "route config",
        VirtualHost = "virtual host",
        Route = "route",
        WeightedClusters = "weighted clusters",
        Cluster = "cluster",
        Interception = "interception",

    }
}

contract_enum! {
    /// What happens on the wire in the end.
    pub enum OutcomeKind {
        AutoMtls = "auto-mtls",
        Blackhole = "blackhole",
        CannotTell = "cannot-tell",
        DirectResponse = "direct-response",
        HandshakeFails = "handshake-fails",
        InboundMtls = "inbound-mtls",
        InboundPermissive = "inbound-permissive",
        InboundPlaintext = "inbound-plaintext",
        InboundTls = "inbound-tls",
        InboundTlsOrPlaintext = "inbound-tls-or-plaintext",
        InboundTunnel = "inbound-tunnel",
        IstioMtls = "istio-mtls",
        NetworkFilter = "network-filter",
        NoCluster = "no-cluster",
        NoDestination = "no-destination",
        NoHealthyUpstream = "no-healthy-upstream",
        NoListener = "no-listener",
        NoMatch = "no-match",
        NoRoute = "no-route",
        NoRouter = "no-router",
        NotCaptured = "not-captured",
        NotHttp = "not-http",
        Other = "other",
        Passthrough = "passthrough",
        Plaintext = "plaintext",
        Redirect = "redirect",
        RouteAction = "route-action",
        TlsIntoHttpChain = "tls-into-http-chain",
        TlsOrigination = "tls-origination",

    }
}

contract_enum! {
    /// A kind of client, for what it sees.
    pub enum ClientKind {
        /// Plaintext HTTP (`curl http://`).
        Http = "http",
        /// TLS (`curl https://`).
        Https = "https",
        /// Raw TCP.
        Tcp = "tcp",
    }
}
