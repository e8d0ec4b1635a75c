//! Self-registration of a local account (when enabled), then on to the application.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::password::InteractionQuery;
use crate::names::NAME_MAX_CHARS as MAX_NAME_CHARS;
use crate::passwords;
use crate::state::AppState;
use crate::store::users::{self, NewUser, UserError};
use crate::web::csrf;
use crate::web::error::PageError;
use crate::web::interaction::client_of;
use crate::web::interaction::{self, Interaction};
use crate::web::limits::{Bucket, ClientAddress};
use crate::web::login_session;
use crate::web::pages::{Layout, RegisterPage};

/// The registration form.
#[derive(Deserialize, Default)]
pub struct RegisterForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

fn disabled() -> PageError {
    PageError::bad_request(
        &crate::i18n::text("register-closed-title"),
        &crate::i18n::text("register-closed"),
    )
}

async fn render(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    form: &RegisterForm,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let client = client_of(state, ix).await?;
    let page = RegisterPage {
        layout: Layout::new(crate::i18n::text("title-create-account"), state.base()),
        client_name: client.name.clone(),
        interaction: ix.id.clone(),
        csrf: csrf::token(session).await?,
        username: form.username.clone(),
        email: form.email.clone(),
        name: form.name.clone(),
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::BAD_REQUEST))
}

/// `GET /register?interaction=…`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    if !state.config.registration.enabled {
        return Err(disabled());
    }
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    render(&state, &session, &ix, &RegisterForm::default(), None).await
}

/// The first problem with the form, as the person should read it.
fn problem_with(form: &RegisterForm, email: &Result<String, crate::names::EmailProblem>) -> Option<String> {
    if form.name.chars().count() > MAX_NAME_CHARS {
        return Some(crate::i18n::text_with(
            "register-name-too-long",
            &[("max", crate::i18n::number(MAX_NAME_CHARS as i64))],
        ));
    }
    if email.is_err() {
        return Some(crate::i18n::text("register-invalid-email"));
    }
    if form.password != form.password_confirm {
        return Some(crate::i18n::text("register-passwords-differ"));
    }
    let context = [form.username.as_str(), form.email.as_str(), form.name.as_str()];
    passwords::check_new(&form.password, &context)
        .err()
        .map(|p| p.to_string())
}

/// `POST /register`.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    if !state.config.registration.enabled {
        return Err(disabled());
    }
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    // Every attempt counts, so the page cannot be used to probe usernames at speed either.
    if let Err(retry_after_secs) = state.limits.hit(Bucket::Registration, address) {
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    let email = crate::names::normalize_email(&form.email);
    if let Some(p) = problem_with(&form, &email) {
        return render(&state, &session, &ix, &form, Some(&p)).await;
    }
    let new = NewUser {
        username: form.username.trim().to_owned(),
        email: email.ok(),
        // Nobody has proved they own this address yet.
        email_verified: false,
        name: Some(form.name.trim().to_owned()).filter(|n| !n.is_empty()),
        password: Some(form.password.clone()),
        groups: vec![],
    };
    let user = match users::create(&state.db, new).await {
        Ok(u) => u,
        Err(UserError::UsernameTaken(_)) => {
            return render(
                &state,
                &session,
                &ix,
                &form,
                Some(&crate::i18n::text("register-username-taken")),
            )
            .await
        }
        Err(UserError::InvalidUsername(why)) => {
            return render(
                &state,
                &session,
                &ix,
                &form,
                Some(&crate::i18n::text(username_problem_key(why))),
            )
            .await
        }
        // Emails are unique: a second account on one address would make sign-in by email
        // ambiguous and let anyone reserve somebody else's address.
        Err(UserError::EmailTaken) => {
            return render(
                &state,
                &session,
                &ix,
                &form,
                Some(&crate::i18n::text("register-email-taken")),
            )
            .await
        }
        Err(e) => return Err(PageError::internal(e)),
    };
    tracing::info!(user_id = %user.id, username = %user.username, %address, "self-registered");
    // The address stays unverified until its link is opened (see `mail_links::verification`).
    super::email::after_registration(&state, &user).await;
    login_session::password_sign_in(&state, &session, &ix, user.id).await
}

/// The message telling why a username is refused.
fn username_problem_key(problem: crate::names::UsernameProblem) -> &'static str {
    use crate::names::UsernameProblem::*;
    match problem {
        Length => "register-username-length",
        LooksLikeEmail => "register-username-email",
        Characters => "register-username-characters",
        MixedScripts => "register-username-scripts",
    }
}
