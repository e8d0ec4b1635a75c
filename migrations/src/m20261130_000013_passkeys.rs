//! WebAuthn credentials (passkeys): several per account, each named by its owner.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    CredentialId,
    UserId,
    UserHandle,
    Name,
    Passkey,
    CreatedAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Passkeys::Table)
                .if_not_exists()
                .col(ColumnDef::new(Passkeys::CredentialId).string().not_null().primary_key())
                .col(ColumnDef::new(Passkeys::UserId).string().not_null())
                .col(ColumnDef::new(Passkeys::UserHandle).string().not_null())
                .col(ColumnDef::new(Passkeys::Name).string().not_null())
                .col(ColumnDef::new(Passkeys::Passkey).text().not_null())
                .col(ColumnDef::new(Passkeys::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Passkeys::LastUsedAt).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_passkeys_user")
                .table(Passkeys::Table)
                .col(Passkeys::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Passkeys::Table).to_owned()).await
    }
}
