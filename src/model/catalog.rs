//! Every rule envinspect reports, in one place: [`RuleId`], one variant per rule, with its id
//! (the anchor in docs/rules.md), its kind (a finding of the proxy, or drift from expectations),
//! its level, what it means and the fix. `envinspect rules` prints this table, SARIF's rule table
//! and the findings read it, and a test keeps docs/rules.md in step. A rule that is not here
//! cannot be reported: the compiler says so.

use super::finding::Level;

/// A rule: what a finding or a drift of this id means, how bad it is, and how to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rule {
    /// The rule.
    pub id: RuleId,
    /// A finding of the proxy, or drift from expectations.
    pub kind: RuleKind,
    /// How bad it is (drift is always an error: `check` fails on it).
    pub level: Level,
    /// What it means, in one line.
    pub meaning: &'static str,
    /// How to fix it, in one line.
    pub fix: &'static str,
}

/// What a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RuleKind {
    /// Something wrong with the proxy, found in what it says about itself.
    Finding,
    /// A difference from expectations (`check`, `diff`, `bundle --expect`).
    Drift,
}

impl RuleKind {
    /// `finding` or `drift`, as `envinspect rules` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Finding => "finding",
            RuleKind::Drift => "drift",
        }
    }
}

/// The fix of every drift rule.
const DRIFT_FIX: &str =
    "Restore what the expectations state, or update the expectations if the change is intended.";

