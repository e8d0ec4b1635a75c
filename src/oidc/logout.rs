//! RP-Initiated Logout 1.0: `id_token_hint`, registered `post_logout_redirect_uri`, `state`.
use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::flow::signout::Ended;
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::{random_token, users};
use crate::web::error::PageError;
use crate::web::login_session;
use crate::web::login_session::end_session;
use crate::web::pages::{ConfirmLogoutPage, Layout, LoggedOutPage};
use crate::web::{csrf, found, get_or_post_params, see_other, with_query};

/// What a verified `id_token_hint` says.
struct Hint {
    sub: String,
    aud: Vec<String>,
    sid: Option<String>,
}

#[derive(Deserialize)]
struct HintClaims {
    sub: String,
    aud: serde_json::Value,
    sid: Option<String>,
}

fn invalid_hint() -> PageError {
    PageError::bad_request(
        &crate::i18n::text("logout-invalid-title"),
        &crate::i18n::text("logout-unverified"),
    )
}

/// Verifies a hint we issued: our signature and issuer; an expired hint is still accepted (§2).
async fn verify_hint(state: &AppState, token: &str) -> Result<Hint, PageError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid_hint())?;
    let keys = state.keys.current().await?;
    let (alg, key) = header
        .kid
        .as_deref()
        .and_then(|k| keys.verifier(k))
        .ok_or_else(invalid_hint)?;
    let mut v = jsonwebtoken::Validation::new(match alg {
        crate::keys::SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
        crate::keys::SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
    });
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims = ["sub", "iss"].iter().map(|s| s.to_string()).collect();
    v.set_issuer(&[&state.issuer]);
    let data = jsonwebtoken::decode::<HintClaims>(token, key, &v).map_err(|_| invalid_hint())?;
    let aud = match data.claims.aud {
        serde_json::Value::String(s) => vec![s],
        serde_json::Value::Array(a) => a.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return Err(invalid_hint()),
    };
    Ok(Hint {
        sub: data.claims.sub,
        aud,
        sid: data.claims.sid,
    })
}

/// A refused sign-out request still leaves the way out: `/logout` without the application's
/// parameters signs out here (asking first when signed in, else saying "signed out") and sends
/// the browser nowhere else.
fn plain_sign_out(state: &AppState, refused: PageError) -> PageError {
    refused.or_link(
        format!("{}/logout", state.base()),
        &crate::i18n::text("way-out-sign-out"),
    )
}

