//! The drift rules `check` and `diff` report: stable ids (each has an anchor in docs/rules.md)
//! with a one-line description, for SARIF's rule table and for `--help`-like listings.

pub const IDENTITY: &str = "drift-identity";
pub const TRUST_DOMAIN: &str = "drift-trust-domain";
pub const ROOT_MISSING: &str = "drift-root-missing";
pub const ROOT_EXTRA: &str = "drift-root-extra";
pub const OUTBOUND_POLICY: &str = "drift-outbound-policy";
pub const INBOUND_MODE: &str = "drift-inbound-mode";
pub const INBOUND_EXTRA: &str = "drift-inbound-extra";
pub const CLUSTER_MISSING: &str = "drift-cluster-missing";
pub const CLUSTER_EXTRA: &str = "drift-cluster-extra";
pub const TLS_KIND: &str = "drift-tls-kind";
pub const SNI: &str = "drift-sni";
pub const ALPN: &str = "drift-alpn";
pub const PEER_NOT_ACCEPTED: &str = "drift-peer-not-accepted";
pub const PEER_NOT_REJECTED: &str = "drift-peer-not-rejected";
pub const SECRET_NOT_ACTIVE: &str = "drift-secret-not-active";
pub const SECRET_EXTRA: &str = "drift-secret-extra";
pub const CERT_TIME_LEFT: &str = "drift-cert-time-left";
pub const CERT_LIFETIME: &str = "drift-cert-lifetime";
pub const AUTHZ_POLICY_MISSING: &str = "drift-authz-policy-missing";
pub const AUTHZ_POLICY_EXTRA: &str = "drift-authz-policy-extra";
pub const AUTHZ_POLICY_CHANGED: &str = "drift-authz-policy-changed";
pub const AUTHZ_PRINCIPALS: &str = "drift-authz-principals";

/// Every drift rule with its short description, in documentation order.
pub const RULES: &[(&str, &str)] = &[
    (IDENTITY, "The proxy presents a different workload identity (SPIFFE ID) than expected."),
    (TRUST_DOMAIN, "The proxy's identity is in a different trust domain than expected."),
    (ROOT_MISSING, "An expected root CA is not among the roots the proxy trusts."),
    (ROOT_EXTRA, "The proxy trusts a root CA the expectations do not list."),
    (OUTBOUND_POLICY, "The outbound traffic policy (ALLOW_ANY, REGISTRY_ONLY) differs."),
    (INBOUND_MODE, "An inbound port accepts traffic with another mTLS mode than expected."),
    (INBOUND_EXTRA, "An inbound port has an mTLS mode the expectations do not list."),
    (CLUSTER_MISSING, "No cluster matches an expected cluster selector."),
    (CLUSTER_EXTRA, "A cluster exists that no expectation selects."),
    (TLS_KIND, "A cluster protects its connections differently (istio-mtls, mutual, simple, plaintext, auto)."),
    (SNI, "A cluster sends a different SNI."),
    (ALPN, "A cluster offers different ALPN protocols."),
    (PEER_NOT_ACCEPTED, "A cluster's SAN matchers reject a peer identity that must be accepted."),
    (PEER_NOT_REJECTED, "A cluster's SAN matchers accept a peer identity that must be rejected."),
    (SECRET_NOT_ACTIVE, "An expected secret is missing, warming or uninitialized."),
    (SECRET_EXTRA, "An active secret exists that the expectations do not list."),
    (CERT_TIME_LEFT, "A certificate has less time left than the expected minimum."),
    (CERT_LIFETIME, "A certificate is valid for longer in total than the expected maximum."),
    (AUTHZ_POLICY_MISSING, "An expected authorization policy is gone (a DENY gone lets through what it refused)."),
    (AUTHZ_POLICY_EXTRA, "An authorization policy exists that the expectations do not list."),
    (AUTHZ_POLICY_CHANGED, "An authorization policy's action (ALLOW, DENY, LOG) or enforcement (dry-run) changed."),
    (AUTHZ_PRINCIPALS, "An authorization policy names other callers than expected: principals widened or narrowed."),
];

pub fn describe(id: &str) -> &'static str {
    RULES
        .iter()
        .find(|(r, _)| *r == id)
        .map(|(_, d)| *d)
        .unwrap_or("")
}
