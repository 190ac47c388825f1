//! `bundle` on support bundles built here from the Envoy 1.40 capture with rcgen certificates:
//! a deliberate root mismatch and SAN mismatch give exactly those fleet findings; the same bundle
//! as a directory and as a streamed `.tar.gz` gives the same answer; hostile entries are refused
//! one by one while the rest is analysed.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::pki::{self, Ca};
use super::rules::{active_secret, b64, load, section};
use super::{envinspect, fixture, root, NOW_140};

const ENVOY140: &str = "envoy-1.40/config_dump_include_eds.json";
const ZTUNNEL: &str = "istio/istioctl/pkg/writer/ztunnel/configdump/testdata/dump.json";

/// The 1.40 capture as the proxy of workload `app` (Istio node cluster `app.default`), presenting
/// `sa` with a certificate from `ca`, trusting `ca`.
pub(super) fn proxy(app: &str, sa: &str, ca: &Ca, serial: u64) -> Value {
    proxy_in("cluster.local", app, sa, ca, serial)
}

fn proxy_in(td: &str, app: &str, sa: &str, ca: &Ca, serial: u64) -> Value {
    let mut d = load(ENVOY140);
    d["configs"][0]["bootstrap"]["node"]["cluster"] = json!(format!("{app}.default"));
    let leaf = ca.leaf(
        &format!("spiffe://{td}/ns/default/sa/{sa}"),
        &[],
        serial,
        (2026, 11, 1),
        (2027, 11, 1),
    );
    let chain = json!({"inline_bytes": b64(&leaf.pem)});
    for name in ["default", "server_cert"] {
        active_secret(&mut d, name)["secret"]["tls_certificate"]["certificate_chain"] =
            chain.clone();
    }
    active_secret(&mut d, "ROOTCA")["secret"]["validation_context"]["trusted_ca"] =
        json!({"inline_bytes": b64(&ca.pem)});
    let _ = section(&mut d, "SecretsConfigDump");
    d
}

/// `(path in the bundle, content)` of a bug-report with three proxies and a ztunnel.
pub(super) fn bug_report() -> Vec<(String, Vec<u8>)> {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let other = pki::ca((2026, 1, 1), (2036, 1, 1));
    let p = |ns_pod: &str, file: &str| format!("bug-report/proxies/{ns_pod}/{file}");
    vec![
        (
            p("default/client-1", "config_dump?include_eds"),
            proxy("client", "client", &mesh, 1).to_string().into_bytes(),
        ),
        // foo presents the right identity, from a root nobody else trusts.
        (
            p("default/foo-1", "config_dump?include_eds"),
            proxy("foo", "foo", &other, 2).to_string().into_bytes(),
        ),
        // bar presents sa/baz where clients accept only sa/bar.
        (
            p("default/bar-1", "config_dump?include_eds"),
            proxy("bar", "baz", &mesh, 3).to_string().into_bytes(),
        ),
        (p("default/bar-1", "clusters"), b"text, ignored".to_vec()),
        (
            p("istio-system/ztunnel-x", "config_dump"),
            std::fs::read(root().join(fixture(ZTUNNEL))).unwrap(),
        ),
        (
            "bug-report/istio/istio-system/istiod-1/debug/syncz".into(),
            // An istiod no proxy of this bundle is connected to.
            b"[]".to_vec(),
        ),
    ]
}

/// The sample bug-report as a `.tar.gz`, for other tests.
pub fn sample_tgz(name: &str) -> PathBuf {
    PathBuf::from(tar_gz(
        &dir(name).join("bug-report.tar.gz"),
        &bug_report(),
        |_| {},
    ))
}

pub(super) fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bundle-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub(super) fn write_tree(at: &Path, files: &[(String, Vec<u8>)]) {
    for (p, bytes) in files {
        let path = at.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

pub(super) fn tar_gz(
    at: &Path,
    files: &[(String, Vec<u8>)],
    extra: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<std::fs::File>>),
) -> String {
    let f = std::fs::File::create(at).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    for (p, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, p, bytes.as_slice()).unwrap();
    }
    extra(&mut b);
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
    at.display().to_string()
}

pub(super) fn fleet(run: &super::Run) -> (Value, BTreeSet<(String, String)>) {
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    let set = pairs(&doc["findings"], "rule", "subject")
        .into_iter()
        .collect();
    (doc, set)
}

