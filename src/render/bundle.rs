//! `bundle` output: one row per proxy, then the fleet findings and the entries refused; or the
//! JSON/YAML document.

use std::io::Write;

use super::table::Table;
use super::{Format, RenderError};
use crate::model::bundle::{BundleReport, ProxyKind};

/// A bundle: its proxies, fleet findings and reachability.
pub fn render_bundle(
    b: &BundleReport,
    format: Format,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    if let Some(doc) = format.doc() {
        return super::document::write(b, doc, w);
    }
    if format == Format::Html {
        w.write_all(super::html::bundle_page(b).as_bytes())?;
        return Ok(());
    }
    let unreadable = b
        .proxies
        .iter()
        .filter(|p| p.kind == ProxyKind::Unreadable)
        .count();
    writeln!(w, "Bundle:       {}", b.source)?;
    writeln!(w, "At:           {}", b.now)?;
    writeln!(
        w,
        "Proxies:      {} ({unreadable} unreadable), {} entries refused\n",
        b.proxies.len(),
        b.refused.len()
    )?;
    let t = proxies(b);
    let evidence = b.proxies.iter().any(|p| p.evidence.is_some());
    t.write(w)?;
    if evidence {
        failed_requests(b, w)?;
    }
    super::views::findings_table("FLEET FINDINGS", &b.findings, super::Color::Plain, w)?;
    reach(b, w)?;
    let drift: Vec<_> = b
        .proxies
        .iter()
        .flat_map(|p| {
            p.drift
                .iter()
                .flat_map(move |r| r.failures.iter().map(move |f| (p, r, f)))
        })
        .collect();
    if !drift.is_empty() {
        writeln!(w, "\nDRIFT")?;
        let mut t = Table::new(&["PROXY", "RULE", "SUBJECT", "EXPECTED", "ACTUAL"]);
        for (p, r, f) in drift {
            t.row(vec![
                p.proxy.clone(),
                r.rule.to_string(),
                f.subject.clone(),
                f.expected.clone(),
                f.actual.clone(),
            ]);
        }
        t.write(w)?;
    }
    if let Some(s) = &b.sync {
        let listed: Vec<&str> = s.sources.iter().map(|s| s.istiod.as_str()).collect();
        writeln!(
            w,
            "\nSYNC from {} syncz ({}); `envinspect proxy-status` on the bundle gives every proxy's row",
            s.sources.len(),
            if listed.is_empty() { "none readable".to_string() } else { listed.join(", ") }
        )?;
        for e in &s.errors {
            writeln!(w, "syncz not read: {}", super::explain::clean(e))?;
        }
    }
    if !b.refused.is_empty() {
        writeln!(w, "\nREFUSED")?;
        let mut t = Table::new(&["ENTRY", "REASON"]);
        for r in &b.refused {
            t.row(vec![r.path.clone(), r.reason.clone()]);
        }
        t.write(w)?;
    }
    Ok(())
}

/// Who can call whom: one row per guarded port, one column per caller identity (`ns/sa` for
/// Istio's SPIFFE IDs); `yes`, `no` or `?` (see the JSON `because`).
fn reach(b: &BundleReport, w: &mut dyn Write) -> std::io::Result<()> {
    if b.reachability.is_empty() {
        return Ok(());
    }
    use crate::model::bundle::ReachVerdict;
    let callers: std::collections::BTreeSet<&str> =
        b.reachability.iter().map(|r| r.caller.as_str()).collect();
    let short = |c: &str| -> String {
        c.parse::<crate::model::SpiffeId>()
            .ok()
            .and_then(|id| id.istio_workload().map(|(ns, sa)| format!("{ns}/{sa}")))
            .unwrap_or_else(|| c.to_string())
    };
    writeln!(w, "\nWHO CAN CALL WHOM (rows: callee port; columns: caller identity; yes = some request can be allowed)")?;
    let header = std::iter::once("CALLEE PORT".to_string())
        .chain(callers.iter().map(|c| short(c)))
        .collect();
    let mut t = Table::with_header(header);
    let mut rows: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for r in &b.reachability {
        let cells = rows
            .entry((r.callee.clone(), r.port.clone()))
            .or_insert_with(|| vec!["self".to_string(); callers.len()]);
        if let Some(i) = callers.iter().position(|c| *c == r.caller) {
            cells[i] = match r.verdict {
                ReachVerdict::Allowed => "yes",
                ReachVerdict::Never => "no",
                ReachVerdict::Unknown => "?",
            }
            .into();
        }
    }
    for ((callee, port), cells) in rows {
        let mut row = vec![format!("{callee} {port}")];
        row.extend(cells);
        t.row(row);
    }
    t.write(w)
}

/// `3: log-no-healthy-upstream 2, log-upstream-tls-san 1` (`-` without a log).
fn failed_cell(p: &crate::model::bundle::ProxyRow) -> String {
    let Some(ev) = &p.evidence else {
        return String::new();
    };
    if ev.summary.files.is_empty() {
        return String::new();
    }
    let mut by: std::collections::BTreeMap<crate::model::RuleId, u64> =
        std::collections::BTreeMap::new();
    for g in &ev.causes {
        *by.entry(g.rule).or_default() += g.count;
    }
    let mut causes: Vec<(crate::model::RuleId, u64)> = by.into_iter().collect();
    causes.sort_by_key(|(r, n)| (std::cmp::Reverse(*n), *r));
    let list: Vec<String> = causes.iter().map(|(r, n)| format!("{r} {n}")).collect();
    if list.is_empty() {
        "0".into()
    } else {
        format!("{}: {}", ev.summary.failed, list.join(", "))
    }
}

