//! The resource server's cost per request with a verified token in its cache, for callgrind
//! (docs/auth-server.md, "Cost"): `admit` on N POSTs carrying one token, after a first request
//! that fills the cache. Run two N and take the difference per call:
//!
//! ```text
//! cargo build --release -p mcp-http-oauth-server --example admit_cost
//! valgrind --tool=callgrind target/release/examples/admit_cost 1000
//! valgrind --tool=callgrind target/release/examples/admit_cost 11000
//! valgrind --tool=callgrind target/release/examples/admit_cost 1000 baseline   # the harness
//! valgrind --tool=callgrind target/release/examples/admit_cost 11000 baseline
//! ```
//!
//! The verifier here answers one fixed verified token: only its first call is made (the cache
//! answers the rest), so what is measured is the layer itself.

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;
use mcp_http_oauth_server::{ResourceServer, TokenVerifier, VerifiedToken, VerifyError};

const RESOURCE: &str = "http://127.0.0.1:8080/mcp";

struct Fixed;

impl TokenVerifier for Fixed {
    fn verify<'a>(&'a self, _token: &'a str) -> BoxFuture<'a, Result<VerifiedToken, VerifyError>> {
        Box::pin(async {
            let mut token = VerifiedToken::new("alice", "client-1");
            token.scopes = vec!["mcp:read".into(), "mcp:write".into()];
            token.audience = vec![RESOURCE.into()];
            Ok(token)
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args().nth(1).map_or(Ok(1000), |n| n.parse())?;
    // `baseline`: the same requests built and dropped, without the layer (the harness's share).
    let baseline = std::env::args().nth(2).as_deref() == Some("baseline");
    let gate = ResourceServer::builder(RESOURCE)
        .authorization_server("http://127.0.0.1:9")
        .require_scope("mcp:read")
        .tool_scopes("add", ["mcp:write"])
        .verifier(Fixed)
        .build()?;
    // A token of a typical size (an ES256 JWT from oidc-provider is about 400 bytes).
    let token = format!("Bearer {}", "a".repeat(400));
    let body = Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"#);
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let mut passed = 0usize;
    runtime.block_on(async {
        for _ in 0..=calls {
            let request = http::Request::post("/mcp")
                .header("authorization", &token)
                .header("mcp-method", "tools/call")
                .header("mcp-name", "echo")
                .body(Full::new(body.clone()))
                .map_err(|e| e.to_string())?;
            if baseline {
                drop(std::hint::black_box(request));
            } else if gate.admit(request).await.is_ok() {
                passed += 1;
            }
        }
        Ok::<_, String>(())
    })?;
    println!("{passed} of {} admitted", calls + 1);
    Ok(())
}
