//! Evidence beside a dump: access-log lines (and, in `stats`, counters) joined with the proxy's
//! configuration. An analysis like `trace` and `authz`, whose matching it reuses: it reads the
//! model, never protos. Logs are streamed a line at a time (`source::lines`): memory does not
//! grow with a log's length, only with what the caller keeps of the explanations.

mod explain;
mod format;
mod log;
mod parallel;
pub mod stats;

use std::io::Read;

use std::collections::BTreeMap;

use crate::model::evidence::{CauseGroup, Explained, LogSummary, Record};
use crate::model::Level;
use crate::model::Report;
use crate::source::lines::{Line, Lines};

pub use explain::{explain, failed};
pub use format::{JsonFormat, TextFormat, ENVOY_DEFAULT, ISTIO_JSON, ISTIO_TEXT};
pub use log::{Class, Formats};
pub use parallel::explain_log_parallel;

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{name}:{line}: cannot read")]
    Read {
        name: String,
        /// The line being read when it failed (0: before the first).
        line: u64,
        #[source]
        source: std::io::Error,
    },
}

/// What receives each explained line, in order.
pub trait Sink {
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
    let mut rec = Record::default();
    let mut parsed = vec![0u64; formats.len()];
    loop {
        let number = lines.number + 1;
        let line = match lines.next_line().map_err(|e| err(number, e))? {
            None => break,
            Some(Line::TooLong) => {
                summary.lines += 1;
                summary.too_long += 1;
                continue;
            }
            Some(Line::Text(t)) => t,
        };
        summary.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // Valid UTF-8 is borrowed; a line with invalid bytes is read with them replaced.
        let text = match std::str::from_utf8(line) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(line),
        };
        match formats.classify(&text, all, &mut rec) {
            Class::Access { format, failed } => {
                parsed[format] += 1;
                if failed {
                    summary.failed += 1;
                }
                if failed || all {
                    sink.explained(explain(report, name, number, formats.name(format), &rec));
                }
            }
            Class::EnvoyLog => summary.envoy_log += 1,
            Class::Unmatched => {
                summary.unmatched += 1;
                if summary.unmatched_first.len() < 10 {
                    summary.unmatched_first.push(format!("{name}:{number}"));
                }
            }
        }
    }
    for (i, n) in parsed.into_iter().enumerate().filter(|(_, n)| *n > 0) {
        *summary
            .parsed
            .entry(formats.name(i).to_string())
            .or_default() += n;
    }
    Ok(())
}

/// Lines grouped by cause, for the table: bounded by the number of distinct explanations.
#[derive(Default)]
pub struct Grouped {
    groups: BTreeMap<(Level, &'static str, String), Group>,
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
