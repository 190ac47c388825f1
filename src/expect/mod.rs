//! Expectations: what a proxy should look like (identity, roots, per-cluster TLS and peers,
//! policies, secrets, certificate lifetimes), read from YAML or JSON, written from a known-good
//! dump (`generate`), and checked against a report (`check`). Works on the model only.

mod authz;
mod check;
mod cluster;
pub mod fleet;
mod generate;
pub(crate) mod san;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::model::tls::TlsKind;
pub use crate::model::Span;
use crate::model::{Fingerprint, MtlsMode, OutboundMode, ServerName, SpiffeId, TrustDomain};
pub use check::{check, CheckInput};
pub use cluster::glob;
pub use generate::{generate, GenerateOptions, Generated};

/// The only version so far; a file must say it, so a future format is never misread.
pub const VERSION: u32 = 1;

/// What a proxy must be (docs/expectations.md): its identity, roots, traffic policy, inbound
/// modes, clusters' TLS, secrets, certificates and authorization policies. Every part is
/// optional; what is not given is not checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Expectations {
    /// The format's version (1).
    pub version: u32,
    /// Who the proxy is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityExpect>,
    /// Whom it trusts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roots: Option<RootsExpect>,
    /// Its outbound traffic policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound: Option<OutboundExpect>,
    /// The mTLS mode of each inbound port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound: Option<InboundExpect>,
    /// The TLS of its clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<ClustersExpect>,
    /// The secrets that must be in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SecretsExpect>,
    /// Time left and lifetime of its certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<CertificatesExpect>,
    /// Its authorization policies and whom they name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authz: Option<authz::AuthzExpect>,
}

fn yes() -> bool {
    true
}

/// The workload identity the proxy presents (from its `default`-like certificate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IdentityExpect {
    /// The SPIFFE ID, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spiffe_id: Option<SpiffeId>,
    /// The trust domain of the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domain: Option<TrustDomain>,
}

/// Root CAs the proxy trusts, by SHA-256 fingerprint, or as in PEM files (paths relative to the
/// expectations file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RootsExpect {
    /// Whether a root not listed is allowed (else it is drift).
    #[serde(default = "yes")]
    pub allow_extra: bool,
    /// Roots by SHA-256 fingerprint of their DER.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sha256: Vec<Fingerprint>,
    /// PEM files whose CA certificates are the roots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_as: Vec<String>,
}

/// The outbound traffic policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OutboundExpect {
    /// `ALLOW_ANY` or `REGISTRY_ONLY`.
    pub policy: OutboundMode,
}

/// The mTLS mode of inbound ports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InboundExpect {
    /// Whether a port not listed is allowed.
    #[serde(default = "yes")]
    pub allow_extra: bool,
    /// Each port's mode (`*`: every port without a chain of its own).
    pub ports: BTreeMap<PortKey, MtlsMode>,
}

/// An inbound port, or `*` for every port without a chain of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortKey(pub Option<u32>);

impl FromStr for PortKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "*" => Ok(PortKey(None)),
            p => p
                .parse()
                .map(|p| PortKey(Some(p)))
                .map_err(|_| format!("invalid port {s:?}: a number or *")),
        }
    }
}

impl fmt::Display for PortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, "{p}"),
            None => f.write_str("*"),
        }
    }
}

impl Serialize for PortKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PortKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The clusters' TLS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClustersExpect {
    /// Whether a cluster no item selects is drift.
    #[serde(default = "yes")]
    pub allow_extra: bool,
    /// Selectors and what must hold for the clusters they select.
    #[serde(default)]
    pub items: Vec<ClusterExpect>,
}

/// One or more clusters, selected by exact name, glob on the name, or Istio FQDN (with port,
/// subset, direction), and what must hold for each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawClusterExpect")]
#[non_exhaustive]
pub struct ClusterExpect {
    /// Which clusters.
    #[serde(flatten)]
    pub select: Select,
    /// How they protect their connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsKind>,
    /// The SNI they send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<ServerName>,
    /// The ALPN they offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<Vec<String>>,
    /// Peer identities (SPIFFE IDs, or DNS names) the cluster's SAN matchers must accept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    /// Peer identities they must reject.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reject: Vec<String>,
}

