//! The signed-in browser session: who, since when, how.
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::store::{now, random_token};
use crate::web::csrf;
use crate::web::error::PageError;

const KEY: &str = "login";

/// How a person just proved who they are: what every login method (password, upstream IdP) ends in.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: String,
    /// Authentication method references (RFC 8176), e.g. `pwd`, `fed`.
    pub amr: Vec<String>,
    /// The upstream provider, for brokered logins.
    pub idp: Option<String>,
    /// The upstream's handle for ending its session (see `Upstream::logout_url`).
    pub upstream_session: Option<String>,
}

/// A signed-in session as stored server-side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginSession {
    pub user_id: String,
    /// Session id as it appears in ID tokens (`sid`).
    pub sid: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub idp: Option<String>,
    #[serde(default)]
    pub upstream_session: Option<String>,
}

/// The current sign-in, if any.
pub async fn current(session: &Session) -> Result<Option<LoginSession>, PageError> {
    Ok(session.get::<LoginSession>(KEY).await?)
}

/// Signs the browser in: rotates the session id (no fixation) and the CSRF token, and records
/// the sign-in so it can be listed and ended.
pub async fn establish(
    state: &crate::app::AppState,
    session: &Session,
    auth: Authenticated,
) -> Result<LoginSession, PageError> {
    session.cycle_id().await?;
    let login = LoginSession {
        user_id: auth.user_id,
        sid: random_token()[..22].to_string(),
        auth_time: now(),
        amr: auth.amr,
        idp: auth.idp,
        upstream_session: auth.upstream_session,
    };
    crate::store::login_sessions::record(&state.db, &login.sid, &login.user_id, &login.amr, login.idp.as_deref())
        .await?;
    session.insert(KEY, &login).await?;
    csrf::rotate(session).await?;
    tracing::info!(user_id = %login.user_id, sid = %login.sid, amr = ?login.amr, "signed in");
    Ok(login)
}

/// Signs the browser in after a local password check (login form, registration) and sends it
/// on to resume the interaction.
pub async fn password_sign_in(
    state: &crate::app::AppState,
    session: &Session,
    ix: &super::interaction::Interaction,
    user_id: String,
) -> Result<axum::response::Response, PageError> {
    let auth = Authenticated {
        user_id,
        amr: vec!["pwd".into()],
        idp: None,
        upstream_session: None,
    };
    establish(state, session, auth).await?;
    Ok(crate::web::see_other(&ix.resume_url(&state.base())))
}

/// Signs the browser out and deletes the server-side session.
pub async fn end(session: &Session) -> Result<(), PageError> {
    if let Some(login) = current(session).await? {
        tracing::info!(user_id = %login.user_id, sid = %login.sid, "signed out");
    }
    session.flush().await?;
    Ok(())
}
