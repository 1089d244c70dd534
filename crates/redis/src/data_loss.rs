//! Noticing that Redis lost its data (RB-32): a restart without persistence, a `FLUSHALL`, a
//! failover to a replica that had not caught up. Instances keep the sessions they served in a
//! local cache (a quick call costs no round trip, RB-12), so without this an instance would go
//! on serving a session Redis no longer has while the others answer 404.
//!
//! The fleet's marker, `{p}fleet`, is a key without expiry holding a token. Every heartbeat
//! writes a fresh token if the key is missing (`SET NX`) and reads the key back, in the
//! heartbeat's own round trip. The first token read is adopted; a later read that differs
//! means the marker was gone (this instance or another one wrote a new one), so data was lost.
//!
//! Why a marker and not Redis's `run_id`: the `run_id` changes on every restart, also one that
//! kept the data (RDB or AOF persistence), and after a failover to a replica that has all of
//! it; dropping the caches then would cost a reload for nothing. The marker's absence is the
//! loss itself. It lives as long as the data: with `maxmemory`, use `noeviction` or a
//! `volatile-*` policy (the marker has no expiry, so those never evict it).

use std::sync::atomic::{AtomicU64, Ordering};

/// One instance's view of the fleet's marker.
pub(crate) struct Marker {
    /// The marker's key.
    pub(crate) key: String,
    instance: String,
    /// The token this instance last read; `None` before the first read.
    known: Option<Vec<u8>>,
    written: AtomicU64,
}

impl Marker {
    pub(crate) fn new(key: String, instance: &str) -> Self {
        Marker {
            key,
            instance: instance.to_owned(),
            known: None,
            written: AtomicU64::new(0),
        }
    }

    /// A token no instance wrote before: this instance's id, the time and a counter.
    pub(crate) fn fresh_token(&self) -> String {
        let n = self.written.fetch_add(1, Ordering::Relaxed);
        format!("{}:{}:{n}", self.instance, crate::unix_ms())
    }

    /// Takes what a heartbeat read (`None`: the read failed); whether data was lost since the
    /// last read.
    pub(crate) fn observe(&mut self, read: Option<Vec<u8>>) -> bool {
        let Some(read) = read else {
            return false;
        };
        let lost = self.known.as_ref().is_some_and(|known| *known != read);
        self.known = Some(read);
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_token_is_a_loss_the_first_one_and_a_failed_read_are_not() {
        let mut marker = Marker::new("mcp:fleet".into(), "a");
        assert_ne!(marker.fresh_token(), marker.fresh_token());
        assert!(
            !marker.observe(Some(b"t1".to_vec())),
            "the first token is adopted"
        );
        assert!(!marker.observe(Some(b"t1".to_vec())));
        assert!(!marker.observe(None), "Redis unreachable: nothing known");
        assert!(
            marker.observe(Some(b"t2".to_vec())),
            "the marker was written anew"
        );
        assert!(!marker.observe(Some(b"t2".to_vec())), "told once");
    }
}
