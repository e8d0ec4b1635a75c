//! The token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3): authorization_code grant.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::claims::{at_hash, user_claims, IdTokenClaims};
use super::client_auth::{self, AuthMethod};
use super::pkce;
use crate::app::AppState;
use crate::store::clients::Client;
use crate::store::codes::{self, Redemption};
use crate::store::tokens::{self, NewAccessToken};
use crate::store::{now, users};
use crate::web::parse_params;

/// A token endpoint error (RFC 6749 §5.2).
#[derive(Debug, Clone)]
pub enum TokenError {
    InvalidRequest(String),
    /// `basic` adds the `WWW-Authenticate: Basic` challenge.
    InvalidClient {
        basic: bool,
        description: &'static str,
    },
    InvalidGrant(String),
    UnauthorizedClient(String),
    UnsupportedGrantType,
    ServerError,
}

impl TokenError {
    /// Logs an internal fault and answers `server_error`.
    pub fn server(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "token endpoint fault");
        Self::ServerError
    }
}

impl From<sea_orm::DbErr> for TokenError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::server(e)
    }
}

impl From<crate::keys::KeyError> for TokenError {
    fn from(e: crate::keys::KeyError) -> Self {
        Self::server(e)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let (status, error, description) = match &self {
            TokenError::InvalidRequest(d) => (StatusCode::BAD_REQUEST, "invalid_request", Some(d.as_str())),
            TokenError::InvalidClient { description, .. } => {
                (StatusCode::UNAUTHORIZED, "invalid_client", Some(*description))
            }
            TokenError::InvalidGrant(d) => (StatusCode::BAD_REQUEST, "invalid_grant", Some(d.as_str())),
            TokenError::UnauthorizedClient(d) => (StatusCode::BAD_REQUEST, "unauthorized_client", Some(d.as_str())),
            TokenError::UnsupportedGrantType => (StatusCode::BAD_REQUEST, "unsupported_grant_type", None),
            TokenError::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
        };
        let mut res = (
            status,
            Json(ErrorBody {
                error,
                error_description: description,
            }),
        )
            .into_response();
        no_store(res.headers_mut());
        if let TokenError::InvalidClient { basic: true, .. } = self {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"gatehouse\""),
            );
        }
        res
    }
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

/// `POST /token`.
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&state, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, TokenError> {
    let params = parse_params(body).map_err(TokenError::InvalidRequest)?;
    let (client, method) = client_auth::authenticate(state, headers, &params).await?;
    match params.get("grant_type").map(String::as_str) {
        None | Some("") => Err(TokenError::InvalidRequest("grant_type is missing".into())),
        Some("authorization_code") => authorization_code(state, &client, method, &params).await,
        Some(_) => Err(TokenError::UnsupportedGrantType),
    }
}

async fn authorization_code(
    state: &AppState,
    client: &Client,
    method: AuthMethod,
    params: &HashMap<String, String>,
) -> Result<Response, TokenError> {
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or(TokenError::InvalidRequest("code is missing".into()))?;
    let Some(row) = codes::find(&state.db, code).await? else {
        return Err(TokenError::InvalidGrant("the code is invalid".into()));
    };
    // Binding first, so another client can neither redeem nor burn this code.
    if row.client_id != client.id {
        return Err(TokenError::InvalidGrant("the code was issued to another client".into()));
    }
    let row = match codes::redeem(&state.db, row).await? {
        Redemption::Fresh(row) => row,
        Redemption::Replayed(row) => {
            let revoked = tokens::revoke_by_code(&state.db, &row.code_hash).await?;
            tracing::warn!(client_id = %client.id, user_id = %row.user_id, revoked, "authorization code replayed; tokens issued from it revoked");
            return Err(TokenError::InvalidGrant("the code was already used".into()));
        }
        Redemption::Expired => return Err(TokenError::InvalidGrant("the code has expired".into())),
    };
    if params.get("redirect_uri") != Some(&row.redirect_uri) {
        return Err(TokenError::InvalidGrant(
            "redirect_uri does not match the authorization request".into(),
        ));
    }
    if client.public && method == AuthMethod::None && row.code_challenge.is_none() {
        return Err(TokenError::InvalidGrant("a public client must use PKCE".into()));
    }
    pkce::verify(
        row.code_challenge.as_deref(),
        params.get("code_verifier").map(String::as_str),
    )
    .map_err(|e| TokenError::InvalidGrant(e.into()))?;
    let user = match users::find(&state.db, &row.user_id).await? {
        Some(u) if !u.disabled => u,
        _ => return Err(TokenError::InvalidGrant("the user is no longer active".into())),
    };

    let lifetimes = &state.config.lifetimes;
    let access_token = tokens::issue(
        &state.db,
        NewAccessToken {
            client_id: client.id.clone(),
            user_id: user.id.clone(),
            scope: row.scope.clone(),
            code_hash: Some(row.code_hash.clone()),
            sid: Some(row.sid.clone()),
        },
        lifetimes.access_token,
    )
    .await?;

    let scopes: Vec<&str> = row.scope.split(' ').collect();
    let id_token = if scopes.contains(&"openid") {
        let iat = now();
        let claims = IdTokenClaims {
            iss: state.config.issuer_str(),
            aud: client.id.clone(),
            azp: client.id.clone(),
            exp: iat + lifetimes.id_token as i64,
            iat,
            auth_time: row.auth_time,
            nonce: row.nonce.clone(),
            amr: serde_json::from_str(&row.amr).unwrap_or_default(),
            sid: row.sid.clone(),
            at_hash: Some(at_hash(&access_token)),
            idp: row.idp.clone(),
            user: user_claims(&user, &scopes),
        };
        Some(state.keys.current().await?.sign(client.id_token_alg, &claims)?)
    } else {
        None
    };
    tracing::info!(client_id = %client.id, user_id = %user.id, "tokens issued");
    let mut res = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: lifetimes.access_token,
        scope: row.scope,
        id_token,
    })
    .into_response();
    no_store(res.headers_mut());
    Ok(res)
}
