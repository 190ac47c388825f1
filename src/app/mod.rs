//! The commands as the binary runs them: one entry point, [`run`], from a typed [`Command`] and
//! the [`Env`] the binary built (the clock read once, stdin, stdout, progress, colour, threads)
//! to one [`Outcome`]. The exit-code policy lives in [`Outcome::exit_code`] and nowhere else.
//! Part of the binary, not the library: it may use every library module; nothing uses it but
//! `main.rs` and `cli`.

mod bundle;
mod error;
mod explain;
pub mod request;
mod sync;

use std::io::{Read, Write};
use std::path::PathBuf;

use time::OffsetDateTime;

use envinspect::admin::Admin;
use envinspect::bundle::Limits;
use envinspect::expect::{CheckInput, GenerateOptions};
use envinspect::model::DocumentKind;
use envinspect::model::Span;
use envinspect::progress::Progress;
use envinspect::render::{self, expectations::CheckFormat, Format, View};
use envinspect::Filters;
use envinspect::Input;
use envinspect::{Error, Inspection, Options, Report};

pub use bundle::Bundle;
pub use error::{advice, RunError, UsageError};
pub use explain::LogOrigin;
pub use request::{Authz, Trace};

/// What the binary provides: everything that comes from outside the program.
pub struct Env<'a> {
    /// The clock, read once (commands judge at `--now` when given, else at this).
    pub now: OffsetDateTime,
    /// Threads a command may use (a bundle's default `--jobs`, a large dump's decoding).
    pub threads: usize,
    /// Whether tables are coloured (`--color`, `NO_COLOR`, whether stdout is a terminal).
    pub color: render::Color,
    /// Where a document named `-` is read from.
    pub stdin: &'a mut dyn Read,
    /// Where the answer is written.
    pub out: &'a mut dyn Write,
    /// Told of progress ([`envinspect::progress::Quiet`] unless stderr is a terminal).
    pub progress: &'a dyn Progress,
}

/// Where a proxy's document comes from.
pub enum Origin {
    File(PathBuf),
    Stdin,
    Admin(Admin),
}

/// How to judge what is read: `--now`, `--redact`, `--expiry-warning`.
#[derive(Debug, Clone)]
pub struct Judge {
    /// The time certificates are judged at; `None` is the environment's clock.
    pub now: Option<OffsetDateTime>,
    pub redact: bool,
    pub expiry_warning: Span,
}

impl Default for Judge {
    /// The environment's clock, no redaction, and the command line's `--expiry-warning 24h`.
    fn default() -> Self {
        Judge {
            now: None,
            redact: false,
            expiry_warning: Span::from_seconds(24 * 3600),
        }
    }
}

/// A command, as the command line gives it.
pub enum Command {
    /// The report (`view: Report`) or one of its views, filtered.
    Show {
        origin: Option<Origin>,
        view: View,
        filters: Filters,
        /// Envoy's /stats or /stats/prometheus saved beside the dump (the report only).
        stats: Option<PathBuf>,
        /// Envoy's /certs saved beside the dump.
        certs: Option<PathBuf>,
        /// Trust anchors for a certificate file.
        roots: Option<PathBuf>,
        format: Format,
        judge: Judge,
    },
    Expect {
        origin: Option<Origin>,
        min_time_left: Span,
        format: Format,
        judge: Judge,
    },
    Check {
        origin: Option<Origin>,
        expectations: PathBuf,
        format: CheckFormat,
        judge: Judge,
    },
    Diff {
        before: PathBuf,
        after: PathBuf,
        format: CheckFormat,
        judge: Judge,
    },
    Authz(request::Authz),
    Trace(request::Trace),
    Bundle(bundle::Bundle),
    /// `explain`: access-log lines joined with the proxy's configuration, named by cause.
    Explain {
        origin: Option<Origin>,
        logs: Vec<LogOrigin>,
        /// Successful lines too, not only failures.
        all: bool,
        /// Envoy's stats of the same proxy (with an admin API and none given: read live).
        stats: Option<PathBuf>,
        format: Format,
        judge: Judge,
    },
    /// `proxy-status`: istioctl proxy-status offline, from syncz files or a bundle.
    ProxyStatus {
        /// One bundle, or syncz files (one per istiod).
        inputs: Vec<PathBuf>,
        /// Only the proxies whose name contains this.
        proxy: Option<String>,
        /// A bundle's proxies analysed in parallel; `None` is the environment's threads.
        jobs: Option<usize>,
        limits: Limits,
        format: Format,
        judge: Judge,
    },
    Rules {
        format: Format,
    },
    Fetch {
        admin: Admin,
        save: PathBuf,
    },
}

/// How a command ended, when it could answer at all.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing failed.
    Clean,
    /// The answer holds findings, drift, or a denial: data, not an error.
    Findings,
    /// The answer was written, but part of the input could not be read; the error says which.
    Incomplete(Error),
}

impl Outcome {
    /// The one exit-code policy: 0 clean, 1 findings, 2 error (also for `Err` from [`run`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Incomplete(_) => 2,
        }
    }

    fn failing(fails: bool) -> Outcome {
        if fails {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }
}

