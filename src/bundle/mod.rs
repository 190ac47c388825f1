//! `bundle`: a whole fleet offline. Reads every proxy document of a support bundle (see
//! `source::bundle`), inspects proxies in parallel (`jobs` threads), keeps one row and a few
//! fleet facts per proxy (its dump is dropped as soon as the row is made, so memory stays bounded
//! as proxies are added), then runs the fleet rules across them.

mod ambient;
mod fleet;
mod reach;
mod sync;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;

// A bundle's size limits, and reading an archive's entries on their own.
pub use crate::source::bundle::{read_archive, Limits};

use crate::decode::Pool;
use crate::document::ParseError;
use crate::model::bundle::{BundleReport, FleetFacts, OutboundCluster, ProxyKind, ProxyRow};
use crate::model::Report;
use crate::progress::Progress;
use crate::source::bundle::{Entry, EntryKind};
use crate::source::Input;

/// How to analyse a bundle: when, with how many workers, within which limits.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BundleOptions {
    /// The time certificates are judged at.
    pub now: crate::model::Timestamp,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// `fleet-cert-expiring` below this much time left.
    pub expiry_warning: crate::model::Span,
    /// The largest entry and the largest whole read from the archive.
    pub limits: Limits,
    /// The rules' thresholds, for every proxy.
    pub rules: crate::diagnose::RuleOptions,
    /// `--expect`: expectations applied per proxy, and the file's name.
    pub expect: Option<(String, crate::expect::fleet::FleetExpectations)>,
}

impl BundleOptions {
    /// Judged at `now`, one worker, the default limits and thresholds (an expiry warning below
    /// 24 hours, as for one proxy), no expectations.
    pub fn at(now: impl Into<crate::model::Timestamp>) -> Self {
        let rules = crate::diagnose::RuleOptions::default();
        BundleOptions {
            now: now.into(),
            jobs: 1,
            expiry_warning: rules.expiry_warning,
            limits: Limits::default(),
            rules,
            expect: None,
        }
    }
}

/// Reads and analyses a bundle; `progress` is told of the bytes read and of the proxies done.
pub fn analyse(
    path: &Path,
    opts: &BundleOptions,
    progress: &dyn Progress,
) -> Result<BundleReport, crate::Error> {
    let jobs = opts.jobs.max(1);
    // A proxy's files arrive together (bug-reports and directories are read in path order), one
    // group each: its dump, and the evidence explained against it.
    let (tx, rx) = mpsc::sync_channel::<Vec<Entry>>(jobs * 2);
    let rx = Mutex::new(rx);
    let (done_tx, done_rx) = mpsc::channel::<(EntryKind, ProxyRow)>();
    let mut syncz: Vec<Entry> = Vec::new();
    let refused = std::thread::scope(|scope| {
        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let rx = &rx;
            scope.spawn(move || {
                // The descriptor pool is loaded once, by the first worker, while the reader is
                // already at work; the others wait for it and share it by reference.
                if Pool::shared().is_err() {
                    // Reported below. Drain, so the reader is never blocked on a full channel.
                    while let Ok(Ok(_)) = rx.lock().map(|r| r.recv()) {}
                    return;
                }
                loop {
                    let next = rx.lock().map(|r| r.recv());
                    let Ok(Ok(group)) = next else { break };
                    for (kind, r) in proxy_group(group, opts) {
                        let _ = done_tx.send((kind, r));
                    }
                }
            });
        }
        drop(done_tx);
        let collector = scope.spawn(|| {
            let mut rows: BTreeMap<String, (EntryKind, ProxyRow)> = BTreeMap::new();
            for (kind, row) in done_rx {
                // `config_dump?include_eds` wins over `config_dump` for the same proxy.
                let keep = rows.get(&row.proxy).is_none_or(|(k, _)| kind > *k);
                if keep {
                    rows.insert(row.proxy.clone(), (kind, row));
                }
                progress.items(rows.len() as u64);
            }
            rows
        });
        let mut group: Vec<Entry> = Vec::new();
        let refused = crate::source::bundle::read(path, &opts.limits, progress, &mut |e| {
            // istiod's syncz is the fleet's, not a proxy's: read after the rows are made.
            if e.kind == EntryKind::Syncz {
                syncz.push(e);
                return;
            }
            if group.first().is_some_and(|g| g.proxy != e.proxy) {
                let _ = tx.send(std::mem::take(&mut group));
            }
            group.push(e);
        });
        if !group.is_empty() {
            let _ = tx.send(group);
        }
        drop(tx);
        // The collector only gathers rows: a panic there is not one proxy's, it is re-raised.
        let rows = collector
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        refused.map(|r| (r, rows))
    });
    Pool::shared()?;
    let (refused, rows) = refused?;
    let mut proxies: Vec<ProxyRow> = rows.into_values().map(|(_, r)| r).collect();
    let mut findings = fleet::findings(&proxies, opts);
    let sync = sync::fleet(syncz, &mut proxies, &mut findings);
    let reachability = reach::reachability(&proxies, &mut findings);
    Ok(BundleReport {
        schema_version: crate::model::report::SCHEMA_VERSION,
        source: path.display().to_string(),
        now: opts.now,
        proxies,
        findings,
        reachability,
        refused,
        sync,
    })
}

