//! Access-log formats as Envoy writes them, read back: a text format string (`%COMMAND(arg):N%`
//! operators between literals, Envoy's `SubstitutionFormatParser` grammar) or a JSON format
//! (keys → templates) turns one line into a typed [`Record`]. Knows nothing of the dump.
//!
//! A text line is split at the format's literals, leftmost first (an operator's value ends
//! where the next literal first appears), which costs one substring search per literal. Where
//! that fails — a value holding the next literal, two operators with nothing between them, a
//! status that is not a number — the same format is tried as an anchored regular expression,
//! which finds a split wherever one exists.

use memchr::memmem;
use regex::Regex;
use std::sync::OnceLock;

use crate::model::evidence::{Record, ResponseFlag};

pub use crate::model::evidence::{ENVOY_DEFAULT, ISTIO_JSON, ISTIO_TEXT};

/// A command operator: `REQ`, `:AUTHORITY` for `%REQ(:AUTHORITY)%`. Any command parses; those
/// a [`Record`] has no field for are carried as opaque values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Operator {
    pub command: String,
    pub arg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Lit(String),
    Op(Operator),
}

/// A compiled text format: its segments, and the plan the splitter follows (each operator's
/// field resolved, each literal's substring searcher built once).
#[derive(Debug)]
#[non_exhaustive]
pub struct TextFormat {
    /// The format as given, without its trailing newline.
    source: String,
    pub(super) segs: Vec<Seg>,
    plan: Vec<Step>,
    /// The anchored regular expression, built on first need (`None`: it would not compile).
    regex: OnceLock<Option<Regex>>,
}

#[derive(Debug)]
enum Step {
    Lit(Literal),
    Op(Field),
}

/// A literal between operators, searched for the way its length makes fastest: most are one to
/// three bytes (` `, `" "`), where a searcher's set-up costs more than the search.
#[derive(Debug)]
struct Literal {
    bytes: Vec<u8>,
    long: Option<Box<memmem::Finder<'static>>>,
}

impl Literal {
    fn new(l: &str) -> Literal {
        let bytes = l.as_bytes().to_vec();
        let long =
            (bytes.len() > 4).then(|| Box::new(memmem::Finder::new(l.as_bytes()).into_owned()));
        Literal { bytes, long }
    }

    /// Where it first occurs in `hay`.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        if let Some(f) = &self.long {
            return f.find(hay);
        }
        let (first, rest) = self.bytes.split_first()?;
        let mut at = 0;
        while let Some(i) = memchr::memchr(*first, &hay[at..]) {
            let p = at + i;
            if hay[p + 1..].starts_with(rest) {
                return Some(p);
            }
            at = p + 1;
        }
        None
    }
}

/// An operator's value in a line: its field and its byte range.
pub(super) type Value = (Field, usize, usize);

/// Which field of a [`Record`] an operator fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Status,
    Flags,
    Details,
    Termination,
    TransportFailure,
    RouteName,
    UpstreamCluster,
    UpstreamHost,
    Authority,
    Method,
    Path,
    Protocol,
    Sni,
    DownstreamLocal,
    DownstreamRemote,
    FilterChain,
    StartTime,
    /// A number Envoy always writes as digits (`%DURATION%`, byte counts).
    Number,
    Opaque,
}

impl Operator {
    pub(super) fn field(&self) -> Field {
        let arg = self.arg.as_deref().unwrap_or("").to_ascii_lowercase();
        match self.command.as_str() {
            "RESPONSE_CODE" => Field::Status,
            "RESPONSE_FLAGS" | "RESPONSE_FLAGS_LONG" => Field::Flags,
            "RESPONSE_CODE_DETAILS" => Field::Details,
            "CONNECTION_TERMINATION_DETAILS" => Field::Termination,
            "UPSTREAM_TRANSPORT_FAILURE_REASON" => Field::TransportFailure,
            "ROUTE_NAME" => Field::RouteName,
            "UPSTREAM_CLUSTER" | "UPSTREAM_CLUSTER_RAW" => Field::UpstreamCluster,
            "UPSTREAM_HOST" | "UPSTREAM_REMOTE_ADDRESS" => Field::UpstreamHost,
            "PROTOCOL" => Field::Protocol,
            "REQUESTED_SERVER_NAME" => Field::Sni,
            "DOWNSTREAM_LOCAL_ADDRESS" => Field::DownstreamLocal,
            "DOWNSTREAM_REMOTE_ADDRESS" | "DOWNSTREAM_DIRECT_REMOTE_ADDRESS" => {
                Field::DownstreamRemote
            }
            "FILTER_CHAIN_NAME" => Field::FilterChain,
            "START_TIME" => Field::StartTime,
            "DURATION" | "BYTES_RECEIVED" | "BYTES_SENT" | "REQUEST_DURATION"
            | "RESPONSE_DURATION" => Field::Number,
            "REQ" | "REQ_WITHOUT_QUERY" => match arg.as_str() {
                ":authority" | "host" | ":authority?host" | "host?:authority" => Field::Authority,
                ":method" => Field::Method,
                ":path" | "x-envoy-original-path?:path" | ":path?x-envoy-original-path" => {
                    Field::Path
                }
                _ => Field::Opaque,
            },
            _ => Field::Opaque,
        }
    }
}

