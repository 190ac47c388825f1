//! A flat copy of the descriptor pool for the encoder to walk: messages, fields and enums by plain
//! index. prost-reflect's descriptors are handles into a reference-counted pool, and every one
//! the walk takes bumps the pool's shared counter; two threads doing that on one pool ran no
//! faster than one (docs/performance.md). This copy is built once per run, straight from the
//! vendored `FileDescriptorSet`, and shared by reference by every decoding thread and bundle
//! worker. A test checks it against prost-reflect's reading of the same set.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The maps the walk looks names up in, once per JSON member: keyed by the schema's own names,
/// so no document chooses what is inserted and a keyed (SipHash) hash buys nothing; FNV-1a is
/// cheaper on these short keys (2% of all instructions of a run, measured with callgrind).
type Names<V> = HashMap<String, V, BuildHasherDefault<Fnv>>;

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto};

/// The wire-relevant kind of a field; messages and enums by index into [`Schema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
    Message(usize),
    Enum(usize),
}

#[derive(Debug)]
pub(crate) struct Field {
    pub number: u32,
    pub kind: Kind,
    pub list: bool,
    pub map: bool,
    /// Has explicit presence (message fields, oneof members, proto3 `optional`): a default value
    /// is still written.
    pub presence: bool,
}

#[derive(Debug)]
pub(crate) struct Message {
    pub full_name: String,
    fields: Vec<Field>,
    /// Proto name and JSON name of each field, to its index in `fields`.
    by_name: Names<usize>,
    /// Field names in declaration order, for callers that must know which spelling a document used.
    names: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Enum {
    pub full_name: String,
    by_name: Names<i32>,
}

#[derive(Debug, Default)]
pub(crate) struct Schema {
    messages: Vec<Message>,
    enums: Vec<Enum>,
    by_name: Names<usize>,
}

impl Schema {
    /// Flattens a compiled `FileDescriptorSet` (type names fully qualified, as protoc writes
    /// them). Decoding the set with prost and indexing it directly is a few milliseconds; going
    /// through prost-reflect's pool first took 25 (start-up, and once per bundle).
    pub(crate) fn from_files(files: &[FileDescriptorProto]) -> Result<Self, String> {
        let mut protos: Vec<(String, &DescriptorProto, bool)> = Vec::new();
        let mut enum_protos: Vec<(String, &EnumDescriptorProto)> = Vec::new();
        for file in files {
            let package = file.package();
            let proto3 = file.syntax() == "proto3";
            let prefix = if package.is_empty() {
                String::new()
            } else {
                format!("{package}.")
            };
            for e in &file.enum_type {
                enum_protos.push((format!("{prefix}{}", e.name()), e));
            }
            let mut stack: Vec<(String, &DescriptorProto)> = file
                .message_type
                .iter()
                .map(|m| (format!("{prefix}{}", m.name()), m))
                .collect();
            while let Some((name, m)) = stack.pop() {
                for e in &m.enum_type {
                    enum_protos.push((format!("{name}.{}", e.name()), e));
                }
                for n in &m.nested_type {
                    stack.push((format!("{name}.{}", n.name()), n));
                }
                protos.push((name, m, proto3));
            }
        }
        let by_name: Names<usize> = protos
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| (n.clone(), i))
            .collect();
        let enum_index: HashMap<&str, usize> = enum_protos
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        let mut messages = Vec::with_capacity(protos.len());
        for (full_name, m, proto3) in &protos {
            let mut fields = Vec::with_capacity(m.field.len());
            let mut names = Vec::with_capacity(m.field.len());
            let mut by_field =
                Names::with_capacity_and_hasher(m.field.len() * 2, Default::default());
            for f in &m.field {
                let target = f.type_name().trim_start_matches('.');
                let kind =
                    match f.r#type() {
                        Type::Double => Kind::Double,
                        Type::Float => Kind::Float,
                        Type::Int64 => Kind::Int64,
                        Type::Uint64 => Kind::Uint64,
                        Type::Int32 => Kind::Int32,
                        Type::Fixed64 => Kind::Fixed64,
                        Type::Fixed32 => Kind::Fixed32,
                        Type::Bool => Kind::Bool,
                        Type::String => Kind::String,
                        Type::Bytes => Kind::Bytes,
                        Type::Uint32 => Kind::Uint32,
                        Type::Sfixed32 => Kind::Sfixed32,
                        Type::Sfixed64 => Kind::Sfixed64,
                        Type::Sint32 => Kind::Sint32,
                        Type::Sint64 => Kind::Sint64,
                        Type::Message | Type::Group => {
                            Kind::Message(*by_name.get(target).ok_or_else(|| {
                                format!("{full_name}.{}: no message {target}", f.name())
                            })?)
                        }
                        Type::Enum => Kind::Enum(*enum_index.get(target).ok_or_else(|| {
                            format!("{full_name}.{}: no enum {target}", f.name())
                        })?),
                    };
                let repeated = f.label() == Label::Repeated;
                let map = repeated
                    && matches!(kind, Kind::Message(i)
                        if protos[i].1.options.as_ref().is_some_and(|o| o.map_entry()));
                fields.push(Field {
                    number: u32::try_from(f.number())
                        .map_err(|_| format!("{full_name}.{}: bad number", f.name()))?,
                    kind,
                    list: repeated && !map,
                    map,
                    presence: !repeated
                        && (matches!(kind, Kind::Message(_)) || f.oneof_index.is_some() || !proto3),
                });
                let json_name = match &f.json_name {
                    Some(j) => j.clone(),
                    None => camel_case(f.name()),
                };
                names.push((f.name().to_string(), json_name));
            }
            for (i, (_, json)) in names.iter().enumerate() {
                by_field.insert(json.clone(), i);
            }
            // The proto name wins over another field's JSON name, as in prost-reflect.
            for (i, (name, _)) in names.iter().enumerate() {
                by_field.insert(name.clone(), i);
            }
            messages.push(Message {
                full_name: full_name.clone(),
                fields,
                by_name: by_field,
                names,
            });
        }
        let enums = enum_protos
            .iter()
            .map(|(full_name, e)| Enum {
                full_name: full_name.clone(),
                by_name: e
                    .value
                    .iter()
                    .map(|v| (v.name().to_string(), v.number()))
                    .collect(),
            })
            .collect();
        Ok(Self {
            messages,
            enums,
            by_name,
        })
    }

    pub(crate) fn message(&self, full_name: &str) -> Option<&Message> {
        self.by_name.get(full_name).map(|&i| &self.messages[i])
    }

    pub(crate) fn message_at(&self, index: usize) -> &Message {
        &self.messages[index]
    }

    pub(crate) fn enum_at(&self, index: usize) -> &Enum {
        &self.enums[index]
    }
}

