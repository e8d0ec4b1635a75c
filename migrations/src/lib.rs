//! Database schema for Gatehouse, as sea-orm migrations (SQLite and PostgreSQL).
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_core;
mod m20261125_000002_broker;
mod m20261125_000003_tokens;
mod m20261125_000005_client_keys;
mod m20261125_000006_login_sessions;
mod m20261125_000007_saml;
mod m20261130_000008_takeover;
mod m20261130_000009_throttles;
mod m20261130_000010_durable_tokens;
mod m20261130_000011_mfa;
mod m20261130_000012_machine_clients;
mod m20261130_000013_passkeys;
mod m20261130_000014_mail;
mod m20261130_000016_audit;
mod m20261130_000017_runtime_providers;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_core::Migration),
            Box::new(m20261125_000002_broker::Migration),
            Box::new(m20261125_000003_tokens::Migration),
            Box::new(m20261125_000005_client_keys::Migration),
            Box::new(m20261125_000006_login_sessions::Migration),
            Box::new(m20261125_000007_saml::Migration),
            Box::new(m20261130_000008_takeover::Migration),
            Box::new(m20261130_000009_throttles::Migration),
            Box::new(m20261130_000010_durable_tokens::Migration),
            Box::new(m20261130_000011_mfa::Migration),
            Box::new(m20261130_000012_machine_clients::Migration),
            Box::new(m20261130_000013_passkeys::Migration),
            Box::new(m20261130_000014_mail::Migration),
            Box::new(m20261130_000016_audit::Migration),
            Box::new(m20261130_000017_runtime_providers::Migration),
        ]
    }
}

/// Adds columns to `table`, one ALTER TABLE each: SQLite takes one column per statement.
pub(crate) async fn add_columns(
    m: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: &mut [ColumnDef],
) -> Result<(), DbErr> {
    let table = table.into_iden();
    for column in columns {
        m.alter_table(Table::alter().table(table.clone()).add_column(column).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops columns from `table`, one ALTER TABLE each.
pub(crate) async fn drop_columns<C: IntoIden>(
    m: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    for column in columns {
        m.alter_table(Table::alter().table(table.clone()).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}
