//! From an arriving identity to an outcome the pages only render: signed in as a local user,
//! a question for the person, or a refusal. The one place brokered logins are decided.
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use super::{create_and_link, decide, link_existing, returning, BrokerError, LinkDecision, ProfileProblem, Refusal};
use crate::config::ProviderConfig;
use crate::store::users::{User, UserError};
use crate::upstream::ExternalIdentity;

/// What the person is asked before the identity can sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Question {
    /// An account with this email exists: prove it is yours with its password, or (when
    /// `may_create`) make a separate account.
    Link { may_create: bool },
    /// Choose the new account's username or email first.
    Profile(ProfileProblem),
}

/// The broker's answer for an arriving identity.
#[derive(Debug)]
pub enum Resolution {
    /// Sign in as this local user (returning, linked by verified email, or just created).
    SignedIn(User),
    /// Ask the person first.
    Ask(Question),
    /// The provider's policy or the account's state forbids this login.
    Refused(Refusal),
}

/// Decides for `identity` and carries the decision out (link, create, sync).
pub async fn resolve(
    db: &DatabaseConnection,
    provider: &ProviderConfig,
    identity: &ExternalIdentity,
) -> Result<Resolution, BrokerError> {
    Ok(match decide(db, provider, identity).await? {
        LinkDecision::Returning(user) => Resolution::SignedIn(returning(db, provider, identity, user).await?),
        LinkDecision::LinkVerifiedEmail(user) => {
            link_existing(db, identity, &user).await?;
            Resolution::SignedIn(user)
        }
        LinkDecision::Create(new) => match create_and_link(db, identity, new).await {
            Ok(user) => Resolution::SignedIn(user),
            // Lost a race for the username or email: let the person choose.
            Err(BrokerError::User(UserError::UsernameTaken(_))) => {
                Resolution::Ask(Question::Profile(ProfileProblem::UsernameTaken))
            }
            Err(BrokerError::User(UserError::EmailTaken)) => {
                Resolution::Ask(Question::Profile(ProfileProblem::EmailTaken))
            }
            Err(e) => return Err(e),
        },
        LinkDecision::AskToLink { may_create } => Resolution::Ask(Question::Link { may_create }),
        LinkDecision::ReviewProfile(problem) => Resolution::Ask(Question::Profile(problem)),
        LinkDecision::Refuse(refusal) => Resolution::Refused(refusal),
    })
}
