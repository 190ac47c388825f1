//! Proto3 JSON → typed Envoy protos (`envoy_types`). Each `configs[]` section and each resource
//! in it is decoded on its own, so one broken resource costs only itself; everything that was
//! tolerated or dropped is an [`Issue`] with a JSON Pointer into the original document.

pub mod any;
mod encode;
mod pool;
mod schema;
pub(crate) use schema::camel_case;
pub mod typeurl;
mod upgrade;
mod wire;

use std::collections::BTreeSet;
use std::fmt;

use envoy_types::pb::envoy::admin::v3 as admin;
use prost::{Message, Name};
use serde_json::{Map, Value};

pub use any::{unpack, Unpacked};
use encode::Encoder;
pub use pool::Pool;
pub use typeurl::SectionType;

use crate::source::dump::{Config, Item, Member, Text};
use crate::source::{json_kind, Document, DocumentKind, SourceError};

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot load the vendored Envoy descriptors: {0}")]
    Descriptors(String),
    /// A list item, parsed only now, is not acceptable JSON (a duplicate key).
    #[error(transparent)]
    Json(#[from] SourceError),
}

pub use crate::model::report::Severity;

/// Something met while decoding, and where (a JSON Pointer into the input document).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Issue {
    pub severity: Severity,
    pub pointer: String,
    pub message: String,
}

impl Issue {
    pub fn warning(pointer: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
    pub fn error(pointer: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{sev} at {}: {}",
            if self.pointer.is_empty() {
                "/"
            } else {
                &self.pointer
            },
            self.message
        )
    }
}

/// A decoded value and the JSON Pointer it came from.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub pointer: String,
    pub value: T,
}

/// Every section of a config dump, typed. Absent sections are not in `sections`.
#[derive(Debug, Default)]
pub struct DecodedDump {
    pub sections: BTreeSet<SectionType>,
    pub bootstrap: Option<Located<admin::BootstrapConfigDump>>,
    pub static_clusters: Vec<Located<admin::clusters_config_dump::StaticCluster>>,
    pub active_clusters: Vec<Located<admin::clusters_config_dump::DynamicCluster>>,
    pub warming_clusters: Vec<Located<admin::clusters_config_dump::DynamicCluster>>,
    pub static_listeners: Vec<Located<admin::listeners_config_dump::StaticListener>>,
    pub dynamic_listeners: Vec<Located<admin::listeners_config_dump::DynamicListener>>,
    pub static_routes: Vec<Located<admin::routes_config_dump::StaticRouteConfig>>,
    pub dynamic_routes: Vec<Located<admin::routes_config_dump::DynamicRouteConfig>>,
    pub scoped_routes: usize,
    pub static_endpoints: Vec<Located<admin::endpoints_config_dump::StaticEndpointConfig>>,
    pub dynamic_endpoints: Vec<Located<admin::endpoints_config_dump::DynamicEndpointConfig>>,
    pub static_secrets: Vec<Located<admin::secrets_config_dump::StaticSecret>>,
    pub active_secrets: Vec<Located<admin::secrets_config_dump::DynamicSecret>>,
    pub warming_secrets: Vec<Located<admin::secrets_config_dump::DynamicSecret>>,
    pub ecds_filters: Vec<Located<admin::ecds_config_dump::EcdsFilterConfig>>,
    pub issues: Vec<Issue>,
}

/// The typed form of any admin document envinspect reads.
#[derive(Debug)]
pub enum Decoded {
    ConfigDump(Box<DecodedDump>),
    /// A PEM or DER file: nothing to decode here, the bytes go to `cert/`.
    Certificates(Vec<u8>),
    Certs(admin::Certificates, Vec<Issue>),
    ClusterStatuses(admin::Clusters, Vec<Issue>),
    ServerInfo(Box<admin::ServerInfo>, Vec<Issue>),
}

impl Decoded {
    pub fn issues(&self) -> &[Issue] {
        match self {
            Decoded::ConfigDump(d) => &d.issues,
            Decoded::Certificates(_) => &[],
            Decoded::Certs(_, i) | Decoded::ClusterStatuses(_, i) | Decoded::ServerInfo(_, i) => i,
        }
    }
}

