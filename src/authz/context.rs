//! What Envoy knows about a request when its authorization filters run: the connection (TLS,
//! peer certificate, addresses, SNI), the HTTP request (method, path with query, authority,
//! headers) and the dynamic metadata earlier filters wrote. Matchers (`matchers.rs`) read only
//! this.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::model::cannot_tell::CannotTell;

/// Three-valued truth: a matcher that needs something envinspect was not told (the source IP,
/// a CEL condition) answers `Unknown` with the reason, instead of a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tri {
    Yes,
    No,
    Unknown(CannotTell),
}

impl Tri {
    pub(crate) fn of(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    pub(crate) fn negate(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            u => u,
        }
    }

    /// Kleene's OR, short-circuiting on the first `Yes` as Envoy's `or_ids` does.
    pub(crate) fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
        let mut unknown = None;
        for t in items {
            match t {
                Tri::Yes => return Tri::Yes,
                Tri::No => {}
                Tri::Unknown(r) => {
                    unknown.get_or_insert(r);
                }
            }
        }
        unknown.map_or(Tri::No, Tri::Unknown)
    }

    /// Kleene's AND.
    pub(crate) fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
        let mut unknown = None;
        for t in items {
            match t {
                Tri::No => return Tri::No,
                Tri::Yes => {}
                Tri::Unknown(r) => {
                    unknown.get_or_insert(r);
                }
            }
        }
        unknown.map_or(Tri::Yes, Tri::Unknown)
    }
}

/// The peer's certificate, as far as it is known: a principal given on the command line is its
/// only URI SAN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PeerCert {
    pub uri_sans: Vec<String>,
    pub dns_sans: Vec<String>,
    /// Envoy's subject string (`CN=…,O=…`); empty when not known.
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpRequest {
    pub method: String,
    /// `:path`, query string included.
    pub path: String,
    pub authority: String,
    /// Lowercase names; several values of one header are kept in order.
    pub headers: BTreeMap<String, Vec<String>>,
}

impl HttpRequest {
    /// A header as Envoy's matchers read it: pseudo-headers included, several values joined by
    /// commas; `None` when absent.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        match name {
            ":method" => Some(self.method.clone()),
            ":path" => Some(self.path.clone()),
            ":authority" => Some(self.authority.clone()),
            ":scheme" => Some("http".into()),
            _ => self.headers.get(name).map(|v| v.join(",")),
        }
    }

    /// The path without query string and fragment (`url_path`).
    pub(crate) fn url_path(&self) -> &str {
        let end = self.path.find(['?', '#']).unwrap_or(self.path.len());
        &self.path[..end]
    }

    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        let q = self.path.split_once('?')?.1;
        let q = q.split('#').next().unwrap_or("");
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| v.to_string())
        })
    }
}

/// Everything one evaluation reads and writes.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// Whether the connection is TLS (terminated by the chain).
    pub tls: bool,
    /// The verified client certificate, when one was presented.
    pub peer: Option<PeerCert>,
    pub source_ip: Option<IpAddr>,
    pub destination_ip: Option<IpAddr>,
    pub destination_port: u32,
    /// SNI: `Some("")` when the client sent none, `None` when not known.
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// `None` on a TCP chain (network filters see no request).
    pub http: Option<HttpRequest>,
    /// Dynamic metadata by filter namespace.
    pub metadata: Map<String, Value>,
    pub filter_state: BTreeMap<String, String>,
}

impl Context {
    /// The value at `path` in the metadata of `filter`, if any.
    pub(crate) fn metadata_value(&self, filter: &str, path: &[String]) -> Option<&Value> {
        let mut v = self.metadata.get(filter)?;
        for key in path {
            v = v.as_object()?.get(key)?;
        }
        Some(v)
    }

    pub(crate) fn set_metadata(&mut self, filter: &str, key: &str, value: Value) {
        let ns = self
            .metadata
            .entry(filter.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = ns {
            m.insert(key.to_string(), value);
        }
    }
}
