//! A document's JSON, and what kind of Envoy admin document it is: the contract between
//! `source/`, which reads bytes, and `decode/`, which types them. It skips what a transport left
//! in front of the body (a BOM, an HTTP status line or header block), parses the JSON once, and
//! recognises the document by its shape. A config dump's resources stay JSON text here, checked
//! but not turned into trees ([`dump`]): `decode/` parses each when it gets to it.
//!
//! A leaf: it depends on nothing of envinspect's but the model's `DocumentKind` and the wording
//! of JSON errors (`json_text`), so the layers above and below it both point down to it.

pub(crate) mod dump;
pub(crate) mod json;

use crate::json_text::{json_error_text, json_kind};
pub(crate) use crate::model::report::DocumentKind;

use serde_json::Value;

/// A parsed JSON document and what it is. A config dump's resources are still text in the
/// input (see [`dump`]): the document borrows it.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    pub kind: DocumentKind,
    /// The document; for a config dump, its top-level members but `configs`.
    pub json: Value,
    /// A config dump's `configs`, read down to each section's list items.
    pub configs: Vec<dump::Config<'a>>,
    /// Where the JSON came from, to parse the list items.
    pub text: dump::Text<'a>,
    /// The bytes of a `Certificates` document (empty for JSON documents).
    pub raw: Vec<u8>,
    /// Where the dump sits in the file when a tool wrapped it (egctl: `/xds/ns~1name`); JSON
    /// Pointers into the dump start with it.
    pub pointer_prefix: String,
}

/// Why a document's bytes do not parse as a document envinspect reads; each names the
/// document (and, for JSON syntax, the line and column in the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error("{name}: the file is empty")]
    Empty {
        /// The document.
        name: String,
    },
    /// serde_json's own error is not kept as a source: its text is in `what`, its position in
    /// `line`/`column` (corrected for skipped preamble lines).
    #[error("{name}:{line}:{column}: {what}")]
    Json {
        /// The document.
        name: String,
        /// Where, from 1.
        line: usize,
        /// Where, from 1.
        column: usize,
        /// What is wrong.
        what: String,
    },
    /// JSON, but of no shape envinspect reads.
    #[error("{name}: {what}")]
    Shape {
        /// The document.
        name: String,
        /// What was found, and what was expected.
        what: String,
    },
}

/// Parses the bytes as JSON and recognises the document by its top-level keys. `name` is the
/// input's name, which every error starts with.
pub(crate) fn parse<'a>(name_of: &'a str, bytes: &'a [u8]) -> Result<Document<'a>, ParseError> {
    let name = name_of.to_string();
    let (body, skipped_lines) = strip_preamble(bytes);
    let text = dump::Text {
        name: name_of,
        body,
        lines_before: skipped_lines,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty { name });
    }
    // PEM text, or DER (an ASN.1 SEQUENCE, which no JSON document starts with).
    if body.trim_ascii_start().starts_with(b"-----BEGIN ") || body.first() == Some(&0x30) {
        return Ok(Document {
            kind: DocumentKind::Certificates,
            json: Value::Null,
            configs: Vec::new(),
            text,
            raw: body.to_vec(),
            pointer_prefix: String::new(),
        });
    }
    let top = dump::parse(body).map_err(|source| ParseError::Json {
        name: name.clone(),
        line: source.line() + skipped_lines,
        column: source.column(),
        what: json_error_text(&source),
    })?;
    let (kind, json, configs) = match top {
        dump::Top::Object {
            members,
            configs: Some(configs),
        } => (DocumentKind::ConfigDump, Value::Object(members), configs),
        dump::Top::Object { members, .. } => {
            let json = Value::Object(members);
            if let Some(mut proxies) = wrapped(&json) {
                if proxies.len() != 1 {
                    let names: Vec<&str> = proxies.iter().map(|w| w.proxy.as_str()).collect();
                    return Err(ParseError::Shape {
                        name,
                        what: format!(
                            "holds the dumps of {} proxies ({}): run `envinspect bundle` on it",
                            names.len(),
                            names.join(", ")
                        ),
                    });
                }
                let one = proxies.remove(0);
                let (json, configs) = sections(one.dump);
                return Ok(Document {
                    kind: DocumentKind::ConfigDump,
                    json,
                    configs,
                    text,
                    raw: Vec::new(),
                    pointer_prefix: one.pointer,
                });
            }
            match detect(&json) {
                Ok(Detected::Kind(kind)) => (kind, json, Vec::new()),
                Ok(Detected::LoneSection) => {
                    let Value::Object(members) = json else {
                        return Err(ParseError::Shape {
                            name,
                            what: "a section that is not an object".into(),
                        });
                    };
                    let section = members.into_iter().map(|(k, v)| (k, v.into())).collect();
                    (
                        DocumentKind::ConfigDump,
                        Value::Object(serde_json::Map::new()),
                        vec![dump::Config::Section(section)],
                    )
                }
                Err(what) => return Err(ParseError::Shape { name, what }),
            }
        }
        // ztunnel's connections alone (`istioctl ztunnel-config connections` input): a list of
        // workload states, read as a ztunnel dump that has only them.
        dump::Top::Other(Value::Array(items)) if is_workload_states(&items) => {
            let states: serde_json::Map<String, Value> = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect();
            let mut m = serde_json::Map::new();
            m.insert("workloadState".into(), Value::Object(states));
            (DocumentKind::Ztunnel, Value::Object(m), Vec::new())
        }
        dump::Top::Other(v) => {
            let what = match detect(&v) {
                Err(what) => what,
                Ok(_) => "not an Envoy admin document".into(),
            };
            return Err(ParseError::Shape { name, what });
        }
    };
    Ok(Document {
        kind,
        json,
        configs,
        text,
        raw: Vec::new(),
        pointer_prefix: String::new(),
    })
}

