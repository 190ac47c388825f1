//! v2 → v3 field upgrades for Istio 1.1–1.5 dumps, done on the JSON before the walk checks it.
//! Only what changes the answers is upgraded: TLS contexts that moved into transport sockets,
//! filter configs that were untyped `Struct`s, and SAN lists that became matchers. Other v2-only
//! fields are reported as unknown by the walk.

use serde_json::{json, Map, Value};

use super::typeurl;

/// Upgrades `obj` (a JSON message of type `full_name`) in place; returns notes for the report.
pub(crate) fn v2_fields(full_name: &str, obj: &mut Map<String, Value>) -> Vec<String> {
    let mut notes = Vec::new();
    match full_name {
        "envoy.config.cluster.v3.Cluster" => {
            tls_context(obj, typeurl::TLS_UPSTREAM, &mut notes);
            hosts(obj, &mut notes);
        }
        "envoy.config.listener.v3.FilterChain" => {
            tls_context(obj, typeurl::TLS_DOWNSTREAM, &mut notes)
        }
        "envoy.config.listener.v3.Filter"
        | "envoy.config.listener.v3.ListenerFilter"
        | "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter"
        | "envoy.config.accesslog.v3.AccessLog" => untyped_config(obj, &mut notes),
        "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext" => {
            verify_subject_alt_name(obj, &mut notes)
        }
        "envoy.config.core.v3.Node" => build_version(obj, &mut notes),
        "envoy.config.listener.v3.Listener" => deprecated_v1(obj, &mut notes),
        "envoy.type.matcher.v3.StringMatcher" => v2_regex(obj, &mut notes),
        _ => {}
    }
    notes
}

/// The keys without which [`v2_fields`] leaves a message of type `full_name` as it is: a walk
/// that meets none of them need not build the message as a `Value` to upgrade it.
pub(crate) fn v2_keys(full_name: &str) -> &'static [&'static str] {
    match full_name {
        "envoy.config.cluster.v3.Cluster" => &[
            "tls_context",
            "tlsContext",
            "hosts",
            "hidden_envoy_deprecated_hosts",
            "hiddenEnvoyDeprecatedHosts",
        ],
        "envoy.config.listener.v3.FilterChain" => &["tls_context", "tlsContext"],
        "envoy.config.listener.v3.Filter"
        | "envoy.config.listener.v3.ListenerFilter"
        | "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter"
        | "envoy.config.accesslog.v3.AccessLog" => &["config"],
        "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext" => {
            &["verify_subject_alt_name", "verifySubjectAltName"]
        }
        "envoy.config.core.v3.Node" => &[
            "build_version",
            "buildVersion",
            "hidden_envoy_deprecated_build_version",
            "hiddenEnvoyDeprecatedBuildVersion",
        ],
        "envoy.config.listener.v3.Listener" => &["deprecated_v1", "deprecatedV1"],
        "envoy.type.matcher.v3.StringMatcher" => &["regex"],
        _ => &[],
    }
}

/// Every key [`v2_fields`] reads or writes in a message of type `full_name` (its [`v2_keys`]
/// and their context): upgrading an object holding only these members, then putting them back
/// beside the others, is upgrading the whole object.
pub(crate) fn v2_context(full_name: &str) -> &'static [&'static str] {
    match full_name {
        "envoy.config.cluster.v3.Cluster" => &[
            "tls_context",
            "tlsContext",
            "transport_socket",
            "transportSocket",
            "hosts",
            "hidden_envoy_deprecated_hosts",
            "hiddenEnvoyDeprecatedHosts",
            "load_assignment",
            "loadAssignment",
            "name",
        ],
        "envoy.config.listener.v3.FilterChain" => &[
            "tls_context",
            "tlsContext",
            "transport_socket",
            "transportSocket",
        ],
        "envoy.config.listener.v3.Filter"
        | "envoy.config.listener.v3.ListenerFilter"
        | "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter"
        | "envoy.config.accesslog.v3.AccessLog" => {
            &["config", "typed_config", "typedConfig", "name"]
        }
        "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext" => &[
            "verify_subject_alt_name",
            "verifySubjectAltName",
            "match_subject_alt_names",
            "matchSubjectAltNames",
        ],
        "envoy.config.core.v3.Node" => &[
            "build_version",
            "buildVersion",
            "hidden_envoy_deprecated_build_version",
            "hiddenEnvoyDeprecatedBuildVersion",
            "user_agent_build_version",
            "userAgentBuildVersion",
        ],
        "envoy.config.listener.v3.Listener" => &[
            "deprecated_v1",
            "deprecatedV1",
            "bind_to_port",
            "bindToPort",
        ],
        "envoy.type.matcher.v3.StringMatcher" => &["regex", "safe_regex", "safeRegex"],
        _ => &[],
    }
}

