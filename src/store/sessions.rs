//! The browser-session store: tower-sessions on the same database as everything else.
use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// SQLite or PostgreSQL, whichever the database URL chose.
#[derive(Debug, Clone)]
pub enum SessionBackend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionBackend {
    /// A store sharing sea-orm's connection pool, with its table created (one node at a time:
    /// concurrent `CREATE SCHEMA IF NOT EXISTS` on PostgreSQL can fail with a duplicate key).
    pub async fn for_database(db: &DatabaseConnection) -> Result<Self, sea_orm::DbErr> {
        let store = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                SessionBackend::Postgres(PostgresStore::new(db.get_postgres_connection_pool().clone()))
            }
            _ => SessionBackend::Sqlite(SqliteStore::new(db.get_sqlite_connection_pool().clone())),
        };
        let lock = super::SchemaLock::acquire(db).await?;
        let created = match &store {
            SessionBackend::Sqlite(s) => s.migrate().await,
            SessionBackend::Postgres(s) => s.migrate().await,
        };
        lock.release().await;
        created.map_err(|e| sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)))?;
        Ok(store)
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.create(record).await,
            SessionBackend::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.save(record).await,
            SessionBackend::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SessionBackend::Sqlite(s) => s.load(id).await,
            SessionBackend::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.delete(id).await,
            SessionBackend::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionBackend {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.delete_expired().await,
            SessionBackend::Postgres(s) => s.delete_expired().await,
        }
    }
}
