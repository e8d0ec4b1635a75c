//! Second factors: a TOTP authenticator per user (its secret encrypted), single-use recovery
//! codes (hashed), and clients that require a second factor.
use sea_orm_migration::prelude::*;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    UserId,
    SecretEnc,
    CreatedAt,
    ConfirmedAt,
    LastStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    CodeHash,
    UserId,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RequireMfa,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TotpFactors::Table)
                .if_not_exists()
                .col(ColumnDef::new(TotpFactors::UserId).string().not_null().primary_key())
                .col(ColumnDef::new(TotpFactors::SecretEnc).text().not_null())
                .col(ColumnDef::new(TotpFactors::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(TotpFactors::ConfirmedAt).big_integer())
                .col(ColumnDef::new(TotpFactors::LastStep).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(RecoveryCodes::CodeHash)
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(RecoveryCodes::UserId).string().not_null())
                .col(ColumnDef::new(RecoveryCodes::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(RecoveryCodes::UsedAt).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recovery_codes_user")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .to_owned(),
        )
        .await?;
        add_columns(
            m,
            Clients::Table,
            &mut [ColumnDef::new(Clients::RequireMfa)
                .boolean()
                .not_null()
                .default(false)
                .to_owned()],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, Clients::Table, [Clients::RequireMfa]).await?;
        m.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(TotpFactors::Table).to_owned()).await
    }
}
