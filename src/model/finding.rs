//! Findings: what is wrong (or worth knowing) about the proxy's state, as data. Each has a rule id
//! documented under its own anchor in `docs/rules.md` and listed by `envinspect rules`, and
//! evidence: JSON Pointers into the dump where a user can look. Errors and warnings make the run
//! exit 1; info does not.

use super::catalog::RuleId;
use serde::Serialize;

/// How serious a finding is: errors fail a check, warnings and infos inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// Breaks or will break traffic, or exposes a secret.
    Error,
    /// Risky or untidy, does not break traffic by itself.
    Warning,
    /// Worth knowing when troubleshooting; not a problem by itself.
    Info,
}

impl Level {
    /// Whether a finding of this level makes the run exit 1.
    pub fn fails(self) -> bool {
        self != Level::Info
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        })
    }
}

/// One thing a rule found in a document: its rule, level, message and the objects it is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// The rule's level (from the catalogue, never chosen per finding).
    pub level: Level,
    /// Stable rule id, e.g. `cert-expired` (anchor in docs/rules.md).
    pub rule: RuleId,
    /// What it is about: `secret default`, `cluster outbound|80||x`…
    pub subject: String,
    /// What was found, in one sentence naming the object.
    pub message: String,
    /// Where the finding rests: JSON Pointers into the dump, or for a fleet or sync finding the
    /// bundle file it was read from (so text, not [`super::Pointer`]s).
    pub evidence: Vec<String>,
}

impl Finding {
    /// A finding of rule `rule`, at the level the catalogue gives it.
    pub fn new(rule: RuleId, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            level: rule.level(),
            rule,
            subject: subject.into(),
            message: message.into(),
            evidence: Vec::new(),
        }
    }

    /// Adds a JSON Pointer (empty ones, from documents without pointers, are skipped).
    pub fn at(mut self, pointer: &str) -> Self {
        if !pointer.is_empty() {
            self.evidence.push(pointer.to_string());
        }
        self
    }
}
