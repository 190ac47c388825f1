//! The page of a bundle: the fleet's proxies, who can call whom as a matrix (callers by guarded
//! ports, each cell `yes`, `no` or `?` in word and colour, its reason on hover or focus), when
//! the fleet's certificates expire, the fleet findings, and a section per proxy.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::report::{findings_section, rules};
use super::{anchor, esc, Html};
use crate::model::bundle::{BundleReport, ProxyKind, ReachVerdict};
use crate::model::Timestamp;
use crate::render::table::Table;

/// Past this many cells the matrix is not drawn (the list below it has every pair).
const MATRIX_CELLS: usize = 40_000;

/// The page of bundle `b`.
pub(crate) fn bundle_page(b: &BundleReport) -> String {
    let mut h = Html::new();
    summary(&mut h, b);
    findings(&mut h, b);
    h.section("proxies", "Proxies");
    let t = crate::render::bundle::proxies(b);
    let row_id = |row: &[String]| anchor("proxy", &row[0]);
    let link = |col: usize, row: &[String]| (col == 0).then(|| anchor("detail", &row[0]));
    h.table("Proxies", &t, Some(&row_id), Some(&link));
    h.end_section();
    matrix(&mut h, b);
    expiry(&mut h, b);
    per_proxy(&mut h, b);
    if !b.refused.is_empty() {
        h.section("refused", "Entries not read");
        let mut t = Table::new(&["ENTRY", "REASON"]);
        for r in &b.refused {
            t.row(vec![r.path.clone(), r.reason.clone()]);
        }
        h.table("Entries not read", &t, None, None);
        h.end_section();
    }
    rules(&mut h, &b.findings);
    h.finish(&format!("Bundle: {}", b.source))
}

fn summary(h: &mut Html, b: &BundleReport) {
    let unreadable = b
        .proxies
        .iter()
        .filter(|p| p.kind == ProxyKind::Unreadable)
        .count();
    h.section("summary", "Summary");
    h.raw("<dl class=\"facts\">");
    h.el("dt", "Bundle").el("dd", &b.source);
    h.el("dt", "Judged at").el("dd", &b.now.to_string());
    h.el("dt", "Proxies").el(
        "dd",
        &format!("{} ({unreadable} unreadable)", b.proxies.len()),
    );
    h.el("dt", "Fleet findings")
        .el("dd", &b.findings.len().to_string());
    h.el("dt", "Entries not read")
        .el("dd", &b.refused.len().to_string());
    h.raw("</dl>");
    h.end_section();
}

fn findings(h: &mut Html, b: &BundleReport) {
    // A subject starts with the proxy it is about (`namespace/pod …`).
    let proxy = |s: &str| s.split_whitespace().next().map(|p| anchor("detail", p));
    findings_section(
        h,
        "Fleet findings",
        "No fleet findings.",
        &b.findings,
        false,
        &proxy,
    );
}