/// How a cluster item selects clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Select {
    /// One cluster, by its exact name.
    Name {
        /// The name.
        name: String,
    },
    /// Clusters whose name matches a glob (`*`, `?`).
    Glob {
        /// The glob.
        glob: String,
    },
    /// Clusters by their Istio name's parts.
    Istio {
        /// The host.
        fqdn: String,
        /// The port, when given.
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
        /// The DestinationRule subset, when given.
        #[serde(skip_serializing_if = "Option::is_none")]
        subset: Option<String>,
        /// `outbound` or `inbound`, when given.
        #[serde(skip_serializing_if = "Option::is_none")]
        direction: Option<String>,
    },
}

impl fmt::Display for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Select::Name { name } => write!(f, "name={name}"),
            Select::Glob { glob } => write!(f, "glob={glob}"),
            Select::Istio {
                fqdn,
                port,
                subset,
                direction,
            } => {
                write!(f, "fqdn={fqdn}")?;
                if let Some(p) = port {
                    write!(f, ",port={p}")?;
                }
                if let Some(s) = subset {
                    write!(f, ",subset={s}")?;
                }
                if let Some(d) = direction {
                    write!(f, ",direction={d}")?;
                }
                Ok(())
            }
        }
    }
}

/// What a file may say about a cluster; turned into [`ClusterExpect`] once the selector is
/// known to be exactly one of `name`, `glob`, `fqdn`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClusterExpect {
    name: Option<String>,
    glob: Option<String>,
    fqdn: Option<String>,
    port: Option<u16>,
    subset: Option<String>,
    direction: Option<String>,
    tls: Option<TlsKind>,
    sni: Option<ServerName>,
    alpn: Option<Vec<String>>,
    #[serde(default)]
    accept: Vec<String>,
    #[serde(default)]
    reject: Vec<String>,
}

impl TryFrom<RawClusterExpect> for ClusterExpect {
    type Error = String;

    fn try_from(r: RawClusterExpect) -> Result<Self, String> {
        let istio_only = r.port.is_some() || r.subset.is_some() || r.direction.is_some();
        let select = match (r.name, r.glob, r.fqdn) {
            (Some(name), None, None) if !istio_only => Select::Name { name },
            (None, Some(glob), None) if !istio_only => Select::Glob { glob },
            (None, None, Some(fqdn)) => Select::Istio {
                fqdn,
                port: r.port,
                subset: r.subset,
                direction: r.direction,
            },
            _ => {
                return Err(
                    "a cluster item selects by exactly one of `name`, `glob`, or `fqdn` \
                            (with optional `port`, `subset`, `direction`)"
                        .into(),
                )
            }
        };
        Ok(ClusterExpect {
            select,
            tls: r.tls,
            sni: r.sni,
            alpn: r.alpn,
            accept: r.accept,
            reject: r.reject,
        })
    }
}

/// The secrets in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SecretsExpect {
    /// Whether an active secret not listed is drift.
    #[serde(default = "yes")]
    pub allow_extra: bool,
    /// Secrets that must be ACTIVE (or STATIC).
    #[serde(default)]
    pub active: Vec<String>,
}

/// Time left and lifetime of the certificates in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CertificatesExpect {
    /// Every certificate of a secret in force (leaves, intermediates and roots alike) has at least
    /// this long left at `--now`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_time_left: Option<Span>,
    /// No leaf (non-CA) certificate of a secret in force is valid for longer than this in total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<Span>,
}

