//! The request `authz` evaluates (and `trace --inbound` authorizes): the connection's port,
//! addresses, SNI and ALPN, who the client is at the handshake, and the HTTP request on it.

use crate::model::{PeerId, RequestPrincipal};
use std::net::IpAddr;

/// The request to evaluate, as the command line gives it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The destination port.
    pub port: u32,
    /// A listener by name, when the port alone does not say which.
    pub listener: Option<String>,
    /// Who connects, as the handshake shows them; `None`: no client described (`authz` then
    /// shows its view instead of evaluating).
    pub client: Option<Client>,
    /// A connection only (TCP): no HTTP request is sent.
    pub tcp: bool,
    /// The HTTP method (`GET` when not given).
    pub method: Option<String>,
    /// The path, with its query (`/` when not given).
    pub path: Option<String>,
    /// The `Host` (`:authority`); without it only a `*` virtual host matches.
    pub host: Option<String>,
    /// `name: value` as given; names are folded to lowercase.
    pub headers: Vec<(String, String)>,
    /// A bearer token, found by every provider where it looks for one.
    pub jwt: Option<String>,
    /// `ISS/SUB` of a token taken as verified.
    pub request_principal: Option<RequestPrincipal>,
    /// The client's address, for policies on source IPs.
    pub source_ip: Option<IpAddr>,
    /// The address connected to: which listener takes it, and a ztunnel's workload.
    pub destination_ip: Option<IpAddr>,
    /// The server name the client sends at the handshake.
    pub sni: Option<String>,
    /// The protocols the client offers at the handshake.
    pub alpn: Option<Vec<String>>,
}

/// What a client offers at the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Client {
    /// No TLS at all.
    Plaintext,
    /// TLS without a client certificate (a browser, `curl https://…`).
    Tls,
    /// TLS with a client certificate carrying this SPIFFE ID (or other URI SAN).
    Certificate(PeerId),
}

impl Client {
    /// Whether the client speaks TLS.
    pub fn tls(&self) -> bool {
        !matches!(self, Client::Plaintext)
    }

    /// The URI SAN of its certificate, when it presents one.
    pub fn principal(&self) -> Option<&str> {
        match self {
            Client::Certificate(p) => Some(p.as_str()),
            _ => None,
        }
    }
}

impl Request {
    /// Whether the client speaks TLS (plaintext when not described).
    pub(crate) fn tls(&self) -> bool {
        self.client.as_ref().is_some_and(Client::tls)
    }

    /// The URI SAN of the client's certificate, when it presents one.
    pub(crate) fn principal(&self) -> Option<&str> {
        self.peer().map(PeerId::as_str)
    }

    /// The identity of the client's certificate, when it presents one.
    pub(crate) fn peer(&self) -> Option<&PeerId> {
        match &self.client {
            Some(Client::Certificate(p)) => Some(p),
            _ => None,
        }
    }
}
