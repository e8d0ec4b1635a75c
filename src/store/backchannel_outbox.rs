//! The back-channel logout outbox: a notification stays in the database until it is delivered
//! or given up, so a restart loses none and any node can deliver it. A node claims one before
//! each attempt; only one of several racing nodes wins the claim.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::backchannel_outbox;
use super::{now, random_token};

pub use backchannel_outbox::Model as OutboxRow;

/// A logout notification for one client of an ended session.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub client_id: String,
    pub uri: String,
    /// JOSE algorithm to sign the logout token with.
    pub alg: String,
    pub sub: String,
    pub sid: String,
}

/// Milliseconds since the Unix epoch (back-off steps are shorter than a second's rounding).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Stores a notification, due at once; returns its id.
pub async fn enqueue<C: ConnectionTrait>(db: &C, n: NewNotification) -> Result<String, DbErr> {
    let id = random_token()[..22].to_string();
    backchannel_outbox::ActiveModel {
        id: Set(id.clone()),
        client_id: Set(n.client_id),
        uri: Set(n.uri),
        alg: Set(n.alg),
        sub: Set(n.sub),
        sid: Set(n.sid),
        created_at: Set(now()),
        attempts: Set(0),
        due_at_ms: Set(now_ms()),
        claimed_by: Set(None),
        claimed_until_ms: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

fn unclaimed_at(at_ms: i64) -> Condition {
    Condition::any()
        .add(backchannel_outbox::Column::ClaimedUntilMs.is_null())
        .add(backchannel_outbox::Column::ClaimedUntilMs.lte(at_ms))
}

/// Up to `limit` notifications due at `at_ms` that no node holds, oldest due first.
pub async fn due<C: ConnectionTrait>(db: &C, at_ms: i64, limit: u64) -> Result<Vec<OutboxRow>, DbErr> {
    backchannel_outbox::Entity::find()
        .filter(backchannel_outbox::Column::DueAtMs.lte(at_ms))
        .filter(unclaimed_at(at_ms))
        .order_by_asc(backchannel_outbox::Column::DueAtMs)
        .limit(limit)
        .all(db)
        .await
}

/// Claims notification `id` for `node` until `at_ms + lease_ms`. One conditional UPDATE: of
/// nodes racing for the same row, exactly one sees a row changed (SQLite runs writes one at a
/// time; PostgreSQL re-checks the condition after the winner's commit).
pub async fn claim<C: ConnectionTrait>(db: &C, id: &str, node: &str, at_ms: i64, lease_ms: i64) -> Result<bool, DbErr> {
    let res = backchannel_outbox::Entity::update_many()
        .col_expr(backchannel_outbox::Column::ClaimedBy, Expr::value(node))
        .col_expr(
            backchannel_outbox::Column::ClaimedUntilMs,
            Expr::value(at_ms + lease_ms),
        )
        .filter(backchannel_outbox::Column::Id.eq(id))
        .filter(backchannel_outbox::Column::DueAtMs.lte(at_ms))
        .filter(unclaimed_at(at_ms))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The attempt succeeded: the notification leaves the outbox. `false` when `node` no longer held it.
pub async fn delivered<C: ConnectionTrait>(db: &C, id: &str, node: &str) -> Result<bool, DbErr> {
    remove(db, id, node).await
}

async fn remove<C: ConnectionTrait>(db: &C, id: &str, node: &str) -> Result<bool, DbErr> {
    let res = backchannel_outbox::Entity::delete_many()
        .filter(backchannel_outbox::Column::Id.eq(id))
        .filter(backchannel_outbox::Column::ClaimedBy.eq(node))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The attempt failed: counted, released and due again at `retry_at_ms`, or removed when there
/// is no retry left (`None`). Only while `node` still holds it.
pub async fn attempt_failed<C: ConnectionTrait>(
    db: &C,
    id: &str,
    node: &str,
    retry_at_ms: Option<i64>,
) -> Result<(), DbErr> {
    match retry_at_ms {
        Some(at) => {
            backchannel_outbox::Entity::update_many()
                .col_expr(
                    backchannel_outbox::Column::Attempts,
                    Expr::col(backchannel_outbox::Column::Attempts).add(1),
                )
                .col_expr(backchannel_outbox::Column::DueAtMs, Expr::value(at))
                .col_expr(
                    backchannel_outbox::Column::ClaimedBy,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    backchannel_outbox::Column::ClaimedUntilMs,
                    Expr::value(Option::<i64>::None),
                )
                .filter(backchannel_outbox::Column::Id.eq(id))
                .filter(backchannel_outbox::Column::ClaimedBy.eq(node))
                .exec(db)
                .await?;
        }
        None => {
            remove(db, id, node).await?;
        }
    }
    Ok(())
}

/// Every notification still waiting, soonest due first.
pub async fn pending<C: ConnectionTrait>(db: &C) -> Result<Vec<OutboxRow>, DbErr> {
    backchannel_outbox::Entity::find()
        .order_by_asc(backchannel_outbox::Column::DueAtMs)
        .all(db)
        .await
}
