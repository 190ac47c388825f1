//! Rules on how traffic flows: Istio mTLS towards hosts outside the mesh, TLS inside TLS, HTTP
//! parsers on TLS ports, TLS settings nothing routes to, REGISTRY_ONLY and PERMISSIVE notes.

use crate::model::RuleId;
use std::collections::BTreeSet;

use crate::model::tls::TlsKind;
use crate::model::{Destination, Finding, MtlsMode, OutboundMode, Report, RouteAction};

pub(super) fn rules(r: &Report, f: &mut Vec<Finding>) {
    istio_mutual_to_non_mesh(r, f);
    istio_alpn_to_external(r, f);
    tls_on_listeners(r, f);
    tls_into_http(r, f);
    not_captured(r, f);
    passthrough(r, f);
    notes(r, f);
    missing_clusters(r, f);
    clusters_without_endpoints(r, f);
    no_router(r, f);
}

/// `no-router`: a chain's HTTP connection manager has no HTTP filter. Envoy 1.40 accepts it and
/// answers no request (measured: 504 SI `stream_idle_timeout` when the idle timeout fires).
fn no_router(r: &Report, f: &mut Vec<Finding>) {
    for l in &r.listeners {
        for (i, ch) in l.filter_chains.iter().enumerate() {
            let Some(n) = ch.no_router else { continue };
            let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
            let when = match n.stream_idle_timeout_ms {
                0 => "never: its stream idle timeout is disabled, so each request waits until the client gives up".to_string(),
                ms => format!("only with 504 SI (stream_idle_timeout) after its stream idle timeout of {} ms", ms),
            };
            f.push(
                Finding::new(
                    RuleId::NoRouter,
                    format!("listener {} chain {chain}", l.name),
                    format!("its HTTP connection manager has no HTTP filter, so no router: Envoy reads every request and answers it {when}, whatever the route configuration says"),
                )
                .at(&ch.pointer),
            );
        }
    }
}

