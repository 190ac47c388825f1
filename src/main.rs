//! The `envinspect` binary: parses flags, reads the clock and stdin/files, calls the library,
//! maps the outcome to an exit code (0 clean, 1 findings, 2 error). Nothing else lives here.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use envinspect::filter::{ClusterFilter, EndpointFilter, Filters, ListenerFilter, RouteFilter};
use envinspect::render::{self, Format, View};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Inspect an Envoy proxy: identity, certificates, TLS, mTLS modes and traffic policy, read from
/// a saved admin /config_dump (or /certs, /clusters?format=json, /server_info).
#[derive(Parser, Debug)]
#[command(name = "envinspect", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The document to read (`-` for stdin; `.gz` is detected by content).
    file: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// The time certificates are judged at (RFC 3339, e.g. 2024-05-01T00:00:00Z). Default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Output {
    Table,
    Json,
    Yaml,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Clusters with their TLS (SNI, mTLS or plaintext, auto-mTLS matches).
    Clusters {
        file: PathBuf,
        /// Service FQDN, cluster name, or short name (`reviews`).
        #[arg(long)]
        fqdn: Option<String>,
        #[arg(long)]
        port: Option<u16>,
        #[arg(long)]
        subset: Option<String>,
        /// `inbound`, `outbound`, `inbound-vip`…
        #[arg(long)]
        direction: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Listeners, one row per filter chain: match, destination, TLS.
    Listeners {
        file: PathBuf,
        #[arg(long)]
        port: Option<u32>,
        #[command(flatten)]
        common: Common,
    },
    /// Route configurations: virtual hosts, matches, targets.
    Routes {
        file: PathBuf,
        /// Route configuration name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Endpoints (from `?include_eds` dumps or /clusters?format=json).
    Endpoints {
        file: PathBuf,
        #[arg(long)]
        cluster: Option<String>,
        #[arg(long)]
        port: Option<u32>,
        #[command(flatten)]
        common: Common,
    },
    /// SDS secrets: status, validity, identity, chain verdict.
    Secrets {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Every certificate in full: from a config dump, Envoy's /certs, or PEM/DER files.
    Certs {
        file: PathBuf,
        /// Only this secret (SDS name, or an inline certificate's owner).
        #[arg(long)]
        secret: Option<String>,
        /// Trust anchors (PEM/DER) to verify a PEM/DER file's chain against.
        #[arg(long, value_name = "FILE")]
        roots: Option<PathBuf>,
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
    let (file, view, common) = match cli.command {
        None => {
            let file = cli
                .file
                .context("no input: give a file (or - for stdin); see --help")?;
            (file, View::Report, cli.common)
        }
        Some(Command::Clusters {
            file,
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
            (file, View::Clusters, common)
        }
        Some(Command::Listeners { file, port, common }) => {
            filters.listeners = ListenerFilter { port };
            (file, View::Listeners, common)
        }
        Some(Command::Routes { file, name, common }) => {
            filters.routes = RouteFilter { name };
            (file, View::Routes, common)
        }
        Some(Command::Endpoints {
            file,
            cluster,
            port,
            common,
        }) => {
            filters.endpoints = EndpointFilter { cluster, port };
            (file, View::Endpoints, common)
        }
        Some(Command::Secrets { file, common }) => (file, View::Secrets, common),
        Some(Command::Certs {
            file,
            secret,
            roots: r,
            common,
        }) => {
            filters.secret = secret;
            roots = r;
            (file, View::Certs, common)
        }
    };
    let now = match &common.now {
        Some(t) => OffsetDateTime::parse(t, &Rfc3339)
            .with_context(|| format!("--now {t}: not an RFC 3339 time"))?,
        None => OffsetDateTime::now_utc(),
    };
    let format = match common.output {
        Output::Table => Format::Table,
        Output::Json => Format::Json,
        Output::Yaml => Format::Yaml,
    };
    let input = envinspect::source::read_path(&file)?;
    let roots = roots
        .as_deref()
        .map(envinspect::source::read_path)
        .transpose()?;
    let pool = envinspect::Pool::load()?;
    let mut report = envinspect::inspect_with_roots(&input, roots.as_ref(), &pool, now)?;
    filters.apply(&mut report);
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
    if !report.findings.is_empty() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
