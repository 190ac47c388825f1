//! JWT verification as Envoy's jwt_authn does it (`source/common/jwt/`,
//! `filters/http/jwt_authn/authenticator.cc`): parse, issuer, time (60 s default skew), audience,
//! then the signature against the provider's inline JWKS (RS*, PS*, ES256/384, EdDSA). Status
//! texts are Envoy's, so the response details match `%RESPONSE_CODE_DETAILS%`.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::signature;
use serde_json::{Map, Value};

use crate::model::authz::{Jwk, JwtProvider};

/// Envoy's JWT statuses that a request can meet (`source/common/jwt/status.cc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Missed,
    NotYetValid,
    Expired,
    BadFormat,
    HeaderBadBase64,
    HeaderBadJson,
    HeaderBadAlg,
    HeaderNotImplementedAlg,
    HeaderBadKid,
    PayloadBadBase64,
    PayloadBadJson,
    IssNotString,
    SubNotString,
    IatNotInteger,
    NbfNotInteger,
    ExpNotInteger,
    AudNotString,
    SignatureBadBase64,
    UnknownIssuer,
    AudienceNotAllowed,
    VerificationFail,
    KidAlgMismatch,
}

impl Status {
    /// Envoy's text for the status.
    pub(crate) fn text(self) -> &'static str {
        use Status::*;
        match self {
            Missed => "Jwt is missing",
            NotYetValid => "Jwt not yet valid",
            Expired => "Jwt is expired",
            BadFormat => {
                "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"
            }
            HeaderBadBase64 => "Jwt header is an invalid Base64url encoded",
            HeaderBadJson => "Jwt header is an invalid JSON",
            HeaderBadAlg => "Jwt header [alg] field is required and must be a string",
            HeaderNotImplementedAlg => "Jwt header [alg] is not supported",
            HeaderBadKid => "Jwt header [kid] field is not a string",
            PayloadBadBase64 => "Jwt payload is an invalid Base64url encoded",
            PayloadBadJson => "Jwt payload is an invalid JSON",
            IssNotString => "Jwt payload [iss] field is not a string",
            SubNotString => "Jwt payload [sub] field is not a string",
            IatNotInteger => "Jwt payload [iat] field is not an integer",
            NbfNotInteger => "Jwt payload [nbf] field is not an integer",
            ExpNotInteger => "Jwt payload [exp] field is not an integer",
            AudNotString => "Jwt payload [aud] field is not a string or string list",
            SignatureBadBase64 => "Jwt signature is an invalid Base64url encoded",
            UnknownIssuer => "Jwt issuer is not configured",
            AudienceNotAllowed => "Audiences in Jwt are not allowed",
            VerificationFail => "Jwt verification fails",
            KidAlgMismatch => "Jwks doesn't have key to match kid or alg from Jwt",
        }
    }

    /// jwt_authn answers 403 for a disallowed audience, 401 for everything else.
    pub(crate) fn http_status(self) -> u16 {
        if self == Status::AudienceNotAllowed {
            403
        } else {
            401
        }
    }

    /// `%RESPONSE_CODE_DETAILS%`: `jwt_authn_access_denied{<text with spaces as _>}`.
    pub(crate) fn details(self) -> String {
        format!(
            "jwt_authn_access_denied{{{}}}",
            self.text().replace(' ', "_")
        )
    }
}

/// A parsed token (not yet verified).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub alg: String,
    pub kid: Option<String>,
    pub iss: String,
    pub sub: String,
    pub audiences: Vec<String>,
    pub nbf: u64,
    pub exp: u64,
    pub payload: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

const ALGS: &[&str] = &[
    "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
    "PS384", "PS512", "EdDSA",
];

/// Envoy's `absl::WebSafeBase64Unescape`: padding optional.
fn b64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
        .or_else(|| URL_SAFE.decode(s).ok())
}

/// Parses like Envoy's `Jwt::parseFromString`, in its order of checks.
pub(crate) fn parse(jwt: &str) -> Result<Token, Status> {
    let parts: Vec<&str> = jwt.split('.').filter(|p| !p.is_empty()).collect();
    if parts.len() != 3 {
        return Err(Status::BadFormat);
    }
    let header = b64(parts[0]).ok_or(Status::HeaderBadBase64)?;
    let header: Map<String, Value> =
        serde_json::from_slice(&header).map_err(|_| Status::HeaderBadJson)?;
    let alg = match header.get("alg") {
        Some(Value::String(a)) => a.clone(),
        _ => return Err(Status::HeaderBadAlg),
    };
    if !ALGS.contains(&alg.as_str()) {
        return Err(Status::HeaderNotImplementedAlg);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(Status::HeaderBadKid),
    };
    let payload = b64(parts[1]).ok_or(Status::PayloadBadBase64)?;
    let payload: Map<String, Value> =
        serde_json::from_slice(&payload).map_err(|_| Status::PayloadBadJson)?;
    let string = |k: &str, bad: Status| match payload.get(k) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad),
    };
    let int = |k: &str, bad: Status| match payload.get(k) {
        None => Ok(0),
        Some(v) => v.as_u64().ok_or(bad),
    };
    let iss = string("iss", Status::IssNotString)?;
    let sub = string("sub", Status::SubNotString)?;
    int("iat", Status::IatNotInteger)?;
    let nbf = int("nbf", Status::NbfNotInteger)?;
    let exp = int("exp", Status::ExpNotInteger)?;
    let audiences = match payload.get("aud") {
        None => Vec::new(),
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(xs)) => xs
            .iter()
            .map(|x| x.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .ok_or(Status::AudNotString)?,
        Some(_) => return Err(Status::AudNotString),
    };
    let signature = b64(parts[2]).ok_or(Status::SignatureBadBase64)?;
    Ok(Token {
        alg,
        kid,
        iss,
        sub,
        audiences,
        nbf,
        exp,
        payload,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature,
    })
}

