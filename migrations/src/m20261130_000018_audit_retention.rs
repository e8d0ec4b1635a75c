//! Audit retention: events older than the configured retention are purged, and nothing else
//! ever leaves the table. The purge first raises a cutoff (one row in `audit_retention`), then
//! deletes the rows before it; the delete trigger lets through only rows older than the
//! cutoff, and the cutoff itself can never come closer than a day to now, so the newest events
//! cannot be removed by any query. UPDATE stays refused as before.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditRetention {
    Table,
    Id,
    /// Unix milliseconds: events strictly older than this may be deleted.
    CutoffMs,
}

/// Milliseconds of events no cutoff may reach (a day).
pub const FLOOR_MS: i64 = 86_400_000;

fn postgres_up() -> Vec<String> {
    vec![
        // The old trigger refused UPDATE and DELETE alike: UPDATE keeps it, DELETE gets a guard.
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events".into(),
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
         FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
            .into(),
        "CREATE OR REPLACE FUNCTION audit_events_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF OLD.at_ms < COALESCE((SELECT cutoff_ms FROM audit_retention WHERE id = 1), 0) THEN RETURN OLD; END IF; \
           RAISE EXCEPTION 'audit_events is append-only: only events older than the retention cutoff are purged'; \
         END $$"
            .into(),
        "CREATE TRIGGER audit_events_purge_only BEFORE DELETE ON audit_events \
         FOR EACH ROW EXECUTE FUNCTION audit_events_purge_only()"
            .into(),
        format!(
            "CREATE OR REPLACE FUNCTION audit_retention_floor() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               IF NEW.cutoff_ms > (extract(epoch from clock_timestamp()) * 1000)::bigint - {FLOOR_MS} THEN \
                 RAISE EXCEPTION 'the audit retention cutoff must stay at least a day in the past'; \
               END IF; \
               RETURN NEW; \
             END $$"
        ),
        "CREATE TRIGGER audit_retention_floor BEFORE INSERT OR UPDATE ON audit_retention \
         FOR EACH ROW EXECUTE FUNCTION audit_retention_floor()"
            .into(),
        "CREATE TRIGGER audit_retention_no_delete BEFORE DELETE OR TRUNCATE ON audit_retention \
         FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
            .into(),
    ]
}

const POSTGRES_DOWN: [&str; 7] = [
    "DROP TRIGGER IF EXISTS audit_retention_no_delete ON audit_retention",
    "DROP TRIGGER IF EXISTS audit_retention_floor ON audit_retention",
    "DROP FUNCTION IF EXISTS audit_retention_floor()",
    "DROP TRIGGER IF EXISTS audit_events_purge_only ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_purge_only()",
    "DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events \
     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
];

fn sqlite_up() -> Vec<String> {
    let now_ms = "(CAST(strftime('%s', 'now') AS INTEGER) * 1000)";
    vec![
        "DROP TRIGGER IF EXISTS audit_events_no_delete".into(),
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
         WHEN NOT (OLD.at_ms < COALESCE((SELECT cutoff_ms FROM audit_retention WHERE id = 1), 0)) \
         BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: only events older than the retention cutoff are purged'); END"
            .into(),
        format!(
            "CREATE TRIGGER audit_retention_floor_insert BEFORE INSERT ON audit_retention \
             WHEN NEW.cutoff_ms > {now_ms} - {FLOOR_MS} \
             BEGIN SELECT RAISE(ABORT, 'the audit retention cutoff must stay at least a day in the past'); END"
        ),
        format!(
            "CREATE TRIGGER audit_retention_floor_update BEFORE UPDATE ON audit_retention \
             WHEN NEW.cutoff_ms > {now_ms} - {FLOOR_MS} \
             BEGIN SELECT RAISE(ABORT, 'the audit retention cutoff must stay at least a day in the past'); END"
        ),
        "CREATE TRIGGER audit_retention_no_delete BEFORE DELETE ON audit_retention \
         BEGIN SELECT RAISE(ABORT, 'audit_retention keeps its row'); END"
            .into(),
    ]
}

const SQLITE_DOWN: [&str; 5] = [
    "DROP TRIGGER IF EXISTS audit_retention_no_delete",
    "DROP TRIGGER IF EXISTS audit_retention_floor_update",
    "DROP TRIGGER IF EXISTS audit_retention_floor_insert",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditRetention::Table)
                .if_not_exists()
                .col(ColumnDef::new(AuditRetention::Id).integer().not_null().primary_key())
                .col(
                    ColumnDef::new(AuditRetention::CutoffMs)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AuditRetention::Table)
                .columns([AuditRetention::Id, AuditRetention::CutoffMs])
                .values_panic([1.into(), 0i64.into()])
                .to_owned(),
        )
        .await?;
        let statements = match m.get_database_backend() {
            DatabaseBackend::Postgres => postgres_up(),
            DatabaseBackend::Sqlite => sqlite_up(),
            DatabaseBackend::MySql => Vec::new(),
        };
        let db = m.get_connection();
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match m.get_database_backend() {
            DatabaseBackend::Postgres => &POSTGRES_DOWN,
            DatabaseBackend::Sqlite => &SQLITE_DOWN,
            DatabaseBackend::MySql => &[],
        };
        let db = m.get_connection();
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        m.drop_table(Table::drop().table(AuditRetention::Table).to_owned())
            .await
    }
}
