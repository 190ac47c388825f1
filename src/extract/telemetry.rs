//! What the dump says about evidence the proxy leaves: the access logs of listeners, HTTP
//! connection managers and TCP proxies (file, format), and the cluster and route settings that
//! response flags point at (circuit breakers, outlier detection, timeouts, retries) → the model.

use envoy_types::pb::envoy::config::accesslog::v3::{access_log::ConfigType, AccessLog as PbLog};
use envoy_types::pb::envoy::config::cluster::v3::{cluster::ClusterDiscoveryType, Cluster};
use envoy_types::pb::envoy::config::core::v3::{
    data_source::Specifier, substitution_format_string::Format, SubstitutionFormatString,
};
use envoy_types::pb::envoy::config::route::v3::RouteAction;
use envoy_types::pb::envoy::extensions::access_loggers::file::v3::{
    file_access_log::AccessLogFormat, FileAccessLog,
};
use envoy_types::pb::envoy::extensions::access_loggers::stream::v3::{
    stderr_access_log, stdout_access_log, StderrAccessLog, StdoutAccessLog,
};
use envoy_types::pb::google::protobuf::{value::Kind, Duration, Struct};

use crate::decode::{unpack, Unpacked};
use crate::model::evidence::{AccessLog, ClusterTraffic, LogFormat, RouteTraffic};

/// The access logs of one `access_log` list, at `pointer` (the list).
pub(crate) fn access_logs(logs: &[PbLog], pointer: &str) -> Vec<AccessLog> {
    logs.iter()
        .enumerate()
        .map(|(i, l)| access_log(l, format!("{pointer}/{i}")))
        .collect()
}

fn access_log(l: &PbLog, pointer: String) -> AccessLog {
    let any = l.config_type.as_ref().map(|ConfigType::TypedConfig(a)| a);
    let logger = |fallback: &str| {
        if l.name.is_empty() {
            fallback.to_string()
        } else {
            l.name.clone()
        }
    };
    if let Unpacked::Known(f) = unpack::<FileAccessLog>(any) {
        #[allow(deprecated)]
        let format = match f.access_log_format {
            None => LogFormat::EnvoyDefault,
            Some(AccessLogFormat::Format(s)) if s.is_empty() => LogFormat::EnvoyDefault,
            Some(AccessLogFormat::Format(s)) => LogFormat::Text(s),
            Some(AccessLogFormat::JsonFormat(s)) | Some(AccessLogFormat::TypedJsonFormat(s)) => {
                json(&s)
            }
            Some(AccessLogFormat::LogFormat(s)) => substitution(&s),
        };
        return AccessLog {
            logger: logger("envoy.access_loggers.file"),
            path: Some(f.path),
            format,
            pointer: pointer.into(),
        };
    }
    // The stream loggers: the same format field, written to the process's stdout or stderr.
    let stream = match (
        unpack::<StdoutAccessLog>(any),
        unpack::<StderrAccessLog>(any),
    ) {
        (Unpacked::Known(s), _) => Some((
            "stdout",
            s.access_log_format
                .map(|stdout_access_log::AccessLogFormat::LogFormat(f)| f),
        )),
        (_, Unpacked::Known(s)) => Some((
            "stderr",
            s.access_log_format
                .map(|stderr_access_log::AccessLogFormat::LogFormat(f)| f),
        )),
        _ => None,
    };
    if let Some((to, format)) = stream {
        return AccessLog {
            logger: logger(&format!("envoy.access_loggers.{to}")),
            path: Some(format!("/dev/{to}")),
            format: format
                .as_ref()
                .map_or(LogFormat::EnvoyDefault, substitution),
            pointer: pointer.into(),
        };
    }
    // v2's untyped `config` (Istio before 1.5 wrote it), a Struct of FileAccessLog's fields.
    if let Unpacked::Known(st) = unpack::<Struct>(any) {
        let field = |k: &str| st.fields.get(k).and_then(|v| v.kind.as_ref());
        if let Some(Kind::StringValue(path)) = field("path") {
            let format = match (field("format"), field("json_format")) {
                (Some(Kind::StringValue(t)), _) if !t.is_empty() => LogFormat::Text(t.clone()),
                (_, Some(Kind::StructValue(j))) => json(j),
                _ => LogFormat::EnvoyDefault,
            };
            return AccessLog {
                logger: logger("envoy.file_access_log"),
                path: Some(path.clone()),
                format,
                pointer: pointer.into(),
            };
        }
    }
    let type_url = any.map(|a| a.type_url.clone()).unwrap_or_default();
    AccessLog {
        logger: logger(type_url.rsplit('/').next().unwrap_or("")),
        path: None,
        format: LogFormat::Other(type_url),
        pointer: pointer.into(),
    }
}

fn substitution(s: &SubstitutionFormatString) -> LogFormat {
    #[allow(deprecated)]
    match &s.format {
        None => LogFormat::EnvoyDefault,
        Some(Format::TextFormat(t)) => LogFormat::Text(t.clone()),
        Some(Format::JsonFormat(j)) => json(j),
        Some(Format::TextFormatSource(ds)) => match &ds.specifier {
            Some(Specifier::InlineString(t)) => LogFormat::Text(t.clone()),
            Some(Specifier::InlineBytes(b)) => {
                LogFormat::Text(String::from_utf8_lossy(b).into_owned())
            }
            Some(Specifier::Filename(f)) => LogFormat::Other(format!("format read from {f}")),
            Some(Specifier::EnvironmentVariable(v)) => {
                LogFormat::Other(format!("format read from ${v}"))
            }
            None => LogFormat::EnvoyDefault,
        },
    }
}

