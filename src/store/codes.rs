//! Authorization codes: opaque, stored by hash, single-use, short-lived.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, JoinType,
    QueryFilter, QuerySelect, QueryTrait, SelectA, SelectB, Set,
};

use super::entities::{authorization_code, user};
use super::{hash_secret, now, random_token};

pub use authorization_code::Model as CodeRow;

/// Everything a code is bound to.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub sid: String,
    pub idp: Option<String>,
}

/// What presenting a code came to.
#[derive(Debug)]
pub enum Redemption {
    /// First use: the code's bindings, now consumed.
    Fresh(CodeRow),
    /// Already used before: a replay.
    Replayed(CodeRow),
    /// Past its lifetime (and now consumed).
    Expired,
    /// No such code.
    Unknown,
    /// Issued to another client, which can neither redeem nor burn it.
    OtherClient,
}

/// Issues a code; returns the plaintext once.
pub async fn issue<C: ConnectionTrait>(db: &C, new: NewCode, ttl: u64) -> Result<String, DbErr> {
    let code = random_token();
    authorization_code::ActiveModel {
        code_hash: Set(hash_secret(&code)),
        client_id: Set(new.client_id),
        user_id: Set(new.user_id),
        redirect_uri: Set(new.redirect_uri),
        scope: Set(new.scope),
        nonce: Set(new.nonce),
        code_challenge: Set(new.code_challenge),
        auth_time: Set(new.auth_time),
        amr: Set(serde_json::to_string(&new.amr).unwrap_or_else(|_| "[]".into())),
        sid: Set(new.sid),
        idp: Set(new.idp),
        expires_at: Set(now() + ttl as i64),
        consumed_at: Set(None),
        replayed_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(code)
}

/// Consumes `code` for `client_id` atomically: exactly one caller ever gets `Fresh`. The first
/// use is one statement (UPDATE … RETURNING); only a failed one reads the row to say why.
pub async fn redeem<C: ConnectionTrait>(db: &C, code: &str, client_id: &str) -> Result<Redemption, DbErr> {
    let code_hash = hash_secret(code);
    let t = now();
    let consumed = authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::ConsumedAt, Expr::value(t))
        .filter(authorization_code::Column::CodeHash.eq(code_hash.clone()))
        // Binding first, so another client can neither redeem nor burn this code.
        .filter(authorization_code::Column::ClientId.eq(client_id))
        .filter(authorization_code::Column::ConsumedAt.is_null())
        .exec_with_returning(db)
        .await?;
    if let Some(row) = consumed.into_iter().next() {
        return Ok(match row.expires_at <= t {
            true => Redemption::Expired,
            false => Redemption::Fresh(row),
        });
    }
    Ok(match authorization_code::Entity::find_by_id(code_hash).one(db).await? {
        None => Redemption::Unknown,
        Some(row) if row.client_id != client_id => Redemption::OtherClient,
        Some(row) => Redemption::Replayed(row),
    })
}

/// Remembers that the code was presented again after its first use.
pub async fn mark_replayed<C: ConnectionTrait>(db: &C, code_hash: &str) -> Result<(), DbErr> {
    authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::ReplayedAt, Expr::value(now()))
        .filter(authorization_code::Column::CodeHash.eq(code_hash))
        .exec(db)
        .await?;
    Ok(())
}

/// What the token endpoint reads once a redemption's tokens are stored.
#[derive(Debug)]
pub struct AfterRedemption {
    /// The code's user, if still there.
    pub user: Option<super::users::User>,
    /// The code was presented again meanwhile (a replay then found nothing to revoke yet).
    pub replayed: bool,
    /// For a brokered sign-in: the user is still linked to the code's provider.
    pub still_linked: bool,
}

/// Read once a redemption's tokens are stored, in one statement: the code's user, whether the
/// code was replayed meanwhile, and whether a brokered sign-in's link still stands.
pub async fn user_after_redemption<C: ConnectionTrait>(db: &C, code_hash: &str) -> Result<AfterRedemption, DbErr> {
    let to_user = authorization_code::Entity::belongs_to(user::Entity)
        .from(authorization_code::Column::UserId)
        .to(user::Column::Id)
        .into();
    let query = authorization_code::Entity::find_by_id(code_hash.to_owned())
        .select_also(user::Entity)
        .join(JoinType::LeftJoin, to_user)
        .expr_as(
            super::federated::link_exists(
                Expr::col((authorization_code::Entity, authorization_code::Column::UserId)).into(),
                Expr::col((authorization_code::Entity, authorization_code::Column::Idp)).into(),
            ),
            "still_linked",
        )
        .build(db.get_database_backend());
    let Some(found) = db.query_one(query).await? else {
        return Ok(AfterRedemption {
            user: None,
            replayed: false,
            still_linked: false,
        });
    };
    let code = authorization_code::Model::from_query_result(&found, SelectA.as_str())?;
    Ok(AfterRedemption {
        user: user::Model::from_query_result_optional(&found, SelectB.as_str())?,
        replayed: code.replayed_at.is_some(),
        still_linked: found.try_get("", "still_linked")?,
    })
}

/// Deletes codes that expired an hour ago or more (kept that long to detect replays).
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = authorization_code::Entity::delete_many()
        .filter(authorization_code::Column::ExpiresAt.lt(now() - 3600))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn code_for(db: &sea_orm::DatabaseConnection, user_id: &str, idp: Option<&str>) -> String {
        let new = NewCode {
            client_id: "app".into(),
            user_id: user_id.into(),
            redirect_uri: "https://app.example/cb".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: None,
            auth_time: 0,
            amr: vec!["fed".into()],
            sid: "sid".into(),
            idp: idp.map(str::to_owned),
        };
        hash_secret(&issue(db, new, 60).await.unwrap())
    }

    #[tokio::test]
    async fn the_read_after_redemption_says_whether_the_brokered_link_still_stands() {
        let db = crate::store::memory_db().await;
        let user = crate::store::users::create_sample(&db, "alice").await;
        crate::store::federated::link(&db, "corp", "sub-1", &user.id, &serde_json::json!({}))
            .await
            .unwrap();

        let linked = user_after_redemption(&db, &code_for(&db, &user.id, Some("corp")).await)
            .await
            .unwrap();
        assert_eq!(linked.user.map(|u| u.id), Some(user.id.clone()));
        assert!(linked.still_linked && !linked.replayed);

        let other = user_after_redemption(&db, &code_for(&db, &user.id, Some("social")).await)
            .await
            .unwrap();
        assert!(!other.still_linked, "no link to that provider");

        let local = user_after_redemption(&db, &code_for(&db, &user.id, None).await)
            .await
            .unwrap();
        assert!(!local.still_linked && local.user.is_some());

        let gone = user_after_redemption(&db, "no-such-code").await.unwrap();
        assert!(gone.user.is_none() && !gone.replayed);
    }
}
