//! The OAuth 2.1 client of MCP authorization (spec checklist section 5, client side): an
//! [`OAuthClient`] that plugs into the Streamable HTTP transport as its
//! [`Authorizer`](mcp_http_client_http::Authorizer), so every request carries a token and a
//! 401 or 403 leads to discovery, registration, authorization, refresh or step-up before the
//! request goes out again.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
//! use mcp_http_oauth_client::{Browser, FileStore, OAuthClient, OAuthConfig};
//! let url = "https://mcp.example.com/mcp";
//! let http = HttpClient::new()?;
//! let oauth = OAuthClient::new(url, http.clone(), OAuthConfig::default(),
//!     Arc::new(FileStore::default_location()?), Some(Arc::new(Browser::new())))?;
//! let config = HttpClientConfig::builder().authorizer(oauth).build();
//! let transport = StreamableHttpClient::with_client(url, http, config)?;
//! let client = mcp_http_client::Client::builder("app", "1.0").connect(transport).await?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `challenge`: `WWW-Authenticate` parsing.
//! - `discovery`: protected resource and authorization server metadata, and their checks.
//! - `registration`: pre-registered, CIMD or dynamic registration.
//! - `flow`: one authorization (code with PKCE, or client credentials), and the callback check.
//! - `token`: the token endpoint and its answers.
//! - `client`: [`OAuthClient`], the authorizer: headers, refresh, 401 and 403 handling.
//! - `dpop`, `jws`: DPoP proofs and ES256 JWS.
//! - `user_agent`: [`Browser`], [`PasteBack`], [`NonFollowing`].
//! - `store`: [`FileStore`], [`MemoryStore`].
//! - `fetch`: the bounded HTTP requests of all the above.

mod challenge;
mod client;
mod discovery;
mod dpop;
mod error;
mod fetch;
mod flow;
mod jws;
mod registration;
mod store;
mod token;
mod user_agent;

pub use challenge::{Challenge, ChallengeInfo};
pub use client::{OAuthClient, OAuthConfig, OAuthConfigBuilder};
pub use discovery::{
    ResourceMetadata, ServerMetadata, check_resource, discover_resource, discover_server,
    resource_metadata_urls, server_metadata_urls,
};
pub use dpop::Dpop;
pub use error::OAuthError;
pub use jws::SigningKey;
pub use store::{
    ClientRecord, FileStore, IssuerRecord, MemoryStore, ServerRecord, StoreLock, TokenStore,
};
pub use token::{ClientAuth, Tokens};
pub use user_agent::{Browser, NonFollowing, PasteBack, PendingCallback, UserAgent};
