//! The causes on the cluster's side of a line: no healthy host (from the endpoints and health
//! settings), a full circuit breaker (its thresholds), a timeout (the route's), and a failed
//! connection or TLS handshake (the transport failure reason against the cluster's SAN matchers
//! and trusted roots).

use super::explain::has;
use super::place::Place;
use crate::model::evidence::{Explained, Record, ResponseFlag};
use crate::model::RuleId;
use crate::model::{Report, Socket};

pub(super) fn no_healthy(r: &Report, p: &Place, name: &str, e: &mut Explained) -> String {
    let Some(c) = p.cluster else {
        return "the cluster had no healthy host; cannot tell which cluster: the line names none (no %UPSTREAM_CLUSTER%) and its route is not known".into();
    };
    if r.counts.endpoints.is_none() {
        return format!("cluster {name} had no healthy host; cannot tell why: the dump has no endpoints (take it with ?include_eds)");
    }
    // Endpoints are filed under their cluster, also where the dump files them under an EDS
    // service name (extract's file_endpoints_by_cluster).
    let eps: Vec<&crate::model::Endpoint> =
        r.endpoints.iter().filter(|x| x.cluster == c.name).collect();
    for ep in eps.iter().take(4) {
        if !ep.pointer.is_empty() && !e.evidence.contains(&ep.pointer) {
            e.evidence.push(ep.pointer.clone());
        }
    }
    let usable = |h: &str| matches!(h, "HEALTHY" | "UNKNOWN" | "DEGRADED" | "");
    let healthy = eps.iter().filter(|x| usable(&x.health)).count();
    if eps.is_empty() {
        format!("cluster {name} has no endpoint (discovery {}): no pod or address backs the service — check the Service's selector, the subset's labels, and the endpoints the control plane pushed", c.discovery)
    } else if healthy == 0 {
        let states: Vec<String> = eps
            .iter()
            .map(|x| format!("{} {}", x.address, x.health))
            .collect();
        format!("none of the {} endpoints of cluster {name} is healthy ({}): fix the failing hosts or their health checks", eps.len(), states.join(", "))
    } else {
        format!(
            "cluster {name} has {healthy} healthy endpoint(s) in the dump, so at the time of the line they were {}, or the dump was taken at another time",
            if c.traffic.outlier_detection { "ejected by outlier detection (configured on the cluster) or failing health checks" } else if c.traffic.health_checks { "failing the cluster's active health checks" } else { "not yet known (no outlier detection or health checks are configured)" }
        )
    }
}

pub(super) fn overflow(p: &Place, name: &str, details: &str) -> String {
    let Some(c) = p.cluster else {
        return format!(
            "a circuit breaker of cluster {name} was open; the cluster is not in the dump"
        );
    };
    let t = &c.traffic;
    let mut set = Vec::new();
    for (what, v, default) in [
        ("max_pending_requests", t.max_pending_requests, 1024),
        ("max_requests", t.max_requests, 1024),
        ("max_connections", t.max_connections, 1024),
        ("max_retries", t.max_retries, 3),
    ] {
        match v {
            Some(v) => set.push((v, format!("{what}: {v}"))),
            None => set.push((default, format!("{what}: {default} (Envoy's default)"))),
        }
    }
    set.sort_by_key(|(v, _)| *v);
    let list: Vec<String> = set.into_iter().map(|(_, s)| s).collect();
    format!(
        "a circuit breaker of cluster {name} was full{}; its thresholds, smallest first: {} — raise the one the counters name (upstream_rq_pending_overflow, upstream_cx_overflow, upstream_rq_retry_overflow) in the DestinationRule's connectionPool, or add capacity",
        if details.is_empty() { String::new() } else { format!(" ({details})") },
        list.join(", ")
    )
}

pub(super) fn timeout(p: &Place, name: &str) -> String {
    let Some(route) = p.route else {
        return format!("the upstream of cluster {name} did not answer within the route's timeout; the route is not known (the line has no route name, or the route is not in the dump), so its timeout cannot be named");
    };
    let t = &route.traffic;
    let rname = route.name.clone().unwrap_or_else(|| route.matcher.clone());
    let timeout = match t.timeout_ms {
        Some(0) => "no timeout (0)".to_string(),
        Some(ms) => format!("timeout {}", ms_text(ms)),
        None => "timeout 15s (Envoy's default)".to_string(),
    };
    let per_try = t.per_try_timeout_ms.map_or(String::new(), |ms| {
        format!(", per-try timeout {}", ms_text(ms))
    });
    let note = if t.max_stream_duration {
        "; the route also sets max_stream_duration, under which Envoy ignores the timeout"
    } else {
        ""
    };
    format!("the upstream of cluster {name} did not answer within route {rname}'s {timeout}{per_try}{note}: speed the upstream up, or raise the timeout (VirtualService http[].timeout)")
}

