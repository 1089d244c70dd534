//! The `_meta` object and free-form JSON objects shared by every message.

/// The contents of a `_meta` field: free-form metadata attached to a message.
///
/// Keys with a prefix whose second label is `modelcontextprotocol` or `mcp` (for example
/// `io.modelcontextprotocol/`) are reserved for MCP (B-6). The keys 2026-07-28 defines are in
/// [`crate::modern`]; `progressToken` is defined by every version (see [`progress_token`]).
pub type Meta = serde_json::Map<String, serde_json::Value>;

/// A JSON object with arbitrary members (the schema's `JSONObject`, or `{}` with
/// `additionalProperties: true`).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// The `_meta` key under which a requester asks for progress notifications.
pub const PROGRESS_TOKEN: &str = "progressToken";

/// Reads `_meta.progressToken` from a request's `_meta`, if it holds a string or an integer.
pub fn progress_token(meta: Option<&Meta>) -> Option<crate::progress::ProgressToken> {
    let value = meta?.get(PROGRESS_TOKEN)?;
    serde_json::from_value(value.clone()).ok()
}

/// Declares a single-valued string enum used for a schema `const` (such as `"type": "string"`).
macro_rules! const_tag {
    ($(#[$doc:meta])* $name:ident = $value:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            #[doc = concat!("The constant `\"", $value, "\"`.")]
            #[default]
            #[serde(rename = $value)]
            Value,
        }
    };
}
pub(crate) use const_tag;

/// Implements chainable setters for optional fields. `$method => $field: T` takes any
/// `impl Into<T>`; `$method => $field = T` takes a `T` (for numbers and booleans, so that a
/// literal needs no suffix). Either sets the `Option` field to `Some(value)` and returns `self`.
macro_rules! setters {
    ($ty:ty { $($method:ident => $field:ident $sep:tt $t:ty),* $(,)? }) => {
        impl $ty {
            $( $crate::meta::setters!(@one $method $field $sep $t); )*
        }
    };
    (@one $method:ident $field:ident : $t:ty) => {
        #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
        pub fn $method(mut self, $field: impl Into<$t>) -> Self {
            self.$field = Some($field.into());
            self
        }
    };
    (@one $method:ident $field:ident = $t:ty) => {
        #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
        pub fn $method(mut self, $field: $t) -> Self {
            self.$field = Some($field);
            self
        }
    };
}
pub(crate) use setters;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::RequestId;

    #[test]
    fn reads_progress_token() {
        let meta: Meta = serde_json::from_str(r#"{"progressToken":"t1"}"#).unwrap();
        assert_eq!(progress_token(Some(&meta)), Some(RequestId::from("t1")));
        let meta: Meta = serde_json::from_str(r#"{"progressToken":7}"#).unwrap();
        assert_eq!(progress_token(Some(&meta)), Some(RequestId::Number(7)));
        let meta: Meta = serde_json::from_str(r#"{"progressToken":null}"#).unwrap();
        assert_eq!(progress_token(Some(&meta)), None);
        assert_eq!(progress_token(None), None);
    }
}
