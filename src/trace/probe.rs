//! What `trace` follows: the destination as typed (`host:port[/path]`), what the application
//! speaks, and the request Envoy routes (method, path, Host, headers), with the defaults a
//! client like curl gives each.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::str::FromStr;

use crate::authz::context::HttpRequest;

/// `host:port[/path]` (`[v6]:port`); the port defaults to 80, the path to `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// The host, lowercase (an IP address without brackets).
    pub host: String,
    /// The port.
    pub port: u32,
    /// The host, when it is an IP address.
    pub ip: Option<IpAddr>,
    /// The path (`/` when none was given).
    pub path: String,
}

/// Why a destination is not `host:port[/path]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The destination as given, and a port that is not a number.
    #[error("{0}: invalid port {1:?}")]
    Port(String, String),
    /// The destination as given, which has no host.
    #[error("{0}: no host")]
    NoHost(String),
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(whole: &str) -> Result<Self, TargetError> {
        let (s, path) = match whole.find('/') {
            Some(i) => (&whole[..i], whole[i..].to_string()),
            None => (whole, "/".to_string()),
        };
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse()
                    .map_err(|_| TargetError::Port(s.to_string(), p.to_string()))?,
            ),
            _ => (s.trim_start_matches('[').trim_end_matches(']'), 80),
        };
        if host.is_empty() {
            return Err(TargetError::NoHost(s.to_string()));
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
#[non_exhaustive]
pub enum AppProtocol {
    /// TLS on 443, plaintext HTTP elsewhere.
    Auto,
    /// TLS, whatever the port.
    Tls,
    /// Plaintext, whatever the port.
    Plaintext,
}

/// The connection and request to follow: the destination, what the application speaks, and
/// the request's method, path, Host and headers (Envoy's route matching reads them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Probe {
    /// Where the application connects.
    pub target: Target,
    /// What it speaks.
    pub app: AppProtocol,
    /// The SNI a TLS client sends (default: the host, when it is a name).
    pub sni: Option<String>,
    /// The ALPN a TLS client offers (default: `h2,http/1.1`, as curl and browsers do).
    pub alpn: Option<Vec<String>>,
    /// The HTTP method (default: `GET`).
    pub method: Option<String>,
    /// The request path with its query (default: the target's path).
    pub path: Option<String>,
    /// The Host header (default: the host, with the port unless it is the scheme's).
    pub host: Option<String>,
    /// Request headers, lowercase names, in order.
    pub headers: Vec<(String, String)>,
    /// Only a TCP connection, no HTTP request.
    pub tcp: bool,
    /// The application's address, for matches on source IPs.
    pub source_ip: Option<IpAddr>,
}

impl Probe {
    /// A request to `target`, in `app`'s protocol, with every other part at its default.
    pub fn new(target: Target, app: AppProtocol) -> Probe {
        Probe {
            target,
            app,
            sni: None,
            alpn: None,
            method: None,
            path: None,
            host: None,
            headers: Vec::new(),
            tcp: false,
            source_ip: None,
        }
    }

    pub(super) fn tls(&self) -> bool {
        match self.app {
            AppProtocol::Tls => true,
            AppProtocol::Plaintext => false,
            AppProtocol::Auto => self.target.port == 443,
        }
    }

    /// The same request from the other kind of client (TLS for plaintext and back).
    pub(super) fn flipped(&self) -> Probe {
        Probe {
            app: if self.tls() {
                AppProtocol::Plaintext
            } else {
                AppProtocol::Tls
            },
            ..self.clone()
        }
    }

    pub(super) fn sni(&self) -> String {
        self.sni.clone().unwrap_or_else(|| match self.target.ip {
            Some(_) => String::new(),
            None => self.target.host.clone(),
        })
    }

    pub(super) fn alpn(&self) -> Vec<String> {
        self.alpn
            .clone()
            .unwrap_or_else(|| vec!["h2".into(), "http/1.1".into()])
    }

    pub(super) fn authority(&self) -> String {
        if let Some(h) = &self.host {
            return h.clone();
        }
        let t = &self.target;
        let default = if self.tls() { 443 } else { 80 };
        let host = match t.ip {
            Some(IpAddr::V6(_)) => format!("[{}]", t.host),
            _ => t.host.clone(),
        };
        if t.port == default {
            host
        } else {
            format!("{host}:{}", t.port)
        }
    }

    pub(super) fn request(&self) -> HttpRequest {
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &self.headers {
            headers.entry(k.clone()).or_default().push(v.clone());
        }
        HttpRequest {
            method: self.method.clone().unwrap_or_else(|| "GET".into()),
            path: self
                .path
                .clone()
                .unwrap_or_else(|| self.target.path.clone()),
            authority: self.authority(),
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print_back() {
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
        assert!("host:http".parse::<Target>().is_err());
    }

    #[test]
    fn the_host_header_is_the_one_curl_sends() {
        let p = |s: &str, app| Probe::new(s.parse().unwrap(), app);
        assert_eq!(p("a.test:80", AppProtocol::Auto).authority(), "a.test");
        assert_eq!(
            p("a.test:8080", AppProtocol::Auto).authority(),
            "a.test:8080"
        );
        assert_eq!(p("a.test:443", AppProtocol::Auto).authority(), "a.test");
        assert_eq!(
            p("a.test:443", AppProtocol::Plaintext).authority(),
            "a.test:443"
        );
        assert_eq!(p("[::1]:81", AppProtocol::Auto).authority(), "[::1]:81");
        let mut q = p("10.0.0.1:80/x?y=1", AppProtocol::Tls);
        assert_eq!(q.sni(), "", "no SNI to an address");
        q.headers = vec![("end-user".into(), "jason".into())];
        let req = q.request();
        assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/x?y=1"));
        assert_eq!(req.header("end-user").as_deref(), Some("jason"));
        assert!(!q.flipped().tls());
    }
}
