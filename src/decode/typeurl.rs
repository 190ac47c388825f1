//! Every type URL and extension name envinspect compares against lives here, so that a rename
//! in Envoy's API (or an old dump's v2 names) is handled in one place.

/// The message that stands in for an `Any` whose type is not in our descriptors.
pub(crate) const UNKNOWN_PLACEHOLDER: &str = "envinspect.internal.Unknown";

pub(crate) const TYPED_STRUCT_UDPA: &str = "udpa.type.v1.TypedStruct";
pub(crate) const TYPED_STRUCT_XDS: &str = "xds.type.v3.TypedStruct";
pub(crate) const STRUCT: &str = "google.protobuf.Struct";
pub(crate) const STRING_VALUE: &str = "google.protobuf.StringValue";
/// Not in the vendored descriptors: kept as raw JSON by the decoder, read by `extract/`.
pub(crate) const XDS_IP_MATCHER: &str = "xds.type.matcher.v3.IPMatcher";
/// Types kept as raw JSON that `extract/` reads from that JSON: not unknown, so not noted.
pub(crate) const READ_FROM_JSON: &[&str] = &[XDS_IP_MATCHER];

pub(crate) const TLS_UPSTREAM: &str =
    "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
pub(crate) const TLS_DOWNSTREAM: &str =
    "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
pub(crate) const HCM: &str =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
pub(crate) const TCP_PROXY: &str = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
pub(crate) const ROUTER: &str = "envoy.extensions.filters.http.router.v3.Router";

/// Transport socket names that mean "no TLS" when they carry no typed config.
pub(crate) const RAW_BUFFER_NAMES: &[&str] = &["envoy.transport_sockets.raw_buffer", "raw_buffer"];
/// Transport socket names of TLS when an old dump gives no typed config.
pub(crate) const TLS_SOCKET_NAMES: &[&str] = &["envoy.transport_sockets.tls", "tls"];

/// The part of a type URL after the last `/`: the message's full name.
pub(crate) fn message_name(type_url: &str) -> &str {
    type_url.rsplit('/').next().unwrap_or(type_url)
}

pub(crate) fn to_url(full_name: &str) -> String {
    format!("type.googleapis.com/{full_name}")
}

/// The v3 name of a v2-era message (Istio 1.1–1.5 dumps), as istioctl does before unmarshalling.
pub(crate) fn v3_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "envoy.api.v2.Cluster" => "envoy.config.cluster.v3.Cluster",
        "envoy.api.v2.Listener" => "envoy.config.listener.v3.Listener",
        "envoy.api.v2.RouteConfiguration" => "envoy.config.route.v3.RouteConfiguration",
        "envoy.api.v2.ScopedRouteConfiguration" => "envoy.config.route.v3.ScopedRouteConfiguration",
        "envoy.api.v2.ClusterLoadAssignment" => "envoy.config.endpoint.v3.ClusterLoadAssignment",
        "envoy.api.v2.auth.UpstreamTlsContext" => TLS_UPSTREAM,
        "envoy.api.v2.auth.DownstreamTlsContext" => TLS_DOWNSTREAM,
        "envoy.api.v2.auth.Secret" => "envoy.extensions.transport_sockets.tls.v3.Secret",
        "envoy.config.bootstrap.v2.Bootstrap" => "envoy.config.bootstrap.v3.Bootstrap",
        "envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager" => HCM,
        "envoy.config.filter.network.tcp_proxy.v2.TcpProxy" => TCP_PROXY,
        "envoy.config.filter.http.router.v2.Router" => ROUTER,
        "envoy.config.filter.http.rbac.v2.RBAC" => "envoy.extensions.filters.http.rbac.v3.RBAC",
        // Lua kept its fields (`inline_code`) from v2 to v3.
        "envoy.config.filter.http.lua.v2.Lua" => "envoy.extensions.filters.http.lua.v3.Lua",
        "envoy.config.filter.network.rbac.v2.RBAC" => {
            "envoy.extensions.filters.network.rbac.v3.RBAC"
        }
        "envoy.admin.v2alpha.BootstrapConfigDump" => "envoy.admin.v3.BootstrapConfigDump",
        "envoy.admin.v2alpha.ClustersConfigDump" => "envoy.admin.v3.ClustersConfigDump",
        "envoy.admin.v2alpha.ListenersConfigDump" => "envoy.admin.v3.ListenersConfigDump",
        "envoy.admin.v2alpha.RoutesConfigDump" => "envoy.admin.v3.RoutesConfigDump",
        "envoy.admin.v2alpha.ScopedRoutesConfigDump" => "envoy.admin.v3.ScopedRoutesConfigDump",
        "envoy.admin.v2alpha.SecretsConfigDump" => "envoy.admin.v3.SecretsConfigDump",
        _ => return None,
    })
}

