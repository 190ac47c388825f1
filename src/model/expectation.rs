//! The outcome of checking a proxy against expectations: one result per expectation (a JUnit
//! test case), each failing result with one failure per subject that drifted (a SARIF result).

use super::catalog::RuleId;
use serde::Serialize;

/// What `check` (and `diff`) answer: every expectation checked against one proxy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// The version of this output's schema (docs/output-schema.md).
    pub schema_version: u32,
    /// The dump (or admin URL) checked.
    pub source: String,
    /// The expectations file, or `generated from <dump>` for `diff`.
    pub expectations: String,
    /// The time expiries were judged at (`--now`, or the clock).
    pub now: super::Timestamp,
    /// How many expectations passed and failed.
    pub summary: CheckSummary,
    /// One result per expectation, in file order.
    pub results: Vec<CheckResult>,
    /// The proxy's own findings (docs/rules.md), for context: they do not change the exit code
    /// of `check`, which is about expectations only.
    pub findings: Vec<super::Finding>,
}

/// The counts of a check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckSummary {
    /// Expectations checked.
    pub expectations: usize,
    /// Those that held.
    pub passed: usize,
    /// Those that did not.
    pub failed: usize,
}

/// One expectation checked: what it asked, and where the proxy differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CheckResult {
    /// Where the expectation is in the file: `clusters.items[name=outbound|443||a].sni`.
    pub id: String,
    /// What it is about: `cluster outbound|443||a`, `inbound port 8443`, `identity`…
    pub subject: String,
    /// The drift rule it belongs to (docs/rules.md).
    pub rule: RuleId,
    /// What was expected, in words.
    pub expected: String,
    /// Whether it held.
    pub status: CheckStatus,
    /// One failure per subject that drifted; empty when it passed.
    pub failures: Vec<Failure>,
    /// The line of the expectations file that states it (absent for generated expectations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// Whether an expectation held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// It held.
    Pass,
    /// It did not: see its failures.
    Fail,
}

/// One subject that drifted from an expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// The object: a cluster, a port, a certificate.
    pub subject: String,
    /// What was expected of it.
    pub expected: String,
    /// What the proxy has.
    pub actual: String,
    /// One sentence putting the two side by side.
    pub message: String,
}

impl CheckReport {
    /// A report of these results, counted, with no findings yet (the caller adds them).
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

    /// Whether any expectation failed (what makes `check` exit 1).
    pub fn failed(&self) -> bool {
        self.summary.failed > 0
    }
}
