//! Bytes in from a live Envoy admin API (plain HTTP, as `kubectl port-forward` gives it).
//! Each failure is one clear error naming the URL: refused, timed out, not 200, not JSON, too
//! large, cut off mid-body. Proxies are used only when passed in explicitly (the library reads
//! no environment).

#[cfg(feature = "live")]
use std::io::Read;
use std::time::Duration;

use super::admin_error::AdminError;
#[cfg(feature = "live")]
use super::admin_error::Body;
use super::{Input, SourceError};
use crate::model::DocumentKind;

/// What to fetch. Query strings are fixed here; none is ever empty (envoy#32794).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/config_dump?include_eds`: everything, endpoints included.
    ConfigDumpWithEds,
    /// `/config_dump`: without endpoints, often most of the bytes; enough for TLS and secrets.
    ConfigDump,
    /// `/certs`: the certificates Envoy holds, as it reports them.
    Certs,
    /// `/server_info`: the node, version and command line.
    ServerInfo,
    /// `/clusters?format=json`.
    Clusters,
    /// `/stats/prometheus`: counters, as text (not JSON).
    StatsPrometheus,
}

impl Endpoint {
    /// The path and query asked for.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ConfigDumpWithEds => "/config_dump?include_eds",
            Endpoint::ConfigDump => "/config_dump",
            Endpoint::Certs => "/certs",
            Endpoint::ServerInfo => "/server_info",
            Endpoint::Clusters => "/clusters?format=json",
            Endpoint::StatsPrometheus => "/stats/prometheus",
        }
    }

    /// Whether the answer is a JSON document (the stats are text).
    pub fn is_json(self) -> bool {
        self != Endpoint::StatsPrometheus
    }

    /// The document the endpoint answers with (`None`: not a JSON document).
    pub fn kind(self) -> Option<DocumentKind> {
        Some(match self {
            Endpoint::ConfigDumpWithEds | Endpoint::ConfigDump => DocumentKind::ConfigDump,
            Endpoint::Certs => DocumentKind::Certs,
            Endpoint::ServerInfo => DocumentKind::ServerInfo,
            Endpoint::Clusters => DocumentKind::ClusterStatuses,
            Endpoint::StatsPrometheus => return None,
        })
    }

    /// The file name `istioctl bug-report` uses for it (literal `?`), for `fetch --save`.
    pub fn bundle_name(self) -> &'static str {
        match self {
            Endpoint::ConfigDumpWithEds => "config_dump?include_eds",
            Endpoint::ConfigDump => "config_dump",
            Endpoint::Certs => "certs",
            Endpoint::ServerInfo => "server_info",
            Endpoint::Clusters => "clusters",
            Endpoint::StatsPrometheus => "stats/prometheus",
        }
    }
}

/// How to talk to an admin API.
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// How long to wait for the connection.
    pub connect_timeout: Duration,
    /// For the whole request, body included.
    pub timeout: Duration,
    /// The largest body accepted.
    pub max_bytes: u64,
    /// An HTTP proxy to go through; none by default, also for loopback.
    pub proxy: Option<String>,
}

impl Default for AdminOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            max_bytes: 1 << 30,
            proxy: None,
        }
    }
}

/// A live Envoy admin API (plain HTTP).
pub struct Admin {
    base: String,
    #[cfg(feature = "live")]
    client: reqwest::blocking::Client,
    opts: AdminOptions,
}

impl Admin {
    /// `addr` is `http://host:port[/prefix]` or `host:port`.
    pub fn new(addr: &str, opts: AdminOptions) -> Result<Self, SourceError> {
        let err = |kind: AdminError| SourceError::Admin {
            url: addr.to_string(),
            kind,
        };
        let base = if addr.contains("://") {
            addr.to_string()
        } else {
            format!("http://{addr}")
        };
        if !base.starts_with("http://") {
            return Err(err(AdminError::Scheme));
        }
        let base = base.trim_end_matches('/').to_string();
        // A library built without the `live` feature has no HTTP client: it says so.
        #[cfg(not(feature = "live"))]
        {
            let _ = (base, opts);
            Err(err(AdminError::NoLiveClient))
        }
        #[cfg(feature = "live")]
        {
            Self::client(addr, base, opts)
        }
    }

