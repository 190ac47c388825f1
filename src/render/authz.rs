//! `authz` output: the layers per chain with their policies, the route overrides; or one
//! request's evaluation, step by step, then the decision and Envoy's answer. JSON/YAML carry
//! the same structures (docs/output-schema.md).

use std::io::Write;

use serde::Serialize;

use super::{Format, RenderError};
use crate::model::decision::{AuthzView, Evaluation, PolicyView};

/// How kubelet's probes reach the application, in words.
fn probes(p: &crate::model::intercept::KubeletProbes) -> String {
    use crate::model::intercept::KubeletProbes;
    match p {
        KubeletProbes::Rewritten {
            status_port,
            status_port_captured: false,
            why,
        } => format!("rewritten to the agent's port {status_port}, which is not redirected to the proxy: the agent probes the application over localhost, so probes pass no mTLS and no RBAC of this proxy ({why})"),
        KubeletProbes::Rewritten {
            status_port,
            why,
            ..
        } => format!("rewritten to the agent's port {status_port}, which is redirected to the proxy: probes meet its inbound chain for port {status_port} ({why})"),
        KubeletProbes::NotRewritten { why } => format!("not rewritten ({why}): kubelet connects to the application's port in plaintext from the node's address, and this proxy decides it as any plaintext caller; STRICT refuses it (evaluate a plaintext caller from the node's address to see what it gets)"),
    }
}

/// The authz view: each inbound chain's layers, policies and JWT providers.
pub fn render_view(v: &AuthzView, format: Format, w: &mut dyn Write) -> Result<(), RenderError> {
    if format == Format::Html {
        w.write_all(super::html::authz_view_page(v).as_bytes())?;
        return Ok(());
    }
    if format != Format::Table {
        return structured(v, format, w);
    }
    writeln!(w, "Source:       {}", v.source)?;
    if v.chains.is_empty() {
        writeln!(w, "\nNo filter chain has an authorization filter (RBAC, jwt_authn, ext_authz): every connection that reaches a chain is let through.")?;
    }
    for c in &v.chains {
        let port = c.port.map(|p| p.to_string()).unwrap_or_else(|| "*".into());
        let mtls = c.mtls.map(|m| format!(", {m}")).unwrap_or_default();
        writeln!(
            w,
            "\n{} port {port} chain {} ({}{mtls})",
            c.listener, c.chain, c.transport
        )?;
        if c.layers.is_empty() {
            writeln!(
                w,
                "  no authorization layer: every request on it is allowed"
            )?;
        }
        for (i, l) in c.layers.iter().enumerate() {
            writeln!(w, "  {}. {} {} — {}", i + 1, l.kind, l.filter, l.summary)?;
            policies(&l.policies, "     ", w)?;
        }
    }
    if let Some(p) = &v.kubelet_probes {
        writeln!(w, "\nKubelet probes: {}", probes(p))?;
    }
    if !v.routes.is_empty() {
        writeln!(w, "\nPer-route configuration:")?;
        for r in &v.routes {
            let at = match &r.route {
                Some(rt) => format!("{} / {} / {rt}", r.route_config, r.virtual_host),
                None if r.virtual_host.is_empty() => r.route_config.to_string(),
                None => format!("{} / {}", r.route_config, r.virtual_host),
            };
            writeln!(w, "  {at}: {} — {}", r.filter, r.summary)?;
            policies(&r.policies, "     ", w)?;
        }
    }
    Ok(())
}

fn policies(ps: &[PolicyView], indent: &str, w: &mut dyn Write) -> std::io::Result<()> {
    for p in ps {
        let role = match p.shadow {
            Some(r) => format!(" ({r}, not enforced)"),
            None => String::new(),
        };
        let from = match (&p.authorization_policy, p.rule) {
            (Some(ap), Some(n)) => format!(" = AuthorizationPolicy {ap} rule {n}"),
            (Some(ap), None) => format!(" = AuthorizationPolicy {ap}"),
            _ => String::new(),
        };
        writeln!(w, "{indent}{} {}{role}{from}", p.action, p.name)?;
        for (label, items) in [("who:  ", &p.who), ("what: ", &p.what), ("when: ", &p.when)] {
            for (i, x) in items.iter().enumerate() {
                let label = if i == 0 { label } else { "  or  " };
                writeln!(w, "{indent}  {label}{x}")?;
            }
        }
    }
    Ok(())
}

/// What a request is and who sends it, in words: `GET /x`, or `a TCP connection`; the peer's
/// identity, or how it connects without one.
pub(super) fn request_words(q: &crate::model::decision::RequestSummary) -> (String, String) {
    let who = match (&q.principal, q.tls) {
        (Some(p), _) => p.to_string(),
        (None, true) => "TLS without a client certificate".into(),
        (None, false) => "plaintext".into(),
    };
    let what = match (&q.method, &q.path) {
        (Some(m), Some(p)) => format!("{m} {p}"),
        _ => "a TCP connection".into(),
    };
    (what, who)
}

