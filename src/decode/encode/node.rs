//! The encoder's walk over a borrowed [`Node`] instead of a `Value`: the same bytes and the same
//! issues (the tests compare both walks on every fixture), without building a `Value` (a key
//! and a map node per member) for the bulk of a resource, its messages and lists of messages.
//! Strings, booleans, enum names, defaults and `Any`s of unknown types (kept as their JSON) are
//! written here too. What is rare or rewritten is handed to the `Value` walk, converted on the
//! spot: numbers, maps and well-known types (small), the members a v2-era upgrade rewrites,
//! objects with `@type` on an inline message, `Any`s of well-known types or without a string
//! `@type`, values of the wrong JSON kind.

use std::borrow::Cow;

use super::{nested, put_len, put_tag, put_varint, typeurl, Dropped, Encoder, Fit, VARINT};
use crate::decode::schema::{Field, Kind, Message};
use crate::decode::upgrade;
use crate::document::json::Node;

type Members<'a> = Vec<(Cow<'a, str>, Node<'a>)>;

impl<'p> Encoder<'p> {
    /// [`Encoder::message`] of a node.
    pub(crate) fn message_node(
        &mut self,
        desc: &'p Message,
        v: Node<'_>,
        buf: &mut Vec<u8>,
    ) -> Fit {
        let full = desc.full_name.as_str();
        match v {
            Node::Object(members) if full == "google.protobuf.Any" => {
                let mark = buf.len();
                let fit = self.any_node(members, buf);
                if fit.is_err() {
                    buf.truncate(mark);
                }
                fit
            }
            Node::Object(members) if !full.starts_with("google.protobuf.") => {
                self.fields_node(desc, members, false, buf);
                Ok(())
            }
            other => self.message(desc, &mut other.into_value(), buf),
        }
    }

