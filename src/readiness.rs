//! Readiness (`/readyz`): whether this node can serve sign-ins now. Liveness (`/healthz`) asks
//! only whether the database answers; readiness also asks whether its schema is the one this
//! build expects (no migration pending, none unknown) and whether a signing key of every
//! algorithm is loaded.
use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::keys::{KeyStore, SigningAlg};

/// One check's outcome: `None` when it passed, or why not.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Check {
    fn passed() -> Self {
        Self {
            ok: true,
            problem: None,
        }
    }

    fn failed(problem: impl Into<String>) -> Self {
        Self {
            ok: false,
            problem: Some(problem.into()),
        }
    }
}

/// Every readiness check.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub database: Check,
    pub migrations: Check,
    pub signing_keys: Check,
}

impl Readiness {
    /// Whether every check passed.
    pub fn ready(&self) -> bool {
        self.database.ok && self.migrations.ok && self.signing_keys.ok
    }
}

/// Runs the checks, each bounded by `timeout` (a probe must not hang on a dead database).
pub async fn check(db: &DatabaseConnection, keys: &KeyStore, timeout: Duration) -> Readiness {
    let database = match tokio::time::timeout(timeout, db.ping()).await {
        Ok(Ok(())) => Check::passed(),
        Ok(Err(e)) => Check::failed(format!("the database does not answer: {e}")),
        Err(_) => Check::failed("the database did not answer in time"),
    };
    let migrations = if database.ok {
        match tokio::time::timeout(timeout, schema_state(db)).await {
            Ok(c) => c,
            Err(_) => Check::failed("the migration table did not answer in time"),
        }
    } else {
        Check::failed("not checked: no database")
    };
    let signing_keys = match tokio::time::timeout(timeout, keys.current()).await {
        Ok(Ok(set)) => match SigningAlg::ALL.iter().find(|a| !set.can_sign(**a)) {
            None => Check::passed(),
            Some(alg) => Check::failed(format!("no current {} signing key", alg.as_str())),
        },
        Ok(Err(e)) => Check::failed(format!("signing keys could not be loaded: {e}")),
        Err(_) => Check::failed("signing keys did not load in time"),
    };
    Readiness {
        database,
        migrations,
        signing_keys,
    }
}

/// Pending migrations (this node is newer than the schema) or applied ones this build does
/// not know (an older node on a newer schema) both mean "not ready".
async fn schema_state(db: &DatabaseConnection) -> Check {
    let pending = match migration::Migrator::get_pending_migrations(db).await {
        Ok(p) => p,
        Err(e) => return Check::failed(format!("the migration table could not be read: {e}")),
    };
    if !pending.is_empty() {
        let names: Vec<String> = pending.iter().map(|m| m.name().to_string()).collect();
        return Check::failed(format!("migrations pending: {}", names.join(", ")));
    }
    let known: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    match migration::Migrator::get_applied_migrations(db).await {
        Ok(applied) => {
            let unknown: Vec<String> = applied
                .iter()
                .map(|m| m.name().to_string())
                .filter(|n| !known.contains(n))
                .collect();
            if unknown.is_empty() {
                Check::passed()
            } else {
                Check::failed(format!("the schema is newer than this build: {}", unknown.join(", ")))
            }
        }
        Err(e) => Check::failed(format!("the migration table could not be read: {e}")),
    }
}
