//! The jwt_authn filter on one request: which requirement applies (per-route configuration,
//! else the first matching rule), where each provider finds its token, and how requirements
//! combine (`filters/http/jwt_authn/verifier.cc`). A verified payload goes to the dynamic
//! metadata RBAC reads.

use crate::model::decision::AuthzLayer;
use crate::model::RequestPrincipal;
use serde_json::{Map, Value};

use super::context::{Context, Tri};
use super::jwt::{self, Status, Token};
use super::matchers;
use super::request::Request;
use super::state::Run;
use crate::model::authz::{
    AuthzFilter, Jwks, JwtAuthn, JwtProvider, JwtRequirement, PerRouteAuthz, PerRouteJwt,
};
use crate::model::cannot_tell::{CannotTell, Dangling, KeysProblem, Place};
use crate::model::decision::StepOutcome;

pub(crate) enum JwtOutcome {
    Pass,
    Fail(Status),
    Unknown(CannotTell),
}

const METADATA: &str = "envoy.filters.http.jwt_authn";

pub(crate) fn run(
    f: &AuthzFilter,
    j: &JwtAuthn,
    per: Option<&PerRouteAuthz>,
    ctx: &mut Context,
    req: &Request,
    now: u64,
    run: &mut Run,
) -> JwtOutcome {
    let requirement = match per {
        Some(PerRouteAuthz::Jwt {
            requirement: PerRouteJwt::Disabled,
        }) => {
            run.step(
                AuthzLayer::JwtAuthn,
                &f.name,
                StepOutcome::Skipped,
                "disabled for this route",
                &f.pointer,
            );
            return JwtOutcome::Pass;
        }
        Some(PerRouteAuthz::Jwt {
            requirement: PerRouteJwt::RequirementName(n),
        }) => match j.requirement_map.get(n) {
            Some(r) => Some(r.clone()),
            None => {
                return JwtOutcome::Unknown(CannotTell::Dangling(Dangling::RouteRequirement {
                    name: n.clone(),
                    filter: f.name.clone(),
                }))
            }
        },
        _ => {
            let Some(http) = ctx.http.as_ref() else {
                return JwtOutcome::Unknown(CannotTell::NoHttpRequest {
                    filter: "jwt_authn".into(),
                });
            };
            let mut found = None;
            for rule in &j.rules {
                match matchers::route(&rule.matcher, http) {
                    Tri::Yes => {
                        found = Some(rule.requires.clone());
                        break;
                    }
                    Tri::No => {}
                    Tri::Unknown(u) => return JwtOutcome::Unknown(u.at(Place::JwtRule)),
                }
            }
            found.flatten()
        }
    };
    let Some(requirement) = requirement else {
        run.step(
            AuthzLayer::JwtAuthn,
            &f.name,
            StepOutcome::Skipped,
            "no rule requires a token for this request",
            &f.pointer,
        );
        return JwtOutcome::Pass;
    };
    let requirement = match resolve(&requirement, j) {
        Ok(r) => r,
        Err(u) => return JwtOutcome::Unknown(u),
    };
    if j.bypass_cors_preflight && is_preflight(ctx) {
        run.step(
            AuthzLayer::JwtAuthn,
            &f.name,
            StepOutcome::Skipped,
            "a CORS preflight: bypassed",
            &f.pointer,
        );
        return JwtOutcome::Pass;
    }
    if let Some(rp) = &req.request_principal {
        return given_principal(f, j, rp, ctx, run);
    }
    let mut notes = Vec::new();
    let result = check(&requirement, j, ctx, req, now, &mut notes);
    run.assumptions.extend(notes);
    match result {
        Checked::Ok(verified) => {
            let who = verified
                .iter()
                .map(|(p, t)| format!("{p} ({}/{})", t.iss, t.sub))
                .collect::<Vec<_>>();
            for (p, t) in &verified {
                let key = &j.providers[p].payload_in_metadata;
                if !key.is_empty() {
                    ctx.set_metadata(METADATA, key, Value::Object(t.payload.clone()));
                }
            }
            let text = if who.is_empty() {
                format!("requires {requirement}: satisfied without a token")
            } else {
                format!("requires {requirement}: verified by {}", who.join(", "))
            };
            run.step(
                AuthzLayer::JwtAuthn,
                &f.name,
                StepOutcome::Continue,
                text,
                &f.pointer,
            );
            JwtOutcome::Pass
        }
        Checked::Fail(s) => {
            let outcome = if s.http_status() == 403 {
                StepOutcome::Denied
            } else {
                StepOutcome::Unauthenticated
            };
            run.step(
                AuthzLayer::JwtAuthn,
                &f.name,
                outcome,
                format!("requires {requirement}: {} ({})", s.text(), s.http_status()),
                &f.pointer,
            );
            JwtOutcome::Fail(s)
        }
        Checked::Unknown(u) => {
            run.step(
                AuthzLayer::JwtAuthn,
                &f.name,
                StepOutcome::Unknown,
                format!("requires {requirement}: cannot tell: {u}"),
                &f.pointer,
            );
            JwtOutcome::Unknown(u)
        }
    }
}

