//! Expectations written from a known-good proxy: what it is now, stated so that `check` on the
//! same dump passes and a change to any of it fails. `diff` uses the strict form (nothing extra
//! allowed, no clock-dependent expectation).

use std::collections::BTreeSet;

use super::check::{certs_in_force, lifetime, trusted_roots};
use super::cluster::{alpn, sni, tls_kind};
use super::san::evaluate;
use super::{
    CertificatesExpect, ClusterExpect, ClustersExpect, Expectations, IdentityExpect, InboundExpect,
    OutboundExpect, PortKey, RootsExpect, SecretsExpect, Select, Span, VERSION,
};
use crate::model::timestamp::or_unknown;
use crate::model::tls::{MatchKind, SanKind};
use crate::model::{Cluster, OutboundMode, Report, SecretState, TlsContext};

/// How to write a proxy's expectations.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The minimum time left to require of every certificate, when the dump meets it.
    pub min_time_left: Option<Span>,
    /// For `diff`: unlisted clusters, secrets, ports and roots are drift; nothing depends on
    /// the time.
    pub strict: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            min_time_left: Some(Span::from_seconds(12 * 3600)),
            strict: false,
        }
    }
}

/// Expectations, and notes on what was left out and why (written as comments).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Generated {
    /// What the proxy is.
    pub expectations: Expectations,
    /// What was left out, and why.
    pub notes: Vec<String>,
}

/// The expectations the proxy of `r` meets (what `envinspect expect` writes).
pub fn generate(r: &Report, opts: &GenerateOptions) -> Generated {
    let mut notes = Vec::new();
    let identity = r.identity.as_ref().and_then(|i| {
        let id = i.spiffe_id.clone()?;
        Some(IdentityExpect {
            trust_domain: Some(id.trust_domain().clone()),
            spiffe_id: Some(id),
        })
    });
    if identity.is_none() {
        notes.push("identity: not set, the dump shows no workload identity".into());
    }
    let roots: Vec<_> = trusted_roots(r).into_keys().collect();
    let roots = (!roots.is_empty()).then_some(RootsExpect {
        allow_extra: false,
        sha256: roots,
        same_as: Vec::new(),
    });
    let outbound = match r.outbound.mode {
        OutboundMode::AllowAny | OutboundMode::RegistryOnly | OutboundMode::AllowAnyDynamicDns => {
            Some(OutboundExpect {
                policy: r.outbound.mode,
            })
        }
        m => {
            notes.push(format!("outbound: not set, the policy is {m}"));
            None
        }
    };
    let inbound = (!r.inbound.is_empty()).then(|| InboundExpect {
        allow_extra: false,
        ports: r
            .inbound
            .iter()
            .map(|p| (PortKey(p.port), p.mode))
            .collect(),
    });
    let clusters = (!r.clusters.is_empty()).then(|| ClustersExpect {
        allow_extra: !opts.strict,
        items: r.clusters.iter().map(cluster).collect(),
    });
    let active: Vec<String> = r
        .secrets
        .iter()
        .filter(|s| matches!(s.state, SecretState::Active | SecretState::Static))
        .map(|s| s.name.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let secrets = (!active.is_empty()).then_some(SecretsExpect {
        allow_extra: !opts.strict,
        active,
    });
    let certificates = certificates(r, opts, &mut notes);
    let expectations = Expectations {
        version: VERSION,
        identity,
        roots,
        outbound,
        inbound,
        clusters,
        secrets,
        certificates,
        authz: super::authz::generate(r),
    };
    Generated {
        expectations,
        notes,
    }
}

/// One setting shared by all of a cluster's TLS contexts, if they agree.
fn agreed(c: &Cluster, f: impl Fn(&TlsContext) -> String) -> Option<String> {
    let set: BTreeSet<String> = c.tls.contexts().map(f).collect();
    (set.len() == 1).then(|| set.into_iter().next().unwrap_or_default())
}

fn cluster(c: &Cluster) -> ClusterExpect {
    let contexts: Vec<&TlsContext> = c.tls.contexts().collect();
    // The identities named exactly by a matcher, kept when every context accepts them.
    let named: BTreeSet<String> = contexts
        .iter()
        .flat_map(|ctx| &ctx.san_matchers)
        .filter(|m| m.matcher.how == MatchKind::Exact && !m.matcher.ignore_case)
        .filter(|m| matches!(m.san, SanKind::Uri | SanKind::Any | SanKind::Dns))
        .map(|m| m.matcher.value.clone())
        .collect();
    let accept = named
        .into_iter()
        .filter(|id| {
            contexts
                .iter()
                .all(|ctx| evaluate(&ctx.san_matchers, id).accepted())
        })
        .collect();
    ClusterExpect {
        select: Select::Name {
            name: c.name.to_string(),
        },
        tls: Some(tls_kind(c)),
        sni: agreed(c, sni)
            .filter(|s| s != "none")
            .and_then(|s| s.parse().ok()),
        alpn: agreed(c, alpn).map(|a| {
            if a == "none" {
                Vec::new()
            } else {
                a.split(',').map(String::from).collect()
            }
        }),
        accept,
        reject: Vec::new(),
    }
}

fn certificates(
    r: &Report,
    opts: &GenerateOptions,
    notes: &mut Vec<String>,
) -> Option<CertificatesExpect> {
    let min_time_left = opts.min_time_left.filter(|_| !opts.strict).filter(|min| {
        let short: Vec<String> = certs_in_force(r)
            .filter(|(_, c)| c.seconds_left < min.seconds())
            .map(|(s, c)| format!("{s} (not after {})", or_unknown(c.not_after)))
            .collect();
        if !short.is_empty() {
            notes.push(format!(
                "certificates.min_time_left: not set, less than {min} left on {}",
                short.join(", ")
            ));
        }
        short.is_empty()
    });
    // The longest leaf lifetime now, rounded up to whole hours: a CA issuing longer-lived
    // certificates is drift.
    let max_lifetime = certs_in_force(r)
        .filter(|(_, c)| !c.is_ca)
        .filter_map(|(_, c)| lifetime(c))
        .max()
        .map(|l| Span::from_seconds((l.seconds() + 3599) / 3600 * 3600));
    (min_time_left.is_some() || max_lifetime.is_some()).then_some(CertificatesExpect {
        min_time_left,
        max_lifetime,
    })
}
