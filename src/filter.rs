//! Row filters for the subcommands, as small values with a `verify` method (istioctl's
//! `ClusterFilter{FQDN, Port, Subset, Direction}` idea). They work on the model.

use crate::model::ambient::{AmbientService, AmbientWorkload};
use crate::model::{Cluster, Endpoint, Listener, Report, RouteConfig};

/// Clusters by their Istio name's parts (`direction|port|subset|fqdn`).
#[derive(Debug, Clone, Default)]
pub struct ClusterFilter {
    /// Exact FQDN or cluster name, or a short name (`reviews` matches `reviews.default.svc…`).
    pub fqdn: Option<String>,
    /// The port of the Istio name.
    pub port: Option<u16>,
    /// The subset of the Istio name (DestinationRule subset).
    pub subset: Option<String>,
    /// `inbound` or `outbound`, as the Istio name says.
    pub direction: Option<String>,
}

impl ClusterFilter {
    /// Whether the cluster is kept.
    pub fn verify(&self, c: &Cluster) -> bool {
        let fqdn = c.istio.as_ref().map(|n| n.fqdn.as_str()).unwrap_or(&c.name);
        if let Some(f) = &self.fqdn {
            let hit = fqdn == f
                || c.name == *f
                || fqdn
                    .strip_prefix(f.as_str())
                    .is_some_and(|rest| rest.starts_with('.'));
            if !hit {
                return false;
            }
        }
        if self.port.is_some() && c.istio.as_ref().and_then(|n| n.port) != self.port {
            return false;
        }
        if let Some(s) = &self.subset {
            if c.istio.as_ref().is_none_or(|n| &n.subset != s) {
                return false;
            }
        }
        if let Some(d) = &self.direction {
            if c.istio.as_ref().is_none_or(|n| &n.direction != d) {
                return false;
            }
        }
        true
    }
}

/// Listeners by port.
#[derive(Debug, Clone, Default)]
pub struct ListenerFilter {
    /// A TCP port, as on every command (`u16`: a larger number is refused when parsed).
    pub port: Option<u16>,
}

impl ListenerFilter {
    /// Whether the listener is kept.
    pub fn verify(&self, l: &Listener) -> bool {
        self.port.is_none() || l.port == self.port.map(u32::from)
    }
}

/// Route configurations by name.
#[derive(Debug, Clone, Default)]
pub struct RouteFilter {
    /// The route configuration's name, exactly.
    pub name: Option<String>,
}

impl RouteFilter {
    /// Whether the route configuration is kept.
    pub fn verify(&self, r: &RouteConfig) -> bool {
        self.name.as_ref().is_none_or(|n| &r.name == n)
    }
}

/// Endpoints by cluster and port.
#[derive(Debug, Clone, Default)]
pub struct EndpointFilter {
    /// The cluster's name, exactly.
    pub cluster: Option<String>,
    /// The endpoint's port.
    pub port: Option<u16>,
}

impl EndpointFilter {
    /// Whether the endpoint is kept.
    pub fn verify(&self, e: &Endpoint) -> bool {
        if self.cluster.as_ref().is_some_and(|c| &e.cluster != c) {
            return false;
        }
        match self.port {
            Some(p) => e
                .address
                .rsplit_once(':')
                .is_some_and(|(_, port)| port == p.to_string()),
            None => true,
        }
    }
}

/// ztunnel workloads, as `istioctl ztunnel-config workloads` filters them (names and nodes
/// compared case-insensitively).
#[derive(Debug, Clone, Default)]
pub struct WorkloadFilter {
    /// The workload's namespace.
    pub namespace: Option<String>,
    /// The node it runs on.
    pub node: Option<String>,
    /// A pod name, `name.namespace`, or one of its addresses.
    pub workload: Option<String>,
}

impl WorkloadFilter {
    /// Whether the workload is kept.
    pub fn verify(&self, w: &AmbientWorkload) -> bool {
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if self
            .namespace
            .as_ref()
            .is_some_and(|n| !same(n, &w.namespace))
        {
            return false;
        }
        if self.node.as_ref().is_some_and(|n| !same(n, &w.node)) {
            return false;
        }
        match &self.workload {
            None => true,
            Some(x) => {
                same(x, &w.name)
                    || same(x, &w.label())
                    || w.addresses.iter().any(|a| a.to_string() == *x)
            }
        }
    }
}

