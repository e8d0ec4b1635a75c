//! The broker: federated identities, upstream login state, user groups, per-client providers.
use sea_orm_migration::prelude::*;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FederatedIdentities {
    Table,
    ProviderId,
    Subject,
    UserId,
    LinkedAt,
    LastLoginAt,
    LastClaims,
}

#[derive(DeriveIden)]
enum UpstreamStates {
    Table,
    State,
    ProviderId,
    InteractionId,
    Nonce,
    PkceVerifier,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Groups,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    AllowedProviders,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FederatedIdentities::Table)
                .if_not_exists()
                .col(ColumnDef::new(FederatedIdentities::ProviderId).string().not_null())
                .col(ColumnDef::new(FederatedIdentities::Subject).string().not_null())
                .col(ColumnDef::new(FederatedIdentities::UserId).string().not_null())
                .col(ColumnDef::new(FederatedIdentities::LinkedAt).big_integer().not_null())
                .col(
                    ColumnDef::new(FederatedIdentities::LastLoginAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(FederatedIdentities::LastClaims).text().not_null())
                .primary_key(
                    Index::create()
                        .col(FederatedIdentities::ProviderId)
                        .col(FederatedIdentities::Subject),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_federated_identities_user_id")
                .table(FederatedIdentities::Table)
                .col(FederatedIdentities::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UpstreamStates::Table)
                .if_not_exists()
                .col(ColumnDef::new(UpstreamStates::State).string().not_null().primary_key())
                .col(ColumnDef::new(UpstreamStates::ProviderId).string().not_null())
                .col(ColumnDef::new(UpstreamStates::InteractionId).string().not_null())
                .col(ColumnDef::new(UpstreamStates::Nonce).string().not_null())
                .col(ColumnDef::new(UpstreamStates::PkceVerifier).string().not_null())
                .col(ColumnDef::new(UpstreamStates::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(UpstreamStates::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(UpstreamStates::ConsumedAt).big_integer())
                .to_owned(),
        )
        .await?;
        add_columns(m, Users::Table, &mut [ColumnDef::new(Users::Groups).text().to_owned()]).await?;
        add_columns(
            m,
            Clients::Table,
            &mut [ColumnDef::new(Clients::AllowedProviders).text().to_owned()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, Clients::Table, [Clients::AllowedProviders]).await?;
        drop_columns(m, Users::Table, [Users::Groups]).await?;
        m.drop_table(Table::drop().table(UpstreamStates::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(FederatedIdentities::Table).to_owned())
            .await?;
        Ok(())
    }
}
