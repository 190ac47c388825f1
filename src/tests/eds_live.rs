//! EDS clusters whose endpoints are filed under `eds_cluster_config.service_name` (Gloo, Envoy
//! Gateway and others name them so), against a real Envoy 1.40 fed by EDS files: Envoy's own
//! `/clusters` is the truth for which hosts each cluster has, and its answers to real requests
//! (200 through a healthy endpoint, 503 UH where EDS gave none) are the truth for `trace`.
//! envinspect, reading the same Envoy's `/config_dump?include_eds`, must agree on every cluster
//! and every request, and must not call a cluster with endpoints `cluster-without-endpoints`.

use std::collections::{BTreeMap, BTreeSet};

use envinspect::admin::Endpoint;
use envinspect::trace::{outbound, AppProtocol, Probe};

use super::envoy::{answering_hcm, free_port, http_status, report_140, write, Envoy};
use super::pki;

/// `(cluster, EDS service name or none, endpoint ports, route prefix)`.
fn clusters(backend: u16) -> Vec<(&'static str, Option<&'static str>, Vec<u16>, &'static str)> {
    vec![
        // Filed under its service name, with a healthy endpoint: 200.
        ("svc_a", Some("shop-a"), vec![backend], "/a"),
        // Filed under its service name, no endpoint: 503 UH.
        ("svc_b", Some("shop-b"), vec![], "/b"),
        // Filed under its own name: 200.
        ("svc_c", None, vec![backend], "/c"),
        // Two clusters reading the same service name both get its endpoints.
        ("svc_d", Some("shop-a"), vec![backend], "/d"),
    ]
}

fn eds_file(name: &str, ports: &[u16]) -> String {
    let eps: Vec<String> = ports
        .iter()
        .map(|p| format!("{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {p}}}}}}}}}"))
        .collect();
    format!(
        "version_info: \"1\"\nresources:\n- \"@type\": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n  cluster_name: {name}\n  endpoints: [{{lb_endpoints: [{}]}}]\n",
        eps.join(", ")
    )
}

fn bootstrap(dir: &str, front: u16, backend: u16) -> String {
    let answer = answering_hcm("backend", 200);
    let mut out = format!(
        r#"node: {{id: gateway, cluster: gateway}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
static_resources:
  listeners:
  - name: backend
    address: {{socket_address: {{address: 127.0.0.1, port_value: {backend}}}}}
    filter_chains: [{{filters: [{answer}]}}]
  - name: front
    address: {{socket_address: {{address: 127.0.0.1, port_value: {front}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: front
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
"#
    );
    for (name, _, _, prefix) in clusters(backend) {
        out.push_str(&format!(
            "              - {{match: {{prefix: \"{prefix}\"}}, route: {{cluster: {name}}}}}\n"
        ));
    }
    out.push_str("          http_filters: [{name: envoy.filters.http.router, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]\n  clusters:\n");
    for (name, service, _, _) in clusters(backend) {
        let service = service
            .map(|s| format!("service_name: {s}, "))
            .unwrap_or_default();
        out.push_str(&format!(
            "  - name: {name}\n    type: EDS\n    connect_timeout: 1s\n    eds_cluster_config: {{{service}eds_config: {{path_config_source: {{path: {dir}/eds-{name}.yaml}}, resource_api_version: V3}}}}\n"
        ));
    }
    out
}

#[test]
fn endpoints_filed_under_an_eds_service_name_are_the_clusters() {
    let dir = Envoy::dir("eds-service-name");
    let (front, backend) = (free_port(), free_port());
    for (name, service, ports, _) in clusters(backend) {
        write(
            &dir.join(format!("eds-{name}.yaml")),
            &eds_file(service.unwrap_or(name), &ports),
        );
    }
    write(
        &dir.join("bootstrap.yaml"),
        &bootstrap(&dir.display().to_string(), front, backend),
    );
    let envoy = Envoy::launch(dir.clone(), pki::ca((2026, 1, 1), (2036, 1, 1)));

    // Envoy's hosts per cluster (`/clusters`: `NAME::ADDRESS::field::value`).
    let text = String::from_utf8(envoy.get("/clusters")).unwrap();
    let mut envoy_hosts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split("::").collect();
        if parts.len() == 4 && parts[2] == "health_flags" {
            envoy_hosts
                .entry(parts[0].into())
                .or_default()
                .insert(parts[1].into());
        }
    }
    let dump = dir.join("config_dump.json");
    std::fs::write(&dump, envoy.dump(Endpoint::ConfigDumpWithEds)).unwrap();
    let (report, _) = report_140(&dump);
    for (name, _, ports, _) in clusters(backend) {
        let ours: BTreeSet<String> = report
            .endpoints
            .iter()
            .filter(|e| e.cluster.as_str() == name)
            .map(|e| e.address.clone())
            .collect();
        let theirs = envoy_hosts.get(name).cloned().unwrap_or_default();
        assert_eq!(
            ours, theirs,
            "cluster {name}: envinspect's endpoints against Envoy's /clusters"
        );
        assert_eq!(ours.len(), ports.len(), "{name}");
    }
    // Only the cluster EDS gave nothing is without endpoints.
    let without: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "cluster-without-endpoints")
        .map(|f| f.subject.as_str())
        .collect();
    assert_eq!(without, ["cluster svc_b"]);

    // What Envoy answers, and what envinspect's trace predicts, for each route.
    for (name, _, ports, prefix) in clusters(backend) {
        let code = u32::from(http_status(front, prefix).expect("Envoy answers"));
        let mut p = Probe::new(
            format!("127.0.0.1:{front}").parse().unwrap(),
            AppProtocol::Plaintext,
        );
        p.path = Some(prefix.to_string());
        p.host = Some("shop.example".into());
        p.method = Some("GET".into());
        let t = outbound(&report, &p);
        let predicted = t.outcome.response.as_ref().map_or(200, |r| r.status);
        assert_eq!(
            predicted, code,
            "{name} {prefix}: envinspect {:?}, Envoy {code}",
            t.outcome
        );
        assert_eq!(code, if ports.is_empty() { 503 } else { 200 }, "{name}");
        if let Some(r) = &t.outcome.response {
            assert_eq!(r.flags, "UH", "{name}");
        }
    }
}
