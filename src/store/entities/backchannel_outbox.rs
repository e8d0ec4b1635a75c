//! A back-channel logout notification waiting for delivery (the outbox).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backchannel_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub client_id: String,
    /// The client's back-channel logout endpoint when the session ended.
    pub uri: String,
    /// JOSE algorithm of the client's ID tokens, used for the logout token too.
    pub alg: String,
    pub sub: String,
    pub sid: String,
    pub created_at: i64,
    /// Attempts made so far.
    pub attempts: i32,
    /// Unix milliseconds from when the next attempt may be made.
    pub due_at_ms: i64,
    /// The node making an attempt now, if any.
    pub claimed_by: Option<String>,
    /// Unix milliseconds when that claim lapses (a crashed node's claim ends by itself).
    pub claimed_until_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
