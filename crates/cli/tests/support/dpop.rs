//! DPoP proofs (RFC 9449) signed in tests: an ES256 key, its JWK, proofs with given claims.

use serde_json::{Value, json};

/// An ECDSA key (prime256v1, ES256) for DPoP proofs, and its public JWK.
pub struct DpopKey {
    pair: ring::signature::EcdsaKeyPair,
    jwk: Value,
}

#[allow(clippy::new_without_default)]
impl DpopKey {
    pub fn new() -> Self {
        use base64::Engine;
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let curve = ["P", "256"].join("-");
        let jwk =
            json!({"kty": "EC", "crv": curve, "x": b64(&point[1..33]), "y": b64(&point[33..65])});
        DpopKey { pair, jwk }
    }

    /// A DPoP-bound access token for `resource` (`cc-reader`, scope `mcp:read`) from the test
    /// authorization server, bound to this key.
    pub fn bound_token(
        &self,
        auth: &mcp_http_test_support::oidc::AuthServer,
        resource: &str,
    ) -> String {
        let token_proof = self.proof(
            json!({"jti": "t1", "htm": "POST", "htu": format!("{}/token", auth.issuer), "iat": now()}),
        );
        let (status, answer) = auth.post_form_with(
            "/token",
            ("cc-reader", "reader-secret"),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "mcp:read"),
                ("resource", resource),
            ],
            &[("DPoP", &token_proof)],
        );
        assert_eq!(
            (status, answer["token_type"].as_str()),
            (200, Some("DPoP")),
            "{answer}"
        );
        answer["access_token"].as_str().unwrap().to_owned()
    }

    /// A proof with these claims (and a fresh `jti`, unless given).
    pub fn proof(&self, claims: Value) -> String {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = ring::rand::SystemRandom::new();
        let signature = self.pair.sign(&rng, input.as_bytes()).unwrap();
        format!("{input}.{}", b64(signature.as_ref()))
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn ath(token: &str) -> String {
    use base64::Engine;
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}
