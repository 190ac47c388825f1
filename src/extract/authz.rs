//! Authorization filters → the model: HTTP and network RBAC (rules, shadow rules, the matcher
//! form), jwt_authn (providers, rules, requirement map), ext_authz, and their per-route configs.
//! Matchers the model cannot express are kept as `Unsupported(type)`, never dropped, so an
//! evaluation can say it cannot tell instead of guessing.

// Deprecated fields (`source_ip`, `exact_match`, RBAC `metadata`…) are still what many dumps
// carry and what Envoy still honours: they are read, not skipped.
#![allow(deprecated)]

use std::collections::BTreeMap;

use envoy_types::pb::envoy::config::core::v3::{
    grpc_service::TargetSpecifier, http_uri::HttpUpstreamType, CidrRange, GrpcService,
    TypedExtensionConfig,
};
use envoy_types::pb::envoy::config::rbac::v3 as rbac;
use envoy_types::pb::envoy::config::route::v3::{
    header_matcher::HeaderMatchSpecifier, query_parameter_matcher::QueryParameterMatchSpecifier,
    route_match::PathSpecifier, FilterConfig, HeaderMatcher, RouteMatch as PbRouteMatch,
};
use envoy_types::pb::envoy::extensions::filters::http::ext_authz::v3 as http_ext_authz;
use envoy_types::pb::envoy::extensions::filters::http::jwt_authn::v3 as jwt;
use envoy_types::pb::envoy::extensions::filters::http::rbac::v3 as http_rbac;
use envoy_types::pb::envoy::extensions::filters::network::ext_authz::v3 as net_ext_authz;
use envoy_types::pb::envoy::extensions::filters::network::rbac::v3 as net_rbac;
use envoy_types::pb::envoy::extensions::matching::input_matchers::ip::v3::Ip;
use envoy_types::pb::envoy::r#type::matcher::v3 as m;
use envoy_types::pb::google::protobuf::Any;
use envoy_types::pb::xds::r#type::matcher::v3 as xm;

use super::tls::string_match;
use crate::decode::any::type_name;
use crate::decode::{typeurl, unpack, Unpacked};
use crate::model::authz::*;
use crate::model::http::{
    HeaderMatch, HeaderRule, MetadataMatch, PathMatch, QueryMatch, RouteMatch, ValueMatch,
};
use crate::model::ids::Cidr;
use crate::model::tls::{MatchKind, StringMatch};

/// An HTTP filter, if it is one that can refuse a request.
pub(crate) fn http_filter(
    name: &str,
    disabled: bool,
    any: Option<&Any>,
    pointer: String,
) -> Option<AuthzFilter> {
    let kind = if let Unpacked::Known(r) = unpack::<http_rbac::Rbac>(any) {
        AuthzKind::Rbac(Rbac {
            rules: engine(r.rules, r.matcher),
            shadow: engine(r.shadow_rules, r.shadow_matcher),
            stat_prefix: r.rules_stat_prefix,
            shadow_rules_stat_prefix: r.shadow_rules_stat_prefix,
        })
    } else if let Unpacked::Known(j) = unpack::<jwt::JwtAuthentication>(any) {
        AuthzKind::JwtAuthn(super::jwt::jwt_authn(j))
    } else if let Unpacked::Known(e) = unpack::<http_ext_authz::ExtAuthz>(any) {
        let server = match &e.services {
            Some(http_ext_authz::ext_authz::Services::GrpcService(g)) => grpc_target(g),
            Some(http_ext_authz::ext_authz::Services::HttpService(h)) => match &h.server_uri {
                Some(u) => http_uri(u),
                None => "http (no server_uri)".into(),
            },
            None => "no service".into(),
        };
        AuthzKind::ExtAuthz(ExtAuthz {
            server,
            failure_mode_allow: e.failure_mode_allow,
            filter_enabled_metadata: e.filter_enabled_metadata.map(metadata_match),
            filter_enabled_fraction: e.filter_enabled.is_some(),
            shadow_mode: e.shadow_mode,
        })
    } else {
        return None;
    };
    Some(AuthzFilter {
        name: name.to_string(),
        level: FilterLevel::Http,
        disabled,
        pointer,
        kind,
    })
}