fn take(obj: &mut Map<String, Value>, snake: &str, camel: &str) -> Option<Value> {
    obj.remove(snake).or_else(|| obj.remove(camel))
}

fn has(obj: &Map<String, Value>, snake: &str, camel: &str) -> bool {
    obj.contains_key(snake) || obj.contains_key(camel)
}

/// v2 `deprecated_v1.bind_to_port` → `bind_to_port`: Istio before 1.4 declared its per-port
/// listeners that way, reachable only by a capture listener's hand-off.
fn deprecated_v1(obj: &mut Map<String, Value>, notes: &mut Vec<String>) {
    let Some(Value::Object(v1)) = take(obj, "deprecated_v1", "deprecatedV1") else {
        return;
    };
    if let Some(b) = v1.get("bind_to_port").or_else(|| v1.get("bindToPort")) {
        if !has(obj, "bind_to_port", "bindToPort") {
            obj.insert("bind_to_port".into(), b.clone());
        }
    }
    notes.push("v2 `deprecated_v1.bind_to_port` read as `bind_to_port`".into());
}

/// v2 `hosts` (a cluster's addresses; Envoy 1.13–1.16 dump them as
/// `hidden_envoy_deprecated_hosts`) → `load_assignment`, where v3 keeps a static or DNS
/// cluster's endpoints. Left alone when the cluster has a `load_assignment` already.
fn hosts(obj: &mut Map<String, Value>, notes: &mut Vec<String>) {
    let mut found = None;
    for (snake, camel) in [
        ("hosts", "hosts"),
        (
            "hidden_envoy_deprecated_hosts",
            "hiddenEnvoyDeprecatedHosts",
        ),
    ] {
        if let Some(v) = take(obj, snake, camel) {
            found = found.or(Some((snake, v)));
        }
    }
    let Some((key, Value::Array(addresses))) = found else {
        return;
    };
    if has(obj, "load_assignment", "loadAssignment") {
        return;
    }
    let name = obj
        .get("name")
        .cloned()
        .unwrap_or(Value::String(String::new()));
    let lb: Vec<Value> = addresses
        .into_iter()
        .map(|a| json!({ "endpoint": { "address": a } }))
        .collect();
    obj.insert(
        "load_assignment".into(),
        json!({ "cluster_name": name, "endpoints": [{ "lb_endpoints": lb }] }),
    );
    notes.push(format!("v2 `{key}` read as `load_assignment`"));
}

/// v2 `tls_context` → v3 `transport_socket` with a typed TLS context.
fn tls_context(obj: &mut Map<String, Value>, tls_type: &str, notes: &mut Vec<String>) {
    if has(obj, "transport_socket", "transportSocket") {
        return;
    }
    let Some(Value::Object(mut ctx)) = take(obj, "tls_context", "tlsContext") else {
        return;
    };
    ctx.insert("@type".into(), Value::String(typeurl::to_url(tls_type)));
    obj.insert(
        "transport_socket".into(),
        json!({ "name": typeurl::TLS_SOCKET_NAMES[0], "typed_config": Value::Object(ctx) }),
    );
    notes.push("v2 `tls_context` read as `transport_socket`".into());
}

/// v2's `regex` string matcher (RE2 in Envoy since 1.10's `safe_regex`; the old one was
/// ECMAScript, matching the whole string, as `safe_regex` does) → `safe_regex`. Dropping it
/// would turn a regex match into "any value".
fn v2_regex(obj: &mut Map<String, Value>, notes: &mut Vec<String>) {
    if has(obj, "safe_regex", "safeRegex") {
        return;
    }
    if let Some(Value::String(re)) = obj.get("regex").cloned() {
        obj.remove("regex");
        obj.insert("safe_regex".into(), json!({ "regex": re }));
        notes.push("v2 `regex` string matcher read as `safe_regex`".into());
    }
}

