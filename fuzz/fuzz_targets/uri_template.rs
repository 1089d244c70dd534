//! URI template matching: any template against any URI, never a panic or a runaway match; a
//! template without variables matches exactly its own text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_http_server::UriTemplate;

fuzz_target!(|input: (String, String)| {
    let (template, uri) = input;
    let parsed = UriTemplate::parse(&template);
    let _ = parsed.matches(&uri);
    if !template.contains('{') {
        assert_eq!(parsed.matches(&uri).is_some(), uri == template);
        assert!(parsed.matches(&template).is_some());
    }
});
