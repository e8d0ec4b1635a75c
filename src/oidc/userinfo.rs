//! The userinfo endpoint (OIDC Core §5.3): Bearer token by header (GET/POST) or form body (RFC 6750 §2.2).
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::claims::user_claims;
use crate::state::AppState;
use crate::store::tokens;
use crate::web::parse_params;

/// A Bearer token failure (RFC 6750 §3.1).
enum BearerError {
    InvalidRequest(&'static str),
    InvalidToken(&'static str),
    InsufficientScope,
    Server,
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let (status, challenge) = match self {
            BearerError::InvalidRequest(d) => (
                StatusCode::BAD_REQUEST,
                format!("Bearer error=\"invalid_request\", error_description=\"{d}\""),
            ),
            BearerError::InvalidToken(d) => (
                StatusCode::UNAUTHORIZED,
                format!("Bearer error=\"invalid_token\", error_description=\"{d}\""),
            ),
            BearerError::InsufficientScope => (
                StatusCode::FORBIDDEN,
                "Bearer error=\"insufficient_scope\", scope=\"openid\"".into(),
            ),
            BearerError::Server => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        let mut res = status.into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

fn bearer(headers: &HeaderMap, body: &[u8]) -> Result<String, BearerError> {
    let from_header = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| BearerError::InvalidRequest("malformed Authorization header"))?;
            let (scheme, token) = v
                .split_once(' ')
                .ok_or(BearerError::InvalidRequest("malformed Authorization header"))?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(BearerError::InvalidRequest("use the Bearer scheme"));
            }
            Some(token.trim().to_owned())
        }
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = if is_form {
        parse_params(body)
            .map_err(|_| BearerError::InvalidRequest("malformed form body"))?
            .remove("access_token")
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(BearerError::InvalidRequest("send the token in one place only")),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(BearerError::InvalidToken("no access token")),
    }
}

/// `GET|POST /userinfo`.
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let token = bearer(&headers, &body)?;
        let (row, user) = tokens::find_active_with_user(&state.db, &token)
            .await
            .map_err(|_| BearerError::Server)?
            .ok_or(BearerError::InvalidToken(
                "the access token is invalid, expired or revoked",
            ))?;
        let scopes: Vec<&str> = row.scope.split(' ').collect();
        if !scopes.contains(&"openid") {
            return Err(BearerError::InsufficientScope);
        }
        let user = user
            .filter(|u| !u.disabled)
            .ok_or(BearerError::InvalidToken("the user is no longer active"))?;
        let mut res = Json(user_claims(&user, &scopes)).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(res)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
