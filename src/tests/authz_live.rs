//! Differential authorization test against a real Envoy 1.40: the configuration of
//! `authz_config.rs`, client certificates with several SPIFFE IDs (one from another trust domain
//! under the same root), JWTs signed here (valid, wrong audience, bad signature, expired, not yet
//! valid, malformed, unknown issuer, ES256). Every request goes through Envoy with a real TLS
//! client; Envoy's status and `%RESPONSE_CODE_DETAILS%` (or, for TCP, the connection termination
//! details) are read from its access logs, and envinspect's decision, policy and predicted
//! answer must equal them on every request.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use envinspect::admin::Endpoint;
use envinspect::authz::{evaluate, Request};
use envinspect::model::cannot_tell::{CannotTell, Reason};
use envinspect::model::decision::{Decision, Evaluation};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;

use super::authz_config::{self as config, spiffe, Ports};
use super::envoy::{free_port, report_140, write, Envoy};
use super::jwt::{tokens, Signer};
use super::{envinspect, pki, NOW_140};

/// A plain GET to the admin API (for stats in failure messages).
fn admin_get(admin: &str, path: &str) -> String {
    let addr = admin.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Via {
    Mtls,
    Plain,
    Tcp,
    /// Plaintext HTTP to the mTLS listener.
    PlainToMtls,
}

#[derive(Debug, Clone)]
struct Case {
    id: usize,
    via: Via,
    client: Option<&'static str>,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    token: Option<(&'static str, String)>,
}

/// What Envoy did: its status (none for a closed connection) and details.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    status: Option<u16>,
    details: Option<String>,
}

const CLIENTS: &[&str] = &["admin", "reader", "other", "banned", "foreign"];

fn client_id(c: &str) -> String {
    match c {
        "other" => spiffe("other", "client"),
        "foreign" => "spiffe://foreign.example/ns/default/sa/admin".into(),
        sa => spiffe("default", sa),
    }
}

fn cases(tokens: &[(&'static str, Option<String>)]) -> Vec<Case> {
    let mut out = Vec::new();
    let mut add = |via,
                   client,
                   method,
                   path: &str,
                   headers: Vec<(&str, &str)>,
                   token: Option<(&'static str, String)>| {
        let id = out.len();
        out.push(Case {
            id,
            via,
            client,
            method,
            path: path.into(),
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            token,
        });
    };
    let paths = [
        "/",
        "/public/a",
        "/admin/x",
        "/api/x",
        "/override",
        "/matcher",
        "/nodefault",
        "/open",
        "/foreign",
        "/src/x",
        "/ten/x",
        "/inv/x",
        "/query?ok=1",
        "/query?ok=2",
        "/nojwt/x",
    ];
    for c in CLIENTS {
        for p in paths {
            for m in ["GET", "POST", "DELETE"] {
                add(Via::Mtls, Some(*c), m, p, vec![], None);
            }
        }
    }
    let headed: &[(&str, (&str, &str))] = &[
        ("/matcher", ("x-team", "red")),
        ("/matcher", ("x-team", "black")),
        ("/matcher", ("x-team", "blue")),
        ("/nodefault", ("x-team", "blue")),
        ("/nodefault", ("x-team", "red")),
        ("/inv/x", ("x-inv", "yes")),
        ("/inv/x", ("x-inv", "no")),
        ("/x", ("x-allow", "1")),
    ];
    for c in ["other", "reader"] {
        for (p, h) in headed {
            add(Via::Mtls, Some(c), "POST", p, vec![*h], None);
        }
    }
    for (via, client) in [(Via::Mtls, Some("other")), (Via::Plain, None)] {
        for p in ["/", "/jwt/x", "/jwt-required/x", "/ec/x", "/nojwt/x"] {
            for (name, t) in tokens {
                add(
                    via,
                    client,
                    "POST",
                    p,
                    vec![],
                    t.clone().map(|t| (*name, t)),
                );
            }
        }
    }
    for p in paths {
        for m in ["GET", "POST"] {
            add(Via::Plain, None, m, p, vec![], None);
        }
    }
    for c in CLIENTS {
        add(Via::Tcp, Some(*c), "", "", vec![], None);
    }
    for p in ["/", "/public/a", "/open"] {
        add(Via::PlainToMtls, None, "GET", p, vec![], None);
    }
    add(Via::Mtls, Some("admin"), "GET", "/custom", vec![], None);
    add(Via::Plain, None, "POST", "/custom/x", vec![], None);
    out
}

struct Clients {
    configs: BTreeMap<&'static str, Arc<rustls::ClientConfig>>,
}

impl Clients {
    fn new(ca: &pki::Ca, dir: &Path) -> Clients {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca.pem.as_bytes()).unwrap())
            .unwrap();
        let mut configs = BTreeMap::new();
        for (i, c) in CLIENTS.iter().enumerate() {
            let leaf = ca.leaf(
                &client_id(c),
                &[],
                0x3000 + i as u64,
                (2026, 1, 1),
                (2036, 1, 1),
            );
            write(&dir.join(format!("certs/client-{c}.pem")), &leaf.pem);
            let chain = vec![CertificateDer::from_pem_slice(leaf.pem.as_bytes()).unwrap()];
            let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap();
            let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_client_auth_cert(chain, key)
            .unwrap();
            configs.insert(*c, Arc::new(cfg));
        }
        Clients { configs }
    }

    /// Sends `bytes` (over TLS with the client's certificate, or plaintext) and reads to the end.
    fn send(&self, port: u16, client: Option<&str>, bytes: &[u8]) -> (Vec<u8>, u16) {
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let local = tcp.local_addr().unwrap().port();
        let out = match client {
            None => {
                let mut tcp = tcp;
                let _ = tcp.write_all(bytes);
                read_response(&mut tcp)
            }
            Some(c) => {
                let conn = rustls::ClientConnection::new(
                    self.configs[c].clone(),
                    ServerName::try_from("localhost").unwrap(),
                )
                .unwrap();
                let mut s = rustls::StreamOwned::new(conn, tcp);
                let _ = s.write_all(bytes);
                let _ = s.flush();
                read_response(&mut s)
            }
        };
        (out, local)
    }
}

