//! Envoy's matchers on a [`Context`]: RBAC permissions and principals, header, metadata and
//! route matches, and the matcher API's predicates — each as Envoy's source evaluates it
//! (`filters/common/rbac/matchers.cc`, `http/header_utility.cc`, `router/config_impl.cc`).

use serde_json::Value;

use super::context::{Context, HttpRequest, Tri};
use crate::model::authz::{
    ActionMatcher, InputMatch, MatchInput, OnMatch, Permission, Policy, Predicate, Principal,
    RbacAction,
};
use crate::model::cannot_tell::{CannotTell, Construct, Fact};
use crate::model::http::{
    HeaderMatch, HeaderRule, MetadataMatch, PathMatch, RouteMatch, ValueMatch,
};
use crate::model::ids::Cidr;
use crate::model::tls::StringMatch;

pub(super) fn policy(p: &Policy, c: &Context) -> Tri {
    let perms = Tri::any(p.permissions.iter().map(|x| permission(x, c)));
    let who = || Tri::any(p.principals.iter().map(|x| principal(x, c)));
    let cond = || match &p.condition {
        Some(_) => Tri::Unknown(CannotTell::Unevaluated(Construct::CelCondition {
            policy: p.name.clone(),
        })),
        None => Tri::Yes,
    };
    // Envoy: permissions, then principals, then the condition; each short-circuits.
    match perms {
        Tri::No => Tri::No,
        perms => Tri::all([perms, who(), cond()]),
    }
}

pub(super) fn permission(p: &Permission, c: &Context) -> Tri {
    match p {
        Permission::Any => Tri::Yes,
        Permission::And(xs) => Tri::all(xs.iter().map(|x| permission(x, c))),
        Permission::Or(xs) => Tri::any(xs.iter().map(|x| permission(x, c))),
        Permission::Not(x) => permission(x, c).negate(),
        Permission::Header(h) => header(h, c.http.as_ref()),
        Permission::UrlPath(m) => Tri::of(c.http.as_ref().is_some_and(|h| m.matches(h.url_path()))),
        Permission::DestinationIp(r) => ip(r, c.destination_ip, Fact::DestinationIp),
        Permission::DestinationPort(p) => Tri::of(c.destination_port == *p),
        Permission::DestinationPortRange(a, b) => {
            Tri::of(*a <= c.destination_port && c.destination_port < *b)
        }
        Permission::RequestedServerName(m) => match &c.sni {
            Some(s) => Tri::of(m.matches(s)),
            None => Tri::Unknown(CannotTell::NotGiven(Fact::Sni)),
        },
        Permission::Metadata(m) => metadata(m, c),
        Permission::Unsupported(what) => {
            Tri::Unknown(CannotTell::Unevaluated(Construct::Permission(what.clone())))
        }
    }
}

pub(super) fn principal(p: &Principal, c: &Context) -> Tri {
    match p {
        Principal::Any => Tri::Yes,
        Principal::And(xs) => Tri::all(xs.iter().map(|x| principal(x, c))),
        Principal::Or(xs) => Tri::any(xs.iter().map(|x| principal(x, c))),
        Principal::Not(x) => principal(x, c).negate(),
        Principal::Authenticated(m) => {
            // No TLS: never. TLS without a matcher: any peer, even one without a certificate.
            if !c.tls {
                return Tri::No;
            }
            let Some(m) = m else { return Tri::Yes };
            let Some(peer) = &c.peer else {
                return Tri::No;
            };
            // URI SANs, then DNS SANs, then the subject.
            let names = peer.uri_sans.iter().chain(&peer.dns_sans);
            Tri::of(names.clone().any(|n| m.matches(n)) || m.matches(&peer.subject))
        }
        Principal::DirectRemoteIp(r) | Principal::RemoteIp(r) => ip(r, c.source_ip, Fact::SourceIp),
        Principal::Header(h) => header(h, c.http.as_ref()),
        Principal::UrlPath(m) => Tri::of(c.http.as_ref().is_some_and(|h| m.matches(h.url_path()))),
        Principal::Metadata(m) => metadata(m, c),
        Principal::FilterState { key, value } => match c.filter_state.get(key) {
            Some(v) => Tri::of(value.matches(v)),
            None => Tri::Unknown(CannotTell::FilterState { key: key.clone() }),
        },
        Principal::Unsupported(what) => {
            Tri::Unknown(CannotTell::Unevaluated(Construct::Principal(what.clone())))
        }
    }
}

