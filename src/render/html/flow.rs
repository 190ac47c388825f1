//! Paths as diagrams: a trace's steps (listener → filter chain → route → cluster…) and an
//! authorization's layers, drawn left to right as an ordered list of boxes, each with its
//! decision in word and colour, then the outcome; and the authz view's layers per chain. The
//! ordered list is its own text alternative: a screen reader or a printer reads the steps.

use super::Html;
use crate::model::decision::{AuthzView, Decision, Evaluation, StepOutcome};
use crate::model::trace::Trace;
use crate::render::table::Table;

/// The page of a trace (with its authorization and alternatives).
pub(crate) fn trace_page(t: &Trace) -> String {
    let mut h = Html::new();
    trace_section(&mut h, t, 0);
    h.finish(&format!(
        "Trace {} {}: {}",
        t.direction.as_lowercase(),
        t.target,
        t.source
    ))
}

fn trace_section(h: &mut Html, t: &Trace, n: usize) {
    let title = if n == 0 {
        format!("Path of {} {}", t.direction.as_lowercase(), t.target)
    } else {
        format!("Or, for the next address ({n})")
    };
    h.section(&format!("trace-{n}"), &title);
    h.raw("<dl class=\"facts\">");
    h.el("dt", "Source").el("dd", &t.source);
    for a in &t.assumptions {
        h.el("dt", "Assuming").el("dd", a);
    }
    h.raw("</dl><ol class=\"flow\" aria-label=\"the path, in order\">");
    for s in &t.steps {
        h.raw("<li class=\"step searchable\"><span class=\"kind\">")
            .text(s.kind.as_str())
            .raw("</span><strong>")
            .text(if s.name.is_empty() {
                "(unnamed)"
            } else {
                &s.name
            })
            .raw("</strong><span class=\"detail\">")
            .text(&s.detail)
            .raw("</span>");
        if !s.choices.is_empty() {
            let c: Vec<String> = s
                .choices
                .iter()
                .map(|c| format!("{} (weight {})", c.cluster, c.weight))
                .collect();
            h.raw("<span class=\"detail\">")
                .text(&c.join(", "))
                .raw("</span>");
        }
        if !s.produced_by.is_empty() {
            h.raw("<span class=\"detail muted\">produced by ")
                .text(&crate::model::provenance::phrase(&s.produced_by))
                .raw("</span>");
        }
        for e in &s.evidence {
            h.raw("<code>").text(e.as_str()).raw("</code>");
        }
        h.raw("</li>");
    }
    let o = &t.outcome;
    let class = outcome_class(o.kind.as_str());
    h.raw(&format!(
        "<li class=\"step outcome {class}\"><span class=\"kind\">outcome</span><strong>"
    ))
    .text(o.kind.as_str())
    .raw("</strong><span class=\"detail\">")
    .text(&o.summary)
    .raw("</span>");
    if let Some(r) = &o.response {
        let flags = if r.flags.is_empty() {
            String::new()
        } else {
            format!(", flag {}", r.flags)
        };
        h.raw("<span class=\"detail\">")
            .text(&format!("HTTP {}{flags}, {}", r.status, r.details))
            .raw("</span>");
    }
    h.raw("</li></ol>");
    if !o.clients.is_empty() || !o.advice.is_empty() {
        h.raw("<dl class=\"facts\">");
        for c in &o.clients {
            h.el("dt", &format!("{} client", c.client))
                .el("dd", &c.sees);
        }
        if !o.advice.is_empty() {
            h.el("dt", "Meaning").el("dd", &o.advice);
        }
        h.raw("</dl>");
    }
    if let Some(e) = &t.authorization {
        h.raw("<h3>Authorization of the request</h3>");
        evaluation_body(h, e);
    }
    h.end_section();
    for (i, a) in t.alternatives.iter().enumerate() {
        trace_section(h, a, n + i + 1);
    }
}

/// Colours an outcome by what it means for traffic; its word is always shown beside.
fn outcome_class(kind: &str) -> &'static str {
    match kind {
        "no-route"
        | "no-cluster"
        | "no-healthy-upstream"
        | "blackhole"
        | "handshake-fails"
        | "tls-into-http-chain"
        | "refused" => "bad",
        "cannot-tell" | "not-captured" => "warn",
        _ => "good",
    }
}

/// The page of one request's evaluation.
pub(crate) fn evaluation_page(e: &Evaluation) -> String {
    let mut h = Html::new();
    h.section("evaluation", "Would this request pass?");
    evaluation_body(&mut h, e);
    h.end_section();
    h.finish(&format!("Authorization: {}", e.source))
}

