//! Which format a log line was written in: the formats the dump configures (those of the
//! access log writing to the file's path first), then Envoy's default and Istio's TEXT and
//! JSON formats. A line of none of them is Envoy's own log (skipped), or unmatched (counted).

use std::sync::OnceLock;

use regex::Regex;

use super::format::{fails, fill, TextFormat, Value, ENVOY_DEFAULT, ISTIO_JSON, ISTIO_TEXT};
use super::json::JsonFormat;
use crate::model::evidence::{AccessLog, LogFormat, Record};
use crate::model::Report;

enum Kind {
    Text(TextFormat),
    Json(JsonFormat),
}

/// A format to try, with the name output gives it.
struct Candidate {
    /// `envoy-default`, `istio-text`, `istio-json`, or the first `access_log` pointer that
    /// configures it.
    name: String,
    kind: Kind,
    /// Paths of the access logs that write with it.
    paths: Vec<String>,
}

/// The formats a proxy's logs may be in, for one file.
#[non_exhaustive]
pub struct Formats {
    list: Vec<Candidate>,
    /// Index of the format the last line matched (tried first).
    last: usize,
    /// Formats of the dump that envinspect cannot read lines of (multi-line, CEL…): said once.
    pub unreadable: Vec<String>,
    /// The last line's values, reused.
    values: Vec<Value>,
}

/// What a line is.
pub enum Class {
    /// An access-log line of the format of this index ([`Formats::name`]), failing or not. The
    /// record is filled when it fails or when every line is wanted.
    Access {
        /// The index of the format it matched.
        format: usize,
        /// Whether the request or connection failed.
        failed: bool,
    },
    /// Envoy's (or istio-agent's) own log, or a container log's marker.
    EnvoyLog,
    /// A line of no format known.
    Unmatched,
}

/// Whether access log `a` writes `file`: the same path, or the same file name (a log copied
/// elsewhere); never by name for `/dev/stdout` and the like, which any logger may share.
pub(super) fn writes(a: &AccessLog, file: &str) -> bool {
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    a.path
        .as_deref()
        .is_some_and(|p| p == file || (!p.starts_with("/dev/") && base(p) == base(file)))
}

impl Formats {
    /// Every access-log format of `report`, then the defaults; those of access logs writing to
    /// `file` (same path, or same file name) first.
    pub fn of(report: &Report, file: &str) -> Formats {
        let mut configured: Vec<&AccessLog> = Vec::new();
        for l in &report.listeners {
            configured.extend(&l.telemetry.access_logs);
            for c in &l.filter_chains {
                configured.extend(&c.telemetry.access_logs);
            }
        }
        let writes_here = |a: &AccessLog| writes(a, file);
        configured.sort_by_key(|a| !writes_here(a));
        let mut f = Formats {
            list: Vec::new(),
            last: 0,
            unreadable: Vec::new(),
            values: Vec::new(),
        };
        for a in configured {
            let key = match &a.format {
                LogFormat::EnvoyDefault => LogFormat::Text(ENVOY_DEFAULT.into()),
                other => other.clone(),
            };
            let name = key
                .well_known()
                .map_or_else(|| format!("configured at {}", a.pointer), str::to_string);
            f.add(name, &key, a.path.clone());
        }
        f.add(
            "envoy-default".into(),
            &LogFormat::Text(ENVOY_DEFAULT.into()),
            None,
        );
        f.add(
            "istio-text".into(),
            &LogFormat::Text(ISTIO_TEXT.into()),
            None,
        );
        let istio_json = ISTIO_JSON
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        f.add("istio-json".into(), &LogFormat::Json(istio_json), None);
        f
    }

    fn add(&mut self, name: String, format: &LogFormat, path: Option<String>) {
        // The same format configured in many places is one candidate (named after the first).
        let same = |c: &Candidate| match (&c.kind, format) {
            (Kind::Text(t), LogFormat::Text(s)) => t.source() == TextFormat::new(s).source(),
            (Kind::Json(j), LogFormat::Json(keys)) => {
                let mut k = keys.clone();
                k.sort();
                j.source() == k.as_slice()
            }
            _ => false,
        };
        if let Some(c) = self.list.iter_mut().find(|c| same(c)) {
            c.paths.extend(path);
            return;
        }
        let kind = match format {
            LogFormat::Text(s) => {
                let t = TextFormat::new(s);
                if t.is_multiline() || !t.is_useful() {
                    self.unreadable.push(name);
                    return;
                }
                Kind::Text(t)
            }
            LogFormat::Json(keys) => {
                let j = JsonFormat::new(keys);
                if !j.is_useful() {
                    self.unreadable.push(name);
                    return;
                }
                Kind::Json(j)
            }
            LogFormat::EnvoyDefault => return,
            LogFormat::Other(_) => {
                self.unreadable.push(name);
                return;
            }
        };
        self.list.push(Candidate {
            name,
            kind,
            paths: path.into_iter().collect(),
        });
    }

    /// The name of format `i` (`istio-text`, `configured at /configs/…`).
    pub fn name(&self, i: usize) -> &str {
        self.list.get(i).map_or("", |c| c.name.as_str())
    }

