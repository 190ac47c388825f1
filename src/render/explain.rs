//! `explain` output. The table groups lines by cause and explanation (count, first lines, the
//! explanation once); JSON streams one object per explained line as it comes, so memory does not
//! grow with the log; YAML is the same document, written at the end. Text from a log is
//! untrusted: control characters are escaped in the table.

use std::io::Write;

use serde::Serialize;

use super::table::Table;
use super::RenderError;
use crate::evidence::Sink;
use crate::model::evidence::{CauseGroup, Explained, LogSummary};
use crate::model::Finding;

/// Control characters (a terminal escape in a logged path) shown escaped.
pub fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The line counts of one proxy's logs (the bundle's `explain`).
pub fn write_summary(s: &LogSummary, out: &mut dyn Write) -> Result<(), RenderError> {
    let files = clean(&s.files.join(", "));
    writeln!(
        out,
        "log: {}",
        if files.is_empty() { "none" } else { &files }
    )?;
    counts_line(s, out)?;
    Ok(())
}

fn summary_lines(source: &str, s: &LogSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "explain: {} against {}",
        clean(&s.files.join(", ")),
        clean(source)
    )?;
    counts_line(s, out)
}

fn counts_line(s: &LogSummary, out: &mut dyn Write) -> std::io::Result<()> {
    if !s.formats_unread.is_empty() {
        writeln!(
            out,
            "formats of the dump whose lines cannot be read back (multi-line, from a file, an extension): {}",
            clean(&s.formats_unread.join(", "))
        )?;
    }
    let parsed: u64 = s.parsed.values().sum();
    let by: Vec<String> = s
        .parsed
        .iter()
        .map(|(f, n)| format!("{n} {}", clean(f)))
        .collect();
    writeln!(
        out,
        "lines: {} read, {parsed} access-log lines{}, {} of Envoy's own log, {} matching no format{}, {} too long; {} failed",
        s.lines,
        if by.is_empty() { String::new() } else { format!(" ({})", by.join(", ")) },
        s.envoy_log,
        s.unmatched,
        if s.unmatched_first.is_empty() { String::new() } else { format!(" (first: {})", clean(&s.unmatched_first.join(", "))) },
        s.too_long,
        s.failed
    )
}

/// The HTML page: what was read, the counters, the causes (each linked to its rule).
pub fn write_html(
    source: &str,
    summary: &LogSummary,
    groups: &[CauseGroup],
    counters: &[Finding],
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    out.write_all(super::html::explain_page(source, summary, groups, counters).as_bytes())?;
    Ok(())
}

/// The table: a summary, then one row per cause and explanation, errors first.
pub fn write_table(
    source: &str,
    summary: &LogSummary,
    groups: &[CauseGroup],
    counters: &[Finding],
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    summary_lines(source, summary, out)?;
    write_counters(counters, out)?;
    write_causes(groups, out)
}

/// The causes table (`no failing request to explain` when there are none).
pub fn write_causes(groups: &[CauseGroup], out: &mut dyn Write) -> Result<(), RenderError> {
    if groups.is_empty() {
        writeln!(out, "\nno failing request to explain")?;
        return Ok(());
    }
    writeln!(out)?;
    let mut t = Table::new(&["CAUSE", "LEVEL", "COUNT", "LINES", "EXPLANATION"]);
    for g in groups {
        let more = if g.count as usize > g.first.len() {
            " …"
        } else {
            ""
        };
        t.row(vec![
            g.rule.to_string(),
            g.level.to_string(),
            g.count.to_string(),
            format!("{}{more}", clean(&g.first.join(","))),
            clean(&g.explanation),
        ]);
    }
    t.write(out)?;
    Ok(())
}

/// The counters' findings, before the lines.
pub fn write_counters(counters: &[Finding], out: &mut dyn Write) -> Result<(), RenderError> {
    if counters.is_empty() {
        return Ok(());
    }
    writeln!(out, "\ncounters that prove a failure:")?;
    let mut t = Table::new(&["RULE", "LEVEL", "SUBJECT", "COUNTER"]);
    for f in counters {
        t.row(vec![
            f.rule.to_string(),
            f.level.to_string(),
            clean(&f.subject),
            clean(&f.message),
        ]);
    }
    t.write(out)?;
    Ok(())
}

/// Streams the JSON document `{"counters", "explained": [...], "schema_version", "source",
/// "summary"}`,
/// keys in order, one explained line at a time. A write that fails stops the stream; the
/// error is kept for [`JsonStream::finish`].
pub struct JsonStream<'w> {
    out: &'w mut dyn Write,
    count: u64,
    error: Option<RenderError>,
}

impl<'w> JsonStream<'w> {
    /// Writes the document's head: the counters' findings, then opens the list of lines.
    pub fn start(
        out: &'w mut dyn Write,
        counters: &[Finding],
    ) -> Result<JsonStream<'w>, RenderError> {
        let counters = serde_json::to_value(counters).map_err(RenderError::Json)?;
        write!(out, "{{\n  \"counters\": ")?;
        serde_json::to_writer(&mut *out, &counters).map_err(RenderError::Json)?;
        out.write_all(b",\n  \"explained\": [")?;
        Ok(JsonStream {
            out,
            count: 0,
            error: None,
        })
    }

    /// Ends the document with the summary of the logs read.
    pub fn finish(self, source: &str, summary: &LogSummary) -> Result<(), RenderError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let tail = serde_json::json!({
            "schema_version": crate::model::report::SCHEMA_VERSION,
            "source": source,
            "summary": summary,
        });
        let close = if self.count == 0 { "]" } else { "\n  ]" };
        write!(self.out, "{close},")?;
        let text = serde_json::to_string_pretty(&tail).map_err(RenderError::Json)?;
        // The tail's members, indented one level, after the list.
        let inner = text
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim_matches('\n');
        writeln!(self.out, "\n{inner}\n}}")?;
        Ok(())
    }
}

impl Sink for JsonStream<'_> {
    fn explained(&mut self, e: Explained) {
        if self.error.is_some() {
            return;
        }
        let sep = if self.count == 0 { "\n    " } else { ",\n    " };
        self.count += 1;
        let r = serde_json::to_value(&e)
            .map_err(RenderError::Json)
            .and_then(|v| {
                self.out.write_all(sep.as_bytes())?;
                serde_json::to_writer(&mut *self.out, &v).map_err(RenderError::Json)
            });
        if let Err(e) = r {
            self.error = Some(e);
        }
    }
}

/// The whole document, for YAML.
/// `explain -o yaml`: the whole answer as one document.
#[derive(Serialize)]
pub struct ExplainDoc<'a> {
    /// The counters that prove failures (with stats).
    pub counters: &'a [Finding],
    /// Every line explained.
    pub explained: &'a [Explained],
    /// [`crate::model::report::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The dump the lines were joined with.
    pub source: &'a str,
    /// What was read.
    pub summary: &'a LogSummary,
}
