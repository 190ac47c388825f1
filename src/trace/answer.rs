//! What the client ends up seeing, said once per kind of client: the proxy's own HTTP answer
//! (status, response flag, `%RESPONSE_CODE_DETAILS%`), a reset, a refusal, or the upstream's
//! answer. Every outcome of a trace is built here, so its symptoms and its kind agree.

use crate::model::trace::{ClientKind, OutcomeKind};
use crate::model::trace::{Outcome, Response, Symptom};

/// What the proxy does with the connection or request, in the terms a client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Effect {
    /// The proxy answers the HTTP request itself.
    Answer(Response),
    /// An HTTP parser meets a TLS ClientHello: a plaintext `400` the TLS client cannot read.
    TlsIntoHttp,
    /// The proxy closes or resets the connection (no chain, no upstream host, a failed
    /// handshake).
    Reset,
    /// Nothing accepts the connection.
    Refused,
    /// Sent upstream: the upstream answers. `own_tls`: the client's TLS reaches the server (the
    /// proxy did not terminate it).
    Forwarded { own_tls: bool },
    /// The proxy is not on the path.
    Bypass,
    /// The proxy reads the request and never answers it (no router): the client waits.
    Hangs,
    /// envinspect cannot tell.
    Unknown,
}

pub(super) fn answer(status: u32, flags: &str, details: &str) -> Effect {
    Effect::Answer(Response {
        status,
        flags: flags.into(),
        details: details.into(),
    })
}

impl Effect {
    /// What one client sees; `tls`: the client speaks TLS.
    pub(super) fn symptom(&self, tls: bool, http: bool) -> Symptom {
        let client = match (tls, http) {
            (true, _) => ClientKind::Https,
            (false, true) => ClientKind::Http,
            (false, false) => ClientKind::Tcp,
        };
        let sees = match self {
            Effect::Answer(r) => {
                let flag = if r.flags.is_empty() {
                    String::new()
                } else {
                    format!(" {}", r.flags)
                };
                format!("HTTP {}{flag} ({})", r.status, r.details)
            }
            Effect::TlsIntoHttp => "curl exit 35, `wrong version number`: the proxy answers the TLS ClientHello with a plaintext HTTP 400 (http1.codec_error)".into(),
            Effect::Reset if tls => "curl exit 35: the connection is reset during the TLS handshake".into(),
            Effect::Reset if http => "curl exit 52 (empty reply) or 56 (connection reset)".into(),
            Effect::Reset => "the connection is closed".into(),
            Effect::Refused => "curl exit 7: connection refused".into(),
            Effect::Forwarded { own_tls: true } if tls => "the server's answer through its own TLS (certificate errors are curl exit 60, the application's own)".into(),
            Effect::Forwarded { .. } if tls => "the upstream's answer, over the TLS the proxy terminates (its certificate is the one curl verifies)".into(),
            Effect::Forwarded { .. } => "the upstream's answer (the proxy answers 503 UF or URX only when it cannot connect)".into(),
            Effect::Bypass => "whatever the destination answers: no proxy is in between".into(),
            Effect::Hangs => "no answer: the request waits until the client gives up (curl exit 28 with --max-time)".into(),
            Effect::Unknown => "cannot tell from the dump".into(),
        };
        Symptom { client, sees }
    }
}

pub(super) fn outcome(
    kind: OutcomeKind,
    summary: impl Into<String>,
    advice: impl Into<String>,
    effect: &Effect,
) -> Outcome {
    Outcome {
        kind,
        summary: summary.into(),
        advice: advice.into(),
        response: match effect {
            Effect::Answer(r) => Some(r.clone()),
            Effect::TlsIntoHttp => Some(Response {
                status: 400,
                flags: "DPE".into(),
                details: "http1.codec_error".into(),
            }),
            _ => None,
        },
        clients: Vec::new(),
    }
}
