//! The names Envoy gives its resources: clusters, listeners, route configurations, secrets.
//! Envoy accepts any string as a name, so these check nothing; they keep one kind of name from
//! standing in for another (a cluster where a secret is meant) and say in a signature which is
//! meant. Each reads as the `str` it is (`Deref`), compares with strings, and is written as one.

macro_rules! resource_name {
    ($(#[$doc:meta])* $t:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $t(String);

        impl $t {
            /// The name as Envoy writes it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $t {
            fn from(s: String) -> Self {
                $t(s)
            }
        }

        impl From<&str> for $t {
            fn from(s: &str) -> Self {
                $t(s.to_string())
            }
        }

        impl std::str::FromStr for $t {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(s.into())
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $t {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<&$t> for String {
            fn from(n: &$t) -> String {
                n.0.clone()
            }
        }

        impl From<$t> for String {
            fn from(n: $t) -> String {
                n.0
            }
        }

        impl PartialEq<$t> for String {
            fn eq(&self, other: &$t) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<String> for $t {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

resource_name!(
    /// A cluster's name: `outbound|9080||reviews.default.svc.cluster.local`, `xds-grpc`.
    ClusterName
);
resource_name!(
    /// A listener's name: `virtualInbound`, `0.0.0.0_8080`.
    ListenerName
);
resource_name!(
    /// A route configuration's name (what RDS asks for): `8080`, `inbound|9080||`.
    RouteName
);
resource_name!(
    /// A secret's name (what SDS asks for): `default`, `ROOTCA`; for certificates carried inline
    /// or read from a file, the name the report gives them.
    SecretName
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_read_as_strings() {
        let c: ClusterName = "outbound|9080||reviews.default.svc.cluster.local"
            .parse()
            .unwrap();
        assert_eq!(c.to_string().parse::<ClusterName>().unwrap(), c);
        assert_eq!(c, "outbound|9080||reviews.default.svc.cluster.local");
        assert!(c.starts_with("outbound|"));
        let s = SecretName::from("default");
        assert_eq!(serde_json::to_value(&s).unwrap(), "default");
        let back: SecretName = serde_json::from_value(serde_json::json!("default")).unwrap();
        assert_eq!(back, s);
        let mut m = std::collections::BTreeMap::new();
        m.insert(ListenerName::from("virtualInbound"), 1);
        assert_eq!(m.get("virtualInbound"), Some(&1));
        assert_eq!(RouteName::from("8080").as_str(), "8080");
    }
}
