//! Machine clients (RFC 6749 §4.4 client_credentials): the scopes each client may be granted
//! for itself, and access tokens marked as issued to a client rather than to a user.
use sea_orm_migration::prelude::*;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    MachineScopes,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    Machine,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A JSON array of scopes; NULL (every client before this) = no client_credentials grant.
        add_columns(
            m,
            Clients::Table,
            &mut [ColumnDef::new(Clients::MachineScopes).text().null().to_owned()],
        )
        .await?;
        add_columns(
            m,
            AccessTokens::Table,
            &mut [ColumnDef::new(AccessTokens::Machine)
                .boolean()
                .not_null()
                .default(false)
                .to_owned()],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, AccessTokens::Table, [AccessTokens::Machine]).await?;
        drop_columns(m, Clients::Table, [Clients::MachineScopes]).await
    }
}
