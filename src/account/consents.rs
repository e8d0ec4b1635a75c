//! The applications a person gave access to: remembered consent, or refresh tokens still
//! usable. Revoking one forgets the consent and ends the application's tokens for the person.
use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

use crate::store::{consent, refresh_tokens};

/// One application with access to the person's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAccess {
    pub client_id: String,
    /// What it may do (granted scopes, or the scopes of its refresh tokens).
    pub scopes: BTreeSet<String>,
    /// When access was first given (the grant, or the oldest usable token).
    pub since: i64,
    /// The person consented on the consent page (not only a client that asks no consent).
    pub consented: bool,
    /// It holds a refresh token it can still use.
    pub offline: bool,
}

/// Every application with access to `user_id`'s account, most recent first; `skip` is left
/// out (the account page itself).
pub async fn of_user<C: ConnectionTrait>(db: &C, user_id: &str, skip: &str) -> Result<Vec<AppAccess>, DbErr> {
    let mut apps: BTreeMap<String, AppAccess> = BTreeMap::new();
    for grant in consent::for_user(db, user_id).await? {
        apps.insert(
            grant.client_id.clone(),
            AppAccess {
                client_id: grant.client_id,
                scopes: grant.scope.split_whitespace().map(str::to_owned).collect(),
                since: grant.granted_at,
                consented: true,
                offline: false,
            },
        );
    }
    for token in refresh_tokens::usable_for_user(db, user_id).await? {
        let app = apps.entry(token.client_id.clone()).or_insert_with(|| AppAccess {
            client_id: token.client_id.clone(),
            scopes: BTreeSet::new(),
            since: token.created_at,
            consented: false,
            offline: false,
        });
        app.offline = true;
        if !app.consented {
            app.scopes.extend(token.scope.split_whitespace().map(str::to_owned));
            app.since = app.since.min(token.created_at);
        }
    }
    let mut list: Vec<AppAccess> = apps.into_values().filter(|a| a.client_id != skip).collect();
    list.sort_by(|a, b| b.since.cmp(&a.since).then_with(|| a.client_id.cmp(&b.client_id)));
    Ok(list)
}

/// Ends `client_id`'s access to `user_id`'s account: the consent is forgotten (the next sign-in
/// asks again) and its refresh and access tokens for the person are revoked, together.
/// `false` when it had none of these.
pub async fn revoke<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: &str,
    client_id: &str,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let withdrawn = consent::withdraw(&txn, user_id, client_id).await?;
    let revoked = refresh_tokens::revoke_client_access(&txn, user_id, client_id).await?;
    txn.commit().await?;
    Ok(withdrawn || revoked > 0)
}
