//! Local accounts and their argon2id password hashes.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::user;
use super::{now, random_token};
use crate::names::{self, EmailProblem, Username, UsernameProblem};

pub use user::Model as User;

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error("invalid username: {0}")]
    InvalidUsername(#[from] UsernameProblem),
    #[error("the email address is used by another account")]
    EmailTaken,
    #[error("invalid email address: {0}")]
    InvalidEmail(#[from] EmailProblem),
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

/// argon2id at m = 7 MiB, t = 5, p = 1: one of OWASP's equivalent minimums (the same defence
/// as 19 MiB × 2 passes) and Keycloak's default. Each concurrent hash holds `m`, so the small-memory
/// option keeps a burst of logins from taking 19 MiB per core. Stored hashes carry their own
/// parameters, so those made with others still verify.
fn hasher() -> Argon2<'static> {
    let params = argon2::Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes a password with argon2id and a fresh salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher()
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
        .map(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false);
    ok && real
}

/// Makes `email` free for `user_id` (or a new account): `Ok(true)` when nobody else holds it,
/// or only an account that never proved it and `verified` says this one did (that unproven
/// claim is dropped, so nobody can reserve another person's address by registering first).
async fn claim_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
    verified: bool,
    user_id: Option<&str>,
) -> Result<bool, DbErr> {
    let Some(holder) = find_by_email(db, email)
        .await?
        .filter(|h| Some(h.id.as_str()) != user_id)
    else {
        return Ok(true);
    };
    if !verified || holder.email_verified {
        return Ok(false);
    }
    tracing::warn!(user_id = %holder.id, "unverified email taken over by an account that proved it");
    let mut m: user::ActiveModel = holder.into();
    m.email = Set(None);
    m.updated_at = Set(now());
    m.update(db).await?;
    Ok(true)
}

/// Creates a user; the username (by its key) and the email must be free.
pub async fn create<C: ConnectionTrait>(db: &C, new: NewUser) -> Result<User, UserError> {
    let username = Username::parse(&new.username)?;
    let email = new.email.as_deref().map(names::normalize_email).transpose()?;
    let lookalike = names::lookalike_key(&username.display);
    if find_by_username(db, &username.display).await?.is_some() || find_by_key(db, &lookalike).await?.is_some() {
        return Err(UserError::UsernameTaken(username.display));
    }
    if let Some(email) = &email {
        if !claim_email(db, email, new.email_verified, None).await? {
            return Err(UserError::EmailTaken);
        }
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
        username: Set(username.display.clone()),
        username_key: Set(Some(username.key)),
        email_verified: Set(new.email_verified && email.is_some()),
        email: Set(email),
        name: Set(new.name),
        password_hash: Set(password_hash),
        disabled: Set(false),
        groups: Set(groups_json(&new.groups)),
        created_at: Set(t),
        updated_at: Set(t),
    };
    // A concurrent insert of the same username or email loses on a unique index.
    model.insert(db).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(m)) if m.contains("email") => UserError::EmailTaken,
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => UserError::UsernameTaken(username.display),
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

/// The account with this email address (unique; compared trimmed and lower case).
pub async fn find_by_email<C: ConnectionTrait>(db: &C, email: &str) -> Result<Option<User>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
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

/// Overwrites the synced attributes of a user. An email another account holds (and proved, or
/// this one cannot prove) is not taken: the user keeps the current address.
pub async fn sync_attributes<C: ConnectionTrait>(db: &C, user: User, attrs: SyncedAttributes) -> Result<User, DbErr> {
    let email = attrs.email.as_deref().and_then(|e| names::normalize_email(e).ok());
    let usable = match &email {
        Some(e) => claim_email(db, e, attrs.email_verified, Some(&user.id)).await?,
        None => true,
    };
    let mut m: user::ActiveModel = user.into();
    if usable {
        m.email_verified = Set(attrs.email_verified && email.is_some());
        m.email = Set(email);
    } else {
        tracing::warn!("upstream email not synced: another account holds it");
    }
    if attrs.name.is_some() {
        m.name = Set(attrs.name);
    }
    m.groups = Set(groups_json(&attrs.groups));
    m.updated_at = Set(now());
    m.update(db).await
}

/// Sets (or, with `None`, clears) the display name; `false` when there is no such user.
pub async fn set_name<C: ConnectionTrait>(db: &C, id: &str, name: Option<String>) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    let res = user::Entity::update_many()
        .col_expr(user::Column::Name, Expr::value(name))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The user with this id.
pub async fn find<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<User>, DbErr> {
    user::Entity::find_by_id(id.to_owned()).one(db).await
}

async fn find_by_key<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<User>, DbErr> {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(key))
        .one(db)
        .await
}

/// The user a typed username names: by key (case and look-alikes folded).
pub async fn find_by_username<C: ConnectionTrait>(db: &C, username: &str) -> Result<Option<User>, DbErr> {
    let by_key = find_by_key(db, &names::key_of(username)).await?;
    if by_key.is_some() {
        return Ok(by_key);
    }
    // An old row whose key collided with another's keeps working by its exact name.
    user::Entity::find()
        .filter(user::Column::Username.eq(username.trim()))
        .filter(user::Column::UsernameKey.is_null())
        .one(db)
        .await
}

/// The account a login name names: an email address (contains `@`, which no username may) or
/// a username.
pub async fn find_by_login<C: ConnectionTrait>(db: &C, login: &str) -> Result<Option<User>, DbErr> {
    if login.contains('@') {
        find_by_email(db, login).await
    } else {
        find_by_username(db, login).await
    }
}