fn evaluation_body(h: &mut Html, e: &Evaluation) {
    let q = &e.request;
    let (what, who) = crate::render::authz::request_words(q);
    h.raw("<dl class=\"facts\">");
    h.el("dt", "Request")
        .el("dd", &format!("{what} to port {} from {who}", q.port));
    if let Some(rp) = &q.request_principal {
        h.el("dt", "Request principal").el("dd", &rp.to_string());
    }
    h.el("dt", "Source").el("dd", &e.source);
    for a in &e.assumptions {
        h.el("dt", "Assuming").el("dd", a);
    }
    h.raw("</dl><ol class=\"flow\" aria-label=\"the layers, in order\">");
    for s in &e.steps {
        let class = match s.outcome {
            StepOutcome::Denied | StepOutcome::Unauthenticated | StepOutcome::Rejected => "bad",
            StepOutcome::Unknown => "warn",
            StepOutcome::Continue => "good",
            _ => "muted",
        };
        h.raw("<li class=\"step searchable\"><span class=\"kind\">")
            .text(s.layer.as_str())
            .raw("</span><strong>")
            .text(&s.name)
            .raw(&format!("</strong><span class=\"decision {class}\">"))
            .text(&s.outcome.to_string())
            .raw("</span><span class=\"detail\">")
            .text(&s.detail)
            .raw("</span>");
        if let Some(p) = &s.policy {
            let ap = s
                .authorization_policy
                .as_ref()
                .map(|a| format!(" (AuthorizationPolicy {a})"))
                .unwrap_or_default();
            h.raw("<span class=\"detail\">policy ")
                .text(&format!("{p}{ap}"))
                .raw("</span>");
        }
        h.raw("</li>");
    }
    let class = match e.decision {
        Decision::Allow => "good",
        Decision::Unknown => "warn",
        _ => "bad",
    };
    h.raw(&format!(
        "<li class=\"step outcome {class}\"><span class=\"kind\">decision</span><strong>"
    ))
    .text(&e.decision.to_string())
    .raw("</strong>");
    if let Some(p) = &e.policy {
        h.raw("<span class=\"detail\">policy ")
            .text(p)
            .raw("</span>");
    }
    if let Some(r) = &e.reason {
        h.raw("<span class=\"detail\">because ")
            .text(&r.to_string())
            .raw("</span>");
    }
    let status = e
        .response
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "-".into());
    let details = e.response.details.clone().unwrap_or_else(|| "-".into());
    h.raw("<span class=\"detail\">")
        .text(&format!("status {status}, details {details}"))
        .raw("</span></li></ol>");
}

/// The page of the authz view: per chain, its layers in the order Envoy runs them.
pub(crate) fn authz_view_page(v: &AuthzView) -> String {
    let mut h = Html::new();
    h.section("chains", "Who may call: each chain's authorization layers");
    h.raw("<dl class=\"facts\">");
    h.el("dt", "Source").el("dd", &v.source);
    if let Some(k) = &v.kubelet_probes {
        h.el("dt", "Kubelet probes").el("dd", &format!("{k:?}"));
    }
    h.raw("</dl>");
    if v.chains.is_empty() {
        h.el("p", "No inbound chain.");
    }
    for c in &v.chains {
        h.raw("<h3>")
            .text(&format!(
                "{} · chain {} · port {} · {}{}",
                c.listener,
                c.chain,
                c.port.map(|p| p.to_string()).unwrap_or_else(|| "*".into()),
                c.transport,
                c.mtls.map(|m| format!(" ({m})")).unwrap_or_default()
            ))
            .raw("</h3><ol class=\"flow\" aria-label=\"the layers, in order\">");
        if c.layers.is_empty() {
            h.raw("<li class=\"step warn\"><strong>no authorization filter</strong><span class=\"detail\">every request the chain takes passes</span></li>");
        }
        for l in &c.layers {
            h.raw("<li class=\"step searchable\"><span class=\"kind\">")
                .text(&format!("{} {:?}", l.kind, l.level).to_lowercase())
                .raw("</span><strong>")
                .text(&l.filter)
                .raw("</strong>");
            if let Some(a) = l.action {
                h.raw("<span class=\"decision\">")
                    .text(&a.to_string())
                    .raw("</span>");
            }
            h.raw("<span class=\"detail\">")
                .text(&l.summary)
                .raw("</span></li>");
        }
        h.raw("</ol>");
        let mut t = Table::new(&[
            "FILTER", "POLICY", "ACTION", "ENFORCED", "WHO", "WHAT", "WHEN",
        ]);
        for l in &c.layers {
            for p in &l.policies {
                t.row(vec![
                    l.filter.clone(),
                    p.name.clone(),
                    p.action.to_string(),
                    if p.enforced { "yes" } else { "no (shadow)" }.to_string(),
                    p.who.join("; "),
                    p.what.join("; "),
                    p.when.join("; "),
                ]);
            }
        }
        if !t.is_empty() {
            h.table("Policies", &t, None, None);
        }
    }
    h.end_section();
    if !v.routes.is_empty() {
        h.section("routes", "Routes that override a filter");
        let mut t = Table::new(&[
            "ROUTE CONFIG",
            "VIRTUAL HOST",
            "ROUTE",
            "FILTER",
            "OVERRIDE",
        ]);
        for r in &v.routes {
            t.row(vec![
                r.route_config.to_string(),
                r.virtual_host.clone(),
                r.route.clone().unwrap_or_default(),
                r.filter.clone(),
                r.summary.clone(),
            ]);
        }
        h.table("Route overrides", &t, None, None);
        h.end_section();
    }
    h.finish(&format!("Authorization: {}", v.source))
}

/// The page of a ztunnel's L4 policies (all, or those one workload is checked against).
pub(crate) fn l4_page(
    source: &str,
    workload: Option<&str>,
    list: &[&crate::model::ambient::L4Policy],
    missing: &[String],
) -> String {
    let mut h = Html::new();
    h.section("policies", "ztunnel's authorization policies");
    h.raw("<dl class=\"facts\">");
    h.el("dt", "Source").el("dd", source);
    if let Some(w) = workload {
        h.el("dt", "Workload").el("dd", w);
    }
    for key in missing {
        h.el("dt", "Missing").el(
            "dd",
            &format!("{key}, named by the workload, is not in the dump (ztunnel skips it)"),
        );
    }
    h.raw("</dl>");
    if list.is_empty() {
        h.el(
            "p",
            "No authorization policy applies: ztunnel allows every connection.",
        );
    } else {
        let t = crate::render::ambient::policies(list);
        h.table("Policies, in the order ztunnel checks them", &t, None, None);
    }
    h.end_section();
    h.finish(&format!("ztunnel policies: {source}"))
}
