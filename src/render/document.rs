//! The one way a JSON or YAML document leaves envinspect, whatever the command: keys sorted at
//! every level, so output is deterministic and diffs between runs show changes, not ordering.
//! JSON is written straight from the model (`json::to_vec_sorted`); YAML goes through a
//! `serde_json::Value`, whose map is sorted; so does a redacted document, to be scrubbed.

use std::io::Write;

use serde::Serialize;

use super::redaction::Redaction;
use super::RenderError;

/// A structured output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// JSON, pretty-printed, keys sorted.
    Json,
    /// YAML.
    Yaml,
}

/// Writes `value` as one document, ending in a newline.
pub fn write<T: Serialize + ?Sized>(
    value: &T,
    doc: Doc,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    match doc {
        Doc::Json => {
            let mut text = super::json::to_vec_sorted(value).map_err(RenderError::Json)?;
            text.push(b'\n');
            w.write_all(&text)?;
        }
        Doc::Yaml => {
            let tree = serde_json::to_value(value).map_err(RenderError::Json)?;
            let text = serde_norway::to_string(&tree).map_err(RenderError::Yaml)?;
            w.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// [`write()`], redacted as `redaction` says (`--redact`): the document goes through a
/// `serde_json::Value` so every string can be scrubbed.
pub fn write_redacted<T: Serialize + ?Sized>(
    value: &T,
    doc: Doc,
    redaction: Option<&Redaction>,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    let Some(redaction) = redaction else {
        return write(value, doc, w);
    };
    let mut tree = serde_json::to_value(value).map_err(RenderError::Json)?;
    redaction.document(&mut tree);
    write(&tree, doc, w)
}

/// [`write_redacted`] for a document whose outermost members are serialised in key order (the
/// report and every view: `render::order_tests`). Its JSON goes out member by member instead of
/// being held whole: the peak memory of `-o json` on a large dump is the model, not the model
/// and its text.
pub fn write_in_order<T: Serialize + ?Sized>(
    value: &T,
    doc: Doc,
    redaction: Option<&Redaction>,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    match (doc, redaction) {
        (Doc::Json, None) => {
            super::json::to_writer_in_order(value, w).map_err(RenderError::Json)?;
            w.write_all(b"\n")?;
            Ok(())
        }
        _ => write_redacted(value, doc, redaction, w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Late {
        zeta: u8,
        alpha: Inner,
    }
    #[derive(Serialize)]
    struct Inner {
        y: &'static str,
        b: bool,
    }

    #[test]
    fn both_formats_sort_keys_at_every_level() {
        let v = Late {
            zeta: 1,
            alpha: Inner { y: "x", b: true },
        };
        let mut json = Vec::new();
        write(&v, Doc::Json, &mut json).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            "{\n  \"alpha\": {\n    \"b\": true,\n    \"y\": \"x\"\n  },\n  \"zeta\": 1\n}\n"
        );
        let mut yaml = Vec::new();
        write(&v, Doc::Yaml, &mut yaml).unwrap();
        assert_eq!(
            String::from_utf8(yaml).unwrap(),
            "alpha:\n  b: true\n  y: x\nzeta: 1\n"
        );
    }
}
