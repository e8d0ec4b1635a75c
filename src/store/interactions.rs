//! Pending authorize requests, stored server-side under an opaque id.
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::interaction;
use super::{now, random_token};

pub use interaction::Model as InteractionRow;

/// Stores a request as JSON and returns the new interaction id.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
    request_json: String,
    ttl: u64,
) -> Result<InteractionRow, DbErr> {
    let t = now();
    interaction::ActiveModel {
        id: Set(random_token()),
        client_id: Set(client_id.to_owned()),
        request: Set(request_json),
        created_at: Set(t),
        expires_at: Set(t + ttl as i64),
        completed_at: Set(None),
    }
    .insert(db)
    .await
}

/// The interaction with this id, whatever its state.
pub async fn find<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<InteractionRow>, DbErr> {
    interaction::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Marks it completed; `false` when another request completed it first.
pub async fn complete<C: ConnectionTrait>(db: &C, id: &str) -> Result<bool, DbErr> {
    let res = interaction::Entity::update_many()
        .col_expr(interaction::Column::CompletedAt, Expr::value(now()))
        .filter(interaction::Column::Id.eq(id))
        .filter(interaction::Column::CompletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Deletes interactions that expired more than a day ago (kept a while for "start again" pages).
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = interaction::Entity::delete_many()
        .filter(interaction::Column::ExpiresAt.lt(now() - 86_400))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
