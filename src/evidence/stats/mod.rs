//! Counters as evidence: Envoy's `/stats` text (`name: value`) or `/stats/prometheus`, read a
//! line at a time, keeping only the non-zero counters that prove a failure; each is placed on
//! the configuration object its stat prefix names (a cluster by name or `alt_stat_name`, a
//! listener by address or `stat_prefix`, a connection manager or TCP proxy by `stat_prefix`, a
//! network RBAC filter by its own) and becomes a finding. A counter the dump cannot place is a
//! finding too, saying so: it is never dropped.

use crate::model::RuleId;
use std::io::Read;

use crate::source::lines::{Line, Lines};

mod findings;

pub use findings::findings;

/// What kind of object a counter's prefix names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// `cluster.<name>.` / `envoy_cluster_name`.
    Cluster(String),
    /// `listener.<address or stat_prefix>.` / `envoy_listener_address`.
    Listener(String),
    /// `http.<stat_prefix>.` / `envoy_http_conn_manager_prefix`.
    Http(String),
    /// `<stat_prefix>.rbac.` of a network RBAC filter / `envoy_rbac_prefix`.
    NetworkRbac(String),
    /// Process-wide (`listener_manager.`, `cluster_manager.`, `sds.<name>.`).
    Server(String),
}

/// One counter that proves something, with the stat as Envoy names it after its prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Counter {
    /// The object its prefix names (a cluster, a listener, a connection manager…).
    pub scope: Scope,
    /// The stat after the scope's prefix: `ssl.fail_verify_san`, `rbac.denied`…
    pub stat: String,
    /// Its value.
    pub value: u64,
    /// The line it was read from, as written (for the finding's message).
    pub line: u64,
}

/// What reading a stats file gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// The counters that prove something, non-zero.
    pub counters: Vec<Counter>,
    /// Lines that are neither a stat, a comment nor a histogram.
    pub malformed: u64,
    /// Lines read.
    pub lines: u64,
}

/// Why a stats file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The file cannot be read on.
    #[error("{name}:{line}: cannot read")]
    Read {
        /// The file.
        name: String,
        /// The line being read when it failed.
        line: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Too many lines are neither stats nor comments: not a stats file.
    #[error("{name}: not Envoy's /stats or /stats/prometheus ({malformed} of {lines} lines are neither; first at line {first})")]
    NotStats {
        /// The file.
        name: String,
        /// Lines that are neither.
        malformed: u64,
        /// Lines read.
        lines: u64,
        /// The first of them.
        first: u64,
    },
}

