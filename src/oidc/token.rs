//! The token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3): authorization_code grant.
use std::collections::HashMap;
use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::claims::{at_hash, user_claims, IdTokenClaims};
use super::client_auth::{self, AuthMethod};
use super::pkce;
use crate::state::AppState;
use crate::store::clients::{AccessTokenFormat, Client, RefreshPolicy};
use crate::store::codes::{self, Redemption};
use crate::store::refresh_tokens::{self, Family, NewRefresh, RefreshRow, Rotation, Standing};
use crate::store::session_clients;
use crate::store::tokens::{self, NewAccessToken};
use crate::store::{now, random_token, users};
use crate::web::limits::ClientAddress;
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
    InvalidScope(String),
    ServerError,
    /// Too many failed attempts from this address: retry after this many seconds.
    TooManyRequests {
        retry_after_secs: i64,
    },
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
            TokenError::InvalidScope(d) => (StatusCode::BAD_REQUEST, "invalid_scope", Some(d.as_str())),
            TokenError::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
            TokenError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                Some("too many failed attempts from this address; retry later"),
            ),
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
        if let TokenError::TooManyRequests { retry_after_secs } = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
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
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// `POST /token`.
pub async fn token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state, address, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, address: IpAddr, headers: &HeaderMap, body: &[u8]) -> Result<Response, TokenError> {
    let params = parse_params(body).map_err(TokenError::InvalidRequest)?;
    let (client, method) = client_auth::authenticate(state, address, headers, &params).await?;
    let (grant, issued) = match params.get("grant_type").map(String::as_str) {
        None | Some("") => return Err(TokenError::InvalidRequest("grant_type is missing".into())),
        Some("authorization_code") => (
            "authorization_code",
            authorization_code(state, &client, method, &params).await,
        ),
        Some("refresh_token") => ("refresh_token", refresh_token(state, &client, &params).await),
        Some("client_credentials") => (
            "client_credentials",
            super::client_credentials::grant(state, &client, &params).await,
        ),
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    };
    if issued.is_ok() {
        crate::metrics::token_issued(grant);
    }
    issued
}

/// What the tokens of one grant are about, whichever grant type produced them.
struct Grant {
    user: users::User,
    scope: String,
    sid: String,
    auth_time: i64,
    amr: Vec<String>,
    idp: Option<String>,
    nonce: Option<String>,
    code_hash: Option<String>,
    /// The refresh family to continue (refresh grant) or `None` to decide afresh.
    family: Option<Family>,
    offline: bool,
    /// The refresh token to hand out, already stored (refresh grant); `None` mints one if the
    /// client's policy asks for it.
    refresh: Option<String>,
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
            // Marked first: a first redemption still issuing sees the mark after storing its
            // tokens and revokes them itself, whichever of the two finishes last.
            codes::mark_replayed(&state.db, &row.code_hash).await?;
            revoke_issued_from_code(state, &row.code_hash).await?;
            tracing::warn!(client_id = %client.id, user_id = %row.user_id, "authorization code replayed; tokens issued from it revoked");
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
    let user = active_user(state, client, &row.user_id, row.idp.as_deref()).await?;
    let offline = row.scope.split(' ').any(|s| s == "offline_access");
    let code_hash = row.code_hash.clone();
    let grant = Grant {
        user,
        scope: row.scope,
        sid: row.sid,
        auth_time: row.auth_time,
        amr: serde_json::from_str(&row.amr).unwrap_or_default(),
        idp: row.idp,
        nonce: row.nonce,
        code_hash: Some(row.code_hash),
        family: None,
        offline,
        refresh: None,
    };
    let response = issue(state, client, grant).await?;
    // A replay racing this redemption may have looked for these tokens before they existed.
    if codes::was_replayed(&state.db, &code_hash).await? {
        revoke_issued_from_code(state, &code_hash).await?;
        tracing::warn!(client_id = %client.id, "authorization code replayed while redeemed; tokens revoked");
        return Err(TokenError::InvalidGrant("the code was already used".into()));
    }
    Ok(response)
}

/// Revokes the access tokens issued from a code and the refresh families they started.
async fn revoke_issued_from_code(state: &AppState, code_hash: &str) -> Result<(), TokenError> {
    for family in tokens::families_of_code(&state.db, code_hash).await? {
        refresh_tokens::revoke_family(&state.db, &family).await?;
    }
    tokens::revoke_by_code(&state.db, code_hash).await?;
    Ok(())
}

