//! `-o html` in a real headless Chromium: the pages of a real dump, its certificates and a
//! bundle open without a console error, show every finding, proxy and matrix cell, filter their
//! tables as a user types, and every in-page link resolves. A hostile dump's names, SANs and
//! routes produce no element, attribute or script. Screenshots go to `target/screenshots/`.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::bundle::{dir, proxy, write_tree};
use super::bundle_fleet::guarded_api;
use super::pki;
use super::support::browser::Browser;
use super::{envinspect, root, NOW_140};

/// Writes the page `args` print to `name` (under the test's temporary directory) and returns
/// its path; the command must answer (exit 0 or 1, nothing on stderr).
fn page(name: &str, args: &[&str]) -> PathBuf {
    let run = envinspect(args);
    run.assert_ok(name);
    assert!(
        run.stdout.starts_with("<!DOCTYPE html>"),
        "{name}: {}",
        &run.stdout[..run.stdout.len().min(200)]
    );
    let d = dir(&format!("html-{name}"));
    let p = d.join(format!("{name}.html"));
    std::fs::write(&p, &run.stdout).unwrap();
    p
}

fn screenshots() -> PathBuf {
    root().join("target").join("screenshots")
}

/// Every `href` of the page that points nowhere (all are in-page: `#id`).
const BROKEN_LINKS: &str = "return Array.from(document.querySelectorAll('a[href]'))
  .filter(a => !a.getAttribute('href').startsWith('#') ||
               !document.getElementById(a.getAttribute('href').slice(1)))
  .map(a => a.outerHTML);";

fn json_of(args: &[&str]) -> Value {
    let run = envinspect(args);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr))
}

#[test]
fn a_dump_page_shows_every_finding_links_resolve_and_search_filters() {
    let dump = "fixtures/envoy-1.40/config_dump.json";
    let html = page("report", &[dump, "--now", NOW_140, "-o", "html"]);
    let doc = json_of(&[dump, "--now", NOW_140, "-o", "json"]);
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
    // Every finding is a row of the findings table, with its rule and subject.
    let rows = b.eval(
        "return Array.from(document.querySelectorAll('#findings tbody tr'))
           .map(r => [r.cells[1].textContent, r.cells[2].textContent]);",
    );
    let want: Vec<Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!([f["rule"], f["subject"]]))
        .collect();
    assert!(!want.is_empty(), "the fixture has findings");
    assert_eq!(rows, Value::Array(want));
    // Every cluster is a row, with the anchor findings and diagrams link to.
    let clusters = b.eval("return document.querySelectorAll('#clusters tbody tr[id]').length;");
    assert_eq!(clusters, json!(doc["clusters"].as_array().unwrap().len()));
    // Every listener has a diagram.
    let listeners = b.eval("return document.querySelectorAll('#paths details[id]').length;");
    assert_eq!(listeners, json!(doc["listeners"].as_array().unwrap().len()));
    // Typing a cluster's name leaves, in the clusters table, exactly the rows that contain it.
    let name = doc["clusters"][0]["name"].as_str().unwrap().to_string();
    let total = b.eval("return document.querySelectorAll('#clusters tbody tr').length;");
    b.type_into("#q", &name);
    let shown = b.eval(
        "return Array.from(document.querySelectorAll('#clusters tbody tr')).filter(r => !r.hidden).map(r => r.textContent);",
    );
    let shown = shown.as_array().unwrap();
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|t| t
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains(&name.to_lowercase())));
    assert!(
        (shown.len() as u64) < total.as_u64().unwrap(),
        "search hid nothing"
    );
    b.type_into("#q", "");
    b.eval("document.getElementById('q').dispatchEvent(new Event('input')); return 0;");
    b.screenshot(&screenshots().join("report.png"));
    // Sorting a column by its header button orders the rows, and a second click reverses them.
    let order = "const c = Array.from(document.querySelectorAll('#clusters tbody tr')).map(r => r.cells[0].textContent);
                 return [c.every((x, i) => i == 0 || c[i - 1].localeCompare(x) <= 0),
                         c.every((x, i) => i == 0 || c[i - 1].localeCompare(x) >= 0),
                         document.querySelector('#clusters th').getAttribute('aria-sort')];";
    b.click("#clusters th:nth-child(1) button");
    assert_eq!(b.eval(order), json!([true, false, "ascending"]));
    b.click("#clusters th:nth-child(1) button");
    assert_eq!(b.eval(order), json!([false, true, "descending"]));
    assert_eq!(b.console_errors(), Vec::<String>::new());
}

