//! A single-use token sent by mail (stored by hash): verifies an address or resets a password.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    /// SHA-256 of the token in the link.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// `verify_email` or `reset_password`.
    pub purpose: String,
    pub user_id: String,
    /// The address the link was sent to (for verification: the address being proved).
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Set when the link was used: a second use is refused.
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
