//! The schema-guided pass that makes real dumps decodable: walks the JSON beside the message
//! descriptors and, before prost-reflect sees it,
//! - renames v2-era type URLs and upgrades v2-only fields (see `upgrade`),
//! - swaps each `Any` of an unknown type for the internal placeholder that carries its raw JSON
//!   (prost-reflect would otherwise fail the whole parse),
//! - removes unknown fields and enum names (a warning each) and values of the wrong JSON type
//!   (an error each), so that one bad field never costs the rest of its resource.
//!
//! Every issue names its place as a JSON Pointer into the original document.

use base64::Engine as _;
use prost_reflect::{Kind, MessageDescriptor};
use serde_json::{Map, Value};

use super::pool::Pool;
use super::{typeurl, Issue};
use crate::source::json_kind;

pub(crate) struct Sanitizer<'p> {
    pool: &'p Pool,
    pub issues: Vec<Issue>,
    path: String,
}

type Fit = Result<(), String>;

impl<'p> Sanitizer<'p> {
    pub fn new(pool: &'p Pool, base_pointer: &str) -> Self {
        Self {
            pool,
            issues: Vec::new(),
            path: base_pointer.to_string(),
        }
    }

    /// Checks `v` against `desc`; `Err` means `v` as a whole cannot be that message.
    pub fn message(&mut self, desc: &MessageDescriptor, v: &mut Value) -> Fit {
        if v.is_null() {
            return Ok(());
        }
        let full = desc.full_name();
        if let Some(wkt) = full.strip_prefix("google.protobuf.") {
            return self.well_known(wkt, desc, v);
        }
        let Value::Object(obj) = v else {
            return Err(format!(
                "expected an object ({full}), found {}",
                json_kind(v)
            ));
        };
        self.fields(desc, obj, false);
        Ok(())
    }

    fn fields(&mut self, desc: &MessageDescriptor, obj: &mut Map<String, Value>, in_any: bool) {
        for note in super::upgrade::v2_fields(desc.full_name(), obj) {
            self.warn(note);
        }
        let mut drop = Vec::new();
        for (key, value) in obj.iter_mut() {
            if key == "@type" {
                // Old Envoy printed `@type` on inline messages too (an HCM's `route_config`).
                let named = value.as_str().map(typeurl::message_name);
                let same =
                    named.is_some_and(|n| typeurl::v3_name(n).unwrap_or(n) == desc.full_name());
                if !in_any && !same {
                    self.warn(format!(
                        "`@type` {} on a {} ignored",
                        named.unwrap_or("?"),
                        desc.full_name()
                    ));
                }
                if !in_any {
                    drop.push(key.clone());
                }
                continue;
            }
            let field = desc
                .get_field_by_name(key)
                .or_else(|| desc.get_field_by_json_name(key));
            let mark = self.push(key);
            let Some(field) = field else {
                self.warn(format!(
                    "unknown field `{key}` in {} ignored",
                    desc.full_name()
                ));
                drop.push(key.clone());
                self.pop(mark);
                continue;
            };
            let kind = field.kind();
            let fit = if value.is_null() {
                Ok(())
            } else if field.is_map() {
                let value_kind = match &kind {
                    Kind::Message(entry) => entry.map_entry_value_field().kind(),
                    _ => kind.clone(),
                };
                self.map(&value_kind, value)
            } else if field.is_list() {
                self.list(&kind, value)
            } else {
                self.single(&kind, value)
            };
            match fit {
                Ok(()) => {}
                Err(Dropped::Warning(msg)) => {
                    self.warn(msg);
                    drop.push(key.clone());
                }
                Err(Dropped::Error(msg)) => {
                    self.error(msg);
                    drop.push(key.clone());
                }
            }
            self.pop(mark);
        }
        for key in drop {
            obj.remove(&key);
        }
    }

    fn map(&mut self, kind: &Kind, v: &mut Value) -> Result<(), Dropped> {
        let Value::Object(entries) = v else {
            return Err(Dropped::Error(format!(
                "expected an object (map), found {}",
                json_kind(v)
            )));
        };
        let mut drop = Vec::new();
        for (key, value) in entries.iter_mut() {
            let mark = self.push(key);
            if let Err(d) = self.single(kind, value) {
                self.report(d);
                drop.push(key.clone());
            }
            self.pop(mark);
        }
        for key in drop {
            entries.remove(&key);
        }
        Ok(())
    }

