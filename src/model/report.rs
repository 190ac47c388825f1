//! The proxy report: what `envinspect dump.json` prints, and the JSON document's root.

use serde::Serialize;

use super::cert::{MissingSecret, Secret, TrustRole};
use super::ids::{SpiffeId, TrustDomain};
use super::policy::{InboundPort, OutboundPolicy};
use super::{Cluster, Endpoint, Listener, RouteConfig};

/// Version of the JSON document's layout (`docs/output-schema.md`).
pub const SCHEMA_VERSION: u32 = 1;

/// Its fields are declared in key order, the order the JSON document has: the sorted writer
/// (`render::json`) then never has to reorder, and copy, the whole document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// What a ztunnel (Istio ambient) holds: workloads, services, L4 policies, connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambient: Option<super::ambient::Ambient>,
    /// What guards each port: its authorization layers in order, one line per port.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authz: Vec<super::decision::PortSummary>,
    /// Every cluster, sorted by name.
    pub clusters: Vec<Cluster>,
    /// How many resources of each kind the dump holds, by state.
    pub counts: SectionCounts,
    /// What kind of document was read.
    pub document: DocumentKind,
    /// Every endpoint, by cluster.
    pub endpoints: Vec<Endpoint>,
    /// What is wrong, by rule (docs/rules.md); sorted by level, rule, subject.
    pub findings: Vec<crate::model::Finding>,
    /// Every distinct certificate the proxy presents or holds, primary first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<WorkloadIdentity>,
    /// Who the proxy is: the first of `identities` that a TLS context uses.
    pub identity: Option<WorkloadIdentity>,
    /// The inbound mTLS mode of each port of each inbound listener.
    pub inbound: Vec<InboundPort>,
    /// Every listener, sorted by name.
    pub listeners: Vec<Listener>,
    /// SDS secrets that TLS contexts name but the dump does not hold.
    pub missing_secrets: Vec<MissingSecret>,
    /// The proxy's node, when the dump has a bootstrap.
    pub node: Option<Node>,
    /// The `--now` the validity columns were computed at (RFC 3339).
    pub now: super::Timestamp,
    /// What happens to outbound connections to destinations with no chain of their own.
    pub outbound: OutboundPolicy,
    /// Updates the proxy refused (`error_state`): it serves the previous version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected_updates: Vec<super::sync::RejectedUpdate>,
    /// Every route configuration, sorted by name.
    pub routes: Vec<RouteConfig>,
    /// The version of this output's schema (docs/output-schema.md).
    pub schema_version: u32,
    /// Every secret, with its certificates (never its private key).
    pub secrets: Vec<Secret>,
    /// The document read (a file name or admin URL).
    pub source: String,
    /// What could not be decoded, grouped by message.
    pub warnings: Vec<Warning>,
    /// The CDS and LDS versions the dump says were accepted last (for `proxy-status`'s
    /// cross-check); not printed.
    #[serde(skip)]
    pub accepted: super::sync::AcceptedVersions,
    /// The threshold below which a certificate's time left is a warning (`--expiry-warning`),
    /// as the report was judged with; the HTML timeline marks it. Not printed.
    #[serde(skip)]
    pub expiry_warning: super::Span,
}

/// Root CAs by fingerprint, each with the secret it is in and its subject.
pub type Roots = std::collections::BTreeMap<super::Fingerprint, (String, String)>;

impl Report {
    /// The SDS certificate of a TLS context that the proxy does not hold, and why: never
    /// delivered (`uninitialized`), still warming, or absent from a dump that has secrets. A
    /// server with it has no certificate to present: TLS handshakes fail (measured on Envoy 1.40:
    /// the connection is reset, curl exit 35).
    pub fn undelivered_certificate(&self, ctx: &super::TlsContext) -> Option<String> {
        use super::cert::SecretState;
        for c in &ctx.certificates {
            let super::tls::CertSource::Sds { name } = c else {
                continue;
            };
            let held: Vec<&super::Secret> =
                self.secrets.iter().filter(|s| &s.name == name).collect();
            if held.iter().any(|s| s.state.in_force()) {
                continue;
            }
            let why = match held.first().map(|s| s.state) {
                Some(SecretState::Uninitialized) => {
                    "was never delivered (SDS secret uninitialized)"
                }
                Some(SecretState::Warming) => {
                    "is still warming (requested from SDS, not delivered)"
                }
                None if self.counts.secrets.is_some() => "is not in the dump's secrets",
                _ => continue,
            };
            return Some(format!("certificate {name} {why}"));
        }
        None
    }

