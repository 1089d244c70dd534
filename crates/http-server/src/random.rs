//! Unguessable identifiers from the operating system's CSPRNG: session ids (T-38a, T-38b) and the
//! random tags that name a router's streams and its server-to-client requests.
//!
//! One policy for a failing generator: the caller gets [`RandomUnavailable`] and refuses the
//! request (503), so nothing guessable is ever handed out.

use std::sync::{Arc, Mutex};

/// The system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RandomUnavailable;

/// System randomness fetched 4 KiB at a time and handed out once: a stateless request needs 16
/// bytes, and a `getrandom` call of its own was a measurable share of its cost.
struct RandomPool {
    bytes: [u8; 4096],
    used: usize,
}

static RANDOM: Mutex<RandomPool> = Mutex::new(RandomPool {
    bytes: [0; 4096],
    used: 4096,
});

#[cfg(test)]
thread_local! {
    /// Makes the generator fail on this thread, for the tests of the policy above.
    pub(crate) static FAIL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn refill(pool: &mut RandomPool) -> Result<(), RandomUnavailable> {
    #[cfg(test)]
    if FAIL.with(std::cell::Cell::get) {
        return Err(RandomUnavailable);
    }
    getrandom::fill(&mut pool.bytes).map_err(|_| RandomUnavailable)?;
    pool.used = 0;
    Ok(())
}

/// `BYTES` random bytes as lowercase hex.
pub(crate) fn hex<const BYTES: usize>() -> Result<Arc<str>, RandomUnavailable> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut raw = [0u8; BYTES];
    {
        let mut pool = mcp_http_core::sync::lock(&RANDOM);
        #[cfg(test)]
        if FAIL.with(std::cell::Cell::get) {
            return Err(RandomUnavailable);
        }
        // Taken whole: a remainder too short for this id is dropped with the refill.
        if pool.bytes.len() - pool.used < BYTES {
            refill(&mut pool)?;
        }
        let at = pool.used;
        raw.copy_from_slice(&pool.bytes[at..at + BYTES]);
        pool.used += BYTES;
    }
    let mut out = [[0u8; 2]; BYTES];
    for (pair, b) in out.iter_mut().zip(raw) {
        *pair = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
    }
    // Hex digits are ASCII: this cannot fail.
    Ok(std::str::from_utf8(out.as_flattened())
        .unwrap_or_default()
        .into())
}

/// A new session id: 128 random bits as 32 hex characters (visible ASCII, T-38b).
pub(crate) fn session_id() -> Result<Arc<str>, RandomUnavailable> {
    hex::<16>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_distinct_and_a_failure_is_an_error() {
        let a = session_id().unwrap_or_else(|_| "".into());
        let b = session_id().unwrap_or_else(|_| "".into());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        FAIL.with(|f| f.set(true));
        assert_eq!(session_id(), Err(RandomUnavailable));
        assert_eq!(hex::<6>(), Err(RandomUnavailable));
        FAIL.with(|f| f.set(false));
    }
}
