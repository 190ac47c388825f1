//! `envinspect rules`: the catalogue of finding rules and drift rules, as a table or JSON.

use std::io::Write;

use super::table::Table;
use super::{Format, RenderError};
use crate::expect::rules::RULES as DRIFT;
use crate::model::Level;
use crate::rules::catalog::CATALOG;

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
    let docs = |id: &str| format!("docs/rules.md#{id}");
    let findings = CATALOG.iter().map(|r| Row {
        id: r.id,
        kind: "finding",
        level: r.level,
        meaning: r.meaning,
        fix: r.fix,
        docs: docs(r.id),
    });
    let drift = DRIFT.iter().map(|(id, meaning)| Row {
        id,
        kind: "drift",
        level: Level::Error,
        meaning,
        fix: "Restore what the expectations state, or update the expectations if the change is intended.",
        docs: docs(id),
    });
    findings.chain(drift).collect()
}

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
    }
    Ok(())
}
