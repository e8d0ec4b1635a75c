//! The applications section: who has access to the account (consent given, or refresh tokens
//! still usable), in words, and ending one's access.
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::display::when;
use super::{account_of_form, account_url, tell, CLIENT_ID};
use crate::account::consents;
use crate::login::consent::describe;
use crate::state::AppState;
use crate::store::users::User;
use crate::web::error::PageError;
use crate::web::pages::AppAccessRow;
use crate::web::see_other;

/// The applications with access, newest first.
pub(super) async fn rows(state: &AppState, user: &User, now: i64) -> Result<Vec<AppAccessRow>, PageError> {
    let mut rows = vec![];
    for app in consents::of_user(&state.db, &user.id, CLIENT_ID).await? {
        let client_name = match state.clients.get(&app.client_id).await? {
            Some(c) => c.name.clone(),
            // Deregistered since: its tokens no longer work, but the grant is still listed.
            None => app.client_id.clone(),
        };
        rows.push(AppAccessRow {
            client_name,
            scopes: app.scopes.iter().map(|s| describe(s)).collect(),
            since: when(app.since, now),
            offline: app.offline,
            client_id: app.client_id,
        });
    }
    Ok(rows)
}

/// The "remove access" form.
#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: Option<String>,
    #[serde(default)]
    client_id: String,
}

/// `POST /account/apps/revoke`: the consent is forgotten and the application's tokens for
/// this person end.
pub async fn revoke_app(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    let Some((_, user)) = account_of_form(&state, &session, form.csrf.as_deref()).await? else {
        return Ok(see_other(&account_url(&state)));
    };
    if !consents::revoke(&state.db, &user.id, &form.client_id).await? {
        return Err(PageError::bad_request(
            &crate::i18n::text("account-no-app-title"),
            &crate::i18n::text("account-no-app"),
        ));
    }
    let name = match state.clients.get(&form.client_id).await? {
        Some(c) => c.name.clone(),
        None => form.client_id.clone(),
    };
    tracing::info!(user_id = %user.id, client_id = %form.client_id, "application access revoked from the account page");
    tell(&session, format!("{name} no longer has access to your account.")).await?;
    Ok(see_other(&account_url(&state)))
}