impl Command {
    /// The `-o` format asked for, when the command takes one of `render::Format`.
    fn format(&self) -> Option<Format> {
        match self {
            Command::Show { format, .. }
            | Command::Expect { format, .. }
            | Command::Explain { format, .. }
            | Command::ProxyStatus { format, .. }
            | Command::Rules { format } => Some(*format),
            Command::Authz(a) => Some(a.format),
            Command::Trace(t) => Some(t.format),
            Command::Bundle(b) => Some(b.format),
            _ => None,
        }
    }

    /// The commands that write an HTML page: the report and its views, certs, bundle, authz,
    /// trace, explain and proxy-status.
    fn writes_html(&self) -> bool {
        matches!(
            self,
            Command::Show { .. }
                | Command::Bundle(_)
                | Command::Authz(_)
                | Command::Trace(_)
                | Command::Explain { .. }
                | Command::ProxyStatus { .. }
        )
    }

    fn name(&self) -> &'static str {
        match self {
            Command::Show { .. } => "show",
            Command::Expect { .. } => "expect",
            Command::Check { .. } => "check",
            Command::Diff { .. } => "diff",
            Command::Authz(_) => "authz",
            Command::Trace(_) => "trace",
            Command::Bundle(_) => "bundle",
            Command::Explain { .. } => "explain",
            Command::ProxyStatus { .. } => "proxy-status",
            Command::Rules { .. } => "rules",
            Command::Fetch { .. } => "fetch",
        }
    }
}

/// Runs one command.
pub fn run(command: Command, env: &mut Env) -> Result<Outcome, RunError> {
    // One gate for `-o html`, before anything is read or written.
    if command.format() == Some(Format::Html) && !command.writes_html() {
        return Err(UsageError::FormatNotFor {
            command: command.name(),
            format: Format::Html,
        }
        .into());
    }
    match command {
        Command::Show {
            origin,
            view,
            filters,
            stats,
            certs,
            roots,
            format,
            judge,
        } => show(
            env,
            origin,
            view,
            &filters,
            Beside {
                certs,
                stats,
                roots,
            },
            format,
            &judge,
        ),
        Command::Expect {
            origin,
            min_time_left,
            format,
            judge,
        } => expect(env, origin, min_time_left, format, &judge),
        Command::Check {
            origin,
            expectations,
            format,
            judge,
        } => {
            let opts = options(env, &judge);
            let (e, input) = envinspect::load_expectations(&expectations, opts.now)?;
            let inspection = inspection(env, origin, &opts)?;
            let result = inspection.check(&e, &input);
            write_check(env, &result, inspection.redaction(), format)
        }
        Command::Diff {
            before,
            after,
            format,
            judge,
        } => {
            let opts = options(env, &judge);
            let before = Inspection::read(&before, &opts)?;
            let after = Inspection::read(&after, &opts)?;
            let strict = GenerateOptions {
                min_time_left: None,
                strict: true,
            };
            let expectations = before.generate(&strict).expectations;
            let input = CheckInput {
                expectations_name: format!("generated from {}", before.source()),
                ..Default::default()
            };
            // Both dumps' values: the failures quote the one as expected, the other as actual.
            let redaction = before
                .redaction()
                .zip(after.redaction())
                .map(|(b, a)| b.and(a));
            write_check(env, &after.check(&expectations, &input), redaction, format)
        }
        Command::Authz(c) => c.run(env),
        Command::Trace(c) => c.run(env),
        Command::Bundle(c) => c.run(env),
        Command::Explain {
            origin,
            logs,
            all,
            stats,
            format,
            judge,
        } => explain::explain(
            env,
            explain::Explain {
                origin,
                logs,
                all,
                stats,
            },
            format,
            &judge,
        ),
        Command::ProxyStatus {
            inputs,
            proxy,
            jobs,
            limits,
            format,
            judge,
        } => sync::proxy_status(
            env,
            sync::ProxyStatus {
                inputs,
                proxy,
                jobs,
                limits,
            },
            format,
            &judge,
        ),
        Command::Rules { format } => {
            render::catalog::render_rules(format, env.out)?;
            Ok(Outcome::Clean)
        }
        Command::Fetch { admin, save } => {
            for s in envinspect::admin::save(&admin, &save)? {
                writeln!(env.out, "{}\t{} bytes", s.path.display(), s.bytes)
                    .map_err(RunError::Write)?;
            }
            Ok(Outcome::Clean)
        }
    }
}

fn options(env: &Env, judge: &Judge) -> Options {
    let mut o = Options::at(judge.now.unwrap_or(env.now));
    o.redact = judge.redact;
    o.rules = envinspect::RuleOptions {
        expiry_warning: judge.expiry_warning,
    };
    o.threads = env.threads;
    o
}

/// The document: the file, stdin, or what the admin API answers for `view`.
fn read(env: &mut Env, origin: Option<Origin>, view: View) -> Result<Input, RunError> {
    Ok(match origin.ok_or(UsageError::NoInput)? {
        Origin::Admin(admin) => admin.get(envinspect::admin_endpoint(view))?,
        Origin::File(path) => envinspect::read_file(&path, env.progress)?,
        Origin::Stdin => {
            // Of unknown size: the bar counts bytes as they arrive (a slow pipe shows it is alive).
            env.progress.phase(envinspect::progress::Phase::Read, None);
            let stdin = envinspect::progress::Reading {
                inner: &mut env.stdin,
                progress: env.progress,
            };
            envinspect::read_from("<stdin>", stdin)?
        }
    })
}

