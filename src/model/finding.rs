//! Findings: what is wrong with the proxy's state, as data. Each has a rule id documented under
//! its own anchor in `docs/rules.md`. Any finding makes the run exit 1.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Breaks or will break traffic, or exposes a secret.
    Error,
    /// Risky or untidy, does not break traffic by itself.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub level: Level,
    /// Stable rule id, e.g. `cert-expired` (anchor in docs/rules.md).
    pub rule: &'static str,
    /// What it is about: `secret default`, `cluster outbound|80||x`…
    pub subject: String,
    pub message: String,
}
