//! What a proxy does not serve as configured: updates it refused (`error_state`, a NACK: the
//! previous version still serves) and resources still warming (received, not yet in use).

use crate::model::RuleId;
use crate::model::{Finding, Report, ResourceState};

pub(super) fn rules(r: &Report, f: &mut Vec<Finding>) {
    rejected(r, f);
    warming(r, f);
}

/// One finding per refusal: Envoy may record the same one twice (LDS writes the named entry and
/// one with no name), so entries of the same kind, resource and reason are one finding with every
/// pointer.
fn rejected(r: &Report, f: &mut Vec<Finding>) {
    let mut seen: Vec<(&str, Option<&str>, String, Finding)> = Vec::new();
    for u in &r.rejected_updates {
        let reason = u.reason();
        if let Some((.., found)) = seen
            .iter_mut()
            .find(|(k, n, why, _)| *k == u.kind && *n == u.name.as_deref() && *why == reason)
        {
            found.evidence.push(u.pointer.to_string());
            continue;
        }
        let subject = match &u.name {
            Some(n) => format!("{} {n}", u.kind),
            None => format!("{} (unnamed)", u.kind),
        };
        let version = u
            .version_info
            .as_deref()
            .map(|v| format!(" version {v}"))
            .unwrap_or_default();
        let when = u
            .last_update_attempt
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        let serving = r
            .rejected_updates
            .iter()
            .filter(|o| o.kind == u.kind && o.name == u.name)
            .find_map(|o| o.serving.as_deref());
        let serving = match (serving, &u.name) {
            (Some(v), _) => format!("; it still serves version {v}"),
            (None, Some(_)) => "; no earlier version of it serves".to_string(),
            (None, None) => "; Envoy did not record which resource".to_string(),
        };
        let finding = Finding::new(
            RuleId::UpdateRejected,
            subject,
            format!("Envoy refused the update{version}{when}: {reason}{serving}"),
        )
        .at(&u.pointer);
        seen.push((u.kind, u.name.as_deref(), reason, finding));
    }
    f.extend(seen.into_iter().map(|(.., finding)| finding));
}

fn warming(r: &Report, f: &mut Vec<Finding>) {
    for l in r
        .listeners
        .iter()
        .filter(|l| l.state == ResourceState::Warming)
    {
        let active = r
            .listeners
            .iter()
            .any(|a| a.name == l.name && a.state == ResourceState::Active);
        let meanwhile = if active {
            "its active version serves meanwhile"
        } else {
            "nothing accepts its connections yet"
        };
        f.push(
            Finding::new(
                RuleId::ListenerWarming,
                format!("listener {}", l.name),
                format!(
                    "received, not yet serving: Envoy waits for what it depends on (RDS, SDS secrets); {meanwhile}"
                ),
            )
            .at(&l.pointer),
        );
    }
    for c in r
        .clusters
        .iter()
        .filter(|c| c.state == ResourceState::Warming)
    {
        let active = r
            .clusters
            .iter()
            .any(|a| a.name == c.name && a.state == ResourceState::Active);
        let meanwhile = if active {
            "its active version serves meanwhile"
        } else {
            "requests routed to it fail (no cluster) until it is"
        };
        f.push(
            Finding::new(
                RuleId::ClusterWarming,
                format!("cluster {}", c.name),
                format!(
                    "received, not yet serving: Envoy waits for its endpoints (EDS) or its secrets (SDS); {meanwhile}"
                ),
            )
            .at(&c.pointer),
        );
    }
}
