//! One access-log format and the lines written with it: the first line of the input is an Envoy
//! `text_format` (any command operators, any literals; `default` and `text` name Envoy's default
//! and Istio's TEXT format, whose compiled forms are kept), each later line a log line. Each line is
//! read against the format (the fast split, then the regular-expression fallback), and, when it
//! is a JSON object, against a `json_format` (Istio's when the first line is `json`, else the
//! format's words, one key each); a failing record is explained
//! against the Envoy 1.40 capture of the differential explain test. Fast per input, unlike the
//! `evidence` target, which runs whole logs through both pipelines. Must never panic.
#![no_main]

use std::sync::OnceLock;

fn compiled(format: &str) -> std::sync::Arc<envinspect::evidence::TextFormat> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<envinspect::evidence::TextFormat>>>> =
        OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if cache.len() > 256 {
        cache.clear();
    }
    cache
        .entry(format.to_string())
        .or_insert_with(|| Arc::new(envinspect::evidence::TextFormat::new(format)))
        .clone()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use envinspect::evidence::{explain, failed, JsonFormat};
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Some(format) = lines.next() else { return };
    // Compiled formats are kept by their text (most mutations change the lines, not the
    // format): compiling one, and its regular expression when the fast split gives up, costs
    // more than reading a few lines with it.
    let text_format = compiled(match format {
        "default" => envinspect::evidence::ENVOY_DEFAULT,
        "text" | "json" => envinspect::evidence::ISTIO_TEXT,
        other => other,
    });
    let _ = (text_format.is_useful(), text_format.is_multiline());
    let keys: Vec<(String, String)> = if format == "json" {
        envinspect::evidence::ISTIO_JSON
            .iter()
            .map(|(k, t)| (k.to_string(), t.to_string()))
            .collect()
    } else {
        format
            .split(' ')
            .enumerate()
            .map(|(i, t)| (format!("k{i}"), t.to_string()))
            .collect()
    };
    let json_format = JsonFormat::new(&keys);
    for (n, line) in lines.enumerate() {
        let mut rec = envinspect::model::evidence::Record::default();
        if text_format.parse(line, &mut rec) && failed(&rec) {
            let _ = explain(
                envinspect_fuzz::explain_capture(),
                "fuzz.log",
                n as u64 + 2,
                format,
                &rec,
            );
        }
        if let Ok(obj) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
            let mut rec = envinspect::model::evidence::Record::default();
            if json_format.parse(&obj, &mut rec) && failed(&rec) {
                let _ = explain(
                    envinspect_fuzz::explain_capture(),
                    "fuzz.log",
                    n as u64 + 2,
                    "json",
                    &rec,
                );
            }
        }
    }
});
