//! The human tables. Columns follow `istioctl proxy-config` where it has an equivalent (so the
//! two can be compared), with envinspect's TLS facts added at the right.

use std::io::{self, Write};

use super::redaction::{Redaction, MARKER};
use super::table::Table;
use super::{Color, View};
use crate::model::{Destination, FilterChain, Listener, Report, RouteAction, RouteConfig, Socket};

/// The tables of `view`; with a redaction, the cells it changes are redacted before columns are
/// measured (the caller scrubs the rest of the text).
pub(super) fn table(
    r: &Report,
    view: View,
    color: Color,
    redaction: Option<&Redaction>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let redacted = redaction.is_some();
    let ztunnel = r.document == crate::model::DocumentKind::Ztunnel;
    match view {
        View::Report if ztunnel => super::ambient::report(r, color, redacted, w),
        View::Report => super::summary::report(r, color, redacted, w),
        View::Workloads => super::ambient::workloads(r).write(w),
        View::Services => super::ambient::services(r).write(w),
        View::Connections => super::ambient::connections(r).write(w),
        View::Clusters => clusters(r).write(w),
        View::Listeners => listeners(r).write(w),
        View::Routes => routes(r).write(w),
        View::Endpoints => endpoints(r).write(w),
        View::Secrets => {
            secrets(r, redacted).write(w)?;
            missing(r, w)?;
            findings(r, color, w)
        }
        View::Certs => {
            super::certs::certs(r, redacted, w)?;
            findings(r, color, w)
        }
    }?;
    if view != View::Report {
        warnings(r, w, true)?;
    }
    if let Some(x) = redaction {
        writeln!(w, "\n{}", x.footer())?;
    }
    Ok(())
}

pub(crate) fn findings(r: &Report, color: Color, w: &mut dyn Write) -> io::Result<()> {
    findings_table("FINDINGS", &r.findings, color, w)
}

/// A titled table of findings (nothing when there are none). Subjects and messages quote dumps,
/// logs and syncz: control characters are shown escaped.
pub(crate) fn findings_table(
    title: &str,
    findings: &[crate::model::Finding],
    color: Color,
    w: &mut dyn Write,
) -> io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(w, "\n{title}")?;
    let mut t = Table::new(&["LEVEL", "RULE", "SUBJECT", "MESSAGE"]);
    for f in findings {
        t.row(vec![
            f.level.to_string(),
            f.rule.to_string(),
            super::explain::clean(&f.subject),
            super::explain::clean(&f.message),
        ]);
    }
    if color == Color::Ansi {
        t.paint(0, super::level_color);
    }
    t.write(w)
}

