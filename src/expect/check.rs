//! Checks a report against expectations: one [`CheckResult`] per expectation, failing with one
//! [`Failure`] per subject that drifted. Facts come from the model only.

use crate::model::RuleId;
use std::collections::{BTreeMap, BTreeSet};

use super::{Expectations, PortKey, Span};
use crate::model::cert::CertInfo;
use crate::model::expectation::{CheckReport, CheckResult, CheckStatus, Failure};
use crate::model::timestamp::or_unknown;
use crate::model::{Fingerprint, Report, SecretState};

/// What a check needs besides the report: names for the output, and the roots of the PEM files
/// `roots.same_as` names (read by the caller, keyed by the name written in the file).
#[derive(Debug, Default)]
pub struct CheckInput {
    /// The expectations file's name, for the output.
    pub expectations_name: String,
    /// The expectations file's text, to point each result at its line.
    pub expectations_text: Option<String>,
    /// The CA fingerprints of each PEM file `roots.same_as` names.
    pub same_as: BTreeMap<String, Vec<Fingerprint>>,
}

pub(super) struct Results(Vec<CheckResult>);

impl Results {
    pub(super) fn push(
        &mut self,
        id: String,
        subject: &str,
        rule: RuleId,
        expected: String,
        failures: Vec<Failure>,
    ) {
        let status = if failures.is_empty() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        };
        self.0.push(CheckResult {
            id,
            subject: subject.into(),
            rule,
            expected,
            status,
            failures,
            line: None,
        });
    }

    /// One expectation about one subject: passes when `actual == expected`.
    fn compare(
        &mut self,
        id: String,
        subject: &str,
        rule: RuleId,
        expected: String,
        actual: String,
        message: &str,
    ) {
        let failures = if actual == expected {
            Vec::new()
        } else {
            vec![Failure {
                subject: subject.into(),
                expected: expected.clone(),
                actual,
                message: message.into(),
            }]
        };
        self.push(id, subject, rule, expected, failures);
    }
}

pub(super) fn fail(
    subject: &str,
    expected: impl Into<String>,
    actual: impl Into<String>,
    message: impl Into<String>,
) -> Failure {
    Failure {
        subject: subject.into(),
        expected: expected.into(),
        actual: actual.into(),
        message: message.into(),
    }
}

/// Checks the proxy of `r` against `e`: one result per expectation, failing with one failure
/// per subject that drifted.
pub fn check(r: &Report, e: &Expectations, input: &CheckInput) -> CheckReport {
    let mut out = Results(Vec::new());
    identity(r, e, &mut out);
    roots(r, e, input, &mut out);
    if let Some(o) = &e.outbound {
        out.compare(
            "outbound.policy".into(),
            "outbound",
            RuleId::DriftOutboundPolicy,
            o.policy.to_string(),
            r.outbound.mode.to_string(),
            "the outbound traffic policy differs",
        );
    }
    inbound(r, e, &mut out);
    super::cluster::clusters(r, e, &mut out);
    secrets(r, e, &mut out);
    certificates(r, e, &mut out);
    if let Some(a) = &e.authz {
        super::authz::check(r, a, &mut out);
    }
    let mut results = out.0;
    if let Some(text) = &input.expectations_text {
        for r in &mut results {
            r.line = Some(locate(text, &r.id));
        }
    }
    CheckReport::new(
        r.source.clone(),
        input.expectations_name.clone(),
        r.now,
        results,
    )
}

/// The line (1-based) that states the expectation `id` (`clusters.items[name=x].sni`): the
/// section's line, then the first later line naming each bracketed value, then the field.
fn locate(text: &str, id: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let section = id.split(['.', '[']).next().unwrap_or(id);
    let mut needles: Vec<String> = vec![section.to_string()];
    let mut rest = &id[section.len()..];
    while let Some(open) = rest.find('[') {
        // The field before the bracket (`accept` in `.accept[id]`), then the bracketed value.
        let field = rest[..open].trim_start_matches('.');
        if !field.is_empty() {
            needles.push(field.to_string());
        }
        let close = rest[open..]
            .find(']')
            .map(|c| open + c)
            .unwrap_or(rest.len());
        let inner = &rest[open + 1..close];
        let first = inner.split(',').next().unwrap_or(inner);
        needles.push(first.rsplit('=').next().unwrap_or(first).to_string());
        rest = rest.get(close + 1..).unwrap_or("");
    }
    if let Some(field) = rest.rsplit('.').next().filter(|f| !f.is_empty()) {
        needles.push(field.to_string());
    }
    let mut at = 0;
    for n in needles {
        if let Some(i) = lines.iter().skip(at).position(|l| l.contains(n.as_str())) {
            at += i;
        }
    }
    at + 1
}

