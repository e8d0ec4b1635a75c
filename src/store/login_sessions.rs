//! Sign-in sessions by `sid`: recorded at sign-in, refused once ended (on every node).
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, SelectA, SelectB, Set,
};

use super::entities::{login_session, user};
use super::now;

pub use login_session::Model as LoginSessionRow;

/// Records a new sign-in.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    sid: &str,
    user_id: &str,
    amr: &[String],
    idp: Option<&str>,
) -> Result<(), DbErr> {
    let t = now();
    login_session::ActiveModel {
        sid: Set(sid.to_owned()),
        user_id: Set(user_id.to_owned()),
        amr: Set(serde_json::to_string(amr).unwrap_or_else(|_| "[]".into())),
        idp: Set(idp.map(str::to_owned)),
        created_at: Set(t),
        last_seen_at: Set(t),
        ended_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Whether the session is still live; notes the activity when it is.
pub async fn touch<C: ConnectionTrait>(db: &C, sid: &str) -> Result<bool, DbErr> {
    let res = login_session::Entity::update_many()
        .col_expr(login_session::Column::LastSeenAt, Expr::value(now()))
        .filter(login_session::Column::Sid.eq(sid))
        .filter(login_session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A live sign-in session's user.
#[derive(Debug, Clone)]
pub struct LiveUser {
    pub user: super::users::User,
    /// The user has a second factor to be asked for (a confirmed app or a passkey).
    pub second_factor: bool,
}

/// The session's user when the session is still live, and whether they have a second factor,
/// in one query (every authorize with a session asks it); notes activity at most once a minute.
pub async fn live_user<C: ConnectionTrait>(db: &C, sid: &str) -> Result<Option<LiveUser>, DbErr> {
    let query = login_session::Entity::find_by_id(sid.to_owned())
        .find_also_related(user::Entity)
        .expr_as(
            super::mfa::second_factor_exists(Expr::col((user::Entity, user::Column::Id)).into()),
            "second_factor",
        )
        .build(db.get_database_backend());
    let Some(found) = db.query_one(query).await? else {
        return Ok(None);
    };
    let row = login_session::Model::from_query_result(&found, SelectA.as_str())?;
    let user = user::Model::from_query_result_optional(&found, SelectB.as_str())?;
    match user {
        Some(user) if row.ended_at.is_none() => {
            if now() - row.last_seen_at >= 60 {
                touch(db, sid).await?;
            }
            let second_factor = found.try_get("", "second_factor")?;
            Ok(Some(LiveUser { user, second_factor }))
        }
        _ => Ok(None),
    }
}

/// Ends a session; `false` when it was not live.
pub async fn end<C: ConnectionTrait>(db: &C, sid: &str) -> Result<bool, DbErr> {
    let res = login_session::Entity::update_many()
        .col_expr(login_session::Column::EndedAt, Expr::value(now()))
        .filter(login_session::Column::Sid.eq(sid))
        .filter(login_session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The user's live sessions (not ended, not idle or too old), newest first.
pub async fn live_for_user<C: ConnectionTrait>(
    db: &C,
    user_id: &str,
    idle: i64,
    absolute: i64,
) -> Result<Vec<LoginSessionRow>, DbErr> {
    let t = now();
    login_session::Entity::find()
        .filter(login_session::Column::UserId.eq(user_id))
        .filter(login_session::Column::EndedAt.is_null())
        .filter(login_session::Column::LastSeenAt.gt(t - idle))
        .filter(login_session::Column::CreatedAt.gt(t - absolute))
        .order_by_desc(login_session::Column::CreatedAt)
        .all(db)
        .await
}

/// The session with this sid.
pub async fn find<C: ConnectionTrait>(db: &C, sid: &str) -> Result<Option<LoginSessionRow>, DbErr> {
    login_session::Entity::find_by_id(sid.to_owned()).one(db).await
}

/// Deletes sessions that ended or went stale more than a week ago.
pub async fn purge<C: ConnectionTrait>(db: &C, absolute: i64) -> Result<u64, DbErr> {
    let cutoff = now() - absolute - 7 * 86_400;
    Ok(login_session::Entity::delete_many()
        .filter(login_session::Column::LastSeenAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

/// Replaces the recorded methods of a live session (a second factor proven after sign-in).
pub async fn set_amr<C: ConnectionTrait>(db: &C, sid: &str, amr: &[String]) -> Result<(), DbErr> {
    login_session::Entity::update_many()
        .col_expr(
            login_session::Column::Amr,
            Expr::value(serde_json::to_string(amr).unwrap_or_else(|_| "[]".into())),
        )
        .filter(login_session::Column::Sid.eq(sid))
        .exec(db)
        .await?;
    Ok(())
}
