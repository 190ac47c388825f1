//! The other admin documents: `/certs` and `/clusters?format=json` (`/server_info` needs only
//! the node, see `mod.rs`).

use std::collections::BTreeMap;

use crate::model::Timestamp;
use envoy_types::pb::envoy::admin::v3 as admin;

use super::resources;
use crate::model::cert::CertInfo;
use crate::model::{Endpoint, Report, SecretKind, SecretState, Serial};

/// `/certs`: each certificate Envoy holds, as CA or chain entries.
pub(crate) fn certs_document(c: admin::Certificates, now: Timestamp, r: &mut Report) {
    use envoy_types::pb::envoy::admin::v3::subject_alternate_name::Name;
    for (i, entry) in c.certificates.into_iter().enumerate() {
        for (kind, list, key) in [
            (SecretKind::Ca, entry.ca_cert, "ca_cert"),
            (SecretKind::CertChain, entry.cert_chain, "cert_chain"),
        ] {
            let certs: Vec<(String, CertInfo)> = list
                .into_iter()
                .map(|d| {
                    let ts = |t: Option<envoy_types::pb::google::protobuf::Timestamp>| {
                        t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.seconds).ok())
                            .map(Timestamp::from)
                    };
                    let (from, to) = (ts(d.valid_from), ts(d.expiration_time));
                    let mut info = CertInfo {
                        subject: String::new(),
                        issuer: String::new(),
                        serial: Serial::from_bytes(&hex_bytes(&d.serial_number)),
                        not_before: from,
                        not_after: to,
                        valid_now: matches!((from, to), (Some(f), Some(t)) if f <= now && now <= t),
                        seconds_left: to.map(|t| now.seconds_until(t)).unwrap_or(0),
                        ip_addresses: Vec::new(),
                        emails: Vec::new(),
                        key_algorithm: String::new(),
                        key_bits: None,
                        key_usage: Vec::new(),
                        extended_key_usage: Vec::new(),
                        sha256: None,
                        der: None,
                        is_ca: kind == SecretKind::Ca,
                        spiffe_ids: Vec::new(),
                        bad_spiffe_ids: Vec::new(),
                        dns_names: Vec::new(),
                        other_uris: Vec::new(),
                    };
                    for san in d.subject_alt_names {
                        match san.name {
                            Some(Name::Uri(u)) if u.starts_with("spiffe://") => match u.parse() {
                                Ok(id) => info.spiffe_ids.push(id),
                                Err(e) => info.bad_spiffe_ids.push(format!("{e}")),
                            },
                            Some(Name::Uri(u)) => info.other_uris.push(u),
                            Some(Name::Dns(d)) => info.dns_names.push(d),
                            Some(Name::IpAddress(ip)) => info.ip_addresses.push(ip),
                            _ => {}
                        }
                    }
                    (d.path, info)
                })
                .collect();
            if certs.is_empty() {
                continue;
            }
            // Where Envoy read them: `<inline>` (SDS, inline bytes) or a file path.
            let files: Vec<String> = certs
                .iter()
                .map(|(p, _)| p.clone())
                .filter(|p| !p.is_empty() && p != "<inline>")
                .collect();
            let certs: Vec<CertInfo> = certs.into_iter().map(|(_, c)| c).collect();
            let mut s = crate::model::Secret::new(
                format!("certificates[{i}].{key}"),
                SecretState::Active,
                kind,
                &format!("/certificates/{i}/{key}"),
            );
            s.certificates = certs;
            s.files = files;
            r.secrets.push(s);
        }
    }
}

fn hex_bytes(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let s = if s.len() % 2 == 1 { format!("0{s}") } else { s };
    (0..s.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// `/clusters?format=json`: endpoints with their health as Envoy sees it now.
pub(crate) fn cluster_statuses(c: admin::Clusters, r: &mut Report) {
    use envoy_types::pb::envoy::config::core::v3::HealthStatus;
    for (i, cs) in c.cluster_statuses.into_iter().enumerate() {
        for (j, h) in cs.host_statuses.into_iter().enumerate() {
            let hs = h.health_status.unwrap_or_default();
            let failed = hs.failed_active_health_check
                || hs.failed_outlier_check
                || hs.failed_active_degraded_check
                || hs.pending_dynamic_removal;
            let health = if failed {
                "UNHEALTHY".to_string()
            } else {
                HealthStatus::try_from(hs.eds_health_status)
                    .map(|s| s.as_str_name().to_string())
                    .unwrap_or_default()
            };
            r.endpoints.push(Endpoint {
                cluster: cs.name.clone().into(),
                eds_service_name: None,
                address: h
                    .address
                    .as_ref()
                    .map(resources::format_address)
                    .unwrap_or_default(),
                health,
                locality: h
                    .locality
                    .map(|l| {
                        [l.region, l.zone, l.sub_zone]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .filter(|l| !l.is_empty()),
                weight: Some(h.weight),
                socket_match: BTreeMap::new(),
                pointer: format!("/cluster_statuses/{i}/host_statuses/{j}").into(),
            });
        }
    }
    r.endpoints
        .sort_by(|a, b| (&a.cluster, &a.address).cmp(&(&b.cluster, &b.address)));
}
