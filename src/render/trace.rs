//! `trace` output: the steps in order, each with its evidence, then the outcome; or JSON/YAML.

use std::io::Write;

use super::{Format, RenderError};
use crate::model::trace::Trace;

pub fn render_trace(t: &Trace, format: Format, w: &mut dyn Write) -> Result<(), RenderError> {
    match format {
        Format::Table => {
            writeln!(w, "Trace:        {} {}", t.direction, t.target)?;
            writeln!(w, "Source:       {}", t.source)?;
            for a in &t.assumptions {
                writeln!(w, "Assuming:     {a}")?;
            }
            writeln!(w)?;
            for (i, s) in t.steps.iter().enumerate() {
                writeln!(w, "{}. {} {}", i + 1, s.kind, s.name)?;
                writeln!(w, "   {}", s.detail)?;
                for e in &s.evidence {
                    writeln!(w, "   evidence: {e}")?;
                }
            }
            writeln!(
                w,
                "\nOutcome:      {} — {}",
                t.outcome.kind, t.outcome.summary
            )?;
            if !t.outcome.advice.is_empty() {
                writeln!(w, "Meaning:      {}", t.outcome.advice)?;
            }
            if let Some(e) = &t.authorization {
                writeln!(w, "\nAuthorization of the request (envinspect authz):")?;
                let mut buf = Vec::new();
                super::authz::render_evaluation(e, Format::Table, &mut buf)?;
                for line in String::from_utf8_lossy(&buf).lines() {
                    if line.is_empty() {
                        writeln!(w)?;
                    } else {
                        writeln!(w, "  {line}")?;
                    }
                }
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, t).map_err(RenderError::Json)?;
            writeln!(w)?;
        }
        Format::Yaml => {
            let text = serde_norway::to_string(t).map_err(RenderError::Yaml)?;
            w.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}
