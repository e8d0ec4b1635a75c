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

/// The started login `state` names, without consuming it (to say why a take was refused).
pub async fn find<C: ConnectionTrait>(
    db: &C,
    state: &str,
    provider_id: &str,
) -> Result<Option<UpstreamStateRow>, DbErr> {
    let row = upstream_state::Entity::find_by_id(state.to_owned()).one(db).await?;
    Ok(row.filter(|r| r.provider_id == provider_id && r.consumed_at.is_none() && r.expires_at > now()))
}

/// Takes the state once: `None` when unknown, for another provider, expired or already used.
pub async fn take<C: ConnectionTrait>(
    db: &C,
    state: &str,
    provider_id: &str,
) -> Result<Option<UpstreamStateRow>, DbErr> {
    take_where(db, state, provider_id, None).await
}

/// Takes the state once, only for the browser whose secret hashes to `browser_hash`: one
/// statement (UPDATE … RETURNING), and for any other browser nothing is consumed. The hash is
/// of a server-made secret the browser cannot choose, so comparing it in SQL gives nothing away.
pub async fn take_in_browser<C: ConnectionTrait>(
    db: &C,
    state: &str,
    provider_id: &str,
    browser_hash: &str,
) -> Result<Option<UpstreamStateRow>, DbErr> {
    take_where(db, state, provider_id, Some(browser_hash)).await
}

async fn take_where<C: ConnectionTrait>(
    db: &C,
    state: &str,
    provider_id: &str,
    browser_hash: Option<&str>,
) -> Result<Option<UpstreamStateRow>, DbErr> {
    let t = now();
    let mut update = upstream_state::Entity::update_many()
        .col_expr(upstream_state::Column::ConsumedAt, Expr::value(t))
        .filter(upstream_state::Column::State.eq(state))
        .filter(upstream_state::Column::ProviderId.eq(provider_id))
        .filter(upstream_state::Column::ConsumedAt.is_null())
        .filter(upstream_state::Column::ExpiresAt.gt(t));
    if let Some(hash) = browser_hash {
        update = update.filter(upstream_state::Column::BrowserHash.eq(hash));
    }
    Ok(update.exec_with_returning(db).await?.into_iter().next())
}

/// Deletes states that expired a day ago or more.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = upstream_state::Entity::delete_many()
        .filter(upstream_state::Column::ExpiresAt.lt(now() - 86_400))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn started(db: &sea_orm::DatabaseConnection, state: &str) {
        let new = NewUpstreamState {
            state,
            provider_id: "corp",
            interaction_id: "ix",
            browser_hash: "hash-of-the-starting-browser",
            nonce: "",
            pkce_verifier: "",
        };
        create(db, new).await.unwrap();
    }

    #[tokio::test]
    async fn only_the_starting_browser_takes_the_state_and_another_consumes_nothing() {
        let db = crate::store::memory_db().await;
        started(&db, "s1").await;
        assert!(take_in_browser(&db, "s1", "corp", "another-browser")
            .await
            .unwrap()
            .is_none());
        assert!(
            find(&db, "s1", "corp").await.unwrap().is_some(),
            "still usable where it began"
        );
        assert!(
            take_in_browser(&db, "s1", "other-provider", "hash-of-the-starting-browser")
                .await
                .unwrap()
                .is_none()
        );
        let row = take_in_browser(&db, "s1", "corp", "hash-of-the-starting-browser")
            .await
            .unwrap();
        assert_eq!(row.map(|r| r.interaction_id).as_deref(), Some("ix"));
        assert!(take_in_browser(&db, "s1", "corp", "hash-of-the-starting-browser")
            .await
            .unwrap()
            .is_none());
        assert!(take(&db, "s1", "corp").await.unwrap().is_none(), "single use");
    }

    #[tokio::test]
    async fn an_expired_state_is_not_taken() {
        let db = crate::store::memory_db().await;
        started(&db, "s2").await;
        upstream_state::Entity::update_many()
            .col_expr(upstream_state::Column::ExpiresAt, Expr::value(now() - 1))
            .filter(upstream_state::Column::State.eq("s2"))
            .exec(&db)
            .await
            .unwrap();
        assert!(take_in_browser(&db, "s2", "corp", "hash-of-the-starting-browser")
            .await
            .unwrap()
            .is_none());
        assert!(take(&db, "s2", "corp").await.unwrap().is_none());
    }
}
