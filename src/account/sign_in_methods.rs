//! The ways a person can sign in to their account, and the rule that the last one stays:
//! removing it would lock them out for good (there is no one to ask).
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

use crate::audit::{Actor, Event, EventKind};
use crate::store::account_removal::lock_account;
use crate::store::federated::{self, FederatedIdentity};
use crate::store::{passkeys, users};

/// How a person can sign in today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInMethods {
    /// The account has a local password.
    pub password: bool,
    /// Linked external identities at providers that are enabled now (a link to a provider the
    /// operator removed signs nobody in).
    pub linked: Vec<FederatedIdentity>,
    /// Passkeys, each a way in on its own ("Sign in with a passkey"), when the server can
    /// check them.
    pub passkeys: usize,
}

/// What the server offers now, which decides whether a stored method is a way in.
#[derive(Clone, Copy)]
pub struct Offered<F: Fn(&str) -> bool> {
    /// Whether a provider is configured and enabled now.
    pub provider: F,
    /// Whether passkeys are on (the issuer is on a domain name).
    pub passkeys: bool,
}

/// One way in that a person asks to remove.
#[derive(Debug, Clone, Copy)]
pub enum Method<'a> {
    /// A linked external identity.
    Link { provider: &'a str, subject: &'a str },
    /// A passkey, by its credential id (base64url).
    Passkey { credential_id: &'a str },
}

impl SignInMethods {
    /// How many independent ways in there are.
    pub fn count(&self) -> usize {
        usize::from(self.password) + self.linked.len() + self.passkeys
    }

    /// Whether the link to `provider`/`subject` is one of these and another way in remains.
    pub fn may_unlink(&self, provider: &str, subject: &str) -> bool {
        let is_usable_link = self
            .linked
            .iter()
            .any(|l| l.provider_id == provider && l.subject == subject);
        // A link to a disabled provider is no way in: removing it never locks anyone out.
        !is_usable_link || self.count() > 1
    }
}

/// The sign-in methods of `user_id` that work with what the server `offered` now.
pub async fn of_user<C: ConnectionTrait, F: Fn(&str) -> bool>(
    db: &C,
    user_id: &str,
    offered: &Offered<F>,
) -> Result<Option<SignInMethods>, DbErr> {
    let Some(user) = users::find(db, user_id).await? else {
        return Ok(None);
    };
    let linked = federated::for_user(db, user_id)
        .await?
        .into_iter()
        .filter(|l| (offered.provider)(&l.provider_id))
        .collect();
    let passkeys = if offered.passkeys {
        passkeys::for_user(db, user_id).await?.len()
    } else {
        0
    };
    Ok(Some(SignInMethods {
        password: user.password_hash.is_some(),
        linked,
        passkeys,
    }))
}

