//! Agreement with the reference tools' golden outputs: for each istioctl golden table, the same
//! command here must give the same rows in the shared columns (compared as sorted sets: we sort,
//! istioctl keeps dump order). Deliberate differences are normalised below and listed in
//! `docs/istioctl-differences.md`.

use super::{envinspect, fixture, NOW};

const ISTIO: &str = "istio/istioctl/pkg/writer/envoy/configdump/testdata";

/// Splits an aligned table into rows of cells, using the header's column starts.
pub(super) fn parse_table(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().expect("a header");
    // Column starts: every word of the header, except the second word of a two-word name.
    const TWO_WORD: &[&str] = &[
        "SERVICE FQDN",
        "DESTINATION RULE",
        "VHOST NAME",
        "VIRTUAL SERVICE",
        "RESOURCE NAME",
        "VALID CERT",
        "SERIAL NUMBER",
        "NOT AFTER",
        "NOT BEFORE",
        "TRUST DOMAIN",
        "TLS MODE",
        "POD NAME",
        "SERVICE NAME",
        "SERVICE VIP",
        "POLICY NAME",
        "CERTIFICATE NAME",
        "REMOTE TARGET",
    ];
    let words: Vec<(usize, &str)> = header
        .split(' ')
        .scan(0, |pos, w| {
            let start = *pos;
            *pos += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    let mut starts = Vec::new();
    let mut k = 0;
    while k < words.len() {
        starts.push(words[k].0);
        let pair = words.get(k + 1).map(|n| format!("{} {}", words[k].1, n.1));
        k += if pair.is_some_and(|p| TWO_WORD.contains(&p.as_str()) && header.contains(&p)) {
            2
        } else {
            1
        };
    }
    let names: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            header[s..starts.get(k + 1).copied().unwrap_or(header.len())]
                .trim()
                .to_string()
        })
        .collect();
    lines
        .map(|l| {
            names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    let s = starts[k].min(l.len());
                    let e = starts.get(k + 1).copied().unwrap_or(l.len()).min(l.len());
                    let cell = l.get(s..e).unwrap_or("").trim();
                    (
                        n.clone(),
                        if cell == "-" {
                            String::new()
                        } else {
                            cell.to_string()
                        },
                    )
                })
                .collect()
        })
        .collect()
}

fn rows(text: &str, cols: &[(&str, &str)]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = parse_table(text)
        .into_iter()
        .map(|r| {
            cols.iter()
                .map(|(c, _)| {
                    r.get(*c)
                        .cloned()
                        .unwrap_or_else(|| panic!("no column {c} in\n{text}"))
                })
                .collect()
        })
        .collect();
    out.sort();
    out
}

/// Compares golden columns (left names) with ours (right names).
pub(super) fn agree(
    golden: &str,
    ours: &str,
    cols: &[(&str, &str)],
    fix: impl Fn(&mut Vec<String>),
) {
    agree_with(golden, |_| {}, ours, cols, fix)
}

/// As `agree`, with a normalisation of the golden's rows too (`proxy-config all` prefixes).
fn agree_with(
    golden: &str,
    fix_golden: impl Fn(&mut Vec<String>),
    ours: &str,
    cols: &[(&str, &str)],
    fix: impl Fn(&mut Vec<String>),
) {
    let mut g = rows(golden, cols);
    g.iter_mut().for_each(&fix_golden);
    g.sort();
    let ours_cols: Vec<(&str, &str)> = cols.iter().map(|(_, o)| (*o, *o)).collect();
    let mut o = rows(ours, &ours_cols);
    o.iter_mut().for_each(&fix);
    o.sort();
    assert_eq!(g, o, "golden:\n{golden}\nours:\n{ours}");
}

fn run(args: &[&str]) -> String {
    let r = envinspect(args);
    r.assert_ok(&args.join(" "));
    r.stdout.split("\n\n").next().unwrap().to_string()
}

pub(super) fn golden(rel: &str) -> String {
    std::fs::read_to_string(super::root().join(fixture(rel))).unwrap()
}

#[test]
fn routes_agree_with_istioctl() {
    for case in [
        "empty-gateway",
        "istio-gateway-http-route-prefix",
        "k8s-gateway-http-route-path-prefix",
    ] {
        let ours = run(&[
            "routes",
            &fixture(&format!("{ISTIO}/routes/{case}/configdump.json")),
        ]);
        let cols = [
            ("NAME", "NAME"),
            ("VHOST NAME", "VHOST NAME"),
            ("DOMAINS", "DOMAINS"),
            ("MATCH", "MATCH"),
            ("VIRTUAL SERVICE", "VIRTUAL SERVICE"),
        ];
        agree(
            &golden(&format!("{ISTIO}/routes/{case}/output.txt")),
            &ours,
            &cols,
            |_| {},
        );
    }
}

