//! Live admin API against a real Envoy 1.40 (see `envoy.rs`): the live answer equals the answer
//! for what `fetch --save` wrote, rotation shows up, and a stopped Envoy is a clear exit 2.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::envoy::{Envoy, FOO_SERIAL, SERVER_SERIAL};
use super::{envinspect, envinspect_with, Run, NOW_140};

fn json(run: &Run, what: &str) -> Value {
    run.assert_ok(what);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{what}: {e}\n{}", run.stdout))
}

/// Drops what names where the document came from: the source (and JSON Pointers, which differ
/// between `/clusters` and a config dump).
fn without_provenance(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("source");
                m.remove("pointer");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

fn secret<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no secret {name} in {doc}"))
}

/// `(serial, not_after)` of a secret's first certificate.
fn leaf(doc: &Value, name: &str) -> (String, String) {
    let c = &secret(doc, name)["certificates"][0];
    (
        c["serial"].as_str().unwrap().to_string(),
        c["not_after"].as_str().unwrap().to_string(),
    )
}

/// As istioctl prints serials: hex, zero-padded to 32 digits.
fn serial(n: u64) -> String {
    format!("{n:x}")
}

#[test]
fn live_answers_equal_the_answers_for_the_saved_capture() {
    let envoy = Envoy::start("equal");
    let out = envoy.dir.join("capture");
    let out_s = out.display().to_string();
    let fetch = envinspect(&["fetch", &envoy.admin, "--save", &out_s]);
    fetch.assert_ok("fetch");
    let written: Vec<&str> = fetch
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let names = [
        "config_dump?include_eds",
        "certs",
        "server_info",
        "clusters",
        "stats/prometheus",
    ];
    assert_eq!(written, names.map(|n| format!("{out_s}/{n}")));
    for n in names {
        assert!(
            out.join(n).metadata().unwrap().len() > 100,
            "{n} is too small"
        );
    }
    let dump = format!("{out_s}/config_dump?include_eds");

    // The report: same document fetched, so equal but for the source.
    let live = json(
        &envinspect(&["--admin", &envoy.admin, "--now", NOW_140, "-o", "json"]),
        "live report",
    );
    let saved = json(
        &envinspect(&[&dump, "--now", NOW_140, "-o", "json"]),
        "saved report",
    );
    assert_eq!(
        live["source"],
        format!("{}/config_dump?include_eds", envoy.admin)
    );
    assert_eq!(
        live["identity"]["spiffe_id"],
        "spiffe://cluster.local/ns/default/sa/foo"
    );
    assert_eq!(
        leaf(&live, "default"),
        (serial(FOO_SERIAL), "2027-11-01T00:00:00Z".into())
    );
    assert_eq!(
        leaf(&live, "server_cert"),
        (serial(SERVER_SERIAL), "2026-12-31T00:00:00Z".into())
    );
    assert_eq!(secret(&live, "default")["chain"]["status"], "valid");
    let no_source = |mut v: Value| {
        v.as_object_mut().unwrap().remove("source");
        v
    };
    assert_eq!(no_source(live), no_source(saved));

    // Every subcommand: `host:port` form too; endpoints come from /clusters?format=json.
    let host_port = envoy.admin.trim_start_matches("http://");
    for (cmd, file) in [
        ("clusters", dump.clone()),
        ("listeners", dump.clone()),
        ("routes", dump.clone()),
        ("secrets", dump.clone()),
        ("certs", dump.clone()),
        ("endpoints", format!("{out_s}/clusters")),
    ] {
        let live = envinspect(&[cmd, "--admin", host_port, "--now", NOW_140, "-o", "json"]);
        let saved = envinspect(&[cmd, &file, "--now", NOW_140, "-o", "json"]);
        assert_eq!(
            without_provenance(json(&live, cmd)),
            without_provenance(json(&saved, cmd)),
            "{cmd}"
        );
    }
    // Proxy variables are not honoured (they would send loopback traffic to a dead proxy).
    let dead = "http://127.0.0.1:9";
    let proxied = envinspect_with(
        &["secrets", "--admin", &envoy.admin, "--now", NOW_140],
        None,
        &[
            ("http_proxy", dead),
            ("HTTP_PROXY", dead),
            ("ALL_PROXY", dead),
            ("all_proxy", dead),
        ],
    );
    proxied.assert_ok("with proxy variables set");

    // The table names the live source.
    let table = envinspect(&["--admin", &envoy.admin, "--now", NOW_140]);
    table.assert_ok("table");
    assert!(table.stdout.starts_with(&format!(
        "Source:       {}/config_dump?include_eds (config dump)\n",
        envoy.admin
    )));
}

