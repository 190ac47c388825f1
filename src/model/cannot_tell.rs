//! Why an answer is not a plain yes or no: what envinspect cannot tell about Envoy's decision
//! (a fact not given, configuration it does not evaluate, a reference the configuration leaves
//! dangling, state only Envoy has at run time), and why no listener takes a connection.
//! Callers and tests match on the kind; `Display` writes the one sentence output shows, so the
//! JSON `reason` stays a string.

use std::fmt;
use std::net::IpAddr;

use super::names::ListenerName;

/// A fact of the connection or request the question did not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Fact {
    /// The client's source IP.
    SourceIp,
    /// The destination IP.
    DestinationIp,
    /// The client's source port.
    SourcePort,
    /// The SNI the client sends.
    Sni,
    /// The ALPN protocols the client offers.
    Alpn,
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fact::SourceIp => "the client's source IP (give --source-ip)",
            Fact::DestinationIp => "the destination IP (give --destination-ip)",
            // No flag: Envoy's ephemeral port is not something a question can fix.
            Fact::SourcePort => "the client's source port",
            Fact::Sni => "the SNI the client sends (give --sni)",
            Fact::Alpn => "the ALPN the client offers (give --alpn)",
        })
    }
}

/// Configuration envinspect reads but does not evaluate, by what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Construct {
    /// An RBAC policy's CEL `condition`.
    CelCondition {
        /// The policy's name.
        policy: String,
    },
    /// An RBAC permission or principal of a kind not modelled (its proto field name).
    Permission(String),
    /// An RBAC principal of a kind not modelled (its proto field name).
    Principal(String),
    /// A route's path specifier or other match criterion not modelled.
    RoutePathMatch(String),
    /// A route match criterion not modelled.
    RouteMatch(String),
    /// An RBAC `matcher` tree in a form not modelled, an action of an unknown type, an input
    /// matcher or input of a kind not modelled.
    MatcherForm(String),
    /// A matcher action of a type not modelled.
    MatcherAction {
        /// The action's type URL.
        type_url: String,
    },
    /// An input matcher of a kind not modelled.
    InputMatcher(String),
    /// A matcher input of a type not modelled.
    MatchInput {
        /// The input's type URL.
        type_url: String,
    },
    /// A listener `filter_chain_matcher` that reads an input, uses a matcher, or gives an
    /// action not evaluated for chains.
    ChainInput(String),
    /// A matcher a `filter_chain_matcher` uses that is not evaluated for chains.
    ChainMatcher(String),
    /// An action of a `filter_chain_matcher` that is not a chain name.
    ChainAction(String),
    /// A filter that may refuse the request or connection, not evaluated.
    MayDeny(Box<MayDeny>),
}

/// A filter that may refuse and is not evaluated: its name, its configuration's type, and why
/// it may.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MayDeny {
    /// The filter's name.
    pub filter: String,
    /// Its configuration's type.
    pub type_name: String,
    /// What it may refuse, and when.
    pub may: String,
}

impl fmt::Display for Construct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Construct::CelCondition { policy } => write!(
                f,
                "policy {policy} has a CEL condition, which envinspect does not evaluate"
            ),
            Construct::Permission(w) => write!(f, "a {w} permission"),
            Construct::Principal(w) => write!(f, "a {w} principal"),
            Construct::RoutePathMatch(w) => write!(f, "a route path match `{w}`"),
            Construct::RouteMatch(w) => write!(f, "a route match on {w}"),
            Construct::MatcherForm(w) => write!(f, "an RBAC matcher in {w} form"),
            Construct::MatcherAction { type_url } => {
                write!(f, "a matcher action of type {type_url}")
            }
            Construct::InputMatcher(w) => write!(f, "a {w} matcher"),
            Construct::MayDeny(m) => write!(
                f,
                "filter {} ({}: {}) may refuse it, and envinspect does not evaluate it",
                m.filter, m.type_name, m.may
            ),
            Construct::MatchInput { type_url } => write!(f, "a matcher input of type {type_url}"),
            Construct::ChainInput(w) => write!(
                f,
                "filter_chain_matcher reads {w}, which envinspect does not evaluate for chains"
            ),
            Construct::ChainMatcher(w) => write!(
                f,
                "filter_chain_matcher uses {w}, which envinspect does not evaluate"
            ),
            Construct::ChainAction(w) => {
                write!(
                    f,
                    "filter_chain_matcher gives {w}, which is not a chain name"
                )
            }
        }
    }
}

/// A name the configuration cites and does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dangling {
    /// `filter_chain_matcher` names a chain the listener does not have.
    Chain {
        /// The chain's name.
        name: String,
        /// The listener that lacks it.
        listener: ListenerName,
    },
    /// A route's per-filter config names a requirement the jwt_authn filter does not define.
    RouteRequirement {
        /// The requirement's name.
        name: String,
        /// The jwt_authn filter's name.
        filter: String,
    },
    /// A `requirement_name` missing from the filter's `requirement_map`.
    Requirement {
        /// The requirement's name.
        name: String,
    },
    /// A requirement naming a provider the filter does not define.
    Provider {
        /// The provider's name.
        name: String,
    },
}

