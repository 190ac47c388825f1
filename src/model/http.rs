//! How Envoy matches an HTTP request: route matches (path, headers, query), header matchers and
//! metadata matchers. Shared by routes, JWT rules and RBAC, which all use Envoy's same matchers.

use serde::Serialize;

use super::tls::StringMatch;

/// A route's (or a JWT rule's) `match`: the path specifier plus headers and query parameters,
/// all of which must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RouteMatch {
    /// How the path must match.
    pub path: PathMatch,
    /// `case_sensitive` (default true) applies to prefix, exact and separated-prefix paths.
    #[serde(skip_serializing_if = "is_true")]
    pub case_sensitive: bool,
    /// `headers`: each must match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderMatch>,
    /// `query_parameters`: each must match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<QueryMatch>,
    /// `grpc`: only requests whose `content-type` is `application/grpc…`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub grpc: bool,
    /// Conditions envinspect does not evaluate (a runtime fraction, cookies, TLS context,
    /// dynamic metadata, filter state, a custom string matcher): a match that depends on them is
    /// "cannot tell", never a guess.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmodelled: Vec<String>,
}

fn is_true(b: &bool) -> bool {
    *b
}

impl RouteMatch {
    /// A match on `prefix: /`, as a route with no match at all behaves.
    pub fn any() -> Self {
        Self {
            path: PathMatch::Prefix("/".into()),
            case_sensitive: true,
            headers: Vec::new(),
            query: Vec::new(),
            grpc: false,
            unmodelled: Vec::new(),
        }
    }
}

/// A route's path specifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PathMatch {
    /// `prefix`: the path starts with it.
    Prefix(String),
    /// `path`: the path (without the query) is exactly it.
    Exact(String),
    /// `path_separated_prefix`: the prefix, then the end of the path, `/`, `?` or `#`.
    SeparatedPrefix(String),
    /// RE2, matched against the whole path without the query string.
    Regex(String),
    /// CONNECT requests only.
    Connect,
    /// An extension (`path_match_policy`) or nothing envinspect can evaluate: its name.
    Other(String),
}

impl std::fmt::Display for PathMatch {
    /// As istioctl describes a route match: `/prefix*`, `/exact`, `PathPrefix:/p`, `regex …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathMatch::Prefix(p) => write!(f, "{p}*"),
            PathMatch::Exact(p) => f.write_str(p),
            PathMatch::SeparatedPrefix(p) => write!(f, "PathPrefix:{p}"),
            PathMatch::Regex(r) => write!(f, "regex {r}"),
            PathMatch::Connect => f.write_str("CONNECT"),
            PathMatch::Other(name) if name.is_empty() => Ok(()),
            PathMatch::Other(name) => write!(f, "policy {name}"),
        }
    }
}

/// Envoy's `HeaderMatcher`. Pseudo-headers (`:path` with its query, `:method`, `:authority`)
/// are headers here as in Envoy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HeaderMatch {
    /// The header's name, lowercase (`:authority` for Host).
    pub name: String,
    /// What its value must be.
    pub rule: HeaderRule,
    /// `invert_match`: the header matches when the rule does not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invert: bool,
    /// `treat_missing_header_as_empty`: an absent header is matched as the empty string.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing_as_empty: bool,
}

/// What a header's value must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HeaderRule {
    /// `present_match`: true when the header is there (false: when it is not).
    Present {
        /// Present (true) or absent (false).
        present: bool,
    },
    /// A string matcher on the value (exact, prefix, suffix, contains, regex).
    String(StringMatch),
    /// `range_match`: the value as an integer in `[start, end)`.
    Range {
        /// The first value in range.
        start: i64,
        /// The first value past the range.
        end: i64,
    },
}

impl std::fmt::Display for HeaderMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.invert {
            f.write_str("not ")?;
        }
        match &self.rule {
            HeaderRule::Present { present: true } => write!(f, "{} present", self.name),
            HeaderRule::Present { present: false } => write!(f, "{} absent", self.name),
            HeaderRule::String(m) => write!(f, "{} {}", self.name, m),
            HeaderRule::Range { start, end } => write!(f, "{} in [{start}, {end})", self.name),
        }
    }
}

/// A route's `query_parameters` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct QueryMatch {
    /// The parameter's name.
    pub name: String,
    /// `None`: the parameter must be present (`present_match`).
    pub value: Option<StringMatch>,
}

/// Envoy's `MetadataMatcher`: a value at `path` in the dynamic metadata of `filter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MetadataMatch {
    /// The filter whose dynamic metadata holds the value (`envoy.filters.http.jwt_authn`…).
    pub filter: String,
    /// The keys leading to the value.
    pub path: Vec<String>,
    /// What the value must be.
    pub value: ValueMatch,
    /// `invert`: matches when the value does not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invert: bool,
}