/// One request's evaluation: the decision, the policy, each step.
pub fn render_evaluation(
    e: &Evaluation,
    format: Format,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    if format == Format::Html {
        w.write_all(super::html::evaluation_page(e).as_bytes())?;
        return Ok(());
    }
    if format != Format::Table {
        return structured(e, format, w);
    }
    let q = &e.request;
    let (what, who) = request_words(q);
    let to = q
        .destination_ip
        .as_ref()
        .map(|ip| format!("{ip}:{}", q.port))
        .unwrap_or_else(|| format!("port {}", q.port));
    writeln!(w, "Request:      {what} to {to} from {who}")?;
    if let Some(rp) = &q.request_principal {
        writeln!(w, "              request principal {rp}")?;
    }
    writeln!(w, "Source:       {}", e.source)?;
    for a in &e.assumptions {
        writeln!(w, "Assuming:     {a}")?;
    }
    writeln!(w)?;
    for (i, s) in e.steps.iter().enumerate() {
        let policy = match (&s.policy, &s.authorization_policy) {
            (Some(p), Some(ap)) => format!(" [policy {p} = AuthorizationPolicy {ap}]"),
            (Some(p), None) => format!(" [policy {p}]"),
            _ => String::new(),
        };
        writeln!(
            w,
            "{}. {} {}: {}{policy}",
            i + 1,
            s.layer,
            s.name,
            s.outcome
        )?;
        writeln!(w, "   {}", s.detail)?;
    }
    writeln!(w)?;
    writeln!(w, "Decision:     {}", e.decision)?;
    if let Some(p) = &e.policy {
        writeln!(w, "Policy:       {p}")?;
    }
    if let Some(r) = &e.reason {
        writeln!(w, "Because:      {r}")?;
    }
    if e.enforcer == crate::model::decision::Enforcer::Ztunnel {
        // L4: no status, only whether the connection goes on, in ztunnel's own words.
        let what = match e.decision {
            crate::model::decision::Decision::Allow => "the connection goes to the workload",
            crate::model::decision::Decision::Unknown => "-",
            _ => "the connection is closed",
        };
        match &e.response.details {
            Some(d) => writeln!(w, "ztunnel:      {what}; it says `{d}`")?,
            None => writeln!(w, "ztunnel:      {what}")?,
        }
        return Ok(());
    }
    let details = e.response.details.clone().unwrap_or_else(|| "-".into());
    let status = e
        .response
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| match e.decision {
            crate::model::decision::Decision::Allow => "from the upstream".into(),
            _ => "-".into(),
        });
    writeln!(w, "Envoy:        status {status}, details {details}")?;
    Ok(())
}

/// A ztunnel's L4 policies (`authz` on a ztunnel dump): istioctl's columns and each policy's
/// rules; as JSON/YAML the policies themselves.
pub fn render_l4_policies(
    r: &crate::model::Report,
    workload: Option<&crate::model::ambient::AmbientWorkload>,
    format: Format,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    use crate::model::ambient::L4Policy;
    // For one workload: the policies ztunnel checks for it, in its order.
    let (list, missing): (Vec<&L4Policy>, Vec<String>) = match workload {
        Some(wl) => crate::authz::ambient::applicable(r, wl),
        None => (
            r.ambient.iter().flat_map(|a| &a.policies).collect(),
            Vec::new(),
        ),
    };
    if format == Format::Html {
        let label = workload.map(|x| x.label());
        let page = super::html::l4_page(&r.source, label.as_deref(), &list, &missing);
        w.write_all(page.as_bytes())?;
        return Ok(());
    }
    if format != Format::Table {
        #[derive(Serialize)]
        struct Doc<'a> {
            source: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            workload: Option<String>,
            policies: Vec<&'a L4Policy>,
            /// Keys the workload names that the dump does not hold.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            missing: Vec<String>,
        }
        let doc = Doc {
            source: &r.source,
            workload: workload.map(|x| x.label()),
            policies: list,
            missing,
        };
        return structured(&doc, format, w);
    }
    writeln!(w, "Source:       {}", r.source)?;
    if let Some(x) = workload {
        writeln!(w, "Workload:     {} ({})", x.label(), x.protocol)?;
    }
    for key in &missing {
        writeln!(
            w,
            "Missing:      {key}, named by the workload, is not in the dump (ztunnel skips it)"
        )?;
    }
    if workload.is_some_and(|x| x.protocol != crate::model::ambient::TunnelProtocol::Hbone) {
        writeln!(w, "\nNot in the ambient mesh: ztunnel does not intercept its inbound connections, and no policy of its applies.")?;
        return Ok(());
    }
    if list.is_empty() {
        let whom = if workload.is_some() { " to it" } else { "" };
        writeln!(
            w,
            "\nNo authorization policy applies: ztunnel allows every connection{whom}."
        )?;
        return Ok(());
    }
    writeln!(w)?;
    super::ambient::policies(&list).write(w)?;
    Ok(())
}

fn structured<T: Serialize>(v: &T, format: Format, w: &mut dyn Write) -> Result<(), RenderError> {
    let doc = format.doc().unwrap_or(super::document::Doc::Json);
    super::document::write(v, doc, w)
}