macro_rules! rules {
    (
        findings: [$($(#[$fattr:meta])* $f:ident = $fid:literal, $flevel:ident, $fmeaning:literal, $ffix:literal;)*]
        drift: [$($d:ident = $did:literal, $dmeaning:literal;)*]
    ) => {
        /// A rule's id: one variant per rule of [`CATALOG`] and [`DRIFT`]. Written (JSON, SARIF,
        /// tables) as its kebab-case id, and ordered by that id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        // The meanings quote Envoy (`matched_policy[none]`), not links.
        #[allow(rustdoc::broken_intra_doc_links)]
        pub enum RuleId {
            $(#[doc = $fmeaning] $f,)*
            $(#[doc = $dmeaning] $d,)*
        }

        impl RuleId {
            /// Every rule: the findings, then the drift rules, in documentation order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$f,)* $(RuleId::$d,)*];

            /// The id, as written and as docs/rules.md anchors it (`cert-expired`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$f => $fid,)*
                    $(RuleId::$d => $did,)*
                }
            }

            /// The rule of this id, from the catalogue.
            pub const fn rule(self) -> &'static Rule {
                match self {
                    $(RuleId::$f => &Rule { id: RuleId::$f, kind: RuleKind::Finding, level: $flevel, meaning: $fmeaning, fix: $ffix },)*
                    $(RuleId::$d => &Rule { id: RuleId::$d, kind: RuleKind::Drift, level: Level::Error, meaning: $dmeaning, fix: DRIFT_FIX },)*
                }
            }

            /// The rule of an id as written (`cert-expired`), if there is one.
            pub fn parse(id: &str) -> Option<RuleId> {
                match id {
                    $($fid => Some(RuleId::$f),)*
                    $($did => Some(RuleId::$d),)*
                    _ => None,
                }
            }
        }

        /// Every finding rule, in documentation order.
        pub const CATALOG: &[Rule] = &[$(*RuleId::$f.rule(),)*];

        /// Every drift rule (`check`, `diff`), in documentation order.
        pub const DRIFT: &[Rule] = &[$(*RuleId::$d.rule(),)*];
    };
}

impl RuleId {
    /// Its level (from the catalogue).
    pub const fn level(self) -> Level {
        self.rule().level
    }

    /// A finding or a drift rule.
    pub const fn kind(self) -> RuleKind {
        self.rule().kind
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Ordered by id, as the strings they replace were: sorted output stays as it was.
impl Ord for RuleId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

use Level::{Error as E, Info as I, Warning as W};

rules! {
    findings: [
        CertExpired = "cert-expired", E, "A certificate in a secret is past its not_after.", "Find out why the SDS agent stopped rotating (istio-agent, SPIRE logs); check the secret's version_info.";
        CertExpiring = "cert-expiring", W, "A certificate has less time left than --expiry-warning and less than half its lifetime: the rotation is overdue.", "Check the SDS agent and the CA; a rotating agent replaces certificates at about half their lifetime.";
        CertNotYetValid = "cert-not-yet-valid", E, "now is before a certificate's not_before.", "Fix clock skew between issuer and peers, or check --now.";
        SpiffeIdMalformed = "spiffe-id-malformed", E, "A spiffe:// URI SAN in a certificate is not a valid SPIFFE ID.", "Reissue the certificate with a valid SPIFFE ID.";
        CertNoSan = "cert-no-san", W, "A leaf certificate has no subject alternative name.", "Reissue it with the workload's SPIFFE ID or DNS names as SANs.";
        ChainBroken = "chain-broken", E, "A link of a certificate chain does not verify (validity, issuer, signature).", "Serve the right intermediates in leaf-first order; reissue a certificate whose issuer changed.";
        ChainUntrusted = "chain-untrusted", E, "No root the proxy pairs with a certificate issued its chain.", "Distribute the issuing root to the validation context (ROOTCA, SPIFFE bundle), or reissue from the trusted CA.";
        PrivateKeyExposed = "private-key-exposed", E, "The dump holds an unredacted private key.", "Treat the key as leaked: rotate it; redact dumps before sharing.";
        PemGlued = "pem-glued", W, "Two PEM blocks share a line.", "Put each -----BEGIN on its own line.";
        PemTrailingData = "pem-trailing-data", W, "Bytes follow the last PEM block.", "Remove the trailing data.";
        PemPrivateKey = "pem-private-key", E, "A private key sits in a certificate field.", "Move the key to private_key and rotate it.";
        PemDuplicate = "pem-duplicate", W, "The same certificate appears twice in a chain.", "Remove the duplicate.";
        ChainOrder = "chain-order", W, "A chain is not leaf first, each certificate followed by its issuer.", "Reorder the chain leaf first.";
        SecretWarming = "secret-warming", W, "An SDS secret is still warming: requested, not yet delivered.", "Check the SDS server (istio-agent, SPIRE agent) and its connection to the CA.";
        SecretUninitialized = "secret-uninitialized", E, "An SDS secret was never delivered (version_info: uninitialized).", "For kubernetes://NAME, create the credential secret in the gateway's namespace; otherwise check the SDS server.";
        UpdateRejected = "update-rejected", E, "Envoy refused an update of a resource (its error_state, a NACK) and serves the previous version, or none.", "Fix the configuration the control plane sends (Envoy's reason names the field); istiod's proxy-status shows the type as ERROR.";
        ListenerWarming = "listener-warming", W, "A listener was received but is still warming: it does not serve yet (waiting on RDS or SDS).", "Check that its route configuration and secrets are delivered (RDS, SDS); a listener warming for long means one never comes.";
        ClusterWarming = "cluster-warming", W, "A cluster was received but is still warming: it does not serve yet (waiting on EDS or SDS).", "Check that its endpoints (EDS) and secrets (SDS) are delivered.";
        ZtunnelIdentityUnavailable = "ztunnel-identity-unavailable", E, "ztunnel has no certificate for an identity it was asked for (Unavailable, other than no longer needed): workloads of that identity on its node can neither send nor receive mesh traffic.", "Read the reason in the state; check ztunnel's link to the CA (istiod or the external CA) and ztunnel's logs.";
        WaypointWithoutEndpoints = "waypoint-without-endpoints", E, "Mesh workloads a ztunnel knows send through a waypoint whose service has no endpoint (or is not in its dump): their traffic has nowhere to go.", "Check the waypoint's Deployment and its pods (istioctl waypoint status), or remove the istio.io/use-waypoint label.";
        ZtunnelIdentityInitializing = "ztunnel-identity-initializing", W, "ztunnel is still fetching the certificate of an identity (Initializing): connections of its workloads wait for it.", "If it persists, check ztunnel's link to the CA and its logs.";
        SecretMissing = "secret-missing", E, "A TLS context names an SDS secret the dump does not contain.", "Create the referenced secret (kubernetes://, file-root:, file-cert: names point at a Kubernetes secret or mounted files).";
        SanMalformed = "san-malformed", E, "A SAN matcher names a malformed SPIFFE ID (e.g. spiffe:///ns/x with an empty trust domain).", "Fix the identity in the DestinationRule subjectAltNames or ServiceEntry.";
        TrustDomainMismatch = "trust-domain-mismatch", W, "A SAN matcher expects an identity in a trust domain the proxy neither belongs to nor has a bundle for.", "Add a trust-domain alias (meshConfig.trustDomainAliases) or a SPIFFE bundle for it, or fix the SAN.";
        IstioMutualToNonMesh = "istio-mutual-to-non-mesh", E, "A cluster originates Istio mTLS to endpoints none of which is in the mesh (no tlsMode: istio).", "Use DestinationRule TLS mode SIMPLE (or DISABLE) for hosts outside the mesh.";
        IstioAlpnToExternal = "istio-alpn-to-external", W, "A cluster originates non-Istio TLS without alpn_override: false while the istio.alpn HTTP filter rewrites ALPN to Istio protocols.", "Upgrade Istio, or set the cluster metadata istio.alpn_override to \"false\" (istio/istio#40680).";
        TlsIntoHttpChain = "tls-into-http-chain", W, "The chain Envoy gives a TLS client of an outbound port 443 reads plaintext HTTP: the ClientHello meets an HTTP parser.", "Declare the port as TLS/HTTPS (Istio: the Service port name or appProtocol, the ServiceEntry protocol), or send plaintext and let the proxy originate TLS.";
        InboundPortNotCaptured = "inbound-port-not-captured", W, "The proxy has inbound chains for a port that the pod's traffic redirection (interception annotations) does not send to it.", "Include the port in traffic.sidecar.istio.io/includeInboundPorts (or drop it from excludeInboundPorts), or stop declaring it.";
        DoubleTls = "double-tls", W, "The proxy originates TLS on a chain that forwards the application's own TLS: TLS inside TLS.", "Either the application or the proxy originates TLS, not both: drop DestinationRule TLS for TLS ports, or send plain HTTP.";
        RegistryOnlyBlackhole = "registry-only-blackhole", I, "Outbound traffic to hosts without a cluster goes to BlackHoleCluster (REGISTRY_ONLY).", "Add a ServiceEntry for each external host the workload needs.";
        PassthroughBypassesPolicy = "passthrough-bypasses-policy", W, "A TLS-originating cluster is referenced by no listener or route: traffic to its host goes through PassthroughCluster and its TLS settings never apply.", "Give the host a ServiceEntry with the port and protocol the application uses.";
        NoRouter = "no-router", E, "An HTTP connection manager has no HTTP filter, so no router: Envoy accepts connections and requests on the chain and answers none (504 SI after the stream idle timeout, or never).", "Add envoy.filters.http.router as the last HTTP filter of the connection manager.";
        RouteToMissingCluster = "route-to-missing-cluster", E, "A route or TCP chain sends traffic to a cluster the proxy does not have (503 NC).", "Create what the cluster comes from (a DestinationRule subset, a Service port, a ServiceEntry), or fix the route's destination.";
        ClusterWithoutEndpoints = "cluster-without-endpoints", W, "An EDS cluster has no endpoint in a dump taken with ?include_eds (503 UH).", "Check the service's pods and selector, the subset's labels, and the control plane's endpoint push.";
        InboundPermissive = "inbound-permissive", I, "An inbound port accepts plaintext as well as mTLS (PERMISSIVE).", "Apply a STRICT PeerAuthentication once every client sends mTLS.";
        StaleCertsEndpoint = "stale-certs-endpoint", I, "Envoy's /certs lists a certificate chain that no secret of the config dump holds.", "Compare with `envinspect secrets`: a draining listener still holds the old chain, or /certs and the dump were taken at different times.";
        AuthzDenyAll = "authz-deny-all", W, "An RBAC ALLOW filter has no policies, or only policies that can never match (an AuthorizationPolicy with `spec: {}`): every request is denied.", "Add the ALLOW rules the workload needs, or remove the empty policy.";
        JwtNotEnforced = "jwt-not-enforced", W, "jwt_authn lets a request without a token through (allow_missing) and no RBAC policy requires a request principal: requests with no token are served.", "Add an AuthorizationPolicy that requires requestPrincipals (e.g. `requestPrincipals: [\"*\"]`), or a DENY for `notRequestPrincipals: [\"*\"]`.";
        PrincipalOnPermissivePort = "principal-on-permissive-port", W, "A port accepts plaintext as well as mTLS, and its ALLOW policies name peer identities: plaintext callers have none, never match and are denied.", "Make the port STRICT (PeerAuthentication), or allow plaintext callers by other attributes.";
        PrincipalForeignTrustDomain = "principal-foreign-trust-domain", W, "An RBAC principal names a SPIFFE ID in a trust domain the proxy holds no root or bundle for: no such peer can present a certificate it accepts.", "Fix the principal's trust domain, configure trust-domain aliases, or add the federated bundle.";
        AuthzDryRun = "authz-dry-run", I, "RBAC policies are evaluated in dry-run (shadow rules): they are logged in stats, not enforced.", "Remove the dry-run annotation (istio.io/dry-run) once the policy behaves as intended.";
        ExtAuthzFailOpen = "ext-authz-fail-open", W, "An ext_authz filter lets requests through when its server cannot be reached (failure_mode_allow).", "Set failure_mode_allow: false unless failing open is intended; watch ext_authz error stats.";
        JwksClusterMissing = "jwks-cluster-missing", E, "A jwt_authn provider fetches its JWKS through a cluster the proxy does not have: every token fails.", "Create the cluster (a ServiceEntry for the JWKS host), or inline the JWKS.";
        AuthzTcpDroppedHttpRule = "authz-tcp-dropped-http-rule", W, "A network RBAC ALLOW filter has no policies while HTTP chains of the same listener have ALLOW policies: Istio dropped ALLOW rules with HTTP-only fields for the TCP port, which denies every connection.", "Name the port's protocol (HTTP) so the HTTP rules apply, or add TCP-level rules (ports, principals, IPs) to the policy.";
        RootMismatch = "root-mismatch", E, "Two proxies that talk to each other (bundle) trust no root CA in common.", "Distribute a common root (or both roots during a rotation) to every proxy's trust bundle.";
        SanUnsatisfiable = "san-unsatisfiable", E, "A client's SAN matchers reject the identity the serving proxies in the bundle actually present.", "Fix the DestinationRule subjectAltNames / ServiceEntry, or the server's service account.";
        SanIdentityAbsent = "san-identity-absent", W, "A SAN matcher names an identity no proxy in the bundle presents.", "Check the service account of the workloads behind the service, or drop the stale identity.";
        PlaintextToStrict = "plaintext-to-strict", E, "A client sends plaintext to a port its server in the bundle accepts only with mTLS (STRICT).", "Let the client use mTLS (ISTIO_MUTUAL, auto-mTLS), or relax the server's PeerAuthentication.";
        MtlsToUncapturedPort = "mtls-to-uncaptured-port", E, "A client sends mTLS (ISTIO_MUTUAL or MUTUAL) to a server port that the server pod's traffic redirection leaves alone: the application receives a TLS handshake it does not expect.", "Capture the port (traffic.sidecar.istio.io/includeInboundPorts, excludeInboundPorts), or send plaintext to it (DestinationRule tls mode DISABLE for that port).";
        MultipleTrustDomains = "multiple-trust-domains", W, "The bundle's proxies present identities in more than one trust domain.", "Configure trust-domain aliases or federated bundles, or finish the trust-domain migration.";
        AuthzPrincipalUnknown = "authz-principal-unknown", W, "An ALLOW policy of a proxy in the bundle names a SPIFFE ID that no proxy in the bundle presents.", "Check for a renamed service account or namespace; fix the policy's principals, or ignore it for callers outside the bundle.";
        AmbientRootMismatch = "ambient-root-mismatch", E, "A ztunnel (bundle) trusts no root CA that a sidecar or waypoint of the bundle trusts.", "Give ztunnel and the Envoy proxies the same mesh root (istiod's CA, or the external CA's bundle for both).";
        WaypointAbsent = "waypoint-absent", I, "Workloads a ztunnel knows send through a waypoint none of whose pods is in the bundle: its policies and routes are not checked.", "Collect the waypoint's namespace in the bundle (istioctl bug-report --include).";
        FleetCertExpiring = "fleet-cert-expiring", W, "A certificate anywhere in the bundle expires within --expiry-warning (default 24h).", "Check the rotation of the proxies named.";
        FleetExpectationUnmatched = "fleet-expectation-unmatched", W, "An entry of the fleet expectations (bundle --expect) selects no proxy of the bundle: nothing it expects was checked.", "Fix the selector (namespace, pod, identity globs), or drop the entry.";
        // istiod's syncz (`proxy-status`, `bundle`; docs/rules.md, "Fleet rules").
        SyncNack = "sync-nack", E, "istiod's syncz says the proxy refused (NACKed) the last push of an xDS type: it serves an earlier version.", "Read the reason (syncz lastError, or the proxy's error_state) and fix the configuration istiod generates from; istioctl proxy-status shows ERROR.";
        SyncStale = "sync-stale", W, "istiod sent an xDS type the proxy has not acknowledged (STALE, or never): it may serve an older version, so a fixed manifest can look broken.", "Look again after a few seconds; a proxy stale for long is overloaded, disconnected or stuck: check its log and istiod's.";
        SyncDumpDiffers = "sync-dump-differs", I, "The proxy's dump accepted another CDS or LDS version than istiod saw acknowledged: the two were captured at different moments, or another control plane feeds it.", "Capture the dump and syncz together (one bug-report) before comparing them.";
        // Causes `explain` names for access-log lines (docs/rules.md, "Access-log causes").
        LogNoVirtualHost = "log-no-virtual-host", E, "404 NR: no virtual host of the listener's route configuration has a domain for the request's Host.", "Add the host to a VirtualService/HTTPRoute bound to this proxy, or call a host it knows.";
        LogNoRoute = "log-no-route", E, "404 NR: a virtual host takes the Host but none of its routes matches the request.", "Add a route for the path and method, or fix the request.";
        LogNoFilterChain = "log-no-filter-chain", E, "A connection matched no filter chain of its listener and there is no default chain (NR, filter_chain_not_found): Envoy closed it.", "Give the listener a chain for the destination, SNI or transport the client uses (a Service port, a Gateway server), or fix the client.";
        LogClusterNotFound = "log-cluster-not-found", E, "503 NC: the route names a cluster the proxy does not have.", "Create what the cluster comes from (a Service port, a DestinationRule subset, a ServiceEntry), or fix the route.";
        LogNoHealthyUpstream = "log-no-healthy-upstream", E, "503 UH: the cluster had no healthy host: no endpoint, all unhealthy, or all ejected.", "Check the service's pods and selector, the subset's labels, health checks and outlier detection.";
        LogUpstreamTlsSan = "log-upstream-tls-san", E, "UF (URX): the upstream's certificate has no SAN the cluster's SAN matchers accept.", "Fix the DestinationRule subjectAltNames (or the server's identity) so they agree.";
        LogUpstreamTlsUntrusted = "log-upstream-tls-untrusted", E, "UF (URX): the upstream's certificate was not issued by a root the cluster trusts.", "Give the cluster the server's CA (caCertificates, the trust bundle), or reissue the server's certificate.";
        LogUpstreamTlsExpired = "log-upstream-tls-expired", E, "UF (URX): the upstream presented an expired certificate.", "Renew the server's certificate and check its rotation.";
        LogUpstreamTlsFailure = "log-upstream-tls-failure", E, "UF (URX): the TLS handshake with the upstream failed for another reason (protocol, cipher, ALPN, a client certificate it refused).", "Read the transport failure reason; align the cluster's TLS settings with the server's.";
        LogUpstreamConnectFailure = "log-upstream-connect-failure", E, "UF (URX): Envoy could not open a connection to the upstream: refused, unreachable, or no answer within connect_timeout.", "Check that the endpoint listens on the port, and the network between them.";
        LogUpstreamReset = "log-upstream-reset", E, "UR, UC, LR, URX: the upstream connection was reset or closed before the response completed.", "Check the upstream's logs, its connection limits and idle timeouts.";
        LogUpstreamOverflow = "log-upstream-overflow", E, "503 UO: a circuit breaker of the cluster was full (pending requests, requests, connections or retries).", "Raise the threshold the counters name (DestinationRule connectionPool), or add capacity.";
        LogUpstreamTimeout = "log-upstream-timeout", E, "504 UT: the upstream did not answer within the route's timeout.", "Speed the upstream up, or raise the route timeout (VirtualService http[].timeout).";
        LogRbacDeniedPolicy = "log-rbac-denied-policy", E, "403 (or a closed connection): an RBAC policy matched and denied: a DENY policy, named as the authz view names it.", "Change the policy, or the caller or request it matched.";
        LogRbacNoAllow = "log-rbac-no-allow", E, "403 rbac_access_denied_matched_policy[none]: an RBAC ALLOW filter matched none of its policies.", "Add an ALLOW rule for this caller and request, or call with an identity the policies name.";
        LogRbacNetworkDenied = "log-rbac-network-denied", E, "A network RBAC filter closed a connection (connection termination details rbac_access_denied_matched_policy[…]).", "Allow the caller's identity, namespace or address for this port, or remove the DENY rule that matched.";
        LogJwtMissing = "log-jwt-missing", E, "401: the request carried no JWT where jwt_authn requires one.", "Send a token, or allow requests without one where intended.";
        LogJwtInvalid = "log-jwt-invalid", E, "401 (403 for audiences): jwt_authn refused the request's token (signature, issuer, audience, expiry, JWKS).", "Read the reason in the details; check the token, the provider's issuer and audiences and its JWKS.";
        LogExtAuthzDenied = "log-ext-authz-denied", E, "403 UAEX: the external authorization server denied the request.", "Its own logs say which rule denied.";
        LogExtAuthzError = "log-ext-authz-error", E, "UAEX with an error: the external authorization server could not be reached or failed, and the filter does not fail open.", "Check the authorization service and its cluster.";
        LogRateLimited = "log-rate-limited", E, "429 RL (or RLSE): a rate limit refused the request, or the rate limit service failed.", "Raise the limit for this client, or fix the rate limit service.";
        LogFaultInjected = "log-fault-injected", W, "FI: a fault filter aborted the request on purpose.", "Remove the fault (VirtualService fault, HTTP fault filter) when the test is over.";
        LogDownstreamProtocolError = "log-downstream-protocol-error", E, "DPE or IH: the client's request broke HTTP or carried invalid x-envoy headers; Envoy refused it before routing.", "Fix the client; the details name the codec error.";
        LogUpstreamProtocolError = "log-upstream-protocol-error", E, "UPE: the upstream broke the protocol the cluster speaks to it.", "Check what the upstream speaks against the cluster's protocol options (HTTP/2, h2c, TLS).";
        LogStreamTimeout = "log-stream-timeout", E, "SI, DT or UMSDR: the stream ran past an idle timeout or a maximum duration.", "Raise the connection manager's or route's idle timeout or max stream duration, or make the stream shorter.";
        LogDownstreamReset = "log-downstream-reset", W, "DC: the client closed the connection before the response was complete.", "Look at the client's own timeout and retries, not at the proxy.";
        LogOverload = "log-overload", E, "OM or DO: Envoy shed the request under load (overload manager, drop_overloads).", "Give the proxy more resources, or lower its load.";
        LogDnsFailure = "log-dns-failure", E, "DF: DNS resolution of the upstream host failed.", "Check the host name of the cluster and the proxy's DNS.";
        LogUpstreamStatus = "log-upstream-status", W, "An error status the upstream itself answered (via_upstream): Envoy passed it on.", "Look at the application, not the proxy.";
        LogLocalReply = "log-local-reply", W, "An error status the route answers itself (direct_response).", "Change the route if that answer is not intended.";
        LogOtherVersion = "log-other-version", E, "The log line names a route, cluster or policy the dump does not have: it was written under another configuration version.", "Take the dump and the log at the same time (a bug-report does), or compare version_info with the line's time.";
        LogCannotTell = "log-cannot-tell", E, "A failing line whose cause envinspect cannot tell from what the line and the dump say; the explanation says what is missing.", "Add %RESPONSE_CODE_DETAILS%, %UPSTREAM_TRANSPORT_FAILURE_REASON% and %DOWNSTREAM_LOCAL_ADDRESS% to the access-log format (Istio's defaults have them).";
        LogOk = "log-ok", I, "A line that did not fail (listed with --all).", "Nothing to fix.";
        // Counters that prove a failure (`--stats`; docs/rules.md, "Counters").
        StatTlsVerifyFailed = "stat-tls-verify-failed", E, "ssl.fail_verify_san, fail_verify_error or fail_verify_no_cert counted on a cluster or listener: peers presented certificates that did not verify.", "SAN: fix the SAN matchers or the peer's identity; error: distribute the peer's root (or renew an expired certificate); no_cert: make the client present one.";
        StatTlsHandshakeFailed = "stat-tls-handshake-failed", W, "ssl.connection_error or ssl.no_certificate counted: TLS handshakes failed, or clients came without a certificate.", "Compare both sides' TLS settings (mTLS modes, versions, ALPN); a plaintext client on a TLS port counts here too.";
        StatUpstreamConnectFailed = "stat-upstream-connect-failed", E, "upstream_cx_connect_fail or connect_timeout counted on a cluster.", "Check that the cluster's endpoints listen and are reachable; a TLS verification failure also counts as a connect failure.";
        StatNoHealthyUpstream = "stat-no-healthy-upstream", E, "upstream_cx_none_healthy counted: requests found no healthy host (503 UH).", "Check the cluster's endpoints, health checks and outlier detection.";
        StatCircuitBreaker = "stat-circuit-breaker", E, "An overflow counter (upstream_rq_pending_overflow, upstream_cx_overflow, upstream_rq_retry_overflow) or an open circuit-breaker gauge on a cluster (503 UO).", "Raise the threshold named (DestinationRule connectionPool), or add capacity.";
        StatOutlierEjection = "stat-outlier-ejection", W, "Outlier detection ejected hosts of a cluster.", "Look at the ejected hosts' errors; tune outlierDetection if ejections are spurious.";
        StatRetriesExhausted = "stat-retries-exhausted", W, "upstream_rq_retry_limit_exceeded counted: requests failed after every retry (URX).", "Fix what the retries hit (the counters beside it say: connect failures, resets, 5xx).";
        StatUpstreamTimeout = "stat-upstream-timeout", W, "upstream_rq_timeout or upstream_rq_per_try_timeout counted (504 UT).", "Speed the upstream up, or raise the route's timeout.";
        StatUpstreamReset = "stat-upstream-reset", W, "The upstream reset requests in flight (upstream_rq_rx_reset, upstream_cx_destroy_remote_with_active_rq).", "Check the upstream's logs, limits and idle timeouts.";
        StatNoFilterChain = "stat-no-filter-chain", E, "no_filter_chain_match counted on a listener: connections were closed for want of a chain.", "Give the listener a chain for what clients send (port, SNI, transport), or fix the clients.";
        StatNoRoute = "stat-no-route", E, "no_route or no_cluster counted on an HTTP connection manager (404 NR, 503 NC).", "`envinspect explain` on the access log names the Host, path and route; add the virtual host, route or cluster.";
        StatRbacDenied = "stat-rbac-denied", W, "An RBAC filter (HTTP or network) denied requests or connections.", "`envinspect explain` on the access log names the policy; `envinspect authz` shows the layer.";
        StatRbacShadowDenied = "stat-rbac-shadow-denied", I, "An RBAC filter's shadow (dry-run) rules would have denied requests.", "Review before enforcing the dry-run policy.";
        StatJwtDenied = "stat-jwt-denied", W, "jwt_authn refused requests (missing or invalid tokens).", "`envinspect explain` on the access log gives the reason per request.";
        StatExtAuthzDenied = "stat-ext-authz-denied", W, "ext_authz denied requests, failed, or let them through because it failed (failure_mode_allowed).", "Check the authorization service; error and failure_mode_allowed mean it was not reached.";
        StatUpdateRejected = "stat-update-rejected", E, "update_rejected counted for LDS, CDS, RDS or SDS: Envoy refused configuration (a NACK) and serves the previous version.", "Read the resource's error_state in the dump, or the control plane's sync status (istioctl proxy-status).";
        UndecodableType = "undecodable-type", I, "A configuration of a type envinspect does not know is kept as raw JSON.", "Nothing to fix in the proxy; envinspect does not look inside it.";
    ]
    drift: [
        DriftIdentity = "drift-identity", "The proxy presents a different workload identity (SPIFFE ID) than expected.";
        DriftTrustDomain = "drift-trust-domain", "The proxy's identity is in a different trust domain than expected.";
        DriftRootMissing = "drift-root-missing", "An expected root CA is not among the roots the proxy trusts.";
        DriftRootExtra = "drift-root-extra", "The proxy trusts a root CA the expectations do not list.";
        DriftOutboundPolicy = "drift-outbound-policy", "The outbound traffic policy (ALLOW_ANY, REGISTRY_ONLY) differs.";
        DriftInboundMode = "drift-inbound-mode", "An inbound port accepts traffic with another mTLS mode than expected.";
        DriftInboundExtra = "drift-inbound-extra", "An inbound port has an mTLS mode the expectations do not list.";
        DriftClusterMissing = "drift-cluster-missing", "No cluster matches an expected cluster selector.";
        DriftClusterExtra = "drift-cluster-extra", "A cluster exists that no expectation selects.";
        DriftTlsKind = "drift-tls-kind", "A cluster protects its connections differently (istio-mtls, mutual, simple, plaintext, auto).";
        DriftSni = "drift-sni", "A cluster sends a different SNI.";
        DriftAlpn = "drift-alpn", "A cluster offers different ALPN protocols.";
        DriftPeerNotAccepted = "drift-peer-not-accepted", "A cluster's SAN matchers reject a peer identity that must be accepted.";
        DriftPeerNotRejected = "drift-peer-not-rejected", "A cluster's SAN matchers accept a peer identity that must be rejected.";
        DriftSecretNotActive = "drift-secret-not-active", "An expected secret is missing, warming or uninitialized.";
        DriftSecretExtra = "drift-secret-extra", "An active secret exists that the expectations do not list.";
        DriftCertTimeLeft = "drift-cert-time-left", "A certificate has less time left than the expected minimum.";
        DriftCertLifetime = "drift-cert-lifetime", "A certificate is valid for longer in total than the expected maximum.";
        DriftAuthzPolicyMissing = "drift-authz-policy-missing", "An expected authorization policy is gone (a DENY gone lets through what it refused).";
        DriftAuthzPolicyExtra = "drift-authz-policy-extra", "An authorization policy exists that the expectations do not list.";
        DriftAuthzPolicyChanged = "drift-authz-policy-changed", "An authorization policy's action (ALLOW, DENY, LOG) or enforcement (dry-run) changed.";
        DriftAuthzPrincipals = "drift-authz-principals", "An authorization policy names other callers than expected: principals widened or narrowed.";
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_parse_back() {
        let mut ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for r in RuleId::ALL {
            assert_eq!(RuleId::parse(r.as_str()), Some(*r));
            assert_eq!(r.rule().id, *r);
        }
        assert_eq!(RuleId::parse("no-such-rule"), None);
        assert_eq!(CATALOG.len() + DRIFT.len(), RuleId::ALL.len());
        assert!(CATALOG.iter().all(|r| r.kind == RuleKind::Finding));
        assert!(DRIFT
            .iter()
            .all(|r| r.kind == RuleKind::Drift && r.level == Level::Error));
    }

    #[test]
    fn written_as_its_id_and_ordered_by_it() {
        assert_eq!(
            serde_json::to_string(&RuleId::CertExpired).unwrap(),
            "\"cert-expired\""
        );
        assert_eq!(RuleId::CertExpired.to_string(), "cert-expired");
        // By id, not by declaration order (cert-expired is declared first).
        assert!(RuleId::CertExpired < RuleId::ChainOrder);
        assert!(RuleId::StatNoRoute > RuleId::CertExpired);
    }
}
