//! The schema-guided pass that turns a dump's proto3 JSON into protobuf wire bytes, walking the
//! JSON beside the flat schema (`schema`; the bytes themselves are `wire`); the bytes then decode
//! into the typed prost structs. On the way it
//! - renames v2-era type URLs and upgrades v2-only fields (see `upgrade`),
//! - writes each `Any` of an unknown type as the internal placeholder that carries its raw JSON,
//! - skips unknown fields and enum names (a warning each) and values of the wrong JSON type or
//!   form (an error each), so that one bad field never costs the rest of its resource.
//!
//! Writing the bytes here, rather than building prost-reflect `DynamicMessage`s and transcoding
//! them, is what makes decoding fast (docs/performance.md). Fields go out in field-number order
//! with minimal lengths and without proto3 defaults: the canonical encoding, so an `Any` holds
//! the same bytes whichever route produced it.
//!
//! Every issue names its place as a JSON Pointer into the original document.

use serde_json::{Map, Value};

use super::pool::Pool;
use super::schema::{Field, Kind, Message, Schema};
use super::wire::*;
use super::{typeurl, Issue};
use crate::source::json_kind;

pub(crate) struct Encoder<'p> {
    schema: &'p Schema,
    pub issues: Vec<Issue>,
    path: String,
}

type Fit = Result<(), String>;

impl<'p> Encoder<'p> {
    pub fn new(pool: &'p Pool, base_pointer: &str) -> Self {
        Self {
            schema: &pool.schema,
            issues: Vec::new(),
            path: base_pointer.to_string(),
        }
    }

    /// Appends the fields of `v` as a `desc` message to `buf`; `Err` means `v` as a whole cannot
    /// be that message (and nothing was appended).
    pub fn message(&mut self, desc: &'p Message, v: &mut Value, buf: &mut Vec<u8>) -> Fit {
        if v.is_null() {
            return Ok(());
        }
        let full = desc.full_name.as_str();
        if let Some(wkt) = full.strip_prefix("google.protobuf.") {
            let mark = buf.len();
            let fit = self.well_known(wkt, desc, v, buf);
            if fit.is_err() {
                buf.truncate(mark);
            }
            return fit;
        }
        let Value::Object(obj) = v else {
            return Err(format!(
                "expected an object ({full}), found {}",
                json_kind(v)
            ));
        };
        self.fields(desc, obj, false, buf);
        Ok(())
    }

