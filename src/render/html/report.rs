//! The page of one dump: a summary, the findings (each linked to its rule and to the object it
//! is about), a diagram per listener (chain → route → cluster → endpoints, with findings marked
//! on the nodes), the clusters and certificates, every view's table, and the rules cited.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{anchor, esc, Html};
use crate::model::{Destination, Finding, Listener, Report, RouteAction, RouteConfig};
use crate::render::table::Table;
use crate::render::{views, View};

/// The page of `view` of `r`. `redacted`: what changes at every rotation is already scrubbed by
/// the writer; the certificate section says so instead of quoting serials.
pub(crate) fn report_page(r: &Report, view: View, redacted: bool) -> String {
    let mut h = Html::new();
    summary(&mut h, r);
    let flagged = flagged(&r.findings);
    match view {
        View::Report => {
            findings(&mut h, &r.findings);
            paths(&mut h, r, &flagged);
            clusters(&mut h, r, &flagged);
            super::certs::certificates(&mut h, r, redacted, &flagged);
            tables(&mut h, r, redacted);
            rules(&mut h, &r.findings);
        }
        View::Certs => {
            super::certs::certificates(&mut h, r, redacted, &flagged);
            findings(&mut h, &r.findings);
            rules(&mut h, &r.findings);
        }
        other => {
            let (title, t) = view_table(r, other, redacted);
            h.section("view", title);
            h.table(title, &t, None, None);
            h.end_section();
        }
    }
    let title = match view {
        View::Report => format!("Proxy report: {}", r.source),
        other => format!("{}: {}", other.name(), r.source),
    };
    h.finish(&title)
}

/// The table of a view, as the text output prints it.
fn view_table(r: &Report, view: View, redacted: bool) -> (&'static str, Table) {
    match view {
        View::Listeners => ("Listeners", views::listeners(r)),
        View::Routes => ("Routes", views::routes(r)),
        View::Endpoints => ("Endpoints", views::endpoints(r)),
        View::Secrets => ("Secrets", views::secrets(r, redacted)),
        View::Workloads => ("Workloads", crate::render::ambient::workloads(r)),
        View::Services => ("Services", crate::render::ambient::services(r)),
        View::Connections => ("Connections", crate::render::ambient::connections(r)),
        _ => ("Clusters", views::clusters(r)),
    }
}

/// Findings by the anchor of the object they concern (`cluster X`, `listener X`, `secret X`,
/// `route X`: the first word of the subject names the kind, the second the object).
pub(super) fn flagged(findings: &[Finding]) -> BTreeMap<String, Vec<&Finding>> {
    let mut m: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(a) = object_anchor(&f.subject) {
            m.entry(a).or_default().push(f);
        }
    }
    m
}

fn object_anchor(subject: &str) -> Option<String> {
    let mut words = subject.split_whitespace();
    let kind = match words.next()? {
        "cluster" => "cluster",
        "listener" => "listener",
        "secret" => "secret",
        "route" => "route",
        _ => return None,
    };
    Some(anchor(kind, words.next()?))
}

/// A marker after a node that findings concern: how many, the rules in its title and text.
pub(super) fn marker(h: &mut Html, flagged: &BTreeMap<String, Vec<&Finding>>, id: &str) {
    if let Some(fs) = flagged.get(id) {
        let rules: BTreeSet<String> = fs.iter().map(|f| f.rule.to_string()).collect();
        let rules: Vec<String> = rules.into_iter().collect();
        h.raw(&format!(
            "<span class=\"flag\" title=\"{}\">&#9888; {} finding(s): {}</span>",
            esc(&rules.join(", ")),
            fs.len(),
            esc(&rules.join(", "))
        ));
    }
}

fn summary(h: &mut Html, r: &Report) {
    let errors = r.findings.iter().filter(|f| f.level.fails()).count();
    h.section("summary", "Summary");
    h.raw("<dl class=\"facts\">");
    let fact = |h: &mut Html, k: &str, v: &str| {
        h.el("dt", k).el("dd", if v.is_empty() { "-" } else { v });
    };
    fact(h, "Source", &r.source);
    fact(h, "Document", r.document.label());
    fact(h, "Judged at", &r.now.to_string());
    if let Some(n) = &r.node {
        fact(h, "Node", &n.id);
        if let Some(v) = &n.envoy_version {
            fact(h, "Envoy", v);
        }
    }
    match &r.identity {
        Some(i) => {
            let id = i
                .spiffe_id
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default();
            fact(h, "Identity", &id);
            let left = i
                .not_after
                .map(|t| {
                    format!(
                        "{t} ({})",
                        crate::model::Span::from_seconds(r.now.seconds_until(t).max(0))
                    )
                })
                .unwrap_or_default();
            fact(h, "Certificate expires", &left);
        }
        None => fact(h, "Identity", "none found"),
    }
    fact(h, "Outbound policy", &r.outbound.mode.to_string());
    fact(
        h,
        "Resources",
        &format!(
            "{} listeners, {} clusters, {} route configurations, {} secrets",
            r.listeners.len(),
            r.clusters.len(),
            r.routes.len(),
            r.secrets.len()
        ),
    );
    fact(
        h,
        "Findings",
        &format!("{} ({errors} errors or warnings)", r.findings.len()),
    );
    h.raw("</dl>");
    h.end_section();
}

