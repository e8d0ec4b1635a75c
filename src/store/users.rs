//! Local accounts and their argon2id password hashes.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::user;
use super::{now, random_token};

pub use user::Model as User;

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error("invalid username: {0}")]
    InvalidUsername(&'static str),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// What a new local account is made of.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub password: Option<String>,
    pub groups: Vec<String>,
}

type HashJob = Box<dyn FnOnce() + Send>;

/// Runs password hashing on a fixed pool of threads, one per core. argon2id is CPU-bound and
/// takes 19 MiB a run: a fixed set of threads bounds both the work in flight and the memory
/// the allocator keeps per thread (measured: tokio's growing blocking pool peaked at 2.3 GiB
/// under 16 concurrent logins; see BENCHMARKS.md).
async fn on_hashing_pool<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static POOL: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        std::sync::Mutex::new(tx)
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = done.send(work());
    });
    pool.lock().ok()?.send(job).ok()?;
    result.await.ok()
}

/// Hashes a password with argon2id and a fresh salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC hash; `None` burns the same time as a real check.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let ok = PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false);
    ok && real
}

fn check_username(name: &str) -> Result<(), UserError> {
    if name.is_empty() || name.len() > 64 {
        return Err(UserError::InvalidUsername("must be 1 to 64 characters"));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || "._-@+".contains(c)) {
        return Err(UserError::InvalidUsername("letters, digits and . _ - @ + only"));
    }
    Ok(())
}

/// Creates a user; the username must be free.
pub async fn create<C: ConnectionTrait>(db: &C, new: NewUser) -> Result<User, UserError> {
    check_username(&new.username)?;
    if find_by_username(db, &new.username).await?.is_some() {
        return Err(UserError::UsernameTaken(new.username));
    }
    let password_hash = match &new.password {
        Some(p) => {
            let p = p.clone();
            Some(
                on_hashing_pool(move || hash_password(&p))
                    .await
                    .ok_or_else(|| UserError::Hash("hashing task failed".into()))??,
            )
        }
        None => None,
    };
    let t = now();
    let model = user::ActiveModel {
        id: Set(random_token()[..22].to_string()),
        username: Set(new.username.clone()),
        email: Set(new.email.map(|e| e.trim().to_string())),
        email_verified: Set(new.email_verified),
        name: Set(new.name),
        password_hash: Set(password_hash),
        disabled: Set(false),
        groups: Set(groups_json(&new.groups)),
        created_at: Set(t),
        updated_at: Set(t),
    };
    // A concurrent insert of the same username loses on the unique index.
    model.insert(db).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => UserError::UsernameTaken(new.username),
        _ => UserError::Db(e),
    })
}

fn groups_json(groups: &[String]) -> Option<String> {
    (!groups.is_empty()).then(|| serde_json::to_string(groups).unwrap_or_default())
}

/// The user's groups.
pub fn groups_of(user: &User) -> Vec<String> {
    user.groups
        .as_deref()
        .and_then(|g| serde_json::from_str(g).ok())
        .unwrap_or_default()
}

/// Users whose email matches, ignoring case.
pub async fn find_by_email<C: ConnectionTrait>(db: &C, email: &str) -> Result<Vec<User>, DbErr> {
    use sea_orm::sea_query::{Expr, Func};
    user::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(email.trim().to_lowercase()))
        .all(db)
        .await
}

/// Attributes an upstream provider may set (claim sync).
#[derive(Debug, Clone)]
pub struct SyncedAttributes {
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

/// Overwrites the synced attributes of a user.
pub async fn sync_attributes<C: ConnectionTrait>(db: &C, user: User, attrs: SyncedAttributes) -> Result<User, DbErr> {
    let mut m: user::ActiveModel = user.into();
    m.email = Set(attrs.email);
    m.email_verified = Set(attrs.email_verified);
    if attrs.name.is_some() {
        m.name = Set(attrs.name);
    }
    m.groups = Set(groups_json(&attrs.groups));
    m.updated_at = Set(now());
    m.update(db).await
}

/// The user with this id.
pub async fn find<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<User>, DbErr> {
    user::Entity::find_by_id(id.to_owned()).one(db).await
}

/// The user with this username.
pub async fn find_by_username<C: ConnectionTrait>(db: &C, username: &str) -> Result<Option<User>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
}

/// Checks a username (or email) and password; `None` for any failure, in constant-ish time.
pub async fn authenticate<C: ConnectionTrait>(db: &C, login: &str, password: &str) -> Result<Option<User>, DbErr> {
    let mut found = find_by_username(db, login).await?;
    if found.is_none() && login.contains('@') {
        let by_email = user::Entity::find()
            .filter(user::Column::Email.eq(login))
            .all(db)
            .await?;
        // An email shared by several accounts identifies none of them.
        if by_email.len() == 1 {
            found = by_email.into_iter().next();
        }
    }
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    let password = password.to_owned();
    let ok = on_hashing_pool(move || verify_password(&password, stored.as_deref()))
        .await
        .unwrap_or(false);
    Ok(found.filter(|u| ok && !u.disabled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password("not a real password", None));
    }

    #[test]
    fn usernames_are_checked() {
        assert!(check_username("ann.smith@x").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
    }
}