fn unreadable(proxy: &str, path: &str, kind: ProxyKind, error: String) -> ProxyRow {
    ProxyRow {
        proxy: proxy.to_string(),
        kind,
        file: path.to_string(),
        error: Some(error),
        identity: None,
        held: Vec::new(),
        trust_domain: None,
        cert_not_after: None,
        cert_seconds_left: None,
        roots: Vec::new(),
        external_roots: Vec::new(),
        outbound: None,
        inbound: Vec::new(),
        findings: 0,
        warnings: 0,
        expectations: 0,
        drift: Vec::new(),
        evidence: None,
        sync: None,
        fleet: FleetFacts::default(),
    }
}

/// The rows of one proxy's files: a row per dump, the evidence (its log, its stats) explained
/// against the best of them (`config_dump?include_eds`, which has the endpoints). A panic is a
/// bug (par::LOST): that proxy's row says so, the rest go on.
fn proxy_group(group: Vec<Entry>, opts: &BundleOptions) -> Vec<(EntryKind, ProxyRow)> {
    let (evidence, mut dumps): (Vec<Entry>, Vec<Entry>) =
        group.into_iter().partition(|e| e.kind.is_evidence());
    dumps.retain(|e| e.kind != EntryKind::Certs);
    // The best dump last, so its report is the one kept.
    dumps.sort_by_key(|e| e.kind);
    let mut rows = Vec::new();
    let mut best: Option<(usize, Report)> = None;
    for entry in dumps {
        let (kind, proxy, path) = (entry.kind, entry.proxy.clone(), entry.path.clone());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| row(entry, opts)))
            .unwrap_or_else(|_| {
                let what = format!("{path}: {}", crate::par::LOST);
                (
                    Some(unreadable(&proxy, &path, ProxyKind::Unreadable, what)),
                    None,
                )
            });
        if let (Some(row), report) = r {
            if let Some(report) = report {
                best = Some((rows.len(), report));
            }
            rows.push((kind, row));
        }
    }
    if let (Some((i, report)), false) = (best, evidence.is_empty()) {
        let path = rows[i].1.file.clone();
        let ev = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            explain_evidence(&report, evidence)
        }))
        .unwrap_or_else(|_| crate::model::evidence::ProxyEvidence {
            errors: vec![format!("{path}: {}", crate::par::LOST)],
            ..Default::default()
        });
        rows[i].1.evidence = Some(ev);
    }
    rows
}

/// A proxy's log and stats, explained against its report. A file that cannot be read is said in
/// `errors`; the other is still explained.
fn explain_evidence(report: &Report, entries: Vec<Entry>) -> crate::model::evidence::ProxyEvidence {
    use crate::evidence::{explain_log, stats, Grouped};
    let mut ev = crate::model::evidence::ProxyEvidence::default();
    for e in entries {
        let Entry {
            path, bytes, kind, ..
        } = e;
        match kind {
            EntryKind::AccessLog => {
                let mut grouped = Grouped::default();
                let read = explain_log(
                    report,
                    &path,
                    std::io::Cursor::new(bytes),
                    false,
                    &mut ev.summary,
                    &mut grouped,
                );
                if let Err(err) = read {
                    ev.errors.push(err.to_string());
                }
                ev.causes.extend(grouped.into_groups());
            }
            EntryKind::Stats => {
                match stats::read(&path, std::io::Cursor::new(bytes)) {
                    Ok(s) => ev.counters.extend(stats::findings(report, &path, &s)),
                    Err(err) => ev.errors.push(err.to_string()),
                }
                ev.stats = Some(path);
            }
            _ => {}
        }
    }
    ev
}