fn ip(r: &Cidr, addr: Option<std::net::IpAddr>, fact: Fact) -> Tri {
    match addr {
        Some(a) => Tri::of(r.contains(a)),
        None => Tri::Unknown(CannotTell::NotGiven(fact)),
    }
}

/// Envoy's `HeaderMatcher`: an absent header never matches (inverted or not) unless it is
/// treated as empty; `present_match` compares presence itself.
pub(super) fn header(h: &HeaderMatch, req: Option<&HttpRequest>) -> Tri {
    let value = req.and_then(|r| r.header(&h.name));
    if let HeaderRule::Present { present } = h.rule {
        return Tri::of((value.is_some() == present) != h.invert);
    }
    let value = match value {
        Some(v) => v,
        None if h.missing_as_empty => String::new(),
        None => return Tri::No,
    };
    let m = match &h.rule {
        HeaderRule::String(s) => s.matches(&value),
        HeaderRule::Range { start, end } => {
            value.parse::<i64>().is_ok_and(|v| *start <= v && v < *end)
        }
        // Answered before the value was needed.
        HeaderRule::Present { .. } => false,
    };
    Tri::of(m != h.invert)
}

pub(super) fn metadata(m: &MetadataMatch, c: &Context) -> Tri {
    let v = c.metadata_value(&m.filter, &m.path);
    Tri::of(value(&m.value, v) != m.invert)
}

fn value(m: &ValueMatch, v: Option<&Value>) -> bool {
    match m {
        ValueMatch::Null => matches!(v, Some(Value::Null)),
        ValueMatch::Double { exact, range } => {
            let Some(n) = v.and_then(Value::as_f64) else {
                return false;
            };
            let f = |s: &String| s.parse::<f64>().ok();
            match (exact, range) {
                (Some(e), _) => f(e) == Some(n),
                (None, Some((a, b))) => f(a).is_some_and(|a| a <= n) && f(b).is_some_and(|b| n < b),
                (None, None) => false,
            }
        }
        ValueMatch::String(s) => v.and_then(Value::as_str).is_some_and(|x| s.matches(x)),
        ValueMatch::Bool { value } => v.and_then(Value::as_bool) == Some(*value),
        ValueMatch::Present { present } => v.is_some() == *present,
        ValueMatch::List(inner) => match v {
            Some(Value::Array(xs)) => xs.iter().any(|x| value(inner, Some(x))),
            _ => false,
        },
        ValueMatch::Or(ms) => ms.iter().any(|m| value(m, v)),
    }
}

/// A route's (or a JWT rule's) match on a request.
pub(super) fn route(m: &RouteMatch, req: &HttpRequest) -> Tri {
    let path = req.url_path();
    let fold = |s: &str| {
        if m.case_sensitive {
            s.to_string()
        } else {
            s.to_ascii_lowercase()
        }
    };
    let p = match &m.path {
        PathMatch::Prefix(pre) => Tri::of(fold(path).starts_with(&fold(pre))),
        PathMatch::Exact(e) => Tri::of(fold(path) == fold(e)),
        PathMatch::SeparatedPrefix(pre) => {
            let (path, pre) = (fold(path), fold(pre));
            Tri::of(
                path.strip_prefix(&pre)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            )
        }
        PathMatch::Regex(r) => Tri::of(
            StringMatch {
                how: crate::model::tls::MatchKind::Regex,
                value: r.clone(),
                ignore_case: false,
            }
            .matches(path),
        ),
        PathMatch::Connect => Tri::of(req.method == "CONNECT"),
        PathMatch::Other(name) => Tri::Unknown(CannotTell::Unevaluated(Construct::RoutePathMatch(
            name.clone(),
        ))),
    };
    let grpc = m.grpc.then(|| {
        Tri::of(
            req.header("content-type")
                .is_some_and(|c| c.starts_with("application/grpc")),
        )
    });
    let headers = m.headers.iter().map(|h| header(h, Some(req)));
    let query = m.query.iter().map(|q| {
        let v = req.query_param(&q.name);
        Tri::of(match (&q.value, v) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(s), Some(v)) => s.matches(&v),
        })
    });
    // What envinspect cannot evaluate is unknown; what it can still rules the route out.
    let unmodelled = m
        .unmodelled
        .iter()
        .map(|u| Tri::Unknown(CannotTell::Unevaluated(Construct::RouteMatch(u.clone()))));
    Tri::all(
        std::iter::once(p)
            .chain(grpc)
            .chain(headers)
            .chain(query)
            .chain(unmodelled),
    )
}

