//! `sync`: is each proxy in sync with its control plane? istiod's `debug/syncz` (either form,
//! `syncz`) read into istioctl proxy-status's rows, the findings they prove (`sync-nack`,
//! `sync-stale`), and the cross-check of a proxy's own dump against what istiod says it sent and
//! the proxy acknowledged (`sync-dump-differs`). Works on bytes and the model; knows no flags.

mod syncz;

use crate::model::sync::{
    AcceptedVersions, ProxySync, SyncReport, SyncState, SynczForm, SynczSource, XdsType,
};
use crate::model::Finding;
use crate::model::RuleId;

/// A syncz that cannot be read. Each names the file and the place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The file cannot be read.
    #[error("{name}: cannot read: {source}")]
    Read {
        /// The file.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds nothing.
    #[error(
        "{name}: empty: no syncz (istiod's debug/syncz is a JSON list, or a DiscoveryResponse)"
    )]
    Empty {
        /// The file.
        name: String,
    },
    /// The file is not JSON.
    #[error("{name}:{line}:{column}: {what}")]
    Json {
        /// The file.
        name: String,
        /// Where, from 1.
        line: usize,
        /// Where, from 1.
        column: usize,
        /// The parser's reason.
        what: String,
    },
    /// JSON, but not a syncz.
    #[error("{name} at {}: {what}", if pointer.is_empty() { "/" } else { pointer })]
    Shape {
        /// The file.
        name: String,
        /// Where in it.
        pointer: String,
        /// What was expected.
        what: String,
    },
}

/// One syncz file, read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Syncz {
    /// The file and the istiod it came from.
    pub source: SynczSource,
    /// Every proxy it lists.
    pub proxies: Vec<ProxySync>,
}

/// Reads one syncz. The istiod is named after the pod when the path is laid out as a bug-report
/// lays it out (`…/istio/NS/POD/debug/syncz`), else after the identifier the file carries (the
/// xDS form's `controlPlane`), else after the file.
pub fn read(name: &str, bytes: &[u8]) -> Result<Syncz, SyncError> {
    let pod = istiod_of_path(name);
    let parsed = syncz::parse(name, bytes, pod.as_deref())?;
    let istiod = pod
        .or(parsed.identifier)
        .unwrap_or_else(|| name.to_string());
    Ok(Syncz {
        source: SynczSource {
            file: name.to_string(),
            istiod,
            form: parsed.form,
            proxies: parsed.proxies.len(),
        },
        proxies: parsed.proxies,
    })
}

/// The istiod pod of a bug-report path `…/istio/NS/POD/debug/syncz` (where `istioctl
/// bug-report` writes `pilot-discovery request GET debug/syncz`).
pub fn istiod_of_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [.., "istio", _ns, pod, "debug", "syncz"] => Some(pod.to_string()),
        _ => None,
    }
}

/// `proxy-status`'s answer over every syncz read: the rows sorted as istioctl sorts them (by
/// cluster and name when every file is the SyncStatus list, by name otherwise), and their findings.
pub fn report(files: Vec<Syncz>) -> SyncReport {
    let legacy = files.iter().all(|f| f.source.form == SynczForm::SyncStatus);
    let mut sources = Vec::new();
    let mut proxies = Vec::new();
    for f in files {
        sources.push(f.source);
        proxies.extend(f.proxies);
    }
    proxies.sort_by(|a, b| {
        let key = |p: &ProxySync| {
            let cluster = if legacy {
                p.cluster.clone()
            } else {
                String::new()
            };
            (cluster, p.name.clone(), p.istiod.clone(), p.file.clone())
        };
        key(a).cmp(&key(b))
    });
    sources.sort_by(|a, b| a.file.cmp(&b.file));
    let mut findings: Vec<Finding> = proxies.iter().flat_map(findings).collect();
    findings.sort();
    SyncReport::new(sources, proxies, findings)
}

/// Keeps the proxies whose name contains `name` (istioctl's `proxy-status POD`, a substring
/// match), and the findings about them (their subject names them).
pub fn only(r: &mut SyncReport, name: &str) {
    r.proxies.retain(|p| p.name.contains(name));
    r.findings.retain(|f| f.subject.contains(name));
}

