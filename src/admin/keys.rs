//! Token signing keys: listed, and rotated on demand (old keys keep verifying until every
//! token they signed has expired).
use serde::Serialize;

use super::{AdminError, Operator};
use crate::audit::{self, Event, EventKind};
use crate::keys::{KeyInfo, KeyStore};

/// A signing key (its public part is in the JWKS; the private part never leaves the database).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    /// The RFC 7638 thumbprint.
    pub kid: String,
    pub alg: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds when a newer key took over; absent for the current key.
    pub retired_at: Option<i64>,
    /// Signs new tokens (the newest unretired key of its algorithm).
    pub current: bool,
}

impl From<KeyInfo> for KeyView {
    fn from(k: KeyInfo) -> Self {
        Self {
            current: k.retired_at.is_none(),
            kid: k.kid,
            alg: k.alg,
            created_at: k.created_at,
            retired_at: k.retired_at,
        }
    }
}

/// Every stored key, newest first.
pub async fn list(keys: &KeyStore) -> Result<Vec<KeyView>, AdminError> {
    Ok(keys.list().await?.into_iter().map(KeyView::from).collect())
}

/// Makes a new key of every algorithm current, then records who did it. The key store writes
/// on its own connection, so the audit row follows the rotation instead of sharing its
/// transaction; a rotation is harmless to repeat, and a failed record fails the request.
pub async fn rotate(op: &Operator<'_>, keys: &KeyStore) -> Result<Vec<KeyView>, AdminError> {
    let made = keys.rotate().await?;
    let kids: Vec<&str> = made.iter().map(|k| k.kid.as_str()).collect();
    let event = Event::new(EventKind::Admin("keys.rotate"), op.actor.clone()).detail(serde_json::json!({"kids": kids}));
    audit::record(op.db, event).await?;
    Ok(made.into_iter().map(KeyView::from).collect())
}