    #[cfg(feature = "live")]
    fn client(addr: &str, base: String, opts: AdminOptions) -> Result<Self, SourceError> {
        let err = |kind: AdminError| SourceError::Admin {
            url: addr.to_string(),
            kind,
        };
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .no_proxy()
            .user_agent(concat!("envinspect/", env!("CARGO_PKG_VERSION")));
        if let Some(p) = &opts.proxy {
            builder = builder.proxy(reqwest::Proxy::http(p).map_err(|e| {
                err(AdminError::Proxy {
                    proxy: p.clone(),
                    text: e.to_string(),
                    cause: Box::new(e),
                })
            })?);
        }
        let client = builder.build().map_err(|e| {
            err(AdminError::Client {
                text: e.to_string(),
                cause: Box::new(e),
            })
        })?;
        Ok(Self { base, client, opts })
    }

    /// The URL asked for `e`.
    pub fn url(&self, e: Endpoint) -> String {
        format!("{}{}", self.base, e.path())
    }

    /// Fetches one endpoint; the body must look like JSON. (Without the `live` feature no
    /// `Admin` can be made, so this is never called.)
    #[cfg(not(feature = "live"))]
    pub fn get(&self, e: Endpoint) -> Result<Input, SourceError> {
        let _ = &self.opts;
        Err(SourceError::Admin {
            url: self.url(e),
            kind: AdminError::NoLiveClient,
        })
    }

    /// Fetches one endpoint; the body must look like JSON.
    #[cfg(feature = "live")]
    pub fn get(&self, e: Endpoint) -> Result<Input, SourceError> {
        let url = self.url(e);
        let err = |kind: AdminError| SourceError::Admin {
            url: url.clone(),
            kind,
        };
        // reqwest bounds each read of the body, not the whole of it: the deadline is kept here.
        let started = std::time::Instant::now();
        let resp = self
            .client
            .get(&url)
            .send()
            .map_err(|e| err(describe(e, &self.opts)))?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let expected = resp.content_length();
        if let Some(n) = expected.filter(|n| *n > self.opts.max_bytes) {
            return Err(err(AdminError::TooLarge {
                announced: Some(n),
                max: self.opts.max_bytes,
            }));
        }
        let mut bytes = Vec::new();
        let read = read_until(
            resp.take(self.opts.max_bytes + 1),
            &mut bytes,
            started + self.opts.timeout,
        );
        if let Err(e) = read {
            let inner = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>());
            if inner.is_some_and(|i| i.is_timeout()) || e.kind() == std::io::ErrorKind::TimedOut {
                return Err(err(AdminError::BodyTimeout {
                    received: bytes.len(),
                    total: self.opts.timeout,
                }));
            }
            let text = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            return Err(err(AdminError::Broken {
                received: bytes.len(),
                text,
                cause: Box::new(e),
            }));
        }
        if bytes.len() as u64 > self.opts.max_bytes {
            return Err(err(AdminError::TooLarge {
                announced: None,
                max: self.opts.max_bytes,
            }));
        }
        if let Some(n) = expected.filter(|n| *n != bytes.len() as u64) {
            return Err(err(AdminError::Truncated {
                received: bytes.len(),
                expected: n,
            }));
        }
        if !status.is_success() {
            return Err(err(AdminError::Status {
                status: status.to_string(),
                code: status.as_u16(),
                first_line: first_line(&bytes),
            }));
        }
        let start = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if !e.is_json() {
            if start == Some(&b'<') {
                return Err(err(AdminError::NotPrometheus));
            }
            return Ok(Input { name: url, bytes });
        }
        if start != Some(&b'{') {
            let body = match start {
                None => Body::Empty,
                Some(b'<') => Body::Html,
                // Envoy answers a bad query with 200 and a line of text.
                Some(_) => Body::Text(first_line(&bytes)),
            };
            return Err(err(AdminError::NotJson { body, content_type }));
        }
        Ok(Input { name: url, bytes })
    }
}

