//! Refresh tokens: opaque, stored by hash, rotated at every use; a reused token burns its family,
//! except for one retry shortly after the rotation, which gets the same successor again.
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
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

/// Where a presented refresh token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Never used, unexpired, unrevoked.
    Usable,
    /// Exchanged before: a retry or a replay.
    Rotated,
    Expired,
    Revoked,
}

/// Where `row` stands now.
pub fn standing(row: &RefreshRow) -> Standing {
    if row.revoked_at.is_some() {
        Standing::Revoked
    } else if row.rotated_at.is_some() {
        Standing::Rotated
    } else if row.expires_at <= now() {
        Standing::Expired
    } else {
        Standing::Usable
    }
}

/// What rotating a usable token came to.
#[derive(Debug)]
pub enum Rotation {
    /// This call rotated it: the successor token, stored in the same transaction.
    Fresh(String),
    /// A concurrent presentation rotated it first: the row as it is now.
    Lost(Box<RefreshRow>),
}

/// The successor of `presented` for `seed`: HMAC-SHA-256 keyed with the presented token. Only
/// the holder of that token can derive it again, so the database keeps hashes and seeds and
/// never a usable token, yet a retry can be answered with the very same successor.
pub fn successor_of(presented: &str, seed: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, presented.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac::sign(&key, seed.as_bytes()))
}

/// Issues a token in `family`, valid for `sliding_secs` but never past the family's end.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    new: NewRefresh,
    family: &Family,
    sliding_secs: i64,
) -> Result<String, DbErr> {
    let token = random_token();
    insert(db, &token, new, family, sliding_secs).await?;
    Ok(token)
}

async fn insert<C: ConnectionTrait>(
    db: &C,
    token: &str,
    new: NewRefresh,
    family: &Family,
    sliding_secs: i64,
) -> Result<(), DbErr> {
    let t = now();
    refresh_token::ActiveModel {
        token_hash: Set(hash_secret(token)),
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
        successor_seed: Set(None),
        retried_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The token's row, whatever its state.
pub async fn find<C: ConnectionTrait>(db: &C, token: &str) -> Result<Option<RefreshRow>, DbErr> {
    refresh_token::Entity::find_by_id(hash_secret(token)).one(db).await
}

/// The stored token with its user (one query), whatever its standing.
pub async fn find_with_user<C: ConnectionTrait>(
    db: &C,
    token: &str,
) -> Result<Option<(RefreshRow, Option<super::users::User>)>, DbErr> {
    refresh_token::Entity::find_by_id(hash_secret(token))
        .find_also_related(super::entities::user::Entity)
        .one(db)
        .await
}

/// Whether the token can still be used (for introspection).
pub fn is_active(row: &RefreshRow) -> bool {
    row.rotated_at.is_none() && row.revoked_at.is_none() && row.expires_at > now()
}

/// Rotates the usable token `row` (presented as `presented`) and stores its successor. Exactly
/// one concurrent caller gets `Fresh`.
///
/// No transaction (two statements, not four): the successor is stored first and the old token
/// then claimed by a conditional update, the one point concurrent callers and a family's
/// revocation meet. A caller that loses the claim deletes its successor; a crash between the
/// two leaves a successor that nobody holds (it was never handed out, and the old token names
/// no seed to derive it), which the expiry purge removes.
pub async fn rotate<C: ConnectionTrait>(
    db: &C,
    row: &RefreshRow,
    presented: &str,
    successor: NewRefresh,
    family: &Family,
    sliding_secs: i64,
) -> Result<Rotation, DbErr> {
    let seed = random_token();
    let next = successor_of(presented, &seed);
    insert(db, &next, successor, family, sliding_secs).await?;
    let res = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now()))
        .col_expr(refresh_token::Column::SuccessorSeed, Expr::value(seed))
        .filter(refresh_token::Column::TokenHash.eq(row.token_hash.clone()))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(Rotation::Fresh(next));
    }
    refresh_token::Entity::delete_by_id(hash_secret(&next)).exec(db).await?;
    let current = refresh_token::Entity::find_by_id(row.token_hash.clone())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("refresh token".into()))?;
    Ok(Rotation::Lost(Box::new(current)))
}