/// A network filter, if it is one that can refuse a connection.
pub(crate) fn network_filter(
    name: &str,
    any: Option<&Any>,
    pointer: String,
) -> Option<AuthzFilter> {
    let kind = if let Unpacked::Known(r) = unpack::<net_rbac::Rbac>(any) {
        AuthzKind::Rbac(Rbac {
            rules: engine(r.rules, r.matcher),
            shadow: engine(r.shadow_rules, r.shadow_matcher),
            stat_prefix: r.stat_prefix,
            shadow_rules_stat_prefix: r.shadow_rules_stat_prefix,
        })
    } else if let Unpacked::Known(e) = unpack::<net_ext_authz::ExtAuthz>(any) {
        AuthzKind::ExtAuthz(ExtAuthz {
            server: e
                .grpc_service
                .as_ref()
                .map(grpc_target)
                .unwrap_or_else(|| "no service".into()),
            failure_mode_allow: e.failure_mode_allow,
            filter_enabled_metadata: e.filter_enabled_metadata.map(metadata_match),
            filter_enabled_fraction: false,
            shadow_mode: e.shadow_mode,
        })
    } else {
        return None;
    };
    Some(AuthzFilter {
        name: name.to_string(),
        level: FilterLevel::Network,
        disabled: false,
        pointer,
        kind,
    })
}

/// `typed_per_filter_config` entries that concern authorization filters.
pub(crate) fn per_filter<'a>(
    configs: impl IntoIterator<Item = (&'a String, &'a Any)>,
) -> BTreeMap<String, PerRouteAuthz> {
    configs
        .into_iter()
        .filter_map(|(name, any)| Some((name.clone(), per_route(any)?)))
        .collect()
}

fn per_route(any: &Any) -> Option<PerRouteAuthz> {
    if let Unpacked::Known(p) = unpack::<http_rbac::RbacPerRoute>(Some(any)) {
        let rbac = p.rbac.map(|r| {
            Box::new(Rbac {
                rules: engine(r.rules, r.matcher),
                shadow: engine(r.shadow_rules, r.shadow_matcher),
                stat_prefix: r.rules_stat_prefix,
                shadow_rules_stat_prefix: r.shadow_rules_stat_prefix,
            })
        });
        return Some(PerRouteAuthz::Rbac { rbac });
    }
    if let Unpacked::Known(p) = unpack::<jwt::PerRouteConfig>(Some(any)) {
        use jwt::per_route_config::RequirementSpecifier as R;
        let requirement = match p.requirement_specifier {
            Some(R::RequirementName(n)) => PerRouteJwt::RequirementName(n),
            Some(R::Disabled(_)) | None => PerRouteJwt::Disabled,
        };
        return Some(PerRouteAuthz::Jwt { requirement });
    }
    if let Unpacked::Known(p) = unpack::<http_ext_authz::ExtAuthzPerRoute>(Some(any)) {
        let disabled = matches!(
            p.r#override,
            Some(http_ext_authz::ext_authz_per_route::Override::Disabled(
                true
            ))
        );
        return Some(PerRouteAuthz::ExtAuthz { disabled });
    }
    if let Unpacked::Known(f) = unpack::<FilterConfig>(Some(any)) {
        // A wrapper: its inner config is what the filter reads; `disabled` turns it off here.
        if f.disabled {
            return Some(PerRouteAuthz::FilterConfig { disabled: true });
        }
        return f.config.as_ref().and_then(per_route);
    }
    None
}

fn engine(rules: Option<rbac::Rbac>, matcher: Option<xm::Matcher>) -> Option<RbacEngine> {
    // The matcher form wins over `rules` when both are set, as in Envoy.
    if let Some(mt) = matcher {
        return Some(RbacEngine::Matcher {
            matcher: action_matcher(mt),
        });
    }
    let r = rules?;
    let action = rbac_action(r.action);
    let mut policies: Vec<Policy> = r
        .policies
        .into_iter()
        .map(|(name, p)| Policy {
            name,
            permissions: p.permissions.into_iter().map(permission).collect(),
            principals: p.principals.into_iter().map(principal).collect(),
            condition: if p.condition.is_some() || p.checked_condition.is_some() {
                Some("CEL expression".into())
            } else {
                None
            },
        })
        .collect();
    // Envoy keeps policies in a std::map: tried in lexicographic order of their names.
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    Some(RbacEngine::Policies { action, policies })
}

fn rbac_action(a: i32) -> RbacAction {
    match rbac::rbac::Action::try_from(a) {
        Ok(rbac::rbac::Action::Deny) => RbacAction::Deny,
        Ok(rbac::rbac::Action::Log) => RbacAction::Log,
        _ => RbacAction::Allow,
    }
}

