//! Output: the same model as a human table, or as the JSON/YAML document described in
//! `docs/output-schema.md`. Nothing here reads the clock or the terminal.

mod ambient;
pub mod authz;
pub mod bundle;
pub mod catalog;
mod certs;
pub mod document;
pub mod expectations;
pub mod explain;
mod html;
pub(crate) use html::markup_is_ours;
mod json;
mod part;
pub mod redaction;
mod summary;
pub mod sync;
mod table;
pub mod trace;
mod views;

use std::io::{self, Write};

use serde::Serialize;

use crate::model::Report;
use part::Part;
pub use redaction::Redaction;

/// How an answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Tables and text for people.
    Table,
    /// JSON, keys sorted (docs/output-schema.md).
    Json,
    /// The same document as YAML.
    Yaml,
    /// One self-contained HTML page (inline CSS, SVG and script; no network): a dump's report
    /// or one of its views, its certificates, a bundle.
    Html,
}

impl Format {
    /// The name `-o` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Html => "html",
        }
    }

    /// The structured format, unless this is a table.
    pub fn doc(self) -> Option<document::Doc> {
        match self {
            Format::Json => Some(document::Doc::Json),
            Format::Yaml => Some(document::Doc::Yaml),
            Format::Table | Format::Html => None,
        }
    }
}

/// Which part of the report a command shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum View {
    /// The whole report.
    Report,
    /// The clusters and their TLS.
    Clusters,
    /// The listeners and their chains.
    Listeners,
    /// The route configurations.
    Routes,
    /// The endpoints and their health.
    Endpoints,
    /// The secrets and their certificates.
    Secrets,
    /// Every certificate in full.
    Certs,
    /// A ztunnel's workloads.
    Workloads,
    /// A ztunnel's services.
    Services,
    /// A ztunnel's connections.
    Connections,
}

impl View {
    /// Whether a document of `kind` has what the view shows: Envoy's resources are not in a
    /// ztunnel dump, ztunnel's workloads and services not in Envoy's documents.
    pub fn shows(self, kind: crate::model::DocumentKind) -> bool {
        use crate::model::DocumentKind::Ztunnel;
        match self {
            View::Clusters | View::Listeners | View::Routes | View::Endpoints => kind != Ztunnel,
            View::Workloads | View::Services | View::Connections => kind == Ztunnel,
            View::Report | View::Secrets | View::Certs => true,
        }
    }

    /// The subcommand's name.
    pub fn name(self) -> &'static str {
        match self {
            View::Report => "the report",
            View::Clusters => "clusters",
            View::Listeners => "listeners",
            View::Routes => "routes",
            View::Endpoints => "endpoints",
            View::Secrets => "secrets",
            View::Certs => "certs",
            View::Workloads => "workloads",
            View::Services => "services",
            View::Connections => "connections",
        }
    }
}

/// Why an answer could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The writer failed (a closed pipe, a full disk).
    #[error("cannot write output")]
    Io(#[from] io::Error),
    /// The document could not be serialised as JSON.
    #[error("cannot serialise the report as JSON")]
    Json(#[source] serde_json::Error),
    /// The document could not be serialised as YAML.
    #[error("cannot serialise the report as YAML")]
    Yaml(#[source] serde_norway::Error),
    /// This answer has no HTML page (yet): the command, or what was asked.
    #[error("{0}: -o html is not available")]
    HtmlNotFor(&'static str),
}

/// Whether tables may use ANSI colours (the binary decides: `--color`, `NO_COLOR`, a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// No escape codes.
    #[default]
    Plain,
    /// ANSI colours for levels and verdicts.
    Ansi,
}

/// The ANSI code of a finding level's cell (errors red, warnings yellow).
fn level_color(level: &str) -> Option<&'static str> {
    match level {
        "error" => Some("1;31"),
        "warning" => Some("33"),
        _ => None,
    }
}

/// Writes `report` as `view` in `format`, redacted when `redaction` is given (`--redact`).
/// Unredacted JSON renders a list of 256 items or more in two halves on two threads (scoped:
/// both are done when this returns); the bytes are the same as on one.
pub fn render(
    report: &Report,
    view: View,
    format: Format,
    color: Color,
    redaction: Option<&Redaction>,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    let part = Part { report, view };
    if format == Format::Html {
        let page = html::report_page(report, view, redaction.is_some());
        let mut w = redaction::Scrub::new(w, redaction);
        w.write_all(page.as_bytes())?;
        w.flush()?;
        return Ok(());
    }
    match format.doc() {
        None => {
            let mut w = redaction::Scrub::new(w, redaction);
            views::table(report, view, color, redaction, &mut w)?;
            w.flush()?;
        }
        // The JSON of a view, unredacted, renders its long lists on two threads.
        Some(document::Doc::Json) if redaction.is_none() => {
            part.write_json(w).map_err(RenderError::Json)?;
            w.write_all(b"\n")?;
        }
        Some(doc) => document::write_in_order(&part, doc, redaction, w)?,
    }
    Ok(())
}

/// For callers that want the JSON value itself (tests, bundles).
pub fn to_json<T: Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}

impl View {
    /// Every view, in a fixed order (for callers that render them all: tests, the fuzz targets).
    pub const ALL: [View; 10] = [
        View::Report,
        View::Clusters,
        View::Listeners,
        View::Routes,
        View::Endpoints,
        View::Secrets,
        View::Certs,
        View::Workloads,
        View::Services,
        View::Connections,
    ];
}

#[cfg(test)]
mod order_tests {
    use super::*;

    /// The keys of the outermost object, in the order they were written.
    fn top_keys(json: &str) -> Vec<String> {
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        let (mut keys, mut cur, mut last) = (Vec::new(), String::new(), String::new());
        for ch in json.chars() {
            if in_str {
                match (esc, ch) {
                    (true, _) => {
                        esc = false;
                        cur.push(ch);
                    }
                    (false, '\\') => esc = true,
                    (false, '"') => {
                        in_str = false;
                        last = std::mem::take(&mut cur);
                    }
                    _ => cur.push(ch),
                }
                continue;
            }
            match ch {
                '"' => in_str = true,
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                ':' if depth == 1 => keys.push(last.clone()),
                _ => {}
            }
        }
        keys
    }

    /// The report and every view's document are written in key order, so the sorted JSON
    /// writer never reorders (and copies) the whole document.
    #[test]
    fn documents_are_serialised_in_key_order() {
        let input = crate::source::Input {
            name: "dump.json".into(),
            bytes: include_bytes!("../../fixtures/envoy-1.40/config_dump.json").to_vec(),
        };
        let now = time::macros::datetime!(2026-12-01 00:00 UTC);
        let report = crate::inspect(&input, &crate::Options::at(now)).unwrap();
        let views = View::ALL;
        for view in views {
            let text = serde_json::to_string(&Part {
                report: &report,
                view,
            })
            .unwrap();
            let keys = top_keys(&text);
            let mut sorted = keys.clone();
            sorted.sort();
            assert!(keys.len() > 4, "{view:?}: {keys:?}");
            assert_eq!(keys, sorted, "{view:?}");
        }
    }
}
