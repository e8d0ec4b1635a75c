//! Database schema for Gatehouse, as sea-orm migrations (SQLite and PostgreSQL).
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_core;
mod m20261125_000002_broker;
mod m20261125_000003_tokens;
mod m20261125_000005_client_keys;
mod m20261125_000006_login_sessions;
mod m20261125_000007_saml;

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
        ]
    }
}