/// Routes and TCP chains that name a cluster the proxy does not have: Envoy answers 503 NC
/// (`cluster_not_found`) for HTTP and closes TCP connections. Only when the dump has clusters.
fn missing_clusters(r: &Report, f: &mut Vec<Finding>) {
    if r.counts.clusters.is_none() {
        return;
    }
    // (cluster, who sends to it, where) for every route and TCP chain.
    let mut targets: Vec<(&str, String, &str)> = Vec::new();
    let route = |rc: &'_ crate::model::RouteConfig, pointer: &'_ str| {
        let mut out = Vec::new();
        for vh in &rc.virtual_hosts {
            for (i, rt) in vh.routes.iter().enumerate() {
                let who = format!(
                    "route {} vhost {} route {}",
                    if rc.name.is_empty() {
                        "(inline)"
                    } else {
                        &rc.name
                    },
                    vh.name,
                    rt.name.clone().unwrap_or_else(|| format!("#{i}"))
                );
                let names: Vec<String> = match &rt.action {
                    RouteAction::Cluster { name } => vec![name.clone()],
                    RouteAction::WeightedClusters { names, .. } => names.clone(),
                    _ => Vec::new(),
                };
                out.extend(
                    names
                        .into_iter()
                        .map(|n| (n, who.clone(), pointer.to_string())),
                );
            }
        }
        out
    };
    let mut owned: Vec<(String, String, String)> = Vec::new();
    for rc in &r.routes {
        owned.extend(route(rc, &rc.pointer));
    }
    for l in &r.listeners {
        for (i, ch) in l.filter_chains.iter().enumerate() {
            for d in &ch.destinations {
                match d {
                    Destination::InlineRoute { config } => owned.extend(route(config, &l.pointer)),
                    Destination::Cluster { name } => {
                        let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
                        targets.push((
                            name,
                            format!("listener {} chain {chain}", l.name),
                            &l.pointer,
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    let known: BTreeSet<&str> = r.clusters.iter().map(|c| c.name.as_str()).collect();
    let all = targets
        .into_iter()
        .map(|(n, w, p)| (n.to_string(), w, p.to_string()))
        .chain(owned);
    for (name, who, pointer) in all {
        if name.is_empty() || known.contains(name.as_str()) {
            continue;
        }
        f.push(
            Finding::new(RuleId::RouteToMissingCluster,
                who,
                format!("sends traffic to cluster {name}, which the proxy does not have: HTTP requests get 503 with response flag NC (cluster_not_found), TCP connections are closed"),
            )
            .at(&pointer),
        );
    }
}

/// EDS clusters with no endpoint in a dump taken with `?include_eds`: requests get 503 UH.
fn clusters_without_endpoints(r: &Report, f: &mut Vec<Finding>) {
    // Endpoint configs without a cluster name (some dumps write them so) cannot be told apart.
    if r.counts.endpoints.is_none() || r.endpoints.iter().any(|e| e.cluster.is_empty()) {
        return;
    }
    let with: BTreeSet<&str> = r.endpoints.iter().map(|e| e.cluster.as_str()).collect();
    for c in r
        .clusters
        .iter()
        .filter(|c| c.discovery == "EDS" && !with.contains(c.name.as_str()))
    {
        f.push(
            Finding::new(RuleId::ClusterWithoutEndpoints,
                format!("cluster {}", c.name),
                "EDS gave it no endpoint: requests to it get 503 with response flag UH (no_healthy_upstream)",
            )
            .at(&c.pointer),
        );
    }
}

fn istio_mutual_to_non_mesh(r: &Report, f: &mut Vec<Finding>) {
    for c in r
        .clusters
        .iter()
        .filter(|c| c.tls.kind() == TlsKind::IstioMtls)
    {
        let eps: Vec<_> = r.endpoints.iter().filter(|e| e.cluster == c.name).collect();
        if eps.is_empty()
            || eps
                .iter()
                .any(|e| e.socket_match.get("tlsMode").is_some_and(|m| m == "istio"))
        {
            continue;
        }
        let mut finding = Finding::new(RuleId::IstioMutualToNonMesh,
            format!("cluster {}", c.name),
            format!(
                "Istio mTLS (ISTIO_MUTUAL) towards {} endpoint(s), none labelled tlsMode: istio: a server outside the mesh answers with its own certificate and the handshake fails (503, CERTIFICATE_VERIFY_FAILED)",
                eps.len()
            ),
        )
        .at(&c.pointer);
        for e in eps.iter().take(3) {
            finding = finding.at(&e.pointer);
        }
        f.push(finding);
    }
}

/// istio/istio#40680: Istio's `istio.alpn` HTTP filter rewrites ALPN to `istio-http/1.1`… on
/// outbound HTTP chains; a cluster originating plain TLS to a server outside the mesh must opt out
/// (`istio.alpn_override: "false"`) or the server rejects the handshake.
fn istio_alpn_to_external(r: &Report, f: &mut Vec<Finding>) {
    let alpn_chain = r
        .listeners
        .iter()
        .filter(|l| is_outbound_listener(&l.name))
        .find(|l| {
            l.filter_chains
                .iter()
                .any(|c| c.http_filters.iter().any(|h| h == "istio.alpn"))
        });
    let Some(listener) = alpn_chain else { return };
    // The filter runs on HTTP chains only: a cluster that only TCP chains send to never meets it.
    let by_routes: BTreeSet<&str> = r
        .routes
        .iter()
        .flat_map(|rc| &rc.virtual_hosts)
        .flat_map(|vh| &vh.routes)
        .flat_map(|rt| match &rt.action {
            crate::model::RouteAction::Cluster { name } => vec![name.as_str()],
            crate::model::RouteAction::WeightedClusters { names, .. } => {
                names.iter().map(String::as_str).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    let by_tcp: BTreeSet<&str> = r
        .listeners
        .iter()
        .flat_map(|l| &l.filter_chains)
        .flat_map(|ch| &ch.destinations)
        .flat_map(|d| match d {
            Destination::Cluster { name } => vec![name.as_str()],
            Destination::WeightedClusters { names, .. } => {
                names.iter().map(String::as_str).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    for c in &r.clusters {
        let outbound = c.istio.as_ref().is_some_and(|n| n.direction == "outbound");
        let tcp_only = by_tcp.contains(c.name.as_str()) && !by_routes.contains(c.name.as_str());
        if outbound
            && !tcp_only
            && matches!(c.tls.kind(), TlsKind::Simple | TlsKind::Mutual)
            && c.alpn_override != Some(false)
        {
            f.push(
                Finding::new(RuleId::IstioAlpnToExternal,
                    format!("cluster {}", c.name),
                    format!("originates TLS without istio.alpn_override: \"false\" while listener {} runs the istio.alpn filter: the server is offered Istio's ALPN (istio-http/1.1…) and may reject the handshake (istio/istio#40680)", listener.name),
                )
                .at(&c.pointer)
                .at(&listener.pointer),
            );
        }
    }
}

fn is_outbound_listener(name: &str) -> bool {
    !name.starts_with("virtualInbound") && !name.starts_with("inbound")
}

/// `double-tls`: what a chain expects on the wire against what the cluster behind it adds.
/// `tls-into-http-chain`: the chain Envoy gives a TLS client of an outbound port that speaks
/// TLS by convention (HTTPS 443 and 8443, Kubernetes' API 6443, LDAPS, IMAPS, POP3S, SMTPS,
/// AMQPS; ALPN `h2,http/1.1` as curl offers, an SNI no chain names) reads plaintext HTTP.
/// Decided by Envoy's chain matching (`authz::chain`), for the listener's own address, each
/// address a chain names and any other address.
fn tls_into_http(r: &Report, f: &mut Vec<Finding>) {
    const TLS_PORTS: [u32; 8] = [443, 8443, 6443, 636, 993, 995, 465, 5671];
    for port in TLS_PORTS {
        tls_into_http_on(r, port, f);
    }
}

fn tls_into_http_on(r: &Report, port: u32, f: &mut Vec<Finding>) {
    use crate::authz::chain::{pick, Connection, Hello, Pick};
    use crate::model::Socket;
    let hello = Hello {
        tls: true,
        sni: Some(String::new()),
        alpn: Some(vec!["h2".into(), "http/1.1".into()]),
        http: true,
    };
    for l in r.listeners.iter().filter(|l| {
        is_outbound_listener(&l.name)
            && l.direction != Some(crate::model::TrafficDirection::Inbound)
    }) {
        let for_port = l.port == Some(port)
            || l.filter_chains
                .iter()
                .any(|c| c.matcher.destination_port == Some(port));
        if !for_port {
            continue;
        }
        let own = l
            .address
            .as_deref()
            .and_then(|a| a.parse::<std::net::IpAddr>().ok())
            .filter(|a| !a.is_unspecified());
        let named = l
            .filter_chains
            .iter()
            .flat_map(|c| &c.matcher.prefix_ranges)
            .filter_map(|p| {
                let c = p.parse::<crate::model::ids::Cidr>().ok()?;
                (c.prefix_len() == 32 || c.prefix_len() == 128)
                    .then(|| p.split('/').next()?.parse().ok())?
            });
        let mut addresses: BTreeSet<Option<std::net::IpAddr>> = own
            .into_iter()
            .chain(named)
            .chain(l.unlisted_address())
            .map(Some)
            .collect();
        if addresses.is_empty() {
            addresses.insert(None);
        }
        let mut hit = BTreeSet::new();
        for ip in addresses {
            let conn = Connection::inspected(l, port, ip, None, &hello);
            let Pick::Chain(i, _) = pick(l, &conn) else {
                continue;
            };
            let ch = &l.filter_chains[i];
            let http = ch.destinations.iter().any(|d| {
                matches!(
                    d,
                    Destination::Route { .. } | Destination::InlineRoute { .. }
                )
            });
            if http && !matches!(ch.tls, Socket::Tls(_)) && hit.insert(i) {
                let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
                f.push(
                    Finding::new(RuleId::TlsIntoHttpChain, format!("listener {} chain {chain}", l.name), format!("a TLS client of port {port} (ALPN h2,http/1.1) gets this chain, whose HTTP connection manager reads plaintext: Envoy answers the ClientHello with HTTP 400 (http1.codec_error), the client fails with `wrong version number` (curl exit 35)"))
                        .at(&ch.pointer),
                );
            }
        }
    }
}

/// `inbound-port-not-captured`: a port the proxy has inbound chains for, which the pod's
/// redirection (Istio's interception annotations) does not send to the proxy.
fn not_captured(r: &Report, f: &mut Vec<Finding>) {
    use crate::model::intercept::Capture;
    let Some(i) = r.node.as_ref().and_then(|n| n.interception.as_ref()) else {
        return;
    };
    let ports: BTreeSet<(u32, &str)> = r
        .inbound
        .iter()
        .filter_map(|p| Some((p.port?, p.listener.as_str())))
        // Istio keeps 15000–15099 for itself (the agent's status port 15020 is excluded from
        // redirection on purpose).
        .filter(|(p, _)| !(15000..15100).contains(p))
        .collect();
    for (port, listener) in ports {
        if let Capture::No(why) = i.inbound(port) {
            let mut finding = Finding::new(RuleId::InboundPortNotCaptured, format!("inbound port {port}"), format!("listener {listener} has chains for port {port}, but the pod's redirection leaves it alone ({why}): connections reach the application directly, without mTLS or authorization, and a mesh client's mTLS meets a plaintext server (503 UC at its proxy)"));
            if let Some(l) = r.listeners.iter().find(|l| l.name == listener) {
                finding = finding.at(&l.pointer);
            }
            if !i.pointer.is_empty() {
                finding = finding.at(&i.pointer);
            }
            f.push(finding);
        }
    }
}

fn tls_on_listeners(r: &Report, f: &mut Vec<Finding>) {
    for l in r.listeners.iter().filter(|l| is_outbound_listener(&l.name)) {
        for (i, ch) in l.filter_chains.iter().enumerate() {
            let chain = ch.name.clone().unwrap_or_else(|| format!("#{i}"));
            let subject = format!("listener {} chain {chain}", l.name);
            let app_tls = ch.matcher.transport_protocol.as_deref() == Some("tls")
                || !ch.matcher.server_names.is_empty();
            for d in &ch.destinations {
                let Destination::Cluster { name } = d else {
                    continue;
                };
                let Some(c) = r.clusters.iter().find(|c| &c.name == name) else {
                    continue;
                };
                if app_tls && matches!(c.tls.kind(), TlsKind::Simple | TlsKind::Mutual) {
                    f.push(
                        Finding::new(RuleId::DoubleTls,
                            &subject,
                            format!("the chain forwards the application's own TLS to cluster {name}, which originates TLS again: TLS inside TLS (wrong version number, or a handshake failure at the server)"),
                        )
                        .at(&l.pointer)
                        .at(&c.pointer),
                    );
                }
            }
        }
    }
}

fn route_targets(a: &RouteAction) -> Vec<&str> {
    match a {
        RouteAction::Cluster { name } => vec![name.as_str()],
        RouteAction::WeightedClusters { names, .. } => names.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every cluster a listener or route can send traffic to.
fn referenced(r: &Report) -> BTreeSet<&str> {
    let mut names: BTreeSet<&str> = r
        .routes
        .iter()
        .flat_map(|rc| &rc.virtual_hosts)
        .flat_map(|v| &v.routes)
        .flat_map(|rt| route_targets(&rt.action))
        .collect();
    for d in r
        .listeners
        .iter()
        .flat_map(|l| &l.filter_chains)
        .flat_map(|c| &c.destinations)
    {
        match d {
            Destination::Cluster { name } => {
                names.insert(name.as_str());
            }
            Destination::WeightedClusters { names: ns, .. } => {
                names.extend(ns.iter().map(String::as_str))
            }
            Destination::InlineRoute { config } => names.extend(
                config
                    .virtual_hosts
                    .iter()
                    .flat_map(|v| &v.routes)
                    .flat_map(|rt| route_targets(&rt.action)),
            ),
            _ => {}
        }
    }
    names
}

fn passthrough(r: &Report, f: &mut Vec<Finding>) {
    // Only a sidecar with outbound capture and RDS/LDS in view can tell "unreferenced".
    if r.outbound.mode != OutboundMode::AllowAny || r.listeners.is_empty() {
        return;
    }
    let used = referenced(r);
    // By host: subset clusters nobody routes to are normal while the host's own cluster is used.
    let used_hosts: BTreeSet<&str> = r
        .clusters
        .iter()
        .filter(|c| used.contains(c.name.as_str()))
        .filter_map(|c| c.istio.as_ref().map(|n| n.fqdn.as_str()))
        .collect();
    for c in &r.clusters {
        let Some(n) = c.istio.as_ref().filter(|n| n.direction == "outbound") else {
            continue;
        };
        if matches!(c.tls.kind(), TlsKind::Simple | TlsKind::Mutual)
            && !used_hosts.contains(n.fqdn.as_str())
        {
            f.push(
                Finding::new(RuleId::PassthroughBypassesPolicy,
                    format!("cluster {}", c.name),
                    format!("originates TLS, but no listener or route sends traffic to any cluster of {}: connections to it leave through PassthroughCluster and these TLS settings never apply", n.fqdn),
                )
                .at(&c.pointer),
            );
        }
    }
}

fn notes(r: &Report, f: &mut Vec<Finding>) {
    let pointer_of = |name: &str| {
        r.listeners
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.pointer.clone())
            .unwrap_or_default()
    };
    if r.outbound.mode == OutboundMode::RegistryOnly {
        f.push(
            Finding::new(RuleId::RegistryOnlyBlackhole, "outbound", "REGISTRY_ONLY: connections to hosts without a cluster (no ServiceEntry) go to BlackHoleCluster and are reset (curl: exit 56 or 52; HTTP 502)")
                .at(&pointer_of("virtualOutbound"))
                .at(&pointer_of("virtual")),
        );
    }
    for p in r.inbound.iter().filter(|p| p.mode == MtlsMode::Permissive) {
        let port = p
            .port
            .map(|p| p.to_string())
            .unwrap_or_else(|| "* (every other port)".into());
        f.push(
            Finding::new(
                RuleId::InboundPermissive,
                format!("inbound port {port}"),
                "PERMISSIVE: plaintext is accepted as well as mTLS",
            )
            .at(&pointer_of("virtualInbound")),
        );
    }
}
