//! Which clients received tokens within a browser session (`sid`), for back-channel logout.
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::session_client;
use super::now;

/// Records that `client_id` took part in session `sid` (idempotent).
pub async fn record<C: ConnectionTrait>(db: &C, sid: &str, client_id: &str, user_id: &str) -> Result<(), DbErr> {
    let row = session_client::ActiveModel {
        sid: Set(sid.to_owned()),
        client_id: Set(client_id.to_owned()),
        user_id: Set(user_id.to_owned()),
        created_at: Set(now()),
    };
    session_client::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([session_client::Column::Sid, session_client::Column::ClientId])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    Ok(())
}

/// The clients that took part in session `sid`.
pub async fn of_session<C: ConnectionTrait>(db: &C, sid: &str) -> Result<Vec<String>, DbErr> {
    Ok(session_client::Entity::find()
        .filter(session_client::Column::Sid.eq(sid))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.client_id)
        .collect())
}

/// Forgets the clients of a session that ended (after their notifications were stored).
pub async fn forget<C: ConnectionTrait>(db: &C, sid: &str) -> Result<(), DbErr> {
    session_client::Entity::delete_many()
        .filter(session_client::Column::Sid.eq(sid))
        .exec(db)
        .await?;
    Ok(())
}