fn findings(h: &mut Html, findings: &[Finding]) {
    findings_section(
        h,
        "Findings",
        "No findings.",
        findings,
        true,
        &object_anchor,
    );
}

/// The `#findings` section: a row per finding, its rule linked to the rules cited and its
/// subject to the anchor `subject` gives (when the page has it); `evidence` adds its column.
pub(super) fn findings_section(
    h: &mut Html,
    title: &str,
    none: &str,
    findings: &[Finding],
    evidence: bool,
    subject: &dyn Fn(&str) -> Option<String>,
) {
    h.section("findings", title);
    if findings.is_empty() {
        h.el("p", none);
    } else {
        let header: &[&'static str] = if evidence {
            &["LEVEL", "RULE", "SUBJECT", "MESSAGE", "EVIDENCE"]
        } else {
            &["LEVEL", "RULE", "SUBJECT", "MESSAGE"]
        };
        let mut t = Table::new(header);
        for f in findings {
            let mut row = vec![
                f.level.to_string(),
                f.rule.to_string(),
                f.subject.clone(),
                f.message.clone(),
            ];
            if evidence {
                row.push(f.evidence.join(" "));
            }
            t.row(row);
        }
        let link = |col: usize, row: &[String]| match col {
            1 => Some(anchor("rule", &row[1])),
            2 => subject(&row[2]),
            _ => None,
        };
        h.table(title, &t, None, Some(&link));
    }
    h.end_section();
}

/// One tree per listener: its chains (match, TLS), where each sends traffic, and for HTTP the
/// route configuration's virtual hosts and routes down to clusters and their endpoints.
fn paths(h: &mut Html, r: &Report, flagged: &BTreeMap<String, Vec<&Finding>>) {
    h.section(
        "paths",
        "Paths: listener → filter chain → route → cluster → endpoints",
    );
    h.el(
        "p",
        "One entry per listener; open it to follow each filter chain to its routes, clusters and endpoints. Nodes that findings concern are marked.",
    );
    let routes: BTreeMap<&str, &RouteConfig> =
        r.routes.iter().map(|rc| (rc.name.as_str(), rc)).collect();
    for l in &r.listeners {
        listener(h, r, l, &routes, flagged);
    }
    h.end_section();
}

fn listener(
    h: &mut Html,
    r: &Report,
    l: &Listener,
    routes: &BTreeMap<&str, &RouteConfig>,
    flagged: &BTreeMap<String, Vec<&Finding>>,
) {
    let a = anchor("listener", l.name.as_str());
    let id = h.id(&a);
    let mut head = String::new();
    let _ = write!(
        head,
        "{} {}",
        l.address.as_deref().unwrap_or("-"),
        l.direction.map(|d| d.as_lowercase()).unwrap_or("")
    );
    h.raw(&format!("<details class=\"searchable\"{id}><summary><span class=\"node\"><span class=\"kind\">listener</span>"))
        .text(l.name.as_str())
        .raw("</span> <span class=\"muted\">")
        .text(&head)
        .raw("</span>");
    marker(h, flagged, &a);
    h.raw("</summary><ul class=\"tree\">");
    for (i, ch) in l.filter_chains.iter().enumerate() {
        let name = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
        h.raw("<li><span class=\"node\"><span class=\"kind\">chain</span>")
            .text(&name)
            .raw("</span> <span class=\"muted\">")
            .text(&format!(
                "match {} · {}",
                views::chain_match(ch),
                ch.tls.summary()
            ))
            .raw("</span>");
        if let crate::model::Socket::Tls(ctx) = &ch.tls {
            secrets_in_use(h, std::iter::once(ctx.as_ref()));
        }
        h.raw("<ul>");
        for d in &ch.destinations {
            destination(h, r, d, routes, flagged);
        }
        h.raw("</ul></li>");
    }
    h.raw("</ul></details>\n");
}

