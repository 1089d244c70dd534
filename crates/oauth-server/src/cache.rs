//! Verified tokens kept for reuse (AR-5): keyed by the token (a seeded hash; a SHA-256 key
//! cost 24k instructions per request, more than everything else the layer does), bounded in
//! size, each entry valid at most until the token expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use mcp_http_core::Principal;

use crate::token::VerifiedToken;

/// Token -> its verification, principal and the end of its validity here.
type Entries =
    HashMap<Box<str>, (VerifiedToken, Principal, Instant), foldhash::quality::RandomState>;

pub(crate) struct TokenCache {
    entries: Mutex<Entries>,
    max: usize,
}

impl TokenCache {
    pub(crate) fn new(max: usize) -> Self {
        TokenCache {
            entries: Mutex::new(HashMap::default()),
            max,
        }
    }

    /// The token's verification and principal, if kept and still valid.
    pub(crate) fn get(&self, token: &str) -> Option<(VerifiedToken, Principal)> {
        let mut entries = self.entries.lock().ok()?;
        match entries.get(token) {
            Some((verified, principal, until)) if *until > Instant::now() => {
                Some((verified.clone(), principal.clone()))
            }
            Some(_) => {
                entries.remove(token);
                None
            }
            None => None,
        }
    }

    /// Keeps `verified` (and its principal, built once) for `ttl`, never past its expiry.
    pub(crate) fn put(
        &self,
        token: &str,
        verified: &VerifiedToken,
        principal: &Principal,
        ttl: Duration,
    ) {
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
            entries.retain(|_, (_, _, until)| *until > now);
            if entries.len() >= self.max {
                entries.clear();
            }
        }
        entries.insert(
            token.into(),
            (verified.clone(), principal.clone(), now + ttl),
        );
    }
}
