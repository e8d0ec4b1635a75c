//! Deleting an account: every row about the person goes in one transaction, and every client
//! that took part in one of their live sessions is told through back-channel logout (the
//! notifications are stored in the outbox in the same transaction, so none is lost and none
//! is sent for a deletion that did not happen).
use std::collections::HashMap;

use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};

use crate::flow::signout::SignOut;
use crate::store::account_removal::{lock_account, remove_account};
use crate::store::backchannel_outbox::{self as outbox, NewNotification};
use crate::store::clients;
use crate::store::entities::session_client;

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
