//! The interaction: a pending authorize request remembered server-side while the person signs in.
use crate::oidc::authorize::AuthorizeRequest;
use crate::state::AppState;
use crate::store::{interactions, now};
use crate::web::error::PageError;

/// A pending authorize request, loaded and still usable.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub id: String,
    pub request: AuthorizeRequest,
    pub created_at: i64,
}

impl Interaction {
    /// The login page for this interaction.
    pub fn login_url(&self, base: &str) -> String {
        format!("{base}/login?interaction={}", self.id)
    }

    /// Where the flow continues once the person has signed in.
    pub fn resume_url(&self, base: &str) -> String {
        format!("{base}/authorize/resume?interaction={}", self.id)
    }
}

/// Remembers a validated request and returns its interaction.
pub async fn start(state: &AppState, request: &AuthorizeRequest) -> Result<Interaction, PageError> {
    let json = serde_json::to_string(request).map_err(PageError::internal)?;
    let row = interactions::create(&state.db, &request.client_id, json, state.config.lifetimes.interaction).await?;
    Ok(Interaction {
        id: row.id,
        request: request.clone(),
        created_at: row.created_at,
    })
}

/// Loads a pending interaction; an unknown, finished or expired one becomes a page with a way back.
pub async fn load_pending(state: &AppState, id: Option<&str>) -> Result<Interaction, PageError> {
    let base = state.base();
    let home = || {
        PageError::with_link(
            "Sign-in request not found",
            "This page needs a sign-in request from an application, and this one is unknown. Go back to the application and sign in from there.",
            format!("{base}/"),
            "Gatehouse home",
        )
    };
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return Err(home());
    };
    let Some(row) = interactions::find(&state.db, id).await? else {
        return Err(home());
    };
    let request: AuthorizeRequest = serde_json::from_str(&row.request).map_err(PageError::internal)?;
    let restart = request.restart_url(&base);
    if row.completed_at.is_some() {
        return Err(PageError::with_link(
            "This sign-in is already finished",
            "This sign-in request was already completed, perhaps in another tab. You can start it again.",
            restart,
            "Start again",
        ));
    }
    if row.expires_at <= now() {
        return Err(PageError::with_link(
            "This sign-in request has expired",
            "You took a while, so this sign-in request expired. Start again to continue to the application.",
            restart,
            "Start again",
        ));
    }
    Ok(Interaction {
        id: row.id,
        request,
        created_at: row.created_at,
    })
}
