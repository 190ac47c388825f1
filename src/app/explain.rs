//! `explain`: the proxy's access-log lines, each joined with its configuration and named by
//! cause. The dump (or the live admin API) is read whole; the logs are streamed one after the
//! other into the table's groups or the JSON stream. A log that cannot be read is an error told
//! after the answer for the others (exit 2); lines of no format are counted, never an error.

use std::path::{Path, PathBuf};

use super::{options, read, Env, Judge, Origin, Outcome, RunError, UsageError};
use envinspect::admin::Endpoint;
use envinspect::evidence::stats::{self, StatsError};
use envinspect::evidence::{self, EvidenceError};
use envinspect::model::evidence::{Explained, LogSummary};
use envinspect::model::DocumentKind;
use envinspect::model::{Finding, Report};
use envinspect::render::{self, explain as out, Format, View};
use envinspect::Error;

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
        // `explain BUNDLE`: every proxy's log and stats, explained against its own dump.
        if let Some(Origin::File(path)) = &origin {
            if is_bundle(path) {
                return explain_bundle(env, path, stats.is_some(), format, judge);
            }
        }
        return Err(UsageError::ExplainNoLog.into());
    }
    let stdin_logs = logs.iter().filter(|l| **l == LogOrigin::Stdin).count();
    if stdin_logs > 1 || (stdin_logs == 1 && matches!(origin, Some(Origin::Stdin))) {
        return Err(UsageError::ExplainStdinTwice.into());
    }
    let opts = options(env, judge);
    // A live proxy's stats are read from it too, unless a file is given.
    let (input, live) = match origin {
        Some(Origin::Admin(a)) => (a.get(envinspect::admin_endpoint(View::Report))?, Some(a)),
        other => (read(env, other, View::Report)?, None),
    };
    let report = envinspect::inspect_owned(input, &opts, env.progress)?;
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
    let threads = env.threads;
    let mut failures: Vec<EvidenceError> = Vec::new();
    let mut each = |sink: &mut dyn evidence::Sink, stdin: &mut dyn std::io::Read| {
        for log in &logs {
            let r = match log {
                LogOrigin::File(p) => {
                    let name = p.display().to_string();
                    match std::fs::File::open(p) {
                        Ok(f) => evidence::explain_log_parallel(
                            &report,
                            &name,
                            f,
                            all,
                            threads,
                            &mut summary,
                            sink,
                        ),
                        Err(source) => Err(EvidenceError::Read {
                            name,
                            line: 0,
                            source,
                        }),
                    }
                }
                // Streamed as it comes (on this thread: stdin is the caller's).
                LogOrigin::Stdin => {
                    evidence::explain_log(&report, "<stdin>", &mut *stdin, all, &mut summary, sink)
                }
            };
            if let Err(e) = r {
                failures.push(e);
            }
        }
    };
    match format {
        // Both group the failing lines by cause; the page and the table show the same groups.
        Format::Table | Format::Html => {
            let mut grouped = evidence::Grouped::default();
            each(&mut grouped, env.stdin);
            let write = if format == Format::Html {
                out::write_html
            } else {
                out::write_table
            };
            write(
                &report.source,
                &summary,
                &grouped.into_groups(),
                &counters,
                env.out,
            )?;
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
                schema_version: envinspect::model::report::SCHEMA_VERSION,
                source: &report.source,
                summary: &summary,
            };
            render::document::write(&doc, render::document::Doc::Yaml, env.out)?;
        }
        format => {
            return Err(UsageError::FormatNotFor {
                command: "explain",
                format,
            }
            .into())
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

/// A directory, or a tar archive (`.tar`, `.tar.gz`, `.tgz`): a bundle, as `bundle` reads it.
pub(super) fn is_bundle(path: &Path) -> bool {
    let name = path.to_string_lossy();
    path.is_dir()
        || [".tar", ".tar.gz", ".tgz"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// `explain BUNDLE`: the bundle analysed as `bundle` does, then each proxy's failing requests by
/// cause and its counters (JSON and YAML: the proxies' `evidence`, by proxy).
fn explain_bundle(
    env: &mut Env,
    path: &Path,
    stats_given: bool,
    format: Format,
    judge: &Judge,
) -> Result<Outcome, RunError> {
    if stats_given {
        return Err(UsageError::ExplainBundleStats.into());
    }
    if format == Format::Html {
        return Err(UsageError::FormatNotFor {
            command: "explain (a bundle: use `bundle -o html`, whose proxy sections hold the same)",
            format,
        }
        .into());
    }
    let o = options(env, judge);
    let mut opts = envinspect::bundle::BundleOptions::at(o.now);
    opts.jobs = env.threads;
    opts.expiry_warning = judge.expiry_warning;
    opts.rules = o.rules;
    env.progress
        .phase(envinspect::progress::Phase::Bundle, None);
    let report = envinspect::bundle::analyse(path, &opts, env.progress);
    env.progress.finish();
    let report = report?;
    let proxies: Vec<(&str, &envinspect::model::evidence::ProxyEvidence)> = report
        .proxies
        .iter()
        .filter_map(|p| p.evidence.as_ref().map(|e| (p.proxy.as_str(), e)))
        .collect();
    match format.doc() {
        Some(doc) => {
            let by: std::collections::BTreeMap<&str, _> = proxies.iter().copied().collect();
            let body = serde_json::json!({
                "proxies": by,
                "schema_version": envinspect::model::report::SCHEMA_VERSION,
                "source": report.source,
            });
            render::document::write(&body, doc, env.out)?;
        }
        None => {
            let w = &mut *env.out;
            let io = RunError::Write;
            writeln!(w, "explain: {}", out::clean(&report.source)).map_err(io)?;
            if proxies.is_empty() {
                writeln!(w, "no proxy of the bundle has an istio-proxy.log or stats/prometheus beside its dump").map_err(RunError::Write)?;
            }
            for (proxy, e) in &proxies {
                writeln!(w, "\n== {} ==", out::clean(proxy)).map_err(RunError::Write)?;
                out::write_summary(&e.summary, w)?;
                out::write_counters(&e.counters, w)?;
                out::write_causes(&e.causes, w)?;
                for err in &e.errors {
                    writeln!(w, "evidence not read: {}", out::clean(err))
                        .map_err(RunError::Write)?;
                }
            }
        }
    }
    let errors: Vec<&String> = proxies.iter().flat_map(|(_, e)| &e.errors).collect();
    if let Some(first) = errors.first() {
        return Ok(Outcome::Incomplete(Error::Bundle {
            name: format!("{}: {first}", report.source),
            unreadable: errors.len(),
            refused: report.refused.len(),
        }));
    }
    let failing = proxies
        .iter()
        .any(|(_, e)| e.summary.failed > 0 || e.counters.iter().any(|f| f.level.fails()));
    Ok(Outcome::failing(failing))
}
