//! The browser-session store: tower-sessions on the same database as everything else.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sqlx::{self, SqlitePool};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// SQLite or PostgreSQL, whichever the database URL chose.
#[derive(Debug, Clone)]
pub enum SessionBackend {
    /// SQLite serves one process, so that process may keep the records in memory.
    Sqlite(CachedSqlite),
    /// PostgreSQL may serve several nodes: every load reads the table.
    Postgres(PostgresStore),
}

/// The SQLite table with the records of this process kept in memory: a signed-in browser's
/// authorize then costs no session read (each statement is a round trip to SQLite's thread).
/// Every change of the table and of the memory happens under one lock, in the same order, so
/// the memory never holds a record the table has since replaced or deleted.
#[derive(Debug, Clone)]
pub struct CachedSqlite {
    table: SqliteStore,
    /// The table's pool, for the one statement the store's own `create` spends three on.
    pool: SqlitePool,
    records: moka::future::Cache<Id, Record>,
    changes: Arc<tokio::sync::Mutex<()>>,
}

/// Records kept at most (about a kilobyte each), and how long an unused one stays.
const CACHED_RECORDS: u64 = 4096;
const CACHED_IDLE: Duration = Duration::from_secs(600);

/// The store's table (`SqliteStore`'s default name) and its insert that never overwrites.
const INSERT_NEW: &str = "INSERT OR ABORT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, ?)";

impl CachedSqlite {
    fn new(pool: SqlitePool) -> Self {
        let records = moka::future::Cache::builder()
            .max_capacity(CACHED_RECORDS)
            .time_to_idle(CACHED_IDLE)
            .build();
        Self {
            table: SqliteStore::new(pool.clone()),
            pool,
            records,
            changes: Arc::default(),
        }
    }

    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let _changing = self.changes.lock().await;
        self.insert_new(record).await?;
        self.records.insert(record.id, record.clone()).await;
        Ok(())
    }

    /// Inserts the record under an id no other record has, drawing a new id on a collision,
    /// as the store's own `create` does but in one statement: that one wraps the same insert
    /// in BEGIN … COMMIT, two more round trips to SQLite's thread for a statement that is
    /// atomic by itself. Same encoding as the store's, which loads it.
    async fn insert_new(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let data = rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
            let inserted = sqlx::query(INSERT_NEW)
                .bind(record.id.to_string())
                .bind(data)
                .bind(record.expiry_date)
                .execute(&self.pool)
                .await;
            match inserted {
                Ok(_) => return Ok(()),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => record.id = Id::default(),
                Err(e) => return Err(session_store::Error::Backend(e.to_string())),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let _changing = self.changes.lock().await;
        self.table.save(record).await?;
        self.records.insert(record.id, record.clone()).await;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.records.get(id).await.filter(unexpired) {
            return Ok(Some(record));
        }
        // A miss (after a restart, or evicted) reads the table under the lock, so no change
        // can land between the read and keeping what it read.
        let _changing = self.changes.lock().await;
        if let Some(record) = self.records.get(id).await.filter(unexpired) {
            return Ok(Some(record));
        }
        let record = self.table.load(id).await?;
        if let Some(r) = &record {
            self.records.insert(*id, r.clone()).await;
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _changing = self.changes.lock().await;
        self.table.delete(id).await?;
        self.records.invalidate(id).await;
        Ok(())
    }
}

/// Whether a record is still valid (the table's own load checks the same).
fn unexpired(record: &Record) -> bool {
    record.expiry_date > time::OffsetDateTime::now_utc()
}

impl SessionBackend {
    /// A store sharing sea-orm's connection pool, with its table created (one node at a time:
    /// concurrent `CREATE SCHEMA IF NOT EXISTS` on PostgreSQL can fail with a duplicate key).
    pub async fn for_database(db: &DatabaseConnection) -> Result<Self, sea_orm::DbErr> {
        let store = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                SessionBackend::Postgres(PostgresStore::new(db.get_postgres_connection_pool().clone()))
            }
            _ => SessionBackend::Sqlite(CachedSqlite::new(db.get_sqlite_connection_pool().clone())),
        };
        let lock = super::SchemaLock::acquire(db).await?;
        let created = match &store {
            SessionBackend::Sqlite(s) => s.table.migrate().await,
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
            SessionBackend::Sqlite(s) => s.table.delete_expired().await,
            SessionBackend::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::session::Id;

    async fn store() -> (DatabaseConnection, SessionBackend) {
        let db = crate::store::connect("sqlite::memory:").await.unwrap();
        let store = SessionBackend::for_database(&db).await.unwrap();
        (db, store)
    }

    fn record(minutes: i64) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert("k".into(), serde_json::json!("v1"));
        Record {
            id: Id::default(),
            data,
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes),
        }
    }

    async fn rows(db: &DatabaseConnection) -> i64 {
        let row = db
            .query_one(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM tower_sessions",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    #[tokio::test]
    async fn a_signed_in_browsers_session_is_loaded_from_memory_and_written_through() {
        let (db, store) = store().await;
        let mut r = record(10);
        store.create(&mut r).await.unwrap();
        r.data.insert("k".into(), serde_json::json!("v2"));
        store.save(&r).await.unwrap();
        assert_eq!(rows(&db).await, 1, "written to the table");
        // Gone from the table behind the store's back: the load did not read it.
        db.execute_unprepared("DELETE FROM tower_sessions").await.unwrap();
        assert_eq!(store.load(&r.id).await.unwrap(), Some(r.clone()));
        store.delete(&r.id).await.unwrap();
        assert_eq!(store.load(&r.id).await.unwrap(), None, "a deleted session is gone");
    }

    #[tokio::test]
    async fn a_session_not_in_memory_is_read_from_the_table_and_an_expired_one_is_not_served() {
        let (db, store) = store().await;
        let mut r = record(10);
        store.create(&mut r).await.unwrap();
        // Another process start: same table, empty memory.
        let restarted = SessionBackend::for_database(&db).await.unwrap();
        assert_eq!(restarted.load(&r.id).await.unwrap(), Some(r.clone()));
        let mut old = record(-1);
        store.create(&mut old).await.unwrap();
        assert_eq!(store.load(&old.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_new_session_never_overwrites_another_with_the_same_id() {
        let (db, store) = store().await;
        let mut first = record(10);
        store.create(&mut first).await.unwrap();
        let mut second = record(10);
        second.id = first.id;
        second.data.insert("k".into(), serde_json::json!("someone else"));
        store.create(&mut second).await.unwrap();
        assert_ne!(second.id, first.id, "a colliding id is drawn again");
        assert_eq!(rows(&db).await, 2);
        let restarted = SessionBackend::for_database(&db).await.unwrap();
        assert_eq!(restarted.load(&first.id).await.unwrap(), Some(first));
        assert_eq!(restarted.load(&second.id).await.unwrap(), Some(second));
    }
}
