//! Which inbound listener takes a connection to a port, by Envoy's rules and the pod's traffic
//! redirection, not by names: whether the redirection sends the port to the proxy at all, a
//! capture listener that restores the original destination, else the listener bound to the
//! port; static and active listeners only.

use std::net::IpAddr;

use super::request::Request;
use crate::model::cannot_tell::NoListener;
use crate::model::{Listener, Report, ResourceState};

/// The inbound listener a connection to the port gets, by Envoy's rules rather than names: a
/// static or active listener only (a warming one accepts nothing yet, a draining one no new
/// connections); an inbound capture listener that restores the original destination
/// (`original_dst` listener filter, or `use_original_dst`) receives the redirected connection, and
/// with `use_original_dst` hands it to the listener for that port; without one, the listener
/// bound to the port (the address it binds, else any address). A listener that only carries
/// Istio's name `virtualInbound` but restores nothing captures nothing.
pub(crate) fn listener<'a>(r: &'a Report, req: &Request) -> Result<&'a Listener, NoListener> {
    let serving = || {
        r.listeners
            .iter()
            .filter(|l| matches!(l.state, ResourceState::Static | ResourceState::Active))
    };
    if let Some(name) = &req.listener {
        return serving()
            .find(|l| &l.name == name)
            .or_else(|| r.listeners.iter().find(|l| &l.name == name))
            .ok_or_else(|| NoListener::Named(name.as_str().into()));
    }
    let inbound_side = |l: &&Listener| {
        l.direction == Some(crate::model::TrafficDirection::Inbound)
            || l.name.starts_with("virtualInbound")
    };
    let capture = serving()
        .filter(inbound_side)
        .filter(|l| l.captures() && l.bind_to_port && !l.internal)
        .min_by_key(|l| l.name != "virtualInbound");
    let on_port: Vec<&Listener> = serving()
        .filter(|l| l.port == Some(req.port) && !l.internal)
        .filter(|l| capture.is_none_or(|c| c.name != l.name))
        .collect();
    let own = |l: &Listener| l.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok());
    let at_ip = |ls: &[&'a Listener]| -> Option<&'a Listener> {
        let exact = req
            .destination_ip
            .and_then(|ip| ls.iter().copied().find(|l| own(l) == Some(ip)));
        exact.or_else(|| {
            ls.iter()
                .copied()
                .find(|l| own(l).is_none_or(|a| a.is_unspecified()))
        })
    };
    match capture {
        // Handed on to the listener for the original destination, if there is one.
        Some(c) if c.use_original_dst => return Ok(at_ip(&on_port).unwrap_or(c)),
        Some(c) => return Ok(c),
        None => {}
    }
    let bound: Vec<&Listener> = on_port.iter().copied().filter(|l| l.bind_to_port).collect();
    if let Some(l) = at_ip(&bound)
        // Dumps of a listener alone (no capture, nothing binds): the one on the port, the one
        // with authorization filters first, as before.
        .or_else(|| {
            on_port
                .iter()
                .copied()
                .find(|l| l.filter_chains.iter().any(|c| !c.authz.is_empty()))
        })
        .or(on_port.first().copied())
    {
        return Ok(l);
    }
    let on = |state: ResourceState| {
        r.listeners
            .iter()
            .find(|l| l.port == Some(req.port) && l.state == state)
    };
    Err(
        match (on(ResourceState::Warming), on(ResourceState::Draining)) {
            (Some(l), _) => NoListener::Warming {
                listener: l.name.clone(),
                port: req.port,
            },
            (None, Some(l)) => NoListener::Draining {
                listener: l.name.clone(),
                port: req.port,
            },
            (None, None) => NoListener::None {
                ip: None,
                port: req.port,
            },
        },
    )
}

/// Whether the pod's traffic redirection leaves the port alone, and which annotation says so;
/// `None` when it sends it to the proxy, or no annotation is known. A listener of the proxy
/// bound to the port itself still receives it (the application cannot bind it too).
pub(super) fn not_captured(r: &Report, req: &Request) -> Option<(String, String)> {
    let i = r.node.as_ref()?.interception.as_ref()?;
    let crate::model::intercept::Capture::No(why) = i.inbound(req.port) else {
        return None;
    };
    let bound = r.listeners.iter().any(|l| {
        l.port == Some(req.port)
            && l.bind_to_port
            && !l.internal
            && matches!(l.state, ResourceState::Static | ResourceState::Active)
    });
    (!bound).then(|| (why, i.pointer.to_string()))
}