pub(super) fn ms_text(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

pub(super) fn upstream_failure(
    r: &Report,
    rec: &Record,
    p: &Place,
    name: &str,
    e: &mut Explained,
) -> (RuleId, String) {
    let reason = rec.transport_failure.as_deref().unwrap_or("");
    let ctx = p.cluster.and_then(|c| match &c.tls.default {
        Socket::Tls(ctx) => Some(ctx.as_ref()),
        _ => c.tls.matches.iter().find_map(|m| match &m.socket {
            Socket::Tls(ctx) => Some(ctx.as_ref()),
            _ => None,
        }),
    });
    if let Some(ctx) = ctx {
        e.expected_sans = ctx.san_matchers.iter().map(|m| m.to_string()).collect();
        e.trusted_roots = roots(r, ctx);
    }
    let retried = if has(rec, ResponseFlag::UpstreamRetryLimitExceeded) {
        " (retried, every attempt failed)"
    } else {
        ""
    };
    let upper = reason.to_ascii_uppercase();
    if reason.contains("SAN") || reason.contains("san_matcher") {
        let sans = if e.expected_sans.is_empty() {
            "none known".to_string()
        } else {
            e.expected_sans.join(", ")
        };
        e.presented_sans = presented_sans(reason);
        let presented = if e.presented_sans.is_empty() {
            "a certificate".to_string()
        } else {
            format!("a certificate with SANs {}", e.presented_sans.join(", "))
        };
        return (RuleId::LogUpstreamTlsSan, format!("the upstream of cluster {name} presented {presented}, none of which the cluster's SAN matchers accept{retried}; expected: {sans} — fix the DestinationRule's subjectAltNames or the server's identity"));
    }
    if upper.contains("EXPIRED") {
        return (RuleId::LogUpstreamTlsExpired, format!("the upstream of cluster {name} presented an expired certificate{retried}: renew the server's certificate"));
    }
    if upper.contains("CERTIFICATE_VERIFY_FAILED")
        || upper.contains("UNKNOWN_CA")
        || upper.contains("UNABLE_TO_GET_ISSUER")
    {
        let roots = if e.trusted_roots.is_empty() {
            "none known".to_string()
        } else {
            e.trusted_roots.join("; ")
        };
        return (RuleId::LogUpstreamTlsUntrusted, format!("the upstream of cluster {name} presented a certificate no trusted root of the cluster issued{retried}; trusted: {roots} — give the cluster the server's CA (DestinationRule caCertificates), or reissue the server's certificate"));
    }
    if upper.contains("TLS_ERROR") || upper.contains("SSL") || upper.contains("TLS") {
        return (
            RuleId::LogUpstreamTlsFailure,
            format!(
                "the TLS handshake with the upstream of cluster {name} failed{retried}: {reason}"
            ),
        );
    }
    let host = rec
        .upstream_host
        .as_deref()
        .map_or(String::new(), |h| format!(" {h}"));
    let connect = p
        .cluster
        .and_then(|c| c.traffic.connect_timeout_ms)
        .map_or("5s (Envoy's default)".into(), ms_text);
    let details = rec.details.as_deref().unwrap_or("");
    (
        RuleId::LogUpstreamConnectFailure,
        format!(
            "Envoy could not connect to the upstream{host} of cluster {name}{retried} ({}): nothing listens there, it refused, or it did not answer within the connect timeout {connect} — check the endpoint and that the port is open",
            if details.is_empty() { reason } else { details }
        ),
    )
}

pub(super) fn roots(r: &Report, ctx: &crate::model::TlsContext) -> Vec<String> {
    use crate::model::tls::ValidationSource;
    let mut out = Vec::new();
    for v in &ctx.validation {
        match v {
            ValidationSource::Sds { name } => {
                let subjects: Vec<String> = r
                    .secrets
                    .iter()
                    .filter(|s| s.name == *name)
                    .flat_map(|s| &s.certificates)
                    .filter(|c| c.is_ca)
                    .map(|c| c.subject.clone())
                    .collect();
                if subjects.is_empty() {
                    out.push(format!("secret {name}"));
                } else {
                    out.extend(subjects.into_iter().map(|s| format!("{s} (secret {name})")));
                }
            }
            other => out.push(other.to_string()),
        }
    }
    out
}

/// The SANs the peer presented, as Envoy writes them in a SAN mismatch's transport failure
/// reason: `…_SAN_matcher,_certificate_SANs_are_[spiffe://a,_b.test]…` (spaces as `_`).
pub(super) fn presented_sans(reason: &str) -> Vec<String> {
    let Some(rest) = reason.split_once("certificate_SANs_are_[").map(|(_, r)| r) else {
        return Vec::new();
    };
    let Some((list, _)) = rest.split_once(']') else {
        return Vec::new();
    };
    list.split(",_")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sans_envoy_names_in_a_san_mismatch_are_read() {
        let r = "TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify_cert_failed:_SAN_matcher,_certificate_SANs_are_[spiffe://cluster.local/ns/default/sa/server,_backend.test]:TLS_error_end";
        assert_eq!(
            super::presented_sans(r),
            vec![
                "spiffe://cluster.local/ns/default/sa/server",
                "backend.test"
            ]
        );
        assert!(super::presented_sans("TLS_error:|CERTIFICATE_VERIFY_FAILED").is_empty());
        assert!(super::presented_sans("certificate_SANs_are_[unterminated").is_empty());
    }
}
