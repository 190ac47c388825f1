//! A flat copy of the descriptor pool for the encoder to walk: messages, fields and enums by plain
//! index. prost-reflect's descriptors are handles into a reference-counted pool, and every one
//! the walk takes bumps the pool's shared counter; two threads doing that on one pool ran no
//! faster than one (docs/performance.md). This copy is built once per run and shared by
//! reference by every decoding thread and bundle worker.

use std::collections::HashMap;

use prost_reflect::DescriptorPool;

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
    by_name: HashMap<String, usize>,
    /// Field names in declaration order, for callers that must know which spelling a document used.
    names: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Enum {
    pub full_name: String,
    by_name: HashMap<String, i32>,
}

#[derive(Debug, Default)]
pub(crate) struct Schema {
    messages: Vec<Message>,
    enums: Vec<Enum>,
    by_name: HashMap<String, usize>,
}

impl Schema {
    pub fn build(pool: &DescriptorPool) -> Self {
        let message_index: HashMap<String, usize> = pool
            .all_messages()
            .enumerate()
            .map(|(i, m)| (m.full_name().to_string(), i))
            .collect();
        let enum_index: HashMap<String, usize> = pool
            .all_enums()
            .enumerate()
            .map(|(i, e)| (e.full_name().to_string(), i))
            .collect();
        let kind = |k: prost_reflect::Kind| -> Kind {
            use prost_reflect::Kind as K;
            match k {
                K::Double => Kind::Double,
                K::Float => Kind::Float,
                K::Int32 => Kind::Int32,
                K::Int64 => Kind::Int64,
                K::Uint32 => Kind::Uint32,
                K::Uint64 => Kind::Uint64,
                K::Sint32 => Kind::Sint32,
                K::Sint64 => Kind::Sint64,
                K::Fixed32 => Kind::Fixed32,
                K::Fixed64 => Kind::Fixed64,
                K::Sfixed32 => Kind::Sfixed32,
                K::Sfixed64 => Kind::Sfixed64,
                K::Bool => Kind::Bool,
                K::String => Kind::String,
                K::Bytes => Kind::Bytes,
                // Both indexes come from the same pool, so every name is present.
                K::Message(m) => Kind::Message(message_index[m.full_name()]),
                K::Enum(e) => Kind::Enum(enum_index[e.full_name()]),
            }
        };
        let messages = pool
            .all_messages()
            .map(|m| {
                let mut by_name = HashMap::new();
                let mut fields = Vec::new();
                let mut names = Vec::new();
                for (i, f) in m.fields().enumerate() {
                    fields.push(Field {
                        number: f.number(),
                        kind: kind(f.kind()),
                        list: f.is_list(),
                        map: f.is_map(),
                        presence: f.supports_presence(),
                    });
                    names.push((f.name().to_string(), f.json_name().to_string()));
                    by_name.insert(f.json_name().to_string(), i);
                }
                // The proto name wins over another field's JSON name, as in prost-reflect.
                for (i, f) in m.fields().enumerate() {
                    by_name.insert(f.name().to_string(), i);
                }
                Message {
                    full_name: m.full_name().to_string(),
                    fields,
                    by_name,
                    names,
                }
            })
            .collect();
        let enums = pool
            .all_enums()
            .map(|e| Enum {
                full_name: e.full_name().to_string(),
                by_name: e
                    .values()
                    .map(|v| (v.name().to_string(), v.number()))
                    .collect(),
            })
            .collect();
        Self {
            messages,
            enums,
            by_name: message_index,
        }
    }

    pub fn message(&self, full_name: &str) -> Option<&Message> {
        self.by_name.get(full_name).map(|&i| &self.messages[i])
    }

    pub fn message_at(&self, index: usize) -> &Message {
        &self.messages[index]
    }

    pub fn enum_at(&self, index: usize) -> &Enum {
        &self.enums[index]
    }
}

impl Message {
    /// By proto name first, then by JSON name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.by_name.get(name).map(|&i| &self.fields[i])
    }

    /// The (proto name, JSON name) of a field given by either.
    pub fn names_of(&self, name: &str) -> Option<(&str, &str)> {
        self.by_name
            .get(name)
            .map(|&i| (self.names[i].0.as_str(), self.names[i].1.as_str()))
    }

    /// Key and value kinds of a map entry message (fields 1 and 2).
    pub fn map_entry(&self) -> Option<(Kind, Kind)> {
        let key = self.fields.iter().find(|f| f.number == 1)?.kind;
        let value = self.fields.iter().find(|f| f.number == 2)?.kind;
        Some((key, value))
    }
}

impl Enum {
    pub fn number(&self, name: &str) -> Option<i32> {
        self.by_name.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of every message agrees with prost-reflect's view of it.
    #[test]
    fn agrees_with_the_descriptor_pool() {
        let pool = super::super::pool::descriptors().unwrap();
        let schema = Schema::build(&pool);
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
}
