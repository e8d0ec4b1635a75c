//! Linking an external identity to the account that is signed in: never a new account, never
//! someone else's.
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::federated;
use crate::upstream::ExternalIdentity;

/// What linking came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The identity now signs in to this account.
    Linked,
    /// It already did.
    AlreadyYours,
    /// It belongs to another account: nothing changed (moving it would let whoever controls
    /// this account take the other's sign-ins, or the other way round).
    OtherAccount,
}

fn outcome_for(existing: &federated::FederatedIdentity, user_id: &str) -> LinkOutcome {
    if existing.user_id == user_id {
        LinkOutcome::AlreadyYours
    } else {
        LinkOutcome::OtherAccount
    }
}

/// Links `identity` to `user_id` unless it is linked already.
pub async fn link_to_account<C: ConnectionTrait>(
    db: &C,
    identity: &ExternalIdentity,
    user_id: &str,
) -> Result<LinkOutcome, DbErr> {
    if let Some(existing) = federated::find(db, &identity.provider, &identity.subject).await? {
        return Ok(outcome_for(&existing, user_id));
    }
    match federated::link(db, &identity.provider, &identity.subject, user_id, &identity.raw_claims).await {
        Ok(_) => {
            tracing::info!(provider = %identity.provider, %user_id, "external identity linked from the account page");
            Ok(LinkOutcome::Linked)
        }
        // Linked by a concurrent sign-in meanwhile (the primary key refused the second row).
        Err(e) => match federated::find(db, &identity.provider, &identity.subject).await? {
            Some(existing) => Ok(outcome_for(&existing, user_id)),
            None => Err(e),
        },
    }
}