    /// Every root CA the proxy trusts (CA certificates of its validation secrets, inline CAs,
    /// SPIFFE bundles), by SHA-256, with the secret and subject it comes from.
    pub fn trusted_roots(&self) -> Roots {
        self.roots_where(|_| true)
    }

    /// The roots used to verify mesh peers (see [`TrustRole`]); every root when no context in
    /// the dump says what its roots are for (a secrets-only dump).
    pub fn mesh_roots(&self) -> Roots {
        if self.secrets.iter().all(|s| s.trust_role.is_none()) {
            return self.trusted_roots();
        }
        self.roots_where(|s| s.trust_role == Some(TrustRole::Mesh))
    }

    /// The roots used only for TLS to hosts outside the mesh.
    pub fn external_roots(&self) -> Roots {
        self.other_roots(TrustRole::External)
    }

    /// The roots used only to verify the control plane.
    pub fn control_plane_roots(&self) -> Roots {
        self.other_roots(TrustRole::ControlPlane)
    }

    fn other_roots(&self, role: TrustRole) -> Roots {
        let mesh = self.mesh_roots();
        let mut other = self.roots_where(|s| s.trust_role == Some(role));
        other.retain(|k, _| !mesh.contains_key(k));
        other
    }

    fn roots_where(&self, keep: impl Fn(&super::cert::Secret) -> bool) -> Roots {
        use super::cert::SecretKind;
        let mut roots = std::collections::BTreeMap::new();
        for s in self
            .secrets
            .iter()
            .filter(|s| s.state.in_force() && keep(s))
        {
            let certs = s.certificates.iter().filter(|_| s.kind == SecretKind::Ca);
            let bundles = s.trust_bundles.iter().flat_map(|b| &b.certificates);
            for c in certs.chain(bundles).filter(|c| c.is_ca) {
                if let Some(fp) = &c.sha256 {
                    roots
                        .entry(fp.clone())
                        .or_insert_with(|| (s.label(), c.subject.clone()));
                }
            }
        }
        roots
    }

    /// How many decoding issues of severity error the dump has.
    pub fn error_count(&self) -> usize {
        self.warnings
            .iter()
            .filter(|w| w.severity == Severity::Error)
            .map(|w| w.count)
            .sum()
    }
}

/// The proxy's node, from the bootstrap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Node {
    /// The node ID (`sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local` for Istio).
    pub id: String,
    /// The node's cluster (for Istio, `app.namespace`).
    pub cluster: Option<String>,
    /// `sidecar`, `router`, `waypoint`… (first part of an Istio node id).
    pub proxy_type: Option<String>,
    /// The pod IP (second part of an Istio node id).
    pub ip: Option<String>,
    /// `pod.namespace` from an Istio node id.
    pub workload: Option<String>,
    /// Istio's version, from the node metadata.
    pub istio_version: Option<String>,
    /// `1.18.3/Clean/RELEASE/BoringSSL`, as istioctl prints it.
    pub envoy_version: Option<String>,
    /// The clusters the bootstrap fetches configuration (xDS) over: a certificate presented only
    /// to them is the proxy's link to its control plane, not its workload identity.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub control_plane_clusters: Vec<String>,
    /// Istio's traffic redirection settings from the node metadata (its pod's annotations);
    /// absent for proxies whose metadata has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interception: Option<super::intercept::Interception>,
}

/// Resource counts per section; `None` where the dump has no such section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SectionCounts {
    /// Clusters.
    pub clusters: Option<Counts>,
    /// Listeners.
    pub listeners: Option<Counts>,
    /// Route configurations.
    pub routes: Option<Counts>,
    /// Endpoint configurations.
    pub endpoints: Option<Counts>,
    /// Secrets.
    pub secrets: Option<Counts>,
    /// Scoped route configurations.
    pub scoped_routes: Option<usize>,
    /// Extension configurations (ECDS filters).
    pub ecds_filters: Option<usize>,
}

impl Counts {
    /// Counts of each state.
    pub fn of(static_: usize, active: usize, warming: usize, draining: usize) -> Self {
        Self {
            static_,
            active,
            warming,
            draining,
        }
    }
}

