//! The document of a view: the whole report, or for a subcommand the header fields plus that
//! one list, as outermost members in key order. The members are listed once ([`Part::members`])
//! for two writers: serde (`Part: Serialize`, which YAML, `--redact` and the tests go through)
//! and the JSON writer ([`Part::write_json`]), which renders a long list (a large dump's
//! clusters, listeners, routes) in two halves on two threads and joins their text. Rendering
//! was a fifth of a whole `-o json` run, all of it on one thread (docs/performance.md).

use std::io::Write;

use serde::ser::SerializeMap;
use serde::Serialize;

use super::{json, View};
use crate::model::Report;

/// The whole report, or for a subcommand the header fields plus that one list. Keys come out
/// sorted either way (JSON: sorted by [`json::member_value`] within each member, outermost
/// members listed in order; YAML: through a `Value`).
pub(super) struct Part<'a> {
    pub(super) report: &'a Report,
    pub(super) view: View,
}

/// Where the outermost members go, in key order.
pub(super) trait Members {
    type Error;
    /// A member.
    fn one<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error>;
    /// A member that may be long: a list whose items may be rendered apart.
    fn list<T: Serialize + Sync>(
        &mut self,
        key: &'static str,
        items: &[T],
    ) -> Result<(), Self::Error>;
}

impl Part<'_> {
    /// The header fields, the view's list (and for secrets its findings), in key order: the
    /// sorted writer then never reorders, and copies, the whole document.
    pub(super) fn members<M: Members>(&self, m: &mut M) -> Result<(), M::Error> {
        let r = self.report;
        let key = match self.view {
            View::Report => return report_members(r, m),
            View::Clusters => "clusters",
            View::Listeners => "listeners",
            View::Routes => "routes",
            View::Endpoints => "endpoints",
            View::Secrets | View::Certs => "secrets",
            View::Workloads => "workloads",
            View::Services => "services",
            View::Connections => "connections",
        };
        let secrets = key == "secrets";
        let ambient = r.ambient.as_ref();
        for k in [
            "clusters",
            "connections",
            "document",
            "endpoints",
            "findings",
            "listeners",
            "missing_secrets",
            "now",
            "routes",
            "schema_version",
            "secrets",
            "services",
            "source",
            "warnings",
            "workloads",
        ] {
            match k {
                "document" => m.one(k, &r.document)?,
                "now" => m.one(k, &r.now)?,
                "schema_version" => m.one(k, &r.schema_version)?,
                "source" => m.one(k, &r.source)?,
                "warnings" => m.list(k, &r.warnings)?,
                "findings" if secrets => m.list(k, &r.findings)?,
                "missing_secrets" if secrets => m.list(k, &r.missing_secrets)?,
                _ if k != key => {}
                "clusters" => m.list(k, &r.clusters)?,
                "listeners" => m.list(k, &r.listeners)?,
                "routes" => m.list(k, &r.routes)?,
                "endpoints" => m.list(k, &r.endpoints)?,
                "secrets" => m.list(k, &r.secrets)?,
                "workloads" => m.list(k, ambient.map_or(&[][..], |a| &a.workloads))?,
                "services" => m.list(k, ambient.map_or(&[][..], |a| &a.services))?,
                "connections" => m.list(k, ambient.map_or(&[][..], |a| &a.connections))?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The view as pretty JSON with sorted keys, byte for byte what `json::to_writer_in_order`
    /// writes for it (without the final newline), each member written to `w` as it is done.
    pub(super) fn write_json(&self, w: &mut dyn Write) -> serde_json::Result<()> {
        let mut out = JsonMembers { w, last: None };
        self.members(&mut out)?;
        let end: &[u8] = if out.last.is_some() { b"\n}" } else { b"{}" };
        out.w.write_all(end).map_err(serde_json::Error::io)
    }
}

/// The report's own fields, as its derived `Serialize` writes them (the same names, the same
/// fields left out when empty), in key order. Every field is named in the pattern below: a field
/// added to `Report` does not compile here until it is written or skipped on purpose; and the
/// tests compare this with the derived serialisation on every fixture dump.
fn report_members<M: Members>(r: &Report, m: &mut M) -> Result<(), M::Error> {
    let Report {
        ambient,
        authz,
        clusters,
        counts,
        document,
        endpoints,
        findings,
        identities,
        identity,
        inbound,
        listeners,
        missing_secrets,
        node,
        now,
        outbound,
        rejected_updates,
        routes,
        schema_version,
        secrets,
        source,
        warnings,
        accepted: _,
        expiry_warning: _,
    } = r;
    if let Some(a) = ambient {
        m.one("ambient", a)?;
    }
    if !authz.is_empty() {
        m.list("authz", authz)?;
    }
    m.list("clusters", clusters)?;
    m.one("counts", counts)?;
    m.one("document", document)?;
    m.list("endpoints", endpoints)?;
    m.list("findings", findings)?;
    if !identities.is_empty() {
        m.list("identities", identities)?;
    }
    m.one("identity", identity)?;
    m.list("inbound", inbound)?;
    m.list("listeners", listeners)?;
    m.list("missing_secrets", missing_secrets)?;
    m.one("node", node)?;
    m.one("now", now)?;
    m.one("outbound", outbound)?;
    if !rejected_updates.is_empty() {
        m.list("rejected_updates", rejected_updates)?;
    }
    m.list("routes", routes)?;
    m.one("schema_version", schema_version)?;
    m.list("secrets", secrets)?;
    m.one("source", source)?;
    m.list("warnings", warnings)
}

impl Serialize for Part<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = SerdeMembers(s.serialize_map(None)?);
        self.members(&mut map)?;
        map.0.end()
    }
}

