//! The OAuth 2.1 resource server of mcp-http (docs/auth-server.md): in front of the Streamable
//! HTTP endpoint, it serves the RFC 9728 protected resource metadata, checks each request's
//! access token (JWT against the authorization server's JWKS, or RFC 7662 introspection), its
//! DPoP proof (RFC 9449) and the scopes the operation needs, answers 401/403 with
//! `WWW-Authenticate` challenges, and names the request's principal (subject and client) for
//! the session binding and the handlers.
//!
//! ```no_run
//! # fn f(server: impl mcp_http_server_http::HandlerFactory) -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_http_oauth_server::{JwtVerifier, ResourceServer};
//! let gate = ResourceServer::builder("https://mcp.example.com/mcp")
//!     .authorization_server("https://auth.example.com")
//!     .require_scope("mcp:read")
//!     .tool_scopes("delete_everything", ["mcp:admin"])
//!     .verifier(JwtVerifier::new("https://auth.example.com")?)
//!     .build()?;
//! let service = mcp_http_server_http::StreamableHttpService::builder(server)
//!     .front(gate.front())
//!     .build();
//! # let _ = service; Ok(()) }
//! ```
//!
//! Layout: `gate` (the decisions and the metadata), `layer` (tower layer, serve front, the
//! operation of a request), `token` (the verified token and the verifier trait), `jwt` and
//! `introspection` (the two verifiers), `fetch` (requests to the authorization server and its
//! discovery), `claims`, `cache`, `dpop`, `policy` (scopes per operation), `challenge`.

mod cache;
mod challenge;
mod claims;
mod dpop;
mod fetch;
mod gate;
mod introspection;
mod jwt;
mod layer;
mod policy;
mod token;

pub use gate::{BuildError, ResourceServer, ResourceServerBuilder};
pub use introspection::IntrospectionVerifier;
pub use jwt::JwtVerifier;
pub use layer::{GateBody, OAuthLayer, OAuthService};
pub use policy::ScopePolicy;
pub use token::{TokenVerifier, VerifiedToken, VerifyError};
