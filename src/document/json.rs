//! JSON into a `serde_json::Value`, refusing duplicate keys with different values:
//! `{"configs": [], "configs": […]}` would otherwise keep the last silently, and a dump's meaning
//! must not depend on that. Repeats of the same value are accepted: real istioctl test dumps
//! repeat `@type` lines verbatim.

use std::borrow::Cow;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses a whole document (trailing characters are an error, as for `serde_json::from_slice`).
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

pub(crate) struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Strict)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(x) = seq.next_element_seed(Strict)? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(Strict)?;
            match m.get(&k) {
                Some(old) if *old != v => {
                    return Err(A::Error::custom(format!(
                        "duplicate key {k:?} with different values"
                    )))
                }
                Some(_) => {}
                None => {
                    m.insert(k, v);
                }
            }
        }
        Ok(Value::Object(m))
    }
}

/// A JSON value that borrows its strings from the text (copied only when they hold escapes),
/// with an object's members in document order: what decoding walks, without the allocation of
/// a key and a map node per member that a `Value` costs (docs/performance.md). Duplicate keys
/// follow [`parse`]'s rule, so a text is refused by one exactly when by the other.
#[derive(Debug, Clone)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl Node<'_> {
    /// The same value as [`parse`] gives.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number(n) => Value::Number(n),
            Node::String(s) => Value::String(s.into_owned()),
            Node::Array(items) => Value::Array(items.into_iter().map(Node::into_value).collect()),
            Node::Object(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_value()))
                    .collect(),
            ),
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }
}

/// Serialises as the `Value` it stands for: objects with their keys sorted, so
/// `serde_json::to_string(&node)` is `node.into_value().to_string()` without building the tree.
impl serde::Serialize for Node<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(x) => s.serialize_str(x),
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(members) => {
                let mut sorted: Vec<&(Cow<'_, str>, Node<'_>)> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                let mut map = s.serialize_map(Some(sorted.len()))?;
                for (k, v) in sorted {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

impl From<Value> for Node<'_> {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => Node::Number(n),
            Value::String(s) => Node::String(Cow::Owned(s)),
            Value::Array(items) => Node::Array(items.into_iter().map(Node::from).collect()),
            Value::Object(m) => Node::Object(
                m.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Node::from(v)))
                    .collect(),
            ),
        }
    }
}

/// Parses a whole document as a [`Node`] borrowing from `text`.
pub(crate) fn parse_node(text: &str) -> Result<Node<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = NodeSeed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

struct NodeSeed;

/// Objects with more members than this look their keys up in an index.
const INDEXED_FROM: usize = 32;

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(NodeSeed)
    }
}

/// A string, borrowed from the text when it has no escapes.
struct CowStr;

impl<'de> DeserializeSeed<'de> for CowStr {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(CowStr)
    }
}

impl<'de> Visitor<'de> for CowStr {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de> Visitor<'de> for NodeSeed {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(x) = seq.next_element_seed(NodeSeed)? {
            v.push(x);
        }
        Ok(Node::Array(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Node<'de>)> = Vec::new();
        // Keys are found by a scan while the object is small (most are), by an index once it is
        // not: a hostile object of many keys must not cost their square.
        let mut index: Option<std::collections::HashMap<Cow<'de, str>, usize>> = None;
        while let Some(k) = map.next_key_seed(CowStr)? {
            let v = map.next_value_seed(NodeSeed)?;
            let found = match &index {
                Some(index) => index.get(&k).copied(),
                None => members.iter().position(|(old, _)| *old == k),
            };
            if found.is_none() {
                if let Some(index) = &mut index {
                    index.insert(k.clone(), members.len());
                } else if members.len() >= INDEXED_FROM {
                    let mut all: std::collections::HashMap<Cow<'de, str>, usize> = members
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| (k.clone(), i))
                        .collect();
                    all.insert(k.clone(), members.len());
                    index = Some(all);
                }
            }
            match found {
                // As `parse`: a repeat of the same value is accepted (the first kept), another
                // refused. Rare, so compared the simple way.
                Some(i) => {
                    if members[i].1.clone().into_value() != v.into_value() {
                        return Err(A::Error::custom(format!(
                            "duplicate key {k:?} with different values"
                        )));
                    }
                }
                None => members.push((k, v)),
            }
        }
        Ok(Node::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_values_as_serde_json_and_duplicates_refused() {
        let text = br#"{"a": [1, -2, 3.5, "x", true, null, {"b": {}}], "c": 18446744073709551615}"#;
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_slice::<Value>(text).unwrap()
        );
        let e = parse(b"{\"configs\": [],\n \"configs\": [{}]}").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("duplicate key \"configs\" with different values"),
            "{e}"
        );
        assert_eq!(e.line(), 2);
        assert_eq!(
            parse(b"{\"a\": 1, \"a\": 1}").unwrap(),
            serde_json::json!({"a": 1})
        );
        assert!(parse(b"{} x").is_err());
    }

    /// A node is the value `parse` gives, and is refused where and as `parse` refuses.
    #[test]
    fn nodes_are_the_values_parse_gives() {
        for text in [
            r#"{"a": [1, -2, 3.5, "x\ny", true, null, {"b": {}}], "c": 18446744073709551615}"#,
            r#"{"k\u00e9": {"z": 1, "a": [{"q": "r"}]}, "k\u00e9": {"a": [{"q": "r"}], "z": 1}}"#,
            r#"{"a": 1, "a": 1, "b": 2}"#,
            r#"{"z": {"y": 1e300, "b": -0.0, "a": 1.5}, "A": "\u0001\"\\/é", "_": [[], {}]}"#,
            "[]",
            "\"s\"",
        ] {
            let node = parse_node(text).unwrap();
            let value = parse(text.as_bytes()).unwrap();
            assert_eq!(
                serde_json::to_string(&node).unwrap(),
                value.to_string(),
                "{text}"
            );
            assert_eq!(node.into_value(), value, "{text}");
        }
        for text in [
            "{\"configs\": [],\n \"configs\": [{}]}",
            "{\"a\": {\"b\": 1, \"b\": 2}}",
            "{} x",
        ] {
            let a = parse_node(text).unwrap_err();
            let b = parse(text.as_bytes()).unwrap_err();
            assert_eq!(
                (a.to_string(), a.line(), a.column()),
                (b.to_string(), b.line(), b.column())
            );
        }
        // Large objects: duplicates found through the index as through the scan.
        let many: Vec<String> = (0..20_000).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}, \"k7\": 7, \"k19999\": 19999}}", many.join(", "));
        let node = parse_node(&text).unwrap();
        assert_eq!(node.into_value(), parse(text.as_bytes()).unwrap());
        let text = format!("{{{}, \"k40\": 0}}", many.join(", "));
        let (a, b) = (
            parse_node(&text).unwrap_err(),
            parse(text.as_bytes()).unwrap_err(),
        );
        assert_eq!((a.to_string(), a.column()), (b.to_string(), b.column()));
        match parse_node(r#"{"plain": "x", "esc\"aped": "y\tz"}"#).unwrap() {
            Node::Object(m) => {
                assert!(matches!(m[0].0, Cow::Borrowed("plain")));
                assert!(matches!(&m[0].1, Node::String(Cow::Borrowed("x"))));
                assert!(matches!(m[1].0, Cow::Owned(_)));
            }
            other => panic!("{other:?}"),
        }
    }
}
