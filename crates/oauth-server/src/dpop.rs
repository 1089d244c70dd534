//! DPoP proofs (RFC 9449) on the resource server (AR-6): the proof's signature by the key in its
//! header, `htm`, `htu`, `iat` within a window, `jti` seen once (a bounded cache), `ath` = the
//! token's hash, and the key's thumbprint = the token's `cnf.jkt`; with server-provided nonces
//! (AR-10, RFC 9449 §8-9) also a `nonce` this server issued in the current or the previous
//! period.

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
    /// Server-provided nonces, when required.
    nonces: Option<Nonces>,
}

/// Stateless nonces (AR-10): `<period>.<HMAC-SHA256(secret, period)>`, where the period is
/// the time divided by `every` seconds. A nonce is good in its period and the next, so each
/// one lives between `every` and twice that; then it rotates.
pub(crate) struct Nonces {
    key: ring::hmac::Key,
    every: u64,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces with a fresh random key, rotating every `every` seconds (at least 1).
    pub(crate) fn new(every: u64) -> Result<Self, String> {
        let rng = ring::rand::SystemRandom::new();
        let key = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
            .map_err(|_| "no randomness for DPoP nonces".to_owned())?;
        Ok(Nonces {
            key,
            every: every.max(1),
        })
    }

    fn for_period(&self, period: u64) -> String {
        let tag = ring::hmac::sign(&self.key, &period.to_be_bytes());
        format!("{period}.{}", URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16]))
    }

    /// The nonce to hand out now.
    pub(crate) fn fresh(&self) -> String {
        self.for_period(now_secs() / self.every)
    }

    /// Whether `nonce` was issued by this server in this period or the previous one.
    fn accepts(&self, nonce: &str) -> bool {
        let now = now_secs() / self.every;
        let Some(period) = nonce
            .split_once('.')
            .and_then(|(p, _)| p.parse::<u64>().ok())
        else {
            return false;
        };
        let expected = self.for_period(period);
        // Compared in constant time: the MAC is the secret part.
        (period == now || period.saturating_add(1) == now)
            && expected.len() == nonce.len()
            && expected
                .bytes()
                .zip(nonce.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

/// Why a proof was refused.
#[derive(Debug)]
pub(crate) enum ProofError {
    /// The proof is wrong; the reason.
    Invalid(String),
    /// The proof lacks a current nonce: answer `use_dpop_nonce` with a fresh one.
    UseNonce,
}

impl From<String> for ProofError {
    fn from(reason: String) -> Self {
        ProofError::Invalid(reason)
    }
}

impl From<&str> for ProofError {
    fn from(reason: &str) -> Self {
        ProofError::Invalid(reason.to_owned())
    }
}

/// The request a proof must match.
pub(crate) struct ProofTarget<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) token: &'a str,
    pub(crate) jkt: &'a str,
}

impl DpopChecker {
    pub(crate) fn new(window: u64, max_jtis: usize, nonces: Option<Nonces>) -> Self {
        DpopChecker {
            window,
            seen: Mutex::new(HashMap::new()),
            max_jtis,
            nonces,
        }
    }

    /// A fresh nonce, when this server requires them.
    pub(crate) fn fresh_nonce(&self) -> Option<String> {
        self.nonces.as_ref().map(Nonces::fresh)
    }

    /// Checks `proof` for `target`; the error says what is wrong with it.
    pub(crate) fn check(&self, proof: &str, target: &ProofTarget<'_>) -> Result<(), ProofError> {
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
        if let Some(nonces) = &self.nonces
            && !text("nonce").is_some_and(|n| nonces.accepts(n))
        {
            return Err(ProofError::UseNonce);
        }
        Ok(self.remember(jti, iat, now)?)
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
    use super::{Nonces, thumbprint};

    #[test]
    fn nonces_are_accepted_for_two_periods_and_only_when_issued_here() {
        let nonces = Nonces::new(1000).unwrap();
        let fresh = nonces.fresh();
        assert!(nonces.accepts(&fresh));
        let period = crate::claims::now_secs() / 1000;
        assert!(
            nonces.accepts(&nonces.for_period(period - 1)),
            "the previous period"
        );
        assert!(
            !nonces.accepts(&nonces.for_period(period - 2)),
            "rotated out"
        );
        assert!(!nonces.accepts(&nonces.for_period(period + 1)));
        let other = Nonces::new(1000).unwrap();
        assert!(!nonces.accepts(&other.fresh()), "another server's key");
        assert!(!nonces.accepts("garbage"));
        assert!(!nonces.accepts(&format!("{period}.")));
    }

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