fn permission(p: rbac::Permission) -> Permission {
    use rbac::permission::Rule;
    match p.rule {
        None => Permission::Unsupported("empty permission".into()),
        Some(Rule::Any(true)) => Permission::Any,
        Some(Rule::Any(false)) => Permission::Unsupported("any: false".into()),
        Some(Rule::AndRules(s)) => Permission::And(s.rules.into_iter().map(permission).collect()),
        Some(Rule::OrRules(s)) => Permission::Or(s.rules.into_iter().map(permission).collect()),
        Some(Rule::NotRule(b)) => Permission::Not(Box::new(permission(*b))),
        Some(Rule::Header(h)) => match header_match(h) {
            Some(h) => Permission::Header(h),
            None => Permission::Unsupported("header matcher".into()),
        },
        Some(Rule::UrlPath(pm)) => match path_matcher(pm) {
            Some(s) => Permission::UrlPath(s),
            None => Permission::Unsupported("url_path".into()),
        },
        Some(Rule::DestinationIp(c)) => match cidr(&c) {
            Some(c) => Permission::DestinationIp(c),
            None => Permission::Unsupported(format!("destination_ip {}", c.address_prefix)),
        },
        Some(Rule::DestinationPort(p)) => Permission::DestinationPort(p),
        Some(Rule::DestinationPortRange(r)) => {
            Permission::DestinationPortRange(r.start.max(0) as u32, r.end.max(0) as u32)
        }
        Some(Rule::RequestedServerName(s)) => match string_match(s) {
            Some(s) => Permission::RequestedServerName(s),
            None => Permission::Unsupported("requested_server_name".into()),
        },
        Some(Rule::Metadata(md)) => Permission::Metadata(metadata_match(md)),
        Some(Rule::Matcher(e)) => Permission::Unsupported(extension_type(&e)),
        Some(Rule::UriTemplate(e)) => Permission::Unsupported(extension_type(&e)),
        Some(Rule::SourcedMetadata(_)) => Permission::Unsupported("sourced_metadata".into()),
    }
}

fn principal(p: rbac::Principal) -> Principal {
    use rbac::principal::Identifier;
    match p.identifier {
        None => Principal::Unsupported("empty principal".into()),
        Some(Identifier::Any(true)) => Principal::Any,
        Some(Identifier::Any(false)) => Principal::Unsupported("any: false".into()),
        Some(Identifier::AndIds(s)) => Principal::And(s.ids.into_iter().map(principal).collect()),
        Some(Identifier::OrIds(s)) => Principal::Or(s.ids.into_iter().map(principal).collect()),
        Some(Identifier::NotId(b)) => Principal::Not(Box::new(principal(*b))),
        Some(Identifier::Authenticated(a)) => {
            Principal::Authenticated(a.principal_name.and_then(string_match))
        }
        Some(Identifier::SourceIp(c)) | Some(Identifier::DirectRemoteIp(c)) => match cidr(&c) {
            Some(c) => Principal::DirectRemoteIp(c),
            None => Principal::Unsupported(format!("direct_remote_ip {}", c.address_prefix)),
        },
        Some(Identifier::RemoteIp(c)) => match cidr(&c) {
            Some(c) => Principal::RemoteIp(c),
            None => Principal::Unsupported(format!("remote_ip {}", c.address_prefix)),
        },
        Some(Identifier::Header(h)) => match header_match(h) {
            Some(h) => Principal::Header(h),
            None => Principal::Unsupported("header matcher".into()),
        },
        Some(Identifier::UrlPath(pm)) => match path_matcher(pm) {
            Some(s) => Principal::UrlPath(s),
            None => Principal::Unsupported("url_path".into()),
        },
        Some(Identifier::Metadata(md)) => Principal::Metadata(metadata_match(md)),
        Some(Identifier::FilterState(fs)) => match fs.matcher {
            Some(m::filter_state_matcher::Matcher::StringMatch(s)) => match string_match(s) {
                Some(value) => Principal::FilterState { key: fs.key, value },
                None => Principal::Unsupported(format!("filter_state {}", fs.key)),
            },
            _ => Principal::Unsupported(format!("filter_state {}", fs.key)),
        },
        Some(Identifier::SourcedMetadata(_)) => Principal::Unsupported("sourced_metadata".into()),
        Some(Identifier::Custom(e)) => Principal::Unsupported(extension_type(&e)),
    }
}

