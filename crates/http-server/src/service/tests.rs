#![allow(clippy::unwrap_used)]
//! PF-68: an answer's standard headers written where it leaves the service, into the request's
//! own map, are the headers (and the order) the eager inserts into its own map gave.
use http::HeaderMap;
use mcp_http_core::Handler;

use super::*;

/// The old path: the standard headers inserted into the response's own map when it is made.
fn eager(head: Head, body: ResponseBody) -> HttpResponse {
    let mut response = Response::new(body);
    insert_standard(response.headers_mut(), head);
    response
}

fn listed(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// A request's map as hyper reads one: the headers a client sends with a POST.
fn request_map(count: usize) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert("host", HeaderValue::from_static("localhost"));
    map.insert(
        "accept",
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    map.insert(CONTENT_TYPE, APPLICATION_JSON);
    map.insert("mcp-session-id", HeaderValue::from_static("abc"));
    for i in 0..count {
        let name = HeaderName::from_bytes(format!("x-extra-{i}").as_bytes()).unwrap();
        map.append(name, HeaderValue::from_static("1"));
    }
    map
}

type Later = fn(&mut HeaderMap);

#[test]
fn the_headers_written_at_the_end_are_the_eager_ones_in_the_same_order() {
    // What the service does to an answer's map after making it.
    let laters: [Later; 4] = [
        |_| {},
        |h| {
            h.insert(SESSION_HEADER, HeaderValue::from_static("0123abcd"));
        },
        |h| {
            h.insert(SESSION_HEADER, HeaderValue::from_static("0123abcd"));
            h.append("x-twice", HeaderValue::from_static("1"));
            h.append("x-twice", HeaderValue::from_static("2"));
            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        },
        |h| {
            h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        },
    ];
    for head in [Head::Json, Head::Sse] {
        for later in laters {
            // No map, a request's map (reused), a large one (not reused).
            for extra in [None, Some(0), Some(3), Some(40)] {
                let mut old = eager(head, ResponseBody::empty());
                later(old.headers_mut());
                let cors = StreamableHttpService::new(
                    Arc::new(crate::post::tests::Nothing) as Arc<dyn Handler>,
                    HttpConfig::default().cors(true),
                );
                let origin = HeaderValue::from_static("http://app.example");
                cors.add_cors(Some(&origin), &mut old);

                let mut new = Response::new(ResponseBody::empty().with_head(head));
                later(new.headers_mut());
                let mut map = extra.map(request_map);
                let capacity = map.as_ref().map(HeaderMap::capacity);
                write_head(&mut new, map.as_mut());
                cors.add_cors(Some(&origin), &mut new);
                assert_eq!(
                    listed(old.headers()),
                    listed(new.headers()),
                    "{head:?} {extra:?}"
                );
                // Written once: a second write changes nothing.
                let before = listed(new.headers());
                write_head(&mut new, None);
                assert_eq!(before, listed(new.headers()));
                if let (Some(map), Some(capacity)) = (map, capacity) {
                    // The request's map became the answer's, unless it was large.
                    let reused = capacity <= REUSED_MAP_CAPACITY;
                    assert_eq!(map.capacity() == 0, reused);
                    assert_eq!(new.headers().capacity() >= capacity, reused);
                }
            }
        }
    }
}
