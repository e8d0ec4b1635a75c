//! The "review your profile" answer: a new account from the identity and the person's choices.
use sea_orm::DatabaseConnection;

use super::{create_and_link, new_user_from, BrokerError, LinkingPolicy, Refusal};
use crate::config::ProviderConfig;
use crate::names::{normalize_email, NAME_MAX_CHARS};
use crate::store::users::{User, UserError};
use crate::upstream::ExternalIdentity;

/// What the person chose (or, at first, what the claims suggest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileAnswer {
    pub username: String,
    pub email: String,
    pub name: String,
}

/// Why an answer did not make an account; the page asks again.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("invalid email address")]
    InvalidEmail,
    #[error("name longer than {NAME_MAX_CHARS} characters")]
    NameTooLong,
    #[error("username taken")]
    UsernameTaken,
    /// The username breaks a rule; says which.
    #[error("invalid username: it {0}")]
    InvalidUsername(String),
    #[error("email taken")]
    EmailTaken,
    #[error(transparent)]
    Broker(BrokerError),
}

/// Whether this provider may create accounts at all.
pub fn may_create(provider: &ProviderConfig) -> Result<(), Refusal> {
    match provider.linking {
        LinkingPolicy::LinkOnly => Err(Refusal::LinkOnly),
        _ => Ok(()),
    }
}

/// The form as first shown: what the claims suggest.
pub fn suggestion(provider: &ProviderConfig, id: &ExternalIdentity) -> ProfileAnswer {
    let new = new_user_from(provider, id, None, None);
    ProfileAnswer {
        username: new.username,
        email: new.email.unwrap_or_default(),
        name: new.name.unwrap_or_default(),
    }
}

/// Creates the account the person chose and links the identity to it.
pub async fn create_from(
    db: &DatabaseConnection,
    provider: &ProviderConfig,
    id: &ExternalIdentity,
    answer: &ProfileAnswer,
) -> Result<User, ProfileError> {
    let email = normalize_email(&answer.email).map_err(|_| ProfileError::InvalidEmail)?;
    if answer.name.chars().count() > NAME_MAX_CHARS {
        return Err(ProfileError::NameTooLong);
    }
    let mut new = new_user_from(provider, id, Some(answer.username.trim().to_owned()), Some(email));
    if !answer.name.trim().is_empty() {
        new.name = Some(answer.name.trim().to_owned());
    }
    create_and_link(db, id, new).await.map_err(|e| match e {
        BrokerError::User(UserError::UsernameTaken(_)) => ProfileError::UsernameTaken,
        BrokerError::User(UserError::InvalidUsername(why)) => ProfileError::InvalidUsername(why.to_string()),
        BrokerError::User(UserError::EmailTaken) => ProfileError::EmailTaken,
        BrokerError::User(UserError::InvalidEmail(_)) => ProfileError::InvalidEmail,
        other => ProfileError::Broker(other),
    })
}
