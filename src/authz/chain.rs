//! Which filter chain Envoy gives a connection (`FilterChainManagerImpl::findFilterChain`):
//! criteria in a fixed order — destination port, destination IP, server name, transport
//! protocol, application protocols, direct source IP, source type, source IP, source port —
//! each narrowing to the most specific entry that
//! fits, with no fallback to a less specific sibling once one fits; nothing left means the
//! default chain, or a closed connection.

use std::net::IpAddr;

use crate::model::cannot_tell::{CannotTell, Fact};
use crate::model::ids::Cidr;
use crate::model::{FilterChain, Listener};

/// What the connection offers.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub port: u32,
    pub destination_ip: Option<IpAddr>,
    /// `Some("")`: no SNI; `None`: not known.
    pub sni: Option<String>,
    /// `tls` when a TLS inspector detected it, else `raw_buffer` (Envoy's default).
    pub transport: String,
    /// The client's ALPN list; `None`: not known.
    pub alpn: Option<Vec<String>>,
    pub source_ip: Option<IpAddr>,
    /// An HTTP request rides on it (used only to pick between chains that differ by ALPN
    /// when the ALPN is not known).
    pub http: bool,
}

/// What the client sends before Envoy's listener filters read it: TLS or not, the ClientHello's
/// SNI and ALPN (`None`: not known), and whether an HTTP/1.1 request follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hello {
    pub tls: bool,
    pub sni: Option<String>,
    pub alpn: Option<Vec<String>>,
    pub http: bool,
}

impl Connection {
    /// The connection as `l`'s listener filters present it to chain matching. Envoy's
    /// `tls_inspector` sets transport `tls` (with the ClientHello's SNI and ALPN) or leaves it;
    /// `http_inspector` sets ALPN `http/1.1` on a plaintext HTTP/1.1 request; a transport no
    /// filter set is `raw_buffer` (`ActiveTcpSocket::newConnection`), and without an inspector
    /// there is no SNI and no ALPN.
    pub(crate) fn inspected(
        l: &Listener,
        port: u32,
        destination_ip: Option<IpAddr>,
        source_ip: Option<IpAddr>,
        h: &Hello,
    ) -> Connection {
        let has = |f: &str| l.listener_filters.iter().any(|x| x.contains(f));
        let tls_inspector = has("tls_inspector");
        let http_inspector = has("http_inspector");
        let seen_tls = h.tls && tls_inspector;
        Connection {
            port,
            destination_ip,
            sni: if seen_tls {
                h.sni.clone()
            } else {
                Some(String::new())
            },
            transport: if seen_tls { "tls" } else { "raw_buffer" }.into(),
            alpn: if seen_tls {
                h.alpn.clone()
            } else if !h.tls && h.http && http_inspector {
                Some(vec!["http/1.1".into()])
            } else {
                Some(Vec::new())
            },
            source_ip,
            http: h.http,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The chain's index in `listener.filter_chains`, and why.
    Chain(usize, Vec<String>),
    /// No chain fits and there is no default chain: the connection is closed.
    None(String),
    /// It depends on something not given, or not evaluated.
    Unknown(CannotTell),
}

pub(crate) fn pick(l: &Listener, c: &Connection) -> Pick {
    if let Some(m) = &l.filter_chain_matcher {
        return super::chain_matcher::by_matcher(l, m, c);
    }
    let cands: Vec<usize> = (0..l.filter_chains.len())
        .filter(|i| !l.filter_chains[*i].is_default)
        .collect();
    let mut why = Vec::new();
    match narrow(l, cands, c, &mut why) {
        Ok(Some(i)) => Pick::Chain(i, why),
        Ok(None) => default_chain(l, why, "no chain matches", |name, why| {
            format!("no filter chain of {name} matches the connection ({why}) and it has no default chain")
        }),
        Err(u) => Pick::Unknown(u),
    }
}

type Level<'a> = (&'a str, fn(&FilterChain, &Connection) -> Fit);

/// How one chain's criterion fits the connection: `Exact(specificity)` or `Any` (unset), or not.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fit {
    Specific(u32),
    Any,
    No,
    Unknown(CannotTell),
}