fn extension_type(e: &TypedExtensionConfig) -> String {
    any_type(&e.name, e.typed_config.as_ref())
}

/// The type of an extension's config, or its name when it has none.
fn any_type(name: &str, any: Option<&Any>) -> String {
    any.map(type_name).unwrap_or_else(|| name.to_string())
}

pub(crate) fn cidr(c: &CidrRange) -> Option<Cidr> {
    let addr = c.address_prefix.parse().ok()?;
    // An absent prefix_len is 0 in Envoy's CidrRange: the whole address family.
    Some(Cidr::new(addr, c.prefix_len.map(|l| l.value).unwrap_or(0)))
}

fn path_matcher(pm: m::PathMatcher) -> Option<StringMatch> {
    match pm.rule? {
        m::path_matcher::Rule::Path(s) => string_match(s),
    }
}

pub(crate) fn header_match(h: HeaderMatcher) -> Option<HeaderMatch> {
    let s = |how, value: String| {
        HeaderRule::String(StringMatch {
            how,
            value,
            ignore_case: false,
        })
    };
    let rule = match h.header_match_specifier {
        // No specifier: the header must be present.
        None => HeaderRule::Present { present: true },
        Some(HeaderMatchSpecifier::ExactMatch(v)) => s(MatchKind::Exact, v),
        Some(HeaderMatchSpecifier::SafeRegexMatch(r)) => s(MatchKind::Regex, r.regex),
        Some(HeaderMatchSpecifier::RangeMatch(r)) => HeaderRule::Range {
            start: r.start,
            end: r.end,
        },
        Some(HeaderMatchSpecifier::PresentMatch(p)) => HeaderRule::Present { present: p },
        Some(HeaderMatchSpecifier::PrefixMatch(v)) => s(MatchKind::Prefix, v),
        Some(HeaderMatchSpecifier::SuffixMatch(v)) => s(MatchKind::Suffix, v),
        Some(HeaderMatchSpecifier::ContainsMatch(v)) => s(MatchKind::Contains, v),
        Some(HeaderMatchSpecifier::StringMatch(sm)) => HeaderRule::String(string_match(sm)?),
    };
    Some(HeaderMatch {
        name: h.name.to_ascii_lowercase(),
        rule,
        invert: h.invert_match,
        missing_as_empty: h.treat_missing_header_as_empty,
    })
}

pub(crate) fn metadata_match(md: m::MetadataMatcher) -> MetadataMatch {
    let path = md
        .path
        .into_iter()
        .filter_map(|s| {
            s.segment
                .map(|m::metadata_matcher::path_segment::Segment::Key(k)| k)
        })
        .collect();
    MetadataMatch {
        filter: md.filter,
        path,
        value: md
            .value
            .map(value_match)
            .unwrap_or(ValueMatch::Present { present: true }),
        invert: md.invert,
    }
}

fn value_match(v: m::ValueMatcher) -> ValueMatch {
    use m::value_matcher::MatchPattern as P;
    match v.match_pattern {
        None => ValueMatch::Present { present: true },
        Some(P::NullMatch(_)) => ValueMatch::Null,
        Some(P::DoubleMatch(d)) => match d.match_pattern {
            Some(m::double_matcher::MatchPattern::Exact(e)) => ValueMatch::Double {
                exact: Some(e.to_string()),
                range: None,
            },
            Some(m::double_matcher::MatchPattern::Range(r)) => ValueMatch::Double {
                exact: None,
                range: Some((r.start.to_string(), r.end.to_string())),
            },
            None => ValueMatch::Double {
                exact: None,
                range: None,
            },
        },
        Some(P::StringMatch(s)) => match string_match(s) {
            Some(s) => ValueMatch::String(s),
            None => ValueMatch::Present { present: true },
        },
        Some(P::BoolMatch(b)) => ValueMatch::Bool { value: b },
        Some(P::PresentMatch(p)) => ValueMatch::Present { present: p },
        Some(P::ListMatch(l)) => match l.match_pattern {
            Some(m::list_matcher::MatchPattern::OneOf(inner)) => {
                ValueMatch::List(Box::new(value_match(*inner)))
            }
            None => ValueMatch::Present { present: true },
        },
        Some(P::OrMatch(o)) => {
            ValueMatch::Or(o.value_matchers.into_iter().map(value_match).collect())
        }
    }
}

