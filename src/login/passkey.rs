//! Passkeys at sign-in: "Sign in with a passkey" on the login page (a discoverable credential,
//! no name typed) and a passkey as the second step (`/login/mfa`). Each has an options
//! endpoint the page's script calls (`static/passkeys.js`) and a form the answer is posted in.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::mfa::{at_step, render as render_mfa};
use super::password::render as render_login;
use crate::flow::login::Authenticated;
use crate::flow::step::Step;
use crate::mfa::passkey::{Assertion, SecondFactor, SignIn};
use crate::state::AppState;
use crate::web::continuation::already_signed_in;
use crate::web::error::PageError;
use crate::web::interaction;
use crate::web::limits::{Bucket, ClientAddress};
use crate::web::login_session;
use crate::web::passkey_ceremony::{self, passkeys, refusal, Ceremony};
use crate::web::second_factor::add_factor;
use crate::web::{csrf, see_other};

/// The form that asks for options: the pending interaction and the page's CSRF token.
#[derive(Deserialize)]
pub struct OptionsForm {
    interaction: Option<String>,
    csrf: Option<String>,
}

/// The form the authenticator's answer is posted in.
#[derive(Deserialize)]
pub struct AnswerForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    credential: String,
}

/// The message key of what a refused or unverifiable passkey is told (no hint whether the
/// credential exists).
const REFUSED_KEY: &str = "passkey-refused";
/// The message key of what an answer without a ceremony in this browser is told.
const NO_CEREMONY_KEY: &str = "passkey-no-ceremony";

/// `POST /login/passkey/options`: a discoverable-credential challenge for this browser.
pub async fn sign_in_options(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<OptionsForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (options, ceremony) = passkeys(&state)?.start_sign_in()?;
    passkey_ceremony::keep(&session, Ceremony::SignIn, &ix.id, ceremony).await?;
    Ok(passkey_ceremony::options(&options))
}

/// `POST /login/passkey`: signs in with the passkey's assertion alone.
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    if let Some(onward) = already_signed_in(&state, &session, &ix).await? {
        return Ok(onward);
    }
    if let Err(retry_after_secs) = state.limits.hit(Bucket::SignIn, address) {
        crate::metrics::throttled("sign_in_address");
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    let Some(ceremony) = passkey_ceremony::take::<SignIn>(&session, Ceremony::SignIn, &ix.id).await? else {
        return render_login(&state, &session, &ix, None, Some(&crate::i18n::text(NO_CEREMONY_KEY))).await;
    };
    let now = crate::store::now();
    match passkeys(&state)?
        .finish_sign_in(ceremony, &form.credential, now)
        .await?
    {
        Assertion::Accepted { user_id, amr } => {
            let auth = Authenticated {
                user_id,
                amr,
                idp: None,
                upstream_session: None,
                interaction: Some(ix.id.clone()),
            };
            login_session::establish(&state, &session, auth).await?;
            Ok(see_other(&ix.resume_url(&state.base())))
        }
        Assertion::Refused => {
            tracing::info!(%address, "passkey sign-in refused");
            crate::metrics::sign_in("passkey", "local", "failure");
            render_login(&state, &session, &ix, None, Some(&crate::i18n::text(REFUSED_KEY))).await
        }
        Assertion::Throttled { retry_after_secs } => {
            tracing::warn!(%address, retry_after_secs, "passkey sign-in refused: account throttled");
            crate::metrics::throttled("password_account");
            Err(PageError::TooManyAttempts { retry_after_secs })
        }
    }
}

/// `POST /login/mfa/passkey/options`: a challenge for the signed-in person's own passkeys.
pub async fn second_factor_options(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<OptionsForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let Ok((_, user)) = at_step(&state, &session, &ix, Step::Mfa).await? else {
        return Ok(refusal(StatusCode::CONFLICT, &crate::i18n::text("passkey-moved-on")));
    };
    let Some((options, ceremony)) = passkeys(&state)?.start_second_factor(&user).await? else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            &crate::i18n::text("passkey-have-none"),
        ));
    };
    passkey_ceremony::keep(&session, Ceremony::SecondFactor, &ix.id, ceremony).await?;
    Ok(passkey_ceremony::options(&options))
}

/// `POST /login/mfa/passkey`: the passkey as the second step.
pub async fn second_factor(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (login, user) = match at_step(&state, &session, &ix, Step::Mfa).await? {
        Ok(found) => found,
        Err(onward) => return Ok(onward),
    };
    if let Err(retry_after_secs) = state.limits.hit(Bucket::SignIn, address) {
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    let Some(ceremony) = passkey_ceremony::take::<SecondFactor>(&session, Ceremony::SecondFactor, &ix.id).await? else {
        return render_mfa(
            &state,
            &session,
            &ix,
            &user,
            Some(&crate::i18n::text(NO_CEREMONY_KEY)),
            false,
        )
        .await;
    };
    let now = crate::store::now();
    match passkeys(&state)?
        .finish_second_factor(&user, ceremony, &form.credential, now)
        .await?
    {
        Assertion::Accepted { amr, .. } => {
            // The password (or upstream) was one factor, the passkey is another: `mfa` holds
            // with or without the authenticator's user verification.
            let methods: Vec<&str> = amr.iter().map(String::as_str).filter(|m| *m != "mfa").collect();
            add_factor(&state, &session, login, &methods).await?;
            Ok(see_other(&ix.resume_url(&state.base())))
        }
        Assertion::Refused => {
            tracing::info!(%address, user_id = %user.id, "passkey second factor refused");
            render_mfa(
                &state,
                &session,
                &ix,
                &user,
                Some(&crate::i18n::text(REFUSED_KEY)),
                false,
            )
            .await
        }
        Assertion::Throttled { retry_after_secs } => {
            tracing::warn!(%address, user_id = %user.id, retry_after_secs, "passkey attempt refused: account throttled");
            Err(PageError::TooManyAttempts { retry_after_secs })
        }
    }
}