/// `--request-principal ISS/SUB`: a token from ISS for SUB, taken as verified.
fn given_principal(
    f: &AuthzFilter,
    j: &JwtAuthn,
    rp: &RequestPrincipal,
    ctx: &mut Context,
    run: &mut Run,
) -> JwtOutcome {
    let (iss, sub) = (rp.issuer.as_str(), rp.subject.as_str());
    let providers: Vec<&JwtProvider> = j
        .providers
        .values()
        .filter(|p| p.issuer == iss || p.issuer.is_empty())
        .collect();
    if providers.is_empty() {
        run.step(
            AuthzLayer::JwtAuthn,
            &f.name,
            StepOutcome::Unauthenticated,
            format!("no provider has issuer {iss}"),
            &f.pointer,
        );
        return JwtOutcome::Fail(Status::UnknownIssuer);
    }
    let mut payload = Map::new();
    payload.insert("iss".into(), Value::String(iss.into()));
    payload.insert("sub".into(), Value::String(sub.into()));
    for p in providers {
        if !p.payload_in_metadata.is_empty() {
            ctx.set_metadata(
                METADATA,
                &p.payload_in_metadata,
                Value::Object(payload.clone()),
            );
        }
    }
    run.assumptions.push(format!(
        "a token from {iss} for {sub} is taken as verified (--request-principal)"
    ));
    run.step(
        AuthzLayer::JwtAuthn,
        &f.name,
        StepOutcome::Continue,
        format!("token of {iss}/{sub} taken as verified"),
        &f.pointer,
    );
    JwtOutcome::Pass
}

fn is_preflight(ctx: &Context) -> bool {
    ctx.http.as_ref().is_some_and(|h| {
        h.method == "OPTIONS"
            && h.header("origin").is_some()
            && h.header("access-control-request-method").is_some()
    })
}

fn requirement_missing(name: &str) -> CannotTell {
    CannotTell::Dangling(Dangling::Requirement { name: name.into() })
}

fn unchecked(provider: &str, problem: KeysProblem) -> CannotTell {
    CannotTell::Keys {
        provider: provider.into(),
        problem,
    }
}

fn resolve(r: &JwtRequirement, j: &JwtAuthn) -> Result<JwtRequirement, CannotTell> {
    Ok(match r {
        JwtRequirement::Named(n) => match j.requirement_map.get(n) {
            Some(inner) => resolve(inner, j)?,
            None => return Err(requirement_missing(n)),
        },
        JwtRequirement::Any(xs) => {
            JwtRequirement::Any(xs.iter().map(|x| resolve(x, j)).collect::<Result<_, _>>()?)
        }
        JwtRequirement::All(xs) => {
            JwtRequirement::All(xs.iter().map(|x| resolve(x, j)).collect::<Result<_, _>>()?)
        }
        other => other.clone(),
    })
}

enum Checked {
    /// Verified tokens by provider (none when the requirement was met without one).
    Ok(Vec<(String, Token)>),
    Fail(Status),
    Unknown(CannotTell),
}

/// The token where the provider looks: its headers (with prefix), query parameters and
/// cookies, or by default `Authorization: Bearer` and `access_token`; `--jwt` is found by all.
fn token_for(p: &JwtProvider, ctx: &Context, req: &Request) -> Option<String> {
    if let Some(t) = &req.jwt {
        return Some(t.clone());
    }
    let http = ctx.http.as_ref()?;
    let loc = &p.locations;
    if loc.is_default() {
        if let Some(v) = http.header("authorization") {
            if let Some(t) = v.strip_prefix("Bearer ") {
                return Some(t.trim().to_string());
            }
        }
        return http.query_param("access_token");
    }
    for (name, prefix) in &loc.headers {
        if let Some(v) = http.header(name) {
            if let Some(t) = v.strip_prefix(prefix.as_str()) {
                return Some(t.trim().to_string());
            }
        }
    }
    for q in &loc.params {
        if let Some(v) = http.query_param(q) {
            return Some(v);
        }
    }
    for c in &loc.cookies {
        if let Some(v) = http.header("cookie").and_then(|h| {
            h.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == c).then(|| v.to_string())
            })
        }) {
            return Some(v);
        }
    }
    None
}