/// Reads to the end, failing with `TimedOut` once `deadline` has passed, however slowly the bytes
/// keep coming (a slow-loris server never hits a per-read timeout).
#[cfg(feature = "live")]
fn read_until(
    mut r: impl Read,
    out: &mut Vec<u8>,
    deadline: std::time::Instant,
) -> std::io::Result<usize> {
    let mut buf = [0u8; 64 * 1024];
    loop {
        if std::time::Instant::now() > deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "deadline passed",
            ));
        }
        match r.read(&mut buf) {
            Ok(0) => return Ok(out.len()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The first line of a body, shortened, for an error message.
#[cfg(feature = "live")]
fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_start()
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(120)
        .collect()
}

#[cfg(feature = "live")]
fn describe(e: reqwest::Error, o: &AdminOptions) -> AdminError {
    let mut chain = String::new();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        chain = s.to_string();
        src = s.source();
    }
    let text = if chain.is_empty() {
        e.to_string()
    } else {
        chain
    };
    if e.is_timeout() {
        AdminError::Timeout {
            connect: o.connect_timeout,
            total: o.timeout,
        }
    } else if e.is_connect() {
        AdminError::Connect {
            text,
            cause: Box::new(e),
        }
    } else if e.is_redirect() {
        AdminError::Redirect {
            text,
            cause: Box::new(e),
        }
    } else {
        AdminError::Request {
            text,
            cause: Box::new(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    /// A one-shot HTTP server on loopback answering `response` to the first request.
    fn serve(response: &'static [u8]) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut buf = [0u8; 1024];
                let _ = std::io::Read::read(&mut s, &mut buf);
                let _ = s.write_all(response);
            }
        });
        addr
    }

    fn get(addr: &str) -> Result<Input, SourceError> {
        let opts = AdminOptions {
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(3),
            ..AdminOptions::default()
        };
        Admin::new(addr, opts)?.get(Endpoint::ServerInfo)
    }

    fn failure(addr: &str, opts: AdminOptions) -> String {
        line(
            &Admin::new(addr, opts)
                .unwrap()
                .get(Endpoint::Certs)
                .unwrap_err(),
        )
    }

    /// The error as the command line prints it: the URL, then the kind.
    fn line(e: &SourceError) -> String {
        match e {
            SourceError::Admin { url, kind } => format!("{url}: {kind}"),
            other => panic!("not an admin error: {other:?}"),
        }
    }

    fn kind(e: SourceError) -> AdminError {
        match e {
            SourceError::Admin { kind, .. } => kind,
            other => panic!("not an admin error: {other:?}"),
        }
    }

    #[test]
    fn failures_are_one_clear_line() {
        type Kind = fn(&AdminError) -> bool;
        let cases: [(&[u8], &str, Kind); 4] = [
            (
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
                "HTTP 404 Not Found: not found",
                |k| matches!(k, AdminError::Status { code: 404, .. }) && !k.is_transient(),
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>",
                "expected JSON, got HTML (text/html)",
                |k| {
                    matches!(
                        k,
                        AdminError::NotJson {
                            body: Body::Html,
                            ..
                        }
                    )
                },
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":",
                "the connection broke after",
                |k| matches!(k, AdminError::Broken { received: 5, .. }),
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                "expected JSON, got an empty body",
                |k| {
                    matches!(
                        k,
                        AdminError::NotJson {
                            body: Body::Empty,
                            ..
                        }
                    )
                },
            ),
        ];
        for (response, want, is_kind) in cases {
            let addr = serve(response);
            let e = get(&addr).unwrap_err();
            let text = line(&e);
            assert!(
                text.starts_with(&format!("http://{addr}/server_info: ")),
                "{text}"
            );
            assert!(text.contains(want), "{text} lacks {want}");
            let k = kind(e);
            assert!(is_kind(&k), "{want}: {k:?}");
        }
    }

    #[test]
    fn cut_chunked_body_slow_server_and_size_limit() {
        let addr =
            serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"configs\": [");
        let e = get(&addr).unwrap_err();
        assert!(line(&e).contains("the connection broke after"), "{e:?}");
        let e = kind(e);
        assert!(matches!(e, AdminError::Broken { .. }) && e.is_transient() && e.cause().is_some());

        // Accepts, reads the request, then says nothing: the total timeout cuts it.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let _ = std::io::Read::read(&mut s, &mut [0u8; 1024]);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{");
                std::thread::sleep(Duration::from_secs(10));
            }
        });
        let opts = AdminOptions {
            timeout: Duration::from_secs(1),
            ..AdminOptions::default()
        };
        let e = failure(&addr, opts);
        assert!(
            e.ends_with("timed out after 1 bytes of the body (total 1s)"),
            "{e}"
        );

        let addr = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"configs\": [1,2,3]}");
        let opts = AdminOptions {
            max_bytes: 10,
            ..AdminOptions::default()
        };
        let e = Admin::new(&addr, opts)
            .unwrap()
            .get(Endpoint::Certs)
            .unwrap_err();
        assert!(
            line(&e).ends_with("response of 20 bytes is larger than 10 bytes"),
            "{e:?}"
        );
        assert!(matches!(
            kind(e),
            AdminError::TooLarge {
                announced: Some(20),
                max: 10
            }
        ));

        let addr = serve(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nFieldMask x wrong");
        let e = get(&addr).unwrap_err();
        assert!(
            line(&e).ends_with("expected JSON, got text (text/plain): FieldMask x wrong"),
            "{e:?}"
        );
        match kind(e) {
            AdminError::NotJson { body, content_type } => {
                assert_eq!(body, Body::Text("FieldMask x wrong".into()));
                assert_eq!(content_type, "text/plain");
            }
            other => panic!("{other:?}"),
        }
    }

    /// Slow-loris: a server trickling one byte every 100 ms never finishes within the total
    /// timeout, which cuts it however slowly bytes keep coming.
    #[test]
    fn a_trickling_server_is_cut_by_the_total_timeout() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let _ = std::io::Read::read(&mut s, &mut [0u8; 1024]);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
                for _ in 0..100 {
                    if s.write_all(b" ").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        let started = std::time::Instant::now();
        let opts = AdminOptions {
            timeout: Duration::from_secs(1),
            ..AdminOptions::default()
        };
        let e = failure(&addr, opts);
        assert!(e.contains("timed out after"), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn an_explicit_proxy_is_used() {
        // The "proxy" answers; the admin address itself is unreachable.
        let proxy = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let opts = AdminOptions {
            proxy: Some(format!("http://{proxy}")),
            ..AdminOptions::default()
        };
        let input = Admin::new("10.255.255.1:15000", opts)
            .unwrap()
            .get(Endpoint::Certs)
            .unwrap();
        assert_eq!(input.bytes, b"{}");
    }

    #[test]
    fn refused_and_https() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = get(&format!("127.0.0.1:{port}")).unwrap_err();
        assert!(line(&e).contains("cannot connect"), "{e:?}");
        let e = kind(e);
        assert!(
            matches!(e, AdminError::Connect { .. }) && e.is_transient(),
            "{e:?}"
        );
        let https = Admin::new("https://x:1", AdminOptions::default())
            .err()
            .unwrap();
        assert!(matches!(kind(https), AdminError::Scheme));
    }

    #[test]
    fn json_body_is_returned() {
        let addr = serve(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        );
        let input = get(&addr).unwrap();
        assert_eq!(
            (input.name, input.bytes),
            (format!("http://{addr}/server_info"), b"{}".to_vec())
        );
    }
}
