//! `trace` output: the steps in order, each with its evidence, then the outcome; or JSON/YAML.

use crate::model::trace::StepKind;
use std::io::Write;

use super::{Format, RenderError};
use crate::model::trace::Trace;

fn table(t: &Trace, w: &mut dyn Write) -> Result<(), RenderError> {
    writeln!(
        w,
        "Trace:        {} {}",
        t.direction.as_lowercase(),
        t.target
    )?;
    writeln!(w, "Source:       {}", t.source)?;
    for a in &t.assumptions {
        writeln!(w, "Assuming:     {a}")?;
    }
    writeln!(w)?;
    for (i, s) in t.steps.iter().enumerate() {
        if s.name.is_empty()
            && matches!(
                s.kind,
                StepKind::FilterChain | StepKind::Route | StepKind::RouteConfig
            )
        {
            writeln!(w, "{}. {} (unnamed)", i + 1, s.kind)?;
        } else if s.name.is_empty() {
            writeln!(w, "{}. {}", i + 1, s.kind)?;
        } else {
            writeln!(w, "{}. {} {}", i + 1, s.kind, s.name)?;
        }
        writeln!(w, "   {}", s.detail)?;
        if !s.produced_by.is_empty() {
            let by = crate::model::provenance::phrase(&s.produced_by);
            writeln!(w, "   produced by: {by}")?;
        }
        for e in &s.evidence {
            writeln!(w, "   evidence: {e}")?;
        }
    }
    let o = &t.outcome;
    writeln!(w, "\nOutcome:      {} — {}", o.kind, o.summary)?;
    if let Some(r) = &o.response {
        let flags = if r.flags.is_empty() {
            String::new()
        } else {
            format!(", flag {}", r.flags)
        };
        writeln!(w, "Response:     HTTP {}{flags}, {}", r.status, r.details)?;
    }
    for c in &o.clients {
        writeln!(w, "{:<14}{}", format!("{} client:", c.client), c.sees)?;
    }
    if !o.advice.is_empty() {
        writeln!(w, "Meaning:      {}", o.advice)?;
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
    for a in &t.alternatives {
        writeln!(w, "\n--- or, for the next address:\n")?;
        table(a, w)?;
    }
    Ok(())
}

/// A trace: its steps, outcome, what each client sees, and the authorization when asked.
pub fn render_trace(t: &Trace, format: Format, w: &mut dyn Write) -> Result<(), RenderError> {
    match format {
        Format::Table => table(t, w)?,
        Format::Json => super::document::write(t, super::document::Doc::Json, w)?,
        Format::Yaml => super::document::write(t, super::document::Doc::Yaml, w)?,
        Format::Html => w.write_all(super::html::trace_page(t).as_bytes())?,
    }
    Ok(())
}
