//! Federated identities: (provider, external subject) → local user.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter, QuerySelect, Set,
};

use super::entities::{federated_identity, user};
use super::now;

pub use federated_identity::Model as FederatedIdentity;

/// The link for this external identity, if any.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    subject: &str,
) -> Result<Option<FederatedIdentity>, DbErr> {
    federated_identity::Entity::find_by_id((provider.to_owned(), subject.to_owned()))
        .one(db)
        .await
}

/// The link for this external identity with its user (`None` when the user is gone), in one
/// query: a returning login asks this first.
pub async fn find_with_user<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    subject: &str,
) -> Result<Option<(FederatedIdentity, Option<super::users::User>)>, DbErr> {
    let to_user = federated_identity::Entity::belongs_to(user::Entity)
        .from(federated_identity::Column::UserId)
        .to(user::Column::Id)
        .into();
    federated_identity::Entity::find_by_id((provider.to_owned(), subject.to_owned()))
        .select_also(user::Entity)
        .join(JoinType::LeftJoin, to_user)
        .one(db)
        .await
}

/// Every external identity linked to a user.
pub async fn for_user<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Vec<FederatedIdentity>, DbErr> {
    federated_identity::Entity::find()
        .filter(federated_identity::Column::UserId.eq(user_id))
        .all(db)
        .await
}

/// `EXISTS` a link of the user `user_id` names to the provider `provider` names, as a column
/// of a larger query (one statement where a grant is checked).
pub fn link_exists(
    user_id: sea_orm::sea_query::SimpleExpr,
    provider: sea_orm::sea_query::SimpleExpr,
) -> sea_orm::sea_query::SimpleExpr {
    let link = sea_orm::sea_query::Query::select()
        .expr(Expr::val(1))
        .from(federated_identity::Entity)
        .and_where(Expr::col((federated_identity::Entity, federated_identity::Column::UserId)).eq(user_id))
        .and_where(Expr::col((federated_identity::Entity, federated_identity::Column::ProviderId)).eq(provider))
        .to_owned();
    Expr::exists(link)
}

/// Links an external identity to a user (fails if it is already linked).
pub async fn link<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    subject: &str,
    user_id: &str,
    claims: &serde_json::Value,
) -> Result<FederatedIdentity, DbErr> {
    let t = now();
    federated_identity::ActiveModel {
        provider_id: Set(provider.to_owned()),
        subject: Set(subject.to_owned()),
        user_id: Set(user_id.to_owned()),
        linked_at: Set(t),
        last_login_at: Set(t),
        last_claims: Set(claims.to_string()),
    }
    .insert(db)
    .await
}

/// Records a returning login and the claims it brought; `false` when there is no such link
/// (any more).
pub async fn touch<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    subject: &str,
    claims: &serde_json::Value,
) -> Result<bool, DbErr> {
    let res = federated_identity::Entity::update_many()
        .col_expr(federated_identity::Column::LastLoginAt, Expr::value(now()))
        .col_expr(federated_identity::Column::LastClaims, Expr::value(claims.to_string()))
        .filter(federated_identity::Column::ProviderId.eq(provider))
        .filter(federated_identity::Column::Subject.eq(subject))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Removes the link of `user_id` to this external identity; `false` when it was not theirs.
pub async fn unlink<C: ConnectionTrait>(db: &C, provider: &str, subject: &str, user_id: &str) -> Result<bool, DbErr> {
    let res = federated_identity::Entity::delete_many()
        .filter(federated_identity::Column::ProviderId.eq(provider))
        .filter(federated_identity::Column::Subject.eq(subject))
        .filter(federated_identity::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
