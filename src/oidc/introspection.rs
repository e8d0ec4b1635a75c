//! Token introspection (RFC 7662) for resource servers, which authenticate as confidential clients.
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::client_auth::ClientForm;
use super::token::{required, TokenError};
use crate::state::AppState;
use crate::store::refresh_tokens::{self, RefreshRow};
use crate::store::tokens::{self, AccessTokenRow};
use crate::store::users;

/// `POST /introspect`.
pub async fn introspect(State(state): State<AppState>, form: ClientForm) -> Result<Response, TokenError> {
    let mut res = Json(answer(&state, form).await?).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// What the caller may learn about the token it asks about (RFC 7662 §2.2).
async fn answer(state: &AppState, form: ClientForm) -> Result<Value, TokenError> {
    let ClientForm {
        params, client: caller, ..
    } = form;
    if caller.public {
        return Err(TokenError::UnauthorizedClient(
            "public clients may not introspect".into(),
        ));
    }
    let token = required(&params, "token")?;
    let issuer = state.issuer.clone();

    // RFC 7662 §4: a client learns about its own tokens only, unless trusted with every
    // client's; for any other token the answer is the same as for an unknown one.
    let may_see = |owner: &str| caller.introspect_any || owner == caller.id;

    if let Some(row) = tokens::find_active(&state.db, token).await? {
        if !may_see(&row.client_id) {
            tracing::warn!(caller = %caller.id, owner = %row.client_id, "introspection of another client's token refused");
            return Ok(inactive());
        }
        if row.machine {
            // client_credentials: the client is the subject; there is no user or session.
            return Ok(machine_token_info(&row, &issuer));
        }
        let user = enabled_user(state, &row.user_id).await?;
        return Ok(user.map_or_else(inactive, |user| access_token_info(&row, &user, &issuer)));
    }
    if let Some(row) = refresh_tokens::find(&state.db, token).await? {
        if !refresh_tokens::is_active(&row) || !may_see(&row.client_id) {
            return Ok(inactive());
        }
        let user = enabled_user(state, &row.user_id).await?;
        return Ok(user.map_or_else(inactive, |user| refresh_token_info(&row, &user, &issuer)));
    }
    Ok(inactive())
}

/// The answer for unknown, expired and revoked tokens, and for tokens the caller may not see.
fn inactive() -> Value {
    json!({ "active": false })
}

/// The token's user, unless disabled (their tokens are then inactive).
async fn enabled_user(state: &AppState, user_id: &str) -> Result<Option<users::User>, TokenError> {
    Ok(users::find(&state.db, user_id).await?.filter(|u| !u.disabled))
}

/// What an active machine token (client_credentials) says: the client is its subject.
fn machine_token_info(row: &AccessTokenRow, issuer: &str) -> Value {
    json!({
        "active": true,
        "token_type": "Bearer",
        "scope": row.scope,
        "client_id": row.client_id,
        "sub": row.client_id,
        "aud": row.client_id,
        "iss": issuer,
        "iat": row.created_at,
        "exp": row.expires_at,
    })
}

/// What an active access token says.
fn access_token_info(row: &AccessTokenRow, user: &users::User, issuer: &str) -> Value {
    json!({
        "active": true,
        "token_type": "Bearer",
        "scope": row.scope,
        "client_id": row.client_id,
        "username": user.username,
        "sub": user.id,
        "aud": row.client_id,
        "iss": issuer,
        "iat": row.created_at,
        "exp": row.expires_at,
        "sid": row.sid,
    })
}

/// What an active refresh token says; it expires with its family at the latest.
fn refresh_token_info(row: &RefreshRow, user: &users::User, issuer: &str) -> Value {
    json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": row.scope,
        "client_id": row.client_id,
        "username": user.username,
        "sub": user.id,
        "iss": issuer,
        "iat": row.created_at,
        "exp": row.expires_at.min(row.family_expires_at),
        "sid": row.sid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_token_is_described_with_its_owner_and_audience() {
        let row = AccessTokenRow {
            token_hash: "h".into(),
            client_id: "app".into(),
            user_id: "u1".into(),
            scope: "openid".into(),
            code_hash: None,
            sid: Some("s1".into()),
            created_at: 10,
            expires_at: 20,
            revoked_at: None,
            family_id: None,
            machine: false,
        };
        assert_eq!(
            access_token_info(&row, &users::sample("u1", "ada"), "https://sso.example"),
            json!({
                "active": true, "token_type": "Bearer", "scope": "openid", "client_id": "app",
                "username": "ada", "sub": "u1", "aud": "app", "iss": "https://sso.example",
                "iat": 10, "exp": 20, "sid": "s1",
            })
        );
    }

    #[test]
    fn a_refresh_token_expires_with_its_family_at_the_latest() {
        let row = RefreshRow {
            token_hash: "h".into(),
            family_id: "f".into(),
            client_id: "app".into(),
            user_id: "u1".into(),
            scope: "openid offline_access".into(),
            sid: "s1".into(),
            auth_time: 5,
            amr: "[]".into(),
            idp: None,
            offline: true,
            created_at: 10,
            expires_at: 100,
            family_expires_at: 50,
            rotated_at: None,
            revoked_at: None,
            successor_seed: None,
            retried_at: None,
        };
        assert_eq!(
            refresh_token_info(&row, &users::sample("u1", "ada"), "https://sso.example"),
            json!({
                "active": true, "token_type": "refresh_token", "scope": "openid offline_access",
                "client_id": "app", "username": "ada", "sub": "u1", "iss": "https://sso.example",
                "iat": 10, "exp": 50, "sid": "s1",
            })
        );
        assert_eq!(inactive(), json!({ "active": false }));
    }
}
