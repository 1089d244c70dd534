//! The user agent: what opens the authorization URL and brings the callback back (AC-6). Three
//! implementations: [`Browser`] (an opener command plus a one-shot loopback listener on an
//! ephemeral port of 127.0.0.1), [`PasteBack`] (the URL printed, the callback URL pasted back,
//! for headless and SSH sessions) and [`NonFollowing`] (a GET that does not follow the
//! authorization server's redirect and reads the callback from `Location`: tests and the
//! conformance suite).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use http::Method;
use http::header::{HeaderMap, LOCATION};
use mcp_http_client_http::HttpClient;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use crate::error::OAuthError;
use crate::fetch;

/// Opens authorization URLs and receives callbacks.
pub trait UserAgent: Send + Sync + 'static {
    /// Gets ready for one callback (binds a listener, say).
    fn begin(&self) -> BoxFuture<'_, Result<Box<dyn PendingCallback>, OAuthError>>;
}

/// One authorization under way in a user agent.
pub trait PendingCallback: Send {
    /// The redirect URI to register and send.
    fn redirect_uri(&self) -> String;
    /// Opens `authorization_url` and waits for the callback; returns the callback URL (with
    /// `code`, `state`, `iss` or `error` in its query).
    fn finish(
        self: Box<Self>,
        authorization_url: String,
    ) -> BoxFuture<'static, Result<url::Url, OAuthError>>;
}

/// Refuses to open anything but an http(s) URL.
fn check_openable(url: &str) -> Result<(), OAuthError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(OAuthError::InsecureUrl {
            what: "authorization URL",
            url: url.chars().take(200).collect(),
            reason: "only http and https URLs are opened".to_owned(),
        }),
    }
}

/// A GET of the authorization URL that does not follow the redirect: the callback is read from
/// the `Location` header. For authorization servers that redirect at once (the conformance
/// suite's), and tests.
#[derive(Debug, Clone)]
pub struct NonFollowing {
    http: HttpClient,
    redirect_uri: String,
}

impl NonFollowing {
    /// With `redirect_uri` (never bound: nothing listens on it).
    pub fn new(http: HttpClient, redirect_uri: impl Into<String>) -> Self {
        NonFollowing {
            http,
            redirect_uri: redirect_uri.into(),
        }
    }
}

impl UserAgent for NonFollowing {
    fn begin(&self) -> BoxFuture<'_, Result<Box<dyn PendingCallback>, OAuthError>> {
        let pending: Box<dyn PendingCallback> = Box::new(self.clone());
        Box::pin(async move { Ok(pending) })
    }
}

impl PendingCallback for NonFollowing {
    fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    fn finish(
        self: Box<Self>,
        authorization_url: String,
    ) -> BoxFuture<'static, Result<url::Url, OAuthError>> {
        Box::pin(async move {
            check_openable(&authorization_url)?;
            let answer = fetch::send(
                &self.http,
                "authorization request",
                Method::GET,
                &authorization_url,
                HeaderMap::new(),
                None,
            )
            .await?;
            let location = answer
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .filter(|_| answer.status.is_redirection())
                .ok_or_else(|| {
                    OAuthError::UserAgent(format!(
                        "the authorization endpoint answered HTTP {} without a redirect",
                        answer.status.as_u16()
                    ))
                })?;
            let base = url::Url::parse(&authorization_url)
                .map_err(|e| OAuthError::UserAgent(e.to_string()))?;
            base.join(location)
                .map_err(|_| OAuthError::UserAgent("the redirect is not a valid URL".to_owned()))
        })
    }
}

/// Prints the URL and reads the callback URL the user pastes (a headless machine, an SSH
/// session): after signing in, the browser goes to a page that does not load; its address is
/// what to paste. The redirect URI is `http://127.0.0.1/callback` unless set.
pub struct PasteBack {
    input: Arc<Mutex<Box<dyn AsyncBufRead + Send + Unpin>>>,
    redirect_uri: String,
    show: Show,
}

/// Shows the authorization URL to the user.
type Show = Arc<dyn Fn(&str, &str) + Send + Sync>;

fn print_to_stderr(authorization_url: &str, redirect_uri: &str) {
    eprintln!(
        "Open this URL in a browser and sign in:\n\n  {authorization_url}\n\n\
         Then paste the address the browser was sent to (it starts with {redirect_uri}):"
    );
}

impl std::fmt::Debug for PasteBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasteBack")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

impl PasteBack {
    /// Reading the pasted URL from standard input.
    pub fn stdin() -> Self {
        Self::from_reader(tokio::io::BufReader::new(tokio::io::stdin()))
    }

    /// Reading the pasted URL from `input`.
    pub fn from_reader(input: impl AsyncBufRead + Send + Unpin + 'static) -> Self {
        PasteBack {
            input: Arc::new(Mutex::new(Box::new(input))),
            redirect_uri: "http://127.0.0.1/callback".to_owned(),
            show: Arc::new(print_to_stderr),
        }
    }

    /// Shows the URL with `show(authorization_url, redirect_uri)` instead of printing it on
    /// standard error.
    pub fn show(mut self, show: impl Fn(&str, &str) + Send + Sync + 'static) -> Self {
        self.show = Arc::new(show);
        self
    }

    /// Another redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = uri.into();
        self
    }
}

struct PastePending {
    input: Arc<Mutex<Box<dyn AsyncBufRead + Send + Unpin>>>,
    redirect_uri: String,
    show: Show,
}

impl UserAgent for PasteBack {
    fn begin(&self) -> BoxFuture<'_, Result<Box<dyn PendingCallback>, OAuthError>> {
        let pending: Box<dyn PendingCallback> = Box::new(PastePending {
            input: self.input.clone(),
            redirect_uri: self.redirect_uri.clone(),
            show: self.show.clone(),
        });
        Box::pin(async move { Ok(pending) })
    }
}

