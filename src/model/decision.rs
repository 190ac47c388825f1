//! What `envinspect authz` shows: per inbound port the authorization layers in the order Envoy
//! runs them, and for one request what Envoy would decide, with each step's evidence. The
//! `decision` and `policy` fields are a contract (docs/output-schema.md).

use super::contract::contract_enum;
use serde::Serialize;

use super::authz::{FilterLevel, RbacAction};
use super::policy::MtlsMode;

/// What Envoy does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Decision {
    /// Every layer let it through.
    Allow,
    /// An RBAC filter refused it (HTTP 403, or the connection closed), or jwt_authn refused a
    /// token whose audience is not allowed (403).
    Deny,
    /// jwt_authn refused the token (401): missing where required, bad signature, expired…
    Unauthenticated,
    /// No filter chain accepts the connection (plaintext to a STRICT port, no chain for it).
    Rejected,
    /// It depends on what envinspect cannot see (an ext_authz server, a CEL condition, a
    /// remote JWKS signature, an input not given): `reason` says what.
    Unknown,
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Unauthenticated => "unauthenticated",
            Decision::Rejected => "rejected",
            Decision::Unknown => "unknown",
        })
    }
}

/// Which proxy decides: Envoy's filters, or (Istio ambient) ztunnel's L4 policies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Enforcer {
    /// Envoy's filters decide.
    #[default]
    Envoy,
    /// ztunnel's L4 policies decide (Istio ambient).
    Ztunnel,
}

impl Enforcer {
    fn is_envoy(&self) -> bool {
        *self == Enforcer::Envoy
    }
}

/// One request's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Evaluation {
    /// The document evaluated against (a file name or admin URL).
    pub source: String,
    /// Absent for Envoy; `ztunnel` for an ambient node proxy, which sees connections only.
    #[serde(skip_serializing_if = "Enforcer::is_envoy")]
    pub enforcer: Enforcer,
    /// Allowed, denied or unknown.
    pub decision: Decision,
    /// Exactly the id Envoy writes in `rbac_access_denied_matched_policy[…]`: the matching DENY
    /// policy (or matcher action), `none` when an ALLOW filter matched nothing; null otherwise.
    pub policy: Option<String>,
    /// What Envoy answers: the local reply's status (null when the request goes upstream, or
    /// for a closed connection) and its `%RESPONSE_CODE_DETAILS%` (or the connection
    /// termination details).
    pub response: Response,
    /// Why the decision is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<super::cannot_tell::Reason>,
    /// The request, as evaluated.
    pub request: RequestSummary,
    /// Each layer the request met, in order.
    pub steps: Vec<AuthzStep>,
    /// What envinspect took as given where the request did not say.
    pub assumptions: Vec<String>,
}

/// What the proxy answers a request it refuses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Response {
    /// The local reply's status (null when the request goes upstream, or for a closed connection).
    pub status: Option<u16>,
    /// `%RESPONSE_CODE_DETAILS%`, or the connection termination details.
    pub details: Option<String>,
}

/// The request as evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RequestSummary {
    /// The destination port.
    pub port: u32,
    /// The SPIFFE ID (or other URI SAN) presented, or null for none.
    pub principal: Option<super::PeerId>,
    /// Whether the client speaks TLS.
    pub tls: bool,
    /// The HTTP method.
    pub method: Option<String>,
    /// The path, with its query.
    pub path: Option<String>,
    /// The Host (`:authority`).
    pub host: Option<String>,
    /// Other headers, as `name: value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// `iss/sub` of the token given as verified.
    pub request_principal: Option<super::RequestPrincipal>,
    /// The client's address.
    pub source_ip: Option<String>,
    /// Given for a ztunnel, which picks the destination workload by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_ip: Option<String>,
    /// The SNI sent.
    pub sni: Option<String>,
}

/// One layer of the proxy a request met, and what it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuthzStep {
    /// `listener`, `filter chain`, `route`, `rbac`, `jwt_authn`, `ext_authz`…
    pub layer: AuthzLayer,
    /// The layer's name (a listener, chain, route or filter name).
    pub name: String,
    /// What it did with the request.
    pub outcome: StepOutcome,
    /// What the layer saw and why it decided so, one sentence.
    pub detail: String,
    /// The policy (or matcher action) that matched, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The Istio AuthorizationPolicy behind it (`name.namespace`), when named so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_policy: Option<String>,
    /// JSON Pointer into the dump.
    pub pointer: crate::model::Pointer,
}