fn identity(r: &Report, e: &Expectations, out: &mut Results) {
    let Some(want) = &e.identity else { return };
    let id = r.identity.as_ref();
    let none = || match id.and_then(|i| i.problem.clone()) {
        Some(p) => format!("none ({p})"),
        None => "none".to_string(),
    };
    if let Some(s) = &want.spiffe_id {
        let actual = id
            .and_then(|i| i.spiffe_id.as_ref())
            .map(|s| s.to_string())
            .unwrap_or_else(none);
        out.compare(
            "identity.spiffe_id".into(),
            "identity",
            RuleId::DriftIdentity,
            s.to_string(),
            actual,
            "the proxy presents another identity",
        );
    }
    // Without a SPIFFE ID there is no trust domain either: one drift, not two.
    let no_id = want.spiffe_id.is_some() && id.and_then(|i| i.spiffe_id.as_ref()).is_none();
    if let Some(td) = want.trust_domain.as_ref().filter(|_| !no_id) {
        let actual = id
            .and_then(|i| i.trust_domain.as_ref())
            .map(|t| t.to_string())
            .unwrap_or_else(none);
        out.compare(
            "identity.trust_domain".into(),
            "identity",
            RuleId::DriftTrustDomain,
            td.to_string(),
            actual,
            "the identity is in another trust domain",
        );
    }
}

/// Every root CA the proxy trusts: see [`Report::trusted_roots`].
pub(super) fn trusted_roots(r: &Report) -> crate::model::report::Roots {
    r.trusted_roots()
}

fn roots(r: &Report, e: &Expectations, input: &CheckInput, out: &mut Results) {
    let Some(want) = &e.roots else { return };
    let have = trusted_roots(r);
    let mut expected: BTreeSet<Fingerprint> = BTreeSet::new();
    let from_files = want.same_as.iter().flat_map(|f| {
        input
            .same_as
            .get(f)
            .into_iter()
            .flatten()
            .map(move |fp| (fp.clone(), format!(" (from {f})")))
    });
    let listed = want.sha256.iter().map(|fp| (fp.clone(), String::new()));
    for (fp, origin) in listed.chain(from_files) {
        if !expected.insert(fp.clone()) {
            continue;
        }
        let failures = if have.contains_key(&fp) {
            Vec::new()
        } else {
            vec![fail(
                "roots",
                fp.to_string(),
                "absent",
                format!("the proxy does not trust the root CA {fp}{origin}"),
            )]
        };
        out.push(
            format!("roots.sha256[{}]", &fp.to_string()[..16]),
            "roots",
            RuleId::DriftRootMissing,
            format!("trusts root CA {fp}{origin}"),
            failures,
        );
    }
    if !want.allow_extra {
        let failures = have
            .iter()
            .filter(|(fp, _)| !expected.contains(*fp))
            .map(|(fp, (secret, subject))| {
                fail(
                    "roots",
                    "only the listed roots",
                    fp.to_string(),
                    format!("{secret} trusts an unlisted root CA {fp} ({subject})"),
                )
            })
            .collect();
        out.push(
            "roots.allow_extra".into(),
            "roots",
            RuleId::DriftRootExtra,
            "no other root CA".into(),
            failures,
        );
    }
}

fn inbound(r: &Report, e: &Expectations, out: &mut Results) {
    let Some(want) = &e.inbound else { return };
    let have: BTreeMap<PortKey, _> = r
        .inbound
        .iter()
        .map(|p| (PortKey(p.port), p.mode))
        .collect();
    for (port, mode) in &want.ports {
        let subject = format!("inbound port {port}");
        let actual = have
            .get(port)
            .map(|m| m.to_string())
            .unwrap_or_else(|| "no inbound chain for the port".into());
        out.compare(
            format!("inbound.ports[{port}]"),
            &subject,
            RuleId::DriftInboundMode,
            mode.to_string(),
            actual,
            "the port accepts traffic with another mTLS mode",
        );
    }
    if !want.allow_extra {
        let failures = have
            .iter()
            .filter(|(p, _)| !want.ports.contains_key(p))
            .map(|(p, m)| {
                fail(
                    &format!("inbound port {p}"),
                    "not listed",
                    m.to_string(),
                    format!("port {p} is {m}, and the expectations do not list it"),
                )
            })
            .collect();
        out.push(
            "inbound.allow_extra".into(),
            "inbound",
            RuleId::DriftInboundExtra,
            "no other inbound port".into(),
            failures,
        );
    }
}

