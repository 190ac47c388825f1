//! Clusters, listeners, routes and endpoints → the model.

use std::collections::BTreeMap;

use envoy_types::pb::envoy::config::cluster::v3::{
    cluster::ClusterDiscoveryType, cluster::DiscoveryType, Cluster as PbCluster,
};
use envoy_types::pb::envoy::config::core::v3::{
    address, socket_address::PortSpecifier, Address, HealthStatus, Metadata,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    lb_endpoint::HostIdentifier, ClusterLoadAssignment,
};
use envoy_types::pb::envoy::config::listener::v3::{
    filter, FilterChain as PbChain, Listener as PbListener,
};
use envoy_types::pb::envoy::config::route::v3::{
    route::Action, route_action::ClusterSpecifier, RouteConfiguration,
};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager::RouteSpecifier, http_filter, HttpConnectionManager,
};
use envoy_types::pb::envoy::extensions::filters::network::tcp_proxy::v3::{tcp_proxy, TcpProxy};
use envoy_types::pb::google::protobuf::{value::Kind, Any, Struct};

use super::raw_config;
use super::tls::{socket, Side};
use crate::decode::{unpack, Unpacked};
use crate::model::http::{PathMatch, RouteMatch};
use crate::model::tls::SocketMatch;
use crate::model::TrafficDirection;
use crate::model::{
    ChainMatch, Cluster, Destination, Endpoint, FilterChain, Listener, ResourceState, Route,
    RouteAction, RouteConfig, UpstreamTls, VirtualHost,
};

pub(crate) fn cluster(c: PbCluster, state: ResourceState, pointer: &str) -> Cluster {
    let discovery = match &c.cluster_discovery_type {
        Some(ClusterDiscoveryType::Type(t)) => DiscoveryType::try_from(*t)
            .map(|t| t.as_str_name().to_string())
            .unwrap_or_else(|_| format!("unknown ({t})")),
        Some(ClusterDiscoveryType::ClusterType(ct)) => ct.name.clone(),
        None => DiscoveryType::Static.as_str_name().to_string(),
    };
    let matches = c
        .transport_socket_matches
        .iter()
        .map(|m| SocketMatch {
            name: m.name.clone(),
            criteria: m.r#match.as_ref().map(struct_strings).unwrap_or_default(),
            socket: socket(m.transport_socket.as_ref(), Side::Upstream),
        })
        .collect();
    Cluster {
        traffic: super::telemetry::cluster_traffic(&c),
        versioned: Default::default(),
        istio: c.name.parse().ok(),
        destination_rule: istio_config_name(c.metadata.as_ref(), "destination-rule"),
        produced_by: super::provenance::produced_by(c.metadata.as_ref()),
        alpn_override: istio_meta(c.metadata.as_ref(), "alpn_override").map(|v| v != "false"),
        tls: UpstreamTls {
            default: socket(c.transport_socket.as_ref(), Side::Upstream),
            matches,
        },
        name: c.name.into(),
        state,
        discovery,
        pointer: pointer.to_string().into(),
    }
}

pub(crate) fn listener(l: PbListener, state: ResourceState, pointer: &str) -> Listener {
    let (address, port) = l
        .address
        .as_ref()
        .map(address_parts)
        .unwrap_or((None, None));
    let mut chains: Vec<FilterChain> = l
        .filter_chains
        .into_iter()
        .enumerate()
        .map(|(i, c)| chain(c, false, format!("{pointer}/filter_chains/{i}")))
        .collect();
    if let Some(default) = l.default_filter_chain {
        chains.push(chain(
            default,
            true,
            format!("{pointer}/default_filter_chain"),
        ));
    }
    let telemetry = crate::model::evidence::ChainTelemetry {
        stat_prefix: Some(l.stat_prefix.clone()).filter(|s| !s.is_empty()),
        access_logs: super::telemetry::access_logs(&l.access_log, &format!("{pointer}/access_log")),
    };
    Listener {
        produced_by: super::provenance::produced_by(l.metadata.as_ref()),
        telemetry,
        versioned: Default::default(),
        name: l.name.into(),
        state,
        address,
        port,
        listener_filters: l.listener_filters.into_iter().map(|f| f.name).collect(),
        direction: match l.traffic_direction {
            1 => Some(TrafficDirection::Inbound),
            2 => Some(TrafficDirection::Outbound),
            _ => None,
        },
        filter_chains: chains,
        filter_chain_matcher: l.filter_chain_matcher.map(super::matcher::chain_matcher),
        use_original_dst: l.use_original_dst.is_some_and(|b| b.value),
        bind_to_port: l.bind_to_port.is_none_or(|b| b.value),
        internal: matches!(
            l.listener_specifier,
            Some(envoy_types::pb::envoy::config::listener::v3::listener::ListenerSpecifier::InternalListener(_))
        ) || matches!(
                l.address.as_ref().and_then(|a| a.address.as_ref()),
                Some(address::Address::EnvoyInternalAddress(_))
            ),
        pointer: pointer.to_string().into(),
    }
}