/// The stats that prove a failure, by scope: (stat, rule). Ordered so that the longer of two
/// that end alike comes first.
const CLUSTER: &[(&str, RuleId)] = &[
    ("ssl.fail_verify_san", RuleId::StatTlsVerifyFailed),
    ("ssl.fail_verify_error", RuleId::StatTlsVerifyFailed),
    ("ssl.fail_verify_no_cert", RuleId::StatTlsVerifyFailed),
    ("ssl.connection_error", RuleId::StatTlsHandshakeFailed),
    ("ssl.no_certificate", RuleId::StatTlsHandshakeFailed),
    (
        "upstream_cx_connect_fail",
        RuleId::StatUpstreamConnectFailed,
    ),
    (
        "upstream_cx_connect_timeout",
        RuleId::StatUpstreamConnectFailed,
    ),
    ("upstream_cx_none_healthy", RuleId::StatNoHealthyUpstream),
    ("upstream_rq_pending_overflow", RuleId::StatCircuitBreaker),
    ("upstream_cx_overflow", RuleId::StatCircuitBreaker),
    ("upstream_rq_retry_overflow", RuleId::StatCircuitBreaker),
    (
        "circuit_breakers.default.cx_open",
        RuleId::StatCircuitBreaker,
    ),
    (
        "circuit_breakers.default.rq_open",
        RuleId::StatCircuitBreaker,
    ),
    (
        "circuit_breakers.default.rq_pending_open",
        RuleId::StatCircuitBreaker,
    ),
    (
        "circuit_breakers.default.rq_retry_open",
        RuleId::StatCircuitBreaker,
    ),
    (
        "outlier_detection.ejections_enforced_total",
        RuleId::StatOutlierEjection,
    ),
    (
        "outlier_detection.ejections_active",
        RuleId::StatOutlierEjection,
    ),
    (
        "upstream_rq_retry_limit_exceeded",
        RuleId::StatRetriesExhausted,
    ),
    ("upstream_rq_timeout", RuleId::StatUpstreamTimeout),
    ("upstream_rq_per_try_timeout", RuleId::StatUpstreamTimeout),
    ("upstream_rq_rx_reset", RuleId::StatUpstreamReset),
    (
        "upstream_cx_destroy_remote_with_active_rq",
        RuleId::StatUpstreamReset,
    ),
];
const LISTENER: &[(&str, RuleId)] = &[
    ("ssl.fail_verify_san", RuleId::StatTlsVerifyFailed),
    ("ssl.fail_verify_error", RuleId::StatTlsVerifyFailed),
    ("ssl.fail_verify_no_cert", RuleId::StatTlsVerifyFailed),
    ("ssl.connection_error", RuleId::StatTlsHandshakeFailed),
    ("ssl.no_certificate", RuleId::StatTlsHandshakeFailed),
    ("no_filter_chain_match", RuleId::StatNoFilterChain),
];
const HTTP: &[(&str, RuleId)] = &[
    ("no_route", RuleId::StatNoRoute),
    ("no_cluster", RuleId::StatNoRoute),
    ("rbac.denied", RuleId::StatRbacDenied),
    ("rbac.shadow_denied", RuleId::StatRbacShadowDenied),
    ("jwt_authn.denied", RuleId::StatJwtDenied),
    ("ext_authz.denied", RuleId::StatExtAuthzDenied),
    ("ext_authz.error", RuleId::StatExtAuthzDenied),
    ("ext_authz.failure_mode_allowed", RuleId::StatExtAuthzDenied),
];
const NETWORK_RBAC: &[(&str, RuleId)] = &[
    ("rbac.denied", RuleId::StatRbacDenied),
    ("rbac.shadow_denied", RuleId::StatRbacShadowDenied),
];

/// The rule a counter proves, if it proves one.
pub fn rule_of(c: &Counter) -> Option<RuleId> {
    let table = match &c.scope {
        Scope::Cluster(_) => CLUSTER,
        Scope::Listener(_) => LISTENER,
        Scope::Http(_) => HTTP,
        Scope::NetworkRbac(_) => NETWORK_RBAC,
        Scope::Server(_) => {
            return c
                .stat
                .ends_with("update_rejected")
                .then_some(RuleId::StatUpdateRejected)
        }
    };
    // RBAC stats may carry the rules' stat prefix: `rbac.<prefix>denied`.
    table
        .iter()
        .find(|(s, _)| *s == c.stat || (s.starts_with("rbac.") && rbac_matches(&c.stat, s)))
        .map(|(_, r)| *r)
}

fn rbac_matches(stat: &str, want: &str) -> bool {
    let Some(rest) = stat.strip_prefix("rbac.") else {
        return false;
    };
    let leaf = &want["rbac.".len()..];
    rest.ends_with(leaf) && !rest.ends_with(&format!("shadow_{leaf}")) || rest == leaf
}

