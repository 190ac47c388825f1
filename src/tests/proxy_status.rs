//! `proxy-status` against istioctl's own goldens (both syncz forms, one and several istiods), on
//! a bug-report of real Envoy 1.40 captures (`fixtures/envoy-1.40-sync`), and on bad syncz; and
//! every `error_state` of every fixture dump is a finding.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::bundle::dir;
use super::sync_live::error_states;
use super::{envinspect, root, settings};

const F: &str = "fixtures/istioctl-proxy-status";

fn syncz_files(set: &str) -> Vec<String> {
    let mut out: Vec<String> = walk(&root().join(F).join(set))
        .into_iter()
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_table_is_istioctls_golden_for_every_test_input() {
    for (set, golden) in [
        ("syncstatus-multi", "multiStatusMultiPilot.txt"),
        ("syncstatus-single", "multiStatusSinglePilot.txt"),
        ("syncstatus-fallback", "singleStatusFallback.txt"),
        ("xds-multi", "multiXdsStatusMultiPilot.txt"),
        ("xds-single", "multiXdsStatusSinglePilot.txt"),
    ] {
        let files = syncz_files(set);
        let mut args = vec!["proxy-status"];
        args.extend(files.iter().map(String::as_str));
        let run = envinspect(&args);
        run.assert_ok(set);
        let want = std::fs::read_to_string(root().join(F).join("goldens").join(golden)).unwrap();
        let want = want.trim_end();
        let table: Vec<&str> = run.stdout.lines().take(want.lines().count()).collect();
        assert_eq!(table.join("\n"), want, "{set} against {golden}");
        // After the table: nothing, or the findings.
        let rest: Vec<&str> = run.stdout.lines().skip(want.lines().count()).collect();
        assert!(
            rest.is_empty() || rest[..2] == ["", "FINDINGS"],
            "{set}: {rest:?}"
        );
        // Stale proxies are findings (exit 1); an all-synced or ignored set is clean.
        let stale = want.contains("STALE") || want.contains("ERROR");
        assert_eq!(run.code, i32::from(stale), "{set}");
    }
}

/// istioctl's `PrintSingle`: the rows of one proxy, from several istiods or one.
#[test]
fn one_proxy_is_istioctls_single_golden() {
    let want = std::fs::read_to_string(root().join(F).join("goldens/singleStatus.txt")).unwrap();
    for set in ["syncstatus-multi", "syncstatus-single-2"] {
        let files = syncz_files(set);
        let mut args = vec!["proxy-status", "--proxy", "proxy2"];
        args.extend(files.iter().map(String::as_str));
        let run = envinspect(&args);
        assert_eq!(run.code, 1, "{set}: {}", run.stderr);
        let table: Vec<&str> = run.stdout.lines().take(2).collect();
        assert_eq!(table.join("\n"), want.trim_end(), "{set}");
        assert!(run.stdout.contains("proxy proxy2") && !run.stdout.contains("proxy proxy1"));
    }
}

/// istioctl's own `proxy-status -o json` output is a syncz envinspect reads.
#[test]
fn istioctls_json_output_reads_as_the_xds_form() {
    let run = envinspect(&[
        "proxy-status",
        &format!("{F}/goldens/multiXdsStatusSinglePilot.json"),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let first: Vec<&str> = run.stdout.lines().take(2).collect();
    assert_eq!(
        first,
        [
            "NAME       CLUSTER      CDS       LDS        EDS        RDS          ECDS       ISTIOD      VERSION",
            "proxy1     cluster1     STALE     SYNCED     SYNCED     NOT SENT     SYNCED     istiod1     1.20"
        ]
    );
}

#[test]
fn proxy_status_in_every_format() {
    let files = syncz_files("xds-multi");
    for format in ["table", "json", "yaml"] {
        let mut args = vec!["proxy-status", "-o", format];
        args.extend(files.iter().map(String::as_str));
        let run = envinspect(&args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        settings().bind(|| {
            insta::assert_snapshot!(format!("proxy_status__xds_{format}"), run.transcript(&args))
        });
    }
    let files = syncz_files("syncstatus-multi");
    let mut args = vec!["proxy-status", "-o", "json"];
    args.extend(files.iter().map(String::as_str));
    let run = envinspect(&args);
    settings()
        .bind(|| insta::assert_snapshot!("proxy_status__syncstatus_json", run.transcript(&args)));
}

/// The bug-report of the real captures, as a tree.
fn sync_tree(name: &str) -> PathBuf {
    let d = dir(name).join("tree");
    let read = |p: &str| std::fs::read(root().join("fixtures/envoy-1.40-sync").join(p)).unwrap();
    super::sync_live::tree(
        &d,
        &read("web-1.config_dump.json"),
        &read("api-1.config_dump.json"),
        &String::from_utf8(read("syncz.json")).unwrap(),
    );
    d
}

#[test]
fn a_bug_report_of_real_captures_in_proxy_status_and_bundle() {
    let tree = sync_tree("sync-tree");
    let t = tree.to_str().unwrap();
    let shown = "BUG-REPORT";
    for args in [
        vec!["proxy-status", t],
        vec!["bundle", t, "--now", "2026-12-08T00:00:00Z"],
    ] {
        let run = envinspect(&args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let mut named: Vec<&str> = args.clone();
        named[1] = shown;
        let out = run.transcript(&named).replace(t, shown);
        settings().bind(|| {
            insta::assert_snapshot!(format!("proxy_status__{}", args[0].replace('-', "_")), out)
        });
    }
    // The same bug-report as a .tar.gz reads the same.
    let files: Vec<(String, Vec<u8>)> = walk(&tree)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&tree).unwrap().display().to_string();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect();
    let tgz = super::bundle::tar_gz(&tree.with_extension("tar.gz"), &files, |_| {});
    let (a, b) = (
        envinspect(&["proxy-status", t, "-o", "json"]),
        envinspect(&["proxy-status", &tgz, "-o", "json"]),
    );
    assert_eq!(b.code, 1, "{}", b.stderr);
    assert_eq!(a.stdout.replace(t, "B"), b.stdout.replace(&tgz, "B"));
    // The refused update is the web-1 row's own finding too.
    let run = envinspect(&[
        "fixtures/envoy-1.40-sync/web-1.config_dump.json",
        "--now",
        "2026-12-08T00:00:00Z",
    ]);
    assert_eq!(run.code, 1);
    settings().bind(|| {
        insta::assert_snapshot!(
            "proxy_status__refused_listener_report",
            run.transcript(&[
                "fixtures/envoy-1.40-sync/web-1.config_dump.json",
                "--now",
                "2026-12-08T00:00:00Z"
            ])
        )
    });
}

#[test]
fn bad_syncz_are_one_line_errors_and_the_rest_is_still_answered() {
    let d = dir("bad-syncz");
    let good = root().join(F).join("xds-multi/istiod1.json");
    for (name, bytes, want) in [
        (
            "garbage",
            &b"gobbledygook"[..],
            "garbage:1:1: invalid JSON (expected value)",
        ),
        (
            "shape",
            &b"{\"proxies\": []}"[..],
            "shape at /: an object is not a syncz",
        ),
        ("empty", &b""[..], "empty: empty: no syncz"),
        (
            "truncated",
            &b"[{\"proxy\": \"a\", \"cluster_sent\": \"x"[..],
            "truncated:1:",
        ),
    ] {
        let path = d.join(name);
        std::fs::write(&path, bytes).unwrap();
        let p = path.display().to_string();
        let run = envinspect(&["proxy-status", good.to_str().unwrap(), &p]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{name}: {}", run.stderr);
        let line = run
            .stderr
            .trim_end()
            .replace(&format!("{}/", d.display()), "");
        assert!(
            line.starts_with(&format!("envinspect: error: {want}")),
            "{name}: {line}"
        );
        // The good istiod's proxy is still listed.
        assert!(run.stdout.contains("proxy1"), "{name}: {}", run.stdout);
        assert!(run.stdout.contains("not read: "), "{name}: {}", run.stdout);
    }
    // In a bundle: the dumps are still analysed, the syncz's failure is exit 2.
    let tree = sync_tree("bad-syncz-tree");
    std::fs::write(
        tree.join("bug-report/istio/istio-system/istiod-5d8f7-x2x9k/debug/syncz"),
        "{\"truncated\": ",
    )
    .unwrap();
    let run = envinspect(&[
        "bundle",
        tree.to_str().unwrap(),
        "-o",
        "json",
        "--now",
        "2026-12-08T00:00:00Z",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["proxies"].as_array().unwrap().len(), 2);
    let errors = doc["sync"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].as_str().unwrap().contains("debug/syncz:1:14: "),
        "{errors:?}"
    );
    // A bundle without any syncz cannot answer proxy-status.
    let plain = dir("no-syncz").join("tree");
    super::bundle::write_tree(
        &plain,
        &[(
            "bug-report/proxies/shop/api-1/config_dump?include_eds".to_string(),
            std::fs::read(root().join("fixtures/envoy-1.40-sync/api-1.config_dump.json")).unwrap(),
        )],
    );
    let run = envinspect(&["proxy-status", plain.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("holds no istiod debug/syncz"),
        "{}",
        run.stderr
    );
}

/// Every `error_state` of every fixture dump is an `update-rejected` finding's evidence.
#[test]
fn every_error_state_in_the_fixtures_is_a_finding() {
    let mut checked = 0;
    for path in walk(&root().join("fixtures")) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !text.contains("\"error_state\"") || !text.contains("configs") {
            continue;
        }
        let Ok(raw) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let states = error_states(&raw);
        let p = path.display().to_string();
        let run = envinspect(&["-o", "json", &p, "--now", "2026-12-08T00:00:00Z"]);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        let evidence: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "update-rejected")
            .flat_map(|f| f["evidence"].as_array().unwrap())
            .map(|e| e.as_str().unwrap())
            .collect();
        for s in &states {
            assert!(evidence.contains(&s.as_str()), "{p}: {s} is no finding");
        }
        checked += states.len();
    }
    assert!(checked >= 2, "no fixture has an error_state");
}
