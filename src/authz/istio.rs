//! Reading meshes' names on top of Envoy's: Istio's policy names
//! (`ns[NS]-policy[NAME]-rule[N]`, with CUSTOM's `istio-ext-authz…` prefix), its dry-run stat
//! prefixes, and the short "who / what" texts of principals and permissions (SPIFFE IDs,
//! namespaces from `.*/ns/NS/.*`, request principals from JWT metadata). Nothing is evaluated
//! differently for a mesh: this only names things.

use crate::model::authz::{Permission, Principal};
use crate::model::http::{HeaderRule, MetadataMatch, ValueMatch};
use crate::model::tls::{MatchKind, StringMatch};

/// An Istio AuthorizationPolicy a policy name comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IstioPolicy {
    pub namespace: String,
    pub name: String,
    pub rule: Option<usize>,
}

impl IstioPolicy {
    /// `name.namespace`, as istioctl prints it.
    pub(crate) fn reference(&self) -> String {
        format!("{}.{}", self.name, self.namespace)
    }
}

/// `ns[foo]-policy[httpbin]-rule[0]`, also behind a prefix (`istio-ext-authz-…`) or before a
/// suffix (`…-deny-due-to-bad-CUSTOM-action`).
pub(crate) fn parse(policy: &str) -> Option<IstioPolicy> {
    let at = policy.find("ns[")?;
    let rest = &policy[at + 3..];
    let (namespace, rest) = rest.split_once("]-policy[")?;
    let (name, rule) = match rest.rsplit_once("]-rule[") {
        Some((n, r)) => (n, r.split_once(']').and_then(|(r, _)| r.parse().ok())),
        None => (rest.rsplit_once(']')?.0, None),
    };
    if namespace.is_empty() || name.is_empty() || namespace.contains(']') {
        return None;
    }
    Some(IstioPolicy {
        namespace: namespace.into(),
        name: name.into(),
        rule,
    })
}

pub(crate) fn policy_ref(policy: &str) -> Option<String> {
    parse(policy).map(|p| p.reference())
}

/// Shadow rules Istio uses for dry-run policies (the stat prefix says so).
pub(crate) fn is_dry_run_prefix(prefix: &str) -> bool {
    prefix.starts_with("istio_dry_run_")
}

/// Shadow rules that only select requests for Istio's CUSTOM ext_authz.
pub(crate) fn is_ext_authz_selector(policy: &str) -> bool {
    policy.starts_with("istio-ext-authz")
}

fn string(m: &StringMatch) -> String {
    let v = &m.value;
    match m.how {
        MatchKind::Exact => v.clone(),
        MatchKind::Prefix => format!("{v}*"),
        MatchKind::Suffix => format!("*{v}"),
        MatchKind::Contains => format!("*{v}*"),
        MatchKind::Regex => match v.as_str() {
            ".+" | ".*" => "*".into(),
            _ => match namespace_of(v) {
                Some(ns) => format!("namespace {ns}"),
                None => format!("~{v}"),
            },
        },
    }
}

/// Istio writes `namespaces: [NS]` as the regex `.*/ns/NS/.*`.
fn namespace_of(re: &str) -> Option<&str> {
    let ns = re.strip_prefix(".*/ns/")?.strip_suffix("/.*")?;
    (!ns.is_empty() && !ns.contains(['/', '*', '(', '['])).then_some(ns)
}

/// Short text of who a principal lets in.
pub(crate) fn who(p: &Principal) -> String {
    match p {
        Principal::Any => "anyone".into(),
        Principal::And(xs) if xs.len() == 1 => who(&xs[0]),
        Principal::Or(xs) if xs.len() == 1 => who(&xs[0]),
        Principal::And(xs) => join(xs.iter().map(who), " and "),
        Principal::Or(xs) => join(xs.iter().map(who), " or "),
        Principal::Not(x) => format!("not {}", who(x)),
        Principal::Authenticated(None) => "any authenticated peer".into(),
        Principal::Authenticated(Some(m)) => format!("peer {}", string(m)),
        Principal::DirectRemoteIp(c) => format!("source {c}"),
        Principal::RemoteIp(c) => format!("remote {c}"),
        Principal::Header(h) => format!("header {h}"),
        Principal::UrlPath(m) => format!("path {}", string(m)),
        Principal::Metadata(m) => metadata(m),
        Principal::FilterState { key, value } => format!("{key} {}", string(value)),
        Principal::Unsupported(t) => format!("({t})"),
    }
}

