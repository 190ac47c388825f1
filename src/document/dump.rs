//! A config dump read down to its sections' members, in one pass over the text. The items of
//! each list (the clusters, listeners, routes… that make up nearly all of a dump's bytes) stay
//! JSON text, checked for syntax but not turned into a tree: `decode/` parses each item when
//! it gets to it, on whichever thread decodes it, and drops it once typed. A 70 MB dump so
//! never exists as a 500 MB `Value` tree (docs/performance.md).
//!
//! Duplicate keys are refused here as in [`super::json`]: at the top and section levels by
//! comparing the values read (item lists by their text), inside items when they are parsed.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use super::json::{Node, Strict};
use super::ParseError;

/// One entry of `configs`.
#[derive(Debug, PartialEq)]
pub(crate) enum Config<'a> {
    /// An object: a config section, by member name.
    Section(BTreeMap<String, Member<'a>>),
    /// Anything else (reported by `decode/`).
    Other(Value),
}

/// A member of a section: a list, its items left as text, or any other value, parsed.
#[derive(Debug, PartialEq)]
pub(crate) enum Member<'a> {
    List(Vec<Item<'a>>),
    Value(Value),
}

/// One item of a section's list.
#[derive(Debug)]
pub(crate) enum Item<'a> {
    Text(&'a RawValue),
    Value(Value),
}

impl PartialEq for Item<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Item::Text(a), Item::Text(b)) => a.get() == b.get(),
            (Item::Value(a), Item::Value(b)) => a == b,
            _ => false,
        }
    }
}

impl From<Value> for Member<'_> {
    fn from(v: Value) -> Self {
        match v {
            Value::Array(items) => Member::List(items.into_iter().map(Item::Value).collect()),
            v => Member::Value(v),
        }
    }
}

/// Where a document's JSON came from, to parse deferred items and place their errors in the
/// file as a whole-document parse would.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text<'a> {
    pub name: &'a str,
    pub body: &'a [u8],
    /// Lines skipped before `body` (an HTTP status line…).
    pub lines_before: usize,
}

impl Text<'_> {
    pub(crate) fn parse(&self, item: Item<'_>) -> Result<Value, ParseError> {
        let raw = match item {
            Item::Value(v) => return Ok(v),
            Item::Text(raw) => raw.get(),
        };
        super::json::parse(raw.as_bytes()).map_err(|e| self.error_in(raw, &e))
    }

    /// [`Text::parse`] as a [`Node`] borrowing from the item's text; refused exactly when
    /// `parse` refuses, with the same error.
    pub(crate) fn parse_node<'i>(&self, item: Item<'i>) -> Result<Node<'i>, ParseError> {
        match item {
            Item::Value(v) => Ok(Node::from(v)),
            Item::Text(raw) => {
                super::json::parse_node(raw.get()).map_err(|e| self.error_in(raw.get(), &e))
            }
        }
    }

    /// An error of the item `raw`, placed in the whole file.
    fn error_in(&self, raw: &str, e: &serde_json::Error) -> ParseError {
        {
            // The item's position in the body, then the error's within the item.
            let offset = (raw.as_ptr() as usize)
                .checked_sub(self.body.as_ptr() as usize)
                .filter(|o| *o <= self.body.len())
                .unwrap_or(0);
            let before = &self.body[..offset];
            let lines = before.iter().filter(|&&b| b == b'\n').count();
            let column = offset
                - before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
            let (line, column) = if e.line() == 1 {
                (lines + 1, column + e.column())
            } else {
                (lines + e.line(), e.column())
            };
            ParseError::Json {
                name: self.name.to_string(),
                line: line + self.lines_before,
                column,
                what: crate::json_text::json_error_text(e),
            }
        }
    }
}

/// The top level of a document.
pub(crate) enum Top<'a> {
    /// An object: its members but an array `configs`, which is read into sections.
    Object {
        members: Map<String, Value>,
        configs: Option<Vec<Config<'a>>>,
    },
    /// Not an object (reported by the caller).
    Other(Value),
}

/// Reads a whole document (trailing characters are an error).
pub(crate) fn parse(bytes: &[u8]) -> Result<Top<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let top = TopSeed.deserialize(&mut de)?;
    de.end()?;
    Ok(top)
}

fn duplicate<E: serde::de::Error>(key: &str) -> E {
    E::custom(format!("duplicate key {key:?} with different values"))
}

/// The visitor methods of values that are not the container a seed looks for: parsed as a
/// whole, the strict way, and wrapped.
macro_rules! otherwise_strict {
    ($wrap:expr) => {
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(Value::Bool(v)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(Value::Number(v.into())))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(Value::Number(v.into())))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(
                Number::from_f64(v).map_or(Value::Null, Value::Number),
            ))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok($wrap(Value::String(v.to_string())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok($wrap(Value::String(v)))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
    };
}

struct TopSeed;

impl<'de> DeserializeSeed<'de> for TopSeed {
    type Value = Top<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Envoy admin document")
    }

    otherwise_strict!(Top::Other);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top<'de>, A::Error> {
        Strict.visit_seq(seq).map(Top::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut members = Map::new();
        let mut configs: Option<Vec<Config<'de>>> = None;
        while let Some(k) = map.next_key::<String>()? {
            let v = if k == "configs" {
                match map.next_value_seed(ConfigsSeed)? {
                    Configs::List(list) => {
                        match &configs {
                            Some(old) if *old != list => return Err(duplicate(&k)),
                            Some(_) => {}
                            None if members.contains_key(&k) => return Err(duplicate(&k)),
                            None => configs = Some(list),
                        }
                        continue;
                    }
                    Configs::Other(_) if configs.is_some() => return Err(duplicate(&k)),
                    Configs::Other(v) => v,
                }
            } else {
                map.next_value_seed(Strict)?
            };
            match members.get(&k) {
                Some(old) if *old != v => return Err(duplicate(&k)),
                Some(_) => {}
                None => {
                    members.insert(k, v);
                }
            }
        }
        Ok(Top::Object { members, configs })
    }
}

