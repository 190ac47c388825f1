//! Reading istiod's `debug/syncz` in either of its forms into [`ProxySync`] rows, with
//! istioctl's status rules (`istioctl/pkg/writer/pilot/status.go`):
//! - the SyncStatus list (HTTP `/debug/syncz`, what a bug-report holds): per type, nothing sent
//!   is NOT SENT (IGNORED for a ztunnel), sent = acked is SYNCED, nothing acked is
//!   STALE (Never Acknowledged), else STALE. Istio 1.23+ adds `resources` per type URL with a
//!   `lastError`; a type with one is ERROR, as istiod itself rules in the xDS form
//!   (`debugSyncStatus`), which the old istioctl predates.
//! - the ClientConfig response (xDS `syncz`, `istioctl proxy-status -o json`; one JSON value per
//!   istiod, several may follow each other): `configStatus` as istioctl prints it (UNKNOWN or
//!   absent is IGNORED, NOT_SENT is NOT SENT), the deprecated `xdsConfig` list when
//!   `genericXdsConfigs` is absent.

use serde_json::{Map, Value};

use super::SyncError;
use crate::model::sync::{ProxySync, SyncState, SynczForm, TypeSync, XdsType};

/// The type URL of a ClientConfig, the resource of the xDS form.
const CLIENT_CONFIG: &str = "type.googleapis.com/envoy.service.status.v3.ClientConfig";

/// What one syncz file held.
pub(super) struct Parsed {
    pub form: SynczForm,
    /// The control plane's own identifier (xDS form): `controlPlane.identifier`'s `ID`.
    pub identifier: Option<String>,
    pub proxies: Vec<ProxySync>,
}

/// Parses `bytes` (named `name`); `istiod` names the istiod when the file's place says it (a
/// bug-report's `istio/NS/POD/debug/syncz`), else the file's own identifier does.
pub(super) fn parse(name: &str, bytes: &[u8], istiod: Option<&str>) -> Result<Parsed, SyncError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(SyncError::Empty { name: name.into() });
    }
    let mut values = Vec::new();
    for v in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        values.push(v.map_err(|e| SyncError::Json {
            name: name.into(),
            line: e.line(),
            column: e.column(),
            what: crate::json_text::json_error_text(&e),
        })?);
    }
    let shape = |pointer: String, what: String| SyncError::Shape {
        name: name.into(),
        pointer,
        what,
    };
    match values.as_slice() {
        [Value::Array(items)] => {
            let istiod = istiod.map_or_else(|| name.to_string(), str::to_string);
            let proxies = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    sync_status(item, &istiod, name).map_err(|w| shape(format!("/{i}"), w))
                })
                .collect::<Result<_, _>>()?;
            Ok(Parsed {
                form: SynczForm::SyncStatus,
                identifier: None,
                proxies,
            })
        }
        _ => {
            let mut proxies = Vec::new();
            let mut identifier = None;
            for (n, v) in values.iter().enumerate() {
                // Several responses (istioctl prints one per istiod) are pointed at by index.
                let at = if values.len() > 1 {
                    format!("[{n}]")
                } else {
                    String::new()
                };
                let Some(obj) = v.as_object().filter(|o| is_client_configs(o)) else {
                    return Err(shape(
                        at,
                        format!(
                            "{} is not a syncz: expected istiod's SyncStatus list or a DiscoveryResponse of {CLIENT_CONFIG}",
                            crate::json_text::json_kind(v)
                        ),
                    ));
                };
                let id = control_plane_id(obj);
                let this = istiod.map(str::to_string).unwrap_or_else(|| id.clone());
                identifier.get_or_insert(id);
                let resources = obj.get("resources").and_then(Value::as_array);
                for (i, r) in resources.into_iter().flatten().enumerate() {
                    let p = client_config(r, &this, name)
                        .map_err(|w| shape(format!("{at}/resources/{i}"), w))?;
                    proxies.push(p);
                }
            }
            Ok(Parsed {
                form: SynczForm::ClientConfig,
                identifier,
                proxies,
            })
        }
    }
}