/// v2 `config` (a `Struct`) → `typed_config`, typed when the filter name says which message.
fn untyped_config(obj: &mut Map<String, Value>, notes: &mut Vec<String>) {
    if has(obj, "typed_config", "typedConfig") || !obj.contains_key("config") {
        return;
    }
    let Some(Value::Object(mut config)) = obj.remove("config") else {
        return;
    };
    let name = obj.get("name").and_then(Value::as_str).unwrap_or_default();
    let typed = match typeurl::v2_filter_config_type(name) {
        Some(t) => {
            config.insert("@type".into(), Value::String(typeurl::to_url(t)));
            notes.push(format!("v2 `config` of `{name}` read as {t}"));
            Value::Object(config)
        }
        None => {
            json!({ "@type": typeurl::to_url(typeurl::STRUCT), "value": Value::Object(config) })
        }
    };
    obj.insert("typed_config".into(), typed);
}

/// v2 `verify_subject_alt_name: [s]` → `match_subject_alt_names: [{exact: s}]`.
fn verify_subject_alt_name(obj: &mut Map<String, Value>, notes: &mut Vec<String>) {
    let Some(Value::Array(names)) = take(obj, "verify_subject_alt_name", "verifySubjectAltName")
    else {
        return;
    };
    let key = if obj.contains_key("matchSubjectAltNames") {
        "matchSubjectAltNames"
    } else {
        "match_subject_alt_names"
    };
    let matchers = obj.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = matchers {
        list.extend(names.into_iter().map(|n| json!({ "exact": n })));
    }
    notes.push("v2 `verify_subject_alt_name` read as exact `match_subject_alt_names`".into());
}