    fn list(&mut self, kind: &Kind, v: &mut Value) -> Result<(), Dropped> {
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
        let mut keep = Vec::with_capacity(items.len());
        for (i, item) in items.iter_mut().enumerate() {
            let mark = self.push(&i.to_string());
            let fit = if item.is_null() {
                Err(Dropped::Error("null is not allowed in a list".into()))
            } else {
                self.single(kind, item)
            };
            keep.push(match fit {
                Ok(()) => true,
                Err(d) => {
                    self.report(d);
                    false
                }
            });
            self.pop(mark);
        }
        let mut flags = keep.into_iter();
        items.retain(|_| flags.next().unwrap_or(true));
        Ok(())
    }

    fn single(&mut self, kind: &Kind, v: &mut Value) -> Result<(), Dropped> {
        if v.is_null() {
            return Ok(());
        }
        let found = json_kind(v);
        let bad = |what: &str| Err(Dropped::Error(format!("expected {what}, found {found}")));
        match kind {
            Kind::Message(desc) => self.message(desc, v).map_err(Dropped::Error),
            Kind::Enum(desc) => match &*v {
                Value::String(s) => match desc.get_value_by_name(s) {
                    Some(_) => Ok(()),
                    None => Err(Dropped::Warning(format!(
                        "unknown value `{s}` of enum {} ignored",
                        desc.full_name()
                    ))),
                },
                Value::Number(n) if n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()) => Ok(()),
                _ => bad("an enum name"),
            },
            Kind::String => match &*v {
                Value::String(_) => Ok(()),
                _ => bad("a string"),
            },
            Kind::Bool => match &*v {
                Value::Bool(_) => Ok(()),
                _ => bad("a boolean"),
            },
            Kind::Bytes => match &*v {
                Value::String(s) if is_base64(s) => Ok(()),
                Value::String(_) => Err(Dropped::Error("invalid base64 in a bytes field".into())),
                _ => bad("a base64 string"),
            },
            Kind::Double | Kind::Float => match &*v {
                Value::Number(_) => Ok(()),
                Value::String(s)
                    if s.parse::<f64>().is_ok()
                        || matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") =>
                {
                    Ok(())
                }
                _ => bad("a number"),
            },
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                int_in(v, i32::MIN as i128, i32::MAX as i128)
            }
            Kind::Uint32 | Kind::Fixed32 => int_in(v, 0, u32::MAX as i128),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                int_in(v, i64::MIN as i128, i64::MAX as i128)
            }
            Kind::Uint64 | Kind::Fixed64 => int_in(v, 0, u64::MAX as i128),
        }
    }

    fn well_known(&mut self, wkt: &str, desc: &MessageDescriptor, v: &mut Value) -> Fit {
        let expect = |ok: bool, what: &str, v: &Value| {
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "expected {what} (google.protobuf.{wkt}), found {}",
                    json_kind(v)
                ))
            }
        };
        match wkt {
            "Any" => self.any(v),
            "Value" => Ok(()),
            "Struct" => expect(v.is_object(), "an object", v),
            "ListValue" => expect(v.is_array(), "an array", v),
            "Duration" | "Timestamp" | "FieldMask" => expect(v.is_string(), "a string", v),
            "Empty" => expect(v.is_object(), "an object", v),
            _ if wkt.ends_with("Value") => {
                let kind = desc.get_field_by_name("value").map(|f| f.kind());
                match kind {
                    Some(kind) => self.single(&kind, v).map_err(|d| d.into_message()),
                    None => Ok(()),
                }
            }
            _ => {
                if let Value::Object(obj) = v {
                    self.fields(desc, obj, false);
                }
                Ok(())
            }
        }
    }

    fn any(&mut self, v: &mut Value) -> Fit {
        let Value::Object(obj) = v else {
            return Err(format!(
                "expected an object (google.protobuf.Any), found {}",
                json_kind(v)
            ));
        };
        let url = match obj.get("@type") {
            None if obj.is_empty() => {
                // `{}` is how a dump prints an unset Any; prost-reflect wants it absent.
                *v = Value::Null;
                return Ok(());
            }
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
            .pool
            .message(name)
            .filter(|_| name != typeurl::UNKNOWN_PLACEHOLDER)
        else {
            self.warn(unknown_type_note(name, obj));
            let raw = std::mem::take(v);
            *v = placeholder(&url, &raw);
            return Ok(());
        };
        obj.insert("@type".into(), Value::String(typeurl::to_url(name)));
        if name.starts_with("google.protobuf.") && name != "google.protobuf.Empty" {
            // Well-known types inside an Any carry their JSON form under "value".
            if let Some(inner) = obj.get_mut("value") {
                let mark = self.push("value");
                let fit = self.message(&desc, inner);
                self.pop(mark);
                return fit;
            }
            return Ok(());
        }
        self.fields(&desc, obj, true);
        Ok(())
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

fn int_in(v: &Value, min: i128, max: i128) -> Result<(), Dropped> {
    let n: Option<i128> = match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1.9e19)
                    .map(|f| f as i128)
            }),
        Value::String(s) => s.parse::<i128>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(()),
        Some(n) => Err(Dropped::Error(format!("integer {n} out of range"))),
        None => Err(Dropped::Error(format!(
            "expected an integer, found {}",
            json_kind(v)
        ))),
    }
}

