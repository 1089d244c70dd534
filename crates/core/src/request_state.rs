//! The sealed `requestState` of an input-required result (MR-1, MR-2).
//!
//! A 2026-07-28 client echoes the `requestState` of an `InputRequiredResult` when it retries, so
//! the state is attacker-controlled (MR-1). Ours is sealed with XChaCha20-Poly1305 (a random
//! 24-byte nonce per token, a key derived with HKDF-SHA256 from a configured secret): the client
//! can neither read nor change it. Its claims bind it to where it was issued: the method, the
//! target (tool or prompt name, resource URI), a digest of the request's canonical JSON params
//! (keys sorted; `_meta`, `inputResponses` and `requestState` left out), a digest of the
//! principal, an expiry (10 minutes by default) and a random 128-bit nonce that makes it single
//! use (MR-2, through [`UsedStates`]). Inside are the answers of earlier rounds and the
//! handler's own state.
//!
//! Every failure (not base64, larger than 64 KiB, unknown key, tampered, expired, issued for
//! another request or principal, already used) is the same -32602 "Invalid or expired
//! requestState" with no detail; the reason goes to `tracing::debug!` only.
//!
//! Keys: [`RequestStateKeys`] is a ring built from one or more secrets; the first seals, all
//! open, and a 4-byte key id in the token picks the key, so a new secret can be put first while
//! the old one still opens the states issued before. Without configured secrets the ring holds
//! one ephemeral random key, made on first use: then a retry that reaches another instance, or
//! comes after a restart, is refused. Several instances behind one endpoint must share secrets
//! (and, for single use across them, a shared [`UsedStates`]).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use futures::future::BoxFuture;
use mcp_http_proto::{ErrorObject, error_code};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The largest `requestState` we issue or open, in bytes of its text.
pub const MAX_STATE_LEN: usize = 64 * 1024;
/// How long a sealed state can be used, unless configured otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// The shortest secret [`RequestStateKeys::from_secrets`] takes, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
const HKDF_SALT: &[u8] = b"mcp-http requestState v1";

/// A secret could not make a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No secret was given.
    #[error("no requestState secret was given")]
    NoSecret,
    /// A secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("a requestState secret must be at least {MIN_SECRET_LEN} bytes")]
    TooShort,
}

struct SealKey {
    id: [u8; KEY_ID_LEN],
    cipher: XChaCha20Poly1305,
}

impl SealKey {
    fn derive(secret: &[u8]) -> SealKey {
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(HKDF_SALT), secret);
        let mut key = [0u8; 32];
        let mut id = [0u8; KEY_ID_LEN];
        // Both lengths are far below HKDF-SHA256's limit of 8160 bytes: these cannot fail.
        let _ = hkdf.expand(b"key", &mut key);
        let _ = hkdf.expand(b"key id", &mut id);
        SealKey {
            id,
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }
}

enum KeySource {
    Configured(Vec<SealKey>),
    Ephemeral(OnceLock<SealKey>),
}

/// The keys that seal and open `requestState`: the first seals, all open (rotation: put the new
/// secret first and keep the old one until its states have expired).
///
/// ```
/// use mcp_http_core::request_state::RequestStateKeys;
/// let keys = RequestStateKeys::from_secrets([[7u8; 32], [9u8; 32]])?;
/// assert!(!keys.is_ephemeral());
/// # Ok::<(), mcp_http_core::request_state::KeyError>(())
/// ```
pub struct RequestStateKeys {
    source: KeySource,
}

impl fmt::Debug for RequestStateKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the keys themselves.
        let count = match &self.source {
            KeySource::Configured(keys) => keys.len(),
            KeySource::Ephemeral(_) => 1,
        };
        f.debug_struct("RequestStateKeys")
            .field("ephemeral", &self.is_ephemeral())
            .field("keys", &count)
            .finish()
    }
}

