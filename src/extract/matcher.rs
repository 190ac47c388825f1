//! A listener's `filter_chain_matcher` → [`ChainMatcher`]. Typed where the descriptors have the
//! messages; `xds.type.matcher.v3.IPMatcher` is not among them, so its JSON (kept raw by the
//! decoder) is read here, nested matchers included, in either field-name case.

use std::collections::BTreeMap;

use envoy_types::pb::xds::core::v3::TypedExtensionConfig;
use envoy_types::pb::xds::r#type::matcher::v3 as xm;
use serde_json::Value;

use crate::decode::{typeurl, unpack, Unpacked};
use crate::model::authz::{InputMatch, MatchInput, Predicate};
use crate::model::ids::Cidr;
use crate::model::matcher::{ChainAction, ChainMatcher, IpRange, TreeMap};
use crate::model::tls::{MatchKind, StringMatch};

pub(crate) fn chain_matcher(m: xm::Matcher) -> ChainMatcher {
    let on_no_match = m.on_no_match.map(|o| Box::new(action(*o)));
    match m.matcher_type {
        Some(xm::matcher::MatcherType::MatcherList(l)) => ChainMatcher::List {
            matchers: l
                .matchers
                .into_iter()
                .map(|f| {
                    let p = f.predicate.map(super::request_match::predicate).unwrap_or(
                        Predicate::Single {
                            input: MatchInput::Unsupported("empty predicate".into()),
                            matcher: InputMatch::Unsupported("empty predicate".into()),
                        },
                    );
                    let a = f
                        .on_match
                        .map(action)
                        .unwrap_or(ChainAction::Unsupported("empty on_match".into()));
                    (p, a)
                })
                .collect(),
            on_no_match,
        },
        Some(xm::matcher::MatcherType::MatcherTree(t)) => {
            use xm::matcher::matcher_tree::TreeType;
            let input = t
                .input
                .as_ref()
                .map(super::request_match::match_input)
                .unwrap_or(MatchInput::Unsupported("no input".into()));
            let map = match t.tree_type {
                Some(TreeType::ExactMatchMap(mm)) => TreeMap::Exact(entries(mm.map)),
                Some(TreeType::PrefixMatchMap(mm)) => TreeMap::Prefix(entries(mm.map)),
                Some(TreeType::CustomMatch(c)) => custom(&c),
                None => TreeMap::Unsupported("no tree type".into()),
            };
            ChainMatcher::Tree {
                input,
                map,
                on_no_match,
            }
        }
        None => ChainMatcher::Empty { on_no_match },
    }
}

fn entries(
    map: std::collections::HashMap<String, xm::matcher::OnMatch>,
) -> BTreeMap<String, ChainAction> {
    map.into_iter().map(|(k, v)| (k, action(v))).collect()
}

fn action(o: xm::matcher::OnMatch) -> ChainAction {
    use xm::matcher::on_match::OnMatch as O;
    match o.on_match {
        Some(O::Matcher(inner)) => ChainAction::Matcher(Box::new(chain_matcher(*inner))),
        Some(O::Action(a)) => match unpack::<String>(a.typed_config.as_ref()) {
            Unpacked::Known(name) => ChainAction::Chain(name),
            _ => ChainAction::Unsupported(format!("action {}", a.name)),
        },
        None => ChainAction::Unsupported("empty on_match".into()),
    }
}

fn custom(c: &TypedExtensionConfig) -> TreeMap {
    match unpack::<String>(c.typed_config.as_ref()) {
        Unpacked::Raw { type_url, raw_json }
            if typeurl::message_name(&type_url) == typeurl::XDS_IP_MATCHER =>
        {
            match serde_json::from_str::<Value>(&raw_json) {
                Ok(v) => ip_matcher(&v),
                Err(e) => TreeMap::Unsupported(format!("IPMatcher: {e}")),
            }
        }
        Unpacked::Raw { type_url, .. }
        | Unpacked::Other { type_url }
        | Unpacked::Invalid { type_url, .. } => {
            TreeMap::Unsupported(typeurl::message_name(&type_url).to_string())
        }
        _ => TreeMap::Unsupported(c.name.clone()),
    }
}

/// A field in either proto3 JSON spelling.
fn field<'a>(v: &'a Value, snake: &str) -> Option<&'a Value> {
    v.get(snake)
        .or_else(|| v.get(crate::decode::camel_case(snake)))
}

/// A matcher's `input` (a typed extension config) as the model's input.
fn json_input(holder: &Value) -> MatchInput {
    field(holder, "input")
        .and_then(|i| field(i, "typed_config"))
        .and_then(|c| c.get("@type"))
        .and_then(Value::as_str)
        .map(|u| {
            let name = typeurl::message_name(u);
            typeurl::match_input(name).unwrap_or(MatchInput::Unsupported(name.to_string()))
        })
        .unwrap_or(MatchInput::Unsupported("no input".into()))
}

