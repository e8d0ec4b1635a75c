//! A person's WebAuthn credential (passkey or security key); a person may have several.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    /// The credential id, base64url: unique across all accounts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub credential_id: String,
    pub user_id: String,
    /// The WebAuthn user handle (a UUID) the authenticator stores for discoverable sign-in.
    pub user_handle: String,
    /// The owner's name for it ("Laptop", "YubiKey").
    pub name: String,
    /// webauthn-rs's `Passkey` as JSON: public key, algorithm, signature counter.
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
