//! The interaction at the edge: [`flow::interaction`](crate::flow::interaction) loaded for a
//! page, its failures turned into pages with a way back.
pub use crate::flow::interaction::Interaction;
use crate::flow::interaction::{self as core, InteractionError};
use std::sync::Arc;

use crate::flow::request::AuthorizeRequest;
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::now;
use crate::web::error::PageError;

/// Remembers a validated request and returns its interaction.
pub async fn start(state: &AppState, request: &AuthorizeRequest) -> Result<Interaction, PageError> {
    core::start(&state.db, request, state.config.lifetimes.interaction)
        .await
        .map_err(|e| page(state, e))
}

/// Loads a pending interaction; an unknown, finished or expired one becomes a page with a way back.
pub async fn load_pending(state: &AppState, id: Option<&str>) -> Result<Interaction, PageError> {
    let ix = core::load_pending(&state.db, id, now())
        .await
        .map_err(|e| page(state, e))?;
    // Audit events of this request (a sign-in, a failure) name the client it is for.
    crate::audit::note_client(&ix.request.client_id);
    // The client's `ui_locales`, remembered with the interaction, outrank Accept-Language.
    if let Some(lang) = ix
        .request
        .ui_locales
        .as_deref()
        .and_then(crate::i18n::Lang::from_ui_locales)
    {
        crate::i18n::prefer(lang);
    }
    Ok(ix)
}

/// The page for an interaction that cannot be used.
fn page(state: &AppState, e: InteractionError) -> PageError {
    let base = state.base();
    match e {
        InteractionError::Unknown => PageError::with_link(
            &crate::i18n::text("ix-unknown-title"),
            &crate::i18n::text("ix-unknown"),
            format!("{base}/"),
            &crate::i18n::text("common-home"),
        ),
        InteractionError::Finished(request) => PageError::with_link(
            &crate::i18n::text("ix-finished-title"),
            &crate::i18n::text("ix-finished"),
            request.restart_url(&base),
            &crate::i18n::text("ix-start-again"),
        ),
        InteractionError::Expired(request) => PageError::with_link(
            &crate::i18n::text("ix-expired-title"),
            &crate::i18n::text("ix-expired"),
            request.restart_url(&base),
            &crate::i18n::text("ix-start-again"),
        ),
        InteractionError::Corrupt(e) => PageError::internal(e),
        InteractionError::Db(e) => e.into(),
    }
}

/// Looks up the client of an interaction.
pub async fn client_of(state: &AppState, ix: &Interaction) -> Result<Arc<Client>, PageError> {
    state.clients.get(&ix.request.client_id).await?.ok_or_else(|| {
        PageError::bad_request(
            &crate::i18n::text("ix-unknown-client-title"),
            &crate::i18n::text("ix-unknown-client"),
        )
    })
}