impl fmt::Display for Dangling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dangling::Chain { name, listener } => write!(
                f,
                "filter_chain_matcher names chain {name}, which {listener} does not have"
            ),
            Dangling::RouteRequirement { name, filter } => write!(
                f,
                "the route names requirement {name}, which {filter} does not define"
            ),
            Dangling::Requirement { name } => {
                write!(f, "requirement {name} is not in the requirement map")
            }
            Dangling::Provider { name } => write!(f, "provider {name} is not defined"),
        }
    }
}

/// Why a JWT provider's signature cannot be checked offline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeysProblem {
    /// Symmetric (HMAC) keys.
    Hmac,
    /// The inline JWKS does not read: the parser's words.
    Unreadable(String),
    /// No JWKS at all.
    None,
}

/// Where in the evaluation an unknown arose, which the sentence names first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// Choosing the filter chain.
    FilterChain,
    /// Choosing the route.
    Route,
    /// Choosing the JWT rule.
    JwtRule,
    /// An RBAC policy, by name.
    Policy(String),
    /// An HTTP or network filter, by name.
    Filter(String),
}

/// What envinspect cannot tell, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CannotTell {
    /// A fact the question did not give.
    NotGiven(Fact),
    /// Configuration envinspect does not evaluate.
    Unevaluated(Construct),
    /// A name the configuration cites and does not define.
    Dangling(Dangling),
    /// Filter state another filter sets at run time.
    FilterState {
        /// The filter state key.
        key: String,
    },
    /// A JWT provider whose signature cannot be checked here.
    Keys {
        /// The provider's name.
        provider: String,
        /// Why its keys cannot be checked.
        problem: KeysProblem,
    },
    /// The weighted clusters of the chosen route configure a filter differently, and which
    /// cluster a request gets is random.
    WeightedClustersDiffer {
        /// The filter's name.
        filter: String,
    },
    /// A principal that is about the request, not the peer (asked who may call whom from the
    /// peer's identity alone).
    NotAboutPeer {
        /// The principal, as written.
        principal: String,
    },
    /// An HTTP filter met a request given as TCP (`--tcp`).
    NoHttpRequest {
        /// The HTTP filter's name.
        filter: String,
    },
    /// An ext_authz server's answer decides.
    ExternalServer {
        /// The ext_authz server (its cluster or URI).
        server: String,
    },
    /// A DENY policy matched, but an earlier one could not be evaluated: Envoy names the first
    /// match, which may be that one.
    EarlierPolicy,
    /// The inner reason, where it arose.
    In {
        /// Where the inner reason arose.
        place: Place,
        /// The reason.
        inner: Box<CannotTell>,
    },
}

impl CannotTell {
    /// This reason, as arising at `place`.
    pub fn at(self, place: Place) -> CannotTell {
        CannotTell::In {
            place,
            inner: Box::new(self),
        }
    }

    /// The innermost reason, without the places it was passed through.
    pub fn root(&self) -> &CannotTell {
        match self {
            CannotTell::In { inner, .. } => inner.root(),
            other => other,
        }
    }
}

impl fmt::Display for CannotTell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CannotTell::NotGiven(fact) => fact.fmt(f),
            CannotTell::Unevaluated(c) => c.fmt(f),
            CannotTell::Dangling(d) => d.fmt(f),
            CannotTell::FilterState { key } => {
                write!(
                    f,
                    "filter state {key}, which another filter sets at run time"
                )
            }
            CannotTell::Keys { provider, problem } => match problem {
                KeysProblem::Hmac => write!(
                    f,
                    "provider {provider}'s keys are of a kind envinspect cannot check (HMAC)"
                ),
                KeysProblem::Unreadable(p) => {
                    write!(f, "provider {provider}'s inline JWKS does not read: {p}")
                }
                KeysProblem::None => write!(f, "provider {provider} has no JWKS"),
            },
            CannotTell::WeightedClustersDiffer { filter } => write!(
                f,
                "the weighted clusters of the route configure {filter} differently"
            ),
            CannotTell::NotAboutPeer { principal } => {
                write!(f, "{principal} is not about the peer")
            }
            CannotTell::NoHttpRequest { filter } => {
                write!(f, "{filter} without an HTTP request")
            }
            CannotTell::ExternalServer { server } => {
                write!(f, "the external authorization server {server} decides")
            }
            CannotTell::EarlierPolicy => {
                f.write_str("an earlier policy could not be evaluated: Envoy may name it instead")
            }
            CannotTell::In { place, inner } => match place {
                Place::FilterChain => write!(f, "which filter chain applies depends on {inner}"),
                Place::Route => write!(f, "which route applies depends on {inner}"),
                Place::JwtRule => write!(f, "which JWT rule applies depends on {inner}"),
                Place::Policy(p) => write!(f, "policy {p}: {inner}"),
                Place::Filter(n) => write!(f, "{n}: {inner}"),
            },
        }
    }
}