/// Why a way in was not removed.
#[derive(Debug, thiserror::Error)]
pub enum RemovalError {
    #[error("that way in does not belong to this account")]
    NotFound,
    #[error("it is the last way to sign in to this account")]
    LastMethod,
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Removes a linked identity or a passkey unless it is the account's last way in. The check and
/// the removal run in one transaction that holds the account's lock, so two removals at once
/// cannot both pass it.
pub async fn remove<C: ConnectionTrait + TransactionTrait, F: Fn(&str) -> bool>(
    db: &C,
    user_id: &str,
    method: Method<'_>,
    offered: &Offered<F>,
) -> Result<(), RemovalError> {
    let txn = db.begin().await?;
    if !lock_account(&txn, user_id).await? {
        return Err(RemovalError::NotFound);
    }
    let methods = of_user(&txn, user_id, offered).await?.ok_or(RemovalError::NotFound)?;
    match method {
        Method::Link { provider, subject } => {
            let link = federated::find(&txn, provider, subject).await?;
            if link.is_none_or(|l| l.user_id != user_id) {
                return Err(RemovalError::NotFound);
            }
            if !methods.may_unlink(provider, subject) {
                return Err(RemovalError::LastMethod);
            }
            federated::unlink(&txn, provider, subject, user_id).await?;
            let event = Event::new(EventKind::IdentityUnlinked, Actor::Person(user_id.to_owned()))
                .user(user_id)
                .provider(provider);
            crate::audit::record(&txn, event).await?;
        }
        Method::Passkey { credential_id } => {
            let owned = passkeys::find(&txn, credential_id).await?;
            if owned.is_none_or(|p| p.user_id != user_id) {
                return Err(RemovalError::NotFound);
            }
            // A passkey counts as a way in only while passkeys are on; when off, it can go.
            if offered.passkeys && methods.count() <= 1 {
                return Err(RemovalError::LastMethod);
            }
            passkeys::remove(&txn, user_id, credential_id).await?;
            let event = Event::new(EventKind::MfaRemoved, Actor::Person(user_id.to_owned()))
                .user(user_id)
                .method("passkey");
            crate::audit::record(&txn, event).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(provider: &str) -> FederatedIdentity {
        FederatedIdentity {
            provider_id: provider.into(),
            subject: format!("{provider}-sub"),
            user_id: "u".into(),
            linked_at: 0,
            last_login_at: 0,
            last_claims: "{}".into(),
        }
    }

    #[test]
    fn the_only_link_of_an_account_without_a_password_stays() {
        let m = SignInMethods {
            password: false,
            linked: vec![link("corp")],
            passkeys: 0,
        };
        assert!(!m.may_unlink("corp", "corp-sub"));
    }

    #[test]
    fn a_link_may_go_when_a_password_or_another_link_remains() {
        let with_password = SignInMethods {
            password: true,
            linked: vec![link("corp")],
            passkeys: 0,
        };
        assert!(with_password.may_unlink("corp", "corp-sub"));
        let two_links = SignInMethods {
            password: false,
            linked: vec![link("corp"), link("github")],
            passkeys: 0,
        };
        assert!(two_links.may_unlink("corp", "corp-sub"));
    }

    #[test]
    fn a_passkey_is_a_way_in_that_lets_the_only_link_go() {
        let m = SignInMethods {
            password: false,
            linked: vec![link("corp")],
            passkeys: 1,
        };
        assert_eq!(m.count(), 2);
        assert!(m.may_unlink("corp", "corp-sub"));
    }

    #[test]
    fn a_link_to_a_disabled_provider_is_no_way_in_and_may_always_go() {
        // "old" is not among the usable links (its provider was removed from the config).
        let m = SignInMethods {
            password: false,
            linked: vec![link("corp")],
            passkeys: 0,
        };
        assert!(m.may_unlink("old", "old-sub"));
        assert_eq!(m.count(), 1);
    }

    /// A password-less account with one passkey, in an in-memory database.
    async fn passkey_only_account() -> (sea_orm::DatabaseConnection, String) {
        let db = crate::store::memory_db().await;
        let user = users::create_sample(&db, "pat").await;
        let key = passkeys::NewPasskey {
            credential_id: "cred-1",
            user_id: &user.id,
            user_handle: "handle",
            name: "Phone",
            passkey_json: "{}".into(),
        };
        assert!(passkeys::insert(&db, key, 0).await.unwrap());
        (db, user.id)
    }

    #[tokio::test]
    async fn the_only_passkey_of_an_account_without_a_password_stays() {
        let (db, user_id) = passkey_only_account().await;
        let on = Offered {
            provider: |_: &str| true,
            passkeys: true,
        };
        let only = Method::Passkey {
            credential_id: "cred-1",
        };
        let refused = remove(&db, &user_id, only, &on).await;
        assert!(matches!(refused, Err(RemovalError::LastMethod)), "{refused:?}");
        assert_eq!(passkeys::for_user(&db, &user_id).await.unwrap().len(), 1);
        // Someone else's or an unknown credential is not found, whoever asks.
        let unknown = Method::Passkey {
            credential_id: "cred-2",
        };
        assert!(matches!(
            remove(&db, &user_id, unknown, &on).await,
            Err(RemovalError::NotFound)
        ));
        // With passkeys off on this server it is no way in, so it may go.
        let off = Offered {
            provider: |_: &str| true,
            passkeys: false,
        };
        remove(&db, &user_id, only, &off).await.unwrap();
        assert!(passkeys::for_user(&db, &user_id).await.unwrap().is_empty());
    }
}
