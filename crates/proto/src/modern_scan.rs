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
//! response, nesting deeper than [`crate::json_skip::DEPTH`], anything that is not JSON.

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::json_skip::{Cursor, raw};
use crate::jsonrpc::{Message, Params, Request, RequestId};
use crate::modern_params::{self, Level, Meta, ModernParams, Present, Text};
use crate::modern_read::Members;

/// The request in `body` and the ladder's members of its params, when the body is written as
/// this read takes it; `None` leaves the body to the serde pass.
pub(crate) fn scan(body: &Bytes) -> Option<(Message, Members<'_>)> {
    // UTF-8 checked once, as the serde pass does: every slice below is then a `str`.
    let text = std::str::from_utf8(body).ok()?;
    let mut scan = Cursor::new(text, 0);
    // Filled where it lies, never moved while the scan reads (PF-60).
    let mut envelope = Envelope {
        jsonrpc: false,
        id: None,
        method: None,
        span: None,
        members: modern_params::Params {
            meta: None,
            name: None,
            uri: None,
            task_id: None,
            arguments: None,
            input_responses: Present(false),
            request_state: Present(false),
        },
    };
    scan.object(|scan| scan.envelope_member(&mut envelope))?;
    scan.space();
    if scan.at != text.len() || !envelope.jsonrpc {
        return None;
    }
    let (Some(id), Some(method)) = (envelope.id, envelope.method) else {
        return None;
    };
    let (params, members) = match envelope.span {
        Some((start, end)) => {
            let span = text.get(start..end)?;
            let params = Params::shared(body.slice_ref(span.as_bytes()));
            (
                Some(params),
                Some(ModernParams::from_members(envelope.members)),
            )
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

/// The envelope's members as read: each `None` (or `false`) until seen; the params' members
/// are read into `members`, their span marks them seen.
struct Envelope<'a> {
    jsonrpc: bool,
    id: Option<RequestId>,
    method: Option<&'a str>,
    span: Option<(usize, usize)>,
    members: modern_params::Params<'a>,
}

/// `value` into `slot`, or `None` when the slot was filled already (a duplicate member).
#[inline]
fn fill<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

impl<'a> Cursor<'a> {
    /// An object's members, each handed to `member` with the scan at its key (after any
    /// whitespace); `member` reads the key, the `:` and the value. Duplicate keys are
    /// `member`'s to tell.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<(usize, usize)> {
        self.space();
        let start = self.at;
        // Whitespace was skipped just above (PF-99).
        (self.peek() == Some(b'{')).then(|| self.at += 1)?;
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some((start, self.at));
        }
        loop {
            self.space();
            member(self)?;
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

    /// Whether the key at the scan is `name` (compared as bytes: a known key has no escape),
    /// and past it and its `:` when it is.
    fn is(&mut self, name: &str) -> Option<bool> {
        let after = self.at + 1 + name.len();
        let bytes = self.bytes();
        if bytes.get(self.at) == Some(&b'"')
            && bytes.get(self.at + 1..after) == Some(name.as_bytes())
            && bytes.get(after) == Some(&b'"')
        {
            self.at = after + 1;
            self.expect(b':')?;
            return Some(true);
        }
        Some(false)
    }

    /// A key none of the record's (read as a string without escapes: one that had an escape
    /// might be one of them), and its `:`.
    fn other_key(&mut self) -> Option<()> {
        self.plain()?;
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

    /// A member of the envelope: a known key, told by its first byte and compared as bytes.
    fn envelope_member(&mut self, envelope: &mut Envelope<'a>) -> Option<()> {
        let first = self.bytes().get(self.at + 1).copied();
        if first == Some(b'j') && self.is("jsonrpc")? {
            self.space();
            self.literal(br#""2.0""#)?;
            return (!envelope.jsonrpc).then(|| envelope.jsonrpc = true);
        }
        if first == Some(b'i') && self.is("id")? {
            let id = self.id()?;
            return fill(&mut envelope.id, id);
        }
        if first == Some(b'm') && self.is("method")? {
            let method = self.plain()?;
            return fill(&mut envelope.method, method);
        }
        if first == Some(b'p') && self.is("params")? {
            if envelope.span.is_some() {
                return None;
            }
            let members = &mut envelope.members;
            let span = self.object(|scan| scan.params_member(members))?;
            envelope.span = Some(span);
            return Some(());
        }
        // Any other member: the serde pass's to read.
        None
    }

    /// A member of the params.
    fn params_member(&mut self, params: &mut modern_params::Params<'a>) -> Option<()> {
        match self.bytes().get(self.at + 1).copied() {
            Some(b'_') if self.is("_meta")? => {
                if params.meta.is_some() {
                    return None;
                }
                let meta = params.meta.insert(Meta {
                    version: None,
                    capabilities: None,
                    info: None,
                    log_level: None,
                });
                self.object(|scan| scan.meta_member(meta)).map(drop)
            }
            Some(b'n') if self.is("name")? => {
                let name = self.plain()?;
                fill(&mut params.name, Text::Borrowed(name))
            }
            Some(b'u') if self.is("uri")? => {
                let uri = self.plain()?;
                fill(&mut params.uri, Text::Borrowed(uri))
            }
            Some(b't') if self.is("taskId")? => {
                let task = self.plain()?;
                fill(&mut params.task_id, Text::Borrowed(task))
            }
            Some(b'a') if self.is("arguments")? => {
                let arguments = self.kept()?;
                fill(&mut params.arguments, arguments)
            }
            Some(b'i') if self.is("inputResponses")? => {
                self.value()?;
                seen(&mut params.input_responses)
            }
            Some(b'r') if self.is("requestState")? => {
                self.value()?;
                seen(&mut params.request_state)
            }
            _ => {
                self.other_key()?;
                self.value().map(drop)
            }
        }
    }

    /// A member of `_meta`: one of ours told by the byte after the shared prefix, and only the
    /// rest of its key compared (PF-86).
    fn meta_member(&mut self, meta: &mut Meta<'a>) -> Option<()> {
        const PREFIX: &[u8] = b"io.modelcontextprotocol/";
        let rest = self.at + 1 + PREFIX.len();
        // The key's opening `"` is checked here: `is_ours` takes it as seen.
        let ours = self
            .bytes()
            .get(self.at..)
            .is_some_and(|key| key.first() == Some(&b'"') && key[1..].starts_with(PREFIX));
        if ours {
            match self.bytes().get(rest).copied() {
                Some(b'p') if self.is_ours(rest, "protocolVersion")? => {
                    let version = self.plain()?;
                    return fill(&mut meta.version, Text::Borrowed(version));
                }
                Some(b'c') if self.is_ours(rest, "clientCapabilities")? => {
                    let capabilities = self.kept()?;
                    return fill(&mut meta.capabilities, capabilities);
                }
                Some(b'c') if self.is_ours(rest, "clientInfo")? => {
                    let info = self.kept()?;
                    return fill(&mut meta.info, info);
                }
                Some(b'l') if self.is_ours(rest, "logLevel")? => {
                    let level = self.plain()?;
                    return fill(&mut meta.log_level, Level(level.parse().ok()));
                }
                _ => {}
            }
        }
        self.other_key()?;
        self.value().map(drop)
    }

    /// [`Cursor::is`] of a key whose `"` and the prefix before `rest` were seen already: whether
    /// the key goes on with `name` and ends, and past it and its `:` when it does.
    fn is_ours(&mut self, rest: usize, name: &str) -> Option<bool> {
        let after = rest + name.len();
        let bytes = self.bytes();
        if bytes.get(rest..after) == Some(name.as_bytes()) && bytes.get(after) == Some(&b'"') {
            self.at = after + 1;
            self.expect(b':')?;
            return Some(true);
        }
        Some(false)
    }
}

/// A retry's member marked seen, or `None` when it was already (a duplicate member).
fn seen(present: &mut Present) -> Option<()> {
    (!present.0).then(|| present.0 = true)
}

#[cfg(test)]
mod tests;
