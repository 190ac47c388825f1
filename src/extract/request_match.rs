//! Envoy's request and connection matchers → the model: CIDR ranges, header, path, query,
//! metadata and value matchers, xDS matcher trees (predicates, inputs, actions) and route
//! matches. Shared by the authorization filters, routes and `filter_chain_matcher`; what the model
//! cannot express is kept as `Unsupported(type)`, never dropped.

// Deprecated fields (`exact_match`, `regex_match`…) are still what many dumps carry and what
// Envoy still honours: they are read, not skipped.
#![allow(deprecated)]

use envoy_types::pb::envoy::config::core::v3::CidrRange;
use envoy_types::pb::envoy::config::rbac::v3 as rbac;
use envoy_types::pb::envoy::config::route::v3::{
    header_matcher::HeaderMatchSpecifier, query_parameter_matcher::QueryParameterMatchSpecifier,
    route_match::PathSpecifier, HeaderMatcher, RouteMatch as PbRouteMatch,
};
use envoy_types::pb::envoy::extensions::matching::input_matchers::ip::v3::Ip;
use envoy_types::pb::envoy::r#type::matcher::v3 as m;
use envoy_types::pb::xds::r#type::matcher::v3 as xm;

use super::authz::{any_type, rbac_action};
use super::tls::string_match;
use crate::decode::{typeurl, unpack, Unpacked};
use crate::model::authz::*;
use crate::model::http::{
    HeaderMatch, HeaderRule, MetadataMatch, PathMatch, QueryMatch, RouteMatch, ValueMatch,
};
use crate::model::ids::Cidr;
use crate::model::tls::{MatchKind, StringMatch};

pub(crate) fn cidr(c: &CidrRange) -> Option<Cidr> {
    let addr = c.address_prefix.parse().ok()?;
    // An absent prefix_len is 0 in Envoy's CidrRange: the whole address family.
    Some(Cidr::new(addr, c.prefix_len.map(|l| l.value).unwrap_or(0)))
}

pub(super) fn path_matcher(pm: m::PathMatcher) -> Option<StringMatch> {
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

pub(super) fn value_match(v: m::ValueMatcher) -> ValueMatch {
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

pub(super) fn xds_string(s: xm::StringMatcher) -> Option<StringMatch> {
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

pub(super) fn action_matcher(mt: xm::Matcher) -> ActionMatcher {
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

pub(super) fn on_match(o: xm::matcher::OnMatch) -> OnMatch {
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