/// protoc's default JSON name: `foo_bar` → `fooBar`.
pub(crate) fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl Message {
    /// By proto name first, then by JSON name.
    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.by_name.get(name).map(|&i| &self.fields[i])
    }

    /// The (proto name, JSON name) of a field given by either.
    pub(crate) fn names_of(&self, name: &str) -> Option<(&str, &str)> {
        self.by_name
            .get(name)
            .map(|&i| (self.names[i].0.as_str(), self.names[i].1.as_str()))
    }

    /// Key and value kinds of a map entry message (fields 1 and 2).
    pub(crate) fn map_entry(&self) -> Option<(Kind, Kind)> {
        let key = self.fields.iter().find(|f| f.number == 1)?.kind;
        let value = self.fields.iter().find(|f| f.number == 2)?.kind;
        Some((key, value))
    }
}

impl Enum {
    pub(crate) fn number(&self, name: &str) -> Option<i32> {
        self.by_name.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of every message agrees with prost-reflect's view of it.
    #[test]
    fn agrees_with_the_descriptor_pool() {
        let pool = super::super::pool::descriptors();
        let schema = super::super::Pool::load().unwrap().schema;
        let mut checked = 0;
        for m in pool.all_messages() {
            let ours = schema.message(m.full_name()).unwrap();
            assert_eq!(ours.full_name, m.full_name());
            for f in m.fields() {
                for name in [f.name(), f.json_name()] {
                    let o = ours.field(name).unwrap();
                    if name == f.json_name() && m.get_field_by_name(name).is_some() {
                        continue;
                    }
                    assert_eq!(o.number, f.number(), "{}.{name}", m.full_name());
                    assert_eq!((o.list, o.map), (f.is_list(), f.is_map()));
                    assert_eq!(o.presence, f.supports_presence());
                    match (o.kind, f.kind()) {
                        (Kind::Message(i), prost_reflect::Kind::Message(d)) => {
                            assert_eq!(schema.message_at(i).full_name, d.full_name())
                        }
                        (Kind::Enum(i), prost_reflect::Kind::Enum(d)) => {
                            let e = schema.enum_at(i);
                            assert_eq!(e.full_name, d.full_name());
                            for v in d.values() {
                                assert_eq!(e.number(v.name()), Some(v.number()));
                            }
                        }
                        (k, _) => assert!(!matches!(k, Kind::Message(_) | Kind::Enum(_))),
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 5000, "{checked}");
        let entry = schema
            .message("envoy.config.core.v3.Metadata.FilterMetadataEntry")
            .unwrap();
        assert!(matches!(
            entry.map_entry(),
            Some((Kind::String, Kind::Message(_)))
        ));
    }

    #[test]
    fn default_json_names() {
        assert_eq!(
            camel_case("transport_socket_matches"),
            "transportSocketMatches"
        );
        assert_eq!(camel_case("consecutive_5xx"), "consecutive5xx");
        assert_eq!(camel_case("name"), "name");
    }
}
