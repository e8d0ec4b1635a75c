//! A person's authenticator app (TOTP, RFC 6238): at most one per user.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The shared secret, AES-256-GCM under `[mfa] secret_key` (nonce and ciphertext, base64url).
    pub secret_enc: String,
    pub created_at: i64,
    /// Set once the person typed a first valid code; an unconfirmed secret is no factor.
    pub confirmed_at: Option<i64>,
    /// The last time step whose code was accepted: that step and earlier ones are refused.
    pub last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
