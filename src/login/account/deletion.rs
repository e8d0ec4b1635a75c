//! "Delete my account": the person proves it is them again (the account's password, or, for
//! an account without one, a new login at a linked provider moments ago), then the account and
//! everything about it goes in one transaction and the applications hear of it by back-channel
//! logout (`account::deletion`).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::linked::offered;
use super::upstream::{self, recent_confirmation, Purpose};
use super::{account_of_form, account_url};
use crate::account::deletion::{delete_account, Deletion};
use crate::account::sign_in_methods;
use crate::state::AppState;
use crate::store::users::User;
use crate::web::continuation::active_login;
use crate::web::csrf;
use crate::web::error::PageError;
use crate::web::limits::ClientAddress;
use crate::web::login_session::{self, sign_out, LoginSession};
use crate::web::pages::{AccountDeletePage, AccountDeletedPage, Layout, ProviderChoice};
use crate::web::password_attempt::check_password;
use crate::web::see_other;

async fn render(
    state: &AppState,
    session: &Session,
    login: &LoginSession,
    user: &User,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let methods = sign_in_methods::of_user(&state.db, &user.id, &offered(state)).await?;
    let upstreams = state.upstreams.current();
    let providers = methods
        .map(|m| m.linked)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|l| upstreams.get(&l.provider_id))
        .map(|u| ProviderChoice {
            id: u.config().id.clone(),
            name: u.config().name.clone(),
        })
        .collect();
    let page = AccountDeletePage {
        layout: Layout::new(crate::i18n::text("title-delete-account"), state.base()),
        username: user.username.clone(),
        csrf: csrf::token(session).await?,
        has_password: user.password_hash.is_some(),
        providers,
        confirmed_with: recent_confirmation(session, login).await?.map(|c| c.provider_name),
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::UNAUTHORIZED))
}

/// `GET /account/delete`.
pub async fn delete_page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account_url(&state)));
    };
    render(&state, &session, &login, &user, None).await
}

/// The deletion form.
#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: Option<String>,
    #[serde(default)]
    password: String,
}

/// `POST /account/delete`.
pub async fn delete(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<DeleteForm>,
) -> Result<Response, PageError> {
    let Some((login, user)) = account_of_form(&state, &session, form.csrf.as_deref()).await? else {
        return Ok(see_other(&account_url(&state)));
    };
    let proven = if user.password_hash.is_some() && !form.password.is_empty() {
        // Counted like any password attempt (per address and per account), and only this
        // account's password counts.
        check_password(&state, address, &user.username, &form.password)
            .await?
            .is_some_and(|u| u.id == user.id)
    } else {
        recent_confirmation(&session, &login).await?.is_some()
    };
    if !proven {
        let error = if user.password_hash.is_some() {
            crate::i18n::text("delete-wrong-password")
        } else {
            crate::i18n::text("delete-confirm-linked")
        };
        return render(&state, &session, &login, &user, Some(&error)).await;
    }
    match delete_account(sign_out(&state), &user.id).await? {
        Deletion::Deleted { notifications } => {
            tracing::info!(user_id = %user.id, notifications, "account deleted by its owner");
        }
        Deletion::Gone => tracing::info!(user_id = %user.id, "account already deleted"),
    }
    // This browser's session named the account: it goes too.
    login_session::end(&session).await?;
    let page = AccountDeletedPage {
        layout: Layout::new(crate::i18n::text("title-account-deleted"), state.base()),
        username: user.username,
    };
    Ok(state.templates.page(StatusCode::OK, &page))
}

/// The "confirm with a linked login" form.
#[derive(Deserialize)]
pub struct ProviderForm {
    csrf: Option<String>,
    #[serde(default)]
    provider: String,
}

/// `POST /account/delete/confirm`: off to a linked provider to sign in again.
pub async fn confirm_with_provider(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ProviderForm>,
) -> Result<Response, PageError> {
    let Some((login, _)) = account_of_form(&state, &session, form.csrf.as_deref()).await? else {
        return Ok(see_other(&account_url(&state)));
    };
    upstream::start(&state, &session, &login, &form.provider, Purpose::ConfirmDeletion).await
}
