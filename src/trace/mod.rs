//! `trace`: follows a connection through the proxy as Envoy would (listener, filter chain, route
//! and virtual host, cluster) and says what happens on the wire, citing the evidence at each
//! step. Works on the model. Envoy's filter-chain choice is hierarchical (port, address, SNI,
//! transport, ALPN); this follows the same criteria, picking the chain that matches the most.

use std::net::IpAddr;
use std::str::FromStr;

use crate::model::trace::{Outcome, Step, Trace};
use crate::model::{Destination, FilterChain, Listener, Report};

mod http;
mod inbound;
mod wire;

use http::follow;

pub use inbound::inbound;
/// `host:port[/path]` (`[v6]:port`); the port defaults to 80, the path to `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u32,
    pub ip: Option<IpAddr>,
    pub path: String,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(whole: &str) -> Result<Self, String> {
        let (s, path) = match whole.find('/') {
            Some(i) => (&whole[..i], whole[i..].to_string()),
            None => (whole, "/".to_string()),
        };
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse().map_err(|_| format!("{s}: invalid port {p:?}"))?,
            ),
            _ => (s.trim_start_matches('[').trim_end_matches(']'), 80),
        };
        if host.is_empty() {
            return Err(format!("{s}: no host"));
        }
        Ok(Target {
            host: host.to_lowercase(),
            port,
            ip: host.parse().ok(),
            path,
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            Some(IpAddr::V6(_)) => write!(f, "[{}]:{}", self.host, self.port)?,
            _ => write!(f, "{}:{}", self.host, self.port)?,
        }
        if self.path != "/" {
            f.write_str(&self.path)?;
        }
        Ok(())
    }
}

/// What the application sends: decides SNI, transport and ALPN matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppProtocol {
    /// TLS on 443, plaintext HTTP elsewhere.
    Auto,
    Tls,
    Plaintext,
}

/// A trace of `r` with these steps and this outcome.
fn done(
    r: &Report,
    direction: &'static str,
    target: String,
    assumptions: Vec<String>,
    steps: Vec<Step>,
    outcome: Outcome,
) -> Trace {
    Trace {
        schema_version: crate::model::report::SCHEMA_VERSION,
        source: r.source.clone(),
        direction,
        target,
        assumptions,
        steps,
        outcome,
        authorization: None,
    }
}

fn step(
    kind: &'static str,
    name: impl Into<String>,
    detail: impl Into<String>,
    evidence: &str,
) -> Step {
    Step {
        kind,
        name: name.into(),
        detail: detail.into(),
        evidence: if evidence.is_empty() {
            vec![]
        } else {
            vec![evidence.to_string()]
        },
    }
}

fn outcome(kind: &'static str, summary: impl Into<String>, advice: impl Into<String>) -> Outcome {
    Outcome {
        kind,
        summary: summary.into(),
        advice: advice.into(),
    }
}

fn is_inbound(l: &Listener) -> bool {
    l.name.starts_with("virtualInbound")
        || l.filter_chains
            .iter()
            .flat_map(|c| &c.destinations)
            .any(|d| matches!(d, Destination::Cluster { name } if name.starts_with("inbound|")))
}

fn cluster_fqdn(c: &str) -> Option<&str> {
    c.strip_prefix("outbound|")
        .and_then(|rest| rest.split('|').nth(2))
}

pub fn outbound(r: &Report, t: &Target, app: AppProtocol) -> Trace {
    let tls = match app {
        AppProtocol::Tls => true,
        AppProtocol::Plaintext => false,
        AppProtocol::Auto => t.port == 443,
    };
    let mut assumptions = vec![if tls {
        format!(
            "the application speaks TLS with SNI {} (ALPN h2, http/1.1)",
            t.host
        )
    } else {
        "the application speaks plaintext (HTTP/1.1 when the proxy sniffs)".to_string()
    }];
    if t.ip.is_none() {
        assumptions.push(format!(
            "{} resolves to the service's address (a VIP) the proxy has a listener or chain for",
            t.host
        ));
    }
    let mut steps = Vec::new();
    let listeners: Vec<&Listener> = r.listeners.iter().filter(|l| !is_inbound(l)).collect();
    let on_port: Vec<&Listener> = listeners
        .iter()
        .copied()
        .filter(|l| l.port == Some(t.port))
        .collect();
    let by_address = on_port.iter().copied().find(|l| {
        t.ip.is_some_and(|ip| l.address.as_deref() == Some(&ip.to_string()))
    });
    let by_service = on_port.iter().copied().find(|l| {
        l.filter_chains.iter().flat_map(|c| &c.destinations).any(|d| matches!(d, Destination::Cluster { name } if cluster_fqdn(name) == Some(t.host.as_str())))
    });
    let wildcard = on_port
        .iter()
        .copied()
        .find(|l| matches!(l.address.as_deref(), Some("0.0.0.0") | Some("::")));
    let capture = listeners
        .iter()
        .copied()
        .find(|l| l.name == "virtualOutbound" || l.name == "virtual");
    let (listener, why) = if let Some(l) = by_address {
        (l, format!("bound to {}", t))
    } else if let Some(l) = by_service {
        (l, format!("on port {} with a chain for {}", t.port, t.host))
    } else if let Some(l) = wildcard {
        (
            l,
            format!(
                "bound to {}:{}",
                l.address.as_deref().unwrap_or("0.0.0.0"),
                t.port
            ),
        )
    } else if let Some(l) = capture {
        (
            l,
            format!(
                "no listener for port {}: the outbound capture listener handles it",
                t.port
            ),
        )
    } else if let Some(l) = on_port.first() {
        (*l, format!("the listener on port {}", t.port))
    } else {
        return done(r, "outbound", t.to_string(), assumptions, steps, outcome("no-listener", format!("no listener takes {t}: the connection is refused"), "Envoy does not listen for this port and no capture listener exists (not a sidecar?): curl exit 7 (connection refused)"));
    };
    steps.push(step("listener", &listener.name, why, &listener.pointer));
    let Some((i, chain, chain_why)) = pick_chain(listener, t, tls) else {
        let o = outcome("no-match", "no filter chain matches and the listener has no default chain: the connection is closed", "curl exit 56 / 52 (reset): add a chain, or check the port's protocol");
        return done(r, "outbound", t.to_string(), assumptions, steps, o);
    };
    let chain_name = chain.name.clone().unwrap_or_else(|| format!("#{i}"));
    steps.push(step(
        "filter chain",
        chain_name,
        chain_why,
        &listener.pointer,
    ));
    let o = follow(r, t, tls, chain, &mut steps, &mut assumptions);
    done(r, "outbound", t.to_string(), assumptions, steps, o)
}

