//! The last step of a trace: what a cluster puts on the wire, in the user's terms (passthrough,
//! blackhole, Istio mTLS, TLS origination, plaintext), whether it has a host to send to, and
//! where to look when it fails.

use super::answer::{answer, outcome, Effect};
use super::{listen, step, Probe};
use crate::model::tls::TlsKind;
use crate::model::trace::{Outcome, Step};
use crate::model::trace::{OutcomeKind, StepKind};
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

/// Whether the dump says which endpoints each cluster has (`?include_eds`, every endpoint
/// naming its cluster); an endpoint-less EDS or static cluster then has no host: 503 UH.
fn without_hosts(r: &Report, c: &crate::model::Cluster) -> Option<&'static str> {
    if r.counts.endpoints.is_none() || r.endpoints.iter().any(|e| e.cluster.is_empty()) {
        return None;
    }
    if !matches!(c.discovery.as_str(), "EDS" | "STATIC") {
        return None;
    }
    let eps: Vec<_> = r.endpoints.iter().filter(|e| e.cluster == c.name).collect();
    // Envoy routes to HEALTHY and DEGRADED hosts, and to UNKNOWN ones (no health checking).
    let usable = |h: &str| matches!(h, "HEALTHY" | "UNKNOWN" | "DEGRADED" | "");
    if eps.is_empty() {
        Some("it has no endpoint")
    } else if !eps.iter().any(|e| usable(&e.health)) {
        Some("none of its endpoints is healthy")
    } else {
        None
    }
}

/// Why a connection to the host ended in the blackhole, from what the dump has for it.
fn blackhole_cause(r: &Report, p: &Probe, tls: bool) -> String {
    let host = &p.target.host;
    if p.target.ip.is_some() {
        return format!("no chain or route is for {}: under REGISTRY_ONLY only registered services get through (a ServiceEntry with this address)", p.target);
    }
    let here = listen::clusters_for(r, host, Some(p.target.port));
    let any = listen::clusters_for(r, host, None);
    let by_sni = r.listeners.iter().any(|l| {
        l.filter_chains.iter().any(|c| {
            c.matcher
                .server_names
                .iter()
                .any(|s| s.eq_ignore_ascii_case(host))
        })
    });
    if let Some(c) = here.first() {
        if by_sni && !tls {
            return format!("the proxy has cluster {c} for {host}, but its chain matches only TLS with SNI {host} and the application sent plaintext: speak TLS to it (or declare the port as HTTP)");
        }
        let port = p.target.port;
        if !r
            .listeners
            .iter()
            .any(|l| l.port == Some(port) && !l.captures())
        {
            return format!("the proxy has cluster {c} for {host}, but no listener for port {port}: the capture listener's catch-all gets the connection (Istio: a Sidecar resource's egress, or a Service port that is not exported, leaves the port out)");
        }
        return format!("the proxy has cluster {c} for {host}, but no chain or route of port {port} leads to it: check the port's protocol and the host the request names");
    }
    if let Some(c) = any.first() {
        return format!("the proxy has {host} only on other ports (cluster {c}): the port {} is not declared for it", p.target.port);
    }
    let in_cluster = host.matches('.').count() < 2 || host.contains(".svc.");
    if in_cluster {
        format!("the proxy has no cluster for {host}, an in-cluster name: a Sidecar resource's egress hosts may leave it out (or the service does not exist in the namespace)")
    } else {
        format!("the proxy has no cluster for {host}: add a ServiceEntry for it (REGISTRY_ONLY lets only registered hosts out)")
    }
}

