//! Which connections a sidecar's traffic redirection (Istio's iptables, from the pod's
//! `traffic.sidecar.istio.io/*` annotations, which the node metadata carries) sends to Envoy at
//! all. A connection it does not redirect never meets a listener: no mTLS, no policy.

use std::net::IpAddr;

use serde::Serialize;

use super::ids::Cidr;

/// The annotations as Istio's `istio-iptables` reads them. An annotation that is absent takes
/// Istio's default: every inbound port and every outbound address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Interception {
    /// `sidecar.istio.io/interceptionMode` (or `INTERCEPTION_MODE`): `REDIRECT`, `TPROXY`, `NONE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The annotations as written, by name (`traffic.sidecar.istio.io/…`).
    pub annotations: std::collections::BTreeMap<String, String>,
    /// JSON Pointer to the node metadata that holds them.
    #[serde(skip)]
    pub pointer: crate::model::Pointer,
}

/// Whether the redirection sends a connection to Envoy, and which annotation says so.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capture {
    /// Redirected to Envoy.
    Yes,
    /// Not redirected: the annotation and its value that exclude it.
    No(String),
}

const PREFIX: &str = "traffic.sidecar.istio.io/";

/// The pod annotation that turns the injector's probe rewrite off for one pod.
pub const REWRITE_PROBES: &str = "sidecar.istio.io/rewriteAppHTTPProbers";
/// The pod annotation that moves the agent's status port (15020 by default).
pub const STATUS_PORT: &str = "status.sidecar.istio.io/port";

/// How kubelet's probes of the application reach it on an Istio sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum KubeletProbes {
    /// The injector rewrote them to the agent's status port: kubelet asks the agent there, and
    /// the agent probes the application itself over the pod's loopback. When the status port
    /// is not redirected to Envoy (Istio excludes it), probes never meet an inbound chain: no
    /// mTLS, no RBAC, whatever the policy.
    Rewritten {
        /// The agent's status port kubelet now asks (15020 unless annotated).
        status_port: u32,
        /// Whether connections to the status port are redirected to Envoy.
        status_port_captured: bool,
        /// What says so: the annotation, or Istio's default.
        why: String,
    },
    /// Not rewritten: kubelet connects to the application's port itself, in plaintext, from
    /// the node's address, and Envoy's inbound chain and RBAC decide it as they would any
    /// plaintext caller (STRICT refuses it).
    NotRewritten {
        /// The annotation that turned the rewrite off, or what shows it is off.
        why: String,
    },
}

/// A `*`, empty or comma-separated list annotation.
enum List<T> {
    All,
    Some(Vec<T>),
}

