//! The state of one evaluation, shared by the walk (`eval`) and the layers it runs (`layers`,
//! `jwt_eval`): the steps so far, the assumptions, the filter that may refuse unseen; how an
//! evaluation ends; the route the request got.

use crate::model::cannot_tell::{CannotTell, Reason};
use crate::model::decision::AuthzLayer;
use crate::model::decision::{AuthzStep, Decision, Response, StepOutcome};
use crate::model::RouteConfig;

pub(crate) struct Run {
    pub steps: Vec<AuthzStep>,
    pub assumptions: Vec<String>,
    /// The first filter met that may refuse and is not evaluated: an allow past it cannot be
    /// told; a refusal by a later filter still stands (that filter may refuse first).
    pub may_deny: Option<crate::model::cannot_tell::Construct>,
}

impl Run {
    pub(super) fn step(
        &mut self,
        layer: AuthzLayer,
        name: &str,
        outcome: StepOutcome,
        detail: impl Into<String>,
        pointer: &str,
    ) -> &mut AuthzStep {
        self.steps.push(AuthzStep {
            layer,
            name: name.into(),
            outcome,
            detail: detail.into(),
            policy: None,
            authorization_policy: None,
            pointer: pointer.into(),
        });
        let last = self.steps.len() - 1;
        &mut self.steps[last]
    }
}

/// The end of an evaluation: a decision, the policy Envoy names, its answer.
pub(super) struct End {
    pub(super) decision: Decision,
    pub(super) policy: Option<String>,
    pub(super) response: Response,
    pub(super) reason: Option<Reason>,
}

pub(super) fn end(
    decision: Decision,
    status: Option<u16>,
    details: impl Into<Option<String>>,
) -> End {
    End {
        decision,
        policy: None,
        response: Response {
            status,
            details: details.into(),
        },
        reason: None,
    }
}

pub(super) fn unknown(reason: CannotTell) -> End {
    End {
        reason: Some(Reason::CannotTell(reason)),
        ..end(Decision::Unknown, None, None)
    }
}

/// The route a request gets, with what encloses it (for per-filter configuration).
pub(crate) enum Chosen<'a> {
    None,
    Route {
        rc: &'a RouteConfig,
        vh: &'a crate::model::VirtualHost,
        route: &'a crate::model::Route,
    },
}
