//! Token lifecycle: refresh-token families, per-client token settings, clients per session.
use sea_orm_migration::prelude::*;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    FamilyId,
    ClientId,
    UserId,
    Scope,
    Sid,
    AuthTime,
    Amr,
    Idp,
    Offline,
    CreatedAt,
    ExpiresAt,
    FamilyExpiresAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    FamilyId,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RefreshTokens,
    RefreshSlidingSecs,
    RefreshAbsoluteSecs,
    AccessTokenFormat,
    BackchannelLogoutUri,
}

#[derive(DeriveIden)]
enum SessionClients {
    Table,
    Sid,
    ClientId,
    UserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(RefreshTokens::TokenHash)
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(RefreshTokens::FamilyId).string().not_null())
                .col(ColumnDef::new(RefreshTokens::ClientId).string().not_null())
                .col(ColumnDef::new(RefreshTokens::UserId).string().not_null())
                .col(ColumnDef::new(RefreshTokens::Scope).text().not_null())
                .col(ColumnDef::new(RefreshTokens::Sid).string().not_null())
                .col(ColumnDef::new(RefreshTokens::AuthTime).big_integer().not_null())
                .col(ColumnDef::new(RefreshTokens::Amr).string().not_null())
                .col(ColumnDef::new(RefreshTokens::Idp).string())
                .col(ColumnDef::new(RefreshTokens::Offline).boolean().not_null())
                .col(ColumnDef::new(RefreshTokens::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(RefreshTokens::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(RefreshTokens::FamilyExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(RefreshTokens::RotatedAt).big_integer())
                .col(ColumnDef::new(RefreshTokens::RevokedAt).big_integer())
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_refresh_tokens_family", RefreshTokens::FamilyId),
            ("idx_refresh_tokens_sid", RefreshTokens::Sid),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(RefreshTokens::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        add_columns(
            m,
            AccessTokens::Table,
            &mut [ColumnDef::new(AccessTokens::FamilyId).string().to_owned()],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_access_tokens_family")
                .table(AccessTokens::Table)
                .col(AccessTokens::FamilyId)
                .to_owned(),
        )
        .await?;
        add_columns(
            m,
            Clients::Table,
            &mut [
                ColumnDef::new(Clients::RefreshTokens)
                    .string()
                    .not_null()
                    .default("offline_access")
                    .to_owned(),
                ColumnDef::new(Clients::RefreshSlidingSecs)
                    .big_integer()
                    .not_null()
                    .default(1_209_600i64)
                    .to_owned(),
                ColumnDef::new(Clients::RefreshAbsoluteSecs)
                    .big_integer()
                    .not_null()
                    .default(2_592_000i64)
                    .to_owned(),
                ColumnDef::new(Clients::AccessTokenFormat)
                    .string()
                    .not_null()
                    .default("opaque")
                    .to_owned(),
                ColumnDef::new(Clients::BackchannelLogoutUri).text().to_owned(),
            ],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SessionClients::Table)
                .if_not_exists()
                .col(ColumnDef::new(SessionClients::Sid).string().not_null())
                .col(ColumnDef::new(SessionClients::ClientId).string().not_null())
                .col(ColumnDef::new(SessionClients::UserId).string().not_null())
                .col(ColumnDef::new(SessionClients::CreatedAt).big_integer().not_null())
                .primary_key(Index::create().col(SessionClients::Sid).col(SessionClients::ClientId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SessionClients::Table).to_owned())
            .await?;
        drop_columns(
            m,
            Clients::Table,
            [
                Clients::BackchannelLogoutUri,
                Clients::AccessTokenFormat,
                Clients::RefreshAbsoluteSecs,
                Clients::RefreshSlidingSecs,
                Clients::RefreshTokens,
            ],
        )
        .await?;
        // SQLite refuses to drop an indexed column.
        m.drop_index(
            Index::drop()
                .name("idx_access_tokens_family")
                .table(AccessTokens::Table)
                .to_owned(),
        )
        .await?;
        drop_columns(m, AccessTokens::Table, [AccessTokens::FamilyId]).await?;
        m.drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        Ok(())
    }
}
