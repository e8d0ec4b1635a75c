//! The local username/password login page.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::state::AppState;
use crate::web::continuation::already_signed_in;
use crate::web::csrf;
use crate::web::error::PageError;
use crate::web::interaction::client_of;
use crate::web::interaction::{self, Interaction};
use crate::web::limits::ClientAddress;
use crate::web::login_session;
use crate::web::pages::{Layout, LoginPage, ProviderButton};
use crate::web::password_attempt::check_password;
use crate::web::upstream_start::redirect_to_provider;

/// `?interaction=` on page URLs.
#[derive(Deserialize)]
pub struct InteractionQuery {
    pub interaction: Option<String>,
}

pub(crate) async fn render(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    username: Option<&str>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let client = client_of(state, ix).await?;
    let base = state.base();
    let providers: Vec<_> = state
        .upstreams
        .current()
        .all()
        .map(|u| u.config())
        .filter(|p| !p.hide_on_login && client.allows_provider(&p.id))
        .map(|p| ProviderButton {
            name: p.name.clone(),
            href: format!("{base}/broker/start/{}?interaction={}", p.id, ix.id),
            icon: state.upstreams.current().icon_src(&p.id).map(str::to_owned),
        })
        .collect();
    let hrd = state
        .upstreams
        .current()
        .all()
        .any(|u| !u.config().email_domains.is_empty() && client.allows_provider(&u.config().id));
    let page = LoginPage {
        layout: Layout::new(crate::i18n::text("title-sign-in"), state.base()),
        client_name: client.name.clone(),
        interaction: ix.id.clone(),
        csrf: csrf::token(session).await?,
        username: username.or(ix.request.login_hint.as_deref()).map(str::to_owned),
        error: error.map(str::to_owned),
        registration_enabled: state.config.registration.enabled,
        forgot_password: state.mailer.enabled(),
        scopes: ix.request.scopes.clone(),
        providers,
        hrd,
        passkeys: state.webauthn.is_some(),
    };
    Ok(state.templates.form(&page, error, StatusCode::UNAUTHORIZED))
}

/// `GET /login?interaction=…`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    // Signed in meanwhile (another tab): continue with that sign-in instead of asking again.
    if let Some(onward) = already_signed_in(&state, &session, &ix).await? {
        return Ok(onward);
    }
    render(&state, &session, &ix, None, None).await
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    if let Err(refused) = csrf::verify(&session, form.csrf.as_deref()).await {
        // A stale form from a tab opened before this browser signed in elsewhere: its token was
        // rotated by that sign-in. When the sign-in serves this request, continue with it; the
        // typed credentials are not used. Otherwise the form is refused as before.
        let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
        return match already_signed_in(&state, &session, &ix).await? {
            Some(onward) => Ok(onward),
            None => Err(refused),
        };
    }
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let username = form.username.trim();
    let user = check_password(&state, address, username, &form.password).await?;
    let Some(user) = user else {
        // One message for every failure: no hint whether the account exists.
        return render(
            &state,
            &session,
            &ix,
            Some(username),
            Some(&crate::i18n::text("login-invalid")),
        )
        .await;
    };
    login_session::password_sign_in(&state, &session, &ix, user.id).await
}

/// The home-realm discovery form: a work email.
#[derive(Deserialize)]
pub struct DiscoverForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    email: String,
}

/// `POST /login/discover`: send a work email to its company's identity provider.
pub async fn discover(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<DiscoverForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let email = form.email.trim();
    let provider = state
        .upstreams
        .current()
        .for_email(email)
        .map(|u| u.config().id.clone());
    match provider {
        Some(p) => redirect_to_provider(&state, &session, &ix, &p, Some(email)).await,
        None => {
            let msg = &crate::i18n::text("login-no-company");
            render(&state, &session, &ix, Some(email), Some(msg)).await
        }
    }
}
