//! Ending a sign-in session everywhere: the session record, its non-offline refresh tokens,
//! and a logout notification queued for every client that took part in it.
use sea_orm::{DatabaseConnection, DbErr};

use super::login::LoginSession;
use crate::backchannel::BackchannelNotifier;
use crate::store::backchannel_outbox::{self as outbox, NewNotification};
use crate::store::clients::ClientRegistry;
use crate::store::{login_sessions, refresh_tokens, session_clients};

/// What ending a session needs: the database, the clients, who we are, and the delivery task.
#[derive(Clone, Copy)]
pub struct SignOut<'a> {
    pub db: &'a DatabaseConnection,
    pub clients: &'a ClientRegistry,
    pub notifier: &'a BackchannelNotifier,
    pub issuer: &'a str,
}

/// What ending a session leaves for the logout page to do.
#[derive(Debug, Default)]
pub struct Ended {
    /// Front-channel logout URLs (with `iss` and `sid`) to load in iframes.
    pub frontchannel: Vec<String>,
    /// For a brokered session: the provider and its session handle, to log out there too.
    pub upstream: Option<(String, Option<String>)>,
}

/// Ends a sign-in session by its sid, wherever its browser is.
pub async fn terminate(ctx: SignOut<'_>, login: &LoginSession) -> Result<Ended, DbErr> {
    let mut ended = Ended::default();
    login_sessions::end(ctx.db, &login.sid).await?;
    ended.upstream = login.idp.clone().map(|p| (p, login.upstream_session.clone()));
    refresh_tokens::revoke_session(ctx.db, &login.sid).await?;
    let clients = session_clients::of_session(ctx.db, &login.sid).await?;
    let mut queued = 0;
    for client_id in clients {
        let Some(client) = ctx.clients.get(&client_id).await? else {
            continue;
        };
        if let Some(front) = &client.frontchannel_logout_uri {
            ended.frontchannel.push(crate::urls::with_query(
                front,
                &[("iss", ctx.issuer), ("sid", login.sid.as_str())],
            ));
        }
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        outbox::enqueue(
            ctx.db,
            NewNotification {
                client_id: client.id.clone(),
                uri,
                alg: client.id_token_alg.as_str().into(),
                sub: login.user_id.clone(),
                sid: login.sid.clone(),
            },
        )
        .await?;
        queued += 1;
    }
    // Only once every notification is stored: a crash before this leaves the list to retry from.
    session_clients::forget(ctx.db, &login.sid).await?;
    if queued > 0 {
        ctx.notifier.wake();
    }
    Ok(ended)
}

/// Ends every open sign-in session of a user except `keep_sid` (the browser that changed the
/// password), each as [`terminate`] would, and revokes all the user's refresh tokens except
/// those of `keep_sid`. Returns how many sessions ended.
pub async fn end_all_of_user(ctx: SignOut<'_>, user_id: &str, keep_sid: Option<&str>) -> Result<usize, DbErr> {
    // Every session not ended yet, however idle: an idle one may still hold refresh tokens.
    let open = login_sessions::live_for_user(ctx.db, user_id, i64::MAX / 4, i64::MAX / 4).await?;
    let mut ended = 0;
    for row in open.into_iter().filter(|r| Some(r.sid.as_str()) != keep_sid) {
        let login = LoginSession {
            user_id: row.user_id,
            sid: row.sid,
            auth_time: row.created_at,
            amr: serde_json::from_str(&row.amr).unwrap_or_default(),
            idp: row.idp,
            upstream_session: None,
            interaction: None,
        };
        terminate(ctx, &login).await?;
        ended += 1;
    }
    refresh_tokens::revoke_user(ctx.db, user_id, keep_sid).await?;
    Ok(ended)
}
