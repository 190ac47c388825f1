//! Certificates as pictures: each secret's chain drawn leaf → intermediates → root with the
//! verdict on every link, and one timeline of every certificate's validity with the judging
//! time (`--now`) and the expiry-warning threshold marked. The table beside them is the
//! pictures' text alternative.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::report::marker;
use super::{anchor, esc, Html};
use crate::model::cert::{ChainVerdict, SecretKind};
use crate::model::{Finding, Report, Timestamp};
use crate::render::table::Table;

/// The certificates section of a page: chains, the timeline, the table.
pub(super) fn certificates(
    h: &mut Html,
    r: &Report,
    redacted: bool,
    flagged: &BTreeMap<String, Vec<&Finding>>,
) {
    h.section("certificates", "Certificates");
    if r.secrets.is_empty() {
        h.el("p", "The document holds no certificates.");
        h.end_section();
        return;
    }
    h.raw("<h3>Chains</h3>");
    for s in &r.secrets {
        chain(h, s, flagged);
    }
    h.raw("<h3>Validity</h3>");
    let bars: Vec<Bar> = r
        .secrets
        .iter()
        .flat_map(|s| {
            s.certificates.iter().filter_map(move |c| {
                Some(Bar {
                    label: format!("{}: {}", s.name, short(&c.subject)),
                    from: c.not_before?,
                    to: c.not_after?,
                })
            })
        })
        .collect();
    timeline(h, &bars, r.now, r.expiry_warning.seconds(), redacted);
    let mut t = Table::new(&[
        "SECRET",
        "STATE",
        "SUBJECT",
        "ISSUER",
        "SPIFFE ID",
        "NOT AFTER",
        "TIME LEFT",
        "CA",
    ]);
    for s in &r.secrets {
        for c in &s.certificates {
            t.row(vec![
                s.name.to_string(),
                s.state.to_string(),
                c.subject.clone(),
                c.issuer.clone(),
                c.spiffe_ids
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                c.not_after.map(|t| t.to_string()).unwrap_or_default(),
                time_left(c.seconds_left),
                if c.is_ca { "yes" } else { "" }.to_string(),
            ]);
        }
    }
    h.table("Certificates", &t, None, None);
    h.end_section();
}

/// A subject's CN when it has one, else the whole subject.
fn short(subject: &str) -> String {
    subject
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("CN="))
        .unwrap_or(subject)
        .to_string()
}

fn time_left(seconds: i64) -> String {
    if seconds < 0 {
        "EXPIRED".to_string()
    } else {
        crate::model::Span::from_seconds(seconds).to_string()
    }
}

/// One secret's chain: leaf first, each link's verdict, then the root it ends at.
fn chain(h: &mut Html, s: &crate::model::Secret, flagged: &BTreeMap<String, Vec<&Finding>>) {
    let a = anchor("secret", s.name.as_str());
    let id = h.id(&a);
    h.raw(&format!("<div class=\"searchable\"{id}><p><strong>"))
        .text(&s.label())
        .raw("</strong> <span class=\"muted\">")
        .text(&format!("{} · {}", s.state, s.kind))
        .raw("</span>");
    marker(h, flagged, &a);
    h.raw("</p>");
    if s.certificates.is_empty() {
        h.el("p", "No certificate in it.");
        h.raw("</div>");
        return;
    }
    let broken = match &s.chain {
        ChainVerdict::Broken { link, reason, .. } => Some((*link, reason.as_str())),
        _ => None,
    };
    let is_chain = s.kind == SecretKind::CertChain;
    let label = if is_chain {
        "Chain, leaf first"
    } else {
        "Certificates"
    };
    h.raw(&format!(
        "<div class=\"chain\" role=\"list\" aria-label=\"{}\">",
        esc(label)
    ));
    for (i, c) in s.certificates.iter().enumerate() {
        if i > 0 && is_chain {
            let (mark, class, why) = match broken {
                Some((l, reason)) if l == i - 1 => ("✗ broken", "bad", reason.to_string()),
                Some((l, _)) if l < i - 1 => ("– not checked", "muted", String::new()),
                _ if matches!(s.chain, ChainVerdict::NotApplicable) => {
                    ("→", "muted", String::new())
                }
                _ => ("✓ signs", "good", String::new()),
            };
            h.raw(&format!(
                "<span class=\"verdict {class}\" role=\"listitem\" title=\"{}\">",
                esc(&why)
            ))
            .text(&format!("← {mark}"))
            .raw("</span>");
        }
        let expired = c.seconds_left < 0;
        h.raw(&format!(
            "<div class=\"cert{}\" role=\"listitem\">",
            if expired { " bad" } else { "" }
        ))
        .raw("<div><span class=\"kind muted\">")
        .text(if c.is_ca { "CA" } else { "leaf" })
        .raw("</span> ")
        .text(&short(&c.subject))
        .raw("</div><div class=\"muted\">")
        .text(&format!(
            "until {} ({})",
            c.not_after
                .map(|t| t.to_string())
                .unwrap_or_else(|| "unknown".into()),
            time_left(c.seconds_left)
        ))
        .raw("</div>");
        if let Some(id) = c.spiffe_ids.first() {
            h.raw("<div>").text(&id.to_string()).raw("</div>");
        }
        h.raw("</div>");
    }
    if is_chain {
        let (text, class) = match &s.chain {
            ChainVerdict::Valid { root } => (format!("← ✓ root {}", short(root)), "good"),
            ChainVerdict::Broken { reason, .. } => (format!("✗ {reason}"), "bad"),
            ChainVerdict::Untrusted { issuer, .. } => {
                (format!("← ✗ no trusted root for {}", short(issuer)), "bad")
            }
            ChainVerdict::NoRoots => ("? no roots to verify against".to_string(), "warn"),
            _ => (String::new(), "muted"),
        };
        if !text.is_empty() {
            h.raw(&format!(
                "<span class=\"verdict {class}\" role=\"listitem\">"
            ))
            .text(&text)
            .raw("</span>");
        }
    }
    h.raw("</div></div>\n");
}

