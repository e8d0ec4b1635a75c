//! The mail outbox: a rendered message stays in the database until it is sent, refused for good
//! by the server, or past its expiry, so a restart or an SMTP outage loses none and any node can
//! send it. A node claims a message before each attempt; of racing nodes only one wins.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::backchannel_outbox::now_ms;
use super::entities::mail_outbox;
use super::{now, random_token};

pub use mail_outbox::Model as QueuedMail;

/// A rendered message for one recipient.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Seconds after which sending it is pointless (the link in it has expired).
    pub ttl_secs: i64,
}

/// Stores a message, due at once; returns its id.
pub async fn enqueue<C: ConnectionTrait>(db: &C, mail: NewMail) -> Result<String, DbErr> {
    let id = random_token()[..22].to_string();
    let t = now();
    mail_outbox::ActiveModel {
        id: Set(id.clone()),
        recipient: Set(mail.recipient),
        subject: Set(mail.subject),
        text_body: Set(mail.text_body),
        html_body: Set(mail.html_body),
        created_at: Set(t),
        expires_at: Set(t + mail.ttl_secs),
        attempts: Set(0),
        due_at_ms: Set(now_ms()),
        claimed_by: Set(None),
        claimed_until_ms: Set(None),
        last_error: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

fn unclaimed_at(at_ms: i64) -> Condition {
    Condition::any()
        .add(mail_outbox::Column::ClaimedUntilMs.is_null())
        .add(mail_outbox::Column::ClaimedUntilMs.lte(at_ms))
}

/// Up to `limit` messages due at `at_ms` that no node holds, oldest due first.
pub async fn due<C: ConnectionTrait>(db: &C, at_ms: i64, limit: u64) -> Result<Vec<QueuedMail>, DbErr> {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::DueAtMs.lte(at_ms))
        .filter(unclaimed_at(at_ms))
        .order_by_asc(mail_outbox::Column::DueAtMs)
        .limit(limit)
        .all(db)
        .await
}

/// Claims message `id` for `node` until `at_ms + lease_ms`: one conditional UPDATE, so of nodes
/// racing for the same row exactly one sees a row changed.
pub async fn claim<C: ConnectionTrait>(db: &C, id: &str, node: &str, at_ms: i64, lease_ms: i64) -> Result<bool, DbErr> {
    let res = mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::ClaimedBy, Expr::value(node))
        .col_expr(mail_outbox::Column::ClaimedUntilMs, Expr::value(at_ms + lease_ms))
        .filter(mail_outbox::Column::Id.eq(id))
        .filter(mail_outbox::Column::DueAtMs.lte(at_ms))
        .filter(unclaimed_at(at_ms))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The message left the outbox (sent, or given up); `false` when `node` no longer held it.
pub async fn remove<C: ConnectionTrait>(db: &C, id: &str, node: &str) -> Result<bool, DbErr> {
    let res = mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::Id.eq(id))
        .filter(mail_outbox::Column::ClaimedBy.eq(node))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The attempt failed and will be retried: counted, released, due again at `retry_at_ms`, with
/// the reason kept for operators. Only while `node` still holds it.
pub async fn retry_later<C: ConnectionTrait>(
    db: &C,
    id: &str,
    node: &str,
    retry_at_ms: i64,
    reason: &str,
) -> Result<(), DbErr> {
    mail_outbox::Entity::update_many()
        .col_expr(
            mail_outbox::Column::Attempts,
            Expr::col(mail_outbox::Column::Attempts).add(1),
        )
        .col_expr(mail_outbox::Column::DueAtMs, Expr::value(retry_at_ms))
        .col_expr(mail_outbox::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(mail_outbox::Column::ClaimedUntilMs, Expr::value(Option::<i64>::None))
        .col_expr(mail_outbox::Column::LastError, Expr::value(reason))
        .filter(mail_outbox::Column::Id.eq(id))
        .filter(mail_outbox::Column::ClaimedBy.eq(node))
        .exec(db)
        .await?;
    Ok(())
}

/// Every message still waiting, soonest due first.
pub async fn pending<C: ConnectionTrait>(db: &C) -> Result<Vec<QueuedMail>, DbErr> {
    mail_outbox::Entity::find()
        .order_by_asc(mail_outbox::Column::DueAtMs)
        .all(db)
        .await
}
