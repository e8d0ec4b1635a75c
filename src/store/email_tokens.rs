//! Links sent by mail: a random token in the link, its SHA-256 in the database; single-use
//! (consumed by one conditional UPDATE) and expiring.
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::email_token;
use super::{hash_secret, now, random_token};

pub use email_token::Model as EmailToken;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves that the person reads mail at an address (after registration or a change).
    VerifyEmail,
    /// Sets a new password without the old one.
    ResetPassword,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

/// Issues a token for `user_id` and `email`, valid `ttl_secs`; any earlier unused token of the
/// same purpose for the user stops working (only the newest link counts). Returns the token.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    purpose: Purpose,
    user_id: &str,
    email: &str,
    ttl_secs: i64,
) -> Result<String, DbErr> {
    forget(db, purpose, user_id).await?;
    let token = random_token();
    let t = now();
    email_token::ActiveModel {
        token_hash: Set(hash_secret(&token)),
        purpose: Set(purpose.as_str().into()),
        user_id: Set(user_id.into()),
        email: Set(email.into()),
        created_at: Set(t),
        expires_at: Set(t + ttl_secs),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The token's row when it is of `purpose`, unused and unexpired.
pub async fn usable<C: ConnectionTrait>(db: &C, purpose: Purpose, token: &str) -> Result<Option<EmailToken>, DbErr> {
    let t = now();
    Ok(email_token::Entity::find_by_id(hash_secret(token))
        .one(db)
        .await?
        .filter(|row| row.purpose == purpose.as_str() && row.used_at.is_none() && row.expires_at > t))
}

/// Uses the token: its row when this call was the one that used it (unused, unexpired, of
/// `purpose`); `None` for every later or concurrent use.
pub async fn consume<C: ConnectionTrait>(db: &C, purpose: Purpose, token: &str) -> Result<Option<EmailToken>, DbErr> {
    let Some(row) = usable(db, purpose, token).await? else {
        return Ok(None);
    };
    let t = now();
    let res = email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(t))
        .filter(email_token::Column::TokenHash.eq(row.token_hash.clone()))
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::ExpiresAt.gt(t))
        .exec(db)
        .await?;
    Ok((res.rows_affected == 1).then_some(row))
}

/// Ends every unused token of `purpose` for the user.
pub async fn forget<C: ConnectionTrait>(db: &C, purpose: Purpose, user_id: &str) -> Result<u64, DbErr> {
    let res = email_token::Entity::delete_many()
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::Purpose.eq(purpose.as_str()))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Deletes tokens that expired a day ago or more.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = email_token::Entity::delete_many()
        .filter(email_token::Column::ExpiresAt.lt(now() - 86_400))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// The newest unused, unexpired token of `purpose` for the user.
pub async fn pending_for<C: ConnectionTrait>(
    db: &C,
    purpose: Purpose,
    user_id: &str,
) -> Result<Option<EmailToken>, DbErr> {
    use sea_orm::QueryOrder;
    email_token::Entity::find()
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::Purpose.eq(purpose.as_str()))
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::ExpiresAt.gt(now()))
        .order_by_desc(email_token::Column::CreatedAt)
        .one(db)
        .await
}
