//! `explain`: the proxy's access-log lines, each joined with its configuration and named by
//! cause. The dump (or the live admin API) is read whole; the logs are streamed one after the
//! other into the table's groups or the JSON stream. A log that cannot be read is an error told
//! after the answer for the others (exit 2); lines of no format are counted, never an error.

use std::path::PathBuf;

use super::{options, read, Env, Judge, Origin, Outcome, RunError, UsageError};
use crate::evidence::{self, EvidenceError};
use crate::model::evidence::{Explained, LogSummary};
use crate::render::{self, explain as out, Format, View};
use crate::source::DocumentKind;
use crate::Error;

/// A log to explain: a file, or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogOrigin {
    File(PathBuf),
    Stdin,
}

pub(super) fn explain(
    env: &mut Env,
    origin: Option<Origin>,
    logs: Vec<LogOrigin>,
    all: bool,
    format: Format,
    judge: &Judge,
) -> Result<Outcome, RunError> {
    if logs.is_empty() {
        return Err(UsageError::ExplainNoLog.into());
    }
    let stdin_logs = logs.iter().filter(|l| **l == LogOrigin::Stdin).count();
    if stdin_logs > 1 || (stdin_logs == 1 && matches!(origin, Some(Origin::Stdin))) {
        return Err(UsageError::ExplainStdinTwice.into());
    }
    let opts = options(env, judge);
    let input = read(env, origin, View::Report)?;
    let report = crate::inspect_owned(input, &opts, env.progress)?;
    if report.document != DocumentKind::ConfigDump {
        return Err(UsageError::ExplainNeedsDump {
            source_name: report.source.clone(),
            got: report.document.label(),
        }
        .into());
    }
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
            out::write_table(&report.source, &summary, &grouped, env.out)?;
        }
        Format::Json => {
            let mut stream = out::JsonStream::start(env.out);
            each(&mut stream, env.stdin);
            stream.finish(&report.source, &summary)?;
        }
        Format::Yaml => {
            let mut lines: Vec<Explained> = Vec::new();
            each(&mut lines, env.stdin);
            let doc = out::ExplainDoc {
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
    Ok(Outcome::failing(summary.failed > 0))
}
