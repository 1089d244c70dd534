//! Where authorizations are kept between runs (AC-5): the [`TokenStore`] trait, a per-user
//! [`FileStore`] (the default: one file per MCP server, mode 0600 in a 0700 directory, written
//! by atomic rename, locked across processes) and a [`MemoryStore`].
//!
//! A record per MCP server holds, per authorization server issuer, the server's
//! metadata, the client registered there (its id, secret, redirect URIs) and the tokens issued
//! to that client for the server's resource, with their absolute expiry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::discovery::ServerMetadata;
use crate::error::OAuthError;
use crate::token::Tokens;

/// Everything kept for one MCP server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerRecord {
    /// The MCP server's URL.
    pub server: String,
    /// The issuer whose tokens are in use.
    pub current: Option<String>,
    /// Per issuer.
    pub issuers: BTreeMap<String, IssuerRecord>,
}

/// What is kept for one authorization server of an MCP server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssuerRecord {
    /// The authorization server's metadata (its token endpoint, for refreshes).
    pub metadata: ServerMetadata,
    /// The protected resource's `resource`, sent verbatim; none for 2025-03-26 servers.
    pub resource: Option<String>,
    /// The client registered at this issuer.
    pub client: Option<ClientRecord>,
    /// The tokens issued to that client.
    pub tokens: Option<Tokens>,
}

/// A client registration, bound to the issuer it was made at.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client id.
    pub client_id: String,
    /// The client secret, if any.
    pub client_secret: Option<String>,
    /// The token endpoint authentication method.
    pub auth_method: String,
    /// The redirect URIs registered (a new one means registering again).
    pub redirect_uris: Vec<String>,
    /// `pre-registered`, `cimd` or `dynamic`.
    pub kind: String,
}

impl std::fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRecord")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("auth_method", &self.auth_method)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// How often, and how many times, a locked store file is tried again (30 s in all).
const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(50);
const LOCK_ATTEMPTS: u32 = 600;

/// A held lock on one server's record; released when dropped.
pub type StoreLock = Box<dyn Send + Sync>;

/// Keeps [`ServerRecord`]s. `lock` serializes refreshes of one server's tokens across everything
/// that shares the store (threads, and for the file store, processes), so a rotating refresh
/// token is spent once: the holder reads the record again after taking it.
pub trait TokenStore: Send + Sync + 'static {
    /// The record of `server`, if any.
    fn load(&self, server: &str) -> BoxFuture<'_, Result<Option<ServerRecord>, OAuthError>>;
    /// Replaces the record of `record.server`.
    fn save(&self, record: ServerRecord) -> BoxFuture<'_, Result<(), OAuthError>>;
    /// Forgets `server`; whether there was anything.
    fn forget(&self, server: &str) -> BoxFuture<'_, Result<bool, OAuthError>>;
    /// Takes the exclusive lock of `server`'s record.
    fn lock(&self, server: &str) -> BoxFuture<'_, Result<StoreLock, OAuthError>>;
}

/// Records in memory, for one process.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    records: Arc<std::sync::Mutex<BTreeMap<String, ServerRecord>>>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> OAuthError {
    OAuthError::Store("a lock was poisoned".to_owned())
}

impl TokenStore for MemoryStore {
    fn load(&self, server: &str) -> BoxFuture<'_, Result<Option<ServerRecord>, OAuthError>> {
        let found = self
            .records
            .lock()
            .map(|r| r.get(server).cloned())
            .map_err(|_| poisoned());
        Box::pin(async move { found })
    }
    fn save(&self, record: ServerRecord) -> BoxFuture<'_, Result<(), OAuthError>> {
        let done = self
            .records
            .lock()
            .map(|mut r| {
                r.insert(record.server.clone(), record);
            })
            .map_err(|_| poisoned());
        Box::pin(async move { done })
    }
    fn forget(&self, server: &str) -> BoxFuture<'_, Result<bool, OAuthError>> {
        let done = self
            .records
            .lock()
            .map(|mut r| r.remove(server).is_some())
            .map_err(|_| poisoned());
        Box::pin(async move { done })
    }
    fn lock(&self, _server: &str) -> BoxFuture<'_, Result<StoreLock, OAuthError>> {
        let lock = self.lock.clone();
        Box::pin(async move {
            let guard: StoreLock = Box::new(lock.lock_owned().await);
            Ok(guard)
        })
    }
}

