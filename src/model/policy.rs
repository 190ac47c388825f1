//! Traffic policies read from a sidecar's virtual listeners, each with its evidence.

use serde::{Deserialize, Serialize};

/// Istio's `outboundTrafficPolicy.mode` as the proxy enforces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboundMode {
    AllowAny,
    RegistryOnly,
    AllowAnyDynamicDns,
    /// Contradicting or missing evidence; the evidence says why.
    Unknown,
    /// No outbound capture listener (a gateway, or not Istio).
    NotApplicable,
}

impl std::fmt::Display for OutboundMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OutboundMode::AllowAny => "ALLOW_ANY",
            OutboundMode::RegistryOnly => "REGISTRY_ONLY",
            OutboundMode::AllowAnyDynamicDns => "ALLOW_ANY_DYNAMIC_DNS",
            OutboundMode::Unknown => "UNKNOWN",
            OutboundMode::NotApplicable => "N/A",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboundPolicy {
    pub mode: OutboundMode,
    /// What the decision rests on, one sentence each, naming listener/chain/route and target.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MtlsMode {
    /// Only TLS chains accept the port.
    Strict,
    /// TLS and plaintext chains both accept it.
    Permissive,
    /// Only plaintext chains.
    Disable,
}

impl std::fmt::Display for MtlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MtlsMode::Strict => "STRICT",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Disable => "DISABLE",
        })
    }
}

/// The inbound mTLS mode of one port of the inbound capture listener (`None` = every port not
/// matched by a more specific chain).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboundPort {
    pub port: Option<u32>,
    pub mode: MtlsMode,
    /// Whether TLS chains for this port require a client certificate.
    pub client_cert_required: bool,
    pub evidence: Vec<String>,
}