/// Where to go once signed out, checked against the client's registration.
struct Destination {
    client: Option<Arc<Client>>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

async fn destination(
    state: &AppState,
    params: &HashMap<String, String>,
    hint: Option<&Hint>,
) -> Result<Destination, PageError> {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let client_id = match (get("client_id"), hint) {
        (Some(id), Some(h)) if !h.aud.contains(&id) => {
            return Err(PageError::bad_request(
                &crate::i18n::text("logout-invalid-title"),
                "client_id does not match the ID token.",
            ))
        }
        (Some(id), _) => Some(id),
        (None, Some(h)) if h.aud.len() == 1 => Some(h.aud[0].clone()),
        (None, _) => None,
    };
    let client = match &client_id {
        Some(id) => Some(state.clients.get(id).await?.ok_or_else(|| {
            PageError::bad_request(
                &crate::i18n::text("ix-unknown-client-title"),
                &crate::i18n::text("logout-unknown-client"),
            )
        })?),
        None => None,
    };
    let uri = get("post_logout_redirect_uri");
    if let Some(u) = &uri {
        match &client {
            Some(c) if c.has_post_logout_redirect_uri(u) => {}
            Some(_) => {
                return Err(PageError::bad_request(
                    &crate::i18n::text("authorize-bad-redirect-title"),
                    &crate::i18n::text("logout-bad-redirect"),
                ))
            }
            None => {
                return Err(PageError::bad_request(
                    &crate::i18n::text("logout-invalid-title"),
                    "post_logout_redirect_uri needs an id_token_hint or a client_id.",
                ))
            }
        }
    }
    Ok(Destination {
        client,
        post_logout_redirect_uri: uri,
        state: get("state"),
    })
}

/// Where the browser goes after the upstream provider's logout (kept in the fresh session).
#[derive(Serialize, Deserialize)]
struct AfterUpstream {
    state: String,
    continue_to: Option<String>,
    frontchannel: Vec<String>,
}

const AFTER_UPSTREAM: &str = "after_upstream_logout";

async fn finish(state: &AppState, session: &Session, dest: &Destination, ended: Ended) -> Result<Response, PageError> {
    let continue_to = dest.post_logout_redirect_uri.as_ref().map(|uri| {
        let params: Vec<(&str, &str)> = dest.state.as_deref().map(|s| vec![("state", s)]).unwrap_or_default();
        with_query(uri, &params)
    });
    // A brokered session: end it at the provider too, then come back here to finish.
    if let Some((provider, hint)) = &ended.upstream {
        if let Some(up) = state
            .upstreams
            .current()
            .get(provider)
            .filter(|u| u.config().upstream_logout)
        {
            let back = state.config.endpoint(&format!("/logout/upstream/{provider}"));
            let st = random_token();
            if let Some(url) = up.logout_url(hint.as_deref(), &back, &st).await {
                let after = AfterUpstream {
                    state: st,
                    continue_to,
                    frontchannel: ended.frontchannel,
                };
                session.insert(AFTER_UPSTREAM, after).await?;
                return Ok(found(&url));
            }
        }
    }
    Ok(finish_page(state, continue_to, ended.frontchannel))
}

/// `GET /logout/upstream/{provider}`: back from the provider's logout.
pub async fn after_upstream(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let after: Option<AfterUpstream> = session.remove(AFTER_UPSTREAM).await?;
    match after.filter(|a| q.get("state") == Some(&a.state)) {
        Some(a) => Ok(finish_page(&state, a.continue_to, a.frontchannel)),
        // Signed out here anyway; without the matching state there is nowhere trusted to go on to.
        None => Ok(finish_page(&state, None, vec![])),
    }
}

/// The signed-out page (front-channel iframes), or straight on to the client.
fn finish_page(state: &AppState, continue_to: Option<String>, frontchannel: Vec<String>) -> Response {
    if frontchannel.is_empty() {
        if let Some(url) = continue_to {
            return found(&url);
        }
    }
    // Front-channel logout: each client's page in a hidden iframe, then on to the client.
    let origins: Vec<String> = frontchannel
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    let page = LoggedOutPage::new(state.base(), frontchannel, continue_to);
    let mut res = state.templates.page(StatusCode::OK, &page);
    if !origins.is_empty() {
        let csp = format!(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-src {}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            origins.join(" ")
        );
        if let Ok(v) = axum::http::HeaderValue::from_str(&csp) {
            res.headers_mut().insert(axum::http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    res
}

/// `GET|POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = get_or_post_params(&method, query, &body).map_err(|e| {
        plain_sign_out(
            &state,
            PageError::bad_request(&crate::i18n::text("logout-invalid-title"), &e),
        )
    })?;
    let hint = match params.get("id_token_hint").filter(|h| !h.is_empty()) {
        Some(h) => Some(verify_hint(&state, h).await.map_err(|e| plain_sign_out(&state, e))?),
        None => None,
    };
    let dest = destination(&state, &params, hint.as_ref())
        .await
        .map_err(|e| plain_sign_out(&state, e))?;
    let current = login_session::current(&session).await?;
    // A hint for this very session (or none to end) proves the application asked: no question needed.
    let hint_matches = hint.as_ref().is_some_and(|h| match &current {
        None => true,
        Some(c) => h.sid.as_deref().map_or(c.user_id == h.sub, |sid| sid == c.sid),
    });
    if hint_matches || current.is_none() {
        let ended = end_session(&state, &session).await?;
        return finish(&state, &session, &dest, ended).await;
    }
    let username = match &current {
        Some(c) => users::find(&state.db, &c.user_id).await?.map(|u| u.username),
        None => None,
    };
    let page = ConfirmLogoutPage {
        layout: Layout::new(crate::i18n::text("title-sign-out"), state.base()),
        csrf: csrf::token(&session).await?,
        username,
        post_logout_redirect_uri: dest.post_logout_redirect_uri,
        client_id: dest.client.as_ref().map(|c| c.id.clone()),
        state: dest.state,
    };
    Ok(state.templates.page(StatusCode::OK, &page))
}

/// The confirmation form.
#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: Option<String>,
    decision: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
}

/// `POST /logout/confirm`.
pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    axum::Form(form): axum::Form<ConfirmForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    if form.decision.as_deref() != Some("logout") {
        return Ok(see_other(&format!("{}/", state.base())));
    }
    let mut params = HashMap::new();
    for (k, v) in [
        ("post_logout_redirect_uri", form.post_logout_redirect_uri),
        ("client_id", form.client_id),
        ("state", form.state),
    ] {
        if let Some(v) = v {
            params.insert(k.to_owned(), v);
        }
    }
    // Re-checked: the form's hidden fields are browser input like any other.
    let dest = destination(&state, &params, None)
        .await
        .map_err(|e| plain_sign_out(&state, e))?;
    let ended = end_session(&state, &session).await?;
    finish(&state, &session, &dest, ended).await
}