fn narrow(
    l: &Listener,
    mut cands: Vec<usize>,
    c: &Connection,
    why: &mut Vec<String>,
) -> Result<Option<usize>, CannotTell> {
    // Envoy's order (`FilterChainMatch`): the peer's criteria last, its direct address, its
    // type, its address, its port.
    let levels: [Level; 9] = [
        ("destination port", dest_port),
        ("destination address", dest_ip),
        ("server name", server_name),
        ("transport protocol", transport),
        ("application protocol", alpn),
        ("direct source address", direct_source_ip),
        ("source type", source_type),
        ("source address", source_ip),
        ("source port", source_port),
    ];
    for (what, fit) in levels {
        let fits: Vec<(usize, Fit)> = cands
            .iter()
            .map(|i| (*i, fit(&l.filter_chains[*i], c)))
            .collect();
        if what == "application protocol" && c.alpn.is_none() {
            // A client's ALPN is rarely known; assume it offers what the chain it would need
            // expects, when that leaves one chain (the HTTP one, for an HTTP request).
            let fitting: Vec<usize> = fits
                .iter()
                .filter(|(_, f)| !matches!(f, Fit::No))
                .map(|(i, _)| *i)
                .collect();
            let http: Vec<usize> = fitting
                .iter()
                .copied()
                .filter(|i| l.filter_chains[*i].http_filters.is_empty() != c.http)
                .collect();
            let pick = match (fitting.len(), http.len()) {
                (1, _) => Some(fitting[0]),
                (_, 1) => Some(http[0]),
                _ => None,
            };
            if let Some(i) = pick {
                let protos = &l.filter_chains[i].matcher.application_protocols;
                if !protos.is_empty() {
                    why.push(format!(
                        "assumed: the client offers one of the ALPN protocols {}",
                        protos.join(", ")
                    ));
                }
                cands = vec![i];
                continue;
            }
        }
        if let Some((_, Fit::Unknown(u))) = fits.iter().find(|(_, f)| matches!(f, Fit::Unknown(_)))
        {
            // Unknown matters only when the chains differ on this criterion.
            let all_any = fits
                .iter()
                .all(|(_, f)| matches!(f, Fit::Any | Fit::Unknown(_)))
                && fits
                    .iter()
                    .all(|(i, _)| is_unset(&l.filter_chains[*i], what));
            if !all_any {
                return Err(u.clone());
            }
            continue;
        }
        let best = fits
            .iter()
            .filter_map(|(_, f)| match f {
                Fit::Specific(s) => Some(*s),
                _ => None,
            })
            .max();
        cands = match best {
            Some(b) => fits
                .iter()
                .filter(|(_, f)| *f == Fit::Specific(b))
                .map(|(i, _)| *i)
                .collect(),
            None => fits
                .iter()
                .filter(|(_, f)| *f == Fit::Any)
                .map(|(i, _)| *i)
                .collect(),
        };
        if best.is_some() {
            why.push(format!("{what} {} matches", offered(what, c)));
        }
        if cands.is_empty() {
            why.push(format!("no chain for its {what}"));
            return Ok(None);
        }
    }
    // Envoy refuses overlapping chains, so one is left; take the first if a dump has more.
    Ok(cands.first().copied())
}

/// What the connection offers for a criterion, as the chain's reasons quote it.
fn offered(what: &str, c: &Connection) -> String {
    let ip = |i: Option<IpAddr>| i.map_or("(not given)".to_string(), |i| i.to_string());
    match what {
        "destination port" => c.port.to_string(),
        "destination address" => ip(c.destination_ip),
        "server name" => c.sni.clone().unwrap_or_default(),
        "transport protocol" => c.transport.clone(),
        "application protocol" => c.alpn.as_ref().map(|a| a.join(",")).unwrap_or_default(),
        "source address" | "direct source address" | "source type" => ip(c.source_ip),
        _ => String::new(),
    }
}

fn is_unset(ch: &FilterChain, what: &str) -> bool {
    let m = &ch.matcher;
    match what {
        "destination address" => {
            m.prefix_ranges.is_empty() || m.prefix_ranges.iter().all(|r| is_zero_range(r))
        }
        "server name" => m.server_names.is_empty(),
        "application protocol" => m.application_protocols.is_empty(),
        "source address" => m.source_prefix_ranges.is_empty(),
        "direct source address" => m.direct_source_prefix_ranges.is_empty(),
        "source type" => m.source_type.is_none(),
        "source port" => m.source_ports.is_empty(),
        _ => false,
    }
}

fn is_zero_range(r: &str) -> bool {
    r.parse::<Cidr>().is_ok_and(|c| c.prefix_len() == 0)
}

fn dest_port(ch: &FilterChain, c: &Connection) -> Fit {
    match ch.matcher.destination_port {
        None => Fit::Any,
        Some(p) if p == c.port => Fit::Specific(1),
        Some(_) => Fit::No,
    }
}

