//! Authorization as Envoy applies it: the filters of a chain that can refuse a request or a
//! connection (RBAC, jwt_authn, ext_authz), in chain order, with their policies readable. Nothing
//! here is one mesh's: Istio's and Consul's names are read on top (`authz/istio.rs`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::http::{HeaderMatch, MetadataMatch, RouteMatch};
use super::ids::Cidr;
use super::tls::StringMatch;

/// Whether a filter sees HTTP requests (an HTTP filter) or connections (a network filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FilterLevel {
    /// A network filter: it sees connections.
    Network,
    /// An HTTP filter: it sees requests.
    Http,
}

/// One filter of a chain that can refuse traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuthzFilter {
    /// The filter's name in the chain (per-route configuration is keyed by it).
    pub name: String,
    /// Network or HTTP.
    pub level: FilterLevel,
    /// HTTP filters with `disabled: true` run only where a route enables them.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// JSON Pointer to the filter in the dump.
    pub pointer: crate::model::Pointer,
    /// What it is, with its configuration.
    #[serde(flatten)]
    pub kind: AuthzKind,
}

/// The kinds of filter that can refuse traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthzKind {
    /// `envoy.filters.http.rbac` or `envoy.filters.network.rbac`.
    Rbac(Rbac),
    /// `envoy.filters.http.jwt_authn`.
    JwtAuthn(JwtAuthn),
    /// `envoy.filters.http.ext_authz` or `envoy.filters.network.ext_authz`.
    ExtAuthz(ExtAuthz),
    /// A filter that can refuse traffic and that envinspect does not evaluate (a Lua or Wasm
    /// program, an external processor, a vendor's policy filter, a rate limit, one configured by
    /// ECDS): an answer past it cannot be told.
    Opaque(OpaqueFilter),
}

/// A filter that may deny, which envinspect cannot evaluate, and what it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OpaqueFilter {
    /// Its configuration's type (message name), or `ECDS` when the dump's filter has none.
    pub type_name: String,
    /// Why it may refuse: `runs a program`, `a vendor's policy`, `rate limit`…
    pub may: String,
}

/// An RBAC filter (HTTP or network): what it enforces, and what it only evaluates (shadow).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Rbac {
    /// `None`: the filter enforces nothing (no `rules` and no `matcher`).
    pub rules: Option<RbacEngine>,
    /// Evaluated for stats and metadata only, never enforced (Istio's dry-run and CUSTOM).
    pub shadow: Option<RbacEngine>,
    /// `stat_prefix`: what its counters are named after.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stat_prefix: String,
    /// `shadow_rules_stat_prefix`: what its shadow rules' counters are named after.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub shadow_rules_stat_prefix: String,
}

/// How an RBAC filter's rules are written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RbacEngine {
    /// `rules`: policies tried in the lexicographic order of their names.
    Policies {
        /// What a match does.
        action: RbacAction,
        /// The policies.
        policies: Vec<Policy>,
    },
    /// `matcher`: the xds matcher API, whose actions are named ALLOW or DENY.
    Matcher {
        /// The matcher.
        matcher: ActionMatcher,
    },
}

/// What an RBAC engine does with a request its policies match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum RbacAction {
    /// Let a request through iff some policy matches.
    Allow,
    /// Refuse a request iff some policy matches.
    Deny,
    /// Allow everything; mark the matching ones for access logs.
    Log,
}

impl std::fmt::Display for RbacAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RbacAction::Allow => "ALLOW",
            RbacAction::Deny => "DENY",
            RbacAction::Log => "LOG",
        })
    }
}