fn destination(
    h: &mut Html,
    r: &Report,
    d: &Destination,
    routes: &BTreeMap<&str, &RouteConfig>,
    flagged: &BTreeMap<String, Vec<&Finding>>,
) {
    match d {
        Destination::Cluster { name } => cluster_node(h, r, name, None, flagged),
        Destination::WeightedClusters { names, weights } => {
            for (n, w) in names.iter().zip(weights) {
                cluster_node(h, r, n, Some(*w), flagged);
            }
        }
        Destination::Route { name } => match routes.get(name.as_str()) {
            Some(rc) => route_config(h, r, rc, flagged),
            None => {
                h.raw("<li><span class=\"node flagged\"><span class=\"kind\">route</span>")
                    .text(name)
                    .raw("</span> <span class=\"flag\">not in the dump</span></li>");
            }
        },
        Destination::InlineRoute { config } => route_config(h, r, config, flagged),
        Destination::Filter { name, .. } => {
            h.raw("<li><span class=\"node\"><span class=\"kind\">filter</span>")
                .text(name)
                .raw("</span></li>");
        }
    }
}

fn route_config(
    h: &mut Html,
    r: &Report,
    rc: &RouteConfig,
    flagged: &BTreeMap<String, Vec<&Finding>>,
) {
    let a = anchor("route", rc.name.as_str());
    h.raw("<li><span class=\"node\"><span class=\"kind\">route config</span>")
        .text(rc.name.as_str())
        .raw("</span>");
    marker(h, flagged, &a);
    h.raw("<ul>");
    for vh in &rc.virtual_hosts {
        h.raw("<li><span class=\"node\"><span class=\"kind\">virtual host</span>")
            .text(&vh.name)
            .raw("</span> <span class=\"muted\">")
            .text(&vh.domains.join(", "))
            .raw("</span><ul>");
        for route in &vh.routes {
            h.raw("<li><span class=\"node\"><span class=\"kind\">route</span>")
                .text(route.name.as_deref().unwrap_or(&route.matcher))
                .raw("</span> <span class=\"muted\">")
                .text(&route.matcher)
                .raw("</span><ul>");
            match &route.action {
                RouteAction::Cluster { name } => cluster_node(h, r, name, None, flagged),
                RouteAction::WeightedClusters { names, weights } => {
                    for (n, w) in names.iter().zip(weights) {
                        cluster_node(h, r, n, Some(*w), flagged);
                    }
                }
                RouteAction::DirectResponse { status } => {
                    h.raw("<li><span class=\"node\"><span class=\"kind\">direct response</span>")
                        .text(&status.to_string())
                        .raw("</span></li>");
                }
                RouteAction::Redirect { status } => {
                    h.raw("<li><span class=\"node\"><span class=\"kind\">redirect</span>")
                        .text(&status.to_string())
                        .raw("</span></li>");
                }
                other => {
                    h.raw("<li><span class=\"node\"><span class=\"kind\">action</span>")
                        .text(&format!("{other:?}"))
                        .raw("</span></li>");
                }
            }
            h.raw("</ul></li>");
        }
        h.raw("</ul></li>");
    }
    h.raw("</ul></li>");
}