/// `bundle -o json` on `files` written as a tree: the document and its fleet findings.
pub(super) fn tree_fleet(
    name: &str,
    files: &[(String, Vec<u8>)],
) -> (Value, BTreeSet<(String, String)>) {
    let d = dir(name);
    write_tree(&d, files);
    let at = d.display().to_string();
    fleet(&envinspect(&[
        "bundle", &at, "--now", NOW_140, "-o", "json",
    ]))
}

/// `(a, b)` string fields of each object of a JSON list.
pub(super) fn pairs(list: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    let field = |o: &Value, k: &str| o[k].as_str().unwrap_or_default().to_string();
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| (field(o, a), field(o, b)))
        .collect()
}

#[test]
fn root_and_san_mismatch_are_exactly_the_fleet_findings() {
    let files = bug_report();
    let d = dir("tree");
    write_tree(&d, &files);
    let tree = envinspect(&[
        "bundle",
        &d.display().to_string(),
        "--now",
        NOW_140,
        "-o",
        "json",
        "--jobs",
        "2",
    ]);
    assert_eq!(tree.code, 1, "{}", tree.stderr);
    let (doc, found) = fleet(&tree);
    let want: BTreeSet<(String, String)> = [
        // istioctl's ztunnel dump has its own root, and waypoints whose pods are not here.
        ("ambient-root-mismatch", "istio-system/ztunnel-x"),
        (
            "waypoint-absent",
            "istio-system/ztunnel-x waypoint bookinfo/bookinfo-productpage-istio-waypoint",
        ),
        (
            "waypoint-absent",
            "istio-system/ztunnel-x waypoint bookinfo/namespace-istio-waypoint",
        ),
        ("root-mismatch", "default/client-1 → default/foo-1"),
        ("root-mismatch", "default/bar-1 → default/foo-1"),
        ("root-mismatch", "default/foo-1 → default/bar-1"),
        ("san-unsatisfiable", "default/client-1 → default/bar-1"),
        ("san-unsatisfiable", "default/foo-1 → default/bar-1"),
        (
            "san-identity-absent",
            "default/client-1 cluster outbound|80||bar.default.svc.cluster.local",
        ),
        (
            "san-identity-absent",
            "default/foo-1 cluster outbound|80||bar.default.svc.cluster.local",
        ),
        (
            "san-identity-absent",
            "default/bar-1 cluster outbound|80||bar.default.svc.cluster.local",
        ),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(found, want);
    let rows: Vec<(&str, &str)> = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["proxy"].as_str().unwrap(), p["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("default/bar-1", "envoy"),
            ("default/client-1", "envoy"),
            ("default/foo-1", "envoy"),
            ("istio-system/ztunnel-x", "ztunnel")
        ]
    );
    assert_eq!(
        doc["proxies"][1]["identity"],
        "spiffe://cluster.local/ns/default/sa/client"
    );

    // The same bundle, streamed from a .tar.gz, with one job: the same document but the source.
    let archive = tar_gz(&dir("tgz").join("bug-report.tar.gz"), &files, |_| {});
    let tgz = envinspect(&[
        "bundle", &archive, "--now", NOW_140, "-o", "json", "--jobs", "1",
    ]);
    assert_eq!(tgz.code, 1, "{}", tgz.stderr);
    let (mut a, _) = fleet(&tgz);
    let mut b = doc.clone();
    a.as_object_mut().unwrap().remove("source");
    b.as_object_mut().unwrap().remove("source");
    assert_eq!(a, b);

    let args = ["bundle", "<dir>", "--now", NOW_140];
    let table = envinspect(&["bundle", &d.display().to_string(), "--now", NOW_140]);
    let text = table
        .transcript(&args)
        .replace(&d.display().to_string(), "<dir>");
    // rcgen makes fresh keys each run: root fingerprints differ, everything else is fixed.
    let mut settings = super::settings();
    settings.add_filter(r"\b[0-9a-f]{12}\b", "<root fp>");
    settings.bind(|| insta::assert_snapshot!("bundle__fleet__table", text));
}

