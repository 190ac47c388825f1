//! The tables of a ztunnel (Istio ambient) dump: the report's head (identities held, what the
//! node serves, policies), and the `workloads`, `services` and policy views. Columns follow
//! `istioctl ztunnel-config` where it has them, so the two can be compared.

use std::io::{self, Write};

use super::table::Table;
use super::views;
use crate::model::ambient::{Ambient, L4Match, L4Policy, TunnelProtocol};
use crate::model::{Report, SecretKind, SecretState};

pub(super) fn report(
    r: &Report,
    color: super::Color,
    redacted: bool,
    w: &mut dyn Write,
) -> io::Result<()> {
    let empty = Ambient::default();
    let a = r.ambient.as_ref().unwrap_or(&empty);
    writeln!(w, "Source:       {} ({})", r.source, r.document.label())?;
    let mut build = Vec::new();
    if let Some(v) = &a.version {
        build.push(format!("ztunnel {v}"));
    }
    if let Some(g) = &a.git_revision {
        build.push(format!("git {g}"));
    }
    if let Some(i) = &a.istio_version {
        build.push(format!("Istio {i}"));
    }
    if !build.is_empty() {
        writeln!(w, "              {}", build.join(", "))?;
    }
    if let Some(n) = &a.node {
        let mode = a
            .proxy_mode
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        writeln!(w, "Node:         {n}{mode}")?;
    }
    let links: Vec<String> = [("CA", &a.ca_address), ("xDS", &a.xds_address)]
        .into_iter()
        .filter_map(|(what, at)| at.as_ref().map(|at| format!("{what} {at}")))
        .collect();
    if !links.is_empty() {
        writeln!(w, "Talks to:     {}", links.join(", "))?;
    }
    let held: Vec<_> = r
        .secrets
        .iter()
        .filter(|s| s.kind != SecretKind::Ca)
        .collect();
    let n = |st: SecretState| held.iter().filter(|s| s.state == st).count();
    writeln!(
        w,
        "Identities:   {} held: {} available, {} initializing, {} unavailable",
        held.len(),
        n(SecretState::Active),
        n(SecretState::Initializing),
        n(SecretState::Unavailable)
    )?;
    let roots: Vec<String> = r
        .trusted_roots()
        .into_values()
        .map(|(secret, subject)| format!("{subject} (in {secret})"))
        .collect();
    if !roots.is_empty() {
        writeln!(w, "Trusts:       {}", roots.join("; "))?;
    }
    let hbone = a
        .workloads
        .iter()
        .filter(|w| w.protocol == TunnelProtocol::Hbone)
        .count();
    let mut nodes: Vec<&str> = a.workloads.iter().map(|w| w.node.as_str()).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let local = a.node.as_ref().map(|n| {
        let here = a.workloads.iter().filter(|w| &w.node == n).count();
        format!("; {here} on its node")
    });
    writeln!(
        w,
        "Workloads:    {} known ({hbone} in the mesh over HBONE), on {} node(s){}",
        a.workloads.len(),
        nodes.len(),
        local.unwrap_or_default()
    )?;
    writeln!(w, "Services:     {}", a.services.len())?;
    let deny = a
        .policies
        .iter()
        .filter(|p| p.action == crate::model::ambient::L4Action::Deny)
        .count();
    writeln!(
        w,
        "Policies:     {} ({} ALLOW, {deny} DENY)",
        a.policies.len(),
        a.policies.len() - deny
    )?;
    writeln!(w, "\nSECRETS")?;
    views::secrets(r, redacted).write(w)?;
    writeln!(w, "\nWORKLOADS")?;
    workloads(r).write(w)?;
    writeln!(w, "\nSERVICES")?;
    services(r).write(w)?;
    if !a.policies.is_empty() {
        writeln!(w, "\nPOLICIES")?;
        policies(&a.policies.iter().collect::<Vec<_>>()).write(w)?;
    }
    if !a.connections.is_empty() {
        writeln!(w, "\nCONNECTIONS")?;
        connections(r).write(w)?;
    }
    views::findings(r, color, w)?;
    views::warnings(r, w, false)
}

fn ambient(r: &Report) -> &[crate::model::ambient::AmbientWorkload] {
    r.ambient.as_ref().map_or(&[], |a| &a.workloads)
}

/// istioctl's columns (`ztunnel-config workloads`), then the identity.
pub(crate) fn workloads(r: &Report) -> Table {
    let mut t = Table::new(&[
        "NAMESPACE",
        "POD NAME",
        "ADDRESS",
        "NODE",
        "WAYPOINT",
        "PROTOCOL",
        "IDENTITY",
    ]);
    for wl in ambient(r) {
        t.row(vec![
            wl.namespace.clone(),
            wl.name.clone(),
            wl.addresses
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            wl.node.clone(),
            wl.waypoint
                .as_ref()
                .map_or("None".to_string(), |w| w.name().to_string()),
            wl.protocol.to_string(),
            wl.identity
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ]);
    }
    t
}

