//! The consent page, for clients configured to require it; grants are remembered.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::password::InteractionQuery;
use crate::state::AppState;
use crate::store::consent;
use crate::web::continuation::{active_login, deny, issue_code};
use crate::web::error::PageError;
use crate::web::interaction;
use crate::web::interaction::client_of;
use crate::web::pages::{ConsentPage, Layout};
use crate::web::{csrf, found};

/// What a scope lets an application do, in words.
pub fn describe(scope: &str) -> String {
    match scope {
        "openid" => crate::i18n::text("scope-openid"),
        "profile" => crate::i18n::text("scope-profile"),
        "email" => crate::i18n::text("scope-email"),
        "groups" => crate::i18n::text("scope-groups"),
        "offline_access" => crate::i18n::text("scope-offline-access"),
        other => crate::i18n::text_with("scope-other", &[("scope", crate::i18n::arg(other))]),
    }
}

/// `GET /consent?interaction=…`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(found(&ix.login_url(&state.base())));
    };
    let client = client_of(&state, &ix).await?;
    let page = ConsentPage {
        layout: Layout::new(crate::i18n::text("title-allow-access"), state.base()),
        client_name: client.name.clone(),
        interaction: ix.id.clone(),
        csrf: csrf::token(&session).await?,
        username: user.username,
        scopes: ix.request.scopes.iter().map(|s| describe(s)).collect(),
    };
    Ok(state.templates.page(StatusCode::OK, &page))
}

/// The consent form.
#[derive(Deserialize)]
pub struct ConsentForm {
    interaction: Option<String>,
    csrf: Option<String>,
    decision: Option<String>,
}

/// `POST /consent`.
pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let Some((login, _)) = active_login(&state, &session).await? else {
        return Ok(found(&ix.login_url(&state.base())));
    };
    match form.decision.as_deref() {
        Some("allow") => {
            consent::grant(&state.db, &login.user_id, &ix.request.client_id, &ix.request.scopes).await?;
            tracing::info!(user_id = %login.user_id, client_id = %ix.request.client_id, "consent granted");
            issue_code(&state, &ix.request, &login, Some(&ix)).await
        }
        Some("deny") => deny(&state, &ix).await,
        _ => Err(PageError::bad_request(
            &crate::i18n::text("consent-no-decision-title"),
            &crate::i18n::text("consent-no-decision"),
        )),
    }
}