/// What a layer did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepOutcome {
    /// Chosen (a listener, chain or route), or passed on to the next layer.
    Continue,
    /// Not applied to this request (disabled, no requirement, not enabled by metadata).
    Skipped,
    /// Evaluated for stats only (shadow rules, LOG).
    Observed,
    /// Refused by an authorization policy (403, or the connection closed).
    Denied,
    /// Refused for want of valid credentials (401).
    Unauthenticated,
    /// Refused before any policy (no chain, no route, a failed handshake).
    Rejected,
    /// envinspect cannot tell (see the evaluation's reason).
    Unknown,
}

impl std::fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StepOutcome::Continue => "pass",
            StepOutcome::Skipped => "skipped",
            StepOutcome::Observed => "observed",
            StepOutcome::Denied => "DENIED",
            StepOutcome::Unauthenticated => "UNAUTHENTICATED",
            StepOutcome::Rejected => "REJECTED",
            StepOutcome::Unknown => "unknown",
        })
    }
}

/// The authorization of a proxy, port by port.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuthzView {
    /// The document read (a file name or admin URL).
    pub source: String,
    /// Every filter chain, with its authorization layers.
    pub chains: Vec<ChainAuthz>,
    /// Routes whose configuration replaces or disables a filter's (`RBACPerRoute`…).
    pub routes: Vec<RouteAuthz>,
    /// How kubelet's probes reach the application, on an Istio sidecar whose node metadata
    /// carries its pod's annotations; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet_probes: Option<super::intercept::KubeletProbes>,
}

/// One filter chain's layers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChainAuthz {
    /// The listener.
    pub listener: super::ListenerName,
    /// The destination port the chain serves (its match, or the listener's port).
    pub port: Option<u32>,
    /// The chain's name.
    pub chain: String,
    /// `tls`, `plaintext`, or what the chain's transport socket is.
    pub transport: String,
    /// The port's inbound mTLS mode, where the report knows it.
    pub mtls: Option<MtlsMode>,
    /// Its authorization filters, in the order Envoy runs them.
    pub layers: Vec<LayerView>,
    /// JSON Pointer to the chain.
    pub pointer: crate::model::Pointer,
}

/// One authorization filter of a chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LayerView {
    /// The filter's name.
    pub filter: String,
    /// `rbac`, `jwt_authn`, `ext_authz`, `opaque`.
    pub kind: LayerKind,
    /// Network (connection) or HTTP (request) filter.
    pub level: FilterLevel,
    /// ALLOW / DENY / LOG for RBAC; null for the others or a filter that enforces nothing.
    pub action: Option<RbacAction>,
    /// One line: what the layer does as a whole.
    pub summary: String,
    /// Its policies, in order.
    pub policies: Vec<PolicyView>,
    /// A jwt_authn layer's providers, by name, field by field (the summary says them in prose).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<JwtProviderView>,
    /// JSON Pointer to the filter.
    pub pointer: crate::model::Pointer,
}

/// One JWT provider as the authz view's JSON gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JwtProviderView {
    /// The provider's name.
    pub name: String,
    /// The issuer (`iss`) it accepts.
    pub issuer: String,
    /// Empty: any audience.
    pub audiences: Vec<String>,
    /// `inline` (with `keys`), `local` (a file or variable, not in the dump), `remote` (fetched
    /// from `uri` over `cluster`), or `none`.
    pub jwks: super::authz::Jwks,
    /// Headers (`name`, value prefix), query parameters and cookies the token is read from;
    /// all empty: `Authorization: Bearer` and `access_token`.
    pub from_headers: Vec<(String, String)>,
    /// Query parameters the token is read from.
    pub from_params: Vec<String>,
    /// Cookies the token is read from.
    pub from_cookies: Vec<String>,
    /// Whether the token is forwarded upstream.
    pub forward: bool,
    /// `(header, claim)`.
    pub claim_to_headers: Vec<(String, String)>,
    /// The dynamic metadata key the verified payload is written to, if any.
    pub payload_in_metadata: Option<String>,
}

