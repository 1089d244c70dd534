//! A request's answer read where the transport read it (PF-35): a transport that holds the
//! body of a response to one of our requests (an HTTP POST's JSON answer) offers it to the
//! requester's [`ReplyReader`], which decodes the result straight into the caller's type in
//! one pass. What the reader does not take goes the general way (the envelope parsed, the
//! result copied, then decoded), so its answer is exactly what it was.

use mcp_http_proto::jsonrpc::{RequestId, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Offered the whole body of an answer to request `id`; returns whether it took it (the
/// request is then answered). One that declines leaves the body to the general path.
pub type ReplyReader<'a> = dyn FnMut(&RequestId, &[u8]) -> bool + Send + 'a;

/// What [`crate::MessageSink::send_request_reading`] hands back when the exchange held the
/// answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Answered {
    /// The response, read by the transport.
    Response(Response),
    /// The body was taken by the request's [`ReplyReader`].
    Read,
}

/// The members of a response with a result, the result read as `T` in the same pass; any
/// other member (`error`, `method`, `params`, an unknown one) or a repeated one is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply<'a, T> {
    #[serde(borrow)]
    jsonrpc: &'a RawValue,
    id: RequestId,
    result: T,
}

/// The result of `body` read as `T` in one pass, when `body` is exactly the response to request
/// `id` with a result (`{"jsonrpc":"2.0","id":…,"result":…}`, its members in any order and
/// nothing else), and the result is a `T`. `None` for anything else: a batch, an error, a
/// request, another id, a result of another shape, text that is not UTF-8 or not JSON. What it
/// takes, [`mcp_http_proto::jsonrpc::Parsed::parse`] reads as that same response (PF-35).
///
/// ```
/// use mcp_http_core::reply::read_result;
/// use mcp_http_proto::RequestId;
/// let body = br#"{"jsonrpc":"2.0","id":3,"result":{"n":1}}"#;
/// let n: Option<serde_json::Value> = read_result(&RequestId::Number(3), body);
/// assert_eq!(n.unwrap()["n"], 1);
/// assert!(read_result::<serde_json::Value>(&RequestId::Number(4), body).is_none());
/// ```
pub fn read_result<'a, T: Deserialize<'a>>(id: &RequestId, body: &'a [u8]) -> Option<T> {
    // UTF-8 checked once for the whole body, as the general path does: read from a `str`,
    // serde_json checks no string again, and an ignored one cannot hide bad bytes.
    let text = std::str::from_utf8(body).ok()?;
    let reply: Reply<'a, T> = serde_json::from_str(text).ok()?;
    (reply.jsonrpc.get() == "\"2.0\"" && reply.id == *id).then_some(reply.result)
}