/// Splits a format string into literals and operators, as Envoy's parser reads it: `%` then a
/// command of `[A-Z0-9_]`, an optional `(arg)`, an optional `:N` length, and `%`. A `%` that
/// starts no operator stays literal text.
pub(super) fn segments(format: &str) -> Vec<Seg> {
    let b = format.as_bytes();
    let mut segs = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some((op, end)) = operator_at(format, i) {
                if !lit.is_empty() {
                    segs.push(Seg::Lit(std::mem::take(&mut lit)));
                }
                segs.push(Seg::Op(op));
                i = end;
                continue;
            }
            if b.get(i + 1) == Some(&b'%') {
                lit.push('%');
                i += 2;
                continue;
            }
        }
        let ch = format[i..].chars().next().unwrap_or('%');
        lit.push(ch);
        i += ch.len_utf8();
    }
    if !lit.is_empty() {
        segs.push(Seg::Lit(lit));
    }
    segs
}

/// The operator starting at `format[i] == '%'`, and the index after its closing `%`.
fn operator_at(format: &str, i: usize) -> Option<(Operator, usize)> {
    let b = format.as_bytes();
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit() || b[j] == b'_') {
        j += 1;
    }
    if j == i + 1 {
        return None;
    }
    let command = format[i + 1..j].to_string();
    let mut arg = None;
    if b.get(j) == Some(&b'(') {
        let close = format[j..].find(')')? + j;
        arg = Some(format[j + 1..close].to_string());
        j = close + 1;
    }
    if b.get(j) == Some(&b':') {
        let k = j + 1;
        let mut e = k;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        if e == k {
            return None;
        }
        j = e;
    }
    if b.get(j) != Some(&b'%') {
        return None;
    }
    Some((Operator { command, arg }, j + 1))
}

impl TextFormat {
    /// Compiles a format string; a trailing newline (one record per line) is not part of it.
    pub fn new(format: &str) -> TextFormat {
        let trimmed = format.strip_suffix('\n').unwrap_or(format);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        let segs = segments(trimmed);
        let plan = segs
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => Step::Lit(Literal::new(l)),
                Seg::Op(o) => Step::Op(o.field()),
            })
            .collect();
        TextFormat {
            source: trimmed.to_string(),
            segs,
            plan,
            regex: OnceLock::new(),
        }
    }

    /// The format string (without a trailing newline).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the format has an operator a [`Record`] reads (else any line would match it).
    pub fn is_useful(&self) -> bool {
        self.plan.iter().any(|s| {
            matches!(s, Step::Op(f) if !matches!(f, Field::Opaque | Field::Number | Field::StartTime))
        })
    }

    /// Whether the format spans several lines (a record a line cannot hold).
    pub fn is_multiline(&self) -> bool {
        self.segs
            .iter()
            .any(|s| matches!(s, Seg::Lit(l) if l.contains('\n')))
    }

    /// Reads `line` (without its newline) into `rec`; `false` when the line is not of this format.
    pub fn parse(&self, line: &str, rec: &mut Record) -> bool {
        let mut values = Vec::with_capacity(self.plan.len());
        if !self.split(line, &mut values) {
            return false;
        }
        fill(line, &values, rec);
        true
    }

    /// Splits `line` into its operators' values (checked: a status is a number, flags are
    /// letters), without copying anything; `false` when the line is not of this format.
    pub fn split(&self, line: &str, out: &mut Vec<Value>) -> bool {
        out.clear();
        if self.split_leftmost(line, out) && typed(line, out) {
            return true;
        }
        out.clear();
        self.split_regex(line, out)
    }

    /// The leftmost split: each operator's value ends where the next literal first appears.
    fn split_leftmost(&self, line: &str, out: &mut Vec<Value>) -> bool {
        let b = line.as_bytes();
        let mut pos = 0;
        let mut i = 0;
        while i < self.plan.len() {
            match &self.plan[i] {
                Step::Lit(l) => {
                    if !b[pos..].starts_with(&l.bytes) {
                        return false;
                    }
                    pos += l.bytes.len();
                }
                Step::Op(f) => match self.plan.get(i + 1) {
                    None => {
                        out.push((*f, pos, b.len()));
                        pos = b.len();
                    }
                    Some(Step::Lit(l)) => {
                        let Some(end) = l.find(&b[pos..]) else {
                            return false;
                        };
                        out.push((*f, pos, pos + end));
                        pos += end;
                    }
                    Some(Step::Op(_)) => return false,
                },
            }
            i += 1;
        }
        // A literal may end inside a multi-byte character only if the line is not of the format.
        pos == b.len()
            && out
                .iter()
                .all(|(_, a, z)| line.is_char_boundary(*a) && line.is_char_boundary(*z))
    }

    fn split_regex(&self, line: &str, out: &mut Vec<Value>) -> bool {
        let Some(re) = self.regex.get_or_init(|| self.build_regex()) else {
            return false;
        };
        let Some(caps) = re.captures(line) else {
            return false;
        };
        let ops = self.plan.iter().filter_map(|s| match s {
            Step::Op(f) => Some(*f),
            Step::Lit(_) => None,
        });
        for (k, f) in ops.enumerate() {
            let (a, z) = caps.get(k + 1).map_or((0, 0), |m| (m.start(), m.end()));
            out.push((f, a, z));
        }
        typed(line, out)
    }

    fn build_regex(&self) -> Option<Regex> {
        let mut re = String::from("^");
        for s in &self.segs {
            match s {
                Seg::Lit(l) => re.push_str(&regex::escape(l)),
                Seg::Op(o) => re.push_str(match o.field() {
                    Field::Status => r"(\d{1,3}|-)",
                    Field::Number => r"(\d+|-)",
                    Field::Flags => r"([A-Za-z,]+|-)",
                    _ => r"(.*?)",
                }),
            }
        }
        re.push('$');
        Regex::new(&re).ok()
    }
}

