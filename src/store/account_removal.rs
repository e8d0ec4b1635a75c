//! Everything stored about one person, removed together (the account page's "Delete my
//! account"). Run it inside a transaction: a crash leaves all of it or none.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::{
    access_token, authorization_code, consent_grant, email_token, federated_identity, login_session, passkey,
    refresh_token, session_client, user,
};
use super::{mfa, now};

/// Takes the account's row lock (PostgreSQL) or the database's write lock (SQLite) for the rest
/// of the transaction, so checks that read the account's sign-in methods see no concurrent
/// change; `false` when the account does not exist.
pub async fn lock_account<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<bool, DbErr> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Deletes the account and every row that belongs to it: its links to external identities,
/// sign-in sessions and the clients they touched, codes, access and refresh tokens, grants, mailed links,
/// passkeys and second factors. `false` when the account was already gone.
pub async fn remove_account<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<bool, DbErr> {
    macro_rules! delete_where_user {
        ($entity:ident) => {
            $entity::Entity::delete_many()
                .filter($entity::Column::UserId.eq(user_id))
                .exec(db)
                .await?;
        };
    }
    delete_where_user!(federated_identity);
    delete_where_user!(session_client);
    delete_where_user!(login_session);
    delete_where_user!(authorization_code);
    delete_where_user!(refresh_token);
    delete_where_user!(access_token);
    delete_where_user!(consent_grant);
    delete_where_user!(email_token);
    delete_where_user!(passkey);
    mfa::remove_all(db, user_id).await?;
    let res = user::Entity::delete_by_id(user_id.to_owned()).exec(db).await?;
    Ok(res.rows_affected == 1)
}
