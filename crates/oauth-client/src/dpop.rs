//! DPoP (RFC 9449): a key per client, a fresh proof JWT per request (token endpoint and MCP
//! server, with `ath` for the latter), and the nonces servers hand out (`DPoP-Nonce`), kept per
//! origin and put in later proofs (AC-12).

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use http::header::HeaderMap;
use serde_json::json;

use crate::error::OAuthError;
use crate::jws::{SigningKey, now, random_token, s256};

/// `DPoP-Nonce`.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// The DPoP key of a client and the nonces servers gave it.
#[derive(Debug)]
pub struct Dpop {
    /// The key in use: a fresh one, or the one the stored tokens are bound to (AC-14).
    key: RwLock<SigningKey>,
    nonces: Mutex<HashMap<String, String>>,
}

impl Dpop {
    /// A fresh key.
    pub fn new() -> Result<Dpop, OAuthError> {
        Ok(Dpop {
            key: RwLock::new(SigningKey::generate()?),
            nonces: Mutex::new(HashMap::new()),
        })
    }

    /// The key's JWK thumbprint (the `jkt` a DPoP-bound token names).
    pub fn thumbprint(&self) -> String {
        self.key.read().map(|k| k.thumbprint()).unwrap_or_default()
    }

    /// The key in use, PKCS#8 DER in base64url, to be kept with the tokens bound to it, so
    /// that another process (the next `mcp-http` command) can use and refresh them (AC-14).
    pub(crate) fn export(&self) -> Option<String> {
        let key = self.key.read().ok()?;
        Some(URL_SAFE_NO_PAD.encode(key.pkcs8_der()))
    }

    /// Uses the key `exported` (from [`Dpop::export`]) from now on, unless it is the one in
    /// use.
    pub(crate) fn adopt(&self, exported: &str) -> Result<(), OAuthError> {
        if self.export().as_deref() == Some(exported) {
            return Ok(());
        }
        let der = URL_SAFE_NO_PAD
            .decode(exported)
            .map_err(|_| OAuthError::Key("the stored DPoP key is not base64url".to_owned()))?;
        let key = SigningKey::from_pkcs8_der(&der)?;
        if let Ok(mut slot) = self.key.write() {
            *slot = key;
        }
        Ok(())
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
        let key = self
            .key
            .read()
            .map_err(|_| OAuthError::Key("the DPoP key is unavailable".to_owned()))?;
        key.sign(json!({"typ": "dpop+jwt", "jwk": key.public_jwk()}), &claims)
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