/// One RBAC policy (or matcher rule), as the authz view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PolicyView {
    /// The policy's Envoy name (the id Envoy reports).
    pub name: String,
    /// What it does when it matches.
    pub action: RbacAction,
    /// False for shadow rules: evaluated for stats and metadata, never enforced.
    pub enforced: bool,
    /// What shadow rules are for, when not enforced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowRole>,
    /// Istio's AuthorizationPolicy `name.namespace`, when the name follows its convention.
    pub authorization_policy: Option<String>,
    /// The action the mesh wrote (Istio's `ALLOW`, `DENY`, `AUDIT`, `CUSTOM`), beside Envoy's
    /// `action`: CUSTOM compiles to a shadow DENY selecting ext_authz's requests, AUDIT to LOG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh_action: Option<MeshAction>,
    /// The rule index N of an Istio name `ns[NS]-policy[NAME]-rule[N]`.
    pub rule: Option<usize>,
    /// Short text of principals, permissions and conditions.
    pub who: Vec<String>,
    /// Short text of its permissions.
    pub what: Vec<String>,
    /// Short text of its conditions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
}

/// An authorization action as a mesh's policy says it (Istio's AuthorizationPolicy `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum MeshAction {
    /// `ALLOW`.
    Allow,
    /// `DENY`.
    Deny,
    /// `AUDIT`: logged, never enforced.
    Audit,
    /// `CUSTOM`: an external authorizer decides.
    Custom,
}

/// What shadow rules are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShadowRole {
    /// Istio's dry-run AuthorizationPolicy (`istio_dry_run_*` stat prefix).
    DryRun,
    /// Istio's CUSTOM action: selects the requests ext_authz checks.
    CustomSelector,
    /// Plain shadow rules.
    Shadow,
}

impl std::fmt::Display for ShadowRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ShadowRole::DryRun => "dry-run",
            ShadowRole::CustomSelector => "CUSTOM selector",
            ShadowRole::Shadow => "shadow",
        })
    }
}

/// A route whose configuration replaces or disables an authorization filter's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RouteAuthz {
    /// The route configuration.
    pub route_config: super::RouteName,
    /// The virtual host.
    pub virtual_host: String,
    /// Null for a virtual-host or route-configuration level entry.
    pub route: Option<String>,
    /// The filter whose configuration it overrides.
    pub filter: String,
    /// One line: what the override does.
    pub summary: String,
    /// The override's policies, in order.
    pub policies: Vec<PolicyView>,
    /// JSON Pointer to the per-filter configuration.
    pub pointer: crate::model::Pointer,
}

/// The report's one line per port: what guards it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PortSummary {
    /// The listener.
    pub listener: super::ListenerName,
    /// The destination port; `None` for every port of the listener.
    pub port: Option<u32>,
    /// One line: what guards it.
    pub summary: String,
}

contract_enum! {
    /// The layer of the proxy an authorization step is about.
    pub enum AuthzLayer {
        /// The listener that takes the connection.
        Listener = "listener",
        /// The filter chain that takes it (its TLS and its filters).
        FilterChain = "filter chain",
        /// The route the request takes.
        Route = "route",
        /// The pod's redirection, which may leave a port alone.
        Interception = "interception",
        /// An RBAC filter (HTTP or network).
        Rbac = "rbac",
        /// A JWT authentication filter.
        JwtAuthn = "jwt_authn",
        /// An external authorization filter.
        ExtAuthz = "ext_authz",
        /// A filter that may refuse and that envinspect does not evaluate (Lua, Wasm, Cilium…).
        Filter = "filter",
        /// A ztunnel's workload, chosen by the destination.
        Workload = "workload",
        /// A ztunnel's authorization policy.
        Policy = "policy",
    }
}

contract_enum! {
    /// The kind of an authorization filter, in the authz view.
    pub enum LayerKind {
        /// RBAC (HTTP or network).
        Rbac = "rbac",
        /// JWT authentication.
        JwtAuthn = "jwt_authn",
        /// External authorization.
        ExtAuthz = "ext_authz",
        /// A filter that may refuse and that envinspect does not evaluate.
        Opaque = "opaque",
    }
}