/// Envoy's `ValueMatcher`: what a metadata value must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValueMatch {
    /// `null_match`: the value is null.
    Null,
    /// A number in `[start, end)`, or equal to `exact`.
    Double {
        /// `double_match.exact`, as written.
        exact: Option<String>,
        /// `double_match.range` `[start, end)`, as written.
        range: Option<(String, String)>,
    },
    /// A string matcher.
    String(StringMatch),
    /// `bool_match`.
    Bool {
        /// The value it must equal.
        value: bool,
    },
    /// `present_match`.
    Present {
        /// Present (true) or absent (false).
        present: bool,
    },
    /// `list_match.one_of`: some element of a list matches.
    List(Box<ValueMatch>),
    /// `or_match`: any of them.
    Or(Vec<ValueMatch>),
}

impl std::fmt::Display for MetadataMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.invert {
            f.write_str("not ")?;
        }
        write!(f, "{}[{}] {}", self.filter, self.path.join("."), self.value)
    }
}

impl std::fmt::Display for ValueMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueMatch::Null => f.write_str("null"),
            ValueMatch::Double { exact: Some(e), .. } => write!(f, "= {e}"),
            ValueMatch::Double {
                range: Some((a, b)),
                ..
            } => write!(f, "in [{a}, {b})"),
            ValueMatch::Double { .. } => f.write_str("a number"),
            ValueMatch::String(m) => write!(f, "{m}"),
            ValueMatch::Bool { value } => write!(f, "= {value}"),
            ValueMatch::Present { present: true } => f.write_str("present"),
            ValueMatch::Present { present: false } => f.write_str("absent"),
            ValueMatch::List(m) => write!(f, "contains an element {m}"),
            ValueMatch::Or(ms) => {
                let parts: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
                write!(f, "({})", parts.join(" or "))
            }
        }
    }
}

/// An HTTP connection manager with no HTTP filter at all, so no router: Envoy 1.40 accepts the
/// configuration, reads each request, and answers none of them (measured); a request ends only
/// when the stream idle timeout fires, with 504 SI `stream_idle_timeout`, or never when it is
/// disabled (`request_timeout` covers only receiving the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NoRouter {
    /// `stream_idle_timeout` in milliseconds (Envoy's default 300000 when unset; 0: disabled).
    pub stream_idle_timeout_ms: u64,
}

/// What an HTTP connection manager does to the Host header before its filters and the router
/// see it (`strip_trailing_host_dot`, `strip_matching_host_port`, `strip_any_host_port`; Envoy's
/// `ConnectionManagerUtility::maybeNormalizeHost`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HostNormalization {
    /// `strip_trailing_host_dot`: a trailing dot is removed.
    pub strip_trailing_dot: bool,
    /// Which port, if any, is removed from the Host.
    pub strip_port: StripPort,
}

/// Which port a connection manager strips from the Host header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StripPort {
    /// No port is stripped.
    #[default]
    Keep,
    /// Only a port equal to the connection's local port.
    Matching,
    /// `strip_any_host_port`: any port.
    Any,
}

impl HostNormalization {
    /// Whether the Host is left as the client sent it.
    pub fn is_none(&self) -> bool {
        *self == HostNormalization::default()
    }

    /// The Host as the filters and the router see it, for a connection to `local_port`.
    pub fn apply(&self, host: &str, local_port: u32) -> String {
        let mut host = host.to_string();
        if self.strip_trailing_dot {
            // Envoy's stripTrailingHostDot: a final dot, or a dot just before the port's colon.
            if let Some(i) = host.rfind('.') {
                if i + 1 == host.len() {
                    host.pop();
                } else if host.as_bytes()[i + 1] == b':' {
                    host.remove(i);
                }
            }
        }
        let only = match self.strip_port {
            StripPort::Keep => return host,
            StripPort::Matching => Some(local_port),
            StripPort::Any => None,
        };
        // Envoy's getPortStart: the last colon, unless an IPv6 literal's `]` follows it.
        let Some(colon) = host.rfind(':') else {
            return host;
        };
        if host.rfind(']').is_some_and(|b| b > colon) {
            return host;
        }
        match host[colon + 1..].parse::<u32>() {
            Ok(port) if only.is_none_or(|p| p == port) => host[..colon].to_string(),
            _ => host,
        }
    }
}

#[cfg(test)]
mod host_tests {
    use super::*;

    #[test]
    fn envoys_host_normalization() {
        let any = HostNormalization {
            strip_trailing_dot: false,
            strip_port: StripPort::Any,
        };
        assert_eq!(any.apply("www.example.com:8080", 80), "www.example.com");
        assert_eq!(any.apply("[::1]:8080", 80), "[::1]");
        assert_eq!(any.apply("[::1]", 80), "[::1]");
        assert_eq!(any.apply("host:", 80), "host:");
        assert_eq!(any.apply("host:x1", 80), "host:x1");
        let matching = HostNormalization {
            strip_port: StripPort::Matching,
            ..any
        };
        assert_eq!(matching.apply("h:80", 80), "h");
        assert_eq!(matching.apply("h:81", 80), "h:81");
        let dot = HostNormalization {
            strip_trailing_dot: true,
            strip_port: StripPort::Keep,
        };
        assert_eq!(dot.apply("www.example.com.", 80), "www.example.com");
        assert_eq!(
            dot.apply("www.example.com.:8080", 80),
            "www.example.com:8080"
        );
        assert_eq!(dot.apply("www.example.com", 80), "www.example.com");
        assert!(HostNormalization::default().is_none());
    }
}