enum Configs<'a> {
    List(Vec<Config<'a>>),
    Other(Value),
}

struct ConfigsSeed;

impl<'de> DeserializeSeed<'de> for ConfigsSeed {
    type Value = Configs<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Configs<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ConfigsSeed {
    type Value = Configs<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of config sections")
    }

    otherwise_strict!(Configs::Other);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Configs<'de>, A::Error> {
        Strict.visit_map(map).map(Configs::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Configs<'de>, A::Error> {
        let mut list = Vec::new();
        while let Some(c) = seq.next_element_seed(ConfigSeed)? {
            list.push(c);
        }
        Ok(Configs::List(list))
    }
}

struct ConfigSeed;

impl<'de> DeserializeSeed<'de> for ConfigSeed {
    type Value = Config<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Config<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ConfigSeed {
    type Value = Config<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a config section")
    }

    otherwise_strict!(Config::Other);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Config<'de>, A::Error> {
        Strict.visit_seq(seq).map(Config::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Config<'de>, A::Error> {
        let mut members = BTreeMap::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(MemberSeed)?;
            match members.get(&k) {
                Some(old) if *old != v => return Err(duplicate(&k)),
                Some(_) => {}
                None => {
                    members.insert(k, v);
                }
            }
        }
        Ok(Config::Section(members))
    }
}

struct MemberSeed;

impl<'de> DeserializeSeed<'de> for MemberSeed {
    type Value = Member<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Member<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MemberSeed {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a section member")
    }

    otherwise_strict!(Member::Value);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<'de>, A::Error> {
        Strict.visit_map(map).map(Member::Value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            items.push(Item::Text(raw));
        }
        Ok(Member::List(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &[u8]) -> Text<'_> {
        Text {
            name: "t.json",
            body,
            lines_before: 0,
        }
    }

    /// Items read later parse to what a whole-document parse gives, and their errors carry the
    /// position a whole-document parse would have reported.
    #[test]
    fn deferred_items_parse_like_the_whole_document() {
        let body = br#"{"configs": [{"@type": "t", "static_clusters": [{"a": 1},
  {"b": [2, {"c": null}]}], "version_info": "v"}, 7], "x": true}"#;
        let Top::Object { members, configs } = parse(body).unwrap() else {
            panic!("not an object")
        };
        assert_eq!(
            members,
            serde_json::json!({"x": true}).as_object().unwrap().clone()
        );
        let mut configs = configs.unwrap();
        assert_eq!(configs[1], Config::Other(serde_json::json!(7)));
        let Config::Section(section) = &mut configs[0] else {
            panic!("not a section")
        };
        assert_eq!(section["version_info"], Member::Value("v".into()));
        let Some(Member::List(items)) = section.remove("static_clusters") else {
            panic!("not a list")
        };
        let whole: Value = serde_json::from_slice(body).unwrap();
        let parsed: Vec<Value> = items
            .into_iter()
            .map(|i| text(body).parse(i).unwrap())
            .collect();
        assert_eq!(
            parsed,
            whole["configs"][0]["static_clusters"]
                .as_array()
                .unwrap()
                .clone()
        );

        let body = b"{\"configs\": [{\"l\": [{\"a\": 1,\n \"a\": 2}, {\"b\": 1, \"b\": 3}]}]}";
        let Ok(Top::Object {
            configs: Some(mut c),
            ..
        }) = parse(body)
        else {
            panic!("no configs")
        };
        let Config::Section(mut s) = c.remove(0) else {
            panic!("not a section")
        };
        let Some(Member::List(items)) = s.remove("l") else {
            panic!("not a list")
        };
        let errors: Vec<String> = items
            .into_iter()
            .map(|i| text(body).parse(i).unwrap_err().to_string())
            .collect();
        let whole = |b: &[u8]| super::super::json::parse(b).unwrap_err();
        let first = whole(body);
        assert_eq!(
            errors[0],
            format!(
                "t.json:{}:{}: invalid JSON (duplicate key \"a\" with different values)",
                first.line(),
                first.column()
            )
        );
        let second = whole(&body.replace_first(b"\"a\": 2", b"\"a\": 1"));
        assert_eq!(
            errors[1],
            format!(
                "t.json:{}:{}: invalid JSON (duplicate key \"b\" with different values)",
                second.line(),
                second.column()
            )
        );
    }

    #[test]
    fn duplicates_at_the_top_and_section_levels() {
        for (body, ok) in [
            (&br#"{"configs": [], "configs": [{}]}"#[..], false),
            (
                br#"{"configs": [{"a": [1]}], "configs": [{"a": [1]}]}"#,
                true,
            ),
            (br#"{"configs": [{"a": [1], "a": [2]}]}"#, false),
            (br#"{"configs": [{"a": 1, "a": 1}]}"#, true),
            (br#"{"configs": 3, "configs": []}"#, false),
        ] {
            assert_eq!(parse(body).is_ok(), ok, "{}", String::from_utf8_lossy(body));
        }
    }

    trait ReplaceFirst {
        fn replace_first(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
    }

    impl ReplaceFirst for [u8] {
        fn replace_first(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
            let i = self.windows(from.len()).position(|w| w == from).unwrap();
            [&self[..i], to, &self[i + from.len()..]].concat()
        }
    }
}
