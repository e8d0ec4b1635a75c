//! Second factors: the TOTP secret per user (sealed by `mfa::crypto`) and recovery codes
//! (hashed). Single use is enforced here, by conditional updates that only one caller can win.
use sea_orm::sea_query::{Expr, OnConflict, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::entities::{passkey, recovery_code, totp_factor};

pub use totp_factor::Model as TotpFactor;

/// The user's TOTP factor, confirmed or not.
pub async fn totp<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Option<TotpFactor>, DbErr> {
    totp_factor::Entity::find_by_id(user_id.to_owned()).one(db).await
}

/// SQL saying whether the user `user_id` (a value, or a column of an enclosing query) has a
/// confirmed app or a passkey.
pub fn second_factor_exists(user_id: SimpleExpr) -> SimpleExpr {
    let app = Query::select()
        .expr(Expr::val(1))
        .from(totp_factor::Entity)
        .and_where(Expr::col((totp_factor::Entity, totp_factor::Column::UserId)).eq(user_id.clone()))
        .and_where(Expr::col((totp_factor::Entity, totp_factor::Column::ConfirmedAt)).is_not_null())
        .to_owned();
    let key = Query::select()
        .expr(Expr::val(1))
        .from(passkey::Entity)
        .and_where(Expr::col((passkey::Entity, passkey::Column::UserId)).eq(user_id))
        .to_owned();
    Expr::exists(app).or(Expr::exists(key))
}

/// Stores a new, unconfirmed secret for the user, replacing an unconfirmed one; `false` (and
/// nothing changed) when the user already has a confirmed factor.
pub async fn put_unconfirmed_totp<C: ConnectionTrait>(
    db: &C,
    user_id: &str,
    secret_enc: String,
    now: i64,
) -> Result<bool, DbErr> {
    totp_factor::Entity::delete_many()
        .filter(totp_factor::Column::UserId.eq(user_id))
        .filter(totp_factor::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    let row = totp_factor::ActiveModel {
        user_id: Set(user_id.to_owned()),
        secret_enc: Set(secret_enc),
        created_at: Set(now),
        confirmed_at: Set(None),
        last_step: Set(None),
    };
    let res = totp_factor::Entity::insert(row)
        .on_conflict(OnConflict::column(totp_factor::Column::UserId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(res == 1)
}

/// Records that the code of time step `step` was accepted (confirming the factor if needed);
/// `false` when that step, or a later one, was already used: the code is a replay.
pub async fn use_step<C: ConnectionTrait>(db: &C, user_id: &str, step: i64, now: i64) -> Result<bool, DbErr> {
    let res = totp_factor::Entity::update_many()
        .col_expr(totp_factor::Column::LastStep, Expr::value(step))
        .col_expr(
            totp_factor::Column::ConfirmedAt,
            Expr::col(totp_factor::Column::ConfirmedAt).if_null(now),
        )
        .filter(totp_factor::Column::UserId.eq(user_id))
        .filter(
            totp_factor::Column::LastStep
                .is_null()
                .or(totp_factor::Column::LastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Removes the user's TOTP factor and recovery codes.
pub async fn remove_all<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<(), DbErr> {
    totp_factor::Entity::delete_by_id(user_id.to_owned()).exec(db).await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the user's recovery codes with these hashes.
pub async fn replace_recovery_codes<C: ConnectionTrait>(
    db: &C,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), DbErr> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    for h in hashes {
        recovery_code::ActiveModel {
            code_hash: Set(h.clone()),
            user_id: Set(user_id.to_owned()),
            created_at: Set(now),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Spends the user's unused recovery code with this hash; `false` when there is none.
pub async fn use_recovery_code<C: ConnectionTrait>(db: &C, user_id: &str, hash: &str, now: i64) -> Result<bool, DbErr> {
    let res = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .filter(recovery_code::Column::CodeHash.eq(hash))
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// How many unused recovery codes the user has left.
pub async fn recovery_codes_left<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<u64, DbErr> {
    recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{login_sessions, passkeys, users};

    async fn account(db: &sea_orm::DatabaseConnection, name: &str) -> String {
        users::create_sample(db, name).await.id
    }

    #[tokio::test]
    async fn only_a_confirmed_app_or_a_passkey_is_a_second_factor() {
        let db = crate::store::memory_db().await;
        let (app, key) = (account(&db, "ada").await, account(&db, "bob").await);
        // Asked the way authorize asks: with the live sign-in session's user.
        let has_second_factor = |db: &sea_orm::DatabaseConnection, user_id: &str| {
            let (db, sid) = (db.clone(), format!("sid-{user_id}"));
            let user_id = user_id.to_owned();
            async move {
                if login_sessions::live_user(&db, &sid).await?.is_none() {
                    login_sessions::record(&db, &sid, &user_id, &["pwd".into()], None).await?;
                }
                let live = login_sessions::live_user(&db, &sid).await?;
                Ok::<_, DbErr>(live.expect("a live session").second_factor)
            }
        };
        assert!(!has_second_factor(&db, &app).await.unwrap(), "nothing set up");
        assert!(put_unconfirmed_totp(&db, &app, "sealed".into(), 0).await.unwrap());
        assert!(!has_second_factor(&db, &app).await.unwrap(), "an app not yet confirmed");
        assert!(use_step(&db, &app, 1, 0).await.unwrap());
        assert!(has_second_factor(&db, &app).await.unwrap(), "a confirmed app");
        let passkey = passkeys::NewPasskey {
            credential_id: "cred-1",
            user_id: &key,
            user_handle: "handle",
            name: "Phone",
            passkey_json: "{}".into(),
        };
        assert!(passkeys::insert(&db, passkey, 0).await.unwrap());
        assert!(has_second_factor(&db, &key).await.unwrap(), "a passkey");
        let other = account(&db, "cy").await;
        assert!(!has_second_factor(&db, &other).await.unwrap(), "someone else's factors");
    }
}
