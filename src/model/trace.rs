//! The path a connection takes through the proxy, as `envinspect trace` reports it: steps, each
//! with what was matched and its evidence, and what happens on the wire in the end.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub schema_version: u32,
    pub source: String,
    /// `outbound` or `inbound`.
    pub direction: &'static str,
    /// What was traced: `www.google.com:443`, or the inbound port.
    pub target: String,
    /// What the trace assumed about the application's traffic (TLS or not, the path).
    pub assumptions: Vec<String>,
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    /// `trace --inbound` with a request described: what the authorization layers decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<super::decision::Evaluation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// `listener`, `filter chain`, `route`, `virtual host`, `cluster`, `tls`…
    pub kind: &'static str,
    pub name: String,
    /// Why this one was taken.
    pub detail: String,
    pub evidence: Vec<String>,
}

/// What happens on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// `passthrough`, `blackhole`, `istio-mtls`, `auto-mtls`, `tls-origination`, `plaintext`,
    /// `direct-response`, `inbound-mtls`, `inbound-plaintext`, `no-match`…
    pub kind: &'static str,
    pub summary: String,
    /// The troubleshooting consequence: where to look when this path fails.
    pub advice: String,
}
