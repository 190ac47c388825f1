//! The `envinspect` binary: parses flags, reads the clock and stdin/files, calls the library,
//! maps the outcome to an exit code (0 clean, 1 findings, 2 error). Nothing else lives here.

mod cli;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use cli::*;
use envinspect::expect::{GenerateOptions, Span};
use envinspect::filter::{ClusterFilter, EndpointFilter, Filters, ListenerFilter, RouteFilter};
use envinspect::render::check::render_check;
use envinspect::render::{self, View};
use envinspect::source::admin::Admin;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("envinspect: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let mut filters = Filters::default();
    let mut roots = None;
    let (target, view, common) = match cli.command {
        None => (cli.target, View::Report, cli.common),
        Some(Command::Clusters {
            target,
            fqdn,
            port,
            subset,
            direction,
            common,
        }) => {
            filters.clusters = ClusterFilter {
                fqdn,
                port,
                subset,
                direction,
            };
            (target, View::Clusters, common)
        }
        Some(Command::Listeners {
            target,
            port,
            common,
        }) => {
            filters.listeners = ListenerFilter { port };
            (target, View::Listeners, common)
        }
        Some(Command::Routes {
            target,
            name,
            common,
        }) => {
            filters.routes = RouteFilter { name };
            (target, View::Routes, common)
        }
        Some(Command::Endpoints {
            target,
            cluster,
            port,
            common,
        }) => {
            filters.endpoints = EndpointFilter { cluster, port };
            (target, View::Endpoints, common)
        }
        Some(Command::Secrets { target, common }) => (target, View::Secrets, common),
        Some(Command::Certs {
            target,
            secret,
            roots: r,
            common,
        }) => {
            filters.secret = secret;
            roots = r;
            (target, View::Certs, common)
        }
        Some(Command::Expect {
            min_time_left,
            output,
            when,
            target,
        }) => return expect(&target, min_time_left, output, &when),
        Some(Command::Check {
            expectations,
            output,
            when,
            target,
        }) => return check(&target, &expectations, output, &when),
        Some(Command::Diff {
            before,
            after,
            output,
            when,
        }) => return diff(&before, &after, output, &when),
        Some(Command::Authz {
            port,
            request,
            common,
            target,
        }) => return authz(&target, port, &request, &common),
        Some(Command::Trace {
            args,
            inbound,
            app,
            request,
            common,
            live,
        }) => return trace(args, inbound, app, &request, &common, live),
        Some(Command::Bundle {
            path,
            jobs,
            expectations,
            max_file_bytes,
            max_total_bytes,
            common,
        }) => {
            let limits = envinspect::source::bundle::Limits {
                entry_bytes: max_file_bytes,
                total_bytes: max_total_bytes,
                ..Default::default()
            };
            let expect = match expectations {
                Some(f) => {
                    let input = envinspect::source::read_path(&f)?;
                    let parsed = envinspect::expect::fleet::FleetExpectations::parse(
                        &input.name,
                        &input.bytes,
                    )?;
                    Some((input.name, parsed))
                }
                None => None,
            };
            return bundle(&path, jobs, limits, expect, &common);
        }
        Some(Command::Rules { output }) => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            render::rules::render_rules(output.format(), &mut out)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Fetch { admin, save, live }) => return fetch(&live.admin(&admin)?, &save),
    };
    let opts = common.when.options()?;
    let format = common.output.format();
    let input = target.read(view)?;
    let roots = roots
        .as_deref()
        .map(envinspect::source::read_path)
        .transpose()?;
    let pool = envinspect::Pool::load()?;
    let mut report = envinspect::inspect_with(&input, roots.as_ref(), &pool, &opts)?;
    if let Some(certs) = &common.certs {
        let certs = envinspect::inspect(&envinspect::source::read_path(certs)?, &pool, opts.now)?;
        anyhow::ensure!(
            certs.document == envinspect::source::DocumentKind::Certs,
            "{}: --certs expects Envoy's /certs output, got a {}",
            certs.source,
            certs.document.label()
        );
        envinspect::rules::stale_certs(&mut report, &certs);
    }
    filters.apply(&mut report);
    if common.when.redact {
        envinspect::model::redact::Redactor::of(&mut report).report(&mut report);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    render::render(&report, view, format, &mut out)?;
    out.flush()?;
    if let Some(e) = envinspect::Error::undecodable(&report) {
        eprintln!("envinspect: error: {e}");
        return Ok(ExitCode::from(2));
    }
    if report.findings.iter().any(|f| f.level.fails()) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn expect(target: &Target, min: Span, output: ExpectOutput, when: &When) -> Result<ExitCode> {
    let opts = when.options()?;
    let inspection = target.inspect(&opts)?;
    let generated = inspection.generate(&GenerateOptions {
        min_time_left: (min.seconds() > 0).then_some(min),
        strict: false,
    });
    let mut out = io::stdout().lock();
    match output {
        ExpectOutput::Yaml => {
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
            out.write_all(generated.expectations.to_yaml(&header)?.as_bytes())?;
        }
        ExpectOutput::Json => {
            serde_json::to_writer_pretty(&mut out, &generated.expectations)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(
    target: &Target,
    file: &std::path::Path,
    output: CheckOutput,
    when: &When,
) -> Result<ExitCode> {
    let opts = when.options()?;
    let (expectations, input) = envinspect::load_expectations(file, opts.now)?;
    let result = target.inspect(&opts)?.check(&expectations, &input);
    print_check(&result, output)
}

fn diff(
    before: &std::path::Path,
    after: &std::path::Path,
    output: CheckOutput,
    when: &When,
) -> Result<ExitCode> {
    let opts = when.options()?;
    let (before, after) = (
        envinspect::inspect_file(before, &opts)?,
        envinspect::inspect_file(after, &opts)?,
    );
    let strict = GenerateOptions {
        min_time_left: None,
        strict: true,
    };
    let expectations = before.generate(&strict).expectations;
    let input = envinspect::expect::CheckInput {
        expectations_name: format!("generated from {}", before.source()),
        ..Default::default()
    };
    print_check(&after.check(&expectations, &input), output)
}

fn print_check(
    result: &envinspect::model::check::CheckReport,
    output: CheckOutput,
) -> Result<ExitCode> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    render_check(result, output.format(), &mut out)?;
    out.flush()?;
    Ok(if result.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `authz`: the view, or with a request described, its evaluation (exit 0 allowed, 1 not).
fn authz(
    target: &Target,
    port: Option<u32>,
    request: &AuthzRequest,
    common: &Common,
) -> Result<ExitCode> {
    let opts = common.when.options()?;
    let report = target.inspect(&opts)?.into_report();
    let format = common.output.format();
    let mut out = io::BufWriter::new(io::stdout().lock());
    if !request.given() {
        anyhow::ensure!(
            request.to_request(0)?.headers.is_empty() && request.jwt.is_none() && request.method.is_none() && request.path.is_none(),
            "authz: describe the caller with --principal SPIFFE_ID or --plaintext to evaluate a request"
        );
        let view = envinspect::authz::view(&report, port);
        render::authz::render_view(&view, format, &mut out)?;
        out.flush()?;
        return Ok(if report.findings.iter().any(|f| f.level.fails()) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let port = port.context("authz: --port is needed to evaluate a request")?;
    let req = request.to_request(port)?;
    let e = envinspect::authz::evaluate(&report, &req, opts.now.unix_timestamp().max(0) as u64);
    render::authz::render_evaluation(&e, format, &mut out)?;
    out.flush()?;
    Ok(
        if e.decision == envinspect::model::decision::Decision::Allow {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

fn trace(
    mut args: Vec<String>,
    inbound: Option<u32>,
    app: Option<AppArg>,
    request: &AuthzRequest,
    common: &Common,
    live: TraceLive,
) -> Result<ExitCode> {
    // With --admin every positional is the destination; without, the first is the dump.
    let file = if live.admin.is_some() || args.is_empty() {
        None
    } else {
        Some(PathBuf::from(args.remove(0)))
    };
    let target = Target {
        file,
        admin: live.admin,
        live: live.live,
    };
    let what = args.first().cloned();
    let opts = common.when.options()?;
    let report = target.inspect(&opts)?.into_report();
    if let (Some(_), false, Some(flag)) = (inbound, request.given(), request.request_option()) {
        anyhow::bail!(
            "trace --inbound: {flag} describes a request to authorize: say who sends it with --principal SPIFFE_ID or --plaintext"
        );
    }
    let mut t = match (inbound, what) {
        (Some(port), None) => envinspect::trace::inbound(&report, port),
        (None, Some(w)) => {
            let dest: envinspect::trace::Target = w.parse().map_err(anyhow::Error::msg)?;
            let app = match app {
                None => envinspect::trace::AppProtocol::Auto,
                Some(AppArg::Tls) => envinspect::trace::AppProtocol::Tls,
                Some(AppArg::Plaintext) => envinspect::trace::AppProtocol::Plaintext,
            };
            envinspect::trace::outbound(&report, &request.to_probe(dest, app)?)
        }
        (Some(_), Some(w)) => {
            anyhow::bail!("trace: give HOST:PORT or --inbound PORT, not both ({w})")
        }
        (None, None) => anyhow::bail!("trace: give HOST:PORT to follow, or --inbound PORT"),
    };
    if let (Some(port), true) = (inbound, request.given()) {
        let req = request.to_request(port)?;
        let now = opts.now.unix_timestamp().max(0) as u64;
        t.authorization = Some(envinspect::authz::evaluate(&report, &req, now));
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    render::trace::render_trace(&t, common.output.format(), &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn bundle(
    path: &std::path::Path,
    jobs: Option<usize>,
    limits: envinspect::source::bundle::Limits,
    expect: Option<(String, envinspect::expect::fleet::FleetExpectations)>,
    common: &Common,
) -> Result<ExitCode> {
    // Flags every command shares that a bundle cannot honour are refused, not ignored.
    anyhow::ensure!(
        common.certs.is_none(),
        "bundle: --certs pairs one /certs file with one dump; a bundle has no single dump to pair it with"
    );
    anyhow::ensure!(
        !common.when.redact,
        "bundle: --redact is not supported for bundle output (use it per dump)"
    );
    let o = common.when.options()?;
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let opts = envinspect::bundle::BundleOptions {
        now: o.now,
        jobs,
        // One threshold, as for a single dump: --expiry-warning.
        warn_seconds: common.when.expiry_warning.seconds(),
        limits,
        rules: o.rules,
        expect,
    };
    // Progress on stderr only when it is a terminal; nothing otherwise.
    let tty = io::stderr().is_terminal();
    let progress = |n: usize| {
        if tty {
            eprint!("\renvinspect: {n} proxies analysed");
        }
    };
    let report = envinspect::bundle::analyse(path, &opts, &progress)?;
    if tty {
        eprint!("\r\x1b[2K");
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    render::bundle::render_bundle(&report, common.output.format(), &mut out)?;
    out.flush()?;
    let unreadable = report
        .proxies
        .iter()
        .filter(|p| p.kind == envinspect::model::bundle::ProxyKind::Unreadable)
        .count();
    if unreadable + report.refused.len() > 0 {
        eprintln!(
            "envinspect: error: {}: {unreadable} proxy document(s) unreadable, {} entries refused (see their rows)",
            report.source,
            report.refused.len()
        );
        return Ok(ExitCode::from(2));
    }
    // Findings and drift both fail, as for `check` (docs/expectations.md).
    let failing = report.findings.iter().any(|f| f.level.fails())
        || report
            .proxies
            .iter()
            .any(|p| p.findings > 0 || !p.drift.is_empty());
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `fetch --save`: one line per file written.
fn fetch(admin: &Admin, dir: &std::path::Path) -> Result<ExitCode> {
    let saved = envinspect::source::save::save(admin, dir)?;
    let mut out = io::stdout().lock();
    for s in saved {
        writeln!(out, "{}\t{} bytes", s.path.display(), s.bytes)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
