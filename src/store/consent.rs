//! Remembered consent: which scopes a user has granted to a client.
use std::collections::BTreeSet;

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::consent_grant;
use super::now;

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
