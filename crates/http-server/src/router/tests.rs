//! Unit tests of the router: lazily opened stateless streams, and its tables' release.

#![allow(clippy::unwrap_used)]

use super::*;

/// One request through the router: opened, answered, and its JSON taken by the POST.
fn call(router: &Router, n: i64) {
    let id = RequestId::Number(n);
    let (sid, _notify) = router.open_request(&id, false).unwrap();
    let sent = router.route(
        Outbound::new(Bytes::from_static(b"{}"), OutboundKind::Response)
            .related(id.clone())
            .id(id),
    );
    assert!(sent.is_ok());
    assert!(matches!(router.pending(sid), Pending::Json(_)));
}

fn has_tables(router: &Router) -> bool {
    let st = router.lock();
    st.streams.capacity() > 0 || st.requests.capacity() > 0
}

/// Regression: a stateless request's stream is opened lazily, and a handler that closed it
/// before sending anything (to make the client resume, T-12) found no stream to close.
#[test]
fn a_stateless_stream_closed_before_any_message_is_opened_closed() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let config = HttpConfig::default().stateless(true);
    let back_channel = BackChannel::default();
    let router = Router::new("".into(), &config, &log, Some((back_channel, None))).unwrap();
    router.enable_priming();
    let id = RequestId::Number(1);
    router.expect(&id);
    assert!(
        router.solo_stream(false).is_none(),
        "no stream before it is needed"
    );
    assert!(router.close_request_stream(&id));
    let (sid, _notify) = router.solo_stream(false).unwrap();
    assert!(matches!(router.pending(sid), Pending::Stream));
    assert!(!router.close_request_stream(&RequestId::Number(2)));
}

#[test]
fn tables_go_with_the_first_call_stay_for_a_busy_session_and_go_at_the_reapers_pass() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let router = Router::new("s".into(), &HttpConfig::default(), &log, None).unwrap();
    call(&router, 1);
    assert!(
        !has_tables(&router),
        "after one call (an initialize) the tables are released"
    );
    call(&router, 2);
    assert!(has_tables(&router), "a session making calls keeps them");
    call(&router, 3);
    assert!(has_tables(&router));
    router.release_idle_tables();
    assert!(!has_tables(&router), "the reaper's pass releases them");
    call(&router, 4);
    assert!(!has_tables(&router), "and the count starts again");
}
