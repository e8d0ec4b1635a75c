//! A rendered mail waiting for delivery (the mail outbox).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The one address the message goes to.
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: i64,
    /// Unix seconds after which the message is dropped unsent (its link would have expired).
    pub expires_at: i64,
    /// Attempts made so far.
    pub attempts: i32,
    /// Unix milliseconds from when the next attempt may be made.
    pub due_at_ms: i64,
    /// The node making an attempt now, if any.
    pub claimed_by: Option<String>,
    /// Unix milliseconds when that claim lapses (a crashed node's claim ends by itself).
    pub claimed_until_ms: Option<i64>,
    /// Why the last attempt failed, for operators.
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
