//! An issued opaque access token (stored by hash only).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    /// The code this token was redeemed from, so a replayed code can revoke it.
    pub code_hash: Option<String>,
    pub sid: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The refresh-token family this token was issued from, if any.
    pub family_id: Option<String>,
    /// Issued to the client itself (client_credentials): `user_id` is empty, the subject is
    /// `client_id`.
    pub machine: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The token's user (none for machine tokens): read together with the token on userinfo.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
