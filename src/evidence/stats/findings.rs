//! Counters placed on the configuration: each counter that proves a failure becomes a finding
//! on the object its stat prefix names in the dump (a cluster by name or `alt_stat_name`, a
//! listener by address or `stat_prefix`, a connection manager or network RBAC filter by its
//! `stat_prefix`), or says that no object of the dump carries it.

use super::{rule_of, Scope, Stats};
use crate::model::authz::AuthzKind;
use crate::model::RuleId;
use crate::model::{Finding, Pointer, Report};

/// The findings the counters prove, each naming its object (and evidence) when the dump has it.
pub fn findings(report: &Report, source: &str, stats: &Stats) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &stats.counters {
        let Some(rule) = rule_of(c) else { continue };
        let (subject, pointer, placed) = place(report, &c.scope);
        let what = match &c.scope {
            Scope::Cluster(n) => format!("cluster.{n}.{}", c.stat),
            Scope::Listener(n) => format!("listener.{n}.{}", c.stat),
            Scope::Http(n) => format!("http.{n}.{}", c.stat),
            Scope::NetworkRbac(n) => format!("{n}.{}", c.stat),
            Scope::Server(n) => format!("{n}.{}", c.stat),
        };
        let mut message = format!(
            "{what} = {} ({source}:{}): {}",
            c.value,
            c.line,
            meaning(rule, &c.stat)
        );
        if !placed {
            message.push_str("; no object of the dump carries this stat prefix: the stats and the dump may be of different configuration versions or proxies");
        }
        out.push(Finding::new(rule, subject, message).at(&pointer));
    }
    out
}

fn meaning(rule: RuleId, stat: &str) -> String {
    match (rule, stat) {
        (_, "ssl.fail_verify_san") => "peers presented certificates whose SANs no SAN matcher accepts".into(),
        (_, "ssl.fail_verify_error") => "peers presented certificates that do not verify against the trusted roots (unknown CA, expired)".into(),
        (_, "ssl.fail_verify_no_cert") => "peers presented no certificate where one is required".into(),
        (_, "ssl.connection_error") => "TLS handshakes failed".into(),
        (_, "ssl.no_certificate") => "connections came without a client certificate".into(),
        (RuleId::StatUpstreamConnectFailed, _) => "connections to the upstream failed or timed out".into(),
        (RuleId::StatNoHealthyUpstream, _) => "requests found no healthy host (503 UH)".into(),
        (RuleId::StatCircuitBreaker, _) => "a circuit breaker refused requests or connections (503 UO)".into(),
        (RuleId::StatOutlierEjection, _) => "outlier detection ejected hosts".into(),
        (RuleId::StatRetriesExhausted, _) => "requests ran out of retries (URX)".into(),
        (RuleId::StatUpstreamTimeout, _) => "requests timed out (504 UT)".into(),
        (RuleId::StatUpstreamReset, _) => "the upstream reset requests".into(),
        (RuleId::StatNoFilterChain, _) => "connections matched no filter chain and were closed".into(),
        (RuleId::StatNoRoute, "no_cluster") => "requests were routed to a cluster that does not exist (503 NC)".into(),
        (RuleId::StatNoRoute, _) => "requests matched no route (404 NR)".into(),
        (RuleId::StatRbacDenied, _) => "RBAC denied requests or connections".into(),
        (RuleId::StatRbacShadowDenied, _) => "RBAC shadow (dry-run) rules would have denied requests".into(),
        (RuleId::StatJwtDenied, _) => "jwt_authn refused requests (401/403)".into(),
        (RuleId::StatExtAuthzDenied, _) => "ext_authz denied requests, failed, or let them through on failure".into(),
        (RuleId::StatUpdateRejected, _) => "Envoy rejected configuration updates (NACK): it still serves the previous version".into(),
        _ => String::new(),
    }
}

/// The subject of a counter's finding, its JSON Pointer, and whether the dump has the object.
fn place(r: &Report, scope: &Scope) -> (String, Pointer, bool) {
    match scope {
        Scope::Cluster(n) => match r
            .clusters
            .iter()
            .find(|c| c.name == n.as_str() || c.traffic.alt_stat_name.as_deref() == Some(n))
        {
            Some(c) => (format!("cluster {}", c.name), c.pointer.clone(), true),
            None => (format!("cluster {n}"), Pointer::default(), false),
        },
        Scope::Listener(a) => {
            let found = r.listeners.iter().find(|l| {
                l.telemetry.stat_prefix.as_deref() == Some(a)
                    || match (&l.address, l.port) {
                        (Some(addr), Some(port)) => {
                            format!("{addr}_{port}") == *a || format!("[{addr}]_{port}") == *a
                        }
                        _ => false,
                    }
            });
            match found {
                Some(l) => (format!("listener {}", l.name), l.pointer.clone(), true),
                None => (format!("listener {a}"), Pointer::default(), false),
            }
        }
        Scope::Http(p) => {
            let found = r.listeners.iter().find_map(|l| {
                l.filter_chains
                    .iter()
                    .find(|c| {
                        c.telemetry.stat_prefix.as_deref() == Some(p) && !c.http_filters.is_empty()
                    })
                    .map(|c| (l, c))
            });
            match found {
                Some((l, c)) => (
                    format!("listener {} HTTP connection manager {p}", l.name),
                    c.pointer.clone(),
                    true,
                ),
                None => (
                    format!("HTTP connection manager {p}"),
                    Pointer::default(),
                    false,
                ),
            }
        }
        Scope::NetworkRbac(p) => {
            let found = r.listeners.iter().find_map(|l| {
                l.filter_chains.iter().find_map(|c| {
                    c.authz
                        .iter()
                        .find(|f| matches!(&f.kind, AuthzKind::Rbac(rb) if rb.stat_prefix == *p || rb.stat_prefix.trim_end_matches('.') == *p))
                        .map(|f| (l, f))
                })
            });
            match found {
                Some((l, f)) => (
                    format!("listener {} network RBAC {p}", l.name),
                    f.pointer.clone(),
                    true,
                ),
                None => (format!("network RBAC {p}"), Pointer::default(), false),
            }
        }
        Scope::Server(n) => (n.clone(), Pointer::default(), true),
    }
}