/// The text of the result in `body` when the body is laid out as this project's servers write
/// a response to request `id` (a numeric id): `{"jsonrpc":"2.0","id":N,"result":…}`, the result
/// then running to the closing brace. A look at the text, not a read: only a body that
/// [`read_result`] takes is a response, and then this is its result's text (PF-35). `None` for
/// any other layout.
///
/// ```
/// use mcp_http_core::reply::result_text;
/// use mcp_http_proto::RequestId;
/// let body = br#"{"jsonrpc":"2.0","id":3,"result":{"n":1}}"#;
/// assert_eq!(result_text(&RequestId::Number(3), body), Some(r#"{"n":1}"#));
/// assert_eq!(result_text(&RequestId::Number(4), body), None);
/// ```
pub fn result_text<'a>(id: &RequestId, body: &'a [u8]) -> Option<&'a str> {
    const PREFIX: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":";
    const RESULT: &[u8] = b",\"result\":";
    let RequestId::Number(n) = id else {
        return None;
    };
    let mut number = itoa::Buffer::new();
    let rest = body.strip_prefix(PREFIX)?;
    let rest = rest.strip_prefix(number.format(*n).as_bytes())?;
    let result = rest.strip_prefix(RESULT)?.strip_suffix(b"}")?;
    std::str::from_utf8(result).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_http_proto::jsonrpc::{Message, Parsed};

    /// The result as the general path reads it: parsed, then decoded from the copy.
    fn general<T: serde::de::DeserializeOwned>(id: &RequestId, body: &[u8]) -> Option<T> {
        match Parsed::parse(body) {
            Ok(Parsed::Single(Message::Response(r))) if r.id.as_ref() == Some(id) => {
                serde_json::from_str(r.outcome.ok()?.get()).ok()
            }
            _ => None,
        }
    }

    #[test]
    fn what_is_read_in_one_pass_is_what_the_general_path_reads() {
        let id = RequestId::Number(7);
        let bodies: &[&[u8]] = &[
            br#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hi"}]}}"#,
            br#" {"result":{"content":[]},"id":7,"jsonrpc":"2.0"} "#,
            br#"{"jsonrpc":"2.0","id":7,"result":{"content":[],"isError":true,"x":"\u00e9"}}"#,
            br#"{"jsonrpc":"2.0","id":7,"result":{"content":[],"structuredContent":{"a":[1]}}}"#,
        ];
        for body in bodies {
            let one: Option<mcp_http_proto::CallToolResult> = read_result(&id, body);
            let two: Option<mcp_http_proto::CallToolResult> = general(&id, body);
            assert!(one.is_some(), "{}", String::from_utf8_lossy(body));
            assert_eq!(
                serde_json::to_string(&one).unwrap(),
                serde_json::to_string(&two).unwrap()
            );
            let raw: Option<&RawValue> = read_result(&id, body);
            let general_raw = match Parsed::parse(body) {
                Ok(Parsed::Single(Message::Response(r))) => r.outcome.unwrap(),
                _ => panic!("not a response"),
            };
            assert_eq!(raw.unwrap().get(), general_raw.get());
        }
    }

    #[test]
    fn the_result_text_of_a_response_laid_out_as_ours_is_its_result() {
        let id = RequestId::Number(12);
        for result in [r#"{"content":[]}"#, r#"{"a":"}"}"#, "null", "[1,{}]"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":12,"result":{result}}}"#);
            let raw: &RawValue = read_result(&id, body.as_bytes()).unwrap();
            assert_eq!(result_text(&id, body.as_bytes()), Some(raw.get()));
        }
        for body in [
            r#"{"jsonrpc":"2.0","id":123,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            r#"{"id":12,"jsonrpc":"2.0","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":12,"result":{}} "#,
            r#"{"jsonrpc":"2.0","id":12,"error":{}}"#,
        ] {
            assert_eq!(result_text(&id, body.as_bytes()), None, "{body}");
        }
        let named = RequestId::String("12".into());
        assert_eq!(
            result_text(&named, br#"{"jsonrpc":"2.0","id":"12","result":{}}"#),
            None
        );
    }

    #[test]
    fn anything_else_is_left_to_the_general_path() {
        let id = RequestId::Number(7);
        let bodies: &[&[u8]] = &[
            br#"{"jsonrpc":"2.0","id":8,"result":{"content":[]}}"#,
            br#"{"jsonrpc":"2.0","id":"7","result":{"content":[]}}"#,
            br#"{"jsonrpc":"2.0","id":7.0,"result":{"content":[]}}"#,
            br#"{"jsonrpc":"1.0","id":7,"result":{"content":[]}}"#,
            br#"{"jsonrpc":"2\u002e0","id":7,"result":{"content":[]}}"#,
            br#"{"id":7,"result":{"content":[]}}"#,
            br#"{"jsonrpc":"2.0","id":7,"error":{"code":1,"message":"m"}}"#,
            br#"{"jsonrpc":"2.0","id":7,"result":{},"error":{"code":1,"message":"m"}}"#,
            br#"{"jsonrpc":"2.0","id":7,"result":{"content":[]},"method":"x"}"#,
            br#"{"jsonrpc":"2.0","id":7,"result":{"content":[]},"extra":1}"#,
            br#"{"jsonrpc":"2.0","id":7,"id":7,"result":{"content":[]}}"#,
            br#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}} x"#,
            br#"[{"jsonrpc":"2.0","id":7,"result":{"content":[]}}]"#,
            br#"{"jsonrpc":"2.0","id":7,"result":{"content":"no"}}"#,
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[],\"x\":\"\xff\"}}",
            b"",
        ];
        for body in bodies {
            let one: Option<mcp_http_proto::CallToolResult> = read_result(&id, body);
            assert!(one.is_none(), "{}", String::from_utf8_lossy(body));
        }
    }
}
