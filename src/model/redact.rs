//! `--redact`: removes what changes at every certificate rotation or config push (serials,
//! validity dates, fingerprints, time left, `version_info`), so output can be snapshotted across
//! rotations. The values are also scrubbed from free text (finding messages, check failures).

use std::collections::BTreeSet;

use super::cert::CertInfo;
use super::check::{CheckReport, REDACTABLE};
use super::Report;

pub const REDACTED: &str = "[redacted]";

/// The values to scrub, collected from a report before redacting it.
#[derive(Debug, Default)]
pub struct Redactor {
    values: BTreeSet<String>,
}

fn certs_mut(r: &mut Report) -> impl Iterator<Item = &mut CertInfo> {
    r.secrets.iter_mut().flat_map(|s| {
        let bundles = s
            .trust_bundles
            .iter_mut()
            .flat_map(|b| b.certificates.iter_mut());
        s.certificates.iter_mut().chain(bundles)
    })
}

impl Redactor {
    pub fn of(r: &mut Report) -> Self {
        let mut values = BTreeSet::new();
        for c in certs_mut(r) {
            values.extend([
                c.serial.clone(),
                c.not_before.clone(),
                c.not_after.clone(),
                c.sha256.clone(),
            ]);
        }
        values.extend(r.secrets.iter().filter_map(|s| s.version_info.clone()));
        values.retain(|v| v.len() >= 4);
        Redactor { values }
    }

    /// Replaces every collected value in `text`; the longest first, so a value containing
    /// another (a date inside a message with a longer date) goes whole.
    pub fn text(&self, text: &str) -> String {
        let mut by_len: Vec<&String> = self
            .values
            .iter()
            .filter(|v| text.contains(v.as_str()))
            .collect();
        by_len.sort_by_key(|v| std::cmp::Reverse(v.len()));
        by_len
            .into_iter()
            .fold(text.to_string(), |t, v| t.replace(v.as_str(), REDACTED))
    }

    pub fn report(&self, r: &mut Report) {
        r.redacted = REDACTABLE.to_vec();
        for c in certs_mut(r) {
            for f in [
                &mut c.serial,
                &mut c.not_before,
                &mut c.not_after,
                &mut c.sha256,
            ] {
                *f = REDACTED.into();
            }
            c.seconds_left = 0;
        }
        for s in &mut r.secrets {
            if s.version_info.is_some() {
                s.version_info = Some(REDACTED.into());
            }
            if s.last_updated.is_some() {
                s.last_updated = Some(REDACTED.into());
            }
            s.problems = s.problems.iter().map(|p| self.text(p)).collect();
        }
        for id in r.identity.iter_mut().chain(r.identities.iter_mut()) {
            id.serial = id.serial.as_ref().map(|_| REDACTED.into());
            id.not_after = id.not_after.as_ref().map(|_| REDACTED.into());
            id.problem = id.problem.as_ref().map(|p| self.text(p));
        }
        self.findings(&mut r.findings);
    }

    fn findings(&self, findings: &mut [super::Finding]) {
        for f in findings {
            f.message = self.text(&f.message);
        }
    }

    pub fn check(&self, c: &mut CheckReport) {
        c.redacted = REDACTABLE.to_vec();
        self.findings(&mut c.findings);
        for r in &mut c.results {
            r.expected = self.text(&r.expected);
            for f in &mut r.failures {
                for s in [&mut f.expected, &mut f.actual, &mut f.message] {
                    *s = self.text(s);
                }
            }
        }
    }
}

/// Whether a certificate's dates were redacted (tables then print `[redacted]` for time left).
pub fn is_redacted(c: &CertInfo) -> bool {
    c.not_after == REDACTED
}
