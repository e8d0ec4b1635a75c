//! Self-registration of a local account (when enabled), then on to the application.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::interaction::{self, Interaction};
use super::password::InteractionQuery;
use super::session as login_session;
use crate::app::AppState;
use crate::oidc::authorize::client_of;
use crate::store::users::{self, NewUser, UserError};
use crate::web::csrf;
use crate::web::error::PageError;

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
        "Registration is closed",
        "This server does not offer self-registration. Ask your administrator for an account.",
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
    let data = json!({
        "title": "Create an account",
        "base": state.base(),
        "client_name": client.name,
        "interaction": ix.id,
        "csrf": csrf::token(session).await?,
        "username": form.username,
        "email": form.email,
        "name": form.name,
        "error": error,
    });
    Ok(state.templates.form("register", &data, error, StatusCode::BAD_REQUEST))
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

/// `POST /register`.
pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    if !state.config.registration.enabled {
        return Err(disabled());
    }
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let email = form.email.trim();
    let problem = if form.password.chars().count() < 8 {
        Some("The password must have at least 8 characters.")
    } else if form.password != form.password_confirm {
        Some("The two passwords differ.")
    } else if !email.contains('@') || email.len() > 254 {
        Some("Enter a valid email address.")
    } else {
        None
    };
    if let Some(p) = problem {
        return render(&state, &session, &ix, &form, Some(p)).await;
    }
    let new = NewUser {
        username: form.username.trim().to_owned(),
        email: Some(email.to_owned()),
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
                Some("That username is taken. Choose another."),
            )
            .await
        }
        Err(UserError::InvalidUsername(why)) => {
            return render(
                &state,
                &session,
                &ix,
                &form,
                Some(&format!("That username is not allowed: {why}.")),
            )
            .await
        }
        Err(e) => return Err(PageError::internal(e)),
    };
    tracing::info!(user_id = %user.id, username = %user.username, "self-registered");
    login_session::password_sign_in(&state, &session, &ix, user.id).await
}
