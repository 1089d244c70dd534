//! The quick-call path (PF-40, PF-41): a request whose handler answers in its first poll is
//! answered straight into the transport's buffer, its result serialized once after the
//! envelope's prefix, without a boxed handler future when the handler can answer in place.

use futures::future::BoxFuture;
use mcp_http_proto::ErrorObject;
use mcp_http_proto::jsonrpc::{Message, RequestId, Response};
use serde::Serialize;
use serde_json::value::RawValue;

/// What [`Handler::handle_request_at_once`](super::Handler::handle_request_at_once) did with a
/// request.
#[non_exhaustive]
pub enum AtOnce {
    /// The result is written ([`ResultWriter::write`]): the request is answered.
    Written(Written),
    /// The request failed at once with this error.
    Failed(ErrorObject),
    /// The handler has to wait (or cannot answer in place): this future finishes the request.
    /// The peer polls it once where the request arrived, then on a task of its own.
    Waits(BoxFuture<'static, Result<Box<RawValue>, ErrorObject>>),
}

/// Proof that a [`ResultWriter`] wrote a result; only [`ResultWriter::write`] makes one.
pub struct Written(());

/// Where a handler that answers at once writes its result: the transport's buffer, already
/// holding the response's envelope up to `"result":` (PF-41).
pub struct ResultWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl ResultWriter<'_> {
    /// Serializes `result` as the response's result. A result that fails to serialize answers
    /// -32603 (its text is not shown to the other side).
    pub fn write<T: Serialize + ?Sized>(self, result: &T) -> AtOnce {
        self.write_with(|out| serde_json::to_writer(out, result))
    }

    /// Appends the result with `write`, which must append one JSON value to the buffer (a
    /// result written from prebuilt parts, PF-54). A `write` that fails answers -32603 as
    /// [`ResultWriter::write`] does, and nothing it appended stays.
    pub fn write_with<E: std::fmt::Display>(
        self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> AtOnce {
        let start = self.out.len();
        match write(&mut *self.out) {
            Ok(()) => AtOnce::Written(Written(())),
            Err(e) => {
                self.out.truncate(start);
                tracing::error!(error = %e, "a result could not be serialized");
                AtOnce::Failed(ErrorObject::internal())
            }
        }
    }
}

const PREFIX: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":";
const RESULT: &[u8] = b",\"result\":";

/// Appends `{"jsonrpc":"2.0","id":ID,"result":` to `out` and returns the writer that appends
/// the result after it; the caller closes the object with `}` once it is written.
pub(super) fn result_writer<'a>(out: &'a mut Vec<u8>, id: &RequestId) -> ResultWriter<'a> {
    out.extend_from_slice(PREFIX);
    match id {
        RequestId::Number(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        // Serde escapes what needs it; an id's string is short.
        RequestId::String(_) => {
            if serde_json::to_writer(&mut *out, id).is_err() {
                out.extend_from_slice(b"null");
            }
        }
    }
    out.extend_from_slice(RESULT);
    ResultWriter { out }
}

/// Appends the response to request `id` with `outcome` to `out` (what a handler answered in
/// its first poll through the general path, or an error).
pub(super) fn put_response(
    out: &mut Vec<u8>,
    id: RequestId,
    outcome: Result<Box<RawValue>, ErrorObject>,
) {
    match outcome {
        Ok(result) => {
            let raw = result.get().as_bytes();
            out.reserve(PREFIX.len() + RESULT.len() + raw.len() + 24);
            let _ = result_writer(out, &id);
            out.extend_from_slice(raw);
            out.push(b'}');
        }
        Err(error) => {
            let message = Message::Response(Response {
                id: Some(id),
                outcome: Err(error),
            });
            out.extend_from_slice(&message.to_json_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parsed(out: &[u8]) -> serde_json::Value {
        serde_json::from_slice(out).unwrap()
    }

    #[test]
    fn a_written_result_is_a_whole_response_with_its_id_escaped() {
        for id in [RequestId::Number(7), RequestId::String("a\"b\\c\n".into())] {
            let mut out = b"data: ".to_vec();
            let written = result_writer(&mut out, &id).write(&serde_json::json!({"x": [1, "y"]}));
            assert!(matches!(written, AtOnce::Written(_)));
            out.push(b'}');
            let value = parsed(&out[6..]);
            assert_eq!(value["jsonrpc"], "2.0");
            assert_eq!(value["id"], serde_json::to_value(&id).unwrap());
            assert_eq!(value["result"]["x"][1], "y");
        }
    }

    #[test]
    fn a_result_that_does_not_serialize_fails_with_internal_error_and_writes_nothing_of_it() {
        struct Broken;
        impl Serialize for Broken {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("secret internal detail"))
            }
        }
        let mut out = Vec::new();
        let failed = result_writer(&mut out, &RequestId::Number(1)).write(&Broken);
        let AtOnce::Failed(error) = failed else {
            panic!("a broken result was written");
        };
        assert_eq!(error.code, mcp_http_proto::error_code::INTERNAL_ERROR);
        assert!(!error.message.contains("secret"));
        assert!(out.ends_with(RESULT));
    }

    #[test]
    fn an_error_response_is_written_whole() {
        let mut out = Vec::new();
        put_response(
            &mut out,
            RequestId::Number(3),
            Err(ErrorObject::invalid_params("Invalid params: x")),
        );
        let value = parsed(&out);
        assert_eq!(value["id"], 3);
        assert_eq!(value["error"]["code"], -32602);
        let mut out = Vec::new();
        let raw = RawValue::from_string("{\"a\":1}".into()).unwrap();
        put_response(&mut out, RequestId::Number(4), Ok(raw));
        assert_eq!(out, b"{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"a\":1}}");
    }
}