fn chain(c: PbChain, is_default: bool, pointer: String) -> FilterChain {
    let m = c.filter_chain_match.unwrap_or_default();
    let cidr = |r: &envoy_types::pb::envoy::config::core::v3::CidrRange| {
        format!(
            "{}/{}",
            r.address_prefix,
            r.prefix_len.map(|p| p.value).unwrap_or(0)
        )
    };
    let matcher = ChainMatch {
        destination_port: m.destination_port.map(|p| p.value),
        prefix_ranges: m.prefix_ranges.iter().map(cidr).collect(),
        source_prefix_ranges: m.source_prefix_ranges.iter().map(cidr).collect(),
        transport_protocol: Some(m.transport_protocol).filter(|t| !t.is_empty()),
        application_protocols: m.application_protocols,
        server_names: m.server_names,
        direct_source_prefix_ranges: m.direct_source_prefix_ranges.iter().map(cidr).collect(),
        source_type: match m.source_type {
            1 => Some("SAME_IP_OR_LOOPBACK".to_string()),
            2 => Some("EXTERNAL".to_string()),
            _ => None,
        },
        source_ports: m.source_ports,
    };
    // Network filters run first, on the connection; an HCM's HTTP filters then on each request.
    let mut authz = Vec::new();
    let mut host = crate::model::http::HostNormalization::default();
    let mut no_router = None;
    let mut telemetry = crate::model::evidence::ChainTelemetry::default();
    for (j, f) in c.filters.iter().enumerate() {
        let fp = format!("{pointer}/filters/{j}");
        if let Some(a) = super::authz::network_filter(&f.name, typed_config(f), fp.clone()) {
            authz.push(a);
        }
        if let Unpacked::Known(tcp) = unpack::<TcpProxy>(typed_config(f)) {
            telemetry.stat_prefix = Some(tcp.stat_prefix.clone()).filter(|s| !s.is_empty());
            let at = format!("{fp}/typed_config/access_log");
            telemetry
                .access_logs
                .extend(super::telemetry::access_logs(&tcp.access_log, &at));
        }
        if let Unpacked::Known(hcm) = unpack::<HttpConnectionManager>(typed_config(f)) {
            telemetry.stat_prefix = Some(hcm.stat_prefix.clone()).filter(|s| !s.is_empty());
            let at = format!("{fp}/typed_config/access_log");
            telemetry
                .access_logs
                .extend(super::telemetry::access_logs(&hcm.access_log, &at));
            use crate::model::http::StripPort;
            use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_connection_manager::StripPortMode;
            if hcm.http_filters.is_empty() {
                no_router = Some(crate::model::http::NoRouter {
                    stream_idle_timeout_ms: hcm
                        .stream_idle_timeout
                        .as_ref()
                        .map_or(300_000, super::telemetry::millis),
                });
            }
            host.strip_trailing_dot = hcm.strip_trailing_host_dot;
            host.strip_port = match hcm.strip_port_mode {
                Some(StripPortMode::StripAnyHostPort(true)) => StripPort::Any,
                _ if hcm.strip_matching_host_port => StripPort::Matching,
                _ => StripPort::Keep,
            };
            for (k, h) in hcm.http_filters.iter().enumerate() {
                let hp = format!("{fp}/typed_config/http_filters/{k}");
                let any = match &h.config_type {
                    Some(http_filter::ConfigType::TypedConfig(a)) => Some(a),
                    // Its configuration comes by ECDS: what it does is not in the filter.
                    Some(http_filter::ConfigType::ConfigDiscovery(_)) if !h.disabled => {
                        authz.push(super::authz::ecds_filter(&h.name, hp));
                        continue;
                    }
                    _ => None,
                };
                authz.extend(super::authz::http_filter(&h.name, h.disabled, any, hp));
            }
        }
    }
    // The terminal (last) network filter decides where traffic goes.
    let (destination, http_filters) = c.filters.last().map(terminal_filter).unwrap_or_default();
    FilterChain {
        produced_by: super::provenance::produced_by(c.metadata.as_ref()),
        name: Some(c.name).filter(|n| !n.is_empty()),
        is_default,
        matcher,
        tls: socket(c.transport_socket.as_ref(), Side::Downstream),
        destinations: destination.into_iter().collect(),
        http_filters,
        host,
        no_router,
        authz,
        network_filters: c.filters.iter().map(|f| f.name.clone()).collect(),
        pointer: pointer.into(),
        telemetry,
    }
}