/// A named policy: it matches when one of its permissions and one of its principals match
/// (and its condition, if any).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Policy {
    /// Its name: the id Envoy reports when it decides.
    pub name: String,
    /// What the request does; any of them.
    pub permissions: Vec<Permission>,
    /// Who is calling; any of them.
    pub principals: Vec<Principal>,
    /// A CEL condition (`condition` or `checked_condition`): envinspect does not evaluate CEL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// What a request or connection is doing (RBAC `Permission`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Permission {
    /// Anything.
    Any,
    /// All of them.
    And(Vec<Permission>),
    /// Any of them.
    Or(Vec<Permission>),
    /// Not it.
    Not(Box<Permission>),
    /// A request header.
    Header(HeaderMatch),
    /// The path without its query string.
    UrlPath(StringMatch),
    /// The destination address is in the range.
    DestinationIp(Cidr),
    /// The destination port.
    DestinationPort(u32),
    /// `[start, end)`.
    DestinationPortRange(u32, u32),
    /// The SNI.
    RequestedServerName(StringMatch),
    /// A dynamic metadata value.
    Metadata(MetadataMatch),
    /// A matcher envinspect cannot evaluate (an extension, a URI template…): its type.
    Unsupported(String),
}

/// Who is calling (RBAC `Principal`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Principal {
    /// Anyone.
    Any,
    /// All of them.
    And(Vec<Principal>),
    /// Any of them.
    Or(Vec<Principal>),
    /// Not it.
    Not(Box<Principal>),
    /// A peer that presented a verified certificate; with a matcher, on its URI SANs, then DNS
    /// SANs, then subject. `None` matches any authenticated peer.
    Authenticated(Option<StringMatch>),
    /// `source_ip` (deprecated) and `direct_remote_ip`: the socket's peer address.
    DirectRemoteIp(Cidr),
    /// `remote_ip`: the client address after XFF / PROXY protocol.
    RemoteIp(Cidr),
    /// A request header.
    Header(HeaderMatch),
    /// The path without its query string.
    UrlPath(StringMatch),
    /// A dynamic metadata value.
    Metadata(MetadataMatch),
    /// `filter_state` (Istio waypoints: `io.istio.peer_principal`).
    FilterState {
        /// The filter state key.
        key: String,
        /// What its value must be.
        value: StringMatch,
    },
    /// A principal envinspect cannot evaluate: its type.
    Unsupported(String),
}

/// The matcher form of RBAC (`matcher`): a list of predicates, each naming an action, the first
/// that matches wins; `on_no_match` otherwise (absent: the request is denied).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ActionMatcher {
    /// The predicates tried in order, each with its action.
    pub matchers: Vec<FieldMatcher>,
    /// What happens when none holds (absent: the request is denied).
    pub on_no_match: Option<OnMatch>,
    /// Set when the matcher is a form envinspect does not evaluate (a matcher tree…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
}

/// One predicate of an RBAC matcher, and what it leads to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FieldMatcher {
    /// What must hold.
    pub predicate: Predicate,
    /// What follows when it does.
    pub on_match: OnMatch,
}

/// What an RBAC matcher entry leads to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OnMatch {
    /// `envoy.config.rbac.v3.Action`: its own `name` is the policy id Envoy reports (not the
    /// enclosing extension's, `entry`).
    Action {
        /// The action's name: the policy id Envoy reports.
        name: String,
        /// ALLOW or DENY.
        action: RbacAction,
        /// The enclosing extension's name.
        entry: String,
    },
    /// A nested matcher.
    Matcher {
        /// The matcher.
        matcher: Box<ActionMatcher>,
    },
    /// An action of a type envinspect does not evaluate.
    Unsupported {
        /// Its type URL.
        type_url: String,
    },
}

/// A condition of the matcher API on one input, or a combination of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Predicate {
    /// One input, matched.
    Single {
        /// What is read.
        input: MatchInput,
        /// How it is matched.
        matcher: InputMatch,
    },
    /// All of them.
    And {
        /// The predicates.
        predicates: Vec<Predicate>,
    },
    /// Any of them.
    Or {
        /// The predicates.
        predicates: Vec<Predicate>,
    },
    /// Not it.
    Not {
        /// The predicate.
        predicate: Box<Predicate>,
    },
}

/// What a matcher reads from the request or connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MatchInput {
    /// The client's address (after PROXY protocol).
    SourceIp,
    /// The socket's peer address.
    DirectSourceIp,
    /// The client's port.
    SourcePort,
    /// The destination address.
    DestinationIp,
    /// The destination port.
    DestinationPort,
    /// The SNI.
    ServerName,
    /// `tls` or `raw_buffer`.
    TransportProtocol,
    /// The negotiated ALPN.
    ApplicationProtocol,
    /// A request header, by name.
    RequestHeader(String),
    /// A query parameter, by name.
    QueryParameter(String),
    /// The peer certificate's URI SAN (`envoy.matching.inputs.uri_san`), DNS SAN, subject.
    UriSan,
    /// The peer certificate's DNS SAN.
    DnsSan,
    /// The peer certificate's subject.
    Subject,
    /// An input envinspect does not evaluate: its type.
    Unsupported(String),
}