#[test]
fn rotated_certificates_show_up_live() {
    let envoy = Envoy::start("rotation");
    let secrets = || {
        json(
            &envinspect(&[
                "secrets",
                "--admin",
                &envoy.admin,
                "--now",
                NOW_140,
                "-o",
                "json",
            ]),
            "secrets",
        )
    };
    assert_eq!(
        leaf(&secrets(), "default"),
        (serial(FOO_SERIAL), "2027-11-01T00:00:00Z".into())
    );
    let redacted = || {
        let run = envinspect(&[
            "secrets",
            "--admin",
            &envoy.admin,
            "--now",
            NOW_140,
            "--redact",
        ]);
        run.assert_ok("secrets --redact");
        run.stdout.replace(&envoy.admin, "ADMIN")
    };
    let before = redacted();
    // Expectations written before the rotation still hold after it.
    let expect = envinspect(&["expect", "--admin", &envoy.admin, "--now", NOW_140]);
    assert_eq!(expect.code, 0, "{}", expect.stderr);
    let expectations = envoy.dir.join("expected.yaml");
    std::fs::write(&expectations, &expect.stdout).unwrap();

    envoy.rotate_default(0x2001, (2026, 11, 20), (2027, 2, 20));
    let deadline = Instant::now() + Duration::from_secs(20);
    let rotated = loop {
        let doc = secrets();
        if leaf(&doc, "default").0 != serial(FOO_SERIAL) {
            break doc;
        }
        assert!(
            Instant::now() < deadline,
            "Envoy did not reload the rotated secret:\n{}",
            envoy.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        leaf(&rotated, "default"),
        (serial(0x2001), "2027-02-20T00:00:00Z".into())
    );
    assert_eq!(secret(&rotated, "default")["chain"]["status"], "valid");
    // The other secrets did not move, and the identity follows the new certificate.
    assert_eq!(leaf(&rotated, "server_cert").0, serial(SERVER_SERIAL));
    let certs = envinspect(&[
        "certs",
        "--admin",
        &envoy.admin,
        "--secret",
        "default",
        "--now",
        NOW_140,
    ]);
    certs.assert_ok("certs");
    assert!(
        certs.stdout.contains("2027-02-20T00:00:00Z"),
        "{}",
        certs.stdout
    );
    // What a rotation changes is exactly what --redact removes.
    assert_eq!(redacted(), before);
    let check = envinspect(&[
        "check",
        "--admin",
        &envoy.admin,
        "--expect",
        &expectations.display().to_string(),
        "--now",
        NOW_140,
    ]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

fn assert_one_line_exit_2(run: &Run, starts: &str, contains: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(starts),
        "{} does not start with {starts}",
        run.stderr
    );
    assert!(
        run.stderr.contains(contains),
        "{} lacks {contains}",
        run.stderr
    );
}

#[test]
fn a_stopped_envoy_is_a_clear_error() {
    let mut envoy = Envoy::start("stopped");
    envinspect(&["--admin", &envoy.admin, "--now", NOW_140]).assert_ok("before");
    envoy.stop();
    let url = format!("{}/config_dump?include_eds", envoy.admin);
    let run = envinspect(&["--admin", &envoy.admin, "--now", NOW_140]);
    assert_one_line_exit_2(
        &run,
        &format!("envinspect: error: {url}: "),
        "cannot connect",
    );

    let out = envoy.dir.join("never");
    let run = envinspect(&["fetch", &envoy.admin, "--save", &out.display().to_string()]);
    assert_one_line_exit_2(
        &run,
        &format!("envinspect: error: {url}: "),
        "cannot connect",
    );
    assert!(!out.exists(), "fetch wrote something for a stopped Envoy");
}

/// Envoy dies while the body is on the wire: a relay passes the first bytes of the response,
/// then kills Envoy by PID and closes.
#[test]
fn envoy_dying_mid_body_is_a_clear_error() {
    let envoy = Arc::new(Mutex::new(Envoy::start("midbody")));
    let upstream = envoy
        .lock()
        .unwrap()
        .admin
        .trim_start_matches("http://")
        .to_string();
    let relay = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay_addr = relay.local_addr().unwrap().to_string();
    let killer = Arc::clone(&envoy);
    let t = std::thread::spawn(move || {
        let (mut client, _) = relay.accept().unwrap();
        let mut req = [0u8; 4096];
        let n = client.read(&mut req).unwrap();
        let mut up = TcpStream::connect(&upstream).unwrap();
        up.write_all(&req[..n]).unwrap();
        let mut sent = 0;
        let mut buf = [0u8; 4096];
        while sent < 16 * 1024 {
            let n = up.read(&mut buf).unwrap();
            assert!(n > 0, "Envoy's response ended before 16 KiB");
            client.write_all(&buf[..n]).unwrap();
            sent += n;
        }
        killer.lock().unwrap().stop();
    });
    let run = envinspect(&["--admin", &relay_addr, "--now", NOW_140]);
    t.join().unwrap();
    assert_one_line_exit_2(
        &run,
        &format!("envinspect: error: http://{relay_addr}/config_dump?include_eds: "),
        "the connection broke after",
    );
}
