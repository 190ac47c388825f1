//! Is a proxy in sync with its control plane, and did it refuse anything? What istiod's
//! `debug/syncz` says of each proxy (per xDS type: sent, acknowledged, refused), what a proxy's own
//! dump says it refused (`error_state`) and the versions it serves, and how the two agree.

use std::fmt;

use serde::Serialize;

use super::{Finding, Timestamp};

/// An xDS resource type, by its type URL. The five istioctl prints a column for have names;
/// every other type (ztunnel's workloads and authorizations, SDS…) keeps its URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum XdsType {
    /// Clusters (CDS).
    Cds,
    /// Listeners (LDS).
    Lds,
    /// Endpoints (EDS).
    Eds,
    /// Routes (RDS).
    Rds,
    /// Extension configurations (ECDS).
    Ecds,
    /// Secrets (SDS).
    Sds,
    /// Any other type, by its type URL.
    Other(String),
}

impl XdsType {
    /// The columns of istioctl proxy-status, in its order.
    pub const COLUMNS: [XdsType; 5] = [
        XdsType::Cds,
        XdsType::Lds,
        XdsType::Eds,
        XdsType::Rds,
        XdsType::Ecds,
    ];

    /// The type a type URL names (`type.googleapis.com/envoy.config.cluster.v3.Cluster` is CDS).
    pub fn from_url(url: &str) -> XdsType {
        let name = url.rsplit('/').next().unwrap_or(url);
        match name {
            "envoy.config.cluster.v3.Cluster" => XdsType::Cds,
            "envoy.config.listener.v3.Listener" => XdsType::Lds,
            "envoy.config.endpoint.v3.ClusterLoadAssignment" => XdsType::Eds,
            "envoy.config.route.v3.RouteConfiguration" => XdsType::Rds,
            "envoy.config.core.v3.TypedExtensionConfig" => XdsType::Ecds,
            "envoy.extensions.transport_sockets.tls.v3.Secret" => XdsType::Sds,
            _ => XdsType::Other(url.to_string()),
        }
    }

    /// istioctl's short name (`CDS`…), or the type URL.
    pub fn label(&self) -> &str {
        match self {
            XdsType::Cds => "CDS",
            XdsType::Lds => "LDS",
            XdsType::Eds => "EDS",
            XdsType::Rds => "RDS",
            XdsType::Ecds => "ECDS",
            XdsType::Sds => "SDS",
            XdsType::Other(url) => url,
        }
    }
}

impl fmt::Display for XdsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for XdsType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

/// A proxy's sync state for one xDS type, as istioctl proxy-status prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SyncState {
    /// The last response sent was acknowledged.
    Synced,
    /// Nothing of this type was sent (the proxy did not ask for it).
    NotSent,
    /// Not a type this proxy takes (a ztunnel's CDS…), or the control plane does not know.
    Ignored,
    /// A response was sent and not (yet) acknowledged; an older one was.
    Stale,
    /// A response was sent and none was ever acknowledged.
    StaleNeverAcknowledged,
    /// The proxy refused the last response (a NACK).
    Error,
}

impl SyncState {
    /// As istioctl prints it.
    pub fn label(self) -> &'static str {
        match self {
            SyncState::Synced => "SYNCED",
            SyncState::NotSent => "NOT SENT",
            SyncState::Ignored => "IGNORED",
            SyncState::Stale => "STALE",
            SyncState::StaleNeverAcknowledged => "STALE (Never Acknowledged)",
            SyncState::Error => "ERROR",
        }
    }

    /// How bad it is, for "the worst state of a proxy": a NACK, then stale, then the rest.
    pub fn severity(self) -> u8 {
        match self {
            SyncState::Error => 3,
            SyncState::Stale | SyncState::StaleNeverAcknowledged => 2,
            SyncState::NotSent | SyncState::Ignored => 0,
            SyncState::Synced => 1,
        }
    }

    /// Whether the proxy serves something other than what was last sent.
    pub fn is_out_of_sync(self) -> bool {
        self.severity() >= 2
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which of istiod's two syncz forms a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SynczForm {
    /// HTTP `/debug/syncz`, what a bug-report holds: a JSON list of SyncStatus objects (nonces
    /// sent and acknowledged per type; Istio 1.23+ adds `resources` with `lastError`).
    SyncStatus,
    /// The xDS form (`istioctl proxy-status -o json`, `istioctl x internal-debug syncz`): a
    /// DiscoveryResponse of `envoy.service.status.v3.ClientConfig`.
    ClientConfig,
}

/// One xDS type of one proxy, as istiod saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TypeSync {
    /// The type.
    #[serde(rename = "type")]
    pub xds_type: XdsType,
    /// How far the proxy has caught up with what istiod sent.
    pub state: SyncState,
    /// The push version of the last response sent (the nonce without its UUID), SyncStatus form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
    /// The push version of the last response acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked: Option<String>,
    /// The proxy's reason for refusing the last response (a NACK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was last sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sent: Option<Timestamp>,
}

/// One proxy connected to one istiod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProxySync {
    /// The proxy's node ID as istiod knows it (`POD.NAMESPACE` for Istio's sidecars and gateways).
    pub name: String,
    /// Its Kubernetes cluster (`CLUSTER_ID`).
    pub cluster: String,
    /// Its namespace, when the node ID names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The istiod it is connected to.
    pub istiod: String,
    /// Its Istio version (`VERSION`); a proxy version followed by `*` when istiod had only that.
    pub version: String,
    /// Every type istiod tracks for it: the five columns first, then the rest by URL.
    pub types: Vec<TypeSync>,
    /// The syncz file it was read from.
    pub file: String,
}

