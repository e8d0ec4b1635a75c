//! Upstream logins the account page starts: to link another provider, or to confirm deleting
//! an account that has no password. They run through the broker's ordinary start and callback,
//! bound to this browser exactly as a sign-in is (`broker::binding`): the provider's answer is
//! accepted only in the browser whose session holds the secret. What the login is for is kept
//! in that session too, under a random id that stands in the login's server-side state where a
//! sign-in keeps its interaction id, so the callback can tell the two apart.
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{account_url, tell};
use crate::account::deletion::signed_in_afresh;
use crate::account::linking::{link_to_account, LinkOutcome};
use crate::state::AppState;
use crate::store::{federated, now, random_token};
use crate::upstream::{ExternalIdentity, LoginStart, Upstream, UpstreamError};
use crate::web::continuation::active_login;
use crate::web::error::{Link, PageError};
use crate::web::login_session::LoginSession;
use crate::web::see_other;
use crate::web::upstream_start::{browser_hash, explain, provider_of, send_to_provider};

const INTENT_KEY: &str = "account_upstream";
const CONFIRMED_KEY: &str = "account_confirmed";
/// How long a confirmation at the provider stands for deleting the account.
pub(super) const CONFIRMATION_SECS: i64 = 300;

/// What an upstream login started from the account page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Link the identity to the signed-in account.
    Link,
    /// Prove it is the account's owner before deleting it.
    ConfirmDeletion,
}

/// An upstream login the account page started in this browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpstreamIntent {
    /// Stands in the login's server-side state for an interaction id.
    id: String,
    user_id: String,
    /// The sign-in it was started from: it must still be this browser's.
    sid: String,
    provider: String,
    purpose: Purpose,
    /// When it was started: a confirmation must be a sign-in at the provider made since.
    #[serde(default)]
    started_at: i64,
}

/// A recent confirmation at a provider, for deleting the account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Confirmation {
    user_id: String,
    sid: String,
    /// The provider's display name.
    pub provider_name: String,
    at: i64,
}

fn back_to_account(state: &AppState, title: &str, message: &str) -> PageError {
    PageError::with_link(
        title,
        message,
        account_url(state),
        &crate::i18n::text("link-back-to-account"),
    )
}

/// Starts a login at `provider_id` for `purpose`, on behalf of the signed-in `login`.
pub(super) async fn start(
    state: &AppState,
    session: &Session,
    login: &LoginSession,
    provider_id: &str,
    purpose: Purpose,
) -> Result<Response, PageError> {
    let provider = provider_of(state, provider_id)?;
    let intent = UpstreamIntent {
        id: random_token(),
        user_id: login.user_id.clone(),
        sid: login.sid.clone(),
        provider: provider_id.to_owned(),
        purpose,
        started_at: now(),
    };
    session.insert(INTENT_KEY, &intent).await?;
    let browser = browser_hash(session, true).await?.unwrap_or_default();
    let start = LoginStart {
        interaction_id: &intent.id,
        login_hint: None,
        browser_hash: &browser,
        reauthenticate: purpose == Purpose::ConfirmDeletion,
    };
    match provider.begin(start).await {
        Ok(start) => Ok(send_to_provider(state, provider.as_ref(), start)),
        Err(e) => {
            tracing::warn!(provider = provider_id, error = %e, "upstream login from the account page could not start");
            Err(back_to_account(
                state,
                &format!("{} could not be reached", provider.config().name),
                &explain(&e),
            ))
        }
    }
}

/// The account page's login that the callback for `interaction_id` finishes, taken from this
/// browser's session; `None` when the callback belongs to a sign-in.
pub async fn upstream_intent(session: &Session, interaction_id: &str) -> Result<Option<UpstreamIntent>, PageError> {
    let intent: Option<UpstreamIntent> = session.get(INTENT_KEY).await?;
    match intent {
        Some(intent) if intent.id == interaction_id => {
            session.remove_value(INTENT_KEY).await?;
            Ok(Some(intent))
        }
        _ => Ok(None),
    }
}

