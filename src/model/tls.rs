//! How a connection is (or is not) protected: transport sockets, TLS contexts, where their
//! certificates and trust come from, and which peer names they accept.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{ServerName, TrustDomain};
use super::RawConfig;

/// What a cluster or filter chain puts on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Socket {
    /// No TLS.
    Plaintext {
        /// Why.
        reason: NoTls,
    },
    /// TLS, with its context.
    Tls(Box<TlsContext>),
    /// A transport socket we do not model (ALTS, tap, PROXY protocol…), kept as it was.
    Other {
        /// The transport socket's name.
        name: String,
        /// Its configuration, as it was.
        config: Option<RawConfig>,
    },
}

/// Why there is no TLS: absence carries a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoTls {
    /// No transport socket configured at all.
    NoTransportSocket,
    /// An explicit `raw_buffer` socket (e.g. Istio's `tlsMode-disabled` match).
    RawBuffer,
}

/// A cluster's upstream protection: a default socket, plus per-endpoint overrides chosen by
/// `transport_socket_matches` (Istio auto-mTLS).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UpstreamTls {
    /// The socket for endpoints no match selects.
    pub default: Socket,
    /// `transport_socket_matches`, in order: the first whose criteria an endpoint's metadata meets.
    pub matches: Vec<SocketMatch>,
}

/// One entry of `transport_socket_matches`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SocketMatch {
    /// Its name.
    pub name: String,
    /// Endpoint metadata (`envoy.transport_socket_match`) this entry matches; empty matches all.
    pub criteria: BTreeMap<String, String>,
    /// The socket endpoints it matches get.
    pub socket: Socket,
}

/// The TLS mode of a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TlsMode {
    /// Server authenticated only.
    Simple,
    /// Both sides present certificates (upstream: a client cert is configured; downstream: one
    /// is required).
    Mutual,
}

/// A TLS context (`UpstreamTlsContext` or `DownstreamTlsContext`), as the facts that decide a handshake.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct TlsContext {
    /// Simple or mutual; `None` when the context cannot tell.
    pub mode: Option<TlsMode>,
    /// The SNI it sends (upstream only).
    pub sni: Option<ServerName>,
    /// The ALPN protocols it offers or accepts.
    pub alpn: Vec<String>,
    /// `tls_minimum_protocol_version`, as written.
    pub min_version: Option<String>,
    /// `tls_maximum_protocol_version`, as written.
    pub max_version: Option<String>,
    /// Where its certificates come from.
    pub certificates: Vec<CertSource>,
    /// Where the roots it verifies the peer with come from.
    pub validation: Vec<ValidationSource>,
    /// The peer's SANs it accepts (any of them); empty: any name.
    pub san_matchers: Vec<SanMatcher>,
    /// Downstream only.
    pub require_client_certificate: Option<bool>,
    /// Inline certificate bytes, moved out into `INLINE` secrets during extraction.
    #[serde(skip)]
    pub inline: Vec<super::cert::InlineMaterial>,
}

/// Where a certificate (chain and key) comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CertSource {
    /// An SDS secret.
    Sds {
        /// Its name.
        name: super::SecretName,
    },
    /// Inline PEM or DER; the size only (the chain is decoded in `secrets`).
    Inline {
        /// How many bytes.
        bytes: usize,
    },
    /// `filename`: a certificate file.
    File {
        /// The file's path.
        path: String,
    },
    /// A certificate provider instance or other mechanism, by name.
    Provider {
        /// The provider's name.
        name: String,
    },
}

/// Where the trust (CA bundle) used to verify the peer comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValidationSource {
    /// An SDS secret.
    Sds {
        /// Its name.
        name: super::SecretName,
    },
    /// Inline CA certificates.
    InlineCa {
        /// How many bytes.
        bytes: usize,
    },
    /// `filename`: a CA file.
    File {
        /// The file's path.
        path: String,
    },
    /// `SPIFFECertValidatorConfig`: one bundle per trust domain.
    SpiffeBundles {
        /// The trust domains it has a bundle for.
        trust_domains: Vec<TrustDomain>,
    },
    /// A custom validator we do not model.
    CustomValidator {
        /// Its name.
        name: String,
    },
    /// A certificate provider instance, by name.
    Provider {
        /// Its name.
        name: String,
    },
}

/// Which SAN types a matcher applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SanKind {
    /// `match_subject_alt_names`: checked against every SAN of every type.
    Any,
    /// URI SANs.
    Uri,
    /// DNS SANs.
    Dns,
    /// IP address SANs.
    Ip,
    /// Email SANs.
    Email,
    /// Other-name SANs.
    OtherName,
}

