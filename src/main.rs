//! The `envinspect` binary: parses flags, reads the clock and stdin/files, calls the library,
//! maps the outcome to an exit code (0 clean, 1 findings, 2 error). Nothing else lives here.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use envinspect::expect::{GenerateOptions, Span};
use envinspect::filter::{ClusterFilter, EndpointFilter, Filters, ListenerFilter, RouteFilter};
use envinspect::render::check::{render_check, CheckFormat};
use envinspect::render::{self, Format, View};
use envinspect::source::admin::{Admin, AdminOptions};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Inspect an Envoy proxy: identity, certificates, TLS, mTLS modes and traffic policy, read from
/// a saved admin /config_dump (or /certs, /clusters?format=json, /server_info) or a live admin API.
#[derive(Parser, Debug)]
#[command(name = "envinspect", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    target: Target,
}

/// Where the document comes from: a file, or a live admin API.
#[derive(Args, Debug, Clone)]
struct Target {
    /// The document to read (`-` for stdin; `.gz` is detected by content).
    file: Option<PathBuf>,
    /// Inspect a live Envoy instead: its admin API, `http://host:port` or `host:port`.
    #[arg(long, value_name = "URL", conflicts_with = "file")]
    admin: Option<String>,
    #[command(flatten)]
    live: Live,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Live admin API")]
struct Live {
    /// Seconds to wait for the TCP connection.
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    connect_timeout: u64,
    /// Seconds for a whole request, body included.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Largest response accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    max_bytes: u64,
    /// An HTTP proxy to reach the admin API through. Proxy environment variables are ignored.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
}

impl Live {
    fn admin(&self, url: &str) -> Result<Admin> {
        let opts = AdminOptions {
            connect_timeout: Duration::from_secs(self.connect_timeout),
            timeout: Duration::from_secs(self.timeout),
            max_bytes: self.max_bytes,
            proxy: self.proxy.clone(),
        };
        Ok(Admin::new(url, opts)?)
    }
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// Envoy's /certs saved beside the dump (`fetch --save` writes it): report chains Envoy holds
    /// that no active secret has (stale-certs-endpoint).
    #[arg(long, value_name = "FILE")]
    certs: Option<PathBuf>,
    #[command(flatten)]
    when: When,
}

#[derive(Args, Debug, Clone)]
struct When {
    /// The time certificates are judged at (RFC 3339, e.g. 2024-05-01T00:00:00Z). Default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Replace what changes at every rotation (serials, validity dates, fingerprints, time left,
    /// version_info) by [redacted], for snapshots.
    #[arg(long)]
    redact: bool,
    /// Warn (cert-expiring) about certificates with less than this left, when that is also less
    /// than half their lifetime (the rotation is overdue).
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    expiry_warning: Span,
}

impl When {
    fn now(&self) -> Result<OffsetDateTime> {
        match &self.now {
            Some(t) => OffsetDateTime::parse(t, &Rfc3339)
                .with_context(|| format!("--now {t}: not an RFC 3339 time")),
            None => Ok(OffsetDateTime::now_utc()),
        }
    }

