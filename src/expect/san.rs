//! Would this TLS context accept a peer presenting this identity? Envoy's SAN matching, evaluated
//! on identities rather than compared as syntax: exact/prefix/suffix/contains/regex, `ignore_case`,
//! typed (URI, DNS…) or untyped matchers. Regexes are RE2 (the `regex` crate's syntax is RE2's)
//! and, as Envoy's `safe_regex`, must match the whole name.

use crate::model::tls::{SanKind, SanMatcher};

/// The outcome for one identity against one context's matchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SanVerdict {
    /// No matchers: any certificate the trusted CA signed is accepted.
    AnyTrusted,
    /// The first matcher that accepted it.
    AcceptedBy(String),
    /// None of these matchers accepted it.
    Rejected(Vec<String>),
}

impl SanVerdict {
    pub(crate) fn accepted(&self) -> bool {
        !matches!(self, SanVerdict::Rejected(_))
    }

    pub(crate) fn explain(&self) -> String {
        match self {
            SanVerdict::AnyTrusted => {
                "accepted: no SAN matchers, any certificate the CA signed".into()
            }
            SanVerdict::AcceptedBy(m) => format!("accepted by {m}"),
            SanVerdict::Rejected(ms) => format!("rejected: matches none of {}", ms.join(", ")),
        }
    }
}

/// Evaluates `identity` (a URI if it has a scheme, as SPIFFE IDs do; otherwise a DNS name).
pub(crate) fn evaluate(matchers: &[SanMatcher], identity: &str) -> SanVerdict {
    if matchers.is_empty() {
        return SanVerdict::AnyTrusted;
    }
    let kind = if identity.contains("://") {
        SanKind::Uri
    } else {
        SanKind::Dns
    };
    for m in matchers {
        if (m.san == SanKind::Any || m.san == kind) && matches(m, identity) {
            return SanVerdict::AcceptedBy(m.to_string());
        }
    }
    SanVerdict::Rejected(matchers.iter().map(|m| m.to_string()).collect())
}

fn matches(m: &SanMatcher, name: &str) -> bool {
    m.matcher.matches(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tls::{MatchKind, StringMatch};

    fn m(san: SanKind, how: MatchKind, value: &str, ignore_case: bool) -> SanMatcher {
        SanMatcher {
            san,
            matcher: StringMatch {
                how,
                value: value.into(),
                ignore_case,
            },
        }
    }

    #[test]
    fn each_kind_of_matcher() {
        let foo = "spiffe://cluster.local/ns/default/sa/foo";
        let cases = [
            (m(SanKind::Uri, MatchKind::Exact, foo, false), true),
            (
                m(
                    SanKind::Uri,
                    MatchKind::Exact,
                    "spiffe://cluster.local/ns/default/sa/FOO",
                    false,
                ),
                false,
            ),
            (
                m(
                    SanKind::Uri,
                    MatchKind::Exact,
                    "SPIFFE://cluster.local/ns/default/sa/FOO",
                    true,
                ),
                true,
            ),
            (
                m(
                    SanKind::Uri,
                    MatchKind::Prefix,
                    "spiffe://cluster.local/",
                    false,
                ),
                true,
            ),
            (m(SanKind::Uri, MatchKind::Suffix, "/sa/foo", false), true),
            (
                m(SanKind::Uri, MatchKind::Contains, "/ns/default/", false),
                true,
            ),
            (
                m(
                    SanKind::Uri,
                    MatchKind::Regex,
                    r"spiffe://cluster\.local/ns/[^/]+/sa/foo",
                    false,
                ),
                true,
            ),
            // Whole-string match: a regex matching only a part does not accept.
            (m(SanKind::Uri, MatchKind::Regex, "sa/foo", false), false),
            // Not RE2 (backreference): never matches.
            (m(SanKind::Uri, MatchKind::Regex, r"(a)\1", false), false),
            // A DNS matcher never looks at a URI identity; an untyped one does.
            (m(SanKind::Dns, MatchKind::Suffix, "/sa/foo", false), false),
            (m(SanKind::Any, MatchKind::Suffix, "/sa/foo", false), true),
        ];
        for (matcher, want) in cases {
            let v = evaluate(std::slice::from_ref(&matcher), foo);
            assert_eq!(v.accepted(), want, "{matcher} → {}", v.explain());
        }
        assert_eq!(evaluate(&[], foo), SanVerdict::AnyTrusted);
        let dns = evaluate(
            &[m(
                SanKind::Dns,
                MatchKind::Suffix,
                ".svc.cluster.local",
                false,
            )],
            "foo.default.svc.cluster.local",
        );
        assert_eq!(
            dns,
            SanVerdict::AcceptedBy("DNS suffix .svc.cluster.local".into())
        );
    }
}