/// A file that is not valid expectations: where, and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpectError {
    /// Not YAML (or JSON) at all.
    #[error("{name}:{line}:{column}: {what}")]
    Syntax {
        /// The file.
        name: String,
        /// Where, from 1.
        line: usize,
        /// Where, from 1.
        column: usize,
        /// The parser's reason.
        what: String,
    },
    /// YAML, but not valid expectations.
    #[error("{name}: {what}")]
    Invalid {
        /// The file.
        name: String,
        /// What is wrong.
        what: String,
    },
}

/// The text of a file that must be UTF-8.
pub(crate) fn utf8<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, ExpectError> {
    std::str::from_utf8(bytes).map_err(|e| ExpectError::Invalid {
        name: name.into(),
        what: format!("not UTF-8 text ({e})"),
    })
}

/// YAML into `T`, an error naming the file, line and column.
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(
    name: &str,
    text: &str,
) -> Result<T, ExpectError> {
    serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let what = e.to_string();
        // serde_norway appends " at line L column C"; the position is in front already.
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        ExpectError::Syntax {
            name: name.into(),
            line,
            column,
            what,
        }
    })
}

impl Expectations {
    /// Reads YAML, or JSON (a file starting with `{`), naming `name` and line:column on error.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Self, ExpectError> {
        let text = utf8(name, bytes)?;
        let e: Expectations = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| ExpectError::Syntax {
                name: name.into(),
                line: e.line(),
                column: e.column(),
                what: e
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            })?
        } else {
            from_yaml(name, text)?
        };
        if e.version != VERSION {
            return Err(ExpectError::Invalid {
                name: name.into(),
                what: format!(
                    "version {} is not supported (this envinspect reads version {VERSION})",
                    e.version
                ),
            });
        }
        Ok(e)
    }

    /// YAML with a header comment; the form `envinspect expect` writes.
    pub fn to_yaml(&self, header: &[String]) -> Result<String, serde_norway::Error> {
        let mut out = String::new();
        for line in header {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&serde_norway::to_string(self)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_and_column() {
        let cases = [
            (
                "version: 1\nidentity:\n  spiffe_id: spiffe:///ns/x\n",
                "e.yaml:3:",
            ),
            (
                "version: 1\nclusters:\n  items:\n  - name: a\n    glob: b*\n",
                "e.yaml:4:",
            ),
            ("version: 1\nroots:\n  sha: []\n", "e.yaml:3:"),
            (
                "version: 1\ncertificates:\n  min_time_left: 12 hours\n",
                "e.yaml:3:",
            ),
            (
                "version: 1\ninbound:\n  ports:\n    http: STRICT\n",
                "e.yaml:4:",
            ),
            (
                "{\"version\": 1, \"outbound\": {\"policy\": \"OPEN\"}}",
                "e.yaml:1:",
            ),
        ];
        for (text, want) in cases {
            let e = Expectations::parse("e.yaml", text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(want), "{e} does not start with {want}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
        let e = Expectations::parse("e.yaml", b"version: 2\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "e.yaml: version 2 is not supported (this envinspect reads version 1)"
        );
    }

    #[test]
    fn round_trips_through_yaml() {
        let text = "version: 1\ninbound:\n  allow_extra: false\n  ports:\n    '*': PERMISSIVE\n    8443: STRICT\nclusters:\n  items:\n  - fqdn: reviews.default.svc.cluster.local\n    port: 9080\n    tls: istio-mtls\n    accept:\n    - spiffe://cluster.local/ns/default/sa/reviews\n  - glob: outbound|*||*.shop.svc.cluster.local\n    tls: auto\ncertificates:\n  min_time_left: 12h\n";
        let e = Expectations::parse("e.yaml", text.as_bytes()).unwrap();
        assert_eq!(
            e.inbound.as_ref().unwrap().ports[&PortKey(Some(8443))],
            MtlsMode::Strict
        );
        assert!(e.clusters.as_ref().unwrap().allow_extra);
        let again = Expectations::parse("again.yaml", e.to_yaml(&[]).unwrap().as_bytes()).unwrap();
        assert_eq!(again, e);
    }
}
