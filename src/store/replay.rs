//! One-time identifiers already seen (client assertion `jti`s, SAML assertion IDs), kept until
//! they could no longer be accepted anyway.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::used_assertion;
use super::now;

/// Records `id` until `expires_at`; `false` when it was already recorded (a replay).
pub async fn first_use<C: ConnectionTrait>(db: &C, id: &str, expires_at: i64) -> Result<bool, DbErr> {
    // The primary key decides, also between two nodes: the second insert fails.
    match (used_assertion::ActiveModel {
        id: Set(id.to_owned()),
        expires_at: Set(expires_at),
    })
    .insert(db)
    .await
    {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Forgets identifiers that can no longer be replayed.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = used_assertion::Entity::delete_many()
        .filter(used_assertion::Column::ExpiresAt.lt(now()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
