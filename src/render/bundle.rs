//! `bundle` output: one row per proxy, then the fleet findings and the entries refused; or the
//! JSON/YAML document.

use std::io::Write;

use super::table::Table;
use super::{Format, RenderError};
use crate::model::bundle::{BundleReport, ProxyKind};

pub fn render_bundle(
    b: &BundleReport,
    format: Format,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, b).map_err(RenderError::Json)?;
            writeln!(w)?;
            return Ok(());
        }
        Format::Yaml => {
            let text = serde_norway::to_string(b).map_err(RenderError::Yaml)?;
            w.write_all(text.as_bytes())?;
            return Ok(());
        }
        Format::Table => {}
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
    let mut t = Table::new(&header);
    for p in &b.proxies {
        if p.kind != ProxyKind::Envoy {
            let what = match p.kind {
                ProxyKind::Ztunnel => "ztunnel (not analysed)".to_string(),
                _ => format!("unreadable: {}", p.error.clone().unwrap_or_default()),
            };
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
        t.row(vec![
            p.proxy.clone(),
            p.identity
                .as_ref()
                .map(|i| i.to_string())
                .unwrap_or_default(),
            p.trust_domain
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            p.cert_seconds_left
                .map(crate::cert::time_left)
                .unwrap_or_default(),
            p.roots
                .iter()
                .map(|r| &r[..r.len().min(12)])
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
    }
    t.write(w)?;
    if !b.findings.is_empty() {
        writeln!(w, "\nFLEET FINDINGS")?;
        let mut t = Table::new(&["LEVEL", "RULE", "SUBJECT", "MESSAGE"]);
        for f in &b.findings {
            t.row(vec![
                f.level.to_string(),
                f.rule.into(),
                f.subject.clone(),
                f.message.clone(),
            ]);
        }
        t.write(w)?;
    }
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
                r.rule.into(),
                f.subject.clone(),
                f.expected.clone(),
                f.actual.clone(),
            ]);
        }
        t.write(w)?;
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
