//! The audit trail (an append-only table of security events) and clients that can be disabled
//! without being deleted.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    AtMs,
    Kind,
    ActorKind,
    ActorId,
    UserId,
    ClientId,
    Provider,
    Method,
    Address,
    Detail,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Disabled,
    Declared,
}

/// Refuses to change or remove a row once written, so no code path (nor a stray query) can
/// rewrite history; removing old events means dropping these triggers on purpose first.
const POSTGRES_APPEND_ONLY: [&str; 3] = [
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events \
     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
];

const SQLITE_APPEND_ONLY: [&str; 2] = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                // A time-ordered id (milliseconds, then random), so ids sort as events happened.
                .col(ColumnDef::new(AuditEvents::Id).string().not_null().primary_key())
                .col(ColumnDef::new(AuditEvents::AtMs).big_integer().not_null())
                .col(ColumnDef::new(AuditEvents::Kind).string().not_null())
                .col(ColumnDef::new(AuditEvents::ActorKind).string().not_null())
                .col(ColumnDef::new(AuditEvents::ActorId).string().null())
                .col(ColumnDef::new(AuditEvents::UserId).string().null())
                .col(ColumnDef::new(AuditEvents::ClientId).string().null())
                .col(ColumnDef::new(AuditEvents::Provider).string().null())
                .col(ColumnDef::new(AuditEvents::Method).string().null())
                .col(ColumnDef::new(AuditEvents::Address).string().null())
                .col(ColumnDef::new(AuditEvents::Detail).text().null())
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_audit_events_kind", AuditEvents::Kind),
            ("idx_audit_events_user", AuditEvents::UserId),
            ("idx_audit_events_client", AuditEvents::ClientId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(AuditEvents::Table)
                    .col(col)
                    .col(AuditEvents::AtMs)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_audit_events_at")
                .table(AuditEvents::Table)
                .col(AuditEvents::AtMs)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let statements: &[&str] = match m.get_database_backend() {
            DatabaseBackend::Postgres => &POSTGRES_APPEND_ONLY,
            DatabaseBackend::Sqlite => &SQLITE_APPEND_ONLY,
            DatabaseBackend::MySql => &[],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        add_columns(
            m,
            Clients::Table,
            &mut [
                ColumnDef::new(Clients::Disabled)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
                // Set at start for the clients the configuration file declares: the file is
                // their source of truth, so the admin API and the CLI leave them alone.
                ColumnDef::new(Clients::Declared)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, Clients::Table, [Clients::Disabled, Clients::Declared]).await?;
        m.drop_table(Table::drop().table(AuditEvents::Table).to_owned()).await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_events_append_only()")
                .await?;
        }
        Ok(())
    }
}