/// The members as entries of a serde map.
struct SerdeMembers<M>(M);

impl<M: SerializeMap> Members for SerdeMembers<M> {
    type Error = M::Error;
    fn one<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }
    fn list<T: Serialize + Sync>(
        &mut self,
        key: &'static str,
        items: &[T],
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, items)
    }
}

/// Lists at least this long are rendered in two halves on two threads: an item (a cluster, a
/// listener) takes tens of microseconds to render, a thread as long to start.
const PARALLEL_ITEMS: usize = 256;

/// The members as pretty JSON, each written to `w` as soon as it is rendered.
struct JsonMembers<'w> {
    w: &'w mut dyn Write,
    /// The key written last, to refuse one out of order (the output would not be sorted).
    last: Option<&'static str>,
}

impl JsonMembers<'_> {
    /// What comes before a member's value: `{` or `,`, the new line, its key.
    fn key(&mut self, key: &'static str) -> serde_json::Result<()> {
        let lead: &[u8] = match self.last {
            None => b"{\n  \"",
            Some(last) if last < key => b",\n  \"",
            Some(last) => {
                return Err(serde_json::Error::io(std::io::Error::other(format!(
                    "the document's key {key:?} was serialised after {last:?}: out of order"
                ))))
            }
        };
        self.last = Some(key);
        // The keys are ours, plain ASCII names: nothing in them to escape.
        let w = &mut self.w;
        w.write_all(lead)
            .and_then(|()| w.write_all(key.as_bytes()))
            .and_then(|()| w.write_all(b"\": "))
            .map_err(serde_json::Error::io)
    }

    fn put(&mut self, text: &[u8]) -> serde_json::Result<()> {
        self.w.write_all(text).map_err(serde_json::Error::io)
    }
}

impl Members for JsonMembers<'_> {
    type Error = serde_json::Error;

    fn one<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> serde_json::Result<()> {
        self.key(key)?;
        let text = json::member_value(value)?;
        self.put(&text)
    }

    fn list<T: Serialize + Sync>(
        &mut self,
        key: &'static str,
        items: &[T],
    ) -> serde_json::Result<()> {
        if items.len() < PARALLEL_ITEMS {
            return self.one(key, items);
        }
        self.key(key)?;
        let (first, second) = items.split_at(items.len() / 2);
        let (a, b) = std::thread::scope(|scope| {
            let later = scope.spawn(|| json::member_value(second));
            let a = json::member_value(first);
            // A panic while rendering is a bug, and stays one: it goes on as on one thread.
            let b = later
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (a, b)
        });
        let (a, b) = (a?, b?);
        // "[\n    A,\n    B\n  ]" and "[\n    C\n  ]" join as "[\n    A,\n    B,\n    C\n  ]":
        // the first half without its closing line, a comma, the second without its bracket.
        const CLOSE: &[u8] = b"\n  ]";
        match (a.strip_suffix(CLOSE), b.strip_prefix(b"[")) {
            (Some(head), Some(tail)) => {
                self.put(head)?;
                self.put(b",")?;
                self.put(tail)
            }
            // Not the shape of a non-empty list (it cannot be): the list rendered whole.
            _ => {
                let text = json::member_value(items)?;
                self.put(&text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view's JSON from the member writer (long lists on two threads) is byte for byte the
    /// serde path's (`json::to_writer_in_order` of the `Serialize` impl), and the report view's
    /// is that of the report's derived `Serialize`, on every fixture dump; lists long enough to
    /// be split are made by repeating a dump's clusters and listeners.
    #[test]
    fn members_write_what_serde_writes() {
        let now = time::macros::datetime!(2026-12-01 00:00 UTC);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut dumps = Vec::new();
        for dir in [
            "envoy-1.40",
            "istio",
            "ztunnel",
            "envoyproxy-gateway",
            "osm",
        ] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "json") {
                        dumps.push(p);
                    }
                }
            }
        }
        dumps.sort();
        let mut reports = Vec::new();
        for p in &dumps {
            let input = crate::source::Input {
                name: p.display().to_string(),
                bytes: std::fs::read(p).unwrap(),
            };
            if let Ok(r) = crate::inspect(&input, &crate::Options::at(now)) {
                reports.push((p.display().to_string(), r));
            }
        }
        assert!(reports.len() > 20, "{} reports", reports.len());
        let (name, mut big) = reports
            .iter()
            .max_by_key(|(_, r)| r.clusters.len() + r.listeners.len())
            .cloned()
            .unwrap();
        let (clusters, listeners) = (big.clusters.clone(), big.listeners.clone());
        while big.clusters.len() < 2 * PARALLEL_ITEMS + 1 {
            big.clusters.extend(clusters.iter().cloned());
        }
        while !listeners.is_empty() && big.listeners.len() < PARALLEL_ITEMS {
            big.listeners.extend(listeners.iter().cloned());
        }
        reports.push((format!("{name}, lists repeated"), big));
        let views = View::ALL;
        for (name, report) in &reports {
            let derived = json::to_vec_sorted(report).unwrap();
            for view in views {
                let part = Part { report, view };
                let mut ours = Vec::new();
                part.write_json(&mut ours).unwrap();
                let mut serde = Vec::new();
                json::to_writer_in_order(&part, &mut serde).unwrap();
                assert!(
                    ours == serde,
                    "{name}, {view:?}: not the serde path's bytes"
                );
                if view == View::Report {
                    assert!(ours == derived, "{name}: not the derived Serialize's bytes");
                }
            }
        }
    }
}
