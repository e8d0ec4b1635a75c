//! Storage: the database connection, sea-orm entities and one repository per aggregate.
pub mod account_removal;
pub mod audit;
pub mod backchannel_outbox;
pub mod changes;
pub mod clients;
pub mod codes;
pub mod consent;
pub mod email_tokens;
pub mod entities;
pub mod federated;
pub mod handoffs;
pub mod interactions;
pub mod login_sessions;
pub mod mail_outbox;
pub mod mfa;
pub mod passkeys;
pub mod providers;
pub mod refresh_tokens;
pub mod replay;
pub mod saml_keys;
pub mod session_clients;
pub mod sessions;
pub mod throttles;
pub mod tokens;
pub mod upstream_states;
pub mod users;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// 256 random bits, base64url: for codes, tokens, interaction and session ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256, base64url: how bearer secrets (codes, tokens, client secrets) are stored.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// How long a new connection waits for a free pool slot unless the caller says otherwise.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long SQLite waits for another process's write lock (the CLI next to a running server).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Key of the PostgreSQL advisory lock that serialises start-up schema work across nodes
/// ("gatehous" in ASCII).
const SCHEMA_LOCK_KEY: i64 = 0x6761_7465_686f_7573;

/// Opens the database (creating the SQLite file's folder when needed) with the default
/// acquire timeout.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// Opens the database; a request waits at most `acquire_timeout` for a connection, so an
/// unreachable database fails requests fast instead of after sqlx's 30 s default.
pub async fn connect_with(url: &str, acquire_timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = std::path::Path::new(&path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("creating {}: {e}", dir.display())))?;
            }
        }
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).acquire_timeout(acquire_timeout);
    if url.starts_with("sqlite:") {
        // One connection for the whole process. SQLite admits one writer at a time anyway,
        // and with several connections a transaction that reads and then writes (sea-orm and
        // the session store begin them DEFERRED, with no way to ask for IMMEDIATE) fails with
        // "database is locked" (5, or 517 when its snapshot went stale) whenever another
        // connection wrote in between; no busy timeout can save it. A single connection makes
        // every transaction a writer from its first statement.
        opts.max_connections(1)
            .min_connections(1)
            // A local file does not drop connections: skip the ping before every use.
            .test_before_acquire(false)
            // Set on the connection itself, so it holds for every connection sqlx ever opens.
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    // In WAL mode, NORMAL syncs at checkpoints instead of every commit: a
                    // committed write survives the process dying (kill -9: it is in the WAL,
                    // in the OS page cache) but not a power loss or kernel crash.
                    // `gatehouse-bench --crash-check` kills the server under load and checks.
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
            });
    }
    let mut db = Database::connect(opts).await?;
    // `GATEHOUSE_LOG=gatehouse::sql=trace` lists every statement with its time: how the
    // benchmark's per-flow statement counts in BENCHMARKS.md were taken.
    if tracing::enabled!(target: "gatehouse::sql", tracing::Level::TRACE) {
        db.set_metric_callback(|info| {
            tracing::trace!(target: "gatehouse::sql", elapsed_us = info.elapsed.as_micros() as u64, failed = info.failed, sql = %info.statement.sql);
        });
    }
    Ok(db)
}

/// Applies every pending migration, one node at a time.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use migration::MigratorTrait;
    let lock = SchemaLock::acquire(db).await?;
    let applied = async {
        migration::Migrator::up(db, None).await?;
        users::backfill_username_keys(db).await
    }
    .await;
    lock.release().await;
    applied
}

/// Held while a node changes the schema or seeds shared rows at start-up: on PostgreSQL a
/// session advisory lock on a connection of its own, so nodes starting together take turns;
/// on SQLite (one node) nothing.
pub struct SchemaLock(Option<sea_orm::sqlx::PgConnection>);

impl SchemaLock {
    /// Waits for the lock.
    pub async fn acquire(db: &DatabaseConnection) -> Result<Self, DbErr> {
        if sea_orm::ConnectionTrait::get_database_backend(db) != sea_orm::DatabaseBackend::Postgres {
            return Ok(Self(None));
        }
        let sqlx_err = |e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e));
        // Detached: the lock lives as long as this connection, and closing it releases the
        // lock even when unlocking fails; it never returns to the pool still holding it.
        let mut conn = db
            .get_postgres_connection_pool()
            .acquire()
            .await
            .map_err(sqlx_err)?
            .detach();
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(SCHEMA_LOCK_KEY)
            .execute(&mut conn)
            .await
            .map_err(sqlx_err)?;
        Ok(Self(Some(conn)))
    }

    /// Lets the next node in.
    pub async fn release(self) {
        use sea_orm::sqlx::Connection;
        if let Some(mut conn) = self.0 {
            if let Err(e) = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(SCHEMA_LOCK_KEY)
                .execute(&mut conn)
                .await
            {
                tracing::warn!(error = %e, "releasing the schema lock failed; closing its connection releases it");
            }
            if let Err(e) = conn.close().await {
                tracing::warn!(error = %e, "closing the schema lock's connection failed");
            }
        }
    }
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// A migrated in-memory SQLite database, for unit tests.
#[cfg(test)]
pub async fn memory_db() -> DatabaseConnection {
    let db = connect("sqlite::memory:").await.expect("in-memory SQLite");
    migrate(&db).await.expect("migrations");
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_path_is_found() {
        assert_eq!(sqlite_path("sqlite://data/g.db?mode=rwc").as_deref(), Some("data/g.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x@y/z"), None);
    }

    #[test]
    fn tokens_are_unique_and_hashes_stable() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(a.len(), 43);
        assert_eq!(hash_secret("abc"), hash_secret("abc"));
        assert_ne!(hash_secret("abc"), hash_secret("abd"));
    }
}