fn xds_string(s: xm::StringMatcher) -> Option<StringMatch> {
    use xm::string_matcher::MatchPattern as P;
    let (how, value) = match s.match_pattern? {
        P::Exact(v) => (MatchKind::Exact, v),
        P::Prefix(v) => (MatchKind::Prefix, v),
        P::Suffix(v) => (MatchKind::Suffix, v),
        P::Contains(v) => (MatchKind::Contains, v),
        P::SafeRegex(r) => (MatchKind::Regex, r.regex),
        P::Custom(_) => return None,
    };
    Some(StringMatch {
        how,
        value,
        ignore_case: s.ignore_case,
    })
}

fn action_matcher(mt: xm::Matcher) -> ActionMatcher {
    let on_no_match = mt.on_no_match.map(|o| on_match(*o));
    match mt.matcher_type {
        Some(xm::matcher::MatcherType::MatcherList(l)) => ActionMatcher {
            matchers: l
                .matchers
                .into_iter()
                .map(|f| FieldMatcher {
                    predicate: f
                        .predicate
                        .map(predicate)
                        .unwrap_or_else(|| unsupported_predicate("empty predicate")),
                    on_match: f.on_match.map(on_match).unwrap_or(OnMatch::Unsupported {
                        type_url: "empty on_match".into(),
                    }),
                })
                .collect(),
            on_no_match,
            unsupported: None,
        },
        Some(xm::matcher::MatcherType::MatcherTree(_)) => ActionMatcher {
            matchers: Vec::new(),
            on_no_match,
            unsupported: Some("matcher_tree".into()),
        },
        None => ActionMatcher {
            matchers: Vec::new(),
            on_no_match,
            unsupported: None,
        },
    }
}

pub(crate) fn unsupported_predicate(what: &str) -> Predicate {
    Predicate::Single {
        input: MatchInput::Unsupported(what.into()),
        matcher: InputMatch::Unsupported(what.into()),
    }
}

fn on_match(o: xm::matcher::OnMatch) -> OnMatch {
    use xm::matcher::on_match::OnMatch as O;
    match o.on_match {
        Some(O::Matcher(inner)) => OnMatch::Matcher {
            matcher: Box::new(action_matcher(*inner)),
        },
        Some(O::Action(a)) => match unpack::<rbac::Action>(a.typed_config.as_ref()) {
            Unpacked::Known(act) => OnMatch::Action {
                entry: a.name.clone(),
                name: act.name,
                action: rbac_action(act.action),
            },
            _ => OnMatch::Unsupported {
                type_url: any_type(&a.name, a.typed_config.as_ref()),
            },
        },
        None => OnMatch::Unsupported {
            type_url: "empty on_match".into(),
        },
    }
}

pub(crate) fn predicate(p: xm::matcher::matcher_list::Predicate) -> Predicate {
    use xm::matcher::matcher_list::predicate::{single_predicate::Matcher as SM, MatchType};
    match p.match_type {
        Some(MatchType::SinglePredicate(sp)) => {
            let input = sp
                .input
                .as_ref()
                .map(match_input)
                .unwrap_or(MatchInput::Unsupported("no input".into()));
            let matcher = match sp.matcher {
                Some(SM::ValueMatch(s)) => match xds_string(s) {
                    Some(s) => InputMatch::String(s),
                    None => InputMatch::Unsupported("custom string matcher".into()),
                },
                Some(SM::CustomMatch(c)) => match unpack::<Ip>(c.typed_config.as_ref()) {
                    Unpacked::Known(ip) => {
                        InputMatch::Ip(ip.cidr_ranges.iter().filter_map(cidr).collect())
                    }
                    _ => InputMatch::Unsupported(any_type(&c.name, c.typed_config.as_ref())),
                },
                None => InputMatch::Unsupported("no matcher".into()),
            };
            Predicate::Single { input, matcher }
        }
        Some(MatchType::OrMatcher(l)) => Predicate::Or {
            predicates: l.predicate.into_iter().map(predicate).collect(),
        },
        Some(MatchType::AndMatcher(l)) => Predicate::And {
            predicates: l.predicate.into_iter().map(predicate).collect(),
        },
        Some(MatchType::NotMatcher(b)) => Predicate::Not {
            predicate: Box::new(predicate(*b)),
        },
        None => unsupported_predicate("empty predicate"),
    }
}

