//! A session's request whose stream is reserved before its handler runs and opened only when
//! something comes for it or its POST has to wait (PF-23): in every response mode, a tool that
//! answers at once, panics, waits, logs, reports progress, closes its stream for polling, asks
//! the client, times out on a request to it, or is cancelled is answered as before, each POST's
//! stream numbered after the one before it, and the session is left with no request in progress.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_http_core::options::RequestOptions;
use mcp_http_server::{NoArgs, RequestContext, Server, ToolDef};
use mcp_http_server_http::{HttpConfig, ResponseMode};
use serde_json::{Value, json};
use support::*;

const VERSION: &str = "2025-11-25";

/// Tools of every kind; `cancelled` is set when `long` is cancelled.
fn server(cancelled: Arc<AtomicBool>) -> Server {
    tools_of_every_kind()
        .tool(ToolDef::new(
            "closes",
            "Closes its stream for polling, then answers",
            |_: NoArgs, ctx: RequestContext| async move {
                let closed = ctx.close_stream();
                tokio::time::sleep(Duration::from_millis(10)).await;
                format!("closed {closed}")
            },
        ))
        .tool(ToolDef::new(
            "times_out",
            "Asks for the roots and gives up soon",
            |_: NoArgs, ctx: RequestContext| async move {
                let options = RequestOptions::default().timeout(Duration::from_millis(50));
                match ctx
                    .request::<_, Value>("roots/list", &json!({}), options)
                    .await
                {
                    Ok(_) => "answered".to_owned(),
                    Err(e) => format!("gave up: {e}"),
                }
            },
        ))
        .tool(ToolDef::new(
            "long",
            "Waits until cancelled",
            move |_: NoArgs, _: RequestContext| {
                let dropped = Dropped(cancelled.clone());
                async move {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    std::mem::forget(dropped);
                    "never cancelled"
                }
            },
        ))
        .build()
}

/// A session of a client that declares roots (besides sampling and elicitation).
async fn session_with_roots(http: &reqwest::Client, url: &str) -> String {
    let mut init = init_body(VERSION);
    init["params"]["capabilities"]["roots"] = json!({});
    session_with(http, url, &init).await
}

/// The answer to `body`: its content type and its events (a JSON answer as one event without
/// an id).
async fn answer(
    http: &reqwest::Client,
    url: &str,
    session: &str,
    body: &Value,
) -> (String, Vec<Event>) {
    let response = post(http, url, Some(session), body).await;
    assert_eq!(response.status(), 200, "{body}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    let events = match kind.as_str() {
        "text/event-stream" => mcp_http_test_support::sse::events(&text),
        _ => vec![Event {
            data: text,
            ..Event::default()
        }],
    };
    (kind, events)
}

/// The stream number and the sequence numbers of an answer's events (`{tag}.{stream}.{seq}`).
fn numbers(events: &[Event]) -> Option<(u64, Vec<u64>)> {
    let mut stream = None;
    let mut seqs = Vec::new();
    // A `retry` alone (a stream closed for polling) is no event of the stream.
    for event in events
        .iter()
        .filter(|e| !(e.id.is_none() && e.data.is_empty()))
    {
        let mut parts = event.id.as_deref()?.rsplit('.');
        let seq = parts.next()?.parse().ok()?;
        let sid: u64 = parts.next()?.parse().ok()?;
        assert!(stream.is_none_or(|s| s == sid), "one stream: {events:?}");
        stream = Some(sid);
        seqs.push(seq);
    }
    Some((stream?, seqs))
}

/// The stream numbers of a session's POSTs, each the one after the one before.
#[derive(Default)]
struct Streams {
    last: Option<u64>,
}

impl Streams {
    /// The sequence numbers of the answer's events, its stream checked to be the next one.
    fn next(&mut self, events: &[Event]) -> Vec<u64> {
        let (sid, seqs) = numbers(events).unwrap_or_else(|| panic!("event ids: {events:?}"));
        if let Some(last) = self.last {
            assert_eq!(sid, last + 1, "streams numbered in order: {events:?}");
        }
        self.last = Some(sid);
        seqs
    }

    /// A POST whose answer carries no event id still took a number.
    fn skip(&mut self) {
        self.last = self.last.map(|s| s + 1);
    }
}

