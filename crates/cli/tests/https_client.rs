//! Our client over https against our server: `StreamableHttpService` behind a rustls acceptor
//! and hyper-util's auto server (HTTP/1.1 and HTTP/2 by ALPN) on loopback, with a self-signed
//! certificate for "localhost" made here. The handshake, a list, a call, progress on an SSE
//! answer and DELETE on close, over HTTP/2 and over HTTP/1.1 as the server offers; a client
//! that does not trust the certificate fails to connect with a plain error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcp_http_client::{Client, RequestError, RequestOptions};
use mcp_http_client_http::{
    CertificateError, HttpClient, HttpClientBuilder, HttpClientConfig, StreamableHttpClient,
};
use mcp_http_core::TransportErrorKind;
use mcp_http_server_http::{HttpConfig, ResponseMode, StreamableHttpService};
use mcp_http_test_support::text;
use serde_json::json;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Every test ends within this, whatever hangs.
const LIMIT: Duration = Duration::from_secs(30);

async fn within<T>(what: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, what)
        .await
        .expect("the test did not finish in time")
}

/// What the server saw of one request: its HTTP version and method, and the answer's type.
#[derive(Debug, Clone)]
struct Seen {
    version: Version,
    method: Method,
    content_type: Option<String>,
}

/// The protocol a TLS handshake agreed on (ALPN), or why it failed.
type Handshake = Result<Option<Vec<u8>>, String>;

/// A running https server; stops accepting when dropped.
struct TlsServer {
    url: String,
    service: StreamableHttpService,
    cert_pem: String,
    cert_der: Vec<u8>,
    handshakes: Arc<Mutex<Vec<Handshake>>>,
    requests: Arc<Mutex<Vec<Seen>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Serves the built-in server over TLS on 127.0.0.1, offering `alpn` (most preferred first).
async fn start_tls(alpn: &[&[u8]]) -> TlsServer {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = certified.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert_der.clone().into()], key)
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let service = StreamableHttpService::new(
        mcp_http::builtin::server(),
        // Every POST answer is an SSE stream, so progress arrives on one.
        HttpConfig::default().response_mode(ResponseMode::Sse),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let (serving, shook, seen) = (service.clone(), handshakes.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = tokio::select! {
                accepted = listener.accept() => accepted.unwrap(),
                _ = &mut stopped => return,
            };
            let (acceptor, service, shook, seen) = (
                acceptor.clone(),
                serving.clone(),
                shook.clone(),
                seen.clone(),
            );
            tokio::spawn(async move {
                let tls = match tokio::time::timeout(LIMIT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => return shook.lock().unwrap().push(Err(e.to_string())),
                    Err(_) => return shook.lock().unwrap().push(Err("timed out".into())),
                };
                let agreed = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                shook.lock().unwrap().push(Ok(agreed));
                let handler = hyper::service::service_fn(move |request: http::Request<_>| {
                    let (service, seen) = (service.clone(), seen.clone());
                    async move {
                        let (version, method) = (request.version(), request.method().clone());
                        let response = service.handle(request).await;
                        let content_type = response
                            .headers()
                            .get(http::header::CONTENT_TYPE)
                            .map(|v| v.to_str().unwrap().to_owned());
                        seen.lock().unwrap().push(Seen {
                            version,
                            method,
                            content_type,
                        });
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), handler)
                    .await;
            });
        }
    });
    TlsServer {
        url: format!("https://localhost:{port}/mcp"),
        service,
        cert_pem: certified.cert.pem(),
        cert_der,
        handshakes,
        requests,
        _stop: stop,
    }
}

fn builder() -> HttpClientBuilder {
    // No proxy from the environment may stand between the test and its loopback server.
    HttpClient::builder()
        .proxies_from_env(false)
        .connect_timeout(Duration::from_secs(5))
}

async fn connect(url: &str, http: HttpClient) -> Result<Client, RequestError> {
    let transport = StreamableHttpClient::with_client(url, http, HttpClientConfig::default())?;
    // A legacy session: the exchange below counts the session the server holds.
    Client::builder("https-e2e", "1.0")
        .era(mcp_http_client::Era::Legacy)
        .connect(transport)
        .await
}

/// The whole exchange over https; returns what the server saw.
async fn exercise(server: &TlsServer, http: HttpClient) -> Vec<Seen> {
    let client = connect(&server.url, http).await.unwrap();
    assert_eq!(client.protocol_version().as_str(), "2025-11-25");
    assert_eq!(server.service.session_count(), 1);
    assert!(client.list_all_tools().await.unwrap().len() >= 20);
    let added = client
        .call_tool("add", json!({"a": 20, "b": 22}))
        .await
        .unwrap();
    assert_eq!(text(&added), "42");

    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = progress.clone();
    let options = RequestOptions::default()
        .timeout(Duration::from_secs(10))
        .on_progress(move |p| sink.lock().unwrap().push(p.progress));
    let result = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 0.2, "steps": 2}),
            options,
        )
        .await
        .unwrap();
    assert!(text(&result).contains("2 steps"), "{}", text(&result));
    assert_eq!(*progress.lock().unwrap(), [1.0, 2.0]);

    // T-42: DELETE on close ends the session; shutdown returns once it was answered.
    client.shutdown().await;
    assert_eq!(server.service.session_count(), 0);

    let seen = server.requests.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|s| s.method == Method::POST
                && s.content_type.as_deref() == Some("text/event-stream")),
        "no POST was answered with SSE: {seen:?}"
    );
    assert!(seen.iter().any(|s| s.method == Method::DELETE), "{seen:?}");
    seen
}