pub(crate) fn match_input(e: &envoy_types::pb::xds::core::v3::TypedExtensionConfig) -> MatchInput {
    if let Unpacked::Known(h) = unpack::<m::HttpRequestHeaderMatchInput>(e.typed_config.as_ref()) {
        return MatchInput::RequestHeader(h.header_name.to_ascii_lowercase());
    }
    if let Unpacked::Known(q) =
        unpack::<m::HttpRequestQueryParamMatchInput>(e.typed_config.as_ref())
    {
        return MatchInput::QueryParameter(q.query_param);
    }
    let name = any_type(&e.name, e.typed_config.as_ref());
    typeurl::match_input(&name).unwrap_or(MatchInput::Unsupported(name))
}

pub(crate) fn route_match(rm: PbRouteMatch) -> RouteMatch {
    let path = match rm.path_specifier {
        Some(PathSpecifier::Prefix(p)) => PathMatch::Prefix(p),
        Some(PathSpecifier::Path(p)) => PathMatch::Exact(p),
        Some(PathSpecifier::PathSeparatedPrefix(p)) => PathMatch::SeparatedPrefix(p),
        Some(PathSpecifier::SafeRegex(r)) => PathMatch::Regex(r.regex),
        Some(PathSpecifier::ConnectMatcher(_)) => PathMatch::Connect,
        Some(PathSpecifier::PathMatchPolicy(p)) => PathMatch::Other(p.name),
        None => PathMatch::Other(String::new()),
    };
    let mut unmodelled = Vec::new();
    if let Some(f) = rm
        .runtime_fraction
        .as_ref()
        .and_then(|r| r.default_value.as_ref())
    {
        // FractionalPercent: denominator HUNDRED (0), TEN_THOUSAND, MILLION.
        let whole = [100u32, 10_000, 1_000_000]
            .get(f.denominator as usize)
            .is_some_and(|d| f.numerator >= *d);
        if !whole {
            unmodelled.push("a runtime fraction (the route takes a share of requests)".into());
        }
    }
    let mut headers = Vec::new();
    for h in rm.headers {
        let name = h.name.clone();
        match header_match(h) {
            Some(m) => headers.push(m),
            None => unmodelled.push(format!("a custom matcher on header {name}")),
        }
    }
    let mut query = Vec::new();
    for q in rm.query_parameters {
        let value = match q.query_parameter_match_specifier {
            Some(QueryParameterMatchSpecifier::StringMatch(s)) => match string_match(s) {
                Some(m) => Some(m),
                None => {
                    unmodelled.push(format!("a custom matcher on query parameter {}", q.name));
                    continue;
                }
            },
            Some(QueryParameterMatchSpecifier::PresentMatch(_)) | None => None,
        };
        query.push(QueryMatch {
            name: q.name,
            value,
        });
    }
    for (set, what) in [
        (!rm.cookies.is_empty(), "cookies"),
        (rm.tls_context.is_some(), "the connection's TLS context"),
        (!rm.dynamic_metadata.is_empty(), "dynamic metadata"),
        (!rm.filter_state.is_empty(), "filter state"),
    ] {
        if set {
            unmodelled.push(what.to_string());
        }
    }
    RouteMatch {
        path,
        case_sensitive: rm.case_sensitive.map(|b| b.value).unwrap_or(true),
        headers,
        query,
        grpc: rm.grpc.is_some(),
        unmodelled,
    }
}

fn grpc_target(g: &GrpcService) -> String {
    match &g.target_specifier {
        Some(TargetSpecifier::EnvoyGrpc(e)) => format!("grpc cluster {}", e.cluster_name),
        Some(TargetSpecifier::GoogleGrpc(gg)) => format!("google_grpc {}", gg.target_uri),
        None => "grpc (no target)".into(),
    }
}

fn http_uri(u: &envoy_types::pb::envoy::config::core::v3::HttpUri) -> String {
    match &u.http_upstream_type {
        Some(HttpUpstreamType::Cluster(c)) => format!("http {} (cluster {c})", u.uri),
        None => format!("http {}", u.uri),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_prefix_len_is_the_whole_family() {
        let c = CidrRange {
            address_prefix: "10.1.2.3".into(),
            prefix_len: None,
        };
        assert_eq!(cidr(&c).unwrap().to_string(), "0.0.0.0/0");
    }
}
