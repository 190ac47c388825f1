//! `proxy-status` output: istioctl proxy-status's table, column for column and space for space
//! (Go's tabwriter with istioctl's padding of 5), then the findings; or the JSON/YAML document,
//! one object per proxy with a status per xDS type.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::explain::clean;
use super::{Format, RenderError};
use crate::model::sync::{ProxySync, SyncReport, SynczSource, TypeSync, XdsType};
use crate::model::Finding;

/// One proxy as the document shows it: the row's cells, a `status` map per type (`CDS`…, or the
/// type URL), and the detail per type.
#[derive(Serialize)]
struct ProxyDoc<'a> {
    cluster: &'a str,
    file: &'a str,
    istiod: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    status: BTreeMap<&'a str, crate::model::sync::SyncState>,
    /// `SYNCED`, or the worst state and its types (`ERROR (LDS)`).
    summary: String,
    types: &'a [TypeSync],
    version: &'a str,
}

#[derive(Serialize)]
struct Doc<'a> {
    findings: &'a [Finding],
    proxies: Vec<ProxyDoc<'a>>,
    schema_version: u32,
    sources: &'a [SynczSource],
    /// Syncz files that could not be read, one line each.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    unreadable: &'a [String],
}

fn doc(p: &ProxySync) -> ProxyDoc<'_> {
    ProxyDoc {
        cluster: &p.cluster,
        file: &p.file,
        istiod: &p.istiod,
        name: &p.name,
        namespace: p.namespace.as_deref(),
        status: p
            .types
            .iter()
            .map(|t| (t.xds_type.label(), t.state))
            .collect(),
        summary: p.summary(),
        types: &p.types,
        version: &p.version,
    }
}

/// The report; `unreadable` are the files that could not be read (told after the table).
pub fn render_sync(
    r: &SyncReport,
    unreadable: &[String],
    format: Format,
    color: super::Color,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    if format == Format::Html {
        w.write_all(super::html::sync_page(r, unreadable).as_bytes())?;
        return Ok(());
    }
    if let Some(d) = format.doc() {
        let body = Doc {
            findings: &r.findings,
            proxies: r.proxies.iter().map(doc).collect(),
            schema_version: r.schema_version,
            sources: &r.sources,
            unreadable,
        };
        return super::document::write(&body, d, w);
    }
    if r.proxies.is_empty() {
        writeln!(w, "no proxies: the syncz files list none")?;
    } else {
        tabwriter(&istioctl_rows(&r.proxies), w)?;
    }
    super::views::findings_table("FINDINGS", &r.findings, color, w)?;
    for u in unreadable {
        writeln!(w, "not read: {}", clean(u))?;
    }
    Ok(())
}

/// istioctl's rows: NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION (a type istiod tracks
/// nothing of is IGNORED, as current istioctl prints it).
fn istioctl_rows(proxies: &[ProxySync]) -> Vec<Vec<String>> {
    let mut rows = vec![["NAME", "CLUSTER"]
        .into_iter()
        .map(String::from)
        .chain(XdsType::COLUMNS.iter().map(|t| t.label().to_string()))
        .chain(["ISTIOD", "VERSION"].map(String::from))
        .collect()];
    for p in proxies {
        let mut row = vec![clean(&p.name), clean(&p.cluster)];
        row.extend(
            XdsType::COLUMNS
                .iter()
                .map(|t| p.state(t).label().to_string()),
        );
        row.push(clean(&p.istiod));
        row.push(clean(&p.version));
        rows.push(row);
    }
    rows
}

/// Go's `text/tabwriter` as istioctl sets it up (`minwidth 0, padding 5, padchar ' '`, no
/// flags): every cell but a line's last is padded to its column's widest cell plus 5; the last
/// is written as it is.
fn tabwriter(rows: &[Vec<String>], w: &mut dyn Write) -> std::io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (i, c) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            line.push_str(c);
            if i + 1 < row.len() {
                let pad = widths[i] + 5 - c.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(w, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_as_go_tabwriter_does() {
        let rows = vec![
            vec!["NAME".to_string(), "V".to_string()],
            vec!["p".to_string(), "1.1".to_string()],
        ];
        let mut out = Vec::new();
        super::tabwriter(&rows, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME     V\np        1.1\n"
        );
    }
}
