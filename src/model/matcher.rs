//! A listener's `filter_chain_matcher` (the matcher API, `xds.type.matcher.v3.Matcher`): which
//! filter chain, by name, a connection's destination, server name, transport or ALPN selects.

use std::collections::BTreeMap;

use serde::Serialize;

use super::authz::{MatchInput, Predicate};
use super::ids::Cidr;

/// A listener's `filter_chain_matcher`, as a tree of matchers and actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainMatcher {
    /// `matcher_list`: the first predicate that holds gives its action.
    List {
        /// The predicates tried in order, each with its action.
        matchers: Vec<(Predicate, ChainAction)>,
        /// `on_no_match`: the action when no predicate holds.
        #[serde(skip_serializing_if = "Option::is_none")]
        on_no_match: Option<Box<ChainAction>>,
    },
    /// `matcher_tree`: one input, looked up in a map (or an IP range table).
    Tree {
        /// The input looked up (destination port, server name…).
        input: MatchInput,
        /// The table it is looked up in.
        map: TreeMap,
        /// `on_no_match`: the action when the lookup finds nothing.
        #[serde(skip_serializing_if = "Option::is_none")]
        on_no_match: Option<Box<ChainAction>>,
    },
    /// No matcher type (only `on_no_match`, if anything).
    Empty {
        /// `on_no_match`: the action taken for every connection.
        #[serde(skip_serializing_if = "Option::is_none")]
        on_no_match: Option<Box<ChainAction>>,
    },
}

/// The table of a `matcher_tree`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "entries", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TreeMap {
    /// `exact_match_map`: the input's whole value, by value.
    Exact(BTreeMap<String, ChainAction>),
    /// `prefix_match_map`: the longest key the input starts with.
    Prefix(BTreeMap<String, ChainAction>),
    /// `xds.type.matcher.v3.IPMatcher`: ranges holding the address are tried most specific
    /// first; see [`IpRange::exclusive`].
    Ip(Vec<IpRange>),
    /// A custom matcher envinspect does not evaluate, by type.
    Unsupported(String),
}

/// One entry of an IP matcher: ranges and what they lead to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct IpRange {
    /// The CIDR ranges.
    pub ranges: Vec<Cidr>,
    /// What a connection whose address is in a range gets.
    pub on_match: ChainAction,
    /// Not tried when a more specific range holds the address, even if that one's nested
    /// matcher gives nothing; a non-exclusive range is then tried next.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
}

/// What a matcher's entry leads to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainAction {
    /// The filter chain of this name.
    Chain(String),
    /// A nested matcher, evaluated in turn.
    Matcher(Box<ChainMatcher>),
    /// An action that is not a chain name, or a malformed entry, by what it was.
    Unsupported(String),
}

impl ChainMatcher {
    /// For each chain name, the conditions that lead to it (`destination_ip 10.0.0.1/32,
    /// destination_port 8000`), one string per path; `*` marks the fallbacks.
    pub fn paths(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        walk(self, &mut Vec::new(), &mut out);
        for v in out.values_mut() {
            v.sort();
            v.dedup();
        }
        out
    }
}

impl ChainMatcher {
    /// The chains a connection to destination `port` may get, whatever else it carries: a tree on
    /// the destination port follows its entry for `port` (or its fallback), every other input
    /// keeps all its branches. `None` in the list: some connections get no action (the listener's
    /// default chain).
    pub fn candidates(&self, port: u32) -> Vec<Option<String>> {
        let mut out = Vec::new();
        if self.reach(port, &mut out) {
            out.push(None);
        }
        out.sort();
        out.dedup();
        out
    }

