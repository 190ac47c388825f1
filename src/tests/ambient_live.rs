//! A ztunnel's admin API, live: no ztunnel binary runs here, so a local HTTP server on a free
//! loopback port serves the real saved dump as ztunnel's admin does (`/config_dump`, the query
//! ignored; 404 for the rest), and envinspect reads it with `--admin` under the same timeouts
//! and limits as an Envoy's. What it answers must equal what it answers for the file.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::{envinspect, fixture, NOW_140};

const DUMP: &str = "istio/istioctl/pkg/writer/ztunnel/configdump/testdata/dump.json";

/// How the server answers `/config_dump`.
#[derive(Clone, Copy)]
enum Serve {
    Whole,
    /// Promises the whole length, sends half, and closes.
    CutMidBody,
}

/// Serves `body` at `/config_dump` until the test ends; returns the base URL and the paths asked.
fn ztunnel_admin(body: Vec<u8>, how: Serve) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            // Headers, to the blank line.
            let mut h = String::new();
            while r.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let target = line.split(' ').nth(1).unwrap_or("").to_string();
            seen.lock().unwrap().push(target.clone());
            let mut s = s;
            if target.split('?').next() == Some("/config_dump") {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = match how {
                    Serve::Whole => s.write_all(&body),
                    Serve::CutMidBody => s.write_all(&body[..body.len() / 2]),
                };
            } else {
                let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 10\r\nconnection: close\r\n\r\nnot found\n");
            }
        }
    });
    (url, asked)
}

fn body() -> Vec<u8> {
    std::fs::read(super::root().join(fixture(DUMP))).unwrap()
}

#[test]
fn a_live_ztunnel_answers_as_its_saved_dump() {
    let (url, asked) = ztunnel_admin(body(), Serve::Whole);
    let file = fixture(DUMP);
    let views: &[&[&str]] = &[
        &[],
        &["secrets"],
        &["workloads", "--namespace", "default"],
        &["services"],
        &["authz"],
        &[
            "authz",
            "--port",
            "9080",
            "--destination-ip",
            "10.244.2.56",
            "--principal",
            "spiffe://cluster.local/ns/default/sa/sleep",
        ],
    ];
    for view in views {
        let mut live = view.to_vec();
        live.extend(["--admin", url.as_str(), "--now", NOW_140, "-o", "json"]);
        let mut saved = view.to_vec();
        saved.extend([file.as_str(), "--now", NOW_140, "-o", "json"]);
        let (l, s) = (envinspect(&live), envinspect(&saved));
        assert_eq!(l.code, s.code, "{view:?}: {}", l.stderr);
        assert_eq!(l.stderr, "", "{view:?}");
        let source = format!("{url}/config_dump?include_eds");
        assert_eq!(l.stdout.replace(&source, &file), s.stdout, "{view:?}");
    }
    assert!(asked
        .lock()
        .unwrap()
        .iter()
        .all(|p| p == "/config_dump?include_eds"));

    // `fetch` saves the one document a ztunnel has, under the bug-report name.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ztunnel-fetch");
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_string_lossy().to_string();
    let r = envinspect(&["fetch", &url, "--save", &d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["config_dump"]);
    assert_eq!(std::fs::read(dir.join("config_dump")).unwrap(), body());
}

#[test]
fn a_live_ztunnel_under_envoys_limits() {
    // Larger than --max-bytes: refused before the body is read.
    let (url, _) = ztunnel_admin(body(), Serve::Whole);
    let r = envinspect(&["--admin", &url, "--max-bytes", "1000"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("is larger than 1000 bytes (raise --max-bytes)"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    // Cut mid-body: one line, nothing printed as if it were whole.
    let (url, _) = ztunnel_admin(body(), Serve::CutMidBody);
    let r = envinspect(&["workloads", "--admin", &url]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("config_dump?include_eds"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}