    fn options(&self) -> Result<envinspect::Options> {
        Ok(envinspect::Options {
            now: self.now()?,
            redact: self.redact,
            rules: envinspect::rules::RuleOptions {
                expiry_warning_seconds: self.expiry_warning.seconds(),
            },
        })
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum CheckOutput {
    Table,
    Json,
    Yaml,
    Junit,
    Sarif,
}

impl CheckOutput {
    /// Colour only for a table on a terminal, and never with NO_COLOR set.
    fn format(self) -> CheckFormat {
        match self {
            CheckOutput::Table => CheckFormat::Table {
                color: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            },
            CheckOutput::Json => CheckFormat::Json,
            CheckOutput::Yaml => CheckFormat::Yaml,
            CheckOutput::Junit => CheckFormat::Junit,
            CheckOutput::Sarif => CheckFormat::Sarif,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum AppArg {
    Tls,
    Plaintext,
}

/// `--admin` for `trace`, whose positionals are not a `Target`'s.
#[derive(Args, Debug, Clone)]
struct TraceLive {
    /// Inspect a live Envoy instead: its admin API, `http://host:port` or `host:port`.
    #[arg(long, value_name = "URL")]
    admin: Option<String>,
    #[command(flatten)]
    live: Live,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ExpectOutput {
    Yaml,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Output {
    Table,
    Json,
    Yaml,
}

impl Output {
    fn format(self) -> Format {
        match self {
            Output::Table => Format::Table,
            Output::Json => Format::Json,
            Output::Yaml => Format::Yaml,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Clusters with their TLS (SNI, mTLS or plaintext, auto-mTLS matches).
    Clusters {
        /// Service FQDN, cluster name, or short name (`reviews`).
        #[arg(long)]
        fqdn: Option<String>,
        /// Only clusters for this service port.
        #[arg(long)]
        port: Option<u16>,
        /// Only clusters for this DestinationRule subset.
        #[arg(long)]
        subset: Option<String>,
        /// `inbound`, `outbound`, `inbound-vip`…
        #[arg(long)]
        direction: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Listeners, one row per filter chain: match, destination, TLS.
    Listeners {
        /// Only listeners on this port.
        #[arg(long)]
        port: Option<u32>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Route configurations: virtual hosts, matches, targets.
    Routes {
        /// Route configuration name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Endpoints (from `?include_eds` dumps or /clusters?format=json).
    Endpoints {
        /// Only endpoints of this cluster (its full name).
        #[arg(long)]
        cluster: Option<String>,
        /// Only endpoints listening on this port.
        #[arg(long)]
        port: Option<u32>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// SDS secrets: status, validity, identity, chain verdict.
    Secrets {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Every certificate in full: from a config dump, Envoy's /certs, or PEM/DER files.
    Certs {
        /// Only this secret (SDS name, or an inline certificate's owner).
        #[arg(long)]
        secret: Option<String>,
        /// Trust anchors (PEM/DER) to verify a PEM/DER file's chain against.
        #[arg(long, value_name = "FILE")]
        roots: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Fetch a live Envoy's config_dump?include_eds, certs, server_info and clusters (JSON) and
    /// save them under their bug-report names, for offline use.
    Fetch {
        /// The admin API: `http://host:port` or `host:port`.
        admin: String,
        /// The directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        save: PathBuf,
        #[command(flatten)]
        live: Live,
    },
    /// Write expectations from a known-good proxy (YAML on stdout), for `check`.
    Expect {
        /// Require every certificate to have this long left when checked (`12h`, `2d`…); left
        /// out when the dump itself does not meet it. `0s` to leave it out.
        #[arg(long, value_name = "DURATION", default_value = "12h")]
        min_time_left: Span,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ExpectOutput::Yaml)]
        output: ExpectOutput,
        #[command(flatten)]
        when: When,
        #[command(flatten)]
        target: Target,
    },
    /// Check a proxy against expectations: exit 0 when they hold, 1 on drift, 2 if it could not check.
    Check {
        /// The expectations file (YAML or JSON), e.g. written by `envinspect expect`.
        #[arg(long = "expect", value_name = "FILE")]
        expectations: PathBuf,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = CheckOutput::Table)]
        output: CheckOutput,
        #[command(flatten)]
        when: When,
        #[command(flatten)]
        target: Target,
    },
    /// What changed in identity, roots, TLS, secrets and policy between two dumps: exit 0 when
    /// nothing did, 1 when something did.
    Diff {
        before: PathBuf,
        after: PathBuf,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = CheckOutput::Table)]
        output: CheckOutput,
        #[command(flatten)]
        when: When,
    },
    /// List every rule: its id, kind (finding or drift), level and meaning.
    Rules {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Follow a connection through the proxy: listener, filter chain, route, cluster, and what
    /// happens on the wire. `trace FILE HOST:PORT`, `trace --admin URL HOST:PORT`, or
    /// `trace FILE --inbound PORT`.
    Trace {
        /// `[FILE] HOST:PORT` (the file is left out with --admin).
        #[arg(value_name = "ARGS", num_args = 0..=2)]
        args: Vec<String>,
        /// Trace inbound traffic to this port instead.
        #[arg(long, value_name = "PORT")]
        inbound: Option<u32>,
        /// What the application sends (default: TLS on 443, plaintext elsewhere).
        #[arg(long, value_enum)]
        app: Option<AppArg>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        live: TraceLive,
    },
    /// Analyse a whole fleet offline: an istioctl bug-report (.tar.gz or directory), egctl
    /// collect, must-gather, or any directory of dumps. One row per proxy, then fleet findings.
    Bundle {
        /// The archive or directory.
        path: PathBuf,
        /// Proxies analysed in parallel (default: the number of CPUs).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Report certificates anywhere in the fleet expiring within this (fleet-cert-expiring).
        #[arg(long, value_name = "DURATION", default_value = "24h")]
        warn: Span,
        /// Fleet expectations: per-proxy expectations selected by namespace/pod/identity globs
        /// (docs/expectations.md); failures are drift (exit 1).
        #[arg(long = "expect", value_name = "FILE")]
        expectations: Option<PathBuf>,
        /// Largest single file read from the bundle, in bytes.
        #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
        max_file_bytes: u64,
        /// Largest total read from an archive once decompressed, in bytes (gzip bombs).
        #[arg(long, value_name = "BYTES", default_value_t = 16 << 30)]
        max_total_bytes: u64,
        #[command(flatten)]
        common: Common,
    },
}

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
        Some(Command::Trace {
            args,
            inbound,
            app,
            common,
            live,
        }) => return trace(args, inbound, app, &common, live),
        Some(Command::Bundle {
            path,
            jobs,
            warn,
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
            return bundle(&path, jobs, warn, limits, expect, &common);
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
    if let Some(first) = report
        .warnings
        .iter()
        .find(|w| w.severity == envinspect::decode::Severity::Error)
    {
        eprintln!(
            "envinspect: error: {}: {} value(s) could not be decoded; first at {}: {}",
            input.name,
            report.error_count(),
            first.first_pointer,
            first.message
        );
        return Ok(ExitCode::from(2));
    }
    if report.findings.iter().any(|f| f.level.fails()) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

impl Target {
    /// The document: the file, or what the admin API answers for `view`.
    fn read(&self, view: View) -> Result<envinspect::source::Input> {
        Ok(match (&self.file, &self.admin) {
            (_, Some(url)) => self
                .live
                .admin(url)?
                .get(envinspect::admin_endpoint(view))?,
            (Some(file), None) => envinspect::source::read_path(file)?,
            (None, None) => {
                anyhow::bail!("no input: give a file (or - for stdin) or --admin URL; see --help")
            }
        })
    }

    /// The whole proxy, inspected; undecodable values are an error (nothing to check against).
    fn inspect(&self, opts: &envinspect::Options) -> Result<envinspect::Inspection> {
        let input = self.read(View::Report)?;
        let report = envinspect::inspect_with(&input, None, &envinspect::Pool::load()?, opts)?;
        Ok(envinspect::Inspection::new(report, opts)?)
    }
}

fn expect(target: &Target, min: Span, output: ExpectOutput, when: &When) -> Result<ExitCode> {
    let opts = when.options()?;
    let inspection = target.inspect(&opts)?;
    let generated = inspection.generate(&GenerateOptions {
        min_time_left: (min.seconds() > 0).then_some(min),
        strict: false,
    });
    let report = inspection.report();
    let mut out = io::stdout().lock();
    match output {
        ExpectOutput::Yaml => {
            let mut header = vec![
                format!("envinspect expectations, written from {}", report.source),
                format!(
                    "at {} (check with: envinspect check DUMP --expect THIS_FILE)",
                    report.now
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
        expectations_name: format!("generated from {}", before.report().source),
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

fn trace(
    mut args: Vec<String>,
    inbound: Option<u32>,
    app: Option<AppArg>,
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
    let report = target.inspect(&opts)?.report();
    let t = match (inbound, what) {
        (Some(port), None) => envinspect::trace::inbound(&report, port),
        (None, Some(w)) => {
            let dest: envinspect::trace::Target = w.parse().map_err(anyhow::Error::msg)?;
            let app = match app {
                None => envinspect::trace::AppProtocol::Auto,
                Some(AppArg::Tls) => envinspect::trace::AppProtocol::Tls,
                Some(AppArg::Plaintext) => envinspect::trace::AppProtocol::Plaintext,
            };
            envinspect::trace::outbound(&report, &dest, app)
        }
        (Some(_), Some(w)) => {
            anyhow::bail!("trace: give HOST:PORT or --inbound PORT, not both ({w})")
        }
        (None, None) => anyhow::bail!("trace: give HOST:PORT to follow, or --inbound PORT"),
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    render::trace::render_trace(&t, common.output.format(), &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn bundle(
    path: &std::path::Path,
    jobs: Option<usize>,
    warn: Span,
    limits: envinspect::source::bundle::Limits,
    expect: Option<(String, envinspect::expect::fleet::FleetExpectations)>,
    common: &Common,
) -> Result<ExitCode> {
    let o = common.when.options()?;
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let opts = envinspect::bundle::BundleOptions {
        now: o.now,
        jobs,
        warn_seconds: warn.seconds(),
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
    let failing = report.findings.iter().any(|f| f.level.fails())
        || report.proxies.iter().any(|p| p.findings > 0);
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
