//! Output: the same model as a human table, or as the JSON/YAML document described in
//! `docs/output-schema.md`. Nothing here reads the clock or the terminal.

pub mod bundle;
mod certs;
pub mod check;
pub mod rules;
mod table;
pub mod trace;
mod views;

use std::io::{self, Write};

use serde::Serialize;

use crate::model::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
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

pub fn render(
    report: &Report,
    view: View,
    format: Format,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    match format {
        Format::Table => views::table(report, view, w)?,
        Format::Json => {
            let doc = document(report, view);
            serde_json::to_writer_pretty(&mut *w, &doc).map_err(RenderError::Json)?;
            writeln!(w)?;
        }
        Format::Yaml => {
            let doc = document(report, view);
            let text = serde_norway::to_string(&doc).map_err(RenderError::Yaml)?;
            w.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// The whole report, or for a subcommand the header fields plus that one list.
fn document(report: &Report, view: View) -> serde_json::Value {
    let mut full = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    if !report.redacted.is_empty() {
        mark_redacted(&mut full);
    }
    let key = match view {
        View::Report => return full,
        View::Clusters => "clusters",
        View::Listeners => "listeners",
        View::Routes => "routes",
        View::Endpoints => "endpoints",
        View::Secrets | View::Certs => "secrets",
    };
    let mut out = serde_json::Map::new();
    for k in ["schema_version", "source", "document", "now"] {
        out.insert(k.into(), full[k].clone());
    }
    out.insert(key.into(), full[key].clone());
    if matches!(view, View::Secrets | View::Certs) {
        out.insert("missing_secrets".into(), full["missing_secrets"].clone());
        out.insert("findings".into(), full["findings"].clone());
    }
    out.insert("warnings".into(), full["warnings"].clone());
    if !report.redacted.is_empty() {
        out.insert("redacted".into(), full["redacted"].clone());
    }
    serde_json::Value::Object(out)
}

/// After `--redact`: the redacted fields say so in JSON too (numbers such as `seconds_left`
/// cannot hold the marker in the model).
fn mark_redacted(v: &mut serde_json::Value) {
    use crate::model::check::REDACTABLE;
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if REDACTABLE.contains(&k.as_str()) && !v.is_null() {
                    *v = crate::model::redact::REDACTED.into();
                } else {
                    mark_redacted(v);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mark_redacted),
        _ => {}
    }
}

/// For callers that want the JSON value itself (tests, bundles).
pub fn to_json<T: Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}
