//! A version number per kind of shared setting, raised with every change and polled by every
//! node (`propagation`): a change made on one node takes effect on the others within seconds.
//! Polling a tiny table works the same on PostgreSQL and SQLite (where there is one node).
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::change_version;

/// A kind of shared setting that nodes cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Upstream providers created at run time.
    Providers,
    /// Registered clients (each node caches them).
    Clients,
    /// Token signing keys (rotated).
    Keys,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 3] = [Topic::Providers, Topic::Clients, Topic::Keys];

    /// The name stored in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Providers => "providers",
            Topic::Clients => "clients",
            Topic::Keys => "keys",
        }
    }
}

/// Records one more change of `topic` (in the caller's transaction when given one).
pub async fn bump<C: ConnectionTrait>(db: &C, topic: Topic) -> Result<(), DbErr> {
    let row = change_version::ActiveModel {
        topic: Set(topic.as_str().into()),
        version: Set(1),
    };
    change_version::Entity::insert(row)
        .on_conflict(
            OnConflict::column(change_version::Column::Topic)
                .value(
                    change_version::Column::Version,
                    Expr::col((change_version::Entity, change_version::Column::Version)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The current version of every topic (0 for one never changed).
pub async fn versions<C: ConnectionTrait>(db: &C) -> Result<HashMap<Topic, i64>, DbErr> {
    let rows = change_version::Entity::find().all(db).await?;
    Ok(Topic::ALL
        .into_iter()
        .map(|t| {
            let v = rows.iter().find(|r| r.topic == t.as_str()).map_or(0, |r| r.version);
            (t, v)
        })
        .collect())
}
