//! `--redact`, done once, as output is written: what changes at every certificate rotation or
//! config push (serials, validity dates, fingerprints, time left, `version_info`,
//! `last_updated`) is replaced by `[redacted]`, so output can be snapshotted across rotations.
//! The model keeps its typed values; a document gets the marker at those keys (numbers such as
//! `seconds_left` cannot hold it in the model) and the values scrubbed from every string
//! (finding messages, check failures); text gets the values scrubbed line by line.

use std::borrow::Cow;
use std::io::{self, Write};

use serde_json::Value;

use crate::model::Report;

/// What a redacted value is written as.
pub const MARKER: &str = "[redacted]";

/// The fields `--redact` removes, at any depth of a document.
pub const FIELDS: [&str; 7] = [
    "serial",
    "not_before",
    "not_after",
    "sha256",
    "seconds_left",
    "version_info",
    "last_updated",
];

/// The values of one report that must not be written, longest first (so a value holding
/// another goes whole).
#[derive(Debug, Clone, Default)]
pub struct Redaction {
    values: Vec<String>,
}

impl Redaction {
    /// The values of `r`'s certificates and secrets, and of its resources' versions.
    pub fn of(r: &Report) -> Self {
        let mut values = std::collections::BTreeSet::new();
        for s in &r.secrets {
            let bundles = s.trust_bundles.iter().flat_map(|b| &b.certificates);
            for c in s.certificates.iter().chain(bundles) {
                values.insert(c.serial.to_string());
                values.extend(
                    c.not_before
                        .iter()
                        .chain(&c.not_after)
                        .map(|t| t.to_string()),
                );
                values.extend(c.sha256.iter().map(|f| f.to_string()));
            }
            values.extend(s.version_info.iter().cloned());
            values.extend(s.last_updated.iter().map(|t| t.to_string()));
        }
        let versioned = r
            .clusters
            .iter()
            .map(|c| &c.versioned)
            .chain(r.listeners.iter().map(|l| &l.versioned))
            .chain(r.routes.iter().map(|x| &x.versioned));
        for v in versioned {
            values.extend(v.version_info.iter().cloned());
            values.extend(v.last_updated.iter().map(|t| t.to_string()));
        }
        for w in &r.warnings {
            values.extend(w.quoted.iter().cloned());
        }
        // Short versions ("1", "v2") would scrub unrelated text; their fields are still marked.
        values.retain(|v| v.len() >= 4);
        let mut values: Vec<String> = values.into_iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Redaction { values }
    }

    /// The values of both (a diff quotes two reports).
    pub fn and(mut self, other: Redaction) -> Redaction {
        self.values.extend(other.values);
        self.values.sort();
        self.values.dedup();
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        self
    }

    /// `text` with every value replaced by the marker.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), MARKER));
            }
        }
        out
    }

    /// A document as written: the non-null values of [`FIELDS`] at any depth become the marker,
    /// every other string is scrubbed, and the top-level object lists the fields redacted.
    pub fn document(&self, v: &mut Value) {
        self.scrub(v);
        if let Value::Object(m) = v {
            m.insert("redacted".into(), FIELDS.iter().copied().collect());
        }
    }

    /// [`Redaction::document`] without saying so (for formats with a schema of their own).
    pub fn scrub(&self, v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    if FIELDS.contains(&k.as_str()) && !v.is_null() {
                        *v = MARKER.into();
                    } else {
                        self.scrub(v);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| self.scrub(v)),
            Value::String(s) => {
                if let Cow::Owned(t) = self.text(s) {
                    *s = t;
                }
            }
            _ => {}
        }
    }

    /// What a table or text says at its end.
    pub fn footer(&self) -> String {
        format!("Redacted (--redact): {}", FIELDS.join(", "))
    }
}

/// Text written through a redaction: each line is scrubbed before it goes out (tables scrub the
/// cells whose width matters themselves; this catches the rest).
pub struct Scrub<'a> {
    out: &'a mut dyn Write,
    redaction: Option<&'a Redaction>,
    line: Vec<u8>,
}

impl<'a> Scrub<'a> {
    /// A writer passing on to `out`, redacted as `redaction` says (nothing without one).
    pub fn new(out: &'a mut dyn Write, redaction: Option<&'a Redaction>) -> Self {
        Scrub {
            out,
            redaction,
            line: Vec::new(),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        let line = std::mem::take(&mut self.line);
        match self.redaction {
            Some(r) => {
                let text = String::from_utf8_lossy(&line);
                self.out.write_all(r.text(&text).as_bytes())
            }
            None => self.out.write_all(&line),
        }
    }
}

impl Write for Scrub<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.redaction.is_none() {
            return self.out.write(buf);
        }
        for chunk in buf.split_inclusive(|b| *b == b'\n') {
            self.line.extend_from_slice(chunk);
            if chunk.ends_with(b"\n") {
                self.emit()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            self.emit()?;
        }
        self.out.flush()
    }
}

impl Drop for Scrub<'_> {
    fn drop(&mut self) {
        // A last line without a newline still goes out scrubbed; an error here has no one to
        // go to (callers flush to see it).
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redaction(values: &[&str]) -> Redaction {
        let mut values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Redaction { values }
    }

    #[test]
    fn the_longest_value_goes_whole() {
        let r = redaction(&["2026-12-01", "2026-12-01T00:00:00Z"]);
        assert_eq!(
            r.text("expired at 2026-12-01T00:00:00Z, not 2026-12-01"),
            "expired at [redacted], not [redacted]"
        );
        assert!(matches!(r.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn documents_mark_fields_scrub_strings_and_say_so() {
        let r = redaction(&["abcdef0123"]);
        let mut v = serde_json::json!({
            "certs": [{"serial": "abcdef0123", "seconds_left": 5, "not_after": null}],
            "findings": [{"message": "serial abcdef0123 is stale"}]
        });
        r.document(&mut v);
        assert_eq!(v["certs"][0]["serial"], MARKER);
        assert_eq!(v["certs"][0]["seconds_left"], MARKER);
        assert!(v["certs"][0]["not_after"].is_null());
        assert_eq!(v["findings"][0]["message"], "serial [redacted] is stale");
        assert_eq!(v["redacted"][0], "serial");
    }

    #[test]
    fn text_is_scrubbed_line_by_line_across_writes() {
        let r = redaction(&["abcdef0123"]);
        let mut out = Vec::new();
        {
            let mut w = Scrub::new(&mut out, Some(&r));
            w.write_all(b"serial abcd").unwrap();
            w.write_all(b"ef0123\nlast abcdef0123").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "serial [redacted]\nlast [redacted]"
        );
    }
}