#[test]
fn a_certs_page_draws_each_chain_and_the_timeline() {
    let dump = "fixtures/envoy-1.40/config_dump.json";
    let html = page("certs", &["certs", dump, "--now", NOW_140, "-o", "html"]);
    let doc = json_of(&["certs", dump, "--now", NOW_140, "-o", "json"]);
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
    let secrets = doc["secrets"].as_array().unwrap();
    let drawn =
        b.eval("return document.querySelectorAll('#certificates div.searchable[id]').length;");
    assert_eq!(drawn, json!(secrets.len()));
    let certs: usize = secrets
        .iter()
        .map(|s| s["certificates"].as_array().unwrap().len())
        .sum();
    let bars = b.eval("return document.querySelectorAll('svg.timeline rect').length;");
    assert_eq!(bars, json!(certs));
    // The judging time and the warning threshold are drawn, and the picture is named.
    let marks = b.eval(
        "return [document.querySelectorAll('svg.timeline line.now').length,
                 document.querySelectorAll('svg.timeline line.threshold').length,
                 document.querySelector('svg.timeline title').textContent.includes('now 2026-12-01T00:00:00Z')];",
    );
    assert_eq!(marks, json!([1, 1, true]));
    b.eval("document.querySelector('svg.timeline').scrollIntoView(); window.scrollBy(0, -120); return 0;");
    b.screenshot(&screenshots().join("certs.png"));
}

#[test]
fn a_bundle_page_has_every_proxy_and_every_matrix_cell() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let d = dir("html-fleet");
    let p = |n: &str| format!("proxies/default/{n}/config_dump?include_eds");
    write_tree(
        &d,
        &[
            (p("api-1"), guarded_api(&mesh).to_string().into_bytes()),
            (
                p("frontend-1"),
                proxy("frontend", "frontend", &mesh, 2)
                    .to_string()
                    .into_bytes(),
            ),
            (
                p("batch-1"),
                proxy("batch", "batch", &mesh, 3).to_string().into_bytes(),
            ),
        ],
    );
    let dir_arg = d.display().to_string();
    let html = page(
        "bundle",
        &["bundle", &dir_arg, "--now", NOW_140, "-o", "html"],
    );
    let doc = json_of(&["bundle", &dir_arg, "--now", NOW_140, "-o", "json"]);
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
    let proxies = b.eval(
        "return Array.from(document.querySelectorAll('#proxies tbody tr')).map(r => r.cells[0].textContent);",
    );
    let want: Vec<Value> = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["proxy"].clone())
        .collect();
    assert_eq!(proxies, Value::Array(want));
    // One cell per (caller, port) pair, its word the verdict, its reason on focus.
    let cells = b.eval(
        "return Array.from(document.querySelectorAll('table.matrix td.cell[tabindex]'))
           .map(c => [c.closest('tr').querySelector('th').textContent, c.textContent, c.dataset.reason]);",
    );
    let reach = doc["reachability"].as_array().unwrap();
    assert!(!reach.is_empty());
    assert_eq!(cells.as_array().unwrap().len(), reach.len());
    for r in reach {
        let word = match r["verdict"].as_str().unwrap() {
            "allowed" => "yes",
            "never" => "no",
            _ => "?",
        };
        assert!(
            cells
                .as_array()
                .unwrap()
                .contains(&json!([r["caller"], word, r["because"]])),
            "{r}"
        );
    }
    // Keyboard: a cell takes focus, and focused it shows its reason (not by hover alone). A
    // headless window never has the system's focus: DevTools emulates it.
    b.cdp(
        "Emulation.setFocusEmulationEnabled",
        json!({"enabled": true}),
    );
    let focused = b.eval(
        "const c = document.querySelector('table.matrix td.cell[tabindex]'); c.focus();
         return [c.matches(':focus'), getComputedStyle(c, '::after').display,
                 getComputedStyle(c, '::after').content];",
    );
    assert_eq!(focused[0], json!(true));
    assert_eq!(focused[1], json!("block"));
    assert_ne!(focused[2], json!("none"));
    b.eval("document.getElementById('reach').scrollIntoView(); return 0;");
    b.screenshot(&screenshots().join("bundle.png"));
    b.eval("document.getElementById('expiry').scrollIntoView(); return 0;");
    b.screenshot(&screenshots().join("bundle-expiry.png"));
}