pub(crate) fn services(r: &Report) -> Table {
    let mut t = Table::new(&[
        "NAMESPACE",
        "SERVICE NAME",
        "SERVICE VIP",
        "WAYPOINT",
        "ENDPOINTS",
        "PORTS",
    ]);
    for s in r.ambient.iter().flat_map(|a| &a.services) {
        let ports: Vec<String> = s
            .ports
            .iter()
            .map(|(p, t)| {
                if p == t {
                    p.to_string()
                } else {
                    format!("{p}->{t}")
                }
            })
            .collect();
        t.row(vec![
            s.namespace.clone(),
            s.name.clone(),
            s.vip().to_string(),
            s.waypoint
                .as_ref()
                .map_or("None".to_string(), |w| w.name().to_string()),
            format!("{}/{}", s.healthy_endpoints, s.endpoints),
            ports.join(","),
        ]);
    }
    t
}

/// istioctl's columns (`ztunnel-config policies`), then what each rule asks.
pub(crate) fn policies(list: &[&L4Policy]) -> Table {
    let mut t = Table::new(&["NAMESPACE", "POLICY NAME", "ACTION", "SCOPE", "RULES"]);
    for p in list {
        let action = if p.dry_run {
            format!("{} (dry run)", p.action)
        } else {
            p.action.to_string()
        };
        t.row(vec![
            p.namespace.clone(),
            p.name.clone(),
            action,
            p.scope.to_string(),
            rules(p),
        ]);
    }
    t
}

/// The rules in one line: `;` between rules, `and` between clauses, `or` between match groups.
pub(crate) fn rules(p: &L4Policy) -> String {
    if p.rules.is_empty() {
        return "(none: matches nothing)".into();
    }
    let rule = |clauses: &Vec<Vec<L4Match>>| {
        if clauses.is_empty() {
            return "any connection".to_string();
        }
        clauses
            .iter()
            .map(|c| {
                let groups: Vec<String> = c.iter().map(group).collect();
                match groups.len() {
                    0 => "any connection".to_string(),
                    1 => groups[0].clone(),
                    _ => format!("({})", groups.join(" or ")),
                }
            })
            .collect::<Vec<_>>()
            .join(" and ")
    };
    p.rules.iter().map(rule).collect::<Vec<_>>().join("; ")
}

fn group(m: &L4Match) -> String {
    if m.is_empty() {
        return "nothing (an empty match)".into();
    }
    let mut parts = Vec::new();
    let mut list = |name: &str, v: Vec<String>| {
        if !v.is_empty() {
            parts.push(format!("{name}={}", v.join("|")));
        }
    };
    let s =
        |v: &[crate::model::ambient::L4StringMatch]| v.iter().map(ToString::to_string).collect();
    let sa = |v: &[crate::model::ambient::ServiceAccountMatch]| {
        v.iter()
            .map(|x| format!("{}/{}", x.namespace, x.service_account))
            .collect()
    };
    let ips = |v: &[crate::model::ids::Cidr]| v.iter().map(ToString::to_string).collect();
    let ports = |v: &[u16]| v.iter().map(ToString::to_string).collect();
    list("principals", s(&m.principals));
    list("not_principals", s(&m.not_principals));
    list("namespaces", s(&m.namespaces));
    list("not_namespaces", s(&m.not_namespaces));
    list("service_accounts", sa(&m.service_accounts));
    list("not_service_accounts", sa(&m.not_service_accounts));
    list("source_ips", ips(&m.source_ips));
    list("not_source_ips", ips(&m.not_source_ips));
    list("destination_ips", ips(&m.destination_ips));
    list("not_destination_ips", ips(&m.not_destination_ips));
    list("ports", ports(&m.destination_ports));
    list("not_ports", ports(&m.not_destination_ports));
    parts.join(" ")
}

/// istioctl's columns (`ztunnel-config connections`).
pub(crate) fn connections(r: &Report) -> Table {
    let empty = Ambient::default();
    let a = r.ambient.as_ref().unwrap_or(&empty);
    let mut t = Table::new(&[
        "WORKLOAD",
        "DIRECTION",
        "LOCAL",
        "REMOTE",
        "REMOTE TARGET",
        "PROTOCOL",
    ]);
    for c in &a.connections {
        let (local, remote, target) = match c.direction {
            crate::model::TrafficDirection::Inbound => {
                (c.actual_dst.clone(), c.src.clone(), c.original_dst.clone())
            }
            crate::model::TrafficDirection::Outbound => {
                (c.src.clone(), c.actual_dst.clone(), c.original_dst.clone())
            }
        };
        let dir = match c.direction {
            crate::model::TrafficDirection::Inbound => "Inbound",
            crate::model::TrafficDirection::Outbound => "Outbound",
        };
        t.row(vec![
            c.workload.clone(),
            dir.into(),
            local,
            remote,
            target.unwrap_or_default(),
            c.protocol.clone(),
        ]);
    }
    t
}
