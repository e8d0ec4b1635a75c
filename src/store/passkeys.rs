//! WebAuthn credentials per user. The credential id is the primary key, so one credential can
//! never be registered to two accounts (WebAuthn L2 §7.1 step 22).
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::passkey;

pub use passkey::Model as StoredPasskey;

/// The user's credentials, oldest first.
pub async fn for_user<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Vec<StoredPasskey>, DbErr> {
    passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .order_by_asc(passkey::Column::CreatedAt)
        .order_by_asc(passkey::Column::CredentialId)
        .all(db)
        .await
}

/// The credential with this id (base64url), whoever owns it.
pub async fn find<C: ConnectionTrait>(db: &C, credential_id: &str) -> Result<Option<StoredPasskey>, DbErr> {
    passkey::Entity::find_by_id(credential_id.to_owned()).one(db).await
}

/// A new credential to store.
pub struct NewPasskey<'a> {
    pub credential_id: &'a str,
    pub user_id: &'a str,
    pub user_handle: &'a str,
    pub name: &'a str,
    pub passkey_json: String,
}

/// Stores a new credential; `false` (nothing stored) when that credential id exists already.
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewPasskey<'_>, now: i64) -> Result<bool, DbErr> {
    let row = passkey::ActiveModel {
        credential_id: Set(new.credential_id.to_owned()),
        user_id: Set(new.user_id.to_owned()),
        user_handle: Set(new.user_handle.to_owned()),
        name: Set(new.name.to_owned()),
        passkey: Set(new.passkey_json),
        created_at: Set(now),
        last_used_at: Set(None),
    };
    let res = passkey::Entity::insert(row)
        .on_conflict(
            OnConflict::column(passkey::Column::CredentialId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(res == 1)
}

/// Records a use of the credential, with its updated state (signature counter, backup state).
pub async fn used<C: ConnectionTrait>(
    db: &C,
    credential_id: &str,
    passkey_json: Option<String>,
    now: i64,
) -> Result<(), DbErr> {
    let mut row = passkey::ActiveModel {
        credential_id: sea_orm::ActiveValue::Unchanged(credential_id.to_owned()),
        last_used_at: Set(Some(now)),
        ..Default::default()
    };
    if let Some(json) = passkey_json {
        row.passkey = Set(json);
    }
    passkey::Entity::update(row).exec(db).await.map(|_| ())
}

/// Removes the user's credential with this id; `false` when the user has no such credential.
pub async fn remove<C: ConnectionTrait>(db: &C, user_id: &str, credential_id: &str) -> Result<bool, DbErr> {
    let res = passkey::Entity::delete_many()
        .filter(passkey::Column::CredentialId.eq(credential_id))
        .filter(passkey::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