/// The whole proxy, inspected; undecodable values are an error (nothing to check against).
fn inspection(
    env: &mut Env,
    origin: Option<Origin>,
    opts: &Options,
) -> Result<Inspection, RunError> {
    let input = read(env, origin, View::Report)?;
    let report = envinspect::inspect_owned(input, opts, env.progress)?;
    Ok(Inspection::new(report, opts)?)
}

/// Files given beside a dump: /certs and stats add findings to its report, roots are trust
/// anchors for a certificate file.
struct Beside {
    certs: Option<PathBuf>,
    stats: Option<PathBuf>,
    roots: Option<PathBuf>,
}

fn show(
    env: &mut Env,
    origin: Option<Origin>,
    view: View,
    filters: &Filters,
    beside: Beside,
    format: Format,
    judge: &Judge,
) -> Result<Outcome, RunError> {
    let mut opts = options(env, judge);
    let input = read(env, origin, view)?;
    opts.roots = beside
        .roots
        .as_deref()
        .map(envinspect::read_path)
        .transpose()?;
    let mut report = envinspect::inspect_owned(input, &opts, env.progress)?;
    if !view.shows(report.document) {
        return Err(UsageError::view_not_for(&report.source, view.name(), report.document).into());
    }
    if let Some(stats) = &beside.stats {
        let found = explain::stats_findings(&report, stats)?;
        report.findings.extend(found);
        report.findings.sort();
    }
    if let Some(certs) = &beside.certs {
        let certs = envinspect::inspect(&envinspect::read_path(certs)?, &Options::at(opts.now))?;
        if certs.document != DocumentKind::Certs {
            return Err(UsageError::NotCerts {
                source_name: certs.source,
                got: certs.document.label(),
            }
            .into());
        }
        envinspect::stale_certs(&mut report, &certs);
    }
    // Of the whole report: findings a filter keeps may quote the values of secrets it drops.
    let redaction = opts.redact.then(|| render::Redaction::of(&report));
    let redaction = redaction.as_ref();
    filters.apply(&mut report);
    env.progress.finish();
    render::render(&report, view, format, env.color, redaction, env.out)?;
    let outcome = match Error::undecodable(&report) {
        Some(e) => Outcome::Incomplete(e),
        None => Outcome::failing(fails(&report)),
    };
    drop_aside(report);
    Ok(outcome)
}

/// Drops `value` on a thread of its own: freeing the model of a large dump takes tens of
/// milliseconds (a twentieth of the whole run), which the answer need not wait for; the process
/// may exit before that thread ends. When no thread can be started, `value` is dropped here.
fn drop_aside<T: Send + 'static>(value: T) {
    // On failure `spawn` drops the closure, and `value` with it, on this thread.
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(value));
}

fn fails(report: &Report) -> bool {
    report.findings.iter().any(|f| f.level.fails())
}

fn expect(
    env: &mut Env,
    origin: Option<Origin>,
    min: Span,
    format: Format,
    judge: &Judge,
) -> Result<Outcome, RunError> {
    if format == Format::Table {
        return Err(UsageError::ExpectTable.into());
    }

    let opts = options(env, judge);
    let inspection = inspection(env, origin, &opts)?;
    env.progress.finish();
    let generated = inspection.generate(&GenerateOptions {
        min_time_left: (min.seconds() > 0).then_some(min),
        strict: false,
    });
    if format == Format::Json {
        render::document::write(
            &generated.expectations,
            render::document::Doc::Json,
            env.out,
        )?;
        return Ok(Outcome::Clean);
    }
    let mut header = vec![
        format!(
            "envinspect expectations, written from {}",
            inspection.source()
        ),
        format!(
            "at {} (check with: envinspect check DUMP --expect THIS_FILE)",
            inspection.now()
        ),
    ];
    header.extend(generated.notes);
    let yaml = generated
        .expectations
        .to_yaml(&header)
        .map_err(|e| RunError::Render(render::RenderError::Yaml(e)))?;
    env.out
        .write_all(yaml.as_bytes())
        .map_err(RunError::Write)?;
    Ok(Outcome::Clean)
}

fn write_check(
    env: &mut Env,
    result: &envinspect::model::expectation::CheckReport,
    redaction: Option<render::Redaction>,
    format: CheckFormat,
) -> Result<Outcome, RunError> {
    env.progress.finish();
    let format = format.painted(env.color);
    render::expectations::render_check(result, format, redaction.as_ref(), env.out)?;
    Ok(Outcome::failing(result.failed()))
}

/// A path as given on the command line: `-` is standard input.
pub fn file_origin(path: impl Into<PathBuf>) -> Origin {
    let path = path.into();
    if path.as_os_str() == "-" {
        Origin::Stdin
    } else {
        Origin::File(path)
    }
}
