//! SAML service-provider keys per provider, and brokered results waiting for the browser's
//! same-site step (the IdP's cross-site POST carries no session cookie).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SamlSpKeys {
    Table,
    ProviderId,
    KeyPem,
    CertPem,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BrokerHandoffs {
    Table,
    Id,
    ProviderId,
    InteractionId,
    Result,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SamlSpKeys::Table)
                .if_not_exists()
                .col(ColumnDef::new(SamlSpKeys::ProviderId).string().not_null().primary_key())
                .col(ColumnDef::new(SamlSpKeys::KeyPem).text().not_null())
                .col(ColumnDef::new(SamlSpKeys::CertPem).text().not_null())
                .col(ColumnDef::new(SamlSpKeys::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BrokerHandoffs::Table)
                .if_not_exists()
                .col(ColumnDef::new(BrokerHandoffs::Id).string().not_null().primary_key())
                .col(ColumnDef::new(BrokerHandoffs::ProviderId).string().not_null())
                .col(ColumnDef::new(BrokerHandoffs::InteractionId).string().not_null())
                .col(ColumnDef::new(BrokerHandoffs::Result).text().not_null())
                .col(ColumnDef::new(BrokerHandoffs::ExpiresAt).big_integer().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BrokerHandoffs::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SamlSpKeys::Table).to_owned()).await
    }
}