/// One HTTP response (headers and a Content-Length body), or what came before the connection
/// closed. It stops there rather than wait out Envoy's delayed close.
fn read_response(r: &mut dyn Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if out.len() >= end + 4 + len {
                return out;
            }
        }
        // A reset, or rustls's close without close_notify, ends it too: keep what came.
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn http_bytes(c: &Case) -> Vec<u8> {
    let mut req = format!(
        "{} {} HTTP/1.1\r\nhost: test\r\nx-case: {}\r\n",
        c.method, c.path, c.id
    );
    for (k, v) in &c.headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some((_, t)) = &c.token {
        req.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    req.push_str("content-length: 0\r\nconnection: close\r\n\r\n");
    req.into_bytes()
}

fn status_of(response: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(response);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Lines of an access log once `want` of them are there (Envoy flushes every 50 ms).
fn read_log(path: &Path, want: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines: Vec<String> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        if lines.len() >= want || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn request_of(c: &Case, p: &Ports) -> Request {
    let mut headers: Vec<(String, String)> = c.headers.clone();
    headers.push(("x-case".into(), c.id.to_string()));
    if let Some((_, t)) = &c.token {
        headers.push(("authorization".into(), format!("Bearer {t}")));
    }
    Request {
        port: match c.via {
            Via::Mtls | Via::PlainToMtls => p.mtls.into(),
            Via::Plain => p.plain.into(),
            Via::Tcp => p.tcp.into(),
        },
        client: Some(c.client.map_or(envinspect::authz::Client::Plaintext, |k| {
            envinspect::authz::Client::Certificate(client_id(k).parse().unwrap())
        })),
        tcp: c.via == Via::Tcp,
        method: Some(c.method.to_string()).filter(|m| !m.is_empty()),
        path: Some(c.path.clone()).filter(|p| !p.is_empty()),
        host: Some("test".into()),
        headers,
        source_ip: Some("127.0.0.1".parse().unwrap()),
        ..Default::default()
    }
}

/// The decision and policy Envoy's answer stands for.
fn envoy_decision(via: Via, o: &Observed) -> (Decision, Option<String>) {
    let policy = o
        .details
        .as_deref()
        .and_then(|d| d.strip_prefix("rbac_access_denied_matched_policy["))
        .and_then(|d| d.strip_suffix(']'))
        .map(String::from);
    match (via, o.status, &policy) {
        (Via::PlainToMtls, None, _) => (Decision::Rejected, None),
        (Via::Tcp, None, Some(p)) => (Decision::Deny, Some(p.clone())),
        (Via::Tcp, None, None) => (Decision::Allow, None),
        (_, Some(200), _) => (Decision::Allow, None),
        (_, Some(403), Some(p)) => (Decision::Deny, Some(p.clone())),
        (_, Some(403), None) => (Decision::Deny, None),
        (_, Some(401), _) => (Decision::Unauthenticated, None),
        _ => (Decision::Unknown, None),
    }
}

#[test]
fn envinspect_decides_as_envoy_does() {
    let dir = Envoy::dir("authz");
    let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
    write(&dir.join("certs/ca.pem"), &ca.pem);
    let server = ca.leaf(
        &spiffe("default", "server"),
        &["localhost"],
        0x2001,
        (2026, 1, 1),
        (2036, 1, 1),
    );
    write(&dir.join("certs/server.pem"), &server.pem);
    write(&dir.join("certs/server.key"), &server.key_pem);
    let ports = Ports {
        mtls: free_port(),
        plain: free_port(),
        tcp: free_port(),
        dead: free_port(),
    };
    let signer = Signer::load();
    let boot = config::bootstrap(
        &dir.display().to_string(),
        &ports,
        &signer.rsa_jwk(),
        &signer.ec_jwk(),
    );
    write(
        &dir.join("bootstrap.yaml"),
        &serde_json::to_string_pretty(&boot).unwrap(),
    );
    let clients = Clients::new(&ca, &dir);
    let envoy = Envoy::launch(dir.clone(), ca);

    // What envinspect reads: the proxy's own /config_dump.
    let dump = envoy.dump(Endpoint::ConfigDump);
    let dump_path = dir.join("config_dump.json");
    std::fs::write(&dump_path, &dump).unwrap();
    // How fixtures/envoy-1.40-authz/ was captured (see its README).
    if let Some(save) = std::env::var_os("ENVINSPECT_SAVE_AUTHZ_CAPTURE") {
        std::fs::write(Path::new(&save).join("config_dump.raw.json"), &dump).unwrap();
        std::fs::write(
            Path::new(&save).join("capture.env"),
            format!(
                "DIR={}\nMTLS={}\nPLAIN={}\nTCP={}\nDEAD={}\n",
                dir.display(),
                ports.mtls,
                ports.plain,
                ports.tcp,
                ports.dead
            ),
        )
        .unwrap();
    }
    let (report, opts) = report_140(&dump_path);
    let now = opts.now;

    let all = cases(&tokens(&signer));
    let mut statuses = BTreeMap::new();
    let mut tcp_ports = BTreeMap::new();
    for c in &all {
        match c.via {
            Via::Mtls => {
                let (resp, _) = clients.send(ports.mtls, c.client, &http_bytes(c));
                statuses.insert(c.id, status_of(&resp));
            }
            Via::Plain => {
                let (resp, _) = clients.send(ports.plain, None, &http_bytes(c));
                statuses.insert(c.id, status_of(&resp));
            }
            Via::PlainToMtls => {
                let (resp, _) = clients.send(ports.mtls, None, &http_bytes(c));
                statuses.insert(c.id, status_of(&resp));
            }
            Via::Tcp => {
                let (_, local) = clients.send(ports.tcp, c.client, b"hello\n");
                tcp_ports.insert(local, c.id);
                statuses.insert(c.id, None);
            }
        }
    }
    let http_sent = all
        .iter()
        .filter(|c| matches!(c.via, Via::Mtls | Via::Plain))
        .count();
    let mut details: BTreeMap<usize, Option<String>> = BTreeMap::new();
    for line in read_log(&dir.join("http.log"), http_sent) {
        let mut parts = line.splitn(3, ' ');
        let (id, _code, d) = (parts.next(), parts.next(), parts.next());
        if let Some(id) = id.and_then(|i| i.parse().ok()) {
            details.insert(id, d.filter(|d| *d != "-").map(String::from));
        }
    }
    for line in read_log(&dir.join("tcp.log"), tcp_ports.len()) {
        let (port, d) = line.split_once(' ').unwrap_or((&line, "-"));
        if let Some(id) = port.parse().ok().and_then(|p: u16| tcp_ports.get(&p)) {
            details.insert(*id, Some(d.to_string()).filter(|d| d != "-"));
        }
    }

    let mut disagreements = Vec::new();
    let mut unknowns = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &all {
        let observed = Observed {
            status: statuses[&c.id],
            details: details.get(&c.id).cloned().flatten(),
        };
        let e: Evaluation = evaluate(&report, &request_of(c, &ports), now);
        if e.decision == Decision::Unknown {
            unknowns.push((c.clone(), observed, e.reason.clone()));
            continue;
        }
        let (decision, policy) = envoy_decision(c.via, &observed);
        *counts.entry(format!("{decision}")).or_default() += 1;
        let ours = Observed {
            status: e.response.status,
            details: e.response.details.clone(),
        };
        if e.decision != decision || e.policy != policy || ours != observed {
            disagreements.push(format!(
                "case {} {:?} {:?} {} {} {:?} token {:?}: Envoy {observed:?} ({decision}, {policy:?}), envinspect {ours:?} ({}, {:?})\n  steps: {:?}",
                c.id, c.via, c.client, c.method, c.path, c.headers, c.token.as_ref().map(|t| t.0), e.decision, e.policy,
                e.steps.iter().map(|s| format!("{} {} {}: {}", s.layer, s.name, s.outcome, s.detail)).collect::<Vec<_>>()
            ));
        }
    }
    let compared = all.len() - unknowns.len();
    let stats = admin_get(&envoy.admin, "/stats?filter=rbac");
    eprintln!("authz differential: {} requests, {compared} compared, by Envoy's decision {counts:?}, {} unknown to envinspect", all.len(), unknowns.len());
    assert!(all.len() >= 300, "{} requests", all.len());
    assert!(
        disagreements.is_empty(),
        "{} of {compared} requests: envinspect disagrees with Envoy:\n{}\n--- stats:\n{stats}\n--- envoy.log tail:\n{}",
        disagreements.len(),
        disagreements.join("\n"),
        envoy.log().lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
    // Only the CUSTOM requests are envinspect's "cannot tell": their answer is the ext_authz
    // server's (unreachable here, so Envoy refused them).
    assert_eq!(unknowns.len(), 2, "{unknowns:?}");
    for (c, o, reason) in &unknowns {
        assert!(c.path.starts_with("/custom"), "{c:?}");
        assert!(
            matches!(
                reason,
                Some(Reason::CannotTell(CannotTell::ExternalServer { .. }))
            ),
            "{reason:?}"
        );
        assert_eq!(o.status, Some(403), "{c:?} {o:?}");
    }
    // Every kind of answer was exercised.
    for d in ["allow", "deny", "unauthenticated", "rejected"] {
        assert!(
            counts.get(d).copied().unwrap_or(0) > 0,
            "no {d} case: {counts:?}"
        );
    }

    // The command line gives the same answer, end to end (JSON contract).
    let dump_arg = dump_path.display().to_string();
    let mtls = ports.mtls.to_string();
    let banned = client_id("banned");
    let run = envinspect(&[
        "authz",
        &dump_arg,
        "--port",
        &mtls,
        "--principal",
        &banned,
        "--source-ip",
        "127.0.0.1",
        "--host",
        "test",
        "--now",
        NOW_140,
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["policy"], "ns[default]-policy[deny-banned]-rule[0]");
    assert_eq!(
        v["response"]["details"],
        "rbac_access_denied_matched_policy[ns[default]-policy[deny-banned]-rule[0]]"
    );
    let admin = client_id("admin");
    let run = envinspect(&[
        "authz",
        &dump_arg,
        "--port",
        &mtls,
        "--principal",
        &admin,
        "--path",
        "/admin/x",
        "--host",
        "test",
        "--now",
        NOW_140,
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}
