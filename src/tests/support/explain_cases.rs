//! The twenty cases of the differential `explain` test (`explain_live.rs`): what each sends to
//! the Envoy that `explain_config` configures, the cause envinspect must name for its line (in
//! Istio's formats and in Envoy's default one), and the objects it must name; and the client
//! that sends them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::explain_config::{Ports, DENY_POLICY};

/// What a case sends.
#[derive(Clone, Copy)]
pub(crate) enum Sent {
    /// An HTTP/1.1 request to a listener: port, method, Host, path, extra header.
    Http(
        fn(&Ports) -> u16,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ),
    /// Bytes that are not HTTP, then read until Envoy closes.
    Raw(fn(&Ports) -> u16, &'static [u8]),
    /// A request whose client hangs up after 100 ms.
    HangUp(fn(&Ports) -> u16, &'static str),
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) send: Sent,
    /// The rule for Istio's TEXT and JSON lines, and for Envoy's default format.
    pub(crate) istio: &'static str,
    pub(crate) default: &'static str,
    /// Objects the Istio lines must name: (field of the explained object, value).
    pub(crate) objects: &'static [(&'static str, &'static str)],
}

/// The cluster a default-format line must still be placed on (by its route, the only one for
/// the request that forwards), for these cases.
pub(crate) const DEFAULT_CLUSTERS: &[(&str, &str)] = &[
    ("no endpoint", "empty"),
    ("missing cluster", "missing"),
    ("circuit breaker", "overflow"),
    ("timeout", "ok"),
    ("upstream status", "ok"),
];

fn front(p: &Ports) -> u16 {
    p.front
}
fn authz(p: &Ports) -> u16 {
    p.authz
}
fn jwt(p: &Ports) -> u16 {
    p.jwt
}
fn tcp_rbac(p: &Ports) -> u16 {
    p.tcp_rbac
}
fn sni_only(p: &Ports) -> u16 {
    p.sni_only
}

pub(crate) fn cases() -> Vec<Case> {
    use Sent::*;
    let get = |path| Http(front, "GET", "app.test", path, None);
    vec![
        Case {
            name: "ok",
            send: get("/ok"),
            istio: "log-ok",
            default: "log-ok",
            objects: &[
                ("listener", "front"),
                ("route", "r-ok"),
                ("cluster", "ok"),
                ("virtual_host", "app"),
            ],
        },
        Case {
            name: "no endpoint",
            send: get("/empty"),
            istio: "log-no-healthy-upstream",
            default: "log-no-healthy-upstream",
            objects: &[
                ("listener", "front"),
                ("filter_chain", "front-http"),
                ("route", "r-empty"),
                ("cluster", "empty"),
            ],
        },
        Case {
            name: "missing cluster",
            send: get("/missing"),
            istio: "log-cluster-not-found",
            default: "log-cluster-not-found",
            objects: &[
                ("listener", "front"),
                ("route", "r-missing"),
                ("cluster", "missing"),
            ],
        },
        Case {
            name: "SAN mismatch, retried",
            send: get("/san-retry"),
            istio: "log-upstream-tls-san",
            default: "log-cannot-tell",
            objects: &[("route", "r-san-retry"), ("cluster", "tls-san")],
        },
        Case {
            name: "SAN mismatch",
            send: get("/san"),
            istio: "log-upstream-tls-san",
            default: "log-cannot-tell",
            objects: &[("route", "r-san"), ("cluster", "tls-san")],
        },
        Case {
            name: "untrusted CA",
            send: get("/ca"),
            istio: "log-upstream-tls-untrusted",
            default: "log-cannot-tell",
            objects: &[("route", "r-ca"), ("cluster", "tls-ca")],
        },
        Case {
            name: "closed port",
            send: get("/closed"),
            istio: "log-upstream-connect-failure",
            default: "log-cannot-tell",
            objects: &[("route", "r-closed"), ("cluster", "closed")],
        },
        Case {
            name: "circuit breaker",
            send: get("/overflow"),
            istio: "log-upstream-overflow",
            default: "log-upstream-overflow",
            objects: &[("route", "r-overflow"), ("cluster", "overflow")],
        },
        Case {
            name: "timeout",
            send: get("/slow"),
            istio: "log-upstream-timeout",
            default: "log-upstream-timeout",
            objects: &[("route", "r-slow"), ("cluster", "ok")],
        },
        Case {
            name: "upstream status",
            send: get("/teapot"),
            istio: "log-upstream-status",
            default: "log-upstream-status",
            objects: &[("route", "r-teapot"), ("cluster", "ok")],
        },
        Case {
            name: "no route",
            send: get("/nothing"),
            istio: "log-no-route",
            default: "log-cannot-tell",
            objects: &[
                ("listener", "front"),
                ("virtual_host", "app"),
                ("route_config", "front"),
            ],
        },
        Case {
            name: "no virtual host",
            send: Http(front, "GET", "unknown.test", "/", None),
            istio: "log-no-virtual-host",
            default: "log-no-virtual-host",
            objects: &[("listener", "front"), ("route_config", "front")],
        },
        Case {
            name: "RBAC DENY",
            send: Http(authz, "GET", "authz.test", "/admin", None),
            istio: "log-rbac-denied-policy",
            default: "log-cannot-tell",
            objects: &[("listener", "authz"), ("policy", DENY_POLICY)],
        },
        Case {
            name: "RBAC no ALLOW",
            send: Http(authz, "POST", "authz.test", "/", None),
            istio: "log-rbac-no-allow",
            default: "log-cannot-tell",
            objects: &[("listener", "authz"), ("filter_chain", "authz-http")],
        },
        Case {
            name: "allowed",
            send: Http(authz, "GET", "authz.test", "/", None),
            istio: "log-ok",
            default: "log-ok",
            objects: &[("listener", "authz"), ("route", "r-authz")],
        },
        Case {
            name: "JWT missing",
            send: Http(jwt, "GET", "jwt.test", "/", None),
            istio: "log-jwt-missing",
            default: "log-cannot-tell",
            objects: &[("listener", "jwt")],
        },
        Case {
            name: "JWT invalid",
            send: Http(
                jwt,
                "GET",
                "jwt.test",
                "/",
                Some("authorization: Bearer not.a.token"),
            ),
            istio: "log-jwt-invalid",
            default: "log-cannot-tell",
            objects: &[("listener", "jwt")],
        },
        Case {
            name: "network RBAC",
            send: Raw(tcp_rbac, b"hello\n"),
            istio: "log-rbac-network-denied",
            default: "log-ok",
            objects: &[("listener", "tcp-rbac"), ("cluster", "ok")],
        },
        Case {
            name: "no filter chain",
            send: Raw(sni_only, b"hello\n"),
            istio: "log-no-filter-chain",
            default: "log-no-filter-chain",
            objects: &[("listener", "sni-only")],
        },
        Case {
            name: "protocol error",
            send: Raw(front, b"NOT HTTP AT ALL\r\n\r\n"),
            istio: "log-downstream-protocol-error",
            default: "log-downstream-protocol-error",
            objects: &[("listener", "front")],
        },
        Case {
            name: "client hangs up",
            send: HangUp(front, "/slow"),
            istio: "log-downstream-reset",
            default: "log-downstream-reset",
            objects: &[("listener", "front"), ("route", "r-slow")],
        },
    ]
}

pub(crate) fn send(p: &Ports, s: Sent, id: &str) {
    let connect = |port: u16| {
        let c = TcpStream::connect(("127.0.0.1", port)).expect("Envoy listens");
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    };
    let request = |method: &str, host: &str, path: &str, extra: Option<&str>| {
        let extra = extra.map_or(String::new(), |h| format!("{h}\r\n"));
        format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\nx-request-id: {id}\r\n{extra}connection: close\r\n\r\n")
    };
    match s {
        Sent::Http(port, method, host, path, extra) => {
            let mut c = connect(port(p));
            c.write_all(request(method, host, path, extra).as_bytes())
                .unwrap();
            let _ = c.read_to_end(&mut Vec::new());
        }
        Sent::Raw(port, bytes) => {
            let mut c = connect(port(p));
            let _ = c.write_all(bytes);
            let _ = c.read_to_end(&mut Vec::new());
        }
        Sent::HangUp(port, path) => {
            let mut c = connect(port(p));
            c.write_all(request("GET", "app.test", path, None).as_bytes())
                .unwrap();
            std::thread::sleep(Duration::from_millis(100));
            drop(c);
        }
    }
}
