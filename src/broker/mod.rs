//! The identity broker: an [`ExternalIdentity`] from any upstream becomes a local user —
//! returning, linked, created, or asked about — by the provider's policy.
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::config::ProviderConfig;
use crate::names::{self, Username};
use crate::store::federated;
use crate::store::users::{self, NewUser, SyncedAttributes, User, UserError};
use crate::upstream::ExternalIdentity;

pub mod binding;
pub mod handoff;
pub mod idp_initiated;
pub mod policy;
pub mod profile;
pub mod resolve;

/// What happens at a provider's first login for an external identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkingPolicy {
    /// Create a local account (ask first when one with the same email exists).
    #[default]
    Create,
    /// Link to the account with the same email when the provider is trusted for email and says
    /// it is verified; otherwise as `create`.
    LinkByVerifiedEmail,
    /// Never create: only people who already have a local account may use this provider.
    LinkOnly,
}

/// When upstream claims overwrite local attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// At the first login only.
    #[default]
    Import,
    /// At every login.
    Force,
}

/// Why the person must be asked before continuing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileProblem {
    UsernameTaken,
    MissingEmail,
    InvalidUsername,
    /// Another account took the address meanwhile.
    EmailTaken,
}

/// Why the broker will not sign this identity in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The linked local account is disabled.
    AccountDisabled,
    /// The linked local account was deleted.
    AccountGone,
    /// The provider only serves existing accounts, and none matches (`link_only`).
    LinkOnly,
}

/// What the broker decided for an external identity.
#[derive(Debug)]
pub enum LinkDecision {
    /// Known identity: sign in as its user.
    Returning(User),
    /// Link to the existing account whose email a trusted provider verified.
    LinkVerifiedEmail(User),
    /// Create a local account from the mapped claims.
    Create(NewUser),
    /// An account with this email exists but the email proves nothing: ask the person to sign in
    /// with that account's password (or, when allowed, to create a separate account).
    AskToLink { may_create: bool },
    /// Creating needs the person's input first (username collision, missing email).
    ReviewProfile(ProfileProblem),
    /// The provider's policy forbids this login.
    Refuse(Refusal),
}

/// `raw` cut to what a username may hold: the part before any `@` (an email-like upstream
/// name such as a UPN loses its domain), allowed characters only, starting with a letter or digit.
fn username_from(raw: &str) -> String {
    let local = raw.split('@').next().unwrap_or_default();
    let cleaned: String = local
        .chars()
        .filter(|c| c.is_alphanumeric() || "._-".contains(*c))
        .skip_while(|c| !c.is_alphanumeric())
        .take(names::USERNAME_MAX_CHARS)
        .collect();
    cleaned
}

fn suggested_username(id: &ExternalIdentity) -> String {
    let from_claims = id
        .username
        .as_deref()
        .or(id.email.as_deref())
        .map(username_from)
        .filter(|u| Username::parse(u).is_ok());
    from_claims.unwrap_or_else(|| username_from(&format!("{}-{}", id.provider, id.subject)))
}

/// The local account the claims describe (the person may still change it on the profile page).
pub fn new_user_from(
    provider: &ProviderConfig,
    id: &ExternalIdentity,
    username: Option<String>,
    email: Option<String>,
) -> NewUser {
    let email = email.or_else(|| id.email.clone());
    // Only the provider's own, trusted, verified address counts as verified.
    let verified = provider.trust_email && id.email_verified && email.is_some() && email == id.email;
    NewUser {
        username: username.unwrap_or_else(|| suggested_username(id)),
        email,
        email_verified: verified,
        // Bounded like a name typed on the register page, whatever the provider sends.
        name: id
            .name
            .as_ref()
            .map(|n| n.chars().take(names::NAME_MAX_CHARS).collect()),
        password: None,
        groups: id.groups.clone(),
    }
}

