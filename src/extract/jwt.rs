//! jwt_authn → the model: providers (issuer, audiences, token locations, inline or remote JWKS
//! with only public key parameters kept), rules and the requirement map.

use envoy_types::pb::envoy::config::core::v3::{
    data_source::Specifier, http_uri::HttpUpstreamType, DataSource,
};
use envoy_types::pb::envoy::extensions::filters::http::jwt_authn::v3 as jwt;

use crate::model::authz::{
    Jwk, Jwks, JwtAuthn, JwtProvider, JwtRequirement, JwtRule, TokenLocations,
};
use crate::model::http::RouteMatch;

pub(crate) fn jwt_authn(j: jwt::JwtAuthentication) -> JwtAuthn {
    let providers = j
        .providers
        .into_iter()
        .map(|(name, p)| (name, provider(p)))
        .collect();
    let rules = j
        .rules
        .into_iter()
        .map(|r| JwtRule {
            matcher: r
                .r#match
                .map(super::request_match::route_match)
                .unwrap_or_else(RouteMatch::any),
            requires: match r.requirement_type {
                Some(jwt::requirement_rule::RequirementType::Requires(req)) => requirement(req),
                Some(jwt::requirement_rule::RequirementType::RequirementName(n)) => {
                    Some(JwtRequirement::Named(n))
                }
                None => None,
            },
        })
        .collect();
    let requirement_map = j
        .requirement_map
        .into_iter()
        .filter_map(|(k, v)| Some((k, requirement(v)?)))
        .collect();
    JwtAuthn {
        providers,
        rules,
        requirement_map,
        bypass_cors_preflight: j.bypass_cors_preflight,
        filter_state_rules: j.filter_state_rules.is_some(),
    }
}

fn requirement(r: jwt::JwtRequirement) -> Option<JwtRequirement> {
    use jwt::jwt_requirement::RequiresType as T;
    Some(match r.requires_type? {
        T::ProviderName(n) => JwtRequirement::Provider(n),
        T::ProviderAndAudiences(p) => {
            JwtRequirement::ProviderAndAudiences(p.provider_name, p.audiences)
        }
        T::RequiresAny(l) => {
            JwtRequirement::Any(l.requirements.into_iter().filter_map(requirement).collect())
        }
        T::RequiresAll(l) => {
            JwtRequirement::All(l.requirements.into_iter().filter_map(requirement).collect())
        }
        T::AllowMissingOrFailed(_) => JwtRequirement::AllowMissingOrFailed,
        T::AllowMissing(_) => JwtRequirement::AllowMissing,
        T::ExtractOnlyWithoutValidation(_) => JwtRequirement::ExtractOnlyWithoutValidation,
    })
}

fn provider(p: jwt::JwtProvider) -> JwtProvider {
    use jwt::jwt_provider::JwksSourceSpecifier as J;
    let jwks = match p.jwks_source_specifier {
        Some(J::LocalJwks(d)) => local_jwks(&d),
        Some(J::RemoteJwks(r)) => {
            let (uri, cluster) = match r.http_uri {
                Some(u) => {
                    let cluster = match u.http_upstream_type {
                        Some(HttpUpstreamType::Cluster(c)) => c,
                        None => String::new(),
                    };
                    (u.uri, cluster)
                }
                None => (String::new(), String::new()),
            };
            Jwks::Remote { uri, cluster }
        }
        None => Jwks::None,
    };
    JwtProvider {
        issuer: p.issuer,
        audiences: p.audiences,
        jwks,
        locations: TokenLocations {
            headers: p
                .from_headers
                .into_iter()
                .map(|h| (h.name.to_ascii_lowercase(), h.value_prefix))
                .collect(),
            params: p.from_params,
            cookies: p.from_cookies,
        },
        forward: p.forward,
        payload_in_metadata: p.payload_in_metadata,
        claim_to_headers: p
            .claim_to_headers
            .into_iter()
            .map(|c| (c.header_name, c.claim_name))
            .collect(),
        clock_skew_seconds: p.clock_skew_seconds,
        require_expiration: p.require_expiration,
    }
}

fn local_jwks(d: &DataSource) -> Jwks {
    let text = match &d.specifier {
        Some(Specifier::InlineString(s)) => s.clone(),
        Some(Specifier::InlineBytes(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Specifier::Filename(f)) => {
            return Jwks::Local {
                source: format!("file {f}"),
            }
        }
        Some(Specifier::EnvironmentVariable(e)) => {
            return Jwks::Local {
                source: format!("environment variable {e}"),
            }
        }
        None => {
            return Jwks::Inline {
                keys: Vec::new(),
                problem: Some("empty local_jwks".into()),
            }
        }
    };
    match parse_jwks(&text) {
        Ok(keys) => Jwks::Inline {
            keys,
            problem: None,
        },
        Err(problem) => Jwks::Inline {
            keys: Vec::new(),
            problem: Some(problem),
        },
    }
}

/// A JWKS document (`{"keys": [...]}`), or a single JWK as Envoy also accepts. Only public
/// parameters are kept.
pub(crate) fn parse_jwks(text: &str) -> Result<Vec<Jwk>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("JWKS is not JSON: {e}"))?;
    let keys = match v.get("keys") {
        Some(serde_json::Value::Array(keys)) => keys.clone(),
        Some(_) => return Err("JWKS `keys` is not a list".into()),
        None if v.get("kty").is_some() => vec![v],
        None => return Err("JWKS has no `keys`".into()),
    };
    let field =
        |k: &serde_json::Value, f: &str| k.get(f).and_then(|x| x.as_str()).map(String::from);
    Ok(keys
        .iter()
        .filter_map(|k| {
            let kty = field(k, "kty")?;
            let params = ["n", "e", "x", "y"]
                .into_iter()
                .filter_map(|p| Some((p.to_string(), field(k, p)?)))
                .collect();
            Some(Jwk {
                kid: field(k, "kid"),
                kty,
                alg: field(k, "alg"),
                crv: field(k, "crv"),
                params,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_keeps_public_parameters_only() {
        let keys = parse_jwks(
            r#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB","d":"SECRET","alg":"RS256"},{"kty":"EC","crv":"P-256","x":"xx","y":"yy"}]}"#,
        )
        .unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].kid.as_deref(), Some("k1"));
        assert!(!keys[0].params.contains_key("d"));
        assert_eq!(keys[1].crv.as_deref(), Some("P-256"));
        assert!(parse_jwks("[").is_err());
        assert!(parse_jwks(r#"{"keys": 3}"#).is_err());
    }
}
