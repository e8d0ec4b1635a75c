//! Pages only SAML providers have: single logout (both directions) and the service-provider
//! metadata. Each answers 404 for a provider without the capability it needs.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::state::AppState;
use crate::upstream::SingleLogout;
use crate::web::error::PageError;
use crate::web::found;
use crate::web::login_session;
use crate::web::pages::LoggedOutPage;
use crate::web::upstream_start::{explain, provider_of, upstream_failure};

/// `GET /broker/saml/{provider}/slo`: the IdP's answer to a single-logout request; on to the
/// end of Gatehouse's own logout (already done locally) with the RelayState. A logout request
/// the IdP started arrives here too.
pub async fn saml_slo(
    State(state): State<AppState>,
    session: Session,
    Path(provider_id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    let slo = provider.single_logout().ok_or(PageError::NotFound)?;
    let query = query.unwrap_or_default();
    if query.contains("SAMLRequest=") {
        return idp_started_logout(&state, &session, &provider_id, slo, &query).await;
    }
    match slo.logout_returned(&query).await {
        Ok(relay_state) => Ok(found(&crate::urls::with_query(
            &format!("{}/logout/upstream/{provider_id}", state.base()),
            &[("state", &relay_state)],
        ))),
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "SAML logout answer refused");
            // Signed out here already; nothing trusted to continue to.
            Ok(found(&format!("{}/logout/upstream/{provider_id}", state.base())))
        }
    }
}

/// A logout the IdP started (the person signed out there or at another of its SPs): ends this
/// browser's Gatehouse session when it came from that IdP for that subject, then answers.
async fn idp_started_logout(
    state: &AppState,
    session: &Session,
    provider_id: &str,
    slo: &dyn SingleLogout,
    query: &str,
) -> Result<Response, PageError> {
    let request = match slo.logout_requested(query).await {
        Ok(request) => request,
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "logout request refused");
            return Err(PageError::bad_request(
                &crate::i18n::text("saml-logout-invalid-title"),
                &crate::i18n::text("saml-logout-invalid"),
            ));
        }
    };
    if let Some(current) = login_session::current(session).await? {
        if current.idp.as_deref() == Some(provider_id)
            && slo.is_session_of(current.upstream_session.as_deref(), &request)
        {
            // Back-channel logout tokens go out to the clients as at any logout.
            login_session::end_session(state, session).await?;
            tracing::info!(provider = %provider_id, "session ended by the identity provider's logout");
        }
    }
    match slo.answer_url(&request).await {
        Ok(url) => Ok(found(&url)),
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "no logout answer for the IdP");
            Ok(state
                .templates
                .page(StatusCode::OK, &LoggedOutPage::new(state.base(), vec![], None)))
        }
    }
}

/// `GET /broker/saml/{provider}/metadata`: the SP metadata to import at the IdP.
pub async fn sp_metadata(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    let metadata = provider.sp_metadata().ok_or(PageError::NotFound)?;
    match metadata.document().await {
        Ok(xml) => Ok((
            [(axum::http::header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response()),
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "SP metadata unavailable");
            Err(upstream_failure(&state, &provider.config().name, None, &explain(&e)))
        }
    }
}
