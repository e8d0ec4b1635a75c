//! The interaction: a pending authorize request remembered server-side while the person signs
//! in. Both the provider endpoints and the login pages work on this one type.
use sea_orm::{ConnectionTrait, DbErr};

use super::request::AuthorizeRequest;
use crate::store::interactions;

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

    /// The second-factor page for this interaction.
    pub fn mfa_url(&self, base: &str) -> String {
        format!("{base}/login/mfa?interaction={}", self.id)
    }

    /// The page that sets up a second factor required for this interaction.
    pub fn mfa_enrol_url(&self, base: &str) -> String {
        format!("{base}/login/mfa/enrol?interaction={}", self.id)
    }

    /// The consent page for this interaction.
    pub fn consent_url(&self, base: &str) -> String {
        format!("{base}/consent?interaction={}", self.id)
    }
}

/// Why a pending interaction cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InteractionError {
    /// No id, or no such interaction.
    #[error("unknown interaction")]
    Unknown,
    /// Completed already (perhaps in another tab): the request can be started again.
    #[error("interaction already completed")]
    Finished(Box<AuthorizeRequest>),
    /// Past its lifetime: the request can be started again.
    #[error("interaction expired")]
    Expired(Box<AuthorizeRequest>),
    #[error("stored interaction unreadable: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Remembers a validated request for `lifetime` seconds and returns its interaction.
pub async fn start(
    db: &impl ConnectionTrait,
    request: &AuthorizeRequest,
    lifetime: u64,
) -> Result<Interaction, InteractionError> {
    let json = serde_json::to_string(request).map_err(|e| InteractionError::Corrupt(e.to_string()))?;
    let row = interactions::create(db, &request.client_id, json, lifetime).await?;
    Ok(Interaction {
        id: row.id,
        request: request.clone(),
        created_at: row.created_at,
    })
}

/// Loads a pending interaction as of `now`.
pub async fn load_pending(
    db: &impl ConnectionTrait,
    id: Option<&str>,
    now: i64,
) -> Result<Interaction, InteractionError> {
    let id = id.filter(|i| !i.is_empty()).ok_or(InteractionError::Unknown)?;
    let row = interactions::find(db, id).await?.ok_or(InteractionError::Unknown)?;
    let request: AuthorizeRequest =
        serde_json::from_str(&row.request).map_err(|e| InteractionError::Corrupt(e.to_string()))?;
    if row.completed_at.is_some() {
        return Err(InteractionError::Finished(Box::new(request)));
    }
    if row.expires_at <= now {
        return Err(InteractionError::Expired(Box::new(request)));
    }
    Ok(Interaction {
        id: row.id,
        request,
        created_at: row.created_at,
    })
}
