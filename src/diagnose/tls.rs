//! Rules on SAN matchers: a malformed SPIFFE ID in a matcher, and a matcher expecting an identity
//! in a trust domain the proxy cannot verify.

use crate::model::RuleId;
use std::collections::BTreeSet;

use crate::model::tls::{MatchKind, SanKind, SanMatcher, ValidationSource};
use crate::model::{Finding, Report, Socket, SpiffeId, TlsContext, TrustDomain};

/// Every TLS context with the subject and pointer to name it by.
fn contexts(r: &Report) -> Vec<(String, &str, &TlsContext)> {
    let mut out = Vec::new();
    for c in &r.clusters {
        for ctx in c.tls.contexts() {
            out.push((format!("cluster {}", c.name), c.pointer.as_str(), ctx));
        }
    }
    for l in &r.listeners {
        for (i, ch) in l.filter_chains.iter().enumerate() {
            if let Socket::Tls(ctx) = &ch.tls {
                let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
                out.push((
                    format!("listener {} chain {chain}", l.name),
                    l.pointer.as_str(),
                    ctx.as_ref(),
                ));
            }
        }
    }
    out
}

/// The trust domain a URI matcher's value names, or why it names none.
pub(super) fn matcher_trust_domain(m: &SanMatcher) -> Option<Result<TrustDomain, String>> {
    if !matches!(m.san, SanKind::Uri | SanKind::Any) || m.matcher.ignore_case {
        return None;
    }
    let v = &m.matcher.value;
    let rest = v.strip_prefix("spiffe://")?;
    match m.matcher.how {
        MatchKind::Exact => Some(
            v.parse::<SpiffeId>()
                .map(|id| id.trust_domain().clone())
                .map_err(|e| e.to_string()),
        ),
        MatchKind::Prefix => {
            let td = rest.split('/').next().unwrap_or("");
            // A prefix may stop inside the trust domain (`spiffe://clus`): only a whole one counts.
            if td.is_empty() {
                Some(Err(format!("{v:?}: the trust domain is empty")))
            } else if rest.contains('/') {
                Some(td.parse::<TrustDomain>().map_err(|e| e.to_string()))
            } else {
                None
            }
        }
        _ => None,
    }
}

pub(super) fn san_rules(r: &Report, f: &mut Vec<Finding>) {
    let own = r.identity.as_ref().and_then(|i| i.trust_domain.clone());
    for (subject, pointer, ctx) in contexts(r) {
        let bundles: BTreeSet<&TrustDomain> = ctx
            .validation
            .iter()
            .flat_map(|v| match v {
                ValidationSource::SpiffeBundles { trust_domains } => trust_domains.iter().collect(),
                _ => Vec::new(),
            })
            .collect();
        for m in &ctx.san_matchers {
            match matcher_trust_domain(m) {
                Some(Err(why)) => f.push(
                    Finding::new(RuleId::SanMalformed, &subject, format!("SAN matcher {m}: {why}; no certificate can carry it, so every peer is rejected"))
                        .at(pointer),
                ),
                Some(Ok(td)) => {
                    let known = own.as_ref() == Some(&td) || bundles.contains(&td);
                    // Without an own identity or bundles there is nothing to compare with.
                    if !known && (own.is_some() || !bundles.is_empty()) {
                        let have: Vec<String> = own.iter().chain(bundles.iter().copied()).map(|t| t.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
                        f.push(
                            Finding::new(RuleId::TrustDomainMismatch,
                                &subject,
                                format!("SAN matcher {m} expects trust domain {td}, but the proxy is in {} and has no bundle for {td}", have.join(", ")),
                            )
                            .at(pointer),
                        );
                    }
                }
                None => {}
            }
        }
    }
}
