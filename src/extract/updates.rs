//! Updates the proxy refused: every dynamic resource's `error_state` (Envoy's
//! `UpdateFailureState`), read before the lists are turned into the model. Envoy keeps serving the
//! previous version of a resource whose update it refused; an entry may hold only an
//! `error_state`, with no name and no resource (Envoy 1.40 writes one beside the named entry when
//! an LDS update fails), and is reported too, never skipped.

use envoy_types::pb::envoy::admin::v3 as admin;
use envoy_types::pb::envoy::config::cluster::v3::Cluster as PbCluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener as PbListener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret as PbSecret;
use envoy_types::pb::google::protobuf::Any;

use crate::decode::any::{unpack, Unpacked};
use crate::decode::{DecodedDump, Located};
use crate::model::sync::{AcceptedVersions, RejectedUpdate};

/// Every refused update of the dump, in the order of its lists.
pub(super) fn rejected(d: &DecodedDump) -> Vec<RejectedUpdate> {
    let mut out = Vec::new();
    for l in &d.dynamic_listeners {
        let v = &l.value;
        let serving = v
            .active_state
            .as_ref()
            .map(|s| s.version_info.clone())
            .filter(|s| !s.is_empty());
        push(
            &mut out,
            "listener",
            l,
            &v.name,
            v.error_state.as_ref(),
            serving,
            name_of::<PbListener>,
        );
    }
    for l in d.active_clusters.iter().chain(&d.warming_clusters) {
        let v = &l.value;
        let serving = v.cluster.as_ref().map(|_| v.version_info.clone());
        let own = v.cluster.as_ref().and_then(name_of::<PbCluster>);
        push(
            &mut out,
            "cluster",
            l,
            own.as_deref().unwrap_or(""),
            v.error_state.as_ref(),
            serving,
            name_of::<PbCluster>,
        );
    }
    for l in &d.dynamic_routes {
        let v = &l.value;
        let serving = v.route_config.as_ref().map(|_| v.version_info.clone());
        let own = v
            .route_config
            .as_ref()
            .and_then(name_of::<RouteConfiguration>);
        push(
            &mut out,
            "route_config",
            l,
            own.as_deref().unwrap_or(""),
            v.error_state.as_ref(),
            serving,
            name_of::<RouteConfiguration>,
        );
    }
    for l in &d.dynamic_endpoints {
        let v = &l.value;
        let serving = v.endpoint_config.as_ref().map(|_| v.version_info.clone());
        let own = v
            .endpoint_config
            .as_ref()
            .and_then(name_of::<ClusterLoadAssignment>);
        push(
            &mut out,
            "endpoint_config",
            l,
            own.as_deref().unwrap_or(""),
            v.error_state.as_ref(),
            serving,
            name_of::<ClusterLoadAssignment>,
        );
    }
    for l in d.active_secrets.iter().chain(&d.warming_secrets) {
        let v = &l.value;
        let serving = v.secret.as_ref().map(|_| v.version_info.clone());
        push(
            &mut out,
            "secret",
            l,
            &v.name,
            v.error_state.as_ref(),
            serving,
            name_of::<PbSecret>,
        );
    }
    for l in &d.ecds_filters {
        let v = &l.value;
        let serving = v.ecds_filter.as_ref().map(|_| v.version_info.clone());
        push(
            &mut out,
            "ecds_filter",
            l,
            "",
            v.error_state.as_ref(),
            serving,
            |_| None,
        );
    }
    out
}

/// The versions the dump's top level says were accepted last, and the types it refused.
pub(super) fn accepted(d: &DecodedDump, rejected: &[RejectedUpdate]) -> AcceptedVersions {
    let mut refused: Vec<_> = rejected.iter().map(RejectedUpdate::xds_type).collect();
    refused.sort();
    refused.dedup();
    AcceptedVersions {
        cds: d.accepted_cds.clone(),
        lds: d.accepted_lds.clone(),
        refused,
    }
}

fn push<W>(
    out: &mut Vec<RejectedUpdate>,
    kind: &'static str,
    at: &Located<W>,
    name: &str,
    error: Option<&admin::UpdateFailureState>,
    serving: Option<String>,
    refused_name: impl Fn(&Any) -> Option<String>,
) {
    let Some(e) = error else { return };
    let own = Some(name.to_string()).filter(|n| !n.is_empty());
    let refused = e.failed_configuration.as_ref().and_then(&refused_name);
    let name_from = match (&own, &refused) {
        (Some(_), _) => Some("entry"),
        (None, Some(_)) => Some("failed_configuration"),
        (None, None) => None,
    };
    out.push(RejectedUpdate {
        kind,
        name: own.or(refused),
        name_from,
        version_info: Some(e.version_info.clone()).filter(|v| !v.is_empty()),
        details: e.details.clone(),
        last_update_attempt: super::lists::when(e.last_update_attempt.as_ref()),
        serving: serving.filter(|v| !v.is_empty()),
        pointer: format!("{}/error_state", at.pointer).into(),
    });
}

/// The `name` of a resource in an `Any`, when it is of type `T`.
fn name_of<T: prost::Message + prost::Name + Default + Named>(any: &Any) -> Option<String> {
    match unpack::<T>(Some(any)) {
        Unpacked::Known(t) => Some(t.name().to_string()).filter(|n| !n.is_empty()),
        _ => None,
    }
}

trait Named {
    fn name(&self) -> &str;
}

macro_rules! named {
    ($($t:ty => $f:ident),*) => {$(
        impl Named for $t {
            fn name(&self) -> &str {
                &self.$f
            }
        }
    )*};
}

named!(PbListener => name, PbCluster => name, RouteConfiguration => name, PbSecret => name, ClusterLoadAssignment => cluster_name);