/// One proxy's row: inspect its dump, keep the row, and the report while evidence needs it. A
/// JSON file of a tree with no known layout that parses but is no config dump is not a proxy:
/// no row.
fn row(entry: Entry, opts: &BundleOptions) -> (Option<ProxyRow>, Option<Report>) {
    let Entry {
        proxy,
        path,
        bytes,
        kind,
    } = entry;
    // Fault injection for the tests of the panic policy (`fault_tests.rs`): never compiled
    // into the library.
    #[cfg(test)]
    if proxy.ends_with(fault_tests::PANICS) {
        panic!("injected: {proxy}");
    }
    let generic = kind == EntryKind::AnyJson;
    let input = Input {
        name: path.clone(),
        bytes,
    };
    // The workers are the parallelism: one thread within a proxy (`Options::at`).
    let options = crate::Options {
        rules: opts.rules.clone(),
        ..crate::Options::at(opts.now)
    };
    let report = match crate::inspect_owned(input, &options, &crate::progress::Quiet) {
        Ok(r) => r,
        Err(e) => {
            let msg = e.to_string();
            let shape = matches!(e, crate::Error::Parse(ParseError::Shape { .. }));
            if generic && shape {
                return (None, None);
            }
            return (
                Some(unreadable(&proxy, &path, ProxyKind::Unreadable, msg)),
                None,
            );
        }
    };
    let mut row = match report.document {
        crate::model::DocumentKind::ConfigDump => summarise(&proxy, &path, &report),
        crate::model::DocumentKind::Ztunnel => ambient::row(&proxy, &path, &report),
        _ if generic => return (None, None),
        other => {
            let what = format!("{path}: a {}, not a config dump", other.label());
            return (
                Some(unreadable(&proxy, &path, ProxyKind::Unreadable, what)),
                None,
            );
        }
    };
    if let Some((name, fleet)) = &opts.expect {
        let id = row.identity.as_ref().map(|i| i.to_string());
        for (i, item) in fleet
            .proxies
            .iter()
            .enumerate()
            .filter(|(_, it)| it.select.matches(&proxy, id.as_deref()))
        {
            let input = crate::expect::CheckInput {
                expectations_name: format!("{name} proxies[{i}]"),
                ..Default::default()
            };
            let c = crate::expect::check(&report, &item.expect, &input);
            row.expectations += c.results.len();
            row.drift.extend(
                c.results
                    .into_iter()
                    .filter(|r| r.status == crate::model::expectation::CheckStatus::Fail),
            );
        }
    }
    // Only an Envoy's dump explains access logs.
    let keep = (report.document == crate::model::DocumentKind::ConfigDump).then_some(report);
    (Some(row), keep)
}

