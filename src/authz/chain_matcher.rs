//! A listener's `filter_chain_matcher` (`FilterChainManagerImpl::findFilterChainUsingMatcher`):
//! the matcher tree read against the connection names the chain; no action is the default chain.
//! What the tree reads that a question does not give, or a form not evaluated, cannot be told.

use std::net::IpAddr;

use super::chain::{default_chain, Connection, Pick};
use crate::model::authz::{InputMatch, MatchInput, Predicate};
use crate::model::cannot_tell::{CannotTell, Construct, Dangling, Fact};
use crate::model::ids::Cidr;
use crate::model::matcher::{ChainAction, ChainMatcher, TreeMap};
use crate::model::Listener;

/// `filter_chain_matcher`: the matcher names the chain; no action means the default chain
/// (`FilterChainManagerImpl::findFilterChainUsingMatcher`).
pub(super) fn by_matcher(l: &Listener, m: &ChainMatcher, c: &Connection) -> Pick {
    let mut why = Vec::new();
    match run(m, c, &mut why) {
        Err(u) => Pick::Unknown(u),
        Ok(Some(name)) => match l
            .filter_chains
            .iter()
            .position(|ch| ch.name.as_deref() == Some(name.as_str()))
        {
            Some(i) => {
                why.push(format!("filter_chain_matcher names chain {name}"));
                Pick::Chain(i, why)
            }
            None => Pick::Unknown(CannotTell::Dangling(Dangling::Chain {
                name,
                listener: l.name.clone(),
            })),
        },
        Ok(None) => default_chain(
            l,
            why,
            "filter_chain_matcher gives no chain",
            |name, why| {
                format!("filter_chain_matcher of {name} gives no chain for the connection ({why}) and it has no default chain")
            },
        ),
    }
}

/// What a connection gives a matcher input; `Err` when the request does not say.
fn input(i: &MatchInput, c: &Connection) -> Result<Option<String>, CannotTell> {
    let unknown = |fact| Err(CannotTell::NotGiven(fact));
    Ok(match i {
        MatchInput::DestinationPort => Some(c.port.to_string()),
        MatchInput::DestinationIp => match c.destination_ip {
            Some(ip) => Some(ip.to_string()),
            None => return unknown(Fact::DestinationIp),
        },
        MatchInput::SourceIp | MatchInput::DirectSourceIp => match c.source_ip {
            Some(ip) => Some(ip.to_string()),
            None => return unknown(Fact::SourceIp),
        },
        MatchInput::ServerName => match &c.sni {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s.clone()),
            None => return unknown(Fact::Sni),
        },
        MatchInput::TransportProtocol => Some(c.transport.clone()).filter(|t| !t.is_empty()),
        // Envoy's ApplicationProtocolInput: each protocol in single quotes, joined by commas.
        MatchInput::ApplicationProtocol => match &c.alpn {
            Some(list) if list.is_empty() => None,
            Some(list) => Some(
                list.iter()
                    .map(|p| format!("'{p}'"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            None => return unknown(Fact::Alpn),
        },
        other => {
            return Err(CannotTell::Unevaluated(Construct::ChainInput(
                other.to_string(),
            )))
        }
    })
}

fn run(
    m: &ChainMatcher,
    c: &Connection,
    why: &mut Vec<String>,
) -> Result<Option<String>, CannotTell> {
    let (hit, on_no_match) = match m {
        ChainMatcher::Empty { on_no_match } => (None, on_no_match),
        ChainMatcher::List {
            matchers,
            on_no_match,
        } => {
            let mut hit = None;
            for (p, a) in matchers {
                if holds(p, c)? {
                    hit = Some(a);
                    break;
                }
            }
            (hit, on_no_match)
        }
        ChainMatcher::Tree {
            input: i,
            map,
            on_no_match,
        } => {
            let value = input(i, c)?;
            let hit = match (map, &value) {
                (TreeMap::Unsupported(t), _) => {
                    return Err(CannotTell::Unevaluated(Construct::ChainMatcher(t.clone())))
                }
                (_, None) => None,
                (TreeMap::Exact(m), Some(v)) => m.get(v),
                (TreeMap::Prefix(m), Some(v)) => m
                    .iter()
                    .filter(|(k, _)| v.starts_with(k.as_str()))
                    .max_by_key(|(k, _)| k.len())
                    .map(|(_, a)| a),
                (TreeMap::Ip(ranges), Some(v)) => 'ip: {
                    // Envoy's TrieMatcher: an input that is not an address takes on_no_match.
                    let Ok(ip) = v.parse::<IpAddr>() else {
                        break 'ip None;
                    };
                    // Most specific first; after the first, exclusive ranges are passed over.
                    let mut holding: Vec<(u8, &crate::model::matcher::IpRange)> = ranges
                        .iter()
                        .filter_map(|r| {
                            let len = r
                                .ranges
                                .iter()
                                .filter(|c| c.contains(ip))
                                .map(Cidr::prefix_len)
                                .max()?;
                            Some((len, r))
                        })
                        .collect();
                    holding.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
                    for (k, (_, r)) in holding.iter().enumerate() {
                        if k > 0 && r.exclusive {
                            continue;
                        }
                        if let Some(name) = act(&r.on_match, c, why)? {
                            why.push(format!("{i} {v} matches"));
                            return Ok(Some(name));
                        }
                    }
                    None
                }
            };
            let shown = value.as_deref().unwrap_or("(none)");
            if hit.is_some() {
                why.push(format!("{i} {shown} matches"));
            } else {
                why.push(format!("{i} {shown} matches no entry"));
            }
            (hit, on_no_match)
        }
    };
    if let Some(a) = hit {
        // A nested matcher that gives nothing falls back to this matcher's on_no_match.
        if let Some(name) = act(a, c, why)? {
            return Ok(Some(name));
        }
    }
    match on_no_match {
        Some(a) => act(a, c, why),
        None => Ok(None),
    }
}

fn act(
    a: &ChainAction,
    c: &Connection,
    why: &mut Vec<String>,
) -> Result<Option<String>, CannotTell> {
    match a {
        ChainAction::Chain(name) => Ok(Some(name.clone())),
        ChainAction::Matcher(m) => run(m, c, why),
        ChainAction::Unsupported(what) => Err(CannotTell::Unevaluated(Construct::ChainAction(
            what.clone(),
        ))),
    }
}

fn holds(p: &Predicate, c: &Connection) -> Result<bool, CannotTell> {
    Ok(match p {
        Predicate::Single { input: i, matcher } => {
            let v = input(i, c)?;
            match (matcher, v) {
                (_, None) => false,
                (InputMatch::String(s), Some(v)) => s.matches(&v),
                (InputMatch::Ip(ranges), Some(v)) => v
                    .parse()
                    .is_ok_and(|ip| ranges.iter().any(|r| r.contains(ip))),
                (InputMatch::Unsupported(w), _) => {
                    return Err(CannotTell::Unevaluated(Construct::ChainMatcher(w.clone())))
                }
            }
        }
        Predicate::And { predicates } => {
            for p in predicates {
                if !holds(p, c)? {
                    return Ok(false);
                }
            }
            true
        }
        Predicate::Or { predicates } => {
            for p in predicates {
                if holds(p, c)? {
                    return Ok(true);
                }
            }
            false
        }
        Predicate::Not { predicate } => !holds(predicate, c)?,
    })
}