#[test]
fn hostile_entries_are_refused_and_the_rest_is_analysed() {
    let mut files = bug_report();
    files.truncate(1);
    let bomb = vec![0u8; 64 << 20];
    let archive = tar_gz(&dir("hostile").join("evil.tar.gz"), &files, |b| {
        let entry = |b: &mut tar::Builder<_>,
                     name: &str,
                     kind: tar::EntryType,
                     data: &[u8],
                     link: Option<&str>| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Raw names: the builder refuses `..` and absolute paths itself.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            h.set_cksum();
            b.append(&h, data).unwrap();
        };
        entry(
            b,
            "proxies/default/evil-1/../../../../etc/config_dump",
            tar::EntryType::Regular,
            b"{}",
            None,
        );
        entry(
            b,
            "/proxies/default/abs-1/config_dump",
            tar::EntryType::Regular,
            b"{}",
            None,
        );
        entry(
            b,
            "proxies/default/link-1/config_dump",
            tar::EntryType::Symlink,
            b"",
            Some("/etc/passwd"),
        );
        entry(
            b,
            "proxies/default/hard-1/config_dump",
            tar::EntryType::Link,
            b"",
            Some("proxies/default/client-1/config_dump?include_eds"),
        );
        entry(
            b,
            "proxies/default/dev-1/config_dump",
            tar::EntryType::Char,
            b"",
            None,
        );
        entry(
            b,
            "proxies/default/big-1/config_dump",
            tar::EntryType::Regular,
            &bomb,
            None,
        );
    });
    let run = envinspect(&[
        "bundle",
        &archive,
        "--now",
        NOW_140,
        "-o",
        "json",
        "--max-file-bytes",
        &(32u64 << 20).to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let refused = pairs(&doc["refused"], "path", "reason");
    let reasons: BTreeSet<&str> = refused
        .iter()
        .map(|(_, r)| r.split(':').next().unwrap())
        .collect();
    assert_eq!(refused.len(), 6, "{refused:?}");
    for want in [
        "path contains `..`",
        "absolute path",
        "a symbolic link",
        "a hard link",
        "not a regular file (device, fifo…)",
    ] {
        assert!(reasons.contains(want), "{want} not among {reasons:?}");
    }
    assert!(
        refused
            .iter()
            .any(|(_, r)| r.contains("over the 33554432-byte limit per file")),
        "{refused:?}"
    );
    // The good proxy was analysed.
    assert_eq!(doc["proxies"][0]["proxy"], "default/client-1");
    assert_eq!(doc["proxies"][0]["kind"], "envoy");

    // A gzip bomb beyond the total limit stops the archive, says where, keeps what was read.
    let run = envinspect(&[
        "bundle",
        &archive,
        "--now",
        NOW_140,
        "-o",
        "json",
        "--max-total-bytes",
        &(16u64 << 20).to_string(),
    ]);
    assert_eq!(run.code, 2);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        doc["refused"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"].as_str().unwrap().contains("decompressed bytes")),
        "{}",
        doc["refused"]
    );
    assert_eq!(doc["proxies"][0]["proxy"], "default/client-1");
}

/// The fleet rules the first bundle must not trigger, each on a bundle that does.
#[test]
fn other_fleet_rules_fire_where_they_should() {
    let rules = |d: &Path, extra: &[&str]| -> BTreeSet<String> {
        let mut args = vec![
            "bundle".to_string(),
            d.display().to_string(),
            "-o".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = envinspect(&args);
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        fleet(&run).1.into_iter().map(|(r, _)| r).collect()
    };
    // Certificates within --expiry-warning: none at 24h, all three leaves at 400 days.
    let d = dir("expiring");
    write_tree(&d, &bug_report()[..3]);
    assert!(!rules(&d, &["--now", NOW_140]).contains("fleet-cert-expiring"));
    assert!(
        rules(&d, &["--now", NOW_140, "--expiry-warning", "400d"]).contains("fleet-cert-expiring")
    );
    // A second trust domain.
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let d = dir("domains");
    let p = |n: &str| format!("proxies/default/{n}/config_dump?include_eds");
    write_tree(
        &d,
        &[
            (p("a-1"), proxy("a", "a", &mesh, 1).to_string().into_bytes()),
            (
                p("b-1"),
                proxy_in("east.local", "b", "b", &mesh, 2)
                    .to_string()
                    .into_bytes(),
            ),
        ],
    );
    assert!(rules(&d, &["--now", NOW_140]).contains("multiple-trust-domains"));
    // Istio 1.4's productpage accepts only mTLS on 9080; a 1.3 client whose cluster to it lost
    // its TLS sends plaintext. With the TLS kept, no finding.
    let server = std::fs::read(root().join(fixture(
        "istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json",
    )))
    .unwrap();
    let client_path = "istio/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json";
    let mut client = load(client_path);
    let d = dir("strict-ok");
    write_tree(
        &d,
        &[
            (p("server-1"), server.clone()),
            (p("client-1"), client.to_string().into_bytes()),
        ],
    );
    assert!(!rules(&d, &["--now", super::NOW]).contains("plaintext-to-strict"));
    for c in section(&mut client, "ClustersConfigDump")["dynamic_active_clusters"]
        .as_array_mut()
        .unwrap()
    {
        if c["cluster"]["name"] == "outbound|9080||productpage.default.svc.cluster.local" {
            c["cluster"].as_object_mut().unwrap().remove("tls_context");
        }
    }
    let d = dir("strict");
    write_tree(
        &d,
        &[
            (p("server-1"), server.clone()),
            (p("client-1"), client.to_string().into_bytes()),
        ],
    );
    assert!(rules(&d, &["--now", super::NOW]).contains("plaintext-to-strict"));
    // The server pod excludes 9080 from redirection: the plaintext reaches the application,
    // past the sidecar's STRICT chain; mTLS would reach it too, which it does not expect.
    let mut excluding: Value = serde_json::from_slice(&server).unwrap();
    excluding["configs"][0]["bootstrap"]["node"]["metadata"]["ANNOTATIONS"]
        ["traffic.sidecar.istio.io/excludeInboundPorts"] = json!("9080");
    let excluding = excluding.to_string().into_bytes();
    let d = dir("strict-excluded");
    write_tree(
        &d,
        &[
            (p("server-1"), excluding.clone()),
            (p("client-1"), client.to_string().into_bytes()),
        ],
    );
    let found = rules(&d, &["--now", super::NOW]);
    assert!(!found.contains("plaintext-to-strict"), "{found:?}");
    let d = dir("mtls-excluded");
    write_tree(
        &d,
        &[
            (p("server-1"), excluding),
            (
                p("client-1"),
                std::fs::read(root().join(fixture(client_path))).unwrap(),
            ),
        ],
    );
    let found = rules(&d, &["--now", super::NOW]);
    assert!(found.contains("mtls-to-uncaptured-port"), "{found:?}");
}

/// A `.json.gz` dump inside a `.tar.gz` reads as it does in a directory (it was "invalid JSON").
#[test]
fn gzipped_dumps_inside_an_archive_read() {
    let gz = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let files: Vec<(String, Vec<u8>)> = bug_report()
        .into_iter()
        .filter(|(p, _)| p.contains("config_dump") && !p.contains("ztunnel"))
        .map(|(p, b)| {
            // A plain NS/POD/config_dump.json.gz tree, as people archive what they collected.
            let p = p
                .trim_start_matches("bug-report/proxies/")
                .replace("config_dump?include_eds", "config_dump");
            (format!("{p}.json.gz"), gz(&b))
        })
        .collect();
    let at = dir("gz-in-tar");
    let archive = tar_gz(&at.join("b.tar.gz"), &files, |_| {});
    write_tree(&at.join("tree"), &files);
    let json = |path: &str| {
        let run = envinspect(&["bundle", path, "--now", NOW_140, "-o", "json"]);
        assert_ne!(run.code, 2, "{}{}", run.stdout, run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let rows: Vec<(String, String)> = doc["proxies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["proxy"].to_string(), p["kind"].to_string()))
            .collect();
        rows
    };
    let from_tar = json(&archive);
    assert_eq!(from_tar.len(), files.len(), "{from_tar:?}");
    assert!(
        from_tar.iter().all(|(_, k)| !k.contains("unreadable")),
        "{from_tar:?}"
    );
    assert_eq!(from_tar, json(&at.join("tree").display().to_string()));
}

/// A `.tar.gz` cut short (a corrupt gzip trailer, a download stopped early): what was read is
/// analysed, and the cut is reported.
#[test]
fn a_truncated_archive_keeps_what_was_read() {
    let files = bug_report();
    let path = dir("cut").join("cut.tar.gz");
    let archive = tar_gz(&path, &files, |_| {});
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
    let run = envinspect(&["bundle", &archive, "--now", NOW_140, "-o", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        doc["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("archive unreadable from here"),
        "{}",
        doc["refused"]
    );
    assert!(!doc["proxies"].as_array().unwrap().is_empty());
}
