//! Closing account-takeover holes: one key per username (case and confusables folded), one
//! account per email address, upstream logins bound to the browser that started them, code
//! replays remembered, and introspection limited to a token's own client unless allowed.
use sea_orm_migration::prelude::*;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    UsernameKey,
}

#[derive(DeriveIden)]
enum UpstreamStates {
    Table,
    BrowserHash,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    ReplayedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    IntrospectAny,
}

/// Emails are compared trimmed and lower case; where several accounts share one, the verified
/// (then the oldest) keeps it and the others lose the unproven claim.
const DEDUPLICATE_EMAILS: &str = "
UPDATE users SET email = lower(trim(email)) WHERE email IS NOT NULL;
UPDATE users SET email = NULL
 WHERE email IS NOT NULL AND EXISTS (
   SELECT 1 FROM users o
    WHERE o.email = users.email AND o.id <> users.id
      AND (o.email_verified > users.email_verified
        OR (o.email_verified = users.email_verified
            AND (o.created_at < users.created_at
              OR (o.created_at = users.created_at AND o.id < users.id)))));
CREATE UNIQUE INDEX idx_users_email_unique ON users (email);
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            Users::Table,
            &mut [ColumnDef::new(Users::UsernameKey).string().null().to_owned()],
        )
        .await?;
        // Filled for older rows at start-up (the key needs Unicode tables the app has).
        m.create_index(
            Index::create()
                .name("idx_users_username_key")
                .table(Users::Table)
                .col(Users::UsernameKey)
                .unique()
                .to_owned(),
        )
        .await?;
        for statement in DEDUPLICATE_EMAILS.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            m.get_connection().execute_unprepared(statement).await?;
        }
        add_columns(
            m,
            UpstreamStates::Table,
            &mut [ColumnDef::new(UpstreamStates::BrowserHash).string().null().to_owned()],
        )
        .await?;
        add_columns(
            m,
            AuthorizationCodes::Table,
            &mut [ColumnDef::new(AuthorizationCodes::ReplayedAt)
                .big_integer()
                .null()
                .to_owned()],
        )
        .await?;
        add_columns(
            m,
            Clients::Table,
            &mut [ColumnDef::new(Clients::IntrospectAny)
                .boolean()
                .not_null()
                .default(false)
                .to_owned()],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, Clients::Table, [Clients::IntrospectAny]).await?;
        drop_columns(m, AuthorizationCodes::Table, [AuthorizationCodes::ReplayedAt]).await?;
        drop_columns(m, UpstreamStates::Table, [UpstreamStates::BrowserHash]).await?;
        m.get_connection()
            .execute_unprepared("DROP INDEX idx_users_email_unique")
            .await?;
        m.drop_index(
            Index::drop()
                .name("idx_users_username_key")
                .table(Users::Table)
                .to_owned(),
        )
        .await?;
        drop_columns(m, Users::Table, [Users::UsernameKey]).await
    }
}
