//! Ids that cross a boundary in a fleet of real `mcp-http serve --redis` processes over a real
//! `redis-server` (RB-24): a request id or event id of one session, used by another session on
//! another instance, reads and affects nothing; ids naming an instance no one runs are clear
//! client errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod redis_fleet;
mod support;

use redis_fleet::*;
use serde_json::json;
use support::*;

#[tokio::test]
async fn ids_of_another_session_or_an_unknown_instance_read_and_affect_nothing() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let mine = session_across(&http, &fleet, 0).await;
    let theirs = session_across(&http, &fleet, 1).await;

    // My call waits on instance 0 for my answer to its sampling request.
    let r = post(
        &http,
        fleet.url(0),
        Some(&mine),
        &call_with_progress(1, "sample_llm", json!({"prompt": "hi"})),
    )
    .await;
    let mut stream = SseReader::new(r);
    let (request, event_id) = loop {
        let event = stream.next().await.unwrap();
        if let Some(message) = event.json()
            && message["method"] == "sampling/createMessage"
        {
            break (message, event.id.unwrap());
        }
    };
    assert!(
        request["id"].as_str().unwrap().starts_with("i0."),
        "{request}"
    );
    let answer = |text: &str| {
        json!({"jsonrpc": "2.0", "id": request["id"], "result": {
            "role": "assistant", "model": "m", "content": {"type": "text", "text": text}}})
    };
    // Another session posts an answer with my request's id, on each instance (the waiting one
    // included): accepted as an answer to nothing of its own (202), and not delivered to my
    // handler (below).
    for i in 0..3 {
        let r = post(&http, fleet.url(i), Some(&theirs), &answer("forged")).await;
        assert_eq!(r.status(), 202, "instance {i}");
    }
    // My event id, resumed by the other session on every instance: refused, nothing read.
    for i in 0..3 {
        let r = get_stream(&http, fleet.url(i), &theirs, Some(&event_id)).await;
        assert_eq!(r.status(), 400, "instance {i}");
    }

    // My own answer, on instance 2, is the one my call gets.
    assert_eq!(
        post(&http, fleet.url(2), Some(&mine), &answer("mine"))
            .await
            .status(),
        202
    );
    let mut result = next_message(&mut stream).await.unwrap();
    while result.get("result").is_none() && result.get("error").is_none() {
        result = next_message(&mut stream).await.unwrap();
    }
    assert_eq!(result["result"]["content"][0]["text"], "LLM response: mine");

    // An answer naming an instance no one runs is reported to its poster, not taken silently:
    // 410, saying why (the request it answers is over; a retry cannot help), no `Retry-After`.
    let orphan = json!({"jsonrpc": "2.0", "id": "nosuch.7", "result": {}});
    let r = post(&http, fleet.url(1), Some(&mine), &orphan).await;
    assert_eq!(r.status(), 410);
    assert!(r.headers().get("retry-after").is_none());
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("has stopped"), "{body}");
    // Event ids naming an unknown instance, an unknown stream of a known one (shaped like ours
    // but in no stream of this session), or nothing that parses: a clear 400 on any instance,
    // nothing replayed.
    let not_here = "Bad Request: Last-Event-ID belongs to another session";
    let not_ours = "Bad Request: Last-Event-ID is not an event id of this server";
    let unknown_instance = event_id.replacen("i0~", "i9~", 1);
    for (last, expected) in [
        ("nosuch~abcdef.1.1", not_here),
        ("i0~000000000000.1.2", not_here),
        (unknown_instance.as_str(), not_here),
        ("garbage", not_ours),
    ] {
        let r = get_stream(&http, fleet.url(1), &mine, Some(last)).await;
        assert_eq!(r.status(), 400, "{last}");
        let (_, body) = read_answer(r).await;
        assert_eq!(body["error"]["message"], expected, "{last}");
    }
}
