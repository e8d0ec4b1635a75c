//! A typed second-factor code as an attempt (counted like a password: per client address on
//! this node, per account in the database), and what a proven factor adds to the sign-in.
use std::net::IpAddr;

use tower_sessions::Session;

use super::csrf;
use super::error::PageError;
use super::login_session::{self, LoginSession};
use crate::flow::acr::AMR_MFA;
use crate::mfa::{CodeCheck, MfaError};
use crate::state::AppState;
use crate::store::users::User;
use crate::web::limits::Bucket;

/// Which kind of code the person typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// From the authenticator app.
    Totp,
    /// One of the recovery codes.
    Recovery,
}

impl CodeKind {
    /// The form's `method` field: `recovery`, or anything else for the app.
    pub fn from_form(v: Option<&str>) -> Self {
        match v {
            Some("recovery") => Self::Recovery,
            _ => Self::Totp,
        }
    }
}

impl From<MfaError> for PageError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::Db(e) => e.into(),
            MfaError::NotConfigured => PageError::bad_request(
                &crate::i18n::text("mfa-unavailable-title"),
                &crate::i18n::text("mfa-unavailable"),
            ),
            other => PageError::internal(other),
        }
    }
}

/// Checks `code` for `user`; `Ok(None)` when accepted, `Ok(Some(message))` to show otherwise.
pub async fn check_code(
    state: &AppState,
    address: IpAddr,
    user: &User,
    kind: CodeKind,
    code: &str,
) -> Result<Option<String>, PageError> {
    if let Err(retry_after_secs) = state.limits.hit(Bucket::SignIn, address) {
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    let now = crate::store::now();
    let check = match kind {
        CodeKind::Totp => state.mfa().verify_totp(user, code, now).await?,
        CodeKind::Recovery => state.mfa().verify_recovery_code(user, code, now).await?,
    };
    match check {
        CodeCheck::Accepted => Ok(None),
        CodeCheck::Refused => {
            tracing::info!(%address, user_id = %user.id, ?kind, "wrong second-factor code");
            Ok(Some(match kind {
                CodeKind::Totp => crate::i18n::text("mfa-wrong-code"),
                CodeKind::Recovery => crate::i18n::text("mfa-wrong-recovery"),
            }))
        }
        CodeCheck::Replayed => {
            tracing::warn!(%address, user_id = %user.id, "second-factor code replayed");
            Ok(Some(crate::i18n::text("mfa-code-used")))
        }
        CodeCheck::Throttled { retry_after_secs } => {
            tracing::warn!(%address, user_id = %user.id, retry_after_secs, "second-factor attempt refused: account throttled");
            Err(PageError::TooManyAttempts { retry_after_secs })
        }
    }
}

/// Adds a proven one-time code (`otp`) and with it a second factor (`mfa`, RFC 8176) to the
/// browser's sign-in: the session id and CSRF token rotate, as at any change of privilege.
pub async fn add_second_factor(
    state: &AppState,
    session: &Session,
    login: LoginSession,
) -> Result<LoginSession, PageError> {
    add_factor(state, session, login, &["otp"]).await
}

/// Adds a proven second factor with its method references (`otp`, or `hwk`/`swk` for a
/// passkey) and `mfa` to the browser's sign-in, rotating the session id and CSRF token.
pub async fn add_factor(
    state: &AppState,
    session: &Session,
    mut login: LoginSession,
    methods: &[&str],
) -> Result<LoginSession, PageError> {
    for m in methods.iter().copied().chain([AMR_MFA]) {
        if !login.amr.iter().any(|a| a == m) {
            login.amr.push(m.to_owned());
        }
    }
    crate::store::login_sessions::set_amr(&state.db, &login.sid, &login.amr).await?;
    session.cycle_id().await?;
    login_session::replace(session, &login).await?;
    csrf::rotate(session).await?;
    tracing::info!(user_id = %login.user_id, sid = %login.sid, amr = ?login.amr, "second factor proven");
    Ok(login)
}