pub(crate) fn clusters(r: &Report) -> Table {
    let mut t = Table::new(&[
        "SERVICE FQDN",
        "PORT",
        "SUBSET",
        "DIRECTION",
        "TYPE",
        "DESTINATION RULE",
        "STATE",
        "TLS",
        "SNI",
    ]);
    for c in &r.clusters {
        let (fqdn, port, subset, dir) = match &c.istio {
            Some(n) => (
                n.fqdn.clone(),
                n.port.map(|p| p.to_string()).unwrap_or_default(),
                n.subset.clone(),
                n.direction.clone(),
            ),
            None => (
                c.name.to_string(),
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        let sni = match &c.tls.default {
            Socket::Tls(ctx) => ctx.sni.as_ref().map(|s| s.to_string()),
            _ => None,
        }
        .or_else(|| {
            c.tls.matches.iter().find_map(|m| match &m.socket {
                Socket::Tls(ctx) => ctx.sni.as_ref().map(|s| s.to_string()),
                _ => None,
            })
        })
        .unwrap_or_default();
        t.row(vec![
            fqdn,
            port,
            subset,
            dir,
            c.discovery.clone(),
            c.destination_rule.clone().unwrap_or_default(),
            c.state.to_string(),
            c.tls.summary(),
            sni,
        ]);
    }
    t
}

pub(crate) fn listeners(r: &Report) -> Table {
    let mut t = Table::new(&[
        "NAME",
        "ADDRESSES",
        "PORT",
        "MATCH",
        "DESTINATION",
        "STATE",
        "TLS",
    ]);
    for l in &r.listeners {
        // Under filter_chain_matcher the matcher's paths to a chain are its match.
        let paths = l.filter_chain_matcher.as_ref().map(|m| m.paths());
        for ch in &l.filter_chains {
            let matched = match (&paths, &ch.name) {
                (Some(p), Some(name)) => match p.get(name) {
                    Some(ways) => format!("Matcher: {}", ways.join(" | ")),
                    None if ch.is_default => "Matcher: no action (default chain)".into(),
                    None => "Matcher: never selected".into(),
                },
                (Some(_), None) if ch.is_default => "Matcher: no action (default chain)".into(),
                (Some(_), None) => "Matcher: never selected".into(),
                (None, _) => chain_match(ch),
            };
            t.row(vec![
                l.name.to_string(),
                l.address.clone().unwrap_or_default(),
                l.port.unwrap_or(0).to_string(),
                matched,
                chain_destination(l, ch),
                l.state.to_string(),
                chain_tls(ch),
            ]);
        }
    }
    t
}

/// istioctl's MATCH column: `SNI: …; Trans: …; App: …; Addr: …`, or `ALL`; then what istioctl
/// does not show and Envoy matches on too: `DirectSrc: …; SrcType: …; Src: …; SrcPort: …`.
pub(crate) fn chain_match(ch: &FilterChain) -> String {
    let m = &ch.matcher;
    let mut d = Vec::new();
    if !m.server_names.is_empty() {
        d.push(format!("SNI: {}", m.server_names.join(",")));
    }
    if let Some(t) = &m.transport_protocol {
        d.push(format!("Trans: {t}"));
    }
    if !m.application_protocols.is_empty() {
        d.push(format!("App: {}", m.application_protocols.join(",")));
    }
    let port = m
        .destination_port
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    if !m.prefix_ranges.is_empty() {
        d.push(format!("Addr: {}{port}", m.prefix_ranges.join(",")));
    } else if !port.is_empty() {
        d.push(format!("Addr: *{port}"));
    }
    // What istioctl leaves out, and Envoy matches on too: who connects.
    if !m.direct_source_prefix_ranges.is_empty() {
        d.push(format!(
            "DirectSrc: {}",
            m.direct_source_prefix_ranges.join(",")
        ));
    }
    if let Some(t) = &m.source_type {
        d.push(format!("SrcType: {t}"));
    }
    if !m.source_prefix_ranges.is_empty() {
        d.push(format!("Src: {}", m.source_prefix_ranges.join(",")));
    }
    if !m.source_ports.is_empty() {
        let ports: Vec<String> = m.source_ports.iter().map(u32::to_string).collect();
        d.push(format!("SrcPort: {}", ports.join(",")));
    }
    if d.is_empty() {
        "ALL".into()
    } else {
        d.join("; ")
    }
}

/// istioctl's DESTINATION column: `Cluster: x`, `Route: x`, `Inline Route: /p*`, or the filter.
pub(crate) fn chain_destination(_l: &Listener, ch: &FilterChain) -> String {
    let parts: Vec<String> = ch
        .destinations
        .iter()
        .map(|d| match d {
            Destination::Cluster { name } => cluster_label(name),
            Destination::WeightedClusters { names, .. } => format!("Clusters: {}", names.join(",")),
            Destination::Route { name } => format!("Route: {name}"),
            Destination::InlineRoute { config } => inline_route(config),
            Destination::Filter { name, config } => format!("{name} ({})", config.type_url),
        })
        .collect();
    if parts.is_empty() {
        "Non-HTTP/Non-TCP".into()
    } else {
        parts.join("; ")
    }
}

/// `Cluster: x`, except for Istio's `PassthroughCluster`/`BlackHoleCluster`, named bare (as
/// istioctl does).
fn cluster_label(name: &str) -> String {
    if name.contains("Cluster") {
        name.to_string()
    } else {
        format!("Cluster: {name}")
    }
}

/// An inline route that sends everything (`*`, prefix `/`) to one cluster is that cluster;
/// otherwise `Inline Route: [domains] match, match; …` per virtual host (istioctl's wording).
fn inline_route(rc: &RouteConfig) -> String {
    if let [vh] = rc.virtual_hosts.as_slice() {
        if let ([domain], [route]) = (vh.domains.as_slice(), vh.routes.as_slice()) {
            if let (true, "/*", RouteAction::Cluster { name }) =
                (domain == "*", route.matcher.as_str(), &route.action)
            {
                return cluster_label(name);
            }
        }
    }
    let vhosts: Vec<String> = rc
        .virtual_hosts
        .iter()
        .map(|vh| {
            let routes = vh
                .routes
                .iter()
                .map(|r| r.matcher.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            match vh.domains.as_slice() {
                [] => routes,
                [d] if d == "*" => routes,
                many => format!("{} {routes}", domains(many)),
            }
        })
        .collect();
    format!("Inline Route: {}", vhosts.join("; "))
}

fn chain_tls(ch: &FilterChain) -> String {
    match &ch.tls {
        Socket::Tls(ctx) => {
            // Server side: the certificate and trust are spelled out below.
            let mut s = match ctx.mode {
                Some(crate::model::tls::TlsMode::Mutual) => "mTLS".to_string(),
                _ => "TLS".to_string(),
            };
            if let Some(cert) = ctx.certificates.first() {
                s.push_str(&format!(" cert={cert}"));
            }
            let trust: Vec<String> = ctx.validation.iter().map(|v| v.to_string()).collect();
            if !trust.is_empty() {
                s.push_str(&format!(" trust={}", trust.join("+")));
            }
            s
        }
        other => other.summary(),
    }
}

pub(crate) fn routes(r: &Report) -> Table {
    let mut t = Table::new(&[
        "NAME",
        "VHOST NAME",
        "DOMAINS",
        "MATCH",
        "VIRTUAL SERVICE",
        "DESTINATION",
    ]);
    for rc in &r.routes {
        for vh in &rc.virtual_hosts {
            for route in &vh.routes {
                t.row(vec![
                    rc.name.to_string(),
                    vh.name.clone(),
                    domains(&vh.domains),
                    route.matcher.clone(),
                    route.virtual_service.clone().unwrap_or_default(),
                    action(&route.action),
                ]);
            }
        }
    }
    t
}

/// One domain as is; several as the shortest name not starting with a digit, `+N more`.
fn domains(d: &[String]) -> String {
    match d {
        [] => String::new(),
        [one] => one.clone(),
        many => {
            let best = many
                .iter()
                .filter(|d| !d.starts_with(|c: char| c.is_ascii_digit()))
                .min_by_key(|d| (d.len(), d.as_str()))
                .unwrap_or(&many[0]);
            format!("{best} +{} more", many.len() - 1)
        }
    }
}

fn action(a: &RouteAction) -> String {
    match a {
        RouteAction::Cluster { name } => name.clone(),
        RouteAction::WeightedClusters { names, .. } => names.join(","),
        RouteAction::ClusterHeader { header } => format!("header:{header}"),
        RouteAction::ClusterSpecifierPlugin { name } => format!("plugin:{name}"),
        RouteAction::Redirect { status } => format!("redirect {status}"),
        RouteAction::DirectResponse { status } => format!("direct response {status}"),
        RouteAction::NonForwarding => "non-forwarding".into(),
        RouteAction::None => String::new(),
    }
}

pub(crate) fn endpoints(r: &Report) -> Table {
    let mut t = Table::new(&["ENDPOINT", "STATUS", "LOCALITY", "CLUSTER", "TLS MODE"]);
    for e in &r.endpoints {
        let tls_mode = e
            .socket_match
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        t.row(vec![
            e.address.clone(),
            e.health.clone(),
            e.locality.clone().unwrap_or_default(),
            e.cluster.to_string(),
            tls_mode,
        ]);
    }
    t
}

/// istioctl's secret table; one row per trust domain for SPIFFE bundles; TRUST DOMAIN only when
/// every row has one (as istioctl does); IDENTITY added.
pub(crate) fn secrets(r: &Report, redacted: bool) -> Table {
    let mut rows: Vec<(Vec<String>, Option<String>)> = Vec::new();
    for s in &r.secrets {
        let kind = s.kind.to_string();
        let cert_cells = |c: Option<&crate::model::CertInfo>| match c {
            Some(c) if redacted => vec![
                c.valid_now.to_string(),
                MARKER.into(),
                MARKER.into(),
                MARKER.into(),
                MARKER.into(),
            ],
            Some(c) => vec![
                c.valid_now.to_string(),
                c.serial.to_string(),
                text(&c.not_after),
                text(&c.not_before),
                crate::cert::remaining(c),
            ],
            None => vec![
                "false".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        };
        if !s.trust_bundles.is_empty() {
            for b in &s.trust_bundles {
                let mut row = vec![s.name.to_string(), kind.clone(), s.state.to_string()];
                row.extend(cert_cells(b.certificates.first()));
                row.push(String::new());
                row.push(String::new());
                rows.push((row, Some(b.trust_domain.to_string())));
            }
            continue;
        }
        let leaf = s.certificates.first();
        let mut row = vec![s.name.to_string(), kind, s.state.to_string()];
        row.extend(cert_cells(leaf));
        let identity = leaf
            .and_then(|c| c.spiffe_ids.first())
            .map(|i| i.to_string())
            .unwrap_or_default();
        row.push(identity);
        row.push(chain_cell(&s.chain));
        let td = leaf.and_then(|c| c.trust_domain()).map(|t| t.to_string());
        rows.push((row, td));
    }
    let with_td = !rows.is_empty() && rows.iter().all(|(_, td)| td.is_some());
    let mut header = vec![
        "RESOURCE NAME",
        "TYPE",
        "STATUS",
        "VALID CERT",
        "SERIAL NUMBER",
        "NOT AFTER",
        "NOT BEFORE",
        "TIME LEFT",
        "IDENTITY",
        "CHAIN",
    ];
    if with_td {
        header.push("TRUST DOMAIN");
    }
    let mut t = Table::new(&header);
    for (mut row, td) in rows {
        if with_td {
            row.push(td.unwrap_or_default());
        }
        t.row(row);
    }
    t
}

/// `valid`, `broken: link 0`, `untrusted`, `no roots`, or empty.
fn chain_cell(v: &crate::model::ChainVerdict) -> String {
    use crate::model::ChainVerdict as V;
    match v {
        V::Valid { .. } => "valid".into(),
        V::Broken { link, .. } => format!("broken at link {link}"),
        V::Untrusted { .. } => "untrusted".into(),
        V::NoRoots => "no roots".into(),
        V::NotApplicable => String::new(),
    }
}

pub(super) fn missing(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    if r.missing_secrets.is_empty() {
        return Ok(());
    }
    writeln!(w, "\nMISSING SECRETS (referenced, not in the dump)")?;
    let mut t = Table::new(&["NAME", "REFERENCED BY"]);
    for m in &r.missing_secrets {
        t.row(vec![m.name.to_string(), m.referenced_by.join(", ")]);
    }
    t.write(w)
}

pub(super) fn warnings(r: &Report, w: &mut dyn Write, compact: bool) -> io::Result<()> {
    if r.warnings.is_empty() {
        return Ok(());
    }
    if compact {
        let (e, n) = (
            r.error_count(),
            r.warnings.iter().map(|w| w.count).sum::<usize>(),
        );
        return writeln!(w, "\n{n} decoding issue(s), {e} error(s): run without a subcommand or with -o json to list them");
    }
    writeln!(w, "\nWARNINGS")?;
    for x in &r.warnings {
        let sev = match x.severity {
            crate::decode::Severity::Warning => "warning",
            crate::decode::Severity::Error => "error",
        };
        let times = if x.count > 1 {
            format!(" (x{}, first at {})", x.count, x.first_pointer)
        } else {
            format!(" (at {})", x.first_pointer)
        };
        writeln!(w, "  {sev}: {}{times}", x.message)?;
    }
    Ok(())
}

/// A time a document may lack, as a cell (`-` when absent).
pub(super) fn text(t: &Option<crate::model::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}