/// Finishes an account-page login at the broker's callback: links the identity, or records the
/// confirmation for deleting the account.
pub async fn finish_upstream(
    state: &AppState,
    session: &Session,
    provider: &dyn Upstream,
    intent: UpstreamIntent,
    result: Result<ExternalIdentity, UpstreamError>,
) -> Result<Response, PageError> {
    let name = provider.config().name.clone();
    let identity = result.map_err(|e| {
        tracing::warn!(provider = %intent.provider, error = %e, "upstream login from the account page failed");
        back_to_account(state, &named("upstream-did-not-confirm", &name), &explain(&e))
    })?;
    // The sign-in that started this must still be this browser's, for the same account.
    let Some((login, user)) = active_login(state, session).await? else {
        return Err(back_to_account(
            state,
            &crate::i18n::text("upstream-signed-out-title"),
            &crate::i18n::text("upstream-signed-out"),
        ));
    };
    if login.sid != intent.sid || user.id != intent.user_id || identity.provider != intent.provider {
        return Err(back_to_account(
            state,
            &crate::i18n::text("upstream-not-recognised-title"),
            &crate::i18n::text("upstream-not-recognised"),
        ));
    }
    match intent.purpose {
        Purpose::Link => link(state, session, &identity, &user.id, &name).await,
        Purpose::ConfirmDeletion => {
            let owned = federated::find(&state.db, &identity.provider, &identity.subject)
                .await?
                .is_some_and(|l| l.user_id == user.id);
            if !owned {
                let title = crate::i18n::text("upstream-not-this-account-title");
                return Err(back_to_account(
                    state,
                    &title,
                    &named("upstream-not-this-account", &name),
                ));
            }
            if !signed_in_afresh(provider.config().kind, &identity.raw_claims, intent.started_at) {
                tracing::warn!(provider = %intent.provider, user_id = %user.id, auth_time = ?identity.raw_claims.get("auth_time"), "deletion not confirmed: no new sign-in at the provider");
                return Err(back_to_account(
                    state,
                    &named("upstream-no-new-sign-in-title", &name),
                    &named("upstream-no-new-sign-in", &name),
                ));
            }
            let confirmation = Confirmation {
                user_id: user.id.clone(),
                sid: login.sid.clone(),
                provider_name: name,
                at: now(),
            };
            session.insert(CONFIRMED_KEY, confirmation).await?;
            Ok(see_other(&format!("{}/delete", account_url(state))))
        }
    }
}

/// The message `key` about the provider called `name`.
fn named(key: &str, name: &str) -> String {
    crate::i18n::text_with(key, &[("provider", crate::i18n::arg(name))])
}

/// Links `identity` to the account `user_id` and says how that went.
async fn link(
    state: &AppState,
    session: &Session,
    identity: &ExternalIdentity,
    user_id: &str,
    name: &str,
) -> Result<Response, PageError> {
    match link_to_account(&state.db, identity, user_id).await? {
        LinkOutcome::Linked => {
            tell(session, named("upstream-linked", name)).await?;
            Ok(see_other(&account_url(state)))
        }
        LinkOutcome::AlreadyYours => {
            tell(session, named("upstream-already-linked", name)).await?;
            Ok(see_other(&account_url(state)))
        }
        LinkOutcome::OtherAccount => {
            tracing::warn!(provider = %identity.provider, %user_id, "link refused: the identity belongs to another account");
            Err(PageError::BadRequest {
                title: crate::i18n::text("upstream-other-account-title"),
                message: named("upstream-other-account", name),
                link: Some(Link {
                    href: account_url(state),
                    label: crate::i18n::text("link-back-to-account"),
                }),
            })
        }
    }
}

/// A confirmation at a provider for this sign-in, made within [`CONFIRMATION_SECS`].
pub(super) async fn recent_confirmation(
    session: &Session,
    login: &LoginSession,
) -> Result<Option<Confirmation>, PageError> {
    let confirmation: Option<Confirmation> = session.get(CONFIRMED_KEY).await?;
    Ok(confirmation.filter(|c| c.user_id == login.user_id && c.sid == login.sid && now() - c.at <= CONFIRMATION_SECS))
}
