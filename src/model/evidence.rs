//! Evidence: how the proxy was told to log and count (configuration read from the dump), and
//! what `explain` makes of the lines and counters it wrote. Data only: reading log lines and
//! stats text lives in `evidence/`, joining them with the rest of the report too.

use super::catalog::RuleId;
use serde::Serialize;

/// An `access_log` entry of a listener, an HTTP connection manager or a TCP proxy: where it
/// writes and in which format.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessLog {
    /// The logger's extension (`envoy.access_loggers.file`, `…stdout`, `…open_telemetry`…).
    pub logger: String,
    /// The file a file logger writes (`/dev/stdout` for the stdout logger); `None` for loggers
    /// that send elsewhere (gRPC, OpenTelemetry), whose lines never reach a file.
    pub path: Option<String>,
    /// The format its lines are written in.
    pub format: LogFormat,
    /// JSON Pointer to the `access_log` entry in the dump.
    pub pointer: crate::model::Pointer,
}

/// The format of an access log's lines, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// No format given: Envoy's default text format.
    EnvoyDefault,
    /// A text format string with `%COMMAND%` operators.
    Text(String),
    /// JSON: each key (nested keys joined by `.`) and the template of its value.
    Json(Vec<(String, String)>),
    /// Not a file format envinspect reads (a typed JSON format with non-string values only, a
    /// CEL or other formatter extension): lines written with it match only by chance.
    Other(String),
}

/// Envoy's default format (`HttpSubstitutionFormatUtils::defaultSubstitutionFormatter`), used
/// by a file access log given no format.
pub const ENVOY_DEFAULT: &str = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

/// Istio's TEXT format (`EnvoyTextLogFormat`, pilot/pkg/model/telemetry_logging.go).
pub const ISTIO_TEXT: &str = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

/// Istio's JSON format (`EnvoyJSONLogFormatIstio`): key, template.
pub const ISTIO_JSON: &[(&str, &str)] = &[
    ("authority", "%REQ(:AUTHORITY)%"),
    ("bytes_received", "%BYTES_RECEIVED%"),
    ("bytes_sent", "%BYTES_SENT%"),
    (
        "connection_termination_details",
        "%CONNECTION_TERMINATION_DETAILS%",
    ),
    ("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"),
    ("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"),
    ("duration", "%DURATION%"),
    ("method", "%REQ(:METHOD)%"),
    ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
    ("protocol", "%PROTOCOL%"),
    ("request_id", "%REQ(X-REQUEST-ID)%"),
    ("requested_server_name", "%REQUESTED_SERVER_NAME%"),
    ("response_code", "%RESPONSE_CODE%"),
    ("response_code_details", "%RESPONSE_CODE_DETAILS%"),
    ("response_flags", "%RESPONSE_FLAGS%"),
    ("route_name", "%ROUTE_NAME%"),
    ("start_time", "%START_TIME%"),
    ("upstream_cluster", "%UPSTREAM_CLUSTER_RAW%"),
    ("upstream_host", "%UPSTREAM_HOST%"),
    ("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"),
    (
        "upstream_service_time",
        "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    ),
    (
        "upstream_transport_failure_reason",
        "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
    ),
    ("user_agent", "%REQ(USER-AGENT)%"),
    ("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"),
];

impl LogFormat {
    /// The name of a format every Envoy or Istio writes: `envoy-default` (no format, or
    /// Envoy's default spelled out), `istio-text` or `istio-json` (Istio's
    /// `accessLogEncoding`). `None` for any other.
    pub fn well_known(&self) -> Option<&'static str> {
        let trim = |s: &str| s.trim_end_matches(['\n', '\r']).to_string();
        match self {
            LogFormat::EnvoyDefault => Some("envoy-default"),
            LogFormat::Text(t) if trim(t) == trim(ENVOY_DEFAULT) => Some("envoy-default"),
            LogFormat::Text(t) if trim(t) == trim(ISTIO_TEXT) => Some("istio-text"),
            LogFormat::Json(keys) => {
                let mut k: Vec<(&str, &str)> =
                    keys.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                k.sort_unstable();
                let mut istio = ISTIO_JSON.to_vec();
                istio.sort_unstable();
                (k == istio).then_some("istio-json")
            }
            _ => None,
        }
    }

    /// What the report calls it: a well-known name, else `custom text`, `custom JSON`, or the
    /// formatter it names.
    pub fn label(&self) -> String {
        if let Some(k) = self.well_known() {
            return k.to_string();
        }
        match self {
            LogFormat::Text(_) => "custom text".into(),
            LogFormat::Json(_) => "custom JSON".into(),
            LogFormat::Other(o) => o.clone(),
            LogFormat::EnvoyDefault => "envoy-default".into(),
        }
    }
}

