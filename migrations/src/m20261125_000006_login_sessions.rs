//! Sign-in sessions a person can see and end (the browser session refers to one by `sid`).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginSessions {
    Table,
    Sid,
    UserId,
    Amr,
    Idp,
    CreatedAt,
    LastSeenAt,
    EndedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginSessions::Table)
                .if_not_exists()
                .col(ColumnDef::new(LoginSessions::Sid).string().not_null().primary_key())
                .col(ColumnDef::new(LoginSessions::UserId).string().not_null())
                .col(ColumnDef::new(LoginSessions::Amr).string().not_null())
                .col(ColumnDef::new(LoginSessions::Idp).string())
                .col(ColumnDef::new(LoginSessions::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(LoginSessions::LastSeenAt).big_integer().not_null())
                .col(ColumnDef::new(LoginSessions::EndedAt).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_login_sessions_user")
                .table(LoginSessions::Table)
                .col(LoginSessions::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginSessions::Table).to_owned()).await
    }
}
