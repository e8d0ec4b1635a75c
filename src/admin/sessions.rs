//! Sign-in sessions: listing the live ones and ending them, as the person's own logout would
//! (the session refused on every node, its refresh tokens revoked, its clients told).
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::Serialize;

use super::{AdminError, Operator, Page, Paging};
use crate::audit::{self, Event, EventKind};
use crate::store::backchannel_outbox::{self as outbox, NewNotification};
use crate::store::entities::{access_token, client, login_session, refresh_token};
use crate::store::{login_sessions, now, refresh_tokens, session_clients};

/// A sign-in session.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The session id, as ID tokens carry it (`sid`).
    pub sid: String,
    pub user_id: String,
    /// How the person signed in (RFC 8176).
    pub amr: Vec<String>,
    /// The upstream provider of a brokered sign-in.
    pub idp: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last activity seen (noted at most once a minute).
    pub last_seen_at: i64,
}

impl From<login_sessions::LoginSessionRow> for SessionView {
    fn from(r: login_sessions::LoginSessionRow) -> Self {
        Self {
            amr: serde_json::from_str(&r.amr).unwrap_or_default(),
            sid: r.sid,
            user_id: r.user_id,
            idp: r.idp,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
        }
    }
}

/// The live sessions (not ended, not idle past `[session] idle_timeout`, younger than
/// `absolute_timeout`), newest first, of one user or of everybody.
pub async fn list(op: &Operator<'_>, user_id: Option<&str>, paging: Paging) -> Result<Page<SessionView>, AdminError> {
    let t = now();
    let s = &op.config.session;
    let mut find = login_session::Entity::find()
        .filter(login_session::Column::EndedAt.is_null())
        .filter(login_session::Column::LastSeenAt.gt(t - s.idle_timeout as i64))
        .filter(login_session::Column::CreatedAt.gt(t - s.absolute_timeout as i64));
    if let Some(u) = user_id {
        find = find.filter(login_session::Column::UserId.eq(u));
    }
    let ordered = find
        .order_by_desc(login_session::Column::CreatedAt)
        .order_by_asc(login_session::Column::Sid);
    Ok(paging.fetch(ordered, op.db).await?)
}

/// Ends one live session; its refresh tokens (but offline ones) are revoked and every client
/// with a back-channel logout URI is queued a logout token. Returns how many were queued
/// (the caller wakes the delivery task).
pub async fn end(op: &Operator<'_>, sid: &str) -> Result<u64, AdminError> {
    let txn = op.db.begin().await?;
    let row = login_sessions::find(&txn, sid)
        .await?
        .filter(|r| r.ended_at.is_none())
        .ok_or_else(|| AdminError::NotFound {
            what: "live session",
            id: sid.into(),
        })?;
    let user_id = row.user_id.clone();
    let queued = end_rows(&txn, vec![row]).await?;
    let event = Event::new(EventKind::Admin("session.end"), op.actor.clone())
        .user(user_id)
        .detail(serde_json::json!({"sid": sid}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(queued)
}

/// Ends these sessions inside the caller's transaction, as `flow::signout::terminate` does:
/// ended on every node, non-offline refresh tokens revoked, back-channel logouts queued.
pub(super) async fn end_rows<C: ConnectionTrait>(
    txn: &C,
    rows: Vec<login_sessions::LoginSessionRow>,
) -> Result<u64, sea_orm::DbErr> {
    let mut queued = 0;
    for row in rows {
        login_sessions::end(txn, &row.sid).await?;
        refresh_tokens::revoke_session(txn, &row.sid).await?;
        for client_id in session_clients::of_session(txn, &row.sid).await? {
            let Some(c) = client::Entity::find_by_id(client_id).one(txn).await? else {
                continue;
            };
            let Some(uri) = c.backchannel_logout_uri else {
                continue;
            };
            outbox::enqueue(
                txn,
                NewNotification {
                    client_id: c.id,
                    uri,
                    alg: c.id_token_signed_response_alg,
                    sub: row.user_id.clone(),
                    sid: row.sid.clone(),
                },
            )
            .await?;
            queued += 1;
        }
        session_clients::forget(txn, &row.sid).await?;
    }
    Ok(queued)
}

/// Every session of the user that has not ended.
pub(super) async fn open_sessions_of<C: ConnectionTrait>(
    txn: &C,
    user_id: &str,
) -> Result<Vec<login_sessions::LoginSessionRow>, sea_orm::DbErr> {
    login_session::Entity::find()
        .filter(login_session::Column::UserId.eq(user_id))
        .filter(login_session::Column::EndedAt.is_null())
        .all(txn)
        .await
}

/// Whose tokens to revoke.
#[derive(Debug, Clone, Copy)]
pub(super) enum TokensOf<'a> {
    User(&'a str),
    Client(&'a str),
}

/// Revokes every refresh token (offline ones too) and access token of a user or a client;
/// returns how many refresh tokens were live.
pub(super) async fn revoke_tokens<C: ConnectionTrait>(txn: &C, of: TokensOf<'_>) -> Result<u64, sea_orm::DbErr> {
    let t = now();
    let refresh = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(t))
        .filter(refresh_token::Column::RevokedAt.is_null());
    let access = access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(t))
        .filter(access_token::Column::RevokedAt.is_null());
    let (refresh, access) = match of {
        TokensOf::User(u) => (
            refresh.filter(refresh_token::Column::UserId.eq(u)),
            access.filter(access_token::Column::UserId.eq(u)),
        ),
        TokensOf::Client(c) => (
            refresh.filter(refresh_token::Column::ClientId.eq(c)),
            access.filter(access_token::Column::ClientId.eq(c)),
        ),
    };
    let n = refresh.exec(txn).await?.rows_affected;
    access.exec(txn).await?;
    Ok(n)
}
