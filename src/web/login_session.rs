//! The signed-in browser session: who, since when, how.
use tower_sessions::Session;

pub use crate::flow::login::{Authenticated, LoginSession};
use crate::flow::signout::{self, Ended, SignOut};
use crate::state::AppState;
use crate::store::{now, random_token};
use crate::web::csrf;
use crate::web::error::PageError;

const KEY: &str = "login";

/// The current sign-in, if any.
pub async fn current(session: &Session) -> Result<Option<LoginSession>, PageError> {
    Ok(session.get::<LoginSession>(KEY).await?)
}

/// Stores a changed sign-in (the same `sid`) in the browser session.
pub async fn replace(session: &Session, login: &LoginSession) -> Result<(), PageError> {
    Ok(session.insert(KEY, login).await?)
}

/// Signs the browser in: rotates the session id (no fixation) and the CSRF token, and records
/// the sign-in so it can be listed and ended.
pub async fn establish(state: &AppState, session: &Session, auth: Authenticated) -> Result<LoginSession, PageError> {
    session.cycle_id().await?;
    let login = LoginSession {
        user_id: auth.user_id,
        sid: random_token()[..22].to_string(),
        auth_time: now(),
        amr: auth.amr,
        idp: auth.idp,
        upstream_session: auth.upstream_session,
        interaction: auth.interaction,
    };
    crate::store::login_sessions::record(&state.db, &login.sid, &login.user_id, &login.amr, login.idp.as_deref())
        .await?;
    session.insert(KEY, &login).await?;
    csrf::rotate(session).await?;
    audit_sign_in(state, &login).await?;
    tracing::info!(user_id = %login.user_id, sid = %login.sid, amr = ?login.amr, "signed in");
    match &login.idp {
        Some(provider) => crate::metrics::sign_in("federated", provider, "success"),
        None if login.amr.iter().any(|a| a == "pwd") => crate::metrics::sign_in("password", "local", "success"),
        None => crate::metrics::sign_in("passkey", "local", "success"),
    }
    Ok(login)
}

/// Records the sign-in in the audit trail; a sign-in the trail cannot show does not happen.
async fn audit_sign_in(state: &AppState, login: &LoginSession) -> Result<(), PageError> {
    use crate::audit::{Actor, Event, EventKind};
    let method = match (&login.idp, login.amr.iter().any(|m| m == "pwd")) {
        (Some(_), _) => "federated".to_string(),
        (None, true) => "password".to_string(),
        (None, false) => login.amr.join(" "),
    };
    let mut event = Event::new(EventKind::SignInSuccess, Actor::Person(login.user_id.clone()))
        .user(login.user_id.clone())
        .method(method)
        .detail(serde_json::json!({"sid": login.sid, "amr": login.amr}));
    if let Some(p) = &login.idp {
        event = event.provider(p.clone());
    }
    if crate::audit::noted_client().is_none() {
        if let Some(ix) = &login.interaction {
            if let Some(row) = crate::store::interactions::find(&state.db, ix).await? {
                event = event.client(row.client_id);
            }
        }
    }
    crate::audit::record(&state.db, event).await?;
    Ok(())
}

/// Signs the browser in after a local password check (login form, registration) and sends it
/// on to resume the interaction.
pub async fn password_sign_in(
    state: &AppState,
    session: &Session,
    ix: &super::interaction::Interaction,
    user_id: String,
) -> Result<axum::response::Response, PageError> {
    let auth = Authenticated {
        user_id,
        amr: vec!["pwd".into()],
        idp: None,
        upstream_session: None,
        interaction: Some(ix.id.clone()),
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
/// Ends the browser's session and tells every client that took part in it: back-channel
/// logout notifications are stored in the outbox here; front-channel URLs are returned for the page.
pub async fn end_session(state: &AppState, session: &Session) -> Result<Ended, PageError> {
    let current = current(session).await?;
    end(session).await?;
    match current {
        Some(login) => Ok(signout::terminate(sign_out(state), &login).await?),
        None => Ok(Ended::default()),
    }
}

/// The narrow parts of the state that ending a session needs.
pub fn sign_out(state: &AppState) -> SignOut<'_> {
    SignOut {
        db: &state.db,
        clients: &state.clients,
        notifier: &state.backchannel,
        issuer: &state.issuer,
    }
}