/// Reads a stats file, text or Prometheus form, keeping the counters that prove a failure.
pub fn read(name: &str, reader: impl Read) -> Result<Stats, StatsError> {
    let err = |line, source| StatsError::Read {
        name: name.to_string(),
        line,
        source,
    };
    let mut lines = Lines::new(reader).map_err(|e| err(0, e))?;
    let mut out = Stats::default();
    let mut first_bad = 0;
    loop {
        let n = lines.number + 1;
        let text = match lines.next_line().map_err(|e| err(n, e))? {
            None => break,
            Some(Line::TooLong) => {
                out.lines += 1;
                out.malformed += 1;
                continue;
            }
            Some(Line::Text(t)) => String::from_utf8_lossy(t).into_owned(),
        };
        out.lines += 1;
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match parse_line(t) {
            Parsed::Counter(scope, stat, value) => {
                let c = Counter {
                    scope,
                    stat,
                    value,
                    line: n,
                };
                if value > 0 && rule_of(&c).is_some() {
                    out.counters.push(c);
                }
            }
            Parsed::Other => {}
            Parsed::Bad => {
                out.malformed += 1;
                if first_bad == 0 {
                    first_bad = n;
                }
            }
        }
    }
    if out.malformed > 0 && out.malformed * 2 > out.lines {
        return Err(StatsError::NotStats {
            name: name.to_string(),
            malformed: out.malformed,
            lines: out.lines,
            first: first_bad,
        });
    }
    // The same counter from both forms, or twice in one file: the largest value, once.
    out.counters.sort();
    out.counters
        .dedup_by(|a, b| a.scope == b.scope && a.stat == b.stat);
    Ok(out)
}

enum Parsed {
    Counter(Scope, String, u64),
    /// A stat of no interest, a histogram, a gauge with no number.
    Other,
    Bad,
}

fn parse_line(t: &str) -> Parsed {
    if t.starts_with("envoy_") || t.contains('{') {
        return prometheus(t);
    }
    let Some((name, value)) = t.rsplit_once(": ") else {
        return Parsed::Bad;
    };
    let Ok(value) = value.trim().parse::<u64>() else {
        // Histograms (`P0(…)`, `No recorded values`) and text values.
        return if name.contains(' ') {
            Parsed::Bad
        } else {
            Parsed::Other
        };
    };
    match scoped(name) {
        Some((scope, stat)) => Parsed::Counter(scope, stat, value),
        None => Parsed::Other,
    }
}

/// `cluster.<name>.<stat>` etc.: the prefix found by the stats that matter (names may hold dots).
fn scoped(name: &str) -> Option<(Scope, String)> {
    let split = |prefix: &str, table: &[(&str, RuleId)]| -> Option<(String, String)> {
        let rest = name.strip_prefix(prefix)?;
        table.iter().find_map(|(stat, _)| {
            let object = rest.strip_suffix(stat)?.strip_suffix('.')?;
            (!object.is_empty()).then(|| (object.to_string(), stat.to_string()))
        })
    };
    if let Some((o, s)) = split("cluster.", CLUSTER) {
        return Some((Scope::Cluster(o), s));
    }
    if let Some((o, s)) = split("listener.", LISTENER) {
        return Some((Scope::Listener(o), s));
    }
    if let Some(rest) = name.strip_prefix("http.") {
        // RDS: `http.<prefix>.rds.<route config>.update_rejected`.
        if let Some(i) = rest
            .find(".rds.")
            .filter(|_| rest.ends_with(".update_rejected"))
        {
            let config = &rest[i + 5..rest.len() - ".update_rejected".len()];
            return Some((
                Scope::Server(format!("http.{}.rds.{config}", &rest[..i])),
                "update_rejected".into(),
            ));
        }
        // `http.<prefix>.rbac.<rules prefix>denied`: the connection manager's prefix ends at
        // `.rbac.`, `.jwt_authn.`, `.ext_authz.`, or before the last segment.
        for mid in [".rbac.", ".jwt_authn.", ".ext_authz."] {
            if let Some(i) = rest.rfind(mid) {
                return Some((
                    Scope::Http(rest[..i].to_string()),
                    rest[i + 1..].to_string(),
                ));
            }
        }
        if let Some((o, s)) = split("http.", HTTP) {
            return Some((Scope::Http(o), s));
        }
        return None;
    }
    if name.starts_with("listener_manager.")
        || name.starts_with("cluster_manager.")
        || name.starts_with("sds.")
    {
        if let Some(i) = name.rfind('.') {
            return Some((
                Scope::Server(name[..i].to_string()),
                name[i + 1..].to_string(),
            ));
        }
    }
    if let Some(i) = name.find(".rbac.") {
        if !name.starts_with("http.") {
            return Some((
                Scope::NetworkRbac(name[..i].to_string()),
                name[i + 1..].to_string(),
            ));
        }
    }
    None
}

