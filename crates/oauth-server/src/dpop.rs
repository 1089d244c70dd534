//! DPoP proofs (RFC 9449) on the resource server (AR-6): the proof's signature by the key in its
//! header, `htm`, `htu`, `iat` within a window, `jti` seen once (a bounded cache), `ath` = the
//! token's hash, and the key's thumbprint = the token's `cnf.jkt`.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, Validation, jwk::Jwk};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::claims::now_secs;
use crate::jwt::ASYMMETRIC;

/// The largest proof accepted, in bytes.
const MAX_PROOF: usize = 8 * 1024;

/// Checks proofs and remembers their `jti`s.
#[derive(Debug)]
pub(crate) struct DpopChecker {
    /// Seconds a proof's `iat` may be away from now.
    window: u64,
    /// The `jti`s seen, with their `iat`, at most `max_jtis`.
    seen: Mutex<HashMap<String, u64>>,
    max_jtis: usize,
}

/// The request a proof must match.
pub(crate) struct ProofTarget<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) token: &'a str,
    pub(crate) jkt: &'a str,
}

impl DpopChecker {
    pub(crate) fn new(window: u64, max_jtis: usize) -> Self {
        DpopChecker {
            window,
            seen: Mutex::new(HashMap::new()),
            max_jtis,
        }
    }

    /// Checks `proof` for `target`; the error says what is wrong with it.
    pub(crate) fn check(&self, proof: &str, target: &ProofTarget<'_>) -> Result<(), String> {
        if proof.len() > MAX_PROOF {
            return Err("the DPoP proof is too large".into());
        }
        let header_json = proof
            .split('.')
            .next()
            .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
            .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
            .ok_or("the DPoP proof is not a JWT")?;
        if header_json.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
            return Err("the DPoP proof's typ is not dpop+jwt".into());
        }
        let header = jsonwebtoken::decode_header(proof)
            .map_err(|_| "the DPoP proof's header is malformed or its algorithm unknown")?;
        if !ASYMMETRIC.contains(&header.alg) {
            return Err("the DPoP proof's algorithm is not asymmetric".into());
        }
        let jwk_json = header_json
            .get("jwk")
            .ok_or("the DPoP proof carries no jwk")?;
        if jwk_json.get("d").is_some() || jwk_json.get("kty").and_then(Value::as_str) == Some("oct")
        {
            return Err("the DPoP proof's jwk is not a public key".into());
        }
        let jwk: Jwk = serde_json::from_value(jwk_json.clone())
            .map_err(|_| "the DPoP proof's jwk is malformed")?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| "the DPoP proof's jwk is unusable")?;
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims::<&str>(&[]);
        let claims = jsonwebtoken::decode::<Value>(proof, &key, &validation)
            .map_err(|_| "the DPoP proof's signature does not verify")?
            .claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("htm") != Some(target.method) {
            return Err("the DPoP proof's htm is not this request's method".into());
        }
        let htu = text("htu").ok_or("the DPoP proof has no htu")?;
        let htu = htu.split(['?', '#']).next().unwrap_or(htu);
        if htu != target.url {
            return Err("the DPoP proof's htu is not this request's URL".into());
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .ok_or("the DPoP proof has no iat")?;
        let now = now_secs();
        if iat.abs_diff(now) > self.window {
            return Err("the DPoP proof's iat is outside the accepted window".into());
        }
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(target.token.as_bytes()));
        if text("ath") != Some(ath.as_str()) {
            return Err("the DPoP proof's ath is not the access token's hash".into());
        }
        if thumbprint(jwk_json).as_deref() != Some(target.jkt) {
            return Err("the DPoP proof's key is not the one the token is bound to".into());
        }
        let jti = text("jti").filter(|j| !j.is_empty() && j.len() <= 256);
        let jti = jti.ok_or("the DPoP proof has no usable jti")?;
        self.remember(jti, iat, now)
    }

    /// Records `jti`; a second use is a replay.
    fn remember(&self, jti: &str, iat: u64, now: u64) -> Result<(), String> {
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| "the DPoP replay cache failed")?;
        if seen.len() >= self.max_jtis {
            // Proofs older than the window can no longer be replayed: forget them.
            seen.retain(|_, at| at.abs_diff(now) <= self.window);
            if seen.len() >= self.max_jtis {
                return Err("too many DPoP proofs at once; retry shortly".into());
            }
        }
        match seen.insert(jti.to_owned(), iat) {
            None => Ok(()),
            Some(_) => Err("the DPoP proof was used before (jti replay)".into()),
        }
    }
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK.
pub(crate) fn thumbprint(jwk: &Value) -> Option<String> {
    let f = |n: &str| jwk.get(n).and_then(Value::as_str);
    // serde_json's map is ordered by key: the members come out in lexicographic order.
    let canonical = match f("kty")? {
        "EC" => json!({"crv": f("crv")?, "kty": "EC", "x": f("x")?, "y": f("y")?}),
        "RSA" => json!({"e": f("e")?, "kty": "RSA", "n": f("n")?}),
        "OKP" => json!({"crv": f("crv")?, "kty": "OKP", "x": f("x")?}),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::thumbprint;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 section 3.1.
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }
}
