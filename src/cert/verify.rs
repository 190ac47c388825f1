//! Chain verification: leaf → intermediates (in the order given) → one of the roots. Each link's
//! signature is checked with the next certificate's key and each certificate's validity at `now`;
//! the first broken link is named. Roots are any-of: during rotation a proxy trusting {A, B}
//! accepts chains to A or B (istio/istio#54545).

use x509_parser::prelude::{FromDer, X509Certificate};

use super::{CertError, LinkError};
use crate::model::cert::BreakKind;
use crate::model::timestamp::or_unknown;
use crate::model::{CertInfo, ChainVerdict};

/// A trust anchor and where it came from (for the verdict).
pub(crate) struct Root<'a> {
    pub source: String,
    pub cert: &'a CertInfo,
}

pub(crate) fn verify_chain(chain: &[CertInfo], roots: &[Root<'_>]) -> ChainVerdict {
    let Some(last) = chain.last() else {
        return ChainVerdict::NotApplicable;
    };
    // Signatures first: a forged link matters more than a date, and dates are reported per
    // certificate anyway. The first certificate invalid at `now` is kept for the end.
    for (i, pair) in chain.windows(2).enumerate() {
        if let Err(why) = signed_by(&pair[0], &pair[1]) {
            return ChainVerdict::Broken {
                link: i,
                subject: pair[0].subject.clone(),
                reason: why.to_string(),
                kind: BreakKind::Signature,
            };
        }
    }
    let dated = chain.iter().enumerate().find_map(|(i, c)| {
        invalid_now(c).map(|reason| ChainVerdict::Broken {
            link: i,
            subject: c.subject.clone(),
            reason,
            kind: BreakKind::Validity,
        })
    });
    let verdict = anchored(chain, last, roots);
    match (verdict, dated) {
        (ChainVerdict::Valid { .. } | ChainVerdict::NoRoots, Some(d)) => d,
        (v, _) => v,
    }
}

/// Whether the chain's last certificate is, or is issued by, one of the roots.
fn anchored(chain: &[CertInfo], last: &CertInfo, roots: &[Root<'_>]) -> ChainVerdict {
    if roots.is_empty() {
        return ChainVerdict::NoRoots;
    }
    // The chain may carry its root itself: then it must be one of the trust anchors.
    if let Some(r) = roots
        .iter()
        .find(|r| last.sha256.is_some() && r.cert.sha256 == last.sha256)
    {
        return ChainVerdict::Valid {
            root: format!("{} ({})", r.cert.subject, r.source),
        };
    }
    let mut expired_root = None;
    for r in roots {
        if r.cert.subject != last.issuer || signed_by(last, r.cert).is_err() {
            continue;
        }
        match invalid_now(r.cert) {
            None => {
                return ChainVerdict::Valid {
                    root: format!("{} ({})", r.cert.subject, r.source),
                }
            }
            Some(reason) => {
                expired_root = Some(format!("root {} ({}): {reason}", r.cert.subject, r.source))
            }
        }
    }
    match expired_root {
        Some(reason) => ChainVerdict::Broken {
            link: chain.len() - 1,
            subject: last.subject.clone(),
            reason,
            kind: BreakKind::RootValidity,
        },
        None => ChainVerdict::Untrusted {
            issuer: last.issuer.clone(),
            roots: roots.len(),
        },
    }
}

fn invalid_now(c: &CertInfo) -> Option<String> {
    if c.valid_now {
        None
    } else if c.seconds_left < 0 {
        Some(format!("expired at {}", or_unknown(c.not_after)))
    } else {
        Some(format!("not valid before {}", or_unknown(c.not_before)))
    }
}

/// Whether `issuer`'s key made `cert`'s signature (and the names chain up).
fn signed_by(cert: &CertInfo, issuer: &CertInfo) -> Result<(), LinkError> {
    if cert.issuer != issuer.subject {
        return Err(LinkError::OtherIssuer {
            issuer: cert.issuer.clone(),
            next: issuer.subject.clone(),
        });
    }
    let (Some(der), Some(issuer_der)) = (&cert.der, &issuer.der) else {
        return Err(LinkError::NoBytes);
    };
    let (c, i) = (parse(der.as_bytes())?, parse(issuer_der.as_bytes())?);
    c.verify_signature(Some(i.public_key()))
        .map_err(|e| LinkError::BadSignature {
            issuer: issuer.subject.clone(),
            reason: e.to_string(),
        })
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| CertError::Der {
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    use time::macros::datetime;

    struct Ca {
        info: CertInfo,
        issuer: Issuer<'static, KeyPair>,
    }

    fn params(cn: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        p
    }

    fn info(der: &[u8]) -> CertInfo {
        crate::cert::parse_der(der.to_vec(), datetime!(2025-06-01 0:00 UTC).into()).unwrap()
    }

    fn ca(cn: &str, parent: Option<&Ca>, to: (i32, u8, u8)) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = params(cn, (2024, 1, 1), to);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = match parent {
            None => p.self_signed(&key).unwrap(),
            Some(parent) => p.signed_by(&key, &parent.issuer).unwrap(),
        };
        Ca {
            info: info(cert.der()),
            issuer: Issuer::new(p, key),
        }
    }

    fn leaf(
        parent: &Ca,
        from: (i32, u8, u8),
        to: (i32, u8, u8),
        san: Option<&str>,
        key: &KeyPair,
    ) -> CertInfo {
        let mut p = params("workload", from, to);
        if let Some(uri) = san {
            p.subject_alt_names = vec![SanType::URI(uri.try_into().unwrap())];
        }
        info(p.signed_by(key, &parent.issuer).unwrap().der())
    }

    fn roots<'a>(cas: &[&'a Ca]) -> Vec<Root<'a>> {
        cas.iter()
            .map(|c| Root {
                source: "ROOTCA".into(),
                cert: &c.info,
            })
            .collect()
    }

    #[test]
    fn verdicts() {
        let root = ca("root", None, (2034, 1, 1));
        let other = ca("other root", None, (2034, 1, 1));
        let inter = ca("intermediate", Some(&root), (2030, 1, 1));
        let k = KeyPair::generate().unwrap();
        let good = leaf(
            &inter,
            (2025, 1, 1),
            (2026, 1, 1),
            Some("spiffe://cluster.local/ns/a/sa/b"),
            &k,
        );
        assert!(matches!(
            verify_chain(&[good.clone(), inter.info.clone()], &roots(&[&root])),
            ChainVerdict::Valid { .. }
        ));
        // Any-of: roots {other, root} still verify a chain to root.
        assert!(matches!(
            verify_chain(
                &[good.clone(), inter.info.clone()],
                &roots(&[&other, &root])
            ),
            ChainVerdict::Valid { .. }
        ));
        // The chain carrying its own root.
        assert!(matches!(
            verify_chain(
                &[good.clone(), inter.info.clone(), root.info.clone()],
                &roots(&[&root])
            ),
            ChainVerdict::Valid { .. }
        ));
        // Signed by another CA.
        assert!(matches!(
            verify_chain(&[good.clone(), inter.info.clone()], &roots(&[&other])),
            ChainVerdict::Untrusted { .. }
        ));
        // Missing intermediate: the leaf's issuer is no root.
        assert!(matches!(
            verify_chain(std::slice::from_ref(&good), &roots(&[&root])),
            ChainVerdict::Untrusted { .. }
        ));
        // No roots at all.
        assert_eq!(
            verify_chain(std::slice::from_ref(&good), &[]),
            ChainVerdict::NoRoots
        );
        // Expired and not-yet-valid leaves name link 0.
        let expired = leaf(&inter, (2024, 1, 1), (2024, 6, 1), None, &k);
        assert!(
            matches!(verify_chain(&[expired, inter.info.clone()], &roots(&[&root])), ChainVerdict::Broken { link: 0, ref reason, .. } if reason.starts_with("expired at 2024-06-01"))
        );
        let early = leaf(&inter, (2026, 1, 1), (2027, 1, 1), None, &k);
        assert!(
            matches!(verify_chain(&[early, inter.info.clone()], &roots(&[&root])), ChainVerdict::Broken { link: 0, ref reason, .. } if reason.starts_with("not valid before"))
        );
        // A forged link: right names, wrong key.
        let impostor = ca("intermediate", Some(&other), (2030, 1, 1));
        let forged = leaf(&impostor, (2025, 1, 1), (2026, 1, 1), None, &k);
        let v = verify_chain(&[forged, inter.info.clone()], &roots(&[&root]));
        assert!(
            matches!(v, ChainVerdict::Broken { link: 0, ref reason, .. } if reason.contains("signature does not verify")),
            "{v:?}"
        );
        // An expired root breaks the last link.
        let old_root = ca("old root", None, (2025, 1, 1));
        let l = leaf(&old_root, (2025, 1, 1), (2026, 1, 1), None, &k);
        assert!(
            matches!(verify_chain(&[l], &roots(&[&old_root])), ChainVerdict::Broken { link: 0, ref reason, .. } if reason.contains("root CN=old root"))
        );
    }

    #[test]
    fn rsa_and_ecdsa_keys_are_described_and_verified() {
        let rsa_pem = include_str!("../../fixtures/test-keys/rsa2048.pkcs8.pem");
        let rsa = KeyPair::from_pem_and_sign_algo(rsa_pem, &rcgen::PKCS_RSA_SHA256).unwrap();
        let mut p = params("rsa root", (2024, 1, 1), (2034, 1, 1));
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let rsa_root = Ca {
            info: info(p.self_signed(&rsa).unwrap().der()),
            issuer: Issuer::new(p, rsa),
        };
        assert_eq!(
            (rsa_root.info.key_algorithm.as_str(), rsa_root.info.key_bits),
            ("RSA", Some(2048))
        );
        let ec = KeyPair::generate().unwrap();
        let l = leaf(
            &rsa_root,
            (2025, 1, 1),
            (2026, 1, 1),
            Some("spiffe://td/x"),
            &ec,
        );
        assert_eq!(
            (l.key_algorithm.as_str(), l.key_bits),
            ("ECDSA P-256", Some(256))
        );
        assert!(matches!(
            verify_chain(&[l], &roots(&[&rsa_root])),
            ChainVerdict::Valid { .. }
        ));
    }

    #[test]
    fn san_facts() {
        let root = ca("root", None, (2034, 1, 1));
        let k = KeyPair::generate().unwrap();
        let none = leaf(&root, (2025, 1, 1), (2026, 1, 1), None, &k);
        assert!(!none.has_san());
        let bad = leaf(
            &root,
            (2025, 1, 1),
            (2026, 1, 1),
            Some("spiffe:///ns/x"),
            &k,
        );
        assert!(bad.spiffe_ids.is_empty() && bad.bad_spiffe_ids.len() == 1);
    }
}
