//! Differential trace test against a real Envoy 1.40 (`trace_config.rs`): over 200 connections
//! and requests — plaintext HTTP, TLS with exact, wildcard, deeper and no SNI, TLS into an HTTP
//! parser, non-HTTP bytes — each sent through Envoy, whose access log says which filter chain
//! (`%FILTER_CHAIN_NAME%`), route (`%ROUTE_NAME%`) and cluster (`%UPSTREAM_CLUSTER%`) it
//! chose and what it answered (`%RESPONSE_CODE%`, `%RESPONSE_FLAGS%`,
//! `%RESPONSE_CODE_DETAILS%`). envinspect traces the same request from Envoy's own
//! `/config_dump?include_eds` and must agree on every one.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use envinspect::admin::Endpoint;
use envinspect::model::trace::Trace;
use envinspect::trace::{outbound, AppProtocol, Probe};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::envoy::{free_port, report_140, write, Envoy};
use super::pki;
use super::trace_config::{self as config, Ports};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listener {
    Edge,
    Plain,
    /// HTTP whose connection manager strips any port and a trailing dot from the Host.
    StripAny,
    /// HTTP whose connection manager strips the port when it is the listener's.
    StripMatching,
}

fn listener_port(l: Listener, ports: &Ports) -> u16 {
    match l {
        Listener::Edge => ports.edge,
        Listener::Plain => ports.plain,
        Listener::StripAny => ports.strip_any,
        Listener::StripMatching => ports.strip_matching,
    }
}

#[derive(Debug, Clone)]
struct Case {
    listener: Listener,
    /// `Some(sni)`: TLS (an empty SNI: none sent).
    tls: Option<&'static str>,
    /// Non-HTTP bytes instead of a request.
    tcp: bool,
    method: &'static str,
    path: String,
    host: String,
    headers: Vec<(&'static str, &'static str)>,
}

/// Method, path with query, headers.
type Request = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

