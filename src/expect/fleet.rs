//! Fleet expectations for `bundle --expect`: expectations applied per proxy, each item selecting
//! proxies by namespace, pod and identity globs.
//!
//! ```yaml
//! version: 1
//! proxies:
//! - select: {namespace: shop, pod: "cart-*"}
//!   expect: {version: 1, outbound: {policy: REGISTRY_ONLY}}
//! ```

use serde::{Deserialize, Serialize};

use super::{glob, ExpectError, Expectations, VERSION};

/// Expectations for a bundle's proxies (`bundle --expect`), each applied to the proxies it
/// selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FleetExpectations {
    /// The format's version (1).
    pub version: u32,
    /// Selectors and their expectations.
    pub proxies: Vec<FleetItem>,
}

/// Which proxies, and what they must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FleetItem {
    /// Which proxies (every one when empty).
    #[serde(default)]
    pub select: ProxySelect,
    /// What each of them must be.
    pub expect: Expectations,
}

/// Globs (`*`, `?`); an absent one matches every proxy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProxySelect {
    /// The pod's namespace.
    pub namespace: Option<String>,
    /// The pod's name.
    pub pod: Option<String>,
    /// The proxy's SPIFFE ID.
    pub identity: Option<String>,
}

impl std::fmt::Display for ProxySelect {
    /// `{namespace: default, pod: 'bar-*'}` as the expectations file writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            ("namespace", &self.namespace),
            ("pod", &self.pod),
            ("identity", &self.identity),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v:?}")))
        .collect();
        write!(f, "{{{}}}", parts.join(", "))
    }
}

impl ProxySelect {
    /// `proxy` is `namespace/pod` (or a file path, matched as the pod).
    pub fn matches(&self, proxy: &str, identity: Option<&str>) -> bool {
        let (ns, pod) = proxy
            .split_once('/')
            .filter(|(_, p)| !p.contains('/'))
            .unwrap_or(("", proxy));
        let ok = |pat: &Option<String>, v: &str| pat.as_deref().is_none_or(|p| glob(p, v));
        ok(&self.namespace, ns)
            && ok(&self.pod, pod)
            && self
                .identity
                .as_deref()
                .is_none_or(|p| identity.is_some_and(|i| glob(p, i)))
    }
}

impl FleetExpectations {
    /// YAML or JSON, errors with line and column as for [`Expectations::parse`].
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Self, ExpectError> {
        let f: FleetExpectations = super::from_yaml(name, super::utf8(name, bytes)?)?;
        if f.version != VERSION || f.proxies.iter().any(|p| p.expect.version != VERSION) {
            return Err(ExpectError::Invalid {
                name: name.into(),
                what: format!("only version {VERSION} is supported"),
            });
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_and_parsing() {
        let s = ProxySelect {
            namespace: Some("shop".into()),
            pod: Some("cart-*".into()),
            identity: None,
        };
        assert!(s.matches("shop/cart-7d9", None));
        assert!(!s.matches("web/cart-7d9", None) && !s.matches("shop/pay-1", None));
        let id = ProxySelect {
            identity: Some("spiffe://cluster.local/ns/shop/*".into()),
            ..Default::default()
        };
        assert!(
            id.matches("x/y", Some("spiffe://cluster.local/ns/shop/sa/cart"))
                && !id.matches("x/y", None)
        );
        let f = FleetExpectations::parse("f.yaml", b"version: 1\nproxies:\n- select: {pod: 'a-*'}\n  expect: {version: 1, outbound: {policy: ALLOW_ANY}}\n").unwrap();
        assert_eq!(f.proxies.len(), 1);
        let e = FleetExpectations::parse("f.yaml", b"version: 1\nproxies:\n- selct: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.yaml:3:"), "{e}");
    }
}
