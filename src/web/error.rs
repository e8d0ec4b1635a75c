//! Errors shown to people as pages: handlers return them, one middleware renders them.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A link offered on an error page ("start again", "back to the application").
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub href: String,
    pub label: String,
}

/// Something the person must be told about, as a page.
#[derive(Debug)]
pub enum PageError {
    /// The request cannot be served as asked; `link` offers a way on.
    BadRequest {
        title: String,
        message: String,
        link: Option<Link>,
    },
    /// A form failed its CSRF check.
    Forbidden(String),
    /// No such page.
    NotFound,
    /// Too many attempts from this address or against this account: wait this long.
    TooManyAttempts { retry_after_secs: i64 },
    /// A fault on our side, already logged under this reference.
    Internal(String),
}

impl PageError {
    /// A 400 page with a title and an explanation.
    pub fn bad_request(title: &str, message: &str) -> Self {
        Self::BadRequest {
            title: title.into(),
            message: message.into(),
            link: None,
        }
    }

    /// A 400 page with a way on.
    pub fn with_link(title: &str, message: &str, href: String, label: &str) -> Self {
        Self::BadRequest {
            title: title.into(),
            message: message.into(),
            link: Some(Link {
                href,
                label: label.into(),
            }),
        }
    }

    /// This page with `href` as its way on, unless it offers one already.
    pub fn or_link(self, href: String, label: &str) -> Self {
        match self {
            Self::BadRequest {
                title,
                message,
                link: None,
            } => Self::with_link(&title, &message, href, label),
            other => other,
        }
    }

    /// Logs a fault and hides its details from the person behind a reference: the request id
    /// (one id to quote, the one on the page and in the header), or a fresh one outside a request.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let reference = super::request_id::current().unwrap_or_else(|| crate::store::random_token()[..10].to_string());
        tracing::error!(reference, error = %e, "internal error");
        Self::Internal(reference)
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(e)
    }
}

impl From<crate::keys::KeyError> for PageError {
    fn from(e: crate::keys::KeyError) -> Self {
        Self::internal(e)
    }
}

impl From<tower_sessions::session::Error> for PageError {
    fn from(e: tower_sessions::session::Error) -> Self {
        Self::internal(e)
    }
}

/// "N minutes" (rounded up), the way a wait is told to a person.
pub fn minutes_phrase(secs: i64) -> String {
    crate::i18n::text_with(
        "duration-minutes",
        &[("n", crate::i18n::number((secs.max(1) + 59) / 60))],
    )
}

/// The error a response carries for `error_pages` to show (as `pages::ErrorPage`).
#[derive(Debug, Clone, Serialize)]
pub struct ErrorNotice {
    pub title: String,
    pub message: String,
    pub link: Option<Link>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, page) = match self {
            PageError::BadRequest { title, message, link } => {
                (StatusCode::BAD_REQUEST, ErrorNotice { title, message, link })
            }
            PageError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                ErrorNotice {
                    title: crate::i18n::text("error-refused-title"),
                    message,
                    link: None,
                },
            ),
            PageError::TooManyAttempts { retry_after_secs } => {
                let mut res = StatusCode::TOO_MANY_REQUESTS.into_response();
                res.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(retry_after_secs.max(1)),
                );
                res.extensions_mut().insert(ErrorNotice {
                    title: crate::i18n::text("error-too-many-title"),
                    message: crate::i18n::text_with(
                        "error-too-many",
                        &[("wait", crate::i18n::arg(minutes_phrase(retry_after_secs)))],
                    ),
                    link: None,
                });
                return res;
            }
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorNotice {
                    title: crate::i18n::text("error-not-found-title"),
                    message: crate::i18n::text("error-not-found"),
                    link: None,
                },
            ),
            PageError::Internal(reference) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorNotice {
                    title: crate::i18n::text("error-internal-title"),
                    message: crate::i18n::text_with("error-internal", &[("reference", crate::i18n::arg(reference))]),
                    link: None,
                },
            ),
        };
        let mut res = status.into_response();
        res.extensions_mut().insert(page);
        res
    }
}
