//! Proto3 JSON → typed Envoy protos (`envoy_types`). Each `configs[]` section and each resource
//! in it is decoded on its own, so one broken resource costs only itself; everything that was
//! tolerated or dropped is an [`Issue`] with a JSON Pointer into the original document.
//!
//! Its input is a `document::Document`, the JSON `document/` parsed; it never reads bytes or
//! calls back into `source/`.

pub(crate) mod any;
mod encode;
mod list;
mod pool;
mod schema;
pub(crate) use schema::camel_case;
pub(crate) mod typeurl;
mod upgrade;
mod wire;
pub(crate) mod ztunnel;

use std::collections::BTreeSet;
use std::fmt;

use envoy_types::pb::envoy::admin::v3 as admin;
use prost::{Message, Name};
use serde_json::{Map, Value};

pub(crate) use any::{unpack, Unpacked};
use encode::Encoder;
pub(crate) use pool::Pool;
pub(crate) use typeurl::SectionType;

use crate::document::dump::{Config, Member, Text};
use crate::document::json::Node;
use crate::document::{Document, ParseError};
use crate::json_text::json_kind;
use crate::model::DocumentKind;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
/// A document that is JSON but cannot be decoded as what it says it is.
pub enum DecodeError {
    /// The descriptors built into envinspect cannot be loaded (a broken build).
    #[error("cannot load the vendored Envoy descriptors: {0}")]
    Descriptors(String),
    /// A list item, parsed only now, is not acceptable JSON (a duplicate key).
    #[error(transparent)]
    Json(#[from] ParseError),
}

pub(crate) use crate::model::report::Severity;

/// Something met while decoding, and where (a JSON Pointer into the input document).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Issue {
    pub severity: Severity,
    pub pointer: String,
    pub message: String,
    /// A configuration of this type (its message name) was kept as raw JSON: what rules read,
    /// rather than the message.
    pub kept_raw: Option<String>,
    /// Values the message quotes that change at every rotation (a serial, a date): `--redact`
    /// scrubs them too.
    pub quoted: Vec<String>,
}

impl Issue {
    /// The same issue, saying which rotating values its message quotes.
    pub(crate) fn quoting(mut self, values: impl IntoIterator<Item = String>) -> Self {
        self.quoted.extend(values);
        self
    }

    /// A configuration of type `name` kept as raw JSON (a warning; `message` says it).
    pub(crate) fn kept_raw(pointer: &str, name: &str, message: impl Into<String>) -> Self {
        Self {
            kept_raw: Some(name.to_string()),
            ..Self::warning(pointer, message)
        }
    }

    pub(crate) fn warning(pointer: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            pointer: pointer.to_string(),
            message: message.into(),
            kept_raw: None,
            quoted: Vec::new(),
        }
    }
    pub(crate) fn error(pointer: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            pointer: pointer.to_string(),
            message: message.into(),
            kept_raw: None,
            quoted: Vec::new(),
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
pub(crate) struct Located<T> {
    pub pointer: String,
    pub value: T,
}

/// Every section of a config dump, typed. Absent sections are not in `sections`.
#[derive(Debug, Default)]
pub(crate) struct DecodedDump {
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
    /// The top-level `version_info` of the clusters and listeners sections: the last CDS and LDS
    /// versions the proxy accepted.
    pub accepted_cds: Option<String>,
    pub accepted_lds: Option<String>,
    pub issues: Vec<Issue>,
}

/// The typed form of any admin document envinspect reads.
#[derive(Debug)]
pub(crate) enum Decoded {
    ConfigDump(Box<DecodedDump>),
    /// A PEM or DER file: nothing to decode here, the bytes go to `cert/`.
    Certificates(Vec<u8>),
    Certs(admin::Certificates, Vec<Issue>),
    ClusterStatuses(admin::Clusters, Vec<Issue>),
    ServerInfo(Box<admin::ServerInfo>, Vec<Issue>),
    /// Istio ambient's ztunnel: not Envoy, its own JSON.
    Ztunnel(Box<ztunnel::ZtunnelDump>),
}

/// Decodes a parsed document on at most `threads` threads (a bundle, already parallel over
/// proxies, gives 1). The only error is JSON refused in a list item (parsed here, not in
/// `source/`).
pub(crate) fn decode(pool: &Pool, doc: Document, threads: usize) -> Result<Decoded, DecodeError> {
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
        DocumentKind::Ztunnel => Decoded::Ztunnel(Box::new(ztunnel::decode(json, &cx.prefix))),
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
    failed: Option<ParseError>,
    /// More pools for decoding large lists in parallel, loaded on first need.
    /// Threads a large list may use.
    threads: usize,
    /// The wire bytes of the resource being decoded, reused from one to the next.
    buf: Vec<u8>,
    /// Where the dump sits in its file (a tool's wrapper), for JSON Pointers.
    prefix: String,
}

type Members<'t> = std::collections::BTreeMap<String, Member<'t>>;

impl<'p, 't> Cx<'p, 't> {
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
        let version = match obj.get("version_info").or_else(|| obj.get("versionInfo")) {
            Some(Member::Value(Value::String(v))) if !v.is_empty() => Some(v.clone()),
            _ => None,
        };
        match kind {
            SectionType::Clusters => out.accepted_cds = version,
            SectionType::Listeners => out.accepted_lds = version,
            _ => {}
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

    /// A section decoded as one message (its lists parsed now).
    fn whole(&mut self, obj: &mut Members<'t>) -> Option<Value> {
        let mut out = Map::new();
        for (key, member) in std::mem::take(obj) {
            let v = match member {
                Member::Value(v) => v,
                Member::List(items) => {
                    let parsed: Result<Vec<Value>, ParseError> =
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
        self.walk::<T>(ptr, json_kind(v), |walk, desc, buf| {
            walk.message(desc, v, buf)
        })
    }

    /// [`Cx::resource`] of a list item, walked as a [`Node`].
    fn resource_node<T: Message + Name + Default>(&mut self, v: Node<'_>, ptr: &str) -> Option<T> {
        let kind = match &v {
            Node::Object(_) => "an object",
            _ => json_kind(&v.clone().into_value()),
        };
        self.walk::<T>(ptr, kind, |walk, desc, buf| walk.message_node(desc, v, buf))
    }

    /// The walk of one resource found as JSON of `kind` (only an object can be one).
    fn walk<T: Message + Name + Default>(
        &mut self,
        ptr: &str,
        kind: &str,
        walk_with: impl FnOnce(
            &mut Encoder<'p>,
            &'p schema::Message,
            &mut Vec<u8>,
        ) -> Result<(), String>,
    ) -> Option<T> {
        let name = T::full_name();
        let Some(desc) = self.pool.message(&name) else {
            self.issues
                .push(Issue::error(ptr, format!("no descriptor for {name}")));
            return None;
        };
        if kind != "an object" {
            self.issues.push(Issue::error(
                ptr,
                format!("expected an object ({name}), found {kind}; resource skipped"),
            ));
            return None;
        }
        let mut walk = Encoder::new(self.pool, ptr);
        self.buf.clear();
        let fit = walk_with(&mut walk, desc, &mut self.buf);
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