/// The grant's user, if still enabled and (for brokered sign-ins) still linked to that provider
/// and that provider still accepted by the client.
async fn active_user(
    state: &AppState,
    client: &Client,
    user_id: &str,
    idp: Option<&str>,
) -> Result<users::User, TokenError> {
    let user = match users::find(&state.db, user_id).await? {
        Some(u) if !u.disabled => u,
        _ => return Err(TokenError::InvalidGrant("the user is no longer active".into())),
    };
    if let Some(provider) = idp {
        if !client.allows_provider(provider) {
            return Err(TokenError::InvalidGrant(format!(
                "this client does not accept sign-in with {provider}"
            )));
        }
        let links = crate::store::federated::for_user(&state.db, &user.id).await?;
        if !links.iter().any(|l| l.provider_id == provider) {
            return Err(TokenError::InvalidGrant(
                "the external login behind this grant was unlinked".into(),
            ));
        }
    }
    Ok(user)
}

async fn refresh_token(
    state: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
) -> Result<Response, TokenError> {
    let presented = params
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::InvalidRequest("refresh_token is missing".into()))?;
    let Some(row) = refresh_tokens::find(&state.db, presented).await? else {
        return Err(TokenError::InvalidGrant("the refresh token is invalid".into()));
    };
    if row.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "the refresh token was issued to another client".into(),
        ));
    }
    match refresh_tokens::standing(&row) {
        Standing::Usable => {}
        Standing::Rotated => return retry_or_replay(state, client, params, row, presented).await,
        Standing::Expired => return Err(TokenError::InvalidGrant("the refresh token has expired".into())),
        Standing::Revoked => return Err(TokenError::InvalidGrant("the refresh token was revoked".into())),
    }
    // Checked before rotating: a refused request leaves the token usable.
    let scope = narrowed_scope(&row.scope, params)?;
    let user = active_user(state, client, &row.user_id, row.idp.as_deref()).await?;
    let family = Family {
        id: row.family_id.clone(),
        expires_at: row.family_expires_at,
    };
    let amr: Vec<String> = serde_json::from_str(&row.amr).unwrap_or_default();
    let successor = NewRefresh {
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        scope: scope.clone(),
        sid: row.sid.clone(),
        auth_time: row.auth_time,
        amr: amr.clone(),
        idp: row.idp.clone(),
        offline: row.offline,
    };
    let next = match refresh_tokens::rotate(
        &state.db,
        &row,
        presented,
        successor,
        &family,
        client.tokens.refresh_token_sliding_lifetime,
    )
    .await?
    {
        Rotation::Fresh(next) => next,
        // Presented twice at once: the later one is a retry of the first.
        Rotation::Lost(row) => return retry_or_replay(state, client, params, *row, presented).await,
    };
    let grant = Grant {
        user,
        scope,
        sid: row.sid,
        auth_time: row.auth_time,
        amr,
        idp: row.idp,
        nonce: None,
        code_hash: None,
        family: Some(family),
        offline: row.offline,
        refresh: Some(next),
    };
    issue(state, client, grant).await
}

/// A narrower scope may be asked for, never a wider one (RFC 6749 §6).
fn narrowed_scope(granted: &str, params: &HashMap<String, String>) -> Result<String, TokenError> {
    let granted: Vec<&str> = granted.split(' ').collect();
    Ok(match params.get("scope").filter(|s| !s.is_empty()) {
        Some(asked) => {
            let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                return Err(TokenError::InvalidScope(format!("scope {extra} was not granted")));
            }
            granted
                .iter()
                .filter(|s| asked.contains(s))
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        }
        None => granted.join(" "),
    })
}

/// A rotated token presented again. Once, shortly after the rotation and while its successor is
/// unused, this is a client retrying after a lost answer: it gets the same successor again
/// (with a new access token). Anything else is a replay and ends the whole family.
async fn retry_or_replay(
    state: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
    row: RefreshRow,
    presented: &str,
) -> Result<Response, TokenError> {
    let window = state.config.lifetimes.refresh_retry_window as i64;
    if let Some((next, successor)) = refresh_tokens::retry_candidate(&state.db, &row, presented, window).await? {
        let scope = narrowed_scope(&successor.scope, params)?;
        let user = active_user(state, client, &successor.user_id, successor.idp.as_deref()).await?;
        if refresh_tokens::claim_retry(&state.db, &row, window).await? {
            tracing::info!(client_id = %client.id, family = %row.family_id, "refresh token retried within its window; same successor returned");
            let grant = Grant {
                user,
                scope,
                amr: serde_json::from_str(&successor.amr).unwrap_or_default(),
                family: Some(Family {
                    id: successor.family_id,
                    expires_at: successor.family_expires_at,
                }),
                sid: successor.sid,
                auth_time: successor.auth_time,
                idp: successor.idp,
                nonce: None,
                code_hash: None,
                offline: successor.offline,
                refresh: Some(next),
            };
            return issue(state, client, grant).await;
        }
    }
    let revoked = refresh_tokens::revoke_family(&state.db, &row.family_id).await?;
    tracing::warn!(client_id = %client.id, user_id = %row.user_id, family = %row.family_id, revoked, "refresh token reused after rotation; family revoked");
    Err(TokenError::InvalidGrant("the refresh token was already used".into()))
}