impl RequestStateKeys {
    /// A ring of keys derived from `secrets` (each at least [`MIN_SECRET_LEN`] bytes of high
    /// entropy); the first seals.
    pub fn from_secrets<I, S>(secrets: I) -> Result<Self, KeyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut keys = Vec::new();
        for secret in secrets {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_LEN {
                return Err(KeyError::TooShort);
            }
            keys.push(SealKey::derive(secret));
        }
        if keys.is_empty() {
            return Err(KeyError::NoSecret);
        }
        Ok(RequestStateKeys {
            source: KeySource::Configured(keys),
        })
    }

    /// One random key for this process, made on first use: states do not survive a restart and
    /// are refused by other instances.
    pub fn ephemeral() -> Self {
        RequestStateKeys {
            source: KeySource::Ephemeral(OnceLock::new()),
        }
    }

    /// Whether the ring is a process's ephemeral key.
    pub fn is_ephemeral(&self) -> bool {
        matches!(self.source, KeySource::Ephemeral(_))
    }

    fn sealing(&self) -> Result<&SealKey, Reason> {
        match &self.source {
            KeySource::Configured(keys) => keys.first().ok_or(Reason::NoKey),
            KeySource::Ephemeral(cell) => {
                if let Some(key) = cell.get() {
                    return Ok(key);
                }
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(|_| Reason::NoRandomness)?;
                let _ = cell.set(SealKey::derive(&secret));
                cell.get().ok_or(Reason::NoKey)
            }
        }
    }

    fn opening(&self, id: &[u8]) -> impl Iterator<Item = &SealKey> {
        let keys: &[SealKey] = match &self.source {
            KeySource::Configured(keys) => keys,
            KeySource::Ephemeral(cell) => cell.get().map(std::slice::from_ref).unwrap_or(&[]),
        };
        keys.iter().filter(move |k| k.id == id)
    }
}

/// The random 128-bit nonce that makes a sealed state single use (MR-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateNonce([u8; 16]);

impl StateNonce {
    /// The nonce's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Lowercase hex (a key for a shared store).
impl fmt::Display for StateNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Remembers which sealed states were used, so each is accepted once (MR-2). Implement it over a
/// shared store (one `SET NX` with an expiry per state in Redis) when several instances serve
/// one endpoint. A backend that cannot answer should answer `false`: a refused retry costs the
/// client a new call, an accepted replay could repeat a side effect.
pub trait UsedStates: Send + Sync + 'static {
    /// Records the use of `nonce`, whose state expires at `expires_at`; `true` the first time.
    fn first_use(&self, nonce: StateNonce, expires_at: SystemTime) -> BoxFuture<'_, bool>;

    /// Forgets a use: the retry that used it was cancelled before it answered, so the client
    /// may send the same state again.
    fn release(&self, nonce: StateNonce) -> BoxFuture<'_, ()>;
}

/// [`UsedStates`] in this process's memory, bounded.
///
/// Entries leave when their state expires (a state past its expiry is refused anyway). When the
/// table is full, the entry that expires first is dropped to make room: a state whose entry was
/// dropped could be used once more before it expires. The capacity is the trade-off between
/// memory (about 100 bytes an entry) and that window; the default, 65,536, covers that many
/// input-required rounds per TTL.
#[derive(Debug)]
pub struct MemoryUsedStates {
    capacity: usize,
    table: Mutex<UsedTable>,
}

#[derive(Debug, Default)]
struct UsedTable {
    expiry: HashMap<StateNonce, u64>,
    by_expiry: BTreeSet<(u64, StateNonce)>,
}

impl Default for MemoryUsedStates {
    fn default() -> Self {
        Self::new(65_536)
    }
}

impl MemoryUsedStates {
    /// A table of at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        MemoryUsedStates {
            capacity: capacity.max(1),
            table: Mutex::default(),
        }
    }

    /// How many uses are remembered now.
    pub fn len(&self) -> usize {
        crate::sync::lock(&self.table).expiry.len()
    }

    /// Whether no use is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn record(&self, nonce: StateNonce, expires_at: u64, now: u64) -> bool {
        let mut table = crate::sync::lock(&self.table);
        // Expired states are refused anyway: their entries can go.
        while let Some(&(at, old)) = table.by_expiry.first() {
            if at > now {
                break;
            }
            table.by_expiry.pop_first();
            table.expiry.remove(&old);
        }
        if table.expiry.contains_key(&nonce) {
            return false;
        }
        if table.expiry.len() >= self.capacity {
            // Full: the entry that expires first makes room (see the type's docs).
            if let Some((_, old)) = table.by_expiry.pop_first() {
                table.expiry.remove(&old);
            }
        }
        table.expiry.insert(nonce, expires_at);
        table.by_expiry.insert((expires_at, nonce));
        true
    }
}