/// What one proxy's row proves: a NACK per refused type (`sync-nack`), and the types sent but
/// not acknowledged (`sync-stale`).
pub fn findings(p: &ProxySync) -> Vec<Finding> {
    let mut out = Vec::new();
    let subject = format!("proxy {}", p.name);
    for t in p.types.iter().filter(|t| t.state == SyncState::Error) {
        let why = t.error.as_deref().map_or_else(
            || "syncz does not say why: read the proxy's error_state (its config_dump)".to_string(),
            crate::model::sync::one_line,
        );
        // The push refused and the one still served, when the nonces say (SyncStatus form).
        let sent = t
            .sent
            .as_deref()
            .map(|s| format!(" ({})", push_version(s)))
            .unwrap_or_default();
        let serves = t.acked.as_deref().map_or_else(
            || "an earlier version".to_string(),
            |a| format!("the version it acknowledged last ({})", push_version(a)),
        );
        out.push(
            Finding::new(
                RuleId::SyncNack,
                &subject,
                format!(
                    "refused the last {} push{sent} of istiod {} and serves {serves}: {why}",
                    t.xds_type, p.istiod
                ),
            )
            .at(&p.file),
        );
    }
    let stale: Vec<String> = p
        .types
        .iter()
        .filter(|t| {
            matches!(
                t.state,
                SyncState::Stale | SyncState::StaleNeverAcknowledged
            )
        })
        .map(|t| {
            let versions = match (t.sent.as_deref(), t.acked.as_deref()) {
                (Some(s), Some(a)) => format!(
                    " (sent {}, acknowledged {})",
                    push_version(s),
                    push_version(a)
                ),
                (Some(s), None) => format!(" (sent {}, never acknowledged)", push_version(s)),
                _ if t.state == SyncState::StaleNeverAcknowledged => {
                    " (never acknowledged)".to_string()
                }
                _ => String::new(),
            };
            format!("{}{versions}", t.xds_type)
        })
        .collect();
    if !stale.is_empty() {
        out.push(
            Finding::new(
                RuleId::SyncStale,
                &subject,
                format!(
                    "istiod {} sent configuration the proxy has not acknowledged: {}; it may serve an older version (a fixed manifest can look broken)",
                    p.istiod,
                    stale.join(", ")
                ),
            )
            .at(&p.file),
        );
    }
    out
}

/// The push version of an Istio nonce: the nonce is the push version followed by a UUID
/// (`pilot/pkg/xds/discovery.go` `nonce`); any other nonce is returned whole.
pub fn push_version(nonce: &str) -> &str {
    const UUID: usize = 36;
    if nonce.len() <= UUID || !nonce.is_char_boundary(nonce.len() - UUID) {
        return nonce;
    }
    let (version, uuid) = nonce.split_at(nonce.len() - UUID);
    let shaped = uuid.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    if shaped {
        version
    } else {
        nonce
    }
}

/// The proxy's own dump against what istiod says of it. CDS and LDS, the types whose accepted
/// version the dump's top level records: a dump that accepted another version than istiod saw
/// acknowledged was taken at another moment than the syncz, or the proxy took it from elsewhere.
/// Every type: an update the dump refused (`error_state`, cleared by the next accepted one) where
/// istiod saw the type acknowledged, or the reverse.
pub fn cross_check(p: &ProxySync, dump: &AcceptedVersions) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut differs = |t: &XdsType, what: String| {
        out.push(
            Finding::new(
                RuleId::SyncDumpDiffers,
                format!("proxy {}", p.name),
                format!("{t}: {what}"),
            )
            .at(&p.file),
        );
    };
    for t in &p.types {
        let refused = dump.refused.contains(&t.xds_type);
        match t.state {
            SyncState::Synced if refused => differs(
                &t.xds_type,
                format!(
                    "the dump holds a refused update (error_state) that istiod {} saw acknowledged: the dump and the syncz were taken on either side of a push",
                    p.istiod
                ),
            ),
            SyncState::Error if !refused && dump.of(&t.xds_type).is_some() => differs(
                &t.xds_type,
                format!(
                    "istiod {} saw the last push refused; the dump holds no error_state for it: a later push was accepted after the syncz was taken",
                    p.istiod
                ),
            ),
            _ => {}
        }
        let Some(accepted) = dump.of(&t.xds_type) else {
            continue;
        };
        let acked = t.acked.as_deref().map(push_version);
        let sent = t.sent.as_deref().map(push_version);
        if acked == Some(accepted) || t.sent.is_none() && t.acked.is_none() {
            continue;
        }
        let what = match (sent, acked) {
            (Some(s), _) if s == accepted => format!(
                "the dump accepted {accepted}, the version istiod {} sent and has not seen acknowledged: the proxy applied it (the dump is newer than the syncz, or the ACK was under way)",
                p.istiod
            ),
            (_, Some(a)) => format!(
                "the dump accepted {accepted}; istiod {} saw {a} acknowledged: the dump and the syncz were taken at different moments, or the proxy is fed by another control plane",
                p.istiod
            ),
            (_, None) => format!(
                "the dump accepted {accepted}; istiod {} saw nothing acknowledged",
                p.istiod
            ),
        };
        differs(&t.xds_type, what);
    }
    out
}