fn secrets(r: &Report, e: &Expectations, out: &mut Results) {
    let Some(want) = &e.secrets else { return };
    for name in &want.active {
        let subject = format!("secret {name}");
        let actual = r
            .secrets
            .iter()
            .find(|s| &s.name == name)
            .map(|s| s.state.to_string())
            .or_else(|| {
                r.missing_secrets
                    .iter()
                    .any(|m| &m.name == name)
                    .then(|| "MISSING (referenced, never delivered)".into())
            })
            .unwrap_or_else(|| "absent".into());
        let ok = matches!(actual.as_str(), "ACTIVE" | "STATIC");
        let failures = if ok {
            Vec::new()
        } else {
            vec![fail(
                &subject,
                "ACTIVE",
                actual,
                "the secret is not in force",
            )]
        };
        out.push(
            format!("secrets.active[{name}]"),
            &subject,
            RuleId::DriftSecretNotActive,
            "ACTIVE".into(),
            failures,
        );
    }
    if !want.allow_extra {
        let failures = r
            .secrets
            .iter()
            .filter(|s| {
                matches!(s.state, SecretState::Active | SecretState::Static)
                    && !want.active.iter().any(|a| *a == s.name)
            })
            .map(|s| {
                fail(
                    &format!("secret {}", s.name),
                    "not present",
                    s.state.to_string(),
                    "an active secret the expectations do not list",
                )
            })
            .collect();
        out.push(
            "secrets.allow_extra".into(),
            "secrets",
            RuleId::DriftSecretExtra,
            "no other active secret".into(),
            failures,
        );
    }
}

/// `(secret label, certificate)` for every certificate in a secret in force.
pub(super) fn certs_in_force(r: &Report) -> impl Iterator<Item = (String, &CertInfo)> {
    r.secrets
        .iter()
        .filter(|s| s.state.in_force())
        .flat_map(|s| s.certificates.iter().map(move |c| (s.label(), c)))
}

pub(super) fn lifetime(c: &CertInfo) -> Option<Span> {
    c.lifetime_seconds().map(Span::from_seconds)
}

fn who(secret: &str, c: &CertInfo) -> String {
    let what = c
        .spiffe_ids
        .first()
        .map(|s| s.to_string())
        .unwrap_or_else(|| c.subject.clone());
    format!("{secret}: {what} (serial {})", c.serial)
}

fn certificates(r: &Report, e: &Expectations, out: &mut Results) {
    let Some(want) = &e.certificates else { return };
    if let Some(min) = want.min_time_left {
        let failures = certs_in_force(r)
            .filter(|(_, c)| c.seconds_left < min.seconds())
            .map(|(s, c)| {
                let left = Span::from_seconds(c.seconds_left.max(0));
                let state = if c.seconds_left <= 0 {
                    "expired".to_string()
                } else {
                    format!("{left} left")
                };
                fail(
                    &s,
                    format!("at least {min} left"),
                    format!("{state} (not after {})", or_unknown(c.not_after)),
                    format!("{} expires too soon", who(&s, c)),
                )
            })
            .collect();
        out.push(
            "certificates.min_time_left".into(),
            "certificates",
            RuleId::DriftCertTimeLeft,
            format!("at least {min} left on every certificate"),
            failures,
        );
    }
    if let Some(max) = want.max_lifetime {
        let failures = certs_in_force(r)
            .filter(|(_, c)| !c.is_ca)
            .filter_map(|(s, c)| lifetime(c).filter(|l| *l > max).map(|l| (s, c, l)))
            .map(|(s, c, l)| {
                fail(
                    &s,
                    format!("at most {max}"),
                    format!(
                        "{l} ({} to {})",
                        or_unknown(c.not_before),
                        or_unknown(c.not_after)
                    ),
                    format!("{} is valid for too long", who(&s, c)),
                )
            })
            .collect();
        out.push(
            "certificates.max_lifetime".into(),
            "certificates",
            RuleId::DriftCertLifetime,
            format!("no leaf certificate valid for more than {max}"),
            failures,
        );
    }
}
