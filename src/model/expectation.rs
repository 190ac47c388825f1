//! The outcome of checking a proxy against expectations: one result per expectation (a JUnit
//! test case), each failing result with one failure per subject that drifted (a SARIF result).

use super::catalog::RuleId;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    pub schema_version: u32,
    /// The dump (or admin URL) checked.
    pub source: String,
    /// The expectations file, or `generated from <dump>` for `diff`.
    pub expectations: String,
    pub now: super::Timestamp,
    pub summary: CheckSummary,
    pub results: Vec<CheckResult>,
    /// The proxy's own findings (docs/rules.md), for context: they do not change the exit code
    /// of `check`, which is about expectations only.
    pub findings: Vec<super::Finding>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckSummary {
    pub expectations: usize,
    pub passed: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CheckResult {
    /// Where the expectation is in the file: `clusters.items[name=outbound|443||a].sni`.
    pub id: String,
    /// What it is about: `cluster outbound|443||a`, `inbound port 8443`, `identity`…
    pub subject: String,
    pub rule: RuleId,
    /// What was expected, in words.
    pub expected: String,
    pub status: CheckStatus,
    pub failures: Vec<Failure>,
    /// The line of the expectations file that states it (absent for generated expectations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    Pass,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Failure {
    pub subject: String,
    pub expected: String,
    pub actual: String,
    pub message: String,
}

impl CheckReport {
    pub fn new(
        source: String,
        expectations: String,
        now: super::Timestamp,
        results: Vec<CheckResult>,
    ) -> Self {
        let failed = results
            .iter()
            .filter(|r| r.status == CheckStatus::Fail)
            .count();
        CheckReport {
            schema_version: super::report::SCHEMA_VERSION,
            source,
            expectations,
            now,
            summary: CheckSummary {
                expectations: results.len(),
                passed: results.len() - failed,
                failed,
            },
            results,
            findings: Vec::new(),
        }
    }

    pub fn failed(&self) -> bool {
        self.summary.failed > 0
    }
}
