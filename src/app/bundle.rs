//! `bundle`: a whole fleet offline. Flags a bundle cannot honour are refused; the rows, fleet
//! findings and evidence are rendered; an unreadable document or refused entry is exit 2 after
//! the answer.

use std::path::PathBuf;

use super::{options, Env, Judge, Outcome, RunError, UsageError};
use envinspect::bundle::Limits;
use envinspect::expect::fleet::FleetExpectations;
use envinspect::progress::Phase;
use envinspect::render::{self, Format};
use envinspect::Error;

/// How a bundle is analysed: judged as a single dump is (one threshold, `--expiry-warning`), on
/// `jobs` workers (the environment's threads by default).
pub(super) fn bundle_options(
    env: &Env,
    judge: &Judge,
    jobs: Option<usize>,
    limits: Limits,
    expect: Option<(String, FleetExpectations)>,
) -> envinspect::bundle::BundleOptions {
    let o = options(env, judge);
    let mut b = envinspect::bundle::BundleOptions::at(o.now);
    b.jobs = jobs.unwrap_or(env.threads);
    b.expiry_warning = judge.expiry_warning;
    b.limits = limits;
    b.rules = o.rules;
    b.expect = expect;
    b
}

/// `bundle`: every proxy of a bug-report, and what the fleet says together.
pub struct Bundle {
    pub path: PathBuf,
    /// Proxies analysed in parallel; `None` is the environment's threads.
    pub jobs: Option<usize>,
    pub expectations: Option<PathBuf>,
    pub limits: Limits,
    /// Given only to be refused: a bundle has no single dump to pair /certs with.
    pub certs: Option<PathBuf>,
    pub format: Format,
    pub judge: Judge,
}

impl Bundle {
    pub(super) fn run(self, env: &mut Env) -> Result<Outcome, RunError> {
        let Bundle {
            path,
            jobs,
            expectations,
            limits,
            certs,
            format,
            judge,
        } = self;
        let (path, judge) = (path.as_path(), &judge);
        // Flags every command shares that a bundle cannot honour are refused, not ignored.
        if certs.is_some() {
            return Err(UsageError::BundleCerts.into());
        }
        if judge.redact {
            return Err(UsageError::BundleRedact.into());
        }
        let expect = match expectations {
            Some(f) => {
                let input = envinspect::read_path(&f)?;
                let parsed = FleetExpectations::parse(&input.name, &input.bytes)?;
                Some((input.name, parsed))
            }
            None => None,
        };
        let opts = bundle_options(env, judge, jobs, limits, expect);
        env.progress.phase(Phase::Bundle, None);
        let report = envinspect::bundle::analyse(path, &opts, env.progress);
        env.progress.finish();
        let report = report?;
        render::bundle::render_bundle(&report, format, env.out)?;
        // A log or stats file that could not be read is an unreadable document too.
        let unreadable = report
            .proxies
            .iter()
            .filter(|p| p.kind == envinspect::model::bundle::ProxyKind::Unreadable)
            .count()
            + report
                .proxies
                .iter()
                .filter_map(|p| p.evidence.as_ref())
                .map(|e| e.errors.len())
                .sum::<usize>()
            + report.sync.as_ref().map_or(0, |s| s.errors.len());
        if unreadable + report.refused.len() > 0 {
            return Ok(Outcome::Incomplete(Error::Bundle {
                name: report.source.clone(),
                unreadable,
                refused: report.refused.len(),
            }));
        }
        // Findings and drift both fail, as for `check` (docs/expectations.md).
        let failing = report.findings.iter().any(|f| f.level.fails())
            || report.proxies.iter().any(|p| {
                p.findings > 0
                    || !p.drift.is_empty()
                    || p.evidence.as_ref().is_some_and(|e| {
                        e.summary.failed > 0 || e.counters.iter().any(|f| f.level.fails())
                    })
            });
        Ok(Outcome::failing(failing))
    }
}