/// A DiscoveryResponse whose resources are ClientConfigs (an empty one counts: no proxies).
fn is_client_configs(o: &Map<String, Value>) -> bool {
    let type_url = field(o, "typeUrl", "type_url").and_then(Value::as_str);
    let resources = o.get("resources");
    let typed = resources
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("@type"))
        .and_then(Value::as_str);
    type_url == Some(CLIENT_CONFIG)
        || typed == Some(CLIENT_CONFIG)
        || (resources.is_none() && o.contains_key("controlPlane"))
}

/// `controlPlane.identifier`'s `ID`, as istioctl's `CpInfo`: `MISSING` without one, `INVALID`
/// when it is not Istio's JSON.
fn control_plane_id(o: &Map<String, Value>) -> String {
    let Some(cp) = field(o, "controlPlane", "control_plane") else {
        return "MISSING".into();
    };
    let id = cp
        .get("identifier")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|v| v.get("ID").and_then(Value::as_str).map(str::to_string));
    id.unwrap_or_else(|| "INVALID".into())
}

/// A field by its protobuf JSON name or its proto name.
fn field<'a>(o: &'a Map<String, Value>, json: &str, proto: &str) -> Option<&'a Value> {
    o.get(json).or_else(|| o.get(proto))
}

fn string(o: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "`{key}` is {}, expected a string",
            crate::json_text::json_kind(other)
        )),
    }
}

/// One SyncStatus object.
fn sync_status(v: &Value, istiod: &str, file: &str) -> Result<ProxySync, String> {
    let Some(o) = v.as_object() else {
        return Err(format!(
            "{} in the SyncStatus list, expected an object",
            crate::json_text::json_kind(v)
        ));
    };
    let name = string(o, "proxy")?.ok_or("a SyncStatus without `proxy`")?;
    let ztunnel = string(o, "proxy_type")?.as_deref() == Some("ztunnel");
    let version = match string(o, "istio_version")? {
        Some(v) => v,
        // istioctl: talking to an old istiod, the proxy version, marked.
        None => format!("{}*", string(o, "proxy_version")?.unwrap_or_default()),
    };
    let resources = match o.get("resources") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(format!(
                "`resources` is {}, expected an object",
                crate::json_text::json_kind(other)
            ))
        }
    };
    let mut types = Vec::new();
    for (t, prefix) in [
        (XdsType::Cds, "cluster"),
        (XdsType::Lds, "listener"),
        (XdsType::Eds, "endpoint"),
        (XdsType::Rds, "route"),
        (XdsType::Ecds, "extensionconfig"),
    ] {
        let sent = string(o, &format!("{prefix}_sent"))?;
        let acked = string(o, &format!("{prefix}_acked"))?;
        types.push(legacy_type(t, sent, acked, ztunnel));
    }
    for (url, r) in &resources {
        let Some(r) = r.as_object() else {
            return Err(format!("`resources` of {url} is not an object"));
        };
        let t = XdsType::from_url(url);
        let error = string(r, "lastError")?;
        let last_sent = string(r, "sentTime")?.and_then(|s| go_time(&s));
        let i = match types.iter().position(|s| s.xds_type == t) {
            Some(i) => i,
            None => {
                types.push(legacy_type(
                    t,
                    string(r, "sent")?,
                    string(r, "acked")?,
                    ztunnel,
                ));
                types.len() - 1
            }
        };
        let s = &mut types[i];
        if error.is_some() {
            s.state = SyncState::Error;
        }
        s.error = error;
        s.last_sent = last_sent;
    }
    Ok(ProxySync {
        name,
        cluster: string(o, "cluster_id")?.unwrap_or_default(),
        namespace: None,
        istiod: istiod.to_string(),
        version,
        types,
        file: file.to_string(),
    })
}

/// istioctl's `xdsStatus(sent, acked, proxyType)`.
fn legacy_type(t: XdsType, sent: Option<String>, acked: Option<String>, ztunnel: bool) -> TypeSync {
    let state = match (&sent, &acked) {
        (None, _) if ztunnel => SyncState::Ignored,
        (None, _) => SyncState::NotSent,
        (Some(s), Some(a)) if s == a => SyncState::Synced,
        (Some(_), None) => SyncState::StaleNeverAcknowledged,
        _ => SyncState::Stale,
    };
    TypeSync {
        xds_type: t,
        state,
        sent,
        acked,
        error: None,
        last_sent: None,
    }
}