impl PendingCallback for PastePending {
    fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    fn finish(
        self: Box<Self>,
        authorization_url: String,
    ) -> BoxFuture<'static, Result<url::Url, OAuthError>> {
        Box::pin(async move {
            check_openable(&authorization_url)?;
            (self.show)(&authorization_url, &self.redirect_uri);
            let mut line = String::new();
            let mut input = self.input.lock().await;
            // One line, at most 16 KiB.
            let read = (&mut *input).take(16 * 1024).read_line(&mut line).await;
            match read {
                Ok(0) => {
                    return Err(OAuthError::UserAgent(
                        "no callback URL was pasted (end of input)".to_owned(),
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(OAuthError::UserAgent(format!(
                        "reading the pasted URL: {e}"
                    )));
                }
            }
            let text = line.trim();
            let base = url::Url::parse(&self.redirect_uri)
                .map_err(|e| OAuthError::UserAgent(e.to_string()))?;
            let url = if text.starts_with('?') || !text.contains("://") {
                base.join(&format!("?{}", text.trim_start_matches('?')))
            } else {
                url::Url::parse(text)
            };
            url.map_err(|_| OAuthError::UserAgent("the pasted text is not a URL".to_owned()))
        })
    }
}

/// Opens the URL with a command (the `$BROWSER` variable, `--browser-command`, or
/// `xdg-open`/`open`), run directly with the URL as its last argument, never through a shell
/// and receives the callback on a one-shot listener on an ephemeral port of 127.0.0.1
/// (redirect URI `http://127.0.0.1:PORT/callback`). The listener closes on every exit path
/// (it lives in the future that waits on it). The URL is always printed too.
#[derive(Debug, Clone)]
pub struct Browser {
    command: Option<Vec<String>>,
    timeout: Duration,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

impl Browser {
    /// The opener from `$BROWSER`, else the system's; five minutes to sign in.
    pub fn new() -> Self {
        let command = std::env::var("BROWSER")
            .ok()
            .map(|c| c.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter(|c| !c.is_empty());
        Browser {
            command,
            timeout: Duration::from_secs(300),
        }
    }

    /// Opens with `command` (program and arguments, whitespace-separated; the URL is added last).
    pub fn command(mut self, command: &str) -> Self {
        let argv: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        self.command = (!argv.is_empty()).then_some(argv);
        self
    }

    /// How long to wait for the callback.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

struct Listening {
    listener: tokio::net::TcpListener,
    port: u16,
    command: Option<Vec<String>>,
    timeout: Duration,
}

impl UserAgent for Browser {
    fn begin(&self) -> BoxFuture<'_, Result<Box<dyn PendingCallback>, OAuthError>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|e| {
                    OAuthError::UserAgent(format!(
                        "cannot listen on 127.0.0.1 for the callback: {e}"
                    ))
                })?;
            let port = listener
                .local_addr()
                .map_err(|e| OAuthError::UserAgent(e.to_string()))?
                .port();
            let pending: Box<dyn PendingCallback> = Box::new(Listening {
                listener,
                port,
                command: self.command.clone(),
                timeout: self.timeout,
            });
            Ok(pending)
        })
    }
}

impl PendingCallback for Listening {
    fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    fn finish(
        self: Box<Self>,
        authorization_url: String,
    ) -> BoxFuture<'static, Result<url::Url, OAuthError>> {
        Box::pin(async move {
            check_openable(&authorization_url)?;
            eprintln!(
                "Opening the browser to sign in. If it does not open, visit:\n\n  {authorization_url}\n"
            );
            if std::env::var_os("SSH_CONNECTION").is_some() {
                eprintln!(
                    "(over SSH: forward the callback port with `ssh -L {0}:127.0.0.1:{0} ...`, or use --no-browser)",
                    self.port
                );
            }
            let argv = match &self.command {
                Some(argv) => argv.clone(),
                None if cfg!(target_os = "macos") => vec!["open".to_owned()],
                None => vec!["xdg-open".to_owned()],
            };
            let spawned = tokio::process::Command::new(&argv[0])
                .args(&argv[1..])
                .arg(&authorization_url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .kill_on_drop(false)
                .spawn();
            if let Err(e) = spawned {
                // Still wait: the user can open the printed URL (A-28: no shell fallback).
                eprintln!(
                    "could not run {:?} ({e}); open the URL above yourself",
                    argv[0]
                );
            }
            let base = self.redirect_uri();
            match tokio::time::timeout(self.timeout, receive(&self.listener, &base)).await {
                Ok(result) => result,
                Err(_) => Err(OAuthError::UserAgent(format!(
                    "no callback within {} s",
                    self.timeout.as_secs()
                ))),
            }
        })
    }
}

/// Serves the listener until a `GET /callback?...` arrives (at most 32 connections).
async fn receive(listener: &tokio::net::TcpListener, base: &str) -> Result<url::Url, OAuthError> {
    for _ in 0..32 {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| OAuthError::UserAgent(format!("the callback listener failed: {e}")))?;
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        if read.is_err() {
            continue;
        }
        let text = String::from_utf8_lossy(&head);
        let target = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or("");
        if !target.starts_with("/callback") {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let body = "<!doctype html><title>mcp-http</title><p>Signed in. You can close this tab and return to the terminal.</p>";
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        return url::Url::parse(base)
            .and_then(|b| b.join(target))
            .map_err(|_| OAuthError::UserAgent("the callback is not a valid URL".to_owned()));
    }
    Err(OAuthError::UserAgent(
        "no callback among the requests the listener received".to_owned(),
    ))
}