/// Decodes a parsed document on up to all cores. The only error is JSON refused in a list item
/// (parsed here, not in `source/`).
pub fn decode(pool: &Pool, doc: Document) -> Result<Decoded, DecodeError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    decode_with(pool, doc, cores)
}

/// As [`decode`], on at most `threads` threads (a bundle, already parallel over proxies, gives 1).
pub fn decode_with(pool: &Pool, doc: Document, threads: usize) -> Result<Decoded, DecodeError> {
    let mut cx = Cx {
        pool,
        text: doc.text,
        issues: Vec::new(),
        failed: None,
        threads: threads.clamp(1, crate::par::MAX_THREADS),
        buf: Vec::new(),
        prefix: doc.pointer_prefix,
    };
    let mut json = doc.json;
    let decoded = match doc.kind {
        DocumentKind::Certificates => Decoded::Certificates(doc.raw),
        DocumentKind::ConfigDump => Decoded::ConfigDump(Box::new(cx.config_dump(doc.configs))),
        DocumentKind::Certs => {
            let v = cx
                .resource::<admin::Certificates>(&mut json, "")
                .unwrap_or_default();
            Decoded::Certs(v, cx.issues)
        }
        DocumentKind::ClusterStatuses => {
            let v = cx
                .resource::<admin::Clusters>(&mut json, "")
                .unwrap_or_default();
            Decoded::ClusterStatuses(v, cx.issues)
        }
        DocumentKind::ServerInfo => {
            let v = cx
                .resource::<admin::ServerInfo>(&mut json, "")
                .unwrap_or_default();
            Decoded::ServerInfo(Box::new(v), cx.issues)
        }
    };
    match cx.failed {
        Some(e) => Err(e.into()),
        None => Ok(decoded),
    }
}

struct Cx<'p, 't> {
    pool: &'p Pool,
    text: Text<'t>,
    issues: Vec<Issue>,
    /// The first list item that is not acceptable JSON: the document is refused.
    failed: Option<SourceError>,
    /// More pools for decoding large lists in parallel, loaded on first need.
    /// Threads a large list may use.
    threads: usize,
    /// The wire bytes of the resource being decoded, reused from one to the next.
    buf: Vec<u8>,
    /// Where the dump sits in its file (a tool's wrapper), for JSON Pointers.
    prefix: String,
}

type Members<'t> = std::collections::BTreeMap<String, Member<'t>>;

/// Lists with at least this many resources and this much text are decoded on several threads
/// (a thread costs tens of microseconds; a listener with its filter chains, hundreds).
const PARALLEL_MIN_ITEMS: usize = 32;
const PARALLEL_MIN_BYTES: usize = 128 * 1024;

