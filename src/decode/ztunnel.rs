//! ztunnel's admin `/config_dump` (Istio ambient's node proxy; not Envoy, not proto) into typed
//! shapes. Each workload, service, policy, certificate entry and workload state is read on its
//! own, so one broken item costs only itself (an error with its JSON Pointer); fields this
//! version does not know are a warning each, as for Envoy dumps.
//!
//! Two layouts are read: ztunnel's current one (`workloads`, `services`, `policies` as lists,
//! `certificates[].certChain[].pem` as base64 of PEM, roots in `rootCerts`) and the earlier one
//! istioctl's golden dump has (`workloads` and `services` as objects keyed by `network/address`,
//! PEM text, the root at the end of `certChain`).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Issue, Located};
use crate::json_text::json_kind;

/// The typed dump, every item with the pointer it came from.
#[derive(Debug, Default)]
pub(crate) struct ZtunnelDump {
    pub certificates: Vec<Located<CertsDump>>,
    pub workloads: Vec<Located<Workload>>,
    pub services: Vec<Located<Service>>,
    pub policies: Vec<Located<Policy>>,
    /// Keyed as the dump keys them (a workload UID).
    pub workload_state: Vec<Located<WorkloadState>>,
    /// `version`: ztunnel's build and the Istio release it came with.
    pub version: Option<BuildInfo>,
    /// `config`: ztunnel's own settings.
    pub config: Option<Config>,
    pub issues: Vec<Issue>,
}

/// ztunnel's `Config` (the fields envinspect shows): where it runs and what it talks to.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Config {
    pub local_node: Option<String>,
    pub proxy_mode: Option<String>,
    pub ca_address: Option<String>,
    pub xds_address: Option<String>,
}