/// What the matcher form decided: the action named (its name is the policy id), or no match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MatcherOutcome {
    Action { name: String, action: RbacAction },
    NoMatch,
    Unknown(CannotTell),
}

pub(super) fn action_matcher(m: &ActionMatcher, c: &Context) -> MatcherOutcome {
    if let Some(u) = &m.unsupported {
        return MatcherOutcome::Unknown(CannotTell::Unevaluated(Construct::MatcherForm(u.clone())));
    }
    for f in &m.matchers {
        match predicate(&f.predicate, c) {
            Tri::No => continue,
            Tri::Unknown(r) => return MatcherOutcome::Unknown(r),
            Tri::Yes => match on_match(&f.on_match, c) {
                // A nested matcher that matched nothing: the next field matcher is tried.
                MatcherOutcome::NoMatch => continue,
                o => return o,
            },
        }
    }
    match &m.on_no_match {
        Some(o) => on_match(o, c),
        None => MatcherOutcome::NoMatch,
    }
}

fn on_match(o: &OnMatch, c: &Context) -> MatcherOutcome {
    match o {
        OnMatch::Action { name, action, .. } => MatcherOutcome::Action {
            name: name.clone(),
            action: *action,
        },
        OnMatch::Matcher { matcher } => action_matcher(matcher, c),
        OnMatch::Unsupported { type_url } => {
            MatcherOutcome::Unknown(CannotTell::Unevaluated(Construct::MatcherAction {
                type_url: type_url.clone(),
            }))
        }
    }
}

fn predicate(p: &Predicate, c: &Context) -> Tri {
    match p {
        Predicate::Single { input, matcher } => {
            let value = match input_value(input, c) {
                Ok(v) => v,
                Err(reason) => return Tri::Unknown(reason),
            };
            // No data for the input: the predicate does not match.
            let Some(value) = value else { return Tri::No };
            match matcher {
                InputMatch::String(s) => Tri::of(s.matches(&value)),
                InputMatch::Ip(ranges) => match value.parse() {
                    Ok(ip) => Tri::of(ranges.iter().any(|r| r.contains(ip))),
                    Err(_) => Tri::No,
                },
                InputMatch::Unsupported(what) => Tri::Unknown(CannotTell::Unevaluated(
                    Construct::InputMatcher(what.clone()),
                )),
            }
        }
        Predicate::And { predicates } => Tri::all(predicates.iter().map(|p| predicate(p, c))),
        Predicate::Or { predicates } => Tri::any(predicates.iter().map(|p| predicate(p, c))),
        Predicate::Not { predicate: p } => predicate(p, c).negate(),
    }
}

