//! Synchronizer CSRF tokens kept in the server-side session.
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::error::PageError;
use crate::store::random_token;

const KEY: &str = "csrf";

/// The session's CSRF token, created on first use.
pub async fn token(session: &Session) -> Result<String, PageError> {
    if let Some(t) = session.get::<String>(KEY).await.map_err(PageError::internal)? {
        return Ok(t);
    }
    rotate(session).await
}

/// Replaces the token (at login, so a pre-login token cannot be reused).
pub async fn rotate(session: &Session) -> Result<String, PageError> {
    let t = random_token();
    session.insert(KEY, &t).await.map_err(PageError::internal)?;
    Ok(t)
}

/// Refuses a form whose token is missing or not the session's.
pub async fn verify(session: &Session, presented: Option<&str>) -> Result<(), PageError> {
    let expected = session.get::<String>(KEY).await.map_err(PageError::internal)?;
    match (expected, presented) {
        (Some(e), Some(p)) if bool::from(e.as_bytes().ct_eq(p.as_bytes())) => Ok(()),
        _ => Err(PageError::Forbidden(crate::i18n::text("error-csrf"))),
    }
}