/// The v3 type of a v2 filter's untyped `config` (a `Struct`), by the filter's name. Filters not
/// listed keep their config as a `Struct`.
pub(crate) fn v2_filter_config_type(filter_name: &str) -> Option<&'static str> {
    Some(match filter_name {
        "envoy.http_connection_manager" | "envoy.filters.network.http_connection_manager" => HCM,
        "envoy.tcp_proxy" | "envoy.filters.network.tcp_proxy" => TCP_PROXY,
        "envoy.router" | "envoy.filters.http.router" => ROUTER,
        // Authorization filters keep their v2 field names in v3 (Istio 1.1–1.5 dumps).
        "envoy.filters.http.rbac" => "envoy.extensions.filters.http.rbac.v3.RBAC",
        "envoy.filters.network.rbac" => "envoy.extensions.filters.network.rbac.v3.RBAC",
        // Not `jwt-auth`: Istio ≤ 1.1's own filter, another schema, stays a Struct.
        "envoy.filters.http.jwt_authn" => {
            "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
        }
        "envoy.ext_authz" | "envoy.filters.http.ext_authz" => {
            "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz"
        }
        "envoy.lua" | "envoy.filters.http.lua" => "envoy.extensions.filters.http.lua.v3.Lua",
        _ => return None,
    })
}

/// Sections of `/config_dump`, by the `@type` of a `configs[]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SectionType {
    Bootstrap,
    Clusters,
    Listeners,
    Routes,
    ScopedRoutes,
    Endpoints,
    Secrets,
    Ecds,
}

impl SectionType {
    pub(crate) fn from_message_name(name: &str) -> Option<Self> {
        let name = v3_name(name).unwrap_or(name);
        Some(match name {
            "envoy.admin.v3.BootstrapConfigDump" => Self::Bootstrap,
            "envoy.admin.v3.ClustersConfigDump" => Self::Clusters,
            "envoy.admin.v3.ListenersConfigDump" => Self::Listeners,
            "envoy.admin.v3.RoutesConfigDump" => Self::Routes,
            "envoy.admin.v3.ScopedRoutesConfigDump" => Self::ScopedRoutes,
            "envoy.admin.v3.EndpointsConfigDump" => Self::Endpoints,
            "envoy.admin.v3.SecretsConfigDump" => Self::Secrets,
            "envoy.admin.v3.EcdsConfigDump" => Self::Ecds,
            _ => return None,
        })
    }
}

/// What a matcher-API input (`xds.type.matcher.v3` `input`) reads, by its message name (inputs
/// with parameters, header and query parameter, are unpacked by `extract/`).
pub(crate) fn match_input(message: &str) -> Option<crate::model::authz::MatchInput> {
    use crate::model::authz::MatchInput::*;
    const NET: &str = "envoy.extensions.matching.common_inputs.network.v3.";
    const SSL: &str = "envoy.extensions.matching.common_inputs.ssl.v3.";
    if let Some(name) = message.strip_prefix(NET) {
        return Some(match name {
            "SourceIPInput" => SourceIp,
            "DirectSourceIPInput" => DirectSourceIp,
            "SourcePortInput" => SourcePort,
            "DestinationIPInput" => DestinationIp,
            "DestinationPortInput" => DestinationPort,
            "ServerNameInput" => ServerName,
            "TransportProtocolInput" => TransportProtocol,
            "ApplicationProtocolInput" => ApplicationProtocol,
            _ => return None,
        });
    }
    Some(match message.strip_prefix(SSL)? {
        "UriSanInput" => UriSan,
        "DnsSanInput" => DnsSan,
        "SubjectInput" => Subject,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_urls() {
        assert_eq!(
            message_name("type.googleapis.com/envoy.api.v2.Cluster"),
            "envoy.api.v2.Cluster"
        );
        assert_eq!(message_name("envoy.api.v2.Cluster"), "envoy.api.v2.Cluster");
        assert_eq!(
            v3_name("envoy.api.v2.Cluster"),
            Some("envoy.config.cluster.v3.Cluster")
        );
        assert_eq!(
            SectionType::from_message_name("envoy.admin.v2alpha.SecretsConfigDump"),
            Some(SectionType::Secrets)
        );
    }
}