fn sni_matches(pattern: &str, host: &str) -> bool {
    pattern == host
        || pattern
            .strip_prefix("*.")
            .is_some_and(|suffix| host.ends_with(&format!(".{suffix}")))
}

/// The chain Envoy would pick for this connection: every set criterion must hold; the one
/// holding the most wins; else the default chain.
fn pick_chain<'a>(
    l: &'a Listener,
    t: &Target,
    tls: bool,
) -> Option<(usize, &'a FilterChain, String)> {
    let mut best: Option<(usize, usize, &FilterChain, Vec<String>)> = None;
    for (i, ch) in l
        .filter_chains
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_default)
    {
        let m = &ch.matcher;
        let mut why = Vec::new();
        if let Some(p) = m.destination_port {
            if p != t.port {
                continue;
            }
            why.push(format!("destination port {p}"));
        }
        if !m.prefix_ranges.is_empty() {
            let Some(ip) = t.ip else { continue };
            if !m.prefix_ranges.iter().any(|r| in_range(r, ip)) {
                continue;
            }
            why.push(format!("address in {}", m.prefix_ranges.join(",")));
        }
        if !m.server_names.is_empty() {
            if !tls || !m.server_names.iter().any(|s| sni_matches(s, &t.host)) {
                continue;
            }
            why.push(format!("SNI {}", t.host));
        }
        if let Some(tp) = &m.transport_protocol {
            if (tp == "tls") != tls {
                continue;
            }
            why.push(format!("transport {tp}"));
        }
        if !m.application_protocols.is_empty() {
            let ours: &[&str] = if tls {
                &["h2", "http/1.1"]
            } else {
                &["http/1.1"]
            };
            if !m
                .application_protocols
                .iter()
                .any(|a| ours.contains(&a.as_str()))
            {
                continue;
            }
            why.push(format!("ALPN {}", m.application_protocols.join(",")));
        }
        if best.as_ref().is_none_or(|b| why.len() > b.3.len()) {
            best = Some((i, why.len(), ch, why));
        }
    }
    if let Some((i, _, ch, why)) = best {
        let detail = if why.is_empty() {
            "matches every connection".to_string()
        } else {
            format!("matches {}", why.join(", "))
        };
        return Some((i, ch, detail));
    }
    l.filter_chains
        .iter()
        .enumerate()
        .find(|(_, c)| c.is_default)
        .map(|(i, c)| {
            (
                i,
                c,
                "no chain matches: the listener's default chain".to_string(),
            )
        })
}

/// `10.0.0.0/8` (or a bare address) contains `ip`.
fn in_range(range: &str, ip: IpAddr) -> bool {
    let (addr, len) = range
        .split_once('/')
        .unwrap_or((range, if range.contains(':') { "128" } else { "32" }));
    let (Ok(base), Ok(len)) = (addr.parse::<IpAddr>(), len.parse::<u32>()) else {
        return false;
    };
    match (base, ip) {
        (IpAddr::V4(b), IpAddr::V4(i)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len.min(32))
            };
            u32::from(b) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(b), IpAddr::V6(i)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len.min(128))
            };
            u128::from(b) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::http::path_matches;
    use super::*;

    #[test]
    fn targets_and_ranges() {
        let t: Target = "www.google.com:443".parse().unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.ip),
            ("www.google.com", 443, None)
        );
        let t: Target = "[fe80::1]:8080".parse().unwrap();
        assert_eq!(
            (t.port, t.to_string()),
            (8080, "[fe80::1]:8080".to_string())
        );
        assert_eq!("reviews".parse::<Target>().unwrap().port, 80);
        let t: Target = "bookinfo.example.com:80/productpage".parse().unwrap();
        assert_eq!(
            (t.host.as_str(), t.path.as_str(), t.to_string()),
            (
                "bookinfo.example.com",
                "/productpage",
                "bookinfo.example.com:80/productpage".to_string()
            )
        );
        assert!(
            path_matches("/static*", "/static/app.js")
                && path_matches("/login", "/login")
                && !path_matches("/login", "/logout")
        );
        assert!(
            path_matches("PathPrefix:/api", "/api/v1") && !path_matches("PathPrefix:/api", "/apix")
        );
        assert!(
            path_matches("regex /api/v[0-9]+/.*", "/api/v1/products")
                && !path_matches("regex /a", "/ab")
        );
        assert!("host:http".parse::<Target>().is_err());
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(
            in_range("10.0.0.0/8", ip) && in_range("10.1.2.3", ip) && in_range("0.0.0.0/0", ip)
        );
        assert!(!in_range("10.1.2.4/32", ip) && !in_range("::/0", ip));
        assert!(
            sni_matches("*.google.com", "www.google.com")
                && !sni_matches("*.google.com", "google.com")
        );
    }
}