impl std::fmt::Display for MatchInput {
    /// As in JSON: the input's kind, then its argument (`request_header x-team`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MatchInput::SourceIp => "source_ip",
            MatchInput::DirectSourceIp => "direct_source_ip",
            MatchInput::SourcePort => "source_port",
            MatchInput::DestinationIp => "destination_ip",
            MatchInput::DestinationPort => "destination_port",
            MatchInput::ServerName => "server_name",
            MatchInput::TransportProtocol => "transport_protocol",
            MatchInput::ApplicationProtocol => "application_protocol",
            MatchInput::UriSan => "uri_san",
            MatchInput::DnsSan => "dns_san",
            MatchInput::Subject => "subject",
            MatchInput::RequestHeader(h) => return write!(f, "request_header {h}"),
            MatchInput::QueryParameter(q) => return write!(f, "query_parameter {q}"),
            MatchInput::Unsupported(t) => return write!(f, "unsupported {t}"),
        })
    }
}

/// How a matcher compares its input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InputMatch {
    /// A string matcher.
    String(StringMatch),
    /// `envoy.matching.matchers.ip`: any of these ranges.
    Ip(Vec<Cidr>),
    /// A matcher envinspect does not evaluate: its type.
    Unsupported(String),
}

/// The JWT authentication filter: its providers and which requirement applies where.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JwtAuthn {
    /// Its providers, by name.
    pub providers: BTreeMap<String, JwtProvider>,
    /// Tried in order; the first whose match fits the request gives its requirement.
    pub rules: Vec<JwtRule>,
    /// Requirements routes name in their per-route configuration.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requirement_map: BTreeMap<String, JwtRequirement>,
    /// `bypass_cors_preflight`: CORS preflight requests pass unverified.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bypass_cors_preflight: bool,
    /// `filter_state_rules`: a requirement chosen by filter state (not evaluated).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub filter_state_rules: bool,
}

/// One `rules` entry of a jwt_authn filter: which requests it applies to, and what it asks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JwtRule {
    /// Which requests it applies to.
    #[serde(rename = "match")]
    pub matcher: RouteMatch,
    /// `None`: no requirement (the request passes unverified).
    pub requires: Option<JwtRequirement>,
}

/// What a JWT rule asks of a request's tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JwtRequirement {
    /// A valid token from this provider.
    Provider(String),
    /// `provider_and_audiences`: the provider, with these audiences instead of its own.
    ProviderAndAudiences(String, Vec<String>),
    /// Any of them.
    Any(Vec<JwtRequirement>),
    /// All of them.
    All(Vec<JwtRequirement>),
    /// A missing token passes; a present one must be valid for some provider.
    AllowMissing,
    /// Any token, valid or not, or none, passes.
    AllowMissingOrFailed,
    /// The payload is extracted without any validation.
    ExtractOnlyWithoutValidation,
    /// `requirement_name`, resolved against the requirement map.
    Named(String),
}

impl std::fmt::Display for JwtRequirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |xs: &[JwtRequirement]| {
            xs.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            JwtRequirement::Provider(p) => f.write_str(p),
            JwtRequirement::ProviderAndAudiences(p, a) => write!(f, "{p} (aud {})", a.join(",")),
            JwtRequirement::Any(xs) => write!(f, "any of [{}]", list(xs)),
            JwtRequirement::All(xs) => write!(f, "all of [{}]", list(xs)),
            JwtRequirement::AllowMissing => f.write_str("allow_missing"),
            JwtRequirement::AllowMissingOrFailed => f.write_str("allow_missing_or_failed"),
            JwtRequirement::ExtractOnlyWithoutValidation => {
                f.write_str("extract_only_without_validation")
            }
            JwtRequirement::Named(n) => write!(f, "requirement {n}"),
        }
    }
}