/// One bar of a timeline: a label, and from when to when.
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) from: Timestamp,
    pub(super) to: Timestamp,
}

/// An SVG timeline of `bars`, with `now` and `now + warning` marked. Redacted pages draw no
/// dates (they would quote what `--redact` hides) and say so.
pub(super) fn timeline(h: &mut Html, bars: &[Bar], now: Timestamp, warning: i64, redacted: bool) {
    if redacted {
        h.el(
            "p",
            "Dates are redacted (--redact): the timeline is not drawn.",
        );
        return;
    }
    if bars.is_empty() {
        h.el("p", "No certificate with known dates.");
        return;
    }
    let lo = bars.iter().map(|b| b.from).min().unwrap_or(now).min(now);
    let hi = bars
        .iter()
        .map(|b| b.to)
        .max()
        .unwrap_or(now)
        .max(now)
        .get()
        .max(now.get() + time::Duration::seconds(warning));
    let span = (hi - lo.get()).whole_seconds().max(1) as f64;
    let (left, width, row) = (260.0, 640.0, 18.0);
    let x = |t: time::OffsetDateTime| left + width * ((t - lo.get()).whole_seconds() as f64 / span);
    let height = 40.0 + row * bars.len() as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"timeline\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-labelledby=\"tl-title\">\
         <title id=\"tl-title\">Validity of {n} certificate(s) from {lo} to {hi}; now {now}; \
         expiry warning below {warn}</title>",
        w = left + width + 10.0,
        n = bars.len(),
        lo = lo,
        hi = Timestamp::from(hi),
        now = now,
        warn = crate::model::Span::from_seconds(warning),
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let (x0, x1) = (x(b.from.get()), x(b.to.get()));
        let class = if b.to < now {
            "bar expired"
        } else if now.seconds_until(b.to) < warning {
            "bar soon"
        } else {
            "bar"
        };
        let _ = write!(
            svg,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\
             <rect class=\"{class}\" x=\"{x0:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{hh}\">\
             <title>{label}: {from} to {to}</title></rect>",
            tx = left - 6.0,
            ty = y + row * 0.65,
            label = esc(&clip(&b.label, 40)),
            w = (x1 - x0).max(1.0),
            hh = row - 5.0,
            from = b.from,
            to = b.to,
        );
    }
    let (xn, xw) = (
        x(now.get()),
        x(now.get() + time::Duration::seconds(warning)),
    );
    let _ = write!(
        svg,
        "<line class=\"now\" x1=\"{xn:.1}\" x2=\"{xn:.1}\" y1=\"14\" y2=\"{height}\"/>\
         <text x=\"{xn:.1}\" y=\"11\" text-anchor=\"middle\">now {now}</text>\
         <line class=\"threshold\" x1=\"{xw:.1}\" x2=\"{xw:.1}\" y1=\"24\" y2=\"{height}\"><title>expiry warning: {warn}</title></line>\
         <text x=\"{xw:.1}\" y=\"24\" text-anchor=\"start\">+{warn}</text></svg>",
        warn = crate::model::Span::from_seconds(warning),
    );
    h.raw(&svg);
    h.el(
        "p",
        "Bars: each certificate's validity (red: expired; amber: expires before the warning threshold). The solid line is the time judged at, the dashed one the warning threshold. The table below gives the same dates as text.",
    );
}

/// At most `n` characters, with an ellipsis.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}