    fn fields(
        &mut self,
        desc: &'p Message,
        obj: &mut Map<String, Value>,
        in_any: bool,
        buf: &mut Vec<u8>,
    ) {
        for note in super::upgrade::v2_fields(&desc.full_name, obj) {
            self.warn(note);
        }
        let mut present: Vec<(&'p Field, &String, &mut Value)> = Vec::with_capacity(obj.len());
        for (key, value) in obj.iter_mut() {
            if key == "@type" {
                // Old Envoy printed `@type` on inline messages too (an HCM's `route_config`).
                let named = value.as_str().map(typeurl::message_name);
                let same =
                    named.is_some_and(|n| typeurl::v3_name(n).unwrap_or(n) == desc.full_name);
                if !in_any && !same {
                    self.warn(format!(
                        "`@type` {} on a {} ignored",
                        named.unwrap_or("?"),
                        desc.full_name
                    ));
                }
                continue;
            }
            match desc.field(key) {
                Some(field) => present.push((field, key, value)),
                None => {
                    let mark = self.push(key);
                    self.warn(format!(
                        "unknown field `{key}` in {} ignored",
                        desc.full_name
                    ));
                    self.pop(mark);
                }
            }
        }
        // Canonical order; the sort is stable, so a field given twice keeps the document's order.
        present.sort_by_key(|(f, _, _)| f.number);
        for (field, key, value) in present {
            let mark = self.push(key);
            let fit = if value.is_null() && !field.list && !field.map {
                self.single(field.kind, field.number, value, buf)
            } else if field.map {
                self.map(field, value, buf)
            } else if field.list {
                if value.is_null() {
                    Ok(())
                } else {
                    self.list(field, value, buf)
                }
            } else if !field.presence && is_default(value) {
                // proto3 leaves defaults out (and so does the canonical encoding).
                Ok(())
            } else {
                self.single(field.kind, field.number, value, buf)
            };
            if let Err(d) = fit {
                self.report(d);
            }
            self.pop(mark);
        }
    }

    fn map(&mut self, field: &Field, v: &mut Value, buf: &mut Vec<u8>) -> Result<(), Dropped> {
        let Value::Object(entries) = v else {
            return Err(Dropped::Error(format!(
                "expected an object (map), found {}",
                json_kind(v)
            )));
        };
        let entry = match field.kind {
            Kind::Message(i) => self.schema.message_at(i).map_entry(),
            _ => None,
        };
        let Some((key_kind, value_kind)) = entry else {
            return Err(Dropped::Error("a map field without an entry type".into()));
        };
        let number = field.number;
        for (key, value) in entries.iter_mut() {
            let mark = self.push(key);
            let fit = nested(buf, number, |buf| {
                self.map_key(key_kind, key, buf)?;
                self.single(value_kind, 2, value, buf)
            });
            if let Err(d) = fit {
                self.report(d);
            }
            self.pop(mark);
        }
        Ok(())
    }

    /// JSON keys are strings; a map's key type may be an integer or a boolean.
    fn map_key(&mut self, kind: Kind, key: &str, buf: &mut Vec<u8>) -> Result<(), Dropped> {
        match kind {
            Kind::String => {
                put_len(buf, 1, key.as_bytes());
                Ok(())
            }
            Kind::Bool => match key {
                "true" | "false" => {
                    put_tag(buf, 1, VARINT);
                    put_varint(buf, u64::from(key == "true"));
                    Ok(())
                }
                _ => Err(Dropped::Error(format!("map key `{key}` is not a boolean"))),
            },
            _ => self.single(kind, 1, &mut Value::String(key.to_string()), buf),
        }
    }

    fn list(&mut self, field: &Field, v: &mut Value, buf: &mut Vec<u8>) -> Result<(), Dropped> {
        if v.is_object() {
            // Envoy's old JSON parser took one object for a repeated field (Istio 1.1 bootstraps).
            self.warn("a single object where a list is expected, read as a list of one".into());
            *v = Value::Array(vec![std::mem::take(v)]);
        }
        let Value::Array(items) = v else {
            return Err(Dropped::Error(format!(
                "expected an array, found {}",
                json_kind(v)
            )));
        };
        let (kind, number) = (field.kind, field.number);
        for (i, item) in items.iter_mut().enumerate() {
            let mark = self.push(&i.to_string());
            let fit = if item.is_null() {
                Err(Dropped::Error("null is not allowed in a list".into()))
            } else {
                self.single(kind, number, item, buf)
            };
            if let Err(d) = fit {
                self.report(d);
            }
            self.pop(mark);
        }
        Ok(())
    }

    /// Appends field `number` holding `v`; on `Err` nothing was appended.
    fn single(
        &mut self,
        kind: Kind,
        number: u32,
        v: &mut Value,
        buf: &mut Vec<u8>,
    ) -> Result<(), Dropped> {
        let found = json_kind(v);
        let bad = |what: &str| Err(Dropped::Error(format!("expected {what}, found {found}")));
        if let Kind::Message(i) = kind {
            let desc = self.schema.message_at(i);
            let name = desc.full_name.as_str();
            if v.is_null() && name != "google.protobuf.Value" {
                return Ok(());
            }
            // `{}` is how a dump prints an unset Any.
            if name == "google.protobuf.Any" && v.as_object().is_some_and(Map::is_empty) {
                return Ok(());
            }
            return nested(buf, number, |buf| self.message(desc, v, buf)).map_err(Dropped::Error);
        }
        if v.is_null() {
            return Ok(());
        }
        match kind {
            Kind::Message(_) => Ok(()),
            Kind::Enum(i) => {
                let desc = self.schema.enum_at(i);
                let n = match &*v {
                    Value::String(s) => match desc.number(s) {
                        Some(n) => n,
                        None => {
                            return Err(Dropped::Warning(format!(
                                "unknown value `{s}` of enum {} ignored",
                                desc.full_name
                            )))
                        }
                    },
                    Value::Number(n) => match n.as_i64().and_then(|n| i32::try_from(n).ok()) {
                        Some(n) => n,
                        None => return bad("an enum name"),
                    },
                    _ => return bad("an enum name"),
                };
                put_tag(buf, number, VARINT);
                put_varint(buf, i64::from(n) as u64);
                Ok(())
            }
            _ => scalar(kind, number, v, buf).map_err(Dropped::Error),
        }
    }

    fn well_known(
        &mut self,
        wkt: &str,
        desc: &'p Message,
        v: &mut Value,
        buf: &mut Vec<u8>,
    ) -> Fit {
        let wrong = |what: &str, v: &Value| {
            Err(format!(
                "expected {what} (google.protobuf.{wkt}), found {}",
                json_kind(v)
            ))
        };
        let bad_form = |what: &str, s: &str| {
            Err(format!(
                "expected {what} (google.protobuf.{wkt}), found `{s}`"
            ))
        };
        match wkt {
            "Any" => self.any(v, buf),
            "Value" => {
                json_value(v, buf);
                Ok(())
            }
            "Struct" => match &*v {
                Value::Object(obj) => {
                    json_struct(obj, buf);
                    Ok(())
                }
                other => wrong("an object", other),
            },
            "ListValue" => match &*v {
                Value::Array(items) => {
                    json_list(items, buf);
                    Ok(())
                }
                other => wrong("an array", other),
            },
            "Duration" | "Timestamp" => {
                let Value::String(s) = &*v else {
                    return wrong("a string", v);
                };
                let parsed = if wkt == "Duration" {
                    parse_duration(s)
                } else {
                    parse_timestamp(s)
                };
                let Some((seconds, nanos)) = parsed else {
                    let what = if wkt == "Duration" {
                        "a duration such as `1.5s`"
                    } else {
                        "an RFC 3339 time"
                    };
                    return bad_form(what, s);
                };
                if seconds != 0 {
                    put_tag(buf, 1, VARINT);
                    put_varint(buf, seconds as u64);
                }
                if nanos != 0 {
                    put_tag(buf, 2, VARINT);
                    put_varint(buf, i64::from(nanos) as u64);
                }
                Ok(())
            }
            "FieldMask" => {
                let Value::String(s) = &*v else {
                    return wrong("a string", v);
                };
                for path in s.split(',').filter(|p| !p.is_empty()) {
                    put_len(buf, 1, snake_case(path).as_bytes());
                }
                Ok(())
            }
            "Empty" => match &*v {
                Value::Object(_) => Ok(()),
                other => wrong("an object", other),
            },
            _ if wkt.ends_with("Value") => {
                let Some(field) = desc.field("value") else {
                    return Ok(());
                };
                if is_default(v) {
                    return Ok(());
                }
                self.single(field.kind, field.number, v, buf)
                    .map_err(Dropped::into_message)
            }
            _ => {
                if let Value::Object(obj) = v {
                    self.fields(desc, obj, false, buf);
                }
                Ok(())
            }
        }
    }

    fn any(&mut self, v: &mut Value, buf: &mut Vec<u8>) -> Fit {
        let Value::Object(obj) = v else {
            return Err(format!(
                "expected an object (google.protobuf.Any), found {}",
                json_kind(v)
            ));
        };
        let url = match obj.get("@type") {
            None if obj.is_empty() => return Ok(()),
            None => return Err("`@type` is missing from a google.protobuf.Any".into()),
            Some(Value::String(url)) => url.clone(),
            Some(other) => {
                return Err(format!(
                    "`@type` must be a string, found {}",
                    json_kind(other)
                ))
            }
        };
        let name = typeurl::message_name(&url);
        let name = match typeurl::v3_name(name) {
            Some(v3) => {
                self.warn(format!("v2 type {name} read as {v3}"));
                v3
            }
            None => name,
        };
        let Some(desc) = self
            .schema
            .message(name)
            .filter(|_| name != typeurl::UNKNOWN_PLACEHOLDER)
        else {
            self.warn(unknown_type_note(name, obj));
            let raw = v.to_string();
            put_len(
                buf,
                1,
                typeurl::to_url(typeurl::UNKNOWN_PLACEHOLDER).as_bytes(),
            );
            return nested(buf, 2, |buf| {
                put_len(buf, 1, url.as_bytes());
                put_len(buf, 2, raw.as_bytes());
                Ok(())
            });
        };
        put_len(buf, 1, typeurl::to_url(name).as_bytes());
        nested(buf, 2, |buf| {
            if name.starts_with("google.protobuf.") && name != "google.protobuf.Empty" {
                // Well-known types inside an Any carry their JSON form under "value".
                let Some(inner) = obj.get_mut("value") else {
                    return Ok(());
                };
                let mark = self.push("value");
                let fit = self.message(desc, inner, buf);
                self.pop(mark);
                return fit;
            }
            self.fields(desc, obj, true, buf);
            Ok(())
        })
    }

    fn report(&mut self, d: Dropped) {
        match d {
            Dropped::Warning(m) => self.warn(m),
            Dropped::Error(m) => self.error(m),
        }
    }

    fn warn(&mut self, message: String) {
        self.issues.push(Issue::warning(&self.path, message));
    }

    fn error(&mut self, message: String) {
        self.issues.push(Issue::error(
            &self.path,
            format!("{message}; value ignored"),
        ));
    }

    fn push(&mut self, key: &str) -> usize {
        let mark = self.path.len();
        self.path.push('/');
        push_escaped(&mut self.path, key);
        mark
    }

    fn pop(&mut self, mark: usize) {
        self.path.truncate(mark);
    }
}

enum Dropped {
    Warning(String),
    Error(String),
}

impl Dropped {
    fn into_message(self) -> String {
        match self {
            Dropped::Warning(m) | Dropped::Error(m) => m,
        }
    }
}

impl From<String> for Dropped {
    fn from(m: String) -> Self {
        Dropped::Error(m)
    }
}

fn unknown_type_note(name: &str, obj: &Map<String, Value>) -> String {
    if name == typeurl::TYPED_STRUCT_UDPA || name == typeurl::TYPED_STRUCT_XDS {
        let inner = obj
            .get("type_url")
            .or_else(|| obj.get("typeUrl"))
            .and_then(Value::as_str)
            .map(typeurl::message_name)
            .unwrap_or("?");
        format!("type {name} (wrapping {inner}) kept as raw JSON")
    } else {
        format!("unknown type {name} kept as raw JSON")
    }
}

/// RFC 6901: `~` becomes `~0`, `/` becomes `~1`.
pub fn push_escaped(out: &mut String, key: &str) {
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::config::cluster::v3::Cluster;
    use envoy_types::pb::envoy::config::listener::v3::Listener;
    use prost::Message;
    use prost_reflect::{DeserializeOptions, DynamicMessage};
    use serde_json::json;

    fn run<T: Message + prost::Name + Default>(mut v: Value) -> (T, Vec<String>) {
        let pool = Pool::load().unwrap();
        let desc = pool.message(&T::full_name()).unwrap();
        let mut s = Encoder::new(&pool, "/r");
        let mut buf = Vec::new();
        s.message(desc, &mut v, &mut buf).unwrap();
        let t = T::decode(buf.as_slice()).unwrap();
        (t, s.issues.iter().map(|i| i.to_string()).collect())
    }

    #[test]
    fn unknown_fields_enums_and_types_are_named_by_pointer() {
        let (c, issues) = run::<Cluster>(json!({
            "name": "c", "bogus": 1, "type": "NOT_A_TYPE", "connect_timeout": 3,
            "transport_socket": {"name": "x", "typed_config": {"@type": "type.googleapis.com/foo.Bar", "a/b": 1}},
        }));
        assert_eq!(
            issues,
            [
                "warning at /r/bogus: unknown field `bogus` in envoy.config.cluster.v3.Cluster ignored",
                "warning at /r/type: unknown value `NOT_A_TYPE` of enum envoy.config.cluster.v3.Cluster.DiscoveryType ignored",
                "error at /r/connect_timeout: expected a string (google.protobuf.Duration), found a number; value ignored",
                "warning at /r/transport_socket/typed_config: unknown type foo.Bar kept as raw JSON",
            ]
        );
        assert_eq!(c.name, "c");
        assert!(c.connect_timeout.is_none());
        let socket = c.transport_socket.unwrap();
        let typed = match socket.config_type {
            Some(
                envoy_types::pb::envoy::config::core::v3::transport_socket::ConfigType::TypedConfig(
                    a,
                ),
            ) => a,
            other => panic!("{other:?}"),
        };
        match super::super::unpack::<super::super::any::Never>(Some(&typed)) {
            super::super::Unpacked::Raw { type_url, raw_json } => {
                assert_eq!(type_url, "type.googleapis.com/foo.Bar");
                assert_eq!(
                    raw_json,
                    r#"{"@type":"type.googleapis.com/foo.Bar","a/b":1}"#
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn camel_case_and_lists_with_bad_items() {
        let (l, issues) =
            run::<Listener>(json!({"name": "l", "filterChains": [{"name": "a"}, 7, null]}));
        assert_eq!(
            issues,
            [
                "error at /r/filterChains/1: expected an object (envoy.config.listener.v3.FilterChain), found a number; value ignored",
                "error at /r/filterChains/2: null is not allowed in a list; value ignored",
            ]
        );
        assert_eq!(l.filter_chains.len(), 1);
        assert_eq!(l.filter_chains[0].name, "a");
    }

    /// A malformed duration, time or map key costs its field, not the resource.
    #[test]
    fn bad_forms_cost_only_their_field() {
        let (c, issues) = run::<Cluster>(json!({
            "name": "c", "connect_timeout": "soon",
            "metadata": {"filter_metadata": {"istio": {"a": 1}}},
            "typed_extension_protocol_options": {"x": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1.5"}},
        }));
        assert_eq!(
            issues,
            [
                "error at /r/connect_timeout: expected a duration such as `1.5s` (google.protobuf.Duration), found `soon`; value ignored",
                "error at /r/typed_extension_protocol_options/x: expected a duration such as `1.5s` (google.protobuf.Duration), found `1.5`; value ignored",
            ]
        );
        assert!(c.connect_timeout.is_none() && c.typed_extension_protocol_options.is_empty());
        assert_eq!(c.metadata.unwrap().filter_metadata["istio"].fields.len(), 1);
    }

    /// The same clean JSON through prost-reflect's `DynamicMessage` (the route this encoder
    /// replaced) gives the same typed message, down to the bytes inside each `Any`: every scalar
    /// kind, enums by name and number, 64-bit integers as strings, bytes, maps, oneofs, lists,
    /// and the well-known types (Any, Duration, Timestamp, Struct, Value, wrappers, FieldMask).
    #[test]
    fn same_message_as_prost_reflect() {
        use envoy_types::pb::envoy::admin::v3::{ClustersConfigDump, ConfigDump, ServerInfo};
        let v: Value = serde_json::from_str(
            r#"{"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "version_info": "7",
             "dynamic_active_clusters": [{"version_info": "v1", "last_updated": "2024-11-01T00:00:00.123Z",
               "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
                 "name": "outbound|80||a.b", "type": "EDS", "lb_policy": 3, "connect_timeout": "10.5s",
                 "per_connection_buffer_limit_bytes": 32768, "ignore_health_on_host_removal": true,
                 "common_lb_config": {"healthy_panic_threshold": {"value": 12.5}},
                 "circuit_breakers": {"thresholds": [{"max_connections": 4294967295, "priority": "HIGH"}]},
                 "outlier_detection": {"consecutive_5xx": 0, "interval": "-1.000000001s"},
                 "metadata": {"filter_metadata": {"istio": {"n": 1.5, "s": "x", "b": false, "z": null, "l": [1, "a", {}], "o": {"k": []}}}},
                 "transport_socket": {"name": "tls", "typed_config": {
                   "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                   "sni": "a.b", "max_session_keys": 0,
                   "common_tls_context": {"alpn_protocols": ["h2", "http/1.1"],
                     "tls_certificates": [{"certificate_chain": {"inline_bytes": "LS0tLQ=="}, "private_key": {"inline_string": ""}}],
                     "combined_validation_context": {"default_validation_context": {
                       "match_subject_alt_names": [{"exact": "spiffe://td/ns/a/sa/b"}, {"prefix": "x", "ignore_case": true}]}}}}},
                 "upstream_connection_options": {"tcp_keepalive": {"keepalive_probes": 3}},
                 "dns_lookup_family": "V4_ONLY", "max_requests_per_connection": 1,
                 "lrs_server": {"self": {}},
                 "load_assignment": {"cluster_name": "c", "endpoints": [{"priority": 1, "lb_endpoints": [
                   {"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}},
                    "load_balancing_weight": 3, "metadata": {"filter_metadata": {}}}]}]}}}]},
            {"@type": "type.googleapis.com/envoy.admin.v3.ServerInfo", "uptime_current_epoch": "123s",
             "command_line_options": {"base_id": "18446744073709551615", "concurrency": 2, "log_level": "info",
               "mode": "Validate", "restart_epoch": 0, "file_flush_interval": "0.010s", "drain_time": "600s",
               "disabled_extensions": []},
             "node": {"id": "n", "user_agent_build_version": {"version": {"major_number": 1, "minor_number": 40}},
               "metadata": {"A": "b"}}}
        ]}"#,
        )
        .unwrap();
        let pool = Pool::load().unwrap();
        let desc = pool.message("envoy.admin.v3.ConfigDump").unwrap();
        let ours: ConfigDump = {
            let mut s = Encoder::new(&pool, "");
            let mut buf = Vec::new();
            s.message(desc, &mut v.clone(), &mut buf).unwrap();
            assert_eq!(s.issues, []);
            ConfigDump::decode(buf.as_slice()).unwrap()
        };
        let reflect = super::super::pool::descriptors()
            .get_message_by_name("envoy.admin.v3.ConfigDump")
            .unwrap();
        let theirs: ConfigDump =
            DynamicMessage::deserialize_with_options(reflect, &v, &DeserializeOptions::new())
                .unwrap()
                .transcode_to()
                .unwrap();
        // Map entries come out of prost-reflect in hash order, so the Anys that hold a map are
        // compared once decoded (maps compare as maps); all the others byte for byte.
        type Opened = (ClustersConfigDump, Cluster, ServerInfo);
        fn open(d: &ConfigDump) -> Opened {
            let mut clusters = ClustersConfigDump::decode(d.configs[0].value.as_slice()).unwrap();
            let any = clusters.dynamic_active_clusters[0].cluster.take().unwrap();
            let cluster = Cluster::decode(any.value.as_slice()).unwrap();
            let info = ServerInfo::decode(d.configs[1].value.as_slice()).unwrap();
            (clusters, cluster, info)
        }
        let (a, b) = (open(&ours), open(&theirs));
        assert!(a.1.metadata.is_some() && a.1.transport_socket.is_some());
        assert_eq!(a, b);
    }

    #[test]
    fn pointer_escaping() {
        let mut s = String::new();
        push_escaped(&mut s, "a/b~c");
        assert_eq!(s, "a~1b~0c");
    }
}
