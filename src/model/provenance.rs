//! Which control-plane object produced a resource, as the resource's own metadata names it:
//! Istio's `filter_metadata.istio.config` (the DestinationRule of a cluster, the VirtualService
//! of a route or of a TLS/TCP chain, the Sidecar of an inbound chain), `istio.services` (the
//! Service or ServiceEntry host of a cluster), Envoy Gateway's `envoy-gateway.resources`
//! (Gateway, HTTPRoute, Service…). Nothing is guessed from names.

use serde::Serialize;

/// One object a resource was produced from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct ConfigRef {
    /// The Kubernetes kind, as the control plane wrote it or from its kebab-case path segment
    /// (`destination-rule` → `DestinationRule`).
    pub kind: String,
    /// Its namespace, when it has one (cluster-scoped objects have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// Envoy Gateway's `sectionName` (a listener of a Gateway, a port of a Service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// A service's host (`istio.services`), when it differs from the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The metadata it was read from.
    pub from: MetadataKey,
}

/// Where in `filter_metadata` a [`ConfigRef`] was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum MetadataKey {
    /// Istio's `istio.config`: the object's API path.
    #[serde(rename = "istio.config")]
    IstioConfig,
    /// Istio's `istio.services`: the services a cluster is for (host, name, namespace).
    #[serde(rename = "istio.services")]
    IstioServices,
    /// Envoy Gateway's `envoy-gateway.resources`.
    #[serde(rename = "envoy-gateway.resources")]
    EnvoyGateway,
}

impl std::fmt::Display for ConfigRef {
    /// `VirtualService reviews.default`, `Gateway eg.envoy-gateway-system (http)`,
    /// `Service httpbin.default (httpbin.default.svc.cluster.local)`, and for a ServiceEntry,
    /// whose own name Istio does not record, `ServiceEntry for api.example.com in egress`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == MetadataKey::IstioServices && self.kind == "ServiceEntry" {
            write!(f, "ServiceEntry for {}", self.name)?;
            if let Some(ns) = &self.namespace {
                write!(f, " in {ns}")?;
            }
            return Ok(());
        }
        write!(f, "{} {}", self.kind, self.name)?;
        if let Some(ns) = &self.namespace {
            write!(f, ".{ns}")?;
        }
        match (&self.section, &self.host) {
            (Some(s), _) => write!(f, " ({s})"),
            (None, Some(h)) => write!(f, " ({h})"),
            (None, None) => Ok(()),
        }
    }
}

/// `refs` as one phrase: `VirtualService reviews.default, Service reviews.default (…)`.
pub fn phrase(refs: &[ConfigRef]) -> String {
    refs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