impl UsedStates for MemoryUsedStates {
    fn first_use(&self, nonce: StateNonce, expires_at: SystemTime) -> BoxFuture<'_, bool> {
        let first = self.record(nonce, unix(expires_at), unix(SystemTime::now()));
        Box::pin(std::future::ready(first))
    }

    fn release(&self, nonce: StateNonce) -> BoxFuture<'_, ()> {
        let mut table = crate::sync::lock(&self.table);
        if let Some(at) = table.expiry.remove(&nonce) {
            table.by_expiry.remove(&(at, nonce));
        }
        Box::pin(std::future::ready(()))
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// How `requestState` is sealed and checked: the key ring, the lifetime and the record of used
/// states. One per server, shared by its requests; set with the server builder
/// (`Server::builder(..).request_states(..)`).
///
/// ```
/// use std::time::Duration;
/// use mcp_http_core::request_state::{RequestStateKeys, RequestStates};
/// let states = RequestStates::new(RequestStateKeys::from_secrets([[1u8; 32]])?)
///     .with_ttl(Duration::from_secs(120));
/// assert_eq!(states.ttl(), Duration::from_secs(120));
/// # Ok::<(), mcp_http_core::request_state::KeyError>(())
/// ```
#[derive(Clone)]
pub struct RequestStates {
    keys: Arc<RequestStateKeys>,
    ttl: Duration,
    used: Arc<dyn UsedStates>,
}

impl fmt::Debug for RequestStates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestStates")
            .field("keys", &self.keys)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Default for RequestStates {
    /// An ephemeral key, the default TTL and a [`MemoryUsedStates`].
    fn default() -> Self {
        Self::new(RequestStateKeys::ephemeral())
    }
}

impl RequestStates {
    /// States sealed with `keys`, the default TTL and a [`MemoryUsedStates`].
    pub fn new(keys: RequestStateKeys) -> Self {
        RequestStates {
            keys: Arc::new(keys),
            ttl: DEFAULT_TTL,
            used: Arc::new(MemoryUsedStates::default()),
        }
    }

    /// How long a state stays valid (default 10 minutes).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Where used states are remembered (a shared store for several instances).
    pub fn with_used_states(mut self, used: Arc<dyn UsedStates>) -> Self {
        self.used = used;
        self
    }

    /// How long a state stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The record of used states.
    pub fn used_states(&self) -> &Arc<dyn UsedStates> {
        &self.used
    }

    /// Seals `claims` (their time, expiry and nonce are set here).
    pub(crate) fn seal(&self, mut claims: Claims) -> Result<String, Reason> {
        let key = self.keys.sealing()?;
        let now = unix(SystemTime::now());
        claims.v = VERSION;
        claims.iat = now;
        claims.exp = now.saturating_add(self.ttl.as_secs());
        let mut random = [0u8; 16 + NONCE_LEN];
        getrandom::fill(&mut random).map_err(|_| Reason::NoRandomness)?;
        let (state_nonce, aead_nonce) = random.split_at(16);
        claims.n = URL_SAFE_NO_PAD.encode(state_nonce);
        let plain = serde_json::to_vec(&claims).map_err(|_| Reason::Claims)?;
        let mut header = [0u8; HEADER_LEN];
        header[0] = VERSION;
        header[1..].copy_from_slice(&key.id);
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(aead_nonce),
                Payload {
                    msg: &plain,
                    aad: &header,
                },
            )
            .map_err(|_| Reason::Tampered)?;
        let mut token = Vec::with_capacity(HEADER_LEN + NONCE_LEN + sealed.len());
        token.extend_from_slice(&header);
        token.extend_from_slice(aead_nonce);
        token.extend_from_slice(&sealed);
        let text = URL_SAFE_NO_PAD.encode(token);
        if text.len() > MAX_STATE_LEN {
            return Err(Reason::TooLarge);
        }
        Ok(text)
    }

    /// Opens a state and checks it was issued for `binding`, unexpired. Single use is checked
    /// apart ([`UsedStates`]), once the claims are known good.
    pub(crate) fn open(&self, text: &str, binding: &Binding) -> Result<Claims, Reason> {
        if text.len() > MAX_STATE_LEN {
            return Err(Reason::TooLarge);
        }
        let token = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| Reason::NotBase64)?;
        if token.len() < HEADER_LEN + NONCE_LEN + 16 || token[0] != VERSION {
            return Err(Reason::Malformed);
        }
        let (header, rest) = token.split_at(HEADER_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let plain = self
            .keys
            .opening(&header[1..])
            .find_map(|key| {
                key.cipher
                    .decrypt(
                        XNonce::from_slice(nonce),
                        Payload {
                            msg: sealed,
                            aad: header,
                        },
                    )
                    .ok()
            })
            .ok_or(Reason::Tampered)?;
        let claims: Claims = serde_json::from_slice(&plain).map_err(|_| Reason::Claims)?;
        if claims.v != VERSION {
            return Err(Reason::Claims);
        }
        if unix(SystemTime::now()) >= claims.exp {
            return Err(Reason::Expired);
        }
        if claims.m != binding.method
            || claims.t != binding.target
            || claims.a != binding.params
            || claims.p != binding.principal
        {
            return Err(Reason::WrongBinding);
        }
        Ok(claims)
    }
}

