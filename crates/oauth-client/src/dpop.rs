//! DPoP (RFC 9449): a key per client, a fresh proof JWT per request (token endpoint and MCP
//! server, with `ath` for the latter), and the nonces servers hand out (`DPoP-Nonce`), kept per
//! origin and put in later proofs (AC-12).

use std::collections::HashMap;
use std::sync::Mutex;

use http::header::HeaderMap;
use serde_json::json;

use crate::error::OAuthError;
use crate::jws::{SigningKey, now, random_token, s256};

/// `DPoP-Nonce`.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// The DPoP key of a client and the nonces servers gave it.
#[derive(Debug)]
pub struct Dpop {
    key: SigningKey,
    nonces: Mutex<HashMap<String, String>>,
}

impl Dpop {
    /// A fresh key.
    pub fn new() -> Result<Dpop, OAuthError> {
        Ok(Dpop {
            key: SigningKey::generate()?,
            nonces: Mutex::new(HashMap::new()),
        })
    }

    /// The key's JWK thumbprint (the `jkt` a DPoP-bound token names).
    pub fn thumbprint(&self) -> String {
        self.key.thumbprint()
    }

    /// A proof for `method` `url` (its query and fragment left out of `htu`), with the nonce
    /// the origin gave last, and `ath` when it goes with an access token.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, OAuthError> {
        let (htu, origin) = match url::Url::parse(url) {
            Ok(mut parsed) => {
                parsed.set_query(None);
                parsed.set_fragment(None);
                (parsed.to_string(), parsed.origin().ascii_serialization())
            }
            Err(_) => (url.to_owned(), String::new()),
        };
        let mut claims = json!({
            "jti": random_token()?,
            "htm": method,
            "htu": htu,
            "iat": now(),
        });
        if let Some(nonce) = self.nonce(&origin) {
            claims["nonce"] = json!(nonce);
        }
        if let Some(token) = access_token {
            claims["ath"] = json!(s256(token));
        }
        self.key.sign(
            json!({"typ": "dpop+jwt", "jwk": self.key.public_jwk()}),
            &claims,
        )
    }

    fn nonce(&self, origin: &str) -> Option<String> {
        self.nonces.lock().ok()?.get(origin).cloned()
    }

    /// Keeps the `DPoP-Nonce` of an answer from `url`'s origin; whether there was one new.
    pub fn take_nonce(&self, url: &str, headers: &HeaderMap) -> bool {
        let Some(nonce) = headers.get(DPOP_NONCE).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        if nonce.is_empty() || nonce.len() > 1024 {
            return false;
        }
        let origin = url::Url::parse(url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let Ok(mut nonces) = self.nonces.lock() else {
            return false;
        };
        nonces.insert(origin, nonce.to_owned()).as_deref() != Some(nonce)
    }
}
