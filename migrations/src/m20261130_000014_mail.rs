//! Outgoing mail and the links it carries: a durable outbox of rendered messages (sent off the
//! request path, retried with back-off) and single-use, expiring, hashed email tokens
//! (address verification, password reset).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Recipient,
    Subject,
    TextBody,
    HtmlBody,
    CreatedAt,
    ExpiresAt,
    Attempts,
    DueAtMs,
    ClaimedBy,
    ClaimedUntilMs,
    LastError,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    TokenHash,
    Purpose,
    UserId,
    Email,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MailOutbox::Table)
                .if_not_exists()
                .col(ColumnDef::new(MailOutbox::Id).string().not_null().primary_key())
                .col(ColumnDef::new(MailOutbox::Recipient).string().not_null())
                .col(ColumnDef::new(MailOutbox::Subject).text().not_null())
                .col(ColumnDef::new(MailOutbox::TextBody).text().not_null())
                .col(ColumnDef::new(MailOutbox::HtmlBody).text().not_null())
                .col(ColumnDef::new(MailOutbox::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(MailOutbox::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(MailOutbox::Attempts).integer().not_null())
                .col(ColumnDef::new(MailOutbox::DueAtMs).big_integer().not_null())
                .col(ColumnDef::new(MailOutbox::ClaimedBy).string())
                .col(ColumnDef::new(MailOutbox::ClaimedUntilMs).big_integer())
                .col(ColumnDef::new(MailOutbox::LastError).text())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_mail_outbox_due")
                .table(MailOutbox::Table)
                .col(MailOutbox::DueAtMs)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EmailTokens::Table)
                .if_not_exists()
                .col(ColumnDef::new(EmailTokens::TokenHash).string().not_null().primary_key())
                .col(ColumnDef::new(EmailTokens::Purpose).string().not_null())
                .col(ColumnDef::new(EmailTokens::UserId).string().not_null())
                .col(ColumnDef::new(EmailTokens::Email).string().not_null())
                .col(ColumnDef::new(EmailTokens::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(EmailTokens::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(EmailTokens::UsedAt).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_tokens_user")
                .table(EmailTokens::Table)
                .col(EmailTokens::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EmailTokens::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(MailOutbox::Table).to_owned()).await
    }
}