fn typed_config(f: &envoy_types::pb::envoy::config::listener::v3::Filter) -> Option<&Any> {
    match &f.config_type {
        Some(filter::ConfigType::TypedConfig(a)) => Some(a),
        _ => None,
    }
}

/// Where the terminal network filter sends traffic, and (for an HTTP connection manager) its
/// HTTP filters in order.
fn terminal_filter(
    f: &envoy_types::pb::envoy::config::listener::v3::Filter,
) -> (Option<Destination>, Vec<String>) {
    let any = typed_config(f);
    if let Unpacked::Known(hcm) = unpack::<HttpConnectionManager>(any) {
        let names = hcm.http_filters.iter().map(|h| h.name.clone()).collect();
        let dest = match hcm.route_specifier {
            Some(RouteSpecifier::Rds(rds)) => Destination::Route {
                name: rds.route_config_name,
            },
            Some(RouteSpecifier::RouteConfig(rc)) => Destination::InlineRoute {
                config: Box::new(route_config(rc, ResourceState::Static, "")),
            },
            Some(RouteSpecifier::ScopedRoutes(s)) => Destination::Route {
                name: format!("scoped:{}", s.name),
            },
            None => Destination::Route {
                name: String::new(),
            },
        };
        return (Some(dest), names);
    }
    if let Unpacked::Known(tcp) = unpack::<TcpProxy>(any) {
        let dest = match tcp.cluster_specifier {
            Some(tcp_proxy::ClusterSpecifier::Cluster(name)) => Some(Destination::Cluster { name }),
            Some(tcp_proxy::ClusterSpecifier::WeightedClusters(w)) => {
                Some(Destination::WeightedClusters {
                    weights: w.clusters.iter().map(|c| c.weight).collect(),
                    names: w.clusters.into_iter().map(|c| c.name).collect(),
                })
            }
            None => None,
        };
        return (dest, Vec::new());
    }
    let other = any.map(|a| Destination::Filter {
        name: f.name.clone(),
        config: raw_config(a),
    });
    (other, Vec::new())
}

pub(crate) fn route_config(
    rc: RouteConfiguration,
    state: ResourceState,
    pointer: &str,
) -> RouteConfig {
    let virtual_hosts = rc
        .virtual_hosts
        .into_iter()
        .map(|vh| VirtualHost {
            produced_by: super::provenance::produced_by(vh.metadata.as_ref()),
            name: vh.name,
            domains: vh.domains,
            per_filter: super::authz::per_filter(&vh.typed_per_filter_config),
            routes: vh.routes.into_iter().map(route).collect(),
        })
        .collect();
    RouteConfig {
        versioned: Default::default(),
        name: rc.name.into(),
        state,
        virtual_hosts,
        ignore_port_in_host_matching: rc.ignore_port_in_host_matching,
        per_filter: super::authz::per_filter(&rc.typed_per_filter_config),
        pointer: pointer.to_string().into(),
    }
}