impl Serialize for AccessLog {
    /// `logger`, `path` (file loggers), `format` (its label), the text `template` or JSON
    /// `fields` when the format is not a well-known one, and `pointer`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("format", &self.format.label())?;
        if self.format.well_known().is_none() {
            match &self.format {
                LogFormat::Json(keys) => {
                    let fields: std::collections::BTreeMap<&str, &str> =
                        keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    m.serialize_entry("fields", &fields)?;
                }
                LogFormat::Text(t) => m.serialize_entry("template", t)?,
                _ => {}
            }
        }
        m.serialize_entry("logger", &self.logger)?;
        if let Some(p) = &self.path {
            m.serialize_entry("path", p)?;
        }
        m.serialize_entry("pointer", &self.pointer)?;
        m.end()
    }
}

/// What a cluster does when traffic fails: the settings the flags `UO`, `UH`, `UF` and `UT`
/// point at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterTraffic {
    /// Circuit-breaker thresholds of the DEFAULT priority, as configured (`None`: Envoy's
    /// default, 1024 for each, 3 for retries).
    pub max_connections: Option<u32>,
    /// `max_pending_requests`.
    pub max_pending_requests: Option<u32>,
    /// `max_requests`.
    pub max_requests: Option<u32>,
    /// `max_retries`.
    pub max_retries: Option<u32>,
    /// Outlier detection is configured (hosts can be ejected).
    pub outlier_detection: bool,
    /// Active health checks are configured.
    pub health_checks: bool,
    /// `connect_timeout` in milliseconds (`None`: Envoy's default, 5 s).
    pub connect_timeout_ms: Option<u64>,
    /// Stats of the cluster are named with this instead of its name.
    pub alt_stat_name: Option<String>,
    /// `eds_cluster_config.service_name`: the name its endpoints are filed under.
    pub eds_service_name: Option<String>,
}

/// What a route does when its upstream is slow or fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteTraffic {
    /// `timeout` in milliseconds (`None`: Envoy's default, 15 s; `Some(0)`: none).
    pub timeout_ms: Option<u64>,
    /// `max_stream_duration` is set: Envoy then ignores `timeout`.
    pub max_stream_duration: bool,
    /// `retry_policy.retry_on`, and its number of retries (`None`: Envoy's default, 1).
    pub retry_on: Option<String>,
    /// `retry_policy.num_retries`.
    pub num_retries: Option<u32>,
    /// `retry_policy.per_try_timeout` in milliseconds.
    pub per_try_timeout_ms: Option<u64>,
}

/// What a connection manager's counters are named after, and who logs its requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChainTelemetry {
    /// The HTTP connection manager's or TCP proxy's `stat_prefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stat_prefix: Option<String>,
    /// Access logs of its connection manager or TCP proxy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_logs: Vec<AccessLog>,
}

