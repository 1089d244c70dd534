//! A JSON value checked and skipped by its bytes, by serde_json's rules (PF-66): the text at a
//! [`Cursor`] read as serde_json's skip reads it (the same grammar, the same escapes, numbers
//! with no bound on their digits), with no value built. The readers that take a body as clients
//! write it ([`crate::modern_scan`], [`crate::legacy_read`]) read their envelope around it; a
//! value this check refuses, or nests deeper than [`DEPTH`], leaves the body to serde.

use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, Error as ValueError, MapDeserializer};
use serde_json::value::RawValue;

use crate::jsonrpc::RequestId;

/// The deepest nesting a skipped value may have here (deeper ones are serde's to read).
pub(crate) const DEPTH: u32 = 64;

/// A body's text (UTF-8 checked once, by the reader that made it) and the place reached in it.
pub(crate) struct Cursor<'a> {
    /// The whole text.
    pub(crate) text: &'a str,
    /// The place reached: a byte offset into `text`.
    pub(crate) at: usize,
}

/// `json`, a slice of the body just checked as one JSON value, as serde_json's borrowed raw
/// value, made as serde_json's own reader makes one (its private map of one entry), so it is
/// not parsed again. Should serde_json ever read raw values otherwise, this gives `None` and
/// every body is serde's (a test would tell).
pub(crate) fn raw(json: &str) -> Option<&RawValue> {
    const TOKEN: &str = "$serde_json::private::RawValue";
    let entry = (
        BorrowedStrDeserializer::<ValueError>::new(TOKEN),
        BorrowedStrDeserializer::<ValueError>::new(json),
    );
    <&RawValue>::deserialize(MapDeserializer::new(std::iter::once(entry))).ok()
}

/// Where in `bytes` the first `"`, `\\` or control character is: where a string's plain run
/// ends. Eight bytes at a time, as serde_json looks for it (each test is exact for the lowest
/// byte that passes it, which is the one taken).
fn run_end(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let hits = special(u64::from_le_bytes(word));
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|n| at + n)
}

/// The high bit of each byte of `word` that is a `"`, a `\\` or a control byte, exact for the
/// lowest such byte (a byte above it may be marked too, by a borrow). One test finds both the
/// control bytes and the quote: with bit 1 flipped the quote (0x22) is 0x20 and the control
/// bytes stay below it, so both are the bytes below 0x21; the other finds the backslash.
/// Eight operations a word where three tests took ten (PF-83).
#[inline(always)]
fn special(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let quote_or_control = (word ^ (ONES * 0x02)).wrapping_sub(ONES * 0x21);
    let escape = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    (quote_or_control | escape) & !word & HIGH
}

// Small steps marked `#[inline]`: the readers that use them are in other modules, so other
// codegen units, where they were inlined when they were in one module (measured, PF-66).
impl<'a> Cursor<'a> {
    /// A cursor at `at` in `text`.
    #[inline]
    pub(crate) fn new(text: &'a str, at: usize) -> Cursor<'a> {
        Cursor { text, at }
    }

    /// The text as bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The byte at the cursor.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    /// Past JSON's whitespace.
    #[inline]
    pub(crate) fn space(&mut self) {
        // Most bodies have none: a token's first byte is above the space. Only that test is
        // inlined at each of the many places that skip whitespace; the loop is one copy out
        // of line, so a scan's code stays short (PF-99).
        if self.bytes().get(self.at).is_some_and(|&b| b <= b' ') {
            self.spaces();
        }
    }

    /// [`Cursor::space`]'s loop, from a byte at or below the space.
    #[inline(never)]
    fn spaces(&mut self) {
        while let Some(&b) = self.bytes().get(self.at)
            && matches!(b, b' ' | b'\t' | b'\n' | b'\r')
        {
            self.at += 1;
        }
    }

    /// Past whitespace and `byte`, which must be next.
    #[inline]
    pub(crate) fn expect(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    /// Whether only whitespace is left.
    #[inline]
    pub(crate) fn at_end(&mut self) -> bool {
        self.space();
        self.at == self.text.len()
    }

    /// A string without escapes (nor the control characters JSON forbids in one), its content
    /// borrowed.
    #[inline]
    pub(crate) fn plain(&mut self) -> Option<&'a str> {
        self.space();
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.at + 1;
        let end = start + run_end(self.bytes().get(start..)?)?;
        if self.bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// Any string, escapes checked as serde_json checks them when it skips one.
    fn string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            let rest = self.bytes().get(self.at..)?;
            let len = run_end(rest)?;
            self.at += len + 1;
            match rest.get(len)? {
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

    /// Past the digits at the cursor; how many.
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
    #[inline]
    pub(crate) fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes()[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// Any JSON value, checked and skipped; its text.
    pub(crate) fn value(&mut self) -> Option<&'a str> {
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

    /// A request's id as clients write one: a string without escapes, or a non-negative
    /// integer of at most 18 digits (any such fits an `i64`) without a leading zero. A fraction
    /// or an exponent after it is left where it is: the caller's next expected byte refuses it.
    #[inline]
    pub(crate) fn id(&mut self) -> Option<RequestId> {
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
}

#[cfg(test)]
mod tests;