/// Why no listener takes a connection (the connection is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoListener {
    /// `--listener NAME` names none.
    Named(ListenerName),
    /// A listener is on the port but does not bind, and no capture listener hands it
    /// connections.
    NotBound {
        /// The listener.
        listener: ListenerName,
        /// Its port.
        port: u32,
    },
    /// None on the port (at the address, when one was given), and no capture listener.
    None {
        /// The destination address, when given.
        ip: Option<IpAddr>,
        /// The destination port.
        port: u32,
    },
    /// The listener on the port is only warming (waiting for RDS or SDS): it accepts nothing yet.
    Warming {
        /// The listener.
        listener: ListenerName,
        /// Its port.
        port: u32,
    },
    /// The listener on the port was removed and only drains its open connections: new ones are
    /// refused (measured on Envoy 1.40).
    Draining {
        /// The listener.
        listener: ListenerName,
        /// Its port.
        port: u32,
    },
}

impl fmt::Display for NoListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoListener::Named(name) => write!(f, "no listener named {name}"),
            NoListener::NotBound { listener, port } => write!(
                f,
                "listener {listener} is on port {port} but does not bind (bind_to_port false): it only takes connections a capture listener hands it, and this proxy has none"
            ),
            NoListener::Warming { listener, port } => write!(
                f,
                "listener {listener} on port {port} is still warming (waiting for its RDS route configuration or SDS secrets): it accepts no connection yet, so the connection is refused"
            ),
            NoListener::Draining { listener, port } => write!(
                f,
                "listener {listener} on port {port} is draining (removed by an update, it only finishes its open connections): a new connection is refused"
            ),
            NoListener::None { ip: Some(ip), port } => write!(
                f,
                "no listener is bound to {ip}:{port} or to any address on port {port}, and no capture listener receives redirected connections"
            ),
            NoListener::None { ip: None, port } => write!(
                f,
                "no listener on port {port}, and no capture listener receives redirected connections"
            ),
        }
    }
}

/// Why a decision is what it is, where output says so.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// What envinspect cannot tell.
    CannotTell(CannotTell),
    /// Why no listener takes the connection.
    NoListener(NoListener),
    /// No filter chain takes the connection, or its handshake fails: the evidence, in the
    /// words of the chain-selection steps.
    Refused(String),
    /// The pod's traffic redirection leaves the port alone (the annotation that says so): the
    /// connection goes straight to the application, past every listener and policy. `tls`: the
    /// client speaks TLS, which the application then receives.
    NotCaptured {
        /// The destination port.
        port: u32,
        /// The annotation that excludes it.
        why: String,
        /// Whether the client speaks TLS.
        tls: bool,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::CannotTell(c) => c.fmt(f),
            Reason::NoListener(n) => n.fmt(f),
            Reason::Refused(why) => f.write_str(why),
            Reason::NotCaptured { port, why, tls: false } => write!(
                f,
                "port {port} is not redirected to the proxy ({why}): the connection goes straight to the application, and no listener, mTLS or policy of the proxy applies"
            ),
            Reason::NotCaptured { port, why, tls: true } => write!(
                f,
                "port {port} is not redirected to the proxy ({why}): the application itself receives the client's TLS handshake; whether it accepts it is the application's to say (a mesh client's mTLS to a plaintext application fails)"
            ),
        }
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_nest_and_the_root_is_what_was_missing() {
        let u = CannotTell::NotGiven(Fact::SourceIp)
            .at(Place::Policy("ns[x]-policy[p]-rule[0]".into()))
            .at(Place::Filter("envoy.filters.http.rbac".into()));
        assert_eq!(
            u.to_string(),
            "envoy.filters.http.rbac: policy ns[x]-policy[p]-rule[0]: the client's source IP (give --source-ip)"
        );
        assert_eq!(u.root(), &CannotTell::NotGiven(Fact::SourceIp));
        let r = Reason::CannotTell(u);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::Value::String(r.to_string())
        );
    }

    #[test]
    fn no_listener_says_whether_an_address_was_given() {
        let at = NoListener::None {
            ip: Some("10.0.0.1".parse().unwrap()),
            port: 443,
        };
        assert!(at
            .to_string()
            .starts_with("no listener is bound to 10.0.0.1:443"));
        let any = NoListener::None {
            ip: None,
            port: 443,
        };
        assert!(any.to_string().starts_with("no listener on port 443,"));
    }
}