#[test]
fn endpoints_agree_with_istioctl() {
    let dump = fixture(&format!("{ISTIO}/endpoint/configdump.json"));
    let cols = [
        ("NAME", "ENDPOINT"),
        ("STATUS", "STATUS"),
        ("LOCALITY", "LOCALITY"),
        ("CLUSTER", "CLUSTER"),
    ];
    agree(
        &golden(&format!("{ISTIO}/endpoint/emptyfilter_output.txt")),
        &run(&["endpoints", &dump]),
        &cols,
        |_| {},
    );
    agree(
        &golden(&format!("{ISTIO}/endpoint/portfilter_output.txt")),
        &run(&["endpoints", &dump, "--port", "8080"]),
        &cols,
        |_| {},
    );
}

/// istioctl prints WARMING for a never-delivered secret; we say UNINITIALIZED (istio/istio#36539).
fn uninitialized_as_istioctl(row: &mut [String]) {
    for c in row.iter_mut() {
        if c == "UNINITIALIZED" {
            *c = "WARMING".into();
        }
    }
}

/// istioctl proxy-config secret pads serials to 32 hex digits (`%032x`); we print the integer
/// as Envoy's `/certs` does. Column `i` of our row, padded as istioctl pads it.
fn serial_as_istioctl(row: &mut [String], i: usize) {
    if let Some(c) = row.get_mut(i) {
        if !c.is_empty() && c.chars().all(|ch| ch.is_ascii_hexdigit()) {
            *c = format!("{c:0>32}");
        }
    }
}

#[test]
fn secrets_agree_with_istioctl() {
    let base = [
        ("RESOURCE NAME", "RESOURCE NAME"),
        ("TYPE", "TYPE"),
        ("STATUS", "STATUS"),
        ("VALID CERT", "VALID CERT"),
        ("SERIAL NUMBER", "SERIAL NUMBER"),
        ("NOT AFTER", "NOT AFTER"),
        ("NOT BEFORE", "NOT BEFORE"),
    ];
    let ours = run(&[
        "secrets",
        &fixture(&format!("{ISTIO}/secret/istio/config_dump.json")),
        "--now",
        NOW,
    ]);
    agree(
        &golden(&format!("{ISTIO}/secret/istio/output")),
        &ours,
        &base,
        |r| {
            uninitialized_as_istioctl(r);
            serial_as_istioctl(r, 4);
            // istioctl prints `false` with no certificate; so do we.
        },
    );
    let mut with_td = base.to_vec();
    with_td.push(("TRUST DOMAIN", "TRUST DOMAIN"));
    let ours = run(&[
        "secrets",
        &fixture(&format!("{ISTIO}/secret/spire/config_dump.json")),
        "--now",
        NOW,
    ]);
    agree(
        &golden(&format!("{ISTIO}/secret/spire/output")),
        &ours,
        &with_td,
        |r| serial_as_istioctl(r, 4),
    );
}

