//! A 2026-07-28 request read by its bytes (PF-61): the body scanned once, as clients write it
//! (`{"jsonrpc":"2.0","id":…,"method":"…","params":{…,"_meta":{…}}}`, its members in any
//! order, whitespace anywhere JSON allows it), into the record the serde pass of
//! [`crate::modern_read`] fills: the request, its params a range of the body, and the members
//! of the params the ladder checks ([`ModernParams`]) borrowed where they lie. No member is
//! matched through a visitor; every value the record does not name is checked as JSON and
//! skipped, as serde_json's skip checks it.
//!
//! What this read does not take as it is (PF-62) makes it give up, and the serde pass reads
//! the body as before, with its refusals: an escape in a key the record looks at or in a
//! string it keeps, an envelope member other than `jsonrpc`, `id`, `method` and `params`, a
//! duplicate member, a `jsonrpc` other than `"2.0"`, an id that is not a string or a
//! non-negative integer of at most 18 digits, params or `_meta` that are not an object, a
//! `null` or non-string where the record keeps a string or a value, a notification, a
//! response, nesting deeper than [`DEPTH`], anything that is not JSON.

use bytes::Bytes;
use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, Error as ValueError, MapDeserializer};
use serde_json::value::RawValue;

use crate::jsonrpc::{Message, Params, Request, RequestId};
use crate::modern_params::{self, Level, Meta, ModernParams, Present, Text};
use crate::modern_read::Members;

/// The deepest nesting a skipped value may have here (deeper ones are serde's to read).
const DEPTH: u32 = 64;

/// The request in `body` and the ladder's members of its params, when the body is written as
/// this read takes it; `None` leaves the body to the serde pass.
pub(crate) fn scan(body: &Bytes) -> Option<(Message, Members<'_>)> {
    // UTF-8 checked once, as the serde pass does: every slice below is then a `str`.
    let text = std::str::from_utf8(body).ok()?;
    let mut scan = Scan { text, at: 0 };
    let mut envelope = Envelope::default();
    scan.object(|scan, key| scan.envelope_member(key, &mut envelope))?;
    scan.space();
    if scan.at != text.len() {
        return None;
    }
    let (Some(()), Some(id), Some(method)) = (envelope.jsonrpc, envelope.id, envelope.method)
    else {
        return None;
    };
    let (params, members) = match envelope.params {
        Some(((start, end), members)) => {
            let span = text.get(start..end)?;
            let params = Params::shared(body.slice_ref(span.as_bytes()));
            (Some(params), Some(ModernParams::from_members(members)))
        }
        None => (None, None),
    };
    let request = Request {
        id,
        method: method.to_owned(),
        params,
    };
    Some((Message::Request(request), members))
}

/// The envelope's members as read: each `None` until seen.
#[derive(Default)]
struct Envelope<'a> {
    jsonrpc: Option<()>,
    id: Option<RequestId>,
    method: Option<&'a str>,
    params: Option<((usize, usize), modern_params::Params<'a>)>,
}

/// The body's text and the place the scan has reached.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

/// `value` into `slot`, or `None` when the slot was filled already (a duplicate member).
fn fill<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// `json`, a slice of the body just checked as one JSON value, as serde_json's borrowed raw
/// value, made as serde_json's own reader makes one (its private map of one entry), so it is
/// not parsed again. Should serde_json ever read raw values otherwise, this gives `None` and
/// every body is the serde pass's (a test would tell).
fn raw(json: &str) -> Option<&RawValue> {
    const TOKEN: &str = "$serde_json::private::RawValue";
    let entry = (
        BorrowedStrDeserializer::<ValueError>::new(TOKEN),
        BorrowedStrDeserializer::<ValueError>::new(json),
    );
    <&RawValue>::deserialize(MapDeserializer::new(std::iter::once(entry))).ok()
}

