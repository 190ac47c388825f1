//! The last step of a trace: what a cluster puts on the wire, in the user's terms (passthrough,
//! blackhole, Istio mTLS, TLS origination, plaintext) and where to look when it fails.

use super::{outcome, step};
use crate::model::tls::TlsKind;
use crate::model::trace::{Outcome, Step};
use crate::model::{Report, TlsContext};

pub(super) fn sans(ctx: &TlsContext) -> String {
    if ctx.san_matchers.is_empty() {
        "any certificate the CA signed (no SAN matchers)".into()
    } else {
        ctx.san_matchers
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(super) fn trust(ctx: &TlsContext) -> String {
    let v: Vec<String> = ctx.validation.iter().map(|v| v.to_string()).collect();
    if v.is_empty() {
        "no CA: the server is not verified".into()
    } else {
        v.join(", ")
    }
}

pub(super) fn cluster(r: &Report, name: &str, app_tls: bool, steps: &mut Vec<Step>) -> Outcome {
    let Some(c) = r.clusters.iter().find(|c| c.name == name) else {
        return outcome(
            "no-cluster",
            format!("cluster {name} is not in the dump"),
            "HTTP 503 with response flag NC (no cluster): CDS has not delivered it",
        );
    };
    steps.push(step(
        "cluster",
        &c.name,
        format!("{} cluster, {}", c.discovery, c.tls.summary()),
        &c.pointer,
    ));
    if c.name == "BlackHoleCluster" {
        return outcome(
            "blackhole",
            "blackholed: the connection is reset (REGISTRY_ONLY, no ServiceEntry for the host)",
            "curl exit 56/52, HTTP 502: add a ServiceEntry for the host",
        );
    }
    if c.name == "PassthroughCluster" || c.discovery == "ORIGINAL_DST" {
        let tls_note = if app_tls {
            "the TLS is the application's own: a certificate error is in the application's CA bundle, not the mesh (curl exit 60 or 77)"
        } else {
            "sent as the application sent it"
        };
        return outcome(
            "passthrough",
            format!("TCP passthrough to the original destination; {tls_note}"),
            "no mesh policy applies on this path: no DestinationRule TLS, no mTLS",
        );
    }
    let identity = r
        .identity
        .as_ref()
        .and_then(|i| i.spiffe_id.as_ref())
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(no identity in the dump)".into());
    let first_ctx = c.tls.contexts().next();
    match (c.tls.kind(), first_ctx) {
        (TlsKind::IstioMtls, Some(ctx)) => outcome(
            "istio-mtls",
            format!("Istio mTLS: presents {identity}, SNI {}, accepts {}, trusts {}", sni(ctx), sans(ctx), trust(ctx)),
            if app_tls { "the application's TLS is carried inside the mesh mTLS; its certificate errors are the application's own" } else { "handshake errors here are mesh errors: check `envinspect secrets` (roots, expiry) and the SANs against the server's identity" },
        ),
        (TlsKind::Auto, Some(ctx)) => outcome(
            "auto-mtls",
            format!("Istio auto-mTLS: mTLS to endpoints labelled tlsMode: istio (presents {identity}, SNI {}, accepts {}), plaintext to the others", sni(ctx), sans(ctx)),
            "which endpoint gets which depends on its metadata: `envinspect endpoints` shows TLS MODE",
        ),
        (TlsKind::Mutual | TlsKind::Simple, Some(ctx)) => {
            let double = if app_tls { "; the application already speaks TLS: this is TLS inside TLS (rule double-tls)" } else { "" };
            outcome(
                "tls-origination",
                format!("TLS originated by the proxy ({}): SNI {}, CA {}, accepts {}{double}", if c.tls.kind() == TlsKind::Mutual { "mutual" } else { "simple" }, sni(ctx), trust(ctx), sans(ctx)),
                "certificate errors here are the proxy's: the DestinationRule's caCertificates and subjectAltNames (curl sees 503 UF, not exit 60)",
            )
        }
        (TlsKind::Plaintext, _) => outcome(
            "plaintext",
            if app_tls { "plaintext TCP: the application's own TLS passes through unchanged".to_string() } else { "plaintext: what the application sent, unencrypted".to_string() },
            if app_tls { "certificate errors are the application's own (curl exit 60/77)" } else { "no TLS on this hop" },
        ),
        _ => outcome("other", format!("transport socket {}", c.tls.summary()), "envinspect does not model this transport socket"),
    }
}

fn sni(ctx: &TlsContext) -> String {
    ctx.sni
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(none)".into())
}