/// An Envoy response flag (`%RESPONSE_FLAGS%`, `%RESPONSE_FLAGS_LONG%`), as Envoy 1.40 defines
/// them (`source/common/stream_info/utility.h`); a flag an extension registered is `Custom`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ResponseFlag {
    /// `LH`: the local health check failed.
    FailedLocalHealthCheck,
    /// `UH`: no healthy upstream host.
    NoHealthyUpstream,
    /// `UT`: the upstream request timed out.
    UpstreamRequestTimeout,
    /// `LR`: the connection was reset locally.
    LocalReset,
    /// `UR`: the upstream reset the connection.
    UpstreamRemoteReset,
    /// `UF`: the upstream connection failed.
    UpstreamConnectionFailure,
    /// `UC`: the upstream connection was terminated.
    UpstreamConnectionTermination,
    /// `UO`: an upstream circuit breaker overflowed.
    UpstreamOverflow,
    /// `NR`: no route.
    NoRouteFound,
    /// `DI`: a fault filter delayed the request.
    DelayInjected,
    /// `FI`: a fault filter aborted the request.
    FaultInjected,
    /// `RL`: rate limited locally.
    RateLimited,
    /// `UAEX`: the external authorization service refused it.
    UnauthorizedExternalService,
    /// `RLSE`: the rate-limit service failed.
    RateLimitServiceError,
    /// `DC`: the downstream connection was terminated.
    DownstreamConnectionTermination,
    /// `URX`: the retry or connect-attempt limit was reached.
    UpstreamRetryLimitExceeded,
    /// `SI`: the stream idle timeout fired.
    StreamIdleTimeout,
    /// `IH`: invalid `x-envoy-*` request headers.
    InvalidEnvoyRequestHeaders,
    /// `DPE`: a downstream protocol error.
    DownstreamProtocolError,
    /// `UMSDR`: the upstream max stream duration was reached.
    UpstreamMaxStreamDurationReached,
    /// `RFCF`: answered from the cache filter.
    ResponseFromCacheFilter,
    /// `NFCF`: no filter configuration found.
    NoFilterConfigFound,
    /// `DT`: the max connection or stream duration was reached.
    DurationTimeout,
    /// `UPE`: an upstream protocol error.
    UpstreamProtocolError,
    /// `NC`: no cluster.
    NoClusterFound,
    /// `OM`: refused by the overload manager.
    OverloadManager,
    /// `DF`: DNS resolution failed.
    DnsResolutionFailed,
    /// `DO`: dropped by `drop_overloads`.
    DropOverload,
    /// A flag registered by an extension (or from a newer Envoy), as written.
    Custom(String),
}

/// Every flag Envoy 1.40 defines: short form, long form.
const FLAGS: &[(ResponseFlag, &str, &str)] = {
    use ResponseFlag::*;
    &[
        (FailedLocalHealthCheck, "LH", "FailedLocalHealthCheck"),
        (NoHealthyUpstream, "UH", "NoHealthyUpstream"),
        (UpstreamRequestTimeout, "UT", "UpstreamRequestTimeout"),
        (LocalReset, "LR", "LocalReset"),
        (UpstreamRemoteReset, "UR", "UpstreamRemoteReset"),
        (UpstreamConnectionFailure, "UF", "UpstreamConnectionFailure"),
        (
            UpstreamConnectionTermination,
            "UC",
            "UpstreamConnectionTermination",
        ),
        (UpstreamOverflow, "UO", "UpstreamOverflow"),
        (NoRouteFound, "NR", "NoRouteFound"),
        (DelayInjected, "DI", "DelayInjected"),
        (FaultInjected, "FI", "FaultInjected"),
        (RateLimited, "RL", "RateLimited"),
        (
            UnauthorizedExternalService,
            "UAEX",
            "UnauthorizedExternalService",
        ),
        (RateLimitServiceError, "RLSE", "RateLimitServiceError"),
        (
            DownstreamConnectionTermination,
            "DC",
            "DownstreamConnectionTermination",
        ),
        (
            UpstreamRetryLimitExceeded,
            "URX",
            "UpstreamRetryLimitExceeded",
        ),
        (StreamIdleTimeout, "SI", "StreamIdleTimeout"),
        (
            InvalidEnvoyRequestHeaders,
            "IH",
            "InvalidEnvoyRequestHeaders",
        ),
        (DownstreamProtocolError, "DPE", "DownstreamProtocolError"),
        (
            UpstreamMaxStreamDurationReached,
            "UMSDR",
            "UpstreamMaxStreamDurationReached",
        ),
        (ResponseFromCacheFilter, "RFCF", "ResponseFromCacheFilter"),
        (NoFilterConfigFound, "NFCF", "NoFilterConfigFound"),
        (DurationTimeout, "DT", "DurationTimeout"),
        (UpstreamProtocolError, "UPE", "UpstreamProtocolError"),
        (NoClusterFound, "NC", "NoClusterFound"),
        (OverloadManager, "OM", "OverloadManagerTerminated"),
        (DnsResolutionFailed, "DF", "DnsResolutionFailed"),
        (DropOverload, "DO", "DropOverload"),
    ]
};