/// A cluster reached from a chain or a route: its TLS and endpoints, linked to its row.
fn cluster_node(
    h: &mut Html,
    r: &Report,
    name: &str,
    weight: Option<u32>,
    flagged: &BTreeMap<String, Vec<&Finding>>,
) {
    let a = anchor("cluster", name);
    let c = r.clusters.iter().find(|c| c.name.as_str() == name);
    h.raw("<li><span class=\"node\"><span class=\"kind\">cluster</span>");
    h.link(&a, name);
    h.raw("</span> <span class=\"muted\">");
    match c {
        Some(c) => {
            let eps = r
                .endpoints
                .iter()
                .filter(|e| e.cluster.as_str() == name)
                .count();
            let mut s = format!("{} · {eps} endpoint(s)", c.tls.kind());
            if let Some(w) = weight {
                let _ = write!(s, " · weight {w}");
            }
            let sni: BTreeSet<String> = c
                .tls
                .contexts()
                .filter_map(|x| x.sni.as_ref().map(|s| s.to_string()))
                .collect();
            if !sni.is_empty() {
                let _ = write!(
                    s,
                    " · SNI {}",
                    sni.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            let sans: BTreeSet<String> = c
                .tls
                .contexts()
                .flat_map(|x| x.san_matchers.iter().map(|m| m.matcher.value.clone()))
                .collect();
            if !sans.is_empty() {
                let _ = write!(
                    s,
                    " · accepts {}",
                    sans.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            h.text(&s);
            h.raw("</span>");
            secrets_in_use(h, c.tls.contexts());
            h.raw("<span class=\"muted\">");
            let addrs: Vec<&str> = r
                .endpoints
                .iter()
                .filter(|e| e.cluster.as_str() == name)
                .map(|e| e.address.as_str())
                .take(5)
                .collect();
            if !addrs.is_empty() {
                let more = if eps > addrs.len() { ", …" } else { "" };
                h.text(&format!(" → {}{more}", addrs.join(", ")));
            }
        }
        None => {
            h.text("not in the dump");
        }
    }
    h.raw("</span>");
    marker(h, flagged, &a);
    h.raw("</li>");
}

/// The SDS secrets the TLS contexts present or verify with, linked to their chains.
fn secrets_in_use<'a>(h: &mut Html, contexts: impl Iterator<Item = &'a crate::model::TlsContext>) {
    use crate::model::tls::{CertSource, ValidationSource};
    let mut names = BTreeSet::new();
    for ctx in contexts {
        for c in &ctx.certificates {
            if let CertSource::Sds { name } = c {
                names.insert(name.to_string());
            }
        }
        for v in &ctx.validation {
            if let ValidationSource::Sds { name } = v {
                names.insert(name.to_string());
            }
        }
    }
    for n in names {
        h.raw(" <span class=\"node\"><span class=\"kind\">secret</span>");
        h.link(&anchor("secret", &n), &n);
        h.raw("</span>");
    }
}

/// Every cluster with its TLS, SNI, accepted SANs and endpoints; rows are the clusters' anchors.
fn clusters(h: &mut Html, r: &Report, flagged: &BTreeMap<String, Vec<&Finding>>) {
    h.section("clusters", "Clusters");
    let mut t = Table::new(&[
        "NAME",
        "TLS",
        "SNI",
        "ACCEPTED SANS",
        "ENDPOINTS",
        "FINDINGS",
    ]);
    for c in &r.clusters {
        let sni: BTreeSet<String> = c
            .tls
            .contexts()
            .filter_map(|x| x.sni.as_ref().map(|s| s.to_string()))
            .collect();
        let sans: BTreeSet<String> = c
            .tls
            .contexts()
            .flat_map(|x| x.san_matchers.iter().map(|m| m.matcher.value.clone()))
            .collect();
        let eps: Vec<String> = r
            .endpoints
            .iter()
            .filter(|e| e.cluster == c.name)
            .map(|e| format!("{} {}", e.address, e.health))
            .collect();
        let found = flagged
            .get(&anchor("cluster", c.name.as_str()))
            .map(|fs| {
                fs.iter()
                    .map(|f| f.rule.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        t.row(vec![
            c.name.to_string(),
            c.tls.kind().to_string(),
            sni.into_iter().collect::<Vec<_>>().join(", "),
            sans.into_iter().collect::<Vec<_>>().join(", "),
            eps.join(", "),
            found,
        ]);
    }
    let row_id = |row: &[String]| anchor("cluster", &row[0]);
    h.table("Clusters", &t, Some(&row_id), None);
    h.end_section();
}

/// The text output's tables, as they are.
fn tables(h: &mut Html, r: &Report, redacted: bool) {
    h.section("tables", "Tables");
    for view in [
        View::Listeners,
        View::Routes,
        View::Endpoints,
        View::Secrets,
    ] {
        let (title, t) = view_table(r, view, redacted);
        h.raw("<h3>").text(title).raw("</h3>");
        h.table(title, &t, None, None);
    }
    if r.ambient.is_some() {
        for view in [View::Workloads, View::Services, View::Connections] {
            let (title, t) = view_table(r, view, redacted);
            h.raw("<h3>").text(title).raw("</h3>");
            h.table(title, &t, None, None);
        }
    }
    h.end_section();
}

/// The rules the findings cite: meaning and fix, each under the anchor the findings link to.
pub(super) fn rules(h: &mut Html, findings: &[Finding]) {
    cited_rules(h, findings.iter().map(|f| f.rule));
}

/// The rules `ids` name, each under the anchor links to it use.
pub(super) fn cited_rules(h: &mut Html, ids: impl IntoIterator<Item = crate::model::RuleId>) {
    let cited: BTreeSet<crate::model::RuleId> = ids.into_iter().collect();
    if cited.is_empty() {
        return;
    }
    h.section("rules", "Rules cited");
    h.raw("<dl class=\"facts\">");
    for rule in cited {
        let id = h.id(&anchor("rule", rule.as_str()));
        let info = rule.rule();
        h.raw(&format!("<dt{id}>"))
            .text(rule.as_str())
            .raw("</dt><dd>");
        h.text(&format!("{} ({}). ", info.meaning, info.level));
        h.raw("<em>Fix:</em> ").text(info.fix).raw("</dd>");
    }
    h.raw("</dl>");
    h.end_section();
}
