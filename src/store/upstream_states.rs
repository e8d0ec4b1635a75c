//! Per-login transient state for upstream providers, keyed by the `state` the IdP echoes back.
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::upstream_state;
use super::now;

pub use upstream_state::Model as UpstreamStateRow;

/// How long a person may spend at the upstream provider.
pub const TTL_SECS: i64 = 600;

/// A started upstream login, as remembered.
#[derive(Debug, Clone, Copy)]
pub struct NewUpstreamState<'a> {
    /// What the IdP echoes back (`state`, SAML `RelayState`).
    pub state: &'a str,
    pub provider_id: &'a str,
    pub interaction_id: &'a str,
    /// The starting browser's secret hash.
    pub browser_hash: &'a str,
    /// OIDC nonce, or the SAML request id; empty when the protocol has none.
    pub nonce: &'a str,
    /// PKCE verifier; empty when not used.
    pub pkce_verifier: &'a str,
}

/// Remembers a started upstream login.
pub async fn create<C: ConnectionTrait>(db: &C, new: NewUpstreamState<'_>) -> Result<(), DbErr> {
    let t = now();
    upstream_state::ActiveModel {
        state: Set(new.state.to_owned()),
        provider_id: Set(new.provider_id.to_owned()),
        interaction_id: Set(new.interaction_id.to_owned()),
        browser_hash: Set(Some(new.browser_hash.to_owned())),
        nonce: Set(new.nonce.to_owned()),
        pkce_verifier: Set(new.pkce_verifier.to_owned()),
        created_at: Set(t),
        expires_at: Set(t + TTL_SECS),
        consumed_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The started login `state` names, without consuming it (to check the browser first).
pub async fn find<C: ConnectionTrait>(
    db: &C,
    state: &str,
    provider_id: &str,
) -> Result<Option<UpstreamStateRow>, DbErr> {
    let row = upstream_state::Entity::find_by_id(state.to_owned()).one(db).await?;
    Ok(row.filter(|r| r.provider_id == provider_id && r.consumed_at.is_none() && r.expires_at > now()))
}

/// Consumes the state `find` returned: `true` for exactly one of concurrent callers.
pub async fn consume<C: ConnectionTrait>(db: &C, state: &str) -> Result<bool, DbErr> {
    let res = upstream_state::Entity::update_many()
        .col_expr(upstream_state::Column::ConsumedAt, Expr::value(now()))
        .filter(upstream_state::Column::State.eq(state))
        .filter(upstream_state::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Takes the state once: `None` when unknown, for another provider, expired or already used.
pub async fn take<C: ConnectionTrait>(
    db: &C,
    state: &str,
    provider_id: &str,
) -> Result<Option<UpstreamStateRow>, DbErr> {
    let Some(row) = find(db, state, provider_id).await? else {
        return Ok(None);
    };
    Ok(consume(db, state).await?.then_some(row))
}

/// Deletes states that expired a day ago or more.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = upstream_state::Entity::delete_many()
        .filter(upstream_state::Column::ExpiresAt.lt(now() - 86_400))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