/// ztunnel's `BuildInfo` (the fields envinspect shows).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuildInfo {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub git_revision: String,
    #[serde(default)]
    pub istio_version: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CertsDump {
    pub identity: String,
    pub state: String,
    #[serde(default)]
    pub cert_chain: Vec<Cert>,
    #[serde(default)]
    pub root_certs: Vec<Cert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Cert {
    /// PEM, or base64 of PEM (current ztunnel).
    pub pem: String,
    /// Decimal.
    #[serde(default)]
    pub serial_number: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub expiration_time: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Workload {
    #[serde(default)]
    pub workload_ips: Vec<String>,
    pub waypoint: Option<Gateway>,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub trust_domain: String,
    #[serde(default)]
    pub service_account: String,
    #[serde(default)]
    pub network: String,
    #[serde(default)]
    pub workload_name: String,
    #[serde(default)]
    pub canonical_name: String,
    #[serde(default)]
    pub canonical_revision: String,
    #[serde(default)]
    pub node: String,
    #[serde(default)]
    pub authorization_policies: Vec<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub cluster_id: String,
}

const WORKLOAD_FIELDS: &[&str] = &[
    "workloadIps",
    "waypoint",
    "networkGateway",
    "protocol",
    "networkMode",
    "uid",
    "name",
    "namespace",
    "trustDomain",
    "serviceAccount",
    "network",
    "workloadName",
    "workloadType",
    "canonicalName",
    "canonicalRevision",
    "hostname",
    "node",
    "nativeTunnel",
    "applicationTunnel",
    "authorizationPolicies",
    "status",
    "clusterId",
    "locality",
    "services",
    "capacity",
];

/// A waypoint or network gateway: `destination` is `network/address` or `namespace/hostname`
/// (`{"hostname": …, "namespace": …}` in some versions); the port is `hboneMtlsPort` (`port`
/// earlier).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Gateway {
    pub destination: Value,
    pub hbone_mtls_port: Option<u16>,
    pub port: Option<u16>,
}

impl Gateway {
    pub(crate) fn destination(&self) -> String {
        match &self.destination {
            Value::String(s) => s.clone(),
            Value::Object(o) => {
                let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
                format!("{}/{}", s("namespace"), s("hostname"))
            }
            other => other.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Service {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub vips: Vec<String>,
    #[serde(default)]
    pub ports: BTreeMap<u16, u16>,
    #[serde(default)]
    pub endpoints: BTreeMap<String, Endpoint>,
    #[serde(default)]
    pub subject_alt_names: Vec<String>,
    pub waypoint: Option<Gateway>,
}

const SERVICE_FIELDS: &[&str] = &[
    "name",
    "namespace",
    "hostname",
    "vips",
    "cidrVips",
    "ports",
    "endpoints",
    "subjectAltNames",
    "waypoint",
    "weightedWaypoints",
    "loadBalancer",
    "ipFamilies",
    "canonical",
    "visibility",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Endpoint {
    #[serde(default)]
    pub workload_uid: String,
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Policy {
    pub name: String,
    pub namespace: String,
    pub scope: String,
    pub action: String,
    #[serde(default)]
    pub rules: Vec<Vec<Vec<Match>>>,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Match {
    #[serde(default)]
    pub namespaces: Vec<StringMatch>,
    #[serde(default)]
    pub not_namespaces: Vec<StringMatch>,
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
    #[serde(default)]
    pub not_service_accounts: Vec<ServiceAccount>,
    #[serde(default)]
    pub principals: Vec<StringMatch>,
    #[serde(default)]
    pub not_principals: Vec<StringMatch>,
    #[serde(default)]
    pub source_ips: Vec<String>,
    #[serde(default)]
    pub not_source_ips: Vec<String>,
    #[serde(default)]
    pub destination_ips: Vec<String>,
    #[serde(default)]
    pub not_destination_ips: Vec<String>,
    #[serde(default)]
    pub destination_ports: Vec<u16>,
    #[serde(default)]
    pub not_destination_ports: Vec<u16>,
}

/// serde's external tagging, as ztunnel writes it: `{"Exact": "x"}`, `{"Presence": []}`.
#[derive(Debug, Deserialize)]
pub(crate) enum StringMatch {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Presence(),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ServiceAccount {
    pub namespace: String,
    pub service_account: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkloadState {
    #[serde(default)]
    pub connections: Connections,
    #[serde(default)]
    pub info: WorkloadInfo,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Connections {
    #[serde(default)]
    pub inbound: Vec<Connection>,
    #[serde(default)]
    pub outbound: Vec<Connection>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Connection {
    pub src: String,
    pub original_dst: Option<String>,
    pub actual_dst: String,
    #[serde(default)]
    pub protocol: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkloadInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

/// Top-level members ztunnel writes that envinspect reads or knowingly leaves alone.
const POLICY_FIELDS: &[&str] = &["name", "namespace", "scope", "action", "rules", "dryRun"];

const CERTS_FIELDS: &[&str] = &["identity", "state", "certChain", "rootCerts"];

const STATE_FIELDS: &[&str] = &["connections", "info", "state"];

const TOP_FIELDS: &[&str] = &[
    "workloads",
    "services",
    "policies",
    "certificates",
    "workloadState",
    "stagedServices",
    "staticConfig",
    "version",
    "config",
];

/// Reads the dump. `prefix` is where it sits in its file (JSON Pointers start with it).
pub(crate) fn decode(json: Value, prefix: &str) -> ZtunnelDump {
    let mut out = ZtunnelDump::default();
    let Value::Object(top) = json else {
        out.issues
            .push(Issue::error(prefix, "expected a JSON object"));
        return out;
    };
    for key in top.keys().filter(|k| !TOP_FIELDS.contains(&k.as_str())) {
        out.issues.push(Issue::warning(
            &format!("{prefix}/{}", escape(key)),
            format!("unknown field `{key}` in the ztunnel dump ignored"),
        ));
    }
    let mut top = top;
    let mut take = |k: &str| top.remove(k);
    let issues = &mut out.issues;
    out.certificates = items(
        take("certificates"),
        &format!("{prefix}/certificates"),
        CERTS_FIELDS,
        issues,
    );
    out.workloads = items(
        take("workloads"),
        &format!("{prefix}/workloads"),
        WORKLOAD_FIELDS,
        issues,
    );
    out.services = items(
        take("services"),
        &format!("{prefix}/services"),
        SERVICE_FIELDS,
        issues,
    );
    out.policies = items(
        take("policies"),
        &format!("{prefix}/policies"),
        POLICY_FIELDS,
        issues,
    );
    out.workload_state = items(
        take("workloadState"),
        &format!("{prefix}/workloadState"),
        STATE_FIELDS,
        issues,
    );
    out.version = lenient(take("version"), &format!("{prefix}/version"), issues);
    out.config = lenient(take("config"), &format!("{prefix}/config"), issues);
    out
}

/// A member read for information only: of the wrong shape, it is ignored with a warning.
fn lenient<T: DeserializeOwned>(v: Option<Value>, at: &str, issues: &mut Vec<Issue>) -> Option<T> {
    match serde_json::from_value(v?) {
        Ok(t) => Some(t),
        Err(e) => {
            issues.push(Issue::warning(at, format!("ignored: {e}")));
            None
        }
    }
}

/// The items of a list, or of an object's values (the earlier layout), each typed on its own.
/// A field not in `known` is ignored with a warning, except inside a policy's match, where it
/// would change the answer: there it drops the policy (an error, so the answer is incomplete).
fn items<T: DeserializeOwned>(
    v: Option<Value>,
    at: &str,
    known: &[&str],
    issues: &mut Vec<Issue>,
) -> Vec<Located<T>> {
    let entries: Vec<(String, Value)> = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(a)) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        Some(Value::Object(o)) => o.into_iter().map(|(k, v)| (escape(&k), v)).collect(),
        Some(other) => {
            issues.push(Issue::error(
                at,
                format!("expected a list or an object, found {}", json_kind(&other)),
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, v) in entries {
        let pointer = format!("{at}/{key}");
        if let Value::Object(o) = &v {
            warn_unknown(o, known, &pointer, issues);
        }
        match serde_json::from_value::<T>(v) {
            Ok(value) => out.push(Located { pointer, value }),
            Err(e) => issues.push(Issue::error(&pointer, format!("dropped: {e}"))),
        }
    }
    out
}

fn warn_unknown(o: &Map<String, Value>, known: &[&str], at: &str, issues: &mut Vec<Issue>) {
    for key in o.keys().filter(|k| !known.contains(&k.as_str())) {
        issues.push(Issue::warning(
            &format!("{at}/{}", escape(key)),
            format!("unknown field `{key}` ignored"),
        ));
    }
}

/// A JSON Pointer reference token (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_layouts_are_read_and_each_item_on_its_own() {
        let d = decode(
            json!({
                "workloads": {"net/10.0.0.1": {"name": "a", "namespace": "n", "workloadIps": ["10.0.0.1"], "shiny": 1}},
                "services": [{"name": "s", "namespace": "n", "ports": {"80": 8080}}, {"name": 7}],
                "policies": [{"name": "p", "namespace": "n", "scope": "Namespace", "action": "Allow",
                              "rules": [[[{"principals": [{"Exact": "td/ns/a/sa/b"}], "bogus": []}]]]}],
                "certificates": [],
                "newThing": {}
            }),
            "",
        );
        assert_eq!(d.workloads.len(), 1);
        assert_eq!(d.workloads[0].pointer, "/workloads/net~110.0.0.1");
        assert_eq!(d.services.len(), 1);
        assert_eq!(d.services[0].value.ports.get(&80), Some(&8080));
        assert!(
            d.policies.is_empty(),
            "an unknown match field drops the policy"
        );
        let msgs: Vec<String> = d.issues.iter().map(ToString::to_string).collect();
        assert!(
            msgs.contains(
                &"warning at /workloads/net~110.0.0.1/shiny: unknown field `shiny` ignored"
                    .to_string()
            ),
            "{msgs:?}"
        );
        assert!(
            msgs.contains(
                &"warning at /newThing: unknown field `newThing` in the ztunnel dump ignored"
                    .to_string()
            ),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("error at /services/1: dropped: invalid type")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("error at /policies/0: dropped: unknown field `bogus`")),
            "{msgs:?}"
        );
    }

    #[test]
    fn a_section_of_the_wrong_type_is_an_error() {
        let d = decode(json!({"workloads": "x", "services": []}), "");
        assert_eq!(d.issues.len(), 1);
        assert_eq!(
            d.issues[0].to_string(),
            "error at /workloads: expected a list or an object, found a string"
        );
    }
}