fn cases() -> Vec<Case> {
    let base = |listener,
                tls,
                host: &str,
                method,
                path: &str,
                headers: Vec<(&'static str, &'static str)>| Case {
        listener,
        tls,
        tcp: false,
        method,
        path: path.to_string(),
        host: host.to_string(),
        headers,
    };
    // Requests that exercise every route of the `exact` virtual host.
    let requests: Vec<Request> = vec![
        ("GET", "/exact", vec![]),
        ("GET", "/exact/more", vec![]),
        ("GET", "/exact?x=1", vec![]),
        ("GET", "/sep", vec![]),
        ("GET", "/sep/a", vec![]),
        ("GET", "/sepx", vec![]),
        ("GET", "/sep?q=1", vec![]),
        ("GET", "/re/123", vec![]),
        ("GET", "/re/123?a=b", vec![]),
        ("GET", "/re/12a", vec![]),
        ("GET", "/ci/x", vec![]),
        ("GET", "/CI/x", vec![]),
        ("GET", "/Ci/y", vec![]),
        ("GET", "/h", vec![("end-user", "jason")]),
        ("GET", "/h", vec![("end-user", "Jason")]),
        ("GET", "/h", vec![("x-ver", "v2.1")]),
        ("GET", "/h", vec![("x-ver", "v3-beta")]),
        ("GET", "/h", vec![("x-ver", "v7")]),
        ("GET", "/h", vec![("x-ver", "v7x")]),
        ("GET", "/h", vec![("x-canary", "")]),
        ("GET", "/h", vec![("x-canary", "yes")]),
        ("GET", "/h", vec![]),
        ("GET", "/h", vec![("x-block", "1")]),
        ("GET", "/h", vec![("x-block", "1"), ("x-ver", "v2")]),
        ("GET", "/hello", vec![("x-block", "0")]),
        ("GET", "/hc", vec![("x-cluster", "hc-1")]),
        ("GET", "/hc", vec![("x-cluster", "hc-2")]),
        ("GET", "/hc", vec![("x-cluster", "nope")]),
        ("GET", "/hc", vec![]),
        ("GET", "/q?debug=1", vec![]),
        ("GET", "/q?debug=2", vec![]),
        ("GET", "/q?a=1&trace", vec![]),
        ("GET", "/q", vec![]),
        ("POST", "/m", vec![]),
        ("GET", "/m", vec![]),
        ("PUT", "/m", vec![]),
        ("GET", "/direct", vec![]),
        ("GET", "/old/x", vec![]),
        ("GET", "/w", vec![]),
        ("GET", "/missing", vec![]),
        ("GET", "/empty", vec![]),
        ("GET", "/p", vec![]),
        ("GET", "/products", vec![]),
        ("GET", "/", vec![]),
        ("GET", "/nothing", vec![]),
    ];
    let mut out = Vec::new();
    for host in ["www.example.com", "WWW.Example.COM"] {
        for (m, p, h) in &requests {
            out.push(base(Listener::Edge, None, host, m, p, h.clone()));
        }
    }
    for (m, p, h) in &requests {
        out.push(base(
            Listener::Plain,
            None,
            "www.example.com",
            m,
            p,
            h.clone(),
        ));
    }
    for (m, p, h) in requests.iter().step_by(2) {
        out.push(base(
            Listener::Edge,
            Some("api.example.com"),
            "www.example.com",
            m,
            p,
            h.clone(),
        ));
    }
    // Every virtual host, by the Host header.
    let hosts = [
        "www.example.com:8080",
        "a.example.com",
        "x.b.example.com",
        "b.example.com",
        "example.com",
        "api.other.org",
        "api",
        "reviews",
        "reviews.shop",
        "REVIEWS.shop",
        "reviews.shop.svc.cluster.local:9080",
        "reviews.shop.svc.cluster.local:80",
        "unknown.test",
        "127.0.0.1",
    ];
    for host in hosts {
        for p in ["/", "/exact"] {
            out.push(base(Listener::Edge, None, host, "GET", p, vec![]));
            out.push(base(Listener::Plain, None, host, "GET", p, vec![]));
        }
        out.push(base(
            Listener::Edge,
            Some("api.example.com"),
            host,
            "GET",
            "/",
            vec![],
        ));
    }
    // Chains by SNI and transport.
    for sni in [
        "api.example.com",
        "API.example.com",
        "www.example.com",
        "a.example.com",
        "x.b.example.com",
        "y.z.b.example.com",
        "b.example.com",
        "example.com",
        "other.org",
        "",
    ] {
        out.push(base(
            Listener::Edge,
            Some(sni),
            "www.example.com",
            "GET",
            "/exact",
            vec![],
        ));
    }
    // TLS into the HTTP-only listener, and bytes that are not HTTP.
    for sni in ["www.example.com", ""] {
        out.push(base(
            Listener::Plain,
            Some(sni),
            "www.example.com",
            "GET",
            "/",
            vec![],
        ));
    }
    for listener in [Listener::Edge, Listener::Plain] {
        let mut c = base(listener, None, "", "GET", "/", vec![]);
        c.tcp = true;
        out.push(c);
    }
    // The Host as the connection manager rewrites it: any port, the listener's port (`{port}`,
    // filled in once the ports are known), a trailing dot, IPv6 literals, not a port.
    for host in [
        "www.example.com",
        "www.example.com:8080",
        "www.example.com:{port}",
        "www.example.com.",
        "www.example.com.:8080",
        "WWW.example.com:{port}",
        "reviews.shop:9080",
        "reviews.shop.:{port}",
        "a.example.com:1",
        "www.example.com:",
        "www.example.com:x",
        "[::1]:8080",
        "[::1]",
        "unknown.test:{port}",
    ] {
        for listener in [Listener::StripAny, Listener::StripMatching] {
            for p in ["/", "/exact"] {
                out.push(base(listener, None, host, "GET", p, vec![]));
            }
        }
    }
    out
}

/// Accepts any server certificate: the test is about which chain Envoy picks, not about
/// verifying it.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    // What curl offers: the trace assumes the same by default.
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(cfg)
}

fn request_bytes(id: usize, c: &Case) -> Vec<u8> {
    if c.tcp {
        return b"hello, not http\r\n\r\n".to_vec();
    }
    let mut s = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\nx-case: {id}\r\n",
        c.method, c.path, c.host
    );
    for (k, v) in &c.headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("content-length: 0\r\nconnection: close\r\n\r\n");
    s.into_bytes()
}