fn text_of(message: &Value) -> &str {
    message["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn every_kind_of_tool_answers_as_before_in_a_session_in_every_mode() {
    let http = client();
    for mode in [
        ResponseMode::Sse,
        ResponseMode::Adaptive,
        ResponseMode::Json,
    ] {
        let cancelled = Arc::new(AtomicBool::new(false));
        let config = HttpConfig::default().response_mode(mode);
        let server = start_with(server(cancelled.clone()), config).await;
        let url = server.url.as_str();
        let session = session_with_roots(&http, url).await;
        let sse = "text/event-stream";
        // Each POST's stream has the next number, whether it was opened or only reserved.
        let mut streams = Streams::default();
        let mut id = 10;
        for (tool, texts, seqs_in_sse) in [
            ("quick", vec!["quick"], vec![0, 1]),
            ("waits", vec!["waited"], vec![0, 1]),
            ("logs", vec!["", "logged"], vec![0, 1, 2]),
            ("progress", vec!["", "", "progressed"], vec![0, 1, 2, 3]),
        ] {
            id += 1;
            let (kind, events) = answer(
                &http,
                url,
                &session,
                &call_with_progress(id, tool, json!({})),
            )
            .await;
            let messages = messages(&events);
            let streamed =
                mode == ResponseMode::Sse || (mode == ResponseMode::Adaptive && texts.len() > 1);
            if streamed {
                assert_eq!(kind, sse, "{mode:?} {tool}");
                assert_eq!(
                    streams.next(&events),
                    seqs_in_sse,
                    "{mode:?} {tool}: {events:?}"
                );
                let texts_got: Vec<&str> = messages.iter().map(text_of).collect();
                assert_eq!(texts_got, texts, "{mode:?} {tool}");
            } else {
                // JSON: the response alone (what the tool sent went to the GET stream).
                assert_eq!(kind, "application/json", "{mode:?} {tool}");
                assert_eq!(messages.len(), 1, "{mode:?} {tool}: {messages:?}");
                assert_eq!(
                    text_of(&messages[0]),
                    *texts.last().unwrap(),
                    "{mode:?} {tool}"
                );
                streams.skip();
            }
            assert_eq!(messages.last().unwrap()["id"], id, "{mode:?} {tool}");
        }
        // A panic answers -32603; the session goes on.
        id += 1;
        let (_, events) = answer(&http, url, &session, &call(id, "panics", json!({}))).await;
        let panics = messages(&events);
        assert_eq!(
            panics.last().unwrap()["error"]["code"],
            -32603,
            "{mode:?}: {panics:?}"
        );
        if mode == ResponseMode::Sse {
            assert_eq!(streams.next(&events), [0, 1]);
        } else {
            streams.skip();
        }
        // Closed for polling (T-12): in JSON mode there is no stream to close.
        id += 1;
        let (kind, events) = answer(&http, url, &session, &call(id, "closes", json!({}))).await;
        match mode {
            ResponseMode::Json => {
                assert_eq!(text_of(&messages(&events)[0]), "closed false");
            }
            _ => {
                assert_eq!(kind, sse, "{mode:?}");
                assert!(
                    messages(&events).is_empty(),
                    "{mode:?}: closed before the answer"
                );
                assert_eq!(
                    streams.next(&events),
                    [0],
                    "{mode:?}: the priming event only"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
                let resumed = get_stream(&http, url, &session, events[0].id.as_deref()).await;
                let text = resumed.text().await.unwrap();
                let replayed = mcp_http_test_support::sse::body_messages(&text);
                assert_eq!(text_of(replayed.last().unwrap()), "closed true", "{mode:?}");
            }
        }
        if mode != ResponseMode::Json {
            // A request to the client on the POST's stream, answered by the client.
            id += 1;
            let response = post(&http, url, Some(&session), &call(id, "asks", json!({}))).await;
            let mut reader = SseReader::new(response);
            let ask = loop {
                let event = reader.next().await.expect("the request to the client");
                if let Some(m) = event.json().filter(|m| m["method"] == "roots/list") {
                    break m;
                }
            };
            let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"roots": [{"uri": "file:///a"}]}});
            assert_eq!(post(&http, url, Some(&session), &reply).await.status(), 202);
            let rest = messages(&reader.rest().await);
            assert_eq!(
                text_of(rest.last().unwrap()),
                "1 roots",
                "{mode:?}: {rest:?}"
            );
            streams.skip();
            // A request to the client that is never answered times out.
            id += 1;
            let (_, events) = answer(&http, url, &session, &call(id, "times_out", json!({}))).await;
            let timed_out = messages(&events);
            assert_eq!(
                timed_out.first().unwrap()["method"],
                "roots/list",
                "{mode:?}"
            );
            assert!(
                text_of(timed_out.last().unwrap()).starts_with("gave up"),
                "{timed_out:?}"
            );
            assert_eq!(streams.next(&events), [0, 1, 2], "{mode:?}");
        }
        // Cancelled while it waits: no response, and the session goes on.
        id += 1;
        let long = call(id, "long", json!({}));
        let waiting = tokio::spawn({
            let (http, url, session) = (http.clone(), url.to_owned(), session.clone());
            async move { post(&http, &url, Some(&session), &long).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}});
        assert_eq!(
            post(&http, url, Some(&session), &cancel).await.status(),
            202
        );
        for _ in 0..100 {
            if cancelled.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            cancelled.load(Ordering::SeqCst),
            "{mode:?}: the tool was cancelled"
        );
        waiting.abort();
        id += 1;
        let (_, events) = answer(&http, url, &session, &call(id, "quick", json!({}))).await;
        assert_eq!(
            text_of(messages(&events).last().unwrap()),
            "quick",
            "{mode:?}"
        );
        // Nothing left in progress: the session is idle again.
        let _ = delete_session(&http, url, &session).await;
    }
}

/// Two requests with the same id at once: the later one is refused while the first is in
/// progress, whether its stream was opened or is only reserved.
#[tokio::test]
async fn a_duplicate_id_is_refused_while_the_first_is_in_progress() {
    let http = client();
    let cancelled = Arc::new(AtomicBool::new(false));
    let server = start_with(server(cancelled), HttpConfig::default()).await;
    let url = server.url.as_str();
    let session = session_with_roots(&http, url).await;
    let first = tokio::spawn({
        let (http, url, session) = (http.clone(), url.to_owned(), session.clone());
        async move { post(&http, &url, Some(&session), &call(5, "long", json!({}))).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = post(&http, url, Some(&session), &call(5, "quick", json!({}))).await;
    assert_eq!(again.status(), 400, "a duplicate id was run");
    let (_, refused) = read_answer(again).await;
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    let cancel =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}});
    assert_eq!(
        post(&http, url, Some(&session), &cancel).await.status(),
        202
    );
    first.abort();
    // Another id is run as usual.
    let (_, events) = answer(&http, url, &session, &call(6, "quick", json!({}))).await;
    assert_eq!(text_of(messages(&events).last().unwrap()), "quick");
}