/// One proxy's dump inside a file a tool wrote around several.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Wrapped {
    /// `namespace/name` as the tool keyed it.
    pub proxy: String,
    /// JSON Pointer of the dump in the file.
    pub pointer: String,
    pub dump: Value,
}

/// Dumps wrapped by Envoy Gateway's tools, if `json` is such a file: `egctl x translate`
/// (`{"xds": {"ns/name": dump}}`) and `egctl config envoy-proxy` (`{ns: {pod: dump}}`, where a
/// dump may be one section). `None` for anything else, so its own error stands.
pub(crate) fn wrapped(json: &Value) -> Option<Vec<Wrapped>> {
    let is_dump = |v: &Value| {
        v.get("configs").is_some_and(Value::is_array)
            || v.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("ConfigDump"))
    };
    let obj = json.as_object()?;
    let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
    let mut out = Vec::new();
    if let (1, Some(Value::Object(xds))) = (obj.len(), obj.get("xds")) {
        for (k, v) in xds {
            if !is_dump(v) {
                return None;
            }
            out.push(Wrapped {
                proxy: k.clone(),
                pointer: format!("/xds/{}", esc(k)),
                dump: v.clone(),
            });
        }
    } else {
        for (ns, pods) in obj {
            for (pod, v) in pods.as_object()? {
                if !is_dump(v) {
                    return None;
                }
                out.push(Wrapped {
                    proxy: format!("{ns}/{pod}"),
                    pointer: format!("/{}/{}", esc(ns), esc(pod)),
                    dump: v.clone(),
                });
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A dump's top-level members but `configs`, and its sections (a lone section is one).
fn sections(dump: Value) -> (Value, Vec<dump::Config<'static>>) {
    let Value::Object(mut members) = dump else {
        return (Value::Null, Vec::new());
    };
    let section = |v: Value| match v {
        Value::Object(m) => {
            dump::Config::Section(m.into_iter().map(|(k, v)| (k, v.into())).collect())
        }
        other => dump::Config::Other(other),
    };
    match members.remove("configs") {
        Some(Value::Array(list)) => (
            Value::Object(members),
            list.into_iter().map(section).collect(),
        ),
        _ => (
            Value::Object(serde_json::Map::new()),
            vec![section(Value::Object(members))],
        ),
    }
}

/// Skips a UTF-8 BOM and what HTTP clients leave in front of the body: a bare status line
/// (`200`, as in OpenShift must-gather) or a full header block (`HTTP/1.1 200 OK` … blank line).
/// Returns the body and how many lines were skipped, so JSON positions stay true to the file.
fn strip_preamble(bytes: &[u8]) -> (&[u8], usize) {
    let mut body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut skipped = 0;
    let first_line = |b: &[u8]| -> Option<(usize, String)> {
        let end = b.iter().position(|&c| c == b'\n')?;
        Some((
            end,
            String::from_utf8_lossy(&b[..end]).trim_end().to_string(),
        ))
    };
    if let Some((end, line)) = first_line(body) {
        let is_status = line.len() >= 3
            && line.as_bytes()[..3].iter().all(u8::is_ascii_digit)
            && line.as_bytes().get(3).is_none_or(|c| *c == b' ');
        if is_status {
            body = &body[end + 1..];
            skipped += 1;
        } else if line.starts_with("HTTP/") {
            // Header block: drop lines up to and including the first empty one.
            while let Some((end, line)) = first_line(body) {
                body = &body[end + 1..];
                skipped += 1;
                if line.is_empty() {
                    break;
                }
            }
        }
    }
    (body, skipped)
}

/// A non-empty list of objects each with `connections` and `info`: ztunnel's workload states.
fn is_workload_states(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|v| v.get("connections").is_some_and(Value::is_object) && v.get("info").is_some())
}

enum Detected {
    Kind(DocumentKind),
    /// A single `*ConfigDump` section saved on its own: treated as a dump with one section.
    LoneSection,
}

fn detect(json: &Value) -> Result<Detected, String> {
    let Some(obj) = json.as_object() else {
        return Err(format!(
            "expected a JSON object (an Envoy admin document), found {}",
            json_kind(json)
        ));
    };
    let has = |k: &str| obj.contains_key(k);
    if let Some(configs) = obj.get("configs") {
        return match configs {
            Value::Array(_) => Ok(Detected::Kind(DocumentKind::ConfigDump)),
            other => Err(format!(
                "at /configs: expected an array of config sections, found {}",
                json_kind(other)
            )),
        };
    }
    // ztunnel (Istio ambient) writes its own `/config_dump`, by shape: no `configs`.
    if has("workloads") && has("services") {
        return Ok(Detected::Kind(DocumentKind::Ztunnel));
    }
    if has("static_resources") || has("staticResources") || (has("node") && has("admin")) {
        return Err(
            "this is an Envoy bootstrap, not an admin document: give the proxy's /config_dump"
                .into(),
        );
    }
    if has("certificates") {
        return Ok(Detected::Kind(DocumentKind::Certs));
    }
    if has("cluster_statuses") || has("clusterStatuses") {
        return Ok(Detected::Kind(DocumentKind::ClusterStatuses));
    }
    if has("command_line_options") || has("commandLineOptions") {
        return Ok(Detected::Kind(DocumentKind::ServerInfo));
    }
    if obj
        .get("@type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.ends_with("ConfigDump"))
    {
        return Ok(Detected::LoneSection);
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(5).collect();
    keys.sort_unstable();
    Err(format!(
        "not a recognised Envoy admin document: expected `configs` (/config_dump), `certificates` \
         (/certs), `cluster_statuses` (/clusters?format=json) or `command_line_options` \
         (/server_info); found {}",
        if keys.is_empty() {
            "an empty object".to_string()
        } else {
            format!("keys {}", keys.join(", "))
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(bytes: &[u8]) -> Result<DocumentKind, ParseError> {
        parse("t.json", bytes).map(|d| d.kind)
    }

    #[test]
    fn status_line_is_skipped_and_positions_stay_true() {
        assert_eq!(
            doc(b"200\n{\"configs\": []}").unwrap(),
            DocumentKind::ConfigDump
        );
        let err = doc(b"200\n{\n\"configs\": [}").unwrap_err().to_string();
        assert!(err.starts_with("t.json:3:13: invalid JSON"), "{err}");
    }

    #[test]
    fn http_header_block_is_skipped() {
        let d =
            doc(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"certificates\": []}");
        assert_eq!(d.unwrap(), DocumentKind::Certs);
    }

    #[test]
    fn bad_shapes_are_named() {
        let cases: [(&[u8], &str); 6] = [
            (b"", "t.json: the file is empty"),
            (b" \n", "t.json: the file is empty"),
            (b"[1]", "t.json: expected a JSON object (an Envoy admin document), found an array"),
            (b"{\"configs\": 3}", "t.json: at /configs: expected an array of config sections, found a number"),
            (b"{\"configs\": [", "t.json:1:13: truncated JSON (EOF while parsing a list)"),
            (b"{}", "t.json: not a recognised Envoy admin document: expected `configs` (/config_dump), `certificates` (/certs), `cluster_statuses` (/clusters?format=json) or `command_line_options` (/server_info); found an empty object"),
        ];
        for (bytes, want) in cases {
            assert_eq!(doc(bytes).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn lone_section_becomes_a_dump() {
        let bytes = br#"{"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"}"#;
        let d = parse("t.json", bytes).unwrap();
        assert_eq!(d.kind, DocumentKind::ConfigDump);
        assert_eq!(d.configs.len(), 1);
    }
}
