//! Which virtual host and route Envoy's router gives a request (`router/config_impl.cc`): the
//! host by exact domain, then the longest `*.suffix`, then the longest `prefix*`, then `*`;
//! the first route whose match fits. Authorization filters read the chosen route's per-filter
//! configuration.

use super::context::{HttpRequest, Tri};
use super::matchers;
use crate::model::cannot_tell::CannotTell;
use crate::model::{Route, RouteConfig, VirtualHost};

pub(crate) fn virtual_host<'a>(
    rc: &'a RouteConfig,
    authority: &str,
) -> Option<(usize, &'a VirtualHost)> {
    matching_domain(rc, authority).map(|(i, v, _)| (i, v))
}

/// [`virtual_host`], with the domain that matched.
pub(crate) fn matching_domain<'a>(
    rc: &'a RouteConfig,
    authority: &str,
) -> Option<(usize, &'a VirtualHost, &'a str)> {
    let mut host = authority.to_ascii_lowercase();
    if rc.ignore_port_in_host_matching {
        if let Some((h, p)) = host.rsplit_once(':') {
            let port = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if port && (!h.contains(':') || h.ends_with(']')) {
                host = h.to_string();
            }
        }
    }
    let all = || {
        rc.virtual_hosts.iter().enumerate().flat_map(|(i, v)| {
            v.domains
                .iter()
                .map(move |d| (i, v, d.to_ascii_lowercase(), d.as_str()))
        })
    };
    if let Some((i, v, _, d)) = all().find(|(_, _, d, _)| *d == host) {
        return Some((i, v, d));
    }
    let suffix = all()
        .filter(|(_, _, d, _)| {
            d.len() > 1 && d.starts_with('*') && host.ends_with(&d[1..]) && host.len() > d.len() - 1
        })
        .max_by_key(|(_, _, d, _)| d.len());
    if let Some((i, v, _, d)) = suffix {
        return Some((i, v, d));
    }
    let prefix = all()
        .filter(|(_, _, d, _)| {
            d.len() > 1
                && d.ends_with('*')
                && host.starts_with(&d[..d.len() - 1])
                && host.len() > d.len() - 1
        })
        .max_by_key(|(_, _, d, _)| d.len());
    if let Some((i, v, _, d)) = prefix {
        return Some((i, v, d));
    }
    all()
        .find(|(_, _, d, _)| d == "*")
        .map(|(i, v, _, d)| (i, v, d))
}

/// The first route that matches; `Err` when a match cannot be evaluated before one does.
pub(crate) fn route<'a>(
    vh: &'a VirtualHost,
    req: &HttpRequest,
) -> Result<Option<(usize, &'a Route)>, CannotTell> {
    for (i, r) in vh.routes.iter().enumerate() {
        match matchers::route(&r.route_match, req) {
            Tri::Yes => return Ok(Some((i, r))),
            Tri::No => {}
            Tri::Unknown(u) => return Err(u),
        }
    }
    Ok(None)
}