/// Short text of what a permission lets a caller do.
pub(crate) fn what(p: &Permission) -> String {
    match p {
        Permission::Any => "anything".into(),
        Permission::And(xs) if xs.len() == 1 => what(&xs[0]),
        Permission::Or(xs) if xs.len() == 1 => what(&xs[0]),
        Permission::And(xs) => join(xs.iter().map(what), " and "),
        Permission::Or(xs) => join(xs.iter().map(what), " or "),
        Permission::Not(x) => format!("not {}", what(x)),
        Permission::Header(h) => {
            let value = match &h.rule {
                HeaderRule::String(m) => string(m),
                _ => return format!("header {h}"),
            };
            let inv = if h.invert { "not " } else { "" };
            match h.name.as_str() {
                ":method" => format!("{inv}method {value}"),
                ":authority" => format!("{inv}host {value}"),
                ":path" => format!("{inv}path {value}"),
                _ => format!("header {h}"),
            }
        }
        Permission::UrlPath(m) => format!("path {}", string(m)),
        Permission::DestinationIp(c) => format!("to {c}"),
        Permission::DestinationPort(p) => format!("port {p}"),
        Permission::DestinationPortRange(a, b) => format!("ports {a}-{}", b.saturating_sub(1)),
        Permission::RequestedServerName(m) => format!("sni {}", string(m)),
        Permission::Metadata(m) => metadata(m),
        Permission::Unsupported(t) => format!("({t})"),
    }
}

fn metadata(m: &MetadataMatch) -> String {
    let inv = if m.invert { "not " } else { "" };
    let value = match &m.value {
        ValueMatch::String(s) => string(s),
        other => other.to_string(),
    };
    let path = m.path.join(".");
    match (m.filter.as_str(), m.path.last().map(String::as_str)) {
        // Istio's requestPrincipals: the verified token's iss and sub.
        ("envoy.filters.http.jwt_authn", Some("iss")) => format!("{inv}token issuer {value}"),
        ("envoy.filters.http.jwt_authn", Some("sub")) => format!("{inv}token subject {value}"),
        ("envoy.filters.http.jwt_authn", _) => format!("{inv}token claim {path} {value}"),
        ("istio_authn", Some("request.auth.principal")) => {
            format!("{inv}request principal {value}")
        }
        ("istio_authn", Some("source.principal")) => format!("{inv}peer {value}"),
        _ => format!("{inv}{}[{path}] {value}", m.filter),
    }
}

fn join(parts: impl Iterator<Item = String>, sep: &str) -> String {
    format!("({})", parts.collect::<Vec<_>>().join(sep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_names() {
        let p = parse("ns[foo]-policy[httpbin-deny]-rule[0]").unwrap();
        assert_eq!(
            (p.reference(), p.rule),
            ("httpbin-deny.foo".to_string(), Some(0))
        );
        let p = parse("istio-ext-authz-ns[default]-policy[ext-authz]-rule[2]").unwrap();
        assert_eq!(
            (p.reference(), p.rule),
            ("ext-authz.default".to_string(), Some(2))
        );
        assert_eq!(parse("ns[a]-policy[b]").unwrap().rule, None);
        let p = parse(
            "istio-ext-authz-another-ns[foo]-policy[h-2]-rule[0]-deny-due-to-bad-CUSTOM-action",
        )
        .unwrap();
        assert_eq!((p.reference(), p.rule), ("h-2.foo".to_string(), Some(0)));
        for bad in [
            "consul-intentions-layer4",
            "ns[]-policy[x]-rule[0]",
            "policy[x]",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn namespaces_read_from_their_regex() {
        assert_eq!(namespace_of(".*/ns/foo/.*"), Some("foo"));
        assert_eq!(namespace_of(".*/ns/.*/.*"), None);
    }
}
