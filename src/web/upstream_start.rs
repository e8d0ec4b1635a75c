//! Starting a login at an upstream provider, bound to this browser: the browser secret kept in
//! the server-side session, the record of the started login, and the pages for failures.
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::interaction::client_of;
use super::interaction::Interaction;
use crate::broker::binding::BrowserSecret;
use crate::broker::policy;
use crate::state::AppState;
use crate::upstream::{LoginStart, Start, Upstream, UpstreamError};
use crate::web::error::PageError;
use crate::web::found;
use crate::web::pages::{HiddenField, Layout, PostFormPage};

/// The last upstream login this browser started: where "try again" leads when the state is lost.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StartedLogin {
    interaction_id: String,
    provider: String,
}

const STARTED: &str = "broker_started";
/// A random secret of this browser's session; upstream logins remember only its hash.
const BROWSER_SECRET: &str = "broker_browser_secret";

/// The interaction of the last login this browser started at `provider_id`: where "use
/// another sign-in method" leads when the provider's answer cannot be used.
pub async fn started_interaction(session: &Session, provider_id: &str) -> Result<Option<String>, PageError> {
    let started: Option<StartedLogin> = session.get(STARTED).await?;
    Ok(started.filter(|s| s.provider == provider_id).map(|s| s.interaction_id))
}

/// The hash of this browser's secret, made on first use when `create` (see `broker::binding`).
pub async fn browser_hash(session: &Session, create: bool) -> Result<Option<String>, PageError> {
    let secret = match session.get::<String>(BROWSER_SECRET).await? {
        Some(secret) => secret,
        None if create => {
            let secret = BrowserSecret::new();
            session.insert(BROWSER_SECRET, secret.as_str()).await?;
            secret.as_str().to_owned()
        }
        None => return Ok(None),
    };
    Ok(Some(BrowserSecret::from(secret).hash()))
}

pub fn provider_of(state: &AppState, id: &str) -> Result<Arc<dyn Upstream>, PageError> {
    state.upstreams.current().get(id).cloned().ok_or(PageError::NotFound)
}

/// A failed upstream login: the pending request is kept, with ways on.
pub fn upstream_failure(state: &AppState, provider: &str, interaction_id: Option<&str>, message: &str) -> PageError {
    let base = state.base();
    match interaction_id {
        Some(ix) => PageError::BadRequest {
            title: format!("Sign-in with {provider} did not work"),
            message: message.into(),
            link: Some(crate::web::error::Link {
                href: format!("{base}/login?interaction={ix}"),
                label: "Use another sign-in method".into(),
            }),
        },
        None => PageError::with_link(
            &format!("Sign-in with {provider} did not work"),
            message,
            format!("{base}/"),
            "Gatehouse home",
        ),
    }
}

pub fn explain(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::Unavailable(_) => "The identity provider could not be reached. Try again in a moment, or sign in another way.",
        UpstreamError::Denied { error, .. } if error == "AuthnFailed" => "The identity provider could not authenticate you. You can try again or sign in another way.",
        UpstreamError::Denied { .. } => "The identity provider did not sign you in (it was cancelled or refused). You can try again or sign in another way.",
        UpstreamError::UnknownState => "This sign-in response is unknown, expired or was already used. Start the sign-in again.",
        UpstreamError::OtherBrowser => "This sign-in was started in another browser. For your safety it can only finish in the browser where it began: go back to that browser, or start again here.",
        _ => "The identity provider's answer could not be verified, so Gatehouse did not trust it. Try again, or sign in another way.",
    }
}

/// Checks the provider may serve this interaction's client.
pub async fn check_allowed(state: &AppState, ix: &Interaction, provider: &dyn Upstream) -> Result<(), PageError> {
    let client = client_of(state, ix).await?;
    policy::allowed(&client, &provider.config().id).map_err(|_| {
        PageError::with_link(
            "Sign-in method not available",
            &format!(
                "{} does not accept sign-in with {}.",
                client.name,
                provider.config().name
            ),
            ix.login_url(&state.base()),
            "Choose another method",
        )
    })
}

/// The response that takes the browser to the provider: a redirect, or a form that posts itself.
pub fn send_to_provider(state: &AppState, provider: &dyn Upstream, start: Start) -> Response {
    match start {
        Start::Redirect(url) => found(&url),
        Start::PostForm { action, fields } => {
            let fields = fields
                .into_iter()
                .map(|(name, value)| HiddenField { name, value })
                .collect();
            let page = PostFormPage {
                layout: Layout::new(
                    crate::i18n::text_with(
                        "title-continue-to",
                        &[("provider", crate::i18n::arg(provider.config().name.clone()))],
                    ),
                    state.base(),
                ),
                provider: provider.config().name.clone(),
                action,
                fields,
            };
            state.templates.page(StatusCode::OK, &page)
        }
    }
}

/// Sends the browser to the provider for `ix` (used by the button, idp_hint and home-realm discovery).
pub async fn redirect_to_provider(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    provider_id: &str,
    login_hint: Option<&str>,
) -> Result<Response, PageError> {
    let provider = provider_of(state, provider_id)?;
    check_allowed(state, ix, provider.as_ref()).await?;
    session
        .insert(
            STARTED,
            StartedLogin {
                interaction_id: ix.id.clone(),
                provider: provider_id.to_owned(),
            },
        )
        .await?;
    let browser = browser_hash(session, true).await?.unwrap_or_default();
    let start = LoginStart {
        interaction_id: &ix.id,
        login_hint,
        browser_hash: &browser,
    };
    match provider.begin(start).await {
        Ok(start) => Ok(send_to_provider(state, provider.as_ref(), start)),
        Err(e) => {
            tracing::warn!(provider = provider_id, error = %e, "upstream login could not start");
            Err(upstream_failure(
                state,
                &provider.config().name,
                Some(&ix.id),
                explain(&e),
            ))
        }
    }
}
