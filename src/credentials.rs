//! Checking a password for a login name, throttled per account in the database
//! (`store::throttles`), the same for every page that asks for a password.
use sea_orm::{ConnectionTrait, DbErr};

use crate::names;
use crate::store::now;
use crate::store::throttles::{self, Admission, ThrottlePolicy};
use crate::store::users::{self, User};

/// What a password check came to.
#[derive(Debug)]
pub enum PasswordCheck {
    /// The password is the account's, and the account may sign in.
    Accepted(User),
    /// Wrong name or password, or a disabled account: one answer for all.
    Refused,
    /// Too many attempts against this account: nothing was checked.
    Throttled { retry_after_secs: i64 },
}

/// The throttle key of a login name: its account, or the name itself when no account has it
/// (so unknown names slow down exactly like known ones and tell nothing).
fn throttle_key(user: Option<&User>, login: &str) -> String {
    match user {
        Some(u) => format!("user:{}", u.id),
        None if login.contains('@') => format!("name:{}", login.trim().to_lowercase()),
        None => format!("name:{}", names::key_of(login)),
    }
}

/// The throttle key an administrator clears for an account.
pub fn account_key(user: &User) -> String {
    throttle_key(Some(user), "")
}

/// Checks `password` for the account `login` names (a username or an email address).
pub async fn check<C: ConnectionTrait>(
    db: &C,
    policy: &ThrottlePolicy,
    login: &str,
    password: &str,
) -> Result<PasswordCheck, DbErr> {
    let user = users::find_by_login(db, login).await?;
    let key = throttle_key(user.as_ref(), login);
    if let Admission::Wait { secs } = throttles::admit(db, &key, policy, now()).await? {
        return Ok(PasswordCheck::Throttled { retry_after_secs: secs });
    }
    let matches = users::password_matches(user.as_ref(), password).await;
    match user {
        Some(user) if matches && !user.disabled => {
            throttles::succeeded(db, &key).await?;
            Ok(PasswordCheck::Accepted(
                users::upgrade_password_hash(db, user, password).await,
            ))
        }
        _ => Ok(PasswordCheck::Refused),
    }
}