/// Whether the typed values read: a status of at most three digits, numbers, flags of letters.
fn typed(line: &str, values: &[Value]) -> bool {
    values.iter().all(|(f, a, z)| {
        let v = &line.as_bytes()[*a..*z];
        let dash = v == b"-" || v.is_empty();
        match f {
            Field::Status => dash || (v.len() <= 3 && v.iter().all(u8::is_ascii_digit)),
            Field::Number => dash || v.iter().all(u8::is_ascii_digit),
            Field::Flags => v
                .iter()
                .all(|c| c.is_ascii_alphabetic() || *c == b',' || *c == b'-'),
            _ => true,
        }
    })
}

/// Whether a split line is a failure, read from its values alone (no copy): an error status, a
/// response flag other than a cache hit or an injected delay, or termination details.
pub(super) fn fails(line: &str, values: &[Value]) -> bool {
    values.iter().any(|(f, a, z)| {
        let v = &line[*a..*z];
        match f {
            Field::Status => v.parse::<u16>().is_ok_and(|s| s >= 400),
            Field::Flags => ResponseFlag::list(v).iter().any(ResponseFlag::is_failure),
            Field::Termination => !(v.is_empty() || v == "-"),
            _ => false,
        }
    })
}

/// Puts a split line's values into `rec`.
pub(super) fn fill(line: &str, values: &[Value], rec: &mut Record) {
    for (f, a, z) in values {
        set(rec, *f, &line[*a..*z]);
    }
}

/// `-` (and empty) is Envoy's "no value".
fn value(v: &str) -> Option<String> {
    (!v.is_empty() && v != "-").then(|| v.to_string())
}

/// Marks `field` as carried by the line's format.
pub(super) fn carried(rec: &mut Record, field: Field) {
    let l = &mut rec.logged;
    match field {
        Field::Details => l.details = true,
        Field::Termination => l.termination = true,
        Field::TransportFailure => l.transport_failure = true,
        Field::DownstreamLocal => l.downstream_local = true,
        Field::UpstreamCluster => l.upstream_cluster = true,
        Field::RouteName => l.route_name = true,
        _ => {}
    }
}