impl ProxySync {
    /// The state of `t`: IGNORED when istiod tracks nothing of it, as istioctl prints it.
    pub fn state(&self, t: &XdsType) -> SyncState {
        self.types
            .iter()
            .find(|s| &s.xds_type == t)
            .map_or(SyncState::Ignored, |s| s.state)
    }

    /// The worst state of any type, and the types in it (`None` when every type is synced, not
    /// sent or ignored).
    pub fn worst(&self) -> Option<(SyncState, Vec<&XdsType>)> {
        let worst = self
            .types
            .iter()
            .map(|t| t.state)
            .filter(|s| s.is_out_of_sync())
            .max_by_key(|s| s.severity())?;
        let types = self
            .types
            .iter()
            .filter(|t| t.state.severity() == worst.severity())
            .map(|t| &t.xds_type)
            .collect();
        Some((worst, types))
    }

    /// `SYNCED`, or the worst state and its types: `ERROR (LDS)`, `STALE (CDS,EDS)`.
    pub fn summary(&self) -> String {
        match self.worst() {
            None if self.types.iter().any(|t| t.state == SyncState::Synced) => "SYNCED".into(),
            None => "NOT SENT".into(),
            Some((state, types)) => {
                let state = match state {
                    SyncState::StaleNeverAcknowledged => SyncState::Stale,
                    s => s,
                };
                let names: Vec<&str> = types.iter().map(|t| t.label()).collect();
                format!("{state} ({})", names.join(","))
            }
        }
    }
}

/// One syncz file read: which istiod, which form, how many proxies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SynczSource {
    /// The file's path (in the bundle, or as given).
    pub file: String,
    /// The istiod that wrote it: its pod, or the `controlPlane` identifier.
    pub istiod: String,
    /// Which of the two forms it has.
    pub form: SynczForm,
    /// How many proxies it lists.
    pub proxies: usize,
}

/// The answer of `proxy-status`: every proxy of every syncz, and what is wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SyncReport {
    /// The version of this output's schema (docs/output-schema.md).
    pub schema_version: u32,
    /// Each syncz file read.
    pub sources: Vec<SynczSource>,
    /// Sorted as istioctl sorts them: by name (and cluster, istiod).
    pub proxies: Vec<ProxySync>,
    /// `sync-nack`, `sync-stale` (docs/rules.md), subject the proxy's name.
    pub findings: Vec<Finding>,
}

impl SyncReport {
    /// The report of these syncz sources and their proxies, with these findings, at the current
    /// schema version (a bundle's syncz files are read by `bundle::analyse`; this is their answer).
    pub fn new(sources: Vec<SynczSource>, proxies: Vec<ProxySync>, findings: Vec<Finding>) -> Self {
        SyncReport {
            schema_version: super::report::SCHEMA_VERSION,
            sources,
            proxies,
            findings,
        }
    }
}

/// An update a proxy refused: its dump's `error_state`. Envoy kept serving the previous version
/// (if it had one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct RejectedUpdate {
    /// `listener`, `cluster`, `route_config`, `secret`, `endpoint_config`, `ecds_filter`.
    pub kind: &'static str,
    /// The resource's name: the entry's, else the refused configuration's; `None` when Envoy
    /// recorded the failure with neither.
    pub name: Option<String>,
    /// Where the name comes from: `entry` (the dump's entry names it) or `failed_configuration`
    /// (an entry with only an `error_state`: the name is the refused resource's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_from: Option<&'static str>,
    /// The refused version (`error_state.version_info`), when Envoy recorded it.
    pub version_info: Option<String>,
    /// Envoy's reason, as it wrote it.
    pub details: String,
    /// When Envoy last tried to apply it, as it recorded.
    pub last_update_attempt: Option<Timestamp>,
    /// The version Envoy still serves for that resource, if any.
    pub serving: Option<String>,
    /// JSON Pointer to the dump's `error_state`.
    pub pointer: crate::model::Pointer,
}

impl RejectedUpdate {
    /// The xDS type that delivered the refused resource.
    pub fn xds_type(&self) -> XdsType {
        match self.kind {
            "listener" => XdsType::Lds,
            "cluster" => XdsType::Cds,
            "route_config" => XdsType::Rds,
            "endpoint_config" => XdsType::Eds,
            "secret" => XdsType::Sds,
            _ => XdsType::Ecds,
        }
    }

    /// Envoy's reason on one line ([`one_line`]).
    pub fn reason(&self) -> String {
        one_line(&self.details)
    }
}

/// A reason Envoy gave for refusing configuration, on one line: runs of whitespace (the refused
/// proto's text, line breaks) as one space, without protobuf's `goo.gle/debug…` marker (protobuf
/// puts one before a message's debug text so that nobody parses it; it is not Envoy's words).
pub fn one_line(details: &str) -> String {
    details
        .split_whitespace()
        .filter(|w| !w.starts_with("goo.gle/debug"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a dump says of its own sync state: the system version of each xDS type its top level
/// records (`ClustersConfigDump` and `ListenersConfigDump` `version_info`: the last version the
/// proxy accepted, what it acked), and the types of the updates it refused (`error_state`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedVersions {
    /// The clusters' `version_info`: the last CDS version accepted.
    pub cds: Option<String>,
    /// The listeners' `version_info`: the last LDS version accepted.
    pub lds: Option<String>,
    /// The xDS types with an `error_state` in the dump, each once.
    pub refused: Vec<XdsType>,
}

impl AcceptedVersions {
    /// The accepted version of type `t`, when the dump records one (CDS and LDS only).
    pub fn of(&self, t: &XdsType) -> Option<&str> {
        match t {
            XdsType::Cds => self.cds.as_deref(),
            XdsType::Lds => self.lds.as_deref(),
            _ => None,
        }
    }
}
