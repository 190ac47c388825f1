//! The command line: flags and subcommands (clap), and their translation into the library's
//! [`Command`] (paths, an admin client, the time asked for). Used only by `main.rs`.

use std::path::PathBuf;
use std::time::Duration;

use crate::app::{self, Judge, Origin, UsageError};
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use envinspect::admin::{Admin, AdminOptions};
use envinspect::model::Span;
use envinspect::render::expectations::CheckFormat;
use envinspect::render::Format;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

mod todo;

pub(crate) use todo::Todo;

/// Inspect an Envoy proxy: identity, certificates, TLS, mTLS modes and traffic policy, read from
/// a saved admin /config_dump (or /certs, /clusters?format=json, /server_info) or a live admin API.
#[derive(Parser, Debug)]
#[command(name = "envinspect", version, args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// Colour tables: `auto` on a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, global = true)]
    pub(crate) color: ColorArg,
    #[command(flatten)]
    pub(crate) common: Common,
    /// Envoy's /stats or /stats/prometheus saved beside the dump: counters that prove a failure
    /// become findings naming the object their stat prefix names.
    #[arg(long, value_name = "FILE")]
    pub(crate) stats: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) target: Target,
}

/// Where the document comes from: a file, or a live admin API.
#[derive(Args, Debug, Clone)]
pub(crate) struct Target {
    /// The document to read (`-` for stdin; `.gz` is detected by content).
    pub(crate) file: Option<PathBuf>,
    /// Inspect a live proxy instead: its admin API (Envoy's, or a ztunnel's), `http://host:port` or `host:port`.
    #[arg(long, value_name = "URL", conflicts_with = "file")]
    pub(crate) admin: Option<String>,
    #[command(flatten)]
    pub(crate) live: Live,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Live admin API")]
pub(crate) struct Live {
    /// Seconds to wait for the TCP connection.
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) connect_timeout: u64,
    /// Seconds for a whole request, body included.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout: u64,
    /// Largest response accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    pub(crate) max_bytes: u64,
    /// An HTTP proxy to reach the admin API through. Proxy environment variables are ignored.
    #[arg(long, value_name = "URL")]
    pub(crate) proxy: Option<String>,
}

