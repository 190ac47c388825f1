//! JWTs signed here for the differential authorization test: RS256 and ES256 from the fixed test
//! keys in `fixtures/test-keys/`, with fixed validity dates, and the tokens a request may carry
//! (valid, wrong audience, bad signature, expired, not yet valid, malformed, unknown issuer).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Value};

use crate::authz_config::{EC_ISSUER, ISSUER};
use crate::root;

fn pem_der(path: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub(crate) struct Signer {
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
}

impl Signer {
    pub(crate) fn load() -> Signer {
        let rsa = RsaKeyPair::from_pkcs8(&pem_der("fixtures/test-keys/rsa2048.pkcs8.pem")).unwrap();
        let ec = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &pem_der("fixtures/test-keys/ec-p256.pkcs8.pem"),
            &SystemRandom::new(),
        )
        .unwrap();
        Signer { rsa, ec }
    }

    pub(crate) fn rsa_jwk(&self) -> Value {
        let p: ring::rsa::PublicKeyComponents<Vec<u8>> = self.rsa.public().into();
        json!({ "kty": "RSA", "kid": "rsa-1", "alg": "RS256", "n": b64(&p.n), "e": b64(&p.e) })
    }

    pub(crate) fn ec_jwk(&self) -> Value {
        let point = self.ec.public_key().as_ref();
        json!({ "kty": "EC", "crv": "P-256", "kid": "ec-1", "alg": "ES256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]) })
    }

    fn rs256(&self, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"RS256","kid":"rsa-1","typ":"JWT"}"#),
            b64(claims.to_string().as_bytes())
        );
        let mut sig = vec![0; self.rsa.public().modulus_len()];
        self.rsa
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", b64(&sig))
    }

    fn es256(&self, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"ES256","kid":"ec-1","typ":"JWT"}"#),
            b64(claims.to_string().as_bytes())
        );
        let sig = self
            .ec
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

/// Fixed validity: 2020 → 2100 holds for any clock this test will meet, and for --now.
fn claims(iss: &str, aud: &str) -> Value {
    json!({ "iss": iss, "sub": "alice", "aud": aud, "iat": 1_600_000_000u64, "nbf": 1_600_000_000u64, "exp": 4_102_444_800u64 })
}

pub(crate) fn tokens(s: &Signer) -> Vec<(&'static str, Option<String>)> {
    let valid = s.rs256(&claims(ISSUER, "api"));
    // A changed byte in the middle of the signature.
    let mut bad = valid.clone().into_bytes();
    let i = bad.len() - 20;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    let mut expired = claims(ISSUER, "api");
    expired["exp"] = json!(1_609_459_200u64);
    let mut early = claims(ISSUER, "api");
    early["nbf"] = json!(4_102_444_800u64);
    let ec_valid = s.es256(&claims(EC_ISSUER, "anything"));
    let mut ec_bad = ec_valid.clone().into_bytes();
    let j = ec_bad.len() - 10;
    ec_bad[j] = if ec_bad[j] == b'A' { b'B' } else { b'A' };
    vec![
        ("none", None),
        ("valid", Some(valid)),
        ("wrong-aud", Some(s.rs256(&claims(ISSUER, "other")))),
        ("bad-signature", Some(String::from_utf8(bad).unwrap())),
        ("expired", Some(s.rs256(&expired))),
        ("not-yet-valid", Some(s.rs256(&early))),
        ("malformed", Some("abc.def".into())),
        (
            "unknown-issuer",
            Some(s.rs256(&claims("https://evil.test", "api"))),
        ),
        ("ec-valid", Some(ec_valid)),
        ("ec-bad-signature", Some(String::from_utf8(ec_bad).unwrap())),
    ]
}