impl<'a> Scan<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    /// Past JSON's whitespace.
    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Past whitespace and `byte`, which must be next.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    /// An object's members, each key (without escapes) handed to `member` with the scan at
    /// the `:` before its value; `member` reads the value. Duplicate keys are `member`'s to
    /// tell.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<(usize, usize)> {
        self.space();
        let start = self.at;
        self.expect(b'{')?;
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some((start, self.at));
        }
        loop {
            self.space();
            let key = self.plain()?;
            self.expect(b':')?;
            member(self, key)?;
            self.space();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some((start, self.at));
                }
                _ => return None,
            }
        }
    }

    /// A string without escapes (nor the control characters JSON forbids in one), its content
    /// borrowed.
    fn plain(&mut self) -> Option<&'a str> {
        self.space();
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.at + 1;
        let len = self.bytes()[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        let end = start + len;
        if self.bytes()[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// Any string, escapes checked as serde_json checks them when it skips one.
    fn string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            let rest = &self.bytes()[self.at..];
            let len = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
            self.at += len + 1;
            match rest[len] {
                b'"' => return Some(()),
                b'\\' => match self.peek()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                    b'u' => {
                        let hex = self.bytes().get(self.at + 1..self.at + 5)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        self.at += 5;
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// Past the digits at the scan, at least one of them; how many.
    fn digits(&mut self) -> usize {
        let n = self.bytes()[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        self.at += n;
        n
    }

    /// A number as JSON writes one (serde_json's skip reads this grammar, with no bound on
    /// its digits).
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => {
                self.at += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            (self.digits() > 0).then_some(())?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            (self.digits() > 0).then_some(())?;
        }
        Some(())
    }

    /// `word`, a literal, which must be next.
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes()[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// Any JSON value, checked and skipped; its text.
    fn value(&mut self) -> Option<&'a str> {
        self.space();
        let start = self.at;
        // The open arrays and objects, innermost lowest: a bit set for an object.
        let mut open = 0u64;
        let mut depth = 0u32;
        loop {
            self.space();
            match self.peek()? {
                b'{' | b'[' => {
                    let object = self.peek() == Some(b'{');
                    self.at += 1;
                    self.space();
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.at += 1;
                    } else {
                        depth += 1;
                        if depth > DEPTH {
                            return None;
                        }
                        open = open << 1 | u64::from(object);
                        if object {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b'"' => self.string()?,
                b'-' | b'0'..=b'9' => self.number()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return None,
            }
            // A value ends: close what it ends, up to the next value.
            loop {
                if depth == 0 {
                    return self.text.get(start..self.at);
                }
                self.space();
                let object = open & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if object {
                            self.key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.at += 1;
                open >>= 1;
                depth -= 1;
            }
        }
    }

    /// A skipped object's key (any string) and its `:`.
    fn key(&mut self) -> Option<()> {
        self.space();
        if self.peek() != Some(b'"') {
            return None;
        }
        self.string()?;
        self.expect(b':')
    }

    /// A value kept as sent: any value but `null` (which serde reads as no value).
    fn kept(&mut self) -> Option<&'a RawValue> {
        self.space();
        if self.peek() == Some(b'n') {
            return None;
        }
        raw(self.value()?)
    }

    /// A member of the envelope.
    fn envelope_member(&mut self, key: &'a str, envelope: &mut Envelope<'a>) -> Option<()> {
        match key {
            "jsonrpc" => {
                self.space();
                self.literal(br#""2.0""#)?;
                fill(&mut envelope.jsonrpc, ())
            }
            "id" => {
                let id = self.id()?;
                fill(&mut envelope.id, id)
            }
            "method" => {
                let method = self.plain()?;
                fill(&mut envelope.method, method)
            }
            "params" => {
                if envelope.params.is_some() {
                    return None;
                }
                let mut params = modern_params::Params {
                    meta: None,
                    name: None,
                    uri: None,
                    task_id: None,
                    arguments: None,
                    input_responses: Present(false),
                    request_state: Present(false),
                };
                let span = self.object(|scan, key| scan.params_member(key, &mut params))?;
                fill(&mut envelope.params, (span, params))
            }
            _ => None,
        }
    }

    /// The id: a string without escapes, or a non-negative integer of at most 18 digits (any
    /// such fits an `i64`) without a leading zero; a fraction or an exponent after it ends
    /// the scan where the member's end is looked for.
    fn id(&mut self) -> Option<RequestId> {
        self.space();
        match self.peek()? {
            b'"' => self.plain().map(|id| RequestId::String(id.into())),
            b'0'..=b'9' => {
                let start = self.at;
                let n = self.digits();
                let digits = &self.bytes()[start..self.at];
                if n > 18 || (n > 1 && digits[0] == b'0') {
                    return None;
                }
                let id = digits
                    .iter()
                    .fold(0i64, |id, d| id * 10 + i64::from(d - b'0'));
                Some(RequestId::Number(id))
            }
            _ => None,
        }
    }

    /// A member of the params.
    fn params_member(
        &mut self,
        key: &'a str,
        params: &mut modern_params::Params<'a>,
    ) -> Option<()> {
        match key {
            "_meta" => {
                let mut meta = Meta {
                    version: None,
                    capabilities: None,
                    info: None,
                    log_level: None,
                };
                self.object(|scan, key| scan.meta_member(key, &mut meta))?;
                fill(&mut params.meta, meta)
            }
            "name" => {
                let name = self.plain()?;
                fill(&mut params.name, Text::Borrowed(name))
            }
            "uri" => {
                let uri = self.plain()?;
                fill(&mut params.uri, Text::Borrowed(uri))
            }
            "taskId" => {
                let task = self.plain()?;
                fill(&mut params.task_id, Text::Borrowed(task))
            }
            "arguments" => {
                let arguments = self.kept()?;
                fill(&mut params.arguments, arguments)
            }
            "inputResponses" | "requestState" => {
                self.value()?;
                let seen = match key {
                    "inputResponses" => &mut params.input_responses,
                    _ => &mut params.request_state,
                };
                (!seen.0).then(|| seen.0 = true)
            }
            _ => self.value().map(drop),
        }
    }

    /// A member of `_meta`.
    fn meta_member(&mut self, key: &'a str, meta: &mut Meta<'a>) -> Option<()> {
        match key {
            "io.modelcontextprotocol/protocolVersion" => {
                let version = self.plain()?;
                fill(&mut meta.version, Text::Borrowed(version))
            }
            "io.modelcontextprotocol/clientCapabilities" => {
                let capabilities = self.kept()?;
                fill(&mut meta.capabilities, capabilities)
            }
            "io.modelcontextprotocol/clientInfo" => {
                let info = self.kept()?;
                fill(&mut meta.info, info)
            }
            "io.modelcontextprotocol/logLevel" => {
                let level = self.plain()?;
                fill(&mut meta.log_level, Level(level.parse().ok()))
            }
            _ => self.value().map(drop),
        }
    }
}

#[cfg(test)]
mod tests;
