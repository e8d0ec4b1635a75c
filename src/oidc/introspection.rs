//! Token introspection (RFC 7662) for resource servers, which authenticate as confidential clients.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::client_auth;
use super::token::TokenError;
use crate::state::AppState;
use crate::store::{refresh_tokens, tokens, users};
use crate::web::limits::ClientAddress;
use crate::web::parse_params;

/// `POST /introspect`.
pub async fn introspect(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state, address, &headers, &body).await {
        Ok(v) => {
            let mut res = Json(v).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    address: std::net::IpAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, TokenError> {
    let params = parse_params(body).map_err(TokenError::InvalidRequest)?;
    let (caller, _) = client_auth::authenticate(state, address, headers, &params).await?;
    if caller.public {
        return Err(TokenError::UnauthorizedClient(
            "public clients may not introspect".into(),
        ));
    }
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::InvalidRequest("token is missing".into()))?;
    let inactive = json!({ "active": false });
    let issuer = state.config.issuer_str();

    // RFC 7662 §4: a client learns about its own tokens only, unless trusted with every
    // client's; for any other token the answer is the same as for an unknown one.
    let may_see = |owner: &str| caller.introspect_any || owner == caller.id;

    if let Some(row) = tokens::find_active(&state.db, token).await? {
        if !may_see(&row.client_id) {
            tracing::warn!(caller = %caller.id, owner = %row.client_id, "introspection of another client's token refused");
            return Ok(inactive);
        }
        if row.machine {
            // client_credentials: the client is the subject; there is no user or session.
            return Ok(json!({
                "active": true,
                "token_type": "Bearer",
                "scope": row.scope,
                "client_id": row.client_id,
                "sub": row.client_id,
                "aud": row.client_id,
                "iss": issuer,
                "iat": row.created_at,
                "exp": row.expires_at,
            }));
        }
        let Some(user) = users::find(&state.db, &row.user_id).await?.filter(|u| !u.disabled) else {
            return Ok(inactive);
        };
        return Ok(json!({
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
        }));
    }
    if let Some(row) = refresh_tokens::find(&state.db, token).await? {
        if !refresh_tokens::is_active(&row) || !may_see(&row.client_id) {
            return Ok(inactive);
        }
        let Some(user) = users::find(&state.db, &row.user_id).await?.filter(|u| !u.disabled) else {
            return Ok(inactive);
        };
        return Ok(json!({
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
        }));
    }
    Ok(inactive)
}
