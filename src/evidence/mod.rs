//! Evidence beside a dump: access-log lines (and, in `stats`, counters) joined with the proxy's
//! configuration. An analysis like `trace` and `authz`, whose matching it reuses: it reads the
//! model, never protos. Logs are streamed a line at a time (`source::lines`): memory does not
//! grow with a log's length, only with what the caller keeps of the explanations.

mod explain;
mod format;
mod json;
mod log;
mod parallel;
mod place;
pub mod stats;
mod upstream;

use crate::model::RuleId;
use std::io::Read;

use std::collections::BTreeMap;

use crate::model::evidence::{CauseGroup, Explained, LogSummary, Record};
use crate::model::Level;
use crate::model::Report;
use crate::source::lines::{Line, Lines};

pub use explain::{explain, failed};
pub use format::{TextFormat, ENVOY_DEFAULT, ISTIO_JSON, ISTIO_TEXT};
pub use json::JsonFormat;
pub use log::logging_summary;
pub use log::{Class, Formats};
pub use parallel::explain_log_parallel;

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The log cannot be read on.
    #[error("{name}:{line}: cannot read")]
    Read {
        /// The log.
        name: String,
        /// The line being read when it failed (0: before the first).
        line: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What receives each explained line, in order.
pub trait Sink {
    /// One line, explained.
    fn explained(&mut self, e: Explained);
}

impl Sink for Vec<Explained> {
    fn explained(&mut self, e: Explained) {
        self.push(e);
    }
}

/// Reads one log and explains its lines against `report`: failing lines only, or every
/// access-log line with `all`. Lines of no format and Envoy's own lines are counted in
/// `summary`, never an error; only a read that fails is.
pub fn explain_log(
    report: &Report,
    name: &str,
    reader: impl Read,
    all: bool,
    summary: &mut LogSummary,
    sink: &mut dyn Sink,
) -> Result<(), EvidenceError> {
    let err = |line: u64, source| EvidenceError::Read {
        name: name.to_string(),
        line,
        source,
    };
    let mut lines = Lines::new(reader).map_err(|e| err(0, e))?;
    let mut formats = Formats::of(report, name);
    summary.files.push(name.to_string());
    unread(summary, &formats);
    let mut line = Reading {
        report,
        name,
        all,
        rec: Record::default(),
        parsed: vec![0u64; formats.len()],
    };
    loop {
        let number = lines.number + 1;
        match lines.next_line().map_err(|e| err(number, e))? {
            None => break,
            Some(Line::TooLong) => line.too_long(summary),
            Some(Line::Text(t)) => {
                line.read(number, t, &mut formats, summary, &mut |e| sink.explained(e))
            }
        }
    }
    let parsed = line.parsed;
    for (i, n) in parsed.into_iter().enumerate().filter(|(_, n)| *n > 0) {
        *summary
            .parsed
            .entry(formats.name(i).to_string())
            .or_default() += n;
    }
    Ok(())
}

/// Notes the formats of the dump whose lines cannot be read back, once.
pub(crate) fn unread(summary: &mut LogSummary, formats: &Formats) {
    for u in &formats.unreadable {
        if !summary.formats_unread.contains(u) {
            summary.formats_unread.push(u.clone());
        }
    }
}

/// What reads a log's lines, one at a time (on one thread, or a worker's chunk).
pub(crate) struct Reading<'r> {
    pub report: &'r Report,
    pub name: &'r str,
    /// Every access-log line is explained, not only failures.
    pub all: bool,
    pub rec: Record,
    /// Access-log lines by format index.
    pub parsed: Vec<u64>,
}

impl Reading<'_> {
    pub(crate) fn too_long(&mut self, summary: &mut LogSummary) {
        summary.lines += 1;
        summary.too_long += 1;
    }

    /// Counts line `number` in `summary` and hands its explanation to `emit` when it fails
    /// (or always, with `all`).
    pub(crate) fn read(
        &mut self,
        number: u64,
        line: &[u8],
        formats: &mut Formats,
        summary: &mut LogSummary,
        emit: &mut dyn FnMut(Explained),
    ) {
        summary.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        // Valid UTF-8 is borrowed; a line with invalid bytes is read with them replaced.
        let text = match std::str::from_utf8(line) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(line),
        };
        match formats.classify(&text, self.all, &mut self.rec) {
            Class::Access { format, failed } => {
                self.parsed[format] += 1;
                if failed {
                    summary.failed += 1;
                }
                if failed || self.all {
                    let name = formats.name(format);
                    emit(explain(self.report, self.name, number, name, &self.rec));
                }
            }
            Class::EnvoyLog => summary.envoy_log += 1,
            Class::Unmatched => {
                summary.unmatched += 1;
                if summary.unmatched_first.len() < 10 {
                    summary
                        .unmatched_first
                        .push(format!("{}:{number}", self.name));
                }
            }
        }
    }
}

/// Lines grouped by cause, for the table: bounded by the number of distinct explanations.
#[derive(Default)]
#[non_exhaustive]
pub struct Grouped {
    groups: BTreeMap<(Level, RuleId, String), Group>,
}

struct Group {
    count: u64,
    first: Vec<String>,
    /// The order the group first appeared in.
    seen: u64,
}

/// How many line references a group lists.
const FIRST: usize = 5;

impl Sink for Grouped {
    fn explained(&mut self, e: Explained) {
        let n = self.groups.len() as u64;
        let g = self
            .groups
            .entry((e.level, e.rule, e.explanation))
            .or_insert(Group {
                count: 0,
                first: Vec::new(),
                seen: n,
            });
        g.count += 1;
        if g.first.len() < FIRST {
            g.first.push(format!("{}:{}", e.file, e.line));
        }
    }
}

impl Grouped {
    /// The groups, errors first, then by rule, then in the order they first appeared.
    pub fn into_groups(self) -> Vec<CauseGroup> {
        let mut rows: Vec<_> = self.groups.into_iter().collect();
        rows.sort_by_key(|((level, rule, _), g)| (*level, *rule, g.seen));
        rows.into_iter()
            .map(|((level, rule, explanation), g)| CauseGroup {
                rule,
                level,
                count: g.count,
                first: g.first,
                explanation,
            })
            .collect()
    }
}
