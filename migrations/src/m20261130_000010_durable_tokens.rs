//! Back-channel logout notifications kept in the database until delivered (an outbox any node
//! can deliver from), and what a refresh token needs for one retry after its rotation.
use sea_orm_migration::prelude::*;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackchannelOutbox {
    Table,
    Id,
    ClientId,
    Uri,
    Alg,
    Sub,
    Sid,
    CreatedAt,
    Attempts,
    DueAtMs,
    ClaimedBy,
    ClaimedUntilMs,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    SuccessorSeed,
    RetriedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BackchannelOutbox::Table)
                .if_not_exists()
                .col(ColumnDef::new(BackchannelOutbox::Id).string().not_null().primary_key())
                .col(ColumnDef::new(BackchannelOutbox::ClientId).string().not_null())
                .col(ColumnDef::new(BackchannelOutbox::Uri).text().not_null())
                .col(ColumnDef::new(BackchannelOutbox::Alg).string().not_null())
                .col(ColumnDef::new(BackchannelOutbox::Sub).string().not_null())
                .col(ColumnDef::new(BackchannelOutbox::Sid).string().not_null())
                .col(ColumnDef::new(BackchannelOutbox::CreatedAt).big_integer().not_null())
                .col(
                    ColumnDef::new(BackchannelOutbox::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(BackchannelOutbox::DueAtMs).big_integer().not_null())
                .col(ColumnDef::new(BackchannelOutbox::ClaimedBy).string())
                .col(ColumnDef::new(BackchannelOutbox::ClaimedUntilMs).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_backchannel_outbox_due")
                .table(BackchannelOutbox::Table)
                .col(BackchannelOutbox::DueAtMs)
                .to_owned(),
        )
        .await?;
        add_columns(
            m,
            RefreshTokens::Table,
            &mut [
                ColumnDef::new(RefreshTokens::SuccessorSeed).string().to_owned(),
                ColumnDef::new(RefreshTokens::RetriedAt).big_integer().to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            m,
            RefreshTokens::Table,
            [RefreshTokens::RetriedAt, RefreshTokens::SuccessorSeed],
        )
        .await?;
        m.drop_table(Table::drop().table(BackchannelOutbox::Table).to_owned())
            .await
    }
}
