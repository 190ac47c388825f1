//! A live admin API that misbehaves, through the real binary: a local server answers each
//! request wrongly in one way (stalls mid-body, closes mid-body, lies about its length, 500s,
//! 404s on `/certs` only, redirects in a loop, sends a megabyte of headers, a gzip bomb, or text
//! with status 200). Each case is one line on stderr, exit 2, nothing on stdout, within the
//! timeout given, and `fetch --save` writes nothing when any document is missing.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::{envinspect, Run};

/// What the server does with a request for `path`.
type Answer = fn(path: &str) -> Vec<u8>;

/// Serves every connection with `answer` (then `hold` before closing) until the test ends.
fn serve(answer: Answer, hold: Duration) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    return;
                }
                let mut h = String::new();
                while r.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                let mut s = s;
                let _ = s.write_all(&answer(&path));
                let _ = s.flush();
                std::thread::sleep(hold);
            });
        }
    });
    addr
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn assert_one_line(run: &Run, case: &str, contains: &str) {
    assert_eq!(run.code, 2, "{case}: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{case}: {}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{case}: {}", run.stderr);
    assert!(
        run.stderr.starts_with("envinspect: error: http://"),
        "{case}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(contains),
        "{case}: {} lacks {contains}",
        run.stderr
    );
}

/// Two gigabytes of zeros, gzipped (about 2 MB): twice what one document may be, were it decoded.
fn gzip_bomb() -> Vec<u8> {
    use std::sync::OnceLock;
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..2048 {
            gz.write_all(&zeros).unwrap();
        }
        gz.finish().unwrap()
    })
    .clone()
}

#[test]
fn a_misbehaving_admin_is_one_line_exit_2_within_the_timeout() {
    let cases: [(&str, Answer, Duration, &str); 8] = [
        (
            "stalls mid-body",
            |_| b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"configs\": [".to_vec(),
            Duration::from_secs(30),
            "timed out after",
        ),
        (
            "closes mid-body",
            |_| b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"configs\": [".to_vec(),
            Duration::ZERO,
            "the connection broke after",
        ),
        (
            "a Content-Length longer than the body",
            |_| b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{}".to_vec(),
            Duration::ZERO,
            "the connection broke after",
        ),
        (
            "500",
            |_| response("500 Internal Server Error", "", b"boom"),
            Duration::ZERO,
            "HTTP 500",
        ),
        (
            "a redirect loop",
            |p| response("302 Found", &format!("Location: {p}\r\n"), b""),
            Duration::ZERO,
            "redirect",
        ),
        (
            "a megabyte of headers",
            |_| {
                let big = format!("X-Big: {}\r\n", "a".repeat(1 << 20));
                response("200 OK", &big, b"{}")
            },
            Duration::ZERO,
            "message head is too large",
        ),
        (
            // The client asks for no encoding and decodes none: the bomb never expands.
            "a gzip bomb",
            |_| {
                let headers = "Content-Type: application/json\r\nContent-Encoding: gzip\r\n";
                response("200 OK", headers, &gzip_bomb())
            },
            Duration::ZERO,
            "expected JSON",
        ),
        (
            "text with status 200",
            |_| response("200 OK", "Content-Type: text/plain\r\n", b"not json at all"),
            Duration::ZERO,
            "expected JSON, got text",
        ),
    ];
    // Made before the clock starts: compressing 2 GB takes seconds.
    gzip_bomb();
    for (case, answer, hold, contains) in cases {
        let addr = serve(answer, hold);
        let started = Instant::now();
        let run = envinspect(&[
            "--admin",
            &addr,
            "--timeout",
            "2",
            "--connect-timeout",
            "2",
            "--now",
            super::NOW_140,
        ]);
        let took = started.elapsed();
        assert_one_line(&run, case, contains);
        // Within the timeout, with room for the process and (the bomb) decompression.
        assert!(took < Duration::from_secs(15), "{case}: {took:?}");
    }
}

/// `fetch --save` of an admin that 404s on `/certs` only: exit 2, and nothing written.
#[test]
fn fetch_writes_nothing_when_one_document_is_missing() {
    let dump = std::fs::read(super::fixture("envoy-1.40/config_dump_include_eds.json")).unwrap();
    static DUMP: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    DUMP.set(dump).unwrap();
    let addr = serve(
        |p| {
            if p.starts_with("/certs") {
                response("404 Not Found", "", b"no such endpoint")
            } else if p.starts_with("/config_dump") {
                response(
                    "200 OK",
                    "Content-Type: application/json\r\n",
                    DUMP.get().unwrap(),
                )
            } else {
                response("200 OK", "Content-Type: application/json\r\n", b"{}")
            }
        },
        Duration::ZERO,
    );
    let out = super::bundle::dir("fetch-404").join("capture");
    let run = envinspect(&["fetch", &addr, "--save", &out.display().to_string()]);
    assert_one_line(&run, "404 on /certs", "HTTP 404");
    assert!(run.stderr.contains("/certs"), "{}", run.stderr);
    assert!(!out.exists(), "fetch wrote a partial capture");
}
