//! Passkey ceremonies at the edge: their state is kept in the browser's server-side session
//! (so it is bound to that browser and never seen by it), taken out once when the answer
//! comes back, and tied to the interaction or person it was started for.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::error::PageError;
use crate::mfa::passkey::{PasskeyError, Passkeys};
use crate::state::AppState;
use sea_orm::DatabaseConnection;

/// Which ceremony a stored state belongs to (one of each kind at a time per browser).
#[derive(Debug, Clone, Copy)]
pub enum Ceremony {
    /// Adding a passkey on the account page.
    Registration,
    /// A passkey as the second step of a sign-in.
    SecondFactor,
    /// "Sign in with a passkey".
    SignIn,
}

impl Ceremony {
    fn key(self) -> &'static str {
        match self {
            Self::Registration => "passkey_registration",
            Self::SecondFactor => "passkey_second_factor",
            Self::SignIn => "passkey_sign_in",
        }
    }
}

/// A ceremony's state and what it was started for (an interaction id, or `""` on /account).
#[derive(Serialize, Deserialize)]
struct Stored<T> {
    purpose: String,
    state: T,
}

/// Keeps `state` for `ceremony`, replacing any earlier one of the same kind.
pub async fn keep<T: Serialize>(
    session: &Session,
    ceremony: Ceremony,
    purpose: &str,
    state: T,
) -> Result<(), PageError> {
    let stored = Stored {
        purpose: purpose.to_owned(),
        state,
    };
    Ok(session.insert(ceremony.key(), stored).await?)
}

/// Takes the state of `ceremony` out of the session (single use); `None` when this browser has
/// none, or it was started for another purpose.
pub async fn take<T: DeserializeOwned>(
    session: &Session,
    ceremony: Ceremony,
    purpose: &str,
) -> Result<Option<T>, PageError> {
    // A state this build cannot read (an older format) is no state.
    let stored: Option<Stored<T>> = session.remove(ceremony.key()).await.unwrap_or(None);
    Ok(stored.filter(|s| s.purpose == purpose).map(|s| s.state))
}

/// Passkey operations, or a page saying passkeys are off here.
pub fn passkeys(state: &AppState) -> Result<Passkeys<'_, DatabaseConnection>, PageError> {
    state.passkeys().ok_or_else(|| {
        PageError::bad_request(
            &crate::i18n::text("passkey-off-title"),
            &crate::i18n::text("passkey-off"),
        )
    })
}

/// The ceremony's options, as JSON for the page's script.
pub fn options(options: &impl Serialize) -> Response {
    let mut res = axum::Json(options).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

/// The refusal of a passkey without a usable name (the script shows it).
pub fn unnamed() -> Response {
    let max = crate::mfa::passkey::MAX_NAME_CHARS.to_string();
    let msg = crate::i18n::text_with("passkey-name-needed", &[("max", crate::i18n::arg(max))]);
    refusal(StatusCode::BAD_REQUEST, &msg)
}

/// A refusal the page's script shows to the person (`{"error": …}`).
pub fn refusal(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

impl From<PasskeyError> for PageError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Db(e) => e.into(),
            other => PageError::internal(other),
        }
    }
}