    /// How many formats there are (format indexes are below this).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// What `line` is, by the first format it is of (the last one that matched is tried
    /// first). A text line is split without copying and checked for failure; `rec` is filled
    /// only for a failing line, or for every line with `all`.
    pub fn classify(&mut self, line: &str, all: bool, rec: &mut Record) -> Class {
        let line = strip_container_prefix(line);
        let json = line.starts_with('{');
        let parsed: Option<serde_json::Map<String, serde_json::Value>> = if json {
            serde_json::from_str(line).ok()
        } else {
            None
        };
        let order =
            std::iter::once(self.last).chain((0..self.list.len()).filter(|i| *i != self.last));
        for i in order {
            let Some(c) = self.list.get(i) else { continue };
            let failed = match (&c.kind, &parsed) {
                (Kind::Text(t), _) if !json => {
                    if !t.split(line, &mut self.values) {
                        continue;
                    }
                    let failed = fails(line, &self.values);
                    if failed || all {
                        *rec = Record::default();
                        fill(line, &self.values, rec);
                    }
                    failed
                }
                (Kind::Json(j), Some(obj)) => {
                    *rec = Record::default();
                    if !j.parse(obj, rec) {
                        continue;
                    }
                    super::explain::failed(rec)
                }
                _ => continue,
            };
            self.last = i;
            return Class::Access { format: i, failed };
        }
        if is_envoy_log(line) {
            Class::EnvoyLog
        } else {
            Class::Unmatched
        }
    }
}

/// Whether each listener logs its traffic, where and in which format, as one line of the
/// report: `/dev/stdout (istio-text) on 14 listeners; none on 2 (a, b)`. A listener logs when
/// it, or any of its chains' connection managers or TCP proxies, has an access log.
pub fn logging_summary(r: &Report) -> Option<String> {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<String, std::collections::BTreeSet<&str>> = BTreeMap::new();
    // A listener counts once per place and format, whatever the number of its chains.
    let mut none: Vec<&str> = Vec::new();
    for l in r.listeners.iter().filter(|l| !l.internal) {
        let logs: Vec<&AccessLog> = l
            .telemetry
            .access_logs
            .iter()
            .chain(
                l.filter_chains
                    .iter()
                    .flat_map(|c| &c.telemetry.access_logs),
            )
            .collect();
        let name = if l.name.is_empty() {
            "(unnamed)"
        } else {
            l.name.as_str()
        };
        if logs.is_empty() {
            none.push(name);
        }
        for a in logs {
            let place = a.path.clone().unwrap_or_else(|| a.logger.clone());
            let format = a.format.label();
            by.entry(format!("{place} ({format})"))
                .or_default()
                .insert(name);
        }
    }
    if by.is_empty() && none.is_empty() {
        return None;
    }
    let n = |k: usize| {
        if k == 1 {
            "1 listener".to_string()
        } else {
            format!("{k} listeners")
        }
    };
    let mut parts: Vec<String> = by
        .iter()
        .map(|(what, ls)| format!("{what} on {}", n(ls.len())))
        .collect();
    none.sort_unstable();
    none.dedup();
    if !none.is_empty() {
        let shown: Vec<&str> = none.iter().copied().take(3).collect();
        let more = if none.len() > 3 { ", …" } else { "" };
        parts.push(format!(
            "none on {} ({}{more})",
            n(none.len()),
            shown.join(", ")
        ));
    }
    Some(parts.join("; "))
}

/// A CRI container log line (`2026-12-07T06:15:08.123456789Z stdout F …`) without its prefix.
fn strip_container_prefix(line: &str) -> &str {
    if !line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return line;
    }
    let head = &line[..line.len().min(48)];
    for tag in [" stdout F ", " stderr F ", " stdout P ", " stderr P "] {
        if let Some(i) = head.find(tag) {
            return &line[i + tag.len()..];
        }
    }
    line
}

/// Envoy's own log (`[2026-12-07 06:15:08.123][12][info][main] …`), istio-agent's and
/// istio-proxy's (`2026-12-07T06:15:08.123456Z\tinfo\t…`), and the marker `kubectl logs
/// --previous` output gets in a bug-report.
fn is_envoy_log(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^(?:\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\]\[\d+\]\[(?:trace|debug|info|warning|error|critical)\]|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\s+(?:trace|debug|info|warn|warning|error|fatal|critical)\s|=+ Previous log =+$)",
        )
        .expect("a valid pattern")
    });
    re.is_match(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_own_log_lines_are_recognised() {
        assert!(is_envoy_log(
            "[2026-12-07 06:15:08.123][12][info][main] [source/server/server.cc:1] starting"
        ));
        assert!(is_envoy_log(
            "2026-12-07T06:15:08.123456Z\tinfo\tads\tADS: new connection"
        ));
        assert!(is_envoy_log("========= Previous log ========="));
        assert!(!is_envoy_log(
            "[2026-12-07T06:15:08.123Z] \"GET / HTTP/1.1\" 200"
        ));
    }

    #[test]
    fn container_prefixes_are_stripped() {
        assert_eq!(
            strip_container_prefix("2026-12-07T06:15:08.123456789Z stdout F [x] y"),
            "[x] y"
        );
        assert_eq!(strip_container_prefix("[x] y"), "[x] y");
    }
}