/// Listener, cluster, route and SAN values that are markup, script or URLs.
fn hostile_dump() -> Value {
    let evil = [
        "<img src=x onerror=\"window.__pwned=1\">",
        "</script><script>window.__pwned=2</script>",
        "javascript:window.__pwned=3",
        "\"><svg onload=\"window.__pwned=4\">",
    ];
    json!({"configs": [
        {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
         "static_clusters": [{"cluster": {
            "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "name": evil[1], "type": "STATIC", "connect_timeout": "1s",
            "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": "evil.example",
                "common_tls_context": {"validation_context": {
                    "match_typed_subject_alt_names": [
                        {"san_type": "URI", "matcher": {"exact": evil[2]}},
                        {"san_type": "DNS", "matcher": {"exact": evil[3]}}]}}}}}}]},
        {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
         "static_listeners": [{"listener": {
            "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
            "name": evil[0],
            "address": {"socket_address": {"address": "0.0.0.0", "port_value": 8080}},
            "filter_chains": [{"name": evil[3], "filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix": "in",
                    "route_config": {"name": evil[2], "virtual_hosts": [{
                        "name": evil[0], "domains": [evil[3]],
                        "routes": [{"name": evil[1], "match": {"prefix": "/<b>"},
                                    "route": {"cluster": evil[1]}}]}]},
                    "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]}}]}
    ]})
}

#[test]
fn a_hostile_dump_makes_no_element_attribute_or_script() {
    let d = dir("html-hostile");
    let dump = d.join("hostile.json");
    std::fs::write(&dump, hostile_dump().to_string()).unwrap();
    let dump = dump.display().to_string();
    let html = page("hostile", &[&dump, "--now", NOW_140, "-o", "html"]);
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    let verdict = b.eval(
        "const all = Array.from(document.querySelectorAll('*'));
         return {
           pwned: window.__pwned === undefined ? null : window.__pwned,
           scripts: document.scripts.length,
           imgs: document.images.length,
           svg_onload: document.querySelectorAll('svg[onload]').length,
           on_attrs: all.flatMap(e => Array.from(e.attributes)).filter(a => a.name.startsWith('on')).map(a => a.name),
           hrefs: Array.from(document.querySelectorAll('[href]')).map(e => e.getAttribute('href')).filter(h => !h.startsWith('#')),
           shown: document.body.textContent.includes('<img src=x onerror=') &&
                  document.body.textContent.includes('</script><script>') &&
                  document.body.textContent.includes('javascript:window.__pwned=3'),
         };",
    );
    assert_eq!(
        verdict,
        json!({"pwned": null, "scripts": 1, "imgs": 0, "svg_onload": 0, "on_attrs": [], "hrefs": [], "shown": true})
    );
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
}

/// Commands without a page say so in one line, exit 2, and write nothing.
#[test]
fn commands_without_a_page_refuse_html() {
    for args in [
        vec!["expect", "fixtures/envoy-1.40/config_dump.json"],
        vec!["rules"],
    ] {
        let mut a = args.clone();
        a.extend(["-o", "html"]);
        let run = envinspect(&a);
        assert_eq!(run.code, 2, "{a:?}");
        assert_eq!(run.stdout, "", "{a:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{a:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("-o html is not supported"),
            "{}",
            run.stderr
        );
    }
}

/// Every real fixture gets a page whenever it gets a JSON document, with the same exit code; the
/// page is the same bytes on a second run, and has exactly the one script the renderer writes.
#[test]
fn every_fixture_has_a_deterministic_page() {
    for (name, path) in super::snapshots::DUMPS {
        let path = super::fixture(path);
        let path = path.as_str();
        let json = envinspect(&[path, "--now", NOW_140, "-o", "json"]);
        let html = envinspect(&[path, "--now", NOW_140, "-o", "html"]);
        assert_eq!(html.code, json.code, "{name}: {}", html.stderr);
        if json.code == 2 {
            continue;
        }
        assert_eq!(html.stderr, json.stderr, "{name}");
        assert_eq!(html.stdout.matches("<script").count(), 1, "{name}");
        assert!(html.stdout.ends_with("</html>\n"), "{name}");
        let again = envinspect(&[path, "--now", NOW_140, "-o", "html"]);
        assert!(
            again.stdout == html.stdout,
            "{name}: the page differs between runs"
        );
    }
}

/// The page of the Envoy 1.40 capture, as the output contract fixes it.
#[test]
fn the_page_of_the_capture_is_stable() {
    let args = [
        "fixtures/envoy-1.40/config_dump_include_eds.json",
        "--now",
        NOW_140,
        "-o",
        "html",
    ];
    let run = envinspect(&args);
    super::settings()
        .bind(|| insta::assert_snapshot!("html__envoy140_include_eds", run.transcript(&args)));
}

/// A trace as a diagram: one box per step in order, then the outcome, each with its words.
#[test]
fn a_trace_page_draws_each_step_and_the_outcome() {
    let dump = "fixtures/envoy-1.40-trace/sidecar.json";
    let args = |o: &'static str| {
        vec![
            "trace",
            dump,
            "--inbound",
            "8080",
            "--principal",
            "spiffe://cluster.local/ns/default/sa/banned",
            "--path",
            "/x",
            "--now",
            NOW_140,
            "-o",
            o,
        ]
    };
    let doc = json_of(&args("json"));
    let html = page("trace", &args("html"));
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
    let flows = b.eval(
        "return Array.from(document.querySelectorAll('ol.flow')).map(ol =>
           Array.from(ol.children).map(li => li.querySelector('.kind').textContent));",
    );
    let mut steps: Vec<Value> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].clone())
        .collect();
    steps.push(json!("outcome"));
    assert_eq!(flows[0], Value::Array(steps));
    // The authorization of the request is drawn too, layer by layer, ending in the decision.
    let e = &doc["authorization"];
    assert!(e.is_object(), "{doc}");
    let mut layers: Vec<Value> = e["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["layer"].clone())
        .collect();
    layers.push(json!("decision"));
    assert_eq!(flows[1], Value::Array(layers));
    let decision = b.eval("return document.querySelectorAll('ol.flow')[1].lastElementChild.querySelector('strong').textContent;");
    assert_eq!(decision, e["decision"]);
    b.screenshot(&screenshots().join("trace.png"));
}

/// The authz view: a diagram per chain of its layers, and a row per policy.
#[test]
fn an_authz_page_draws_each_chains_layers() {
    let dump = "fixtures/envoy-1.40-authz/config_dump.json";
    let doc = json_of(&["authz", dump, "--now", NOW_140, "-o", "json"]);
    let html = page("authz", &["authz", dump, "--now", NOW_140, "-o", "html"]);
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    let chains = doc["chains"].as_array().unwrap();
    let drawn = b.eval(
        "return Array.from(document.querySelectorAll('#chains ol.flow')).map(ol => ol.querySelectorAll('li.searchable').length);",
    );
    let want: Vec<Value> = chains
        .iter()
        .map(|c| json!(c["layers"].as_array().unwrap().len()))
        .collect();
    assert_eq!(drawn, Value::Array(want));
    let policies: usize = chains
        .iter()
        .flat_map(|c| c["layers"].as_array().unwrap())
        .map(|l| l["policies"].as_array().unwrap().len())
        .sum();
    let rows = b.eval("return document.querySelectorAll('#chains table.data tbody tr').length;");
    assert_eq!(rows, json!(policies));
}

/// A bundle whose proxy names (directory names) are markup: shown as text, never elements.
#[test]
fn a_hostile_bundle_makes_no_element_attribute_or_script() {
    let mesh = pki::ca((2026, 1, 1), (2036, 1, 1));
    let d = dir("html-hostile-fleet");
    let evil = "<img src=x onerror=\"window.__pwned=5\">";
    write_tree(
        &d,
        &[
            (
                format!("proxies/default/{evil}/config_dump?include_eds"),
                guarded_api(&mesh).to_string().into_bytes(),
            ),
            (
                "proxies/default/frontend-1/config_dump?include_eds".to_string(),
                proxy("frontend", "frontend", &mesh, 2)
                    .to_string()
                    .into_bytes(),
            ),
        ],
    );
    let dir_arg = d.display().to_string();
    let html = page(
        "hostile-bundle",
        &["bundle", &dir_arg, "--now", NOW_140, "-o", "html"],
    );
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    let verdict = b.eval(
        "return {
           pwned: window.__pwned === undefined ? null : window.__pwned,
           scripts: document.scripts.length,
           imgs: document.images.length,
           shown: document.body.textContent.includes('default/<img src=x onerror='),
         };",
    );
    assert_eq!(
        verdict,
        json!({"pwned": null, "scripts": 1, "imgs": 0, "shown": true})
    );
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
    // Printing opens every section (a closed one would print as its title alone).
    let open = b.eval(
        "window.dispatchEvent(new Event('beforeprint'));
         return Array.from(document.querySelectorAll('details')).every(d => d.open);",
    );
    assert_eq!(open, json!(true));
}

