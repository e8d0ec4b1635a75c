//! The authorization endpoint: find the client and its redirect URI, run the request's checks,
//! then continue the flow (sign in, consent, code) — see `login::continuation`.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::Method;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

pub use crate::flow::checks::{oversized, validate, PARAMETER_LIMITS};
use crate::flow::rejection::Rejection;
pub use crate::flow::request::{AuthorizeRequest, Prompt};
use crate::state::AppState;
use crate::store::clients::Client;
use crate::web::continuation::proceed;
use crate::web::error::PageError;
use crate::web::interaction;
use crate::web::interaction::client_of;
use crate::web::limits::{Bucket, ClientAddress};
use crate::web::login_session;
use crate::web::{found, get_or_post_params};

/// `GET|POST /authorize`.
pub async fn authorize(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = get_or_post_params(&method, query, &body).map_err(|e| {
        PageError::bad_request(
            &crate::i18n::text("authorize-invalid-title"),
            &crate::i18n::text_with("authorize-invalid", &[("reason", crate::i18n::arg(e))]),
        )
    })?;
    let client = client_named(&state, &params).await?;
    // A pushed request replaces every parameter (RFC 9126 §4); only client_id must agree.
    let (params, pushed) = match params.get("request_uri") {
        Some(uri) => (super::par::take(&state, &client, uri).await?, true),
        None => (params, false),
    };
    let Some(redirect_uri) = params.get("redirect_uri").filter(|r| client.has_redirect_uri(r)) else {
        // Never redirect to an unregistered URI: that is an open redirector (RFC 6749 §4.1.2.1).
        return Err(PageError::bad_request(
            &crate::i18n::text("authorize-bad-redirect-title"),
            &crate::i18n::text("authorize-bad-redirect"),
        ));
    };
    const PAR_REQUIRED: &str = "this client must use pushed authorization requests";
    let checked = match client.require_par && !pushed {
        true => Err(Rejection::invalid(PAR_REQUIRED)),
        false => validate(&params, &client, redirect_uri),
    };
    let req = match checked {
        Ok(req) => {
            if let Some(lang) = req.ui_locales.as_deref().and_then(crate::i18n::Lang::from_ui_locales) {
                crate::i18n::prefer(lang);
            }
            req
        }
        Err(rejection) => {
            // An oversized state is not echoed back.
            let client_state = params.get("state").map(String::as_str).filter(|s| s.len() <= 2048);
            return Ok(found(&rejection.redirect_url(
                redirect_uri,
                client_state,
                &state.issuer,
            )));
        }
    };
    // A browser without a session makes us store a pending sign-in: bounded per address.
    if login_session::current(&session).await?.is_none() {
        if let Err(retry_after_secs) = state.limits.hit(Bucket::Interaction, address) {
            return Err(PageError::TooManyAttempts { retry_after_secs });
        }
    }
    proceed(&state, &session, &client, req, None).await
}

/// The registered client the request names.
async fn client_named(state: &AppState, params: &HashMap<String, String>) -> Result<std::sync::Arc<Client>, PageError> {
    let Some(client_id) = params.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(PageError::bad_request(
            &crate::i18n::text("authorize-invalid-title"),
            &crate::i18n::text("authorize-no-client"),
        ));
    };
    state.clients.get(client_id).await?.ok_or_else(|| {
        PageError::bad_request(
            &crate::i18n::text("ix-unknown-client-title"),
            &crate::i18n::text("authorize-unknown-client"),
        )
    })
}

/// Query of `GET /authorize/resume`.
#[derive(Deserialize)]
pub struct ResumeQuery {
    interaction: Option<String>,
}

/// `GET /authorize/resume`: continue an interaction once the person has signed in.
pub async fn resume(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ResumeQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let client = client_of(&state, &ix).await?;
    proceed(&state, &session, &client, ix.request.clone(), Some(&ix)).await
}
