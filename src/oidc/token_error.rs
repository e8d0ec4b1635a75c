//! The token endpoint's error answer (RFC 6749 §5.2), shared with the client-authentication
//! helpers that the token, introspection, revocation and PAR endpoints use.
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

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

/// Token responses and their errors are never cached (RFC 6749 §5.1).
pub fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
