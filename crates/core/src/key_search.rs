//! Where a JSON text first holds a key, found by a single-byte search for one rare byte of it
//! (PF-85, PF-95).

/// Where `text` first holds `key`, searched by memchr's single-byte search for the key's byte at
/// `rare` (a byte other keys of the protocol seldom have), each place checked for the whole key.
/// The places of that byte, in order, find the key's first place, as a search for the whole key
/// does, and cost less in a request's text than memchr's general searcher (PF-85, PF-95).
///
/// `rare` must be an index into `key`; past its end nothing is found.
pub fn first_key(text: &[u8], key: &[u8], rare: usize) -> Option<usize> {
    let byte = *key.get(rare)?;
    memchr::memchr_iter(byte, text).find_map(|place| {
        let at = place.checked_sub(rare)?;
        (text.get(at..at + key.len()) == Some(key)).then_some(at)
    })
}

#[cfg(test)]
mod tests {
    use super::first_key;

    /// The single-byte search finds what a search for the whole key finds, in every cut of a
    /// text with near misses, at its ends and twice.
    #[test]
    fn the_rare_byte_finds_the_first_place_of_the_whole_key() {
        let key = b"progressToken";
        let text = br#"{"Token":1,"progressTo":"T","x":{"progressToken":7},"progressToken":8}"#;
        for start in 0..text.len() {
            for end in start..=text.len() {
                let cut = &text[start..end];
                let whole = cut.windows(key.len()).position(|w| w == key);
                assert_eq!(first_key(cut, key, 8), whole, "{start}..{end}");
            }
        }
        assert_eq!(first_key(text, key, key.len()), None);
    }
}
