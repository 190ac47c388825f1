//! Istio ambient's ztunnel dump: agreement with every `istioctl ztunnel-config` golden beside it
//! (deliberate differences normalised here and listed in `docs/istioctl-differences.md`), the
//! views a ztunnel dump has and refuses, and their snapshots. Its certificates: ambient_certs.rs.

use super::goldens::{agree, golden};
use super::{envinspect, fixture, NOW_140};

pub(super) const ZT: &str = "istio/istioctl/pkg/writer/ztunnel/configdump/testdata";

pub(super) fn dump() -> String {
    fixture(&format!("{ZT}/dump.json"))
}

/// The paragraph of `text` whose first line starts with `header`.
pub(super) fn section<'a>(text: &'a str, header: &str) -> &'a str {
    text.split("\n\n")
        .map(|p| p.trim_start_matches('\n'))
        .find(|p| p.starts_with(header))
        .unwrap_or_else(|| panic!("no paragraph starting with {header:?} in\n{text}"))
}

/// The table under a title line (`WORKLOADS`, `CONNECTIONS`) of the report.
fn titled<'a>(text: &'a str, title: &str) -> &'a str {
    let p = section(text, &format!("{title}\n"));
    &p[title.len() + 1..]
}

/// The table under a `------ X INFO ------` heading of `allsummary_withheaders.txt`.
pub(super) fn golden_section(heading: &str) -> String {
    let all = golden(&format!("{ZT}/allsummary_withheaders.txt"));
    let start = all.find(heading).expect(heading);
    let rest = &all[start..];
    let rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
    let end = rest.find("------").unwrap_or(rest.len());
    rest[..end].trim().to_string()
}

pub(super) fn ours(args: &[&str]) -> String {
    let mut full = args.to_vec();
    let d = dump();
    full.extend([d.as_str(), "--now", NOW_140]);
    let r = envinspect(&full);
    assert!(r.code <= 1, "{args:?}: {}", r.stderr);
    r.stdout
}

const WORKLOAD_COLS: [(&str, &str); 6] = [
    ("NAMESPACE", "NAMESPACE"),
    ("POD NAME", "POD NAME"),
    ("ADDRESS", "ADDRESS"),
    ("NODE", "NODE"),
    ("WAYPOINT", "WAYPOINT"),
    ("PROTOCOL", "PROTOCOL"),
];

#[test]
fn workloads_agree_with_istioctl_with_every_filter() {
    for (golden_file, args) in [
        ("workloadsummary.txt", vec!["workloads"]),
        (
            "workloadsummary_default.txt",
            vec!["workloads", "--namespace", "default"],
        ),
        (
            "workloadsummary_workload.txt",
            vec![
                "workloads",
                "--workload",
                "productpage-v1-675fc69cf-jscn2.bookinfo",
            ],
        ),
    ] {
        let out = ours(&args);
        agree(
            &golden(&format!("{ZT}/{golden_file}")),
            section(&out, "NAMESPACE"),
            &WORKLOAD_COLS,
            |_| {},
        );
    }
    // The same workload by address and by pod name alone.
    for w in ["10.244.2.53", "productpage-v1-675fc69cf-jscn2"] {
        let out = ours(&["workloads", "--workload", w]);
        agree(
            &golden(&format!("{ZT}/workloadsummary_workload.txt")),
            section(&out, "NAMESPACE"),
            &WORKLOAD_COLS,
            |_| {},
        );
    }
}

