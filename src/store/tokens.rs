//! Opaque access tokens, stored by hash.
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::access_token;
use super::{hash_secret, now, random_token};

pub use access_token::Model as AccessTokenRow;

/// What an access token grants.
#[derive(Debug, Clone)]
pub struct NewAccessToken {
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub code_hash: Option<String>,
    pub sid: Option<String>,
    pub family_id: Option<String>,
}

/// Issues an opaque token; returns the plaintext once.
pub async fn issue<C: ConnectionTrait>(db: &C, new: NewAccessToken, ttl: u64) -> Result<String, DbErr> {
    let token = random_token();
    record(db, &token, new, ttl).await?;
    Ok(token)
}

/// Stores a token minted elsewhere (a JWT access token) so it can be looked up and revoked.
pub async fn record<C: ConnectionTrait>(db: &C, token: &str, new: NewAccessToken, ttl: u64) -> Result<(), DbErr> {
    let t = now();
    access_token::ActiveModel {
        token_hash: Set(hash_secret(token)),
        client_id: Set(new.client_id),
        user_id: Set(new.user_id),
        scope: Set(new.scope),
        code_hash: Set(new.code_hash),
        sid: Set(new.sid),
        created_at: Set(t),
        expires_at: Set(t + ttl as i64),
        revoked_at: Set(None),
        family_id: Set(new.family_id),
        machine: Set(false),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Stores an access token a client was issued for itself (client_credentials): no user, no
/// session, no refresh family.
pub async fn record_machine<C: ConnectionTrait>(
    db: &C,
    token: &str,
    client_id: &str,
    scope: &str,
    ttl: u64,
) -> Result<(), DbErr> {
    let t = now();
    access_token::ActiveModel {
        token_hash: Set(hash_secret(token)),
        client_id: Set(client_id.to_owned()),
        user_id: Set(String::new()),
        scope: Set(scope.to_owned()),
        code_hash: Set(None),
        sid: Set(None),
        created_at: Set(t),
        expires_at: Set(t + ttl as i64),
        revoked_at: Set(None),
        family_id: Set(None),
        machine: Set(true),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The token if it is known, unexpired and unrevoked.
pub async fn find_active<C: ConnectionTrait>(db: &C, token: &str) -> Result<Option<AccessTokenRow>, DbErr> {
    let row = access_token::Entity::find_by_id(hash_secret(token)).one(db).await?;
    Ok(row.filter(|r| r.revoked_at.is_none() && r.expires_at > now()))
}

/// The token if it is known, unexpired and unrevoked, with its user (one query).
pub async fn find_active_with_user<C: ConnectionTrait>(
    db: &C,
    token: &str,
) -> Result<Option<(AccessTokenRow, Option<super::users::User>)>, DbErr> {
    let row = access_token::Entity::find_by_id(hash_secret(token))
        .find_also_related(super::entities::user::Entity)
        .one(db)
        .await?;
    Ok(row.filter(|(r, _)| r.revoked_at.is_none() && r.expires_at > now()))
}

/// The token's row whatever its state (revocation needs to see revoked ones too).
pub async fn find<C: ConnectionTrait>(db: &C, token: &str) -> Result<Option<AccessTokenRow>, DbErr> {
    access_token::Entity::find_by_id(hash_secret(token)).one(db).await
}

/// Revokes one access token.
pub async fn revoke<C: ConnectionTrait>(db: &C, token_hash: &str) -> Result<(), DbErr> {
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now()))
        .filter(access_token::Column::TokenHash.eq(token_hash))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The refresh families started by redeeming a code.
pub async fn families_of_code<C: ConnectionTrait>(db: &C, code_hash: &str) -> Result<Vec<String>, DbErr> {
    Ok(access_token::Entity::find()
        .filter(access_token::Column::CodeHash.eq(code_hash))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|r| r.family_id)
        .collect())
}

/// Revokes every token redeemed from a code (called when the code is replayed).
pub async fn revoke_by_code<C: ConnectionTrait>(db: &C, code_hash: &str) -> Result<u64, DbErr> {
    let res = access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now()))
        .filter(access_token::Column::CodeHash.eq(code_hash))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Deletes tokens that expired a day ago or more.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = access_token::Entity::delete_many()
        .filter(access_token::Column::ExpiresAt.lt(now() - 86_400))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