/// v2 `build_version` ("<sha>/1.12.0-dev/Clean/RELEASE/BoringSSL"), which v3 keeps only as
/// `hidden_envoy_deprecated_build_version` in some dumps, → `user_agent_build_version`.
fn build_version(obj: &mut Map<String, Value>, notes: &mut Vec<String>) {
    let mut found = None;
    for key in [
        "build_version",
        "buildVersion",
        "hidden_envoy_deprecated_build_version",
        "hiddenEnvoyDeprecatedBuildVersion",
    ] {
        if let Some(v) = obj.remove(key) {
            found = found.or(v.as_str().map(str::to_string));
        }
    }
    let Some(text) = found else {
        return;
    };
    if has(obj, "user_agent_build_version", "userAgentBuildVersion") {
        return;
    }
    let mut parts = text.split('/');
    let sha = parts.next().unwrap_or_default();
    let Some(version) = parts.next() else {
        return;
    };
    let (number, label) = version.split_once('-').unwrap_or((version, ""));
    let mut nums = number.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor, patch) = (
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
    );
    let mut fields = Map::new();
    fields.insert("revision.sha".into(), sha.into());
    for (key, part) in ["revision.status", "build.type", "ssl.version"]
        .into_iter()
        .zip(parts)
    {
        fields.insert(key.into(), part.into());
    }
    if !label.is_empty() {
        fields.insert("build.label".into(), label.into());
    }
    obj.insert(
        "user_agent_build_version".into(),
        json!({ "version": {"major_number": major, "minor_number": minor, "patch": patch}, "metadata": Value::Object(fields) }),
    );
    notes.push("v2 `build_version` read as `user_agent_build_version`".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message `v2_fields` may change names its keys, and without them it changes nothing
    /// (an object holding every other v2-era key it reads).
    #[test]
    fn v2_keys_are_what_v2_fields_needs() {
        let context = json!({"transport_socket": {"name": "t"}, "safe_regex": {"regex": "a"},
            "typed_config": {"@type": "x"}, "name": "envoy.http_connection_manager",
            "user_agent_build_version": {}, "bind_to_port": true});
        for name in [
            "envoy.config.cluster.v3.Cluster",
            "envoy.config.listener.v3.FilterChain",
            "envoy.config.listener.v3.Filter",
            "envoy.config.listener.v3.ListenerFilter",
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
            "envoy.config.accesslog.v3.AccessLog",
            "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext",
            "envoy.config.core.v3.Node",
            "envoy.config.listener.v3.Listener",
            "envoy.type.matcher.v3.StringMatcher",
        ] {
            assert!(!v2_keys(name).is_empty(), "{name}");
            assert!(
                v2_keys(name).iter().all(|k| v2_context(name).contains(k)),
                "{name}"
            );
            for obj in [json!({}), json!({"name": "envoy.tcp_proxy", "other": 1})] {
                let Value::Object(mut obj) = obj else {
                    unreachable!()
                };
                let before = obj.clone();
                assert!(v2_fields(name, &mut obj).is_empty(), "{name}");
                assert_eq!(obj, before, "{name}");
            }
            let Value::Object(mut obj) = context.clone() else {
                unreachable!()
            };
            assert!(v2_fields(name, &mut obj).is_empty(), "{name}");
            assert_eq!(Value::Object(obj), context, "{name}");
        }
        assert!(v2_keys("envoy.config.route.v3.Route").is_empty());
        assert!(v2_context("envoy.config.route.v3.Route").is_empty());
    }

    #[test]
    fn cluster_tls_context_moves_into_a_transport_socket() {
        let mut obj = json!({"name": "c", "tls_context": {"sni": "x"}})
            .as_object()
            .unwrap()
            .clone();
        let notes = v2_fields("envoy.config.cluster.v3.Cluster", &mut obj);
        assert_eq!(notes.len(), 1);
        assert_eq!(
            obj["transport_socket"]["typed_config"]["@type"],
            "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
        );
        assert_eq!(obj["transport_socket"]["typed_config"]["sni"], "x");
    }

    /// Envoy 1.14 dumps a v3 cluster's v2 `hosts` as `hidden_envoy_deprecated_hosts`: its
    /// endpoints, which v3 keeps in `load_assignment`; one given there already wins.
    #[test]
    fn cluster_hosts_become_a_load_assignment() {
        let address = json!({"socket_address": {"address": "web", "port_value": 80}});
        for key in ["hosts", "hidden_envoy_deprecated_hosts"] {
            let mut obj = json!({"name": "c", key: [address.clone()]})
                .as_object()
                .unwrap()
                .clone();
            let notes = v2_fields("envoy.config.cluster.v3.Cluster", &mut obj);
            assert_eq!(notes, [format!("v2 `{key}` read as `load_assignment`")]);
            assert_eq!(
                Value::Object(obj),
                json!({"name": "c", "load_assignment": {"cluster_name": "c",
                    "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}]}})
            );
        }
        let mut both =
            json!({"name": "c", "hosts": [address], "load_assignment": {"cluster_name": "c"}})
                .as_object()
                .unwrap()
                .clone();
        v2_fields("envoy.config.cluster.v3.Cluster", &mut both);
        assert_eq!(
            Value::Object(both),
            json!({"name": "c", "load_assignment": {"cluster_name": "c"}})
        );
    }

    #[test]
    fn untyped_filter_config() {
        let mut hcm =
            json!({"name": "envoy.http_connection_manager", "config": {"stat_prefix": "s"}});
        v2_fields(
            "envoy.config.listener.v3.Filter",
            hcm.as_object_mut().unwrap(),
        );
        assert_eq!(hcm["typed_config"]["stat_prefix"], "s");
        let mut other = json!({"name": "mixer", "config": {"a": 1}});
        v2_fields(
            "envoy.config.listener.v3.Filter",
            other.as_object_mut().unwrap(),
        );
        assert_eq!(
            other["typed_config"]["@type"],
            "type.googleapis.com/google.protobuf.Struct"
        );
        assert_eq!(other["typed_config"]["value"]["a"], 1);
    }

    #[test]
    fn verify_subject_alt_name_becomes_exact_matchers() {
        let mut ctx = json!({"verify_subject_alt_name": ["spiffe://a/b"]});
        v2_fields(
            "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext",
            ctx.as_object_mut().unwrap(),
        );
        assert_eq!(
            ctx,
            json!({"match_subject_alt_names": [{"exact": "spiffe://a/b"}]})
        );
    }
}
