//! Traffic policies read from a proxy's inbound and outbound listeners, each with its evidence.

use serde::{Deserialize, Serialize};

/// What the proxy does with outbound connections to destinations it has no chain for, in Istio's
/// names (`outboundTrafficPolicy.mode`), whichever mesh configured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum OutboundMode {
    /// Connections to unknown destinations pass through (`ALLOW_ANY`).
    AllowAny,
    /// Only known destinations are reachable; others are refused (`REGISTRY_ONLY`).
    RegistryOnly,
    /// Unknown destinations pass, resolved by DNS per request (`ALLOW_ANY_DYNAMIC_DNS`).
    AllowAnyDynamicDns,
    /// Contradicting or missing evidence; the evidence says why.
    Unknown,
    /// No outbound capture listener (a gateway, an edge proxy).
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

/// The outbound traffic policy a proxy enforces, and what shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OutboundPolicy {
    /// The mode.
    pub mode: OutboundMode,
    /// What the decision rests on, one sentence each, naming listener/chain/route and target.
    pub evidence: Vec<String>,
}

/// How an inbound port treats TLS and client certificates, in Istio's PeerAuthentication names where they fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum MtlsMode {
    /// Only TLS chains accept the port.
    Strict,
    /// TLS and plaintext chains both accept it.
    Permissive,
    /// Only plaintext chains.
    Disable,
    /// Only TLS chains, and not all of them require a client certificate: encrypted, but any
    /// client may connect (a gateway's public port, or a mesh port missing its peer check).
    SimpleTls,
    /// TLS chains that require no client certificate, and plaintext chains: nobody is
    /// authenticated on the port, whether or not it encrypts (it is not "mTLS optional").
    SimpleTlsOrPlaintext,
}

impl std::fmt::Display for MtlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MtlsMode::Strict => "STRICT",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Disable => "DISABLE",
            MtlsMode::SimpleTls => "SIMPLE_TLS",
            MtlsMode::SimpleTlsOrPlaintext => "SIMPLE_TLS_OR_PLAINTEXT",
        })
    }
}

/// The inbound mTLS mode of one port of an inbound listener (`None` = every port a capture
/// listener receives that no more specific chain matches).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct InboundPort {
    /// The listener that accepts the port.
    pub listener: super::ListenerName,
    /// Why the listener counts as inbound (`traffic_direction INBOUND`, `terminates TLS`…).
    pub why: String,
    /// How many chains accept the port.
    pub chains: usize,
    /// The destination port; `None` for the capture listener's catch-all.
    pub port: Option<u32>,
    /// The mode its chains add up to.
    pub mode: MtlsMode,
    /// Whether every TLS chain for this port requires a client certificate.
    pub client_cert_required: bool,
    /// Whether some TLS chain for this port verifies a client certificate (requires one, or
    /// checks one when sent); `false`: no client is ever authenticated by its certificate.
    pub client_cert_verified: bool,
    /// What the mode rests on, one sentence each, naming listener and chain.
    pub evidence: Vec<String>,
    /// How each server name is served, when chains of the port match by SNI (a gateway with
    /// MUTUAL on one host and SIMPLE on another); sorted, empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_server_name: Vec<ServerNameMode>,
}

/// The TLS a chain accepts a connection with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainTls {
    /// TLS with a client certificate it requires and verifies.
    MtlsRequired,
    /// TLS; a client certificate is verified when sent, and a client without one is served
    /// unauthenticated (Istio's OPTIONAL_MUTUAL).
    MtlsOptional,
    /// TLS without asking for a client certificate: no client is authenticated (SIMPLE).
    ServerOnly,
    /// TLS the chain does not terminate (passed through to the upstream).
    PassedThrough,
    /// No TLS: the chain takes plaintext.
    Plaintext,
}

impl std::fmt::Display for ChainTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChainTls::MtlsRequired => "mTLS required",
            ChainTls::MtlsOptional => "mTLS optional",
            ChainTls::ServerOnly => "server-only TLS",
            ChainTls::PassedThrough => "TLS passed through",
            ChainTls::Plaintext => "plaintext",
        })
    }
}

/// One set of server names of a port, and the TLS its chain accepts them with. An empty
/// `server_names` is every name no other entry lists (and connections without SNI).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct ServerNameMode {
    /// The names (sorted); empty for every name no other entry lists.
    pub server_names: Vec<String>,
    /// The TLS the chain accepts them with.
    pub tls: ChainTls,
}
