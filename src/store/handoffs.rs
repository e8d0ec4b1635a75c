//! Finished upstream logins handed from a cross-site POST (SAML ACS) to the browser's next,
//! same-site request, which carries the session cookie. Single use, short-lived.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::broker_handoff;
use super::{now, random_token};

/// Seconds the browser has to come back for its result.
const TTL_SECS: i64 = 120;

/// Stores `result` (JSON) for the interaction; returns the one-time handle.
pub async fn put<C: ConnectionTrait>(
    db: &C,
    provider_id: &str,
    interaction_id: &str,
    result: &str,
) -> Result<String, DbErr> {
    let id = random_token();
    broker_handoff::ActiveModel {
        id: Set(id.clone()),
        provider_id: Set(provider_id.to_owned()),
        interaction_id: Set(interaction_id.to_owned()),
        result: Set(result.to_owned()),
        expires_at: Set(now() + TTL_SECS),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// The handoff, if it is known, for this provider and unexpired (not consumed: see [`claim`]).
pub async fn find<C: ConnectionTrait>(
    db: &C,
    id: &str,
    provider_id: &str,
) -> Result<Option<broker_handoff::Model>, DbErr> {
    let row = broker_handoff::Entity::find_by_id(id.to_owned()).one(db).await?;
    Ok(row.filter(|r| r.provider_id == provider_id && r.expires_at > now()))
}

/// Consumes the handoff: `true` for exactly one of any number of concurrent callers.
pub async fn claim<C: ConnectionTrait>(db: &C, id: &str) -> Result<bool, DbErr> {
    // Deleting is the claim: of two concurrent takers only one deletes the row.
    let res = broker_handoff::Entity::delete_many()
        .filter(broker_handoff::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Deletes handoffs nobody came back for.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = broker_handoff::Entity::delete_many()
        .filter(broker_handoff::Column::ExpiresAt.lt(now()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
