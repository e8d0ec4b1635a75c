//! Unfinished password attempts against one account (or one unknown login name).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttles")]
pub struct Model {
    /// `user:<id>`, or `name:<login key>` for a name no account has.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Attempts since the last success.
    pub attempts: i32,
    pub last_attempt_at: i64,
    /// No attempt is checked before this time.
    pub next_allowed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
