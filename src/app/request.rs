//! The commands that take a request, `authz` and `trace`, and the request as the command line
//! describes it (`authz --principal …`, `trace … --method …`): the checks of what was typed
//! (headers, request principals), and the refusals of options that do not belong to the
//! direction asked for. The request itself is [`envinspect::authz::Request`], one type for both; its port is
//! the command's.

use super::{
    fails, file_origin, inspection, options, Env, Judge, Origin, Outcome, RunError, UsageError,
};
use envinspect::admin::Admin;
use envinspect::authz::{Client, Request};
use envinspect::model::decision::Decision;
use envinspect::model::DocumentKind;
use envinspect::render::{self, Format};
use envinspect::trace::{AppProtocol, Probe, Target};

/// Parses `--header` values: `name: value`, the name folded to lowercase, both trimmed.
pub fn headers(typed: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    typed
        .iter()
        .map(|h| {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| UsageError::Header(h.clone(), "expected `name: value`"))?;
            if k.trim().is_empty() {
                return Err(UsageError::Header(h.clone(), "the name is empty"));
            }
            Ok((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect()
}

/// Whether a client was described at all (else `authz` shows the view).
pub(super) fn given(r: &Request) -> bool {
    r.client.is_some()
}

/// Whether options describe an HTTP request to authorize (refused without a client).
pub(super) fn describes_http(r: &Request) -> bool {
    !(r.headers.is_empty() && r.jwt.is_none() && r.method.is_none() && r.path.is_none())
}

/// The first option given that describes a request, for the refusal when no client is.
pub(super) fn request_option(r: &Request) -> Option<&'static str> {
    [
        ("--method", r.method.is_some()),
        ("--path", r.path.is_some()),
        ("--host", r.host.is_some()),
        ("--header", !r.headers.is_empty()),
        ("--jwt", r.jwt.is_some()),
        ("--request-principal", r.request_principal.is_some()),
        ("--source-ip", r.source_ip.is_some()),
        ("--destination-ip", r.destination_ip.is_some()),
        ("--sni", r.sni.is_some()),
        ("--alpn", r.alpn.is_some()),
        ("--tcp", r.tcp),
        ("--listener", r.listener.is_some()),
    ]
    .into_iter()
    .find(|(_, set)| *set)
    .map(|(flag, _)| flag)
}

/// The outbound request `trace HOST:PORT` follows; the options of an inbound request
/// (identities, tokens, the listener) are refused.
pub(super) fn probe(r: &Request, target: Target, app: AppProtocol) -> Result<Probe, UsageError> {
    let inbound_only = [
        (
            "--principal",
            matches!(r.client, Some(Client::Certificate(_))),
        ),
        ("--plaintext", r.client == Some(Client::Plaintext)),
        ("--tls", r.client == Some(Client::Tls)),
        ("--jwt", r.jwt.is_some()),
        ("--request-principal", r.request_principal.is_some()),
        ("--listener", r.listener.is_some()),
        ("--destination-ip", r.destination_ip.is_some()),
    ];
    if let Some((flag, _)) = inbound_only.iter().find(|(_, set)| *set) {
        return Err(UsageError::InboundOption(flag));
    }
    let mut p = Probe::new(target, app);
    p.sni = r.sni.clone();
    p.alpn = r.alpn.clone();
    p.method = r.method.clone();
    p.path = r.path.clone();
    p.host = r.host.clone();
    p.headers = r.headers.clone();
    p.tcp = r.tcp;
    p.source_ip = r.source_ip;
    Ok(p)
}

/// The request on `port`.
pub(super) fn on_port(r: &Request, port: u16) -> Request {
    Request {
        port: port.into(),
        ..r.clone()
    }
}

/// `authz`: the view, or with a request described, its evaluation (allowed is clean).
pub struct Authz {
    pub origin: Option<Origin>,
    pub port: Option<u16>,
    /// A ztunnel's workload: the view's filter, or the evaluation's destination.
    pub workload: Option<String>,
    /// The request to evaluate (its port is `port`); without a client, the view.
    pub request: Request,
    pub format: Format,
    pub judge: Judge,
}

impl Authz {
    pub(super) fn run(self, env: &mut Env) -> Result<Outcome, RunError> {
        let Authz {
            origin,
            port,
            workload,
            request,
            format,
            judge,
        } = self;
        authz(
            env,
            origin,
            port,
            workload.as_deref(),
            request,
            format,
            &judge,
        )
    }
}

/// The `authz` command's work, its parts taken apart.
fn authz(
    env: &mut Env,
    origin: Option<Origin>,
    port: Option<u16>,
    workload: Option<&str>,
    mut request: Request,
    format: Format,
    judge: &Judge,
) -> Result<Outcome, RunError> {
    let opts = options(env, judge);
    let report = inspection(env, origin, &opts)?.into_report();
    env.progress.finish();
    // A ztunnel's workload by name: its policies, or its address as the destination.
    let target = match workload {
        None => None,
        Some(_) if report.document != DocumentKind::Ztunnel => {
            return Err(UsageError::WorkloadNotZtunnel.into())
        }
        Some(w) => {
            let found = envinspect::authz::ambient::workload(&report, w)
                .ok_or_else(|| UsageError::NoSuchWorkload(w.to_string()))?;
            request.destination_ip = request.destination_ip.or(found.addresses.first().copied());
            Some(found)
        }
    };
    let request = &request;
    if !given(request) {
        // Request options without a client: say what is missing rather than show the view.
        if describes_http(request) {
            return Err(UsageError::AuthzWithoutClient.into());
        }
        if report.document == DocumentKind::Ztunnel {
            render::authz::render_l4_policies(&report, target, format, env.out)?;
            return Ok(Outcome::failing(fails(&report)));
        }
        let view = envinspect::authz::view(&report, port.map(u32::from));
        render::authz::render_view(&view, format, env.out)?;
        return Ok(Outcome::failing(fails(&report)));
    }
    let port = port.ok_or(UsageError::AuthzWithoutPort)?;
    let req = on_port(request, port);
    let e = envinspect::authz::evaluate(&report, &req, opts.now);
    render::authz::render_evaluation(&e, format, env.out)?;
    Ok(Outcome::failing(e.decision != Decision::Allow))
}

/// `trace [FILE] HOST:PORT` or `trace [FILE] --inbound PORT`: with an admin API every
/// positional is the destination, without one the first is the dump.
pub struct Trace {
    pub admin: Option<Admin>,
    pub args: Vec<String>,
    pub inbound: Option<u16>,
    pub app: Option<AppProtocol>,
    pub request: Request,
    pub format: Format,
    pub judge: Judge,
}

impl Trace {
    pub(super) fn run(self, env: &mut Env) -> Result<Outcome, RunError> {
        let Trace {
            admin,
            mut args,
            inbound,
            app,
            request,
            format,
            judge,
        } = self;
        let request = &request;
        // With an admin API every positional is the destination; without, the first is the dump.
        let origin = match admin {
            Some(a) => Some(Origin::Admin(a)),
            None if args.is_empty() => None,
            None => Some(file_origin(args.remove(0))),
        };
        let what = args.first().cloned();
        let opts = options(env, &judge);
        let report = inspection(env, origin, &opts)?.into_report();
        env.progress.finish();
        if report.document == DocumentKind::Ztunnel {
            return Err(UsageError::view_not_for(&report.source, "trace", report.document).into());
        }
        let (given, option) = (given(request), request_option(request));
        if let (Some(_), false, Some(flag)) = (inbound, given, option) {
            return Err(UsageError::InboundWithoutClient(flag).into());
        }
        let mut t = match (inbound, what) {
            (Some(port), None) => envinspect::trace::inbound(&report, port.into()),
            (None, Some(w)) => {
                let dest: envinspect::trace::Target = w.parse().map_err(UsageError::Destination)?;
                let app = app.unwrap_or(envinspect::trace::AppProtocol::Auto);
                envinspect::trace::outbound(&report, &probe(request, dest, app)?)
            }
            (Some(_), Some(w)) => return Err(UsageError::TraceBoth(w).into()),
            (None, None) => return Err(UsageError::TraceNeither.into()),
        };
        if let (Some(port), true) = (inbound, given) {
            let req = on_port(request, port);
            t.authorization = Some(envinspect::authz::evaluate(&report, &req, opts.now));
        }
        render::trace::render_trace(&t, format, env.out)?;
        Ok(Outcome::Clean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_value_with_the_name_folded() {
        let h = headers(&["X-Env:  prod ".into()]).unwrap();
        assert_eq!(h, vec![("x-env".to_string(), "prod".to_string())]);
        assert!(matches!(
            headers(&[": v".into()]),
            Err(UsageError::Header(_, "the name is empty"))
        ));
        assert!(matches!(
            headers(&["novalue".into()]),
            Err(UsageError::Header(..))
        ));
    }

    #[test]
    fn inbound_options_are_refused_outbound() {
        let r = Request {
            jwt: Some("x.y.z".into()),
            ..Default::default()
        };
        let t: Target = "reviews:9080".parse().unwrap();
        let e = probe(&r, t, AppProtocol::Auto).unwrap_err();
        assert!(matches!(e, UsageError::InboundOption("--jwt")));
    }

    #[test]
    fn a_request_on_a_port() {
        assert_eq!(on_port(&Request::default(), 8080).port, 8080);
    }
}