/// `envoy_cluster_ssl_fail_verify_san{envoy_cluster_name="x"} 4`.
fn prometheus(t: &str) -> Parsed {
    let (head, value) = match t.rsplit_once(' ') {
        Some(x) => x,
        None => return Parsed::Bad,
    };
    let value = match value.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => v as u64,
        Ok(_) => return Parsed::Other,
        Err(_) => return Parsed::Bad,
    };
    let (metric, labels) = match head.split_once('{') {
        Some((m, l)) => match l.strip_suffix('}') {
            Some(l) => (m, l),
            None => return Parsed::Bad,
        },
        None => (head, ""),
    };
    if !metric
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
    {
        return Parsed::Bad;
    }
    let Some(labels) = labels_of(labels) else {
        return Parsed::Bad;
    };
    let label = |k: &str| labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(kind) = metric
        .strip_prefix("envoy_")
        .and_then(|m| m.strip_suffix("_update_rejected"))
    {
        // `envoy_listener_manager_lds_…`, `envoy_http_rds_…{envoy_rds_route_config}`, `envoy_sds_…`.
        let what = match (
            label("envoy_http_conn_manager_prefix"),
            label("envoy_rds_route_config"),
        ) {
            (Some(p), Some(rc)) => format!("http.{p}.rds.{rc}"),
            (_, Some(rc)) => format!("rds.{rc}"),
            _ => match kind.split_once("_manager_") {
                // `listener_manager.lds`, `cluster_manager.cds`, as /stats names them.
                Some((m, x)) => format!("{m}_manager.{x}"),
                None => kind.replace('_', "."),
            },
        };
        return Parsed::Counter(Scope::Server(what), "update_rejected".into(), value);
    }
    let underscore = |stat: &str| stat.replace('.', "_");
    let find = |prefix: &str, table: &[(&str, RuleId)]| -> Option<String> {
        let rest = metric.strip_prefix(prefix)?;
        table
            .iter()
            .find(|(s, _)| underscore(s) == rest)
            .map(|(s, _)| s.to_string())
    };
    if let (Some(c), Some(stat)) = (label("envoy_cluster_name"), find("envoy_cluster_", CLUSTER)) {
        return Parsed::Counter(Scope::Cluster(c), stat, value);
    }
    if let Some(p) = label("envoy_http_conn_manager_prefix") {
        if label("envoy_listener_address").is_none() {
            if let Some(stat) = find("envoy_http_", HTTP) {
                return Parsed::Counter(Scope::Http(p), stat, value);
            }
        }
        return Parsed::Other;
    }
    if let (Some(l), Some(stat)) = (
        label("envoy_listener_address"),
        find("envoy_listener_", LISTENER),
    ) {
        return Parsed::Counter(Scope::Listener(l), stat, value);
    }
    if let (Some(p), Some(stat)) = (label("envoy_rbac_prefix"), find("envoy_", NETWORK_RBAC)) {
        return Parsed::Counter(Scope::NetworkRbac(p), stat, value);
    }
    Parsed::Other
}

