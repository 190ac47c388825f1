//! Pages of what happened: `explain` (access-log lines by cause, the counters that prove a
//! failure) and `proxy-status` (each proxy's sync state as istiod sees it, per xDS type).

use super::report::{cited_rules, findings_section, rules};
use super::{anchor, Html};
use crate::model::evidence::{CauseGroup, LogSummary};
use crate::model::sync::{SyncReport, XdsType};
use crate::model::Finding;
use crate::render::table::Table;

/// The page of `explain` on one proxy: what was read, the counters, the causes.
pub(crate) fn explain_page(
    source: &str,
    summary: &LogSummary,
    groups: &[CauseGroup],
    counters: &[Finding],
) -> String {
    let mut h = Html::new();
    h.section("summary", "What was read");
    h.raw("<dl class=\"facts\">");
    h.el("dt", "Against").el("dd", source);
    h.el("dt", "Logs").el("dd", &summary.files.join(", "));
    h.el("dt", "Lines read")
        .el("dd", &summary.lines.to_string());
    for (format, n) in &summary.parsed {
        h.el("dt", "Access-log lines")
            .el("dd", &format!("{n} ({format})"));
    }
    h.el("dt", "Envoy's own log")
        .el("dd", &summary.envoy_log.to_string());
    h.el("dt", "Matching no format").el(
        "dd",
        &format!(
            "{}{}",
            summary.unmatched,
            if summary.unmatched_first.is_empty() {
                String::new()
            } else {
                format!(" (first: {})", summary.unmatched_first.join(", "))
            }
        ),
    );
    h.el("dt", "Too long")
        .el("dd", &summary.too_long.to_string());
    h.el("dt", "Failed").el("dd", &summary.failed.to_string());
    if !summary.formats_unread.is_empty() {
        h.el("dt", "Formats not read back")
            .el("dd", &summary.formats_unread.join(", "));
    }
    h.raw("</dl>");
    h.end_section();
    if !counters.is_empty() {
        h.section("counters", "Counters that prove a failure");
        let mut t = Table::new(&["RULE", "LEVEL", "SUBJECT", "COUNTER"]);
        for f in counters {
            t.row(vec![
                f.rule.to_string(),
                f.level.to_string(),
                f.subject.clone(),
                f.message.clone(),
            ]);
        }
        let link = |col: usize, row: &[String]| (col == 0).then(|| anchor("rule", &row[0]));
        h.table("Counters", &t, None, Some(&link));
        h.end_section();
    }
    h.section("causes", "Failing requests, by cause");
    if groups.is_empty() {
        h.el("p", "No failing request to explain.");
    } else {
        let mut t = Table::new(&["CAUSE", "LEVEL", "COUNT", "FIRST LINES", "EXPLANATION"]);
        for g in groups {
            t.row(vec![
                g.rule.to_string(),
                g.level.to_string(),
                g.count.to_string(),
                g.first.join(", "),
                g.explanation.clone(),
            ]);
        }
        let link = |col: usize, row: &[String]| (col == 0).then(|| anchor("rule", &row[0]));
        h.table("Causes", &t, None, Some(&link));
    }
    h.end_section();
    cited_rules(
        &mut h,
        groups
            .iter()
            .map(|g| g.rule)
            .chain(counters.iter().map(|f| f.rule)),
    );
    h.finish(&format!("Explain: {}", summary.files.join(", ")))
}

/// The page of `proxy-status`: istioctl's columns, a cell per type in word and colour, then
/// the findings (a NACK, a stale type) and what was not read.
pub(crate) fn sync_page(r: &SyncReport, unreadable: &[String]) -> String {
    let mut h = Html::new();
    h.section("sources", "Sources");
    let mut t = Table::new(&["SYNCZ", "ISTIOD", "FORM", "PROXIES"]);
    for s in &r.sources {
        t.row(vec![
            s.file.clone(),
            s.istiod.clone(),
            format!("{:?}", s.form),
            s.proxies.to_string(),
        ]);
    }
    h.table("Syncz files read", &t, None, None);
    for u in unreadable {
        h.el("p", &format!("not read: {u}"));
    }
    h.end_section();
    h.section("proxies", "Proxies");
    let mut header: Vec<String> = vec!["NAME".into(), "CLUSTER".into()];
    header.extend(XdsType::COLUMNS.iter().map(|t| t.label().to_string()));
    header.extend(["ISTIOD".into(), "VERSION".into()]);
    let mut t = Table::with_header(header);
    for p in &r.proxies {
        let mut row = vec![p.name.clone(), p.cluster.clone()];
        row.extend(
            XdsType::COLUMNS
                .iter()
                .map(|x| p.state(x).label().to_string()),
        );
        row.push(p.istiod.clone());
        row.push(p.version.clone());
        t.row(row);
    }
    let row_id = |row: &[String]| anchor("proxy", &row[0]);
    h.table(
        "Proxies, as istioctl proxy-status lists them",
        &t,
        Some(&row_id),
        None,
    );
    h.end_section();
    let proxy = |s: &str| s.split_whitespace().next().map(|p| anchor("proxy", p));
    findings_section(
        &mut h,
        "Findings",
        "No proxy refused or lags behind what istiod sent.",
        &r.findings,
        false,
        &proxy,
    );
    rules(&mut h, &r.findings);
    h.finish("Proxy status")
}
