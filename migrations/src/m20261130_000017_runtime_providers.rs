//! Upstream providers created at run time (next to the config file's, which stay read-only),
//! and a version per kind of shared setting that every node polls, so a change made on one
//! node takes effect on the others within seconds.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RuntimeProviders {
    Table,
    Id,
    /// The provider's settings: `ProviderConfig` as JSON.
    Settings,
    Enabled,
    /// Shown on the login page after the config file's providers, in this order.
    Position,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChangeVersions {
    Table,
    Topic,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RuntimeProviders::Table)
                .if_not_exists()
                .col(ColumnDef::new(RuntimeProviders::Id).string().not_null().primary_key())
                .col(ColumnDef::new(RuntimeProviders::Settings).text().not_null())
                .col(
                    ColumnDef::new(RuntimeProviders::Enabled)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(ColumnDef::new(RuntimeProviders::Position).big_integer().not_null())
                .col(ColumnDef::new(RuntimeProviders::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(RuntimeProviders::UpdatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ChangeVersions::Table)
                .if_not_exists()
                .col(ColumnDef::new(ChangeVersions::Topic).string().not_null().primary_key())
                .col(ColumnDef::new(ChangeVersions::Version).big_integer().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ChangeVersions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RuntimeProviders::Table).to_owned())
            .await
    }
}