pub(super) fn set(rec: &mut Record, field: Field, v: &str) -> bool {
    carried(rec, field);
    match field {
        Field::Status => match v {
            "-" | "" => rec.status = None,
            _ => match v.parse::<u16>() {
                Ok(s) if s < 1000 => rec.status = Some(s),
                _ => return false,
            },
        },
        Field::Number => {
            if !(v == "-" || v.is_empty() || v.bytes().all(|b| b.is_ascii_digit())) {
                return false;
            }
        }
        Field::Flags => {
            if !v
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b',' || b == b'-')
            {
                return false;
            }
            rec.flags = ResponseFlag::list(v);
        }
        Field::Details => rec.details = value(v),
        Field::Termination => rec.termination = value(v),
        Field::TransportFailure => rec.transport_failure = value(v),
        Field::RouteName => rec.route_name = value(v),
        Field::UpstreamCluster => rec.upstream_cluster = value(v),
        Field::UpstreamHost => rec.upstream_host = value(v),
        Field::Authority => rec.authority = value(v),
        Field::Method => rec.method = value(v),
        Field::Path => rec.path = value(v),
        Field::Protocol => rec.protocol = value(v),
        Field::Sni => rec.sni = value(v),
        Field::DownstreamLocal => rec.downstream_local = value(v),
        Field::DownstreamRemote => rec.downstream_remote = value(v),
        Field::FilterChain => rec.filter_chain = value(v),
        Field::StartTime => rec.start_time = value(v),
        Field::Opaque => {}
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISTIO_LINE: &str = r#"[2026-12-07T06:15:08.123Z] "GET /shelves HTTP/1.1" 503 UH no_healthy_upstream - "-" 0 19 0 - "-" "curl/8.5.0" "1b2c" "bookstore:8080" "-" outbound|8080||bookstore.default.svc.cluster.local - 10.96.1.2:8080 10.244.0.5:43210 - default"#;

    #[test]
    fn istio_text_line_reads() {
        let f = TextFormat::new(ISTIO_TEXT);
        let mut r = Record::default();
        assert!(f.parse(ISTIO_LINE, &mut r));
        assert_eq!(r.status, Some(503));
        assert_eq!(r.flags, vec![ResponseFlag::NoHealthyUpstream]);
        assert_eq!(r.details.as_deref(), Some("no_healthy_upstream"));
        assert_eq!(r.termination, None);
        assert_eq!(
            r.upstream_cluster.as_deref(),
            Some("outbound|8080||bookstore.default.svc.cluster.local")
        );
        assert_eq!(r.authority.as_deref(), Some("bookstore:8080"));
        assert_eq!(r.path.as_deref(), Some("/shelves"));
        assert_eq!(r.method.as_deref(), Some("GET"));
        assert_eq!(r.downstream_local.as_deref(), Some("10.96.1.2:8080"));
        assert_eq!(r.route_name.as_deref(), Some("default"));
        assert_eq!(r.sni, None);
    }

    #[test]
    fn a_value_holding_the_next_literal_is_split_by_the_regex() {
        // Leftmost, the route name ends at its first space and the status reads "route 503".
        let f = TextFormat::new("%ROUTE_NAME% %RESPONSE_CODE% %RESPONSE_FLAGS%");
        let mut r = Record::default();
        assert!(f.parse("my route 503 UH", &mut r));
        assert_eq!(r.route_name.as_deref(), Some("my route"));
        assert_eq!(r.status, Some(503));
        assert_eq!(r.flags, vec![ResponseFlag::NoHealthyUpstream]);
        // A quote inside a quoted value is no literal of its own.
        let f = TextFormat::new(ISTIO_TEXT);
        let line = ISTIO_LINE.replace("\"curl/8.5.0\"", "\"agent \"x\" 1\"");
        assert!(f.parse(&line, &mut r));
        assert_eq!(r.authority.as_deref(), Some("bookstore:8080"));
    }

    #[test]
    fn lines_of_another_format_do_not_read() {
        let f = TextFormat::new(ENVOY_DEFAULT);
        let mut r = Record::default();
        assert!(!f.parse(ISTIO_LINE, &mut r));
        assert!(!f.parse("", &mut r));
        assert!(!f.parse("[2026-12-07 06:15:08.123][12][info][main] starting", &mut r));
    }

    #[test]
    fn operators_parse_as_envoy_does() {
        let s = segments("%START_TIME(%Y-%m-%dT%H:%M:%S)% 100% %REQ(X-A):10% %%x %UNKNOWN_THING%");
        let ops: Vec<_> = s
            .iter()
            .filter_map(|s| match s {
                Seg::Op(o) => Some((o.command.as_str(), o.arg.as_deref())),
                _ => None,
            })
            .collect();
        assert_eq!(
            ops,
            vec![
                ("START_TIME", Some("%Y-%m-%dT%H:%M:%S")),
                ("REQ", Some("X-A")),
                ("UNKNOWN_THING", None)
            ]
        );
    }

    #[test]
    fn response_flags_read_in_both_forms() {
        assert_eq!(
            ResponseFlag::list("URX,UF"),
            vec![
                ResponseFlag::UpstreamRetryLimitExceeded,
                ResponseFlag::UpstreamConnectionFailure
            ]
        );
        assert_eq!(
            ResponseFlag::list("UpstreamOverflow"),
            vec![ResponseFlag::UpstreamOverflow]
        );
        assert_eq!(ResponseFlag::list("-"), vec![]);
        assert_eq!(ResponseFlag::all().count(), 28);
        for f in ResponseFlag::all() {
            assert_eq!(ResponseFlag::parse(f.short()), f);
            assert_eq!(ResponseFlag::parse(f.long()), f);
        }
    }
}