impl ResponseFlag {
    /// Every flag Envoy 1.40 defines (not `Custom`), in Envoy's order.
    pub fn all() -> impl Iterator<Item = ResponseFlag> {
        FLAGS.iter().map(|(f, _, _)| f.clone())
    }

    /// A flag by its short (`UF`) or long (`UpstreamConnectionFailure`) name; anything else
    /// is `Custom`.
    pub fn parse(s: &str) -> ResponseFlag {
        FLAGS
            .iter()
            .find(|(_, short, long)| *short == s || *long == s)
            .map(|(f, _, _)| f.clone())
            .unwrap_or_else(|| ResponseFlag::Custom(s.to_string()))
    }

    /// The flags of a `%RESPONSE_FLAGS%` value (`-` is none; several are comma-separated).
    pub fn list(s: &str) -> Vec<ResponseFlag> {
        if s.is_empty() || s == "-" {
            return Vec::new();
        }
        s.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(ResponseFlag::parse)
            .collect()
    }

    /// Whether the flag marks a failure: every flag but a cache hit and an injected delay
    /// (which still let the request be served).
    pub fn is_failure(&self) -> bool {
        !matches!(
            self,
            ResponseFlag::ResponseFromCacheFilter | ResponseFlag::DelayInjected
        )
    }

    /// The short form Envoy writes with `%RESPONSE_FLAGS%`.
    pub fn short(&self) -> &str {
        match self {
            ResponseFlag::Custom(s) => s,
            f => FLAGS
                .iter()
                .find(|(x, _, _)| x == f)
                .map_or("", |(_, s, _)| s),
        }
    }

    /// The long form Envoy writes with `%RESPONSE_FLAGS_LONG%`.
    pub fn long(&self) -> &str {
        match self {
            ResponseFlag::Custom(s) => s,
            f => FLAGS
                .iter()
                .find(|(x, _, _)| x == f)
                .map_or("", |(_, _, l)| l),
        }
    }
}

impl std::fmt::Display for ResponseFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.short())
    }
}

impl Serialize for ResponseFlag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.short())
    }
}

/// One access-log line, typed: the values of the operators its format carried (`None` where
/// the format has no such operator, or Envoy wrote `-`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// `%RESPONSE_CODE%`: 0 when no response was sent (a TCP connection, a reset).
    pub status: Option<u16>,
    /// `%RESPONSE_FLAGS%`.
    pub flags: Vec<ResponseFlag>,
    /// `%RESPONSE_CODE_DETAILS%`.
    pub details: Option<String>,
    /// `%CONNECTION_TERMINATION_DETAILS%`.
    pub termination: Option<String>,
    /// `%UPSTREAM_TRANSPORT_FAILURE_REASON%`.
    pub transport_failure: Option<String>,
    /// `%ROUTE_NAME%`.
    pub route_name: Option<String>,
    /// `%UPSTREAM_CLUSTER%` or `%UPSTREAM_CLUSTER_RAW%`.
    pub upstream_cluster: Option<String>,
    /// `%UPSTREAM_HOST%`.
    pub upstream_host: Option<String>,
    /// `%REQ(:AUTHORITY)%`.
    pub authority: Option<String>,
    /// `%REQ(:METHOD)%`.
    pub method: Option<String>,
    /// The path as logged (Istio logs `X-ENVOY-ORIGINAL-PATH?:PATH`).
    pub path: Option<String>,
    /// `%PROTOCOL%`.
    pub protocol: Option<String>,
    /// `%REQUESTED_SERVER_NAME%`: the SNI.
    pub sni: Option<String>,
    /// `%DOWNSTREAM_LOCAL_ADDRESS%`.
    pub downstream_local: Option<String>,
    /// `%DOWNSTREAM_REMOTE_ADDRESS%`.
    pub downstream_remote: Option<String>,
    /// `%FILTER_CHAIN_NAME%`.
    pub filter_chain: Option<String>,
    /// `%START_TIME%`, as written.
    pub start_time: Option<String>,
    /// Which of these the line's format carries at all (a `None` of a field it does not carry
    /// says nothing).
    pub logged: Logged,
}