/// One JSON file per MCP server in a per-user directory (default
/// `$XDG_STATE_HOME/mcp-http/oauth`, else `~/.local/state/mcp-http/oauth`; `MCP_HTTP_AUTH_DIR`
/// overrides): files 0600 in a 0700 directory, each written whole to a temporary file and
/// renamed over the old one, and a `.lock` file per server locked with `File::lock` across
/// processes.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// The store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore { dir: dir.into() }
    }

    /// The store in the per-user default directory.
    pub fn default_location() -> Result<Self, OAuthError> {
        if let Some(dir) = std::env::var_os("MCP_HTTP_AUTH_DIR") {
            return Ok(Self::new(dir));
        }
        let base = match std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
            Some(state) => PathBuf::from(state),
            None => {
                let home = std::env::var_os("HOME").ok_or_else(|| {
                    OAuthError::Store("neither XDG_STATE_HOME nor HOME is set".to_owned())
                })?;
                PathBuf::from(home).join(".local").join("state")
            }
        };
        Ok(Self::new(base.join("mcp-http").join("oauth")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, server: &str, ext: &str) -> PathBuf {
        let name = crate::jws::s256(server);
        self.dir.join(format!("{name}.{ext}"))
    }

    fn ensure_dir(&self) -> Result<(), OAuthError> {
        let err = |e: std::io::Error| {
            OAuthError::Store(format!("cannot create {}: {e}", self.dir.display()))
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir).map_err(err)
    }
}

fn io_error(path: &Path, e: std::io::Error) -> OAuthError {
    OAuthError::Store(format!("{}: {e}", path.display()))
}

impl TokenStore for FileStore {
    fn load(&self, server: &str) -> BoxFuture<'_, Result<Option<ServerRecord>, OAuthError>> {
        let path = self.file(server, "json");
        Box::pin(async move {
            let bytes = match tokio::fs::read(&path).await {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_error(&path, e)),
            };
            serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                OAuthError::Store(format!(
                    "{} does not parse ({e}); `mcp-http logout` forgets it",
                    path.display()
                ))
            })
        })
    }

    fn save(&self, record: ServerRecord) -> BoxFuture<'_, Result<(), OAuthError>> {
        let path = self.file(&record.server, "json");
        Box::pin(async move {
            self.ensure_dir()?;
            let bytes =
                serde_json::to_vec_pretty(&record).map_err(|e| OAuthError::Store(e.to_string()))?;
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let write = {
                let tmp = tmp.clone();
                move || -> std::io::Result<()> {
                    use std::io::Write;
                    let mut options = std::fs::OpenOptions::new();
                    options.write(true).create(true).truncate(true);
                    #[cfg(unix)]
                    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                    let mut file = options.open(&tmp)?;
                    file.write_all(&bytes)?;
                    file.sync_all()
                }
            };
            tokio::task::spawn_blocking(write)
                .await
                .map_err(|e| OAuthError::Store(e.to_string()))?
                .map_err(|e| io_error(&tmp, e))?;
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(|e| io_error(&path, e))
        })
    }

    fn forget(&self, server: &str) -> BoxFuture<'_, Result<bool, OAuthError>> {
        let path = self.file(server, "json");
        Box::pin(async move {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(io_error(&path, e)),
            }
        })
    }

    fn lock(&self, server: &str) -> BoxFuture<'_, Result<StoreLock, OAuthError>> {
        let path = self.file(server, "lock");
        Box::pin(async move {
            self.ensure_dir()?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(false);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let file = options.open(&path).map_err(|e| io_error(&path, e))?;
            // Polled, so a process that holds the lock and hangs costs a clear error, not a hang.
            for _ in 0..LOCK_ATTEMPTS {
                match file.try_lock() {
                    Ok(()) => {
                        let guard: StoreLock = Box::new(file);
                        return Ok(guard);
                    }
                    Err(std::fs::TryLockError::WouldBlock) => tokio::time::sleep(LOCK_POLL).await,
                    Err(std::fs::TryLockError::Error(e)) => return Err(io_error(&path, e)),
                }
            }
            Err(OAuthError::Store(format!(
                "{} is still locked by another process after {} s",
                path.display(),
                (LOCK_POLL * LOCK_ATTEMPTS).as_secs()
            )))
        })
    }
}