    /// The destination ports an exact-map tree on the destination port names, anywhere inside.
    pub fn destination_ports(&self) -> Vec<u32> {
        let mut out = Vec::new();
        self.ports(&mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn ports(&self, out: &mut Vec<u32>) {
        let inner = |a: &ChainAction, out: &mut Vec<u32>| {
            if let ChainAction::Matcher(m) = a {
                m.ports(out);
            }
        };
        let (actions, fallback): (Vec<&ChainAction>, _) = match self {
            ChainMatcher::List {
                matchers,
                on_no_match,
            } => (matchers.iter().map(|(_, a)| a).collect(), on_no_match),
            ChainMatcher::Tree {
                input,
                map,
                on_no_match,
            } => {
                let actions = match map {
                    TreeMap::Exact(m) => {
                        if *input == MatchInput::DestinationPort {
                            out.extend(m.keys().filter_map(|k| k.parse::<u32>().ok()));
                        }
                        m.values().collect()
                    }
                    TreeMap::Prefix(m) => m.values().collect(),
                    TreeMap::Ip(r) => r.iter().map(|r| &r.on_match).collect(),
                    TreeMap::Unsupported(_) => Vec::new(),
                };
                (actions, on_no_match)
            }
            ChainMatcher::Empty { on_no_match } => (Vec::new(), on_no_match),
        };
        for a in actions.into_iter().chain(fallback.as_deref()) {
            inner(a, out);
        }
    }

    /// Adds the chains a connection to `port` may get; `true` when some such connections get
    /// no action from this matcher (so an enclosing fallback, or the default chain, applies).
    fn reach(&self, port: u32, out: &mut Vec<Option<String>>) -> bool {
        let act = |a: &ChainAction, out: &mut Vec<Option<String>>| match a {
            ChainAction::Chain(n) => {
                out.push(Some(n.clone()));
                false
            }
            ChainAction::Matcher(m) => m.reach(port, out),
            ChainAction::Unsupported(_) => true,
        };
        let (branches, always_may_miss, fallback): (Vec<&ChainAction>, bool, _) = match self {
            ChainMatcher::List {
                matchers,
                on_no_match,
            } => (matchers.iter().map(|(_, a)| a).collect(), true, on_no_match),
            // A tree on the destination port: only the port's entry, else the fallback.
            ChainMatcher::Tree {
                input: MatchInput::DestinationPort,
                map: TreeMap::Exact(m),
                on_no_match,
            } => {
                let entry: Vec<&ChainAction> = m.get(&port.to_string()).into_iter().collect();
                let none = entry.is_empty();
                (entry, none, on_no_match)
            }
            ChainMatcher::Tree {
                map, on_no_match, ..
            } => (
                match map {
                    TreeMap::Exact(m) | TreeMap::Prefix(m) => m.values().collect(),
                    TreeMap::Ip(r) => r.iter().map(|r| &r.on_match).collect(),
                    TreeMap::Unsupported(_) => Vec::new(),
                },
                true,
                on_no_match,
            ),
            ChainMatcher::Empty { on_no_match } => (Vec::new(), true, on_no_match),
        };
        let mut may_miss = always_may_miss;
        for a in branches {
            may_miss |= act(a, out);
        }
        if !may_miss {
            return false;
        }
        match fallback {
            Some(a) => act(a, out),
            None => true,
        }
    }
}

fn walk(m: &ChainMatcher, path: &mut Vec<String>, out: &mut BTreeMap<String, Vec<String>>) {
    let mut action = |a: &ChainAction, step: String, path: &mut Vec<String>| {
        path.push(step);
        match a {
            ChainAction::Chain(name) => out.entry(name.clone()).or_default().push(path.join(", ")),
            ChainAction::Matcher(inner) => walk(inner, path, out),
            ChainAction::Unsupported(_) => {}
        }
        path.pop();
    };
    let fallback = match m {
        ChainMatcher::List {
            matchers,
            on_no_match,
        } => {
            for (i, (_, a)) in matchers.iter().enumerate() {
                action(a, format!("matcher {i}"), path);
            }
            on_no_match
        }
        ChainMatcher::Tree {
            input,
            map,
            on_no_match,
        } => {
            match map {
                TreeMap::Exact(m) => {
                    for (k, a) in m {
                        action(a, format!("{input} {k}"), path);
                    }
                }
                TreeMap::Prefix(m) => {
                    for (k, a) in m {
                        action(a, format!("{input} {k}*"), path);
                    }
                }
                TreeMap::Ip(ranges) => {
                    for r in ranges {
                        let list: Vec<String> = r.ranges.iter().map(|c| c.to_string()).collect();
                        action(&r.on_match, format!("{input} {}", list.join(",")), path);
                    }
                }
                TreeMap::Unsupported(_) => {}
            }
            on_no_match
        }
        ChainMatcher::Empty { on_no_match } => on_no_match,
    };
    if let Some(a) = fallback {
        action(a, "otherwise".into(), path);
    }
}