fn verify(
    name: &str,
    p: &JwtProvider,
    token: &str,
    audiences: Option<&[String]>,
    now: u64,
    notes: &mut Vec<String>,
) -> Checked {
    let t = match jwt::parse(token) {
        Ok(t) => t,
        Err(s) => return Checked::Fail(s),
    };
    if !p.issuer.is_empty() && t.iss != p.issuer {
        return Checked::Fail(Status::UnknownIssuer);
    }
    if let Err(s) = jwt::check_claims(&t, p, audiences.unwrap_or(&p.audiences), now) {
        return Checked::Fail(s);
    }
    match &p.jwks {
        Jwks::Inline {
            keys,
            problem: None,
        } => match jwt::verify_signature(&t, keys) {
            Ok(()) => Checked::Ok(vec![(name.to_string(), t)]),
            Err(Some(s)) => Checked::Fail(s),
            Err(None) => Checked::Unknown(unchecked(name, KeysProblem::Hmac)),
        },
        Jwks::Inline {
            problem: Some(p), ..
        } => Checked::Unknown(unchecked(name, KeysProblem::Unreadable(p.clone()))),
        Jwks::Remote { uri, .. } => {
            notes.push(format!("provider {name} fetches its keys from {uri}: the signature is not checked, the claims are taken as given"));
            Checked::Ok(vec![(name.to_string(), t)])
        }
        Jwks::Local { source } => {
            notes.push(format!("provider {name} reads its keys from {source}: the signature is not checked, the claims are taken as given"));
            Checked::Ok(vec![(name.to_string(), t)])
        }
        Jwks::None => Checked::Unknown(unchecked(name, KeysProblem::None)),
    }
}

fn check(
    r: &JwtRequirement,
    j: &JwtAuthn,
    ctx: &Context,
    req: &Request,
    now: u64,
    notes: &mut Vec<String>,
) -> Checked {
    match r {
        JwtRequirement::Provider(name) | JwtRequirement::ProviderAndAudiences(name, _) => {
            let Some(p) = j.providers.get(name) else {
                return Checked::Unknown(CannotTell::Dangling(Dangling::Provider {
                    name: name.clone(),
                }));
            };
            let auds = match r {
                JwtRequirement::ProviderAndAudiences(_, a) => Some(a.as_slice()),
                _ => None,
            };
            match token_for(p, ctx, req) {
                None => Checked::Fail(Status::Missed),
                Some(t) => verify(name, p, &t, auds, now, notes),
            }
        }
        JwtRequirement::Any(xs) => {
            // Inside requires_any, allow_missing and allow_missing_or_failed are not verifiers
            // of their own (Envoy's AnyVerifierImpl): they only relax the group's result. A token
            // is still verified by the listed providers, with their issuers.
            let allow_missing = xs.contains(&JwtRequirement::AllowMissing);
            let allow_failed = xs.contains(&JwtRequirement::AllowMissingOrFailed);
            let mut first_error = None;
            let mut unknown = None;
            for x in xs.iter().filter(|x| {
                !matches!(
                    x,
                    JwtRequirement::AllowMissing | JwtRequirement::AllowMissingOrFailed
                )
            }) {
                match check(x, j, ctx, req, now, notes) {
                    Checked::Ok(v) => return Checked::Ok(v),
                    Checked::Fail(Status::Missed) => {}
                    Checked::Fail(s) => {
                        first_error.get_or_insert(s);
                    }
                    Checked::Unknown(u) => {
                        unknown.get_or_insert(u);
                    }
                }
            }
            match (unknown, first_error) {
                _ if allow_failed => Checked::Ok(Vec::new()),
                (Some(u), _) => Checked::Unknown(u),
                (None, Some(s)) => Checked::Fail(s),
                (None, None) if allow_missing => Checked::Ok(Vec::new()),
                (None, None) => Checked::Fail(Status::Missed),
            }
        }
        JwtRequirement::All(xs) => {
            let mut all = Vec::new();
            for x in xs {
                match check(x, j, ctx, req, now, notes) {
                    Checked::Ok(v) => all.extend(v),
                    other => return other,
                }
            }
            Checked::Ok(all)
        }
        JwtRequirement::AllowMissing | JwtRequirement::AllowMissingOrFailed => {
            // Any provider's token, verified by the provider of its issuer.
            let found = j
                .providers
                .iter()
                .find_map(|(n, p)| Some((n, p, token_for(p, ctx, req)?)));
            let Some((_, _, token)) = found else {
                return Checked::Ok(Vec::new());
            };
            let iss = jwt::parse(&token).map(|t| t.iss).unwrap_or_default();
            let by_issuer = j
                .providers
                .iter()
                .find(|(_, p)| p.issuer == iss)
                .or_else(|| j.providers.iter().find(|(_, p)| p.issuer.is_empty()));
            let result = match by_issuer {
                Some((n, p)) => verify(n, p, &token, None, now, notes),
                None => match jwt::parse(&token) {
                    Err(s) => Checked::Fail(s),
                    Ok(_) => Checked::Fail(Status::UnknownIssuer),
                },
            };
            match (r, result) {
                (JwtRequirement::AllowMissingOrFailed, Checked::Fail(_)) => Checked::Ok(Vec::new()),
                (_, res) => res,
            }
        }
        JwtRequirement::ExtractOnlyWithoutValidation => {
            let found = j
                .providers
                .iter()
                .find_map(|(n, p)| Some((n.clone(), token_for(p, ctx, req)?)));
            match found.map(|(n, t)| (n, jwt::parse(&t))) {
                Some((n, Ok(t))) => Checked::Ok(vec![(n, t)]),
                _ => Checked::Ok(Vec::new()),
            }
        }
        // `resolve` replaced every name it found; one left was not in the map.
        JwtRequirement::Named(n) => Checked::Unknown(requirement_missing(n)),
    }
}
