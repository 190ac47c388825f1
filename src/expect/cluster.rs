//! Expectations about clusters: selection (name, glob, Istio FQDN), TLS kind, SNI, ALPN, and
//! whether the SAN matchers accept or reject given peer identities.

use crate::model::RuleId;
use std::collections::BTreeSet;

use super::check::{fail, Results};
use super::san::{evaluate, SanVerdict};
use super::{ClusterExpect, Expectations, Select, TlsKind};
use crate::model::expectation::Failure;
use crate::model::{Cluster, Report, TlsContext};

/// A glob: `*` any run, `?` one character; nothing else is special. On cluster names here, and
/// on proxy names and identities in fleet expectations.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn selects(sel: &Select, c: &Cluster) -> bool {
    match sel {
        Select::Name { name } => &c.name == name,
        Select::Glob { glob: g } => glob(g, &c.name),
        // The same selection as `envinspect clusters --fqdn --port --subset --direction`.
        Select::Istio {
            fqdn,
            port,
            subset,
            direction,
        } => crate::filter::ClusterFilter {
            fqdn: Some(fqdn.clone()),
            port: *port,
            subset: subset.clone(),
            direction: direction.clone(),
        }
        .verify(c),
    }
}

/// What kind of protection a cluster has, in the expectations' terms.
pub(super) fn tls_kind(c: &Cluster) -> TlsKind {
    c.tls.kind()
}

/// The distinct values a cluster's TLS contexts have for one setting, as text.
pub(super) fn tls_values(c: &Cluster, f: impl Fn(&TlsContext) -> String) -> String {
    let set: BTreeSet<String> = c.tls.contexts().map(f).collect();
    if set.is_empty() {
        "no TLS".into()
    } else {
        set.into_iter().collect::<Vec<_>>().join(" | ")
    }
}

pub(super) fn sni(ctx: &TlsContext) -> String {
    ctx.sni
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "none".into())
}

pub(super) fn alpn(ctx: &TlsContext) -> String {
    if ctx.alpn.is_empty() {
        "none".into()
    } else {
        ctx.alpn.join(",")
    }
}

pub(super) fn clusters(r: &Report, e: &Expectations, out: &mut Results) {
    let Some(want) = &e.clusters else { return };
    let mut selected = BTreeSet::new();
    for item in &want.items {
        let key = format!("clusters.items[{}]", item.select);
        let found: Vec<&Cluster> = r
            .clusters
            .iter()
            .filter(|c| selects(&item.select, c))
            .collect();
        selected.extend(found.iter().map(|c| c.name.as_str()));
        if found.is_empty() {
            let subject = match &item.select {
                Select::Name { name } => format!("cluster {name}"),
                other => format!("cluster {other}"),
            };
            let f = fail(
                &subject,
                "present",
                "absent",
                format!("no cluster matches {}", item.select),
            );
            out.push(
                format!("{key}.present"),
                &subject,
                RuleId::DriftClusterMissing,
                "at least one cluster".into(),
                vec![f],
            );
            continue;
        }
        cluster_item(item, &key, &found, out);
    }
    if !want.allow_extra {
        let failures = r
            .clusters
            .iter()
            .filter(|c| !selected.contains(c.name.as_str()))
            .map(|c| {
                fail(
                    &format!("cluster {}", c.name),
                    "not present",
                    tls_kind(c).to_string(),
                    "a cluster no expectation selects",
                )
            })
            .collect();
        out.push(
            "clusters.allow_extra".into(),
            "clusters",
            RuleId::DriftClusterExtra,
            "no other cluster".into(),
            failures,
        );
    }
}

fn cluster_item(item: &ClusterExpect, key: &str, found: &[&Cluster], out: &mut Results) {
    let subject = match found {
        [one] => format!("cluster {}", one.name),
        _ => format!("clusters {}", item.select),
    };
    let each =
        |rule_expected: &str, actual: &dyn Fn(&Cluster) -> String, message: &str| -> Vec<Failure> {
            found
                .iter()
                .filter_map(|c| {
                    let a = actual(c);
                    (a != rule_expected)
                        .then(|| fail(&format!("cluster {}", c.name), rule_expected, a, message))
                })
                .collect()
        };
    if let Some(kind) = item.tls {
        let f = each(
            &kind.to_string(),
            &|c| tls_kind(c).to_string(),
            "the cluster protects its connections differently",
        );
        out.push(
            format!("{key}.tls"),
            &subject,
            RuleId::DriftTlsKind,
            kind.to_string(),
            f,
        );
    }
    if let Some(s) = &item.sni {
        let f = each(
            &s.to_string(),
            &|c| tls_values(c, sni),
            "the cluster sends another SNI",
        );
        out.push(
            format!("{key}.sni"),
            &subject,
            RuleId::DriftSni,
            s.to_string(),
            f,
        );
    }
    if let Some(a) = &item.alpn {
        let want = if a.is_empty() {
            "none".to_string()
        } else {
            a.join(",")
        };
        let f = each(
            &want,
            &|c| tls_values(c, alpn),
            "the cluster offers other ALPN protocols",
        );
        out.push(format!("{key}.alpn"), &subject, RuleId::DriftAlpn, want, f);
    }
    for (ids, must_accept) in [(&item.accept, true), (&item.reject, false)] {
        for id in ids {
            let failures = found
                .iter()
                .flat_map(|c| peer(c, id, must_accept))
                .collect();
            let (field, rule, expected) = if must_accept {
                (
                    "accept",
                    RuleId::DriftPeerNotAccepted,
                    format!("accepts peer {id}"),
                )
            } else {
                (
                    "reject",
                    RuleId::DriftPeerNotRejected,
                    format!("rejects peer {id}"),
                )
            };
            out.push(
                format!("{key}.{field}[{id}]"),
                &subject,
                rule,
                expected,
                failures,
            );
        }
    }
}

/// Failures of one cluster for one peer identity: every TLS context must decide as required.
fn peer(c: &Cluster, id: &str, must_accept: bool) -> Vec<Failure> {
    let subject = format!("cluster {}", c.name);
    let want = if must_accept { "accepted" } else { "rejected" };
    let contexts: Vec<&TlsContext> = c.tls.contexts().collect();
    if contexts.is_empty() {
        return vec![fail(
            &subject,
            want,
            "plaintext",
            format!("{id}: the cluster is plaintext, so no peer identity is verified"),
        )];
    }
    contexts
        .into_iter()
        .filter_map(|ctx| {
            let v = evaluate(&ctx.san_matchers, id);
            (v.accepted() != must_accept).then(|| {
                let actual = if v.accepted() { "accepted" } else { "rejected" };
                let why = match &v {
                    SanVerdict::AnyTrusted => {
                        "no SAN matchers: any certificate the CA signed is accepted".to_string()
                    }
                    other => other.explain(),
                };
                fail(&subject, want, actual, format!("{id}: {why}"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob(
            "outbound|*||*.shop.svc.cluster.local",
            "outbound|80||cart.shop.svc.cluster.local"
        ));
        assert!(!glob(
            "outbound|*||*.shop.svc.cluster.local",
            "outbound|80||cart.web.svc.cluster.local"
        ));
        assert!(glob("inbound|?080||", "inbound|9080||"));
        assert!(glob("*", ""));
        assert!(!glob("a", "ab"));
        assert!(glob("a*b*c", "aXbYbc"));
    }
}
