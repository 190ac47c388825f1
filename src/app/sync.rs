//! `proxy-status`: istioctl proxy-status offline, from syncz files (one per istiod) or from a
//! bundle (every istiod's `debug/syncz`, each proxy cross-checked with its own dump). A syncz
//! that cannot be read is told after the answer for the others (exit 2).

use std::path::PathBuf;

use super::{Env, Judge, Outcome, RunError, UsageError};
use envinspect::bundle::Limits;
use envinspect::model::sync::SyncReport;
use envinspect::render::{self, Format};
use envinspect::sync::SyncError;
use envinspect::Error;

/// What `proxy-status` reads.
pub(super) struct ProxyStatus {
    pub inputs: Vec<PathBuf>,
    pub proxy: Option<String>,
    pub jobs: Option<usize>,
    pub limits: Limits,
}

pub(super) fn proxy_status(
    env: &mut Env,
    what: ProxyStatus,
    format: Format,
    judge: &Judge,
) -> Result<Outcome, RunError> {
    let ProxyStatus {
        inputs,
        proxy,
        jobs,
        limits,
    } = what;
    let bundles = inputs
        .iter()
        .filter(|p| super::explain::is_bundle(p))
        .count();
    if bundles > 0 && inputs.len() > 1 {
        return Err(UsageError::ProxyStatusMixed.into());
    }
    let (mut report, errors, failure) = if bundles == 1 {
        from_bundle(env, &inputs[0], jobs, limits, judge)?
    } else {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for path in &inputs {
            let name = path.display().to_string();
            let read = std::fs::read(path)
                .map_err(|source| SyncError::Read {
                    name: name.clone(),
                    source,
                })
                .and_then(|bytes| envinspect::sync::read(&name, &bytes));
            match read {
                Ok(s) => files.push(s),
                Err(e) => errors.push(e),
            }
        }
        let lines = errors.iter().map(ToString::to_string).collect();
        let failure = errors.into_iter().next().map(Error::Sync);
        (envinspect::sync::report(files), lines, failure)
    };
    if let Some(name) = &proxy {
        envinspect::sync::only(&mut report, name);
    }
    env.progress.finish();
    render::sync::render_sync(&report, &errors, format, env.color, env.out)?;
    if let Some(e) = failure {
        return Ok(Outcome::Incomplete(e));
    }
    Ok(Outcome::failing(
        report.findings.iter().any(|f| f.level.fails()),
    ))
}

/// A bundle's syncz, each proxy cross-checked with its dump (the bundle's own analysis, whose
/// `sync-*` fleet findings are kept).
fn from_bundle(
    env: &mut Env,
    path: &std::path::Path,
    jobs: Option<usize>,
    limits: Limits,
    judge: &Judge,
) -> Result<(SyncReport, Vec<String>, Option<Error>), RunError> {
    let opts = super::bundle::bundle_options(env, judge, jobs, limits, None);
    env.progress
        .phase(envinspect::progress::Phase::Bundle, None);
    let b = envinspect::bundle::analyse(path, &opts, env.progress)?;
    let Some(sync) = b.sync else {
        return Err(UsageError::ProxyStatusNoSyncz(b.source).into());
    };
    let findings = b
        .findings
        .into_iter()
        .filter(|f| {
            use envinspect::model::RuleId;
            matches!(
                f.rule,
                RuleId::SyncNack | RuleId::SyncStale | RuleId::SyncDumpDiffers
            )
        })
        .collect();
    let failure = (!sync.errors.is_empty()).then(|| Error::Bundle {
        name: b.source.clone(),
        unreadable: sync.errors.len(),
        refused: b.refused.len(),
    });
    let report = SyncReport::new(sync.sources, sync.proxies, findings);
    Ok((report, sync.errors, failure))
}