/// A Go `time.Time` as JSON (RFC 3339, nanoseconds); Go's zero time is no time.
fn go_time(s: &str) -> Option<crate::model::Timestamp> {
    let t: crate::model::Timestamp = s.parse().ok()?;
    (t.get().year() > 1).then_some(t)
}

/// One ClientConfig of the xDS form.
fn client_config(v: &Value, istiod: &str, file: &str) -> Result<ProxySync, String> {
    let Some(o) = v.as_object() else {
        return Err(format!(
            "{}, expected a ClientConfig",
            crate::json_text::json_kind(v)
        ));
    };
    if let Some(t) = o.get("@type").and_then(Value::as_str) {
        if t != CLIENT_CONFIG {
            return Err(format!("a {t}, expected a ClientConfig"));
        }
    }
    let node = o
        .get("node")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let meta = node
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut types = Vec::new();
    match field(o, "genericXdsConfigs", "generic_xds_configs") {
        Some(Value::Array(list)) => {
            for (i, c) in list.iter().enumerate() {
                let c = c
                    .as_object()
                    .ok_or(format!("genericXdsConfigs/{i} is not an object"))?;
                let url = field(c, "typeUrl", "type_url")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let status = status_name(field(c, "configStatus", "config_status"));
                let error = field(c, "errorState", "error_state")
                    .and_then(|e| e.get("details"))
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                    .map(str::to_string);
                let last_sent = field(c, "lastUpdated", "last_updated")
                    .and_then(Value::as_str)
                    .and_then(go_time);
                types.push(TypeSync {
                    xds_type: XdsType::from_url(url),
                    state: config_status(status).ok_or(format!(
                        "genericXdsConfigs/{i}: unknown configStatus {status:?}"
                    ))?,
                    sent: None,
                    acked: None,
                    error,
                    last_sent,
                });
            }
        }
        Some(other) if !other.is_null() => {
            return Err(format!(
                "`genericXdsConfigs` is {}, expected an array",
                crate::json_text::json_kind(other)
            ))
        }
        _ => {
            // The deprecated per-type list: its oneof names the type.
            let list = field(o, "xdsConfig", "xds_config").and_then(Value::as_array);
            for c in list.into_iter().flatten().filter_map(Value::as_object) {
                let t = [
                    ("listenerConfig", "listener_config", XdsType::Lds),
                    ("clusterConfig", "cluster_config", XdsType::Cds),
                    ("routeConfig", "route_config", XdsType::Rds),
                    ("endpointConfig", "endpoint_config", XdsType::Eds),
                ]
                .into_iter()
                .find(|(j, p, _)| field(c, j, p).is_some());
                let Some((.., t)) = t else { continue };
                let status = status_name(c.get("status"));
                types.push(TypeSync {
                    xds_type: t,
                    state: config_status(status).ok_or(format!("unknown status {status:?}"))?,
                    sent: None,
                    acked: None,
                    error: None,
                    last_sent: None,
                });
            }
        }
    }
    let text = |m: &Map<String, Value>, k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok(ProxySync {
        name: text(&node, "id"),
        cluster: text(&meta, "CLUSTER_ID"),
        namespace: Some(text(&meta, "NAMESPACE")).filter(|n| !n.is_empty()),
        istiod: istiod.to_string(),
        version: text(&meta, "ISTIO_VERSION"),
        types,
        file: file.to_string(),
    })
}

/// A `ConfigStatus` by name, as protobuf JSON writes it (or by number; absent is the default,
/// UNKNOWN).
fn status_name(v: Option<&Value>) -> &str {
    const NAMES: [&str; 5] = ["UNKNOWN", "SYNCED", "NOT_SENT", "STALE", "ERROR"];
    match v {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| NAMES.get(n as usize).copied())
            .unwrap_or("?"),
        _ => "UNKNOWN",
    }
}

/// `envoy.service.status.v3.ConfigStatus` as istioctl's `formatStatus` prints it.
fn config_status(s: &str) -> Option<SyncState> {
    Some(match s {
        "UNKNOWN" => SyncState::Ignored,
        "SYNCED" => SyncState::Synced,
        "NOT_SENT" => SyncState::NotSent,
        "STALE" => SyncState::Stale,
        "ERROR" => SyncState::Error,
        _ => return None,
    })
}
