//! A section's list of resources (clusters, listeners, routes…), decoded item by item: on the
//! calling thread for short lists, on several threads for long ones, with the same resources,
//! pointers and issues either way.

use prost::{Message, Name};
use serde_json::Value;

use super::{Cx, Issue, Located, Members};
use crate::document::dump::{Item, Member};
use crate::json_text::json_kind;

/// Lists with at least this many resources and this much text are decoded on several threads
/// (a thread costs tens of microseconds; a listener with its filter chains, hundreds).
const PARALLEL_MIN_ITEMS: usize = 32;
const PARALLEL_MIN_BYTES: usize = 128 * 1024;

impl<'t> Cx<'_, 't> {
    /// Decodes every element of the list field `field` (snake_case or lowerCamelCase key) of the
    /// section message `section`, each on its own.
    pub(super) fn list<T: Message + Name + Default>(
        &mut self,
        obj: &mut Members<'t>,
        section: &str,
        field: &str,
        ptr: &str,
        out: &mut Vec<Located<T>>,
    ) {
        let Some((name, json_name)) = self.pool.message(section).and_then(|d| d.names_of(field))
        else {
            return;
        };
        let key = if obj.contains_key(name) {
            name
        } else {
            json_name
        }
        .to_string();
        let Some(value) = obj.remove(&key) else {
            return;
        };
        let list_ptr = format!("{ptr}/{key}");
        let items = match value {
            Member::List(items) => items,
            Member::Value(Value::Null) => return,
            Member::Value(other) => {
                self.issues.push(Issue::error(
                    &list_ptr,
                    format!(
                        "expected an array, found {}; list ignored",
                        json_kind(&other)
                    ),
                ));
                return;
            }
        };
        out.reserve(items.len());
        let text_bytes: usize = items
            .iter()
            .map(|i| match i {
                Item::Text(t) => t.get().len(),
                Item::Value(_) => 0,
            })
            .sum();
        let threads = if items.len() >= PARALLEL_MIN_ITEMS && text_bytes >= PARALLEL_MIN_BYTES {
            self.threads
        } else {
            1
        };
        if threads == 1 {
            self.items(items.into_iter().enumerate(), &list_ptr, out);
            return;
        }
        // Large lists are decoded in parallel, all threads reading the one flat schema.
        let list_ptr = &list_ptr;
        let (pool, text) = (self.pool, self.text);
        let results = crate::par::map_chunks(items, threads, |chunk| {
            let mut cx = Cx {
                pool,
                text,
                issues: Vec::new(),
                failed: None,
                threads: 1,
                buf: Vec::new(),
                prefix: String::new(),
            };
            let mut out = Vec::new();
            cx.items(chunk.into_iter(), list_ptr, &mut out);
            (out, cx.issues, cx.failed)
        });
        let results = results.into_iter().map(|(start, r)| {
            r.unwrap_or_else(|_| {
                let at = format!("{list_ptr}/{start}");
                let lost = format!("from here on: {}", crate::par::LOST);
                (Vec::new(), vec![Issue::error(&at, lost)], None)
            })
        });
        for (o, mut i, failed) in results {
            out.extend(o);
            self.issues.append(&mut i);
            if self.failed.is_none() {
                self.failed = failed;
            }
        }
    }

    fn items<T: Message + Name + Default>(
        &mut self,
        items: impl Iterator<Item = (usize, Item<'t>)>,
        list_ptr: &str,
        out: &mut Vec<Located<T>>,
    ) {
        for (i, item) in items {
            let item = match self.text.parse_node(item) {
                Ok(v) => v,
                Err(e) => {
                    self.failed.get_or_insert(e);
                    return;
                }
            };
            let item_ptr = format!("{list_ptr}/{i}");
            if let Some(value) = self.resource_node::<T>(item, &item_ptr) {
                out.push(Located {
                    pointer: item_ptr,
                    value,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, Decoded, Severity};
    use super::*;
    use crate::decode::Pool;

    /// A list long enough to be decoded on several threads gives the same resources, in the same
    /// order, with the same pointers and issues, as one decoded item by item.
    #[test]
    fn large_lists_decode_in_parallel_like_small_ones() {
        // Each item is over 100 bytes of text.
        let n = PARALLEL_MIN_ITEMS.max(PARALLEL_MIN_BYTES / 100) + 77;
        let clusters: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let timeout = if i == 300 { serde_json::json!(7) } else { serde_json::json!("1s") };
                serde_json::json!({"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": format!("c{i}"), "connect_timeout": timeout}})
            })
            .collect();
        let json = serde_json::json!({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "static_clusters": clusters}]});
        let bytes = json.to_string();
        let doc = crate::document::parse("t", bytes.as_bytes()).unwrap();
        let Ok(Decoded::ConfigDump(d)) = decode(&Pool::load().unwrap(), doc, 4) else {
            panic!("not a dump")
        };
        assert_eq!(d.static_clusters.len(), n);
        for (i, c) in d.static_clusters.iter().enumerate() {
            let any = c.value.cluster.as_ref().expect("packed cluster");
            let cluster =
                <envoy_types::pb::envoy::config::cluster::v3::Cluster as Message>::decode(
                    any.value.as_slice(),
                )
                .expect("a cluster");
            assert_eq!(cluster.name, format!("c{i}"));
            assert_eq!(c.pointer, format!("/configs/0/static_clusters/{i}"));
        }
        let errors: Vec<&str> = d
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.pointer.as_str())
            .collect();
        assert_eq!(
            errors,
            ["/configs/0/static_clusters/300/cluster/connect_timeout"]
        );
    }

    /// A list item is parsed on its decoding thread; JSON refused there (a duplicate key)
    /// refuses the document with the position a whole-document parse gives.
    #[test]
    fn a_duplicate_key_deep_in_a_large_list_refuses_the_document() {
        let n = PARALLEL_MIN_ITEMS.max(PARALLEL_MIN_BYTES / 100) * 2;
        let mut text = String::from(
            r#"{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "static_clusters": ["#,
        );
        for i in 0..n {
            let dup = if i == n - 3 {
                r#", "name": "other""#
            } else {
                ""
            };
            text.push_str(&format!(
                "{}\n{{\"cluster\": {{\"name\": \"c{i}\"{dup}}}}}",
                if i == 0 { "" } else { "," }
            ));
        }
        text.push_str("]}]}");
        let doc = crate::document::parse("t.json", text.as_bytes()).unwrap();
        let err = decode(&Pool::load().unwrap(), doc, 4)
            .unwrap_err()
            .to_string();
        let whole = serde_json::from_str::<serde_json::Value>(&text).map(|_| ());
        assert!(whole.is_ok(), "serde_json keeps the last of duplicate keys");
        assert_eq!(
            err,
            format!(
                "t.json:{}:46: invalid JSON (duplicate key \"name\" with different values)",
                n - 1
            )
        );
    }
}