/// How many resources of one section are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counts {
    /// Static: from the bootstrap.
    #[serde(rename = "static")]
    pub static_: usize,
    /// Dynamic, in use.
    pub active: usize,
    /// Dynamic, waiting for their dependencies before use.
    pub warming: usize,
    /// Dynamic, being drained after an update or removal.
    pub draining: usize,
}

/// Who the proxy says it is: a certificate it presents (or holds), with the SPIFFE ID of its leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WorkloadIdentity {
    /// The secret holding the certificate: an SDS name, or an inline certificate's owner.
    pub secret: super::SecretName,
    /// The leaf's SPIFFE ID, when it has one.
    pub spiffe_id: Option<SpiffeId>,
    /// The trust domain of that SPIFFE ID.
    pub trust_domain: Option<TrustDomain>,
    /// The leaf's DNS SANs: how meshes without SPIFFE (OSM) name workloads.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    /// The leaf's serial number.
    pub serial: Option<super::Serial>,
    /// When the leaf expires.
    pub not_after: Option<super::Timestamp>,
    /// Whether the leaf is valid at `now`.
    pub valid_now: bool,
    /// Why no identity could be read from the secret, when none could.
    pub problem: Option<String>,
    /// How the proxy uses it; the report's `identity` is the first by this order.
    pub basis: IdentityBasis,
    /// Listener chains that present it as their server certificate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server: Vec<String>,
    /// Clusters (and transport socket matches) that present it as their client certificate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client: Vec<String>,
    /// Other secrets holding the same leaf (inline copies in several contexts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<String>,
}

/// Why a certificate is taken as who the proxy is, in the order the primary identity is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IdentityBasis {
    /// The server certificate of an inbound listener (traffic_direction INBOUND, virtualInbound).
    InboundServer,
    /// A client certificate the proxy presents to upstream clusters.
    Client,
    /// The server certificate of another listener (a gateway's public certificate).
    Server,
    /// A client certificate presented only to the control plane (the xDS clusters).
    ControlPlane,
    /// A certificate secret that no TLS context in the dump references.
    Unreferenced,
    /// A certificate ztunnel holds to serve a workload of its node under that identity.
    Ztunnel,
}

impl std::fmt::Display for IdentityBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdentityBasis::InboundServer => "inbound server certificate",
            IdentityBasis::Client => "client certificate",
            IdentityBasis::Server => "server certificate",
            IdentityBasis::ControlPlane => "control-plane client certificate",
            IdentityBasis::Unreferenced => "unreferenced secret",
            IdentityBasis::Ztunnel => "held by ztunnel for a workload",
        })
    }
}

/// Decoding issues, grouped by message: how many times, and the first place (JSON Pointer).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Warning {
    /// How bad it is.
    pub severity: Severity,
    /// What could not be decoded.
    pub message: String,
    /// How many times it happened.
    pub count: usize,
    /// JSON Pointer to the first place it happened.
    pub first_pointer: String,
    /// The type kept as raw JSON, when that is what the warning is about (read by rules).
    #[serde(skip)]
    pub kept_raw: Option<String>,
    /// Values the message quotes that change at every rotation (scrubbed by `--redact`).
    #[serde(skip)]
    pub quoted: Vec<String>,
}

/// How bad a decoding issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Tolerated: an unknown type, field or enum value; a v2 name read as v3.
    Warning,
    /// Dropped: a value of the wrong type, a resource that could not be decoded.
    Error,
}

/// Which admin endpoint produced the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DocumentKind {
    /// `/config_dump` (with or without `?include_eds`), or `istioctl proxy-config all -o json`.
    ConfigDump,
    /// `/certs`.
    Certs,
    /// `/clusters?format=json`.
    ClusterStatuses,
    /// `/server_info`.
    ServerInfo,
    /// A PEM (any number of blocks) or DER certificate file.
    Certificates,
    /// Istio ambient's ztunnel `/config_dump` (ztunnel is not Envoy: its own format).
    Ztunnel,
}

impl DocumentKind {
    /// What a user calls it.
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::ConfigDump => "config dump",
            DocumentKind::Certs => "/certs",
            DocumentKind::ClusterStatuses => "/clusters",
            DocumentKind::ServerInfo => "/server_info",
            DocumentKind::Certificates => "certificate file",
            DocumentKind::Ztunnel => "ztunnel config dump",
        }
    }
}