/// The successor handed out when `row` was rotated, with its row, if presenting `row` again now
/// may be the one retry: within `window_secs` of the rotation, no retry answered yet, and the
/// successor itself still unused. `None` means a replay.
pub async fn retry_candidate<C: ConnectionTrait>(
    db: &C,
    row: &RefreshRow,
    presented: &str,
    window_secs: i64,
) -> Result<Option<(String, RefreshRow)>, DbErr> {
    let (Some(rotated_at), Some(seed)) = (row.rotated_at, row.successor_seed.as_deref()) else {
        return Ok(None);
    };
    if row.revoked_at.is_some() || row.retried_at.is_some() || now() >= rotated_at + window_secs {
        return Ok(None);
    }
    let next = successor_of(presented, seed);
    Ok(find(db, &next).await?.and_then(|successor| {
        (standing(&successor) == Standing::Usable
            && successor.family_id == row.family_id
            && successor.client_id == row.client_id)
            .then_some((next, successor))
    }))
}

/// Records that the one retry of `row` is being answered; `false` when another retry was first
/// or the window has closed meanwhile (then it is a replay).
pub async fn claim_retry<C: ConnectionTrait>(db: &C, row: &RefreshRow, window_secs: i64) -> Result<bool, DbErr> {
    let t = now();
    let res = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RetriedAt, Expr::value(t))
        .filter(refresh_token::Column::TokenHash.eq(row.token_hash.clone()))
        .filter(refresh_token::Column::RetriedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::RotatedAt.gt(t - window_secs))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
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

/// The user's usable refresh tokens, whatever the client (an application holding one still has
/// access).
pub async fn usable_for_user<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Vec<RefreshRow>, DbErr> {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(now()))
        .all(db)
        .await
}

/// Revokes every refresh token the user's grants gave the client, and the access tokens the
/// client holds for the user.
pub async fn revoke_client_access<C: ConnectionTrait>(db: &C, user_id: &str, client_id: &str) -> Result<u64, DbErr> {
    let t = now();
    let refresh = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(t))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::ClientId.eq(client_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(t))
        .filter(access_token::Column::UserId.eq(user_id))
        .filter(access_token::Column::ClientId.eq(client_id))
        .filter(access_token::Column::Machine.eq(false))
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

/// Revokes every refresh-token family of a user (offline ones too), except those of the
/// browser session `keep_sid`; returns how many tokens were revoked.
pub async fn revoke_user<C: ConnectionTrait>(db: &C, user_id: &str, keep_sid: Option<&str>) -> Result<u64, DbErr> {
    let mut families: Vec<String> = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .filter(|r| Some(r.sid.as_str()) != keep_sid)
        .map(|r| r.family_id)
        .collect();
    families.sort();
    families.dedup();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_is_the_same_for_the_same_token_and_seed_and_differs_otherwise() {
        let (token, seed) = (random_token(), random_token());
        let next = successor_of(&token, &seed);
        assert_eq!(next, successor_of(&token, &seed));
        assert_eq!(next.len(), 43, "as long as a random token");
        assert_ne!(next, successor_of(&random_token(), &seed));
        assert_ne!(next, successor_of(&token, &random_token()));
        assert_ne!(next, token);
    }

    fn grant(user_id: &str) -> NewRefresh {
        NewRefresh {
            client_id: "app".into(),
            user_id: user_id.into(),
            scope: "openid offline_access".into(),
            sid: "sid-1".into(),
            auth_time: now(),
            amr: vec!["pwd".into()],
            idp: None,
            offline: true,
        }
    }

    #[tokio::test]
    async fn of_two_rotations_of_one_token_one_wins_and_the_loser_leaves_no_successor() {
        let db = crate::store::memory_db().await;
        let user = crate::store::users::create_sample(&db, "ada").await;
        let family = Family::start(3600);
        let token = issue(&db, grant(&user.id), &family, 600).await.unwrap();
        let row = find(&db, &token).await.unwrap().unwrap();
        let first = rotate(&db, &row, &token, grant(&user.id), &family, 600).await.unwrap();
        let second = rotate(&db, &row, &token, grant(&user.id), &family, 600).await.unwrap();
        let Rotation::Fresh(next) = first else {
            panic!("the first rotation wins")
        };
        let Rotation::Lost(current) = second else {
            panic!("the second rotation loses")
        };
        assert!(current.rotated_at.is_some() && current.successor_seed.is_some());
        let family_rows = refresh_token::Entity::find()
            .filter(refresh_token::Column::FamilyId.eq(family.id.clone()))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(
            family_rows.len(),
            2,
            "the token and the winner's successor, nothing else"
        );
        assert!(is_active(&find(&db, &next).await.unwrap().unwrap()));
    }
}
