//! Which control-plane objects produced a resource, from its `metadata.filter_metadata`
//! (Istio's `istio.config` and `istio.services`, Envoy Gateway's `envoy-gateway.resources`) →
//! [`ConfigRef`]s. Istio's writers: `util.AddConfigInfoMetadata` (config),
//! `buildServiceMetadata` (services: a ServiceEntry's `name` is its host,
//! `serviceentry/conversion.go`).

use envoy_types::pb::envoy::config::core::v3::Metadata;
use envoy_types::pb::google::protobuf::{value::Kind, Struct};

use crate::model::provenance::{ConfigRef, MetadataKey};

/// Every object `m` names, in the order written (config, then services, then Envoy Gateway's).
pub(crate) fn produced_by(m: Option<&Metadata>) -> Vec<ConfigRef> {
    let Some(m) = m else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(istio) = m.filter_metadata.get("istio") {
        if let Some(r) = string(istio, "config").and_then(|p| config_path(&p)) {
            out.push(r);
        }
        for s in structs(istio, "services") {
            let (Some(name), host) = (string(s, "name"), string(s, "host")) else {
                continue;
            };
            // Istio names a ServiceEntry's service after its host; a Kubernetes Service keeps
            // its short name.
            let entry = host.as_deref() == Some(name.as_str());
            out.push(ConfigRef {
                kind: if entry { "ServiceEntry" } else { "Service" }.into(),
                namespace: string(s, "namespace").filter(|n| !n.is_empty()),
                host: host.filter(|_| !entry),
                name,
                section: None,
                from: MetadataKey::IstioServices,
            });
        }
    }
    if let Some(eg) = m.filter_metadata.get("envoy-gateway") {
        for s in structs(eg, "resources") {
            let (Some(kind), Some(name)) = (string(s, "kind"), string(s, "name")) else {
                continue;
            };
            out.push(ConfigRef {
                kind,
                namespace: string(s, "namespace").filter(|n| !n.is_empty()),
                name,
                section: string(s, "sectionName").filter(|n| !n.is_empty()),
                host: None,
                from: MetadataKey::EnvoyGateway,
            });
        }
    }
    out
}

fn string(s: &Struct, key: &str) -> Option<String> {
    match s.fields.get(key)?.kind.as_ref()? {
        Kind::StringValue(v) => Some(v.clone()),
        _ => None,
    }
}

fn structs<'a>(s: &'a Struct, key: &str) -> Vec<&'a Struct> {
    match s.fields.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::ListValue(l)) => l
            .values
            .iter()
            .filter_map(|v| match &v.kind {
                Some(Kind::StructValue(s)) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `/apis/<group>/<version>/namespaces/<ns>/<kebab-kind>/<name>`.
fn config_path(path: &str) -> Option<ConfigRef> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let i = parts.iter().position(|p| *p == "namespaces")?;
    let (ns, kind, name) = (parts.get(i + 1)?, parts.get(i + 2)?, parts.get(i + 3)?);
    if name.is_empty() || kind.is_empty() {
        return None;
    }
    Some(ConfigRef {
        kind: kind_name(kind),
        namespace: Some(ns.to_string()).filter(|n| !n.is_empty()),
        name: name.to_string(),
        section: None,
        host: None,
        from: MetadataKey::IstioConfig,
    })
}

/// Istio's `gvk.KebabKind` undone: `destination-rule` → `DestinationRule`; the Gateway API's
/// kinds keep their capitals (`httproute` and `http-route` → `HTTPRoute`).
fn kind_name(kebab: &str) -> String {
    let known = [
        ("httproute", "HTTPRoute"),
        ("http-route", "HTTPRoute"),
        ("grpcroute", "GRPCRoute"),
        ("grpc-route", "GRPCRoute"),
        ("tcproute", "TCPRoute"),
        ("tcp-route", "TCPRoute"),
        ("tlsroute", "TLSRoute"),
        ("tls-route", "TLSRoute"),
    ];
    if let Some((_, k)) = known.iter().find(|(k, _)| *k == kebab) {
        return k.to_string();
    }
    kebab
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::google::protobuf::{ListValue, Value};

    fn s(fields: &[(&str, Value)]) -> Struct {
        Struct {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
    fn text(v: &str) -> Value {
        Value {
            kind: Some(Kind::StringValue(v.into())),
        }
    }
    fn list(items: Vec<Struct>) -> Value {
        Value {
            kind: Some(Kind::ListValue(ListValue {
                values: items
                    .into_iter()
                    .map(|i| Value {
                        kind: Some(Kind::StructValue(i)),
                    })
                    .collect(),
            })),
        }
    }

    #[test]
    fn istio_config_services_and_envoy_gateway_resources() {
        let mut m = Metadata::default();
        m.filter_metadata.insert(
            "istio".into(),
            s(&[
                (
                    "config",
                    text("/apis/networking.istio.io/v1/namespaces/shop/destination-rule/reviews"),
                ),
                (
                    "services",
                    list(vec![
                        s(&[
                            ("host", text("reviews.shop.svc.cluster.local")),
                            ("name", text("reviews")),
                            ("namespace", text("shop")),
                        ]),
                        s(&[
                            ("host", text("api.partner.test")),
                            ("name", text("api.partner.test")),
                            ("namespace", text("egress")),
                        ]),
                    ]),
                ),
            ]),
        );
        m.filter_metadata.insert(
            "envoy-gateway".into(),
            s(&[(
                "resources",
                list(vec![s(&[
                    ("kind", text("Gateway")),
                    ("name", text("eg")),
                    ("namespace", text("envoy-gateway-system")),
                    ("sectionName", text("http")),
                ])]),
            )]),
        );
        let refs: Vec<String> = produced_by(Some(&m))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            refs,
            [
                "DestinationRule reviews.shop",
                "Service reviews.shop (reviews.shop.svc.cluster.local)",
                "ServiceEntry for api.partner.test in egress",
                "Gateway eg.envoy-gateway-system (http)",
            ]
        );
    }

    #[test]
    fn kinds_and_paths() {
        assert_eq!(kind_name("virtual-service"), "VirtualService");
        assert_eq!(kind_name("sidecar"), "Sidecar");
        assert_eq!(kind_name("httproute"), "HTTPRoute");
        let old =
            config_path("/apis/networking/v1alpha3/namespaces/default/virtual-service/vs").unwrap();
        assert_eq!(old.to_string(), "VirtualService vs.default");
        assert!(config_path("/apis/x").is_none());
        assert!(config_path("/apis/g/v/namespaces/ns/kind/").is_none());
    }
}