#[test]
fn services_policies_and_connections_agree_with_istioctl() {
    let cols = [
        ("NAMESPACE", "NAMESPACE"),
        ("SERVICE NAME", "SERVICE NAME"),
        ("SERVICE VIP", "SERVICE VIP"),
        ("WAYPOINT", "WAYPOINT"),
        ("ENDPOINTS", "ENDPOINTS"),
    ];
    let out = ours(&["services"]);
    agree(
        &golden_section("SERVICE INFO"),
        section(&out, "NAMESPACE"),
        &cols,
        |_| {},
    );

    let policy_cols = [
        ("NAMESPACE", "NAMESPACE"),
        ("POLICY NAME", "POLICY NAME"),
        ("ACTION", "ACTION"),
        ("SCOPE", "SCOPE"),
    ];
    let out = ours(&["authz"]);
    agree(
        &golden(&format!("{ZT}/policies.txt")),
        section(&out, "NAMESPACE"),
        &policy_cols,
        |_| {},
    );
    assert_eq!(
        golden_section("POLICY INFO"),
        golden(&format!("{ZT}/policies.txt")).trim()
    );

    let conn_cols = [
        ("WORKLOAD", "WORKLOAD"),
        ("DIRECTION", "DIRECTION"),
        ("LOCAL", "LOCAL"),
        ("REMOTE", "REMOTE"),
        ("REMOTE TARGET", "REMOTE TARGET"),
        ("PROTOCOL", "PROTOCOL"),
    ];
    let report = ours(&[]);
    agree(
        &golden_section("CONNECTIONS INFO"),
        titled(&report, "CONNECTIONS"),
        &conn_cols,
        |_| {},
    );
    // The report's workload table is the `workloads` view.
    agree(
        &golden(&format!("{ZT}/workloadsummary.txt")),
        titled(&report, "WORKLOADS"),
        &WORKLOAD_COLS,
        |_| {},
    );
}

/// `istioctl ztunnel-config connections` on its connections list (workload states alone), whole
/// and for one workload; the dump's own workloadState gives the same rows.
#[test]
fn connections_agree_with_istioctl() {
    let cols = [
        ("WORKLOAD", "WORKLOAD"),
        ("DIRECTION", "DIRECTION"),
        ("LOCAL", "LOCAL"),
        ("REMOTE", "REMOTE"),
        ("REMOTE TARGET", "REMOTE TARGET"),
        ("PROTOCOL", "PROTOCOL"),
    ];
    let list = fixture(&format!("{ZT}/connectionsdump.json"));
    for (golden_file, extra) in [
        ("connectionsummary.txt", vec![]),
        (
            "connectionsummary_workload.txt",
            vec!["--workload", "productpage-v1-796f87b58-97bjk.bookinfo"],
        ),
    ] {
        for source in [list.as_str(), dump().as_str()] {
            let mut args = vec!["connections", source];
            args.extend(&extra);
            let r = envinspect(&args);
            // The dump's findings (an expired certificate) are the exit code of every view.
            let findings = i32::from(source != list);
            assert_eq!(r.code, findings, "{args:?}: {}", r.stderr);
            agree(
                &golden(&format!("{ZT}/{golden_file}")),
                section(&r.stdout, "WORKLOAD"),
                &cols,
                |_| {},
            );
        }
    }
    // By pod name alone, too.
    let r = envinspect(&[
        "connections",
        &list,
        "--workload",
        "productpage-v1-796f87b58-97bjk",
    ]);
    agree(
        &golden(&format!("{ZT}/connectionsummary_workload.txt")),
        &r.stdout,
        &cols,
        |_| {},
    );
}

#[test]
fn envoy_views_are_refused_for_ztunnel_and_ztunnel_views_for_envoy() {
    for view in ["clusters", "listeners", "routes", "endpoints"] {
        let r = envinspect(&[view, &dump()]);
        assert_eq!(r.code, 2, "{view}");
        assert!(r.stdout.is_empty());
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{view} cannot be shown for a ztunnel config dump")),
            "{}",
            r.stderr
        );
    }
    let r = envinspect(&["trace", &dump(), "reviews:9080"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("trace cannot be shown for a ztunnel config dump"),
        "{}",
        r.stderr
    );
    let envoy = fixture("envoy-1.40/config_dump.json");
    for view in ["workloads", "services", "connections"] {
        let r = envinspect(&[view, &envoy]);
        assert_eq!(r.code, 2, "{view}");
        assert!(
            r.stderr.contains(&format!("{view} cannot be shown for a config dump: workloads and services are what Istio ambient's ztunnel knows")),
            "{}",
            r.stderr
        );
    }
}

