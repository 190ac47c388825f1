//! The report's head, as `envinspect DUMP` prints it: who the proxy is (identities and where they
//! are presented), whom it trusts, its outbound and inbound policy, what guards each port, the
//! section counts; then every table.

use std::io::{self, Write};

use super::table::Table;
use super::views;
use crate::model::Report;

pub(super) fn report(
    r: &Report,
    color: super::Color,
    redacted: bool,
    w: &mut dyn Write,
) -> io::Result<()> {
    writeln!(w, "Source:       {} ({})", r.source, r.document.label())?;
    if let Some(n) = &r.node {
        if n.id.is_empty() {
            writeln!(w, "Node:         (no id)")?;
        } else {
            writeln!(w, "Node:         {}", n.id)?;
        }
        let mut facts = Vec::new();
        if let Some(c) = &n.cluster {
            facts.push(format!("cluster {c}"));
        }
        if let Some(t) = &n.proxy_type {
            facts.push(format!("type {t}"));
        }
        if let Some(v) = &n.istio_version {
            facts.push(format!("Istio {v}"));
        }
        if let Some(v) = &n.envoy_version {
            facts.push(format!("Envoy {v}"));
        }
        if !facts.is_empty() {
            writeln!(w, "              {}", facts.join(", "))?;
        }
    }
    match &r.identity {
        Some(id) => {
            writeln!(w, "Identity:     {}", who(id))?;
            let from = (!id.secret.is_empty()).then(|| format!("from secret {}", id.secret));
            let td = id
                .trust_domain
                .as_ref()
                .map(|td| format!("trust domain {td}"));
            let facts: Vec<String> = td.into_iter().chain(from).collect();
            if !facts.is_empty() {
                writeln!(w, "              {}", facts.join(", "))?;
            }
            if id.basis != crate::model::IdentityBasis::Unreferenced {
                writeln!(w, "              {}", uses(id))?;
            }
            if let (Some(serial), Some(na)) = (&id.serial, &id.not_after) {
                let state = if id.valid_now { "valid" } else { "NOT VALID" };
                writeln!(
                    w,
                    "              serial {serial}, not after {na} ({state} at {})",
                    r.now
                )?;
            }
            if let Some(p) = &id.problem {
                writeln!(w, "              {p}")?;
            }
            let others: Vec<_> = r.identities.iter().filter(|o| *o != id).collect();
            if !others.is_empty() {
                writeln!(w, "Other identities:")?;
                for o in others {
                    let problem = o
                        .problem
                        .as_deref()
                        .map(|p| format!("; {p}"))
                        .unwrap_or_default();
                    let held = if o.secret.is_empty() {
                        String::new()
                    } else {
                        format!(" in {}", o.secret)
                    };
                    writeln!(w, "  - {}{held}: {}{problem}", who(o), uses(o))?;
                }
            }
        }
        None => {
            writeln!(
                w,
                "Identity:     none (no workload certificate in this document)"
            )?;
            for o in &r.identities {
                writeln!(w, "              {} ({}): {}", who(o), o.basis, uses(o))?;
            }
        }
    }
    let (mesh, external) = (r.mesh_roots(), r.external_roots());
    let list = |roots: &crate::model::report::Roots| {
        let mut v: Vec<String> = roots
            .values()
            .map(|(from, subject)| format!("{subject} from {from}"))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    if !r.trusted_roots().is_empty() {
        if mesh.is_empty() {
            writeln!(w, "Trust:        no mesh roots")?;
        } else {
            writeln!(w, "Trust:        mesh roots: {}", list(&mesh).join("; "))?;
        }
        if !external.is_empty() {
            writeln!(
                w,
                "              external CAs (TLS to hosts outside the mesh): {}",
                list(&external).join("; ")
            )?;
        }
        let cp = r.control_plane_roots();
        if !cp.is_empty() {
            writeln!(
                w,
                "              control-plane CAs: {}",
                list(&cp).join("; ")
            )?;
        }
    }
    writeln!(w, "Outbound:     {}", r.outbound.mode)?;
    for e in &r.outbound.evidence {
        writeln!(w, "              - {e}")?;
    }
    if r.inbound.is_empty() {
        writeln!(
            w,
            "Inbound mTLS: n/a (no inbound listener: none has traffic_direction INBOUND or terminates TLS)"
        )?;
    } else {
        writeln!(w, "Inbound mTLS:")?;
        let mut t = Table::new(&["  LISTENER", "PORT", "MODE", "CLIENT CERT", "CHAINS"]);
        for p in &r.inbound {
            let port = p.port.map(|p| p.to_string()).unwrap_or_else(|| "*".into());
            let kinds: std::collections::BTreeSet<_> =
                p.by_server_name.iter().map(|s| s.tls).collect();
            let cc = if p.mode == crate::model::MtlsMode::Disable {
                ""
            } else if kinds.len() > 1 {
                "per server name"
            } else if p.client_cert_required {
                "required"
            } else if p.client_cert_verified {
                "optional"
            } else {
                "not asked"
            };
            t.row(vec![
                format!("  {}", p.listener),
                port,
                p.mode.to_string(),
                cc.into(),
                p.chains.to_string(),
            ]);
            if kinds.len() > 1 {
                for s in &p.by_server_name {
                    let names = if s.server_names.is_empty() {
                        "any other name".to_string()
                    } else {
                        s.server_names.join(", ")
                    };
                    t.row(vec![
                        format!("    {}", super::explain::clean(&names)),
                        String::new(),
                        s.tls.to_string(),
                        String::new(),
                        String::new(),
                    ]);
                }
            }
        }
        t.write(w)?;
    }
    if !r.authz.is_empty() {
        writeln!(w, "Authorization:")?;
        let mut t = Table::new(&[
            "  LISTENER",
            "PORT",
            "LAYERS (in order; RBAC action and policy count)",
        ]);
        for a in &r.authz {
            let port = a.port.map(|p| p.to_string()).unwrap_or_else(|| "*".into());
            t.row(vec![format!("  {}", a.listener), port, a.summary.clone()]);
        }
        t.write(w)?;
    }
    if let Some(logs) = crate::evidence::logging_summary(r) {
        writeln!(w, "Access logs:  {}", super::explain::clean(&logs))?;
    }
    writeln!(w, "Sections:")?;
    let c = &r.counts;
    let mut t = Table::new(&["  SECTION", "STATIC", "ACTIVE", "WARMING", "DRAINING"]);
    for (name, counts) in [
        ("clusters", c.clusters),
        ("listeners", c.listeners),
        ("routes", c.routes),
        ("endpoints", c.endpoints),
        ("secrets", c.secrets),
    ] {
        if let Some(k) = counts {
            t.row(vec![
                format!("  {name}"),
                k.static_.to_string(),
                k.active.to_string(),
                k.warming.to_string(),
                k.draining.to_string(),
            ]);
        }
    }
    if t.is_empty() {
        writeln!(w, "  (none)")?;
    } else {
        t.write(w)?;
    }
    for (title, table) in [
        ("CLUSTERS", views::clusters(r)),
        ("LISTENERS", views::listeners(r)),
        ("ROUTES", views::routes(r)),
        ("ENDPOINTS", views::endpoints(r)),
        ("SECRETS", views::secrets(r, redacted)),
    ] {
        if !table.is_empty() {
            writeln!(w, "\n{title}")?;
            table.write(w)?;
        }
    }
    views::missing(r, w)?;
    views::findings(r, color, w)?;
    views::warnings(r, w, false)
}

/// An identity's name: its SPIFFE ID, else its DNS SANs (OSM), else `unknown`.
fn who(id: &crate::model::WorkloadIdentity) -> String {
    match (&id.spiffe_id, id.dns_names.as_slice()) {
        (Some(s), _) => s.to_string(),
        (None, []) => "unknown".into(),
        (None, names) => format!("{} (DNS SAN, no SPIFFE ID)", names.join(", ")),
    }
}

/// `presented as server on listener X chain Y and as client on 12 clusters`.
fn uses(id: &crate::model::WorkloadIdentity) -> String {
    let list = |items: &[String], what: &str| match items {
        [] => None,
        [one] => Some(one.clone()),
        [a, b] => Some(format!("{a} and {b}")),
        many => Some(format!("{} {what}s ({}, …)", many.len(), many[0])),
    };
    let server = list(&id.server, "listener chain").map(|s| format!("as server on {s}"));
    let to = if id.basis == crate::model::IdentityBasis::ControlPlane {
        "to the control plane"
    } else {
        "as client"
    };
    let client = list(&id.client, "cluster").map(|s| format!("{to} on {s}"));
    match (server, client) {
        (Some(s), Some(c)) => format!("presented {s} and {c}"),
        (Some(x), None) | (None, Some(x)) => format!("presented {x}"),
        (None, None) => format!("not presented ({})", id.basis),
    }
}
