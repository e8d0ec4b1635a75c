//! Password attempts per account, shared by every node: the throttle that slows guessing.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Key,
    Attempts,
    LastAttemptAt,
    NextAllowedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginThrottles::Table)
                .if_not_exists()
                .col(ColumnDef::new(LoginThrottles::Key).string().not_null().primary_key())
                .col(ColumnDef::new(LoginThrottles::Attempts).integer().not_null())
                .col(ColumnDef::new(LoginThrottles::LastAttemptAt).big_integer().not_null())
                .col(ColumnDef::new(LoginThrottles::NextAllowedAt).big_integer().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginThrottles::Table).to_owned())
            .await
    }
}
