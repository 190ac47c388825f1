//! Authorization filters → the model: HTTP and network RBAC (rules, shadow rules, the matcher
//! form), jwt_authn (providers, rules, requirement map), ext_authz, and their per-route configs.
//! Matchers the model cannot express are kept as `Unsupported(type)`, never dropped, so an
//! evaluation can say it cannot tell instead of guessing.

// Deprecated fields (`source_ip`, `exact_match`, RBAC `metadata`…) are still what many dumps
// carry and what Envoy still honours: they are read, not skipped.
#![allow(deprecated)]

use std::collections::BTreeMap;

use envoy_types::pb::envoy::config::core::v3::{
    grpc_service::TargetSpecifier, http_uri::HttpUpstreamType, GrpcService, TypedExtensionConfig,
};
use envoy_types::pb::envoy::config::rbac::v3 as rbac;
use envoy_types::pb::envoy::config::route::v3::FilterConfig;
use envoy_types::pb::envoy::extensions::filters::http::ext_authz::v3 as http_ext_authz;
use envoy_types::pb::envoy::extensions::filters::http::jwt_authn::v3 as jwt;
use envoy_types::pb::envoy::extensions::filters::http::rbac::v3 as http_rbac;
use envoy_types::pb::envoy::extensions::filters::network::ext_authz::v3 as net_ext_authz;
use envoy_types::pb::envoy::extensions::filters::network::rbac::v3 as net_rbac;
use envoy_types::pb::envoy::r#type::matcher::v3 as m;
use envoy_types::pb::google::protobuf::Any;
use envoy_types::pb::xds::r#type::matcher::v3 as xm;

use super::request_match::*;
use super::tls::string_match;
use crate::decode::any::type_name;
use crate::decode::{unpack, Unpacked};
use crate::model::authz::*;

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
    } else if let Some(o) = opaque(any, HTTP_MAY_DENY) {
        AuthzKind::Opaque(o)
    } else {
        return None;
    };
    Some(AuthzFilter {
        name: name.to_string(),
        level: FilterLevel::Http,
        disabled,
        pointer: pointer.into(),
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
    } else if let Some(o) = opaque(any, NETWORK_MAY_DENY) {
        AuthzKind::Opaque(o)
    } else {
        return None;
    };
    Some(AuthzFilter {
        name: name.to_string(),
        level: FilterLevel::Network,
        disabled: false,
        pointer: pointer.into(),
        kind,
    })
}

/// HTTP filters that can refuse a request and are not evaluated, by configuration type (a
/// `TypedStruct` counts as the type it wraps), with what they do.
const HTTP_MAY_DENY: &[(&str, &str)] = &[
    (
        "envoy.extensions.filters.http.lua.v3.Lua",
        "runs a Lua program",
    ),
    (
        "envoy.extensions.filters.http.wasm.v3.Wasm",
        "runs a Wasm program",
    ),
    (
        "envoy.extensions.filters.http.golang.v3alpha.Config",
        "runs a Go program",
    ),
    (
        "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
        "an external processor answers",
    ),
    (
        "envoy.extensions.filters.http.composite.v3.Composite",
        "delegates to filters chosen per request",
    ),
    (
        "envoy.extensions.filters.http.basic_auth.v3.BasicAuth",
        "checks a password",
    ),
    (
        "envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth",
        "checks an API key",
    ),
    (
        "envoy.extensions.filters.http.oauth2.v3.OAuth2",
        "redirects to an OAuth2 login",
    ),
    (
        "envoy.extensions.filters.http.csrf.v3.CsrfPolicy",
        "checks the request's origin",
    ),
    (
        "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "rate limit (429)",
    ),
    (
        "envoy.extensions.filters.http.ratelimit.v3.RateLimit",
        "rate limit service (429)",
    ),
    (
        "envoy.extensions.filters.http.rate_limit_quota.v3.RateLimitQuotaFilterConfig",
        "rate limit quota (429)",
    ),
    (
        "envoy.extensions.filters.http.fault.v3.HTTPFault",
        "injects aborts",
    ),
    (
        "envoy.extensions.filters.http.admission_control.v3.AdmissionControl",
        "rejects under load (503)",
    ),
    ("cilium.L7Policy", "Cilium's L7 policy"),
];

/// Network filters that can refuse a connection and are not evaluated.
const NETWORK_MAY_DENY: &[(&str, &str)] = &[
    (
        "envoy.extensions.filters.network.wasm.v3.Wasm",
        "runs a Wasm program",
    ),
    (
        "envoy.extensions.filters.network.golang.v3alpha.Config",
        "runs a Go program",
    ),
    (
        "envoy.extensions.filters.network.ext_proc.v3.NetworkExternalProcessor",
        "an external processor answers",
    ),
    (
        "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit",
        "rate limit",
    ),
    (
        "envoy.extensions.filters.network.ratelimit.v3.RateLimit",
        "rate limit service",
    ),
    (
        "envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit",
        "connection limit",
    ),
    ("cilium.NetworkFilter", "Cilium's network policy"),
];