impl<'t> Cx<'_, 't> {
    fn config_dump(&mut self, configs: Vec<Config<'t>>) -> DecodedDump {
        let mut out = DecodedDump::default();
        for (i, section) in configs.into_iter().enumerate() {
            let ptr = format!("{}/configs/{i}", self.prefix);
            let mut obj = match section {
                Config::Section(members) => members,
                Config::Other(v) => {
                    self.issues.push(Issue::error(
                        &ptr,
                        format!("expected a config section object, found {}", json_kind(&v)),
                    ));
                    continue;
                }
            };
            // Without a string `@type` nothing says what the section is: an error. An unknown
            // type is a newer Envoy's section: tolerated, with a warning.
            let url = match obj.get("@type") {
                Some(Member::Value(Value::String(u))) => u.clone(),
                other => {
                    let found = match other {
                        None => "nothing",
                        Some(Member::Value(v)) => json_kind(v),
                        Some(Member::List(_)) => "an array",
                    };
                    let what = format!(
                        "a config section needs a string `@type`, found {found}; section skipped"
                    );
                    self.issues
                        .push(Issue::error(&format!("{ptr}/@type"), what));
                    continue;
                }
            };
            let name = typeurl::message_name(&url);
            let Some(kind) = SectionType::from_message_name(name) else {
                self.issues.push(Issue::warning(
                    &ptr,
                    format!("unknown section type {name} skipped"),
                ));
                continue;
            };
            obj.remove("@type");
            out.sections.insert(kind);
            self.section(kind, &mut obj, &ptr, &mut out);
        }
        out.issues = std::mem::take(&mut self.issues);
        out.issues.sort();
        out
    }

    fn section(
        &mut self,
        kind: SectionType,
        obj: &mut Members<'t>,
        ptr: &str,
        out: &mut DecodedDump,
    ) {
        use admin::*;
        match kind {
            SectionType::Bootstrap => {
                let Some(mut v) = self.whole(obj) else {
                    return;
                };
                if let Some(value) = self.resource::<BootstrapConfigDump>(&mut v, ptr) {
                    out.bootstrap = Some(Located {
                        pointer: ptr.to_string(),
                        value,
                    });
                }
            }
            SectionType::Clusters => {
                let d = ClustersConfigDump::full_name();
                self.list(obj, &d, "static_clusters", ptr, &mut out.static_clusters);
                self.list(
                    obj,
                    &d,
                    "dynamic_active_clusters",
                    ptr,
                    &mut out.active_clusters,
                );
                self.list(
                    obj,
                    &d,
                    "dynamic_warming_clusters",
                    ptr,
                    &mut out.warming_clusters,
                );
            }
            SectionType::Listeners => {
                let d = ListenersConfigDump::full_name();
                self.list(obj, &d, "static_listeners", ptr, &mut out.static_listeners);
                self.list(
                    obj,
                    &d,
                    "dynamic_listeners",
                    ptr,
                    &mut out.dynamic_listeners,
                );
            }
            SectionType::Routes => {
                let d = RoutesConfigDump::full_name();
                self.list(obj, &d, "static_route_configs", ptr, &mut out.static_routes);
                self.list(
                    obj,
                    &d,
                    "dynamic_route_configs",
                    ptr,
                    &mut out.dynamic_routes,
                );
            }
            SectionType::ScopedRoutes => {
                let Some(mut v) = self.whole(obj) else {
                    return;
                };
                if let Some(s) = self.resource::<ScopedRoutesConfigDump>(&mut v, ptr) {
                    out.scoped_routes +=
                        s.inline_scoped_route_configs.len() + s.dynamic_scoped_route_configs.len();
                }
            }
            SectionType::Endpoints => {
                let d = EndpointsConfigDump::full_name();
                self.list(
                    obj,
                    &d,
                    "static_endpoint_configs",
                    ptr,
                    &mut out.static_endpoints,
                );
                self.list(
                    obj,
                    &d,
                    "dynamic_endpoint_configs",
                    ptr,
                    &mut out.dynamic_endpoints,
                );
            }
            SectionType::Secrets => {
                let d = SecretsConfigDump::full_name();
                self.list(obj, &d, "static_secrets", ptr, &mut out.static_secrets);
                self.list(
                    obj,
                    &d,
                    "dynamic_active_secrets",
                    ptr,
                    &mut out.active_secrets,
                );
                self.list(
                    obj,
                    &d,
                    "dynamic_warming_secrets",
                    ptr,
                    &mut out.warming_secrets,
                );
            }
            SectionType::Ecds => {
                let d = EcdsConfigDump::full_name();
                self.list(obj, &d, "ecds_filters", ptr, &mut out.ecds_filters);
            }
        }
        // What is left besides the resource lists (version_info…) is checked for unknown keys only.
        for key in obj.keys() {
            let known = self
                .pool
                .message(&section_name(kind))
                .is_some_and(|d| d.field(key).is_some());
            if !known {
                self.issues.push(Issue::warning(
                    &format!("{ptr}/{}", escape(key)),
                    format!("unknown field `{key}` in {} ignored", section_name(kind)),
                ));
            }
        }
    }

    /// Decodes every element of the list field `field` (snake_case or lowerCamelCase key) of the
    /// section message `section`, each on its own.
    fn list<T: Message + Name + Default>(
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
        let results = results.into_iter().map(|r| {
            r.unwrap_or_else(|_| {
                let lost = "a decoding thread failed; part of the list is missing";
                (Vec::new(), vec![Issue::error(list_ptr, lost)], None)
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
            let mut item = match self.text.parse(item) {
                Ok(v) => v,
                Err(e) => {
                    self.failed.get_or_insert(e);
                    return;
                }
            };
            let item_ptr = format!("{list_ptr}/{i}");
            if let Some(value) = self.resource::<T>(&mut item, &item_ptr) {
                out.push(Located {
                    pointer: item_ptr,
                    value,
                });
            }
        }
    }

    /// A section decoded as one message (its lists parsed now).
    fn whole(&mut self, obj: &mut Members<'t>) -> Option<Value> {
        let mut out = Map::new();
        for (key, member) in std::mem::take(obj) {
            let v = match member {
                Member::Value(v) => v,
                Member::List(items) => {
                    let parsed: Result<Vec<Value>, SourceError> =
                        items.into_iter().map(|i| self.text.parse(i)).collect();
                    match parsed {
                        Ok(items) => Value::Array(items),
                        Err(e) => {
                            self.failed.get_or_insert(e);
                            return None;
                        }
                    }
                }
            };
            out.insert(key, v);
        }
        Some(Value::Object(out))
    }

    /// JSON to wire bytes (the walk), then the typed struct. `None` (with an error issue) only
    /// when the value as a whole is unusable.
    fn resource<T: Message + Name + Default>(&mut self, v: &mut Value, ptr: &str) -> Option<T> {
        let name = T::full_name();
        let Some(desc) = self.pool.message(&name) else {
            self.issues
                .push(Issue::error(ptr, format!("no descriptor for {name}")));
            return None;
        };
        if !v.is_object() {
            self.issues.push(Issue::error(
                ptr,
                format!(
                    "expected an object ({name}), found {}; resource skipped",
                    json_kind(v)
                ),
            ));
            return None;
        }
        let mut walk = Encoder::new(self.pool, ptr);
        self.buf.clear();
        let fit = walk.message(desc, v, &mut self.buf);
        self.issues.append(&mut walk.issues);
        if let Err(msg) = fit {
            self.issues
                .push(Issue::error(ptr, format!("{msg}; resource skipped")));
            return None;
        }
        match T::decode(self.buf.as_slice()) {
            Ok(t) => Some(t),
            Err(e) => {
                self.issues.push(Issue::error(
                    ptr,
                    format!("cannot decode {name}: {e}; resource skipped"),
                ));
                None
            }
        }
    }
}

fn section_name(kind: SectionType) -> String {
    use admin::*;
    match kind {
        SectionType::Bootstrap => BootstrapConfigDump::full_name(),
        SectionType::Clusters => ClustersConfigDump::full_name(),
        SectionType::Listeners => ListenersConfigDump::full_name(),
        SectionType::Routes => RoutesConfigDump::full_name(),
        SectionType::ScopedRoutes => ScopedRoutesConfigDump::full_name(),
        SectionType::Endpoints => EndpointsConfigDump::full_name(),
        SectionType::Secrets => SecretsConfigDump::full_name(),
        SectionType::Ecds => EcdsConfigDump::full_name(),
    }
}

fn escape(key: &str) -> String {
    let mut s = String::new();
    encode::push_escaped(&mut s, key);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let input = crate::source::read_from("t", json.to_string().as_bytes()).unwrap();
        let doc = crate::source::parse(&input).unwrap();
        let Ok(Decoded::ConfigDump(d)) = decode(&Pool::load().unwrap(), doc) else {
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
        let input = crate::source::read_from("t.json", text.as_bytes()).unwrap();
        let doc = crate::source::parse(&input).unwrap();
        let err = decode(&Pool::load().unwrap(), doc).unwrap_err().to_string();
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
