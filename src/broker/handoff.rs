//! A finished upstream login carried from a cross-site POST (SAML ACS, OIDC form_post), which
//! arrives without the session cookie, to the browser's next same-site request, which has it.
//! The result waits in the database and is given only to the browser that started the login.
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

use super::binding::same_browser;
use crate::store::handoffs;
use crate::upstream::{ExternalIdentity, Finished, UpstreamError};

/// A finished login as stored between the two requests.
#[derive(Serialize, Deserialize)]
struct HandoffRecord {
    /// IdP-initiated: no browser started it, so there is no started login to match.
    unsolicited: bool,
    /// The starting browser's secret hash, which the browser taking the result must hold.
    #[serde(default)]
    browser_hash: Option<String>,
    outcome: Outcome,
}

/// The outcome inside a [`HandoffRecord`].
#[derive(Serialize, Deserialize)]
enum Outcome {
    Identity(Box<ExternalIdentity>),
    Denied { error: String, description: String },
    Unavailable(String),
    Refused(String),
}

impl Outcome {
    fn of(result: Result<ExternalIdentity, UpstreamError>) -> Self {
        match result {
            Ok(identity) => Self::Identity(Box::new(identity)),
            Err(UpstreamError::Denied { error, description }) => Self::Denied { error, description },
            Err(UpstreamError::Unavailable(m)) => Self::Unavailable(m),
            Err(other) => Self::Refused(other.to_string()),
        }
    }

    fn into_result(self) -> Result<ExternalIdentity, UpstreamError> {
        match self {
            Self::Identity(identity) => Ok(*identity),
            Self::Denied { error, description } => Err(UpstreamError::Denied { error, description }),
            Self::Unavailable(m) => Err(UpstreamError::Unavailable(m)),
            Self::Refused(m) => Err(UpstreamError::InvalidSaml(m)),
        }
    }
}

/// Stores a finished login for its browser; returns the handoff id to send the browser with.
/// `unsolicited` marks an IdP-initiated login, which no browser started.
pub async fn put(
    db: &impl ConnectionTrait,
    provider_id: &str,
    finished: Finished,
    unsolicited: bool,
) -> Result<String, DbErr> {
    let record = HandoffRecord {
        unsolicited,
        browser_hash: finished.browser_hash,
        outcome: Outcome::of(finished.result),
    };
    let json = serde_json::to_string(&record).map_err(|e| DbErr::Custom(e.to_string()))?;
    handoffs::put(db, provider_id, &finished.interaction_id, &json).await
}

/// The handed-off result, if the browser holding `held` (its secret's hash) started the login
/// it belongs to. In another browser nothing is consumed.
pub async fn take(
    db: &impl ConnectionTrait,
    provider_id: &str,
    id: &str,
    held: Option<&str>,
) -> Result<Result<Finished, UpstreamError>, DbErr> {
    let Some(row) = handoffs::find(db, id, provider_id).await? else {
        return Ok(Err(UpstreamError::UnknownState));
    };
    let record: HandoffRecord = serde_json::from_str(&row.result).map_err(|e| DbErr::Custom(e.to_string()))?;
    // Bound to the browser: a result only continues where its login was started (otherwise an
    // attacker could hand a victim's browser the attacker's own login). IdP-initiated sign-in
    // has no such start; that risk is why it is off unless configured.
    if !record.unsolicited && !same_browser(record.browser_hash.as_deref(), held) {
        tracing::warn!(provider = %provider_id, "handoff arrived in a browser that did not start the login");
        return Ok(Err(UpstreamError::OtherBrowser));
    }
    if !handoffs::claim(db, id).await? {
        return Ok(Err(UpstreamError::UnknownState));
    }
    Ok(Ok(Finished {
        interaction_id: row.interaction_id,
        browser_hash: record.browser_hash,
        result: record.outcome.into_result(),
    }))
}