/// The filter's configuration type, when it is one that may deny (and its program, as far as
/// the dump shows it, can answer a request itself).
fn opaque(any: Option<&Any>, known: &[(&str, &str)]) -> Option<OpaqueFilter> {
    let name = config_type(any?)?;
    let (_, may) = known.iter().find(|(t, _)| *t == name)?;
    if cannot_answer(any?) {
        return None;
    }
    Some(OpaqueFilter {
        type_name: name,
        may: may.to_string(),
    })
}

/// Istio's built-in (NullVM) Wasm plugins, which only exchange metadata and count.
const NULL_VM_PLUGINS: &[&str] = &[
    "envoy.wasm.metadata_exchange",
    "envoy.wasm.stats",
    "envoy.wasm.attributegen",
];

/// Whether the program a Lua or Wasm filter runs, all of it in the dump, has no way to answer
/// a request itself: a Lua script that never calls `respond`, a Wasm module that does not
/// import `proxy_send_local_response` (the proxy-wasm ABI's only local reply), or one of
/// Istio's built-in plugins. A program from a file or a URL is not in the dump: it may.
fn cannot_answer(any: &Any) -> bool {
    use envoy_types::pb::envoy::config::core::v3::{async_data_source, data_source, DataSource};
    use envoy_types::pb::envoy::extensions::filters::http::lua::v3::Lua;
    use envoy_types::pb::envoy::extensions::filters::http::wasm::v3::Wasm;
    use envoy_types::pb::envoy::extensions::wasm::v3::plugin_config::Vm;
    let inline = |d: &DataSource| match &d.specifier {
        Some(data_source::Specifier::InlineString(s)) => Some(s.clone().into_bytes()),
        Some(data_source::Specifier::InlineBytes(b)) => Some(b.clone()),
        _ => None,
    };
    // A fault filter aborts only where an abort is configured (Istio puts an empty one in every
    // connection manager; a VirtualService's faults ride on routes).
    if let Unpacked::Known(f) =
        unpack::<envoy_types::pb::envoy::extensions::filters::http::fault::v3::HttpFault>(Some(any))
    {
        return f.abort.is_none();
    }
    if let Unpacked::Known(l) = unpack::<Lua>(Some(any)) {
        #[allow(deprecated)]
        let mut sources = vec![Some(l.inline_code.clone().into_bytes())];
        sources.extend(l.default_source_code.as_ref().map(inline));
        sources.extend(l.source_codes.values().map(inline));
        return sources.iter().all(|s| {
            s.as_ref()
                .is_some_and(|code| !String::from_utf8_lossy(code).contains("respond"))
        });
    }
    if let Unpacked::Known(w) = unpack::<Wasm>(Some(any)) {
        let Some(Vm::VmConfig(vm)) = w.config.and_then(|c| c.vm) else {
            return false;
        };
        let Some(async_data_source::Specifier::Local(d)) = vm.code.and_then(|c| c.specifier) else {
            return false;
        };
        return match inline(&d) {
            Some(code) if NULL_VM_PLUGINS.iter().any(|p| code == p.as_bytes()) => true,
            // A module's imports name the host functions it calls.
            Some(code) if code.starts_with(b"\0asm") => !code
                .windows(b"proxy_send_local_response".len())
                .any(|w| w == b"proxy_send_local_response"),
            _ => false,
        };
    }
    false
}

/// The message name of a filter's configuration, looking through a `TypedStruct`.
fn config_type(any: &Any) -> Option<String> {
    use crate::decode::typeurl;
    let url = match unpack::<envoy_types::pb::google::protobuf::Empty>(Some(any)) {
        Unpacked::Raw { type_url, raw_json } => {
            let name = typeurl::message_name(&type_url).to_string();
            if name == typeurl::TYPED_STRUCT_UDPA || name == typeurl::TYPED_STRUCT_XDS {
                let v: serde_json::Value = serde_json::from_str(&raw_json).ok()?;
                let inner = v.get("type_url").or_else(|| v.get("typeUrl"))?.as_str()?;
                return Some(typeurl::message_name(inner).to_string());
            }
            type_url
        }
        Unpacked::Other { type_url } | Unpacked::Invalid { type_url, .. } => type_url,
        Unpacked::Known(_) | Unpacked::Absent => return None,
    };
    // A TypedStruct is not in the descriptors: it arrives raw (above).
    let name = typeurl::message_name(&url);
    Some(name.to_string())
}

/// An HTTP filter configured by ECDS (`config_discovery`): its configuration is not in the
/// filter, so what it does cannot be told.
pub(crate) fn ecds_filter(name: &str, pointer: String) -> AuthzFilter {
    AuthzFilter {
        name: name.to_string(),
        level: FilterLevel::Http,
        disabled: false,
        pointer: pointer.into(),
        kind: AuthzKind::Opaque(OpaqueFilter {
            type_name: "ECDS".into(),
            may: "configured by extension config discovery, not in the filter".into(),
        }),
    }
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

pub(super) fn rbac_action(a: i32) -> RbacAction {
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
pub(super) fn any_type(name: &str, any: Option<&Any>) -> String {
    any.map(type_name).unwrap_or_else(|| name.to_string())
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