/// One `match_typed_subject_alt_names` (or `match_subject_alt_names`) entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct SanMatcher {
    /// Which SANs it looks at.
    pub san: SanKind,
    /// How it matches them.
    #[serde(flatten)]
    pub matcher: StringMatch,
}

/// Envoy's `StringMatcher`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct StringMatch {
    /// How it matches.
    pub how: MatchKind,
    /// The value it matches with.
    pub value: String,
    /// `ignore_case`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
}

/// How a string matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MatchKind {
    /// Equal to the value.
    Exact,
    /// Starts with it.
    Prefix,
    /// Ends with it.
    Suffix,
    /// Contains it.
    Contains,
    /// Matches the RE2 regex, whole.
    Regex,
}

impl StringMatch {
    /// An exact, case-sensitive match of `value`.
    pub fn exact(value: impl Into<String>) -> Self {
        Self {
            how: MatchKind::Exact,
            value: value.into(),
            ignore_case: false,
        }
    }

    /// Envoy's `StringMatcher` on `name`. Regexes are RE2 (the `regex` crate's syntax is
    /// RE2's) and, as Envoy's `safe_regex`, must match the whole string; Envoy ignores
    /// `ignore_case` for them. An invalid or oversized regex matches nothing, as Envoy would
    /// have rejected the config.
    pub fn matches(&self, name: &str) -> bool {
        let fold = |x: &str| {
            if self.ignore_case {
                x.to_lowercase()
            } else {
                x.to_string()
            }
        };
        let (value, name_f) = (fold(&self.value), fold(name));
        match self.how {
            MatchKind::Exact => name_f == value,
            MatchKind::Prefix => name_f.starts_with(&value),
            MatchKind::Suffix => name_f.ends_with(&value),
            MatchKind::Contains => name_f.contains(&value),
            MatchKind::Regex => regex::RegexBuilder::new(&format!("^(?:{})$", self.value))
                .size_limit(1 << 20)
                .build()
                .is_ok_and(|re| re.is_match(name)),
        }
    }
}

impl std::fmt::Display for StringMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.how {
            MatchKind::Exact => "exact",
            MatchKind::Prefix => "prefix",
            MatchKind::Suffix => "suffix",
            MatchKind::Contains => "contains",
            MatchKind::Regex => "regex",
        };
        write!(f, "{how} {}", self.value)?;
        if self.ignore_case {
            f.write_str(" (ignore case)")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for SanMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let san = match self.san {
            SanKind::Any => "",
            SanKind::Uri => "URI ",
            SanKind::Dns => "DNS ",
            SanKind::Ip => "IP ",
            SanKind::Email => "email ",
            SanKind::OtherName => "other ",
        };
        let how = match self.matcher.how {
            MatchKind::Exact => "",
            MatchKind::Prefix => "prefix ",
            MatchKind::Suffix => "suffix ",
            MatchKind::Contains => "contains ",
            MatchKind::Regex => "regex ",
        };
        write!(f, "{san}{how}{}", self.matcher.value)?;
        if self.matcher.ignore_case {
            f.write_str(" (ignore case)")?;
        }
        Ok(())
    }
}

impl Socket {
    /// The summary used in tables: `istio-mTLS`, `mTLS cert=…`, `TLS`, `plaintext`, or the
    /// socket's name.
    pub fn summary(&self) -> String {
        match self {
            Socket::Plaintext { .. } => "plaintext".into(),
            // Istio's ISTIO_MUTUAL (the workload certificate) apart from a DestinationRule's
            // MUTUAL, or another mesh's mTLS, with certificates of its own.
            Socket::Tls(ctx) => match ctx.mode {
                Some(TlsMode::Mutual) if ctx.istio_workload_cert() => "istio-mTLS".into(),
                Some(TlsMode::Mutual) => {
                    let certs: Vec<String> =
                        ctx.certificates.iter().map(|c| c.to_string()).collect();
                    format!("mTLS cert={}", certs.join(","))
                }
                _ => "TLS".into(),
            },
            Socket::Other { name, .. } => name.clone(),
        }
    }
}

impl TlsContext {
    /// Presents Istio's workload certificate: SDS `default`, or before SDS (Istio < 1.5) the
    /// mounted /etc/certs/cert-chain.pem.
    pub fn istio_workload_cert(&self) -> bool {
        self.certificates.iter().any(|c| match c {
            CertSource::Sds { name } => name == "default",
            CertSource::File { path } => path == "/etc/certs/cert-chain.pem",
            _ => false,
        })
    }
}

impl UpstreamTls {
    /// Every socket the cluster may use: the default, then each match's.
    pub fn sockets(&self) -> impl Iterator<Item = &Socket> {
        std::iter::once(&self.default).chain(self.matches.iter().map(|m| &m.socket))
    }