/// Gives keys to rows made before usernames had one; a key that collides is left out (logged)
/// and that account signs in by its exact name.
pub async fn backfill_username_keys<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let rows = user::Entity::find()
        .filter(user::Column::UsernameKey.is_null())
        .all(db)
        .await?;
    for row in rows {
        let key = names::key_of(&row.username);
        let taken = user::Entity::find()
            .filter(user::Column::UsernameKey.eq(key.clone()))
            .one(db)
            .await?;
        if let Some(other) = taken {
            tracing::warn!(user_id = %row.id, other = %other.id, "username collides with another once case and look-alikes are folded; left without a key");
            continue;
        }
        let mut m: user::ActiveModel = row.into();
        m.username_key = Set(Some(key));
        m.update(db).await?;
    }
    Ok(())
}

/// Whether `password` is the user's (on the hashing pool). With no user, or one without a
/// password, it burns the same time and says no, so timing does not tell whether a name exists.
pub async fn password_matches(user: Option<&User>, password: &str) -> bool {
    let stored = user.and_then(|u| u.password_hash.clone());
    let password = password.to_owned();
    on_hashing_pool(move || verify_password(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

/// Whether a stored hash was made with other parameters than new ones get.
fn hash_is_outdated(stored: &str) -> bool {
    let current = hasher().params().clone();
    PasswordHash::new(stored).is_ok_and(|h| {
        h.algorithm != argon2::Algorithm::Argon2id.ident()
            || argon2::Params::try_from(&h).map_or(true, |p| {
                (p.m_cost(), p.t_cost(), p.p_cost()) != (current.m_cost(), current.t_cost(), current.p_cost())
            })
    })
}

/// After an accepted password: a hash made with older parameters is replaced by one with the
/// current ones (as Keycloak does), so a parameter change reaches every account that signs in.
/// A failure only leaves the old hash, which still verifies.
pub async fn upgrade_password_hash<C: ConnectionTrait>(db: &C, user: User, password: &str) -> User {
    if !user.password_hash.as_deref().is_some_and(hash_is_outdated) {
        return user;
    }
    match set_password(db, user.clone(), password).await {
        Ok(updated) => {
            tracing::info!(user_id = %updated.id, "password hash moved to the current argon2id parameters");
            updated
        }
        Err(e) => {
            tracing::warn!(user_id = %user.id, error = %e, "could not move a password hash to the current parameters");
            user
        }
    }
}

/// Replaces the user's password (argon2id, on the hashing pool).
pub async fn set_password<C: ConnectionTrait>(db: &C, user: User, password: &str) -> Result<User, UserError> {
    let p = password.to_owned();
    let hash = on_hashing_pool(move || hash_password(&p))
        .await
        .ok_or_else(|| UserError::Hash("hashing task failed".into()))??;
    let mut m: user::ActiveModel = user.into();
    m.password_hash = Set(Some(hash));
    m.updated_at = Set(now());
    Ok(m.update(db).await?)
}

/// Records that the person proved they read mail at `email`: it becomes the account's address,
/// verified. `Ok(None)` when another account holds that address and proved it first (the
/// uniqueness rule of [`claim_email`]); an unproven claim of another account is dropped.
pub async fn confirm_email<C: ConnectionTrait>(db: &C, user: User, email: &str) -> Result<Option<User>, DbErr> {
    let Ok(email) = names::normalize_email(email) else {
        return Ok(None);
    };
    if !claim_email(db, &email, true, Some(&user.id)).await? {
        return Ok(None);
    }
    let mut m: user::ActiveModel = user.into();
    m.email = Set(Some(email));
    m.email_verified = Set(true);
    m.updated_at = Set(now());
    m.update(db).await.map(Some)
}

/// An enabled user with nothing but an id and a username, for unit tests of what is built
/// from users.
#[cfg(test)]
pub fn sample(id: &str, username: &str) -> User {
    User {
        id: id.into(),
        username: username.into(),
        username_key: Some(username.into()),
        email: None,
        email_verified: false,
        name: None,
        password_hash: None,
        disabled: false,
        groups: None,
        created_at: 0,
        updated_at: 0,
    }
}

/// A stored user with nothing but a username (no password, no email), for unit tests of what
/// hangs off users.
#[cfg(test)]
pub async fn create_sample<C: ConnectionTrait>(db: &C, username: &str) -> User {
    let new = NewUser {
        username: username.into(),
        email: None,
        email_verified: false,
        name: None,
        password: None,
        groups: vec![],
    };
    create(db, new).await.expect("a new user")
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
    fn new_hashes_take_owasps_seven_mib_five_pass_option() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{h}");
    }

    #[test]
    fn a_hash_made_with_other_parameters_still_verifies() {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let old = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(old.contains("m=19456,t=2"), "{old}");
        assert!(verify_password("correct horse", Some(&old)));
        assert!(!verify_password("wrong", Some(&old)));
        assert!(hash_is_outdated(&old));
        assert!(!hash_is_outdated(&hash_password("correct horse").unwrap()));
    }

    #[tokio::test]
    async fn an_accepted_password_with_an_older_hash_is_stored_again_with_the_current_parameters() {
        let db = crate::store::memory_db().await;
        let user = create_sample(&db, "alice").await;
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let old = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let mut m: user::ActiveModel = user.into();
        m.password_hash = Set(Some(old.clone()));
        let user = m.update(&db).await.unwrap();

        let upgraded = upgrade_password_hash(&db, user, "correct horse").await;
        let stored = find(&db, &upgraded.id).await.unwrap().unwrap().password_hash.unwrap();
        assert_ne!(stored, old);
        assert!(!hash_is_outdated(&stored));
        assert!(verify_password("correct horse", Some(&stored)));
        // A current hash is left as it is.
        let again = upgrade_password_hash(&db, upgraded, "correct horse").await;
        assert_eq!(again.password_hash.as_deref(), Some(stored.as_str()));
    }
}
