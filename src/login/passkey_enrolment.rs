//! A passkey as the factor set up on the enrolment page (`/login/mfa/enrol`), when the client
//! or the request needs a second step the person has not set up yet: the alternative to an
//! authenticator app. The new passkey is also this sign-in's second step.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::mfa::{at_step, render_sign_in_enrolment};
use crate::flow::step::Step;
use crate::mfa::passkey::{clean_name, Registered, Registration};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::interaction;
use crate::web::passkey_ceremony::{self, passkeys, refusal, Ceremony};
use crate::web::second_factor::add_factor;
use crate::web::{csrf, see_other};

/// The passkey form of the enrolment page, as the script posts it for options.
#[derive(Deserialize)]
pub struct OptionsForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    name: String,
}

/// `POST /login/mfa/enrol/passkey/options`: registration options for the person signing in.
pub async fn options(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<OptionsForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let Ok((_, user)) = at_step(&state, &session, &ix, Step::MfaEnrolment).await? else {
        return Ok(refusal(StatusCode::CONFLICT, &crate::i18n::text("passkey-moved-on")));
    };
    let Some(name) = clean_name(&form.name) else {
        return Ok(passkey_ceremony::unnamed());
    };
    let (options, ceremony) = passkeys(&state)?.start_registration(&user, name).await?;
    passkey_ceremony::keep(&session, Ceremony::Registration, &ix.id, ceremony).await?;
    Ok(passkey_ceremony::options(&options))
}

/// The authenticator's new credential, posted by the script.
#[derive(Deserialize)]
pub struct AnswerForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    credential: String,
}

/// `POST /login/mfa/enrol/passkey`: stores the passkey and counts it as this sign-in's second
/// step (creating it took the authenticator, and its user verification, like a first use).
pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (login, user) = match at_step(&state, &session, &ix, Step::MfaEnrolment).await? {
        Ok(found) => found,
        Err(onward) => return Ok(onward),
    };
    let Some(ceremony) = passkey_ceremony::take::<Registration>(&session, Ceremony::Registration, &ix.id).await? else {
        let msg = crate::i18n::text("passkey-no-ceremony");
        return render_sign_in_enrolment(&state, &session, &ix, &user, Some(&msg)).await;
    };
    let now = crate::store::now();
    match passkeys(&state)?
        .finish_registration(&user, ceremony, &form.credential, now)
        .await?
    {
        Registered::Added { name, amr } => {
            tracing::info!(user_id = %user.id, name, "passkey added at sign-in");
            let methods: Vec<&str> = amr.iter().map(String::as_str).collect();
            add_factor(&state, &session, login, &methods).await?;
            Ok(see_other(&ix.resume_url(&state.base())))
        }
        Registered::Duplicate => {
            render_sign_in_enrolment(
                &state,
                &session,
                &ix,
                &user,
                Some(&crate::i18n::text("passkey-duplicate")),
            )
            .await
        }
        Registered::Refused => {
            render_sign_in_enrolment(
                &state,
                &session,
                &ix,
                &user,
                Some(&crate::i18n::text("passkey-unverified")),
            )
            .await
        }
    }
}
