//! Output of `check` and `diff`: a table grouped by subject (coloured only when asked, i.e. on a
//! terminal), JSON/YAML (docs/output-schema.md), JUnit XML (one test case per expectation) and
//! SARIF 2.1.0 (one result per failure, for code-scanning upload).

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::document::Doc;
use super::redaction::{Redaction, Scrub, FIELDS};
use super::RenderError;
use crate::model::expectation::{CheckReport, CheckStatus, Failure};

/// How `check` and `diff` write their answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckFormat {
    /// A table grouped by subject.
    Table {
        /// Whether with ANSI colours.
        color: bool,
    },
    /// JSON (docs/output-schema.md).
    Json,
    /// YAML.
    Yaml,
    /// JUnit XML: a test case per expectation.
    Junit,
    /// SARIF 2.1.0: a result per failure.
    Sarif,
}

impl CheckFormat {
    /// The format with colour as the environment allows (only a table has any).
    pub fn painted(self, color: super::Color) -> Self {
        match self {
            CheckFormat::Table { .. } => CheckFormat::Table {
                color: color == super::Color::Ansi,
            },
            other => other,
        }
    }
}

/// Writes a check in `format`, redacted when `redaction` is given (`--redact`).
pub fn render_check(
    c: &CheckReport,
    format: CheckFormat,
    redaction: Option<&Redaction>,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    match format {
        CheckFormat::Table { color } => {
            let mut w = Scrub::new(w, redaction);
            table(c, color, redaction, &mut w)?;
            w.flush()?;
        }
        CheckFormat::Json => super::document::write_redacted(c, Doc::Json, redaction, w)?,
        CheckFormat::Yaml => super::document::write_redacted(c, Doc::Yaml, redaction, w)?,
        CheckFormat::Junit => {
            let mut w = Scrub::new(w, redaction);
            junit(c, redaction.is_some(), &mut w)?;
            w.flush()?;
        }
        CheckFormat::Sarif => {
            let mut log = sarif(c, redaction.is_some());
            if let Some(r) = redaction {
                r.scrub(&mut log);
            }
            super::document::write(&log, Doc::Json, w)?
        }
    }
    Ok(())
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn table(
    c: &CheckReport,
    color: bool,
    redaction: Option<&Redaction>,
    w: &mut dyn Write,
) -> io::Result<()> {
    writeln!(w, "Checked:      {}", c.source)?;
    writeln!(w, "Against:      {}", c.expectations)?;
    writeln!(w, "At:           {}", c.now)?;
    let s = c.summary;
    let verdict = if s.failed == 0 {
        paint(
            color,
            "32",
            &format!("all {} expectations hold", s.expectations),
        )
    } else {
        paint(
            color,
            "31",
            &format!("{} of {} expectations failed", s.failed, s.expectations),
        )
    };
    writeln!(w, "Result:       {verdict}")?;
    // Grouped by the subject that drifted; within it, in expectation order.
    let mut by_subject: BTreeMap<&str, Vec<(crate::model::RuleId, &Failure)>> = BTreeMap::new();
    for r in c.results.iter().filter(|r| r.status == CheckStatus::Fail) {
        for f in &r.failures {
            by_subject
                .entry(f.subject.as_str())
                .or_default()
                .push((r.rule, f));
        }
    }
    for (subject, items) in by_subject {
        writeln!(w, "\n{} {subject}", paint(color, "1;31", "FAIL"))?;
        for (rule, f) in items {
            writeln!(w, "  {rule}: {}", f.message)?;
            writeln!(w, "    expected: {}", f.expected)?;
            writeln!(w, "    actual:   {}", f.actual)?;
        }
    }
    if !c.findings.is_empty() {
        writeln!(
            w,
            "\nFindings (the proxy's own, see docs/rules.md; they do not change the exit code):"
        )?;
        for f in &c.findings {
            writeln!(w, "  {} {} {}: {}", f.level, f.rule, f.subject, f.message)?;
        }
    }
    if let Some(x) = redaction {
        writeln!(w, "\n{}", x.footer())?;
    }
    Ok(())
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry other control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn junit(c: &CheckReport, redacted: bool, w: &mut dyn Write) -> io::Result<()> {
    let s = c.summary;
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<testsuites name="envinspect" tests="{}" failures="{}" errors="0">"#,
        s.expectations, s.failed
    )?;
    writeln!(
        w,
        r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="0">"#,
        xml(&format!("envinspect check {}", c.source)),
        s.expectations,
        s.failed
    )?;
    writeln!(w, "    <properties>")?;
    let now = c.now.to_string();
    for (k, v) in [
        ("source", &c.source),
        ("expectations", &c.expectations),
        ("now", &now),
    ] {
        writeln!(w, r#"      <property name="{k}" value="{}"/>"#, xml(v))?;
    }
    if redacted {
        writeln!(
            w,
            r#"      <property name="redacted" value="{}"/>"#,
            xml(&FIELDS.join(", "))
        )?;
    }
    writeln!(w, "    </properties>")?;
    for r in &c.results {
        let open = format!(
            r#"<testcase classname="{}" name="{}""#,
            xml(&r.subject),
            xml(&r.id)
        );
        if r.failures.is_empty() {
            writeln!(w, "    {open}/>")?;
            continue;
        }
        writeln!(w, "    {open}>")?;
        let message = r
            .failures
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let detail: String = r
            .failures
            .iter()
            .map(|f| {
                format!(
                    "{}: {}\nexpected: {}\nactual:   {}\n",
                    f.subject, f.message, f.expected, f.actual
                )
            })
            .collect();
        writeln!(
            w,
            r#"      <failure type="{}" message="{}">{}</failure>"#,
            r.rule,
            xml(&message),
            xml(&detail)
        )?;
        writeln!(w, "    </testcase>")?;
    }
    writeln!(w, "  </testsuite>")?;
    writeln!(w, "</testsuites>")
}

fn sarif(c: &CheckReport, redacted: bool) -> serde_json::Value {
    use serde_json::json;
    // Drift rules first, then the findings' (SARIF results point into this list by index).
    let all: Vec<(&str, &str, &str)> = crate::model::catalog::DRIFT
        .iter()
        .chain(crate::model::catalog::CATALOG)
        .map(|r| (r.id.as_str(), r.meaning, sarif_level(r.level)))
        .collect();
    let rule_ids: Vec<&str> = all.iter().map(|(id, _, _)| *id).collect();
    let descriptors: Vec<_> = all
        .iter()
        .map(|(id, text, level)| {
            json!({
                "id": id,
                "shortDescription": {"text": text},
                "help": {"text": format!("See docs/rules.md#{id} in the envinspect repository.")},
                "defaultConfiguration": {"level": level}
            })
        })
        .collect();
    let mut results = Vec::new();
    for r in c.results.iter().filter(|r| r.status == CheckStatus::Fail) {
        for f in &r.failures {
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(c)},
                    "region": {"startLine": r.line.unwrap_or(1)}
                },
                "logicalLocations": [{"fullyQualifiedName": f.subject, "kind": "resource"}]
            });
            if r.line.is_none() {
                location["physicalLocation"]["artifactLocation"]["uri"] = json!(uri_of(&c.source));
            }
            results.push(json!({
                "ruleId": r.rule,
                "ruleIndex": rule_ids.iter().position(|id| *id == r.rule.as_str()).unwrap_or(0),
                "level": "error",
                "message": {"text": format!("{}: {} (expected {}, actual {})", f.subject, f.message, f.expected, f.actual)},
                "locations": [location],
                "partialFingerprints": {"envinspectExpectation/v1": format!("{}|{}", r.id, f.subject)},
                "properties": {"expectation": r.id, "expected": f.expected, "actual": f.actual}
            }));
        }
    }
    // The proxy's own findings, located in the dump.
    for f in &c.findings {
        let mut location = json!({
            "physicalLocation": {"artifactLocation": {"uri": uri_of(&c.source)}},
            "logicalLocations": [{"fullyQualifiedName": f.subject, "kind": "resource"}]
        });
        if let Some(p) = f.evidence.first() {
            location["logicalLocations"][0]["decoratedName"] = json!(p);
        }
        results.push(json!({
            "ruleId": f.rule,
            "ruleIndex": rule_ids.iter().position(|id| *id == f.rule.as_str()).unwrap_or(0),
            "level": sarif_level(f.level),
            "message": {"text": format!("{}: {}", f.subject, f.message)},
            "locations": [location],
            "partialFingerprints": {"envinspectFinding/v1": format!("{}|{}", f.rule, f.subject)},
            "properties": {"evidence": f.evidence}
        }));
    }
    json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "envinspect",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors
            }},
            "properties": {"source": c.source, "expectations": c.expectations, "now": c.now, "redacted": if redacted { &FIELDS[..] } else { &[][..] }},
            "results": results
        }]
    })
}

fn sarif_level(l: crate::model::Level) -> &'static str {
    match l {
        crate::model::Level::Error => "error",
        crate::model::Level::Warning => "warning",
        crate::model::Level::Info => "note",
    }
}

/// Results point into the expectations file when it is a file.
fn artifact_uri(c: &CheckReport) -> String {
    uri_of(&c.expectations)
}

/// A relative or absolute path as a URI reference (spaces and `?` escaped; URLs kept).
fn uri_of(path: &str) -> String {
    if path.contains("://") {
        return path.to_string();
    }
    path.chars()
        .map(|ch| match ch {
            ' ' => "%20".to_string(),
            '?' => "%3F".to_string(),
            '#' => "%23".to_string(),
            '%' => "%25".to_string(),
            c => c.to_string(),
        })
        .collect()
}