/// RFC 9068 JWT access-token claims.
#[derive(Serialize)]
struct JwtAccessToken<'a> {
    iss: String,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    exp: i64,
    iat: i64,
    jti: String,
    scope: &'a str,
    auth_time: i64,
    sid: &'a str,
}

/// Mints the access token, refresh token (when the client's policy says so) and ID token.
async fn issue(state: &AppState, client: &Client, g: Grant) -> Result<Response, TokenError> {
    let lifetimes = &state.config.lifetimes;
    let scopes: Vec<&str> = g.scope.split(' ').collect();
    let keys = state.keys.current().await?;

    let family = match (&g.family, client.tokens.refresh_tokens) {
        (Some(f), _) => Some(f.clone()),
        (None, RefreshPolicy::Always) => Some(Family::start(client.tokens.refresh_token_absolute_lifetime)),
        (None, RefreshPolicy::OfflineAccess) if g.offline => {
            Some(Family::start(client.tokens.refresh_token_absolute_lifetime))
        }
        (None, _) => None,
    };
    let record = NewAccessToken {
        client_id: client.id.clone(),
        user_id: g.user.id.clone(),
        scope: g.scope.clone(),
        code_hash: g.code_hash.clone(),
        sid: Some(g.sid.clone()),
        family_id: family.as_ref().map(|f| f.id.clone()),
    };
    let iat = now();
    let access_token = match client.tokens.access_token_format {
        AccessTokenFormat::Opaque => tokens::issue(&state.db, record, lifetimes.access_token).await?,
        AccessTokenFormat::Jwt => {
            let claims = JwtAccessToken {
                iss: state.config.issuer_str(),
                sub: &g.user.id,
                aud: &client.id,
                client_id: &client.id,
                exp: iat + lifetimes.access_token as i64,
                iat,
                jti: random_token(),
                scope: &g.scope,
                auth_time: g.auth_time,
                sid: &g.sid,
            };
            let jwt = keys.sign_typed(client.id_token_alg, "at+jwt", &claims)?;
            tokens::record(&state.db, &jwt, record, lifetimes.access_token).await?;
            jwt
        }
    };
    let refresh = match (&family, g.refresh) {
        (_, Some(stored)) => Some(stored),
        (Some(f), None) => Some(
            refresh_tokens::issue(
                &state.db,
                NewRefresh {
                    client_id: client.id.clone(),
                    user_id: g.user.id.clone(),
                    scope: g.scope.clone(),
                    sid: g.sid.clone(),
                    auth_time: g.auth_time,
                    amr: g.amr.clone(),
                    idp: g.idp.clone(),
                    offline: g.offline,
                },
                f,
                client.tokens.refresh_token_sliding_lifetime,
            )
            .await?,
        ),
        (None, None) => None,
    };
    let id_token = if scopes.contains(&"openid") {
        let claims = IdTokenClaims {
            iss: state.config.issuer_str(),
            aud: client.id.clone(),
            azp: client.id.clone(),
            exp: iat + lifetimes.id_token as i64,
            iat,
            auth_time: g.auth_time,
            nonce: g.nonce.clone(),
            amr: g.amr.clone(),
            sid: g.sid.clone(),
            at_hash: Some(at_hash(&access_token)),
            idp: g.idp.clone(),
            user: user_claims(&g.user, &scopes),
        };
        Some(keys.sign(client.id_token_alg, &claims)?)
    } else {
        None
    };
    session_clients::record(&state.db, &g.sid, &client.id, &g.user.id).await?;
    tracing::info!(client_id = %client.id, user_id = %g.user.id, refresh = refresh.is_some(), "tokens issued");
    let mut res = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: lifetimes.access_token,
        scope: g.scope,
        id_token,
        refresh_token: refresh,
    })
    .into_response();
    no_store(res.headers_mut());
    Ok(res)
}
