//! How a command fails without an answer: what the command line asked that cannot be done
//! ([`UsageError`]), and everything else ([`RunError`]), typed, with their sources chained.

use envinspect::render;
use envinspect::Error;

/// What a command line asks that cannot be done as asked.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("no input: give a file (or - for stdin) or --admin URL; see --help")]
    NoInput,
    #[error("{source_name}: --certs expects Envoy's /certs output, got a {got}")]
    NotCerts {
        source_name: String,
        got: &'static str,
    },
    #[error("--header {0:?}: {1}")]
    Header(String, &'static str),
    #[error("--request-principal {0}: expected ISSUER/SUBJECT")]
    RequestPrincipal(String),
    #[error("--principal: {0}")]
    Principal(String),
    #[error("trace: {0} describes an inbound request: use it with --inbound PORT (outbound, say the client with --app)")]
    InboundOption(&'static str),
    #[error("trace --inbound: {0} describes a request to authorize: say who sends it with --principal SPIFFE_ID, --tls or --plaintext")]
    InboundWithoutClient(&'static str),
    #[error("trace: give HOST:PORT or --inbound PORT, not both ({0})")]
    TraceBoth(String),
    #[error("trace: give HOST:PORT to follow, or --inbound PORT")]
    TraceNeither,
    #[error("trace: {0}")]
    Destination(#[from] envinspect::trace::TargetError),
    #[error("authz: describe the caller with --principal SPIFFE_ID, --tls or --plaintext to evaluate a request")]
    AuthzWithoutClient,
    #[error("authz: --port is needed to evaluate a request")]
    AuthzWithoutPort,
    #[error("expect: writes expectations as yaml or json; -o table has no meaning here")]
    ExpectTable,
    #[error("bundle: --certs pairs one /certs file with one dump; a bundle has no single dump to pair it with")]
    BundleCerts,
    #[error("bundle: --redact is not supported for bundle output (use it per dump)")]
    BundleRedact,
    #[error("authz --workload names a ztunnel's workload; an Envoy's inbound is chosen with --port (and --listener)")]
    WorkloadNotZtunnel,
    #[error("authz --workload {0}: no workload of the ztunnel dump has that name or address")]
    NoSuchWorkload(String),
    /// A view of what the document does not hold (Envoy's clusters of a ztunnel, ztunnel's
    /// workloads of an Envoy).
    #[error("explain: give the access logs to explain after the dump (`explain DUMP LOG…`, `-` for stdin)")]
    ExplainNoLog,
    #[error("explain: standard input can be read once: give the dump or one log as -, not both")]
    ExplainStdinTwice,
    #[error("explain BUNDLE: each proxy's stats/prometheus in the bundle is read; --stats pairs one file with one dump")]
    ExplainBundleStats,
    #[error("{source_name}: explain joins log lines with a config dump, got a {got}")]
    ExplainNeedsDump {
        source_name: String,
        got: &'static str,
    },
    #[error("proxy-status: give one bundle, or syncz files (one per istiod), not a bundle among other files")]
    ProxyStatusMixed,
    #[error("{0}: the bundle holds no istiod debug/syncz (istio/NS/ISTIOD-POD/debug/syncz): nothing says whether its proxies are in sync")]
    ProxyStatusNoSyncz(String),
    /// An output format the library offers that this command does not write yet.
    #[error("{command}: -o {} is not supported (html: the report and its views, certs, bundle, authz, trace, explain, proxy-status)", format.name())]
    FormatNotFor {
        command: &'static str,
        format: render::Format,
    },
    #[error("{source_name}: {view} cannot be shown for a {kind}: {why}")]
    ViewNotFor {
        source_name: String,
        view: &'static str,
        kind: &'static str,
        why: &'static str,
    },
}

impl UsageError {
    pub(crate) fn view_not_for(
        source_name: &str,
        view: &'static str,
        kind: envinspect::model::DocumentKind,
    ) -> Self {
        let why = if kind == envinspect::model::DocumentKind::Ztunnel {
            "ztunnel is not Envoy; it has workloads, services, policies and certificates (see `envinspect workloads`, `services`, `authz`, `secrets`)"
        } else {
            "workloads and services are what Istio ambient's ztunnel knows: give a ztunnel config dump"
        };
        UsageError::ViewNotFor {
            source_name: source_name.to_string(),
            view,
            kind: kind.label(),
            why,
        }
    }
}

/// Every way a command fails without an answer.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Inspect(#[from] Error),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error("writing the output")]
    Write(#[source] std::io::Error),
}

impl RunError {
    /// The reader of the output went away (`| head`): not worth a message.
    pub fn is_broken_pipe(&self) -> bool {
        let io = match self {
            RunError::Write(e) => Some(e),
            RunError::Render(render::RenderError::Io(e)) => Some(e),
            _ => None,
        };
        io.is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl From<envinspect::SourceError> for RunError {
    fn from(e: envinspect::SourceError) -> Self {
        RunError::Inspect(e.into())
    }
}

impl From<envinspect::expect::ExpectError> for RunError {
    fn from(e: envinspect::expect::ExpectError) -> Self {
        RunError::Inspect(e.into())
    }
}

/// What the command line adds to an error of the library: the flag that would change the
/// outcome, which the library does not know about (`--max-bytes` for a response too large).
pub fn advice(e: &anyhow::Error) -> &'static str {
    let too_large = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<envinspect::admin::AdminError>(),
            Some(envinspect::admin::AdminError::TooLarge { .. })
        )
    });
    if too_large {
        " (raise --max-bytes)"
    } else {
        ""
    }
}
