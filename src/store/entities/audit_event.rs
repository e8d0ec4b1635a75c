//! One security event of the audit trail (append-only: never updated, never deleted).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Milliseconds (13 digits) then random: ids sort in the order events happened.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// What happened (`sign_in.success`, `admin.user.disable`, …).
    pub kind: String,
    /// Who did it: `person`, `machine` (a client's own token), `operator` (the CLI),
    /// `anonymous` (a refused attempt), `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// The account the event is about.
    pub user_id: Option<String>,
    /// The client application the event is about (or went through).
    pub client_id: Option<String>,
    /// The upstream provider of a brokered sign-in or link.
    pub provider: Option<String>,
    /// How (`password`, `federated`, `totp`…).
    pub method: Option<String>,
    /// The requesting client's address.
    pub address: Option<String>,
    /// More about it, a JSON object.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
