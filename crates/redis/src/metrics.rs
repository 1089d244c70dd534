//! Redis round trips, counted through the `metrics` facade (MT-1):
//! `mcp_http_redis_round_trips_total`, by the `component` that made them. The handles are made
//! on first use, from the recorder installed then (install it before connecting); without one
//! a count is a no-op.

use std::sync::OnceLock;

use metrics::Counter;

/// Redis round trips (commands, pipelines, scripts), by `component` (counter).
pub const ROUND_TRIPS: &str = "mcp_http_redis_round_trips_total";

/// What made a round trip.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Component {
    /// Connecting: loading the scripts, reading the clock.
    Connect = 0,
    /// The session store.
    Store = 1,
    /// The event log.
    EventLog = 2,
    /// The message bus.
    Bus = 3,
    /// The task store.
    Tasks = 4,
    /// The used `requestState` nonces.
    States = 5,
}

const NAMES: [&str; 6] = ["connect", "store", "event_log", "bus", "tasks", "states"];

/// Counts one round trip to Redis.
pub(crate) fn round_trip(component: Component) {
    static HANDLES: OnceLock<[Counter; 6]> = OnceLock::new();
    HANDLES.get_or_init(|| NAMES.map(|name| metrics::counter!(ROUND_TRIPS, "component" => name)))
        [component as usize]
        .increment(1);
}

/// Counts one round trip on `conn` and hands it back: `.query_async(counted(&mut conn, ..))`.
pub(crate) fn counted<C>(conn: &mut C, component: Component) -> &mut C {
    round_trip(component);
    conn
}