/// Time and audience, as the authenticator checks them before the signature.
pub(crate) fn check_claims(
    t: &Token,
    p: &JwtProvider,
    audiences: &[String],
    now: u64,
) -> Result<(), Status> {
    let skew = if p.clock_skew_seconds > 0 {
        p.clock_skew_seconds as u64
    } else {
        60
    };
    if now + skew < t.nbf {
        return Err(Status::NotYetValid);
    }
    if t.exp != 0 && now > t.exp + skew {
        return Err(Status::Expired);
    }
    if p.require_expiration && t.exp == 0 {
        return Err(Status::Expired);
    }
    // An empty list allows any audience; otherwise one of the token's must be listed (Envoy
    // compares them without a scheme and trailing slash).
    let norm = |a: &str| {
        let a = a
            .strip_prefix("http://")
            .or_else(|| a.strip_prefix("https://"))
            .unwrap_or(a);
        a.trim_end_matches('/').to_string()
    };
    if !audiences.is_empty()
        && !t
            .audiences
            .iter()
            .any(|a| audiences.iter().any(|x| norm(x) == norm(a)))
    {
        return Err(Status::AudienceNotAllowed);
    }
    Ok(())
}

/// The signature against the keys (Envoy's `verifyJwtWithoutTimeChecking`): keys whose kid or
/// alg differ are passed over; none left is a kid/alg mismatch, a failed check is a failure.
/// `Err(None)`: the only fitting keys are of a kind envinspect cannot check (HMAC secrets are
/// not kept).
pub(crate) fn verify_signature(t: &Token, keys: &[Jwk]) -> Result<(), Option<Status>> {
    let mut tried = false;
    let mut uncheckable = false;
    for k in keys {
        if let (Some(tk), Some(kk)) = (&t.kid, &k.kid) {
            if !tk.is_empty() && !kk.is_empty() && tk != kk {
                continue;
            }
        }
        if k.alg.as_ref().is_some_and(|a| a != &t.alg) {
            continue;
        }
        let family_fits = match k.kty.as_str() {
            "RSA" => t.alg.starts_with("RS") || t.alg.starts_with("PS"),
            "EC" => t.alg.starts_with("ES"),
            "OKP" => t.alg == "EdDSA",
            "oct" => t.alg.starts_with("HS"),
            _ => false,
        };
        if !family_fits {
            continue;
        }
        tried = true;
        match check(t, k) {
            Some(true) => return Ok(()),
            Some(false) => {}
            None => uncheckable = true,
        }
    }
    if uncheckable {
        Err(None)
    } else if tried {
        Err(Some(Status::VerificationFail))
    } else {
        Err(Some(Status::KidAlgMismatch))
    }
}

/// One key: `Some(valid)`, or `None` when it cannot be checked here.
fn check(t: &Token, k: &Jwk) -> Option<bool> {
    let param = |p: &str| k.params.get(p).and_then(|v| b64(v));
    let msg = t.signing_input.as_bytes();
    let sig = t.signature.as_slice();
    match (k.kty.as_str(), t.alg.as_str()) {
        ("RSA", alg) => {
            let (n, e) = (param("n")?, param("e")?);
            let params: &signature::RsaParameters = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return None,
            };
            let key = signature::RsaPublicKeyComponents { n: &n, e: &e };
            Some(key.verify(params, msg, sig).is_ok())
        }
        ("EC", alg) => {
            let (x, y) = (param("x")?, param("y")?);
            let algorithm: &'static dyn signature::VerificationAlgorithm = match alg {
                "ES256" => &signature::ECDSA_P256_SHA256_FIXED,
                "ES384" => &signature::ECDSA_P384_SHA384_FIXED,
                _ => return None,
            };
            let mut point = vec![4u8];
            point.extend(x);
            point.extend(y);
            Some(
                signature::UnparsedPublicKey::new(algorithm, point)
                    .verify(msg, sig)
                    .is_ok(),
            )
        }
        ("OKP", "EdDSA") => {
            let x = param("x")?;
            Some(
                signature::UnparsedPublicKey::new(&signature::ED25519, x)
                    .verify(msg, sig)
                    .is_ok(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn parse_errors_in_envoys_order() {
        assert_eq!(parse("a.b").unwrap_err(), Status::BadFormat);
        assert_eq!(parse("!!.b.c").unwrap_err(), Status::HeaderBadBase64);
        let h = enc(r#"{"alg":"RS256"}"#);
        assert_eq!(
            parse(&format!("{}.x.y", enc("nope"))).unwrap_err(),
            Status::HeaderBadJson
        );
        assert_eq!(
            parse(&format!("{}.x.y", enc(r#"{"alg":"none"}"#))).unwrap_err(),
            Status::HeaderNotImplementedAlg
        );
        assert_eq!(
            parse(&format!("{h}.{}.c", enc(r#"{"exp":"soon"}"#))).unwrap_err(),
            Status::ExpNotInteger
        );
        let t = parse(&format!(
            "{h}.{}.c2ln",
            enc(r#"{"iss":"i","aud":["a","b"],"exp":5}"#)
        ))
        .unwrap();
        assert_eq!((t.iss.as_str(), t.exp), ("i", 5));
        assert_eq!(t.audiences, ["a", "b"]);
    }

    #[test]
    fn details_are_envoys() {
        assert_eq!(
            Status::VerificationFail.details(),
            "jwt_authn_access_denied{Jwt_verification_fails}"
        );
        assert_eq!(Status::AudienceNotAllowed.http_status(), 403);
        assert_eq!(Status::Expired.http_status(), 401);
    }
}