/// Per proxy: its failing requests by cause, and the counters that prove a failure.
fn failed_requests(b: &BundleReport, w: &mut dyn Write) -> std::io::Result<()> {
    use super::explain::clean;
    let with: Vec<_> = b
        .proxies
        .iter()
        .filter_map(|p| p.evidence.as_ref().map(|e| (p, e)))
        .filter(|(_, e)| !e.causes.is_empty() || !e.counters.is_empty() || !e.errors.is_empty())
        .collect();
    if with.is_empty() {
        return Ok(());
    }
    writeln!(w, "\nFAILED REQUESTS (from each proxy's istio-proxy.log; `envinspect explain` on its files gives every line)")?;
    let mut t = Table::new(&["PROXY", "CAUSE", "COUNT", "FIRST", "EXPLANATION"]);
    for (p, e) in &with {
        for g in &e.causes {
            t.row(vec![
                p.proxy.clone(),
                g.rule.to_string(),
                g.count.to_string(),
                clean(g.first.first().map(String::as_str).unwrap_or("")),
                clean(&g.explanation),
            ]);
        }
    }
    if !t.is_empty() {
        t.write(w)?;
    }
    let counters: Vec<_> = with
        .iter()
        .flat_map(|(p, e)| e.counters.iter().map(move |f| (p, f)))
        .collect();
    if !counters.is_empty() {
        writeln!(w, "\nCOUNTERS (from each proxy's stats/prometheus)")?;
        let mut t = Table::new(&["PROXY", "RULE", "SUBJECT", "COUNTER"]);
        for (p, f) in counters {
            t.row(vec![
                p.proxy.clone(),
                f.rule.to_string(),
                clean(&f.subject),
                clean(&f.message),
            ]);
        }
        t.write(w)?;
    }
    for (p, e) in &with {
        for err in &e.errors {
            writeln!(w, "{}: evidence not read: {}", p.proxy, clean(err))?;
        }
    }
    Ok(())
}

/// One row per proxy, as `bundle` prints it (and the HTML page shows it).
pub(super) fn proxies(b: &BundleReport) -> Table {
    let expect = b.proxies.iter().any(|p| p.expectations > 0);
    let mut header = vec![
        "PROXY",
        "IDENTITY",
        "TRUST DOMAIN",
        "CERT LEFT",
        "ROOTS",
        "OUTBOUND",
        "INBOUND",
        "FINDINGS",
        "WARNINGS",
    ];
    if expect {
        header.push("DRIFT");
    }
    // With the proxies' logs in the bundle: the failing requests explained, by cause.
    let evidence = b.proxies.iter().any(|p| p.evidence.is_some());
    if evidence {
        header.push("FAILED");
    }
    // With istiod's syncz in the bundle: each proxy's sync state (the worst, and its types).
    let sync = b.sync.is_some();
    if sync {
        header.push("SYNC");
    }
    let mut t = Table::new(&header);
    for p in &b.proxies {
        if p.kind == ProxyKind::Unreadable {
            let what = format!("unreadable: {}", p.error.clone().unwrap_or_default());
            t.row(vec![
                p.proxy.clone(),
                what,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        let inbound = p
            .inbound
            .iter()
            .map(|(port, m)| {
                format!(
                    "{}:{m}",
                    port.map(|p| p.to_string()).unwrap_or_else(|| "*".into())
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let who = match p.kind {
            // A ztunnel holds the identities of its node's workloads; it has no one identity.
            ProxyKind::Ztunnel => match p.held.len() {
                1 => "ztunnel, holding 1 identity".to_string(),
                n => format!("ztunnel, holding {n} identities"),
            },
            _ => p
                .identity
                .as_ref()
                .map(|i| i.to_string())
                .unwrap_or_default(),
        };
        t.row(vec![
            p.proxy.clone(),
            who,
            p.trust_domain
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            p.cert_seconds_left
                .map(crate::cert::time_left)
                .unwrap_or_default(),
            p.roots
                .iter()
                .map(|r| r.short())
                .collect::<Vec<_>>()
                .join(","),
            p.outbound.map(|o| o.to_string()).unwrap_or_default(),
            inbound,
            p.findings.to_string(),
            p.warnings.to_string(),
        ]);
        if expect {
            if let Some(row) = t.last_row() {
                row.push(format!("{}/{}", p.drift.len(), p.expectations));
            }
        }
        if evidence {
            if let Some(row) = t.last_row() {
                row.push(failed_cell(p));
            }
        }
        if sync {
            if let Some(row) = t.last_row() {
                // Not in any syncz: not connected to a captured istiod (or not an Istio proxy).
                row.push(p.sync.clone().unwrap_or_else(|| "not listed".into()));
            }
        }
    }
    t
}