/// The fields a format carries, of those `explain` needs to tell causes apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Logged {
    /// `%RESPONSE_CODE_DETAILS%`.
    pub details: bool,
    /// `%CONNECTION_TERMINATION_DETAILS%`.
    pub termination: bool,
    /// `%UPSTREAM_TRANSPORT_FAILURE_REASON%`.
    pub transport_failure: bool,
    /// `%DOWNSTREAM_LOCAL_ADDRESS%`.
    pub downstream_local: bool,
    /// `%UPSTREAM_CLUSTER%`.
    pub upstream_cluster: bool,
    /// `%ROUTE_NAME%`.
    pub route_name: bool,
}

/// How a line is explained: its place, what Envoy wrote, what in the dump it concerns, and the
/// cause (a rule of the catalogue). Every member is a string, a number or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Explained {
    /// The log file.
    pub file: String,
    /// 1-based.
    pub line: u64,
    /// The format the line was read with.
    pub format: String,
    /// `%RESPONSE_CODE%`.
    pub status: Option<u16>,
    /// `%RESPONSE_FLAGS%`.
    pub flags: Vec<ResponseFlag>,
    /// `%RESPONSE_CODE_DETAILS%`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// `%CONNECTION_TERMINATION_DETAILS%`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_details: Option<String>,
    /// `%UPSTREAM_TRANSPORT_FAILURE_REASON%`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_failure: Option<String>,
    /// The method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The authority (Host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// The path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `%UPSTREAM_HOST%`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_host: Option<String>,
    /// The listener the line is placed at in the dump (absent where it cannot be told).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
    /// The filter chain the line is placed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_chain: Option<String>,
    /// The route configuration the line is placed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_config: Option<String>,
    /// The virtual host the line is placed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_host: Option<String>,
    /// The route the line is placed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The cluster the line is placed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The RBAC policy that decided, as the authz view names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The JWT providers of the chain's jwt_authn filter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<String>,
    /// For an upstream TLS failure: the SANs the cluster accepts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected_sans: Vec<String>,
    /// For a SAN mismatch: the SANs the upstream presented, as Envoy's reason names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub presented_sans: Vec<String>,
    /// For an upstream TLS failure: the roots the cluster trusts (subjects).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_roots: Vec<String>,
    /// The cause: a rule id of the catalogue (`envinspect rules`).
    pub rule: RuleId,
    /// The rule's level.
    pub level: super::Level,
    /// What happened and why, in words naming the objects.
    pub explanation: String,
    /// JSON Pointers into the dump.
    pub evidence: Vec<crate::model::Pointer>,
    /// Whether the line is a failure (else it is listed only with `--all`).
    pub failed: bool,
}

/// What was read from the logs: lines, how each was taken, and the explanations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LogSummary {
    /// The log files read.
    pub files: Vec<String>,
    /// Lines read.
    pub lines: u64,
    /// Access-log lines read, by format.
    pub parsed: std::collections::BTreeMap<String, u64>,
    /// Lines of Envoy's own log (and a container log's markers), skipped.
    pub envoy_log: u64,
    /// Lines no format matches.
    pub unmatched: u64,
    /// The first unmatched lines' numbers (`file:line`), at most 10.
    pub unmatched_first: Vec<String>,
    /// Lines longer than the limit, skipped unread.
    pub too_long: u64,
    /// Lines that are failures.
    pub failed: u64,
    /// Access-log formats of the dump whose lines cannot be read back (a format spanning several
    /// lines, one read from a file, a formatter extension), by the `access_log` they are at.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub formats_unread: Vec<String>,
}

/// Lines of one cause and explanation: how many, and where the first ones are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CauseGroup {
    /// The cause.
    pub rule: RuleId,
    /// Its level.
    pub level: super::Level,
    /// How many lines.
    pub count: u64,
    /// `file:line` of the first lines (at most five).
    pub first: Vec<String>,
    /// The explanation they share.
    pub explanation: String,
}

/// What a bundle holds beside one proxy's dump: its container log and its counters, explained.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProxyEvidence {
    /// The lines read (the log's path is in `files`).
    pub summary: LogSummary,
    /// Failing lines by cause, errors first.
    pub causes: Vec<CauseGroup>,
    /// The stats file read, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<String>,
    /// Counters that prove a failure.
    pub counters: Vec<super::Finding>,
    /// A log or stats file that could not be read, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}
