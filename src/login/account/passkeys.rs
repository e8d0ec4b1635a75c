//! Passkeys on the account page: add one (named, after re-confirming who is at the keyboard),
//! and remove one (likewise). The registration ceremony's options come from an endpoint the
//! page's script calls (`static/passkeys.js`); its state stays in this browser's session.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::linked::offered;
use super::{account_url, refuse, render};
use crate::account::sign_in_methods::{self, Method, RemovalError};
use crate::mfa::passkey::{clean_name, Registered, Registration};
use crate::state::AppState;
use crate::web::continuation::active_login;
use crate::web::error::PageError;
use crate::web::limits::ClientAddress;
use crate::web::passkey_ceremony::{self, passkeys, refusal, Ceremony};
use crate::web::{csrf, reauth, see_other};

/// The "add a passkey" form as the script posts it for options.
#[derive(Deserialize)]
pub struct OptionsForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    /// The password, or a code from the app, or a recovery code.
    #[serde(default)]
    confirm: String,
}

/// `POST /account/passkeys/options`: after the person re-confirms, registration options.
pub async fn options(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<OptionsForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(refusal(
            StatusCode::UNAUTHORIZED,
            &crate::i18n::text("passkey-signed-out"),
        ));
    };
    let Some(name) = clean_name(&form.name) else {
        return Ok(passkey_ceremony::unnamed());
    };
    match reauth::confirm(&state, address, &user, &form.confirm).await {
        Ok(None) => {}
        Ok(Some(message)) => return Ok(refusal(StatusCode::UNAUTHORIZED, &message)),
        Err(PageError::TooManyAttempts { retry_after_secs }) => {
            let wait = crate::web::error::minutes_phrase(retry_after_secs);
            let msg = crate::i18n::text_with("passkey-too-many", &[("wait", crate::i18n::arg(wait))]);
            return Ok(refusal(StatusCode::TOO_MANY_REQUESTS, &msg));
        }
        Err(e) => return Err(e),
    }
    let (options, ceremony) = passkeys(&state)?.start_registration(&user, name).await?;
    passkey_ceremony::keep(&session, Ceremony::Registration, &user.id, ceremony).await?;
    Ok(passkey_ceremony::options(&options))
}

/// The authenticator's new credential, posted by the script.
#[derive(Deserialize)]
pub struct AddForm {
    csrf: Option<String>,
    #[serde(default)]
    credential: String,
}

/// `POST /account/passkeys`: stores the new passkey.
pub async fn add(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let account = account_url(&state);
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    let Some(ceremony) = passkey_ceremony::take::<Registration>(&session, Ceremony::Registration, &user.id).await?
    else {
        let msg = crate::i18n::text("passkey-no-ceremony");
        return render(&state, &session, &login, &user, Some(&msg)).await;
    };
    let now = crate::store::now();
    match passkeys(&state)?
        .finish_registration(&user, ceremony, &form.credential, now)
        .await?
    {
        Registered::Added { name, .. } => {
            tracing::info!(user_id = %user.id, name, "passkey added");
            Ok(see_other(&account))
        }
        Registered::Duplicate => {
            let msg = crate::i18n::text("passkey-duplicate");
            render(&state, &session, &login, &user, Some(&msg)).await
        }
        Registered::Refused => {
            let msg = crate::i18n::text("passkey-unverified");
            render(&state, &session, &login, &user, Some(&msg)).await
        }
    }
}

/// The "remove" button of one passkey.
#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: Option<String>,
    #[serde(default)]
    id: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /account/passkeys/remove`: after the person re-confirms, removes one of their passkeys.
pub async fn remove(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let account = account_url(&state);
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    if let Some(message) = reauth::confirm(&state, address, &user, &form.confirm).await? {
        return render(&state, &session, &login, &user, Some(&message)).await;
    }
    let passkey = Method::Passkey {
        credential_id: &form.id,
    };
    match sign_in_methods::remove(&state.db, &user.id, passkey, &offered(&state)).await {
        Ok(()) => {}
        Err(RemovalError::LastMethod) => {
            let alert = crate::i18n::text("passkey-last");
            return refuse(&state, &session, &login, &user, &alert, StatusCode::CONFLICT).await;
        }
        Err(RemovalError::NotFound) => {
            return Err(PageError::bad_request(
                &crate::i18n::text("passkey-none-title"),
                &crate::i18n::text("passkey-none"),
            ))
        }
        Err(RemovalError::Db(e)) => return Err(e.into()),
    }
    tracing::info!(user_id = %user.id, credential_id = %form.id, "passkey removed");
    Ok(see_other(&account))
}
