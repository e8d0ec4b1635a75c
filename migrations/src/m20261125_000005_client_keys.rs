//! Client authentication by signed assertion (private_key_jwt) and pushed authorization requests.
use sea_orm_migration::prelude::*;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    Jwks,
    JwksUri,
    RequirePar,
    FrontchannelLogoutUri,
    SecretForJwt,
}

#[derive(DeriveIden)]
enum UsedAssertions {
    Table,
    Id,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PushedRequests {
    Table,
    Id,
    ClientId,
    Params,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            Clients::Table,
            &mut [
                ColumnDef::new(Clients::Jwks).text().to_owned(),
                ColumnDef::new(Clients::JwksUri).text().to_owned(),
                ColumnDef::new(Clients::RequirePar)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
                ColumnDef::new(Clients::FrontchannelLogoutUri).text().to_owned(),
                ColumnDef::new(Clients::SecretForJwt).text().to_owned(),
            ],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UsedAssertions::Table)
                .if_not_exists()
                .col(ColumnDef::new(UsedAssertions::Id).string().not_null().primary_key())
                .col(ColumnDef::new(UsedAssertions::ExpiresAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PushedRequests::Table)
                .if_not_exists()
                .col(ColumnDef::new(PushedRequests::Id).string().not_null().primary_key())
                .col(ColumnDef::new(PushedRequests::ClientId).string().not_null())
                .col(ColumnDef::new(PushedRequests::Params).text().not_null())
                .col(ColumnDef::new(PushedRequests::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(PushedRequests::UsedAt).big_integer())
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PushedRequests::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(UsedAssertions::Table).to_owned())
            .await?;
        drop_columns(
            m,
            Clients::Table,
            [
                Clients::SecretForJwt,
                Clients::FrontchannelLogoutUri,
                Clients::RequirePar,
                Clients::JwksUri,
                Clients::Jwks,
            ],
        )
        .await?;
        Ok(())
    }
}