fn ip_matcher(v: &Value) -> TreeMap {
    let mut out = Vec::new();
    for rm in field(v, "range_matchers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ranges = field(rm, "ranges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let addr = field(r, "address_prefix")?.as_str()?.parse().ok()?;
                let len = field(r, "prefix_len").and_then(Value::as_u64).map_or(
                    if matches!(addr, std::net::IpAddr::V4(_)) {
                        32
                    } else {
                        128
                    },
                    |n| n as u32,
                );
                Some(Cidr::new(addr, len))
            })
            .collect();
        let on_match = field(rm, "on_match")
            .map(json_action)
            .unwrap_or(ChainAction::Unsupported("empty on_match".into()));
        let exclusive = field(rm, "exclusive")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        out.push(IpRange {
            ranges,
            on_match,
            exclusive,
        });
    }
    TreeMap::Ip(out)
}

fn json_action(v: &Value) -> ChainAction {
    if let Some(m) = field(v, "matcher") {
        return ChainAction::Matcher(Box::new(json_matcher(m)));
    }
    let Some(a) = field(v, "action") else {
        return ChainAction::Unsupported("empty on_match".into());
    };
    let tc = field(a, "typed_config");
    let ty = tc
        .and_then(|t| t.get("@type"))
        .and_then(Value::as_str)
        .map(typeurl::message_name);
    match (ty, tc.and_then(|t| t.get("value")).and_then(Value::as_str)) {
        (Some(typeurl::STRING_VALUE), Some(name)) => ChainAction::Chain(name.to_string()),
        _ => ChainAction::Unsupported(format!(
            "action {}",
            field(a, "name").and_then(Value::as_str).unwrap_or_default()
        )),
    }
}

fn json_matcher(v: &Value) -> ChainMatcher {
    let on_no_match = field(v, "on_no_match").map(|o| Box::new(json_action(o)));
    if let Some(t) = field(v, "matcher_tree") {
        let input = json_input(t);
        let map_of = |m: &Value| -> BTreeMap<String, ChainAction> {
            field(m, "map")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, a)| (k.clone(), json_action(a)))
                .collect()
        };
        let map = if let Some(m) = field(t, "exact_match_map") {
            TreeMap::Exact(map_of(m))
        } else if let Some(m) = field(t, "prefix_match_map") {
            TreeMap::Prefix(map_of(m))
        } else if let Some(c) = field(t, "custom_match") {
            let tc = field(c, "typed_config");
            match tc
                .and_then(|t| t.get("@type"))
                .and_then(Value::as_str)
                .map(typeurl::message_name)
            {
                Some(typeurl::XDS_IP_MATCHER) => ip_matcher(tc.unwrap_or(&Value::Null)),
                Some(other) => TreeMap::Unsupported(other.to_string()),
                None => TreeMap::Unsupported("custom_match".into()),
            }
        } else {
            TreeMap::Unsupported("no tree type".into())
        };
        return ChainMatcher::Tree {
            input,
            map,
            on_no_match,
        };
    }
    if let Some(l) = field(v, "matcher_list") {
        let matchers = field(l, "matchers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| {
                let p = field(f, "predicate")
                    .map(json_predicate)
                    .unwrap_or(Predicate::Single {
                        input: MatchInput::Unsupported("empty predicate".into()),
                        matcher: InputMatch::Unsupported("empty predicate".into()),
                    });
                let a = field(f, "on_match")
                    .map(json_action)
                    .unwrap_or(ChainAction::Unsupported("empty on_match".into()));
                (p, a)
            })
            .collect();
        return ChainMatcher::List {
            matchers,
            on_no_match,
        };
    }
    ChainMatcher::Empty { on_no_match }
}

/// A single predicate with an exact or prefix value match; anything else is kept as unsupported.
fn json_predicate(p: &Value) -> Predicate {
    let unsupported = super::request_match::unsupported_predicate;
    let Some(sp) = field(p, "single_predicate") else {
        return unsupported("compound predicate inside an IPMatcher");
    };
    let input = json_input(sp);
    let vm = field(sp, "value_match");
    let string = vm.and_then(|m| {
        [
            ("exact", MatchKind::Exact),
            ("prefix", MatchKind::Prefix),
            ("suffix", MatchKind::Suffix),
        ]
        .into_iter()
        .find_map(|(k, how)| {
            Some(StringMatch {
                how,
                value: m.get(k)?.as_str()?.to_string(),
                ignore_case: field(m, "ignore_case")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
        })
    });
    match string {
        Some(s) => Predicate::Single {
            input,
            matcher: InputMatch::String(s),
        },
        None => unsupported("value matcher inside an IPMatcher"),
    }
}
