//! `envinspect rules`: the catalogue of finding rules and drift rules, as a table or JSON.

use std::io::Write;

use super::table::Table;
use super::{Format, RenderError};
use crate::model::catalog::{CATALOG, DRIFT};
use crate::model::Level;

#[derive(serde::Serialize)]
struct Row {
    id: &'static str,
    kind: &'static str,
    level: Level,
    meaning: &'static str,
    fix: &'static str,
    docs: String,
}

fn rows() -> Vec<Row> {
    // The findings, then the drift rules, each in documentation order.
    CATALOG
        .iter()
        .chain(DRIFT)
        .map(|r| Row {
            id: r.id.as_str(),
            kind: r.kind.as_str(),
            level: r.level,
            meaning: r.meaning,
            fix: r.fix,
            docs: format!("docs/rules.md#{}", r.id),
        })
        .collect()
}

/// Every rule of the catalogue (`envinspect rules`).
pub fn render_rules(format: Format, w: &mut dyn Write) -> Result<(), RenderError> {
    let rows = rows();
    match format {
        Format::Table => {
            let mut t = Table::new(&["RULE", "KIND", "LEVEL", "MEANING"]);
            for r in &rows {
                t.row(vec![
                    r.id.into(),
                    r.kind.into(),
                    r.level.to_string(),
                    r.meaning.into(),
                ]);
            }
            t.write(w)?;
        }
        Format::Json => super::document::write(&rows, super::document::Doc::Json, w)?,
        Format::Yaml => super::document::write(&rows, super::document::Doc::Yaml, w)?,
        Format::Html => return Err(RenderError::HtmlNotFor("rules")),
    }
    Ok(())
}
