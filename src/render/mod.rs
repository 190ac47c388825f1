//! Output: the same model as a human table, or as the JSON/YAML document described in
//! `docs/output-schema.md`. Nothing here reads the clock or the terminal.

mod ambient;
pub mod authz;
pub mod bundle;
mod certs;
pub mod check;
pub mod document;
mod json;
pub mod redaction;
pub mod rules;
mod summary;
mod table;
pub mod trace;
mod views;

use std::io::{self, Write};

use serde::Serialize;

use crate::model::Report;
pub use redaction::Redaction;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

impl Format {
    /// The structured format, unless this is a table.
    pub fn doc(self) -> Option<document::Doc> {
        match self {
            Format::Table => None,
            Format::Json => Some(document::Doc::Json),
            Format::Yaml => Some(document::Doc::Yaml),
        }
    }
}

/// Which part of the report a command shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Report,
    Clusters,
    Listeners,
    Routes,
    Endpoints,
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
    pub fn shows(self, kind: crate::source::DocumentKind) -> bool {
        use crate::source::DocumentKind::Ztunnel;
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

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot write output")]
    Io(#[from] io::Error),
    #[error("cannot serialise the report as JSON")]
    Json(#[source] serde_json::Error),
    #[error("cannot serialise the report as YAML")]
    Yaml(#[source] serde_norway::Error),
}

/// Whether tables may use ANSI colours (the binary decides: `--color`, `NO_COLOR`, a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    #[default]
    Plain,
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
pub fn render(
    report: &Report,
    view: View,
    format: Format,
    color: Color,
    redaction: Option<&Redaction>,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    let part = Part { report, view };
    match format.doc() {
        None => {
            let mut w = redaction::Scrub::new(w, redaction);
            views::table(report, view, color, redaction, &mut w)?;
            w.flush()?;
        }
        Some(doc) => document::write_redacted(&part, doc, redaction, w)?,
    }
    Ok(())
}

/// The whole report, or for a subcommand the header fields plus that one list. Keys come out
/// sorted either way (JSON: `json::to_vec_sorted`, YAML: through a `Value`).
struct Part<'a> {
    report: &'a Report,
    view: View,
}

impl Serialize for Part<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.report;
        let key = match self.view {
            View::Report => return r.serialize(s),
            View::Clusters => "clusters",
            View::Listeners => "listeners",
            View::Routes => "routes",
            View::Endpoints => "endpoints",
            View::Secrets | View::Certs => "secrets",
            View::Workloads => "workloads",
            View::Services => "services",
            View::Connections => "connections",
        };
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema_version", &r.schema_version)?;
        m.serialize_entry("source", &r.source)?;
        m.serialize_entry("document", &r.document)?;
        m.serialize_entry("now", &r.now)?;
        match self.view {
            View::Clusters => m.serialize_entry(key, &r.clusters)?,
            View::Listeners => m.serialize_entry(key, &r.listeners)?,
            View::Routes => m.serialize_entry(key, &r.routes)?,
            View::Endpoints => m.serialize_entry(key, &r.endpoints)?,
            View::Workloads => {
                let w = r.ambient.as_ref().map(|a| &a.workloads);
                m.serialize_entry(key, &w.cloned().unwrap_or_default())?
            }
            View::Services => {
                let v = r.ambient.as_ref().map(|a| &a.services);
                m.serialize_entry(key, &v.cloned().unwrap_or_default())?
            }
            View::Connections => {
                let v = r.ambient.as_ref().map(|a| &a.connections);
                m.serialize_entry(key, &v.cloned().unwrap_or_default())?
            }
            View::Report | View::Secrets | View::Certs => {
                m.serialize_entry(key, &r.secrets)?;
                m.serialize_entry("missing_secrets", &r.missing_secrets)?;
                m.serialize_entry("findings", &r.findings)?;
            }
        }
        m.serialize_entry("warnings", &r.warnings)?;
        m.end()
    }
}

/// For callers that want the JSON value itself (tests, bundles).
pub fn to_json<T: Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}
