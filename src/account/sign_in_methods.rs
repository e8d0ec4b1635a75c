//! The ways a person can sign in to their account, and the rule that the last one stays:
//! removing it would lock them out for good (there is no one to ask).
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

use crate::store::account_removal::lock_account;
use crate::store::federated::{self, FederatedIdentity};
use crate::store::users;

/// How a person can sign in today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInMethods {
    /// The account has a local password.
    pub password: bool,
    /// Linked external identities at providers that are enabled now (a link to a provider the
    /// operator removed signs nobody in).
    pub linked: Vec<FederatedIdentity>,
}

impl SignInMethods {
    /// How many independent ways in there are.
    pub fn count(&self) -> usize {
        usize::from(self.password) + self.linked.len()
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

/// The sign-in methods of `user_id`; `enabled` says which providers are configured now.
pub async fn of_user<C: ConnectionTrait>(
    db: &C,
    user_id: &str,
    enabled: impl Fn(&str) -> bool,
) -> Result<Option<SignInMethods>, DbErr> {
    let Some(user) = users::find(db, user_id).await? else {
        return Ok(None);
    };
    let linked = federated::for_user(db, user_id)
        .await?
        .into_iter()
        .filter(|l| enabled(&l.provider_id))
        .collect();
    Ok(Some(SignInMethods {
        password: user.password_hash.is_some(),
        linked,
    }))
}

/// Why a link was not removed.
#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    #[error("that external identity is not linked to this account")]
    NotLinked,
    #[error("it is the last way to sign in to this account")]
    LastMethod,
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Removes the link unless it is the account's last way in. The check and the removal run in
/// one transaction that holds the account's lock, so two removals at once cannot both pass it.
pub async fn unlink<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: &str,
    provider: &str,
    subject: &str,
    enabled: impl Fn(&str) -> bool,
) -> Result<(), UnlinkError> {
    let txn = db.begin().await?;
    if !lock_account(&txn, user_id).await? {
        return Err(UnlinkError::NotLinked);
    }
    let methods = of_user(&txn, user_id, enabled).await?.ok_or(UnlinkError::NotLinked)?;
    let link = federated::find(&txn, provider, subject).await?;
    if link.is_none_or(|l| l.user_id != user_id) {
        return Err(UnlinkError::NotLinked);
    }
    if !methods.may_unlink(provider, subject) {
        return Err(UnlinkError::LastMethod);
    }
    federated::unlink(&txn, provider, subject, user_id).await?;
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
        };
        assert!(!m.may_unlink("corp", "corp-sub"));
    }

    #[test]
    fn a_link_may_go_when_a_password_or_another_link_remains() {
        let with_password = SignInMethods {
            password: true,
            linked: vec![link("corp")],
        };
        assert!(with_password.may_unlink("corp", "corp-sub"));
        let two_links = SignInMethods {
            password: false,
            linked: vec![link("corp"), link("github")],
        };
        assert!(two_links.may_unlink("corp", "corp-sub"));
    }

    #[test]
    fn a_link_to_a_disabled_provider_is_no_way_in_and_may_always_go() {
        // "old" is not among the usable links (its provider was removed from the config).
        let m = SignInMethods {
            password: false,
            linked: vec![link("corp")],
        };
        assert!(m.may_unlink("old", "old-sub"));
        assert_eq!(m.count(), 1);
    }
}