fn list<T: std::str::FromStr>(v: &str) -> List<T> {
    if v.trim() == "*" {
        return List::All;
    }
    List::Some(v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
}

impl Interception {
    fn get(&self, name: &str) -> Option<&str> {
        self.annotations
            .get(&format!("{PREFIX}{name}"))
            .map(String::as_str)
    }

    fn why(&self, name: &str) -> String {
        format!("{PREFIX}{name}: {:?}", self.get(name).unwrap_or(""))
    }

    fn none(&self) -> Option<Capture> {
        (self.mode.as_deref() == Some("NONE"))
            .then(|| Capture::No("interception mode NONE: nothing is redirected".into()))
    }

    /// Inbound: `excludeInboundPorts` first, then `includeInboundPorts` (`*` by default).
    pub fn inbound(&self, port: u32) -> Capture {
        if let Some(c) = self.none() {
            return c;
        }
        if let Some(v) = self.get("excludeInboundPorts") {
            if matches!(list::<u32>(v), List::Some(ps) if ps.contains(&port)) {
                return Capture::No(self.why("excludeInboundPorts"));
            }
        }
        match self.get("includeInboundPorts").map(list::<u32>) {
            None | Some(List::All) => Capture::Yes,
            Some(List::Some(ps)) if ps.contains(&port) => Capture::Yes,
            Some(List::Some(_)) => Capture::No(self.why("includeInboundPorts")),
        }
    }

    /// How kubelet's probes reach the application. Rewriting is Istio's default
    /// (`sidecarInjectorWebhook.rewriteAppHTTPProbe`); the node metadata carries only the pod's
    /// own opt-out, not a mesh-wide one, and the answer says so.
    pub fn kubelet_probes(&self) -> KubeletProbes {
        if let Some(v) = self.annotations.get(REWRITE_PROBES) {
            if v.trim().eq_ignore_ascii_case("false") {
                return KubeletProbes::NotRewritten {
                    why: format!("{REWRITE_PROBES}: {v:?}"),
                };
            }
        }
        let status_port = self
            .annotations
            .get(STATUS_PORT)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(15020);
        let why = match self.annotations.get(REWRITE_PROBES) {
            Some(v) => format!("{REWRITE_PROBES}: {v:?}"),
            None => format!(
                "Istio's default; the pod does not opt out ({REWRITE_PROBES}), and a mesh-wide \
                 opt-out (sidecarInjectorWebhook.rewriteAppHTTPProbe: false) is not in the dump"
            ),
        };
        KubeletProbes::Rewritten {
            status_port,
            status_port_captured: self.inbound(status_port) == Capture::Yes,
            why,
        }
    }

    /// Outbound, in `istio-iptables`' order: excluded ports, included ports (whatever the
    /// address), excluded ranges, included ranges (`*` by default). `None` when it depends on an
    /// address that is not known.
    pub fn outbound(&self, ip: Option<IpAddr>, port: u32) -> Option<Capture> {
        if let Some(c) = self.none() {
            return Some(c);
        }
        let has_port = |name: &str| {
            self.get(name)
                .is_some_and(|v| matches!(list::<u32>(v), List::Some(ps) if ps.contains(&port)))
        };
        if has_port("excludeOutboundPorts") {
            return Some(Capture::No(self.why("excludeOutboundPorts")));
        }
        if has_port("includeOutboundPorts") {
            return Some(Capture::Yes);
        }
        let ranges = |name: &str| match self.get(name).map(list::<Cidr>) {
            None => None,
            Some(List::All) => Some(None),
            Some(List::Some(rs)) => Some(Some(rs)),
        };
        let excluded = ranges("excludeOutboundIPRanges");
        let included = ranges("includeOutboundIPRanges");
        let needs_ip = matches!(&excluded, Some(Some(rs)) if !rs.is_empty())
            || matches!(&included, Some(Some(_)));
        let Some(ip) = ip else {
            return (!needs_ip).then_some(Capture::Yes);
        };
        match excluded {
            Some(None) => return Some(Capture::No(self.why("excludeOutboundIPRanges"))),
            Some(Some(rs)) if rs.iter().any(|r| r.contains(ip)) => {
                return Some(Capture::No(self.why("excludeOutboundIPRanges")))
            }
            _ => {}
        }
        Some(match included {
            None | Some(None) => Capture::Yes,
            Some(Some(rs)) if rs.iter().any(|r| r.contains(ip)) => Capture::Yes,
            Some(Some(_)) => Capture::No(self.why("includeOutboundIPRanges")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Interception {
        Interception {
            mode: None,
            pointer: String::new().into(),
            annotations: pairs
                .iter()
                .map(|(k, v)| (format!("{PREFIX}{k}"), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn kubelet_probes_are_rewritten_unless_the_pod_opts_out() {
        let mut i = with(&[("excludeInboundPorts", "15020,15021")]);
        assert_eq!(
            i.kubelet_probes(),
            KubeletProbes::Rewritten {
                status_port: 15020,
                status_port_captured: false,
                why: "Istio's default; the pod does not opt out (sidecar.istio.io/rewriteAppHTTPProbers), and a mesh-wide opt-out (sidecarInjectorWebhook.rewriteAppHTTPProbe: false) is not in the dump".into(),
            }
        );
        i.annotations.insert(STATUS_PORT.into(), "15999".into());
        assert!(matches!(
            i.kubelet_probes(),
            KubeletProbes::Rewritten {
                status_port: 15999,
                status_port_captured: true,
                ..
            }
        ));
        i.annotations.insert(REWRITE_PROBES.into(), "false".into());
        assert!(matches!(
            i.kubelet_probes(),
            KubeletProbes::NotRewritten { .. }
        ));
    }

    #[test]
    fn inbound_ports_follow_include_then_exclude() {
        let i = with(&[
            ("includeInboundPorts", "9080"),
            ("excludeInboundPorts", "15020"),
        ]);
        assert_eq!(i.inbound(9080), Capture::Yes);
        assert!(matches!(i.inbound(8888), Capture::No(w) if w.contains("includeInboundPorts")));
        let all = with(&[
            ("includeInboundPorts", "*"),
            ("excludeInboundPorts", "8888, 15020"),
        ]);
        assert_eq!(all.inbound(9080), Capture::Yes);
        assert!(matches!(all.inbound(8888), Capture::No(w) if w.contains("exclude")));
        assert_eq!(Interception::default().inbound(1), Capture::Yes);
        let none = with(&[("includeInboundPorts", "")]);
        assert!(matches!(none.inbound(9080), Capture::No(_)));
    }

    #[test]
    fn outbound_ports_win_over_ranges() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let i = with(&[
            ("includeOutboundIPRanges", "10.96.0.0/12"),
            ("excludeOutboundPorts", "5432"),
            ("includeOutboundPorts", "443"),
        ]);
        assert_eq!(i.outbound(ip("10.96.1.1"), 80), Some(Capture::Yes));
        assert!(matches!(
            i.outbound(ip("8.8.8.8"), 80),
            Some(Capture::No(_))
        ));
        assert_eq!(i.outbound(ip("8.8.8.8"), 443), Some(Capture::Yes));
        assert!(matches!(
            i.outbound(ip("10.96.1.1"), 5432),
            Some(Capture::No(_))
        ));
        assert_eq!(i.outbound(None, 80), None, "depends on the address");
        let ex = with(&[("excludeOutboundIPRanges", "169.254.169.254/32")]);
        assert!(matches!(
            ex.outbound(ip("169.254.169.254"), 80),
            Some(Capture::No(_))
        ));
        assert_eq!(ex.outbound(ip("1.1.1.1"), 80), Some(Capture::Yes));
        assert_eq!(
            Interception::default().outbound(None, 80),
            Some(Capture::Yes)
        );
    }
}