    fn fields_node(
        &mut self,
        desc: &'p Message,
        members: Members<'_>,
        in_any: bool,
        buf: &mut Vec<u8>,
    ) {
        if !in_any && members.iter().any(|(k, _)| k == "@type") {
            if let serde_json::Value::Object(mut obj) = Node::Object(members).into_value() {
                self.fields(desc, &mut obj, in_any, buf);
            }
            return;
        }
        let mut members = members;
        let upgraded = upgrade::v2_keys(&desc.full_name);
        if members.iter().any(|(k, _)| upgraded.contains(&k.as_ref())) {
            // Only the members the upgrade reads or writes become a `Value` (a v2-era listener
            // is upgraded for one small key, not rebuilt whole); the rest stay nodes.
            let context = upgrade::v2_context(&desc.full_name);
            let (taken, kept): (Members<'_>, Members<'_>) = members
                .into_iter()
                .partition(|(k, _)| context.contains(&k.as_ref()));
            let mut obj: serde_json::Map<String, serde_json::Value> = taken
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_value()))
                .collect();
            for note in upgrade::v2_fields(&desc.full_name, &mut obj) {
                self.warn(note);
            }
            members = kept;
            members.extend(obj.into_iter().map(|(k, v)| (Cow::Owned(k), Node::from(v))));
        }
        let start = self.order.len();
        for (i, (key, _)) in members.iter().enumerate() {
            if key == "@type" {
                continue;
            }
            match desc.field(key) {
                Some(field) => self.order.push((field.number, i, field)),
                None => self.unknown_field(desc, key),
            }
        }
        // Canonical order (Envoy prints it already, mostly). The `Value` walk meets keys sorted
        // (a `BTreeMap`) and sorts them stably by number: a field given under both its names
        // goes in key order there too.
        let order = |a: &(u32, usize, &Field), b: &(u32, usize, &Field)| {
            (a.0, &members[a.1].0).cmp(&(b.0, &members[b.1].0))
        };
        let ours = &mut self.order[start..];
        if !ours.windows(2).all(|w| order(&w[0], &w[1]).is_le()) {
            ours.sort_by(order);
        }
        let end = self.order.len();
        // Nested objects push above `end` and truncate back to it.
        for at in start..end {
            let (_, i, field) = self.order[at];
            let (key, value) = std::mem::replace(&mut members[i], (Cow::Borrowed(""), Node::Null));
            let mark = self.push(&key);
            let single = !field.list && !field.map;
            let fit = match value {
                // proto3 leaves defaults out (as `field_value` does).
                v if single && !field.presence && is_default(&v) => Ok(()),
                v @ (Node::String(_) | Node::Bool(_)) if single => {
                    self.single_node(field.kind, field.number, v, buf)
                }
                Node::Object(m) if !field.list && !field.map => {
                    self.single_node(field.kind, field.number, Node::Object(m), buf)
                }
                Node::Array(items) if field.list && !field.map => {
                    self.list_node(field, items, buf);
                    Ok(())
                }
                other => self.field_value(field, &mut other.into_value(), buf),
            };
            if let Err(d) = fit {
                self.report(d);
            }
            self.pop(mark);
        }
        self.order.truncate(start);
    }

    /// [`Encoder::list`] of a node's items.
    fn list_node(&mut self, field: &Field, items: Vec<Node<'_>>, buf: &mut Vec<u8>) {
        for (i, item) in items.into_iter().enumerate() {
            let mark = self.push_index(i);
            let fit = if item.is_null() {
                Err(Dropped::Error("null is not allowed in a list".into()))
            } else {
                self.single_node(field.kind, field.number, item, buf)
            };
            if let Err(d) = fit {
                self.report(d);
            }
            self.pop(mark);
        }
    }

    /// [`Encoder::single`] of a node: a message object walked here, anything else as a `Value`.
    fn single_node(
        &mut self,
        kind: Kind,
        number: u32,
        v: Node<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<(), Dropped> {
        match (kind, v) {
            (Kind::Message(i), Node::Object(members)) => {
                let desc = self.schema.message_at(i);
                // `{}` is how a dump prints an unset Any.
                if desc.full_name == "google.protobuf.Any" && members.is_empty() {
                    return Ok(());
                }
                nested(buf, number, |buf| {
                    self.message_node(desc, Node::Object(members), buf)
                })
                .map_err(Dropped::Error)
            }
            // The commonest scalars, written as `single` writes them, without a `String` each.
            (Kind::String, Node::String(text)) => {
                put_len(buf, number, text.as_bytes());
                Ok(())
            }
            (Kind::Bool, Node::Bool(b)) => {
                put_tag(buf, number, VARINT);
                put_varint(buf, u64::from(b));
                Ok(())
            }
            (Kind::Enum(i), Node::String(text)) => {
                let desc = self.schema.enum_at(i);
                let Some(n) = desc.number(&text) else {
                    return Err(Dropped::Warning(format!(
                        "unknown value `{text}` of enum {} ignored",
                        desc.full_name
                    )));
                };
                put_tag(buf, number, VARINT);
                put_varint(buf, i64::from(n) as u64);
                Ok(())
            }
            (kind, v) => self.single(kind, number, &mut v.into_value(), buf),
        }
    }

    /// [`Encoder::any`] of a node's members: a known message type walked here, an unknown one
    /// kept as its JSON (written from the node, as the `Value` would print it).
    fn any_node(&mut self, members: Members<'_>, buf: &mut Vec<u8>) -> Fit {
        let url = members.iter().find_map(|(k, v)| match v {
            Node::String(u) if k == "@type" => Some(u.clone()),
            _ => None,
        });
        let Some(url) = url else {
            return self.any(&mut Node::Object(members).into_value(), buf);
        };
        let name = typeurl::message_name(&url);
        let v3 = typeurl::v3_name(name);
        let wanted = v3.unwrap_or(name);
        if wanted.starts_with("google.protobuf.") {
            return self.any(&mut Node::Object(members).into_value(), buf);
        }
        if let Some(v3) = v3 {
            self.warn(format!("v2 type {name} read as {v3}"));
        }
        let known = self
            .schema
            .message(wanted)
            .filter(|_| wanted != typeurl::UNKNOWN_PLACEHOLDER);
        let Some(desc) = known else {
            // As the `Value` walk: `type_url` if present (a string or not), else `typeUrl`.
            let member = |key: &str| members.iter().find(|(k, _)| k == key).map(|(_, v)| v);
            let type_url = match member("type_url").or_else(|| member("typeUrl")) {
                Some(Node::String(u)) => Some(u.as_ref()),
                _ => None,
            };
            let note = super::unknown_type_text(wanted, type_url);
            let raw = serde_json::to_string(&Node::Object(members))
                .map_err(|e| format!("cannot keep an unknown type as JSON: {e}"))?;
            self.kept_raw(wanted, note, &url, &raw, buf);
            return Ok(());
        };
        put_len(buf, 1, typeurl::to_url(wanted).as_bytes());
        nested(buf, 2, |buf| {
            self.fields_node(desc, members, true, buf);
            Ok(())
        })
    }
}

/// `wire::is_default` of a node: `false`, `""`, or a positive zero.
fn is_default(v: &Node<'_>) -> bool {
    match v {
        Node::Bool(b) => !b,
        Node::String(s) => s.is_empty(),
        Node::Number(n) => n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_positive()),
        _ => false,
    }
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