/// Rows: caller identities; columns: guarded ports (`pod LISTENER/PORT`).
fn matrix(h: &mut Html, b: &BundleReport) {
    h.section("reach", "Who can call whom");
    if b.reachability.is_empty() {
        h.el(
            "p",
            "No port of the fleet is guarded by authorization filters (or no identity is known): nothing to draw.",
        );
        h.end_section();
        return;
    }
    h.el(
        "p",
        "Rows are the identities the fleet presents, columns the ports guarded by authorization filters. yes: some request from it can be allowed; no: none ever is; ?: it depends on what the identity alone does not say. Hover or focus a cell for the reason.",
    );
    let callers: BTreeSet<&str> = b.reachability.iter().map(|r| r.caller.as_str()).collect();
    let ports: BTreeSet<(&str, &str)> = b
        .reachability
        .iter()
        .map(|r| (r.callee.as_str(), r.port.as_str()))
        .collect();
    let cells: BTreeMap<(&str, &str, &str), (&ReachVerdict, &str)> = b
        .reachability
        .iter()
        .map(|r| {
            (
                (r.caller.as_str(), r.callee.as_str(), r.port.as_str()),
                (&r.verdict, r.because.as_str()),
            )
        })
        .collect();
    if callers.len() * ports.len() <= MATRIX_CELLS {
        let mut s = String::new();
        let _ = write!(
            s,
            "<table class=\"data matrix\"><caption>Who can call whom ({} callers × {} ports)</caption><thead><tr><th scope=\"col\">caller \\ port</th>",
            callers.len(),
            ports.len()
        );
        for (callee, port) in &ports {
            let _ = write!(
                s,
                "<th scope=\"col\">{}<br><span class=\"muted\">{}</span></th>",
                esc(callee),
                esc(port)
            );
        }
        s.push_str("</tr></thead><tbody>");
        for caller in &callers {
            let _ = write!(s, "<tr><th scope=\"row\">{}</th>", esc(caller));
            for (callee, port) in &ports {
                match cells.get(&(*caller, *callee, *port)) {
                    Some((v, why)) => {
                        let (word, class) = match v {
                            ReachVerdict::Allowed => ("yes", "good"),
                            ReachVerdict::Never => ("no", "bad"),
                            _ => ("?", "warn"),
                        };
                        let _ = write!(
                            s,
                            "<td class=\"cell {class}\" tabindex=\"0\" title=\"{r}\" data-reason=\"{r}\" aria-label=\"{c} to {p} {port}: {word}. {r}\">{word}</td>",
                            r = esc(why),
                            c = esc(caller),
                            p = esc(callee),
                            port = esc(port),
                        );
                    }
                    None => s.push_str("<td class=\"cell muted\">–</td>"),
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table>\n");
        h.raw(&s);
    } else {
        h.el(
            "p",
            &format!(
                "{} callers × {} ports is too large to draw; the list below has every pair.",
                callers.len(),
                ports.len()
            ),
        );
    }
    let mut t = Table::new(&["CALLER", "PROXY", "PORT", "VERDICT", "BECAUSE"]);
    for r in &b.reachability {
        let word = match r.verdict {
            ReachVerdict::Allowed => "yes",
            ReachVerdict::Never => "no",
            _ => "?",
        };
        t.row(vec![
            r.caller.clone(),
            r.callee.clone(),
            r.port.clone(),
            word.to_string(),
            r.because.clone(),
        ]);
    }
    h.raw("<details><summary>Every pair, as a list</summary>");
    h.table("Who can call whom, as a list", &t, None, None);
    h.raw("</details>");
    h.end_section();
}

/// When the fleet's workload certificates expire: how many per day, with the judging time and
/// the warning threshold marked (a histogram scales to thousands of proxies).
fn expiry(h: &mut Html, b: &BundleReport) {
    h.section("expiry", "Certificate expiry across the fleet");
    let dates: Vec<Timestamp> = b
        .proxies
        .iter()
        .flat_map(|p| p.fleet.certificates.iter().filter_map(|(_, t, _)| *t))
        .collect();
    if dates.is_empty() {
        h.el("p", "No certificate dates in the bundle.");
        h.end_section();
        return;
    }
    // At most 60 bars: a bucket is a day, or as many days as it takes.
    let day = |t: Timestamp| t.get().unix_timestamp().div_euclid(86_400);
    let today = day(b.now);
    let first = dates
        .iter()
        .map(|t| day(*t))
        .min()
        .unwrap_or(today)
        .min(today);
    let last = dates
        .iter()
        .map(|t| day(*t))
        .max()
        .unwrap_or(today)
        .max(today);
    let size = ((last - first + 1) / 60 + 1).max(1);
    let buckets = (last - first) / size + 1;
    let mut per: BTreeMap<i64, usize> = BTreeMap::new();
    for t in &dates {
        *per.entry((day(*t) - first) / size).or_default() += 1;
    }
    let most = per.values().copied().max().unwrap_or(1) as f64;
    let (left, width, height) = (40.0, 860.0, 160.0);
    let bw = width / buckets as f64;
    let date = |d: i64| {
        Timestamp::from(
            time::OffsetDateTime::from_unix_timestamp(d * 86_400)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        )
        .to_string()
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"timeline\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"fx-title\"><title id=\"fx-title\">{n} certificate(s) expire between {a} and {z}, in bars of {size} day(s); judged at {now}</title>",
        w = left + width + 10.0,
        h = height + 36.0,
        n = dates.len(),
        a = dates.iter().min().map(|t| t.to_string()).unwrap_or_default(),
        z = dates.iter().max().map(|t| t.to_string()).unwrap_or_default(),
        now = b.now,
    );
    for (k, n) in &per {
        let bh = (height - 20.0) * (*n as f64 / most);
        let start = first + k * size;
        let class = if start + size <= today {
            "bar expired"
        } else {
            "bar"
        };
        let _ = write!(
            svg,
            "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bh:.1}\"><title>{n} expiring from {from} for {size} day(s)</title></rect><text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">{n}</text>",
            x = left + bw * *k as f64,
            y = height - bh,
            w = (bw - 1.0).max(1.0),
            from = date(start),
            tx = left + bw * (*k as f64 + 0.5),
            ty = height - bh - 3.0,
        );
    }
    let xn = left + bw * ((today - first) as f64 / size as f64);
    let _ = write!(
        svg,
        "<line class=\"now\" x1=\"{xn:.1}\" x2=\"{xn:.1}\" y1=\"10\" y2=\"{height}\"/>\
         <text x=\"{xn:.1}\" y=\"{ty}\" text-anchor=\"start\">now {now}</text>\
         <text x=\"{left}\" y=\"{ty2}\" text-anchor=\"start\">{a}</text>\
         <text x=\"{right}\" y=\"{ty2}\" text-anchor=\"end\">{z}</text></svg>",
        ty = height + 14.0,
        ty2 = height + 30.0,
        now = b.now,
        right = left + width,
        a = date(first),
        z = date(last),
    );
    h.raw(&svg);
    h.el(
        "p",
        "Bars: how many certificates in force expire in each period (red: already expired), with the count above each bar. The proxies table gives each proxy's time left as text.",
    );
    h.end_section();
}

/// A section per proxy: what its row says, in full, and its drift and evidence.
fn per_proxy(h: &mut Html, b: &BundleReport) {
    h.section("each", "Each proxy");
    for p in &b.proxies {
        let id = h.id(&anchor("detail", &p.proxy));
        h.raw(&format!("<details class=\"searchable\"{id}><summary>"))
            .text(&p.proxy)
            .raw(" <span class=\"muted\">")
            .text(&format!("{:?}", p.kind).to_lowercase())
            .raw("</span></summary><dl class=\"facts\">");
        let fact = |h: &mut Html, k: &str, v: String| {
            if !v.is_empty() {
                h.el("dt", k).el("dd", &v);
            }
        };
        fact(h, "File", p.file.clone());
        fact(h, "Error", p.error.clone().unwrap_or_default());
        fact(
            h,
            "Identity",
            p.identity
                .as_ref()
                .map(|i| i.to_string())
                .unwrap_or_default(),
        );
        fact(
            h,
            "Holds",
            p.held
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        fact(
            h,
            "Certificate expires",
            p.cert_not_after.map(|t| t.to_string()).unwrap_or_default(),
        );
        fact(
            h,
            "Roots",
            p.roots
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        fact(
            h,
            "Inbound",
            p.inbound
                .iter()
                .map(|(port, m)| {
                    format!(
                        "{}: {m}",
                        port.map(|p| p.to_string()).unwrap_or_else(|| "*".into())
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        );
        fact(
            h,
            "Findings",
            format!("{} ({} warnings)", p.findings, p.warnings),
        );
        fact(h, "Sync", p.sync.clone().unwrap_or_default());
        for r in &p.drift {
            for f in &r.failures {
                fact(
                    h,
                    "Drift",
                    format!(
                        "{}: {} (expected {}, found {})",
                        r.rule, f.subject, f.expected, f.actual
                    ),
                );
            }
        }
        if let Some(e) = &p.evidence {
            fact(
                h,
                "Access log",
                format!("{} lines, {} failed", e.summary.lines, e.summary.failed),
            );
            for c in &e.causes {
                fact(
                    h,
                    "Cause",
                    format!("{} × {}: {}", c.count, c.rule, c.explanation),
                );
            }
        }
        h.raw("</dl></details>\n");
    }
    h.end_section();
}
