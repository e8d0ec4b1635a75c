//! The sessions section: end any of the person's own sign-in sessions.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::flow::signout::terminate;
use crate::state::AppState;
use crate::store::login_sessions;
use crate::web::continuation::active_login;
use crate::web::error::PageError;
use crate::web::login_session::{end_session, sign_out};
use crate::web::pages::LoggedOutPage;
use crate::web::{csrf, see_other};

/// The "end this session" form.
#[derive(Deserialize)]
pub struct EndForm {
    csrf: Option<String>,
    sid: String,
}

/// `POST /account/sessions/end`.
pub async fn end(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<EndForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&format!("{}/account", state.base())));
    };
    if form.sid == login.sid {
        end_session(&state, &session).await?;
        return Ok(state
            .templates
            .page(StatusCode::OK, &LoggedOutPage::new(state.base(), vec![], None)));
    }
    // Only the person's own sessions.
    let Some(row) = login_sessions::find(&state.db, &form.sid)
        .await?
        .filter(|r| r.user_id == user.id)
    else {
        return Err(PageError::bad_request(
            &crate::i18n::text("account-no-session-title"),
            &crate::i18n::text("account-no-session"),
        ));
    };
    let other = crate::web::login_session::LoginSession {
        user_id: row.user_id,
        sid: row.sid,
        auth_time: row.created_at,
        amr: serde_json::from_str(&row.amr).unwrap_or_default(),
        idp: row.idp,
        upstream_session: None,
        interaction: None,
    };
    terminate(sign_out(&state), &other).await?;
    tracing::info!(user_id = %user.id, sid = %other.sid, "session ended from the account page");
    Ok(see_other(&format!("{}/account", state.base())))
}
