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

/// The (sid, client) pairs this node has already recorded: issuing tokens writes the row once
/// per session and client instead of once per token. Only ever skips a write whose row exists
/// (or whose session ended, when `forget` removed it and no notification is owed any more).
#[derive(Clone)]
pub struct RecordedParticipants(moka::sync::Cache<(String, String), ()>);

impl Default for RecordedParticipants {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(std::time::Duration::from_secs(3600))
                .build(),
        )
    }
}

impl RecordedParticipants {
    /// Records that `client_id` took part in session `sid`, unless this node already did.
    pub async fn record<C: ConnectionTrait>(
        &self,
        db: &C,
        sid: &str,
        client_id: &str,
        user_id: &str,
    ) -> Result<(), DbErr> {
        let key = (sid.to_owned(), client_id.to_owned());
        if self.0.contains_key(&key) {
            return Ok(());
        }
        record(db, sid, client_id, user_id).await?;
        self.0.insert(key, ());
        Ok(())
    }
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
