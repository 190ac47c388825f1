//! `explain`: the proxy's access-log lines, each joined with its configuration and named by
//! cause. The dump (or the live admin API) is read whole; the logs are streamed one after the
//! other into the table's groups or the JSON stream. A log that cannot be read is an error told
//! after the answer for the others (exit 2); lines of no format are counted, never an error.

use std::path::{Path, PathBuf};

use super::{options, read, Env, Judge, Origin, Outcome, RunError, UsageError};
use crate::evidence::stats::{self, StatsError};
use crate::evidence::{self, EvidenceError};
use crate::model::evidence::{Explained, LogSummary};
use crate::model::{Finding, Report};
use crate::render::{self, explain as out, Format, View};
use crate::source::admin::Endpoint;
use crate::source::DocumentKind;
use crate::Error;

/// A log to explain: a file, or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogOrigin {
    File(PathBuf),
    Stdin,
}

/// What `explain` reads: the dump, the logs, and the stats.
pub(super) struct Explain {
    pub origin: Option<Origin>,
    pub logs: Vec<LogOrigin>,
    pub all: bool,
    pub stats: Option<PathBuf>,
}

/// The findings a stats file proves about `report`.
pub(super) fn stats_findings(report: &Report, path: &Path) -> Result<Vec<Finding>, RunError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| {
        Error::Stats(StatsError::Read {
            name: name.clone(),
            line: 0,
            source,
        })
    })?;
    let stats = stats::read(&name, file).map_err(Error::Stats)?;
    Ok(stats::findings(report, &name, &stats))
}

pub(super) fn explain(
    env: &mut Env,
    what: Explain,
    format: Format,
    judge: &Judge,
) -> Result<Outcome, RunError> {
    let Explain {
        origin,
        logs,
        all,
        stats,
    } = what;

    if logs.is_empty() {
        return Err(UsageError::ExplainNoLog.into());
    }
    let stdin_logs = logs.iter().filter(|l| **l == LogOrigin::Stdin).count();
    if stdin_logs > 1 || (stdin_logs == 1 && matches!(origin, Some(Origin::Stdin))) {
        return Err(UsageError::ExplainStdinTwice.into());
    }
    let opts = options(env, judge);
    // A live proxy's stats are read from it too, unless a file is given.
    let (input, live) = match origin {
        Some(Origin::Admin(a)) => (a.get(crate::admin_endpoint(View::Report))?, Some(a)),
        other => (read(env, other, View::Report)?, None),
    };
    let report = crate::inspect_owned(input, &opts, env.progress)?;
    if report.document != DocumentKind::ConfigDump {
        return Err(UsageError::ExplainNeedsDump {
            source_name: report.source.clone(),
            got: report.document.label(),
        }
        .into());
    }
    let counters = match (&stats, live) {
        (Some(path), _) => stats_findings(&report, path)?,
        (None, Some(admin)) => {
            let input = admin.get(Endpoint::StatsPrometheus)?;
            let read = stats::read(&input.name, std::io::Cursor::new(input.bytes))
                .map_err(Error::Stats)?;
            stats::findings(&report, &input.name, &read)
        }
        (None, None) => Vec::new(),
    };
    env.progress.finish();
    let mut summary = LogSummary::default();
    let mut failures: Vec<EvidenceError> = Vec::new();
    let mut each = |sink: &mut dyn evidence::Sink, stdin: &mut dyn std::io::Read| {
        for log in &logs {
            let r = match log {
                LogOrigin::File(p) => {
                    let name = p.display().to_string();
                    match std::fs::File::open(p) {
                        Ok(f) => evidence::explain_log(&report, &name, f, all, &mut summary, sink),
                        Err(source) => Err(EvidenceError::Read {
                            name,
                            line: 0,
                            source,
                        }),
                    }
                }
                LogOrigin::Stdin => {
                    let mut bytes = Vec::new();
                    match stdin.read_to_end(&mut bytes) {
                        Ok(_) => evidence::explain_log(
                            &report,
                            "<stdin>",
                            std::io::Cursor::new(bytes),
                            all,
                            &mut summary,
                            sink,
                        ),
                        Err(source) => Err(EvidenceError::Read {
                            name: "<stdin>".into(),
                            line: 0,
                            source,
                        }),
                    }
                }
            };
            if let Err(e) = r {
                failures.push(e);
            }
        }
    };
    match format {
        Format::Table => {
            let mut grouped = out::Grouped::default();
            each(&mut grouped, env.stdin);
            out::write_table(&report.source, &summary, &grouped, &counters, env.out)?;
        }
        Format::Json => {
            let mut stream = out::JsonStream::start(env.out, &counters)?;
            each(&mut stream, env.stdin);
            stream.finish(&report.source, &summary)?;
        }
        Format::Yaml => {
            let mut lines: Vec<Explained> = Vec::new();
            each(&mut lines, env.stdin);
            let doc = out::ExplainDoc {
                counters: &counters,
                explained: &lines,
                schema_version: crate::model::report::SCHEMA_VERSION,
                source: &report.source,
                summary: &summary,
            };
            render::document::write(&doc, render::document::Doc::Yaml, env.out)?;
        }
    }
    if let Some(e) = failures.into_iter().next() {
        return Ok(Outcome::Incomplete(Error::Evidence(e)));
    }
    if let Some(e) = Error::undecodable(&report) {
        return Ok(Outcome::Incomplete(e));
    }
    Ok(Outcome::failing(
        summary.failed > 0 || counters.iter().any(|f| f.level.fails()),
    ))
}