fn summarise(proxy: &str, path: &str, r: &Report) -> ProxyRow {
    let identity = r.identity.as_ref();
    let leaf = identity
        .and_then(|i| r.secrets.iter().find(|s| s.name == i.secret))
        .and_then(|s| s.certificates.first());
    let errors = r.error_count();
    let serves = serves(r);
    let clusters = r
        .clusters
        .iter()
        .filter_map(|c| {
            let n = c.istio.as_ref().filter(|n| n.direction == "outbound")?;
            let mut target_ports: Vec<u16> = r
                .endpoints
                .iter()
                .filter(|e| e.cluster == c.name)
                .filter_map(|e| e.address.rsplit_once(':')?.1.parse().ok())
                .collect();
            target_ports.sort_unstable();
            target_ports.dedup();
            Some(OutboundCluster {
                name: c.name.to_string(),
                fqdn: n.fqdn.clone(),
                port: n.port,
                target_ports,
                kind: c.tls.kind(),
                san_matchers: c
                    .tls
                    .contexts()
                    .map(|ctx| ctx.san_matchers.clone())
                    .collect(),
                pointer: c.pointer.clone(),
            })
        })
        .collect();
    let certificates = certificates(r);
    ProxyRow {
        proxy: proxy.to_string(),
        kind: ProxyKind::Envoy,
        file: path.to_string(),
        error: (errors > 0).then(|| format!("{errors} value(s) could not be decoded")),
        identity: identity.and_then(|i| i.spiffe_id.clone()),
        held: Vec::new(),
        trust_domain: identity.and_then(|i| i.trust_domain.clone()),
        cert_not_after: leaf.and_then(|c| c.not_after),
        cert_seconds_left: leaf.map(|c| c.seconds_left),
        roots: r.mesh_roots().into_keys().collect(),
        external_roots: r.external_roots().into_keys().collect(),
        outbound: Some(r.outbound.mode),
        inbound: r.inbound.iter().map(|p| (p.port, p.mode)).collect(),
        findings: r.findings.iter().filter(|f| f.level.fails()).count(),
        warnings: r.warnings.iter().map(|w| w.count).sum(),
        expectations: 0,
        drift: Vec::new(),
        evidence: None,
        sync: None,
        fleet: FleetFacts {
            serves,
            clusters,
            certificates,
            guards: guards(r),
            waypoints: Vec::new(),
            accepted: r.accepted.clone(),
            interception: r.node.as_ref().and_then(|n| n.interception.clone()),
            presents: r
                .identities
                .iter()
                .filter(|i| {
                    !matches!(
                        i.basis,
                        crate::model::IdentityBasis::ControlPlane
                            | crate::model::IdentityBasis::Unreferenced
                    )
                })
                .filter_map(|i| i.spiffe_id.as_ref().map(|s| s.to_string()))
                .collect(),
        },
    }
}

/// `(secret, not_after, seconds_left)` of every certificate in force, for fleet-cert-expiring.
fn certificates(r: &Report) -> Vec<(String, Option<crate::model::Timestamp>, i64)> {
    r.secrets
        .iter()
        .filter(|s| s.state.in_force())
        .flat_map(|s| {
            s.certificates
                .iter()
                .map(move |c| (s.label(), c.not_after, c.seconds_left))
        })
        .collect()
}

/// Ports with enforced RBAC, as a mesh caller meets them: per listener and port, the TLS chain's
/// filters (the plaintext one's when it has none).
fn guards(r: &Report) -> Vec<crate::model::bundle::PortGuard> {
    use crate::model::authz::AuthzKind;
    let mut out: Vec<crate::model::bundle::PortGuard> = Vec::new();
    for l in &r.listeners {
        let mut chains: Vec<&crate::model::FilterChain> = l.filter_chains.iter().collect();
        // TLS chains first: a mesh caller's mTLS connection gets those.
        chains.sort_by_key(|c| !matches!(c.tls, crate::model::Socket::Tls(_)));
        for ch in chains {
            let rbac: Vec<(String, crate::model::authz::Rbac)> = ch
                .authz
                .iter()
                .filter_map(|a| match &a.kind {
                    AuthzKind::Rbac(rb) if rb.rules.is_some() && !a.disabled => {
                        Some((a.name.clone(), rb.clone()))
                    }
                    _ => None,
                })
                .collect();
            if rbac.is_empty() {
                continue;
            }
            let port = ch.matcher.destination_port.or(l.port);
            let key = format!(
                "{}/{}",
                l.name,
                port.map(|p| p.to_string()).unwrap_or_else(|| "*".into())
            );
            if out.iter().any(|g| g.port == key) {
                continue;
            }
            out.push(crate::model::bundle::PortGuard {
                port: key,
                rbac,
                pointer: ch.pointer.clone(),
            });
        }
    }
    out
}

/// The services a proxy serves: FQDNs in its inbound cluster names (Istio ≤ 1.7), and Istio's
/// node cluster `app.namespace` (the workload's app label), read as `app.namespace.svc.cluster.local`.
fn serves(r: &Report) -> Vec<String> {
    let mut out: Vec<String> = r
        .clusters
        .iter()
        .filter_map(|c| c.istio.as_ref())
        .filter(|n| n.direction == "inbound" && n.fqdn.contains('.'))
        .map(|n| n.fqdn.clone())
        .collect();
    if let Some((app, ns)) = r
        .node
        .as_ref()
        .and_then(|n| n.cluster.as_deref())
        .and_then(|c| c.split_once('.'))
    {
        if !app.is_empty() && !ns.is_empty() && !ns.contains('.') {
            out.push(format!("{app}.{ns}.svc.cluster.local"));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod fault_tests;
