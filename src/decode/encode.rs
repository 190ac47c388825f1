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
use crate::json_text::json_kind;

pub(crate) struct Encoder<'p> {
    schema: &'p Schema,
    pub issues: Vec<Issue>,
    path: String,
    /// The present fields of every object being walked as a `Node`, innermost last: (number,
    /// member index, field). One stack for the whole resource, not a list per object.
    order: Vec<(u32, usize, &'p Field)>,
}

type Fit = Result<(), String>;

impl<'p> Encoder<'p> {
    pub(super) fn new(pool: &'p Pool, base_pointer: &str) -> Self {
        Self {
            schema: &pool.schema,
            issues: Vec::new(),
            path: base_pointer.to_string(),
            order: Vec::new(),
        }
    }

    /// Appends the fields of `v` as a `desc` message to `buf`; `Err` means `v` as a whole cannot
    /// be that message (and nothing was appended).
    pub(super) fn message(&mut self, desc: &'p Message, v: &mut Value, buf: &mut Vec<u8>) -> Fit {
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
                None => self.unknown_field(desc, key),
            }
        }
        // Canonical order; the sort is stable, so a field given twice keeps the document's order.
        present.sort_by_key(|(f, _, _)| f.number);
        for (field, key, value) in present {
            let mark = self.push(key);
            if let Err(d) = self.field_value(field, value, buf) {
                self.report(d);
            }
            self.pop(mark);
        }
    }

    /// A member `key` that `desc` has no field for: a warning at its place, nothing written.
    fn unknown_field(&mut self, desc: &Message, key: &str) {
        let mark = self.push(key);
        self.warn(format!(
            "unknown field `{key}` in {} ignored",
            desc.full_name
        ));
        self.pop(mark);
    }

    /// Appends the value of one present field.
    fn field_value(
        &mut self,
        field: &Field,
        value: &mut Value,
        buf: &mut Vec<u8>,
    ) -> Result<(), Dropped> {
        if value.is_null() && !field.list && !field.map {
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
            let mark = self.push_index(i);
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
            let note = unknown_type_note(name, obj);
            self.kept_raw(name, note, &url, &v.to_string(), buf);
            return Ok(());
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

    /// An `Any` of unknown type `name` (its `@type` was `url`): noted, and written as the
    /// placeholder that carries its JSON, `raw`.
    fn kept_raw(&mut self, name: &str, note: String, url: &str, raw: &str, buf: &mut Vec<u8>) {
        // A type extract reads from its JSON is not unknown: saying it is not looked into
        // would be false.
        if !typeurl::READ_FROM_JSON.contains(&name) {
            self.issues.push(Issue::kept_raw(&self.path, name, note));
        }
        put_len(
            buf,
            1,
            typeurl::to_url(typeurl::UNKNOWN_PLACEHOLDER).as_bytes(),
        );
        let _ = nested(buf, 2, |buf| {
            put_len(buf, 1, url.as_bytes());
            put_len(buf, 2, raw.as_bytes());
            Ok::<(), ()>(())
        });
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

    /// [`Encoder::push`] of a list index, without formatting it into a string of its own.
    fn push_index(&mut self, i: usize) -> usize {
        use std::fmt::Write;
        let mark = self.path.len();
        let _ = write!(self.path, "/{i}");
        mark
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
    let type_url = obj
        .get("type_url")
        .or_else(|| obj.get("typeUrl"))
        .and_then(Value::as_str);
    unknown_type_text(name, type_url)
}

/// The note on an `Any` of unknown type `name`; a `TypedStruct` says what it wraps (its
/// `type_url`).
fn unknown_type_text(name: &str, type_url: Option<&str>) -> String {
    if name == typeurl::TYPED_STRUCT_UDPA || name == typeurl::TYPED_STRUCT_XDS {
        let inner = type_url.map(typeurl::message_name).unwrap_or("?");
        format!("type {name} (wrapping {inner}) kept as raw JSON")
    } else {
        format!("unknown type {name} kept as raw JSON")
    }
}

/// RFC 6901: `~` becomes `~0`, `/` becomes `~1`.
pub(super) fn push_escaped(out: &mut String, key: &str) {
    // Almost every key has neither: copied whole (a JSON Pointer is built for every member).
    if !key.bytes().any(|b| b == b'~' || b == b'/') {
        out.push_str(key);
        return;
    }
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

mod node;

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