/// Decides, reading but never writing.
pub async fn decide(
    db: &DatabaseConnection,
    provider: &ProviderConfig,
    id: &ExternalIdentity,
) -> Result<LinkDecision, DbErr> {
    if let Some((_, user)) = federated::find_with_user(db, &id.provider, &id.subject).await? {
        return Ok(match user {
            Some(u) if !u.disabled => LinkDecision::Returning(u),
            Some(_) => LinkDecision::Refuse(Refusal::AccountDisabled),
            None => LinkDecision::Refuse(Refusal::AccountGone),
        });
    }
    let same_email = match &id.email {
        Some(e) => users::find_by_email(db, e).await?,
        None => None,
    };
    if let Some(holder) = same_email {
        // Silently only when both sides proved the address: the provider (trusted, verified)
        // and the local account itself. Otherwise whoever registered first with somebody else's
        // address would receive that person's federated logins (account pre-hijacking).
        let both_proved = provider.trust_email && id.email_verified && holder.email_verified;
        if both_proved && provider.linking != LinkingPolicy::Create && !holder.disabled {
            return Ok(LinkDecision::LinkVerifiedEmail(holder));
        }
        return Ok(LinkDecision::AskToLink {
            may_create: provider.linking != LinkingPolicy::LinkOnly,
        });
    }
    if provider.linking == LinkingPolicy::LinkOnly {
        return Ok(LinkDecision::Refuse(Refusal::LinkOnly));
    }
    if id.email.is_none() {
        return Ok(LinkDecision::ReviewProfile(ProfileProblem::MissingEmail));
    }
    let new = new_user_from(provider, id, None, None);
    if Username::parse(&new.username).is_err() {
        return Ok(LinkDecision::ReviewProfile(ProfileProblem::InvalidUsername));
    }
    if users::find_by_username(db, &new.username).await?.is_some() {
        return Ok(LinkDecision::ReviewProfile(ProfileProblem::UsernameTaken));
    }
    Ok(LinkDecision::Create(new))
}

/// Why the broker could not finish.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(transparent)]
    User(#[from] UserError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("this login is already linked to an account")]
    AlreadyLinked,
}

fn synced(id: &ExternalIdentity, provider: &ProviderConfig) -> SyncedAttributes {
    SyncedAttributes {
        email: id.email.clone(),
        email_verified: provider.trust_email && id.email_verified,
        name: id.name.clone(),
        groups: id.groups.clone(),
    }
}

/// Signs a returning identity in: records the login and, in `force` mode, re-syncs attributes.
pub async fn returning(
    db: &DatabaseConnection,
    provider: &ProviderConfig,
    id: &ExternalIdentity,
    user: User,
) -> Result<User, BrokerError> {
    // Unlinked since the decision: the login does not go on.
    if !federated::touch(db, &id.provider, &id.subject, &id.raw_claims).await? {
        return Err(BrokerError::Db(DbErr::RecordNotFound("federated identity".into())));
    }
    Ok(match provider.sync {
        SyncMode::Force => users::sync_attributes(db, user, synced(id, provider)).await?,
        SyncMode::Import => user,
    })
}

/// Links the identity to an existing user (verified email, or proven by password).
pub async fn link_existing(db: &DatabaseConnection, id: &ExternalIdentity, user: &User) -> Result<(), BrokerError> {
    if federated::find(db, &id.provider, &id.subject).await?.is_some() {
        return Err(BrokerError::AlreadyLinked);
    }
    federated::link(db, &id.provider, &id.subject, &user.id, &id.raw_claims).await?;
    crate::audit::record(db, linked(id, &user.id)).await?;
    tracing::info!(provider = %id.provider, user_id = %user.id, "linked external identity");
    Ok(())
}

/// Creates the local user and links the identity, in one transaction.
pub async fn create_and_link(
    db: &DatabaseConnection,
    id: &ExternalIdentity,
    new: NewUser,
) -> Result<User, BrokerError> {
    let txn = db.begin().await?;
    if federated::find(&txn, &id.provider, &id.subject).await?.is_some() {
        return Err(BrokerError::AlreadyLinked);
    }
    let user = users::create(&txn, new).await?;
    federated::link(&txn, &id.provider, &id.subject, &user.id, &id.raw_claims).await?;
    crate::audit::record(&txn, linked(id, &user.id).detail(serde_json::json!({"created": true}))).await?;
    txn.commit().await?;
    tracing::info!(provider = %id.provider, user_id = %user.id, username = %user.username, "created user from external identity");
    Ok(user)
}

/// The audit event of linking `id` to the account `user_id` (the person proved both).
fn linked(id: &ExternalIdentity, user_id: &str) -> crate::audit::Event {
    use crate::audit::{Actor, Event, EventKind};
    Event::new(EventKind::IdentityLinked, Actor::Person(user_id.to_owned()))
        .user(user_id)
        .provider(id.provider.clone())
        .method("federated")
}

#[cfg(test)]
mod tests;
