//! Opaque cursors for the `*/list` methods (TL-2): a cursor is the encoded offset of the next
//! page. Clients must treat it as opaque; an invalid one gets -32602.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_http_proto::ErrorObject;

const PREFIX: &str = "mcp-http:";

fn encode(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{offset}"))
}

fn decode(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix(PREFIX)?
        .parse()
        .ok()
}

/// One page of `items` from `cursor`, and the cursor of the next page.
pub(crate) fn page<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    page_size: usize,
) -> Result<(Vec<T>, Option<String>), ErrorObject> {
    let start = match cursor {
        None => 0,
        Some(c) => decode(c)
            .filter(|&o| o <= items.len())
            .ok_or_else(|| ErrorObject::invalid_params("Invalid params: cursor is not valid"))?,
    };
    let end = start.saturating_add(page_size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| encode(end));
    Ok((items[start..end].to_vec(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_every_page_once() {
        let items: Vec<u32> = (0..7).collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = page(&items, cursor.as_deref(), 3).unwrap();
            seen.extend(page);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn rejects_bad_cursors() {
        let items = [1, 2];
        for bad in ["", "x", "!!", &encode(9)] {
            assert_eq!(
                page(&items, Some(bad), 1).unwrap_err().code,
                -32602,
                "{bad}"
            );
        }
    }
}