/// `explain` as a page: every cause and counter of the JSON answer is a row, linked to its rule.
#[test]
fn an_explain_page_has_every_cause_and_counter() {
    let dir = "fixtures/envoy-1.40-explain";
    let (dump, log, stats) = (
        format!("{dir}/config_dump.json"),
        format!("{dir}/istio-proxy.log"),
        format!("{dir}/prometheus.txt"),
    );
    let args = |o: &'static str| {
        vec![
            "explain".to_string(),
            dump.clone(),
            log.clone(),
            "--stats".into(),
            stats.clone(),
            "--now".into(),
            NOW_140.into(),
            "-o".into(),
            o.into(),
        ]
    };
    let json_args = args("yaml");
    let yaml = envinspect(&json_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(yaml.code <= 1, "{}", yaml.stderr);
    let doc: Value = serde_norway::from_str(&yaml.stdout).unwrap();
    let html_args = args("html");
    let html = page(
        "explain",
        &html_args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
    // Every failing line's cause is counted in the causes table, and each counter is a row.
    let mut causes: std::collections::BTreeMap<String, u64> = Default::default();
    for e in doc["explained"].as_array().unwrap() {
        if e["failed"] == true {
            *causes
                .entry(e["rule"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    let rows = b.eval(
        "const m = {}; for (const r of document.querySelectorAll('#causes tbody tr'))
           m[r.cells[0].textContent] = (m[r.cells[0].textContent] || 0) + Number(r.cells[2].textContent);
         return m;",
    );
    assert!(!causes.is_empty());
    assert_eq!(rows, json!(causes));
    let counters = b.eval("return document.querySelectorAll('#counters tbody tr').length;");
    assert_eq!(counters, json!(doc["counters"].as_array().unwrap().len()));
}

/// `proxy-status` as a page: a row per proxy, istioctl's columns, states in word and colour.
#[test]
fn a_proxy_status_page_has_every_proxy() {
    let syncz = "fixtures/envoy-1.40-sync/syncz.json";
    let doc = json_of(&["proxy-status", syncz, "-o", "json"]);
    let html = page("proxy-status", &["proxy-status", syncz, "-o", "html"]);
    let b = Browser::start(1280, 900);
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.eval(BROKEN_LINKS), json!([]));
    let names = b.eval(
        "return Array.from(document.querySelectorAll('#proxies tbody tr')).map(r => r.cells[0].textContent);",
    );
    let want: Vec<Value> = doc["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(names, Value::Array(want));
    let findings = b.eval("return document.querySelectorAll('#findings tbody tr').length;");
    assert_eq!(findings, json!(doc["findings"].as_array().unwrap().len()));
}