#[tokio::test]
async fn https_over_http2_when_the_server_offers_h2() {
    within(async {
        let server = start_tls(&[b"h2", b"http/1.1"]).await;
        let http = builder()
            .add_root_certificate_pem(server.cert_pem.as_bytes())
            .unwrap()
            .build()
            .unwrap();
        let seen = exercise(&server, http).await;
        assert!(
            seen.iter().all(|s| s.version == Version::HTTP_2),
            "{seen:?}"
        );
        // One pooled connection carries every request (streams are multiplexed on it).
        let handshakes = server.handshakes.lock().unwrap().clone();
        assert_eq!(handshakes, [Ok(Some(b"h2".to_vec()))]);
    })
    .await;
}

#[tokio::test]
async fn https_over_http1_when_the_server_offers_only_http1() {
    within(async {
        let server = start_tls(&[b"http/1.1"]).await;
        let http = builder()
            .add_root_certificate_der(&server.cert_der)
            .unwrap()
            .build()
            .unwrap();
        let seen = exercise(&server, http).await;
        assert!(
            seen.iter().all(|s| s.version == Version::HTTP_11),
            "{seen:?}"
        );
        let handshakes = server.handshakes.lock().unwrap().clone();
        assert!(!handshakes.is_empty());
        assert!(
            handshakes
                .iter()
                .all(|h| h.as_ref() == Ok(&Some(b"http/1.1".to_vec()))),
            "{handshakes:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_fails_to_connect() {
    within(async {
        let server = start_tls(&[b"h2", b"http/1.1"]).await;
        // The webpki roots only: the self-signed certificate is unknown.
        let Err(err) = connect(&server.url, builder().build().unwrap()).await else {
            panic!("connected to a server it should not trust");
        };
        let RequestError::Transport(t) = &err else {
            panic!("not a transport error: {err:?}");
        };
        assert_eq!(t.kind(), TransportErrorKind::Io, "{err}");
        let message = err.to_string();
        assert!(
            message.contains("invalid peer certificate: UnknownIssuer")
                && message.contains("add_root_certificate_pem"),
            "{message}"
        );
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(server.requests.lock().unwrap().is_empty());
        assert_eq!(server.service.session_count(), 0);
        // The server sees the handshake fail (the client refused the certificate), as soon as
        // the client's alert arrives.
        mcp_http_test_support::eventually(|| !server.handshakes.lock().unwrap().is_empty()).await;
        let handshakes = server.handshakes.lock().unwrap().clone();
        assert!(
            !handshakes.is_empty() && handshakes.iter().all(Result::is_err),
            "{handshakes:?}"
        );
    })
    .await;
}

#[test]
fn root_certificates_that_cannot_be_parsed_are_typed_errors() {
    let err = HttpClient::builder()
        .add_root_certificate_pem(b"not a certificate")
        .unwrap_err();
    assert_eq!(err, CertificateError::NoCertificate);
    let err = HttpClient::builder()
        .add_root_certificate_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n")
        .unwrap_err();
    assert!(matches!(err, CertificateError::Pem(_)), "{err:?}");
    let err = HttpClient::builder()
        .add_root_certificate_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .unwrap_err();
    assert!(matches!(err, CertificateError::Invalid(_)), "{err:?}");
    let err = HttpClient::builder()
        .add_root_certificate_der(b"\x30\x03\x02\x01\x01")
        .unwrap_err();
    assert!(
        err.to_string().starts_with("not a usable root certificate"),
        "{err}"
    );
}

/// `bridge URL --ca-cert FILE` (BR-23): the real bridge process trusts a server whose
/// certificate only that file vouches for; without it, the stdio client's handshake fails with
/// a plain error and nothing hangs.
#[tokio::test]
async fn the_bridge_trusts_a_private_root_given_with_ca_cert() {
    let server = start_tls(&[b"h2", b"http/1.1"]).await;
    let pem = std::env::temp_dir().join(format!("mcp-bridge-ca-{}.pem", std::process::id()));
    std::fs::write(&pem, &server.cert_pem).unwrap();
    for trusted in [true, false] {
        let mut bridge = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-http"));
        bridge
            .args(["bridge", &server.url, "--ping-interval", "0"])
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy");
        if trusted {
            bridge.arg("--ca-cert").arg(&pem);
        }
        let transport = mcp_http_transport::stdio::child(bridge).unwrap();
        let connected = within(Client::builder("bridge-tls", "1.0").connect(transport)).await;
        if trusted {
            let client = connected.unwrap();
            let echoed = within(client.call_tool("echo", json!({"message": "over tls"})))
                .await
                .unwrap();
            assert_eq!(text(&echoed), "over tls");
            client.shutdown().await;
        } else {
            let error = connected.expect_err("an untrusted certificate must not connect");
            assert!(!error.to_string().is_empty());
        }
    }
    let _ = std::fs::remove_file(&pem);
}