/// One JWT provider: whose tokens it accepts and how it checks them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JwtProvider {
    /// The issuer (`iss`) it accepts; empty: any.
    pub issuer: String,
    /// Empty: the audience is not checked.
    pub audiences: Vec<String>,
    /// Where its keys come from.
    pub jwks: Jwks,
    /// Where it looks for the token.
    pub locations: TokenLocations,
    /// Whether the token is forwarded upstream.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forward: bool,
    /// Where the verified payload goes in `envoy.filters.http.jwt_authn` metadata (RBAC reads it).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub payload_in_metadata: String,
    /// `claim_to_headers`: `(header, claim)` copied into request headers after verification.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claim_to_headers: Vec<(String, String)>,
    /// Envoy's default is 60 s when 0.
    pub clock_skew_seconds: u32,
    /// A token without `exp` is refused.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub require_expiration: bool,
}

/// Where a provider's keys come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Jwks {
    /// `local_jwks` inline: the keys, or why they could not be read.
    Inline {
        /// The keys.
        keys: Vec<Jwk>,
        /// Why they could not be read, if so.
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
    },
    /// `local_jwks` from a file or environment variable: not in the dump.
    Local {
        /// The file or environment variable.
        source: String,
    },
    /// `remote_jwks`: fetched by Envoy; the signature cannot be checked offline.
    Remote {
        /// The URI.
        uri: String,
        /// The cluster Envoy fetches it over.
        cluster: String,
    },
    /// No keys configured.
    None,
}

/// A public JSON Web Key. Only public parameters are kept (a JWKS never holds more for
/// verification; a private `d` is dropped when read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Jwk {
    /// `kid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `kty`: `RSA`, `EC`, `OKP`, `oct`.
    pub kty: String,
    /// `alg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `crv`, for EC and OKP keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// RSA modulus and exponent, EC point (base64url, as in the JWK).
    #[serde(skip)]
    pub params: BTreeMap<String, String>,
}

/// Where a provider looks for its token. Empty everywhere: `Authorization: Bearer` and the
/// `access_token` query parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TokenLocations {
    /// Header name and value prefix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// Query parameters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
    /// Cookies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<String>,
}

impl TokenLocations {
    /// Whether it is Envoy's default (`Authorization: Bearer` and `access_token`).
    pub fn is_default(&self) -> bool {
        self.headers.is_empty() && self.params.is_empty() && self.cookies.is_empty()
    }
}

/// An external authorization filter: a server that decides, which envinspect cannot consult.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ExtAuthz {
    /// `grpc cluster X`, `http URI`, or `envoy_grpc`/`google_grpc` targets.
    pub server: String,
    /// What happens when the server cannot be reached: true lets the request through.
    pub failure_mode_allow: bool,
    /// The filter runs only when this metadata matches (Istio CUSTOM: its shadow RBAC result).
    pub filter_enabled_metadata: Option<MetadataMatch>,
    /// `filter_enabled` (a runtime fraction): not evaluated.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub filter_enabled_fraction: bool,
    /// The server's decision is logged, never enforced.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadow_mode: bool,
}

/// What a route, virtual host or weighted cluster says to one authorization filter (its
/// `typed_per_filter_config`, keyed by the filter's name).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PerRouteAuthz {
    /// `RBACPerRoute`: this engine replaces the filter's own; `None` disables RBAC there.
    Rbac {
        /// The engine that applies instead; `None`: none.
        rbac: Option<Box<Rbac>>,
    },
    /// jwt_authn `PerRouteConfig`.
    Jwt {
        /// What applies on the route.
        requirement: PerRouteJwt,
    },
    /// `ExtAuthzPerRoute`.
    ExtAuthz {
        /// The filter does not run on the route.
        disabled: bool,
    },
    /// `envoy.config.route.v3.FilterConfig { disabled }` or `{config}`.
    FilterConfig {
        /// The filter does not run on the route.
        disabled: bool,
    },
}

/// What a route's jwt_authn configuration says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PerRouteJwt {
    /// `disabled: true`: no verification on the route.
    Disabled,
    /// `requirement_name`: this requirement of the filter's map applies.
    RequirementName(String),
}
