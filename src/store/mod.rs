//! Storage: the database connection, sea-orm entities and one repository per aggregate.
pub mod backchannel_outbox;
pub mod clients;
pub mod codes;
pub mod consent;
pub mod entities;
pub mod federated;
pub mod handoffs;
pub mod interactions;
pub mod login_sessions;
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

/// Opens the database (creating the SQLite file's folder when needed) and migrates it.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = std::path::Path::new(&path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("creating {}: {e}", dir.display())))?;
            }
        }
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false);
    if sqlite_path(url).is_some() {
        // One writer at a time is SQLite's rule; a small pool keeps readers concurrent.
        opts.max_connections(8);
    }
    let db = Database::connect(opts).await?;
    if sqlite_path(url).is_some() {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;")
            .await?;
    }
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use migration::MigratorTrait;
    migration::Migrator::up(db, None).await?;
    users::backfill_username_keys(db).await
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
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
