//! The second-factor section: set up, renew the recovery codes of, or turn off an
//! authenticator app.
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::state::AppState;
use crate::web::continuation::active_login;
use crate::web::error::PageError;
use crate::web::limits::ClientAddress;
use crate::web::second_factor::{add_second_factor, check_code, CodeKind};
use crate::web::{csrf, see_other};

use super::render;
use crate::login::mfa;

/// `GET /account/mfa/totp`: set up an authenticator app.
pub async fn totp_page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let account = format!("{}/account", state.base());
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    if crate::mfa::factors(&state.db, &user.id).await?.totp {
        return Ok(see_other(&account));
    }
    let action = format!("{}/account/mfa/totp", state.base());
    mfa::render_enrolment(&state, &session, &user, action, None, None).await
}

/// The enrolment confirmation on the account page.
#[derive(Deserialize)]
pub struct TotpForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
    /// The current password (asked when the account has one: a borrowed session alone must
    /// not add a factor that would then lock the owner out).
    #[serde(default)]
    confirm: String,
}

/// `POST /account/mfa/totp`: the first code turns the app on; the recovery codes are shown once.
pub async fn totp_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<TotpForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let account = format!("{}/account", state.base());
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    if user.password_hash.is_some() {
        if let Some(message) = crate::web::reauth::confirm(&state, address, &user, &form.confirm).await? {
            let action = format!("{}/account/mfa/totp", state.base());
            return mfa::render_enrolment(&state, &session, &user, action, None, Some(&message)).await;
        }
    }
    match mfa::confirm_enrolment(&state, address, &user, &form.code).await? {
        Ok(codes) => {
            // The person just proved the factor: this sign-in has it now.
            add_second_factor(&state, &session, login).await?;
            tracing::info!(user_id = %user.id, "authenticator app enrolled");
            Ok(mfa::recovery_codes_page(&state, codes, account))
        }
        Err(error) => {
            let action = format!("{}/account/mfa/totp", state.base());
            mfa::render_enrolment(&state, &session, &user, action, None, Some(&error)).await
        }
    }
}

/// New recovery codes, or turning the app off: either re-asks for a code from the app (or a
/// recovery code).
#[derive(Deserialize)]
pub struct ManageForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
    /// `recovery` or `remove`.
    action: String,
}

/// `POST /account/mfa/manage`.
pub async fn manage(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<ManageForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let account = format!("{}/account", state.base());
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    // A lost app can still be turned off (or replaced) with a recovery code.
    let kind = match crate::mfa::recovery::hash(&form.code) {
        Some(_) => CodeKind::Recovery,
        None => CodeKind::Totp,
    };
    if let Some(error) = check_code(&state, address, &user, kind, &form.code).await? {
        return render(&state, &session, &login, &user, Some(&error)).await;
    }
    match form.action.as_str() {
        "recovery" => {
            let codes = state.mfa().new_recovery_codes(&user.id, crate::store::now()).await?;
            tracing::info!(user_id = %user.id, "recovery codes regenerated");
            Ok(mfa::recovery_codes_page(&state, codes, account))
        }
        "remove" => {
            state.mfa().remove(&user.id).await?;
            tracing::info!(user_id = %user.id, "authenticator app removed");
            Ok(see_other(&account))
        }
        _ => Err(PageError::bad_request(
            &crate::i18n::text("account-unknown-action-title"),
            &crate::i18n::text("account-unknown-action"),
        )),
    }
}
