//! The claims both verifiers read, from a JWT payload or an introspection answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::token::{VerifiedToken, VerifyError};

/// Reads `sub`, `client_id`, `scope`, `aud`, `iss`, `exp` and `cnf.jkt` from `claims`.
pub(crate) fn read(claims: &Value) -> Result<VerifiedToken, VerifyError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let client_id = text("client_id").unwrap_or_default();
    let subject = text("sub")
        .or_else(|| (!client_id.is_empty()).then(|| client_id.clone()))
        .ok_or_else(|| VerifyError::Invalid("the token names no subject".into()))?;
    let mut token = VerifiedToken::new(subject, client_id);
    token.scopes = text("scope")
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    token.audience = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.clone()],
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    token.issuer = text("iss");
    token.expires_at = claims
        .get("exp")
        .and_then(Value::as_u64)
        .map(|exp| UNIX_EPOCH + Duration::from_secs(exp));
    token.jkt = claims
        .get("cnf")
        .and_then(|cnf| cnf.get("jkt"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(token)
}

/// Seconds since the epoch, now.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