fn route(r: envoy_types::pb::envoy::config::route::v3::Route) -> Route {
    let route_match = r
        .r#match
        .map(super::request_match::route_match)
        .unwrap_or_else(|| RouteMatch {
            path: PathMatch::Other(String::new()),
            ..RouteMatch::any()
        });
    let mut cluster_per_filter = BTreeMap::new();
    let mut traffic = Default::default();
    let action = match r.action {
        Some(Action::Route(ra)) => {
            traffic = super::telemetry::route_traffic(&ra);
            match ra.cluster_specifier {
                Some(ClusterSpecifier::Cluster(name)) => RouteAction::Cluster { name },
                Some(ClusterSpecifier::WeightedClusters(w)) => {
                    for c in &w.clusters {
                        let pf = super::authz::per_filter(&c.typed_per_filter_config);
                        if !pf.is_empty() {
                            cluster_per_filter.insert(c.name.clone(), pf);
                        }
                    }
                    RouteAction::WeightedClusters {
                        weights: w
                            .clusters
                            .iter()
                            .map(|c| c.weight.map_or(0, |w| w.value))
                            .collect(),
                        names: w.clusters.into_iter().map(|c| c.name).collect(),
                    }
                }
                Some(ClusterSpecifier::ClusterHeader(header)) => {
                    RouteAction::ClusterHeader { header }
                }
                Some(ClusterSpecifier::ClusterSpecifierPlugin(name)) => {
                    RouteAction::ClusterSpecifierPlugin { name }
                }
                Some(ClusterSpecifier::InlineClusterSpecifierPlugin(p)) => {
                    RouteAction::ClusterSpecifierPlugin {
                        name: p.extension.map(|e| e.name).unwrap_or_default(),
                    }
                }
                None => RouteAction::None,
            }
        }
        Some(Action::Redirect(rd)) => RouteAction::Redirect {
            // RedirectResponseCode: MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT,
            // PERMANENT_REDIRECT.
            status: [301, 302, 303, 307, 308]
                .get(rd.response_code as usize)
                .copied()
                .unwrap_or(301),
        },
        Some(Action::DirectResponse(d)) => RouteAction::DirectResponse { status: d.status },
        Some(Action::NonForwardingAction(_)) => RouteAction::NonForwarding,
        Some(_) | None => RouteAction::None,
    };
    Route {
        name: Some(r.name).filter(|n| !n.is_empty()),
        matcher: route_match.path.to_string(),
        produced_by: super::provenance::produced_by(r.metadata.as_ref()),
        virtual_service: istio_config_name(r.metadata.as_ref(), "virtual-service")
            .or_else(|| istio_config_name(r.metadata.as_ref(), "httproute"))
            .or_else(|| istio_config_name(r.metadata.as_ref(), "")),
        action,
        per_filter: super::authz::per_filter(&r.typed_per_filter_config),
        cluster_per_filter,
        route_match,
        traffic,
    }
}

pub(crate) fn endpoints(cla: ClusterLoadAssignment, pointer: &str, out: &mut Vec<Endpoint>) {
    for locality_group in cla.endpoints {
        let locality = locality_group.locality.map(|l| {
            [l.region, l.zone, l.sub_zone]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("/")
        });
        for lb in locality_group.lb_endpoints {
            let address = match &lb.host_identifier {
                Some(HostIdentifier::Endpoint(e)) => {
                    e.address.as_ref().map(format_address).unwrap_or_default()
                }
                Some(HostIdentifier::EndpointName(n)) => format!("named:{n}"),
                None => String::new(),
            };
            let health = HealthStatus::try_from(lb.health_status)
                .map(|h| h.as_str_name().to_string())
                .unwrap_or_else(|_| format!("unknown ({})", lb.health_status));
            let socket_match = lb
                .metadata
                .as_ref()
                .and_then(|m| m.filter_metadata.get("envoy.transport_socket_match"))
                .map(struct_strings)
                .unwrap_or_default();
            out.push(Endpoint {
                cluster: cla.cluster_name.clone().into(),
                eds_service_name: None,
                address,
                health,
                locality: locality.clone().filter(|l| !l.is_empty()),
                weight: lb.load_balancing_weight.map(|w| w.value),
                socket_match,
                pointer: pointer.to_string().into(),
            });
        }
    }
}