/// Sends the case and reads until Envoy closes; returns the client's local port.
fn send(id: usize, c: &Case, port: u16, tls: &Arc<rustls::ClientConfig>) -> u16 {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let local = tcp.local_addr().unwrap().port();
    let bytes = request_bytes(id, c);
    let mut buf = Vec::new();
    match c.tls {
        None => {
            let mut tcp = tcp;
            let _ = tcp.write_all(&bytes);
            let _ = tcp.read_to_end(&mut buf);
        }
        Some(sni) => {
            let name = if sni.is_empty() {
                ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into())
            } else {
                ServerName::try_from(sni.to_string()).unwrap()
            };
            let conn = rustls::ClientConnection::new(tls.clone(), name).unwrap();
            let mut s = rustls::StreamOwned::new(conn, tcp);
            let _ = s.write_all(&bytes);
            let _ = s.flush();
            let _ = s.read_to_end(&mut buf);
        }
    }
    local
}

/// Envoy's choices, as the access log writes them (`-` for none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Choice {
    chain: String,
    route: String,
    cluster: String,
    code: String,
    flags: String,
    details: String,
}

fn envinspect_says(t: &Trace) -> (Choice, Vec<String>) {
    let name = |kind: &str| {
        t.steps
            .iter()
            .find(|s| s.kind.as_str() == kind)
            .map(|s| s.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "-".into())
    };
    let weighted: Vec<String> = t
        .steps
        .iter()
        .flat_map(|s| s.choices.iter().map(|c| c.cluster.to_string()))
        .collect();
    let http = t.steps.iter().any(|s| s.kind.as_str() == "route config");
    let (code, flags, details) = match &t.outcome.response {
        Some(r) => (
            r.status.to_string(),
            if r.flags.is_empty() {
                "-".to_string()
            } else {
                r.flags.clone()
            },
            r.details.clone(),
        ),
        None if http => ("200".into(), "-".into(), "via_upstream".into()),
        None => ("0".into(), "-".into(), "-".into()),
    };
    let c = Choice {
        chain: name("filter chain"),
        route: name("route"),
        cluster: name("cluster"),
        code,
        flags,
        details,
    };
    (c, weighted)
}

fn probe(c: &Case, ports: &Ports) -> Probe {
    let port = listener_port(c.listener, ports);
    let target = format!("127.0.0.1:{port}").parse().unwrap();
    let app = if c.tls.is_some() {
        AppProtocol::Tls
    } else {
        AppProtocol::Plaintext
    };
    let mut p = Probe::new(target, app);
    p.sni = c.tls.map(str::to_string);
    p.method = Some(c.method.to_string());
    p.path = Some(c.path.clone());
    p.host = Some(c.host.clone());
    p.headers = c
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    p.tcp = c.tcp;
    p
}