fn is_base64(s: &str) -> bool {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let lenient =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::STANDARD, lenient)
        .decode(s)
        .is_ok()
        || GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient)
            .decode(s)
            .is_ok()
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

fn placeholder(url: &str, raw: &Value) -> Value {
    serde_json::json!({
        "@type": typeurl::to_url(typeurl::UNKNOWN_PLACEHOLDER),
        "type_url": url,
        "raw_json": raw.to_string(),
    })
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
    use serde_json::json;

    fn run(name: &str, mut v: Value) -> (Value, Vec<String>) {
        let pool = Pool::load().unwrap();
        let desc = pool.message(name).unwrap();
        let mut s = Sanitizer::new(&pool, "/r");
        s.message(&desc, &mut v).unwrap();
        (v, s.issues.iter().map(|i| i.to_string()).collect())
    }

    #[test]
    fn unknown_fields_enums_and_types_are_named_by_pointer() {
        let (v, issues) = run(
            "envoy.config.cluster.v3.Cluster",
            json!({
                "name": "c", "bogus": 1, "type": "NOT_A_TYPE", "connect_timeout": 3,
                "transport_socket": {"name": "x", "typed_config": {"@type": "type.googleapis.com/foo.Bar", "a/b": 1}},
            }),
        );
        assert_eq!(
            issues,
            [
                "warning at /r/bogus: unknown field `bogus` in envoy.config.cluster.v3.Cluster ignored",
                "error at /r/connect_timeout: expected a string (google.protobuf.Duration), found a number; value ignored",
                "warning at /r/transport_socket/typed_config: unknown type foo.Bar kept as raw JSON",
                "warning at /r/type: unknown value `NOT_A_TYPE` of enum envoy.config.cluster.v3.Cluster.DiscoveryType ignored",
            ]
        );
        assert_eq!(
            v["transport_socket"]["typed_config"]["type_url"],
            "type.googleapis.com/foo.Bar"
        );
        assert_eq!(
            v["transport_socket"]["typed_config"]["raw_json"],
            r#"{"@type":"type.googleapis.com/foo.Bar","a/b":1}"#
        );
        assert!(v.get("bogus").is_none() && v.get("type").is_none());
    }

    #[test]
    fn camel_case_and_lists_with_bad_items() {
        let (v, issues) = run(
            "envoy.config.listener.v3.Listener",
            json!({"name": "l", "filterChains": [{"name": "a"}, 7, null]}),
        );
        assert_eq!(
            issues,
            [
                "error at /r/filterChains/1: expected an object (envoy.config.listener.v3.FilterChain), found a number; value ignored",
                "error at /r/filterChains/2: null is not allowed in a list; value ignored",
            ]
        );
        assert_eq!(v["filterChains"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn pointer_escaping() {
        let mut s = String::new();
        push_escaped(&mut s, "a/b~c");
        assert_eq!(s, "a~1b~0c");
    }
}
