//! The clients' halves of the handshake that sessions share (PF-28): most servers see a few
//! distinct clients (one `clientInfo` and one set of capabilities each) across thousands of
//! sessions, so each distinct half is kept once and every session of it holds a reference,
//! not a copy (about 200 bytes per idle session).
//!
//! The table is bounded: a half no session holds any more is dropped to make room, and when
//! every kept half is still held, a new one is simply not shared.

use std::sync::{Arc, Mutex};

use mcp_http_proto::Implementation;
use serde_json::value::RawValue;

use crate::lifecycle::SharedClient;

/// The distinct client halves kept at most.
pub(crate) const CAPACITY: usize = 64;

/// The halves kept, looked through in order (a few dozen at most: a scan is cheaper than hashing
/// `clientInfo`'s optional fields, and only an `initialize` looks).
static TABLE: Mutex<Vec<SharedClient>> = Mutex::new(Vec::new());

/// The shared half equal to `info` with `capabilities` (their JSON text), made and kept when
/// there is none yet.
pub(crate) fn shared(info: Implementation, capabilities: Option<Box<RawValue>>) -> SharedClient {
    let mut table = crate::sync::lock(&TABLE);
    let text = capabilities.as_deref().map(RawValue::get);
    if let Some(kept) = table
        .iter()
        .find(|kept| *kept.info == info && kept.capabilities.as_deref().map(RawValue::get) == text)
    {
        return kept.clone();
    }
    let client = SharedClient {
        info: Arc::new(info),
        capabilities: capabilities.map(Arc::from),
    };
    if table.len() >= CAPACITY {
        // Only the table holds these: no session uses them any more.
        table.retain(|kept| Arc::strong_count(&kept.info) > 1);
    }
    if table.len() < CAPACITY {
        table.push(client.clone());
    }
    client
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The tests share the process's table: one at a time.
    static TURN: Mutex<()> = Mutex::new(());

    fn capabilities(text: &str) -> Option<Box<RawValue>> {
        Some(RawValue::from_string(text.to_owned()).unwrap())
    }

    /// PF-28: two sessions of the same client share one copy of its half; another version or
    /// other capabilities get their own.
    #[test]
    fn sessions_of_one_client_share_its_half() {
        let _turn = crate::sync::lock(&TURN);
        let info = Implementation::new("table-test-client", "1.0");
        let a = shared(info.clone(), capabilities(r#"{"roots":{}}"#));
        let b = shared(info.clone(), capabilities(r#"{"roots":{}}"#));
        assert!(
            Arc::ptr_eq(&a.info, &b.info),
            "the same client is kept once"
        );
        let other_version = shared(Implementation::new("table-test-client", "2.0"), None);
        assert!(!Arc::ptr_eq(&a.info, &other_version.info));
        let other_capabilities = shared(info, capabilities("{}"));
        assert!(!Arc::ptr_eq(&a.info, &other_capabilities.info));
        assert_eq!(
            other_capabilities.capabilities.as_deref().unwrap().get(),
            "{}"
        );
    }

    /// PF-28: the table stays bounded: clients no session holds make room for new ones, and
    /// when all are held a new client is still served, with a copy of its own.
    #[test]
    fn the_table_stays_bounded() {
        let _turn = crate::sync::lock(&TURN);
        let held: Vec<SharedClient> = (0..CAPACITY * 2)
            .map(|i| shared(Implementation::new(format!("bounded-{i}"), "1"), None))
            .collect();
        assert!(crate::sync::lock(&TABLE).len() <= CAPACITY);
        let extra = shared(Implementation::new("bounded-extra", "1"), None);
        assert_eq!(extra.info.name, "bounded-extra");
        drop(held);
        drop(extra);
        // Nothing holds them now: the next new client finds room.
        let fresh = shared(Implementation::new("bounded-fresh", "1"), None);
        let again = shared(Implementation::new("bounded-fresh", "1"), None);
        assert!(Arc::ptr_eq(&fresh.info, &again.info));
        assert!(crate::sync::lock(&TABLE).len() <= CAPACITY);
    }
}