#[test]
fn envinspect_traces_as_envoy_routes() {
    let dir = Envoy::dir("trace");
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    let edge = ca.leaf_with(
        &[],
        &["api.example.com", "*.example.com", "*.b.example.com"],
        0x4001,
        (2026, 1, 1),
        (2036, 1, 1),
    );
    write(&dir.join("certs/edge.pem"), &edge.pem);
    write(&dir.join("certs/edge.key"), &edge.key_pem);
    let ports = Ports {
        edge: free_port(),
        plain: free_port(),
        strip_any: free_port(),
        strip_matching: free_port(),
        upstream: free_port(),
        upstream_tls: free_port(),
    };
    let d = dir.display().to_string();
    write(&dir.join("rds.json"), &config::rds().to_string());
    write(
        &dir.join("bootstrap.yaml"),
        &serde_json::to_string_pretty(&config::bootstrap(&d, &ports)).unwrap(),
    );
    let envoy = Envoy::launch(dir.clone(), ca);

    let dump_path = dir.join("config_dump.json");
    std::fs::write(&dump_path, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, _) = report_140(&dump_path);

    let all: Vec<Case> = cases()
        .into_iter()
        .map(|mut c| {
            c.host = c
                .host
                .replace("{port}", &listener_port(c.listener, &ports).to_string());
            c
        })
        .collect();
    assert!(all.len() >= 200, "{} cases", all.len());
    let tls = tls_config();
    // Requests Envoy parses carry their case in `x-case`, and go from a few threads at once.
    // The others (bytes that are not HTTP, TLS that Envoy passes on or cannot parse) are told
    // apart by the listener's and the client's port, so they go one at a time: a client port
    // is then not reused while a line may still name it.
    let port_of = |c: &Case| listener_port(c.listener, &ports);
    let parsed = |c: &Case| {
        !c.tcp
            && c.tls.is_none_or(|sni| {
                c.listener == Listener::Edge && sni.eq_ignore_ascii_case("api.example.com")
            })
    };
    type Indexed<'a> = Vec<(usize, &'a Case)>;
    let (http, other): (Indexed, Indexed) = all.iter().enumerate().partition(|(_, c)| parsed(c));
    std::thread::scope(|s| {
        for chunk in http.chunks(http.len().div_ceil(8)) {
            let tls = &tls;
            s.spawn(move || {
                for (i, c) in chunk {
                    send(*i, c, port_of(c), tls);
                }
            });
        }
    });
    let by_port: BTreeMap<(u16, u16), usize> = other
        .iter()
        .map(|(i, c)| ((port_of(c), send(*i, c, port_of(c), &tls)), *i))
        .collect();
    // Envoy writes a line per request or connection; wait for all of them.
    let log = dir.join("access.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= all.len() || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut envoy_says: BTreeMap<usize, Choice> = BTreeMap::new();
    for l in &lines {
        let f: Vec<&str> = l.split('|').collect();
        assert_eq!(f.len(), 9, "access log line {l:?}");
        let by_id = f[0].parse::<usize>().ok();
        let by_ports = || {
            let key = (f[1].parse::<u16>().ok()?, f[2].parse::<u16>().ok()?);
            by_port.get(&key).copied()
        };
        let Some(i) = by_id.or_else(by_ports) else {
            panic!("access log line for no case: {l}");
        };
        let previous = envoy_says.insert(
            i,
            Choice {
                chain: f[3].into(),
                route: f[4].into(),
                cluster: f[5].into(),
                code: f[6].into(),
                flags: f[7].into(),
                details: f[8].into(),
            },
        );
        assert!(previous.is_none(), "two access log lines for case {i}: {l}");
    }
    let mut disagreements = Vec::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in all.iter().enumerate() {
        let t = outbound(&report, &probe(c, &ports));
        *kinds.entry(t.outcome.kind.as_str()).or_default() += 1;
        let (mut ours, weighted) = envinspect_says(&t);
        let Some(theirs) = envoy_says.get(&i) else {
            disagreements.push(format!(
                "case {i} {c:?}: Envoy logged nothing; envinspect: {ours:?}"
            ));
            continue;
        };
        if !weighted.is_empty() && weighted.contains(&theirs.cluster) {
            ours.cluster = theirs.cluster.clone();
        }
        if &ours != theirs {
            disagreements.push(format!(
                "case {i} {c:?}:\n  Envoy:      {theirs:?}\n  envinspect: {ours:?} ({}: {})",
                t.outcome.kind, t.outcome.summary
            ));
        }
    }
    eprintln!(
        "trace differential: {} cases, {} disagreements; outcomes {kinds:?}",
        all.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree:\n{}",
        disagreements.len(),
        all.len(),
        disagreements.join("\n")
    );
    // The same through the real binary against the live admin API.
    let target = format!("127.0.0.1:{}", ports.edge);
    let args = [
        "trace",
        "--admin",
        &envoy.admin,
        &target,
        "--host",
        "www.example.com",
        "--path",
        "/h",
        "--header",
        "x-ver: v2.1",
        "-o",
        "json",
    ];
    let run = super::envinspect(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<(&str, &str)> = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["name"].as_str().unwrap()))
        .collect();
    assert!(
        names.contains(&("filter chain", "plain-http"))
            && names.contains(&("route", "r-hdr-prefix"))
            && names.contains(&("cluster", "c-hdr-prefix")),
        "{names:?}"
    );
    drop(envoy);
}