/// The cluster step and the outcome. `wire_tls`: the application's TLS travels on to the
/// cluster (not terminated by the chain); `http`: a route chose it for an HTTP request.
pub(super) fn cluster(
    r: &Report,
    p: &Probe,
    name: &str,
    wire_tls: bool,
    http: bool,
    steps: &mut Vec<Step>,
) -> (Outcome, Effect) {
    let closed = |status: u32, flag: &str, details: &str| {
        if http {
            answer(status, flag, details)
        } else {
            Effect::Reset
        }
    };
    let Some(c) = r.clusters.iter().find(|c| c.name == name) else {
        if r.counts.clusters.is_none() {
            let e = Effect::Unknown;
            return (outcome(OutcomeKind::CannotTell, format!("the dump has no clusters section (a listeners-only dump): whether cluster {name} exists cannot be told"), "take the whole /config_dump to follow the connection to its cluster", &e), e);
        }
        let e = closed(503, "NC", "cluster_not_found");
        return (outcome(OutcomeKind::NoCluster, format!("cluster {name} is not in the dump: Envoy has no such cluster"), "HTTP requests get 503 NC (cluster_not_found), TCP connections are closed: create what the cluster comes from (Istio: the DestinationRule subset, the ServiceEntry), or fix the route", &e), e);
    };
    steps.push(
        step(
            StepKind::Cluster,
            &c.name,
            format!("{} cluster, {}", c.discovery, c.tls.summary()),
            &c.pointer,
        )
        .produced_by(&c.produced_by),
    );
    if c.name == "BlackHoleCluster" {
        let e = closed(503, "UH", "no_healthy_upstream");
        return (outcome(OutcomeKind::Blackhole, "blackholed: BlackHoleCluster has no host, so the proxy closes the connection (REGISTRY_ONLY)", blackhole_cause(r, p, p.tls()), &e), e);
    }
    if let Some(why) = without_hosts(r, c) {
        let e = closed(503, "UH", "no_healthy_upstream");
        return (outcome(OutcomeKind::NoHealthyUpstream, format!("cluster {} has no host to send to: {why}", c.name), "HTTP requests get 503 UH (no_healthy_upstream), TCP connections are closed: check the service's pods, their readiness and the selector (`envinspect endpoints`)", &e), e);
    }
    let e = Effect::Forwarded { own_tls: wire_tls };
    if c.name == "PassthroughCluster" || c.discovery == "ORIGINAL_DST" {
        let tls_note = if wire_tls {
            "the TLS is the application's own: a certificate error is in the application's CA bundle, not the mesh (curl exit 60 or 77)"
        } else {
            "sent as the application sent it"
        };
        return (
            outcome(
                OutcomeKind::Passthrough,
                format!("TCP passthrough to the original destination; {tls_note}"),
                "no mesh policy applies on this path: no DestinationRule TLS, no mTLS",
                &e,
            ),
            e,
        );
    }
    let identity = r
        .identity
        .as_ref()
        .and_then(|i| i.spiffe_id.as_ref())
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(no identity in the dump)".into());
    let first_ctx = c.tls.contexts().next();
    let o = match (c.tls.kind(), first_ctx) {
        (TlsKind::IstioMtls, Some(ctx)) => outcome(
            OutcomeKind::IstioMtls,
            format!("Istio mTLS: presents {identity}, SNI {}, accepts {}, trusts {}", sni(ctx), sans(ctx), trust(ctx)),
            if wire_tls { "the application's TLS is carried inside the mesh mTLS; its certificate errors are the application's own" } else { "handshake errors here are mesh errors: check `envinspect secrets` (roots, expiry) and the SANs against the server's identity" },
            &e,
        ),
        (TlsKind::Auto, Some(ctx)) => outcome(
            OutcomeKind::AutoMtls,
            format!("Istio auto-mTLS: mTLS to endpoints labelled tlsMode: istio (presents {identity}, SNI {}, accepts {}), plaintext to the others", sni(ctx), sans(ctx)),
            "which endpoint gets which depends on its metadata: `envinspect endpoints` shows TLS MODE",
            &e,
        ),
        (TlsKind::Mutual | TlsKind::Simple, Some(ctx)) => {
            let double = if wire_tls { "; the application already speaks TLS: this is TLS inside TLS (rule double-tls)" } else { "" };
            outcome(
                OutcomeKind::TlsOrigination,
                format!("TLS originated by the proxy ({}): SNI {}, CA {}, accepts {}{double}", if c.tls.kind() == TlsKind::Mutual { "mutual" } else { "simple" }, sni(ctx), trust(ctx), sans(ctx)),
                "certificate errors here are the proxy's: the DestinationRule's caCertificates and subjectAltNames (the client sees 503 UF, not curl exit 60)",
                &e,
            )
        }
        (TlsKind::Plaintext, _) => outcome(
            OutcomeKind::Plaintext,
            if wire_tls { "plaintext TCP: the application's own TLS passes through unchanged".to_string() } else { "plaintext: sent to the upstream unencrypted".to_string() },
            if wire_tls { "certificate errors are the application's own (curl exit 60/77)" } else { "no TLS on this hop" },
            &e,
        ),
        _ => outcome(OutcomeKind::Other, format!("transport socket {}", c.tls.summary()), "envinspect does not model this transport socket", &e),
    };
    (o, e)
}

fn sni(ctx: &TlsContext) -> String {
    ctx.sni
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(none)".into())
}
