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
            title: crate::i18n::text_with("upstream-failed-title", &[("provider", crate::i18n::arg(provider))]),
            message: message.into(),
            link: Some(crate::web::error::Link {
                href: format!("{base}/login?interaction={ix}"),
                label: crate::i18n::text("common-other-method"),
            }),
        },
        None => PageError::with_link(
            &crate::i18n::text_with("upstream-failed-title", &[("provider", crate::i18n::arg(provider))]),
            message,
            format!("{base}/"),
            &crate::i18n::text("common-home"),
        ),
    }
}

pub fn explain(e: &UpstreamError) -> String {
    crate::i18n::text(match e {
        UpstreamError::Unavailable(_) => "upstream-unavailable",
        UpstreamError::Denied { error, .. } if error == "AuthnFailed" => "upstream-authn-failed",
        UpstreamError::Denied { .. } => "upstream-denied",
        UpstreamError::UnknownState => "upstream-unknown-state",
        UpstreamError::OtherBrowser => "upstream-other-browser",
        _ => "upstream-unverified",
    })
}

/// Checks the provider may serve this interaction's client.
pub async fn check_allowed(state: &AppState, ix: &Interaction, provider: &dyn Upstream) -> Result<(), PageError> {
    let client = client_of(state, ix).await?;
    policy::allowed(&client, &provider.config().id).map_err(|_| {
        PageError::with_link(
            &crate::i18n::text("upstream-not-allowed-title"),
            &crate::i18n::text_with(
                "upstream-not-allowed",
                &[
                    ("client", crate::i18n::arg(client.name.clone())),
                    ("provider", crate::i18n::arg(provider.config().name.clone())),
                ],
            ),
            ix.login_url(&state.base()),
            &crate::i18n::text("upstream-choose-another"),
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
        reauthenticate: false,
    };
    match provider.begin(start).await {
        Ok(start) => Ok(send_to_provider(state, provider.as_ref(), start)),
        Err(e) => {
            tracing::warn!(provider = provider_id, error = %e, "upstream login could not start");
            Err(upstream_failure(
                state,
                &provider.config().name,
                Some(&ix.id),
                &explain(&e),
            ))
        }
    }
}
