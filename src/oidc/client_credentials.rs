//! The client_credentials grant (RFC 6749 §4.4): a confidential client gets an access token for
//! itself, limited to the scopes it was registered with (`machine_scopes`). The token is an RFC
//! 9068 JWT whose subject is the client; it is recorded so introspection and revocation see it.
//! No refresh token (§4.4.3) and no ID token (there is no user).
use std::collections::HashMap;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::claims::JwtAccessToken;
use super::token_error::TokenError;
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::{now, random_token, tokens};

#[derive(Serialize)]
struct MachineTokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

/// The scope to grant: what was asked, if every part of it is among the client's machine
/// scopes; all of them when nothing was asked (RFC 6749 §3.3 lets the server pick a default).
pub fn granted_scope(client: &Client, asked: Option<&str>) -> Result<String, TokenError> {
    if client.public {
        return Err(TokenError::UnauthorizedClient(
            "a public client cannot use the client_credentials grant".into(),
        ));
    }
    if client.machine_scopes.is_empty() {
        return Err(TokenError::UnauthorizedClient(
            "this client is not registered for the client_credentials grant".into(),
        ));
    }
    let asked: Vec<&str> = asked.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).collect();
    if asked.is_empty() {
        return Ok(client.machine_scopes.join(" "));
    }
    if let Some(extra) = asked.iter().find(|s| !client.machine_scopes.iter().any(|m| m == *s)) {
        return Err(TokenError::InvalidScope(format!(
            "scope {extra} is not allowed for this client"
        )));
    }
    // In the registered order, each once.
    Ok(client
        .machine_scopes
        .iter()
        .filter(|m| asked.contains(&m.as_str()))
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" "))
}

/// `grant_type=client_credentials` for an already authenticated client.
pub async fn grant(
    state: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
) -> Result<Response, TokenError> {
    let scope = granted_scope(client, params.get("scope").map(String::as_str))?;
    // A token for the admin API names that API as its audience (RFC 9068 §3), and only it.
    let admin_audience = crate::admin::audience(&state.issuer);
    let aud =
        match crate::admin::splits_audiences(&scope) {
            Some(true) => return Err(TokenError::InvalidScope(
                "admin scopes are granted in a token of their own (one audience per token); ask for them separately"
                    .into(),
            )),
            Some(false) => admin_audience.as_str(),
            None => client.id.as_str(),
        };
    let ttl = state.config.lifetimes.access_token;
    let iat = now();
    let claims = JwtAccessToken {
        iss: state.issuer.clone(),
        sub: &client.id,
        aud,
        client_id: &client.id,
        exp: iat + ttl as i64,
        iat,
        jti: random_token(),
        scope: &scope,
        auth_time: None,
        sid: None,
    };
    let keys = state.keys.current().await?;
    let jwt = keys.sign_typed(client.id_token_alg, "at+jwt", &claims)?;
    tokens::record_machine(&state.db, &jwt, &client.id, &scope, ttl).await?;
    tracing::info!(client_id = %client.id, %scope, "client_credentials token issued");
    let mut res = Json(MachineTokenResponse {
        access_token: jwt,
        token_type: "Bearer",
        expires_in: ttl,
        scope,
    })
    .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(res)
}