/// `istioctl proxy-config all` of the waypoint dump: every section.
#[test]
fn proxy_config_all_agrees_with_istioctl() {
    let dump = fixture("istio/istioctl/pkg/proxyconfig/testdata/config_dump.json");
    let text = golden("istio/istioctl/pkg/proxyconfig/testdata/config_dump_summary.txt");
    let sections: Vec<&str> = text.split("\n\n").collect();
    // `proxy-config all` prefixes names with their kind (`cluster/agent`), in NAME and, for
    // non-Istio clusters, in SERVICE FQDN.
    let unprefix = |prefix: &'static str| {
        move |r: &mut Vec<String>| {
            for c in r.iter_mut() {
                if let Some(rest) = c.strip_prefix(prefix) {
                    *c = rest.to_string();
                }
            }
        }
    };

    let ours = run(&["clusters", &dump]);
    let cols = [
        ("SERVICE FQDN", "SERVICE FQDN"),
        ("PORT", "PORT"),
        ("SUBSET", "SUBSET"),
        ("DIRECTION", "DIRECTION"),
        ("TYPE", "TYPE"),
        ("DESTINATION RULE", "DESTINATION RULE"),
    ];
    agree_with(sections[1], unprefix("cluster/"), &ours, &cols, |_| {});

    // Internal listeners have no IP: istioctl leaves ADDRESSES empty, we name them envoy://….
    let ours = run(&["listeners", &dump]);
    let cols = [
        ("NAME", "NAME"),
        ("ADDRESSES", "ADDRESSES"),
        ("PORT", "PORT"),
        ("MATCH", "MATCH"),
        ("DESTINATION", "DESTINATION"),
    ];
    // Under filter_chain_matcher istioctl prints ALL for every chain (it reads only
    // filter_chain_match); we print the matcher's paths to the chain (docs/istioctl-differences.md).
    assert!(
        ours.contains("Matcher: destination_ip 10.104.171.68/32, destination_port 8000"),
        "{ours}"
    );
    agree_with(sections[2], unprefix("listener/"), &ours, &cols, |r| {
        if r[1].starts_with("envoy://") {
            r[1].clear();
        }
        if r[3].starts_with("Matcher: ") {
            r[3] = "ALL".into();
        }
    });

    let cols = [
        ("NAME", "NAME"),
        ("VHOST NAME", "VHOST NAME"),
        ("DOMAINS", "DOMAINS"),
        ("MATCH", "MATCH"),
        ("VIRTUAL SERVICE", "VIRTUAL SERVICE"),
    ];
    agree_with(
        sections[3],
        unprefix("route/"),
        &run(&["routes", &dump]),
        &cols,
        |_| {},
    );

    let cols = [
        ("RESOURCE NAME", "RESOURCE NAME"),
        ("TYPE", "TYPE"),
        ("STATUS", "STATUS"),
        ("VALID CERT", "VALID CERT"),
        ("SERIAL NUMBER", "SERIAL NUMBER"),
        ("NOT AFTER", "NOT AFTER"),
        ("NOT BEFORE", "NOT BEFORE"),
    ];
    agree_with(
        sections[4],
        unprefix("secret/"),
        &run(&["secrets", &dump, "--now", NOW]),
        &cols,
        |r| serial_as_istioctl(r, 4),
    );

    let cols = [
        ("NAME", "ENDPOINT"),
        ("STATUS", "STATUS"),
        ("LOCALITY", "LOCALITY"),
        ("CLUSTER", "CLUSTER"),
    ];
    agree_with(
        sections[5],
        unprefix("endpoint/"),
        &run(&["endpoints", &dump]),
        &cols,
        |_| {},
    );
}

#[test]
fn versions_agree_with_istioctl() {
    let r = envinspect(&["-o", "json", &fixture(&format!("{ISTIO}/configdump.json"))]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let summary_text = golden(&format!("{ISTIO}/versionsummary.txt"));
    let field = |label: &str| {
        summary_text
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(v["node"]["istio_version"], field("Istio Version:"));
    assert_eq!(v["node"]["envoy_version"], field("Envoy Version:"));
    let waypoint = envinspect(&[
        "-o",
        "json",
        &fixture("istio/istioctl/pkg/proxyconfig/testdata/config_dump.json"),
    ]);
    let w: serde_json::Value = serde_json::from_str(&waypoint.stdout).unwrap();
    let summary = golden("istio/istioctl/pkg/proxyconfig/testdata/config_dump_summary.txt");
    assert!(summary.contains(&format!(
        "Istio Version:       {}",
        w["node"]["istio_version"].as_str().unwrap()
    )));
    // istioctl prints the zero version `0.0.0` when the node has no build version; we leave it
    // out (unknown), on purpose.
    assert!(summary.contains("Envoy Version:       0.0.0"));
    assert!(w["node"]["envoy_version"].is_null());
}

/// egctl re-emits sections keyed by namespace and pod; the resource names must match ours.
#[test]
fn resource_names_agree_with_egctl() {
    let dump = fixture("envoyproxy-gateway/internal/cmd/egctl/testdata/config/in/in.all.json");
    let out = "envoyproxy-gateway/internal/cmd/egctl/testdata/config/out";
    let names_in = |v: &serde_json::Value, key: &str| {
        let mut found = Vec::new();
        collect(v, key, &mut found);
        found.sort();
        found.dedup();
        found
    };
    for (cmd, golden_file, ours_key, golden_key) in [
        ("clusters", "out.cluster.json", "name", "name"),
        ("listeners", "out.listener.json", "name", "name"),
        ("routes", "out.route.json", "name", "name"),
        ("endpoints", "out.endpoints.json", "cluster", "clusterName"),
    ] {
        let g: serde_json::Value =
            serde_json::from_str(&golden(&format!("{out}/{golden_file}"))).unwrap();
        let r = envinspect(&[cmd, &dump, "-o", "json"]);
        let o: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let ours: Vec<String> = {
            let mut v: Vec<String> = o[cmd]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x[ours_key].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        // The golden holds whole resources: compare the resource-level names (the first `name`
        // of each resource object), i.e. those our list also has.
        let golden_names = names_in(&g, golden_key);
        assert!(!ours.is_empty(), "{cmd}");
        for n in &ours {
            assert!(
                golden_names.contains(n),
                "{cmd}: {n} not in egctl's {golden_file}: {golden_names:?}"
            );
        }
    }
}

fn collect(v: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == key {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                }
                collect(x, key, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, key, out)),
        _ => {}
    }
}
