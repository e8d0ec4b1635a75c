//! Remembered consent: which scopes a user has granted to a client.
use std::collections::BTreeSet;

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::consent_grant;
use super::now;

pub use consent_grant::Model as ConsentGrant;

/// The scopes this user has granted this client.
pub async fn granted<C: ConnectionTrait>(db: &C, user_id: &str, client_id: &str) -> Result<BTreeSet<String>, DbErr> {
    Ok(
        consent_grant::Entity::find_by_id((user_id.to_owned(), client_id.to_owned()))
            .one(db)
            .await?
            .map(|g| g.scope.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
    )
}

/// Adds scopes to the grant (creating it when missing).
pub async fn grant<C: ConnectionTrait>(db: &C, user_id: &str, client_id: &str, scopes: &[String]) -> Result<(), DbErr> {
    let existing = consent_grant::Entity::find_by_id((user_id.to_owned(), client_id.to_owned()))
        .one(db)
        .await?;
    let mut all: BTreeSet<String> = existing
        .as_ref()
        .map(|g| g.scope.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    all.extend(scopes.iter().cloned());
    let model = consent_grant::ActiveModel {
        user_id: Set(user_id.to_owned()),
        client_id: Set(client_id.to_owned()),
        scope: Set(all.into_iter().collect::<Vec<_>>().join(" ")),
        granted_at: Set(now()),
    };
    if existing.is_some() {
        model.update(db).await?;
    } else {
        model.insert(db).await?;
    }
    Ok(())
}

/// Every grant the user has made, newest first.
pub async fn for_user<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Vec<ConsentGrant>, DbErr> {
    consent_grant::Entity::find()
        .filter(consent_grant::Column::UserId.eq(user_id))
        .order_by_desc(consent_grant::Column::GrantedAt)
        .all(db)
        .await
}

/// Forgets the user's grant to the client; `false` when there was none.
pub async fn withdraw<C: ConnectionTrait>(db: &C, user_id: &str, client_id: &str) -> Result<bool, DbErr> {
    let res = consent_grant::Entity::delete_many()
        .filter(consent_grant::Column::UserId.eq(user_id))
        .filter(consent_grant::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