fn ranges(list: &[String], ip: Option<IpAddr>, fact: Fact) -> Fit {
    // Envoy reads an empty list as 0.0.0.0/0 and ::/0: "any", less specific than any range.
    if list.is_empty() {
        return Fit::Any;
    }
    let Some(ip) = ip else {
        return Fit::Unknown(CannotTell::NotGiven(fact));
    };
    let best = list
        .iter()
        .filter_map(|r| r.parse::<Cidr>().ok())
        .filter(|r| r.contains(ip))
        .map(|r| r.prefix_len() as u32 + 1)
        .max();
    match best {
        // A /0 range is as unspecific as no range at all.
        Some(1) => Fit::Any,
        Some(len) => Fit::Specific(len),
        None => Fit::No,
    }
}

fn dest_ip(ch: &FilterChain, c: &Connection) -> Fit {
    ranges(
        &ch.matcher.prefix_ranges,
        c.destination_ip,
        Fact::DestinationIp,
    )
}

fn source_ip(ch: &FilterChain, c: &Connection) -> Fit {
    ranges(
        &ch.matcher.source_prefix_ranges,
        c.source_ip,
        Fact::SourceIp,
    )
}

/// Without a PROXY protocol header (not modelled), the direct source is the source.
fn direct_source_ip(ch: &FilterChain, c: &Connection) -> Fit {
    ranges(
        &ch.matcher.direct_source_prefix_ranges,
        c.source_ip,
        Fact::SourceIp,
    )
}

/// `SAME_IP_OR_LOOPBACK`: a loopback source or the destination's own address; `EXTERNAL`: any
/// other.
fn source_type(ch: &FilterChain, c: &Connection) -> Fit {
    let Some(t) = ch.matcher.source_type.as_deref() else {
        return Fit::Any;
    };
    let Some(ip) = c.source_ip else {
        return Fit::Unknown(CannotTell::NotGiven(Fact::SourceIp));
    };
    let local = ip.is_loopback() || Some(ip) == c.destination_ip;
    match (t, local) {
        ("SAME_IP_OR_LOOPBACK", true) | ("EXTERNAL", false) => Fit::Specific(1),
        _ => Fit::No,
    }
}

/// The client's ephemeral port is never known: a chain that names source ports cannot be told.
fn source_port(ch: &FilterChain, _c: &Connection) -> Fit {
    if ch.matcher.source_ports.is_empty() {
        Fit::Any
    } else {
        Fit::Unknown(CannotTell::NotGiven(Fact::SourcePort))
    }
}

fn server_name(ch: &FilterChain, c: &Connection) -> Fit {
    let names = &ch.matcher.server_names;
    if names.is_empty() {
        return Fit::Any;
    }
    let Some(sni) = &c.sni else {
        return Fit::Unknown(CannotTell::NotGiven(Fact::Sni));
    };
    let sni = sni.to_ascii_lowercase();
    let mut best = None;
    for n in names {
        let n = n.to_ascii_lowercase();
        if n == sni {
            return Fit::Specific(u32::MAX);
        }
        if let Some(suffix) = n.strip_prefix('*') {
            if sni.ends_with(suffix) && sni.len() > suffix.len() {
                best = best.max(Some(suffix.len() as u32));
            }
        }
    }
    best.map_or(Fit::No, Fit::Specific)
}

fn transport(ch: &FilterChain, c: &Connection) -> Fit {
    match &ch.matcher.transport_protocol {
        None => Fit::Any,
        Some(t) if *t == c.transport => Fit::Specific(1),
        Some(_) => Fit::No,
    }
}

fn alpn(ch: &FilterChain, c: &Connection) -> Fit {
    let protos = &ch.matcher.application_protocols;
    if protos.is_empty() {
        return Fit::Any;
    }
    let Some(offered) = &c.alpn else {
        return Fit::Unknown(CannotTell::NotGiven(Fact::Alpn));
    };
    // Envoy walks the client's list in order; the first listed by some chain selects it.
    match offered.iter().position(|a| protos.contains(a)) {
        Some(i) => Fit::Specific(u32::MAX - i as u32),
        None => Fit::No,
    }
}

/// Nothing selected a chain: the listener's default chain, or the connection is closed.
/// `none` words the refusal from the listener's name and the reasons so far.
pub(super) fn default_chain(
    l: &Listener,
    mut why: Vec<String>,
    what: &str,
    none: impl FnOnce(&str, String) -> String,
) -> Pick {
    match l.filter_chains.iter().position(|ch| ch.is_default) {
        Some(d) => {
            why.push(format!("{what}: the listener's default_filter_chain"));
            Pick::Chain(d, why)
        }
        None => Pick::None(none(&l.name, why.join("; "))),
    }
}