pub(crate) fn format_address(a: &Address) -> String {
    match &a.address {
        Some(address::Address::SocketAddress(sa)) => match &sa.port_specifier {
            Some(PortSpecifier::PortValue(p)) => format!("{}:{p}", sa.address),
            Some(PortSpecifier::NamedPort(p)) => format!("{}:{p}", sa.address),
            None => sa.address.clone(),
        },
        Some(address::Address::Pipe(p)) => p.path.clone(),
        Some(address::Address::EnvoyInternalAddress(ia)) => {
            let listener = match &ia.address_name_specifier {
                Some(envoy_types::pb::envoy::config::core::v3::envoy_internal_address::AddressNameSpecifier::ServerListenerName(n)) => n.clone(),
                None => String::new(),
            };
            if ia.endpoint_id.is_empty() {
                format!("envoy://{listener}")
            } else {
                format!("envoy://{listener}/{}", ia.endpoint_id)
            }
        }
        None => String::new(),
    }
}

fn address_parts(a: &Address) -> (Option<String>, Option<u32>) {
    match &a.address {
        Some(address::Address::SocketAddress(sa)) => {
            let port = match sa.port_specifier {
                Some(PortSpecifier::PortValue(p)) => Some(p),
                _ => None,
            };
            (Some(sa.address.clone()), port)
        }
        Some(_) => (Some(format_address(a)), None),
        None => (None, None),
    }
}

/// A `Struct`'s top-level values as strings (non-strings as JSON).
pub(crate) fn struct_strings(s: &Struct) -> BTreeMap<String, String> {
    s.fields
        .iter()
        .map(|(k, v)| {
            let text = match &v.kind {
                Some(Kind::StringValue(s)) => s.clone(),
                Some(Kind::BoolValue(b)) => b.to_string(),
                Some(Kind::NumberValue(n)) => n.to_string(),
                Some(Kind::NullValue(_)) | None => String::new(),
                Some(other) => format!("{other:?}"),
            };
            (k.clone(), text)
        })
        .collect()
}

fn istio_meta(m: Option<&Metadata>, key: &str) -> Option<String> {
    let istio = m?.filter_metadata.get("istio")?;
    struct_strings(istio).remove(key)
}

/// `/apis/networking.istio.io/v1/namespaces/<ns>/<kind>/<name>` → `name.ns`, when `kind` matches
/// (any kind when `kind` is empty).
fn istio_config_name(m: Option<&Metadata>, kind: &str) -> Option<String> {
    let path = istio_meta(m, "config")?;
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let i = parts.iter().position(|p| *p == "namespaces")?;
    let (ns, k, name) = (parts.get(i + 1)?, parts.get(i + 2)?, parts.get(i + 3)?);
    (kind.is_empty() || *k == kind).then(|| format!("{name}.{ns}"))
}

pub(crate) fn unpack_or_note<T: prost::Message + prost::Name + Default>(
    any: Option<&envoy_types::pb::google::protobuf::Any>,
    pointer: &str,
    issues: &mut Vec<crate::decode::Issue>,
) -> Option<T> {
    match unpack::<T>(any) {
        Unpacked::Known(t) => Some(t),
        Unpacked::Absent => None,
        Unpacked::Raw { type_url, .. } | Unpacked::Other { type_url } => {
            issues.push(crate::decode::Issue::error(
                pointer,
                format!(
                    "expected {}, found {type_url}; resource skipped",
                    T::full_name()
                ),
            ));
            None
        }
        Unpacked::Invalid { type_url, error } => {
            issues.push(crate::decode::Issue::error(
                pointer,
                format!("{type_url} does not decode: {error}; resource skipped"),
            ));
            None
        }
    }
}
