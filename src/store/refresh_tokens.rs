//! Refresh tokens: opaque, stored by hash, rotated at every use; a reused token burns its family.
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::{access_token, refresh_token};
use super::{hash_secret, now, random_token};

pub use refresh_token::Model as RefreshRow;

/// What a refresh token carries forward from the original sign-in.
#[derive(Debug, Clone)]
pub struct NewRefresh {
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub sid: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub idp: Option<String>,
    pub offline: bool,
}

/// The family a new token joins: a fresh grant starts one.
#[derive(Debug, Clone)]
pub struct Family {
    pub id: String,
    pub expires_at: i64,
}

impl Family {
    /// A new family ending `absolute_secs` from now.
    pub fn start(absolute_secs: i64) -> Self {
        Family {
            id: random_token()[..22].to_string(),
            expires_at: now() + absolute_secs,
        }
    }
}

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Rotation {
    /// First use: the row, now marked rotated.
    Fresh(RefreshRow),
    /// Already rotated before: a replay (the family must be revoked).
    Reused(RefreshRow),
    Expired,
    Revoked,
}

/// Issues a token in `family`, valid for `sliding_secs` but never past the family's end.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    new: NewRefresh,
    family: &Family,
    sliding_secs: i64,
) -> Result<String, DbErr> {
    let token = random_token();
    let t = now();
    refresh_token::ActiveModel {
        token_hash: Set(hash_secret(&token)),
        family_id: Set(family.id.clone()),
        client_id: Set(new.client_id),
        user_id: Set(new.user_id),
        scope: Set(new.scope),
        sid: Set(new.sid),
        auth_time: Set(new.auth_time),
        amr: Set(serde_json::to_string(&new.amr).unwrap_or_else(|_| "[]".into())),
        idp: Set(new.idp),
        offline: Set(new.offline),
        created_at: Set(t),
        expires_at: Set((t + sliding_secs).min(family.expires_at)),
        family_expires_at: Set(family.expires_at),
        rotated_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The token's row, whatever its state.
pub async fn find<C: ConnectionTrait>(db: &C, token: &str) -> Result<Option<RefreshRow>, DbErr> {
    refresh_token::Entity::find_by_id(hash_secret(token)).one(db).await
}

/// Whether the token can still be used (for introspection).
pub fn is_active(row: &RefreshRow) -> bool {
    row.rotated_at.is_none() && row.revoked_at.is_none() && row.expires_at > now()
}

/// Marks the token used, atomically: exactly one caller gets `Fresh`.
pub async fn rotate<C: ConnectionTrait>(db: &C, row: RefreshRow) -> Result<Rotation, DbErr> {
    if row.revoked_at.is_some() {
        return Ok(Rotation::Revoked);
    }
    if row.rotated_at.is_some() {
        return Ok(Rotation::Reused(row));
    }
    if row.expires_at <= now() {
        return Ok(Rotation::Expired);
    }
    let res = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now()))
        .filter(refresh_token::Column::TokenHash.eq(row.token_hash.clone()))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(if res.rows_affected == 1 {
        Rotation::Fresh(row)
    } else {
        Rotation::Reused(row)
    })
}

/// Revokes every refresh token of a family and the access tokens issued from it.
pub async fn revoke_family<C: ConnectionTrait>(db: &C, family_id: &str) -> Result<u64, DbErr> {
    let t = now();
    let refresh = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(t))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(t))
        .filter(access_token::Column::FamilyId.eq(family_id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(refresh.rows_affected)
}

/// At the end of a browser session: revokes its non-offline refresh tokens.
pub async fn revoke_session<C: ConnectionTrait>(db: &C, sid: &str) -> Result<u64, DbErr> {
    let families: Vec<String> = refresh_token::Entity::find()
        .filter(refresh_token::Column::Sid.eq(sid))
        .filter(refresh_token::Column::Offline.eq(false))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.family_id)
        .collect();
    let mut n = 0;
    for f in families {
        n += revoke_family(db, &f).await?;
    }
    Ok(n)
}

/// Deletes tokens whose family ended a day ago or more.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::FamilyExpiresAt.lt(now() - 86_400))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