    /// The TLS contexts among [`UpstreamTls::sockets`].
    pub fn contexts(&self) -> impl Iterator<Item = &TlsContext> {
        self.sockets().filter_map(|s| match s {
            Socket::Tls(ctx) => Some(ctx.as_ref()),
            _ => None,
        })
    }

    /// `mTLS`, `TLS`, `plaintext`, or for auto-mTLS `auto: tlsMode=istio→mTLS, *→plaintext`.
    pub fn summary(&self) -> String {
        if self.matches.is_empty() {
            return self.default.summary();
        }
        let parts: Vec<String> = self
            .matches
            .iter()
            .map(|m| {
                let crit = if m.criteria.is_empty() {
                    "*".to_string()
                } else {
                    m.criteria
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                format!("{crit}→{}", m.socket.summary())
            })
            .collect();
        format!("auto: {}", parts.join(", "))
    }
}

/// How a cluster protects its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TlsKind {
    /// Istio mutual TLS: SDS `default` certificate, mesh roots.
    IstioMtls,
    /// Mutual TLS with another certificate.
    Mutual,
    /// Server-authenticated TLS only.
    Simple,
    /// No TLS.
    Plaintext,
    /// Chosen per endpoint by `transport_socket_matches` (Istio auto-mTLS).
    Auto,
    /// A transport socket envinspect does not model.
    Other,
}

impl fmt::Display for TlsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsKind::IstioMtls => "istio-mtls",
            TlsKind::Mutual => "mutual",
            TlsKind::Simple => "simple",
            TlsKind::Plaintext => "plaintext",
            TlsKind::Auto => "auto",
            TlsKind::Other => "other",
        })
    }
}

impl UpstreamTls {
    /// The kind of protection, in the terms expectations use.
    pub fn kind(&self) -> TlsKind {
        if !self.matches.is_empty() {
            return TlsKind::Auto;
        }
        match &self.default {
            Socket::Plaintext { .. } => TlsKind::Plaintext,
            Socket::Other { .. } => TlsKind::Other,
            Socket::Tls(ctx) => match ctx.mode {
                // Istio's ISTIO_MUTUAL: see [`TlsContext::istio_workload_cert`].
                Some(TlsMode::Mutual) if ctx.istio_workload_cert() => TlsKind::IstioMtls,
                Some(TlsMode::Mutual) => TlsKind::Mutual,
                _ => TlsKind::Simple,
            },
        }
    }
}

/// Compact, as tables show it: `sds:default`, `inline(1234B)`, `file:/etc/certs/cert-chain.pem`.
impl fmt::Display for CertSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertSource::Sds { name } => write!(f, "sds:{name}"),
            CertSource::Inline { bytes } => write!(f, "inline({bytes}B)"),
            CertSource::File { path } => write!(f, "file:{path}"),
            CertSource::Provider { name } => write!(f, "provider:{name}"),
        }
    }
}

/// Compact: `sds:ROOTCA`, `inline(1234B)`, `file:…`, `spiffe:td1,td2`, `validator:…`.
impl fmt::Display for ValidationSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationSource::Sds { name } => write!(f, "sds:{name}"),
            ValidationSource::InlineCa { bytes } => write!(f, "inline({bytes}B)"),
            ValidationSource::File { path } => write!(f, "file:{path}"),
            ValidationSource::SpiffeBundles { trust_domains } => {
                let tds: Vec<String> = trust_domains.iter().map(|t| t.to_string()).collect();
                write!(f, "spiffe:{}", tds.join(","))
            }
            ValidationSource::CustomValidator { name } => write!(f, "validator:{name}"),
            ValidationSource::Provider { name } => write!(f, "provider:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables tell Istio's ISTIO_MUTUAL from a DestinationRule's MUTUAL with its own certificate.
    #[test]
    fn istio_mtls_is_told_from_mutual_with_other_certificates() {
        let ctx = |cert: CertSource| {
            Socket::Tls(Box::new(TlsContext {
                mode: Some(TlsMode::Mutual),
                certificates: vec![cert],
                ..Default::default()
            }))
        };
        let istio = ctx(CertSource::Sds {
            name: "default".into(),
        });
        let pre_sds = ctx(CertSource::File {
            path: "/etc/certs/cert-chain.pem".into(),
        });
        let own = ctx(CertSource::Sds {
            name: "file-cert:/etc/partner/cert.pem~/etc/partner/key.pem".into(),
        });
        assert_eq!(istio.summary(), "istio-mTLS");
        assert_eq!(pre_sds.summary(), "istio-mTLS");
        assert_eq!(
            own.summary(),
            "mTLS cert=sds:file-cert:/etc/partner/cert.pem~/etc/partner/key.pem"
        );
        let simple = Socket::Tls(Box::default());
        assert_eq!(simple.summary(), "TLS");
    }
}
