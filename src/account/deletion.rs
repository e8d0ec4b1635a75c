//! Deleting an account: every row about the person goes in one transaction, and every client
//! that took part in one of their live sessions is told through back-channel logout (the
//! notifications are stored in the outbox in the same transaction, so none is lost and none
//! is sent for a deletion that did not happen).
use std::collections::HashMap;

use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};

use crate::config::ProviderKind;
use crate::flow::signout::SignOut;
use crate::store::account_removal::{lock_account, remove_account};
use crate::store::backchannel_outbox::{self as outbox, NewNotification};
use crate::store::clients;
use crate::store::entities::session_client;

/// How far behind ours a provider's clock may run when it says when the person signed in.
pub const UPSTREAM_CLOCK_LEEWAY_SECS: i64 = 10;

/// Whether a login at a provider, asked for at `asked_at` with re-authentication
/// (`LoginStart::reauthenticate`), shows that the person signed in there again rather than
/// riding on a session they already had. An OpenID provider must say when (`auth_time`, which
/// it owes in the answer to `max_age`), and not before the ask. OAuth 2.0 and SAML answers
/// carry no such time here: those providers are trusted to have honoured the request.
pub fn signed_in_afresh(kind: ProviderKind, claims: &serde_json::Value, asked_at: i64) -> bool {
    match kind {
        ProviderKind::Oidc => claims
            .get("auth_time")
            .and_then(serde_json::Value::as_i64)
            .is_some_and(|at| at >= asked_at - UPSTREAM_CLOCK_LEEWAY_SECS),
        ProviderKind::Oauth2 | ProviderKind::Saml => true,
    }
}

/// What deleting the account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Deleted; this many back-channel logout notifications were queued.
    Deleted { notifications: usize },
    /// There was no such account (deleted meanwhile).
    Gone,
}

/// Deletes `user_id` with everything that belongs to it.
pub async fn delete_account(ctx: SignOut<'_>, user_id: &str) -> Result<Deletion, DbErr> {
    let txn = ctx.db.begin().await?;
    // The lock first: a sign-in, link or grant racing this deletion waits for its outcome.
    if !lock_account(&txn, user_id).await? {
        return Ok(Deletion::Gone);
    }
    let touched = session_client::Entity::find()
        .filter(session_client::Column::UserId.eq(user_id))
        .all(&txn)
        .await?;
    let mut receivers: HashMap<String, Option<(String, String)>> = HashMap::new();
    let mut notifications = 0;
    for row in touched {
        if !receivers.contains_key(&row.client_id) {
            let client = clients::find(&txn, &row.client_id).await?;
            let receiver = client.and_then(|c| {
                c.backchannel_logout_uri
                    .clone()
                    .map(|uri| (uri, c.id_token_alg.as_str().to_owned()))
            });
            receivers.insert(row.client_id.clone(), receiver);
        }
        let Some(Some((uri, alg))) = receivers.get(&row.client_id) else {
            continue;
        };
        outbox::enqueue(
            &txn,
            NewNotification {
                client_id: row.client_id.clone(),
                uri: uri.clone(),
                alg: alg.clone(),
                sub: user_id.to_owned(),
                sid: row.sid.clone(),
            },
        )
        .await?;
        notifications += 1;
    }
    if !remove_account(&txn, user_id).await? {
        return Ok(Deletion::Gone);
    }
    txn.commit().await?;
    if notifications > 0 {
        ctx.notifier.wake();
    }
    tracing::info!(%user_id, notifications, "account deleted");
    Ok(Deletion::Deleted { notifications })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_upstream_sign_in_made_after_the_ask_confirms() {
        let asked = 1_000_000;
        let oidc = |claims| signed_in_afresh(ProviderKind::Oidc, &claims, asked);
        assert!(oidc(json!({"auth_time": asked + 3})));
        assert!(
            oidc(json!({"auth_time": asked - UPSTREAM_CLOCK_LEEWAY_SECS})),
            "a clock a little behind"
        );
        assert!(!oidc(json!({"auth_time": asked - 600})), "the session from before");
        assert!(!oidc(json!({"sub": "x"})), "no auth_time: not shown to be fresh");
        assert!(!oidc(json!({"auth_time": "soon"})));
        assert!(signed_in_afresh(ProviderKind::Saml, &json!({}), asked));
        assert!(signed_in_afresh(ProviderKind::Oauth2, &json!({}), asked));
    }
}
