//! Pages only SAML providers have: single logout (both directions) and the service-provider
//! metadata. Each answers 404 for a provider without the capability it needs.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::state::AppState;
use crate::upstream::Upstream;
use crate::web::error::PageError;
use crate::web::found;
use crate::web::login_session;
use crate::web::pages::LoggedOutPage;
use crate::web::upstream_start::{explain, provider_of, upstream_failure};

/// `GET /broker/saml/{provider}/slo`: the IdP's answer to a single-logout request; on to the
/// end of Gatehouse's own logout (already done locally) with the RelayState.
pub async fn saml_slo(
    State(state): State<AppState>,
    session: Session,
    Path(provider_id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    let query = query.unwrap_or_default();
    if query.contains("SAMLRequest=") {
        return idp_started_logout(&state, &session, provider.as_ref(), &query).await;
    }
    match provider.logout_return(&query).await {
        Some(Ok(relay_state)) => Ok(found(&crate::urls::with_query(
            &format!("{}/logout/upstream/{provider_id}", state.base()),
            &[("state", &relay_state)],
        ))),
        Some(Err(e)) => {
            tracing::warn!(provider = %provider_id, error = %e, "SAML logout answer refused");
            // Signed out here already; nothing trusted to continue to.
            Ok(found(&format!("{}/logout/upstream/{provider_id}", state.base())))
        }
        None => Err(PageError::NotFound),
    }
}

/// A logout the IdP started (the person signed out there or at another of its SPs): ends this
/// browser's Gatehouse session when it came from that IdP for that subject, then answers.
async fn idp_started_logout(
    state: &AppState,
    session: &Session,
    provider: &dyn Upstream,
    query: &str,
) -> Result<Response, PageError> {
    let id = &provider.config().id;
    let request = match provider.logout_request(query).await {
        Some(Ok(request)) => request,
        Some(Err(e)) => {
            tracing::warn!(provider = %id, error = %e, "logout request refused");
            return Err(PageError::bad_request(
                "Sign-out request not valid",
                "Gatehouse could not verify this sign-out request from the identity provider, so nothing was changed.",
            ));
        }
        None => return Err(PageError::NotFound),
    };
    if let Some(current) = login_session::current(session).await? {
        let subject = current
            .upstream_session
            .as_deref()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| v["name_id"].as_str().map(str::to_owned));
        if current.idp.as_deref() == Some(id.as_str()) && subject.as_deref() == Some(request.subject.as_str()) {
            // Back-channel logout tokens go out to the clients as at any logout.
            crate::web::login_session::end_session(state, session).await?;
            tracing::info!(provider = %id, "session ended by the identity provider's logout");
        }
    }
    match provider.logout_answer_url(&request).await {
        Some(url) => Ok(found(&url)),
        None => Ok(state
            .templates
            .page(StatusCode::OK, &LoggedOutPage::new(state.base(), vec![], None))),
    }
}

/// `GET /broker/saml/{provider}/metadata`: the SP metadata to import at the IdP.
pub async fn sp_metadata(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    match provider.sp_metadata().await {
        None => Err(PageError::NotFound),
        Some(Ok(xml)) => Ok((
            [(axum::http::header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response()),
        Some(Err(e)) => {
            tracing::warn!(provider = %provider_id, error = %e, "SP metadata unavailable");
            Err(upstream_failure(&state, &provider.config().name, None, explain(&e)))
        }
    }
}
