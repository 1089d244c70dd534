//! Verified tokens kept for reuse (AR-5): keyed by the token's SHA-256 (the token itself is not
//! kept), bounded in size, each entry valid at most until the token expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::token::VerifiedToken;

pub(crate) struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], (VerifiedToken, Instant)>>,
    max: usize,
}

impl TokenCache {
    pub(crate) fn new(max: usize) -> Self {
        TokenCache {
            entries: Mutex::new(HashMap::new()),
            max,
        }
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The token's verification, if kept and still valid.
    pub(crate) fn get(&self, token: &str) -> Option<VerifiedToken> {
        let key = Self::key(token);
        let mut entries = self.entries.lock().ok()?;
        match entries.get(&key) {
            Some((verified, until)) if *until > Instant::now() => Some(verified.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `verified` for `ttl`, never past its expiry.
    pub(crate) fn put(&self, token: &str, verified: &VerifiedToken, ttl: Duration) {
        if self.max == 0 {
            return;
        }
        let left = verified
            .expires_at
            .map(|exp| {
                exp.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO)
            })
            .unwrap_or(ttl);
        let ttl = ttl.min(left);
        if ttl.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if entries.len() >= self.max {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= self.max {
                entries.clear();
            }
        }
        entries.insert(Self::key(token), (verified.clone(), now + ttl));
    }
}