/// A JSON format: its string-valued keys, nested keys joined by `.`.
fn json(s: &Struct) -> LogFormat {
    let mut keys = Vec::new();
    flatten(s, "", &mut keys);
    keys.sort();
    LogFormat::Json(keys)
}

fn flatten(s: &Struct, prefix: &str, out: &mut Vec<(String, String)>) {
    for (k, v) in &s.fields {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match &v.kind {
            Some(Kind::StringValue(t)) => out.push((key, t.clone())),
            Some(Kind::StructValue(inner)) => flatten(inner, &key, out),
            _ => {}
        }
    }
}

pub(crate) fn millis(d: &Duration) -> u64 {
    (d.seconds.max(0) as u64) * 1000 + (d.nanos.max(0) as u64) / 1_000_000
}

pub(crate) fn cluster_traffic(c: &Cluster) -> ClusterTraffic {
    // The DEFAULT priority (0) is the one ordinary requests use.
    let t = c
        .circuit_breakers
        .as_ref()
        .and_then(|cb| cb.thresholds.iter().find(|t| t.priority == 0));
    ClusterTraffic {
        max_connections: t.and_then(|t| t.max_connections).map(|v| v.value),
        max_pending_requests: t.and_then(|t| t.max_pending_requests).map(|v| v.value),
        max_requests: t.and_then(|t| t.max_requests).map(|v| v.value),
        max_retries: t.and_then(|t| t.max_retries).map(|v| v.value),
        outlier_detection: c.outlier_detection.is_some(),
        health_checks: !c.health_checks.is_empty(),
        connect_timeout_ms: c.connect_timeout.as_ref().map(millis),
        alt_stat_name: Some(c.alt_stat_name.clone()).filter(|s| !s.is_empty()),
        eds_service_name: match &c.cluster_discovery_type {
            Some(ClusterDiscoveryType::Type(3)) => c
                .eds_cluster_config
                .as_ref()
                .map(|e| e.service_name.clone())
                .filter(|s| !s.is_empty()),
            _ => None,
        },
    }
}

pub(crate) fn route_traffic(a: &RouteAction) -> RouteTraffic {
    RouteTraffic {
        timeout_ms: a.timeout.as_ref().map(millis),
        max_stream_duration: a.max_stream_duration.as_ref().is_some_and(|m| {
            m.max_stream_duration.is_some() || m.grpc_timeout_header_max.is_some()
        }),
        retry_on: a
            .retry_policy
            .as_ref()
            .map(|r| r.retry_on.clone())
            .filter(|s| !s.is_empty()),
        num_retries: a
            .retry_policy
            .as_ref()
            .and_then(|r| r.num_retries)
            .map(|n| n.value),
        per_try_timeout_ms: a
            .retry_policy
            .as_ref()
            .and_then(|r| r.per_try_timeout.as_ref())
            .map(millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::config::core::v3::{DataSource, SubstitutionFormatString};
    use envoy_types::pb::google::protobuf::Any;
    use prost::{Message, Name};

    fn log_of<T: Message + Name>(m: &T) -> PbLog {
        PbLog {
            name: String::new(),
            filter: None,
            config_type: Some(ConfigType::TypedConfig(Any {
                type_url: T::type_url(),
                value: m.encode_to_vec(),
            })),
        }
    }

    fn text(t: &str) -> SubstitutionFormatString {
        SubstitutionFormatString {
            format: Some(Format::TextFormatSource(DataSource {
                specifier: Some(Specifier::InlineString(t.into())),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    #[test]
    fn stream_loggers_write_to_the_process_streams() {
        let out = StdoutAccessLog {
            access_log_format: Some(stdout_access_log::AccessLogFormat::LogFormat(text(
                "%RESPONSE_CODE%\n",
            ))),
        };
        let err = StderrAccessLog {
            access_log_format: None,
        };
        let logs = access_logs(&[log_of(&out), log_of(&err)], "/p");
        assert_eq!(logs[0].logger, "envoy.access_loggers.stdout");
        assert_eq!(logs[0].path.as_deref(), Some("/dev/stdout"));
        assert_eq!(logs[0].format, LogFormat::Text("%RESPONSE_CODE%\n".into()));
        assert_eq!(logs[0].pointer, "/p/0");
        assert_eq!(logs[1].logger, "envoy.access_loggers.stderr");
        assert_eq!(logs[1].path.as_deref(), Some("/dev/stderr"));
        assert_eq!(logs[1].format, LogFormat::EnvoyDefault);
        let file = FileAccessLog {
            path: "/var/log/a.log".into(),
            ..Default::default()
        };
        let f = &access_logs(&[log_of(&file)], "/q")[0];
        assert_eq!(
            (f.path.as_deref(), &f.format),
            (Some("/var/log/a.log"), &LogFormat::EnvoyDefault)
        );
    }

    /// Istio 1.4's dumps give the file logger as v2's untyped `config`: its path and format
    /// are read from there, not reported as an unknown logger.
    #[test]
    fn v2_untyped_file_logger_is_read() {
        use envoy_types::pb::google::protobuf::Value;
        let string = |s: &str| Value {
            kind: Some(Kind::StringValue(s.into())),
        };
        let config = Struct {
            fields: [
                ("path".to_string(), string("/dev/stdout")),
                ("format".to_string(), string("%RESPONSE_CODE%\n")),
            ]
            .into_iter()
            .collect(),
        };
        let mut l = log_of(&config);
        l.name = "envoy.file_access_log".into();
        let a = &access_logs(&[l], "/p")[0];
        assert_eq!(a.logger, "envoy.file_access_log");
        assert_eq!(a.path.as_deref(), Some("/dev/stdout"));
        assert_eq!(a.format, LogFormat::Text("%RESPONSE_CODE%\n".into()));
    }
}
