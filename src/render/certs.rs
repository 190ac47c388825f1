//! `envinspect certs`: every certificate in full, grouped by the secret (or file, or inline TLS
//! context) that holds it.

use std::io::{self, Write};

use super::redaction::MARKER;
use crate::cert::remaining;
use crate::model::{CertInfo, ChainVerdict, Report};

/// Every secret's certificates; `redacted`: time left (derived from the dates) is not shown.
pub(super) fn certs(r: &Report, redacted: bool, w: &mut dyn Write) -> io::Result<()> {
    let mut first = true;
    for s in &r.secrets {
        if !first {
            writeln!(w)?;
        }
        first = false;
        let kind = s.kind.to_string();
        writeln!(
            w,
            "{} [{}{}]",
            s.name,
            s.state,
            if kind.is_empty() {
                String::new()
            } else {
                format!(", {kind}")
            }
        )?;
        if s.chain != ChainVerdict::NotApplicable {
            writeln!(w, "  chain: {}", s.chain)?;
        }
        if !s.referenced_by.is_empty() {
            writeln!(w, "  used by: {}", s.referenced_by.join(", "))?;
        }
        // A dump names the file only; /certs shows what Envoy read from it.
        let note = if r.document == crate::model::DocumentKind::Certs {
            "read by Envoy"
        } else {
            "not in the dump"
        };
        for f in &s.files {
            writeln!(w, "  file: {f} ({note})")?;
        }
        for p in &s.problems {
            writeln!(w, "  problem: {p}")?;
        }
        for l in &s.lint {
            writeln!(w, "  lint {}: {}", l.rule, l.detail)?;
        }
        for (i, c) in s.certificates.iter().enumerate() {
            cert(w, &format!("[{i}]"), c, redacted)?;
        }
        for b in &s.trust_bundles {
            for (i, c) in b.certificates.iter().enumerate() {
                cert(w, &format!("[{} {i}]", b.trust_domain), c, redacted)?;
            }
        }
        if s.certificates.is_empty() && s.trust_bundles.is_empty() && s.files.is_empty() {
            writeln!(w, "  (no certificate)")?;
        }
    }
    Ok(())
}

fn cert(w: &mut dyn Write, label: &str, c: &CertInfo, redacted: bool) -> io::Result<()> {
    let line = |w: &mut dyn Write, k: &str, v: &str| -> io::Result<()> {
        if v.is_empty() {
            Ok(())
        } else {
            writeln!(w, "    {k:<13}{v}")
        }
    };
    writeln!(
        w,
        "  {label} {}",
        if c.subject.is_empty() {
            "(subject not given)"
        } else {
            &c.subject
        }
    )?;
    line(w, "issuer:", &c.issuer)?;
    line(w, "serial:", &c.serial.to_string())?;
    let left = if redacted {
        MARKER.to_string()
    } else {
        remaining(c)
    };
    let date = |t: &Option<crate::model::Timestamp>| {
        t.map_or_else(|| "(not given)".to_string(), |t| t.to_string())
    };
    line(
        w,
        "validity:",
        &format!("{} → {} ({left})", date(&c.not_before), date(&c.not_after)),
    )?;
    for id in &c.spiffe_ids {
        let mut text = format!("{id} (trust domain {}", id.trust_domain());
        if let Some((ns, sa)) = id.istio_workload() {
            text.push_str(&format!(", namespace {ns}, service account {sa}"));
        }
        text.push(')');
        line(w, "SPIFFE ID:", &text)?;
    }
    for bad in &c.bad_spiffe_ids {
        line(w, "bad SPIFFE:", bad)?;
    }
    let mut sans: Vec<String> = Vec::new();
    sans.extend(c.spiffe_ids.iter().map(|s| format!("URI:{s}")));
    sans.extend(c.other_uris.iter().map(|s| format!("URI:{s}")));
    sans.extend(c.dns_names.iter().map(|s| format!("DNS:{s}")));
    sans.extend(c.ip_addresses.iter().map(|s| format!("IP:{s}")));
    sans.extend(c.emails.iter().map(|s| format!("email:{s}")));
    line(
        w,
        "SANs:",
        &if sans.is_empty() {
            "none".to_string()
        } else {
            sans.join(", ")
        },
    )?;
    let key = match c.key_bits {
        Some(bits) => format!("{} ({bits} bits)", c.key_algorithm),
        None => c.key_algorithm.clone(),
    };
    line(w, "key:", &key)?;
    line(w, "CA:", if c.is_ca { "yes" } else { "no" })?;
    line(w, "key usage:", &c.key_usage.join(", "))?;
    line(w, "ext usage:", &c.extended_key_usage.join(", "))?;
    match &c.sha256 {
        Some(fp) => line(w, "SHA-256:", &fp.to_string()),
        None => Ok(()),
    }
}