/// Why a state was refused or could not be issued: for the debug log only, never for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    TooLarge,
    NotBase64,
    Malformed,
    Tampered,
    Claims,
    Expired,
    WrongBinding,
    NoKey,
    NoRandomness,
}

/// The one answer to a refused state: -32602 with no detail.
pub(crate) fn invalid_state() -> ErrorObject {
    ErrorObject::new(
        error_code::INVALID_PARAMS,
        "Invalid or expired requestState",
    )
}

/// What a sealed state carries.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// Format version.
    pub(crate) v: u8,
    /// Issued and expiry times, Unix seconds.
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    /// Method and target (tool or prompt name, resource URI).
    pub(crate) m: String,
    pub(crate) t: String,
    /// Digests of the canonical params and of the principal (base64url).
    pub(crate) a: String,
    pub(crate) p: String,
    /// The single-use nonce (base64url of 16 bytes).
    pub(crate) n: String,
    /// Answers of earlier rounds, by input key.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) r: Map<String, Value>,
    /// The handler's own state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) s: Option<String>,
}

impl Claims {
    /// The single-use nonce and the expiry.
    pub(crate) fn nonce(&self) -> Option<(StateNonce, SystemTime)> {
        let bytes = URL_SAFE_NO_PAD.decode(&self.n).ok()?;
        let nonce = StateNonce(bytes.try_into().ok()?);
        Some((nonce, UNIX_EPOCH + Duration::from_secs(self.exp)))
    }
}

/// Where a state may be used: the request it was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) params: String,
    pub(crate) principal: String,
}

impl Binding {
    /// The binding of a request: `params` is its params' JSON (digested without `_meta`,
    /// `inputResponses` and `requestState`, keys sorted), `principal` who made it.
    pub(crate) fn new(
        method: &str,
        target: &str,
        params: Option<&str>,
        principal: Option<&str>,
    ) -> Binding {
        let mut value: Value = params
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            for member in ["_meta", "inputResponses", "requestState"] {
                map.remove(member);
            }
        }
        let mut canonical = Vec::new();
        write_canonical(&value, &mut canonical);
        let mut who = Sha256::new();
        match principal {
            Some(id) => {
                who.update(b"principal\0");
                who.update(id.as_bytes());
            }
            None => who.update(b"anonymous"),
        }
        Binding {
            method: method.to_owned(),
            target: target.to_owned(),
            params: digest(Sha256::digest(&canonical).as_slice()),
            principal: digest(who.finalize().as_slice()),
        }
    }

    /// The claims of a new state issued here.
    pub(crate) fn claims(&self, answers: Map<String, Value>, state: Option<String>) -> Claims {
        Claims {
            m: self.method.clone(),
            t: self.target.clone(),
            a: self.params.clone(),
            p: self.principal.clone(),
            r: answers,
            s: state,
            ..Claims::default()
        }
    }
}

/// The first 128 bits of a SHA-256 digest, base64url.
fn digest(full: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&full[..16])
}

/// JSON with the keys of every object sorted, so equal values digest alike whatever the order
/// their sender wrote.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<_> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

#[cfg(test)]
mod tests;
