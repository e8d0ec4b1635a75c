//! A refresh token (stored by hash), one link in a rotation family.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// Every token rotated from the same grant shares this id.
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub sid: String,
    pub auth_time: i64,
    /// JSON array of authentication method references.
    pub amr: String,
    pub idp: Option<String>,
    /// Granted through `offline_access`: survives the end of the browser session.
    pub offline: bool,
    pub created_at: i64,
    /// Sliding expiry, never past `family_expires_at`.
    pub expires_at: i64,
    /// Absolute expiry of the whole family.
    pub family_expires_at: i64,
    /// Set when exchanged for a successor: a second use is a replay.
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Set with `rotated_at`: the random input from which the successor token was derived
    /// (with this token's own secret), so one retry can be answered with the same successor.
    pub successor_seed: Option<String>,
    /// Set when that one retry was answered: any further use is a replay.
    pub retried_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The token's user: read together with the token on every refresh.
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
