//! PEM, read leniently and linted strictly: blocks glued without a newline (istio/istio#22530),
//! text around the blocks, duplicates, a private key where certificates belong, and a chain whose
//! leaf is not first. Private key blocks are counted, never decoded or shown.

use crate::model::RuleId;
use base64::Engine as _;

use super::CertError;
use crate::model::cert::PemLint;
use crate::model::CertInfo;

pub(crate) struct Block {
    pub index: usize,
    pub label: String,
    pub der: Vec<u8>,
}

pub(crate) fn is_pem(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"-----BEGIN ")
}

/// Every `-----BEGIN X----- … -----END X-----` block, in order.
pub(crate) fn blocks(bytes: &[u8]) -> Vec<Result<Block, CertError>> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    let mut index = 0;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            out.push(Err(CertError::Unterminated { block: index + 1 }));
            break;
        };
        let label = after[..label_end].to_string();
        let body_and_more = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_and_more.find(&end_marker) else {
            out.push(Err(CertError::NoEnd {
                block: index + 1,
                label,
            }));
            break;
        };
        let is_key = label.contains("PRIVATE KEY");
        let body: String = body_and_more[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = if is_key {
            Ok(vec![0; body.len() * 3 / 4])
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .map_err(|e| CertError::Base64 {
                    block: index + 1,
                    reason: e.to_string(),
                })
        };
        out.push(der.map(|der| Block { index, label, der }));
        rest = &body_and_more[end + end_marker.len()..];
        index += 1;
    }
    out
}

/// Hygiene problems of a certificate field's bytes. `chain` says whether the bytes are a
/// certificate chain (leaf first) rather than a CA bundle.
pub(crate) fn lint(bytes: &[u8], certs: &[CertInfo], chain: bool) -> Vec<PemLint> {
    let mut out = Vec::new();
    if !is_pem(bytes) {
        return out;
    }
    let text = String::from_utf8_lossy(bytes);
    let glued = text.matches("-----END CERTIFICATE----------BEGIN").count()
        + text
            .matches("-----END CERTIFICATE-----\r-----BEGIN")
            .count();
    if glued > 0 {
        out.push(PemLint { rule: RuleId::PemGlued, detail: format!("{glued} certificate block(s) start on the END line of the previous one (no newline between)") });
    }
    let last_end = text.rfind("-----END ").and_then(|i| {
        text[i..]
            .find("-----\n")
            .or_else(|| text[i + 9..].find("-----").map(|j| j + 9))
            .map(|j| i + j + 5)
    });
    if let Some(end) = last_end {
        let trailing = text[end..].trim();
        if !trailing.is_empty() {
            out.push(PemLint {
                rule: RuleId::PemTrailingData,
                detail: format!(
                    "{} byte(s) of text after the last PEM block",
                    trailing.len()
                ),
            });
        }
    }
    for b in blocks(bytes).into_iter().flatten() {
        if b.label.contains("PRIVATE KEY") {
            out.push(PemLint {
                rule: RuleId::PemPrivateKey,
                detail: format!("block {} is a {} (about {} bytes) where certificates belong; its content is not shown", b.index + 1, b.label, b.der.len()),
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, c) in certs.iter().enumerate() {
        if c.sha256.is_some() && !seen.insert(&c.sha256) {
            out.push(PemLint {
                rule: RuleId::PemDuplicate,
                detail: format!(
                    "certificate {} ({}) appears more than once",
                    i + 1,
                    c.subject
                ),
            });
        }
    }
    if chain {
        if let Some(detail) = order_problem(certs) {
            out.push(PemLint {
                rule: RuleId::ChainOrder,
                detail,
            });
        }
    }
    out.sort();
    out
}

/// A chain must go leaf first, each certificate followed by its issuer.
fn order_problem(certs: &[CertInfo]) -> Option<String> {
    if let Some(leaf_at) = certs.iter().position(|c| !c.is_ca && c.subject != c.issuer) {
        if leaf_at > 0 {
            return Some(format!(
                "the leaf is certificate {} of {}; it must come first",
                leaf_at + 1,
                certs.len()
            ));
        }
    }
    for (i, pair) in certs.windows(2).enumerate() {
        if pair[0].issuer != pair[1].subject && pair[1].issuer == pair[0].subject {
            return Some(format!(
                "certificate {} is issued by certificate {}: the chain is in reverse order",
                i + 2,
                i + 1
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glued_blocks_are_still_read_and_reported() {
        let one = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        let glued = format!("{one}{one}\n");
        let bs: Vec<_> = blocks(glued.as_bytes())
            .into_iter()
            .map(|b| b.unwrap().label)
            .collect();
        assert_eq!(bs, ["CERTIFICATE", "CERTIFICATE"]);
        let rules: Vec<_> = lint(glued.as_bytes(), &[], true)
            .into_iter()
            .map(|l| l.rule)
            .collect();
        assert_eq!(rules, [RuleId::PemGlued]);
    }

    #[test]
    fn trailing_text_and_keys() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\nhello\n";
        let lints = lint(pem.as_bytes(), &[], true);
        let rules: Vec<_> = lints.iter().map(|l| l.rule).collect();
        assert_eq!(rules, [RuleId::PemPrivateKey, RuleId::PemTrailingData]);
        assert!(
            !lints.iter().any(|l| l.detail.contains("QUJD")),
            "key bytes never shown"
        );
    }

    #[test]
    fn unterminated_block_is_an_error() {
        let b = blocks(b"-----BEGIN CERTIFICATE-----\nAAAA\n");
        assert!(
            matches!(&b[0], Err(CertError::NoEnd { block: 1, label }) if label == "CERTIFICATE")
        );
        let b = blocks(b"-----BEGIN CERTIFI");
        assert!(matches!(b[0], Err(CertError::Unterminated { block: 1 })));
        let b = blocks(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERT-----\n");
        assert_eq!(
            b[0].as_ref().err().map(|e| e.to_string()).as_deref(),
            Some("PEM block 1: no `-----END CERTIFICATE-----` line")
        );
    }
}