fn input_value(i: &MatchInput, c: &Context) -> Result<Option<String>, CannotTell> {
    let need = |v: Option<String>, fact| v.map(Some).ok_or(CannotTell::NotGiven(fact));
    Ok(match i {
        MatchInput::SourceIp | MatchInput::DirectSourceIp => {
            need(c.source_ip.map(|a| a.to_string()), Fact::SourceIp)?
        }
        MatchInput::DestinationIp => {
            need(c.destination_ip.map(|a| a.to_string()), Fact::DestinationIp)?
        }
        MatchInput::DestinationPort => Some(c.destination_port.to_string()),
        MatchInput::SourcePort => return Err(CannotTell::NotGiven(Fact::SourcePort)),
        MatchInput::ServerName => need(c.sni.clone(), Fact::Sni)?,
        MatchInput::TransportProtocol => Some(if c.tls { "tls" } else { "raw_buffer" }.into()),
        MatchInput::ApplicationProtocol => Some(c.alpn.join(",")),
        MatchInput::RequestHeader(h) => c.http.as_ref().and_then(|r| r.header(h)),
        MatchInput::QueryParameter(q) => c.http.as_ref().and_then(|r| r.query_param(q)),
        MatchInput::UriSan => c
            .peer
            .as_ref()
            .map(|p| p.uri_sans.join(","))
            .filter(|s| !s.is_empty()),
        MatchInput::DnsSan => c
            .peer
            .as_ref()
            .map(|p| p.dns_sans.join(","))
            .filter(|s| !s.is_empty()),
        MatchInput::Subject => c.peer.as_ref().map(|p| p.subject.clone()),
        MatchInput::Unsupported(t) => {
            return Err(CannotTell::Unevaluated(Construct::MatchInput {
                type_url: t.clone(),
            }))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::context::PeerCert;
    use crate::model::tls::MatchKind;

    fn ctx() -> Context {
        Context {
            tls: true,
            peer: Some(PeerCert {
                uri_sans: vec!["spiffe://cluster.local/ns/a/sa/b".into()],
                ..Default::default()
            }),
            source_ip: None,
            destination_ip: None,
            destination_port: 8080,
            sni: None,
            alpn: vec![],
            http: Some(HttpRequest {
                method: "GET".into(),
                path: "/api/x?y=1".into(),
                authority: "svc".into(),
                headers: Default::default(),
            }),
            metadata: Default::default(),
            filter_state: Default::default(),
        }
    }

    #[test]
    fn route_matches_on_grpc_and_say_what_they_cannot_evaluate() {
        let req = ctx().http.unwrap();
        let mut m = RouteMatch::any();
        m.grpc = true;
        assert_eq!(route(&m, &req), Tri::No, "not a gRPC request");
        let mut grpc = req.clone();
        grpc.headers
            .insert("content-type".into(), vec!["application/grpc+proto".into()]);
        assert_eq!(route(&m, &grpc), Tri::Yes);
        let mut fraction = RouteMatch::any();
        fraction.unmodelled = vec!["a runtime fraction".into()];
        assert!(
            matches!(route(&fraction, &req), Tri::Unknown(CannotTell::Unevaluated(Construct::RouteMatch(u))) if u.contains("runtime"))
        );
        fraction.path = PathMatch::Prefix("/other".into());
        assert_eq!(
            route(&fraction, &req),
            Tri::No,
            "the path still rules it out"
        );
    }

    #[test]
    fn unknowns_do_not_hide_certain_answers() {
        let c = ctx();
        let needs_ip = Principal::DirectRemoteIp("10.0.0.0/8".parse().unwrap());
        let spiffe =
            Principal::Authenticated(Some(StringMatch::exact("spiffe://cluster.local/ns/a/sa/b")));
        assert_eq!(
            principal(&Principal::Or(vec![needs_ip.clone(), spiffe.clone()]), &c),
            Tri::Yes
        );
        assert!(matches!(
            principal(&Principal::And(vec![needs_ip.clone(), spiffe]), &c),
            Tri::Unknown(_)
        ));
        let no = Principal::Authenticated(Some(StringMatch::exact("spiffe://x/y")));
        assert_eq!(principal(&Principal::And(vec![needs_ip, no]), &c), Tri::No);
    }

    #[test]
    fn url_path_drops_the_query_and_header_path_keeps_it() {
        let c = ctx();
        let exact = |v: &str| StringMatch::exact(v);
        assert_eq!(
            permission(&Permission::UrlPath(exact("/api/x")), &c),
            Tri::Yes
        );
        let h = HeaderMatch {
            name: ":path".into(),
            rule: HeaderRule::String(exact("/api/x")),
            invert: false,
            missing_as_empty: false,
        };
        assert_eq!(permission(&Permission::Header(h), &c), Tri::No);
    }

    #[test]
    fn authenticated_needs_tls() {
        let mut c = ctx();
        c.tls = false;
        c.peer = None;
        assert_eq!(principal(&Principal::Authenticated(None), &c), Tri::No);
        c.tls = true;
        assert_eq!(principal(&Principal::Authenticated(None), &c), Tri::Yes);
        let m = StringMatch {
            how: MatchKind::Prefix,
            value: "spiffe://".into(),
            ignore_case: false,
        };
        assert_eq!(principal(&Principal::Authenticated(Some(m)), &c), Tri::No);
    }
}
