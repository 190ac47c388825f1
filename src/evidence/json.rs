//! Access-log lines of a JSON format, read back: each key of the line (nested keys as `a.b`)
//! has its template in the format, a single operator or a text template read with the text
//! format's rules. Knows nothing of the dump.

use super::format::{carried, segments, set, Field, Seg, TextFormat};
use crate::model::evidence::Record;

/// A compiled JSON format: each key's template (a single operator, or a text template).
#[derive(Debug)]
#[non_exhaustive]
pub struct JsonFormat {
    source: Vec<(String, String)>,
    keys: std::collections::HashMap<String, JsonValue>,
}

#[derive(Debug)]
enum JsonValue {
    One(Field),
    Template(TextFormat),
}

impl JsonFormat {
    /// The format of `json_format` (its keys and command operators, in order).
    pub fn new(keys: &[(String, String)]) -> JsonFormat {
        let map = keys
            .iter()
            .map(|(k, t)| {
                let segs = segments(t);
                let v = match segs.as_slice() {
                    [Seg::Op(o)] => JsonValue::One(o.field()),
                    _ => JsonValue::Template(TextFormat::new(t)),
                };
                (k.clone(), v)
            })
            .collect();
        let mut source = keys.to_vec();
        source.sort();
        JsonFormat { source, keys: map }
    }

    /// The keys and templates, sorted.
    pub fn source(&self) -> &[(String, String)] {
        &self.source
    }

    /// Whether the format has a key a [`Record`] reads.
    pub fn is_useful(&self) -> bool {
        self.keys.values().any(|v| match v {
            JsonValue::One(f) => !matches!(f, Field::Opaque | Field::Number | Field::StartTime),
            JsonValue::Template(t) => t.is_useful(),
        })
    }

    /// Reads a parsed JSON line; `false` when no key of the format is in it or a typed value
    /// does not read. Nested keys are looked up as `a.b`.
    pub fn parse(
        &self,
        obj: &serde_json::Map<String, serde_json::Value>,
        rec: &mut Record,
    ) -> bool {
        let mut known = 0;
        let mut ok = true;
        for v in self.keys.values() {
            match v {
                JsonValue::One(f) => carried(rec, *f),
                JsonValue::Template(t) => {
                    for s in &t.segs {
                        if let Seg::Op(o) = s {
                            carried(rec, o.field());
                        }
                    }
                }
            }
        }
        walk(obj, "", &mut |key, v| {
            let Some(jv) = self.keys.get(key) else {
                return;
            };
            known += 1;
            let text = match v {
                serde_json::Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
                serde_json::Value::Null => std::borrow::Cow::Borrowed("-"),
                other => std::borrow::Cow::Owned(other.to_string()),
            };
            match jv {
                JsonValue::One(f) => ok &= set(rec, *f, &text),
                JsonValue::Template(t) => {
                    let mut sub = Record::default();
                    if t.parse(&text, &mut sub) {
                        merge(rec, sub);
                    }
                }
            }
        });
        known > 0 && ok
    }
}

fn walk<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    f: &mut dyn FnMut(&str, &'a serde_json::Value),
) {
    for (k, v) in obj {
        let key = if prefix.is_empty() {
            std::borrow::Cow::Borrowed(k.as_str())
        } else {
            std::borrow::Cow::Owned(format!("{prefix}.{k}"))
        };
        match v {
            serde_json::Value::Object(inner) => walk(inner, &key, f),
            _ => f(&key, v),
        }
    }
}

/// Fields of `sub` fill what `rec` lacks.
fn merge(rec: &mut Record, sub: Record) {
    macro_rules! take {
        ($($f:ident),*) => { $( if rec.$f.is_none() { rec.$f = sub.$f; } )* };
    }
    take!(
        status,
        details,
        termination,
        transport_failure,
        route_name,
        upstream_cluster,
        upstream_host,
        authority,
        method,
        path,
        protocol,
        sni,
        downstream_local,
        downstream_remote,
        filter_chain,
        start_time
    );
    if rec.flags.is_empty() {
        rec.flags = sub.flags;
    }
    let (l, s) = (&mut rec.logged, sub.logged);
    l.details |= s.details;
    l.termination |= s.termination;
    l.transport_failure |= s.transport_failure;
    l.downstream_local |= s.downstream_local;
    l.upstream_cluster |= s.upstream_cluster;
    l.route_name |= s.route_name;
}

#[cfg(test)]
mod tests {
    use super::super::format::ISTIO_JSON;
    use super::*;

    #[test]
    fn json_lines_read_by_key() {
        let keys: Vec<(String, String)> = ISTIO_JSON
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let f = JsonFormat::new(&keys);
        let v: serde_json::Value = serde_json::from_str(
            r#"{"response_code":403,"response_flags":"-","response_code_details":"rbac_access_denied_matched_policy[none]","authority":"a","path":null}"#,
        )
        .unwrap();
        let mut r = Record::default();
        assert!(f.parse(v.as_object().unwrap(), &mut r));
        assert_eq!(r.status, Some(403));
        assert_eq!(r.path, None);
        let other: serde_json::Value = serde_json::from_str(r#"{"level":"info"}"#).unwrap();
        assert!(!f.parse(other.as_object().unwrap(), &mut Record::default()));
    }
}