/// `a="x",b="y"` (escapes `\"`, `\\`, `\n`), or `None` when malformed.
fn labels_of(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (k, after) = rest.split_once("=\"")?;
        let mut v = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => v.push('\n'),
                    other => v.push(other),
                },
                '"' => break i,
                c => v.push(c),
            }
        };
        out.push((k.trim().to_string(), v));
        rest = after[end + 1..].trim_start_matches(',').trim();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(s: &str) -> Stats {
        read("t", std::io::Cursor::new(s.as_bytes().to_vec())).unwrap()
    }

    #[test]
    fn text_and_prometheus_name_the_same_counters() {
        let text = read_str(
            "cluster.outbound|8080||a.b.svc.cluster.local.ssl.fail_verify_san: 4\n\
             cluster.x.upstream_cx_total: 9\n\
             http.inbound_0.0.0.0_8080.rbac.denied: 2\n\
             http.inbound_0.0.0.0_8080.rbac.istio_dry_run_allow_shadow_denied: 1\n\
             listener.127.0.0.1_1000.no_filter_chain_match: 1\n\
             tcp_rbac.rbac.denied: 1\n\
             listener_manager.lds.update_rejected: 3\n\
             http.inbound_0.0.0.0_8080.rds.my-routes.update_rejected: 2\n\
             cluster.x.upstream_cx_length_ms: P0(1,1) P25(1,1)\n",
        );
        let prom = read_str(
            "# TYPE envoy_cluster_ssl_fail_verify_san counter\n\
             envoy_cluster_ssl_fail_verify_san{envoy_cluster_name=\"outbound|8080||a.b.svc.cluster.local\"} 4\n\
             envoy_http_rbac_denied{envoy_http_conn_manager_prefix=\"inbound_0.0.0.0_8080\"} 2\n\
             envoy_listener_no_filter_chain_match{envoy_listener_address=\"127.0.0.1_1000\"} 1\n\
             envoy_rbac_denied{envoy_rbac_prefix=\"tcp_rbac\"} 1\n\
             envoy_listener_manager_lds_update_rejected{} 3\n\
             envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name=\"x\",le=\"0.5\"} 0\n",
        );
        let names = |s: &Stats| {
            s.counters
                .iter()
                .map(|c| (c.scope.clone(), c.stat.clone(), c.value))
                .collect::<Vec<_>>()
        };
        let t = names(&text);
        assert!(t.contains(&(
            Scope::Cluster("outbound|8080||a.b.svc.cluster.local".into()),
            "ssl.fail_verify_san".into(),
            4
        )));
        assert!(t.contains(&(
            Scope::Http("inbound_0.0.0.0_8080".into()),
            "rbac.istio_dry_run_allow_shadow_denied".into(),
            1
        )));
        assert!(t.contains(&(
            Scope::NetworkRbac("tcp_rbac".into()),
            "rbac.denied".into(),
            1
        )));
        assert!(t.contains(&(
            Scope::Server("http.inbound_0.0.0.0_8080.rds.my-routes".into()),
            "update_rejected".into(),
            2
        )));
        assert_eq!(text.malformed, 0);
        let p = names(&prom);
        for want in [
            (
                Scope::Cluster("outbound|8080||a.b.svc.cluster.local".into()),
                "ssl.fail_verify_san".to_string(),
                4,
            ),
            (
                Scope::Http("inbound_0.0.0.0_8080".into()),
                "rbac.denied".into(),
                2,
            ),
            (
                Scope::Listener("127.0.0.1_1000".into()),
                "no_filter_chain_match".into(),
                1,
            ),
            (
                Scope::NetworkRbac("tcp_rbac".into()),
                "rbac.denied".into(),
                1,
            ),
        ] {
            assert!(p.contains(&want), "{want:?} in {p:?}");
            assert!(t.contains(&want), "{want:?} in {t:?}");
        }
        assert_eq!(
            rule_of(
                &text
                    .counters
                    .iter()
                    .find(|c| c.stat.contains("shadow"))
                    .unwrap()
                    .clone()
            ),
            Some(RuleId::StatRbacShadowDenied)
        );
    }

    #[test]
    fn malformed_text_is_counted_or_refused() {
        let s = read_str("cluster.a.upstream_cx_connect_fail: 1\nwhat is this line\n");
        assert_eq!(s.malformed, 1);
        assert_eq!(s.counters.len(), 1);
        let e = read(
            "t",
            std::io::Cursor::new(b"garbage\nmore garbage\n".to_vec()),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("t: not Envoy's /stats"), "{e}");
        let p = read_str("envoy_cluster_upstream_cx_connect_fail{envoy_cluster_name=\"a\" 1\nenvoy_x 1\nenvoy_y 2\n");
        assert_eq!(p.malformed, 1);
    }
}