/// One snapshot per command × format on the ztunnel dump, and an evaluation of each kind.
#[test]
fn every_ztunnel_view_in_every_format() {
    let d = dump();
    let mut cases: Vec<(String, Vec<&str>)> = Vec::new();
    for cmd in [
        "secrets",
        "certs",
        "workloads",
        "services",
        "connections",
        "authz",
    ] {
        for format in ["table", "json", "yaml"] {
            cases.push((
                format!("{cmd}__istio_ztunnel__{format}"),
                vec![cmd, d.as_str(), "-o", format],
            ));
        }
    }
    let request = ["--port", "9080", "--source-ip", "10.244.2.58"];
    for (name, who, dst) in [
        (
            "allow_nothing_denies",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.244.2.56",
        ),
        (
            "no_policy_allows",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.244.2.53",
        ),
        (
            "not_in_mesh",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.244.1.40",
        ),
        (
            "unknown_workload",
            "spiffe://cluster.local/ns/default/sa/sleep",
            "10.1.2.3",
        ),
    ] {
        for format in ["table", "json"] {
            let mut args = vec![
                "authz",
                d.as_str(),
                "-o",
                format,
                "--principal",
                who,
                "--destination-ip",
                dst,
            ];
            args.extend(request);
            cases.push((format!("authz__istio_ztunnel_{name}__{format}"), args));
        }
    }
    for format in ["table", "json"] {
        let args = vec![
            "authz",
            d.as_str(),
            "--workload",
            "productpage-v1-675fc69cf-kkrm2.default",
            "-o",
            format,
        ];
        cases.push((format!("authz__istio_ztunnel_workload__{format}"), args));
    }
    for (name, mut args) in cases {
        args.extend(["--now", NOW_140]);
        let run = envinspect(&args);
        run.assert_ok(&name);
        super::settings().bind(|| insta::assert_snapshot!(name, run.transcript(&args)));
    }
}

/// `authz --workload`: the policies ztunnel checks for one workload, and the same workload as an
/// evaluation's destination (what --destination-ip with its address gives).
#[test]
fn authz_for_one_workload() {
    let d = dump();
    let view = |w: &str| {
        let r = envinspect(&["authz", &d, "--workload", w, "-o", "json", "--now", NOW_140]);
        assert!(r.code <= 1, "{}", r.stderr);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    p["namespace"].as_str().unwrap(),
                    p["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    // default's namespace policy applies; the workload-selector one is named by no workload.
    let v = view("productpage-v1-675fc69cf-kkrm2.default");
    assert_eq!(v["workload"], "productpage-v1-675fc69cf-kkrm2.default");
    assert_eq!(names(&v), ["default/allow-nothing"]);
    assert!(names(&view("details-v1-698d88b-dqrbr")).is_empty());
    assert_eq!(names(&view("10.244.2.56")), ["default/allow-nothing"]);
    let table = envinspect(&[
        "authz",
        &d,
        "--workload",
        "httpbin-7447985f87-t8hv7.default",
    ]);
    assert!(
        table.stdout.contains("Not in the ambient mesh"),
        "{}",
        table.stdout
    );

    let eval = |dest: &[&str]| {
        let mut args = vec![
            "authz",
            d.as_str(),
            "-o",
            "json",
            "--plaintext",
            "--port",
            "9080",
        ];
        args.extend(dest);
        let r = envinspect(&args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        r.stdout
    };
    assert_eq!(
        eval(&["--workload", "productpage-v1-675fc69cf-kkrm2.default"]),
        eval(&["--destination-ip", "10.244.2.56"])
    );
    for (args, error) in [
        (
            vec!["authz", d.as_str(), "--workload", "nope"],
            "authz --workload nope: no workload of the ztunnel dump has that name or address",
        ),
        (
            vec![
                "authz",
                "fixtures/envoy-1.40/config_dump.json",
                "--workload",
                "x",
            ],
            "authz --workload names a ztunnel's workload",
        ),
    ] {
        let r = envinspect(&args);
        assert_eq!(r.code, 2);
        assert_eq!(r.stderr.lines().count(), 1);
        assert!(r.stderr.contains(error), "{}", r.stderr);
    }
}