impl Live {
    pub(crate) fn admin(&self, url: &str) -> Result<Admin> {
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
pub(crate) struct Common {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
    /// Envoy's /certs saved beside the dump (`fetch --save` writes it): report chains Envoy holds
    /// that no active secret has (stale-certs-endpoint).
    #[arg(long, value_name = "FILE")]
    pub(crate) certs: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) when: When,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct When {
    /// The time certificates are judged at (RFC 3339, e.g. 2024-05-01T00:00:00Z). Default: now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) now: Option<String>,
    /// Replace what changes at every rotation (serials, validity dates, fingerprints, time left,
    /// version_info) by [redacted], for snapshots.
    #[arg(long)]
    pub(crate) redact: bool,
    /// Warn (cert-expiring) about certificates with less than this left, when that is also less
    /// than half their lifetime (the rotation is overdue).
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub(crate) expiry_warning: Span,
}

impl When {
    pub(crate) fn judge(&self) -> Result<Judge> {
        let now = match &self.now {
            Some(t) => Some(
                OffsetDateTime::parse(t, &Rfc3339)
                    .with_context(|| format!("--now {t}: not an RFC 3339 time"))?,
            ),
            None => None,
        };
        Ok(Judge {
            now,
            redact: self.redact,
            expiry_warning: self.expiry_warning,
        })
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum CheckOutput {
    Table,
    Json,
    Yaml,
    Junit,
    Sarif,
}

impl CheckOutput {
    /// Colour is decided with the environment, in `main.rs` (see [`CheckFormat::painted`]).
    pub(crate) fn format(self) -> CheckFormat {
        match self {
            CheckOutput::Table => CheckFormat::Table { color: false },
            CheckOutput::Json => CheckFormat::Json,
            CheckOutput::Yaml => CheckFormat::Yaml,
            CheckOutput::Junit => CheckFormat::Junit,
            CheckOutput::Sarif => CheckFormat::Sarif,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum AppArg {
    Tls,
    Plaintext,
}

/// `--admin` for `trace`, whose positionals are not a `Target`'s.
#[derive(Args, Debug, Clone)]
pub(crate) struct TraceLive {
    /// Inspect a live Envoy instead: its admin API, `http://host:port` or `host:port`.
    #[arg(long, value_name = "URL")]
    pub(crate) admin: Option<String>,
    #[command(flatten)]
    pub(crate) live: Live,
}

/// A request to evaluate against the proxy's authorization (`authz`, `trace --inbound`).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Request")]
pub(crate) struct AuthzRequest {
    /// The client presents a certificate with this SPIFFE ID (URI SAN).
    #[arg(long, value_name = "SPIFFE_ID", conflicts_with_all = ["plaintext", "tls"])]
    pub(crate) principal: Option<String>,
    /// The client sends plaintext (no TLS).
    #[arg(long, conflicts_with = "tls")]
    pub(crate) plaintext: bool,
    /// The client speaks TLS but presents no certificate (a browser, `curl https://…`).
    #[arg(long)]
    pub(crate) tls: bool,
    /// Only a TCP connection, no HTTP request.
    #[arg(long)]
    pub(crate) tcp: bool,
    /// A listener by name, when the port alone does not say which.
    #[arg(long, value_name = "NAME")]
    pub(crate) listener: Option<String>,
    /// The request method (default GET).
    #[arg(long, value_name = "METHOD")]
    pub(crate) method: Option<String>,
    /// The request path, query string included.
    #[arg(long, value_name = "PATH")]
    pub(crate) path: Option<String>,
    /// The Host (:authority) header.
    #[arg(long, value_name = "HOST")]
    pub(crate) host: Option<String>,
    /// A request header, `name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub(crate) headers: Vec<String>,
    /// A bearer token: verified offline against the provider's inline JWKS at --now.
    #[arg(long, value_name = "TOKEN", conflicts_with = "request_principal")]
    pub(crate) jwt: Option<String>,
    /// A verified token of this issuer and subject, taken as given.
    #[arg(long, value_name = "ISS/SUB")]
    pub(crate) request_principal: Option<String>,
    /// The client's address (RBAC source and remote IP).
    #[arg(long, value_name = "IP")]
    pub(crate) source_ip: Option<std::net::IpAddr>,
    /// The address the connection is to (default: the node's IP, or the listener's).
    #[arg(long, value_name = "IP")]
    pub(crate) destination_ip: Option<std::net::IpAddr>,
    /// The SNI the client sends.
    #[arg(long, value_name = "NAME")]
    pub(crate) sni: Option<String>,
    /// The ALPN protocols the client offers, comma-separated.
    #[arg(long, value_name = "PROTOCOLS", value_delimiter = ',')]
    pub(crate) alpn: Option<Vec<String>>,
}

impl AuthzRequest {
    /// The request the flags describe (its port is the command's).
    fn request(self) -> Result<envinspect::authz::Request, UsageError> {
        let request_principal = self
            .request_principal
            .map(|rp| {
                rp.parse::<envinspect::model::RequestPrincipal>()
                    .map_err(|e| UsageError::RequestPrincipal(e.0))
            })
            .transpose()?;
        let principal = self
            .principal
            .map(|p| {
                p.parse::<envinspect::model::PeerId>()
                    .map_err(|e| UsageError::Principal(e.to_string()))
            })
            .transpose()?;
        Ok(envinspect::authz::Request {
            port: 0,
            client: match (principal, self.plaintext, self.tls) {
                (Some(p), _, _) => Some(envinspect::authz::Client::Certificate(p)),
                (None, true, _) => Some(envinspect::authz::Client::Plaintext),
                (None, false, true) => Some(envinspect::authz::Client::Tls),
                (None, false, false) => None,
            },
            tcp: self.tcp,
            listener: self.listener,
            method: self.method,
            path: self.path,
            host: self.host,
            headers: app::request::headers(&self.headers)?,
            jwt: self.jwt,
            request_principal,
            source_ip: self.source_ip,
            destination_ip: self.destination_ip,
            sni: self.sni,
            alpn: self.alpn,
        })
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum Output {
    Table,
    Json,
    Yaml,
    // One self-contained HTML page (the report, a view, certs, a bundle). No doc comment:
    // clap would then print every option's help in its long form.
    Html,
}

impl Output {
    pub(crate) fn format(self) -> Format {
        match self {
            Output::Table => Format::Table,
            Output::Json => Format::Json,
            Output::Yaml => Format::Yaml,
            Output::Html => Format::Html,
        }
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
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
        port: Option<u16>,
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
        port: Option<u16>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Workloads a ztunnel (Istio ambient) knows: address, node, waypoint, protocol, identity.
    Workloads {
        /// Only workloads of this namespace.
        #[arg(long)]
        namespace: Option<String>,
        /// Only workloads on this node.
        #[arg(long)]
        node: Option<String>,
        /// Only this workload: a pod name, `name.namespace`, or an address.
        #[arg(long)]
        workload: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Services a ztunnel (Istio ambient) knows: VIP, waypoint, endpoints, ports.
    Services {
        /// Only services of this namespace.
        #[arg(long)]
        namespace: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
    },
    /// Connections of the workloads a ztunnel (Istio ambient) serves, from its dump's
    /// workloadState or a connections list.
    Connections {
        /// Only this workload's: a pod name or `name.namespace`.
        #[arg(long)]
        workload: Option<String>,
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
        /// Only this secret's certificates (SDS name, or an inline certificate's owner); the
        /// findings and exit code stay the whole proxy's.
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
    /// save them under their bug-report names, for offline use (a ztunnel's: its config_dump).
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
        #[arg(short, long, value_enum, default_value_t = Output::Yaml)]
        output: Output,
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
    /// Why requests failed: each access-log line joined with the proxy's configuration
    /// (listener, chain, route, cluster, policy) and named by cause. `explain DUMP LOG…` or
    /// `explain --admin URL LOG…` (`-` reads stdin). Exit 1 when a failure is explained.
    Explain {
        /// `DUMP LOG…` (the dump is left out with --admin).
        #[arg(value_name = "FILES", num_args = 0..)]
        files: Vec<PathBuf>,
        /// Explain every access-log line, not only the failing ones.
        #[arg(long)]
        all: bool,
        /// Envoy's /stats or /stats/prometheus of the same proxy: counters that prove a failure,
        /// placed on their objects (with --admin, read live when not given).
        #[arg(long, value_name = "FILE")]
        stats: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        live: TraceLive,
    },
    /// List every rule: its id, kind (finding or drift), level and meaning.
    Rules {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Who may call this proxy: per port the authorization layers Envoy runs (RBAC, jwt_authn,
    /// ext_authz) and their policies; with --principal, --tls or --plaintext, what Envoy would do with
    /// that request (exit 0 allowed, 1 otherwise).
    Authz {
        /// The inbound port (Istio: the destination port behind virtualInbound).
        #[arg(long)]
        port: Option<u16>,
        /// A ztunnel's workload (a pod name, `name.namespace`, or an address): the view shows the
        /// policies that apply to it, an evaluation takes it as the destination.
        #[arg(long, value_name = "WORKLOAD", conflicts_with = "destination_ip")]
        workload: Option<String>,
        #[command(flatten)]
        request: AuthzRequest,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: Target,
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
        inbound: Option<u16>,
        /// What the application sends (default: TLS on 443, plaintext elsewhere).
        #[arg(long, value_enum)]
        app: Option<AppArg>,
        /// The request: --method, --path, --host, --header, --sni, --alpn, --tcp and
        /// --source-ip say what is routed (both directions); with --inbound, --principal,
        /// --plaintext and the token options describe a request to authorize (as `authz`).
        #[command(flatten)]
        request: AuthzRequest,
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
    /// Is each proxy in sync with istiod, and did it refuse a push? istioctl proxy-status
    /// offline: NAME, CLUSTER, CDS, LDS, EDS, RDS, ECDS, ISTIOD, VERSION from istiod's
    /// debug/syncz (one file per istiod, either form), or from a bug-report, whose proxies' dumps
    /// are cross-checked. Exit 1 when a proxy is STALE or refused (NACKed) a push.
    ProxyStatus {
        /// A bug-report (.tar.gz or directory), or syncz files.
        #[arg(value_name = "BUNDLE|SYNCZ", required = true, num_args = 1..)]
        inputs: Vec<PathBuf>,
        /// Only the proxies whose name contains this (istioctl's `proxy-status POD` before 1.22).
        #[arg(long, value_name = "NAME")]
        proxy: Option<String>,
        /// A bundle's proxies analysed in parallel (default: the number of CPUs).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Print a shell completion script on stdout (`envinspect completions bash > …`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout (`envinspect man > envinspect.1`).
    Man,
}

impl Target {
    /// Where the document comes from; `None` when nothing was given (the library says so).
    fn origin(&self) -> Result<Option<Origin>> {
        Ok(match (&self.file, &self.admin) {
            (_, Some(url)) => Some(Origin::Admin(self.live.admin(url)?)),
            (Some(file), None) => Some(app::file_origin(file)),
            (None, None) => None,
        })
    }
}

impl Common {
    fn format(&self) -> Format {
        self.output.format()
    }
}