/// A bundle's proxy (`NAMESPACE/POD`) as istiod names it (`POD.NAMESPACE`).
pub fn node_name(bundle_proxy: &str) -> Option<String> {
    let (ns, pod) = bundle_proxy.split_once('/')?;
    (!ns.is_empty() && !pod.is_empty() && !pod.contains('/')).then(|| format!("{pod}.{ns}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_a_push_version_and_a_uuid() {
        assert_eq!(
            push_version("2026-12-07T08:00:00Z/12c0d1e2f3-aaaa-4bbb-8ccc-0123456789ab"),
            "2026-12-07T08:00:00Z/12"
        );
        assert_eq!(push_version("v1"), "v1");
        assert_eq!(
            push_version("not-a-uuid-but-long-enough-to-be-cut-xxxxxxxxxx"),
            "not-a-uuid-but-long-enough-to-be-cut-xxxxxxxxxx"
        );
    }

    #[test]
    fn a_bug_report_path_names_its_istiod() {
        assert_eq!(
            istiod_of_path("bug-report/istio/istio-system/istiod-7d4-abc/debug/syncz").as_deref(),
            Some("istiod-7d4-abc")
        );
        assert_eq!(istiod_of_path("syncz.json"), None);
        assert_eq!(node_name("shop/web-1").as_deref(), Some("web-1.shop"));
    }

    #[test]
    fn bad_syncz_are_one_line_errors_naming_the_place() {
        let e = |b: &str| read("s.json", b.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e(" \n"),
            "s.json: empty: no syncz (istiod's debug/syncz is a JSON list, or a DiscoveryResponse)"
        );
        assert!(
            e("[{\"proxy\": ").starts_with("s.json:1:"),
            "{}",
            e("[{\"proxy\": ")
        );
        assert_eq!(e("{\"a\": 1}"), "s.json at /: an object is not a syncz: expected istiod's SyncStatus list or a DiscoveryResponse of type.googleapis.com/envoy.service.status.v3.ClientConfig");
        assert_eq!(
            e("[{\"proxy\": \"p\", \"cluster_sent\": 3}]"),
            "s.json at /0: `cluster_sent` is a number, expected a string"
        );
        assert_eq!(
            e("[7]"),
            "s.json at /0: a number in the SyncStatus list, expected an object"
        );
        assert!(!e("[7]").contains('\n'));
    }

    #[test]
    fn the_dump_is_checked_against_what_istiod_saw() {
        let s = r#"[{"proxy":"web-1.shop","cluster_id":"K","istio_version":"1.28.0",
            "cluster_sent":"2026-12-07T08:00:00Z/1","cluster_acked":"2026-12-07T08:00:00Z/1",
            "listener_sent":"2026-12-07T08:05:00Z/2","listener_acked":"2026-12-07T08:00:00Z/1"}]"#;
        let p = &read("s", s.as_bytes()).unwrap().proxies[0];
        let rules = |dump: AcceptedVersions| -> Vec<String> {
            cross_check(p, &dump)
                .into_iter()
                .map(|f| f.message)
                .collect()
        };
        let v = |s: &str| Some(s.to_string());
        // What istiod saw acked is what the dump accepted: nothing to say.
        assert!(rules(AcceptedVersions {
            cds: v("2026-12-07T08:00:00Z/1"),
            lds: v("2026-12-07T08:00:00Z/1"),
            refused: vec![]
        })
        .is_empty());
        // The dump accepted the version istiod sent and saw no ACK for: it applied it.
        let m = rules(AcceptedVersions {
            cds: None,
            lds: v("2026-12-07T08:05:00Z/2"),
            refused: vec![],
        });
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with(
                "LDS: the dump accepted 2026-12-07T08:05:00Z/2, the version istiod s sent"
            ),
            "{m:?}"
        );
        // A refusal in the dump where istiod saw CDS acknowledged.
        let m = rules(AcceptedVersions {
            cds: v("2026-12-07T08:00:00Z/1"),
            lds: None,
            refused: vec![XdsType::Cds],
        });
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("CDS: the dump holds a refused update"),
            "{m:?}"
        );
    }

    #[test]
    fn a_last_error_is_a_nack() {
        let s = r#"[{"proxy":"web-1.shop","cluster_id":"Kubernetes","istio_version":"1.28.0",
            "listener_sent":"v2","listener_acked":"v1",
            "resources":{"type.googleapis.com/envoy.config.listener.v3.Listener":
              {"sent":"v2","acked":"v1","sentTime":"2026-12-07T08:05:00.5Z","lastError":"Error adding/updating listener(s) web: bad"}}}]"#;
        let r = report(vec![read(
            "istio/istio-system/istiod-1/debug/syncz",
            s.as_bytes(),
        )
        .unwrap()]);
        let p = &r.proxies[0];
        assert_eq!(
            (p.istiod.as_str(), p.state(&XdsType::Lds)),
            ("istiod-1", SyncState::Error)
        );
        assert_eq!(p.state(&XdsType::Cds), SyncState::NotSent);
        assert_eq!(p.summary(), "ERROR (LDS)");
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].rule, RuleId::SyncNack);
        assert!(r.findings[0]
            .message
            .ends_with("Error adding/updating listener(s) web: bad"));
    }
}