/// ztunnel connections: of one workload (`name` or `name.namespace`).
#[derive(Debug, Clone, Default)]
pub struct ConnectionFilter {
    /// The workload, `name` or `name.namespace`.
    pub workload: Option<String>,
}

impl ConnectionFilter {
    /// Whether the connection is kept.
    pub fn verify(&self, c: &crate::model::ambient::AmbientConnection) -> bool {
        self.workload.as_ref().is_none_or(|w| {
            c.workload.eq_ignore_ascii_case(w)
                || c.workload
                    .split_once('.')
                    .is_some_and(|(name, _)| name.eq_ignore_ascii_case(w))
        })
    }
}

/// ztunnel services by namespace.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    /// The service's namespace.
    pub namespace: Option<String>,
}

impl ServiceFilter {
    /// Whether the service is kept.
    pub fn verify(&self, s: &AmbientService) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|n| n.eq_ignore_ascii_case(&s.namespace))
    }
}

/// Every filter at once; a filter left at its default keeps every row.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Which clusters.
    pub clusters: ClusterFilter,
    /// Which listeners.
    pub listeners: ListenerFilter,
    /// Which route configurations.
    pub routes: RouteFilter,
    /// Which endpoints.
    pub endpoints: EndpointFilter,
    /// Which ztunnel workloads.
    pub workloads: WorkloadFilter,
    /// Which ztunnel services.
    pub services: ServiceFilter,
    /// Which ztunnel connections.
    pub connections: ConnectionFilter,
    /// Keep only this secret's rows. Findings (and with them the exit code) stay those of the
    /// whole proxy, as for every filter (see `admin_endpoint` in `lib.rs`).
    pub secret: Option<String>,
}

impl Filters {
    /// Drops the rows no filter keeps (findings stay those of the whole proxy).
    pub fn apply(&self, r: &mut Report) {
        r.clusters.retain(|c| self.clusters.verify(c));
        r.listeners.retain(|l| self.listeners.verify(l));
        r.routes.retain(|x| self.routes.verify(x));
        r.endpoints.retain(|e| self.endpoints.verify(e));
        if let Some(name) = &self.secret {
            r.secrets.retain(|s| &s.name == name);
        }
        if let Some(a) = &mut r.ambient {
            a.workloads.retain(|w| self.workloads.verify(w));
            a.services.retain(|s| self.services.verify(s));
            a.connections.retain(|c| self.connections.verify(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tls::NoTls;
    use crate::model::{ResourceState, Socket, UpstreamTls};

    fn cluster(name: &str) -> Cluster {
        Cluster {
            versioned: Default::default(),
            name: name.into(),
            state: ResourceState::Active,
            istio: name.parse().ok(),
            discovery: "EDS".into(),
            destination_rule: None,
            produced_by: Vec::new(),
            tls: UpstreamTls {
                default: Socket::Plaintext {
                    reason: NoTls::NoTransportSocket,
                },
                matches: vec![],
            },
            alpn_override: None,
            pointer: String::new().into(),
            traffic: Default::default(),
        }
    }

    #[test]
    fn cluster_filter_semantics() {
        let c = cluster("outbound|9080|v1|reviews.default.svc.cluster.local");
        let f = |fqdn: Option<&str>, port, subset: Option<&str>, dir: Option<&str>| ClusterFilter {
            fqdn: fqdn.map(Into::into),
            port,
            subset: subset.map(Into::into),
            direction: dir.map(Into::into),
        };
        assert!(f(None, None, None, None).verify(&c));
        assert!(f(Some("reviews"), Some(9080), Some("v1"), Some("outbound")).verify(&c));
        assert!(f(Some("reviews.default.svc.cluster.local"), None, None, None).verify(&c));
        assert!(!f(Some("review"), None, None, None).verify(&c));
        assert!(!f(None, Some(80), None, None).verify(&c));
        assert!(!f(None, None, None, Some("inbound")).verify(&c));
        assert!(f(Some("BlackHoleCluster"), None, None, None).verify(&cluster("BlackHoleCluster")));
    }
}
